package hmr

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/debugger"
	"github.com/chromedp/chromedp"
	"github.com/devserve/devserve/bundler"
	"github.com/devserve/devserve/internal/browsertest"
	"github.com/devserve/devserve/internal/ssetest"
)

// openHot starts a server in module mode on a copy of testdata/hot and a
// browser tab on its page.
func openHot(t *testing.T) (*testServer, context.Context) {
	t.Helper()
	return openHotDir(t, copyFixture(t, "hot"))
}

// openHotDir is openHot on dir, a copy of testdata/hot.
func openHotDir(t *testing.T, dir string) (*testServer, context.Context) {
	t.Helper()
	ts := startServer(t, dir, "127.0.0.1:0", Options{})
	tab := browsertest.New(t)
	if err := chromedp.Do(tab, chromedp.Navigate(ts.URL)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tab, `window.__devserve.connected && document.getElementById("count").textContent === "COUNT! 0"`)
	if err := browsertest.MarkPage(tab); err != nil {
		t.Fatal(err)
	}
	return ts, tab
}

func textIs(id, want string) string {
	return `document.getElementById(` + quoteJS(id) + `).textContent === ` + quoteJS(want)
}

func quoteJS(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// samePage fails the test if the tab navigated since openHot.
func samePage(t *testing.T, tab context.Context, what string) {
	t.Helper()
	if same, err := browsertest.SamePage(tab); err != nil || !same {
		t.Fatalf("%s: the page reloaded (same=%v, err=%v)", what, same, err)
	}
}

// replaceIn rewrites a file of the project with old replaced by new.
func (ts *testServer) replaceIn(t *testing.T, rel, old, new string) {
	t.Helper()
	b := string(readFile(t, ts.dir+"/"+rel))
	if !strings.Contains(b, old) {
		t.Fatalf("%s does not contain %q", rel, old)
	}
	ts.write(t, rel, strings.Replace(b, old, new, 1))
}

// TestBrowserHotUpdateSourceMap: the code of a hot update that the built
// event carries names its source map by URL, not inline, and DevTools
// finds it there: Chromium reports the evaluated update with that map's
// URL, which, taken from the update's, serves the map of the module's
// source.
func TestBrowserHotUpdateSourceMap(t *testing.T) {
	ts, tab := openHot(t)
	ctx, cancel := context.WithTimeout(tab, 20*time.Second)
	defer cancel()
	update := bundler.ModulePrefix + "counter.js?"
	e, err := chromedp.Run(ctx, chromedp.WaitEvent(debugger.ScriptParsed,
		func(e debugger.EventScriptParsed) bool { return strings.Contains(e.URL, update) },
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			if _, err := cdp.Call(ctx, tg, debugger.Enable, debugger.EnableParams{}); err != nil {
				return err
			}
			ts.replaceIn(t, "counter.js", `const text = "count"`, `const text = "clicks"`)
			return nil
		})))
	if err != nil {
		t.Fatalf("no script of counter.js's update parsed: %v", err)
	}
	waitJS(t, tab, textIs("count", "CLICKS! 0"))
	samePage(t, tab, "self-accepting module")
	if r := ts.nextReport(t); len(r.Updates) != 1 || r.Updates[0].Code == "" {
		t.Fatalf("report = %+v, want counter.js's update with its code", r)
	}
	script, err := url.Parse(e.URL)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := script.Parse(e.SourceMapURL)
	if err != nil || e.SourceMapURL == "" || strings.HasPrefix(e.SourceMapURL, "data:") {
		t.Fatalf("the update %s names its map %.80q (%v), want a URL", e.URL, e.SourceMapURL, err)
	}
	resp, sm := ssetest.Request(t, ts.http, "GET", ref.RequestURI())
	if resp.StatusCode != http.StatusOK || !strings.Contains(sm, `counter.js"]`) || !strings.Contains(sm, `const text = \"clicks\"`) {
		t.Errorf("GET %s: %s\n%.500s\nwant the map of counter.js as edited", ref, resp.Status, sm)
	}
}

func TestBrowserHotSelfAccept(t *testing.T) {
	ts, tab := openHot(t)
	for range 3 {
		evalJS[any](t, tab, `document.getElementById("inc").click()`)
	}
	waitJS(t, tab, textIs("count", "COUNT! 3"))

	// The module runs again with the new text; dispose saved the count in
	// data before the new version ran, and the package still works.
	ts.replaceIn(t, "counter.js", `const text = "count"`, `const text = "clicks"`)
	waitJS(t, tab, textIs("count", "CLICKS! 3"))
	samePage(t, tab, "self-accepting module")
	if log := evalJS[string](t, tab, `globalThis.hotLog.join(",")`); log != "run count,dispose count,run clicks" {
		t.Errorf("log = %s, want the old version disposed before the new one ran", log)
	}
	if r := ts.nextReport(t); r.Reload || len(r.Updates) != 1 || r.Updates[0].Path != "/counter.js" || r.Updates[0].URL == "" {
		t.Errorf("report = %+v, want one module update of /counter.js", r)
	}
	// The old version's click handler is gone: one click counts once.
	evalJS[any](t, tab, `document.getElementById("inc").click()`)
	waitJS(t, tab, textIs("count", "CLICKS! 4"))

	// A syntax error shows the overlay; the fix applies as a hot update.
	overlay := `document.querySelector("devserve-overlay")`
	ts.replaceIn(t, "counter.js", `const text = "clicks"`, `const text = "clicks`)
	waitJS(t, tab, overlay+` && `+overlay+`.shadowRoot.textContent.includes("counter.js:")`)
	ts.replaceIn(t, "counter.js", `const text = "clicks`, `const text = "fixed"`)
	waitJS(t, tab, textIs("count", "FIXED! 4")+` && !`+overlay)
	samePage(t, tab, "fix after a syntax error")
	if n := runs(t, tab); n != 1 {
		t.Errorf("the entry ran %d times, want 1", n)
	}
}

