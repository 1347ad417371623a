package hmr

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"testing"
	"time"

	"github.com/devserve/devserve/devcert"
	"github.com/devserve/devserve/internal/ssetest"
	"go.uber.org/goleak"
)

// startTLS serves dir over HTTPS as the command does: NewHTTPServer with
// the TLSConfig of a devcert certificate, started with ServeTLS. It
// returns the server and the pool of the CA that signed the certificate.
// Cleanup closes the Server (its event streams), then the http.Server.
func startTLS(t *testing.T, dir string, opts Options, config func(*http.Server)) (*testServer, *x509.CertPool) {
	t.Helper()
	cert, err := devcert.Ensure(devcert.Options{Dir: t.TempDir(), NoMkcert: true})
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert.Certificate.Leaf) // trust it as a browser told to
	ts := &testServer{dir: dir, reports: make(chan Report, 1000), batches: make(chan batchSeen, 1000)}
	opts.Root = dir
	opts.OnReport = func(r Report) { ts.reports <- r }
	if ts.Server, err = New(opts); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		ts.Server.Close()
		t.Fatal(err)
	}
	hs := NewHTTPServer(ts.Server, nil)
	hs.TLSConfig = cert.TLSConfig()
	if config != nil {
		config(hs)
	}
	served := make(chan error, 1)
	go func() { served <- hs.ServeTLS(ln, "", "") }()
	t.Cleanup(func() {
		ts.Server.Close()
		hs.Close()
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("ServeTLS: %v", err)
		}
	})
	ts.URL = "https://" + ln.Addr().String()
	return ts, pool
}

// tlsClient returns a client that trusts pool and speaks proto ("h2" or
// "http/1.1") only.
func tlsClient(t *testing.T, pool *x509.CertPool, proto string) *http.Client {
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, Protocols: new(http.Protocols)}
	if proto == "h2" {
		tr.Protocols.SetHTTP2(true)
	} else {
		tr.Protocols.SetHTTP1(true)
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: ssetest.Timeout}
}

// tlsStream reads an event stream of an http.Client.
type tlsStream struct {
	t    *testing.T
	resp *http.Response
	body *bufio.Reader
	p    *ssetest.Parser
}

// openTLSStream opens the event stream with c; the stream ends with the
// test, or after ssetest.Timeout.
func openTLSStream(t *testing.T, c *http.Client, base string, trace *httptrace.ClientTrace) *tlsStream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ssetest.Timeout)
	t.Cleanup(cancel)
	if trace != nil {
		ctx = httptrace.WithClientTrace(ctx, trace)
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", base+EventsPath, nil)
	// The stream has its own end; the client's Timeout would cut it.
	resp, err := (&http.Client{Transport: c.Transport}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET %s: %s %q", EventsPath, resp.Status, resp.Header.Get("Content-Type"))
	}
	return &tlsStream{t: t, resp: resp, body: bufio.NewReader(resp.Body), p: ssetest.NewParser()}
}

// next returns the next event, pings included.
func (s *tlsStream) next() ssetest.Event {
	s.t.Helper()
	n := len(s.p.Events)
	for len(s.p.Events) == n {
		line, err := s.body.ReadString('\n')
		if err != nil {
			s.t.Fatalf("reading the stream: %v (partial line %q)", err, line)
		}
		s.p.Feed([]byte(line))
	}
	return s.p.Events[n]
}

// nextNamed returns the next event that is not a ping.
func (s *tlsStream) nextNamed() ssetest.Event {
	s.t.Helper()
	for {
		if ev := s.next(); ev.Type != EventPing {
			return ev
		}
	}
}

