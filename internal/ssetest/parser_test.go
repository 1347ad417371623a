package ssetest

import "testing"

func TestSSEParser(t *testing.T) {
	// The parser itself, on the examples of the HTML standard and on line
	// ends split across chunks.
	stream := "\xef\xbb\xbf: test stream\r\n\r\ndata: first event\rid: 1\r\rdata:second event\nid\n\n" +
		"data:  third event\n\nevent: add\ndata: 73857293\n\ndata\n\ndata\ndata\n\ndata:\n\nid: a\x00b\ndata: x\n\nretry: 12x\nretry: 34\n\n"
	want := []Event{
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
		p := NewParser()
		p.Feed([]byte(stream[:split]))
		p.Feed([]byte(stream[split:]))
		if len(p.Events) != len(want) {
			t.Fatalf("split %d: got %q, want %q", split, p.Events, want)
		}
		for i := range want {
			if p.Events[i] != want[i] {
				t.Fatalf("split %d: event %d = %q, want %q", split, i, p.Events[i], want[i])
			}
		}
		if p.Retry != 34 || len(p.Comments) != 1 {
			t.Fatalf("split %d: retry %d comments %q", split, p.Retry, p.Comments)
		}
	}
}
