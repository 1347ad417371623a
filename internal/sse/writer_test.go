package sse

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/devserve/devserve/internal/protocol"
	"github.com/devserve/devserve/internal/ssetest"
	"go.uber.org/goleak"
)

// hookCounter counts the calls of Options.TestHook by where, and lets a
// test wait for a count.
type hookCounter struct {
	mu     sync.Mutex
	counts map[string]int
	change chan struct{} // closed and replaced at each call
}

func newHookCounter() *hookCounter {
	return &hookCounter{counts: map[string]int{}, change: make(chan struct{})}
}

func (h *hookCounter) hook(where string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.counts[where]++
	close(h.change)
	h.change = make(chan struct{})
}

// wait waits until where has been seen n times.
func (h *hookCounter) wait(t *testing.T, where string, n int) {
	t.Helper()
	timeout := time.After(ssetest.Timeout)
	for {
		h.mu.Lock()
		got, change := h.counts[where], h.change
		h.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-change:
		case <-timeout:
			t.Fatalf("%q seen %d times, want %d", where, got, n)
		}
	}
}

// checkLeaks fails t if goroutines started during it outlive its
// cleanups; call it first, so that its cleanup runs last.
func checkLeaks(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
}

// serveSmallBuffers is serveBroker with smallBufferListener: a client
// that stops reading soon fills its connection.
func serveSmallBuffers(t *testing.T, b *Broker) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(b)
	srv.Listener = smallBufferListener{srv.Listener}
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(func() { b.Close() })
	return srv
}

// stalledClient opens a stream on a connection with a small receive
// buffer and reads its start, and no more.
func stalledClient(t *testing.T, srv *httptest.Server) *ssetest.Client {
	t.Helper()
	c := ssetest.Open(t, srv, "/events")
	c.Conn.(*net.TCPConn).SetReadBuffer(4 << 10)
	c.Start()
	return c
}

func TestWriterStalledReader(t *testing.T) {
	// A client that stops reading must not delay the others: their writer
	// does not wait for it. WriteTimeout is an hour, so that a writer that
	// waited for the stalled client would fail the test.
	tests := []struct {
		name    string
		writers int
		order   string // the clients in the order they connect: s stalled, h healthy
		size    int    // bytes of each event's data
	}{
		{"stalled first, one writer", 1, "shhh", 64 << 10},
		{"stalled last, one writer", 1, "hhhs", 64 << 10},
		{"stalled between", 1, "hshsh", 64 << 10},
		{"mostly stalled, two writers", 2, "sssshsss", 64 << 10},
		{"small events, one writer", 1, "shh", 1 << 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hooks := newHookCounter()
			opts := testOptions()
			opts.Writers = tt.writers
			opts.WriteTimeout = time.Hour
			opts.History = 1000
			opts.Queue = 1000
			opts.TestHook = hooks.hook
			b := New(opts)
			srv := serveSmallBuffers(t, b)

			var healthy, stalled []*ssetest.Client
			for _, kind := range tt.order {
				if kind == 's' {
					stalled = append(stalled, stalledClient(t, srv))
					continue
				}
				c := ssetest.Open(t, srv, "/events")
				c.Start()
				healthy = append(healthy, c)
			}
			hooks.wait(t, "adopted", len(tt.order))

			// Enough to fill the stalled clients' socket buffers many times.
			data := strings.Repeat("x", tt.size)
			events := max(8, (1<<20)/tt.size)
			for i := range events {
				ssetest.MustPublish(t, b, protocol.EventReload, reload{Reason: data})
				for j, c := range healthy {
					if got := c.NextEvent(); got.LastEventID != strconv.Itoa(1001+i) {
						t.Fatalf("healthy client %d: got event %s, want %d", j, got.LastEventID, 1001+i)
					}
				}
			}
			// Each stalled stream waits alone, and the healthy ones are
			// back with their writer.
			hooks.wait(t, "alone", len(stalled))
			if n := b.Clients(); n != len(tt.order) {
				t.Errorf("Clients() = %d, want %d: a stalled client is not dropped before WriteTimeout", n, len(tt.order))
			}
			// Closing the stalled connections ends their streams.
			for _, c := range stalled {
				c.Conn.Close()
			}
			hooks.wait(t, "leave", len(stalled))
			ssetest.MustPublish(t, b, protocol.EventReload, reload{})
			for _, c := range healthy {
				if got := c.NextEvent(); got.Data != `{"reason":""}` {
					t.Errorf("healthy client: got %+v", got)
				}
			}
		})
	}
}

