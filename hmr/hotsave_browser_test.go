package hmr

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/devserve/devserve/internal/browsertest"
	"github.com/devserve/devserve/watcher"
)

// BenchmarkHotSave times a hot update in headless Chromium from the save
// to the DOM change, split where the time goes, so that the way from a
// save to the screen can be traced and cut (issue #14):
//
//	DEVSERVE_REQUIRE_BROWSER=1 go test -run '^$' -bench HotSave -benchtime 20x ./hmr
//
// tree-N is bench's module tree of N modules (1,000, 5,000, 20,000: a
// hot update's cost must not grow with the project; -bench
// 'HotSave/tree-20000' runs one) with hot.js, a module that accepts
// itself, edited; react is bench's React project of 1,000
// components with the last one edited (React Fast Refresh, the packages
// of testdata/npm/react19); app is testdata/apps/react-ts with its <h1>
// edited (the same packages). Each metric is the median over the saves,
// in ms; the parts add up to about total-ms:
//
//   - batch-ms: from the write to the build loop having the watcher's
//     batch and started the build (the quiet window, the loop's checks,
//     the building event);
//   - build-ms: bundler.Build;
//   - publish-ms: from the build's end to the built event published;
//   - event-ms: from there to the tab's client having the event (the
//     stream, the SharedWorker and its postMessage); sse-ms is the same to
//     an EventSource of the page's own, without the worker;
//   - fetch-ms: from the tab having the event to the update's code
//     fetched (0 when the event carries the code), of which request-ms is
//     the request itself;
//   - run-ms: from there to the new module running (evaluation);
//   - render-ms: from the module running to the DOM showing the edit;
//   - total-ms: from the write to the DOM showing the edit.
//
// The server runs in the benchmark's process, so the Go side's times are
// taken where they happen; the page's are performance.timeOrigin +
// performance.now(), set against time.Now() before each save by the
// shortest of three round trips (its error is under half a millisecond
// on a quiet machine). With -v it logs every save's times.
func BenchmarkHotSave(b *testing.B) {
	for _, n := range []int{1000, 5000, 20000} {
		b.Run(fmt.Sprintf("tree-%d", n), func(b *testing.B) { benchHotSave(b, hotTreeProject(b, n)) })
	}
	b.Run("react", func(b *testing.B) { benchHotSave(b, hotReactProject(b, 1000)) })
	b.Run("app", func(b *testing.B) { benchHotSave(b, hotAppProject(b)) })
}

// hotProject is a project whose one file a hot save rewrites.
type hotProject struct {
	dir  string
	file string                   // the file edited, root-relative
	sel  string                   // the element that shows the edit
	edit func(text string) string // file's content showing text
	want func(text string) string // what sel then shows
	wait string                   // true once the page has run
	name func(i int) string       // the text of the ith save
}

// probe is the first script of a benchmarked page: it records when the
// tab's client hears a built event, when an EventSource of its own does
// (the same event without the SharedWorker), when the edited module runs
// (the module sets run itself) and when sel first shows want, and resolves
// done then.
const probe = `<script>
(() => {
  const now = () => performance.timeOrigin + performance.now();
  const P = (window.__probe = { want: null, sel: "", ev: 0, sse: 0, run: 0, dom: 0 });
  P.arm = (sel, want) => {
    Object.assign(P, { sel, want, ev: 0, sse: 0, run: 0, dom: 0 });
    performance.clearResourceTimings();
    return new Promise((resolve) => (P.resolve = resolve));
  };
  const check = () => {
    const el = P.want !== null && !P.dom && document.querySelector(P.sel);
    if (el && el.textContent === P.want) {
      P.dom = now();
      const fetches = performance.getEntriesByType("resource").filter((e) => e.name.includes("/__devserve/m/"));
      P.resolve({ ev: P.ev, sse: P.sse, run: P.run, dom: P.dom,
        fetchStart: fetches.length ? performance.timeOrigin + fetches[0].startTime : 0,
        fetchEnd: fetches.length ? performance.timeOrigin + fetches[fetches.length - 1].responseEnd : 0 });
    }
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true, characterData: true });
  // The client sets onmessage on its SharedWorker's port, or listens on
  // its own EventSource.
  const heard = (data) => { if (!P.ev && data && data.name === "built") P.ev = now(); };
  const d = Object.getOwnPropertyDescriptor(MessagePort.prototype, "onmessage");
  Object.defineProperty(MessagePort.prototype, "onmessage", { configurable: true, get: d.get,
    set(f) { d.set.call(this, f && function (e) { heard(e.data); return f.call(this, e); }); } });
  new EventSource("/__devserve/events").addEventListener("built", () => { P.sse ||= now(); });
})();
</script>
`

