//go:build !unix

package sse

import (
	"errors"
	"net"
	"syscall"
)

// rawConn returns nil: writing without waiting is only done on unix, and
// elsewhere every hijacked stream keeps a goroutine of its own.
func rawConn(net.Conn) syscall.RawConn { return nil }

// writeNow is never called where rawConn returns nil.
func writeNow(syscall.RawConn, []byte) (int, error) {
	return 0, errors.New("hmr: no non-blocking writes on this platform")
}