func TestWriterStalledReaderDropped(t *testing.T) {
	// A stalled client is dropped after WriteTimeout, and resumes where it
	// stopped when it reconnects with the id of the last event it read.
	opts := testOptions()
	opts.Writers = 1
	opts.WriteTimeout = 500 * time.Millisecond
	opts.History = 1000
	opts.Queue = 1000
	hooks := newHookCounter()
	opts.TestHook = hooks.hook
	b := New(opts)
	srv := serveSmallBuffers(t, b)

	stalled := stalledClient(t, srv)
	healthy := ssetest.Open(t, srv, "/events")
	healthy.Start()
	data := strings.Repeat("x", 1<<10)
	const events = 100 // 100 KiB, more than the stalled client's socket buffers hold
	for i := range events {
		ssetest.MustPublish(t, b, protocol.EventReload, reload{Reason: data})
		if got := healthy.NextEvent(); got.LastEventID != strconv.Itoa(1001+i) {
			t.Fatalf("healthy client: got event %s, want %d", got.LastEventID, 1001+i)
		}
	}
	hooks.wait(t, "leave", 1)
	stalled.ReadToEnd()
	last := "1000"
	for _, ev := range stalled.P.Events {
		if ev.Type == protocol.EventReload {
			last = ev.LastEventID
		}
	}
	if last == strconv.Itoa(1000+events) {
		t.Fatal("the stalled client read every event")
	}
	r := ssetest.Open(t, srv, "/events", "Last-Event-ID: "+last)
	r.ReadRetry()
	from, _ := strconv.Atoi(last)
	for id := from + 1; id <= 1000+events; id++ {
		if got := r.NextEvent(); got.LastEventID != strconv.Itoa(id) {
			t.Fatalf("resumed client: got %+v, want event %d", got, id)
		}
	}
}

