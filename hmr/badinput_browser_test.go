package hmr

import (
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/devserve/devserve/bundler"
	"github.com/devserve/devserve/internal/browsertest"
	"github.com/devserve/devserve/internal/ssetest"
)

// These tests give the server bad input in a real browser (issues #12 and
// #13): each starts from a good build, breaks it, checks that the terminal
// (the build report, which the command prints) and the overlay say what is
// wrong, where, while the page keeps running the last good code, and then
// fixes the input and checks that the page shows what is on disk.

// TestBrowserBadPackages imports packages that name no file, on a copy of
// testdata/live: one not installed, one whose "main" names a missing file,
// one whose "exports" entries point at each other. The overlay and the
// report give the importing file and line and the package.json field at
// fault; the page and the server keep the last good build; installing or
// repairing the package (which, as npm does, writes the project's
// package.json) shows the package's code.
func TestBrowserBadPackages(t *testing.T) {
	browser := browsertest.New(t)
	for _, c := range []struct {
		name     string
		broken   map[string]string // files of the project before the import
		spec     string            // what value.js imports
		want     []string          // in the error, besides value.js:2
		fixed    map[string]string // files that repair the package
		fixedOut string
	}{{
		name: "not installed",
		spec: "notinstalled",
		want: []string{`Could not resolve "notinstalled": the package "notinstalled" is not installed (npm install notinstalled)`},
		fixed: map[string]string{
			"node_modules/notinstalled/package.json": `{"name":"notinstalled","main":"index.js"}`,
			"node_modules/notinstalled/index.js":     `exports.value = "installed";`,
		},
		fixedOut: "installed",
	}, {
		name:   "main missing",
		broken: map[string]string{"node_modules/nomain/package.json": "{\n  \"name\": \"nomain\",\n  \"main\": \"lib/gone.js\"\n}\n"},
		spec:   "nomain",
		want: []string{`the package "nomain" is installed in node_modules/nomain but names no file for it`,
			`its package.json field "main" is "lib/gone.js", which is not a file of the package (node_modules/nomain/package.json:3)`},
		fixed:    map[string]string{"node_modules/nomain/lib/gone.js": `exports.value = "main back";`},
		fixedOut: "main back",
	}, {
		name: "circular exports",
		broken: map[string]string{"node_modules/loop/package.json": "{\n  \"name\": \"loop\",\n  \"exports\": {\n" +
			"    \"./a\": \"./b\",\n    \"./b\": \"./a\"\n  }\n}\n"},
		spec: "loop/a",
		want: []string{`its package.json "exports" maps "./a" to "./b", which is not a file of the package (node_modules/loop/package.json:4)`,
			`"./b" is also a key of "exports", but the map's targets are files, never looked up in the map again`},
		fixed: map[string]string{
			"node_modules/loop/package.json": `{"name":"loop","exports":{"./a":"./a.js"}}`,
			"node_modules/loop/a.js":         `export const value = "exports fixed";`,
		},
		fixedOut: "exports fixed",
	}} {
		t.Run(c.name, func(t *testing.T) {
			dir := copyFixture(t, "live")
			for rel, body := range c.broken {
				writeTestFile(t, dir, rel, body)
			}
			writeTestFile(t, dir, "package.json", `{"name":"live"}`)
			ts := startServer(t, dir, "127.0.0.1:0", Options{})
			tab := browsertest.NewTab(t, browser)
			navigate(t, tab, ts.URL)
			waitJS(t, tab, outText("one")+` && `+pageOK)
			if err := browsertest.MarkPage(tab); err != nil {
				t.Fatal(err)
			}

			ts.write(t, "value.js", "// uses a package\nimport { value as v } from \""+c.spec+"\";\nexport const value = v;\n")
			r := ts.waitErrors(t, c.want[0])
			if len(r.Errors) != 1 || r.Errors[0].File != "value.js" || r.Errors[0].Line != 2 {
				t.Errorf("report errors = %+v, want one at value.js:2", r.Errors)
			}
			for _, w := range c.want {
				if !strings.Contains(errorsText(r), w) {
					t.Errorf("the report says %q, want %q in it", errorsText(r), w)
				}
				waitJS(t, tab, overlayShows(w))
			}
			waitJS(t, tab, overlayShows("value.js:2:")+` && `+overlayShows(`2 | import { value as v } from "`+c.spec+`";`))
			// The page and the server keep the last good build.
			samePage(t, tab, "a failed build")
			waitJS(t, tab, outText("one"))
			_, served := ssetest.Request(t, ts.http, "GET", "/main.js") // it holds value.js
			if !strings.Contains(served, `"one"`) || strings.Contains(served, c.spec) {
				t.Errorf("after the failed build /main.js is\n%s\nwant the last good build's", served)
			}

			// Repair the package as npm would, package.json last.
			for rel, body := range c.fixed {
				ts.write(t, rel, body)
			}
			ts.write(t, "package.json", `{"name":"live","dependencies":{"`+packageOf(c.spec)+`":"*"}}`)
			waitJS(t, tab, outText(c.fixedOut)+` && `+pageOK)
		})
	}
}

// packageOf is the package name of a bare specifier without a scope.
func packageOf(spec string) string {
	name, _, _ := strings.Cut(spec, "/")
	return name
}

