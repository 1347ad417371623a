package ssetest

import (
	"bytes"
	"strconv"
	"strings"
)

// Parser interprets a text/event-stream the way the HTML standard's
// "event stream interpretation" does
// (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation),
// and records what it saw so that tests can check for forged fields.
//
// It works on bytes rather than decoded text. That is equivalent here:
// every byte the algorithm looks for (CR, LF, colon, space, NUL) is ASCII,
// and a UTF-8 decoder never folds an ASCII byte into another character, so
// decoding the whole stream and decoding each value give the same text.
type Parser struct {
	// The algorithm's state.
	data      []byte // data buffer
	eventType string // event type buffer
	lastIDBuf string // last event ID buffer
	lastID    string // the EventSource's last event ID string
	Retry     int64  // reconnection time in ms; -1 until set

	started   bool   // the leading BOM, if any, is skipped
	line      []byte // a partial line
	prevWasCR bool   // the previous chunk ended with CR: skip a leading LF

	// What was seen.
	Events   []Event
	Fields   []string // names of all fields, in order, ignored ones too
	Comments []string
}

// Event is a dispatched event, as a MessageEvent would show it.
type Event struct {
	Type        string // event type, "message" when not set
	Data        string
	LastEventID string
}

// NewParser returns a Parser at the start of a stream.
func NewParser() *Parser { return &Parser{Retry: -1} }

// Feed parses the next chunk of the stream.
func (p *Parser) Feed(b []byte) {
	if !p.started {
		// Wait for enough bytes to tell whether there is a BOM.
		p.line = append(p.line, b...)
		if len(p.line) < 3 && bytes.HasPrefix([]byte("\xef\xbb\xbf"), p.line) {
			return
		}
		b = bytes.TrimPrefix(p.line, []byte("\xef\xbb\xbf"))
		p.line, p.started = nil, true
	}
	if p.prevWasCR && len(b) > 0 && b[0] == '\n' {
		b = b[1:]
	}
	p.prevWasCR = false
	for len(b) > 0 {
		i := bytes.IndexAny(b, "\r\n")
		if i < 0 {
			p.line = append(p.line, b...)
			return
		}
		p.line = append(p.line, b[:i]...)
		p.processLine(p.line)
		p.line = p.line[:0]
		if b[i] == '\r' {
			if i+1 == len(b) {
				p.prevWasCR = true
			} else if b[i+1] == '\n' {
				i++
			}
		}
		b = b[i+1:]
	}
}

// processLine handles one complete line, without its end.
func (p *Parser) processLine(line []byte) {
	if len(line) == 0 {
		p.dispatch()
		return
	}
	if line[0] == ':' {
		p.Comments = append(p.Comments, string(line[1:]))
		return
	}
	field, value := line, []byte(nil)
	if i := bytes.IndexByte(line, ':'); i >= 0 {
		field, value = line[:i], line[i+1:]
		value = bytes.TrimPrefix(value, []byte(" ")) // one space only
	}
	p.Fields = append(p.Fields, string(field))
	switch string(field) {
	case "event":
		p.eventType = string(value)
	case "data":
		p.data = append(p.data, value...)
		p.data = append(p.data, '\n')
	case "id":
		if bytes.IndexByte(value, 0) < 0 {
			p.lastIDBuf = string(value)
		}
	case "retry":
		if len(value) > 0 && strings.Trim(string(value), "0123456789") == "" {
			if ms, err := strconv.ParseInt(string(value), 10, 64); err == nil {
				p.Retry = ms
			}
		}
	}
}

// dispatch is the algorithm's "dispatch the event".
func (p *Parser) dispatch() {
	p.lastID = p.lastIDBuf
	if len(p.data) == 0 {
		p.eventType = ""
		return
	}
	data := bytes.TrimSuffix(p.data, []byte("\n"))
	typ := p.eventType
	if typ == "" {
		typ = "message"
	}
	p.Events = append(p.Events, Event{Type: typ, Data: string(data), LastEventID: p.lastID})
	p.data, p.eventType = p.data[:0], ""
}

// Parse parses a whole stream; a trailing incomplete event is discarded,
// as at the end of a stream.
func Parse(b []byte) *Parser {
	p := NewParser()
	p.Feed(b)
	return p
}

// Partial returns the start of a line that has no end yet: what a stream
// cut there leaves unread.
func (p *Parser) Partial() []byte { return p.line }
