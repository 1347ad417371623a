package sse

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/devserve/devserve/internal/protocol"
	"github.com/devserve/devserve/internal/ssetest"
	"go.uber.org/goleak"
)

// testOptions returns options whose heartbeat does not get in the way.
func testOptions() Options {
	return Options{FirstID: 1000, Heartbeat: time.Hour}
}

// Payloads for the tests: the Broker encodes any data as JSON.
type (
	building struct {
		Build string `json:"build"`
	}
	reload struct {
		Reason string `json:"reason"`
	}
)

// newTestBroker is New, serving streams through the ResponseWriter if
// noHijack is set.
func newTestBroker(noHijack bool, opts Options) *Broker {
	opts.NoHijack = noHijack
	return New(opts)
}

// serveBroker returns b served by a test server on 127.0.0.1. Cleanup
// closes b, then the server.
func serveBroker(t testing.TB, b *Broker) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(b)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { b.Close() })
	return srv
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestBrokerFanout(t *testing.T) { ssetest.ForEachMode(t, testBrokerFanout) }

func testBrokerFanout(t *testing.T, noHijack bool) {
	b := newTestBroker(noHijack, testOptions())
	srv := serveBroker(t, b)
	var clients []*ssetest.Client
	for range 3 {
		c := ssetest.Open(t, srv, "/events")
		if got := c.ReadRetry(); got != 500 {
			t.Errorf("retry %d, want the default 500", got)
		}
		sync := c.NextEvent()
		want := ssetest.Event{Type: protocol.EventSync, Data: `{}`, LastEventID: "1000"}
		if sync != want {
			t.Errorf("sync %+v, want %+v", sync, want)
		}
		clients = append(clients, c)
	}
	if n := b.Clients(); n != 3 {
		t.Errorf("Clients() = %d, want 3", n)
	}
	events := []struct {
		name string
		data any
	}{
		{protocol.EventBuilding, building{Build: "b1"}},
		{protocol.EventBuilt, map[string]any{"build": "b2", "durationMs": 12.5, "updates": []map[string]string{{"type": "css", "path": "/a.css"}}}},
		{protocol.EventErrors, map[string]any{"build": "b2", "errors": []map[string]any{{"text": "Expected \";\"", "line": 3}}}},
		{protocol.EventReload, reload{Reason: "index.html changed"}},
	}
	for i, e := range events {
		id, n, err := b.Publish(e.name, e.data)
		if err != nil || id != uint64(1001+i) || n != 3 {
			t.Fatalf("Publish(%s) = %d, %d, %v; want %d, 3, nil", e.name, id, n, err, 1001+i)
		}
	}
	for i, c := range clients {
		for j, e := range events {
			got := c.NextEvent()
			want := ssetest.Event{Type: e.name, Data: mustJSON(t, e.data), LastEventID: strconv.Itoa(1001 + j)}
			if got != want {
				t.Errorf("client %d event %d: got %+v, want %+v", i, j, got, want)
			}
		}
	}
}

func TestBrokerHeaders(t *testing.T) { ssetest.ForEachMode(t, testBrokerHeaders) }

func testBrokerHeaders(t *testing.T, noHijack bool) {
	b := newTestBroker(noHijack, testOptions())
	// A middleware's headers are kept, but not a Content-Length.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Vary", "Origin")
		w.Header().Set("Content-Length", "5")
		b.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { b.Close() })
	c := ssetest.Open(t, srv, "/events")
	c.Start()
	h := c.Resp.Header
	for k, want := range map[string]string{
		"Content-Type":      "text/event-stream",
		"Cache-Control":     "no-cache, no-transform",
		"X-Accel-Buffering": "no",
		"Vary":              "Origin",
		"Connection":        "",
		"Content-Encoding":  "",
		"Content-Length":    "",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	if _, err := http.ParseTime(h.Get("Date")); err != nil {
		t.Errorf("Date %q: %v", h.Get("Date"), err)
	}
	if !slices.Equal(c.Resp.TransferEncoding, []string{"chunked"}) || c.Resp.ContentLength != -1 {
		t.Errorf("Transfer-Encoding %q, Content-Length %d; want chunked and none", c.Resp.TransferEncoding, c.Resp.ContentLength)
	}
	ssetest.MustPublish(t, b, protocol.EventReload, reload{})
	c.NextEvent()
}

