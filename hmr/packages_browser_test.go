package hmr

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/devserve/devserve/internal/browsertest"
)

// npmFixture is the folder of a project under testdata/npm whose packages
// come from the registry, pinned by its package-lock.json. .ci/run installs
// them with npm ci; without them the test is skipped, or fails when the
// browser tests are required.
func npmFixture(t testing.TB, name string) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "testdata", "npm", name))
	if err != nil {
		t.Fatal(err)
	}
	browsertest.NeedPackages(t, dir, "npm ci")
	return dir
}

// pageErrors collects what a tab reports as going wrong: uncaught
// exceptions and console errors, across navigations.
type pageErrors struct {
	mu   sync.Mutex
	errs []string
}

func watchErrors(t *testing.T, tab context.Context) *pageErrors {
	pe := &pageErrors{}
	lines := browsertest.Console(t, tab)
	go func() {
		for l := range lines {
			if strings.HasPrefix(l, "error: ") || strings.HasPrefix(l, "exception: ") {
				pe.mu.Lock()
				pe.errs = append(pe.errs, l)
				pe.mu.Unlock()
			}
		}
	}()
	return pe
}

// take returns the errors seen since the last call.
func (pe *pageErrors) take() []string {
	pe.mu.Lock()
	defer pe.mu.Unlock()
	errs := pe.errs
	pe.errs = nil
	return errs
}

// TestBrowserPackages renders a page through each of a set of real npm
// packages, in module mode and bundled (a cold start's first page), with
// no error in the page: React
// 19 (CommonJS with inner files requiring other packages), react-router,
// Redux Toolkit with RTK Query and react-redux (.mjs files in node mode),
// msw's browser entry (exports conditions, packages made for Node too),
// date-fns and lodash-es (hundreds of files from one index), Preact (ESM
// only), Vue's runtime build, Lit (its styles imported with ?inline),
// TanStack Query with zustand, axios (a "browser" field over its Node
// adapters), dayjs (UMD files and a plugin by its file), uuid, MUI with
// Emotion, styled-components, framer-motion, SWR, react-hook-form with
// zod, socket.io-client, Recharts, i18next with react-i18next, and
// classnames, Chart.js and Leaflet (its stylesheet applied before the
// code that sizes the map runs), @fontsource and Bootstrap (stylesheets
// with fonts by relative URLs, Popper), react-icons, Radix, Headless UI,
// jotai and react-toastify.
func TestBrowserPackages(t *testing.T) {
	root := npmFixture(t, "react19")
	inBothModes(t, func(t *testing.T, tab context.Context, bundle bool) {
		testPackages(t, tab, startServer(t, root, "127.0.0.1:0", Options{Bundle: bundle}))
	})
}

// testPackages is TestBrowserPackages in one mode.
func testPackages(t *testing.T, tab context.Context, ts *testServer) {
	pe := watchErrors(t, tab)
	for _, c := range []struct{ page, want string }{
		{"react", "react 0"},
		{"router", "router user 42"},
		{"redux", "redux 2 rtk"},
		{"msw", "function msw"},
		{"datefns", "2024-01-02 2 days"},
		{"lodash", "lodash 2 function 13"},
		{"preact", "preact 7"},
		{"vue", "vue 3"},
		{"lit", "lit rgb(1, 2, 3)"},
		{"query", "query 3 rq"},
		{"axios", "axios 7"},
		{"dayjs", "dayjs 2024-01-02 2 days ago"},
		{"uuid", "uuid true 4 36"},
		{"mui", "mui ok rgb(1, 2, 3)"},
		{"styled", "styled rgb(4, 5, 6)"},
		{"motion", "motion div"},
		{"swr", "swr key"},
		{"form", "form ada true"},
		{"socket", "socket function false"},
		{"recharts", "recharts line"},
		{"i18n", "i18n Hallo"},
		{"misc", "misc a b 1 true hidden"},
		{"fonts", "fonts true 6px function"},
		{"ui", "ui svg dialog true 5 toasted"},
	} {
		t.Run(c.page, func(t *testing.T) {
			if err := chromedp.Do(tab, chromedp.Navigate(ts.URL+"/"+c.page+"/")); err != nil {
				t.Fatal(err)
			}
			// Some pages render in steps (RTK Query answers later).
			waitJS(t, tab, `window.__devserve && window.__devserve.connected && `+outText(c.want))
			if errs := pe.take(); len(errs) > 0 {
				t.Errorf("errors in the page:\n%s", strings.Join(errs, "\n"))
			}
		})
	}
}

// TestBrowserPackagesReact18 renders React 18 with a package that brings a
// nested copy of date-fns at another major version than the app's, and
// imports the package's CSS from JS.
func TestBrowserPackagesReact18(t *testing.T) {
	root := npmFixture(t, "react18")
	ts := startServer(t, root, "127.0.0.1:0", Options{})
	tab := browsertest.New(t)
	pe := watchErrors(t, tab)
	if err := chromedp.Do(tab, chromedp.Navigate(ts.URL+"/app/")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tab, `window.__devserve && window.__devserve.connected && document.getElementById("out") !== null`)
	if got := evalJS[string](t, tab, `document.getElementById("out").textContent + " | " + document.getElementById("picker").value`); got != "react 18 2024-01-02 | 2024/01/02" {
		t.Errorf("page shows %q", got)
	}
	// The package's stylesheet is linked and applied.
	waitJS(t, tab, `[...document.styleSheets].some((s) => [...s.cssRules].some((r) => (r.selectorText || "").includes(".react-datepicker")))`)
	if errs := pe.take(); len(errs) > 0 {
		t.Errorf("errors in the page:\n%s", strings.Join(errs, "\n"))
	}
}

// TestBrowserInterop runs, in module mode, the cases of package interop
// that real projects meet, one package each under testdata/interop: a
// project with "type": "module" default-importing its own module; a
// package required by another package and imported by the app, which must
// be one copy (its "main" file, as esbuild picks in a bundle); a Babel
// CommonJS default export; a side-effect-only import; circular requires
// inside a package; a "browser" field that disables a dependency and
// remaps a file; an exports map with import and require conditions; and a
// Node built-in, which is an empty module that says why when used.
func TestBrowserInterop(t *testing.T) {
	ts := startServer(t, copyFixture(t, "interop"), "127.0.0.1:0", Options{})
	tab := browsertest.New(t)
	pe := watchErrors(t, tab)
	if err := chromedp.Do(tab, chromedp.Navigate(ts.URL)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tab, `window.__devserve && window.__devserve.connected && document.getElementById("out").textContent !== ""`)
	want := "scene main true babel-default side-effect cycle:early jsdom:0 browser dual-import stub"
	if got := evalJS[string](t, tab, `document.getElementById("out").textContent`); got != want {
		t.Errorf("page shows\n%q, want\n%q", got, want)
	}
	if errs := pe.take(); len(errs) > 0 {
		t.Errorf("errors in the page:\n%s", strings.Join(errs, "\n"))
	}
}
