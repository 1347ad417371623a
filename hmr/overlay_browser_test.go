package hmr

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/devserve/devserve/internal/browsertest"
)

// These tests follow errors to the overlay in a real browser, with the
// testdata/overlay project: a build that fails before the page ever ran,
// CSS that esbuild can only recover from, and errors the page's code throws.

// overlayFixture is the original text of a file of testdata/overlay.
func overlayFixture(t *testing.T, rel string) string {
	t.Helper()
	return string(readFile(t, filepath.Join("..", "testdata", "overlay", filepath.FromSlash(rel))))
}

// openPage navigates tab to url and waits until the client is connected.
func openPage(t *testing.T, tab context.Context, url string) {
	t.Helper()
	if err := chromedp.Do(tab, chromedp.Navigate(url)); err != nil {
		t.Fatalf("navigate %s: %v", url, err)
	}
	waitJS(t, tab, `window.__devserve && window.__devserve.connected`)
}

// TestBrowserFirstBuildFails opens the page while the first build fails:
// the overlay shows the error, and the fix shows the page, with no reload
// by hand, in module mode and bundled.
func TestBrowserFirstBuildFails(t *testing.T) {
	browser := browsertest.New(t)
	for _, mode := range []struct {
		name   string
		bundle bool
	}{{"modules", false}, {"bundle", true}} {
		t.Run(mode.name, func(t *testing.T) {
			dir := copyFixture(t, "overlay")
			writeTestFile(t, dir, "src/main.ts", "// broken\nconst broken: number = ;\n")
			ts := startServer(t, dir, "127.0.0.1:0", Options{Bundle: mode.bundle})
			tab := browsertest.NewTab(t, browser)
			openPage(t, tab, ts.URL)
			waitJS(t, tab, overlayShows("src/main.ts:2:24")+` && `+overlayShows("const broken: number = ;"))
			if n := runs(t, tab); n != 0 {
				t.Errorf("the project's code ran %d times before it built", n)
			}
			ts.write(t, "src/main.ts", overlayFixture(t, "src/main.ts"))
			waitJS(t, tab, outText("view ready")+` && `+pageOK)
			if n := runs(t, tab); n != 1 {
				t.Errorf("the page ran %d times, want 1", n)
			}
			// CSS imported from JS came with the good build.
			waitJS(t, tab, `getComputedStyle(document.getElementById("out")).backgroundColor === "rgb(0, 0, 255)"`)
		})
	}
}

// TestBrowserCSSSyntaxError breaks CSS in a way esbuild only warns about:
// the overlay shows it with its place and code line, the page keeps the
// last good CSS, and the next good save clears the overlay and swaps the
// CSS in, for a stylesheet linked from the page and one imported from JS.
func TestBrowserCSSSyntaxError(t *testing.T) {
	browser := browsertest.New(t)
	for _, tt := range []struct {
		name, file, prop, good string
		bundle                 bool
	}{
		{"linked", "style.css", "color", "rgb(0, 128, 0)", false},
		{"imported", "src/widget.css", "backgroundColor", "rgb(0, 128, 0)", false},
		{"imported/bundle", "src/widget.css", "backgroundColor", "rgb(0, 128, 0)", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts := startServer(t, copyFixture(t, "overlay"), "127.0.0.1:0", Options{Bundle: tt.bundle})
			tab := browsertest.NewTab(t, browser)
			openPage(t, tab, ts.URL)
			waitJS(t, tab, outText("view ready"))
			style := `getComputedStyle(document.getElementById("out")).` + tt.prop
			before := evalJS[string](t, tab, style)
			if err := browsertest.MarkPage(tab); err != nil {
				t.Fatal(err)
			}
			const broken = "#out { color: rgb(1, 2, 3) }\n#out { color: ;; {{\n"
			ts.write(t, tt.file, broken)
			waitJS(t, tab, overlayShows(tt.file+":2:18")+` && `+overlayShows(`Unexpected "{"`)+
				` && `+overlayShows("2 | #out { color: ;; {{"))
			if got := evalJS[string](t, tab, style); got != before {
				t.Errorf("%s = %s with the broken CSS, want the last good %s", tt.prop, got, before)
			}
			ts.write(t, tt.file, "#out { "+cssProp(tt.prop)+": "+tt.good+" }\n")
			waitJS(t, tab, style+` === `+quoteJS(tt.good)+` && `+pageOK)
			samePage(t, tab, "the fix")
		})
	}
}

// cssProp is the CSS name of a property of CSSStyleDeclaration.
func cssProp(js string) string {
	if js == "backgroundColor" {
		return "background-color"
	}
	return js
}

// overlayTitle is a JS condition: the overlay's title is s.
func overlayTitle(s string) string {
	return overlayJS + `?.shadowRoot.querySelector("h1")?.textContent === ` + quoteJS(s)
}

