package hmr

import (
	"encoding/json"

	"github.com/devserve/devserve/bundler"
	"github.com/devserve/devserve/internal/protocol"
)

// Event names, the "event:" field of the stream. See docs/DESIGN.md.
const (
	// EventSync carries the current build state ([SyncData]). It is sent
	// to each new client alone, right after it connects.
	EventSync = protocol.EventSync
	// EventBuilding announces that a batch of changes started a build
	// ([BuildingData]).
	EventBuilding = protocol.EventBuilding
	// EventBuilt announces a successful build and what it changed
	// ([BuiltData]).
	EventBuilt = protocol.EventBuilt
	// EventErrors announces errors ([ErrorsData]): a failed build, or a
	// good build, or no build, while the project has errors of its own (a
	// clash of public/ with the source tree; see public.go).
	EventErrors = protocol.EventErrors
	// EventReload asks every page to reload itself ([ReloadData]).
	EventReload = protocol.EventReload
	// EventPing is the heartbeat, sent every [BrokerOptions.Heartbeat]
	// with data {} and no id. A client that hears nothing for about two
	// of them knows that its connection died without a word (a laptop's
	// sleep, a proxy that dropped it) and reconnects.
	EventPing = protocol.EventPing
)

// ReportBackendDown is the [Report.Event] of a backend of Options.Proxy or
// of a ProxyRoute that stopped answering, for the terminal; Reason says
// which and why. No browser is sent anything: a navigation gets a page
// that says so. Its coming back is an EventReload report.
const ReportBackendDown = "backend-down"

// ReportModules is the [Report.Event] of module mode starting to serve
// after a first page served bundled (Options.BundleFirst), for the
// terminal; Duration is how long its first build took. The pages get an
// EventReload with ReloadData.Bundled: those that run the bundle and that
// nobody touched yet reload into module mode; the others do on their
// next JS update.
const ReportModules = "modules"

// ReportKeep is the [Report.Event] of a bundle made in the background for
// the next start (see keep.go: after an edit, once the server has been idle
// a while), whether it was kept (Failed false) or not: cut short by a
// change, or failed. Duration is how long it took. No browser is told,
// and the terminal need not say anything: it is for the binary's memory,
// since bundling a big project leaves a big heap of garbage behind (a
// 20,000-module project's took the process from 94 to 370 MB of RSS, for
// good), which a binary may give back to the OS once it is done.
const ReportKeep = "keep"

// Build states of [SyncData.Status].
const (
	StatusOK       = protocol.StatusOK
	StatusBuilding = protocol.StatusBuilding
	StatusError    = protocol.StatusError
)

// Update types of [Update.Type].
const (
	UpdateCSS   = protocol.UpdateCSS
	UpdateJS    = protocol.UpdateJS
	UpdateAsset = protocol.UpdateAsset
)

// Message is a build error or warning, as the bundler reports it and the
// browser overlay shows it: one type from the bundler to the wire, so the
// build loop and the command pass messages on without converting them.
type Message = bundler.Message

// Update is one output that changed in a build. In module mode a JS
// update is one module whose code changed: Path is its id and URL serves
// its new code, which the page's runtime applies where the module or an
// importer accepts it (import.meta.hot) and reloads the page otherwise. A
// JS update without URL (bundled JS) reloads the page. Code, in a built
// event, is the new code of a small module, which the page runs instead
// of fetching URL (see inline.go).
type Update struct {
	Type string `json:"type"`          // UpdateCSS, UpdateJS or UpdateAsset
	Path string `json:"path"`          // URL path of the output or id of the module, e.g. "/main.css"
	URL  string `json:"url,omitempty"` // module mode: where the module's new code is
	// Code is the update script at URL as a function expression that
	// takes the runtime's update (the script's import line is its head,
	// so its lines and inline source map stay put); "" when the page
	// must fetch URL.
	Code string `json:"code,omitempty"`
}

// SyncData is the data of the [EventSync] event. Its nil slices are sent as
// empty JSON arrays, so clients need no null checks.
type SyncData struct {
	Build    string    `json:"build"`  // opaque id of the current outputs
	Status   string    `json:"status"` // StatusOK, StatusBuilding or StatusError
	Failed   bool      `json:"failed"` // the last build failed (see ErrorsData)
	Errors   []Message `json:"errors"`
	Warnings []Message `json:"warnings"`
	// HeartbeatMs is the interval of [EventPing], set by the Broker.
	HeartbeatMs int64 `json:"heartbeatMs,omitempty"`
}

// BuildingData is the data of the [EventBuilding] event. Its nil slices
// are sent as empty JSON arrays.
type BuildingData struct {
	Build   string   `json:"build"`   // id of the outputs being replaced
	Changed []string `json:"changed"` // the changed paths that started the build
}

// BuiltData is the data of the [EventBuilt] event. Its nil slices are sent
// as empty JSON arrays.
type BuiltData struct {
	Build      string    `json:"build"`
	DurationMs float64   `json:"durationMs"`
	Updates    []Update  `json:"updates"`
	Reload     bool      `json:"reload"` // the page must reload to apply the build
	Warnings   []Message `json:"warnings"`
}

// ErrorsData is the data of the [EventErrors] event. Its nil slices are
// sent as empty JSON arrays.
type ErrorsData struct {
	Build string `json:"build"` // id of the outputs being served
	// Failed: the build failed, and Build is the last good one; else the
	// build succeeded and its outputs are served, but the project has
	// errors of its own, which Errors lists (a clash of public/).
	Failed   bool      `json:"failed"`
	Errors   []Message `json:"errors"` // the build's, then the project's
	Warnings []Message `json:"warnings"`
}

// ReloadData is the data of the [EventReload] event.
type ReloadData struct {
	Reason string `json:"reason"`
	// Bundled limits the reload to a page that runs a bundle served while
	// module mode compiled (Options.BundleFirst) and that nobody has
	// touched since it loaded (no key, pointer or wheel input): such a
	// page moves to module mode at once, so that the first edit is a hot
	// update; a page in use reloads into it on its next JS update.
	Bundled bool `json:"bundled,omitempty"`
	// Build, with Bundled, is the build module mode serves: the build of
	// the pages that stay, and of the sync that a SharedWorker gives a
	// tab that joins it later (which must not reload a module page, nor
	// leave a bundled one untold).
	Build string `json:"build,omitempty"`
}

// The MarshalJSON methods below only replace nil slices by empty ones; the
// local types drop the methods so that json.Marshal does not recurse.

// MarshalJSON encodes d with nil slices as [].
func (d SyncData) MarshalJSON() ([]byte, error) {
	type plain SyncData
	d.Errors, d.Warnings = nonNil(d.Errors), nonNil(d.Warnings)
	return json.Marshal(plain(d))
}

// MarshalJSON encodes d with nil slices as [].
func (d BuildingData) MarshalJSON() ([]byte, error) {
	type plain BuildingData
	d.Changed = nonNil(d.Changed)
	return json.Marshal(plain(d))
}

// MarshalJSON encodes d with nil slices as [].
func (d BuiltData) MarshalJSON() ([]byte, error) {
	type plain BuiltData
	d.Updates, d.Warnings = nonNil(d.Updates), nonNil(d.Warnings)
	return json.Marshal(plain(d))
}

// MarshalJSON encodes d with nil slices as [].
func (d ErrorsData) MarshalJSON() ([]byte, error) {
	type plain ErrorsData
	d.Errors, d.Warnings = nonNil(d.Errors), nonNil(d.Warnings)
	return json.Marshal(plain(d))
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
