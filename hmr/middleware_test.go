package hmr

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/devserve/devserve/client"
	"github.com/devserve/devserve/internal/page"
	"github.com/devserve/devserve/internal/ssetest"
)

// TestInject runs handlers of an app through Server.Inject.
func TestInject(t *testing.T) {
	ts := startServer(t, copyFixture(t, "live"), "127.0.0.1:0", Options{})
	const doc = `<!doctype html><html><head><title>app</title></head><body><p>hi</p></body></html>`
	html := func(code int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("ETag", `"app"`)
			w.WriteHeader(code)
			io.WriteString(w, doc)
		}
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc
		method  string
		header  []string
		code    int
		inject  bool
		check   func(t *testing.T, resp *http.Response, body string)
	}{
		{name: "page", handler: html(200), code: 200, inject: true},
		{name: "error page", handler: html(500), code: 500, inject: true},
		{name: "no content type", code: 200, inject: true, handler: func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, doc) // net/http would sniff text/html
		}},
		{name: "written in pieces", code: 200, inject: true, handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			for _, part := range strings.SplitAfter(doc, ">") {
				io.WriteString(w, part)
				w.(http.Flusher).Flush() // held until the page is whole
			}
		}},
		{name: "gzip of the app", code: 200, inject: true, header: []string{"Accept-Encoding: gzip, zstd"},
			handler: func(w http.ResponseWriter, r *http.Request) {
				if ae := r.Header.Get("Accept-Encoding"); ae != "gzip" {
					t.Errorf("the app got Accept-Encoding %q, want gzip", ae)
				}
				w.Header().Set("Content-Type", "text/html")
				w.Header().Set("Content-Encoding", "gzip")
				zw := gzip.NewWriter(w)
				io.WriteString(zw, doc)
				zw.Close()
			}},
		{name: "csp", code: 200, inject: true, handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Security-Policy", "script-src 'nonce-n0nce' 'strict-dynamic'")
			html(200)(w, r)
		}, check: func(t *testing.T, resp *http.Response, body string) {
			if !strings.Contains(body, `nonce="n0nce"></script>`) {
				t.Errorf("tag without the page's nonce:\n%s", body)
			}
		}},
		{name: "htmx", handler: html(200), header: []string{"HX-Request: true"}, code: 200},
		{name: "fetch", handler: html(200), header: []string{"Sec-Fetch-Dest: empty"}, code: 200},
		{name: "json", code: 200, handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"html": "<head></head>"}`)
		}},
		{name: "not modified", handler: html(304), code: 304},
		{name: "redirect", handler: html(302), code: 302},
		{name: "head", handler: html(200), method: "HEAD", code: 200, check: func(t *testing.T, resp *http.Response, body string) {
			if resp.Header.Get("ETag") != "" {
				t.Errorf("HEAD of a page kept its ETag")
			}
		}},
		{name: "early hints", code: 200, inject: true, handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Link", "</style.css>; rel=preload; as=style")
			w.WriteHeader(http.StatusEarlyHints)
			html(200)(w, r)
		}},
		{name: "page with the client", code: 200, handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, `<script src="`+client.Path+`"></script>`+doc)
		}, check: func(t *testing.T, resp *http.Response, body string) {
			if strings.Count(body, client.Path) != 1 {
				t.Errorf("client twice:\n%s", body)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(ts.Inject(tt.handler))
			defer srv.Close()
			method := tt.method
			if method == "" {
				method = "GET"
			}
			resp, raw := doRequest(t, method, srv.URL, "", tt.header...)
			if resp.StatusCode != tt.code {
				t.Fatalf("%s", resp.Status)
			}
			body := string(raw)
			if resp.Header.Get("Content-Encoding") == "gzip" {
				b, err := page.Decode("gzip", raw)
				if err != nil {
					t.Fatal(err)
				}
				body = string(b)
			}
			if got := tagRE.MatchString(body); got != tt.inject {
				t.Errorf("injected: %v, want %v:\n%s", got, tt.inject, body)
			}
			if tt.inject {
				if !strings.Contains(body, "</title>"+string(client.Tag(ts.Status().Build))) &&
					!strings.Contains(body, "</title><script type=\"module\" src=\"/__devserve/client.js?build="+ts.Status().Build+"&amp;csp\" nonce=") {
					t.Errorf("tag not before </head>:\n%s", body)
				}
				if cl := resp.Header.Get("Content-Length"); cl != strconv.Itoa(len(raw)) {
					t.Errorf("Content-Length %s, body %d bytes", cl, len(raw))
				}
				if resp.Header.Get("ETag") != "" || resp.Header.Get("Content-Encoding") != "" {
					t.Errorf("header %v", resp.Header)
				}
			}
			if tt.check != nil {
				tt.check(t, resp, body)
			}
		})
	}
}

// TestInjectPassesThrough checks that what Inject does not inject into
// streams as the handler writes it, and that the handler can take over the
// connection.
func TestInjectPassesThrough(t *testing.T) {
	ts := startServer(t, copyFixture(t, "live"), "127.0.0.1:0", Options{})
	next := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: one\n\n")
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("flush: %v", err)
		}
		select {
		case <-next:
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/hijack", func(w http.ResponseWriter, r *http.Request) {
		conn, rw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		defer conn.Close()
		rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nhello\n")
		rw.Flush()
	})
	srv := httptest.NewServer(ts.Inject(mux))
	defer srv.Close()
	defer close(next)

	conn := ssetest.Dial(t, srv, "GET", "/stream")
	br := bufio.NewReader(conn)
	if _, err := http.ReadResponse(br, nil); err != nil {
		t.Fatal(err)
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("the stream's first event did not come: %v", err)
		}
		if strings.Contains(line, "data: one") {
			break
		}
	}

	conn = ssetest.Dial(t, srv, "GET", "/hijack", "Connection: Upgrade", "Upgrade: echo")
	br = bufio.NewReader(conn)
	if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade: %v, %v", resp, err)
	}
	if line, _ := br.ReadString('\n'); line != "hello\n" {
		t.Errorf("after the upgrade: %q", line)
	}
}

// TestInjectWaitsForBuild checks that a page is not rendered while a build
// runs, so that it names the build whose outputs it will load.
func TestInjectWaitsForBuild(t *testing.T) {
	ts := startServer(t, copyFixture(t, "live"), "127.0.0.1:0", Options{})
	ts.mu.Lock()
	idle := make(chan struct{})
	ts.idle = idle
	ts.mu.Unlock()
	rendered := make(chan struct{}, 1)
	srv := httptest.NewServer(ts.Inject(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rendered <- struct{}{}
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<p>page</p>")
	})))
	defer srv.Close()
	done := make(chan []byte)
	go func() {
		resp, err := http.Get(srv.URL)
		if err != nil {
			done <- nil
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		done <- b
	}()
	select {
	case <-rendered:
		t.Fatal("the page was rendered while a build ran")
	case <-time.After(100 * time.Millisecond):
	}
	close(idle)
	if b := <-done; !bytes.Contains(b, []byte(client.Path)) {
		t.Errorf("page %q", b)
	}
}
