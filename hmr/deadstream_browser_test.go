package hmr

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/devserve/devserve/internal/browsertest"
)

// TestBrowserDeadStream: the connection of the page's event stream dies
// without a word while a build happens. The page notices the missing
// heartbeats, reconnects, gets the events it missed and applies them,
// with no reload: through its SharedWorker, and alone (a browser without
// SharedWorker).
func TestBrowserDeadStream(t *testing.T) {
	browser := browsertest.New(t)
	for _, alone := range []bool{false, true} {
		name := map[bool]string{false: "worker", true: "alone"}[alone]
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeTestFile(t, dir, "index.html", `<!doctype html><link rel="icon" href="data:,"><p id="out">loading</p><script type="module" src="/main.js"></script>`)
			writeTestFile(t, dir, "main.js", "document.getElementById('out').textContent = 'one'\nimport.meta.hot.accept()\n")
			ts := startServer(t, dir, "127.0.0.1:0", Options{Heartbeat: 200 * time.Millisecond})
			proxy := newUnplugProxy(t, strings.TrimPrefix(ts.URL, "http://"))
			tab := browsertest.NewTab(t, browser)
			if alone {
				if err := chromedp.Do(tab, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
					_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument,
						page.AddScriptToEvaluateOnNewDocumentParams{Source: "window.SharedWorker = undefined"})
					return err
				})); err != nil {
					t.Fatal(err)
				}
			}
			openPage(t, tab, proxy.URL()+"/")
			waitJS(t, tab, outText("one")+` && `+pageOK)
			if err := browsertest.MarkPage(tab); err != nil {
				t.Fatal(err)
			}
			events := evalJS[float64](t, tab, `window.__devserve.events`)

			proxy.blackhole()
			ts.write(t, "main.js", "document.getElementById('out').textContent = 'two'\nimport.meta.hot.accept()\n")
			if r := ts.nextReport(t); r.Event != EventBuilt {
				t.Fatalf("report %+v, want a build", r)
			}
			// The build's events went nowhere; the page hears them once
			// it has reconnected, replayed from the history.
			waitJS(t, tab, outText("two")+` && `+pageOK)
			if got := evalJS[float64](t, tab, `window.__devserve.events`); got < events+2 {
				t.Errorf("events %v after %v, want the missed building and built", got, events)
			}
			samePage(t, tab, "a stream that died without a word")
		})
	}
}