// flushOnly hides every method of its ResponseWriter but Flush, as a
// middleware's wrapper may.
type flushOnly struct{ http.ResponseWriter }

func (f flushOnly) Flush() { http.NewResponseController(f.ResponseWriter).Flush() }

func TestBrokerNoHijacker(t *testing.T) {
	// A ResponseWriter that cannot be hijacked gets the stream through it.
	b := New(testOptions())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.ServeHTTP(flushOnly{w}, r)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { b.Close() })
	c := ssetest.Open(t, srv, "/events")
	c.Start()
	ssetest.MustPublish(t, b, protocol.EventReload, reload{Reason: "x"})
	if got := c.NextEvent(); got.Type != protocol.EventReload {
		t.Errorf("got %+v", got)
	}
}

func TestBrokerHTTP10(t *testing.T) {
	// HTTP/1.0 has no chunked coding: the body ends with the connection.
	b := New(testOptions())
	srv := serveBroker(t, b)
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(ssetest.Timeout))
	io.WriteString(conn, "GET /events HTTP/1.0\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || len(resp.TransferEncoding) != 0 || !resp.Close {
		t.Fatalf("%s, Transfer-Encoding %q, close %v", resp.Status, resp.TransferEncoding, resp.Close)
	}
	c := ssetest.NewClient(t, conn, resp)
	c.Start()
	ssetest.MustPublish(t, b, protocol.EventReload, reload{})
	if got := c.NextEvent(); got.Type != protocol.EventReload {
		t.Errorf("got %+v", got)
	}
}

func TestBrokerMethods(t *testing.T) {
	b := New(testOptions())
	srv := serveBroker(t, b)
	for _, m := range []string{"POST", "PUT", "DELETE", "HEAD", "OPTIONS"} {
		resp, _ := ssetest.Request(t, srv, m, "/events")
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET" {
			t.Errorf("%s: %s, Allow %q; want 405 and GET", m, resp.Status, resp.Header.Get("Allow"))
		}
	}
	if n := b.Clients(); n != 0 {
		t.Errorf("Clients() = %d, want 0", n)
	}
}

func TestBrokerSyncToNewClientAlone(t *testing.T) {
	ssetest.ForEachMode(t, testBrokerSyncToNewClientAlone)
}

func testBrokerSyncToNewClientAlone(t *testing.T, noHijack bool) {
	var mu sync.Mutex
	state := map[string]string{"build": "b1", "status": "ok"}
	opts := testOptions()
	opts.Sync = func() any {
		mu.Lock()
		defer mu.Unlock()
		return state
	}
	b := newTestBroker(noHijack, opts)
	srv := serveBroker(t, b)

	a := ssetest.Open(t, srv, "/events")
	if got := a.Start(); got.Data != mustJSON(t, state) || got.LastEventID != "1000" {
		t.Errorf("first sync %+v", got)
	}
	ssetest.MustPublish(t, b, protocol.EventBuilding, building{Build: "b1"})
	mu.Lock()
	state = map[string]string{"build": "b1", "status": "building"}
	mu.Unlock()
	if got := a.NextEvent(); got.Type != protocol.EventBuilding {
		t.Fatalf("got %+v, want building", got)
	}

	c := ssetest.Open(t, srv, "/events")
	got := c.Start()
	if want := (ssetest.Event{Type: protocol.EventSync, Data: mustJSON(t, state), LastEventID: "1001"}); got != want {
		t.Errorf("second sync %+v, want %+v (the id of the last event)", got, want)
	}
	// The first client did not get the second one's sync: its next event
	// is the next published one.
	ssetest.MustPublish(t, b, protocol.EventReload, reload{Reason: "x"})
	for _, cl := range []*ssetest.Client{a, c} {
		if got := cl.NextEvent(); got.Type != protocol.EventReload || got.LastEventID != "1002" {
			t.Errorf("got %+v, want the reload event 1002", got)
		}
	}
}

func TestBrokerSyncError(t *testing.T) {
	opts := testOptions()
	opts.Sync = func() any { return func() {} } // cannot be marshaled
	b := New(opts)
	srv := serveBroker(t, b)
	resp, _ := ssetest.Request(t, srv, "GET", "/events")
	if resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("status %s, want 500", resp.Status)
	}
	if n := b.Clients(); n != 0 {
		t.Errorf("Clients() = %d, want 0", n)
	}
}

