package guard

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestCleanPath(t *testing.T) {
	tests := []struct {
		in  string
		rel string
		dir bool
		ok  bool
	}{
		{"/", "", true, true},
		{"/index.html", "index.html", false, true},
		{"/src/main.ts", "src/main.ts", false, true},
		{"/src/", "src", true, true},
		{"/ünï code/ä.js", "ünï code/ä.js", false, true},
		{"/%2e%2e", "%2e%2e", false, true}, // a literal name after one decoding
		{"", "", false, false},
		{"src/main.ts", "", false, false},
		{"/../etc/passwd", "", false, false},
		{"/src/../../x", "", false, false},
		{"/src/./x", "", false, false},
		{"/src/x.crt/.", "", false, false},
		{"/..", "", false, false},
		{"//etc/passwd", "", false, false},
		{"/src//main.ts", "", false, false},
		{"/.env\\", "", false, false},
		{"/..\\..\\etc\\passwd", "", false, false},
		{"/a\x00b", "", false, false},
		{"/a\nb", "", false, false},
		{"/\xc0\xae\xc0\xae/x", "", false, false}, // overlong "."
		{"/\xff", "", false, false},
	}
	for _, tt := range tests {
		rel, dir, ok := CleanPath(tt.in)
		if rel != tt.rel || dir != tt.dir || ok != tt.ok {
			t.Errorf("CleanPath(%q) = %q, %v, %v; want %q, %v, %v", tt.in, rel, dir, ok, tt.rel, tt.dir, tt.ok)
		}
	}
}

func TestHasDotSegment(t *testing.T) {
	for in, want := range map[string]bool{
		".env": true, ".git/config": true, "src/.secret": true, ".EnV": true,
		"src/main.ts": false, "a.b/c.d": false, "": false,
	} {
		if got := HasDotSegment(in); got != want {
			t.Errorf("HasDotSegment(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestGuard(t *testing.T) {
	tests := []struct {
		name    string
		allowed []string
		host    string
		headers map[string]string
		want    int
	}{
		{"localhost", nil, "localhost:8000", nil, 0},
		{"loopback ip", nil, "127.0.0.1:8000", nil, 0},
		{"loopback range", nil, "127.1.2.3", nil, 0},
		{"ipv6 loopback", nil, "[::1]:8000", nil, 0},
		{"sub.localhost", nil, "app.localhost:8000", nil, 0},
		{"upper case", nil, "LOCALHOST:8000", nil, 0},
		{"rebinding name", nil, "evil.example:8000", nil, 403},
		{"lan ip", nil, "192.168.1.2:8000", nil, 403},
		{"localhost lookalike", nil, "localhost.evil.example", nil, 403},
		{"allowed host", []string{"dev.example"}, "dev.example:8000", nil, 0},
		{"allowed any", []string{"*"}, "anything.example", nil, 0},
		{"malformed host", nil, "exa mple:80", nil, 400},
		{"bad port", nil, "localhost:80x", nil, 400},
		{"empty host", nil, "", nil, 400},
		{"same origin", nil, "localhost:8000", map[string]string{"Origin": "http://localhost:8000"}, 0},
		{"loopback origin other port", nil, "localhost:8000", map[string]string{"Origin": "http://127.0.0.1:3000"}, 0},
		{"foreign origin", nil, "localhost:8000", map[string]string{"Origin": "https://evil.example"}, 403},
		{"malformed origin", nil, "localhost:8000", map[string]string{"Origin": "::not a url"}, 400},
		{"null origin fetch", nil, "localhost:8000", map[string]string{"Origin": "null", "Sec-Fetch-Mode": "cors"}, 403},
		{"cross-site script", nil, "localhost:8000", map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"}, 403},
		{"cross-site navigation", nil, "localhost:8000", map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}, 0},
		{"same-origin fetch", nil, "localhost:8000", map[string]string{"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Host = tt.host
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			if got, msg := New(tt.allowed).Check(r); got != tt.want {
				t.Errorf("check = %d (%s), want %d", got, msg, tt.want)
			}
		})
	}
}
