// Package ssetest reads devserve's event stream in tests: a parser that
// follows the HTML standard's interpretation of text/event-stream, and a
// client that reads a stream over its own connection, so that every read
// has a deadline.
//
// The tests of internal/sse, which serves the stream, and of hmr, which
// publishes devserve's events on it, both use it. It knows the protocol's
// event names, not the payloads.
package ssetest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/devserve/devserve/internal/protocol"
)

// Timeout bounds every wait of the helpers here; waits end as soon as what
// they wait for happens. Tests use it for their own waits too.
const Timeout = 10 * time.Second

// Client reads an event stream over its own connection, so that every
// read can have a deadline.
type Client struct {
	// Conn is the connection; closing it makes the client go away.
	Conn net.Conn
	// Resp is the response, whose body is the stream.
	Resp *http.Response
	// P has parsed all that was read so far.
	P *Parser

	t    testing.TB
	body *bufio.Reader
}

// NewClient returns a Client that reads the body of resp, the response
// read from conn.
func NewClient(t testing.TB, conn net.Conn, resp *http.Response) *Client {
	return &Client{Conn: conn, Resp: resp, P: NewParser(), t: t, body: bufio.NewReader(resp.Body)}
}

// Dial connects to srv and sends a request for target with header lines.
// The connection closes with the test and has a deadline of [Timeout].
func Dial(t testing.TB, srv *httptest.Server, method, target string, header ...string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	req := method + " " + target + " HTTP/1.1\r\nHost: " + srv.Listener.Addr().String() + "\r\n"
	for _, h := range header {
		req += h + "\r\n"
	}
	conn.SetDeadline(time.Now().Add(Timeout))
	if _, err := io.WriteString(conn, req+"\r\n"); err != nil {
		t.Fatal(err)
	}
	return conn
}

// Request does a plain request and returns the response with its body
// read.
func Request(t testing.TB, srv *httptest.Server, method, target string, header ...string) (*http.Response, string) {
	t.Helper()
	conn := Dial(t, srv, method, target, append(header, "Connection: close")...)
	defer conn.Close()
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// Open requests the event stream and checks that it is one.
func Open(t testing.TB, srv *httptest.Server, target string, header ...string) *Client {
	t.Helper()
	conn := Dial(t, srv, "GET", target, header...)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET %s: %s, Content-Type %q", target, resp.Status, resp.Header.Get("Content-Type"))
	}
	return NewClient(t, conn, resp)
}

// Block is what one frame of the stream (lines up to an empty one) held.
type Block struct {
	Events   []Event
	Comments []string
	Retry    int64 // -1 when not set
}

// IsPing reports whether bl is a heartbeat alone: an EventPing event with
// data {} that keeps the last event id.
func IsPing(bl Block) bool {
	return len(bl.Events) == 1 && bl.Events[0].Type == protocol.EventPing && bl.Events[0].Data == "{}" && len(bl.Comments) == 0 && bl.Retry == -1
}

// Next reads the next frame.
func (c *Client) Next() Block {
	c.t.Helper()
	b, err := c.TryNext()
	if err != nil {
		c.t.Fatal(err)
	}
	return b
}

// TryNext is Next for goroutines other than the test's.
func (c *Client) TryNext() (Block, error) {
	c.Conn.SetReadDeadline(time.Now().Add(Timeout))
	ne, nc := len(c.P.Events), len(c.P.Comments)
	c.P.Retry = -1
	for {
		line, err := c.body.ReadString('\n')
		if err != nil {
			return Block{}, fmt.Errorf("reading the stream: %w (partial line %q)", err, line)
		}
		c.P.Feed([]byte(line))
		if line == "\n" {
			break
		}
	}
	return Block{
		Events:   slices.Clone(c.P.Events[ne:]),
		Comments: slices.Clone(c.P.Comments[nc:]),
		Retry:    c.P.Retry,
	}, nil
}

// NextEvent reads the next frame, which must be one event.
func (c *Client) NextEvent() Event {
	c.t.Helper()
	b := c.Next()
	if len(b.Events) != 1 || len(b.Comments) != 0 || b.Retry != -1 {
		c.t.Fatalf("got %+v, want one event", b)
	}
	return b.Events[0]
}

// Start reads the retry frame, and the sync event that must follow.
func (c *Client) Start() Event {
	c.t.Helper()
	c.ReadRetry()
	ev := c.NextEvent()
	if ev.Type != protocol.EventSync {
		c.t.Fatalf("got %+v, want a sync event", ev)
	}
	return ev
}

// ReadRetry reads the retry frame that starts each stream.
func (c *Client) ReadRetry() int64 {
	c.t.Helper()
	b := c.Next()
	if b.Retry < 0 || len(b.Events) != 0 || len(b.Comments) != 0 {
		c.t.Fatalf("got %+v, want a retry frame", b)
	}
	return b.Retry
}

// ReadToEnd reads until the stream ends, and fails if it does not.
func (c *Client) ReadToEnd() {
	c.t.Helper()
	c.Conn.SetReadDeadline(time.Now().Add(Timeout))
	buf := make([]byte, 32<<10)
	for {
		n, err := c.body.Read(buf)
		c.P.Feed(buf[:n])
		if errors.Is(err, os.ErrDeadlineExceeded) {
			c.t.Fatal("the stream did not end")
		}
		if err != nil {
			return // io.EOF at the end of the body, or the connection closed
		}
	}
}

// ForEachMode runs f as two subtests, for the two ways a broker serves a
// stream over HTTP/1.1: on the hijacked connection ("hijacked", noHijack
// false) and through the ResponseWriter ("response", noHijack true).
func ForEachMode(t *testing.T, f func(t *testing.T, noHijack bool)) {
	for _, m := range []struct {
		name     string
		noHijack bool
	}{{"hijacked", false}, {"response", true}} {
		t.Run(m.name, func(t *testing.T) { f(t, m.noHijack) })
	}
}

// Publisher is what publishes events: internal/sse's Broker and hmr's.
type Publisher interface {
	Publish(name string, data any) (id uint64, clients int, err error)
}

// MustPublish publishes an event on p and returns its id; it fails the
// test if Publish fails.
func MustPublish(t testing.TB, p Publisher, name string, data any) uint64 {
	t.Helper()
	id, _, err := p.Publish(name, data)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
