package page

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestAllowClient(t *testing.T) {
	const host = "localhost:8000"
	tests := []struct {
		name      string
		csp       []string // Content-Security-Policy values
		report    string   // Content-Security-Policy-Report-Only
		pageNonce string
		want      []string
		wantRep   string
		nonce     string // "new" for a fresh one
	}{
		{name: "none"},
		{name: "self allows all",
			csp:  []string{"default-src 'self'"},
			want: []string{"default-src 'self'"}},
		{name: "page nonce reused",
			csp:   []string{"script-src 'nonce-abc' 'strict-dynamic'; object-src 'none'"},
			want:  []string{"script-src 'nonce-abc' 'strict-dynamic'; object-src 'none'"},
			nonce: "abc"},
		{name: "nonce without strict-dynamic needs worker-src",
			csp:   []string{"script-src 'nonce-abc'"},
			want:  []string{"script-src 'nonce-abc'; worker-src 'self'"},
			nonce: "abc"},
		{name: "default-src none",
			csp:   []string{"default-src 'none'; style-src 'self'"},
			want:  []string{"default-src 'none'; style-src 'self'; script-src 'nonce-NEW'; worker-src 'self'; connect-src 'self'"},
			nonce: "new"},
		{name: "unsafe-inline keeps working",
			csp:  []string{"script-src 'unsafe-inline' https://cdn.example; connect-src https://api.example"},
			want: []string{"script-src 'unsafe-inline' https://cdn.example 'self'; connect-src https://api.example 'self'"}},
		{name: "hashes",
			csp:   []string{"script-src 'sha256-AAAA' 'unsafe-inline'"},
			want:  []string{"script-src 'sha256-AAAA' 'unsafe-inline' 'nonce-NEW'; worker-src 'self'"},
			nonce: "new"},
		{name: "hosts copied to worker-src",
			csp:   []string{"default-src https://cdn.example; connect-src *"},
			want:  []string{"default-src https://cdn.example; connect-src *; script-src https://cdn.example 'nonce-NEW'; worker-src https://cdn.example 'self'"},
			nonce: "new"},
		{name: "origin by host",
			csp:  []string{"default-src http://localhost:8000"},
			want: []string{"default-src http://localhost:8000"}},
		{name: "explicit worker-src",
			csp:   []string{"script-src 'nonce-abc' 'strict-dynamic'; worker-src 'none'"},
			want:  []string{"script-src 'nonce-abc' 'strict-dynamic'; worker-src 'self'"},
			nonce: "abc"},
		{name: "script-src-elem wins",
			csp:   []string{"script-src 'self'; script-src-elem 'nonce-abc'"},
			want:  []string{"script-src 'self'; script-src-elem 'nonce-abc'"},
			nonce: "abc"},
		{name: "two policies, one nonce",
			csp:   []string{"script-src 'nonce-abc', script-src 'nonce-xyz'", "connect-src 'none'"},
			want:  []string{"script-src 'nonce-abc'; worker-src 'self', script-src 'nonce-xyz' 'nonce-abc'; worker-src 'self'", "connect-src 'self'"},
			nonce: "abc"},
		{name: "meta nonce used",
			csp:       []string{"script-src 'strict-dynamic' 'sha256-AAAA'"},
			pageNonce: "meta",
			want:      []string{"script-src 'strict-dynamic' 'sha256-AAAA' 'nonce-meta'"},
			nonce:     "meta"},
		{name: "report-only amended too",
			report:  "default-src 'none'",
			wantRep: "default-src 'none'; script-src 'nonce-NEW'; worker-src 'self'; connect-src 'self'",
			nonce:   "new"},
		{name: "case of names and keywords",
			csp:  []string{"Script-Src 'SELF'; CONNECT-SRC 'Self'"},
			want: []string{"script-src 'SELF'; connect-src 'Self'"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tt.csp {
				h.Add("Content-Security-Policy", v)
			}
			if tt.report != "" {
				h.Set("Content-Security-Policy-Report-Only", tt.report)
			}
			nonce := AllowClient(h, "http", host, tt.pageNonce)
			switch {
			case tt.nonce == "new" && len(nonce) < 16:
				t.Errorf("nonce %q, want a new random one", nonce)
			case tt.nonce != "new" && nonce != tt.nonce:
				t.Errorf("nonce %q, want %q", nonce, tt.nonce)
			}
			fix := func(s string) string { return strings.ReplaceAll(s, "NEW", nonce) }
			got := h.Values("Content-Security-Policy")
			if len(got) != len(tt.want) {
				t.Fatalf("policies %q, want %q", got, tt.want)
			}
			for i := range got {
				if got[i] != fix(tt.want[i]) {
					t.Errorf("policy\n%s\nwant\n%s", got[i], fix(tt.want[i]))
				}
			}
			if rep := h.Get("Content-Security-Policy-Report-Only"); rep != fix(tt.wantRep) {
				t.Errorf("report-only\n%s\nwant\n%s", rep, fix(tt.wantRep))
			}
		})
	}
}

func TestMetaNonce(t *testing.T) {
	tests := []struct{ doc, want string }{
		{`<html><head><meta http-equiv="Content-Security-Policy" content="script-src 'nonce-m1'"></head>`, "m1"},
		{`<meta http-equiv=content-security-policy content="default-src 'nonce-m2'">`, "m2"},
		{`<meta http-equiv="Content-Security-Policy" content="style-src 'nonce-s'">`, ""},
		{`<body><meta http-equiv="Content-Security-Policy" content="script-src 'nonce-late'">`, ""},
		{`<!-- <meta http-equiv="Content-Security-Policy" content="script-src 'nonce-c'"> -->`, ""},
		{`<p>no policy</p>`, ""},
	}
	for _, tt := range tests {
		if got := MetaNonce([]byte(tt.doc)); got != tt.want {
			t.Errorf("MetaNonce(%s) = %q, want %q", tt.doc, got, tt.want)
		}
	}
}

func TestWithDecodableEncodings(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"gzip, deflate, br, zstd", "gzip, deflate, br"},
		{"zstd;q=1.0, br;q=0.9, *;q=0.1", "br;q=0.9"},
		{"zstd", "identity"},
		{"GZIP", "GZIP"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		if tt.in != "" {
			r.Header.Set("Accept-Encoding", tt.in)
		}
		if got := WithDecodableEncodings(r).Header.Get("Accept-Encoding"); got != tt.want {
			t.Errorf("Accept-Encoding %q -> %q, want %q", tt.in, got, tt.want)
		}
		if got := r.Header.Get("Accept-Encoding"); got != tt.in {
			t.Errorf("the request's own header changed to %q", got)
		}
	}
}
