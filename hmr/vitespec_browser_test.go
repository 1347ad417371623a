package hmr

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/devserve/devserve/internal/browsertest"
)

// These tests port the portable cases of Vite's HMR spec
// (playground/hmr/__tests__/hmr.spec.ts in vitejs/vite) to devserve: the
// same behaviour, checked on our own fixture project, testdata/vitespec,
// whose folders are small pages written for Vite's HMR API, with the
// names and payloads of Vite's events. Each subtest is named after the
// spec case it ports and runs a server of its own on a copy of one folder.
//
// The modules write what they do with window.log, into window.logs (and
// the console); the cases wait for the lines they expect, in order.
//
// The spec cases left out need what only Vite has: plugins (custom events
// sent over server.ws, this.addWatchFile, virtual modules, counting the
// server's transforms for soft invalidation, server-rendered links),
// the server's connection events, and import.meta.hot.acceptExports
// (Vite's experimental partial accept, switched on in vite.config).

// specPage is a page of a vitespec folder open in a tab, with its server.
type specPage struct {
	t   *testing.T
	ts  *testServer
	tab context.Context
}

// specCase is one ported case of Vite's HMR spec.
type specCase struct {
	name   string // the spec case's name
	folder string // folder of testdata/vitespec
	page   string // path of the page, "/" if empty
	ready  string // JS condition: the page ran
	run    func(p *specPage)
}

// mainReady: the main page's modules all ran.
const mainReady = `document.querySelector(".app").textContent === "1" && document.querySelector(".file-delete-restore").textContent === "parent:child"`

func TestBrowserViteSpec(t *testing.T) {
	browser := browsertest.New(t)
	for _, c := range viteSpecCases {
		t.Run(c.name, func(t *testing.T) {
			ts := startServer(t, copyFixture(t, "vitespec/"+c.folder), "127.0.0.1:0", Options{})
			tab := browsertest.NewTab(t, browser)
			p := &specPage{t: t, ts: ts, tab: tab}
			p.open(tab, c.page, c.ready)
			c.run(p)
		})
	}
}

// open navigates tab to the page at path and waits until its client is
// connected and ready holds, then marks the page (see [samePage]).
func (p *specPage) open(tab context.Context, path, ready string) {
	p.t.Helper()
	if path == "" {
		path = "/"
	}
	if ready == "" {
		ready = "true"
	}
	navigateTo(p.t, tab, p.ts.URL+path, ready)
	if err := browsertest.MarkPage(tab); err != nil {
		p.t.Fatal(err)
	}
}

// mark is how many lines the page logged so far.
func (p *specPage) mark(tab context.Context) int {
	p.t.Helper()
	return evalJS[int](p.t, tab, `window.logs.length`)
}

// waitLogs waits until the lines the page logged since mark are want.
func (p *specPage) waitLogs(tab context.Context, mark int, want ...string) {
	p.t.Helper()
	w, _ := json.Marshal(want)
	// JSON is a JavaScript literal.
	cond := `JSON.stringify(window.logs.slice(` + itoa(mark) + `)) === JSON.stringify(` + string(w) + `)`
	if err := browsertest.WaitJS(tab, cond, browserWait); err != nil {
		got, _ := chromedp.Run(tab, chromedp.Evaluate[string](`JSON.stringify(window.logs.slice(`+itoa(mark)+`))`))
		p.t.Fatalf("the page logged\n%s\nwant\n%s", got, w)
	}
}

// waitLogged waits until the page logged line, since the page loaded.
func (p *specPage) waitLogged(tab context.Context, line string) {
	p.t.Helper()
	p.wait(tab, `window.logs.includes(`+quoteJS(line)+`)`)
}

// wait waits until the JS condition cond holds in tab.
func (p *specPage) wait(tab context.Context, cond string) {
	p.t.Helper()
	if err := browsertest.WaitJS(tab, cond, browserWait); err != nil {
		got, _ := chromedp.Run(tab, chromedp.Evaluate[string](`JSON.stringify({logs: window.logs, devserve: window.__devserve, body: document.body && document.body.innerText})`))
		p.t.Fatalf("%v\npage: %s", err, got)
	}
}

// text is a JS condition: the element of selector shows s.
func text(selector, s string) string {
	return `document.querySelector(` + quoteJS(selector) + `).textContent === ` + quoteJS(s)
}

// reloaded is a JS condition: the page marked by open has been replaced.
const reloaded = `!window.__browsertest_marker`

// edit replaces old by new in a file of the page's project.
func (p *specPage) edit(rel, old, new string) { p.t.Helper(); p.ts.replaceIn(p.t, rel, old, new) }

