package hmr

import (
	"testing"

	"github.com/devserve/devserve/internal/browsertest"
)

// TestBrowserExportsObject: in module mode a converted ES module's
// exports object is marked as an ES module's in place (the bundler's
// __toCommonJS), and a module that exports a binding named __esModule
// itself still runs (its __esModule reads true, as in esbuild's bundles,
// where the marker wins too). Namespace imports,
// default imports, re-exports and a hot update see every export.
func TestBrowserExportsObject(t *testing.T) {
	browser := browsertest.New(t)
	dir := t.TempDir()
	writeTestFile(t, dir, "index.html", `<!doctype html><link rel="icon" href="data:,"><p id="out">loading</p><script type="module" src="/src/main.ts"></script>`)
	writeTestFile(t, dir, "src/odd.ts", "export const __esModule = 'mine'\nexport const odd = 1\n")
	writeTestFile(t, dir, "src/plain.ts", "export const a = 'a'\nexport default 'd'\nexport let n = 1\nexport function bump() { n++ }\n")
	writeTestFile(t, dir, "src/again.ts", "export * from './plain'\nexport { odd } from './odd'\n")
	writeTestFile(t, dir, "src/main.ts", "import * as ns from './plain'\nimport d, { bump, n } from './plain'\nimport * as odd from './odd'\nimport { a, odd as o } from './again'\n"+
		"bump()\nconst keys = Object.keys(ns).sort().join(',')\n"+
		"document.getElementById('out')!.textContent = `${keys} ${d} ${n} ${ns.n} ${a} ${o} ${odd.__esModule} ${odd.odd}`\n"+
		"import.meta.hot?.accept()\n")
	ts := startServer(t, dir, "127.0.0.1:0", Options{})
	tab := browsertest.NewTab(t, browser)
	openPage(t, tab, ts.URL)
	waitJS(t, tab, outText("a,bump,default,n d 2 2 a 1 true 1")+` && `+pageOK)
	// A hot update of the importer runs it again on the same modules.
	ts.write(t, "src/main.ts", "import * as ns from './plain'\nimport * as odd from './odd'\n"+
		"document.getElementById('out')!.textContent = `again ${ns.n} ${odd.__esModule}`\nimport.meta.hot?.accept()\n")
	waitJS(t, tab, outText("again 2 true")+` && `+pageOK)
}
