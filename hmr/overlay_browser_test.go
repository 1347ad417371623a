package hmr

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
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
