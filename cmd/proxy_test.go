package cmd

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestParseBackend(t *testing.T) {
	tests := []struct {
		in, want string
		err      bool
	}{
		{in: "http://127.0.0.1:8080", want: "http://127.0.0.1:8080"},
		{in: "https://app.localhost/base", want: "https://app.localhost/base"},
		{in: "127.0.0.1:8080", want: "http://127.0.0.1:8080"},
		{in: ":3000", want: "http://localhost:3000"},
		{in: "ftp://127.0.0.1", err: true},
		{in: "http://", err: true},
		{in: "http://[::1", err: true},
	}
	for _, tt := range tests {
		u, err := parseBackend(tt.in)
		switch {
		case tt.err && err == nil:
			t.Errorf("parseBackend(%q) = %v, want an error", tt.in, u)
		case !tt.err && (err != nil || u.String() != tt.want):
			t.Errorf("parseBackend(%q) = %v, %v; want %s", tt.in, u, err, tt.want)
		}
	}
}

// TestServeProxy runs `devserve --proxy URL --watch DIR dir` in front of an
// app and checks that the app's page gets the client, the folder's files
// are served, and a change in the watched folder reloads the pages.
func TestServeProxy(t *testing.T) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<html><head><title>app</title></head><body>the app</body></html>")
	}))
	defer app.Close()
	dir, templates := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(dir, "style.css"), []byte("body { color: red }"), 0o644)
	os.WriteFile(filepath.Join(templates, "page.tmpl"), []byte("{{.}}"), 0o644)

	out, url, stop := startServe(t, "--port", "0", "--proxy", app.URL, "--watch", templates, dir)
	out.waitFor(t, regexp.MustCompile(`proxying everything else to `+regexp.QuoteMeta(app.URL)))
	for path, want := range map[string]string{
		"":          `<script type="module" src="/__devserve/client.js?build=`,
		"style.css": "color: red",
	} {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("GET /%s: %s\n%s", path, resp.Status, body)
		}
	}
	stream, err := http.Get(url + "__devserve/events")
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	os.WriteFile(filepath.Join(templates, "page.tmpl"), []byte("{{.Name}}"), 0o644)
	out.waitFor(t, regexp.MustCompile(`\d\d:\d\d:\d\d reload .*page\.tmpl → 1 browser`))

	if err := stop(); err != nil {
		t.Fatalf("serve returned %v", err)
	}
}

func TestServeProxyBadURL(t *testing.T) {
	out := newSyncBuffer()
	c := newRootCommand(out, out)
	c.SetArgs([]string{"--port", "0", "--proxy", "ftp://x", t.TempDir()})
	if err := c.Execute(); err == nil || !strings.Contains(err.Error(), "--proxy") {
		t.Errorf("serve --proxy ftp://x: %v", err)
	}
}
