package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/devserve/devserve/internal/browsertest"
)

// These tests run client.js in headless Chromium against fakeServer, an
// HTTP server whose event stream the test writes frame by frame. They wait
// on channels (the server reports page loads, stream connections and CSS
// requests) and on conditions in the page, never on sleeps.

// timeout bounds each single wait of a test.
const timeout = 15 * time.Second

// fakeServer serves a page with the client's tag, client.js, a stylesheet
// and an event stream that the test drives; and, for the tests of the
// module runtime, hmr.js and the files the test gives it (entry scripts,
// update scripts, stylesheets).
type fakeServer struct {
	url  string
	quit chan struct{}

	mu     sync.Mutex
	build  string                   // the build of the page
	head   string                   // more HTML for the page's <head>
	files  map[string]string        // a URL without its n param -> its body
	served []string                 // the URL of each request for a file
	color  string                   // the color of #box in /style.css
	refuse int                      // refuse this many event streams with 503
	holds  map[string]chan struct{} // ?v= of /style.css, or a file's key -> held until closed

	loads   chan string    // the URL of each page load
	streams chan *stream   // each event stream opened
	refused chan time.Time // the time of each refused event stream
	css     chan string    // the ?v= of each request for /style.css
}

// stream is one event stream of fakeServer, as the client opened it.
type stream struct {
	lastEventID string // the ?lastEventId= of the request
	header      string // the Last-Event-ID header of the request
	opened      time.Time
	frames      chan string
	closeOnce   sync.Once
}

func newFakeServer(t *testing.T, build, head string) *fakeServer {
	s := &fakeServer{
		quit:    make(chan struct{}),
		build:   build,
		head:    head,
		color:   "rgb(255, 0, 0)",
		holds:   map[string]chan struct{}{},
		files:   map[string]string{},
		loads:   make(chan string, 100),
		streams: make(chan *stream, 100),
		refused: make(chan time.Time, 100),
		css:     make(chan string, 100),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.page)
	mux.HandleFunc("GET /style.css", s.style)
	mux.HandleFunc("GET "+Path, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Write(Source())
	})
	mux.HandleFunc("GET "+EventsPath, s.events)
	mux.HandleFunc("GET "+HMRPath, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Write(HMRSource())
	})
	mux.HandleFunc("GET "+ErrorsPath, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Write(ErrorsSource())
	})
	mux.HandleFunc("GET /", s.file)
	srv := httptest.NewServer(mux)
	s.url = srv.URL
	t.Cleanup(func() {
		close(s.quit)
		srv.Close()
	})
	return s
}

func (s *fakeServer) page(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	build, head := s.build, s.head
	s.mu.Unlock()
	s.loads <- r.URL.String()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprintf(w, `<!doctype html>
<html><head><meta charset="utf-8"><title>devserve client test</title>
<link rel="stylesheet" href="/style.css">
%s%s
</head><body><div id="box">box</div></body></html>`, Tag(build), head)
}

// file serves s.files, as JavaScript unless the path ends in .css and the
// query is not ?module. The key of /__devserve/m/a.js?v=2&n=5 is
// /__devserve/m/a.js?v=2: hmr.js adds n to each URL it imports. A key that
// is in s.holds waits until the test releases it.
func (s *fakeServer) file(w http.ResponseWriter, r *http.Request) {
	var query []string
	for _, p := range strings.Split(r.URL.RawQuery, "&") {
		if p != "" && p != "n" && !strings.HasPrefix(p, "n=") {
			query = append(query, p)
		}
	}
	key := r.URL.Path
	if len(query) > 0 {
		key += "?" + strings.Join(query, "&")
	}
	s.mu.Lock()
	s.served = append(s.served, r.URL.RequestURI())
	body, ok := s.files[key]
	hold := s.holds[key]
	s.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-r.Context().Done():
			return
		case <-s.quit:
			return
		}
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	if strings.HasSuffix(r.URL.Path, ".css") && !strings.Contains(key, "?module") {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	}
	w.Header().Set("Cache-Control", "no-store")
	io.WriteString(w, body)
}

func (s *fakeServer) style(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query().Get("v")
	s.css <- v
	s.mu.Lock()
	hold := s.holds[v]
	s.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-r.Context().Done():
			return
		case <-s.quit:
			return
		}
	}
	s.mu.Lock()
	color := s.color
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/css")
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprintf(w, "#box { color: %s; }\n", color)
}

