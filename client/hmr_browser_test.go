package client

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/devserve/devserve/internal/browsertest"
)

// These tests run hmr.js, the module runtime, with client.js in headless
// Chromium. fakeServer serves what the dev server serves in module mode,
// written by hand: the page loads the entry script /main.js, which
// registers the factory of each module with hmr.js (define) and starts
// its entry; a built event lists, for each changed module, the URL of an
// update script that gives hmr.js the module's new factory (update). The
// modules write what they do into window.log.

// jsString is v as a JavaScript literal.
func jsString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// def is the registration of module id as the dev server writes it: its
// CommonJS-shaped code in a factory, with deps mapping its import
// specifiers to module ids. The code calls the factory's require with
// ids, and uses __devserve_meta for import.meta.
func def(id string, deps map[string]string, code string) string {
	if deps == nil {
		deps = map[string]string{}
	}
	return fmt.Sprintf("__devserve_define(%s,%s,function(require,module,exports,__devserve_meta){%s\n});\n",
		jsString(id), jsString(deps), code)
}

// entryScript is the script of an entry: the registrations defs, then the
// start of the entry module id.
func entryScript(id string, defs ...string) string {
	return `import{define as __devserve_define,start as __devserve_start}from"` + HMRPath + "\";\n" +
		strings.Join(defs, "") + "__devserve_start(" + jsString(id) + ");\n"
}

// updateScript is the script of a hot update: the registration def as an
// update.
func updateScript(def string) string {
	return `import{update as __devserve_define}from"` + HMRPath + `";` + def
}

// moduleURL is the URL of the update script of version v of module id.
func moduleURL(id, v string) string {
	sep := "?"
	if strings.Contains(id, "?") {
		sep = "&"
	}
	return "/__devserve/m/" + strings.TrimPrefix(id, "/") + sep + "v=" + v
}

// jsUpdate is the update of a built event for version v of module id.
func jsUpdate(id, v string) map[string]any {
	return map[string]any{"type": "js", "path": id, "url": moduleURL(id, v)}
}

// updates maps the update URL of each version of module id to its update
// script: versions maps v to the module's code, with deps.
func updates(id string, deps map[string]string, versions map[string]string) map[string]string {
	files := map[string]string{}
	for v, code := range versions {
		files[moduleURL(id, v)] = updateScript(def(id, deps, code))
	}
	return files
}

// merge merges maps of files.
func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// hotEnv is a tab with a page that runs modules, and its event stream.
type hotEnv struct {
	*env
	st *stream
	id int // of the last event sent
}

// openHot serves entry, the script of an entry, at /main.js, and files
// (URL without n -> body), and opens a page that loads it. It returns once
// the client has the sync of build b1 and hmr.js runs, with the page
// marked. window.log starts empty before the entry script runs.
func openHot(t *testing.T, browser context.Context, entry string, files map[string]string) *hotEnv {
	t.Helper()
	srv := newFakeServer(t, "b1", `<script>window.log = [];</script><script type="module" src="/main.js"></script>`)
	srv.set(func(s *fakeServer) {
		s.files["/main.js"] = entry
		for k, v := range files {
			s.files[k] = v
		}
	})
	e, st := openServer(t, browser, srv)
	h := &hotEnv{env: e, st: st}
	h.sync()
	return h
}

// sync sends the sync of build b1, the first event of a stream, and waits
// until the client has it and hmr.js runs.
func (h *hotEnv) sync() {
	h.t.Helper()
	h.id = 1
	h.st.send(h.t, h.id, "sync", map[string]any{"build": "b1", "status": "ok"})
	h.waitJS(`__devserve.events === 1 && __devserve.status === "ok" && window.__devserve_hmr`)
}

// send sends an event with the next id.
func (h *hotEnv) send(event string, data map[string]any) {
	h.t.Helper()
	h.id++
	h.st.send(h.t, h.id, event, data)
}

// built sends a built event with updates.
func (h *hotEnv) built(updates ...map[string]any) {
	h.t.Helper()
	h.send("built", map[string]any{"build": fmt.Sprintf("b%d", h.id+1), "updates": updates})
}