func TestWriterJoinLeave(t *testing.T) {
	// Streams that join, leave and resume while events are published see
	// every event once, in order, whatever writer they land on.
	tests := []struct {
		name      string
		writers   int
		heartbeat time.Duration
		noHijack  bool
	}{
		{"one writer", 1, time.Hour, false},
		{"three writers", 3, time.Hour, false},
		{"three writers, pings", 3, time.Millisecond, false},
		{"response writer", 1, time.Hour, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const (
				events  = 300
				stayers = 3
				joiners = 6
				each    = 7 // events a joiner reads before it leaves and resumes
			)
			checkLeaks(t)
			hooks := newHookCounter()
			b := New(Options{FirstID: 1000, Heartbeat: tt.heartbeat, History: events, Queue: events, Writers: tt.writers, NoHijack: tt.noHijack, TestHook: hooks.hook})
			srv := serveBroker(t, b)
			const final = 1000 + events

			// follow reads c until the final event or until it has read
			// max events, checking that ids follow from *last, which it
			// updates.
			follow := func(c *ssetest.Client, last *int, max int) error {
				for n := 0; n < max && *last < final; {
					bl, err := c.TryNext()
					if err != nil {
						return err
					}
					for _, ev := range bl.Events {
						if ev.Type == protocol.EventPing {
							continue
						}
						id, _ := strconv.Atoi(ev.LastEventID)
						if ev.Type == protocol.EventSync {
							*last = id
							continue
						}
						if id != *last+1 {
							return fmt.Errorf("event %d after %d", id, *last)
						}
						*last = id
						n++
					}
				}
				return nil
			}
			var clients []*ssetest.Client
			for range stayers {
				c := ssetest.Open(t, srv, "/events")
				c.Start()
				clients = append(clients, c)
			}
			var wg sync.WaitGroup
			var conns atomic.Int64
			errs := make(chan error, stayers+joiners)
			wg.Go(func() {
				for i := range events {
					if _, _, err := b.Publish(protocol.EventBuilding, building{Build: strconv.Itoa(i)}); err != nil {
						errs <- err
						return
					}
				}
			})
			for i, c := range clients {
				wg.Go(func() {
					last := 1000
					if err := follow(c, &last, events); err != nil {
						errs <- fmt.Errorf("client %d: %w", i, err)
					}
				})
			}
			for j := range joiners {
				wg.Go(func() {
					last := -1 // a fresh client first, then resumes
					for last < final {
						header := []string{}
						if last >= 0 {
							header = append(header, "Last-Event-ID: "+strconv.Itoa(last))
						}
						c, err := openStream(t, srv, header...)
						if err != nil {
							errs <- fmt.Errorf("joiner %d: %w", j, err)
							return
						}
						conns.Add(1)
						err = follow(c, &last, each)
						c.Conn.Close()
						if err != nil {
							errs <- fmt.Errorf("joiner %d: %w", j, err)
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			// Every joiner's stream ends; the stayers stay.
			hooks.wait(t, "leave", int(conns.Load()))
			if n := b.Clients(); n != stayers {
				t.Errorf("Clients() = %d after %d joins and leaves, want %d", n, conns.Load(), stayers)
			}
		})
	}
}

// openStream is ssetest.Open for goroutines other than the test's: it
// returns errors rather than failing the test, and the client must be
// read with TryNext. The caller closes c.Conn.
func openStream(t *testing.T, srv *httptest.Server, header ...string) (*ssetest.Client, error) {
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		return nil, err
	}
	conn.SetDeadline(time.Now().Add(ssetest.Timeout))
	req := "GET /events HTTP/1.1\r\nHost: x\r\n"
	for _, h := range header {
		req += h + "\r\n"
	}
	if _, err := conn.Write([]byte(req + "\r\n")); err != nil {
		conn.Close()
		return nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		conn.Close()
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		conn.Close()
		return nil, errors.New(resp.Status)
	}
	return ssetest.NewClient(t, conn, resp), nil
}

// drain reads conn until it ends, for goroutines other than the test's.
func drain(conn net.Conn) error {
	conn.SetReadDeadline(time.Now().Add(ssetest.Timeout))
	buf := make([]byte, 32<<10)
	for {
		if _, err := conn.Read(buf); errors.Is(err, os.ErrDeadlineExceeded) {
			return errors.New("the stream did not end")
		} else if err != nil {
			return nil
		}
	}
}

func TestWriterClose(t *testing.T) {
	// Close ends every stream and goroutine, whatever the writers are
	// doing.
	tests := []struct {
		name    string
		writers int
		publish bool // publish without pause until Close
		stalled int  // clients that stop reading, so that their streams wait alone
	}{
		{"idle", 2, false, 0},
		{"while publishing", 2, true, 0},
		{"while publishing, one writer", 1, true, 0},
		{"a stream waiting alone", 1, true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkLeaks(t)
			hooks := newHookCounter()
			opts := testOptions()
			opts.Writers = tt.writers
			opts.WriteTimeout = time.Second // bounds Close for a stream waiting alone
			opts.Queue = 1 << 20            // no stream is dropped for its lag
			opts.TestHook = hooks.hook
			b := New(opts)
			srv := serveSmallBuffers(t, b)

			var clients []*ssetest.Client
			for range 6 {
				c := ssetest.Open(t, srv, "/events")
				c.Start()
				clients = append(clients, c)
			}
			for range tt.stalled {
				stalledClient(t, srv)
			}
			hooks.wait(t, "adopted", 6+tt.stalled)
			var wg sync.WaitGroup
			errs := make(chan error, len(clients))
			if tt.publish {
				for _, c := range clients {
					wg.Go(func() { errs <- drain(c.Conn) })
				}
				if tt.stalled > 0 {
					// More than any socket buffer: every stream waits
					// alone, and the healthy ones go back to their writer.
					ssetest.MustPublish(t, b, protocol.EventReload, reload{Reason: strings.Repeat("x", 4<<20)})
					hooks.wait(t, "alone", len(clients)+tt.stalled)
				}
				data := strings.Repeat("x", 1<<10)
				wg.Go(func() {
					// Bounded: a stalled stream keeps alive all that
					// follows its place in the list.
					for range 5000 {
						if _, _, err := b.Publish(protocol.EventReload, reload{Reason: data}); err != nil {
							return // ErrClosed
						}
					}
				})
			}
			done := make(chan struct{})
			go func() {
				b.Close()
				close(done)
			}()
			if !tt.publish {
				for _, c := range clients {
					c.ReadToEnd()
				}
			}
			select {
			case <-done:
			case <-time.After(ssetest.Timeout):
				t.Fatal("Close did not return")
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Error(err)
				}
			}
			if n := b.Clients(); n != 0 {
				t.Errorf("Clients() = %d after Close, want 0", n)
			}
		})
	}
}

func TestBrokerTLSHTTP1(t *testing.T) {
	// A hijacked TLS connection cannot be written without waiting: its
	// stream keeps a goroutine of its own, and works as the others.
	checkLeaks(t)
	b := New(testOptions())
	srv := httptest.NewTLSServer(b) // HTTP/1.1 only
	t.Cleanup(srv.Close)
	t.Cleanup(func() { b.Close() })

	conn, err := tls.Dial("tcp", srv.Listener.Addr().String(), srv.Client().Transport.(*http.Transport).TLSClientConfig)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(ssetest.Timeout))
	if _, err := conn.Write([]byte("GET /events HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	c := ssetest.NewClient(t, conn, resp)
	c.Start()
	for i := range 3 {
		ssetest.MustPublish(t, b, protocol.EventReload, reload{Reason: strconv.Itoa(i)})
		if got := c.NextEvent(); got.LastEventID != strconv.Itoa(1001+i) {
			t.Errorf("got %+v, want event %d", got, 1001+i)
		}
	}
	b.Close()
	c.ReadToEnd()
}

func TestCatchUp(t *testing.T) {
	// The list: e1 e2 ping e3 ping ping (ids 1..3), each node built as
	// Publish and the heartbeat build them.
	nodes := []*node{{ready: make(chan struct{})}}
	var id uint64
	for _, ping := range []bool{false, false, true, false, true, true} {
		n := &node{ping: ping, ready: make(chan struct{})}
		if ping {
			n.frame, n.chunk = pingFrame, pingChunk
		} else {
			id++
			n.frame, _ = encodeEvent(id, "e", []byte("{}"))
			n.chunk = appendChunk(nil, [][]byte{n.frame})
		}
		n.id = id
		prev := nodes[len(nodes)-1]
		prev.next = n
		close(prev.ready)
		nodes = append(nodes, n)
	}
	chunks := func(is ...int) string {
		var s string
		for _, i := range is {
			s += string(nodes[i].chunk)
		}
		return s
	}
	tests := []struct {
		name   string
		from   int // index of the node the stream has written
		to     int // index of the newest node: later nodes are not yet ready
		queue  uint64
		want   string
		inBuf  bool
		wantOK bool
	}{
		{"one event", 0, 1, 64, chunks(1), false, true},
		{"two events", 0, 2, 64, chunks(1, 2), true, true},
		{"a ping after events is left out", 1, 3, 64, chunks(2), true, true},
		{"a ping alone", 2, 3, 64, chunks(3), false, true},
		{"a ping before an event", 2, 4, 64, chunks(3, 4), true, true},
		{"pings after an event", 3, 6, 64, chunks(4), true, true},
		{"pings", 4, 6, 64, chunks(5), true, true},
		{"as far behind as the queue", 0, 4, 3, chunks(1, 2, 4), true, true},
		{"further behind than the queue", 0, 4, 2, "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &Broker{queue: tt.queue}
			b.lastID.Store(nodes[tt.to].id)
			// Make nodes[tt.to] look newest: its ready open.
			saved := nodes[tt.to].ready
			if tt.to < len(nodes)-1 {
				nodes[tt.to].ready = make(chan struct{})
				defer func() { nodes[tt.to].ready = saved }()
			}
			last, p, inBuf, ok := b.catchUp(nodes[tt.from], []byte{})
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tt.wantOK)
			}
			if !ok {
				return
			}
			if last != nodes[tt.to] || string(p) != tt.want || inBuf != tt.inBuf {
				t.Errorf("got node %d, %q, inBuf %v; want node %d, %q, %v", slices.Index(nodes, last), p, inBuf, tt.to, tt.want, tt.inBuf)
			}
		})
	}
}

