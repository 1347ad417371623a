package hmr

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/devserve/devserve/internal/browsertest"
)

const browserWait = 15 * time.Second

// openLive starts a server on a copy of testdata/live and a browser tab on
// its page, and waits until the page ran and its client is connected.
func openLive(t *testing.T) (*testServer, context.Context) {
	t.Helper()
	ts := startServer(t, copyFixture(t, "live"), "127.0.0.1:0", Options{})
	tab := browsertest.New(t)
	navigate(t, tab, ts.URL)
	return ts, tab
}

func navigate(t *testing.T, tab context.Context, url string) {
	t.Helper()
	if err := chromedp.Do(tab, chromedp.Navigate(url)); err != nil {
		t.Fatalf("navigate %s: %v", url, err)
	}
	waitJS(t, tab, `window.__devserve.connected && document.getElementById("out").textContent !== "loading"`)
}

func waitJS(t *testing.T, tab context.Context, expr string) {
	t.Helper()
	if err := browsertest.WaitJS(tab, expr, browserWait); err != nil {
		state, _ := chromedp.Run(tab, chromedp.Evaluate[string](`JSON.stringify({text: document.getElementById("out") && document.getElementById("out").textContent, devserve: window.__devserve, runs: sessionStorage.getItem("runs")})`))
		t.Fatalf("%v\npage state: %s", err, state)
	}
}

