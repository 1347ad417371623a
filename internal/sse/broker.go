// Package sse is the server side of devserve's event stream: a Broker that
// fans events out to every connected browser over Server-Sent Events,
// replays what a reconnecting client missed, and keeps idle streams cheap
// by carrying them on hijacked connections.
//
// It knows the protocol's event names (internal/protocol) but not their
// payloads: it encodes whatever data it is given as JSON, and the data of
// each new client's sync event comes from [Options.Sync]. Package hmr
// wraps it as the public hmr.Broker, with devserve's payloads; the
// messages of its errors and logs say "hmr:", the package they surface
// through.
package sse

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/devserve/devserve/internal/protocol"
)

// ErrClosed is returned by [Broker.Publish] after [Broker.Close]. Package
// hmr exports it as hmr.ErrClosed.
var ErrClosed = errors.New("hmr: broker closed")

// Options configure a [Broker]. The zero value is ready to use.
type Options struct {
	// Heartbeat is the interval of the EventPing event sent to every
	// client, so that proxies keep the connection open and the client can
	// tell a dead connection from a quiet one. [Broker.Heartbeat] returns
	// the interval in force, for the sync data to say it. 0 means 10s.
	Heartbeat time.Duration

	// Retry is the reconnection delay the stream asks browsers to use
	// (the "retry:" field, sent first). 0 means 500ms.
	Retry time.Duration

	// History is how many recent events are kept, so that a client that
	// reconnects with the id of the last event it saw is sent the events
	// it missed rather than a new sync. 0 means 64.
	History int

	// Queue is how many events a client may lag behind (published but not
	// yet written to its connection). A client further behind is dropped:
	// its stream ends, and its browser reconnects and catches up from
	// History. This bounds what a stalled client costs. 0 means 64.
	Queue int

	// WriteTimeout bounds each write to a client. A client that does not
	// take its data in that time (a dead or stalled peer that keeps its TCP
	// connection open) is dropped. It replaces the http.Server's
	// WriteTimeout, which would otherwise cut every stream. 0 means 10s.
	WriteTimeout time.Duration

	// FirstID is the id of the first event minus one. 0 means the current
	// Unix time in milliseconds, so that ids keep growing across server
	// restarts and a client that comes back from an earlier server
	// instance is not mistaken for one that missed a few events.
	FirstID uint64

	// Sync returns the data of the sync event sent to each new client
	// alone, encoded as JSON. It is called on the client's request
	// goroutine, without any lock of the Broker held, so it may call the
	// Broker and may run concurrently with itself and with Publish. It is
	// called after the client's place in the event sequence is fixed, so
	// an event published meanwhile may be reflected in the sync data and
	// also be sent after it, but is never lost. nil means the data {}.
	Sync func() any

	// Logger receives connections and disconnections (Debug), dropped
	// clients (Info) and failures (Warn, Error). nil means no logging.
	Logger *slog.Logger

	// Writers is how many goroutines write the streams of hijacked
	// connections, each serving its share of them (see ServeHTTP). 0 means
	// GOMAXPROCS.
	Writers int

	// NoHijack makes the Broker serve every stream through the
	// ResponseWriter, so that tests cover that path over HTTP/1.1 too.
	NoHijack bool

	// TestHook, if set, is called with "wake" each time a stream is found
	// behind, before it checks how far, and with "leave" once a stream is
	// unregistered. A hijacked stream also calls it with "adopted" when
	// it goes to its writer, and "alone" when it leaves the writer to wait
	// for room in its socket. It is for tests.
	TestHook func(where string)
}

// Broker is the server side of the event stream: an [http.Handler] whose
// clients receive every event passed to Publish.
//
// Publish encodes an event once, appends it to a list shared by all
// streams and wakes their writers by closing one channel, without waiting
// for any client; each writer then writes to each of its streams what the
// stream has not yet sent. So a stream costs no queue of its own, only a
// pointer into the list, and a slow client delays no one but itself.
//
// A Broker runs a heartbeat goroutine, a few writers of the streams of
// hijacked connections and what notices when their clients go (see
// ServeHTTP). Close stops them all. Neither
// http.Server.Shutdown nor Close ends a stream, so close the Broker first,
// for example with http.Server.RegisterOnShutdown(func() { b.Close() }).
type Broker struct {
	heartbeat    time.Duration
	retryFrame   []byte
	queue        uint64
	writeTimeout time.Duration
	sync         func() any // nil: the data {}
	log          *slog.Logger

	// lastID is the id of the last event. It is written under mu and read
	// by streams without it, to measure how far behind they are.
	lastID atomic.Uint64

	mu      sync.Mutex
	tail    *node    // newest node; streams that are up to date wait on it
	history [][]byte // encoded events; event id i is at history[i%len(history)]
	stored  int      // how many of history's slots hold events
	clients int
	closed  bool

	shards []*shard      // the writers of hijacked streams
	closer *closeWatcher // notices hijacked streams' clients going; nil: a goroutine each

	done chan struct{} // closed by Close
	wg   sync.WaitGroup

	noHijack bool               // Options.NoHijack
	testHook func(where string) // Options.TestHook
}

