package hmr

import (
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devserve/devserve/internal/ssetest"
)

// Request headers of a browser's navigation, and of what is not one.
var (
	navHeader    = []string{"Sec-Fetch-Dest: document", "Sec-Fetch-Mode: navigate", "Accept: text/html,application/xhtml+xml,*/*;q=0.8"}
	acceptHTML   = []string{"Accept: text/html"} // a browser that sends no Sec-Fetch-*
	scriptHeader = []string{"Sec-Fetch-Dest: script", "Accept: */*"}
	fetchHeader  = []string{"Sec-Fetch-Dest: empty", "Accept: text/html"}
)

// Titles of the pages of testdata/spa, as the answers show them.
const (
	appPage     = "<title>spa</title>"
	adminPage   = "<title>admin</title>"
	missingPage = "<title>404 Not Found</title>"
)

func TestSPAFallback(t *testing.T) {
	dir := copyFixture(t, "spa")
	if err := os.MkdirAll(filepath.Join(dir, "admin", "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, dir, "127.0.0.1:0", Options{})
	off := startServer(t, dir, "127.0.0.1:0", Options{NoSPAFallback: true})
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<title>the app's "+html.EscapeString(r.URL.Path)+"</title>")
	}))
	t.Cleanup(app.Close)
	u, _ := url.Parse(app.URL)
	proxied := startServer(t, dir, "127.0.0.1:0", Options{Proxy: u})

	tests := []struct {
		name   string
		ts     *testServer
		method string
		target string
		header []string
		code   int
		body   string // a substring of the answer
	}{
		{"deep link", ts, "GET", "/app/users/42", navHeader, 200, appPage},
		{"deep link, Accept only", ts, "GET", "/app/users/42", acceptHTML, 200, appPage},
		{"deep link, HEAD", ts, "HEAD", "/app/users/42", navHeader, 200, ""},
		{"deep link with a query", ts, "GET", "/app/users/42?tab=2", navHeader, 200, appPage},
		{"one segment", ts, "GET", "/settings", navHeader, 200, appPage},
		{"folder deep link", ts, "GET", "/app/users/", navHeader, 200, appPage},
		{"nested index.html", ts, "GET", "/admin/users/42", navHeader, 200, adminPage},
		{"nested folder deep link", ts, "GET", "/admin/users/", navHeader, 200, adminPage},
		{"nested folder without index.html", ts, "GET", "/admin/empty/", navHeader, 200, adminPage},
		{"nested folder without a slash", ts, "GET", "/admin", navHeader, 301, ""},
		{"dots in a route", ts, "GET", "/users/john.doe", navHeader, 200, appPage},
		{"version in a route", ts, "GET", "/docs/v1.2", navHeader, 200, appPage},
		{"the page itself", ts, "GET", "/", navHeader, 200, appPage},
		{"a real file", ts, "GET", "/src/main.ts", navHeader, 200, "sessionStorage"},
		{"a public file", ts, "GET", "/robots.txt", navHeader, 200, "User-agent"},
		// What is no deep link keeps its 404.
		{"missing script", ts, "GET", "/x.js", navHeader, 404, missingPage},
		{"missing script, as a script", ts, "GET", "/x.js", scriptHeader, 404, "404 page not found"},
		{"missing image", ts, "GET", "/app/logo.PNG", navHeader, 404, missingPage},
		{"missing page", ts, "GET", "/about.html", navHeader, 404, missingPage},
		{"deep link, as a script", ts, "GET", "/app/users/42", scriptHeader, 404, "404 page not found"},
		{"deep link, as a fetch", ts, "GET", "/app/users/42", fetchHeader, 404, "404 page not found"},
		{"deep link, no headers", ts, "GET", "/app/users/42", nil, 404, "404 page not found"},
		{"deep link, JSON", ts, "GET", "/api/users", []string{"Accept: application/json"}, 404, "404 page not found"},
		{"deep link, POST", ts, "POST", "/app/users/42", navHeader, 405, ""},
		{"devserve's prefix", ts, "GET", Prefix + "app/users", navHeader, 404, "404 page not found"},
		{"dot segment", ts, "GET", "/.git/deep", navHeader, 404, missingPage},
		// Off, and in proxy mode, misses are as before.
		{"off", off, "GET", "/app/users/42", navHeader, 404, missingPage},
		{"off, folder", off, "GET", "/admin/empty/", navHeader, 404, missingPage},
		{"off, the page itself", off, "GET", "/admin/", navHeader, 200, adminPage},
		{"proxy mode", proxied, "GET", "/app/users/42", navHeader, 200, "the app's /app/users/42"},
		{"proxy mode, nested", proxied, "GET", "/admin/users/42", navHeader, 200, "the app's /admin/users/42"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := ssetest.Request(t, tt.ts.http, tt.method, tt.target, tt.header...)
			if resp.StatusCode != tt.code || !strings.Contains(body, tt.body) {
				t.Fatalf("%s %s: %s, want %d with %q\n%s", tt.method, tt.target, resp.Status, tt.code, tt.body, body)
			}
			if tt.code == 200 && strings.Contains(body, "<title>") && !strings.Contains(body, ClientPath) {
				t.Errorf("a page without the client:\n%s", body)
			}
		})
	}
}

