package hmr

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/devserve/devserve/client"
	"github.com/devserve/devserve/internal/ssetest"
)

func TestServe(t *testing.T) {
	dir := copyFixture(t, "live")
	if err := os.MkdirAll(filepath.Join(dir, "sub", "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "sub", "index.html"), []byte("<p>sub page</p>"), 0o644)
	ts := startServer(t, dir, "127.0.0.1:0", Options{})
	build := ts.Status().Build
	tag := string(client.Tag(build))

	tests := []struct {
		name, method, target string
		header               []string
		code                 int
		ctype                string
		body                 []string // substrings the body must contain
		notBody              []string
	}{
		{"page with client", "GET", "/", nil, 200, "text/html; charset=utf-8",
			[]string{`<link rel="stylesheet" href="/style.css">`, tag + "</head>"}, nil},
		{"page by name", "GET", "/index.html", nil, 200, "text/html; charset=utf-8", []string{tag}, nil},
		{"folder page", "GET", "/sub/", nil, 200, "text/html; charset=utf-8", []string{"<p>sub page</p>", tag}, nil},
		{"folder without slash", "GET", "/sub", nil, 301, "", nil, nil},
		{"no listing", "GET", "/sub/empty/", nil, 404, "", nil, []string{"empty"}},
		{"bundled entry", "GET", "/main.js", nil, 200, "text/javascript; charset=utf-8",
			[]string{`"one"`, "sessionStorage", "sourceMappingURL=main.js.map"}, []string{"import {"}},
		{"query ignored", "GET", "/main.js?v=123", nil, 200, "text/javascript; charset=utf-8", []string{`"one"`}, nil},
		{"source map", "GET", "/main.js.map", nil, 200, "application/json", []string{`"sources"`}, nil},
		{"stylesheet", "GET", "/style.css", nil, 200, "text/css; charset=utf-8", []string{"rgb(255, 0, 0)"}, nil},
		{"plain file", "GET", "/notes.txt", nil, 200, "text/plain; charset=utf-8", []string{"not part of any build"}, nil},
		{"missing", "GET", "/nope.js", nil, 404, "", nil, nil},
		{"client", "GET", ClientPath, nil, 200, "text/javascript; charset=utf-8", []string{"EventSource"}, nil},
		{"status", "GET", StatusPath, nil, 200, "application/json", []string{`"build":"` + build + `"`, `"status":"ok"`}, nil},
		{"unknown endpoint", "GET", Prefix + "nope", nil, 404, "", nil, nil},
		{"post", "POST", "/", nil, 405, "", nil, nil},
		{"head", "HEAD", "/main.js", nil, 200, "text/javascript; charset=utf-8", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := ssetest.Request(t, ts.http, tt.method, tt.target, tt.header...)
			if resp.StatusCode != tt.code {
				t.Fatalf("%s %s: %s\n%s", tt.method, tt.target, resp.Status, body)
			}
			if tt.ctype != "" && resp.Header.Get("Content-Type") != tt.ctype {
				t.Errorf("Content-Type = %q, want %q", resp.Header.Get("Content-Type"), tt.ctype)
			}
			for _, s := range tt.body {
				if !strings.Contains(body, s) {
					t.Errorf("body lacks %q:\n%s", s, body)
				}
			}
			for _, s := range tt.notBody {
				if strings.Contains(body, s) {
					t.Errorf("body has %q:\n%s", s, body)
				}
			}
			if got := resp.Header.Get("Cross-Origin-Resource-Policy"); got != "same-origin" {
				t.Errorf("Cross-Origin-Resource-Policy = %q", got)
			}
			if strings.Count(body, "/__devserve/client.js") > 1 {
				t.Errorf("client injected more than once:\n%s", body)
			}
		})
	}
}

// TestRevalidate checks that what the server sends is revalidated on every
// use and answered with 304 when it did not change, the property that lets
// a reload be fast and never stale.
func TestRevalidate(t *testing.T) {
	ts := startServer(t, copyFixture(t, "live"), "127.0.0.1:0", Options{})
	for _, target := range []string{"/", "/main.js", "/style.css", ClientPath, "/notes.txt"} {
		resp, _ := ssetest.Request(t, ts.http, "GET", target)
		if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("%s: Cache-Control = %q, want no-cache", target, cc)
		}
		etag := resp.Header.Get("ETag")
		if etag == "" && target != "/notes.txt" {
			t.Errorf("%s: no ETag", target)
			continue
		}
		var again *http.Response
		if etag != "" {
			again, _ = ssetest.Request(t, ts.http, "GET", target, "If-None-Match: "+etag)
		} else {
			again, _ = ssetest.Request(t, ts.http, "GET", target, "If-Modified-Since: "+resp.Header.Get("Last-Modified"))
		}
		if again.StatusCode != http.StatusNotModified {
			t.Errorf("%s revalidated: %s, want 304", target, again.Status)
		}
	}
}

