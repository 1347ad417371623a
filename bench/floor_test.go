//go:build linux

package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestFloorHandler bundles a generated tree and checks what the floor
// serves: the page, the bundle and the stylesheet, each revalidated with
// its ETag (304 when it did not change), and a 404 outside the project.
func TestFloorHandler(t *testing.T) {
	p, err := GenerateProject(filepath.Join(t.TempDir(), "p"), 30, floorLayout)
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := bundleTree(p.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(bundle), InitialLeaf) || strings.Contains(string(bundle), "import ") {
		t.Fatalf("bundle has no leaf value or still imports:\n%s", bundle)
	}
	root, err := os.OpenRoot(p.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	srv := httptest.NewServer(&floorHandler{root: root, bundle: bundle})
	defer srv.Close()

	get := func(path, etag string) *http.Response {
		t.Helper()
		req, err := http.NewRequest("GET", srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	tests := []struct {
		path, ctype string
	}{
		{"/", "text/html"},
		{floorBundle, "javascript"},
		{"/style.css", "text/css"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			res := get(tt.path, "")
			etag := res.Header.Get("ETag")
			if res.StatusCode != 200 || etag == "" || res.Header.Get("Cache-Control") != "no-cache" ||
				!strings.Contains(res.Header.Get("Content-Type"), tt.ctype) {
				t.Fatalf("GET %s: %d, headers %v", tt.path, res.StatusCode, res.Header)
			}
			if res := get(tt.path, etag); res.StatusCode != http.StatusNotModified {
				t.Errorf("GET %s with its ETag: %d, want 304", tt.path, res.StatusCode)
			}
		})
	}
	// A save changes the file's ETag: the browser gets the new bytes.
	before := get("/style.css", "").Header.Get("ETag")
	if err := p.WriteStyle(EditColor(0)); err != nil {
		t.Fatal(err)
	}
	if res := get("/style.css", before); res.StatusCode != 200 {
		t.Errorf("GET /style.css with the old ETag after a save: %d, want 200", res.StatusCode)
	}
	for _, path := range []string{"/nothing.js", "/../etc/passwd", "/mods"} {
		if res := get(path, ""); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, res.StatusCode)
		}
	}
}

func TestStepTimeout(t *testing.T) {
	tests := []struct {
		flag time.Duration
		n    int
		want time.Duration
	}{
		{0, 10, 90 * time.Second},
		{0, 5000, 90 * time.Second},
		{0, 20000, 200 * time.Second},
		{time.Minute, 20000, time.Minute},
	}
	for _, tt := range tests {
		if got := (&Config{Timeout: tt.flag}).StepTimeout(tt.n); got != tt.want {
			t.Errorf("StepTimeout(%d) with -timeout %s = %s, want %s", tt.n, tt.flag, got, tt.want)
		}
	}
}
