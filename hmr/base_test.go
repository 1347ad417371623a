package hmr

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestBase checks what a server under a base path answers, inside the base
// and outside it.
func TestBase(t *testing.T) {
	dir := copyFixture(t, "live")
	writeTestFile(t, dir, "sub/index.html", "<p>sub</p>")
	ts := startServer(t, dir, "127.0.0.1:0", Options{Base: "app"})
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	nav := []string{"Sec-Fetch-Dest", "document", "Accept", "text/html"}
	cases := []struct {
		name     string
		path     string
		header   []string
		code     int
		location string
		body     []string // what the body must hold
	}{
		{name: "page", path: "/app/", code: 200, body: []string{`src="/app/main.js"`, `href="/app/style.css"`, `src="/app/__devserve/client.js?build=`}},
		{name: "script", path: "/app/main.js", code: 200, body: []string{"__devserve_start", `"/app/__devserve/hmr.js"`}},
		{name: "stylesheet", path: "/app/style.css", code: 200, body: []string{"#out"}},
		{name: "client", path: "/app/__devserve/client.js", code: 200},
		{name: "status", path: "/app/__devserve/status", code: 200, body: []string{`"status":"ok"`}},
		{name: "file", path: "/app/notes.txt", code: 200},
		{name: "folder without slash", path: "/app/sub", code: 301, location: "/app/sub/"},
		{name: "base without slash", path: "/app?x=1", code: 301, location: "/app/?x=1"},
		{name: "root navigation", path: "/", header: nav, code: 302, location: "/app/"},
		{name: "root fetch", path: "/", code: 404, body: []string{"under /app/"}},
		{name: "outside navigation", path: "/notes.txt", header: nav, code: 404, body: []string{`href="/app/notes.txt"`}},
		{name: "outside script", path: "/main.js", code: 404},
		{name: "client outside", path: "/__devserve/client.js", code: 404},
		{name: "a longer name", path: "/application/", header: nav, code: 404},
		{name: "dot-dot", path: "/app/../notes.txt", code: 400},
		{name: "encoded dot-dot", path: "/app/%2e%2e/notes.txt", code: 400},
		{name: "encoded slash", path: "/app%2f..%2fnotes.txt", code: 400},
		{name: "missing", path: "/app/nothing.txt", code: 404},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest("GET", ts.URL+c.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i+1 < len(c.header); i += 2 {
				req.Header.Set(c.header[i], c.header[i+1])
			}
			resp, err := noRedirect.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.code {
				t.Errorf("GET %s: %s, want %d\n%s", c.path, resp.Status, c.code, b)
			}
			if got := resp.Header.Get("Location"); got != c.location {
				t.Errorf("GET %s: Location %q, want %q", c.path, got, c.location)
			}
			for _, w := range c.body {
				if !strings.Contains(string(b), w) {
					t.Errorf("GET %s: body lacks %s:\n%s", c.path, w, b)
				}
			}
		})
	}
}

// TestBaseBadInput checks that New refuses a base that is no path prefix.
func TestBaseBadInput(t *testing.T) {
	for _, base := range []string{"https://example.com/app/", "/a b/", "/app/../x/", "/__devserve/"} {
		if s, err := New(Options{Root: copyFixture(t, "live"), Base: base}); err == nil {
			s.Close()
			t.Errorf("New with Base %q succeeded", base)
		} else if !strings.Contains(err.Error(), "base") {
			t.Errorf("New with Base %q: %v", base, err)
		}
	}
}

// TestSecurityUnderBase sends every attack of the security suite through
// the base path: the same answers, and no secret in them.
func TestSecurityUnderBase(t *testing.T) {
	p := newHostileProject(t)
	ts := startServer(t, p.root, "127.0.0.1:0", Options{Base: "/app/"})
	var prefixed []attack
	for _, a := range attacks {
		if strings.HasPrefix(a.target, "/") {
			a.target = "/app" + a.target
			prefixed = append(prefixed, a)
		}
	}
	runAttacks(t, ts, p, prefixed, true)
	// Outside the base nothing is served, whatever the path.
	var outside []attack
	for _, a := range attacks {
		if strings.HasPrefix(a.target, "/") && a.code != 403 && a.code != 400 {
			a.code = 404
			outside = append(outside, a)
		}
	}
	runAttacks(t, ts, p, outside, false)
}