// waitWindowLog waits until window.log has as many lines as want, and
// fails the test unless they are want.
func (h *hotEnv) waitWindowLog(want ...string) {
	h.t.Helper()
	h.waitJS(fmt.Sprintf(`window.log.length >= %d`, len(want)))
	var got []string
	h.eval(`window.log`, &got)
	if !slices.Equal(got, want) {
		h.t.Fatalf("window.log =\n  %q\nwant\n  %q", got, want)
	}
}

// settle waits until the client has every event sent so far and hmr.js
// has applied every update it was given, and fails the test if hmr.js gave
// up (the page must reload). It asks hmr.js to apply no updates, which
// waits for those before it; that fires devserve:beforeUpdate and
// devserve:afterUpdate with an empty list.
func (h *hotEnv) settle() {
	h.t.Helper()
	h.waitJS(fmt.Sprintf(`__devserve.events === %d`, h.id))
	ok, err := chromedp.Run(h.tab, chromedp.Evaluate[bool](`import("`+HMRPath+`").then((m) => m.applyUpdates([]))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		h.t.Fatal(err)
	}
	if !ok {
		h.t.Fatalf("hmr.js gave up on an update; console:\n%s", h.drainLogs())
	}
}

// stays settles, and fails the test if the page reloaded or is about to.
func (h *hotEnv) stays() {
	h.t.Helper()
	h.settle()
	h.mustBeSamePage()
	h.srv.noLoad(h.t)
}

// reloadsOnce waits for the page to reload, and for the console lines
// that contain each of logs, in order. The new page must then run its
// modules again (window.log becomes initial) and stay.
func (h *hotEnv) reloadsOnce(initial []string, logs ...string) {
	h.t.Helper()
	h.srv.nextLoad(h.t)
	for _, l := range logs {
		h.waitLog(l)
	}
	h.st = h.srv.nextStream(h.t)
	h.mark()
	h.sync()
	h.waitWindowLog(initial...)
	h.stays()
}

// drainLogs returns the console lines read so far and those waiting.
func (h *hotEnv) drainLogs() string {
	for {
		select {
		case l := <-h.console:
			h.logs = append(h.logs, l)
		default:
			return strings.Join(h.logs, "\n")
		}
	}
}

// fetched reports whether the page fetched the update script of version v
// of module id with n, hmr.js's count of update fetches.
func (h *hotEnv) fetched(id, v string, n int) bool {
	uri := fmt.Sprintf("%s&n=%d", moduleURL(id, v), n)
	h.srv.mu.Lock()
	defer h.srv.mu.Unlock()
	return slices.Contains(h.srv.served, uri)
}

// fetchedAny reports whether the page fetched any version of module id.
func (h *hotEnv) fetchedAny(id string) bool {
	prefix := strings.TrimSuffix(moduleURL(id, ""), "v=")
	h.srv.mu.Lock()
	defer h.srv.mu.Unlock()
	return slices.ContainsFunc(h.srv.served, func(u string) bool { return strings.HasPrefix(u, prefix) })
}

// counter is the code of version v of /counter.js: it counts its runs in
// hot.data, and accepts itself.
func counter(v string) string {
	return fmt.Sprintf(`var hot = __devserve_meta.hot, d = hot.data;
d.count = (d.count || 0) + 1;
exports.version = %[1]q;
log.push("run %[1]s count " + d.count);
hot.dispose(function (data) { log.push("dispose %[1]s count " + data.count); });
hot.accept(function (m) { log.push("accept %[1]s got " + m.version); });`, v)
}

// usesCounter is the entry /main.js that imports /counter.js as
// ./counter.js, with more code.
func usesCounter(more string) string {
	return def("/main.js", map[string]string{"./counter.js": "/counter.js"},
		`var counter = require("/counter.js"); log.push("main sees " + counter.version);`+more)
}

func TestHMRBrowser(t *testing.T) {
	browser := browsertest.New(t)

	t.Run("SelfAccept", func(t *testing.T) {
		// Two builds back to back: the second update waits for the
		// first. Each new version runs after the old one is disposed of,
		// sees the count the old ones left in hot.data, and the old
		// version's accept callback gets its exports.
		h := openHot(t, browser,
			entryScript("/main.js", usesCounter(""), def("/counter.js", nil, counter("1"))),
			updates("/counter.js", nil, map[string]string{"2": counter("2"), "3": counter("3")}))
		h.waitWindowLog("run 1 count 1", "main sees 1")
		h.built(jsUpdate("/counter.js", "2"))
		h.built(jsUpdate("/counter.js", "3"))
		h.waitWindowLog("run 1 count 1", "main sees 1",
			"dispose 1 count 1", "run 2 count 2", "accept 1 got 2",
			"dispose 2 count 2", "run 3 count 3", "accept 2 got 3")
		h.stays()
		if !h.fetched("/counter.js", "2", 1) || !h.fetched("/counter.js", "3", 2) {
			t.Errorf("requests = %q, want the update URLs with &n=1 and &n=2", h.srv.served)
		}
	})

	t.Run("AcceptDep", func(t *testing.T) {
		// main.js accepts ./dep.js, /lib/dep.js: the specifier is resolved
		// through the deps of main.js, not as a URL. main.js does not run
		// again.
		for _, tt := range []struct {
			name, accept, want string
		}{{
			name:   "One",
			accept: `hot.accept("./dep.js", function (m) { log.push("accept " + m.value); });`,
			want:   "accept two",
		}, {
			name: "Array",
			accept: `hot.accept(["./other.js", "./dep.js"], function (ms) {
				log.push("accept " + ms.length + " " + ms[0] + " " + ms[1].value);
			});`,
			want: "accept 2 undefined two",
		}} {
			t.Run(tt.name, func(t *testing.T) {
				dep := func(v string) string {
					return fmt.Sprintf(`exports.value = %q; log.push("dep " + exports.value);`, v)
				}
				deps := map[string]string{"./dep.js": "/lib/dep.js", "./other.js": "/lib/other.js"}
				h := openHot(t, browser,
					entryScript("/main.js",
						def("/main.js", deps, `var hot = __devserve_meta.hot;
var dep = require("/lib/dep.js"); require("/lib/other.js");
log.push("main with " + dep.value);`+tt.accept),
						def("/lib/dep.js", nil, dep("one")),
						def("/lib/other.js", nil, `exports.x = 1;`)),
					updates("/lib/dep.js", nil, map[string]string{"2": dep("two")}))
				h.waitWindowLog("dep one", "main with one")
				h.built(jsUpdate("/lib/dep.js", "2"))
				h.waitWindowLog("dep one", "main with one", "dep two", tt.want)
				h.stays()
			})
		}
	})

	t.Run("Intermediate", func(t *testing.T) {
		// c.js changed; b.js imports it and main.js accepts b.js: b.js
		// runs again, after the old c.js and b.js are disposed of, and
		// main's callback gets the new b.js, which has the new c.js.
		c := func(v string) string {
			return fmt.Sprintf(`exports.v = %[1]q; log.push("c %[1]s");
__devserve_meta.hot.dispose(function () { log.push("dispose c %[1]s"); });`, v)
		}
		b := def("/b.js", map[string]string{"./c.js": "/c.js"}, `var c = require("/c.js");
exports.c = c.v; log.push("b with c " + c.v);
__devserve_meta.hot.dispose(function () { log.push("dispose b"); });`)
		h := openHot(t, browser,
			entryScript("/main.js",
				def("/main.js", map[string]string{"./b.js": "/b.js"}, `require("/b.js"); log.push("main");
__devserve_meta.hot.accept("./b.js", function (b) { log.push("accept b with c " + b.c); });`),
				b, def("/c.js", nil, c("1"))),
			updates("/c.js", nil, map[string]string{"2": c("2")}))
		h.waitWindowLog("c 1", "b with c 1", "main")
		h.built(jsUpdate("/c.js", "2"))
		h.waitWindowLog("c 1", "b with c 1", "main",
			"dispose c 1", "dispose b", "c 2", "b with c 2", "accept b with c 2")
		h.stays()
	})

	t.Run("Prune", func(t *testing.T) {
		// The new main.js no longer imports gone.js: gone.js and deeper.js,
		// which only it imports, are disposed of and then pruned, with
		// their data (Vite's order); keep.js, which main.js still
		// imports, is not.
		main := func(v, requires string) string {
			return requires + fmt.Sprintf(`log.push("main %s"); __devserve_meta.hot.accept();`, v)
		}
		both := map[string]string{"./keep.js": "/keep.js", "./gone.js": "/gone.js"}
		keep := map[string]string{"./keep.js": "/keep.js"}
		h := openHot(t, browser,
			entryScript("/main.js",
				def("/main.js", both, main("1", `require("/keep.js"); require("/gone.js");`)),
				def("/deeper.js", nil, `__devserve_meta.hot.prune(function () { log.push("prune deeper"); });`),
				def("/gone.js", map[string]string{"./deeper.js": "/deeper.js", "./keep.js": "/keep.js"},
					`require("/deeper.js"); require("/keep.js"); __devserve_meta.hot.data.n = 7;
__devserve_meta.hot.prune(function (d) { log.push("prune gone " + d.n); });
__devserve_meta.hot.dispose(function (d) { log.push("dispose gone " + d.n); });`),
				def("/keep.js", nil, `__devserve_meta.hot.prune(function () { log.push("prune keep"); });`)),
			updates("/main.js", keep, map[string]string{
				"2": main("2", `require("/keep.js");`),
				"3": main("3", `require("/keep.js");`),
			}))
		h.waitWindowLog("main 1")
		h.built(jsUpdate("/main.js", "2"))
		h.waitWindowLog("main 1", "main 2", "prune deeper", "dispose gone 7", "prune gone 7")
		// Pruned modules are gone: they are not pruned again.
		h.built(jsUpdate("/main.js", "3"))
		h.waitWindowLog("main 1", "main 2", "prune deeper", "dispose gone 7", "prune gone 7", "main 3")
		h.stays()
		h.waitWindowLog("main 1", "main 2", "prune deeper", "dispose gone 7", "prune gone 7", "main 3")
	})

	t.Run("Style", func(t *testing.T) {
		// The module standing for x.css swaps the stylesheet: the new one
		// comes after the old one, which goes once the new one has
		// loaded. No navigation.
		const id = "/x.css?module"
		css := func(hash string) string {
			return `__devserve_meta.hot.accept();__devserve_meta.style("/x.css?v=` + hash + `");` +
				`__devserve_meta.hot.prune(()=>__devserve_meta.style(null));`
		}
		withCSS := map[string]string{"./x.css": id}
		h := openHot(t, browser,
			entryScript("/main.js",
				def("/main.js", withCSS, `require("/x.css?module"); log.push("main 1"); __devserve_meta.hot.accept();`),
				def(id, nil, css("h1"))),
			merge(updates(id, nil, map[string]string{"2": css("h2")}),
				updates("/main.js", nil, map[string]string{"2": `log.push("main 2"); __devserve_meta.hot.accept();`}),
				map[string]string{
					"/x.css?v=h1": "#box { background-color: rgb(255, 0, 0); }",
					"/x.css?v=h2": "#box { background-color: rgb(0, 0, 255); }",
				}))
		bg := `getComputedStyle(document.getElementById("box")).backgroundColor`
		links := `[...document.querySelectorAll("link[data-devserve-style]")].map(l => l.getAttribute("href") + (l.hasAttribute("data-devserve-pending") ? " pending" : "") + " " + l.dataset.devserveStyle)`
		h.waitJS(bg + ` === "rgb(255, 0, 0)"`)
		var got []string
		h.eval(links, &got)
		if want := []string{"/x.css?v=h1 " + id}; !slices.Equal(got, want) {
			t.Fatalf("links = %q, want %q", got, want)
		}
		h.eval(`window.oldLink = document.querySelector("link[data-devserve-style]"), oldLink.parentNode === document.head`, new(bool))

		// While the new sheet loads, the old one stays and styles the page.
		release := h.srv.hold(t, "/x.css?v=h2")
		h.built(jsUpdate(id, "2"))
		h.waitJS(`document.querySelectorAll("link[data-devserve-style]").length === 2`)
		h.eval(links, &got)
		if want := []string{"/x.css?v=h1 " + id, "/x.css?v=h2 pending " + id}; !slices.Equal(got, want) {
			t.Errorf("while the new sheet loads, links = %q, want %q", got, want)
		}
		var color string
		h.eval(bg, &color)
		if color != "rgb(255, 0, 0)" {
			t.Errorf("while the new sheet loads, the background is %s, want the old rgb(255, 0, 0)", color)
		}
		release()
		h.waitJS(bg + ` === "rgb(0, 0, 255)" && !oldLink.isConnected`)
		h.eval(links, &got)
		if want := []string{"/x.css?v=h2 " + id}; !slices.Equal(got, want) {
			t.Errorf("after the swap, links = %q, want %q", got, want)
		}
		h.stays()

		// An update that drops the import prunes the CSS module: its
		// stylesheet goes.
		h.built(jsUpdate("/main.js", "2"))
		h.waitJS(`log.at(-1) === "main 2" && document.querySelectorAll("link[data-devserve-style]").length === 0`)
		h.waitJS(bg + ` === "rgba(0, 0, 0, 0)"`)
		h.stays()
	})

	t.Run("Events", func(t *testing.T) {
		// main.js takes updates of counter.js and does not run again, so
		// its listeners stay; counter.js runs again, and only the
		// listener of its current version hears the next update. Vite's
		// events fire after devserve's, with Vite's payloads.
		listen := `var hot = __devserve_meta.hot;
var paths = function (u) { return u.map(function (x) { return x.path; }).join(); };
hot.on("devserve:beforeUpdate", function (u) { log.push("before " + paths(u)); });
hot.on("devserve:afterUpdate", function (u) { log.push("after " + paths(u)); });
hot.on("devserve:error", function (e) { log.push("error " + e.map(function (x) { return x.text; }).join()); });
var vite = function (p) { return p.type + " " + p.updates.map(function (x) { return x.type + ":" + x.path + ":" + x.acceptedPath; }).join(); };
hot.on("vite:beforeUpdate", function (p) { log.push("vite before " + vite(p)); });
hot.on("vite:afterUpdate", function (p) { log.push("vite after " + vite(p)); });
hot.on("vite:error", function (p) { log.push("vite " + p.type + " " + p.err.message); });
var never = function () { log.push("never"); };
hot.on("devserve:afterUpdate", never);
hot.off("devserve:afterUpdate", never);
hot.on("devserve:error", never);
hot.off("devserve:error", never);
hot.accept("./counter.js", function (c) { log.push("main takes " + c.version); });`
		version := func(v string) string {
			return fmt.Sprintf(`exports.version = %[1]q;
__devserve_meta.hot.on("devserve:afterUpdate", function () { log.push("counter %[1]s hears after"); });`, v)
		}
		h := openHot(t, browser,
			entryScript("/main.js", usesCounter(listen), def("/counter.js", nil, version("1"))),
			updates("/counter.js", nil, map[string]string{"2": version("2"), "3": version("3")}))
		h.waitWindowLog("main sees 1")
		h.built(jsUpdate("/counter.js", "2"))
		// As in Vite, path is the module that takes the update, and
		// acceptedPath the one it takes.
		vb, va := "vite before update js-update:/main.js:/counter.js", "vite after update js-update:/main.js:/counter.js"
		h.waitWindowLog("main sees 1", "before /counter.js", vb, "main takes 2", "after /counter.js", "counter 2 hears after", va)
		h.built(jsUpdate("/counter.js", "3"))
		h.waitWindowLog("main sees 1", "before /counter.js", vb, "main takes 2", "after /counter.js", "counter 2 hears after", va,
			"before /counter.js", vb, "main takes 3", "after /counter.js", "counter 3 hears after", va)
		h.send("errors", map[string]any{"build": "b1", "errors": []any{map[string]any{"text": "oops"}, map[string]any{"text": "again"}}})
		h.waitJS(`log.at(-2) === "error oops,again" && log.at(-1) === "vite error oops"`)
		h.mustBeSamePage()
		h.srv.noLoad(t)
	})

	t.Run("BackAndForth", func(t *testing.T) {
		// An edit undone: version A comes back with the URL it had. hmr.js
		// fetches it again (another n) and runs it.
		h := openHot(t, browser,
			entryScript("/main.js", usesCounter(""), def("/counter.js", nil, counter("1"))),
			updates("/counter.js", nil, map[string]string{"A": counter("A"), "B": counter("B")}))
		h.waitWindowLog("run 1 count 1", "main sees 1")
		for i, v := range []string{"A", "B", "A"} {
			h.built(jsUpdate("/counter.js", v))
			h.waitJS(fmt.Sprintf(`log.at(-1) === "accept %s got %s"`, []string{"1", "A", "B"}[i], v))
		}
		h.waitWindowLog("run 1 count 1", "main sees 1",
			"dispose 1 count 1", "run A count 2", "accept 1 got A",
			"dispose A count 2", "run B count 3", "accept A got B",
			"dispose B count 3", "run A count 4", "accept B got A")
		h.stays()
		if !h.fetched("/counter.js", "A", 1) || !h.fetched("/counter.js", "A", 3) {
			t.Errorf("requests = %q, want version A fetched with n=1 and n=3", h.srv.served)
		}
	})

	t.Run("NotRunning", func(t *testing.T) {
		// /lazy.js is in the entry script but nothing has run it;
		// /never.js is not even there. Their updates are fetched and
		// registered, and run nothing: lazy.js runs its new code when
		// it is first imported.
		h := openHot(t, browser,
			entryScript("/main.js",
				def("/main.js", map[string]string{"./lazy.js": "/lazy.js"},
					`log.push("main"); window.loadLazy = function () { return __devserve_meta.import("/lazy.js"); };`),
				def("/lazy.js", nil, `log.push("lazy 1");`)),
			merge(updates("/lazy.js", nil, map[string]string{"2": `log.push("lazy 2"); exports.v = 2;`}),
				updates("/never.js", nil, map[string]string{"2": `log.push("never runs");`})))
		h.waitWindowLog("main")
		h.built(jsUpdate("/lazy.js", "2"), jsUpdate("/never.js", "2"))
		h.stays()
		if !h.fetched("/lazy.js", "2", 1) || !h.fetched("/never.js", "2", 1) {
			t.Errorf("requests = %q, want both updates fetched", h.srv.served)
		}
		h.waitWindowLog("main")
		var v int
		if err := chromedp.Do(h.tab, chromedp.Evaluate[chromedp.Void](`loadLazy().then((m) => (window.lazy = m))`, chromedp.EvalAwaitPromise)); err != nil {
			t.Fatal(err)
		}
		h.eval(`lazy.v`, &v)
		h.waitWindowLog("main", "lazy 2")
		if v != 2 {
			t.Errorf("lazy.js exports v = %d, want 2", v)
		}
		h.stays()
	})

	// Changes that no module accepts up to an entry reload the page, once,
	// without fetching new code.
	for _, tt := range []struct {
		name   string
		update map[string]any
	}{
		{"DepOfEntry", jsUpdate("/counter.js", "2")},
		{"Entry", jsUpdate("/main.js", "2")},
		{"Bundled", map[string]any{"type": "js", "path": "/counter.js"}},
	} {
		t.Run("Reload"+tt.name, func(t *testing.T) {
			plain := `exports.version = "1"; log.push("counter");`
			h := openHot(t, browser, entryScript("/main.js", usesCounter(""), def("/counter.js", nil, plain)),
				merge(updates("/counter.js", nil, map[string]string{"2": plain}),
					updates("/main.js", nil, map[string]string{"2": `log.push("main 2");`})))
			h.waitWindowLog("counter", "main sees 1")
			h.built(tt.update)
			h.reloadsOnce([]string{"counter", "main sees 1"}, "[devserve] reloading: changed "+tt.update["path"].(string))
			if h.fetchedAny("/counter.js") || h.fetchedAny("/main.js") {
				t.Errorf("requests = %q; want no update fetched for a reload", h.srv.served)
			}
			if n := h.count("[devserve] reloading"); n != 1 {
				t.Errorf("logged %d reloads, want 1:\n%s", n, strings.Join(h.logs, "\n"))
			}
		})
	}

	// An update whose code cannot be fetched reloads the page, and says why.
	t.Run("NotFound", func(t *testing.T) {
		h := openHot(t, browser, entryScript("/main.js", usesCounter(""), def("/counter.js", nil, `__devserve_meta.hot.accept();`)), nil)
		h.waitWindowLog("main sees undefined")
		h.built(jsUpdate("/counter.js", "2"))
		h.reloadsOnce([]string{"main sees undefined"},
			"error: [devserve] could not fetch the update: TypeError", "[devserve] reloading: changed /counter.js")
	})

	// An update whose new code throws shows the error over the page, with
	// the update that threw. The page then runs partly old code: it
	// reloads when the overlay is closed, or on the next build.
	for _, tt := range []struct {
		name, v1, v2, title, note string
		where                     string // the start of the place shown
		close                     bool   // close the overlay; else a build comes
	}{{
		name:  "NewVersionThrows",
		v1:    `__devserve_meta.hot.accept();`,
		v2:    `throw new Error("boom in v2");`,
		title: "Error: boom in v2",
		note:  "Thrown by the hot update of counter.js.",
		where: "__devserve/m/counter.js:1:",
		close: true,
	}, {
		name:  "AcceptThrows",
		v1:    `__devserve_meta.hot.accept(function () { throw new TypeError("boom in accept"); });`,
		v2:    `log.push("v2");`,
		title: "TypeError: boom in accept",
		note:  "Thrown by the hot update of counter.js.",
		where: "main.js:4:", // the callback of the old version, in the entry script
	}, {
		name:  "ImporterTakes",
		v2:    `throw new Error("boom in v2");`,
		title: "Error: boom in v2",
		note:  "Thrown by the hot update of counter.js, taken by main.js.",
		where: "__devserve/m/counter.js:1:",
		close: true,
	}} {
		t.Run(tt.name, func(t *testing.T) {
			main := usesCounter("")
			if tt.v1 == "" {
				main = usesCounter(`__devserve_meta.hot.accept("./counter.js", function () {});`)
			}
			h := openHot(t, browser, entryScript("/main.js", main, def("/counter.js", nil, tt.v1)),
				updates("/counter.js", nil, map[string]string{"2": tt.v2}))
			h.waitWindowLog("main sees undefined")
			h.built(jsUpdate("/counter.js", "2"))
			root := `document.querySelector("devserve-overlay").shadowRoot`
			h.waitJS(root + `.querySelector(".note")`)
			var got struct{ Title, Note, Where, Hint string }
			h.eval(`({title: `+root+`.querySelector("h1").textContent, note: `+root+`.querySelector(".note").textContent,
				where: `+root+`.querySelector(".where").textContent, hint: `+root+`.querySelector(".hint").textContent})`, &got)
			if got.Title != tt.title || got.Note != tt.note || !strings.HasPrefix(got.Where, tt.where) ||
				!strings.Contains(got.Hint, "closing this reloads it") {
				t.Errorf("overlay = %+v, want %q, %q at %s", got, tt.title, tt.note, tt.where)
			}
			h.waitLog("error: [devserve] hot update of /counter.js failed: ")
			h.mustBeSamePage()
			h.srv.noLoad(t)
			if tt.close {
				if err := chromedp.Do(h.tab, chromedp.KeyEvent(kb.Escape)); err != nil {
					t.Fatal(err)
				}
				h.reloadsOnce([]string{"main sees undefined"}, "[devserve] reloading: a hot update failed")
				return
			}
			h.built()
			h.reloadsOnce([]string{"main sees undefined"}, "[devserve] reloading: a hot update failed before this build")
		})
	}

	// An entry that throws as it starts shows on the overlay once, though
	// both hmr.js and the browser report it; and since its accept handlers
	// never registered, the next update reloads the page.
	t.Run("StartThrows", func(t *testing.T) {
		h := openHot(t, browser, entryScript("/main.js",
			def("/main.js", nil, `log.push("main"); __devserve_meta.hot.accept(); throw new Error("boom at start");`)),
			updates("/main.js", nil, map[string]string{"2": `log.push("main 2"); __devserve_meta.hot.accept();`}))
		h.waitWindowLog("main")
		h.waitJS(`__devserve.runtimeErrors.length === 1 && document.querySelector("devserve-overlay")`)
		var titles []string
		h.eval(`__devserve.runtimeErrors.map((e) => e.title)`, &titles)
		if !slices.Equal(titles, []string{"Uncaught Error: boom at start"}) {
			t.Errorf("runtime errors %q, want the entry's once", titles)
		}
		h.built(jsUpdate("/main.js", "2"))
		h.srv.nextLoad(t)
		h.waitLog("[devserve] reloading: changed /main.js")
	})

	// invalidate() hands an update that the module took to its importers.
	t.Run("Invalidate", func(t *testing.T) {
		// counter.js accepts itself, but its callback finds that the new
		// version cannot take over, and invalidates it.
		v := func(v string) string {
			return fmt.Sprintf(`exports.version = %[1]q; log.push("counter %[1]s");
var hot = __devserve_meta.hot;
hot.accept(function (m) { log.push("counter %[1]s accepts " + m.version); hot.invalidate("cannot keep state"); });`, v)
		}
		for _, tt := range []struct {
			name   string
			accept string // more code of main.js
			want   []string
		}{{
			name:   "ImporterAccepts",
			accept: `__devserve_meta.hot.accept("./counter.js", function (c) { log.push("main takes " + c.version); });`,
			// main.js takes the counter.js 2 that runs: it does not run
			// again (Vite's invalidation runs no module twice).
			want: []string{"counter 1", "main sees 1", "counter 2", "counter 1 accepts 2", "main takes 2"},
		}, {
			name: "NoneAccepts",
		}} {
			t.Run(tt.name, func(t *testing.T) {
				h := openHot(t, browser,
					entryScript("/main.js", usesCounter(tt.accept), def("/counter.js", nil, v("1"))),
					updates("/counter.js", nil, map[string]string{"2": v("2")}))
				h.waitWindowLog("counter 1", "main sees 1")
				h.built(jsUpdate("/counter.js", "2"))
				if tt.want == nil {
					h.reloadsOnce([]string{"counter 1", "main sees 1"}, "[devserve] /counter.js invalidated: cannot keep state")
					return
				}
				h.waitWindowLog(tt.want...)
				h.waitLog("[devserve] /counter.js invalidated: cannot keep state")
				h.stays()
				h.waitWindowLog(tt.want...)
			})
		}
	})

	t.Run("InvalidateAsItRuns", func(t *testing.T) {
		// child.js invalidates every version of itself as it runs, as in
		// Vite's playground: the first version, which no update ran, has
		// nothing to give; after an edit, main.js runs again once, and
		// child.js 2 does not.
		child := func(v string) string {
			return fmt.Sprintf(`log.push("child %s"); var hot = __devserve_meta.hot; hot.accept(); hot.invalidate();`, v)
		}
		h := openHot(t, browser,
			entryScript("/main.js",
				def("/main.js", map[string]string{"./child.js": "/child.js"}, `require("/child.js"); log.push("main"); __devserve_meta.hot.accept();`),
				def("/child.js", nil, child("1"))),
			updates("/child.js", nil, map[string]string{"2": child("2")}))
		h.waitWindowLog("child 1", "main")
		h.stays()
		h.built(jsUpdate("/child.js", "2"))
		h.waitWindowLog("child 1", "main", "child 2", "main")
		h.stays()
		h.waitWindowLog("child 1", "main", "child 2", "main")
	})

	t.Run("InvalidateCycle", func(t *testing.T) {
		// parent.js and child.js import each other, each accepts itself
		// and invalidates every new version, and main.js takes parent.js:
		// the invalidations would go round the cycle for ever; the page
		// reloads once instead.
		mod := func(name, other, v string) string {
			return fmt.Sprintf(`require(%[2]q); log.push("%[1]s %[3]s"); var hot = __devserve_meta.hot;
hot.accept(function () { hot.invalidate(); });`, name, other, v)
		}
		child := map[string]string{"./parent.js": "/parent.js"}
		parent := map[string]string{"./child.js": "/child.js"}
		h := openHot(t, browser,
			entryScript("/main.js",
				def("/main.js", map[string]string{"./parent.js": "/parent.js"},
					`require("/parent.js"); __devserve_meta.hot.accept("./parent.js", function () {});`),
				def("/parent.js", parent, mod("parent", "/child.js", "1")),
				def("/child.js", child, mod("child", "/parent.js", "1"))),
			updates("/child.js", child, map[string]string{"2": mod("child", "/parent.js", "2")}))
		h.waitWindowLog("child 1", "parent 1")
		h.built(jsUpdate("/child.js", "2"))
		h.reloadsOnce([]string{"child 1", "parent 1"})
	})

	t.Run("NoHotModules", func(t *testing.T) {
		// A page without hmr.js ignores JS updates with a URL, and does
		// not load hmr.js for them.
		e, st := openSynced(t, browser, "b1")
		st.send(t, 2, "built", map[string]any{"build": "b2", "updates": []any{jsUpdate("/main.js", "2")}})
		st.send(t, 3, "building", map[string]any{"build": "b2"})
		e.waitJS(`__devserve.events === 3`)
		e.mustBeSamePage()
		e.srv.noLoad(t)
		var loaded bool
		e.eval(`"__devserve_hmr" in window || performance.getEntriesByType("resource").some(r => r.name.includes("hmr.js") || r.name.includes("/__devserve/m/"))`, &loaded)
		if loaded {
			t.Error("the page loaded hmr.js or the update")
		}
	})
}
