// Package protocol holds devserve's wire protocol as plain names, written
// once: the URLs under /__devserve/, the global names that generated code
// and the browser scripts share, the exports of the module runtime that
// generated code imports, and the event, status and update names of the
// event stream (docs/DESIGN.md, "Wire protocol").
//
// The Go packages that speak the protocol (bundler, which writes the module
// code; client, which embeds the browser scripts; hmr, which serves both
// and publishes the events) take every name from here. The browser scripts
// cannot import Go constants: a test of package client checks that they
// spell exactly these names, so a rename here that the JavaScript misses
// fails a test.
//
// The package is internal: library users see these names through the
// exported constants of client, bundler and hmr, which are defined from
// them, so the protocol can change together with the embedded scripts
// without growing the public API.
package protocol

// Prefix begins every URL path that devserve serves for itself, beside the
// project's own files. Under a base path ("/app/") it follows the base
// ("/app/__devserve/"); the browser scripts find each other beside
// themselves.
const Prefix = "/__devserve/"

// URL paths of the browser scripts and the event stream. The browser
// scripts name them relative to their own URL, by the part after [Prefix].
const (
	// ClientPath serves client.js, the script every HTML page loads.
	ClientPath = Prefix + "client.js"
	// EventsPath serves the event stream that the client follows.
	EventsPath = Prefix + "events"
	// WorkerPath serves worker.js, the shared worker that holds one event
	// stream for all tabs of an origin.
	WorkerPath = Prefix + "worker.js"
	// HMRPath serves hmr.js, the module runtime that entry scripts and
	// update scripts import in module mode.
	HMRPath = Prefix + "hmr.js"
	// ErrorsPath serves errors.js, which maps a page's uncaught errors
	// back to the original source for the overlay.
	ErrorsPath = Prefix + "errors.js"
	// TypesPath serves hot.d.ts, the TypeScript declarations of
	// import.meta.hot.
	TypesPath = Prefix + "hot.d.ts"
	// StatusPath serves the server's state as JSON, for tools and tests.
	StatusPath = Prefix + "status"
)

// URL paths of module mode, where the bundler's outputs are served.
const (
	// ModulePrefix is where one module's new code is served for a hot
	// update: ModulePrefix + id without its leading slash.
	ModulePrefix = Prefix + "m/"
	// ChunkPrefix is where the chunks of a big entry's script are served.
	ChunkPrefix = Prefix + "c/"
	// DepsPrefix begins the ids of packages from node_modules, each
	// bundled into one module.
	DepsPrefix = Prefix + "deps/"
)

// Global names in the page, shared by generated code and the browser
// scripts. Each begins with [GlobalPrefix], which nothing of a project may
// use.
const (
	// GlobalPrefix begins every global name of the protocol.
	GlobalPrefix = "__devserve"
	// State is window.__devserve, the client's state, which tests read.
	State = GlobalPrefix
	// Define is the name entry scripts import the runtime's define (or,
	// in an update script, update) as, and call once per module:
	// __devserve_define(id, deps, factory).
	Define = GlobalPrefix + "_define"
	// Start is the name entry scripts import the runtime's start as, and
	// call with the id of their entry.
	Start = GlobalPrefix + "_start"
	// Meta stands for import.meta in module code: the factory's argument
	// that carries url and hot.
	Meta = GlobalPrefix + "_meta"
	// Exports is the parameter of the body that a module with top-level
	// await hands to Meta.tla, which it calls with its exports' getters.
	Exports = GlobalPrefix + "_exports"
	// ESMFlag marks the exports object of a package converted from ESM to
	// CommonJS, so that a CommonJS importer in node mode sees its default.
	ESMFlag = GlobalPrefix + "_esm"
	// Unbuilt is the global set by the stand-in for an entry script that
	// has no good build yet: the client reloads the page at the next good
	// build.
	Unbuilt = GlobalPrefix + "_unbuilt"
	// Bundled is the global set by the bundles served while module mode
	// compiles (bundler.Options.MarkBundled): the page holds every module
	// bundled, so the client reloads it on any JS update.
	Bundled = GlobalPrefix + "_bundled"
	// Env is the global that holds import.meta.env in the dev server's
	// code (not in a production build's): set by each bundle's first
	// statement, and in module mode by each entry script before it
	// starts its modules.
	Env = GlobalPrefix + "_env"
	// HMR is the global where hmr.js hands the client what it needs when
	// the page's own instance of the runtime is the one to ask.
	HMR = GlobalPrefix + "_hmr"
	// Errors is the global array where hmr.js reports the errors of
	// modules, for the client's overlay.
	Errors = GlobalPrefix + "_errors"
	// Reloads is the sessionStorage key where the client counts the
	// reloads it made on sync, to stop a reload storm.
	Reloads = GlobalPrefix + "_reloads"
	// ModuleMark is the banner esbuild writes on each module, replaced by
	// the module's factory header.
	ModuleMark = "/*" + GlobalPrefix + "_module__*/"
)

// Exports of hmr.js that generated code imports.
const (
	// RuntimeDefine registers a module of an entry script (imported as
	// [Define]).
	RuntimeDefine = "define"
	// RuntimeUpdate gives a module new code (imported as [Define] by an
	// update script).
	RuntimeUpdate = "update"
	// RuntimeStart runs an entry (imported as [Start]).
	RuntimeStart = "start"
)

// Event names, the "event:" field of the stream.
const (
	// EventSync carries the current build state, sent to each new client
	// alone, right after it connects.
	EventSync = "sync"
	// EventBuilding announces that a batch of changes started a build.
	EventBuilding = "building"
	// EventBuilt announces a successful build and what it changed.
	EventBuilt = "built"
	// EventErrors announces errors: of a failed build, or the project's
	// own.
	EventErrors = "errors"
	// EventReload asks every page to reload itself.
	EventReload = "reload"
	// EventPing is the heartbeat.
	EventPing = "ping"
)

// Events returns the events that carry build state, every event name but
// [EventPing]: those a client handles and the shared worker forwards.
func Events() []string {
	return []string{EventSync, EventBuilding, EventBuilt, EventErrors, EventReload}
}

// Build states of the sync event's status.
const (
	StatusOK       = "ok"
	StatusBuilding = "building"
	StatusError    = "error"
)

// Update types of an update of the built event.
const (
	UpdateCSS   = "css"
	UpdateJS    = "js"
	UpdateAsset = "asset"
)