// remove deletes a file of the page's project.
func (p *specPage) remove(rel string) {
	p.t.Helper()
	if err := os.Remove(filepath.Join(p.ts.dir, filepath.FromSlash(rel))); err != nil {
		p.t.Fatal(err)
	}
}

// read is the content of a file of the page's project.
func (p *specPage) read(rel string) string {
	p.t.Helper()
	return string(readFile(p.t, filepath.Join(p.ts.dir, filepath.FromSlash(rel))))
}

// settled waits until the page applied every update it was told of.
func (p *specPage) settled(tab context.Context) {
	p.t.Helper()
	if _, err := chromedp.Run(tab, chromedp.Evaluate[bool](`import("/__devserve/hmr.js").then((m) => m.applyUpdates([]))`, chromedp.EvalAwaitPromise)); err != nil {
		p.t.Fatal(err)
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

const (
	beforeUpdate = ">>> vite:beforeUpdate -- update"
	afterUpdate  = ">>> vite:afterUpdate -- update"
)

// invalidateCase edits the module that invalidates every new version of
// itself, in each of tabs: its importer runs once more, in an update of
// its own, and no module runs twice.
func invalidateCase(p *specPage, tabs ...context.Context) {
	marks := make([]int, len(tabs))
	for i, tab := range tabs {
		marks[i] = p.mark(tab)
	}
	p.edit("invalidation/child.js", `"child"`, `"child updated"`)
	for i, tab := range tabs {
		p.waitLogs(tab, marks[i],
			beforeUpdate,
			">>> vite:invalidate -- /invalidation/child.js",
			afterUpdate,
			beforeUpdate,
			"(invalidation) parent is executing",
			afterUpdate)
		p.wait(tab, text(".invalidation-parent", "child updated"))
		samePage(p.t, tab, "invalidation taken by the importer")
	}
}

var viteSpecCases = []specCase{{
	name: "should render", folder: "main", ready: mainReady,
	run: func(p *specPage) {
		p.wait(p.tab, text(".app", "1")+" && "+text(".dep", "1")+" && "+text(".nested", "1"))
	},
}, {
	name: "self accept", folder: "main", ready: mainReady,
	run: func(p *specPage) {
		for _, v := range []string{"2", "3"} {
			was := map[string]string{"2": "1", "3": "2"}[v]
			m := p.mark(p.tab)
			p.edit("hmr.js", "const foo = "+was, "const foo = "+v)
			p.waitLogs(p.tab, m, beforeUpdate, "foo was: "+was,
				"(self-accepting 1) foo is now: "+v, "(self-accepting 2) foo is now: "+v, afterUpdate)
			p.wait(p.tab, text(".app", v))
		}
		samePage(p.t, p.tab, "self accept")
	},
}, {
	name: "hot data persists across module instances", folder: "main", ready: mainReady,
	run: func(p *specPage) {
		for _, v := range []string{"2", "3"} {
			was := map[string]string{"2": "1", "3": "2"}[v]
			m := p.mark(p.tab)
			p.edit("hotData.js", "const value = "+was, "const value = "+v)
			p.waitLogs(p.tab, m, beforeUpdate, "(hot data) value from execution: "+was,
				"(hot data) value from dispose: "+was, afterUpdate)
		}
		samePage(p.t, p.tab, "hot data")
	},
}, {
	name: "accept dep", folder: "main", ready: mainReady,
	run: func(p *specPage) {
		for _, v := range []string{"2", "3"} {
			was := map[string]string{"2": "1", "3": "2"}[v]
			m := p.mark(p.tab)
			p.edit("hmrDep.js", "const foo = "+was, "const foo = "+v)
			p.waitLogs(p.tab, m, beforeUpdate,
				"(dep) foo was: "+was, "(dep) foo from dispose: "+was,
				"(single dep) foo is now: "+v, "(single dep) nested foo is now: 1",
				"(multi deps) foo is now: "+v, "(multi deps) nested foo is now: 1",
				afterUpdate)
			p.wait(p.tab, text(".dep", v))
		}
		samePage(p.t, p.tab, "accept dep")
	},
}, {
	name: "nested dep propagation", folder: "main", ready: mainReady,
	run: func(p *specPage) {
		for _, v := range []string{"2", "3"} {
			was := map[string]string{"2": "1", "3": "2"}[v]
			m := p.mark(p.tab)
			p.edit("hmrNestedDep.js", "const foo = "+was, "const foo = "+v)
			p.waitLogs(p.tab, m, beforeUpdate,
				"(dep) foo was: 1", "(dep) foo from dispose: 1",
				"(single dep) foo is now: 1", "(single dep) nested foo is now: "+v,
				"(multi deps) foo is now: 1", "(multi deps) nested foo is now: "+v,
				afterUpdate)
			p.wait(p.tab, text(".nested", v))
		}
		samePage(p.t, p.tab, "nested dep")
	},
}, {
	name: "invalidate", folder: "main", ready: mainReady,
	run: func(p *specPage) { invalidateCase(p, p.tab) },
}, {
	name: "invalidate works with multiple tabs", folder: "main", ready: mainReady,
	run: func(p *specPage) {
		tab2 := browsertest.NewTab(p.t, p.tab)
		p.open(tab2, "/", mainReady)
		invalidateCase(p, p.tab, tab2)
	},
}, {
	name: "invalidate on root triggers page reload", folder: "main", ready: mainReady,
	run: func(p *specPage) {
		p.edit("invalidation/root.js", `"Init"`, `"Updated"`)
		p.wait(p.tab, reloaded+" && "+text(".invalidation-root", "Updated"))
	},
}, {
	name: "invalidate in circular dep should not trigger infinite HMR", folder: "circular-invalidate",
	ready: text(".invalidation-circular-deps", "child"),
	run: func(p *specPage) {
		p.edit("child.js", `"child"`, `"child updated"`)
		p.wait(p.tab, reloaded+" && "+text(".invalidation-circular-deps", "child updated"))
		// The page reloaded once, and runs: an endless cycle would
		// reload again or hang.
		p.settled(p.tab)
		p.wait(p.tab, `window.logs.length === 1 && performance.getEntriesByType("navigation")[0].type === "reload"`)
	},
}, {
	name: "invalidate in circular dep should be hot updated if possible", folder: "invalidate-handled",
	ready: text(".invalidation-circular-deps-handled", "child"),
	run: func(p *specPage) {
		p.edit("child.js", `"child"`, `"child updated"`)
		p.wait(p.tab, text(".invalidation-circular-deps-handled", "child updated"))
		samePage(p.t, p.tab, "invalidation taken in the cycle")
	},
}, {
	name: "full-reload encodeURI path", folder: "unicode-path",
	page: "/" + url.PathEscape("中文-にほんご-한글-🌕🌖🌗") + "/index.html", ready: text("#app", "title"),
	run: func(p *specPage) {
		p.edit("中文-にほんご-한글-🌕🌖🌗/index.html", ">title<", ">title2<")
		p.wait(p.tab, reloaded+" && "+text("#app", "title2"))
	},
}, {
	name: "CSS update preserves query params", folder: "main", ready: mainReady,
	run: func(p *specPage) {
		p.edit("global.css", "white", "tomato")
		p.wait(p.tab, `document.querySelector(".css-prev").textContent.includes("param=required") && document.querySelector(".css-post").textContent.includes("param=required")`)
		prev := evalJS[string](p.t, p.tab, `document.querySelector(".css-prev").textContent`)
		post := evalJS[string](p.t, p.tab, `document.querySelector(".css-post").textContent`)
		if prev == post || strings.Contains(prev, "direct") || strings.Contains(post, "direct") {
			p.t.Errorf("the stylesheet's URL went from %s to %s, want a new URL that keeps its query", prev, post)
		}
		p.wait(p.tab, `getComputedStyle(document.body).backgroundColor === "rgb(255, 99, 71)"`)
		samePage(p.t, p.tab, "CSS update")
	},
}, {
	name: "it swaps out link tags", folder: "main", ready: mainReady,
	run: func(p *specPage) {
		p.edit("global.css", "white", "tomato")
		p.wait(p.tab, text(".link-tag-added", "yes")+" && "+text(".link-tag-removed", "yes"))
		if n := evalJS[int](p.t, p.tab, `document.querySelectorAll('link[rel="stylesheet"]').length`); n != 1 {
			p.t.Errorf("%d stylesheet links after the swap, want 1", n)
		}
	},
}, {
	name: "not loaded dynamic import", folder: "counter", ready: text("button", "Counter 0"),
	run: func(p *specPage) {
		click := `document.querySelector("button").click()`
		evalJS[any](p.t, p.tab, click)
		p.wait(p.tab, text("button", "Counter 1"))
		// An edit of the page's script reloads it.
		p.edit("index.js", "let count = 0;", `let count = Number("0");`)
		p.wait(p.tab, reloaded+" && "+text("button", "Counter 0")+" && window.__devserve.connected")
		if err := browsertest.MarkPage(p.tab); err != nil {
			p.t.Fatal(err)
		}
		evalJS[any](p.t, p.tab, click)
		p.wait(p.tab, text("button", "Counter 1"))
		// An edit of a module the page never loaded changes nothing.
		p.ts.drainReports()
		p.edit("dep.js", "accept(() => {});", "accept(() => { window.depRan = true; });")
		p.ts.waitReport(p.t, EventBuilt)
		p.settled(p.tab)
		samePage(p.t, p.tab, "edit of a module never loaded")
		p.wait(p.tab, text("button", "Counter 1"))
	},
}, {
	name: "importing reloaded", folder: "main", ready: mainReady,
	run: func(p *specPage) {
		out := `document.querySelector(".importing-reloaded").innerHTML === `
		p.wait(p.tab, out+quoteJS("a.js: a0<br>b.js: b0,a0<br>"))
		p.edit("importing-updated/a.js", `"a0"`, `"a1"`)
		p.wait(p.tab, out+quoteJS("a.js: a0<br>b.js: b0,a0<br>a.js: a1<br>"))
		// b.js runs again and imports the a.js that ran last: a.js does
		// not run again.
		p.edit("importing-updated/b.js", "`b0,", "`b1,")
		p.wait(p.tab, out+quoteJS("a.js: a0<br>b.js: b0,a0<br>a.js: a1<br>b.js: b1,a1<br>"))
		samePage(p.t, p.tab, "importing reloaded")
	},
}, {
	name: "css in html hmr", folder: "main", ready: mainReady,
	run: func(p *specPage) {
		bg := `getComputedStyle(document.querySelector(".import-image")).backgroundImage`
		p.wait(p.tab, bg+`.includes("icon.png")`)
		p.edit("index.html", "url('./icon.png')", "")
		p.wait(p.tab, reloaded+" && "+bg+` === "none"`)
	},
}, {
	name: "HTML", folder: "counter", ready: text("button", "Counter 0"),
	run: func(p *specPage) {
		p.edit("index.html", ">Counter 0<", ">Compteur 0<")
		p.wait(p.tab, reloaded+" && "+text("button", "Compteur 0"))
	},
}, {
	name: "keep hmr reload after missing import on server startup", folder: "missing-import",
	ready: overlayShows("missing-modules"),
	run: func(p *specPage) {
		p.edit("a.js", `import "missing-modules";`, `// import "missing-modules";`)
		p.wait(p.tab, `window.logs.includes("missing test") && `+pageOK)
		p.edit("a.js", `// import "missing-modules";`, `import "missing-modules";`)
		p.wait(p.tab, overlayShows("missing-modules"))
	},
}, {
	name: "should hmr when file is deleted and restored", folder: "main", ready: mainReady,
	run: func(p *specPage) {
		restore := p.read("file-delete-restore/child.js")
		p.edit("file-delete-restore/child.js", `value = "child"`, `value = "child1"`)
		p.wait(p.tab, text(".file-delete-restore", "parent:child1"))

		p.edit("file-delete-restore/parent.js", `export { value as childValue } from "./child.js";`, `export const childValue = "not-child";`)
		p.remove("file-delete-restore/child.js")
		p.wait(p.tab, `window.logs.includes("file-delete-restore/child.js is disposed") && `+text(".file-delete-restore", "parent:not-child"))

		p.ts.write(p.t, "file-delete-restore/child.js", restore)
		p.edit("file-delete-restore/parent.js", `export const childValue = "not-child";`, `export { value as childValue } from "./child.js";`)
		p.wait(p.tab, text(".file-delete-restore", "parent:child")+" && "+pageOK)
	},
}, {
	name: "delete file should not break hmr", folder: "intermediate-file-delete",
	ready: text(".intermediate-file-delete-display", "count is 1"),
	run: func(p *specPage) {
		display := ".intermediate-file-delete-display"
		evalJS[any](p.t, p.tab, `document.querySelector(".intermediate-file-delete-increment").click()`)
		p.wait(p.tab, text(display, "count is 2"))
		p.edit("index.js", `from "./re-export.js"`, `from "./display.js"`)
		p.edit("display.js", "count is ${count}", "count is ${count}!")
		p.wait(p.tab, text(display, "count is 2!"))
		// Vite reloads the page here; devserve need not: nothing that
		// runs imports the file.
		p.remove("re-export.js")
		p.edit("display.js", "count is ${count}!", "count is ${count}")
		p.wait(p.tab, text(display, "count is 2")+" && "+pageOK)
		samePage(p.t, p.tab, "deleting a file no longer imported")
	},
}, {
	name: "deleted file should trigger dispose and prune callbacks", folder: "main", ready: mainReady,
	run: func(p *specPage) {
		restore := p.read("file-delete-restore/child.js")
		m := p.mark(p.tab)
		p.edit("file-delete-restore/parent.js", `export { value as childValue } from "./child.js";`, `export const childValue = "not-child";`)
		p.remove("file-delete-restore/child.js")
		p.waitLogs(p.tab, m, beforeUpdate, "file-delete-restore/child.js is disposed", "file-delete-restore/child.js is pruned", afterUpdate)
		p.wait(p.tab, text(".file-delete-restore", "parent:not-child"))

		p.ts.write(p.t, "file-delete-restore/child.js", restore)
		p.edit("file-delete-restore/parent.js", `export const childValue = "not-child";`, `export { value as childValue } from "./child.js";`)
		p.waitLogged(p.tab, "file-delete-restore/child.js hot data after prune: undefined")
		p.wait(p.tab, text(".file-delete-restore", "parent:child"))
		samePage(p.t, p.tab, "file deleted and restored")
	},
}, {
	name: "deleting import from non-self-accepting module can trigger prune event", folder: "main", ready: mainReady,
	run: func(p *specPage) {
		p.wait(p.tab, text(".prune", "prune-init"))
		p.edit("prune/dep1.js", `import "./dep2.js";`, `// import "./dep2.js";`)
		p.wait(p.tab, text(".prune", "prune-init|dep2-disposed|dep2-pruned"))
		p.edit("prune/dep1.js", `import "./dep3.js";`, `// import "./dep3.js";`)
		p.wait(p.tab, text(".prune", "prune-init|dep2-disposed|dep2-pruned|dep3-disposed|dep3-pruned"))
		samePage(p.t, p.tab, "prune")
	},
}, {
	name: "import.meta.hot?.accept", folder: "main", ready: mainReady,
	run: func(p *specPage) {
		p.edit("optional-chaining/child.js", "const foo = 1", "const foo = 2")
		p.waitLogged(p.tab, "(optional-chaining) child update")
		p.wait(p.tab, text(".optional-chaining", "2"))
		samePage(p.t, p.tab, "optional chaining")
	},
}, {
	name: "hmr works for self-accepted module within circular imported files", folder: "self-accept-within-circular",
	ready: text(".self-accept-within-circular", "c"),
	run: func(p *specPage) {
		p.edit("c.js", `export const c = "c";`, `export const c = "cc";`)
		p.wait(p.tab, text(".self-accept-within-circular", "cc"))
	},
}, {
	name: "hmr should not reload if no accepted within circular imported files", folder: "circular",
	ready: `document.querySelector(".circular").textContent !== ""`,
	run: func(p *specPage) {
		// The update goes round the cycle to index.js, which takes it.
		first := evalJS[string](p.t, p.tab, `document.querySelector(".circular").textContent`)
		p.edit("mod-b.js", "`mod-b ->", "`mod-b (edited) ->")
		p.wait(p.tab, text(".circular", strings.Replace(first, "mod-b ->", "mod-b (edited) ->", 1)))
		samePage(p.t, p.tab, "cycle taken by its importer")
		// mod-c reads mod-a's binding before mod-a ran: that throws, as
		// in the browser's own modules (bundler/esm.go).
		if want := "mod-a -> mod-b -> mod-c -> mod-a (expected error)"; first != want {
			p.t.Errorf("the cycle showed %q before the edit, want %q", first, want)
		}
	},
}, {
	name: "not inlined assets HMR", folder: "main", ready: mainReady,
	run: func(p *specPage) {
		p.wait(p.tab, `document.querySelector("#logo").clientHeight === 30`)
		p.edit("logo.svg", `height="30px"`, `height="40px"`)
		p.waitLogged(p.tab, "Logo updated")
		p.wait(p.tab, `document.querySelector("#logo").clientHeight === 40`)
		samePage(p.t, p.tab, "asset accepted")
	},
}, {
	name: "inlined assets HMR", folder: "main", ready: mainReady,
	run: func(p *specPage) {
		p.wait(p.tab, `document.querySelector("#logo-inline").clientHeight === 30`)
		p.edit("logo-inline.svg", `height="30px"`, `height="40px"`)
		p.waitLogged(p.tab, "Logo-inline updated")
		p.wait(p.tab, `document.querySelector("#logo-inline").clientHeight === 40`)
		samePage(p.t, p.tab, "inlined asset accepted")
	},
}, {
	name: "hmr should happen after missing file is created", folder: "missing-file",
	ready: overlayShows("a.js"),
	run: func(p *specPage) {
		p.ts.write(p.t, "a.js", `log("a.js");`)
		p.wait(p.tab, `window.logs.includes("a.js") && `+pageOK)
	},
}}