// TestTLS serves over HTTPS to clients of HTTP/2 and of HTTP/1.1: pages,
// the event stream through an edit, and the Host check.
func TestTLS(t *testing.T) {
	ts, pool := startTLS(t, copyFixture(t, "live"), Options{}, nil)
	for _, proto := range []string{"h2", "http/1.1"} {
		t.Run(proto, func(t *testing.T) {
			c := tlsClient(t, pool, proto)
			// An HTTP/1.1 client offers no ALPN.
			wantMajor := map[string]int{"h2": 2, "http/1.1": 1}[proto]
			resp, err := c.Get(ts.URL + "/")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.ProtoMajor != wantMajor || resp.TLS.NegotiatedProtocol != strings.TrimPrefix(proto, "http/1.1") || !strings.Contains(string(body), ClientPath) {
				t.Fatalf("GET /: %s %s over %q\n%s", resp.Status, resp.Proto, resp.TLS.NegotiatedProtocol, body)
			}

			st := openTLSStream(t, c, ts.URL, nil)
			if st.resp.ProtoMajor != wantMajor {
				t.Errorf("the stream came over %s", st.resp.Proto)
			}
			if ev := st.nextNamed(); ev.Type != EventSync {
				t.Fatalf("got %+v, want the sync", ev)
			}
			ts.write(t, "value.js", `export const value = "`+proto+`";`)
			ts.nextReport(t)
			for ev := st.nextNamed(); ev.Type != EventBuilt; ev = st.nextNamed() {
				if ev.Type != EventBuilding {
					t.Fatalf("got %+v, want building then built", ev)
				}
			}

			// DNS rebinding protection: the Host (:authority) decides.
			req, _ := http.NewRequest("GET", ts.URL+"/", nil)
			req.Host = "evil.example"
			resp, err = c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "--allowed-host evil.example") {
				t.Errorf("Host evil.example: %s %s", resp.Status, body)
			}
		})
	}
}

// TestTLSStreamsShareConnection opens the event streams of several tabs
// over HTTP/2: they share one connection, each is a stream of it (not
// hijacked), and the server's WriteTimeout does not end them. Every
// goroutine is gone once the server is closed.
func TestTLSStreamsShareConnection(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) }) // after the cleanups below
	// The timeouts also bound the TLS handshake and the first request's
	// headers, which a loaded machine can take tens of milliseconds over
	// (this test once failed with EOF at load 29 with 50 ms).
	const timeout = 250 * time.Millisecond
	ts, pool := startTLS(t, copyFixture(t, "live"), Options{Heartbeat: 10 * time.Millisecond}, func(hs *http.Server) {
		hs.WriteTimeout = timeout
		hs.ReadTimeout = timeout
	})
	c := tlsClient(t, pool, "h2")
	const tabs = 4
	conns := map[net.Conn]bool{}
	var streams []*tlsStream
	for range tabs {
		st := openTLSStream(t, c, ts.URL, &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) { conns[info.Conn] = true }})
		if ev := st.nextNamed(); ev.Type != EventSync || st.resp.ProtoMajor != 2 {
			t.Fatalf("got %+v over %s, want the sync over HTTP/2", ev, st.resp.Proto)
		}
		streams = append(streams, st)
	}
	if len(conns) != 1 {
		t.Errorf("%d streams took %d connections, want 1", tabs, len(conns))
	}
	if n := ts.Status().Clients; n != tabs {
		t.Errorf("%d clients, want %d", n, tabs)
	}
	// Outlive the server's timeouts on the heartbeat, then get an event.
	for start := time.Now(); time.Since(start) < 3*timeout; {
		if ev := streams[0].next(); ev.Type != EventPing {
			t.Fatalf("got %+v, want a ping", ev)
		}
	}
	if err := ts.Publish(EventReload, ReloadData{}); err != nil {
		t.Fatal(err)
	}
	for i, st := range streams {
		if ev := st.nextNamed(); ev.Type != EventReload {
			t.Errorf("stream %d: got %+v, want the reload", i, ev)
		}
	}
}

// TestTLSPlainHTTP sends http:// to the HTTPS port: the answer says so.
func TestTLSPlainHTTP(t *testing.T) {
	ts, _ := startTLS(t, copyFixture(t, "live"), Options{}, nil)
	resp, err := http.Get("http://" + strings.TrimPrefix(ts.URL, "https://") + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "HTTPS") {
		t.Errorf("http:// to the HTTPS port: %s %q", resp.Status, body)
	}
}