// node is one element of the list that carries events to the streams.
// Its fields are immutable except next, which is set once, before ready
// is closed; a stream that has seen ready closed may read next.
type node struct {
	id    uint64 // id of the last event at or before this node
	frame []byte // encoded event, or pingFrame
	chunk []byte // frame as one chunk of the chunked transfer coding
	ping  bool
	next  *node
	ready chan struct{}
}

// New returns a Broker with opts (see [Options] for the defaults of zero
// fields) and starts its heartbeat. Call Close to stop it.
func New(opts Options) *Broker {
	b := &Broker{
		heartbeat:    orDefault(opts.Heartbeat, 10*time.Second),
		retryFrame:   retryFrame(orDefault(opts.Retry, 500*time.Millisecond)),
		queue:        uint64(orDefault(opts.Queue, 64)),
		writeTimeout: orDefault(opts.WriteTimeout, 10*time.Second),
		sync:         opts.Sync,
		log:          opts.Logger,
		history:      make([][]byte, orDefault(opts.History, 64)),
		done:         make(chan struct{}),
		noHijack:     opts.NoHijack,
		testHook:     opts.TestHook,
	}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	first := opts.FirstID
	if first == 0 {
		first = uint64(time.Now().UnixMilli())
	}
	b.lastID.Store(first)
	b.tail = &node{id: first, ready: make(chan struct{})}
	b.wg.Go(b.beat)
	b.shards = make([]*shard, orDefault(opts.Writers, runtime.GOMAXPROCS(0)))
	if b.closer = newCloseWatcher(b); b.closer != nil {
		b.wg.Go(b.closer.run)
	}
	tail := b.tail // read here: Publish changes b.tail under b.mu
	for i := range b.shards {
		sh := &shard{wake: make(chan struct{}, 1)}
		b.shards[i] = sh
		b.wg.Go(func() { b.runShard(sh, tail) })
	}
	return b
}

// orDefault returns v, or def when v is zero or negative.
func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Publish sends an event named name with data encoded as JSON to every
// connected client, and records it for replay to clients that reconnect.
// It never waits for a client. It returns the event's id and the number of
// clients it was sent to. name must be non-empty and hold no CR or LF.
func (b *Broker) Publish(name string, data any) (id uint64, clients int, err error) {
	if !validEventName(name) {
		return 0, 0, fmt.Errorf("%w: %q", errEventName, name)
	}
	js, err := json.Marshal(data)
	if err != nil {
		return 0, 0, fmt.Errorf("hmr: event %s: %w", name, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, 0, ErrClosed
	}
	id = b.lastID.Load() + 1
	frame, err := encodeEvent(id, name, js)
	if err != nil {
		return 0, 0, err
	}
	b.history[id%uint64(len(b.history))] = frame
	b.stored = min(b.stored+1, len(b.history))
	b.lastID.Store(id)
	b.push(&node{id: id, frame: frame, chunk: appendChunk(nil, [][]byte{frame}), ready: make(chan struct{})})
	return id, b.clients, nil
}

// push appends n to the list and wakes every stream waiting at the tail.
// b.mu must be held.
func (b *Broker) push(n *node) {
	b.tail.next = n
	close(b.tail.ready)
	b.tail = n
}

// beat sends the heartbeat until Close.
func (b *Broker) beat() {
	t := time.NewTicker(b.heartbeat)
	defer t.Stop()
	for {
		select {
		case <-b.done:
			return
		case <-t.C:
			b.mu.Lock()
			if b.clients > 0 && !b.closed {
				b.push(&node{id: b.lastID.Load(), frame: pingFrame, chunk: pingChunk, ping: true, ready: make(chan struct{})})
			}
			b.mu.Unlock()
		}
	}
}

// Heartbeat returns the interval of the heartbeat: Options.Heartbeat, or
// its default.
func (b *Broker) Heartbeat() time.Duration { return b.heartbeat }

// LastID returns the id of the last event published, or Options.FirstID
// (or its default) before the first. A client that reconnects with it is
// sent what is published from now on.
func (b *Broker) LastID() uint64 { return b.lastID.Load() }

// Clients returns the number of connected clients.
func (b *Broker) Clients() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.clients
}

