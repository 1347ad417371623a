package hmr

import (
	"context"
	"testing"

	"github.com/devserve/devserve/internal/browsertest"
)

// TestBrowserImportMetaGlob: a page gets the modules of a folder through
// import.meta.glob, lazy and eager, in module mode and bundled; a file
// created there shows on the page.
func TestBrowserImportMetaGlob(t *testing.T) {
	inBothModes(t, func(t *testing.T, tab context.Context, bundle bool) {
		dir := t.TempDir()
		writeTestFile(t, dir, "index.html", `<p id="eager"></p><p id="lazy"></p><script type="module" src="/src/main.ts"></script>`)
		writeTestFile(t, dir, "src/main.ts", `const lazy = import.meta.glob<{ default: string }>("./pages/*.ts");
const eager = import.meta.glob("./pages/*.ts", { eager: true, import: "default" });
document.getElementById("eager")!.textContent = Object.entries(eager).map(([k, v]) => k + "=" + v).join(",");
Promise.all(Object.entries(lazy).map(async ([k, load]) => k + "=" + (await load()).default))
  .then((xs) => { document.getElementById("lazy")!.textContent = xs.join(","); });
`)
		writeTestFile(t, dir, "src/pages/a.ts", `export default "A";`)
		ts := startServer(t, dir, "127.0.0.1:0", Options{Bundle: bundle})
		navigateTo(t, tab, ts.URL, textIs("eager", "./pages/a.ts=A")+` && `+textIs("lazy", "./pages/a.ts=A"))

		ts.write(t, "src/pages/b.ts", `export default "B";`)
		waitJS(t, tab, textIs("eager", "./pages/a.ts=A,./pages/b.ts=B")+` && `+textIs("lazy", "./pages/a.ts=A,./pages/b.ts=B"))
	})
}

// TestBrowserDynamicImportVars: import(`./locales/${lang}.ts`), as Vite
// takes it, in module mode and bundled: the page loads the file the name
// picks, an edit of it shows, a file created there can be loaded, and a
// name no file has rejects.
func TestBrowserDynamicImportVars(t *testing.T) {
	inBothModes(t, func(t *testing.T, tab context.Context, bundle bool) {
		dir := t.TempDir()
		writeTestFile(t, dir, "index.html", `<p id="en"></p><p id="de"></p><p id="xx"></p><script type="module" src="/src/main.ts"></script>`)
		writeTestFile(t, dir, "src/main.ts", `const show = (lang: string) => import(`+"`./locales/${lang}.ts`"+`)
  .then((m) => m.default, (e: Error) => e.message)
  .then((text: string) => { document.getElementById(lang)!.textContent = text; });
["en", "de", "xx"].forEach(show);
`)
		writeTestFile(t, dir, "src/locales/en.ts", `export default "hello";`)
		ts := startServer(t, dir, "127.0.0.1:0", Options{Bundle: bundle})
		navigateTo(t, tab, ts.URL, textIs("en", "hello")+` && `+textIs("xx", "Unknown variable dynamic import: ./locales/xx.ts"))

		ts.write(t, "src/locales/en.ts", `export default "howdy";`)
		waitJS(t, tab, textIs("en", "howdy"))
		ts.write(t, "src/locales/de.ts", `export default "hallo";`)
		waitJS(t, tab, textIs("de", "hallo"))
	})
}

// inBothModes runs f in module mode and bundled, each in a tab of one
// browser.
func inBothModes(t *testing.T, f func(t *testing.T, tab context.Context, bundle bool)) {
	browser := browsertest.New(t)
	for i, bundle := range []bool{false, true} {
		t.Run(map[bool]string{false: "modules", true: "bundled"}[bundle], func(t *testing.T) {
			tab := browser
			if i > 0 {
				tab = browsertest.NewTab(t, browser)
			}
			f(t, tab, bundle)
		})
	}
}