func (s *fakeServer) events(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	refuse := s.refuse > 0
	if refuse {
		s.refuse--
	}
	s.mu.Unlock()
	if refuse {
		s.refused <- time.Now()
		http.Error(w, "not now", http.StatusServiceUnavailable)
		return
	}
	st := &stream{
		lastEventID: r.URL.Query().Get("lastEventId"),
		header:      r.Header.Get("Last-Event-ID"),
		opened:      time.Now(),
		frames:      make(chan string, 100),
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	// A long retry: a client that left reconnecting to EventSource would
	// come back only after a minute, and the tests would time out.
	io.WriteString(w, "retry: 60000\n\n")
	http.NewResponseController(w).Flush()
	s.streams <- st
	for {
		select {
		case f, ok := <-st.frames:
			if !ok {
				return
			}
			io.WriteString(w, f)
			http.NewResponseController(w).Flush()
		case <-r.Context().Done():
			return
		case <-s.quit:
			return
		}
	}
}

func (s *fakeServer) set(f func(s *fakeServer)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

// hold makes requests for /style.css?v=key, or for the file of key, wait
// until release is called.
func (s *fakeServer) hold(t *testing.T, key string) (release func()) {
	ch := make(chan struct{})
	s.set(func(s *fakeServer) { s.holds[key] = ch })
	var once sync.Once
	release = func() { once.Do(func() { close(ch) }) }
	t.Cleanup(release)
	return release
}

func (s *fakeServer) nextLoad(t *testing.T) string {
	t.Helper()
	select {
	case u := <-s.loads:
		return u
	case <-time.After(timeout):
		t.Fatal("timed out waiting for a page load")
		return ""
	}
}

func (s *fakeServer) nextStream(t *testing.T) *stream {
	t.Helper()
	select {
	case st := <-s.streams:
		return st
	case <-time.After(timeout):
		t.Fatal("timed out waiting for the client to open the event stream")
		return nil
	}
}

func (s *fakeServer) nextRefused(t *testing.T) time.Time {
	t.Helper()
	select {
	case at := <-s.refused:
		return at
	case <-time.After(timeout):
		t.Fatal("timed out waiting for the client to try the event stream again")
		return time.Time{}
	}
}

func (s *fakeServer) nextCSS(t *testing.T) string {
	t.Helper()
	select {
	case v := <-s.css:
		return v
	case <-time.After(timeout):
		t.Fatal("timed out waiting for a request for /style.css")
		return ""
	}
}

// noLoad fails the test if a page load is waiting to be taken.
func (s *fakeServer) noLoad(t *testing.T) {
	t.Helper()
	select {
	case u := <-s.loads:
		t.Fatalf("unexpected page load %s", u)
	default:
	}
}

// send writes an event to the stream.
func (st *stream) send(t *testing.T, id int, event string, data any) {
	t.Helper()
	b, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case st.frames <- fmt.Sprintf("id: %d\nevent: %s\ndata: %s\n\n", id, event, b):
	default:
		t.Fatal("stream buffer full")
	}
}

// close ends the stream, as a server that stops does.
func (st *stream) close() { st.closeOnce.Do(func() { close(st.frames) }) }

// env is a tab with the page of a fakeServer.
type env struct {
	t       *testing.T
	tab     context.Context
	srv     *fakeServer
	console <-chan string
	logs    []string // console lines read so far
}

// open serves a page of build with head in its <head>, loads it in a new
// tab of browser, and returns when its client has connected. The page is
// marked (browsertest.MarkPage), and the stream has sent nothing yet.
func open(t *testing.T, browser context.Context, build, head string) (*env, *stream) {
	t.Helper()
	return openServer(t, browser, newFakeServer(t, build, head))
}

// openServer is open with a server the test has set up.
func openServer(t *testing.T, browser context.Context, srv *fakeServer) (*env, *stream) {
	t.Helper()
	e := &env{t: t, srv: srv}
	e.tab = browsertest.NewTab(t, browser)
	e.console = browsertest.Console(t, e.tab)
	if err := chromedp.Do(e.tab, chromedp.Navigate(e.srv.url)); err != nil {
		t.Fatal(err)
	}
	e.srv.nextLoad(t)
	st := e.srv.nextStream(t)
	e.mark()
	return e, st
}

// openSynced is open, then a sync of the page's own build.
func openSynced(t *testing.T, browser context.Context, build string) (*env, *stream) {
	t.Helper()
	e, st := open(t, browser, build, "")
	st.send(t, 1, "sync", map[string]any{"build": build, "status": "ok"})
	e.waitJS(`__devserve.events === 1 && __devserve.status === "ok" && __devserve.connected`)
	e.mustBeSamePage()
	return e, st
}

func (e *env) mark() {
	e.t.Helper()
	if err := browsertest.MarkPage(e.tab); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) waitJS(expr string) {
	e.t.Helper()
	if err := browsertest.WaitJS(e.tab, expr, timeout); err != nil {
		e.t.Fatalf("%v\nstate: %s", err, e.state())
	}
}

// state is window.__devserve as JSON, for failure messages.
func (e *env) state() string {
	s, err := chromedp.Run(e.tab, chromedp.Evaluate[string](`JSON.stringify(window.__devserve)`))
	if err != nil {
		return err.Error()
	}
	return s
}

func (e *env) eval(expr string, out any) {
	e.t.Helper()
	raw, err := chromedp.Run(e.tab, chromedp.Evaluate[[]byte](expr))
	if err != nil {
		e.t.Fatalf("evaluating %s: %v", expr, err)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		e.t.Fatalf("evaluating %s: %v", expr, err)
	}
}

// mustBeSamePage fails the test if the page reloaded or started to since
// it was marked.
func (e *env) mustBeSamePage() {
	e.t.Helper()
	same, err := browsertest.SamePage(e.tab)
	if err != nil {
		e.t.Fatal(err)
	}
	if !same {
		e.t.Fatal("the page reloaded or navigated; want it updated in place")
	}
}

// waitLog reads console lines until one contains substr, and returns it.
func (e *env) waitLog(substr string) string {
	e.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case line := <-e.console:
			e.logs = append(e.logs, line)
			if strings.Contains(line, substr) {
				return line
			}
		case <-deadline:
			e.t.Fatalf("timed out waiting for a console line with %q; got:\n%s", substr, strings.Join(e.logs, "\n"))
		}
	}
}