// TestBrowserRuntimeError throws errors in the page: each shows on the
// overlay at its place in the original source (through the entry's index
// map, a hot update's inline map, or a bundle's map) with the lines
// around it, until the next build.
func TestBrowserRuntimeError(t *testing.T) {
	browser := browsertest.New(t)
	const (
		view        = "export function view(text: string): string {\n  return `view ${text}`;\n}\n"
		failsToLoad = view + "throw new Error(\"view fails\");\n"
		failsUpdate = view + "\nthrow new Error(\"update fails\");\n"
		failWhere   = "src/main.ts:12:9"
		failLine    = "12 |   throw new TypeError(`failed ${n}`);"
	)
	t.Run("modules", func(t *testing.T) {
		dir := copyFixture(t, "overlay")
		writeTestFile(t, dir, "src/view.ts", failsToLoad)
		ts := startServer(t, dir, "127.0.0.1:0", Options{})
		tab := browsertest.NewTab(t, browser)
		openPage(t, tab, ts.URL)

		// The entry, before the client in the page, throws as it starts.
		waitJS(t, tab, overlayTitle("Uncaught Error: view fails")+` && `+overlayShows("src/view.ts:4:7")+
			` && `+overlayShows("4 | throw new Error(\"view fails\");"))
		if n := runs(t, tab); n != 0 {
			t.Fatalf("main.ts ran %d times", n)
		}
		// What did not run cannot take the fix: the page reloads.
		ts.write(t, "src/view.ts", view)
		waitJS(t, tab, outText("view ready")+` && `+pageOK)
		if n := runs(t, tab); n != 1 {
			t.Errorf("the page ran %d times, want 1", n)
		}

		// An error of the running page, through the entry's index map.
		evalJS[any](t, tab, `setTimeout(() => fail(3)), 0`)
		waitJS(t, tab, overlayTitle("Uncaught TypeError: failed 3")+` && `+overlayShows(failWhere)+` && `+overlayShows(failLine))
		if err := browsertest.MarkPage(tab); err != nil {
			t.Fatal(err)
		}

		// A hot update that throws, through the update's inline map: the
		// page stays, partly old, until the overlay is closed.
		ts.write(t, "src/view.ts", failsUpdate)
		waitJS(t, tab, overlayTitle("Error: update fails")+` && `+overlayShows("src/view.ts:5:7")+
			` && `+overlayShows("Thrown by the hot update of src/view.ts, taken by src/main.ts.")+
			` && `+overlayShows("5 | throw new Error(\"update fails\");"))
		samePage(t, tab, "an update that threw")
		if err := chromedp.Do(tab, chromedp.KeyEvent(kb.Escape)); err != nil {
			t.Fatal(err)
		}
		// The reloaded page throws as it starts, and the fix reloads it.
		waitJS(t, tab, overlayTitle("Uncaught Error: update fails"))
		ts.write(t, "src/view.ts", view)
		waitJS(t, tab, outText("view ready")+` && `+pageOK)
		if n := runs(t, tab); n != 2 {
			t.Errorf("the page ran %d times, want 2", n)
		}
	})
	t.Run("bundle", func(t *testing.T) {
		ts := startServer(t, copyFixture(t, "overlay"), "127.0.0.1:0", Options{Bundle: true})
		tab := browsertest.NewTab(t, browser)
		openPage(t, tab, ts.URL)
		waitJS(t, tab, outText("view ready"))
		evalJS[any](t, tab, `setTimeout(() => fail(4)), 0`)
		waitJS(t, tab, overlayTitle("Uncaught TypeError: failed 4")+` && `+overlayShows(failWhere)+` && `+overlayShows(failLine))
		ts.write(t, "src/view.ts", strings.Replace(view, "view ${text}", "view ${text}!", 1))
		waitJS(t, tab, outText("view ready!")+` && `+pageOK+` && sessionStorage.getItem("runs") === "2"`)
	})
	// A cold start's first page is bundled without a source map, which
	// the overlay's request makes (bundler.Options.MapsOnRequest).
	t.Run("bundle-first", func(t *testing.T) {
		opts, release := heldModules()
		defer release()
		ts := startServer(t, copyFixture(t, "overlay"), "127.0.0.1:0", opts)
		tab := browsertest.NewTab(t, browser)
		openPage(t, tab, ts.URL)
		waitJS(t, tab, outText("view ready")+` && window.__devserve_bundled === true`)
		evalJS[any](t, tab, `setTimeout(() => fail(5)), 0`)
		waitJS(t, tab, overlayTitle("Uncaught TypeError: failed 5")+` && `+overlayShows(failWhere)+` && `+overlayShows(failLine))

		// Once module mode serves, the bundle's URL answers its entry:
		// a bundled page's error is shown as it is, not through that. (A
		// key pressed in it keeps it on the bundle: a page nobody touched
		// moves to module mode.)
		later := browsertest.NewTab(t, browser)
		openPage(t, later, ts.URL)
		waitJS(t, later, outText("view ready")+` && window.__devserve_bundled === true`)
		if err := chromedp.Do(later, chromedp.KeyEvent("a")); err != nil {
			t.Fatal(err)
		}
		release()
		waitReady(t, ts)
		evalJS[any](t, later, `setTimeout(() => fail(6)), 0`)
		waitJS(t, later, overlayTitle("Uncaught TypeError: failed 6")+
			` && window.__devserve.runtimeErrors.length === 1 && window.__devserve.runtimeErrors[0].code === null`)
	})
}
