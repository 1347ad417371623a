package sse

import (
	"bytes"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The streams of hijacked connections are written by a few writers, the
// shards, rather than by a goroutine each: an event then costs a wakeup
// per shard, not per stream, and an idle stream costs no goroutine that
// writes. A shard writes each of its streams without waiting (writeNow);
// a stream whose socket does not take the whole write is handed to a
// goroutine of its own (alone), which waits up to WriteTimeout for the
// rest and then hands the stream back, or drops it. So a stalled client
// delays no other: it costs its shard one write that returns at once.

// stream is the event stream of one hijacked connection.
type stream struct {
	conn   net.Conn
	raw    syscall.RawConn // nil: the connection cannot be written without waiting; the stream stays alone
	remote string
	sh     *shard // the shard it belongs to, whose mu guards idx and dead

	// cur is the last node whose event the stream has written, or
	// skipped. It belongs to whoever writes the stream: its shard while it
	// is in the shard's list, else its own goroutine.
	cur *node

	// gone is closed by clientGone when the client closes the connection;
	// only a stream without raw has one, since only it waits alone for
	// events.
	gone chan struct{}

	key uint32 // its key in the Broker's closeWatcher; 0 if not watched there

	idx  int  // index in sh.streams; -1 while not in it
	dead bool // watch saw the connection fail
}

// shard is one writer of hijacked streams.
type shard struct {
	mu      sync.Mutex
	streams []*stream // written by the shard; order does not matter
	closed  bool      // the shard has ended; it takes no more streams

	// wake asks the shard to look at its streams: one was added, which may
	// be behind.
	wake chan struct{}
	n    atomic.Int64 // streams assigned to the shard, in its list or not
}

// pickShard returns the shard with the fewest streams.
func (b *Broker) pickShard() *shard {
	best := b.shards[0]
	for _, sh := range b.shards[1:] {
		if sh.n.Load() < best.n.Load() {
			best = sh
		}
	}
	return best
}

// serveHijacked carries a stream on a hijacked connection: it writes head,
// then what follows cur. It returns at once; goroutines of the Broker
// carry on.
func (b *Broker) serveHijacked(conn net.Conn, head []byte, cur *node, remote string) {
	s := &stream{conn: conn, raw: rawConn(conn), remote: remote, cur: cur, idx: -1}
	if s.raw == nil {
		s.gone = make(chan struct{})
	}
	s.sh = b.pickShard()
	s.sh.n.Add(1)
	if !b.closer.add(s) {
		b.wg.Go(func() { b.watch(s) })
	}
	b.wg.Go(func() { b.alone(s, head) })
}

// watch reads s's connection until it fails, which is how a closed
// connection shows (what the client sends is ignored), and then calls
// clientGone. It is the goroutine of a stream that b.closer does not
// watch.
func (b *Broker) watch(s *stream) {
	var buf [64]byte
	for {
		if _, err := s.conn.Read(buf[:]); err != nil {
			break
		}
	}
	b.clientGone(s)
}

// clientGone marks s's connection failed, and ends s if its shard has
// it; else the goroutine that has it ends it.
func (b *Broker) clientGone(s *stream) {
	sh := s.sh
	sh.mu.Lock()
	s.dead = true
	mine := s.idx >= 0
	if mine {
		sh.removeLocked(s)
	}
	sh.mu.Unlock()
	if s.gone != nil {
		close(s.gone)
	}
	if mine {
		b.log.Debug("hmr: client gone", "remote", s.remote)
		b.end(s, false)
	}
}

// removeLocked takes s out of sh's list. sh.mu must be held.
func (sh *shard) removeLocked(s *stream) {
	last := len(sh.streams) - 1
	moved := sh.streams[last]
	sh.streams[s.idx] = moved
	moved.idx = s.idx
	sh.streams[last] = nil
	sh.streams = sh.streams[:last]
	s.idx = -1
}

// adopt puts s in sh's list, to be written by sh from now on, and wakes
// sh in case s is behind. ok is false if s cannot go there: its
// connection failed (dead), or sh has ended because the Broker is closed.
func (sh *shard) adopt(s *stream) (ok, dead bool) {
	sh.mu.Lock()
	if s.dead || sh.closed {
		sh.mu.Unlock()
		return false, s.dead
	}
	s.idx = len(sh.streams)
	sh.streams = append(sh.streams, s)
	sh.mu.Unlock()
	select {
	case sh.wake <- struct{}{}:
	default:
	}
	return true, false
}

// end ends s: a clean end finishes the body, so that the client knows the
// stream ended rather than broke (it reconnects either way). The write of
// the end waits for nothing: a client that has no room for 5 bytes is not
// waited for.
func (b *Broker) end(s *stream, clean bool) {
	b.unregister() // before the client can see the end
	if clean {
		if s.raw != nil {
			writeNow(s.raw, lastChunk)
		} else {
			s.conn.SetWriteDeadline(time.Now().Add(b.writeTimeout))
			s.conn.Write(lastChunk)
		}
	}
	b.closer.remove(s)
	s.conn.Close() // ends watch
	s.sh.n.Add(-1)
	b.wg.Done() // the count of join
}

// alone writes p to s's connection, waiting up to WriteTimeout, and then
// hands s to its shard. A stream that cannot be written without waiting
// (no raw connection) stays here for good: it waits for events and
// writes them itself.
func (b *Broker) alone(s *stream, p []byte) {
	for {
		if len(p) > 0 {
			s.conn.SetWriteDeadline(time.Now().Add(b.writeTimeout))
			if _, err := s.conn.Write(p); err != nil {
				b.log.Debug("hmr: client gone", "remote", s.remote, "err", err)
				b.end(s, false)
				return
			}
			p = nil
		}
		if s.raw != nil {
			// A raw write fails at once past a deadline: clear it.
			s.conn.SetWriteDeadline(time.Time{})
			if ok, dead := s.sh.adopt(s); !ok {
				b.end(s, !dead)
			} else {
				b.hook("adopted")
			}
			return
		}
		select {
		case <-s.cur.ready:
		case <-s.gone:
			b.log.Debug("hmr: client gone", "remote", s.remote)
			b.end(s, false)
			return
		case <-b.done:
			b.end(s, true)
			return
		}
		var ok bool
		if s.cur, p, _, ok = b.catchUp(s.cur, nil); !ok {
			b.log.Info("hmr: client dropped: too far behind", "remote", s.remote, "queue", b.queue)
			b.end(s, true)
			return
		}
	}
}

// runShard is the loop of sh: each time an event is published, or a
// stream joins sh, it writes to each of its streams what the stream has
// not yet written. It ends every stream of sh when the Broker is closed.
func (b *Broker) runShard(sh *shard, cur *node) {
	var buf []byte      // reused for the writes of streams more than one node behind
	var ended []*stream // streams to end, with sh.mu released
	var clean []bool
	for {
		select {
		case <-cur.ready:
			cur = newest(cur)
		case <-sh.wake:
		case <-b.done:
			sh.mu.Lock()
			sh.closed = true
			all := sh.streams
			sh.streams = nil
			for _, s := range all {
				s.idx = -1
			}
			sh.mu.Unlock()
			for _, s := range all {
				b.end(s, true)
			}
			return
		}
		sh.mu.Lock()
		for i := 0; i < len(sh.streams); {
			s := sh.streams[i]
			if !isClosed(s.cur.ready) {
				i++ // up to date
				continue
			}
			last, p, inBuf, ok := b.catchUp(s.cur, buf[:0])
			if !ok {
				b.log.Info("hmr: client dropped: too far behind", "remote", s.remote, "queue", b.queue)
				sh.removeLocked(s)
				ended, clean = append(ended, s), append(clean, true)
				continue
			}
			s.cur = last
			n, err := writeNow(s.raw, p)
			if inBuf {
				buf = p[:0] // keep it, grown
			}
			switch {
			case err != nil:
				b.log.Debug("hmr: client gone", "remote", s.remote, "err", err)
				sh.removeLocked(s)
				ended, clean = append(ended, s), append(clean, false)
			case n < len(p):
				// The socket is full: the rest waits for room, alone.
				sh.removeLocked(s)
				rest := bytes.Clone(p[n:])
				b.wg.Go(func() {
					b.hook("alone")
					b.alone(s, rest)
				})
			default:
				i++
			}
		}
		sh.mu.Unlock()
		for i, s := range ended {
			b.end(s, clean[i])
			ended[i] = nil
		}
		ended, clean = ended[:0], clean[:0]
	}
}

// newest returns the newest node of the list from cur on.
func newest(cur *node) *node {
	for isClosed(cur.ready) {
		cur = cur.next
	}
	return cur
}

// catchUp returns what follows cur, whose ready channel is closed, up to
// the newest node, as the chunks to write, and that node. p is the one
// node's own chunk when only one follows cur (the usual case: no copy),
// else the chunks appended to buf (inBuf). ok is false if the stream is
// more than Queue events behind: it must be dropped.
func (b *Broker) catchUp(cur *node, buf []byte) (last *node, p []byte, inBuf, ok bool) {
	b.hook("wake")
	for first := true; ; {
		if b.lastID.Load()-cur.id > b.queue {
			return cur, nil, false, false
		}
		cur = cur.next // set, since cur.ready is closed
		more := isClosed(cur.ready)
		if first && !more {
			return cur, cur.chunk, false, true
		}
		// A ping adds nothing to a batch that has an event.
		if !cur.ping || first {
			buf = append(buf, cur.chunk...)
			first = false
		}
		if !more {
			return cur, buf, true, true
		}
	}
}

// isClosed reports whether c is closed.
func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// hook calls Options.TestHook, if set, with where.
func (b *Broker) hook(where string) {
	if b.testHook != nil {
		b.testHook(where)
	}
}