// TestBrowserBadReactEdits makes bad edits to React components with Fast
// Refresh (React 19), on the page of openRefreshPage: a syntax error, a
// component that throws as it renders, a change of the hooks' order and
// a save made while the browser still applies the previous update. Each
// says what happened where (the overlay, the report), and the next good
// save shows what is on disk, in place, with nothing left stale.
func TestBrowserBadReactEdits(t *testing.T) {
	dir := refreshProject(t, "react19")
	// The update of App.jsx fetched while hold is set waits until the
	// test closes release: a slow module.
	var hold atomic.Bool
	held, release := make(chan struct{}, 1), make(chan struct{})
	// The pages fetch their updates, so that one can be slow.
	ts := startServerVia(t, dir, "127.0.0.1:0", Options{fetchUpdates: true}, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == bundler.ModulePrefix+"refresh/App.jsx" && r.URL.Query().Has("n") && hold.CompareAndSwap(true, false) {
				held <- struct{}{}
				select {
				case <-release:
				case <-r.Context().Done():
				}
			}
			h.ServeHTTP(w, r)
		})
	})
	tab := browsertest.New(t)
	pe := watchErrors(t, tab)
	navigateTo(t, tab, ts.URL+"/refresh/", `document.getElementById("label") !== null`)
	for range 3 {
		evalJS[any](t, tab, `document.getElementById("inc").click()`)
	}
	waitJS(t, tab, textIs("inc", "count 3"))
	if err := browsertest.MarkPage(tab); err != nil {
		t.Fatal(err)
	}
	kept := func(what string) {
		t.Helper()
		waitJS(t, tab, textIs("inc", "count 3")+` && `+pageOK)
		samePage(t, tab, what)
	}

	t.Run("syntax error", func(t *testing.T) {
		ts.drainReports()
		ts.replaceIn(t, "refresh/App.jsx", "<input", "<<input")
		r := ts.waitErrors(t, "")
		if len(r.Errors) == 0 || r.Errors[0].File != "refresh/App.jsx" || r.Errors[0].Line != 12 {
			t.Errorf("report errors = %+v, want refresh/App.jsx:12", r.Errors)
		}
		waitJS(t, tab, overlayShows("refresh/App.jsx:12:")+` && `+overlayShows(`12 |       <<input id="text" />`))
		// The last good code runs on.
		evalJS[any](t, tab, `document.getElementById("inc").click()`)
		waitJS(t, tab, textIs("inc", "count 4")+` && `+textIs("label", "label v0"))
		ts.replaceIn(t, "refresh/App.jsx", "<<input", "<input")
		ts.replaceIn(t, "refresh/App.jsx", "label v0", "label after syntax error")
		waitJS(t, tab, textIs("label", "label after syntax error")+` && `+textIs("inc", "count 4")+` && `+pageOK)
		samePage(t, tab, "syntax error fixed")
		pe.take() // the client logs the build's error
	})

	t.Run("render error", func(t *testing.T) {
		ts.replaceIn(t, "refresh/theme.jsx", `return <p id="theme">`, `if (1) throw new Error("render failed"); return <p id="theme">`)
		waitJS(t, tab, overlayShows("render failed")+` && `+overlayShows("refresh/theme.jsx:9:16")+` && `+overlayShows(`9 |   if (1) throw new Error("render failed");`))
		samePage(t, tab, "render error")
		ts.replaceIn(t, "refresh/theme.jsx", `if (1) throw new Error("render failed"); return <p id="theme">theme `, `return <p id="theme">themed `)
		waitJS(t, tab, textIs("theme", "themed dark")+` && `+textIs("label", "label after syntax error")+` && `+pageOK)
		samePage(t, tab, "render error fixed")
		if n := evalJS[int](t, tab, `document.querySelectorAll("#theme").length`); n != 1 {
			t.Errorf("%d #theme elements after the fix, want 1", n)
		}
		pe.take() // React logs the error it rendered
	})

	t.Run("hooks order", func(t *testing.T) {
		for range 3 - evalJS[int](t, tab, `+document.getElementById("inc").textContent.split(" ")[1]`) {
			evalJS[any](t, tab, `document.getElementById("inc").click()`)
		}
		// A hook before the counter's: its state is new, so React mounts
		// the component afresh rather than give it the wrong state.
		ts.replaceIn(t, "refresh/App.jsx", "  const [count, setCount] = useState(0);",
			"  const [first] = useState(\"first hook\");\n  const [count, setCount] = useState(0);")
		ts.replaceIn(t, "refresh/App.jsx", `<p id="label">label after syntax error</p>`, `<p id="label">{first}</p>`)
		waitJS(t, tab, textIs("label", "first hook")+` && `+textIs("inc", "count 0")+` && `+pageOK)
		samePage(t, tab, "hooks order changed")
		for range 3 {
			evalJS[any](t, tab, `document.getElementById("inc").click()`)
		}
		kept("hooks order changed")
	})

	t.Run("edit during an update", func(t *testing.T) {
		hold.Store(true)
		ts.replaceIn(t, "refresh/App.jsx", `<p id="label">{first}</p>`, `<p id="label">slow first</p>`)
		select {
		case <-held:
		case <-time.After(browserWait):
			t.Fatal("the page did not fetch the update of App.jsx")
		}
		// The browser is applying the first update; save again.
		events := evalJS[int](t, tab, `window.__devserve.events`)
		ts.drainReports()
		ts.replaceIn(t, "refresh/App.jsx", `<p id="label">slow first</p>`, `<p id="label">second save</p>`)
		for r := ts.nextReport(t); r.Event != EventBuilt; r = ts.nextReport(t) {
		}
		waitJS(t, tab, `window.__devserve.events >= `+strconv.Itoa(events+2))
		close(release)
		waitJS(t, tab, textIs("label", "second save"))
		kept("a save during an update")
		// Nothing is stuck: the next save applies too.
		ts.replaceIn(t, "refresh/App.jsx", `<p id="label">second save</p>`, `<p id="label">third save</p>`)
		waitJS(t, tab, textIs("label", "third save"))
		kept("the save after")
	})

	if errs := pe.take(); len(errs) > 0 {
		t.Errorf("errors in the page:\n%s", strings.Join(errs, "\n"))
	}
}
