package hmr

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sseParser interprets a text/event-stream the way the HTML standard's
// "event stream interpretation" does
// (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation),
// and records what it saw so that tests can check for forged fields.
//
// It works on bytes rather than decoded text. That is equivalent here:
// every byte the algorithm looks for (CR, LF, colon, space, NUL) is ASCII,
// and a UTF-8 decoder never folds an ASCII byte into another character, so
// decoding the whole stream and decoding each value give the same text.
type sseParser struct {
	// The algorithm's state.
	data      []byte // data buffer
	eventType string // event type buffer
	lastIDBuf string // last event ID buffer
	lastID    string // the EventSource's last event ID string
	retry     int64  // reconnection time in ms; -1 until set

	started   bool   // the leading BOM, if any, is skipped
	line      []byte // a partial line
	prevWasCR bool   // the previous chunk ended with CR: skip a leading LF

	// What was seen.
	events   []sseEvent
	fields   []string // names of all fields, in order, ignored ones too
	comments []string
}

// sseEvent is a dispatched event, as a MessageEvent would show it.
type sseEvent struct {
	Type        string // event type, "message" when not set
	Data        string
	LastEventID string
}

func newSSEParser() *sseParser { return &sseParser{retry: -1} }

// feed parses the next chunk of the stream.
func (p *sseParser) feed(b []byte) {
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
func (p *sseParser) processLine(line []byte) {
	if len(line) == 0 {
		p.dispatch()
		return
	}
	if line[0] == ':' {
		p.comments = append(p.comments, string(line[1:]))
		return
	}
	field, value := line, []byte(nil)
	if i := bytes.IndexByte(line, ':'); i >= 0 {
		field, value = line[:i], line[i+1:]
		value = bytes.TrimPrefix(value, []byte(" ")) // one space only
	}
	p.fields = append(p.fields, string(field))
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
				p.retry = ms
			}
		}
	}
}

// dispatch is the algorithm's "dispatch the event".
func (p *sseParser) dispatch() {
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
	p.events = append(p.events, sseEvent{Type: typ, Data: string(data), LastEventID: p.lastID})
	p.data, p.eventType = p.data[:0], ""
}

// parseSSE parses a whole stream; a trailing incomplete event is discarded,
// as at the end of a stream.
func parseSSE(b []byte) *sseParser {
	p := newSSEParser()
	p.feed(b)
	return p
}

// normalizeNewlines turns CR LF and CR into LF, as the line parsing does.
func normalizeNewlines(s string) string {
	return strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(s)
}

func TestEncodeEvent(t *testing.T) {
	tests := []struct {
		name, event, data string
		want              string
	}{
		{"json", "built", `{"a":1}`, "id: 7\nevent: built\ndata: {\"a\":1}\n\n"},
		{"empty data", "sync", "", "id: 7\nevent: sync\ndata: \n\n"},
		{"LF", "x", "a\nb", "id: 7\nevent: x\ndata: a\ndata: b\n\n"},
		{"CR", "x", "a\rb", "id: 7\nevent: x\ndata: a\ndata: b\n\n"},
		{"CRLF", "x", "a\r\nb", "id: 7\nevent: x\ndata: a\ndata: b\n\n"},
		{"LF CR is two ends", "x", "a\n\rb", "id: 7\nevent: x\ndata: a\ndata: \ndata: b\n\n"},
		{"trailing LF", "x", "a\n", "id: 7\nevent: x\ndata: a\ndata: \n\n"},
		{"trailing CR", "x", "a\r", "id: 7\nevent: x\ndata: a\ndata: \n\n"},
		{"only newlines", "x", "\n\n", "id: 7\nevent: x\ndata: \ndata: \ndata: \n\n"},
		{"leading space kept", "x", " a", "id: 7\nevent: x\ndata:  a\n\n"},
		{"forged fields stay data", "x", "a\n\nid: 9\nevent: evil\nretry: 1\n: c", "id: 7\nevent: x\ndata: a\ndata: \ndata: id: 9\ndata: event: evil\ndata: retry: 1\ndata: : c\n\n"},
		{"colon in name", "a:b", "d", "id: 7\nevent: a:b\ndata: d\n\n"},
		{"space in name", " a", "d", "id: 7\nevent:  a\ndata: d\n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := encodeEvent(7, tt.event, []byte(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("encodeEvent(7, %q, %q) =\n%q\nwant\n%q", tt.event, tt.data, got, tt.want)
			}
			p := parseSSE(got)
			want := sseEvent{Type: tt.event, Data: normalizeNewlines(tt.data), LastEventID: "7"}
			if len(p.events) != 1 || p.events[0] != want {
				t.Errorf("parsed %+v, want [%+v]", p.events, want)
			}
		})
	}
}