// runMark is a statement an edited module runs first: when the new code
// starts to run.
const runMark = "if (window.__probe) window.__probe.run = performance.timeOrigin + performance.now();\n"

// hotTreeProject is bench's module tree of n modules with hot.js, which
// writes its value into #hot and accepts its own updates.
func hotTreeProject(b *testing.B, n int) *hotProject {
	dir := saveProject(b, n)
	hot := func(text string) string {
		return fmt.Sprintf("export const value = %q;\n%sdocument.getElementById('hot').textContent = value;\n"+
			"if (import.meta.hot) import.meta.hot.accept();\n", text, runMark)
	}
	files := map[string]string{
		"hot.js": hot("hot-0"),
		"main.js": "import { value } from './leaf.js';\nimport { total } from './mods/m0.js';\nimport './hot.js';\n" +
			"document.getElementById('total').textContent = String(total);\n" +
			"document.getElementById('out').textContent = value;\n",
		"index.html": "<!doctype html><html><head>" + probe + `<link rel="stylesheet" href="/style.css">` +
			`<script type="module" src="/main.js"></script></head><body><p id="out"></p><p id="total"></p><p id="hot"></p></body></html>`,
	}
	for name, s := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return &hotProject{dir: dir, file: "hot.js", sel: "#hot", edit: hot,
		want: func(s string) string { return s }, wait: `document.getElementById("hot").textContent === "hot-0"`,
		name: func(i int) string { return fmt.Sprintf("hot-%d", i) }}
}

// hotReactProject is bench's React project of n components, C<i> in
// src/c<i>.jsx rendering C<10i+1> … C<10i+10>; the last one shows its
// label in #out and is the one edited.
func hotReactProject(b *testing.B, n int) *hotProject {
	pkgs := npmFixture(b, "react19")
	dir := b.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "src"), 0o755); err != nil {
		b.Fatal(err)
	}
	component := func(i int, label string) string {
		var sb strings.Builder
		sb.WriteString("import { useState } from 'react';\n")
		var kids []int
		for c := 10*i + 1; c <= 10*i+10 && c < n; c++ {
			fmt.Fprintf(&sb, "import { C%d } from './c%d.jsx';\n", c, c)
			kids = append(kids, c)
		}
		text := fmt.Sprintf("<span>c%d</span>", i)
		if i == n-1 {
			sb.WriteString(runMark)
			text = fmt.Sprintf("<span id=\"out\">{%q}</span>", label)
		}
		fmt.Fprintf(&sb, "\nexport function C%d() {\n  const [n, setN] = useState(0);\n  return (\n    <div className=\"c\">\n      %s\n"+
			"      <button onClick={() => setN(n + 1)}>{n}</button>\n", i, text)
		for _, c := range kids {
			fmt.Fprintf(&sb, "      <C%d />\n", c)
		}
		sb.WriteString("    </div>\n  );\n}\n")
		return sb.String()
	}
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	for i := range n {
		write(fmt.Sprintf("src/c%d.jsx", i), component(i, "label-0"))
	}
	write("src/main.jsx", "import { createRoot } from 'react-dom/client';\nimport { C0 } from './c0.jsx';\n\n"+
		"createRoot(document.getElementById('root')).render(<><C0 /><p id=\"total\">done</p></>);\n")
	write("package.json", `{"name": "hotsave", "private": true, "type": "module", "dependencies": {"react": "*", "react-dom": "*"}}`)
	write("index.html", "<!doctype html><html><head>"+probe+`<script type="module" src="/src/main.jsx"></script></head><body><div id="root"></div></body></html>`)
	if err := os.Symlink(filepath.Join(pkgs, "node_modules"), filepath.Join(dir, "node_modules")); err != nil {
		b.Fatal(err)
	}
	return &hotProject{dir: dir, file: fmt.Sprintf("src/c%d.jsx", n-1), sel: "#out",
		edit: func(s string) string { return component(n-1, s) }, want: func(s string) string { return s },
		wait: `document.getElementById("total")?.textContent === "done"`,
		name: func(i int) string { return fmt.Sprintf("label-%d", i) }}
}