// count counts the console lines read so far that contain substr.
func (e *env) count(substr string) int {
	n := 0
	for _, l := range e.logs {
		if strings.Contains(l, substr) {
			n++
		}
	}
	return n
}

func TestBrowser(t *testing.T) {
	browser := browsertest.New(t)

	t.Run("SyncSameBuild", func(t *testing.T) {
		e, st := openSynced(t, browser, "b1")
		var got struct {
			Build, Status, LastEventID string
			Errors                     []any
		}
		e.eval(`window.__devserve`, &got)
		if got.Build != "b1" || got.Status != "ok" || got.LastEventID != "1" || len(got.Errors) != 0 {
			t.Errorf("window.__devserve = %+v", got)
		}
		// building only changes the status.
		st.send(t, 2, "building", map[string]any{"build": "b1", "changed": []string{"src/a.ts"}})
		e.waitJS(`__devserve.events === 2 && __devserve.status === "building"`)
		e.mustBeSamePage()
		e.srv.noLoad(t)
	})

	t.Run("LoadedTwice", func(t *testing.T) {
		e, st := open(t, browser, "b1",
			`<script type="module" src="`+Path+`?build=other&again=1"></script>`)
		e.waitJS(`document.readyState === "complete"`)
		st.send(t, 1, "sync", map[string]any{"build": "b1", "status": "ok"})
		e.waitJS(`__devserve.events === 1 && __devserve.status === "ok"`)
		var build string
		e.eval(`__devserve.build`, &build)
		if build != "b1" {
			t.Errorf("window.__devserve.build = %q; the second copy of the client ran", build)
		}
		e.mustBeSamePage()
	})

	t.Run("CSSSwap", func(t *testing.T) {
		e, st := openSynced(t, browser, "b1")
		e.waitJS(`getComputedStyle(document.getElementById("box")).color === "rgb(255, 0, 0)"`)
		if v := e.srv.nextCSS(t); v != "" {
			t.Fatalf("the page asked for /style.css?v=%s", v)
		}
		e.eval(`window.oldLink = document.querySelector("link[rel=stylesheet]"), true`, new(bool))
		release := e.srv.hold(t, "b2")
		e.srv.set(func(s *fakeServer) { s.color = "rgb(0, 0, 255)" })
		st.send(t, 2, "built", map[string]any{
			"build": "b2", "durationMs": 12, "reload": false,
			"updates": []map[string]string{{"type": "css", "path": "/style.css"}, {"type": "asset", "path": "/logo.png"}},
		})
		if v := e.srv.nextCSS(t); v != "b2" {
			t.Fatalf("the new stylesheet was requested with ?v=%q, want b2", v)
		}
		// While the new sheet loads, the old one stays and styles the page.
		var during struct {
			Links     int
			OldThere  bool
			Color     string
			PendingOK bool
		}
		e.eval(`({
			links: document.querySelectorAll("link[rel=stylesheet]").length,
			oldThere: oldLink.isConnected,
			color: getComputedStyle(document.getElementById("box")).color,
			pendingOK: oldLink.nextElementSibling.hasAttribute("data-devserve-pending"),
		})`, &during)
		if during.Links != 2 || !during.OldThere || during.Color != "rgb(255, 0, 0)" || !during.PendingOK {
			t.Errorf("while the new sheet loads: %+v; want the old link in place next to a pending clone", during)
		}
		release()
		e.waitJS(`getComputedStyle(document.getElementById("box")).color === "rgb(0, 0, 255)" && !oldLink.isConnected`)
		var after struct {
			Hrefs  []string
			Build  string
			Status string
		}
		e.eval(`({
			hrefs: [...document.querySelectorAll("link")].map(l => l.getAttribute("href") + (l.hasAttribute("data-devserve-pending") ? " pending" : "")),
			build: __devserve.build, status: __devserve.status,
		})`, &after)
		if len(after.Hrefs) != 1 || after.Hrefs[0] != e.srv.url+"/style.css?v=b2" {
			t.Errorf("links after the swap = %q, want one %s/style.css?v=b2", after.Hrefs, e.srv.url)
		}
		if after.Build != "b2" || after.Status != "ok" {
			t.Errorf("after the swap, build %q status %q; want b2 ok", after.Build, after.Status)
		}
		e.mustBeSamePage()
		e.srv.noLoad(t)
	})

	t.Run("CSSSwapRace", func(t *testing.T) {
		e, st := openSynced(t, browser, "b1")
		e.waitJS(`getComputedStyle(document.getElementById("box")).color === "rgb(255, 0, 0)"`)
		if v := e.srv.nextCSS(t); v != "" {
			t.Fatalf("the page asked for /style.css?v=%s", v)
		}
		e.srv.hold(t, "b2")
		css := []map[string]string{{"type": "css", "path": "/style.css"}}
		st.send(t, 2, "built", map[string]any{"build": "b2", "updates": css})
		if v := e.srv.nextCSS(t); v != "b2" {
			t.Fatalf("?v=%q, want b2", v)
		}
		// b3 comes while b2 still loads: b3 wins, the b2 clone goes.
		e.srv.set(func(s *fakeServer) { s.color = "rgb(0, 128, 0)" })
		st.send(t, 3, "built", map[string]any{"build": "b3", "updates": css})
		e.waitJS(`getComputedStyle(document.getElementById("box")).color === "rgb(0, 128, 0)"`)
		var hrefs []string
		e.eval(`[...document.querySelectorAll("link")].map(l => l.getAttribute("href") + (l.hasAttribute("data-devserve-pending") ? " pending" : ""))`, &hrefs)
		if len(hrefs) != 1 || hrefs[0] != e.srv.url+"/style.css?v=b3" {
			t.Errorf("links = %q, want only %s/style.css?v=b3", hrefs, e.srv.url)
		}
		e.mustBeSamePage()
	})

	t.Run("BuiltReload", func(t *testing.T) {
		e, st := openSynced(t, browser, "b1")
		e.srv.set(func(s *fakeServer) { s.build = "b2" })
		st.send(t, 2, "built", map[string]any{"build": "b2", "reload": true, "updates": []any{}})
		e.srv.nextLoad(t)
		e.waitLog("[devserve] reloading")
		// The new page is of the new build and stays.
		st2 := e.srv.nextStream(t)
		e.mark()
		st2.send(t, 1, "sync", map[string]any{"build": "b2", "status": "ok"})
		e.waitJS(`__devserve.events === 1 && __devserve.build === "b2"`)
		e.mustBeSamePage()
		e.srv.noLoad(t)
	})

	t.Run("JSUpdateReloads", func(t *testing.T) {
		e, st := openSynced(t, browser, "b1")
		st.send(t, 2, "built", map[string]any{"build": "b2", "updates": []map[string]string{{"type": "js", "path": "/main.js"}}})
		e.srv.nextLoad(t)
		if line := e.waitLog("[devserve] reloading"); !strings.Contains(line, "/main.js") {
			t.Errorf("reload log %q does not name /main.js", line)
		}
	})

	t.Run("ReloadEvent", func(t *testing.T) {
		e, st := openSynced(t, browser, "b1")
		st.send(t, 2, "reload", map[string]any{"reason": "index.html changed"})
		e.srv.nextLoad(t)
		e.waitLog("[devserve] reloading: index.html changed")
	})

	t.Run("Overlay", testOverlay(browser))
	t.Run("RuntimeErrors", testRuntimeErrors(browser))

	// A page served while its scripts had no good build (no build ID in
	// the tag, or a stand-in script that says so) reloads on the first
	// good build, even one that updates nothing.
	for _, tt := range []struct {
		name, build, head string
		first             map[string]any // the sync
		then              []any          // event name and data, if the sync does not reload
	}{
		{"UnbuiltBuilt", "", "",
			map[string]any{"build": "", "status": "error", "errors": []any{map[string]any{"text": "broken", "file": "src/main.ts", "line": 2}}},
			[]any{"built", map[string]any{"build": "b1", "updates": []any{}}}},
		{"UnbuiltSync", "", "", map[string]any{"build": "b1", "status": "ok"}, nil},
		{"StandIn", "b1", `<script>window.__devserve_unbuilt = true;</script>`,
			map[string]any{"build": "b1", "status": "error", "errors": []any{map[string]any{"text": "broken"}}},
			[]any{"built", map[string]any{"build": "b2", "updates": []any{}}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e, st := open(t, browser, tt.build, tt.head)
			st.send(t, 1, "sync", tt.first)
			if tt.then != nil {
				e.waitJS(`__devserve.status === "error" && document.querySelector("devserve-overlay")`)
				e.mustBeSamePage()
				st.send(t, 2, tt.then[0].(string), tt.then[1])
			}
			e.srv.nextLoad(t)
			e.waitLog("[devserve] reloading")
		})
	}

	t.Run("Reconnect", func(t *testing.T) {
		e, st := openSynced(t, browser, "b1")
		st.send(t, 2, "building", map[string]any{"build": "b2", "changed": []string{"a.css"}})
		st.send(t, 3, "built", map[string]any{"build": "b1", "updates": []any{}})
		e.waitJS(`__devserve.events === 3 && __devserve.status === "ok"`)

		// The server goes away, refuses twice, then takes the client back.
		e.srv.set(func(s *fakeServer) { s.refuse = 2 })
		closed := time.Now()
		st.close()
		e.waitLog("[devserve] connection lost, reconnecting")
		r1 := e.srv.nextRefused(t)
		r2 := e.srv.nextRefused(t)
		// Between tries (the next comes in about 400 ms), the page says
		// it is disconnected; once a stream opens, it is as it was.
		var status string
		e.eval(`__devserve.status`, &status)
		if status != "disconnected" {
			t.Errorf("status between tries = %q, want disconnected", status)
		}
		st2 := e.srv.nextStream(t)
		if st2.lastEventID != "3" {
			t.Errorf("reconnected with ?lastEventId=%q, want 3", st2.lastEventID)
		}
		if st2.header != "" {
			t.Errorf("reconnected with Last-Event-ID %q; want the client's own reconnect", st2.header)
		}
		// Backoff: about 100, 200, 400 ms, minus at most 30% jitter. Only
		// lower bounds, which a slow machine cannot break.
		for i, gap := range []struct {
			from, to time.Time
			min      time.Duration
		}{{closed, r1, 70 * time.Millisecond}, {r1, r2, 140 * time.Millisecond}, {r2, st2.opened, 280 * time.Millisecond}} {
			if d := gap.to.Sub(gap.from); d < gap.min-5*time.Millisecond {
				t.Errorf("retry %d came after %v, want at least %v", i+1, d, gap.min)
			}
		}

		st2.send(t, 4, "sync", map[string]any{"build": "b1", "status": "ok"})
		e.waitJS(`__devserve.events === 4 && __devserve.status === "ok" && __devserve.connected && __devserve.lastEventId === "4"`)
		e.waitLog("[devserve] reconnected")
		if n := e.count("connection lost"); n != 1 {
			t.Errorf("logged the lost connection %d times, want once:\n%s", n, strings.Join(e.logs, "\n"))
		}
		e.mustBeSamePage()
		e.srv.noLoad(t)
	})

	t.Run("ReconnectNewBuildReloadsOnce", func(t *testing.T) {
		e, st := openSynced(t, browser, "b1")
		// The server restarts with new code.
		e.srv.set(func(s *fakeServer) { s.build = "b2" })
		st.close()
		st2 := e.srv.nextStream(t)
		if st2.lastEventID != "1" {
			t.Errorf("reconnected with ?lastEventId=%q, want 1", st2.lastEventID)
		}
		st2.send(t, 1, "sync", map[string]any{"build": "b2", "status": "ok"})
		e.srv.nextLoad(t)
		st3 := e.srv.nextStream(t)
		if st3.lastEventID != "" {
			t.Errorf("the reloaded page connected with ?lastEventId=%q, want none", st3.lastEventID)
		}
		e.mark()
		st3.send(t, 1, "sync", map[string]any{"build": "b2", "status": "ok"})
		e.waitJS(`__devserve.events === 1 && __devserve.build === "b2" && __devserve.status === "ok"`)
		e.mustBeSamePage()
		e.srv.noLoad(t)
	})

	t.Run("SyncReloadStorm", func(t *testing.T) {
		// The server serves pages of build "old" but says "new": each sync
		// asks for a reload. The client does 3, then waits until the
		// window allows another: never a storm, never stuck on old code.
		e, st := open(t, browser, "old", "")
		for reload := 1; reload <= 3; reload++ {
			st.send(t, 1, "sync", map[string]any{"build": "new", "status": "ok"})
			e.srv.nextLoad(t)
			st = e.srv.nextStream(t)
		}
		e.mark()
		st.send(t, 1, "sync", map[string]any{"build": "new", "status": "ok"})
		e.waitLog("reloading in")
		e.waitJS(`__devserve.events === 1`)
		e.mustBeSamePage()
		e.srv.noLoad(t)
		if n := e.count("[devserve] reloading:"); n != 3 {
			t.Errorf("logged %d reloads, want 3:\n%s", n, strings.Join(e.logs, "\n"))
		}
		e.srv.nextLoad(t) // when the window allows it
	})
}

