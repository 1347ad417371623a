package hmr

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/devserve/devserve/internal/browsertest"
)

// TestBrowserBundleFirst opens a page while module mode compiles: it runs
// the bundle, with the same CSS and state a module page has. Once module
// mode serves, a page nobody touched reloads into it at once; one in use
// stays, and the first edit of a module that accepts itself reloads it
// (it has no module to replace) into module mode, where the next one is a
// hot update in place.
func TestBrowserBundleFirst(t *testing.T) {
	ts, tab, release := openHeldHot(t)
	waitJS(t, tab, `window.__devserve.connected && `+textIs("count", "COUNT! 0"))
	if !evalJS[bool](t, tab, `window.__devserve_bundled === true && !window.__devserve_hmr`) {
		t.Fatal("the page does not run the bundle while module mode compiles")
	}
	if color := evalJS[string](t, tab, `getComputedStyle(document.getElementById("styled")).color`); color == "rgb(0, 0, 0)" {
		t.Error("the CSS that main.js imports is not applied to the bundled page")
	}
	// Someone uses the page: it stays on the bundle when module mode
	// serves, until its next JS update.
	if err := chromedp.Do(tab, chromedp.Click("#inc")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tab, textIs("count", "COUNT! 1"))
	if err := browsertest.MarkPage(tab); err != nil {
		t.Fatal(err)
	}
	// A second tab, untouched, moves to module mode once it serves: after
	// that, the first tab has had the event too.
	other := browsertest.NewTab(t, tab)
	if err := chromedp.Do(other, chromedp.Navigate(ts.URL)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, other, `window.__devserve.connected && window.__devserve_bundled === true`)
	release()
	waitReady(t, ts)
	waitJS(t, other, textIs("count", "COUNT! 0")+` && !!window.__devserve_hmr && !window.__devserve_bundled`)
	if err := browsertest.MarkPage(other); err != nil {
		t.Fatal(err)
	}
	samePage(t, tab, "module mode serving, with the page in use")
	if !evalJS[bool](t, tab, `window.__devserve_bundled === true`) {
		t.Fatal("the page in use left the bundle")
	}

	ts.replaceIn(t, "counter.js", `const text = "count"`, `const text = "clicks"`)
	waitJS(t, tab, textIs("count", "CLICKS! 0")+` && !!window.__devserve_hmr && !window.__devserve_bundled && window.__devserve.connected`)
	if same, err := browsertest.SamePage(tab); err != nil || same {
		t.Fatalf("the bundled page took a module update without a reload (same=%v, err=%v)", same, err)
	}
	if err := browsertest.MarkPage(tab); err != nil {
		t.Fatal(err)
	}
	ts.replaceIn(t, "counter.js", `const text = "clicks"`, `const text = "taps"`)
	waitJS(t, tab, textIs("count", "TAPS! 0"))
	samePage(t, tab, "the module page's hot update")
	// The moved tab joined the stream the first tab's SharedWorker held
	// since before the switch: it took the hot updates, with no reload.
	waitJS(t, other, textIs("count", "TAPS! 0"))
	samePage(t, other, "module mode's hot updates in the moved tab")
}

// TestBrowserBundleFirstCSS: the first edit once module mode serves is of
// the CSS that main.js imports, which the bundled page has from the
// bundle's stylesheet and module mode as a module: the page shows the new
// rule.
func TestBrowserBundleFirstCSS(t *testing.T) {
	ts, tab, release := openHeldHot(t)
	const color = `getComputedStyle(document.getElementById("styled")).color`
	waitJS(t, tab, `window.__devserve.connected && window.__devserve_bundled === true && `+color+` === "rgb(255, 0, 0)"`)
	release()
	waitReady(t, ts)
	ts.replaceIn(t, "style.css", "rgb(255, 0, 0)", "rgb(0, 0, 255)")
	waitJS(t, tab, color+` === "rgb(0, 0, 255)"`)
}

// openHeldHot serves testdata/hot with module mode's first build held
// (heldModules; release lets it go, and the test's cleanup does) and
// opens its page, which runs the bundle.
func openHeldHot(t *testing.T) (*testServer, context.Context, func()) {
	t.Helper()
	opts, release := heldModules()
	ts := startServer(t, copyFixture(t, "hot"), "127.0.0.1:0", opts)
	t.Cleanup(release) // runs before the server's cleanup, whose Close waits for that build
	tab := browsertest.New(t)
	if err := chromedp.Do(tab, chromedp.Navigate(ts.URL)); err != nil {
		t.Fatal(err)
	}
	return ts, tab, release
}
