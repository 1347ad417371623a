package hmr

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/devserve/devserve/internal/sse"
)

// ErrClosed is returned by [Broker.Publish] after [Broker.Close].
var ErrClosed = sse.ErrClosed

// BrokerOptions configure a [Broker]. The zero value is ready to use.
type BrokerOptions struct {
	// Heartbeat is the interval of the EventPing event sent to every
	// client, so that proxies keep the connection open and the client can
	// tell a dead connection from a quiet one. Its sync event says it
	// (SyncData.HeartbeatMs). 0 means 10s.
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
	// alone (see SyncData). It is called on the client's request
	// goroutine, without any lock of the Broker held, so it may call the
	// Broker and may run concurrently with itself and with Publish. It is
	// called after the client's place in the event sequence is fixed, so
	// an event published meanwhile may be reflected in the sync data and
	// also be sent after it, but is never lost. nil means
	// SyncData{Status: "ok"}.
	Sync func() any

	// Logger receives connections and disconnections (Debug), dropped
	// clients (Info) and failures (Warn, Error). nil means no logging.
	Logger *slog.Logger
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
	b *sse.Broker
}

// NewBroker returns a Broker with opts (see [BrokerOptions] for the
// defaults of zero fields) and starts its heartbeat. Call Close to stop it.
func NewBroker(opts BrokerOptions) *Broker {
	return newBroker(opts, sse.Options{})
}

// newBroker is NewBroker with the fields of base that BrokerOptions does
// not have: the knobs of tests.
func newBroker(opts BrokerOptions, base sse.Options) *Broker {
	base.Heartbeat = opts.Heartbeat
	base.Retry = opts.Retry
	base.History = opts.History
	base.Queue = opts.Queue
	base.WriteTimeout = opts.WriteTimeout
	base.FirstID = opts.FirstID
	base.Logger = opts.Logger
	b := new(Broker)
	var okData json.RawMessage // for a nil opts.Sync: the same for every client
	base.Sync = func() any {
		if opts.Sync == nil {
			return okData
		}
		return syncData(opts.Sync, b.b.Heartbeat())
	}
	b.b = sse.New(base)
	// Set before b is returned, so before any client can connect.
	okData, _ = json.Marshal(SyncData{Status: StatusOK, HeartbeatMs: b.b.Heartbeat().Milliseconds()})
	return b
}

// syncData returns what sync returns, with heartbeat filled in when it is
// a SyncData that does not say it: the client watches the stream by it.
func syncData(sync func() any, heartbeat time.Duration) any {
	v := sync()
	if sd, ok := v.(SyncData); ok && sd.HeartbeatMs == 0 {
		sd.HeartbeatMs = heartbeat.Milliseconds()
		return sd
	}
	return v
}

// Publish sends an event named name with data encoded as JSON to every
// connected client, and records it for replay to clients that reconnect.
// It never waits for a client. It returns the event's id and the number of
// clients it was sent to. name must be non-empty and hold no CR or LF.
func (b *Broker) Publish(name string, data any) (id uint64, clients int, err error) {
	return b.b.Publish(name, data)
}

// Clients returns the number of connected clients.
func (b *Broker) Clients() int { return b.b.Clients() }

// Close ends every stream and stops the heartbeat, and returns once they
// are done: a stream blocked writing to a stalled client may take up to
// WriteTimeout. Later requests are answered 503 Service Unavailable and
// Publish returns ErrClosed. Close is idempotent and always returns nil.
func (b *Broker) Close() error { return b.b.Close() }

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
func (b *Broker) ServeHTTP(w http.ResponseWriter, r *http.Request) { b.b.ServeHTTP(w, r) }

// lastID returns the id of the last event published.
func (b *Broker) lastID() uint64 { return b.b.LastID() }