func TestEncodeEventBadName(t *testing.T) {
	for _, name := range []string{"", "a\nb", "a\rb", "built\n\nevent: x", "\n"} {
		if b, err := encodeEvent(1, name, []byte("{}")); err == nil {
			t.Errorf("encodeEvent(%q) = %q, want an error", name, b)
		}
	}
}

func TestRetryFrame(t *testing.T) {
	p := parseSSE(retryFrame(1500 * time.Millisecond))
	if p.retry != 1500 || len(p.events) != 0 {
		t.Errorf("retry %d, events %v; want 1500 and none", p.retry, p.events)
	}
}

func TestSSEParser(t *testing.T) {
	// The parser itself, on the examples of the HTML standard and on line
	// ends split across chunks.
	stream := "\xef\xbb\xbf: test stream\r\n\r\ndata: first event\rid: 1\r\rdata:second event\nid\n\n" +
		"data:  third event\n\nevent: add\ndata: 73857293\n\ndata\n\ndata\ndata\n\ndata:\n\nid: a\x00b\ndata: x\n\nretry: 12x\nretry: 34\n\n"
	want := []sseEvent{
		{"message", "first event", "1"},
		{"message", "second event", ""},
		{"message", " third event", ""},
		{"add", "73857293", ""},
		{"message", "", ""},
		{"message", "\n", ""},
		{"message", "", ""},
		{"message", "x", ""},
	}
	for split := range len(stream) {
		p := newSSEParser()
		p.feed([]byte(stream[:split]))
		p.feed([]byte(stream[split:]))
		if len(p.events) != len(want) {
			t.Fatalf("split %d: got %q, want %q", split, p.events, want)
		}
		for i := range want {
			if p.events[i] != want[i] {
				t.Fatalf("split %d: event %d = %q, want %q", split, i, p.events[i], want[i])
			}
		}
		if p.retry != 34 || len(p.comments) != 1 {
			t.Fatalf("split %d: retry %d comments %q", split, p.retry, p.comments)
		}
	}
}

func FuzzSSEEncode(f *testing.F) {
	f.Add(uint64(1), "built", []byte(`{"a":1}`))
	f.Add(uint64(0), "x", []byte(""))
	f.Add(uint64(1<<63), "sync", []byte("a\r\nb\rc\n"))
	f.Add(uint64(42), "a: b", []byte("\n\nid: 3\nevent: evil\nretry: 1\n\n:c\r"))
	f.Add(uint64(5), "e\nvil", []byte("x"))
	f.Add(uint64(6), "\xef\xbb\xbf", []byte("\xef\xbb\xbfdata: \x00\xff"))
	f.Fuzz(func(t *testing.T, id uint64, name string, data []byte) {
		enc, err := encodeEvent(id, name, data)
		if !validEventName(name) {
			if err == nil {
				t.Fatalf("encodeEvent accepted name %q", name)
			}
			return
		}
		if err != nil {
			t.Fatalf("encodeEvent(%q): %v", name, err)
		}
		p := parseSSE(enc)
		want := sseEvent{Type: name, Data: normalizeNewlines(string(data)), LastEventID: strconv.FormatUint(id, 10)}
		if len(p.events) != 1 || p.events[0] != want {
			t.Fatalf("encoded %q\nparsed %q\nwant one %q", enc, p.events, want)
		}
		lines := strings.Count(want.Data, "\n") + 1
		var ids, events, datas int
		for _, f := range p.fields {
			switch f {
			case "id":
				ids++
			case "event":
				events++
			case "data":
				datas++
			default:
				t.Fatalf("encoded %q: unexpected field %q", enc, f)
			}
		}
		if ids != 1 || events != 1 || datas != lines || p.retry != -1 || len(p.comments) != 0 {
			t.Fatalf("encoded %q: %d id, %d event, %d data (want %d), retry %d, comments %q",
				enc, ids, events, datas, lines, p.retry, p.comments)
		}
		if len(p.line) != 0 {
			t.Fatalf("encoded %q: trailing partial line %q", enc, p.line)
		}
	})
}