// TestEvents follows the event stream through an edit, a failed build and
// its fix, and a change of the page.
func TestEvents(t *testing.T) {
	ts := startServer(t, copyFixture(t, "live"), "127.0.0.1:0", Options{})
	st := ssetest.Open(t, ts.http, EventsPath)
	var sync SyncData
	decode(t, st.Start(), &sync)
	if sync.Build != ts.Status().Build || sync.Status != StatusOK {
		t.Fatalf("sync = %+v", sync)
	}

	ts.write(t, "style.css", "#out { color: blue; }")
	var building BuildingData
	decode(t, expectEvent(t, st, EventBuilding), &building)
	if building.Build != sync.Build || len(building.Changed) != 1 || building.Changed[0] != "style.css" {
		t.Errorf("building = %+v", building)
	}
	var built BuiltData
	decode(t, expectEvent(t, st, EventBuilt), &built)
	if built.Reload || len(built.Updates) != 1 || built.Updates[0] != (Update{Type: "css", Path: "/style.css"}) || built.Build == sync.Build {
		t.Errorf("built = %+v", built)
	}

	ts.write(t, "value.js", "export const value = ;")
	expectEvent(t, st, EventBuilding)
	var failed ErrorsData
	decode(t, expectEvent(t, st, EventErrors), &failed)
	if failed.Build != built.Build || len(failed.Errors) == 0 || failed.Errors[0].File != "value.js" || failed.Errors[0].Line != 1 {
		t.Errorf("errors = %+v", failed)
	}
	if s := ts.Status(); s.Status != StatusError || s.Build != built.Build {
		t.Errorf("status while broken = %+v", s)
	}
	// The last good output is still served.
	if _, body := ssetest.Request(t, ts.http, "GET", "/main.js"); !strings.Contains(body, `"one"`) {
		t.Errorf("a failed build stopped serving the last good output:\n%s", body)
	}

	ts.write(t, "value.js", `export const value = "fixed";`)
	expectEvent(t, st, EventBuilding)
	decode(t, expectEvent(t, st, EventBuilt), &built)
	// Module mode: the module that changed, with the URL of its new code;
	// the page decides whether something accepts it.
	if built.Reload || len(built.Updates) != 1 || built.Updates[0].Path != "/value.js" ||
		!strings.HasPrefix(built.Updates[0].URL, "/__devserve/m/value.js?v=") {
		t.Errorf("built after the fix = %+v", built)
	}
	if resp, body := ssetest.Request(t, ts.http, "GET", built.Updates[0].URL); resp.StatusCode != 200 || !strings.Contains(body, `"fixed"`) {
		t.Errorf("GET %s: %s\n%s", built.Updates[0].URL, resp.Status, body)
	}

	// Load the page so the server knows what a browser has, then change it.
	ssetest.Request(t, ts.http, "GET", "/")
	ts.write(t, "index.html", "<p id=out>new page</p>")
	for {
		ev := st.NextEvent()
		if ev.Type == EventReload {
			break
		}
		if ev.Type == EventBuilt {
			var b BuiltData
			decode(t, ev, &b)
			if b.Reload {
				break
			}
		}
	}
}

// TestRequestsWaitForBuild checks that a page or output requested while a
// build runs is answered only when it ended.
func TestRequestsWaitForBuild(t *testing.T) {
	ts := startServer(t, copyFixture(t, "live"), "127.0.0.1:0", Options{})
	ts.mu.Lock()
	idle := make(chan struct{})
	ts.idle = idle
	ts.mu.Unlock()
	answered := make(chan string, 2)
	for _, target := range []string{"/", "/main.js"} {
		go func() {
			resp, err := http.Get(ts.URL + target)
			if err == nil {
				resp.Body.Close()
			}
			answered <- target
		}()
	}
	select {
	case target := <-answered:
		t.Fatalf("%s was answered while a build ran", target)
	case <-time.After(200 * time.Millisecond):
	}
	close(idle)
	for range 2 {
		select {
		case <-answered:
		case <-time.After(ssetest.Timeout):
			t.Fatal("requests were not answered after the build")
		}
	}
}

