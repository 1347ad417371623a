package hmr

import (
	"context"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// heldModules returns Options with BundleFirst whose first build of
// module mode waits until release is called. The caller defers release:
// the server's Close, a cleanup, waits for that build.
func heldModules() (opts Options, release func()) {
	hold := make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(hold) }) }
	return Options{BundleFirst: true, modulesHook: func() { <-hold }}, release
}

// compiledModules returns Options with BundleFirst whose first build of
// module mode, once compiled, waits until release is called to be
// installed; built is closed when it has compiled. The caller defers
// release.
func compiledModules() (opts Options, built <-chan struct{}, release func()) {
	done := make(chan struct{})
	hold := make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(hold) }) }
	return Options{BundleFirst: true, modulesBuiltHook: func() {
		close(done)
		<-hold
	}}, done, release
}

// getOK returns the body of a GET of url, which must answer 200.
func getOK(t *testing.T, url string) string {
	t.Helper()
	resp, body := doRequest(t, "GET", url, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	return string(body)
}

func waitReady(t *testing.T, ts *testServer) {
	t.Helper()
	select {
	case <-ts.Ready():
	case <-time.After(20 * time.Second):
		t.Fatal("module mode never served")
	}
}

// TestBundleFirst serves a cold start bundled while module mode compiles:
// the entry is the marked bundle until then, a change in the meantime
// reloads the pages and is built again by module mode before it serves,
// and a restart with the cache that the first run wrote serves module
// mode at once.
func TestBundleFirst(t *testing.T) {
	dir := copyFixture(t, "hot")
	// Written a minute ago: the cache keeps no module whose files changed
	// as it compiled.
	old := time.Now().Add(-time.Minute)
	filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err == nil {
			err = os.Chtimes(p, old, old)
		}
		return err
	})
	cache := filepath.Join(t.TempDir(), "cache")
	opts, release := heldModules()
	defer release()
	opts.Build.CacheDir = cache
	ts := startServer(t, dir, "127.0.0.1:0", opts)
	if !ts.Status().Compiling {
		t.Error("Status().Compiling = false while module mode compiles")
	}
	if js := getOK(t, ts.URL+"/main.js"); !strings.Contains(js, "globalThis.__devserve_bundled = true;") {
		t.Fatalf("the entry is not the marked bundle while module mode compiles:\n%.300s", js)
	}

	ts.replaceIn(t, "plain.js", "plain one", "changed while compiling")
	if r := ts.waitReport(t, EventBuilt); !r.Reload {
		t.Errorf("report = %+v, want a reload: the pages run the bundle", r)
	}
	release()
	waitReady(t, ts)
	if r := ts.waitReport(t, ReportModules); r.Duration <= 0 {
		t.Errorf("modules report = %+v, want its build's duration", r)
	}
	if ts.Status().Compiling {
		t.Error("Status().Compiling = true after Ready")
	}
	js := getOK(t, ts.URL+"/main.js")
	if strings.Contains(js, "__devserve_bundled") || !strings.Contains(js, "/__devserve/") {
		t.Fatalf("the entry is not module mode's once it serves:\n%.300s", js)
	}
	if !strings.Contains(js, "changed while compiling") {
		t.Errorf("module mode serves plain.js as it was before the change:\n%s", js)
	}
	ts.stop()

	// The bundle kept by the first build is stale: plain.js changed since.
	again := startServer(t, dir, "127.0.0.1:0", Options{BundleFirst: true, Build: opts.Build})
	if js := getOK(t, again.URL+"/main.js"); !strings.Contains(js, "changed while compiling") {
		t.Errorf("a restart serves plain.js as it was before the change:\n%s", js)
	}
	waitReady(t, again)
}