func TestBrokerNoticesClientGone(t *testing.T) {
	// However a client goes, its stream ends and the others stay; on Linux
	// the Broker's closeWatcher notices, with no goroutine per stream.
	tests := []struct {
		name  string
		count int
		leave func(c *ssetest.Client) error
	}{
		{"close", 1, func(c *ssetest.Client) error { return c.Conn.Close() }},
		{"half close", 1, func(c *ssetest.Client) error { return c.Conn.(*net.TCPConn).CloseWrite() }},
		{"reset", 1, func(c *ssetest.Client) error {
			c.Conn.(*net.TCPConn).SetLinger(0)
			return c.Conn.Close()
		}},
		{"data, then close", 1, func(c *ssetest.Client) error {
			if _, err := c.Conn.Write([]byte(strings.Repeat("junk\r\n", 1000))); err != nil {
				return err
			}
			return c.Conn.Close()
		}},
		{"many at once", 50, func(c *ssetest.Client) error { return c.Conn.Close() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkLeaks(t)
			hooks := newHookCounter()
			opts := testOptions()
			opts.TestHook = hooks.hook
			b := New(opts)
			srv := serveBroker(t, b)
			keep := ssetest.Open(t, srv, "/events")
			keep.Start()
			var leaving []*ssetest.Client
			for range tt.count {
				c := ssetest.Open(t, srv, "/events")
				c.Start()
				leaving = append(leaving, c)
			}
			if w := watching(b); w != -1 && w != 1+tt.count {
				t.Errorf("the closeWatcher watches %d streams, want %d", w, 1+tt.count)
			}
			for _, c := range leaving {
				if err := tt.leave(c); err != nil {
					t.Fatal(err)
				}
			}
			hooks.wait(t, "leave", tt.count)
			if n := b.Clients(); n != 1 {
				t.Errorf("Clients() = %d, want 1", n)
			}
			if w := watching(b); w != -1 && w != 1 {
				t.Errorf("the closeWatcher watches %d streams, want 1", w)
			}
			ssetest.MustPublish(t, b, protocol.EventReload, reload{})
			if got := keep.NextEvent(); got.Type != protocol.EventReload {
				t.Errorf("got %+v", got)
			}
		})
	}
}