// hotAppProject is testdata/apps/react-ts with the probe in its page and
// React and react-refresh of testdata/npm/react19 (the app's own
// node_modules, installed without its dev dependencies, lack
// react-refresh): the edit is the text of its <h1>, in App.tsx.
func hotAppProject(b *testing.B) *hotProject {
	dir := appFixture(b, "react-ts")
	modules := filepath.Join(dir, "node_modules")
	if err := os.Remove(modules); err != nil {
		b.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(npmFixture(b, "react19"), "node_modules"), modules); err != nil {
		b.Fatal(err)
	}
	read := func(name string) string {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			b.Fatal(err)
		}
		return string(data)
	}
	const h1 = "<h1>Get started</h1>"
	app, page := read("src/App.tsx"), read("index.html")
	if !strings.Contains(app, h1) || !strings.Contains(page, "<head>") {
		b.Fatalf("react-ts has no %s in App.tsx or no <head> in its page", h1)
	}
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte(strings.Replace(page, "<head>", "<head>"+probe, 1)), 0o644); err != nil {
		b.Fatal(err)
	}
	return &hotProject{dir: dir, file: "src/App.tsx", sel: "h1",
		edit: func(s string) string { return runMark + strings.Replace(app, h1, "<h1>"+s+"</h1>", 1) },
		want: func(s string) string { return s },
		wait: `document.querySelector("h1")?.textContent === "Get started"`,
		name: func(i int) string { return fmt.Sprintf("Get started %d", i) }}
}

// hotTimes are one save's times, in ms from the write.
type hotTimes struct {
	batch, buildStart, buildEnd, published  float64 // the server's
	sse, ev, fetchStart, fetchEnd, run, dom float64 // the page's
}

