package hmr

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/devserve/devserve/bundler"
	"github.com/devserve/devserve/client"
	"github.com/devserve/devserve/internal/page"
	"github.com/devserve/devserve/internal/proxy"
	"github.com/devserve/devserve/internal/ssetest"
	"go.uber.org/goleak"
)

// testNonce is the CSP nonce of the backend's pages.
const testNonce = "r4nd0mN0nce"

// testCSP is the backend's Content-Security-Policy: strict enough that the
// client needs every amendment (a nonce, worker-src and connect-src).
const testCSP = "default-src 'none'; script-src 'nonce-" + testNonce + "'; style-src 'self'"

// backendPage is a page of the backend: it loads the bundled /main.js and
// /style.css of the served root (testdata/live), counts its loads and
// records CSP violations.
func backendPage(title string) string {
	return `<!doctype html>
<html><head><meta charset="utf-8"><title>` + title + `</title>
<link rel="stylesheet" href="/style.css">
<script nonce="` + testNonce + `">
addEventListener("securitypolicyviolation", (e) => (window.violations ||= []).push(e.violatedDirective + " " + e.blockedURI));
</script>
<script type="module" src="/main.js" nonce="` + testNonce + `"></script>
</head><body><p id="out">loading</p><div id="partial"></div></body></html>
`
}

// backend is an app behind the proxy for the tests: pages in every content
// coding, a partial, JSON, an event stream, an upgrade, and an echo of the
// request.
type backend struct {
	*httptest.Server
	pages chan string // the path of each page served
}

