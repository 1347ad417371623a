//go:build unix

package sse

import (
	"net"
	"syscall"
)

// rawConn returns the raw connection under c, through which a writer can
// write without waiting, or nil if c has none (a TLS connection, say).
func rawConn(c net.Conn) syscall.RawConn {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return raw
}

// writeNow writes as much of p to raw as its socket takes at once, without
// waiting for room, and returns how much that was. The descriptors of
// package net are non-blocking, so a full socket buffer returns EAGAIN,
// which is not an error here.
func writeNow(raw syscall.RawConn, p []byte) (n int, err error) {
	cerr := raw.Write(func(fd uintptr) bool {
		for n < len(p) {
			m, e := syscall.Write(int(fd), p[n:])
			switch {
			case e == syscall.EINTR:
				continue
			case e == syscall.EAGAIN || e == syscall.EWOULDBLOCK:
				return true
			case e != nil:
				err = e
				return true
			case m <= 0:
				return true
			}
			n += m
		}
		return true
	})
	if err == nil {
		err = cerr
	}
	return n, err
}
