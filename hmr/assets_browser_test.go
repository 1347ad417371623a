package hmr

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/devserve/devserve/internal/browsertest"
)

// TestBrowserAssets imports files as Vite projects do (an asset's URL,
// ?url, ?raw, ?inline, a file of public/ by its URL, JSON default and
// named, new URL(..., import.meta.url) also from a folder below the
// entry's, a CSS module), in module mode and
// bundled; in module mode an edit of the CSS module swaps its styles in
// place.
func TestBrowserAssets(t *testing.T) {
	want := `{"logo":true,"logoURL":true,"logoRaw":"<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n","logoInline":true,` +
		`"moon":"moon\n","source":"export const other = 1;\n","n":5,"data":5,"url":"/src/logo.svg","title":"string",` +
		`"nested":"/src/logo.svg","icon":"/src/parts/star.svg"}`
	color := `getComputedStyle(document.getElementById("out")).color`
	for _, bundle := range []bool{false, true} {
		t.Run(map[bool]string{false: "modules", true: "bundle"}[bundle], func(t *testing.T) {
			ts := startServer(t, copyFixture(t, "assets"), "127.0.0.1:0", Options{Bundle: bundle})
			tab := browsertest.New(t)
			pe := watchErrors(t, tab)
			if err := chromedp.Do(tab, chromedp.Navigate(ts.URL)); err != nil {
				t.Fatal(err)
			}
			waitJS(t, tab, `window.__devserve && window.__devserve.connected && document.getElementById("out").textContent !== ""`)
			if got := evalJS[string](t, tab, `document.getElementById("out").textContent`); got != want {
				t.Errorf("page shows\n%s, want\n%s", got, want)
			}
			waitJS(t, tab, color+` === "rgb(1, 2, 3)"`)
			// The URLs of an imported asset serve the file.
			served, err := chromedp.Run(tab, chromedp.Evaluate[bool](`Promise.all([window.logo, window.logoURL].map((u) => fetch(u).then((r) => r.text()))).then((ts) => ts.every((t) => t.includes("<svg")))`, chromedp.EvalAwaitPromise))
			if err != nil || !served {
				t.Errorf("the asset URLs do not serve the SVG (err %v)", err)
			}
			if bundle {
				return
			}
			if err := browsertest.MarkPage(tab); err != nil {
				t.Fatal(err)
			}
			ts.write(t, "src/card.module.css", ".title { color: rgb(4, 5, 6); }\n")
			waitJS(t, tab, color+` === "rgb(4, 5, 6)"`)
			samePage(t, tab, "CSS module edit")
			if errs := pe.take(); len(errs) > 0 {
				t.Errorf("errors in the page: %v", errs)
			}
		})
	}
}

// TestBrowserAcceptAsset: a module takes the updates of an imported asset
// and of JSON (import.meta.hot.accept("./logo.svg", cb), as in Vite's HMR
// spec), and gets their new values without a reload.
func TestBrowserAcceptAsset(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"index.html": `<!doctype html><link rel="icon" href="data:,"><p id="out"></p><script type="module" src="/main.js"></script>`,
		"logo.svg":   `<svg xmlns="http://www.w3.org/2000/svg"/>`,
		"data.json":  `{"n": 1}`,
		"main.js": `import logo from "./logo.svg";
import data from "./data.json";
const show = (l, d) => { document.getElementById("out").textContent = l + " " + d.n; };
show(logo, data);
let current = { logo, data };
import.meta.hot.accept("./logo.svg", (m) => { current.logo = m.default; show(current.logo, current.data); });
import.meta.hot.accept("./data.json", (m) => { current.data = m.default; show(current.logo, current.data); });
`,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ts := startServer(t, dir, "127.0.0.1:0", Options{})
	tab := browsertest.New(t)
	if err := chromedp.Do(tab, chromedp.Navigate(ts.URL)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tab, `window.__devserve && window.__devserve.connected && document.getElementById("out").textContent.endsWith(" 1")`)
	first := evalJS[string](t, tab, `document.getElementById("out").textContent`)
	if err := browsertest.MarkPage(tab); err != nil {
		t.Fatal(err)
	}
	ts.write(t, "data.json", `{"n": 2}`)
	waitJS(t, tab, `document.getElementById("out").textContent.endsWith(" 2")`)
	ts.write(t, "logo.svg", `<svg xmlns="http://www.w3.org/2000/svg"><g/></svg>`)
	waitJS(t, tab, `document.getElementById("out").textContent.endsWith(" 2") && document.getElementById("out").textContent !== `+quoteJS(strings.Replace(first, " 1", " 2", 1)))
	samePage(t, tab, "accepted asset and JSON updates")
}

