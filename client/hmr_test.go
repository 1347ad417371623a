package client

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// embedded lists the files of the package that the server serves, with
// their paths.
var embedded = []struct {
	name   string
	path   string
	source func() []byte
}{
	{"client.js", Path, Source},
	{"worker.js", WorkerPath, WorkerSource},
	{"hmr.js", HMRPath, HMRSource},
	{"errors.js", ErrorsPath, ErrorsSource},
	{"hot.d.ts", TypesPath, TypesSource},
}

func TestEmbedded(t *testing.T) {
	for _, f := range embedded {
		src := f.source()
		if len(src) == 0 || !utf8.Valid(src) {
			t.Errorf("%s: empty or not UTF-8", f.name)
		}
		if !strings.HasPrefix(f.path, "/__devserve/") || !strings.HasSuffix(f.path, "/"+f.name) {
			t.Errorf("%s is served at %s, want /__devserve/%[1]s", f.name, f.path)
		}
		// The caller owns the slice.
		src[0] ^= 0xff
		if bytes.Equal(src, f.source()) {
			t.Errorf("%s: changing the returned slice changed the file", f.name)
		}
	}
}

// TestTypesETag: the entity tag of hot.d.ts (the one file the server
// sends as it is) is the stable, strong hash of the file.
func TestTypesETag(t *testing.T) {
	e := TypesETag()
	if e != TypesETag() || e != etagOf(TypesSource()) {
		t.Errorf("ETag %s is not the stable hash of hot.d.ts", e)
	}
	if !regexp.MustCompile(`^"[\x21\x23-\x7e]+"$`).MatchString(e) {
		t.Errorf("ETag %s is not a strong entity tag", e)
	}
}

// maxHMRSize is the size limit of hmr.js, unminified: it is in every page
// that runs modules. It was 10 KiB until the runtime learnt to report the
// errors of entries and updates to the overlay, 11 KiB until it learnt
// React Fast Refresh, 13 KiB until it fired Vite's events, 15 KiB until it
// followed Vite's invalidation, fired Vite's events for CSS and ran
// top-level await and strict modules (bundler/esm.go), 19 KiB until it ran
// an update's code from the event and made import.meta's url and hot when
// first read (issue #14: both on the way from a save or a reload to the
// screen).
const maxHMRSize = 20 << 10

func TestHMRSource(t *testing.T) {
	src := string(HMRSource())
	if n := len(src); n >= maxHMRSize {
		t.Errorf("hmr.js is %d bytes, want under %d", n, maxHMRSize)
	} else {
		t.Logf("hmr.js is %d bytes", n)
	}
	for _, want := range []string{
		// What entry scripts and update scripts import, what CSS
		// modules call, and what client.js calls.
		"export function define(id, deps, factory, order)",
		"export function update(id, deps, factory, order)",
		// What modules compiled strict and with top-level await call.
		"get require()", "(spec) => require(deps[spec] ?? spec)", "JSON.parse(r.deps)", "tla(body)",
		"export function start(id, refreshWith)",
		// What modules compiled for React Fast Refresh call (bundler's
		// render): $RefreshReg$, $RefreshSig$ and done.
		"get refresh()", "refreshContext(this.r)", "register: ", "signature: ", "done(module)",
		"style(href)", "updateStyle(this.r.id, href)",
		"export function applyUpdates(updates, invalidated = new Set())",
		"export function emitError(errors)",
		"globalThis.__devserve_hmr",
		// The hot API.
		"accept(", "dispose(", "prune(", "invalidate(", "on(", "off(", "get data()",
		`"devserve:beforeUpdate"`, `"devserve:afterUpdate"`, `"devserve:error"`,
		`"vite:beforeUpdate"`, `"vite:afterUpdate"`, `"vite:error"`, `"vite:invalidate"`, `"vite:beforeFullReload"`,
		`data-devserve-style`,
		"[devserve]",
	} {
		if !strings.Contains(src, want) {
			t.Errorf("hmr.js does not contain %q", want)
		}
	}
	for _, leftover := range []string{
		"debugger", "console.log(", "TODO", "FIXME", "XXX", "alert(",
		"innerHTML", "sourceMappingURL", "localhost", "127.0.0.1", "\r",
	} {
		if strings.Contains(src, leftover) {
			t.Errorf("hmr.js contains %q", leftover)
		}
	}
	// One eval, on purpose: load runs an update's code from the event
	// (global scope, named by sourceURL), and falls back to import() where
	// a Content-Security-Policy forbids it. No other.
	evals := regexp.MustCompile(`\beval\s*[()]`).FindAllString(src, -1)
	if len(evals) != 1 || !strings.Contains(src, "(0, eval)(`${u.code}\\n//# sourceURL=") {
		t.Errorf("hmr.js calls eval %d times, want once: load's indirect eval of an update's code", len(evals))
	}
	// client.js reaches the entry scripts' instance of hmr.js through its
	// global, and applies updates at once (no import to wait for).
	if client := string(Source()); !strings.Contains(client, "const hmr = window.__devserve_hmr;") || !strings.Contains(client, "hmr.applyUpdates(updates)") ||
		!strings.Contains(src, "globalThis.__devserve_hmr = { emitError, beforeFullReload, styleUpdate, applyUpdates };") {
		t.Errorf("client.js does not apply updates through window.__devserve_hmr, or hmr.js does not put applyUpdates there")
	}
}

func TestTypesSource(t *testing.T) {
	src := string(TypesSource())
	for _, want := range []string{
		"interface ImportMeta {",
		"readonly hot?: DevserveHot;",
		"interface DevserveHot {",
		"readonly data: any;",
		"accept(cb?: (mod: any) => void): void;",
		"accept(dep: string, cb: (mod: any) => void): void;",
		"accept(deps: readonly string[],",
		"dispose(cb: (data: any) => void): void;",
		"prune(cb: (data: any) => void): void;",
		"invalidate(message?: string): void;",
		"on<K extends keyof DevserveHotEvents>(",
		"off<K extends keyof DevserveHotEvents>(",
		`"devserve:beforeUpdate"`, `"devserve:afterUpdate"`, `"devserve:error"`,
		`"vite:beforeUpdate"`, `"vite:afterUpdate"`, `"vite:error"`, `"vite:invalidate"`, `"vite:beforeFullReload"`,
		"readonly env: ImportMetaEnv;", "interface ImportMetaEnv {", "readonly [key: string]: any;",
		"readonly BASE_URL: string;", "readonly MODE: string;", "readonly DEV: boolean;",
		"readonly PROD: boolean;", "readonly SSR: boolean;",
	} {
		if !strings.Contains(src, want) {
			t.Errorf("hot.d.ts does not contain %q", want)
		}
	}
	// A global declaration file: an import or export would make it a
	// module, and its ImportMeta would no longer merge with the global one.
	if regexp.MustCompile(`(?m)^\s*(import|export)\b`).MatchString(src) {
		t.Error("hot.d.ts has a top-level import or export; it must stay a global script")
	}
	if strings.Contains(src, "\r") {
		t.Error("hot.d.ts has CR line ends")
	}
}