func expectEvent(t *testing.T, st *ssetest.Client, name string) ssetest.Event {
	t.Helper()
	ev := st.NextEvent()
	if ev.Type != name {
		t.Fatalf("got event %s %s, want %s", ev.Type, ev.Data, name)
	}
	return ev
}

func decode(t *testing.T, ev ssetest.Event, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(ev.Data), v); err != nil {
		t.Fatalf("event %s: %v: %s", ev.Type, err, ev.Data)
	}
}

// TestClientScriptsMinified: the client's scripts go out minified, well
// under 10 KB for the one every page loads.
func TestClientScriptsMinified(t *testing.T) {
	ts := startServer(t, copyFixture(t, "live"), "127.0.0.1:0", Options{})
	for _, c := range []struct {
		path string
		src  []byte
		max  int
	}{
		{ClientPath, client.Source(), 10 << 10},
		{WorkerPath, client.WorkerSource(), 10 << 10},
		{client.HMRPath, client.HMRSource(), 10 << 10},
		{client.ErrorsPath, client.ErrorsSource(), 10 << 10},
	} {
		resp, body := ssetest.Request(t, ts.http, "GET", c.path)
		if resp.StatusCode != 200 || len(body) >= len(c.src) || len(body) > c.max {
			t.Errorf("%s: %s, %d bytes (source %d), want minified and at most %d", c.path, resp.Status, len(body), len(c.src), c.max)
		}
		t.Logf("%s: %d bytes, %d as written", c.path, len(body), len(c.src))
	}
}

// TestUnbuiltEntry: a page opened while the first build of its entry
// fails gets a stand-in for the entry's script, never the source file
// (a .ts file would come with a type the browser refuses), and a tag with
// no build ID, which tells the client to reload on the first good build.
func TestUnbuiltEntry(t *testing.T) {
	for _, mode := range []struct {
		name   string
		bundle bool
	}{{"modules", false}, {"bundle", true}} {
		t.Run(mode.name, func(t *testing.T) {
			dir := copyFixture(t, "overlay")
			writeTestFile(t, dir, "src/main.ts", "const broken: number = ;\n")
			ts := startServer(t, dir, "127.0.0.1:0", Options{Bundle: mode.bundle})
			if st := ts.Status(); st.Status != StatusError || st.Build != "" {
				t.Fatalf("status = %+v, want an error and no build", st)
			}
			for _, tt := range []struct {
				target, ctype string
				code          int
				body, notBody string
			}{
				{"/", "text/html; charset=utf-8", 200, string(client.Tag("")), "main.css"},
				{"/src/main.ts", "text/javascript; charset=utf-8", 200, "globalThis.__devserve_unbuilt = true;", "broken"},
				{"/src/main.ts?v=1", "text/javascript; charset=utf-8", 200, "__devserve_unbuilt", "broken"},
				{"/style.css", "text/css; charset=utf-8", 200, "rgb(255, 0, 0)", ""},
			} {
				resp, body := ssetest.Request(t, ts.http, "GET", tt.target)
				if resp.StatusCode != tt.code || resp.Header.Get("Content-Type") != tt.ctype ||
					!strings.Contains(body, tt.body) || (tt.notBody != "" && strings.Contains(body, tt.notBody)) {
					t.Errorf("GET %s: %s %s\n%s\nwant %d %s with %q", tt.target, resp.Status, resp.Header.Get("Content-Type"), body, tt.code, tt.ctype, tt.body)
				}
				if tt.target == "/src/main.ts" && resp.Header.Get("Cache-Control") != "no-store" {
					t.Errorf("the stand-in may be cached: Cache-Control %q", resp.Header.Get("Cache-Control"))
				}
			}

			ts.write(t, "src/main.ts", string(readFile(t, filepath.Join("..", "testdata", "overlay", "src", "main.ts"))))
			ts.waitReport(t, EventBuilt)
			resp, body := ssetest.Request(t, ts.http, "GET", "/src/main.ts")
			if resp.StatusCode != 200 || !strings.Contains(body, "sessionStorage") || strings.Contains(body, "__devserve_unbuilt") {
				t.Errorf("after the fix, GET /src/main.ts: %s\n%s", resp.Status, body)
			}
			if _, page := ssetest.Request(t, ts.http, "GET", "/"); strings.Contains(page, string(client.Tag(""))) {
				t.Errorf("after the fix, the page still has no build:\n%s", page)
			}
		})
	}
}