// editLabel edits label.js, which the entry accepts, and checks that the
// page shows it with no reload and the entry did not run again: it has run
// runsSoFar times in all.
func editLabel(t *testing.T, ts *testServer, tab context.Context, label string, runsSoFar int) {
	t.Helper()
	ts.write(t, "label.js", `export const label = "`+label+`";`)
	waitJS(t, tab, textIs("label", label))
	samePage(t, tab, "module accepted by its importer")
	if n := runs(t, tab); n != runsSoFar {
		t.Errorf("the entry ran %d times, want %d (it takes the update, it is not replaced)", n, runsSoFar)
	}
}

func TestBrowserHotAcceptDep(t *testing.T) {
	ts, tab := openHot(t)
	editLabel(t, ts, tab, "label two", 1)
	// The built event carried label.js's code: no request for it.
	if fetched := evalJS[bool](t, tab, moduleFetched); fetched {
		t.Error("the page fetched the update whose code the event carried")
	}
}

// moduleFetched is a JS condition: the page requested an update's code.
const moduleFetched = `performance.getEntriesByType("resource").some((e) => e.name.includes("/__devserve/m/"))`

// TestBrowserHotCSP: a page with a Content-Security-Policy that forbids
// eval fetches its updates' code, with no violation of its policy.
func TestBrowserHotCSP(t *testing.T) {
	dir := copyFixture(t, "hot")
	page := string(readFile(t, filepath.Join(dir, "index.html")))
	page = strings.Replace(page, `<meta charset="utf-8">`, `<meta charset="utf-8">`+
		`<meta http-equiv="Content-Security-Policy" content="script-src 'self' 'nonce-n0nce'">`+
		`<script nonce="n0nce">window.violations = []; addEventListener("securitypolicyviolation", (e) => violations.push(e.violatedDirective + " " + e.blockedURI));</script>`, 1)
	page = strings.Replace(page, `<script type="module" src="/main.js">`, `<script type="module" src="/main.js" nonce="n0nce">`, 1)
	writeTestFile(t, dir, "index.html", page)
	ts, tab := openHotDir(t, dir)
	editLabel(t, ts, tab, "label two", 1)
	if fetched := evalJS[bool](t, tab, moduleFetched); !fetched {
		t.Error("the page did not fetch the update")
	}
	noViolations(t, tab)
}

func TestBrowserHotCSSFromJS(t *testing.T) {
	ts, tab := openHot(t)
	color := `getComputedStyle(document.getElementById("styled")).color`
	waitJS(t, tab, color+` === "rgb(255, 0, 0)"`)
	ts.write(t, "style.css", "#styled { color: rgb(0, 0, 255); }\n")
	waitJS(t, tab, color+` === "rgb(0, 0, 255)"`)
	samePage(t, tab, "CSS imported from JS")
	waitJS(t, tab, `document.querySelectorAll('link[rel="stylesheet"]').length === 1`)
}

func TestBrowserHotNoAccepterReloadsOnce(t *testing.T) {
	ts, tab := openHot(t)
	ts.write(t, "plain.js", `export const plain = "plain two";`)
	waitJS(t, tab, textIs("plain", "plain two")+` && window.__devserve.connected`)
	if n := runs(t, tab); n != 2 {
		t.Errorf("the page ran %d times, want 2 (one reload)", n)
	}
	if r := ts.nextReport(t); len(r.Updates) != 1 || r.Updates[0].Path != "/plain.js" {
		t.Errorf("report = %+v, want an update of /plain.js", r)
	}
	// After the reload, hot updates work on the new page.
	if err := browsertest.MarkPage(tab); err != nil {
		t.Fatal(err)
	}
	editLabel(t, ts, tab, "after reload", 2)
}

// TestBrowserChunks: a page whose entry reaches more modules than one
// script holds loads its chunks, and an edit shows after the reload.
func TestBrowserChunks(t *testing.T) {
	dir := t.TempDir()
	var main strings.Builder
	main.WriteString("let total = 0;\n")
	const n = 600
	for i := range n {
		fmt.Fprintf(&main, "import { v as v%d } from './m/%d.js'; total += v%d;\n", i, i, i)
		writeTestFile(t, dir, fmt.Sprintf("m/%d.js", i), "export const v = 1;\n")
	}
	main.WriteString("sessionStorage.setItem('runs', String(Number(sessionStorage.getItem('runs') || 0) + 1));\n" +
		"document.getElementById('out').textContent = 'total ' + total;\n")
	writeTestFile(t, dir, "main.js", main.String())
	writeTestFile(t, dir, "index.html", `<!doctype html><script type="module" src="/main.js"></script><p id="out">loading</p>`)
	ts := startServer(t, dir, "127.0.0.1:0", Options{})
	tab := browsertest.New(t)
	navigate(t, tab, ts.URL)
	waitJS(t, tab, outText(fmt.Sprintf("total %d", n)))
	ts.write(t, "m/7.js", "export const v = 101;\n")
	waitJS(t, tab, outText(fmt.Sprintf("total %d", n+100)))
	if r := runs(t, tab); r != 2 {
		t.Errorf("the page ran %d times, want 2", r)
	}
}

func writeTestFile(t *testing.T, dir, rel, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