// TestSPAFallbackFollowsPages checks that the fallback answers with the
// nearest page as the pages come and go, and that a tab on a deep link
// reloads when a page nearer to it appears.
func TestSPAFallbackFollowsPages(t *testing.T) {
	ts := startServer(t, copyFixture(t, "spa"), "127.0.0.1:0", Options{})
	get := func(target string) (int, string) {
		t.Helper()
		resp, body := ssetest.Request(t, ts.http, "GET", target, navHeader...)
		return resp.StatusCode, body
	}
	if code, body := get("/admin/users/42"); code != 200 || !strings.Contains(body, adminPage) {
		t.Fatalf("before: %d\n%s", code, body)
	}
	st := ssetest.Open(t, ts.http, EventsPath)
	st.Start()

	ts.write(t, "admin/users/index.html", "<title>users</title>")
	expectReload(t, st)
	if code, body := get("/admin/users/42"); code != 200 || !strings.Contains(body, "<title>users</title>") {
		t.Errorf("after a nearer page appeared: %d\n%s", code, body)
	}

	// No page above at all: the missing page, which reloads when one
	// appears.
	for _, p := range []string{"admin/users/index.html", "admin/index.html", "index.html"} {
		if err := os.Remove(filepath.Join(ts.dir, filepath.FromSlash(p))); err != nil {
			t.Fatal(err)
		}
	}
	for {
		if code, _ := get("/admin/users/42"); code == 404 {
			break
		}
		// The page cache forgets a page when the build loop saw it go.
		ts.nextBatch(t, "index.html")
	}
	ts.write(t, "admin/index.html", "<title>admin again</title>")
	expectReload(t, st)
	if code, body := get("/admin/users/42"); code != 200 || !strings.Contains(body, "admin again") {
		t.Errorf("after the page came back: %d\n%s", code, body)
	}
}

// expectReload reads events until one that reloads the pages: a reload,
// or a build that says to reload (a new page may change the entries).
func expectReload(t *testing.T, st *ssetest.Client) {
	t.Helper()
	for {
		ev := st.NextEvent()
		switch ev.Type {
		case EventReload:
			return
		case EventBuilt:
			var b BuiltData
			decode(t, ev, &b)
			if b.Reload {
				return
			}
		}
	}
}

func TestDeepLink(t *testing.T) {
	for _, tt := range []struct {
		rel  string
		dir  bool
		want bool
	}{
		{"app/users/42", false, true},
		{"users/john.doe", false, true},
		{"docs/v1.2", false, true},
		{"a.b.c", false, true},
		{"app/users", true, true},
		{"assets/x.js", true, true},
		{"x.js", false, false},
		{"app/main.TSX", false, false},
		{"logo.png", false, false},
		{"about.html", false, false},
		{"feed.xml", false, false},
		{"x.js.map", false, false},
		{"site.webmanifest", false, false},
	} {
		if got := deepLink(tt.rel, tt.dir); got != tt.want {
			t.Errorf("deepLink(%q, %v) = %v, want %v", tt.rel, tt.dir, got, tt.want)
		}
	}
}

// TestSPAFallbackRevalidates: the fallback page is a page like any other,
// revalidated with its ETag.
func TestSPAFallbackRevalidates(t *testing.T) {
	ts := startServer(t, copyFixture(t, "spa"), "127.0.0.1:0", Options{})
	resp, _ := ssetest.Request(t, ts.http, "GET", "/app/users/42", navHeader...)
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != 200 || etag == "" || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("%s, ETag %q, Cache-Control %q", resp.Status, etag, resp.Header.Get("Cache-Control"))
	}
	again, _ := ssetest.Request(t, ts.http, "GET", "/app/users/43", append([]string{"If-None-Match: " + etag}, navHeader...)...)
	if again.StatusCode != http.StatusNotModified {
		t.Errorf("revalidated: %s, want 304", again.Status)
	}
}