// TestBrowserLazyModuleEdited: a module the page imports with import() but
// has not loaded yet gets the code of an edit made before it loads.
func TestBrowserLazyModuleEdited(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"index.html": `<!doctype html><link rel="icon" href="data:,"><p id="out"></p><script type="module" src="/main.js"></script>`,
		"main.js": `window.load = () => import("./lazy.js").then((m) => { document.getElementById("out").textContent = m.value; });
import.meta.hot.accept();
`,
		"lazy.js": `export const value = "one";`,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ts := startServer(t, dir, "127.0.0.1:0", Options{})
	tab := browsertest.New(t)
	if err := chromedp.Do(tab, chromedp.Navigate(ts.URL)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tab, `window.__devserve && window.__devserve.connected && typeof window.load === "function"`)
	if err := browsertest.MarkPage(tab); err != nil {
		t.Fatal(err)
	}
	events := evalJS[int](t, tab, `window.__devserve.events`)
	ts.write(t, "lazy.js", `export const value = "two";`)
	if r := ts.nextReport(t); r.Event != EventBuilt || r.Clients != 1 {
		t.Fatalf("report %+v, want a build told to the page", r)
	}
	// The page gets the new code; once hmr.js has taken it, load.
	waitJS(t, tab, `window.__devserve.events >= `+strconv.Itoa(events+2)) // building, built
	if _, err := chromedp.Run(tab, chromedp.Evaluate[bool](`import("/__devserve/hmr.js").then((m) => m.applyUpdates([]))`, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatal(err)
	}
	evalJS[any](t, tab, `window.load()`)
	waitJS(t, tab, outText("two"))
	samePage(t, tab, "a lazy module edited before it loaded")
}

// TestBrowserInlineCSS: a web component takes its stylesheet as a string
// with ?inline, as Vite projects write it, in module mode and bundled:
// the shadow root gets the CSS with what it @imports, the page does not;
// an edit of the @imported file shows.
func TestBrowserInlineCSS(t *testing.T) {
	inBothModes(t, func(t *testing.T, tab context.Context, bundle bool) {
		dir := t.TempDir()
		writeTestFile(t, dir, "index.html", `<p id="plain">page</p><x-card></x-card><script type="module" src="/src/main.ts"></script>`)
		writeTestFile(t, dir, "src/main.ts", `import css from "./card.css?inline";
customElements.define("x-card", class extends HTMLElement {
  constructor() {
    super();
    this.attachShadow({ mode: "open" }).innerHTML = "<style>" + css + "</style><p>card</p>";
  }
});
`)
		writeTestFile(t, dir, "src/card.css", "@import \"./base.css\";\np { font-weight: 700; }\n")
		writeTestFile(t, dir, "src/base.css", "p { color: rgb(1, 2, 3); }\n")
		ts := startServer(t, dir, "127.0.0.1:0", Options{Bundle: bundle})
		const card = `getComputedStyle(document.querySelector("x-card").shadowRoot.querySelector("p"))`
		const plain = `getComputedStyle(document.getElementById("plain"))`
		navigateTo(t, tab, ts.URL, card+`.color === "rgb(1, 2, 3)" && `+card+`.fontWeight === "700"`)
		if got := evalJS[string](t, tab, plain+`.color`); got == "rgb(1, 2, 3)" {
			t.Errorf("the inline stylesheet styles the page too")
		}
		ts.write(t, "src/base.css", "p { color: rgb(4, 5, 6); }\n")
		waitJS(t, tab, card+`.color === "rgb(4, 5, 6)"`)
	})
}

// TestBrowserStylesBeforeScript: a stylesheet imported from JS applies
// before the module that imports it runs, in module mode as bundled, as
// Vite's injected styles do: code that reads styles or layout at start
// (a map, a chart sizing itself) sees them, and the page never shows
// unstyled. An edit then swaps it, leaving one link.
func TestBrowserStylesBeforeScript(t *testing.T) {
	inBothModes(t, func(t *testing.T, tab context.Context, bundle bool) {
		dir := t.TempDir()
		writeTestFile(t, dir, "index.html", `<p id="out"></p><script type="module" src="/main.js"></script>`)
		writeTestFile(t, dir, "main.js", `import "./style.css";
document.getElementById("out").textContent = getComputedStyle(document.body).color;
`)
		writeTestFile(t, dir, "style.css", "body { color: rgb(1, 2, 3); }\n")
		ts := startServer(t, dir, "127.0.0.1:0", Options{Bundle: bundle})
		navigateTo(t, tab, ts.URL, textIs("out", "rgb(1, 2, 3)"))
		ts.write(t, "style.css", "body { color: rgb(4, 5, 6); }\n")
		waitJS(t, tab, `getComputedStyle(document.body).color === "rgb(4, 5, 6)" && document.querySelectorAll('link[rel="stylesheet"]').length === 1`)
	})
}

// TestBrowserCSSModuleOrder: a CSS module's rules come before those of a
// stylesheet imported after it, as the imports are written (Vite's and
// esbuild's order), in module mode and bundled; also after an edit of
// the CSS module.
func TestBrowserCSSModuleOrder(t *testing.T) {
	inBothModes(t, func(t *testing.T, tab context.Context, bundle bool) {
		dir := t.TempDir()
		writeTestFile(t, dir, "index.html", `<p id="out">order</p><script type="module" src="/main.js"></script>`)
		writeTestFile(t, dir, "main.js", "import \"./app.js\";\n")
		writeTestFile(t, dir, "app.js", `import s from "./app.module.css";
import "./theme.css";
document.getElementById("out").className = s.box + " theme";
`)
		writeTestFile(t, dir, "app.module.css", ".box { color: rgb(1, 2, 3); }\n")
		writeTestFile(t, dir, "theme.css", ".theme { color: rgb(4, 5, 6); }\n")
		ts := startServer(t, dir, "127.0.0.1:0", Options{Bundle: bundle})
		color := `getComputedStyle(document.getElementById("out")).color`
		navigateTo(t, tab, ts.URL, `document.getElementById("out").className !== "" && `+color+` === "rgb(4, 5, 6)"`)
		ts.write(t, "app.module.css", ".box { color: rgb(7, 8, 9); }\n.box:hover { color: red; }\n")
		// The edit has arrived once the page (reloaded or not) has both
		// sheets and its class: until then a reloaded page is black.
		has := func(rgb string) string {
			return `[...document.styleSheets].some((s) => [...s.cssRules].some((r) => r.cssText.includes("` + rgb + `")))`
		}
		waitJS(t, tab, has("rgb(7, 8, 9)")+` && `+has("rgb(4, 5, 6)")+` && document.getElementById("out").className !== ""`)
		if got := evalJS[string](t, tab, color); got != "rgb(4, 5, 6)" {
			t.Errorf("color after an edit of the CSS module = %s, want theme.css's", got)
		}
	})
}

// TestBrowserSass: Sass imported from JS, with a partial, styles the page
// in module mode and bundled, with sass-embedded's compiler; an edit of
// the partial swaps the styles, in place in module mode.
func TestBrowserSass(t *testing.T) {
	npm := npmFixture(t, "react19")
	inBothModes(t, func(t *testing.T, tab context.Context, bundle bool) {
		dir := t.TempDir()
		writeTestFile(t, dir, "index.html", `<p id="out">sass</p><script type="module" src="/src/main.ts"></script>`)
		writeTestFile(t, dir, "src/main.ts", "import \"./app.scss\";\n")
		writeTestFile(t, dir, "src/app.scss", "@use \"vars\";\n#out { color: vars.$c; }\n")
		writeTestFile(t, dir, "src/_vars.scss", "$c: rgb(1, 2, 3);\n")
		matches, _ := filepath.Glob(filepath.Join(npm, "node_modules", "sass-embedded-*"))
		for _, m := range matches {
			if err := os.MkdirAll(filepath.Join(dir, "node_modules"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(m, filepath.Join(dir, "node_modules", filepath.Base(m))); err != nil {
				t.Fatal(err)
			}
		}
		ts := startServer(t, dir, "127.0.0.1:0", Options{Bundle: bundle})
		color := `getComputedStyle(document.getElementById("out")).color`
		navigateTo(t, tab, ts.URL, color+` === "rgb(1, 2, 3)"`)
		if !bundle {
			if err := browsertest.MarkPage(tab); err != nil {
				t.Fatal(err)
			}
		}
		ts.write(t, "src/_vars.scss", "$c: rgb(4, 5, 6);\n")
		waitJS(t, tab, color+` === "rgb(4, 5, 6)"`)
		if !bundle {
			samePage(t, tab, "Sass partial edit")
		}
	})
}
