package sse

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/devserve/devserve/internal/protocol"
)

// Encoding of the text/event-stream format, as interpreted by the HTML
// standard (https://html.spec.whatwg.org/multipage/server-sent-events.html).
//
// The interpretation splits the stream into lines at CR LF, LF or CR; a
// line "field: value" sets a field, a line starting with ":" is a comment
// and an empty line dispatches the event. So everything written here must
// keep CR and LF out of field values: data is split into one "data:" line
// per line (the client joins them back with LF), and event names holding
// CR or LF are refused, since they could forge fields or whole events.

// errEventName reports an event name that cannot be sent.
var errEventName = errors.New("hmr: event name must be non-empty and hold no CR or LF")

// pingFrame is the heartbeat, an EventPing event with no id (a client's
// last event id stays that of the last real event), which proves to the
// client that the connection is alive.
var pingFrame = []byte("event: " + protocol.EventPing + "\ndata: {}\n\n")

// pingChunk is pingFrame as a chunk of the chunked transfer coding.
var pingChunk = appendChunk(nil, [][]byte{pingFrame})

// validEventName reports whether name can be sent as an "event:" field.
func validEventName(name string) bool {
	return name != "" && !strings.ContainsAny(name, "\r\n")
}

// encodeEvent returns the frame of one event:
//
//	id: <id>
//	event: <name>
//	data: <first line of data>
//	data: <next line>
//	<empty line>
//
// data is split at CR LF, LF and CR; empty data still gets one "data:"
// line, so that the event is dispatched with empty data.
func encodeEvent(id uint64, name string, data []byte) ([]byte, error) {
	if !validEventName(name) {
		return nil, errEventName
	}
	// One allocation for the usual single-line data.
	dst := make([]byte, 0, len("id: \nevent: \ndata: \n\n")+20+len(name)+len(data))
	dst = append(dst, "id: "...)
	dst = strconv.AppendUint(dst, id, 10)
	dst = append(dst, "\nevent: "...)
	dst = append(dst, name...)
	dst = append(dst, '\n')
	for {
		i := indexLineEnd(data)
		dst = append(dst, "data: "...)
		if i < 0 {
			dst = append(dst, data...)
			break
		}
		dst = append(dst, data[:i]...)
		dst = append(dst, '\n')
		if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			i++
		}
		data = data[i+1:]
	}
	return append(dst, "\n\n"...), nil
}

// indexLineEnd returns the index of the first CR or LF in b, or -1.
func indexLineEnd(b []byte) int {
	n := bytes.IndexByte(b, '\n')
	if n < 0 {
		n = len(b)
	}
	if r := bytes.IndexByte(b[:n], '\r'); r >= 0 {
		return r
	}
	if n == len(b) {
		return -1
	}
	return n
}

// retryFrame returns the frame that sets the client's reconnection delay.
func retryFrame(d time.Duration) []byte {
	b := append([]byte("retry: "), strconv.FormatInt(d.Milliseconds(), 10)...)
	return append(b, "\n\n"...)
}