// Close ends every stream and stops the heartbeat and the writers, and
// returns once they are done: a stream blocked writing to a stalled client
// may take up to WriteTimeout. Later requests are answered 503 Service Unavailable and
// Publish returns ErrClosed. Close is idempotent and always returns nil.
func (b *Broker) Close() error {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.done)
	}
	b.mu.Unlock()
	b.closer.stop()
	b.wg.Wait()
	return nil
}

// start is where a new stream begins.
type start struct {
	cur     *node    // the stream sends what follows cur
	replay  [][]byte // events to send first, when resumed
	resumed bool     // the client's last event id is known: send replay, not a sync
}

// join registers a stream whose client last saw the event with id last
// (possibly empty or malformed). ok is false after Close.
func (b *Broker) join(last string) (s start, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return s, false
	}
	b.clients++
	b.wg.Add(1)
	s.cur = b.tail
	lastID := b.lastID.Load()
	id, err := strconv.ParseUint(last, 10, 64)
	// Resume only if every event after id is still in history. An id from
	// the future, or from before this instance's first event, is unknown.
	if err == nil && id <= lastID && lastID-id <= uint64(b.stored) {
		s.resumed = true
		for i := id + 1; i <= lastID; i++ {
			s.replay = append(s.replay, b.history[i%uint64(len(b.history))])
		}
	}
	return s, true
}

// leave unregisters a stream that is done.
func (b *Broker) leave() {
	b.unregister()
	b.wg.Done()
}

// unregister is the part of leave that takes the stream out of the count
// of clients.
func (b *Broker) unregister() {
	b.mu.Lock()
	b.clients--
	b.mu.Unlock()
	b.hook("leave")
}

// lastEventID returns the id of the last event the client saw: the
// Last-Event-ID header that EventSource sends when it reconnects by
// itself, else the lastEventId query parameter, which a client that makes
// a new EventSource to reconnect adds since it cannot set headers.
func lastEventID(r *http.Request) string {
	if v := r.Header.Get("Last-Event-ID"); v != "" {
		return v
	}
	return r.URL.Query().Get("lastEventId")
}

// ServeHTTP serves the event stream to a GET request; other methods get
// 405 Method Not Allowed. The stream starts with the "retry:" field, then
// the events the client missed if it sent the id of its last event and
// they are all still in History, else a sync event with the current last
// id. Then it carries every published event and the heartbeat until the
// client goes away, falls more than Queue events behind, or the Broker is
// closed.
//
// An HTTP/1.1 connection is hijacked: ServeHTTP returns at once, and the
// Broker carries the stream on: one of its few writers writes the events
// of many streams, each to its connection without waiting (a client that
// does not take a write at once gets a goroutine that waits for it, up to
// WriteTimeout, and then goes back to the writer); on Linux one goroutine
// waiting in epoll notices for all streams when a client closes its
// connection (elsewhere, and for TLS connections, a small goroutine per
// stream does). This frees what net/http holds for a request in progress
// (a goroutine and 10 KiB of buffers): an idle stream then costs under
// 1 KiB of Go memory instead of 25, which matters with many open pages,
// and an event costs a wakeup per writer, not per stream. Where the
// connection cannot be hijacked (HTTP/2, or a ResponseWriter wrapper that
// does not support it) the stream is served through the ResponseWriter
// and ServeHTTP returns when it ends.
func (b *Broker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	last := lastEventID(r)
	s, ok := b.join(last)
	if !ok {
		http.Error(w, "hmr: event stream closed", http.StatusServiceUnavailable)
		return
	}
	leave := true // until a goroutine of a hijacked stream takes over
	defer func() {
		if leave {
			b.leave()
		}
	}()
	frames := append(make([][]byte, 0, 1+max(1, len(s.replay))), b.retryFrame)
	if s.resumed {
		frames = append(frames, s.replay...)
	} else {
		data := []byte("{}")
		if b.sync != nil {
			var err error
			if data, err = json.Marshal(b.sync()); err != nil {
				b.log.Error("hmr: sync data", "err", err)
				http.Error(w, "hmr: sync data: "+err.Error(), http.StatusInternalServerError)
				return
			}
		}
		// The sync takes the id of the last event: it stands for the state
		// after it, and a client that reconnects with it resumes there.
		f, _ := encodeEvent(s.cur.id, protocol.EventSync, data)
		frames = append(frames, f)
	}
	h := w.Header()
	h.Del("Content-Length") // a middleware's guess; the stream has none
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache, no-transform")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	b.log.Debug("hmr: client connected", "remote", r.RemoteAddr, "lastEventId", last, "resumed", s.resumed, "replayed", len(s.replay))

	if r.ProtoMajor == 1 && r.ProtoMinor >= 1 && !b.noHijack {
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			// What the client sent after its request, if anything, is
			// ignored, like all it sends later.
			head := append([]byte("HTTP/1.1 200 OK\r\n"), streamHeader(h)...)
			leave = false
			b.serveHijacked(conn, appendChunk(head, frames), s.cur, r.RemoteAddr)
			return
		}
	}
	b.serveResponse(w, r, s.cur, frames)
}

