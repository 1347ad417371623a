package hmr

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/devserve/devserve/internal/browsertest"
)

// These tests put devserve in proxy mode in front of the test backend of
// proxy_test.go, whose pages are gzipped and carry a strict CSP with a
// nonce, and drive the pages in Chromium.

// nextPage waits for the backend to serve a page.
func (b *backend) nextPage(t *testing.T) string {
	t.Helper()
	select {
	case p := <-b.pages:
		return p
	case <-time.After(browserWait):
		t.Fatal("timed out waiting for the backend to serve a page")
		return ""
	}
}

func noViolations(t *testing.T, tab context.Context) {
	t.Helper()
	if v := evalJS[string](t, tab, `JSON.stringify(window.violations || [])`); v != "[]" {
		t.Errorf("CSP violations: %s", v)
	}
}

// TestBrowserProxy runs its subtests in one browser, each with a server
// and tabs of its own.
func TestBrowserProxy(t *testing.T) {
	browser := browsertest.New(t)
	t.Run("Page", func(t *testing.T) { testBrowserProxyPage(t, browser) })
	t.Run("BackendRestart", func(t *testing.T) { testBrowserProxyBackendRestart(t, browser) })
	t.Run("ManyTabs", func(t *testing.T) { testBrowserManyTabs(t, browser) })
}

func testBrowserProxyPage(t *testing.T, browser context.Context) {
	be := startBackend(t, "127.0.0.1:0")
	ts := startProxy(t, be.URL, Options{})
	tab := browsertest.NewTab(t, browser)
	navigate(t, tab, ts.URL)
	be.nextPage(t)
	waitJS(t, tab, outText("one"))
	noViolations(t, tab)

	// htmx and fetch partials come as the backend sent them.
	evalJS[bool](t, tab, `
		fetch("/partial", {headers: {"HX-Request": "true"}}).then((r) => r.text()).then((t) => (window.htmx = t));
		fetch("/partial").then((r) => r.text()).then((t) => (window.fetched = t));
		true`)
	waitJS(t, tab, `typeof window.htmx === "string" && typeof window.fetched === "string"`)
	for _, v := range []string{"htmx", "fetched"} {
		if got := evalJS[string](t, tab, "window."+v); got != `<p id="hello">hello from the partial</p>` {
			t.Errorf("%s partial: %q", v, got)
		}
	}

	// A CSS edit swaps the sheet in place, under style-src 'self'.
	if err := browsertest.MarkPage(tab); err != nil {
		t.Fatal(err)
	}
	color := `getComputedStyle(document.getElementById("out")).color`
	ts.write(t, "style.css", "#out { color: rgb(0, 0, 255); }\n")
	waitJS(t, tab, color+` === "rgb(0, 0, 255)"`)
	if same, _ := browsertest.SamePage(tab); !same {
		t.Error("a CSS edit reloaded the page")
	}

	// A JS edit reloads the page, which the backend serves again.
	ts.write(t, "value.js", `export const value = "two";`)
	be.nextPage(t)
	waitJS(t, tab, outText("two")+` && window.__devserve.connected`)

	// A build error shows over the page: its CSS is a constructed sheet,
	// which style-src does not govern.
	ts.write(t, "value.js", "export const value = ;\n")
	overlay := `document.querySelector("devserve-overlay")`
	waitJS(t, tab, overlay+` && getComputedStyle(`+overlay+`).position === "fixed"`)
	ts.write(t, "value.js", `export const value = "fixed";`)
	waitJS(t, tab, outText("fixed")+` && !`+overlay)
	noViolations(t, tab)

	// Where Trusted Types forbid the SharedWorker, the tab holds its own
	// stream, and updates as well.
	tt := browsertest.NewTab(t, browser)
	navigate(t, tt, ts.URL+"/tt")
	if n := ts.broker.Clients(); n != 2 {
		t.Errorf("%d streams, want 2: the worker's and the tab's own", n)
	}
	ts.write(t, "style.css", "#out { color: rgb(0, 128, 0); }\n")
	for _, tb := range []context.Context{tab, tt} {
		waitJS(t, tb, color+` === "rgb(0, 128, 0)"`)
	}
}