func newBackendHandler(b *backend) http.Handler {
	mux := http.NewServeMux()
	page := func(coding string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			select {
			case b.pages <- r.URL.Path:
			default:
			}
			h := w.Header()
			h.Set("Content-Type", "text/html; charset=utf-8")
			h.Set("Content-Security-Policy", testCSP)
			h.Set("ETag", `"v1"`)
			writeCoded(w, coding, []byte(backendPage("app "+coding)))
		}
	}
	mux.HandleFunc("GET /{$}", page("gzip"))
	mux.HandleFunc("GET /br", page("br"))
	mux.HandleFunc("GET /deflate", page("deflate"))
	mux.HandleFunc("GET /raw-deflate", page("raw-deflate"))
	mux.HandleFunc("GET /chunked", page("chunked"))
	mux.HandleFunc("GET /zstd", page("zstd"))
	mux.HandleFunc("GET /tt", func(w http.ResponseWriter, r *http.Request) {
		// Trusted Types forbid new SharedWorker(url): the client holds its
		// own stream.
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", testCSP+"; require-trusted-types-for 'script'")
		io.WriteString(w, backendPage("trusted types"))
	})
	mux.HandleFunc("GET /partial", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		writeCoded(w, "gzip", []byte(`<p id="hello">hello from the partial</p>`))
	})
	mux.HandleFunc("GET /has-client", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, `<html><head><script type="module" src="/__devserve/client.js?build=x"></script></head></html>`)
	})
	mux.HandleFunc("GET /api", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true}`)
	})
	mux.HandleFunc("GET /missing", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "<h1>no such page</h1>")
	})
	mux.HandleFunc("GET /download", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Disposition", `attachment; filename="page.html"`)
		io.WriteString(w, "<h1>save me</h1>")
	})
	mux.HandleFunc("GET /panic", func(w http.ResponseWriter, r *http.Request) {
		panic(http.ErrAbortHandler)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{
			"method": r.Method, "path": r.URL.Path, "uri": r.RequestURI, "host": r.Host, "body": string(body),
			"xff": r.Header.Get("X-Forwarded-For"), "xfh": r.Header.Get("X-Forwarded-Host"),
			"xfp": r.Header.Get("X-Forwarded-Proto"), "ae": r.Header.Get("Accept-Encoding"),
		})
	})
	mux.HandleFunc("GET /events", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		rc := http.NewResponseController(w)
		for i := 1; ; i++ {
			fmt.Fprintf(w, "id: %d\ndata: tick %d\n\n", i, i)
			rc.Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(time.Hour): // only the first event is ever read
			}
		}
	})
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "echo" {
			http.Error(w, "want Upgrade: echo", http.StatusBadRequest)
			return
		}
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
		rw.Flush()
		io.Copy(conn, rw) // echo until the client closes
	})
	return mux
}

// writeCoded writes body in the content coding c ("chunked" is identity
// flushed in two parts, so with no Content-Length).
func writeCoded(w http.ResponseWriter, c string, body []byte) {
	var buf bytes.Buffer
	var zw io.WriteCloser
	switch c {
	case "gzip":
		zw = gzip.NewWriter(&buf)
	case "br":
		zw = brotli.NewWriter(&buf)
	case "deflate":
		zw = zlib.NewWriter(&buf)
	case "raw-deflate":
		zw, _ = flate.NewWriter(&buf, flate.DefaultCompression)
		c = "deflate"
	case "zstd":
		// Not really zstd: the proxy must not try to decode it.
		w.Header().Set("Content-Encoding", c)
		w.Write([]byte("\x28\xb5\x2f\xfdnot really zstd"))
		return
	case "chunked":
		half := len(body) / 2
		w.Write(body[:half])
		http.NewResponseController(w).Flush()
		w.Write(body[half:])
		return
	}
	zw.Write(body)
	zw.Close()
	w.Header().Set("Content-Encoding", c)
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.Write(buf.Bytes())
}

// startBackend serves the test backend on addr ("127.0.0.1:0" for any
// port) until the test ends or stop is called.
func startBackend(t testing.TB, addr string) *backend {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("backend: %v", err)
	}
	b := &backend{pages: make(chan string, 100)}
	b.Server = httptest.NewUnstartedServer(newBackendHandler(b))
	b.Listener.Close()
	b.Listener = ln
	b.Start()
	t.Cleanup(b.Close)
	return b
}

// startProxy serves a copy of testdata/live (its page removed, so that "/"
// is the backend's) in front of backendURL.
func startProxy(t testing.TB, backendURL string, opts Options) *testServer {
	t.Helper()
	dir := copyFixture(t, "live")
	if err := os.Remove(filepath.Join(dir, "index.html")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(backendURL)
	if err != nil {
		t.Fatal(err)
	}
	opts.Proxy = u
	opts.Build = bundler.BuildOptions{Entries: []string{"main.js", "style.css"}}
	return startServer(t, dir, "127.0.0.1:0", opts)
}

// noRedirect is a client that shows responses as they are: no redirects,
// no transparent gzip.
var rawClient = &http.Client{
	Transport:     &http.Transport{DisableCompression: true, Proxy: nil},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func doRequest(t testing.TB, method, u, body string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range header {
		k, v, _ := strings.Cut(h, ": ")
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := rawClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

var tagRE = regexp.MustCompile(`<script type="module" src="/__devserve/client\.js\?build=[^"]*"( nonce="([^"]*)")?></script>`)

func TestProxy(t *testing.T) {
	be := startBackend(t, "127.0.0.1:0")
	ts := startProxy(t, be.URL, Options{})
	defer rawClient.CloseIdleConnections()
	pageReq := []string{"Sec-Fetch-Dest: document", "Accept-Encoding: gzip, deflate, br, zstd"}
	type check func(t *testing.T, resp *http.Response, body []byte)
	injected := func(t *testing.T, resp *http.Response, body []byte) {
		t.Helper()
		if n := len(tagRE.FindAll(body, -1)); n != 1 {
			t.Fatalf("%d client tags in:\n%s", n, body)
		}
		if ce := resp.Header.Get("Content-Encoding"); ce != "" {
			t.Errorf("Content-Encoding %q on an injected page", ce)
		}
		if cl := resp.Header.Get("Content-Length"); cl != strconv.Itoa(len(body)) {
			t.Errorf("Content-Length %q, body has %d bytes", cl, len(body))
		}
		if resp.Header.Get("ETag") != "" {
			t.Errorf("ETag %q kept on an injected page", resp.Header.Get("ETag"))
		}
	}
	untouched := func(t *testing.T, resp *http.Response, body []byte) {
		t.Helper()
		if bytes.Contains(body, []byte(client.Path)) {
			t.Errorf("client injected:\n%s", body)
		}
	}
	decoded := func(want string) check {
		return func(t *testing.T, resp *http.Response, body []byte) {
			t.Helper()
			untouched(t, resp, body)
			got, err := page.Decode(resp.Header.Get("Content-Encoding"), body)
			if err != nil || !strings.Contains(string(got), want) {
				t.Errorf("body %q (%v), want %q in %s", got, err, want, resp.Header.Get("Content-Encoding"))
			}
		}
	}
	nonced := func(t *testing.T, resp *http.Response, body []byte) {
		t.Helper()
		injected(t, resp, body)
		if m := tagRE.FindSubmatch(body); m == nil || string(m[2]) != testNonce {
			t.Errorf("tag %q, want the page's nonce %s", m, testNonce)
		}
		csp := resp.Header.Get("Content-Security-Policy")
		want := "default-src 'none'; script-src 'nonce-" + testNonce + "'; style-src 'self'; worker-src 'self'; connect-src 'self'"
		if csp != want {
			t.Errorf("CSP\n%s\nwant\n%s", csp, want)
		}
	}
	echo := func(want map[string]string) check {
		return func(t *testing.T, resp *http.Response, body []byte) {
			t.Helper()
			var got map[string]string
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("%v: %s", err, body)
			}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("backend saw %s = %q, want %q (all: %v)", k, got[k], v, got)
				}
			}
		}
	}
	host := strings.TrimPrefix(ts.URL, "http://")
	tests := []struct {
		name, method, path, body string
		header                   []string
		code                     int
		check                    check
	}{
		{"gzip page", "GET", "/", "", pageReq, 200, nonced},
		{"br page", "GET", "/br", "", pageReq, 200, nonced},
		{"deflate page", "GET", "/deflate", "", pageReq, 200, nonced},
		{"raw deflate page", "GET", "/raw-deflate", "", pageReq, 200, nonced},
		{"chunked page", "GET", "/chunked", "", pageReq, 200, nonced},
		{"page of a plain client", "GET", "/", "", nil, 200, nonced},
		{"unknown coding", "GET", "/zstd", "", pageReq, 200, untouched},
		{"htmx partial", "GET", "/partial", "", append([]string{"HX-Request: true"}, pageReq...), 200, decoded("hello from the partial")},
		{"fetch", "GET", "/partial", "", []string{"Sec-Fetch-Dest: empty", "Accept-Encoding: gzip"}, 200, decoded("hello from the partial")},
		{"iframe", "GET", "/", "", []string{"Sec-Fetch-Dest: iframe", "Accept-Encoding: gzip"}, 200, decoded("<title>app gzip</title>")},
		{"page with the client", "GET", "/has-client", "", pageReq, 200, func(t *testing.T, resp *http.Response, body []byte) {
			if n := bytes.Count(body, []byte(client.Path)); n != 1 {
				t.Errorf("client named %d times:\n%s", n, body)
			}
		}},
		{"json", "GET", "/api", "", pageReq, 200, decoded(`{"ok":true}`)},
		{"error page", "GET", "/missing", "", pageReq, 404, injected},
		{"attachment", "GET", "/download", "", pageReq, 200, untouched},
		{"head of a page", "HEAD", "/", "", pageReq, 200, func(t *testing.T, resp *http.Response, body []byte) {
			if resp.Header.Get("ETag") != "" || resp.Header.Get("Content-Encoding") != "" || len(body) != 0 {
				t.Errorf("HEAD: %v, body %q", resp.Header, body)
			}
		}},
		{"post", "POST", "/form", "a=1", []string{"Content-Type: application/x-www-form-urlencoded", "Origin: " + ts.URL}, 200,
			echo(map[string]string{"method": "POST", "path": "/form", "body": "a=1"})},
		{"forwarded", "GET", "/whoami", "", pageReq, 200,
			echo(map[string]string{"host": host, "xff": "127.0.0.1", "xfh": host, "xfp": "http", "ae": "gzip, deflate, br"})},
		{"accept-encoding of a fetch", "GET", "/whoami", "", []string{"Sec-Fetch-Dest: empty", "Accept-Encoding: gzip, zstd"}, 200,
			echo(map[string]string{"ae": "gzip, zstd"})},
		{"dotfile path", "GET", "/.well-known/thing", "", nil, 200, echo(map[string]string{"path": "/.well-known/thing"})},
		{"folder without a page", "GET", "/sub", "", nil, 200, echo(map[string]string{"path": "/sub"})},
		{"file of the root", "GET", "/notes.txt", "", nil, 200, decoded("not part of any build")},
		{"bundled output", "GET", "/main.js", "", nil, 200, func(t *testing.T, resp *http.Response, body []byte) {
			if !bytes.Contains(body, []byte("sessionStorage")) || bytes.Contains(body, []byte("import {")) {
				t.Errorf("not the bundle:\n%s", body)
			}
		}},
		{"worker", "GET", WorkerPath, "", nil, 200, decoded("onconnect")},
		{"devserve endpoint by POST", "POST", StatusPath, "", nil, 405, untouched},
		{"foreign Host", "GET", "/whoami", "", []string{"Host: evil.example"}, 403, untouched},
		{"cross-site POST", "POST", "/form", "a=1", []string{"Origin: http://evil.example"}, 403, untouched},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := doRequest(t, tt.method, ts.URL+tt.path, tt.body, tt.header...)
			if resp.StatusCode != tt.code {
				t.Fatalf("%s %s: %s\n%s", tt.method, tt.path, resp.Status, body)
			}
			tt.check(t, resp, body)
		})
	}
}

// TestProxyStreams checks that an event stream and an upgraded connection
// of the backend pass through as they come, unbuffered.
func TestProxyStreams(t *testing.T) {
	be := startBackend(t, "127.0.0.1:0")
	ts := startProxy(t, be.URL, Options{})

	checkPassThrough(t, ts, "")
}

// checkPassThrough checks that an event stream and an upgraded connection
// of startBackend's backend, at prefix+"/events" and prefix+"/ws" of ts,
// pass through as they come, unbuffered.
func checkPassThrough(t *testing.T, ts *testServer, prefix string) {
	t.Run("event stream", func(t *testing.T) {
		// The backend sends one event and waits: it must arrive now.
		conn := ssetest.Dial(t, ts.http, "GET", prefix+"/events", "Accept: text/event-stream")
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(resp.Body)
		line, err := br.ReadString('\n')
		for err == nil && line != "data: tick 1\n" {
			line, err = br.ReadString('\n')
		}
		if err != nil {
			t.Fatalf("reading the first event: %v", err)
		}
	})

	t.Run("upgrade", func(t *testing.T) {
		conn := ssetest.Dial(t, ts.http, "GET", prefix+"/ws", "Connection: Upgrade", "Upgrade: echo", "Origin: "+ts.URL)
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("upgrade: %s", resp.Status)
		}
		for _, msg := range []string{"ping\n", "pong\n"} {
			io.WriteString(conn, msg)
			got, err := br.ReadString('\n')
			if err != nil || got != msg {
				t.Fatalf("echo of %q: %q, %v", msg, got, err)
			}
		}
	})
}

// freeAddr returns a loopback address that nothing listens on.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// nextNamed reads events until one named name, and returns it.
func nextNamed(t *testing.T, st *ssetest.Client, name string) ssetest.Event {
	t.Helper()
	for {
		if ev := st.NextEvent(); ev.Type == name {
			return ev
		}
	}
}

// TestProxyBackendDown checks the page that stands in for the backend's
// while it is down, and the reload when it comes back.
func TestProxyBackendDown(t *testing.T) {
	addr := freeAddr(t)
	ts := startProxy(t, "http://"+addr, Options{})
	st := ssetest.Open(t, ts.http, EventsPath)
	st.Start()

	resp, body := doRequest(t, "GET", ts.URL+"/", "", "Sec-Fetch-Dest: document")
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(body), "The backend is not running") {
		t.Fatalf("page while the backend is down: %s\n%s", resp.Status, body)
	}
	after := strconv.FormatUint(ts.broker.lastID(), 10)
	if want := "after=" + after; !bytes.Contains(body, []byte(want)) || !tagRE.Match(body) {
		t.Errorf("the page does not load the client with %s:\n%s", want, body)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", resp.Header.Get("Cache-Control"))
	}
	resp, body = doRequest(t, "GET", ts.URL+"/api", "", "Sec-Fetch-Dest: empty")
	if resp.StatusCode != http.StatusBadGateway || bytes.Contains(body, []byte("<")) {
		t.Errorf("fetch while the backend is down: %s\n%s", resp.Status, body)
	}

	if r := ts.nextReport(t); r.Event != ReportBackendDown || !strings.HasPrefix(r.Reason, "the backend http://") || !strings.Contains(r.Reason, " is down (") {
		t.Errorf("report %+v, want that the backend is down, and why", r)
	}
	startBackend(t, addr)
	var reload ReloadData
	decode(t, nextNamed(t, st, EventReload), &reload)
	if !strings.Contains(reload.Reason, "is back") {
		t.Errorf("reload reason %q", reload.Reason)
	}
	if r := ts.nextReport(t); r.Event != EventReload {
		t.Errorf("report %+v, want the reload", r)
	}
	if resp, body := doRequest(t, "GET", ts.URL+"/", "", docHeader()...); resp.StatusCode != 200 || !tagRE.Match(body) {
		t.Errorf("page after the backend came back: %s\n%s", resp.Status, body)
	}
}

// docHeader is the header of a browser's request for a page.
func docHeader() []string { return []string{"Sec-Fetch-Dest: document"} }

// TestProxyBackendRestart checks that a restart of the backend reloads the
// pages once, and that nothing else does: the backend closing the
// monitor's idle connections, nor a request that makes it fail.
func TestProxyBackendRestart(t *testing.T) {
	// A backend that closes idle connections soon, as one with a short
	// ReadHeaderTimeout does: the monitor's connection ends again and again.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	conns := make(chan struct{}, 1000)
	be := &backend{pages: make(chan string, 100)}
	hs := &http.Server{Handler: newBackendHandler(be), ReadHeaderTimeout: 2 * proxy.ShortConn,
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				conns <- struct{}{}
			}
		}}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })

	logs := &logRecorder{msgs: make(chan string, 100)}
	ts := startProxy(t, "http://"+addr, Options{Logger: slog.New(logs)})
	st := ssetest.Open(t, ts.http, EventsPath)
	st.Start()
	for range 3 { // the monitor's first connection, and two more
		select {
		case <-conns:
		case <-time.After(ssetest.Timeout):
			t.Fatal("the monitor does not connect to the backend")
		}
	}
	// A request that the backend fails is no restart.
	if resp, _ := doRequest(t, "GET", ts.URL+"/panic", "", docHeader()...); resp.StatusCode != http.StatusBadGateway {
		t.Errorf("/panic: %s", resp.Status)
	}
	ssetest.MustPublish(t, ts.broker, "marker", 1)
	if ev := st.NextEvent(); ev.Type != "marker" {
		t.Fatalf("got %s %s before the marker; want no reload", ev.Type, ev.Data)
	}
	if msg := logs.find("hmr: backend is down"); msg != "" {
		t.Fatalf("logged %q while the backend was up", msg)
	}

	// A restart: the backend goes away, the monitor sees it, another comes.
	hs.Close()
	logs.wait(t, "hmr: backend is down")
	startBackend(t, addr)
	nextNamed(t, st, EventReload)
	ssetest.MustPublish(t, ts.broker, "marker", 2)
	if ev := st.NextEvent(); ev.Type != "marker" {
		t.Fatalf("got %s %s after the reload; want one reload", ev.Type, ev.Data)
	}
}

// logRecorder is a slog.Handler that hands the messages of records over.
type logRecorder struct {
	msgs chan string
	mu   sync.Mutex
	seen []string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	select {
	case l.msgs <- r.Message:
	default:
	}
	return nil
}
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

// drain moves the messages handed over so far to seen.
func (l *logRecorder) drain() {
	for {
		select {
		case m := <-l.msgs:
			l.seen = append(l.seen, m)
		default:
			return
		}
	}
}

// find returns a message logged so far that starts with prefix, or "".
func (l *logRecorder) find(prefix string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.drain()
	for _, m := range l.seen {
		if strings.HasPrefix(m, prefix) {
			return m
		}
	}
	return ""
}

// wait waits for a message that starts with prefix, logged from now on.
func (l *logRecorder) wait(t *testing.T, prefix string) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.drain()
	timeout := time.After(ssetest.Timeout)
	for {
		select {
		case m := <-l.msgs:
			if strings.HasPrefix(m, prefix) {
				return
			}
		case <-timeout:
			t.Fatalf("timed out waiting for the log %q", prefix)
		}
	}
}

// TestWatch checks that a change in a folder of Options.ReloadDirs reloads the
// pages without a build, and that a save of the same bytes does not.
func TestWatch(t *testing.T) {
	templates := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(templates, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("page.tmpl", "<p>{{.}}</p>")
	ts := startServer(t, copyFixture(t, "live"), "127.0.0.1:0", Options{ReloadDirs: []string{templates}})
	st := ssetest.Open(t, ts.http, EventsPath)
	st.Start()

	write("page.tmpl", "<p>{{.Name}}</p>")
	var reload ReloadData
	decode(t, nextNamed(t, st, EventReload), &reload)
	want := filepath.ToSlash(filepath.Join(templates, "page.tmpl")) + " changed"
	if reload.Reason != want {
		t.Errorf("reason %q, want %q", reload.Reason, want)
	}
	if r := ts.nextReport(t); r.Event != EventReload || len(r.Changed) != 1 {
		t.Errorf("report %+v", r)
	}
	write("page.tmpl", "<p>{{.Name}}</p>")
	write("other.tmpl", "x")
	decode(t, nextNamed(t, st, EventReload), &reload)
	if want := filepath.ToSlash(filepath.Join(templates, "other.tmpl")) + " changed"; reload.Reason != want {
		t.Errorf("reason %q, want %q (the same bytes reload nothing)", reload.Reason, want)
	}

	if _, err := New(Options{Root: ts.dir, ReloadDirs: []string{filepath.Join(templates, "page.tmpl")}}); err == nil ||
		!strings.Contains(err.Error(), "not a directory") {
		t.Errorf("New with a file to watch: %v", err)
	}
}

func TestReload(t *testing.T) {
	ts := startServer(t, copyFixture(t, "live"), "127.0.0.1:0", Options{})
	st := ssetest.Open(t, ts.http, EventsPath)
	st.Start()
	if err := ts.Reload("templates parsed"); err != nil {
		t.Fatal(err)
	}
	var reload ReloadData
	decode(t, expectEvent(t, st, EventReload), &reload)
	if reload.Reason != "templates parsed" {
		t.Errorf("reason %q", reload.Reason)
	}
	if r := ts.nextReport(t); r.Event != EventReload || r.Reason != "templates parsed" || r.Clients != 1 {
		t.Errorf("report %+v", r)
	}
	ts.Close()
	if err := ts.Reload("too late"); err != ErrClosed {
		t.Errorf("Reload after Close: %v, want ErrClosed", err)
	}
}

// TestCloseLeavesNoGoroutine closes a Server in proxy mode with everything
// running: the monitor, a watched folder, event streams, a proxied event
// stream and a proxied upgraded connection.
func TestCloseLeavesNoGoroutine(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	be := startBackend(t, "127.0.0.1:0")
	dir := copyFixture(t, "live")
	u, _ := url.Parse(be.URL)
	srv, err := New(Options{Root: dir, Proxy: u, ReloadDirs: []string{t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(srv)
	hs.Config = NewHTTPServer(srv, nil)
	hs.Start()

	st := ssetest.Open(t, hs, EventsPath)
	st.Start()
	events := ssetest.Dial(t, hs, "GET", "/events", "Accept: text/event-stream")
	if _, err := http.ReadResponse(bufio.NewReader(events), nil); err != nil {
		t.Fatal(err)
	}
	ws := ssetest.Dial(t, hs, "GET", "/ws", "Connection: Upgrade", "Upgrade: echo")
	if resp, err := http.ReadResponse(bufio.NewReader(ws), nil); err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	resp, _ := doRequest(t, "GET", hs.URL+"/", "", docHeader()...)
	if resp.StatusCode != 200 {
		t.Fatalf("page: %s", resp.Status)
	}

	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	hs.Close()
	be.Close()
	rawClient.CloseIdleConnections()
	for _, c := range []net.Conn{st.Conn, events, ws} {
		c.Close()
	}
	goleak.VerifyNone(t, ignore)
}

func TestDecodeBody(t *testing.T) {
	const text = "<p>héllo, page</p>"
	code := func(c string) []byte {
		rec := httptest.NewRecorder()
		writeCoded(rec, c, []byte(text))
		return rec.Body.Bytes()
	}
	gz := code("gzip")
	var both bytes.Buffer
	bw := brotli.NewWriter(&both)
	bw.Write(gz)
	bw.Close()
	tests := []struct {
		codings string
		body    []byte
		err     bool
	}{
		{"", []byte(text), false},
		{"identity", []byte(text), false},
		{"gzip", gz, false},
		{"GZIP", gz, false},
		{"x-gzip", gz, false},
		{"br", code("br"), false},
		{"deflate", code("deflate"), false},
		{"deflate", code("raw-deflate"), false},
		{"gzip, br", both.Bytes(), false},
		{"zstd", []byte("whatever"), true},
		{"gzip", []byte("not gzip"), true},
		{"gzip", gz[:len(gz)-5], true},
	}
	for _, tt := range tests {
		got, err := page.Decode(tt.codings, tt.body)
		if tt.err {
			if err == nil {
				t.Errorf("page.Decode(%q) = %q, want an error", tt.codings, got)
			}
			continue
		}
		if err != nil || string(got) != text {
			t.Errorf("page.Decode(%q) = %q, %v", tt.codings, got, err)
		}
	}
}
