package client

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/devserve/devserve/internal/browsertest"
)

// The tests of client_browser_test.go run the client alone: their
// fakeServer has no worker.js, so the client holds its own stream. These
// run it with the SharedWorker, through front, which serves worker.js and
// passes everything else to a fakeServer.

// front serves WorkerPath itself and proxies the rest to a fakeServer.
type front struct {
	url string
}

func newFront(t *testing.T, fs *fakeServer) *front {
	target, err := url.Parse(fs.url)
	if err != nil {
		t.Fatal(err)
	}
	f := &front{}
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(target) }}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+WorkerPath, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Write(WorkerSource())
	})
	mux.Handle("/", rp)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

// openTab opens a tab of browser on u, watching its console.
func openTab(t *testing.T, browser context.Context, fs *fakeServer, u string) *env {
	t.Helper()
	e := &env{t: t, srv: fs, tab: browsertest.NewTab(t, browser)}
	e.console = browsertest.Console(t, e.tab)
	if err := chromedp.Do(e.tab, chromedp.Navigate(u)); err != nil {
		t.Fatal(err)
	}
	return e
}

// noStream fails the test if an event stream was opened and not taken.
func (s *fakeServer) noStream(t *testing.T) {
	t.Helper()
	select {
	case st := <-s.streams:
		t.Fatalf("unexpected event stream (lastEventId %q)", st.lastEventID)
	default:
	}
}

func TestWorker(t *testing.T) {
	browser := browsertest.New(t)
	fs := newFakeServer(t, "b1", "")
	fr := newFront(t, fs)

	// The first tab starts the worker, which opens the stream.
	a := openTab(t, browser, fs, fr.url)
	fs.nextLoad(t)
	st := fs.nextStream(t)
	if st.lastEventID != "" {
		t.Errorf("first stream with ?lastEventId=%q", st.lastEventID)
	}
	st.send(t, 1, "sync", map[string]any{"build": "b1", "status": "ok"})
	a.waitJS(`__devserve.events === 1 && __devserve.status === "ok" && __devserve.connected`)

	// The second shares it, and starts from the worker's state.
	b := openTab(t, browser, fs, fr.url)
	fs.nextLoad(t)
	b.waitJS(`__devserve.events === 1 && __devserve.status === "ok" && __devserve.connected && __devserve.lastEventId === "1"`)
	fs.noStream(t)
	tabs := []*env{a, b}
	for _, e := range tabs {
		e.mark()
	}

	st.send(t, 2, "building", map[string]any{"build": "b1", "changed": []string{"style.css"}})
	for _, e := range tabs {
		e.waitJS(`__devserve.events === 2 && __devserve.status === "building"`)
	}
	st.send(t, 3, "built", map[string]any{"build": "b1", "updates": []any{}})
	for _, e := range tabs {
		e.waitJS(`__devserve.events === 3 && __devserve.status === "ok"`)
	}

	// The server drops the stream and refuses once: the worker reconnects
	// with backoff and resumes, and every tab says so.
	fs.set(func(s *fakeServer) { s.refuse = 1 })
	closed := time.Now()
	st.close()
	for _, e := range tabs {
		e.waitLog("[devserve] connection lost, reconnecting")
	}
	refused := fs.nextRefused(t)
	st = fs.nextStream(t)
	if st.lastEventID != "3" || st.header != "" {
		t.Errorf("reconnected with ?lastEventId=%q, Last-Event-ID %q; want 3 and none", st.lastEventID, st.header)
	}
	if d := refused.Sub(closed); d < 65*time.Millisecond {
		t.Errorf("first retry after %v, want about 100 ms", d)
	}
	if d := st.opened.Sub(refused); d < 135*time.Millisecond {
		t.Errorf("second retry after %v, want about 200 ms", d)
	}
	// Connected again, a tab's state is what it was before the loss, as
	// the stream resumes with nothing missed.
	for _, e := range tabs {
		e.waitJS(`__devserve.connected && __devserve.status === "ok"`)
	}
	st.send(t, 4, "sync", map[string]any{"build": "b1", "status": "ok"})
	for _, e := range tabs {
		e.waitJS(`__devserve.events === 4 && __devserve.connected && __devserve.status === "ok"`)
		e.waitLog("[devserve] reconnected")
		e.mustBeSamePage()
	}

	// A tab whose page is older than the worker's state reloads once.
	st.send(t, 5, "built", map[string]any{"build": "b2", "updates": []any{}})
	for _, e := range tabs {
		e.waitJS(`__devserve.build === "b2"`)
	}
	c := &env{t: t, srv: fs, tab: browsertest.NewTab(t, browser)}
	c.console = browsertest.Console(t, c.tab)
	navigated := make(chan error, 1)
	go func() { navigated <- chromedp.Do(c.tab, chromedp.Navigate(fr.url)) }()
	fs.nextLoad(t) // of build b1: the next is of b2
	fs.set(func(s *fakeServer) { s.build = "b2" })
	if err := <-navigated; err != nil {
		t.Fatal(err)
	}
	c.waitLog("[devserve] reloading: page is build b1, server has b2")
	fs.nextLoad(t)
	c.waitJS(`__devserve.build === "b2" && __devserve.status === "ok" && __devserve.connected`)
	c.mark()
	tabs = append(tabs, c)

	// Module mode serves after a first page bundled (hmr's BundleFirst):
	// a page that runs no bundle stays, with module mode's build as its
	// own, and so does the worker's state: a tab that joins later with a
	// page of that build does not reload.
	st.send(t, 6, "reload", map[string]any{"reason": "module mode serves", "bundled": true, "build": "b3"})
	for _, e := range tabs {
		e.waitJS(`__devserve.build === "b3"`)
	}
	fs.set(func(s *fakeServer) { s.build = "b3" })
	d := openTab(t, browser, fs, fr.url)
	fs.nextLoad(t)
	d.waitJS(`__devserve.events === 1 && __devserve.build === "b3" && __devserve.connected`)
	d.mark()
	tabs = append(tabs, d)
	st.send(t, 7, "building", map[string]any{"build": "b3", "changed": []string{"style.css"}})
	for _, e := range tabs {
		e.waitJS(`__devserve.status === "building"`)
		e.mustBeSamePage()
	}

	// pagehide closes a tab's port. When the last tab leaves, the worker
	// closes the stream (Chrome freezes a worker whose tabs are all in the
	// back/forward cache, so that happens when a tab comes back), and the
	// next tab starts a new one.
	for _, e := range tabs {
		if err := chromedp.Do(e.tab, chromedp.Navigate("about:blank")); err != nil {
			t.Fatal(err)
		}
	}
	fs.noLoad(t)
	if err := chromedp.Do(a.tab, chromedp.Navigate(fr.url)); err != nil {
		t.Fatal(err)
	}
	fs.nextLoad(t)
	if st := fs.nextStream(t); st.lastEventID != "" {
		t.Errorf("new stream with ?lastEventId=%q, want none", st.lastEventID)
	}
}