func testBrowserProxyBackendRestart(t *testing.T, browser context.Context) {
	be := startBackend(t, "127.0.0.1:0")
	addr := strings.TrimPrefix(be.URL, "http://")
	ts := startProxy(t, be.URL, Options{})
	tab := browsertest.NewTab(t, browser)
	navigate(t, tab, ts.URL)
	be.nextPage(t)

	// The backend stops. A page loaded meanwhile says so.
	be.Close()
	down := browsertest.NewTab(t, browser)
	if err := chromedp.Do(down, chromedp.Navigate(ts.URL)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, down, `document.title.startsWith("Backend not answering") && window.__devserve.connected`)

	// It comes back: both pages reload, once.
	be2 := startBackend(t, addr)
	be2.nextPage(t)
	be2.nextPage(t)
	for _, tb := range []context.Context{tab, down} {
		waitJS(t, tb, outText("one")+` && window.__devserve.connected`)
		if err := browsertest.MarkPage(tb); err != nil {
			t.Fatal(err)
		}
	}
	if n := runs(t, tab); n != 2 {
		t.Errorf("the first page ran %d times, want 2", n)
	}
	// No other reload is on its way: events come in order, and the CSS
	// swap of a later build finds both pages in place.
	ts.write(t, "style.css", "#out { color: rgb(0, 0, 255); }\n")
	for _, tb := range []context.Context{tab, down} {
		waitJS(t, tb, `getComputedStyle(document.getElementById("out")).color === "rgb(0, 0, 255)"`)
		if same, _ := browsertest.SamePage(tb); !same {
			t.Error("a page reloaded twice")
		}
	}
	select {
	case p := <-be2.pages:
		t.Errorf("the backend served %s once more", p)
	default:
	}
}

// testBrowserManyTabs opens twelve tabs on one origin: more than the six
// HTTP/1.1 connections a browser allows per origin, which a stream per
// tab would take up. They share one stream, and all update and answer.
func testBrowserManyTabs(t *testing.T, browser context.Context) {
	const n = 12
	be := startBackend(t, "127.0.0.1:0")
	ts := startProxy(t, be.URL, Options{})
	tabs := newTabs(t, browser, n)
	for i, tab := range tabs {
		// A seventh stream of its own would never connect: the page
		// would not even load. Fail then, rather than wait forever.
		ctx, cancel := context.WithTimeout(tab, browserWait)
		err := chromedp.Do(ctx, chromedp.Navigate(ts.URL))
		cancel()
		if err != nil {
			t.Fatalf("tab %d: navigate: %v (with %d event streams open)", i+1, err, ts.broker.Clients())
		}
		waitJS(t, tab, `window.__devserve.connected && document.getElementById("out").textContent === "one"`)
	}
	if c := ts.broker.Clients(); c != 1 {
		t.Errorf("%d tabs hold %d event streams, want 1", n, c)
	}

	ts.write(t, "style.css", "#out { color: rgb(0, 0, 255); }\n")
	for _, tab := range tabs {
		waitJS(t, tab, `getComputedStyle(document.getElementById("out")).color === "rgb(0, 0, 255)"`)
	}
	// Every tab can still reach the origin.
	for i, tab := range tabs {
		evalJS[bool](t, tab, fmt.Sprintf(`fetch("/api?tab=%d").then((r) => r.json()).then((j) => (window.api = j.ok)); true`, i))
	}
	for _, tab := range tabs {
		waitJS(t, tab, `window.api === true`)
	}
	ts.write(t, "value.js", `export const value = "all twelve";`)
	for _, tab := range tabs {
		waitJS(t, tab, outText("all twelve")+` && window.__devserve.connected`)
	}
}

// newTabs opens n tabs of browser at once; the test's cleanup closes them.
func newTabs(t *testing.T, browser context.Context, n int) []context.Context {
	t.Helper()
	tabs := make([]context.Context, n)
	errs := make(chan error, n)
	for i := range tabs {
		tab, cancel := chromedp.NewContext(browser)
		t.Cleanup(cancel)
		tabs[i] = tab
		go func() { errs <- chromedp.Do(tab) }()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatalf("opening a tab: %v", err)
		}
	}
	return tabs
}
