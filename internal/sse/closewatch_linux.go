package sse

import (
	"sync"
	"syscall"
)

// closeWatcher notices, for many hijacked streams at once, when a client
// closes its connection: one goroutine waits in epoll for them all, where
// a goroutine per stream blocked reading would cost each stream its stack
// (2 KiB and more). Only streams with a raw connection can be watched.
type closeWatcher struct {
	b    *Broker
	wake [2]int // a pipe, its read end in the epoll set under key 0: stop writes to it

	mu      sync.Mutex
	epfd    int
	closed  bool               // the loop has ended; epfd and wake are closed
	streams map[uint32]*stream // by key, the data of their epoll event
	next    uint32             // the last key given
}

// newCloseWatcher returns a closeWatcher for b, or nil if epoll cannot
// be set up: then each stream gets a goroutine of its own to watch it.
func newCloseWatcher(b *Broker) *closeWatcher {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		b.log.Warn("hmr: epoll: streams are watched one goroutine each", "err", err)
		return nil
	}
	w := &closeWatcher{b: b, epfd: epfd, streams: map[uint32]*stream{}}
	if err = syscall.Pipe2(w.wake[:], syscall.O_NONBLOCK|syscall.O_CLOEXEC); err == nil {
		err = syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, w.wake[0], &syscall.EpollEvent{Events: syscall.EPOLLIN})
		if err != nil {
			syscall.Close(w.wake[0])
			syscall.Close(w.wake[1])
		}
	}
	if err != nil {
		syscall.Close(epfd)
		b.log.Warn("hmr: epoll: streams are watched one goroutine each", "err", err)
		return nil
	}
	return w
}

// add watches s, and reports whether it does: not after stop, nor if s's
// connection is already closed.
func (w *closeWatcher) add(s *stream) bool {
	if w == nil || s.raw == nil {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return false
	}
	for {
		w.next++
		if _, used := w.streams[w.next]; w.next != 0 && !used {
			break
		}
	}
	var err error
	cerr := s.raw.Control(func(fd uintptr) {
		// Level-triggered: a connection that is already at its end is
		// reported at once.
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(w.next)}
		err = syscall.EpollCtl(w.epfd, syscall.EPOLL_CTL_ADD, int(fd), &ev)
	})
	if err != nil || cerr != nil {
		return false
	}
	s.key = w.next
	w.streams[s.key] = s
	return true
}

// remove stops watching s, if w does. It must be called before s's
// connection is closed.
func (w *closeWatcher) remove(s *stream) {
	if w == nil || s.key == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.streams[s.key] != s {
		return
	}
	delete(w.streams, s.key)
	if !w.closed {
		s.raw.Control(func(fd uintptr) {
			syscall.EpollCtl(w.epfd, syscall.EPOLL_CTL_DEL, int(fd), nil)
		})
	}
}

// stop ends run.
func (w *closeWatcher) stop() {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		syscall.Write(w.wake[1], []byte{0})
	}
}

// run waits for the watched connections to become readable, which is how
// a closed one shows, until stop.
func (w *closeWatcher) run() {
	if w == nil {
		return
	}
	fallback := false
	defer func() { w.close(fallback) }()
	events := make([]syscall.EpollEvent, 128)
	var buf [512]byte
	for {
		n, err := syscall.EpollWait(w.epfd, events, -1)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			w.b.log.Error("hmr: epoll: streams are watched one goroutine each from now on", "err", err)
			fallback = true
			return
		}
		for _, ev := range events[:n] {
			key := uint32(ev.Fd)
			if key == 0 {
				return // stop
			}
			w.mu.Lock()
			s := w.streams[key]
			w.mu.Unlock()
			if s == nil || !closedByPeer(s.raw, buf[:]) {
				continue
			}
			w.remove(s)
			w.b.clientGone(s)
		}
	}
}

// close releases w's descriptors when run ends. If epoll failed
// (fallback), the streams still watched get a goroutine each; after stop
// the Broker is closed and ends them.
func (w *closeWatcher) close(fallback bool) {
	w.mu.Lock()
	w.closed = true
	syscall.Close(w.epfd)
	syscall.Close(w.wake[0])
	syscall.Close(w.wake[1])
	left := w.streams
	w.streams = nil
	w.mu.Unlock()
	if !fallback {
		return
	}
	for _, s := range left {
		w.b.wg.Go(func() { w.b.watch(s) })
	}
}

// closedByPeer reads what is there to read on raw, without waiting, and
// reports whether that shows the connection closed: the end of the data,
// or an error. What the client sends is ignored.
func closedByPeer(raw syscall.RawConn, buf []byte) (closed bool) {
	err := raw.Read(func(fd uintptr) bool {
		for {
			n, e := syscall.Read(int(fd), buf)
			switch {
			case e == syscall.EINTR:
				continue
			case e == syscall.EAGAIN:
			case e != nil, n == 0:
				closed = true
			}
			return true
		}
	})
	return closed || err != nil
}