func evalJS[T any](t *testing.T, tab context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(tab, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func runs(t *testing.T, tab context.Context) int {
	t.Helper()
	n, _ := strconv.Atoi(evalJS[string](t, tab, `sessionStorage.getItem("runs") || "0"`))
	return n
}

func outText(v string) string {
	return fmt.Sprintf(`document.getElementById("out").textContent === %q`, v)
}

func TestBrowserJSEdit(t *testing.T) {
	ts, tab := openLive(t)
	waitJS(t, tab, outText("one"))
	ts.write(t, "value.js", `export const value = "two";`)
	waitJS(t, tab, outText("two"))
	if r := ts.nextReport(t); r.Event != EventBuilt || len(r.Updates) != 1 || r.Updates[0].Path != "/value.js" || r.Clients != 1 {
		t.Errorf("report = %+v, want a built update of /value.js told to 1 browser", r)
	}
	// Nothing accepts value.js: the page reloaded once.
	if n := runs(t, tab); n != 2 {
		t.Errorf("the page ran %d times, want 2", n)
	}
}

func TestBrowserCSSEdit(t *testing.T) {
	ts, tab := openLive(t)
	if err := browsertest.MarkPage(tab); err != nil {
		t.Fatal(err)
	}
	color := `getComputedStyle(document.getElementById("out")).color`
	if got := evalJS[string](t, tab, color); got != "rgb(255, 0, 0)" {
		t.Fatalf("color = %s before the edit", got)
	}
	ts.write(t, "style.css", "#out { color: rgb(0, 0, 255); }\n")
	waitJS(t, tab, color+` === "rgb(0, 0, 255)"`)
	if same, err := browsertest.SamePage(tab); err != nil || !same {
		t.Errorf("the page navigated on a CSS edit (same=%v, err=%v)", same, err)
	}
	waitJS(t, tab, `document.querySelectorAll('link[rel="stylesheet"]').length === 1`)
	if r := ts.nextReport(t); r.Reload || len(r.Updates) != 1 || r.Updates[0] != (Update{Type: "css", Path: "/style.css"}) {
		t.Errorf("report = %+v, want one css update and no reload", r)
	}
}

func TestBrowserErrorOverlay(t *testing.T) {
	ts, tab := openLive(t)
	ts.write(t, "value.js", "export const value = ;\n")
	overlay := `document.querySelector("devserve-overlay")`
	waitJS(t, tab, overlay+` && `+overlay+`.shadowRoot.textContent.includes("value.js:1:")`)
	if r := ts.nextReport(t); r.Event != EventErrors || len(r.Errors) == 0 || r.Errors[0].File != "value.js" {
		t.Errorf("report = %+v, want errors in value.js", r)
	}
	ts.write(t, "value.js", `export const value = "fixed";`)
	waitJS(t, tab, outText("fixed")+` && !`+overlay)
}

func TestBrowserServerRestart(t *testing.T) {
	dir := copyFixture(t, "live")
	ts := startServer(t, dir, "127.0.0.1:0", Options{})
	tab := browsertest.New(t)
	navigate(t, tab, ts.URL)
	addr := strings.TrimPrefix(ts.URL, "http://")

	ts.stop()
	waitJS(t, tab, `!window.__devserve.connected`)
	ts.write(t, "value.js", `export const value = "after restart";`)
	ts2 := startServer(t, dir, addr, Options{})
	if err := browsertest.WaitJS(tab, outText("after restart"), 5*time.Second); err != nil {
		t.Fatalf("the page did not show the new code within 5 s of the restart: %v", err)
	}
	waitJS(t, tab, `window.__devserve.connected`)
	if n := runs(t, tab); n != 2 {
		t.Errorf("the page ran %d times, want 2 (one reload)", n)
	}
	ts2.noReport(t)
}

func TestBrowserBurst(t *testing.T) {
	ts, tab := openLive(t)
	const n = 200
	for i := range n - 1 {
		ts.write(t, fmt.Sprintf("m/%d.js", i), fmt.Sprintf("export const v = \"burst %d\";\n", i))
	}
	ts.write(t, "value.js", fmt.Sprintf("export { v as value } from \"./m/%d.js\";\n", n-2))
	final := fmt.Sprintf("burst %d", n-2)
	waitJS(t, tab, outText(final))
	builds := 0
	for {
		r := ts.nextReport(t)
		builds++
		if r.Event == EventBuilt {
			break
		}
	}
	if builds > 2 {
		t.Errorf("%d files written at once took %d builds, want at most 2", n, builds)
	}
	waitJS(t, tab, outText(final)+` && window.__devserve.status === "ok"`)
}

func TestBrowserTwoTabs(t *testing.T) {
	ts, tab := openLive(t)
	tab2 := browsertest.NewTab(t, tab)
	navigate(t, tab2, ts.URL)
	ts.write(t, "value.js", `export const value = "both";`)
	waitJS(t, tab, outText("both"))
	waitJS(t, tab2, outText("both"))
	// The tabs share one stream, held by the client's SharedWorker.
	if r := ts.nextReport(t); r.Clients != 1 {
		t.Errorf("report told %d streams, want 1 shared by both tabs", r.Clients)
	}
}

func TestBrowserNoBuildWithoutChange(t *testing.T) {
	ts, tab := openLive(t)
	// Through a rename: a write in place can be seen as two batches (the
	// file truncated, then written), whose second build would come late.
	ts.writeAtomic(t, "value.js", `export const value = "two";`)
	waitJS(t, tab, outText("two"))
	ts.nextReport(t)
	waitJS(t, tab, `window.__devserve.connected`)
	if err := browsertest.MarkPage(tab); err != nil {
		t.Fatal(err)
	}

	// Saves go through a rename, as editors do: a write in place can be
	// seen half done (truncated), which is a real change.
	for _, tc := range []struct{ name, file, content string }{
		{"file outside the build", "notes.txt", "still not part of any build"},
		{"same bytes", "value.js", `export const value = "two";`},
	} {
		ts.writeAtomic(t, tc.file, tc.content)
		if b := ts.nextBatch(t, tc.file); b.started {
			t.Errorf("%s: a save started a build", tc.name)
		}
		ts.noReport(t)
	}
	// Saving the page with the same bytes may let the bundler look for
	// new entries in it, but reloads nothing.
	ts.writeAtomic(t, "index.html", string(readFile(t, filepath.Join(ts.dir, "index.html"))))
	ts.nextBatch(t, "index.html")
	for len(ts.reports) > 0 {
		if r := ts.nextReport(t); r.Reload {
			t.Errorf("saving the page with the same bytes: %+v", r)
		}
	}
	// A real edit after them: the page must not have reloaded before it.
	ts.write(t, "style.css", "#out { color: rgb(0, 128, 0); }\n")
	waitJS(t, tab, `getComputedStyle(document.getElementById("out")).color === "rgb(0, 128, 0)"`)
	if same, _ := browsertest.SamePage(tab); !same {
		t.Error("the page reloaded")
	}
}