// streamHeader returns h, as a response header of a stream in the chunked
// transfer coding, ending with the empty line.
func streamHeader(h http.Header) []byte {
	h = h.Clone()
	h.Set("Transfer-Encoding", "chunked")
	h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	var buf bytes.Buffer
	h.Write(&buf) // Header.Write replaces CR and LF in values
	buf.WriteString("\r\n")
	return buf.Bytes()
}

// lastChunk ends the chunked transfer coding: the stream ended cleanly,
// and the client reconnects after the retry delay.
var lastChunk = []byte("0\r\n\r\n")

// appendChunk appends frames to dst as one chunk of the chunked transfer
// coding.
func appendChunk(dst []byte, frames [][]byte) []byte {
	n := 0
	for _, f := range frames {
		n += len(f)
	}
	if n == 0 {
		return dst // a chunk of size 0 would end the body
	}
	dst = slices.Grow(dst, n+20)
	dst = strconv.AppendInt(dst, int64(n), 16)
	dst = append(dst, "\r\n"...)
	for _, f := range frames {
		dst = append(dst, f...)
	}
	return append(dst, "\r\n"...)
}

// serveResponse carries a stream through w: it writes frames, then what
// follows cur, until the stream ends.
func (b *Broker) serveResponse(w http.ResponseWriter, r *http.Request, cur *node, frames [][]byte) {
	rc := http.NewResponseController(w)
	w.WriteHeader(http.StatusOK)
	warned := false
	for {
		// Each write has a deadline, which is cleared after it, so that an
		// idle stream has none: the http.Server's WriteTimeout, set on the
		// connection for each request, must not end the stream.
		_ = rc.SetWriteDeadline(time.Now().Add(b.writeTimeout))
		for _, f := range frames {
			if _, err := w.Write(f); err != nil {
				b.log.Debug("hmr: client gone", "remote", r.RemoteAddr, "err", err)
				return
			}
		}
		if err := rc.Flush(); errors.Is(err, http.ErrNotSupported) {
			if !warned {
				b.log.Warn("hmr: the ResponseWriter cannot flush: events are delayed", "remote", r.RemoteAddr)
				warned = true
			}
		} else if err != nil {
			b.log.Debug("hmr: client gone", "remote", r.RemoteAddr, "err", err)
			return
		}
		_ = rc.SetWriteDeadline(time.Time{})
		clear(frames)
		frames = frames[:0]

		select {
		case <-cur.ready:
		case <-r.Context().Done():
			b.log.Debug("hmr: client gone", "remote", r.RemoteAddr)
			return
		case <-b.done:
			return
		}
		var ok bool
		if cur, frames, ok = b.collect(cur, frames); !ok {
			b.log.Info("hmr: client dropped: too far behind", "remote", r.RemoteAddr, "queue", b.queue)
			return
		}
	}
}

// collect appends to frames what follows cur, whose ready channel is
// closed, up to the newest node, and returns that node. ok is false if
// the stream is more than Queue events behind: it must be dropped.
func (b *Broker) collect(cur *node, frames [][]byte) (last *node, _ [][]byte, ok bool) {
	if b.testHook != nil {
		b.testHook("wake")
	}
	for {
		if b.lastID.Load()-cur.id > b.queue {
			return cur, frames, false
		}
		cur = cur.next // set, since cur.ready is closed
		// A ping adds nothing to a batch that has an event.
		if !cur.ping || len(frames) == 0 {
			frames = append(frames, cur.frame)
		}
		select {
		case <-cur.ready:
		default:
			return cur, frames, true
		}
	}
}