func TestBrokerSyncPanics(t *testing.T) {
	opts := testOptions()
	opts.Sync = func() any { panic("sync failed") }
	b := New(opts)
	srv := httptest.NewUnstartedServer(b)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // net/http logs the panic
	srv.Start()
	t.Cleanup(srv.Close)
	conn := ssetest.Dial(t, srv, "GET", "/events")
	if _, err := http.ReadResponse(bufio.NewReader(conn), nil); err == nil {
		t.Error("got a response")
	}
	if n := b.Clients(); n != 0 {
		t.Errorf("Clients() = %d, want 0", n)
	}
	b.Close() // does not wait for the failed stream
}

func TestBrokerReplay(t *testing.T) { ssetest.ForEachMode(t, testBrokerReplay) }

func testBrokerReplay(t *testing.T, noHijack bool) {
	tests := []struct {
		name      string
		published int      // events published before the client connects; ids from 101
		target    string   // request target
		header    []string // request header lines
		want      []string // what the client gets first: "sync@ID" or "ID"
	}{
		{"new client", 6, "/events", nil, []string{"sync@106"}},
		{"new client, no events yet", 0, "/events", nil, []string{"sync@100"}},
		{"header, two missed", 6, "/events", []string{"Last-Event-ID: 104"}, []string{"105", "106"}},
		{"header, none missed", 6, "/events", []string{"Last-Event-ID: 106"}, nil},
		{"header, oldest kept", 6, "/events", []string{"Last-Event-ID: 102"}, []string{"103", "104", "105", "106"}},
		{"header, one gone", 6, "/events", []string{"Last-Event-ID: 101"}, []string{"sync@106"}},
		{"header, first id, all kept", 2, "/events", []string{"Last-Event-ID: 100"}, []string{"101", "102"}},
		{"header, first id, some gone", 6, "/events", []string{"Last-Event-ID: 100"}, []string{"sync@106"}},
		{"header, before first id", 2, "/events", []string{"Last-Event-ID: 99"}, []string{"sync@102"}},
		{"header, future id", 6, "/events", []string{"Last-Event-ID: 107"}, []string{"sync@106"}},
		{"header, other instance", 6, "/events", []string{"Last-Event-ID: 1732550400000"}, []string{"sync@106"}},
		{"header, malformed", 6, "/events", []string{"Last-Event-ID: abc"}, []string{"sync@106"}},
		{"header, negative", 6, "/events", []string{"Last-Event-ID: -1"}, []string{"sync@106"}},
		{"header, hex", 6, "/events", []string{"Last-Event-ID: 0x68"}, []string{"sync@106"}},
		{"header, plus sign", 6, "/events", []string{"Last-Event-ID: +104"}, []string{"sync@106"}},
		{"header, overflow", 6, "/events", []string{"Last-Event-ID: 18446744073709551616"}, []string{"sync@106"}},
		{"header, empty", 6, "/events", []string{"Last-Event-ID: "}, []string{"sync@106"}},
		{"query", 6, "/events?lastEventId=104", nil, []string{"105", "106"}},
		{"query, none missed", 6, "/events?lastEventId=106", nil, nil},
		{"query, gone", 6, "/events?lastEventId=101", nil, []string{"sync@106"}},
		{"query, malformed", 6, "/events?lastEventId=x1", nil, []string{"sync@106"}},
		{"query among others", 6, "/events?t=1&lastEventId=105&x=y", nil, []string{"106"}},
		{"header wins over query", 6, "/events?lastEventId=102", []string{"Last-Event-ID: 105"}, []string{"106"}},
		{"empty header, query used", 6, "/events?lastEventId=104", []string{"Last-Event-ID: "}, []string{"105", "106"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newTestBroker(noHijack, Options{FirstID: 100, History: 4, Heartbeat: time.Hour})
			srv := serveBroker(t, b)
			for i := range tt.published {
				ssetest.MustPublish(t, b, protocol.EventBuilding, building{Build: fmt.Sprint(i)})
			}
			c := ssetest.Open(t, srv, tt.target, tt.header...)
			c.ReadRetry()
			// The stream is registered once it has sent anything; a marker
			// event published now ends what the client got first.
			marker := ssetest.MustPublish(t, b, protocol.EventReload, reload{Reason: "marker"})
			var got []string
			for {
				ev := c.NextEvent()
				if ev.LastEventID == strconv.FormatUint(marker, 10) && ev.Type == protocol.EventReload {
					break
				}
				switch ev.Type {
				case protocol.EventSync:
					got = append(got, "sync@"+ev.LastEventID)
				case protocol.EventBuilding:
					got = append(got, ev.LastEventID)
					// A replayed event is the one that was published.
					id, _ := strconv.Atoi(ev.LastEventID)
					if want := mustJSON(t, building{Build: fmt.Sprint(id - 101)}); ev.Data != want {
						t.Errorf("event %d data %s, want %s", id, ev.Data, want)
					}
				default:
					t.Fatalf("unexpected %+v", ev)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestBrokerResumeAfterSync(t *testing.T) {
	// A client that saw a sync and reconnects with its id gets what was
	// published since.
	b := New(testOptions())
	srv := serveBroker(t, b)
	ssetest.MustPublish(t, b, protocol.EventBuilding, building{})
	sync := ssetest.Open(t, srv, "/events").Start()
	ssetest.MustPublish(t, b, protocol.EventBuilt, building{})
	c := ssetest.Open(t, srv, "/events", "Last-Event-ID: "+sync.LastEventID)
	c.ReadRetry()
	if got := c.NextEvent(); got.Type != protocol.EventBuilt || got.LastEventID != "1002" {
		t.Errorf("got %+v, want built 1002", got)
	}
}

func TestBrokerData(t *testing.T) { ssetest.ForEachMode(t, testBrokerData) }

func testBrokerData(t *testing.T, noHijack bool) {
	b := newTestBroker(noHijack, testOptions())
	srv := serveBroker(t, b)
	c := ssetest.Open(t, srv, "/events")
	c.Start()
	reason := "line 1\nline 2\r\nline 3\rend </script> \u2028 \x00 ü"
	ssetest.MustPublish(t, b, protocol.EventReload, reload{Reason: reason})
	ssetest.MustPublish(t, b, "custom", json.RawMessage("{\n  \"a\": [1,\n 2]\n}\n"))
	ssetest.MustPublish(t, b, "nil", nil)
	var got reload
	if err := json.Unmarshal([]byte(c.NextEvent().Data), &got); err != nil || got.Reason != reason {
		t.Errorf("got %q (%v), want %q", got.Reason, err, reason)
	}
	if got := c.NextEvent(); got.Type != "custom" || got.Data != `{"a":[1,2]}` {
		t.Errorf("got %+v", got)
	}
	if got := c.NextEvent(); got.Type != "nil" || got.Data != "null" {
		t.Errorf("got %+v", got)
	}
}

func TestBrokerPublishErrors(t *testing.T) {
	b := New(testOptions())
	for _, name := range []string{"", "a\nb", "built\r"} {
		if _, _, err := b.Publish(name, nil); err == nil {
			t.Errorf("Publish(%q) succeeded", name)
		}
	}
	if _, _, err := b.Publish("x", make(chan int)); err == nil {
		t.Error("Publish of a channel succeeded")
	}
	if id, n, err := b.Publish("x", 1); id != 1001 || n != 0 || err != nil {
		t.Errorf("Publish = %d, %d, %v; want 1001 (failures take no id), 0, nil", id, n, err)
	}
	b.Close()
	if _, _, err := b.Publish("x", 1); !errors.Is(err, ErrClosed) {
		t.Errorf("Publish after Close: %v, want ErrClosed", err)
	}
}

func TestBrokerDefaults(t *testing.T) {
	before := uint64(time.Now().UnixMilli())
	b := New(Options{})
	defer b.Close()
	id, _, err := b.Publish("x", 1)
	if err != nil || id <= before || id > uint64(time.Now().UnixMilli())+1 {
		t.Errorf("first id %d (%v), want the time in ms + 1 (%d)", id, err, before)
	}
	if b.heartbeat != 10*time.Second || string(b.retryFrame) != "retry: 500\n\n" || len(b.history) != 64 || b.queue != 64 || b.writeTimeout != 10*time.Second {
		t.Errorf("defaults: %v %q %d %d %v", b.heartbeat, b.retryFrame, len(b.history), b.queue, b.writeTimeout)
	}
}

func TestBrokerHeartbeat(t *testing.T) { ssetest.ForEachMode(t, testBrokerHeartbeat) }

func testBrokerHeartbeat(t *testing.T, noHijack bool) {
	opts := testOptions()
	opts.Heartbeat = 5 * time.Millisecond
	opts.Retry = 1234 * time.Millisecond
	b := newTestBroker(noHijack, opts)
	srv := serveBroker(t, b)
	c := ssetest.Open(t, srv, "/events")
	if got := c.ReadRetry(); got != 1234 {
		t.Errorf("retry %d, want 1234", got)
	}
	if got := c.NextEvent(); got.Type != protocol.EventSync {
		t.Fatalf("got %+v, want the sync", got)
	}
	for range 3 {
		if bl := c.Next(); !ssetest.IsPing(bl) {
			t.Fatalf("got %+v, want a ping", bl)
		}
	}
	// Events and pings interleave.
	ssetest.MustPublish(t, b, protocol.EventReload, reload{})
	for {
		bl := c.Next()
		if len(bl.Events) == 1 && bl.Events[0].Type == protocol.EventReload {
			break
		}
		if !ssetest.IsPing(bl) {
			t.Fatalf("got %+v, want a ping or the reload", bl)
		}
	}
}

func TestBrokerSurvivesServerTimeouts(t *testing.T) {
	ssetest.ForEachMode(t, testBrokerSurvivesServerTimeouts)
}

func testBrokerSurvivesServerTimeouts(t *testing.T, noHijack bool) {
	// http.Server's ReadTimeout and WriteTimeout must not end a stream.
	opts := testOptions()
	opts.Heartbeat = 10 * time.Millisecond
	b := newTestBroker(noHijack, opts)
	srv := httptest.NewUnstartedServer(b)
	srv.Config.ReadTimeout = 50 * time.Millisecond
	srv.Config.WriteTimeout = 50 * time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(func() { b.Close() })

	c := ssetest.Open(t, srv, "/events")
	c.Start()
	for start := time.Now(); time.Since(start) < 200*time.Millisecond; {
		if bl := c.Next(); !ssetest.IsPing(bl) {
			t.Fatalf("got %+v, want a ping", bl)
		}
	}
	ssetest.MustPublish(t, b, protocol.EventReload, reload{})
	for {
		if bl := c.Next(); len(bl.Events) == 1 {
			break
		}
	}
}

func TestBrokerClientGone(t *testing.T) { ssetest.ForEachMode(t, testBrokerClientGone) }

func testBrokerClientGone(t *testing.T, noHijack bool) {
	opts := testOptions()
	left := make(chan struct{}, 10)
	opts.TestHook = func(where string) {
		if where == "leave" {
			left <- struct{}{}
		}
	}
	b := newTestBroker(noHijack, opts)
	srv := serveBroker(t, b)
	c := ssetest.Open(t, srv, "/events")
	c.Start()
	keep := ssetest.Open(t, srv, "/events")
	keep.Start()
	c.Conn.Close()
	select {
	case <-left:
	case <-time.After(ssetest.Timeout):
		t.Fatal("the handler of a closed connection did not return")
	}
	if n := b.Clients(); n != 1 {
		t.Errorf("Clients() = %d, want 1", n)
	}
	if _, n, _ := b.Publish("x", 1); n != 1 {
		t.Errorf("Publish reached %d clients, want 1", n)
	}
	keep.NextEvent()
}

func TestBrokerDropsLaggingClient(t *testing.T) { ssetest.ForEachMode(t, testBrokerDropsLaggingClient) }

func testBrokerDropsLaggingClient(t *testing.T, noHijack bool) {
	// A stream that wakes up to find itself more than Queue events behind
	// is dropped; it can resume from History.
	opts := testOptions()
	opts.Queue = 2
	gate := make(chan struct{})
	opts.TestHook = func(where string) {
		if where == "wake" {
			<-gate
		}
	}
	b := newTestBroker(noHijack, opts)
	srv := serveBroker(t, b)
	c := ssetest.Open(t, srv, "/events")
	sync := c.Start()
	for i := range 3 {
		if _, n, err := b.Publish(protocol.EventBuilding, building{Build: strconv.Itoa(i)}); n != 1 || err != nil {
			t.Fatalf("Publish: %d clients, %v", n, err)
		}
	}
	close(gate) // the stream, asleep in the hook, finds itself 3 behind
	c.ReadToEnd()
	if len(c.P.Events) != 1 {
		t.Errorf("a dropped client got %+v, want only its sync", c.P.Events)
	}
	if n := b.Clients(); n != 0 {
		t.Errorf("Clients() = %d, want 0", n)
	}
	r := ssetest.Open(t, srv, "/events", "Last-Event-ID: "+sync.LastEventID)
	r.ReadRetry()
	for i := range 3 {
		if got := r.NextEvent(); got.LastEventID != strconv.Itoa(1001+i) {
			t.Errorf("replay %d: got %+v", i, got)
		}
	}
}

// smallBufferListener shrinks the send buffer of accepted connections,
// so that a client that does not read blocks the server quickly.
type smallBufferListener struct{ net.Listener }

func (l smallBufferListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(4 << 10)
	}
	return c, err
}

func TestBrokerDropsStalledClient(t *testing.T) { ssetest.ForEachMode(t, testBrokerDropsStalledClient) }

func testBrokerDropsStalledClient(t *testing.T, noHijack bool) {
	// A client that stops reading must neither block Publish nor the other
	// clients; its stream ends within WriteTimeout.
	opts := testOptions()
	opts.Queue = 4
	opts.WriteTimeout = 500 * time.Millisecond
	left := make(chan struct{}, 10)
	opts.TestHook = func(where string) {
		if where == "leave" {
			left <- struct{}{}
		}
	}
	b := newTestBroker(noHijack, opts)
	srv := serveSmallBuffers(t, b)

	stalled := ssetest.Open(t, srv, "/events")
	stalled.Conn.(*net.TCPConn).SetReadBuffer(4 << 10)
	stalled.Start() // and reads no more
	healthy := ssetest.Open(t, srv, "/events")
	healthy.Start()

	big := strings.Repeat("x", 256<<10) // far more than the socket buffers hold
	const events = 8
	for i := range events {
		if _, n, err := b.Publish(protocol.EventReload, reload{Reason: big}); err != nil || n == 0 {
			t.Fatalf("Publish: %d, %v", n, err)
		}
		if got := healthy.NextEvent(); got.LastEventID != strconv.Itoa(1001+i) {
			t.Fatalf("healthy client: got event %s, want %d", got.LastEventID, 1001+i)
		}
	}
	select {
	case <-left:
	case <-time.After(ssetest.Timeout):
		t.Fatal("the stalled client was not dropped")
	}
	if n := b.Clients(); n != 1 {
		t.Errorf("Clients() = %d, want 1", n)
	}
	stalled.ReadToEnd()
	if n := len(stalled.P.Events); n >= 1+events {
		t.Errorf("the stalled client got all %d events", n)
	}
	ssetest.MustPublish(t, b, protocol.EventReload, reload{})
	if got := healthy.NextEvent(); got.Data != `{"reason":""}` {
		t.Errorf("healthy client: got %+v", got)
	}
}

func TestBrokerConcurrentPublish(t *testing.T) { ssetest.ForEachMode(t, testBrokerConcurrentPublish) }

func testBrokerConcurrentPublish(t *testing.T, noHijack bool) {
	opts := testOptions()
	opts.Queue = 1000
	opts.History = 1000
	opts.Heartbeat = time.Millisecond // pings interleave with events
	b := newTestBroker(noHijack, opts)
	srv := serveBroker(t, b)
	const publishers, each = 4, 100
	var clients []*ssetest.Client
	for range 3 {
		c := ssetest.Open(t, srv, "/events")
		c.ReadRetry()
		clients = append(clients, c)
	}
	var wg sync.WaitGroup
	for p := range publishers {
		wg.Go(func() {
			for i := range each {
				if _, _, err := b.Publish(protocol.EventBuilding, building{Build: fmt.Sprint(p, i)}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	var readers sync.WaitGroup
	for i, c := range clients {
		readers.Go(func() {
			var last uint64
			for n := 0; n < publishers*each; {
				bl, err := c.TryNext()
				if err != nil {
					t.Errorf("client %d: %v", i, err)
					return
				}
				for _, ev := range bl.Events {
					if ev.Type == protocol.EventPing {
						continue // no id of its own
					}
					id, _ := strconv.ParseUint(ev.LastEventID, 10, 64)
					if ev.Type != protocol.EventSync && id != last+1 {
						t.Errorf("client %d: got id %d after %d", i, id, last)
					}
					last = id
					if ev.Type != protocol.EventSync {
						n++
					}
				}
			}
		})
	}
	wg.Wait()
	readers.Wait()
}

func TestBrokerClose(t *testing.T) { ssetest.ForEachMode(t, testBrokerClose) }

func testBrokerClose(t *testing.T, noHijack bool) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) }) // after the cleanups below

	opts := testOptions()
	opts.Heartbeat = time.Millisecond
	b := newTestBroker(noHijack, opts)
	srv := serveBroker(t, b)
	var clients []*ssetest.Client
	for range 3 {
		c := ssetest.Open(t, srv, "/events")
		c.Start()
		clients = append(clients, c)
	}
	done := make(chan error)
	go func() { done <- b.Close() }()
	for _, c := range clients {
		c.ReadToEnd()
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(ssetest.Timeout):
		t.Fatal("Close did not return")
	}
	if n := b.Clients(); n != 0 {
		t.Errorf("Clients() = %d after Close, want 0", n)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	resp, _ := ssetest.Request(t, srv, "GET", "/events")
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("GET after Close: %s, want 503", resp.Status)
	}
	if _, _, err := b.Publish(protocol.EventReload, reload{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Publish after Close: %v", err)
	}
}

func TestBrokerCloseUnserved(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	b := New(Options{})
	b.Close()
	goleak.VerifyNone(t, ignore)
}

func TestBrokerHTTP2(t *testing.T) {
	b := New(testOptions())
	srv := httptest.NewUnstartedServer(b)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	t.Cleanup(func() { b.Close() })

	ctx, cancel := context.WithTimeout(context.Background(), ssetest.Timeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/events", nil)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ProtoMajor != 2 || resp.Header.Get("Content-Type") != "text/event-stream" || resp.Header.Get("Connection") != "" {
		t.Fatalf("%s %s, headers %v", resp.Proto, resp.Status, resp.Header)
	}
	p := ssetest.NewParser()
	br := bufio.NewReader(resp.Body)
	read := func(n int) {
		for len(p.Events) < n {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			p.Feed([]byte(line))
		}
	}
	read(1)
	ssetest.MustPublish(t, b, protocol.EventReload, reload{Reason: "h2"})
	read(2)
	if p.Retry != 500 || p.Events[0].Type != protocol.EventSync || p.Events[1] != (ssetest.Event{Type: protocol.EventReload, Data: `{"reason":"h2"}`, LastEventID: "1001"}) {
		t.Errorf("retry %d, events %+v", p.Retry, p.Events)
	}
}

func TestBrokerIgnoresClientData(t *testing.T) { ssetest.ForEachMode(t, testBrokerIgnoresClientData) }

func testBrokerIgnoresClientData(t *testing.T, noHijack bool) {
	// What a client sends after its request (a pipelined request, junk)
	// does not disturb its stream.
	b := newTestBroker(noHijack, testOptions())
	srv := serveBroker(t, b)
	c := ssetest.Open(t, srv, "/events")
	c.Start()
	if _, err := io.WriteString(c.Conn, "GET /other HTTP/1.1\r\nHost: x\r\n\r\njunk"); err != nil {
		t.Fatal(err)
	}
	ssetest.MustPublish(t, b, protocol.EventReload, reload{})
	if got := c.NextEvent(); got.Type != protocol.EventReload {
		t.Errorf("got %+v", got)
	}
}

func TestAppendChunk(t *testing.T) {
	tests := []struct {
		frames []string
		want   string
	}{
		{nil, "head"},
		{[]string{""}, "head"},
		{[]string{"abc"}, "head3\r\nabc\r\n"},
		{[]string{"", "0123456789", "abcdef"}, "head10\r\n0123456789abcdef\r\n"},
	}
	for _, tt := range tests {
		var frames [][]byte
		for _, f := range tt.frames {
			frames = append(frames, []byte(f))
		}
		if got := appendChunk([]byte("head"), frames); string(got) != tt.want {
			t.Errorf("appendChunk(%q) = %q, want %q", tt.frames, got, tt.want)
		}
	}
}