func benchHotSave(b *testing.B, p *hotProject) {
	var mu sync.Mutex
	var batched, reported time.Time
	var buildDur time.Duration
	ts := startServer(b, p.dir, "127.0.0.1:0", Options{
		batchHook: func(_ []watcher.Change, started bool) {
			if started {
				mu.Lock()
				batched = time.Now()
				mu.Unlock()
			}
		},
		OnReport: func(r Report) {
			mu.Lock()
			reported, buildDur = time.Now(), r.Duration
			mu.Unlock()
		},
	})
	ts.dropReports(b) // its copies: the hooks above take what is timed
	tab := browsertest.New(b)
	if err := chromedp.Do(tab, chromedp.Navigate(ts.URL)); err != nil {
		b.Fatal(err)
	}
	if err := browsertest.WaitJS(tab, `window.__devserve?.connected && `+p.wait, time.Minute); err != nil {
		b.Fatal(err)
	}
	if err := browsertest.MarkPage(tab); err != nil {
		b.Fatal(err)
	}

	var all []hotTimes
	for i := 0; b.Loop(); i++ {
		time.Sleep(200 * time.Millisecond) // a person's pause: everything goes idle
		text := p.name(i + 1)
		offset := pageOffset(b, tab)
		// The page waits for the edit with a promise, which one evaluate
		// awaits: no polling on the page's thread.
		arm := fmt.Sprintf(`window.__probe.arm(%q, %q).then(JSON.stringify)`, p.sel, p.want(text))
		if err := chromedp.Do(tab, chromedp.Evaluate[chromedp.Void](`window.__probe.armed = `+arm)); err != nil {
			b.Fatal(err)
		}
		got := make(chan string, 1)
		errs := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(tab, 30*time.Second)
			defer cancel()
			res, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.__probe.armed`, chromedp.EvalAwaitPromise))
			if err != nil {
				errs <- err
				return
			}
			got <- res
		}()
		t0 := time.Now()
		if err := os.WriteFile(filepath.Join(p.dir, p.file), []byte(p.edit(text)), 0o644); err != nil {
			b.Fatal(err)
		}
		var raw string
		select {
		case raw = <-got:
		case err := <-errs:
			b.Fatalf("save %d: %v", i, err)
		}
		var pg struct{ Ev, Sse, Run, Dom, FetchStart, FetchEnd float64 }
		if err := json.Unmarshal([]byte(raw), &pg); err != nil {
			b.Fatal(err)
		}
		mu.Lock()
		goMs := func(t time.Time) float64 { return float64(t.Sub(t0).Microseconds()) / 1000 }
		// The page's wall clock, in ms after t0.
		pageMs := func(v float64) float64 {
			if v == 0 {
				return 0
			}
			return v - offset - float64(t0.UnixMicro())/1000
		}
		h := hotTimes{batch: goMs(batched), published: goMs(reported),
			sse: pageMs(pg.Sse), ev: pageMs(pg.Ev), fetchStart: pageMs(pg.FetchStart), fetchEnd: pageMs(pg.FetchEnd),
			run: pageMs(pg.Run), dom: pageMs(pg.Dom)}
		h.buildEnd = h.batch + float64(buildDur.Microseconds())/1000 // the build started as the batch came
		h.buildStart = h.batch
		mu.Unlock()
		all = append(all, h)
		if testing.Verbose() {
			b.Logf("save %d, ms from the write: batch %.1f, built %.1f, published %.1f, sse %.1f, event %.1f, fetch %.1f-%.1f, run %.1f, dom %.1f",
				i, h.batch, h.buildEnd, h.published, h.sse, h.ev, h.fetchStart, h.fetchEnd, h.run, h.dom)
		}
	}
	if same, err := browsertest.SamePage(tab); err != nil || !same {
		b.Fatalf("the page reloaded during the saves (same=%v, err=%v)", same, err)
	}
	med := func(f func(h hotTimes) float64) float64 {
		v := make([]float64, len(all))
		for i, h := range all {
			v[i] = f(h)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	fetched := func(h hotTimes) float64 { // the code in hand
		if h.fetchEnd > 0 {
			return h.fetchEnd
		}
		return h.ev
	}
	b.ReportMetric(med(func(h hotTimes) float64 { return h.batch }), "batch-ms")
	b.ReportMetric(med(func(h hotTimes) float64 { return h.buildEnd - h.buildStart }), "build-ms")
	b.ReportMetric(med(func(h hotTimes) float64 { return h.published - h.buildEnd }), "publish-ms")
	b.ReportMetric(med(func(h hotTimes) float64 { return h.ev - h.published }), "event-ms")
	b.ReportMetric(med(func(h hotTimes) float64 { return h.sse - h.published }), "sse-ms")
	b.ReportMetric(med(func(h hotTimes) float64 { return fetched(h) - h.ev }), "fetch-ms")
	b.ReportMetric(med(func(h hotTimes) float64 { return max(0, h.fetchEnd-h.fetchStart) }), "request-ms")
	b.ReportMetric(med(func(h hotTimes) float64 { return h.run - fetched(h) }), "run-ms")
	b.ReportMetric(med(func(h hotTimes) float64 { return h.dom - h.run }), "render-ms")
	b.ReportMetric(med(func(h hotTimes) float64 { return h.dom }), "total-ms")
}

// pageOffset is the page's wall clock (performance.timeOrigin +
// performance.now(), in ms) minus Go's, by the shortest of three round
// trips.
func pageOffset(b *testing.B, tab context.Context) float64 {
	best, off := time.Duration(1<<62), 0.0
	for range 3 {
		before := time.Now()
		v, err := chromedp.Run(tab, chromedp.Evaluate[float64](`performance.timeOrigin + performance.now()`))
		after := time.Now()
		if err != nil {
			b.Fatal(err)
		}
		if rt := after.Sub(before); rt < best {
			mid := before.Add(rt / 2)
			best, off = rt, v-float64(mid.UnixMicro())/1000
		}
	}
	return off
}
