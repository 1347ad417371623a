package hmr

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/devserve/devserve/internal/browsertest"
)

// TestBrowserESMSemantics checks, in module mode, two semantics of the
// browser's own ES modules that CommonJS-shaped factories lose: a read of
// a let, const or class before its initialization in an import cycle
// throws (the temporal dead zone), and top-level await holds back the
// modules that import it, in the order of their imports.
func TestBrowserESMSemantics(t *testing.T) {
	browser := browsertest.New(t)
	t.Run("TDZ", func(t *testing.T) {
		dir := t.TempDir()
		writeTestFile(t, dir, "index.html", `<!doctype html><link rel="icon" href="data:,"><p id="out">loading</p><script type="module" src="/src/main.ts"></script>`)
		writeTestFile(t, dir, "src/main.ts", "import { a, readB } from './a'\n"+
			"document.getElementById('out')!.textContent = `${a} ${readB()}`\nimport.meta.hot?.accept()\n")
		// A cycle that reads only in functions works.
		writeTestFile(t, dir, "src/a.ts", "import { b } from './b'\nexport const a = 'a'\nexport function readB() { return b }\n")
		writeTestFile(t, dir, "src/b.ts", "import { a } from './a'\nexport const b = 'b'\nexport class K {}\nexport function readA() { return a }\n")
		ts := startServer(t, dir, "127.0.0.1:0", Options{})
		tab := browsertest.NewTab(t, browser)
		openPage(t, tab, ts.URL)
		waitJS(t, tab, outText("a b")+` && `+pageOK)

		// b reads a at its top level while a waits for b: a is not
		// initialized yet, and the browser says so.
		ts.write(t, "src/b.ts", "import { a } from './a'\nexport const b = 'b' + a.length\n")
		waitJS(t, tab, overlayShows("Cannot access 'a' before initialization"))
		// The fix recovers.
		ts.write(t, "src/b.ts", "import { a } from './a'\nexport const b = 'b2'\n")
		waitJS(t, tab, outText("a b2"))
	})
	t.Run("Exports", func(t *testing.T) {
		// Exports set as plain properties outside cycles (bundler/plain.go)
		// read as the browser's own modules do: a let that a function
		// changes stays live, a namespace lists its names in order, and a
		// module that an edit puts in a cycle reads a function declared
		// below its import while the module that declares it waits.
		dir := t.TempDir()
		writeTestFile(t, dir, "index.html", `<!doctype html><link rel="icon" href="data:,"><p id="out">loading</p><script type="module" src="/src/main.ts"></script>`)
		writeTestFile(t, dir, "src/main.ts", "import { count, inc } from './live'\nimport * as ns from './ns'\nimport { a } from './a'\n"+
			"inc()\ninc()\ndocument.getElementById('out')!.textContent = `${count} ${Object.keys(ns).join()} ${a}`\n")
		writeTestFile(t, dir, "src/live.ts", "export let count = 0\nexport function inc() { count++ }\n")
		writeTestFile(t, dir, "src/ns.ts", "export const zeta = 1\nexport function alpha() {}\nexport default 2\nexport class Mid {}\n")
		writeTestFile(t, dir, "src/a.ts", "import { b } from './b'\nexport const a = 'a' + b\nexport function name() { return 'A' }\n")
		writeTestFile(t, dir, "src/b.ts", "export const b = 'b'\n")
		ts := startServer(t, dir, "127.0.0.1:0", Options{})
		tab := browsertest.NewTab(t, browser)
		openPage(t, tab, ts.URL)
		waitJS(t, tab, outText("2 Mid,alpha,default,zeta ab")+` && `+pageOK)

		ts.write(t, "src/b.ts", "import { name } from './a'\nexport const b = name()\n")
		waitJS(t, tab, outText("2 Mid,alpha,default,zeta aA")+` && `+pageOK)
	})
	t.Run("TopLevelAwait", func(t *testing.T) {
		dir := t.TempDir()
		writeTestFile(t, dir, "index.html", `<!doctype html><link rel="icon" href="data:,"><p id="out">loading</p><script type="module" src="/src/main.ts"></script>`)
		writeTestFile(t, dir, "src/log.ts", "export const order: string[] = (window as any).order = []\n")
		writeTestFile(t, dir, "src/first.ts", "import { order } from './log'\norder.push('first')\n")
		writeTestFile(t, dir, "src/last.ts", "import { order } from './log'\norder.push('last')\n")
		config := "import { order } from './log'\norder.push('config')\n" +
			"export const value = await new Promise<string>((resolve) => setTimeout(() => resolve('%s'), 20))\n" +
			"order.push('config done')\nexport default value.length\n"
		writeTestFile(t, dir, "src/config.ts", fmt.Sprintf(config, "one"))
		writeTestFile(t, dir, "src/middle.ts", "import n, { value } from './config'\nexport const text = `${value} ${n}`\n")
		writeTestFile(t, dir, "src/main.ts", "import { order } from './log'\nimport './first'\nimport { text } from './middle'\nimport './last'\n"+
			"order.push('main')\ndocument.getElementById('out')!.textContent = text\n"+
			"const lazy = await import('./config')\norder.push('lazy ' + lazy.value)\n")
		ts := startServer(t, dir, "127.0.0.1:0", Options{})
		tab := browsertest.NewTab(t, browser)
		openPage(t, tab, ts.URL)
		waitJS(t, tab, outText("one 3")+` && `+pageOK)
		// The order of the browser's own modules: what comes after the
		// module that waits runs while it waits; its importers, after.
		want := `["first","config","last","config done","main","lazy one"]`
		waitJS(t, tab, `JSON.stringify(window.order) === `+strconv.Quote(want))

		// An edit of the module that awaits: nothing accepts it, the page
		// reloads and waits again.
		ts.write(t, "src/config.ts", fmt.Sprintf(config, "three"))
		waitJS(t, tab, outText("three 5")+` && `+pageOK)
	})
	t.Run("TopLevelAwaitHot", func(t *testing.T) {
		// A module with top-level await taken by a hot update: its new
		// version runs, and the callback gets it once it is done.
		dir := t.TempDir()
		writeTestFile(t, dir, "index.html", `<!doctype html><link rel="icon" href="data:,"><p id="out">loading</p><script type="module" src="/src/main.ts"></script>`)
		data := "export const value = await new Promise<string>((resolve) => setTimeout(() => resolve('%s'), 20))\n"
		writeTestFile(t, dir, "src/data.ts", fmt.Sprintf(data, "one"))
		writeTestFile(t, dir, "src/main.ts", "import { value } from './data'\nconst out = document.getElementById('out')!\nout.textContent = value\n"+
			"import.meta.hot?.accept('./data', (m) => { out.textContent = m!.value })\n")
		ts := startServer(t, dir, "127.0.0.1:0", Options{})
		tab := browsertest.NewTab(t, browser)
		openPage(t, tab, ts.URL)
		waitJS(t, tab, outText("one")+` && `+pageOK)
		if err := browsertest.MarkPage(tab); err != nil {
			t.Fatal(err)
		}
		ts.write(t, "src/data.ts", fmt.Sprintf(data, "two"))
		waitJS(t, tab, outText("two")+` && `+pageOK)
		samePage(t, tab, "a hot update of a module with top-level await")
	})
}