// TestBundleFirstKept restarts a server on a project it served before:
// its first pages are the bundle the first run kept, while nothing it
// was built from changed, else a new bundle; module mode serves after it.
func TestBundleFirstKept(t *testing.T) {
	dir := copyFixture(t, "hot")
	age := func() { // files and folders as written while no server ran
		old := time.Now().Add(-time.Minute)
		var dirs []string
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			} else if err == nil {
				err = os.Chtimes(p, old, old)
			}
			return err
		})
		for _, d := range dirs {
			os.Chtimes(d, old, old)
		}
	}
	age()
	cache := filepath.Join(t.TempDir(), "cache")
	// start serves dir, checks whether its first pages are bundled and
	// with what, and stops it once it has kept a bundle (or at once if
	// it keeps none). It returns main.js as first served and whether
	// that was the kept bundle.
	start := func(bundled bool, then func(ts *testServer)) (js string, kept bool) {
		t.Helper()
		var served atomic.Bool
		keptNow := make(chan struct{}, 10)
		opts, release := heldModules()
		defer release()
		opts.Build.CacheDir = cache
		opts.keepIdle = 20 * time.Millisecond
		opts.Logger = slog.New(onMessage{
			"bundler: kept bundle served":    func() { served.Store(true) },
			"bundle kept for the next start": func() { keptNow <- struct{}{} },
		})
		ts := startServer(t, dir, "127.0.0.1:0", opts)
		defer ts.stop()
		js = getOK(t, ts.URL+"/main.js")
		if got := strings.Contains(js, "globalThis.__devserve_bundled = true;"); got != bundled {
			t.Fatalf("the first pages bundled: %v, want %v:\n%.300s", got, bundled, js)
		}
		release()
		waitReady(t, ts)
		if served.Load() && ts.keep.wants() {
			t.Error("the server that served the kept bundle means to bundle for the next start")
		}
		if then != nil {
			then(ts)
			select {
			case <-keptNow:
			case <-time.After(20 * time.Second):
				t.Fatal("no bundle kept for the next start")
			}
			// Each refresh reports (cmd gives its garbage back then); one
			// cut short by a change says it kept nothing.
			r := ts.waitReport(t, ReportKeep)
			for r.Failed {
				r = ts.waitReport(t, ReportKeep)
			}
			if r.Duration <= 0 {
				t.Errorf("the keep's report says it took %s", r.Duration)
			}
		}
		return js, served.Load()
	}
	first, kept := start(true, nil)
	if kept {
		t.Fatal("a cold start served a kept bundle")
	}
	if again, kept := start(true, nil); !kept || again != first {
		t.Errorf("a restart with nothing changed served a kept bundle: %v; the same one: %v", kept, again == first)
	}

	// Edited while no server ran: the kept bundle is stale, and module
	// mode serves at once (its modules are in the cache); once idle, the
	// server keeps a new bundle, which the next start serves.
	if err := os.WriteFile(filepath.Join(dir, "plain.js"), []byte(strings.Replace(string(readFile(t, filepath.Join(dir, "plain.js"))), "plain one", "edited while down", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	age()
	if js, _ := start(false, func(*testServer) {}); !strings.Contains(js, "edited while down") {
		t.Errorf("after an edit while no server ran, module mode serves\n%s", js)
	}
	if js, kept := start(true, nil); !kept || !strings.Contains(js, "edited while down") {
		t.Errorf("the next start served a kept bundle: %v; with the edit: %v", kept, strings.Contains(js, "edited while down"))
	}

	// Edited while the server runs: it keeps a bundle with the edit.
	start(true, func(ts *testServer) {
		ts.replaceIn(t, "plain.js", "edited while down", "edited while up")
		ts.waitReport(t, EventBuilt)
	})
	if js, kept := start(true, nil); !kept || !strings.Contains(js, "edited while up") {
		t.Errorf("the next start served a kept bundle: %v; with the edit: %v", kept, strings.Contains(js, "edited while up"))
	}
}

// TestBundleFirstBundleFailed: a bundle fails on what module mode does
// not check (an import of a name that is not exported); when module mode
// has built, the pages, which show the bundle's errors, reload.
func TestBundleFirstBundleFailed(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, dir, "index.html", `<script type="module" src="/main.js"></script>`)
	writeTestFile(t, dir, "main.js", "import { missing } from \"./dep.js\";\nconsole.log(missing);\n")
	writeTestFile(t, dir, "dep.js", "export const there = 1;\n")
	opts, release := heldModules()
	defer release()
	ts := startServer(t, dir, "127.0.0.1:0", opts)
	if st := ts.Status(); len(st.Errors) == 0 {
		t.Fatalf("status %+v, want the bundle's error", st)
	}
	release()
	waitReady(t, ts)
	if r := ts.waitReport(t, EventReload); !r.Reload {
		t.Errorf("report = %+v, want a reload", r)
	}
	if st := ts.Status(); st.Status != StatusOK {
		t.Errorf("status %+v in module mode, want ok", st)
	}
}

// TestBundleFirstLinked edits a file of a linked workspace package after
// module mode compiled it: only module mode watches linked folders, so
// the file builds again, by its absolute path, before module mode serves.
// An edit that breaks it fails module mode alone (the bundle never built
// it): module mode serves then, with the error, and its fix builds.
func TestBundleFirstLinked(t *testing.T) {
	for _, tc := range []struct {
		name, edit string
		broken     bool
	}{
		{"edited", "export const label = \"edited while compiling\";\n", false},
		{"broken", "export const label = ;\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws := t.TempDir()
			for name, body := range map[string]string{
				"packages/ui/package.json": `{"name": "ui", "main": "label.js"}`,
				"packages/ui/label.js":     "export const label = \"ui\";\n",
				"apps/web/index.html":      `<script type="module" src="/main.js"></script>`,
				"apps/web/main.js":         "import { label } from \"ui\";\nconsole.log(label);\n",
			} {
				writeTestFile(t, ws, name, body)
			}
			if err := os.MkdirAll(filepath.Join(ws, "apps", "web", "node_modules"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Join(ws, "packages", "ui"), filepath.Join(ws, "apps", "web", "node_modules", "ui")); err != nil {
				t.Fatal(err)
			}
			opts, built, release := compiledModules()
			defer release()
			ts := startServer(t, filepath.Join(ws, "apps", "web"), "127.0.0.1:0", opts)
			<-built // module mode compiled the label as it was
			writeTestFile(t, ws, "packages/ui/label.js", tc.edit)
			release()
			waitReady(t, ts)
			if !tc.broken {
				if js := getOK(t, ts.URL+"/main.js"); !strings.Contains(js, "edited while compiling") {
					t.Errorf("module mode serves the linked file as it was before the edit:\n%s", js)
				}
				return
			}
			if st := ts.Status(); st.Status != StatusError || len(st.Errors) == 0 || !strings.Contains(st.Errors[0].File, "label.js") {
				t.Fatalf("status %+v once module mode serves, want label.js's error", st)
			}
			writeTestFile(t, ws, "packages/ui/label.js", "export const label = \"fixed\";\n")
			ts.waitReport(t, EventBuilt)
			if st := ts.Status(); st.Status != StatusOK {
				t.Errorf("status %+v after the fix, want ok", st)
			}
		})
	}
}

// TestBundleFirstClose closes a server as module mode's first build
// starts: Close returns, and Ready is closed.
func TestBundleFirstClose(t *testing.T) {
	closing := make(chan struct{})
	ts := startServer(t, copyFixture(t, "hot"), "127.0.0.1:0",
		Options{BundleFirst: true, modulesHook: func() { <-closing }})
	close(closing)
	ts.stop()
	select {
	case <-ts.Ready():
	default:
		t.Error("Ready is open after Close")
	}
}

// TestBundleFirstNeverStale: module mode compiled a file before an edit
// that the bundle then built. From the moment module mode serves, it
// serves the edit, never the code it compiled before it. If a broken
// edit followed, module mode's last good code of the file is older than
// the bundle's: the bundle serves on, with the error, until a fix
// builds, and module mode then serves the fix; whether the bundle built
// the broken save before module mode's build ended ("broken before") or
// module mode read it from the disk first ("broken at the switch", CI's
// serve_edit twice).
func TestBundleFirstNeverStale(t *testing.T) {
	for _, tc := range []struct {
		name          string
		broken, first bool // first: the bundle has built the broken save when module mode's build ends
	}{{"edited", false, false}, {"broken before", true, true}, {"broken at the switch", true, false}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTestFile(t, dir, "index.html", `<script type="module" src="/main.js"></script>`)
			writeTestFile(t, dir, "main.js", "console.log('count = 1');\n")
			opts, built, release := compiledModules()
			defer release()
			var ts *testServer
			waits := make(chan struct{}, 1)
			served := make(chan string, 1) // the entry, asked for as module mode says it serves
			opts.Logger = slog.New(onMessage{
				"module mode waits for a good build": func() {
					select {
					case waits <- struct{}{}:
					default:
					}
				},
				"module mode serves": func() { served <- getOK(t, ts.URL+"/main.js") },
			})
			ts = startServer(t, dir, "127.0.0.1:0", opts)
			<-built // module mode compiled count = 1
			writeTestFile(t, dir, "main.js", "console.log('count = 2');\n")
			ts.waitReport(t, EventBuilt) // the bundle has it
			if js := getOK(t, ts.URL+"/main.js"); !strings.Contains(js, "count = 2") {
				t.Fatalf("the bundle after the edit:\n%s", js)
			}
			want := "count = 2"
			if tc.broken {
				writeTestFile(t, dir, "main.js", "console.log('count = ';\n")
				if tc.first {
					ts.waitReport(t, EventErrors)
				}
			}
			release()
			if tc.broken {
				select {
				case <-waits:
				case js := <-served:
					t.Fatalf("module mode serves its build of the broken file; the entry:\n%s", js)
				case <-time.After(20 * time.Second):
					t.Fatal("module mode's build of the broken file never ended")
				}
				if !tc.first {
					ts.waitReport(t, EventErrors) // the bundle's build of the broken save
				}
				select {
				case js := <-served:
					t.Fatalf("module mode serves its build of the broken file; the entry:\n%s", js)
				default:
				}
				if js := getOK(t, ts.URL+"/main.js"); !strings.Contains(js, "count = 2") || !strings.Contains(js, "__devserve_bundled") {
					t.Errorf("served after module mode's failed build, want the bundle's last good code:\n%s", js)
				}
				if st := ts.Status(); st.Status != StatusError {
					t.Errorf("status %+v, want the error", st)
				}
				writeTestFile(t, dir, "main.js", "console.log('count = 3');\n")
				want = "count = 3"
			}
			waitReady(t, ts)
			if js := <-served; strings.Contains(js, "count = 1") || strings.Contains(js, "__devserve_bundled") {
				t.Fatalf("module mode served, want %q:\n%s", want, js)
			}
			// Module mode's build at the switch may read the fix half
			// written, as a request could: the save's batch builds it
			// again.
			for js := getOK(t, ts.URL+"/main.js"); !strings.Contains(js, want); js = getOK(t, ts.URL+"/main.js") {
				ts.waitReport(t, EventBuilt)
			}
			if st := ts.Status(); st.Status != StatusOK {
				t.Errorf("status %+v in module mode, want ok", st)
			}
		})
	}
}

// onMessage is a slog.Handler that calls the function of a record's
// message, on the goroutine that logs it.
type onMessage map[string]func()

func (h onMessage) Enabled(context.Context, slog.Level) bool { return true }
func (h onMessage) Handle(_ context.Context, r slog.Record) error {
	if do := h[r.Message]; do != nil {
		do()
	}
	return nil
}
func (h onMessage) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h onMessage) WithGroup(string) slog.Handler      { return h }

// TestKeepIdleFor: a refresh waits for an idle time ten times as long as
// the last bundle took, and never less than the keeper's least.
func TestKeepIdleFor(t *testing.T) {
	for _, tt := range []struct{ least, took, want time.Duration }{
		{3 * time.Second, 0, 3 * time.Second}, // nothing bundled yet
		{3 * time.Second, 100 * time.Millisecond, 3 * time.Second},
		{3 * time.Second, 2 * time.Second, 20 * time.Second},
	} {
		k := &keeper{idle: tt.least, took: tt.took}
		if got := k.idleFor(); got != tt.want {
			t.Errorf("least %s, last bundle %s: idle for %s, want %s", tt.least, tt.took, got, tt.want)
		}
	}
}