// overlayError is an esbuild error on a line with multi-byte characters
// before the column: CJK (3 bytes each) and an emoji (4 bytes, and two
// UTF-16 units but one character).
func overlayError() (msg map[string]any, where, code string) {
	lineText := `let s = "日本😀"; foo(`
	column := strings.Index(lineText, "foo") // bytes, as esbuild counts
	chars := utf8.RuneCountInString(lineText[:column])
	msg = map[string]any{
		"text": `Expected ";" but found "foo"`, "file": "src/app.ts", "line": 3,
		"column": column, "lineText": lineText, "suggestion": ";",
	}
	where = fmt.Sprintf("src/app.ts:3:%d", chars+1)
	code = "3 | " + lineText + "\n  | " + strings.Repeat(" ", chars) + "^"
	return msg, where, code
}

func testOverlay(browser context.Context) func(t *testing.T) {
	return func(t *testing.T) {
		// Page CSS that would hide or restyle a plain overlay.
		hostile := `<style>devserve-overlay { display: none !important; opacity: 0 !important; }
			div, pre { color: lime !important; font-size: 2px !important; }</style>`
		e, st := open(t, browser, "b1", hostile)
		st.send(t, 1, "sync", map[string]any{"build": "b1", "status": "ok"})
		e.waitJS(`__devserve.status === "ok"`)

		msg, where, code := overlayError()
		if where != "src/app.ts:3:16" {
			t.Fatalf("test data: where = %s", where)
		}
		plain := map[string]any{"text": "something else is wrong"}
		errs := map[string]any{"build": "b1", "errors": []any{msg, plain}, "warnings": []any{}}
		shown := `document.querySelector("devserve-overlay")?.shadowRoot?.querySelector(".error") != null`
		gone := `document.querySelector("devserve-overlay") === null`

		id := 2
		showErrors := func() {
			t.Helper()
			st.send(t, id, "errors", errs)
			id++
			e.waitJS(shown + ` && __devserve.status === "error"`)
		}
		showErrors()
		var got struct {
			Where   []string
			Code    []string
			Text    string
			Title   string
			Hit     string
			Display string
			Errors  int
		}
		e.eval(`(() => {
			const host = document.querySelector("devserve-overlay"), r = host.shadowRoot;
			return {
				where: [...r.querySelectorAll(".where")].map(e => e.textContent),
				code: [...r.querySelectorAll("pre")].map(e => e.textContent),
				text: r.textContent,
				title: r.querySelector("h1").textContent,
				hit: document.elementFromPoint(10, 10).tagName,
				display: getComputedStyle(host).display,
				errors: __devserve.errors.length,
			};
		})()`, &got)
		if len(got.Where) != 2 || got.Where[0] != where || got.Where[1] != "" {
			t.Errorf("locations = %q, want [%q, \"\"]", got.Where, where)
		}
		if len(got.Code) != 1 || got.Code[0] != code {
			t.Errorf("code frame =\n%q\nwant\n%q", got.Code, code)
		}
		for _, want := range []string{`Expected ";" but found "foo"`, "something else is wrong", "Suggestion: ;"} {
			if !strings.Contains(got.Text, want) {
				t.Errorf("overlay text does not contain %q:\n%s", want, got.Text)
			}
		}
		if got.Title != "Build failed with 2 errors" || got.Errors != 2 {
			t.Errorf("title %q, %d errors in window.__devserve", got.Title, got.Errors)
		}
		if got.Hit != "DEVSERVE-OVERLAY" || got.Display != "block" {
			t.Errorf("the page's CSS hides the overlay: element at (10,10) is %s, display %s", got.Hit, got.Display)
		}
		e.waitLog("[devserve] " + where + `: Expected ";" but found "foo"`)

		// Escape closes it.
		if err := chromedp.Do(e.tab, chromedp.KeyEvent(kb.Escape)); err != nil {
			t.Fatal(err)
		}
		e.waitJS(gone)

		// So does a click on the backdrop, but not one on the panel.
		showErrors()
		var h1 struct{ X, Y float64 }
		e.eval(`(() => {
			const r = document.querySelector("devserve-overlay").shadowRoot.querySelector("h1").getBoundingClientRect();
			return {x: r.x + r.width / 2, y: r.y + r.height / 2};
		})()`, &h1)
		if err := chromedp.Do(e.tab, chromedp.MouseClickXY(h1.X, h1.Y)); err != nil {
			t.Fatal(err)
		}
		var still bool
		e.eval(shown, &still)
		if !still {
			t.Fatal("a click on the panel closed the overlay")
		}
		if err := chromedp.Do(e.tab, chromedp.MouseClickXY(5, 5)); err != nil {
			t.Fatal(err)
		}
		e.waitJS(gone)

		// And the close button.
		showErrors()
		e.eval(`document.querySelector("devserve-overlay").shadowRoot.querySelector("button").click(), true`, new(bool))
		e.waitJS(gone)

		// The next good build removes it.
		showErrors()
		st.send(t, id, "built", map[string]any{"build": "b2", "updates": []any{}})
		id++
		e.waitJS(gone + ` && __devserve.status === "ok" && __devserve.errors.length === 0 && __devserve.build === "b2"`)

		// After a reconnect, a sync of a failed build shows it too.
		st.close()
		st2 := e.srv.nextStream(t)
		st2.send(t, id, "sync", map[string]any{"build": "b2", "status": "error", "errors": []any{msg}})
		e.waitJS(shown + ` && __devserve.status === "error" && __devserve.errors.length === 1`)
		e.mustBeSamePage()
		e.srv.noLoad(t)
	}
}

