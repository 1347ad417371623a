package cmd

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestServeSPAFallback checks the flag that turns the SPA fallback off,
// and that a file of public/ is served at / either way.
func TestServeSPAFallback(t *testing.T) {
	dir := filepath.Join("..", "testdata", "spa")
	for _, tt := range []struct {
		args []string
		code int
		body string
	}{
		{nil, 200, "<title>spa</title>"},
		{[]string{"--no-spa-fallback"}, 404, "404 Not Found"},
	} {
		t.Run(strings.Join(append([]string{"serve"}, tt.args...), " "), func(t *testing.T) {
			_, url, stop := startServe(t, append([]string{"--port", "0", dir}, tt.args...)...)
			req, _ := http.NewRequest("GET", url+"app/users/42", nil)
			req.Header.Set("Sec-Fetch-Dest", "document")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.code || !strings.Contains(string(body), tt.body) {
				t.Errorf("navigation to /app/users/42: %s, want %d with %q\n%s", resp.Status, tt.code, tt.body, body)
			}
			resp, err = http.Get(url + "robots.txt")
			if err != nil {
				t.Fatal(err)
			}
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(body), "User-agent") {
				t.Errorf("GET /robots.txt: %s\n%s", resp.Status, body)
			}
			if err := stop(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestServeReportsPublicClash checks that the terminal shows a file of
// public/ and one of the source tree with the same URL as an error, with
// which file wins and the fix, and says when the fix is made.
func TestServeReportsPublicClash(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("..", "testdata", "spa"))); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "moon.svg"), []byte("<svg/>"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, _ := startServe(t, "--port", "0", dir)
	out.waitFor(t, regexp.MustCompile(`(?m)^\S+ error → 0 browsers\n`+
		`  public/moon\.svg: public/moon\.svg and moon\.svg have the same URL /moon\.svg: devserve serves public/moon\.svg .*\n`+
		`  suggestion: rename or remove public/moon\.svg or moon\.svg\n`))
	if err := os.Remove(filepath.Join(dir, "moon.svg")); err != nil {
		t.Fatal(err)
	}
	out.waitFor(t, regexp.MustCompile(`(?m)^\S+ fixed moon\.svg → 0 browsers$`))
}

func TestBuildCommandPublic(t *testing.T) {
	outdir := t.TempDir()
	var out bytes.Buffer
	c := newRootCommand(&out, &out)
	c.SetArgs([]string{"build", filepath.Join("..", "testdata", "spa"), "--outdir", outdir})
	if err := c.Execute(); err != nil {
		t.Fatalf("build: %v\n%s", err, out.String())
	}
	for name, want := range map[string]string{
		"robots.txt":   "User-agent: *",
		"moon.svg":     "<circle",
		"img/star.svg": "<circle",
		"page.html":    `<script type="module" src="/src/extra.ts"></script>`,
		"style.css":    "url(/moon.svg)",
		"index.html":   `src="/src/main.js"`,
	} {
		b, err := os.ReadFile(filepath.Join(outdir, filepath.FromSlash(name)))
		if err != nil || !strings.Contains(string(b), want) {
			t.Errorf("%s: %v, want it to hold %q:\n%s", name, err, want, b)
		}
	}
	for _, name := range []string{"public", "src/extra.js"} {
		if _, err := os.Stat(filepath.Join(outdir, filepath.FromSlash(name))); err == nil {
			t.Errorf("%s written", name)
		}
	}
}
