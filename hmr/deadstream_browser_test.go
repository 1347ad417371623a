package hmr

import (
	"context"
	"errors"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/devserve/devserve/internal/browsertest"
)

// holeProxy forwards TCP connections to a server until blackhole: from
// then on the connections open at that moment stay open but carry nothing
// either way, as when a laptop sleeps or a proxy drops a connection
// without a FIN. Connections made later are forwarded.
type holeProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []*holeConn
	wg     sync.WaitGroup
}

type holeConn struct {
	client, server net.Conn
	dead           atomic.Bool
}

func newHoleProxy(t *testing.T, target string) *holeProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &holeProxy{ln: ln, target: target}
	p.wg.Go(p.accept)
	t.Cleanup(p.close)
	return p
}

func (p *holeProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		hc := &holeConn{client: c, server: s}
		p.mu.Lock()
		p.conns = append(p.conns, hc)
		p.mu.Unlock()
		p.wg.Go(func() { hc.pipe(s, c) })
		p.wg.Go(func() { hc.pipe(c, s) })
	}
}

// pipe copies from src to dst while the connection is alive; once dead,
// it reads and drops what comes, and never closes dst: nothing arrives,
// not even the end.
func (hc *holeConn) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !hc.dead.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if !hc.dead.Load() || !errors.Is(err, io.EOF) {
				dst.Close()
			}
			return
		}
	}
}

// blackhole silences every connection open now.
func (p *holeProxy) blackhole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, hc := range p.conns {
		hc.dead.Store(true)
	}
}

func (p *holeProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	for _, hc := range p.conns {
		hc.client.Close()
		hc.server.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

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
			u, err := url.Parse(ts.URL)
			if err != nil {
				t.Fatal(err)
			}
			proxy := newHoleProxy(t, u.Host)
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
			openPage(t, tab, "http://"+proxy.ln.Addr().String()+"/")
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
