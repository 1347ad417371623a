package sse

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/devserve/devserve/internal/ssetest"
)

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
			p := ssetest.Parse(got)
			want := ssetest.Event{Type: tt.event, Data: normalizeNewlines(tt.data), LastEventID: "7"}
			if len(p.Events) != 1 || p.Events[0] != want {
				t.Errorf("parsed %+v, want [%+v]", p.Events, want)
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
	p := ssetest.Parse(retryFrame(1500 * time.Millisecond))
	if p.Retry != 1500 || len(p.Events) != 0 {
		t.Errorf("retry %d, events %v; want 1500 and none", p.Retry, p.Events)
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
		p := ssetest.Parse(enc)
		want := ssetest.Event{Type: name, Data: normalizeNewlines(string(data)), LastEventID: strconv.FormatUint(id, 10)}
		if len(p.Events) != 1 || p.Events[0] != want {
			t.Fatalf("encoded %q\nparsed %q\nwant one %q", enc, p.Events, want)
		}
		lines := strings.Count(want.Data, "\n") + 1
		var ids, events, datas int
		for _, f := range p.Fields {
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
		if ids != 1 || events != 1 || datas != lines || p.Retry != -1 || len(p.Comments) != 0 {
			t.Fatalf("encoded %q: %d id, %d event, %d data (want %d), retry %d, comments %q",
				enc, ids, events, datas, lines, p.Retry, p.Comments)
		}
		if len(p.Partial()) != 0 {
			t.Fatalf("encoded %q: trailing partial line %q", enc, p.Partial())
		}
	})
}