// appJS is a module that throws, as esbuild compiles src/app.ts, after
// three lines of something else; appMap is its index source map, with a
// section for those lines and one for the module (esbuild's map of it).
const (
	appJS = "// line 1\n// line 2\n// line 3\n" +
		"function explode(n) {\n  throw new TypeError(`boom ${n}`);\n}\nexport {\n  explode\n};\n" +
		"//# sourceMappingURL=app.js.map\n"
	appMap = `{"version":3,"sections":[` +
		`{"offset":{"line":0,"column":0},"map":{"version":3,"sources":["src/other.ts"],"mappings":"AAAA"}},` +
		`{"offset":{"line":3,"column":0},"map":{"version":3,"sources":["src/app.ts"],` +
		`"sourcesContent":["// A module that throws.\ntype N = number;\nexport function explode(n: N): never {\n  throw new TypeError(` + "`boom ${n}`" + `);\n}\n"],` +
		`"mappings":"AAEO,SAAS,QAAQ,GAAa;AACnC,QAAM,IAAI,UAAU,QAAQ,CAAC,EAAE;AACjC;","names":[]}}]}`
)

// testRuntimeErrors: errors the page throws show on the overlay, mapped to
// the original source, until the next build; not those of other origins.
func testRuntimeErrors(browser context.Context) func(t *testing.T) {
	return func(t *testing.T) {
		srv := newFakeServer(t, "b1", `<script type="module">import { explode } from "/app.js"; window.explode = explode;</script>`)
		srv.set(func(s *fakeServer) {
			s.files["/app.js"] = appJS
			s.files["/app.js.map"] = appMap
		})
		e, st := openServer(t, browser, srv)
		st.send(t, 1, "sync", map[string]any{"build": "b1", "status": "ok"})
		e.waitJS(`__devserve.status === "ok" && window.explode`)
		root := `document.querySelector("devserve-overlay")?.shadowRoot`
		type overlay struct {
			Title, Where, Code, Hint string
			Texts                    []string
		}
		read := func() overlay {
			var o overlay
			e.eval(`(() => { const r = `+root+`; return {
				title: r.querySelector("h1").textContent,
				where: r.querySelector(".where").textContent,
				code: r.querySelector("pre.code")?.textContent || "",
				hint: r.querySelector(".hint").textContent,
				texts: [...r.querySelectorAll(".text")].map((x) => x.textContent),
			}; })()`, &o)
			return o
		}
		gone := `document.querySelector("devserve-overlay") === null`

		// An uncaught error, mapped through the index map.
		e.eval(`setTimeout(() => explode(7)), true`, new(bool))
		e.waitJS(root + `?.querySelector("h1")`)
		got := read()
		want := overlay{Title: "Uncaught TypeError: boom 7", Where: "src/app.ts:4:9",
			Code: "2 | type N = number;\n3 | export function explode(n: N): never {\n4 |   throw new TypeError(`boom ${n}`);\n  |         ^\n5 | }",
			Hint: "Esc or a click outside closes this. The next build clears it.", Texts: []string{}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("overlay =\n%+v\nwant\n%+v", got, want)
		}
		// Escape closes it; the page stays.
		if err := chromedp.Do(e.tab, chromedp.KeyEvent(kb.Escape)); err != nil {
			t.Fatal(err)
		}
		e.waitJS(gone)
		// An unhandled rejection comes next to it.
		e.eval(`Promise.reject(new RangeError("nope")), true`, new(bool))
		e.waitJS(`__devserve.runtimeErrors.length === 2 && ` + root + `?.querySelector("h1")`)
		if got := read(); got.Title != "2 errors at run time" || !slices.Equal(got.Texts, []string{"Uncaught TypeError: boom 7", "Uncaught (in promise) RangeError: nope"}) {
			t.Errorf("overlay = %+v, want both errors", got)
		}
		// The next build clears them.
		st.send(t, 2, "built", map[string]any{"build": "b2", "updates": []any{}})
		e.waitJS(gone + ` && __devserve.runtimeErrors.length === 0`)

		// Errors of other origins' scripts are not shown: an error of a
		// script of another origin, and what browsers leave of one that
		// was not loaded with CORS.
		e.eval(`dispatchEvent(new ErrorEvent("error", {message: "Script error."})),
			dispatchEvent(new ErrorEvent("error", {message: "Uncaught Error: theirs", filename: "https://cdn.example/x.js", lineno: 1, colno: 1, error: new Error("theirs")})),
			setTimeout(() => { throw "plain"; }), true`, new(bool))
		e.waitJS(root + `?.querySelector("h1")`)
		if got := read(); got.Title != "Uncaught plain" {
			t.Errorf("overlay title %q, want only the page's own error", got.Title)
		}
		var n int
		e.eval(`__devserve.runtimeErrors.length`, &n)
		if n != 1 {
			t.Errorf("%d runtime errors, want 1", n)
		}

		// Firefox's and Safari's stacks, and frames of other origins,
		// which are shown as they are.
		var ff struct {
			Title, Where string
			Stack        []string
		}
		raw, err := chromedp.Run(e.tab, chromedp.Evaluate[[]byte](`import("`+ErrorsPath+`").then((m) => m.explain({error: {name: "Error", message: "ff",
			stack: "explode@" + location.origin + "/app.js:5:9\n@https://cdn.example/x.js:1:2\n"}}))`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &ff); err != nil {
			t.Fatal(err)
		}
		if ff.Title != "Uncaught Error: ff" || ff.Where != "src/app.ts:4:9" ||
			!slices.Equal(ff.Stack, []string{"at explode (src/app.ts:4:9)", "at https://cdn.example/x.js:1:2"}) {
			t.Errorf("explain = %+v", ff)
		}

		// A build's errors come first.
		st.send(t, 3, "errors", map[string]any{"build": "b2", "errors": []any{map[string]any{"text": "broken"}}})
		e.waitJS(root + `?.querySelector("h1")?.textContent === "Build failed with 1 error"`)
		e.eval(`setTimeout(() => explode(8)), true`, new(bool))
		e.waitJS(`__devserve.runtimeErrors.length === 2`)
		if got := read(); got.Title != "Build failed with 1 error" {
			t.Errorf("a runtime error replaced the build's errors: %+v", got)
		}
		e.mustBeSamePage()
		e.srv.noLoad(t)
	}
}

// TestMoveToModuleMode: the reload event that says module mode serves
// (bundled, after a first page served bundled) reloads a page that runs
// the bundle and that nobody touched, also when it comes before the
// bundle has run; a page in use, or one without the bundle, stays and
// takes module mode's build as its own.
func TestMoveToModuleMode(t *testing.T) {
	browser := browsertest.New(t)
	const bundle = `<script type="module" src="/bundle.js"></script>`
	moves := map[string]any{"reason": "module mode serves", "bundled": true, "build": "b2"}

	t.Run("before the bundle ran", func(t *testing.T) {
		fs := newFakeServer(t, "b1", bundle)
		fs.set(func(s *fakeServer) { s.files["/bundle.js"] = "globalThis.__devserve_bundled = true;" })
		release := fs.hold(t, "/bundle.js")
		e := &env{t: t, srv: fs, tab: browsertest.NewTab(t, browser)}
		e.console = browsertest.Console(t, e.tab)
		navigated := make(chan error, 1)
		go func() { navigated <- chromedp.Do(e.tab, chromedp.Navigate(fs.url)) }() // its load waits for the bundle
		fs.nextLoad(t)
		st := fs.nextStream(t)
		st.send(t, 1, "sync", map[string]any{"build": "b1", "status": "ok"})
		st.send(t, 2, "reload", moves)
		e.waitJS(`__devserve.events === 2 && !window.__devserve_bundled`)
		release()
		if err := <-navigated; err != nil {
			t.Fatal(err)
		}
		e.waitLog("[devserve] reloading: module mode serves")
		fs.nextLoad(t)
	})
	t.Run("in use", func(t *testing.T) {
		fs := newFakeServer(t, "b1", bundle)
		fs.set(func(s *fakeServer) { s.files["/bundle.js"] = "globalThis.__devserve_bundled = true;" })
		e, st := openServer(t, browser, fs)
		st.send(t, 1, "sync", map[string]any{"build": "b1", "status": "ok"})
		e.waitJS(`__devserve.events === 1 && window.__devserve_bundled === true && document.readyState === "complete"`)
		if err := chromedp.Do(e.tab, chromedp.KeyEvent("a")); err != nil {
			t.Fatal(err)
		}
		st.send(t, 2, "reload", moves)
		e.waitJS(`__devserve.events === 2 && __devserve.build === "b2"`)
		e.mustBeSamePage()
	})
	t.Run("no bundle", func(t *testing.T) {
		e, st := openSynced(t, browser, "b1")
		st.send(t, 2, "reload", moves)
		e.waitJS(`__devserve.events === 2 && __devserve.build === "b2"`)
		e.mustBeSamePage()
	})
}
