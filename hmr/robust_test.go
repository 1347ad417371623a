package hmr

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/devserve/devserve/internal/ssetest"
)

// writeAtomic replaces a file of the served project the way most editors
// save: it writes a temporary file (one the watcher ignores, as it does an
// editor's) and renames it over the file. The watcher then never sees the
// file half written.
func (ts *testServer) writeAtomic(t testing.TB, rel, content string) {
	t.Helper()
	p := filepath.Join(ts.dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p+"~", []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(p+"~", p); err != nil {
		t.Fatal(err)
	}
}

// waitReport waits for a report of the build loop with event ev, past the
// reports of other builds that may come first (a removal and a creation
// can arrive in two batches), and returns it.
func (ts *testServer) waitReport(t testing.TB, ev string) Report {
	t.Helper()
	timeout := time.After(20 * time.Second)
	var seen []string
	for {
		select {
		case r := <-ts.reports:
			if r.Event == ev {
				return r
			}
			seen = append(seen, r.Event)
		case <-timeout:
			t.Fatalf("timed out waiting for a %s report; saw %v", ev, seen)
		}
	}
}

// errorsText joins the texts and files of a report's errors.
func errorsText(r Report) string {
	var b strings.Builder
	for _, m := range r.Errors {
		b.WriteString(m.File + ": " + m.Text + "\n")
	}
	return b.String()
}

// binaryJunk is bytes no parser likes: every byte value, NULs included.
func binaryJunk() string {
	b := make([]byte, 0, 4096)
	for i := range 4096 {
		b = append(b, byte(i*7+i/256))
	}
	return string(b)
}

// TestBadSource feeds the build loop source that has crashed or hung
// tools: each must end in a good build or a build error, reported, with
// the server still serving, and a fix must build again.
func TestBadSource(t *testing.T) {
	t.Parallel()
	big := `export const value = "big " + "` + strings.Repeat("x", 5<<20) + `".length;` + "\n"
	tests := []struct {
		name    string
		files   map[string]string
		event   string // EventBuilt or EventErrors; "" is either
		errText string // in the errors, with EventErrors
		body    string // in /main.js after a good build
	}{
		{name: "invalid UTF-8", files: map[string]string{"value.js": "export const value = \"caf\xe9 \xff\xfe\";"}},
		{name: "invalid UTF-8 in an identifier", files: map[string]string{"value.js": "export const val\xffue = 1;"}, event: EventErrors},
		{name: "binary file named .js", files: map[string]string{"value.js": binaryJunk()}, event: EventErrors, errText: "value.js"},
		{name: "NUL bytes in a string", files: map[string]string{"value.js": "export const value = \"a\x00b\";"}},
		{name: "5 MB file", files: map[string]string{"value.js": big}, event: EventBuilt, body: "big "},
		{name: "import of a missing file", files: map[string]string{"value.js": `export { value } from "./missing.js";`}, event: EventErrors, errText: `Could not resolve "./missing.js"`},
		{name: "circular imports", files: map[string]string{
			"value.js": `import { kind } from "./cycle.js"; export const value = "circular " + kind();`,
			"cycle.js": `import { value } from "./value.js"; export function kind() { return typeof value; }`,
		}, event: EventBuilt, body: "circular "},
		{name: "import of itself", files: map[string]string{"value.js": `import * as me from "./value.js"; export const value = "self " + Object.keys(me).length;`}, event: EventBuilt, body: "self "},
		{name: "import of a folder", files: map[string]string{"value.js": `export { value } from "./";`}, event: EventErrors},
		{name: "import of a page", files: map[string]string{"value.js": `export { default as value } from "./index.html";`}, event: EventErrors},
	}
	ts := startServer(t, copyFixture(t, "live"), "127.0.0.1:0", Options{})
	good := string(readFile(t, ts.dir+"/value.js"))
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for name, content := range tt.files {
				ts.writeAtomic(t, name, content)
			}
			r := ts.nextReport(t)
			if tt.event != "" && r.Event != tt.event || r.Event != EventBuilt && r.Event != EventErrors {
				t.Fatalf("report %s, want %s\n%s", r.Event, tt.event, errorsText(r))
			}
			if r.Event == EventErrors && (len(r.Errors) == 0 || !strings.Contains(errorsText(r), tt.errText)) {
				t.Errorf("errors %q, want them to mention %q", errorsText(r), tt.errText)
			}
			resp, body := ssetest.Request(t, ts.http, "GET", "/main.js")
			if resp.StatusCode != 200 || !strings.Contains(body, tt.body) {
				t.Errorf("GET /main.js after the build: %s, want 200 with %q", resp.Status, tt.body)
			}
			if st := ts.Status(); (st.Status == StatusOK) != (r.Event == EventBuilt) {
				t.Errorf("status %s after a %s report", st.Status, r.Event)
			}

			// The fix: back to the fixture's code, with a new value so
			// that the same bytes as before cannot skip the build.
			fixed := strings.Replace(good, `"one"`, `"fixed `+string(rune('a'+i))+`"`, 1)
			ts.writeAtomic(t, "value.js", fixed)
			r = ts.waitReport(t, EventBuilt)
			if _, body := ssetest.Request(t, ts.http, "GET", "/main.js"); !strings.Contains(body, "fixed "+string(rune('a'+i))) {
				t.Errorf("after the fix, /main.js lacks the fixed value:\n%.300s", body)
			}
		})
	}
}

// TestPageChangeInFailedBuild checks that a page changed in a batch whose
// build failed is reloaded by the next good build, even one that only
// swaps CSS: the browsers were not told of it, and still show the old
// page.
func TestPageChangeInFailedBuild(t *testing.T) {
	ts := startServer(t, copyFixture(t, "live"), "127.0.0.1:0", Options{})
	ssetest.Request(t, ts.http, "GET", "/") // a browser has the page
	page := strings.Replace(string(readFile(t, filepath.Join(ts.dir, "index.html"))), "loading", "page two", 1)
	ts.writeAtomic(t, "style.css", `@import "./missing.css";`)
	ts.writeAtomic(t, "index.html", page)
	if r := ts.waitErrors(t, "missing.css"); r.Reload {
		t.Errorf("a failed build asked for a reload: %+v", r)
	}
	ts.writeAtomic(t, "style.css", "#out { color: blue; }")
	if r := ts.waitReport(t, EventBuilt); !r.Reload {
		t.Errorf("the good build after the page changed did not reload: %+v", r)
	}
	if _, body := ssetest.Request(t, ts.http, "GET", "/"); !strings.Contains(body, "page two") {
		t.Errorf("the page served is not the new one:\n%s", body)
	}
}

// TestRootRemovedAndBack removes the whole project folder from under a
// running server and brings it back: the loss is a build error, reported
// and sent to the browsers, a browser landing on the site meanwhile gets a
// page that follows the builds, and the return builds again.
func TestRootRemovedAndBack(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		remove func(t *testing.T, ts *testServer)
	}{
		{"all at once", func(t *testing.T, ts *testServer) {
			if err := os.RemoveAll(ts.dir); err != nil {
				t.Fatal(err)
			}
		}},
		{"the page first", func(t *testing.T, ts *testServer) {
			if err := os.Remove(filepath.Join(ts.dir, "index.html")); err != nil {
				t.Fatal(err)
			}
			ts.waitReport(t, EventBuilt) // no page, no entries: a good build
			if err := os.RemoveAll(ts.dir); err != nil {
				t.Fatal(err)
			}
		}},
		{"held open", func(t *testing.T, ts *testServer) {
			// As a shell's working folder, or devserve's own when started
			// in it: inotify does not report the folder's removal then.
			f, err := os.Open(ts.dir)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			if err := os.RemoveAll(ts.dir); err != nil {
				t.Fatal(err)
			}
		}},
		{"replaced by a file", func(t *testing.T, ts *testServer) {
			if err := os.RemoveAll(ts.dir); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(ts.dir, []byte("not a folder"), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := startServer(t, copyFixture(t, "live"), "127.0.0.1:0", Options{})
			ssetest.Request(t, ts.http, "GET", "/")
			tt.remove(t, ts)
			if r := ts.waitErrors(t, "project folder"); !strings.Contains(errorsText(r), ts.dir) {
				t.Errorf("errors %q do not name the folder", errorsText(r))
			}
			if st := ts.Status(); st.Status != StatusError {
				t.Errorf("status while the folder is gone: %+v", st)
			}
			resp, body := ssetest.Request(t, ts.http, "GET", "/", "Sec-Fetch-Dest: document", "Sec-Fetch-Mode: navigate")
			if resp.StatusCode != 404 || !strings.Contains(body, "/__devserve/client.js") || !strings.Contains(body, "is missing") {
				t.Errorf("a page while the folder is gone: %s\n%s", resp.Status, body)
			}

			// Back at once, as a folder moved back in place.
			back := filepath.Join(t.TempDir(), "live")
			if err := os.CopyFS(back, os.DirFS(filepath.Join("..", "testdata", "live"))); err != nil {
				t.Fatal(err)
			}
			os.Remove(ts.dir) // the file of "replaced by a file"
			if err := os.Rename(back, ts.dir); err != nil {
				t.Fatal(err)
			}
			ts.waitReport(t, EventBuilt)
			if st := ts.Status(); st.Status != StatusOK {
				t.Errorf("status once the folder is back: %+v", st)
			}
			if resp, body := ssetest.Request(t, ts.http, "GET", "/main.js"); resp.StatusCode != 200 || !strings.Contains(body, `"one"`) {
				t.Errorf("GET /main.js once the folder is back: %s\n%.200s", resp.Status, body)
			}
		})
	}
}

// TestMissingPage checks the 404 answers: a browser's navigation gets a
// page that loads the client, so it reloads when the page appears; other
// requests get plain text. Without the SPA fallback, which would answer
// the navigation to /docs/ with /index.html (see TestSPAFallback).
func TestMissingPage(t *testing.T) {
	ts := startServer(t, copyFixture(t, "live"), "127.0.0.1:0", Options{NoSPAFallback: true})
	tests := []struct {
		name   string
		target string
		header []string
		client bool
	}{
		{"navigation", "/about.html", []string{"Sec-Fetch-Dest: document", "Sec-Fetch-Mode: navigate"}, true},
		{"navigation of an old browser", "/about.html", []string{"Accept: text/html,*/*;q=0.8"}, true},
		{"navigation to a folder", "/docs/", []string{"Sec-Fetch-Dest: document"}, true},
		{"script", "/nope.js", []string{"Sec-Fetch-Dest: script"}, false},
		{"fetch", "/about.html", []string{"Sec-Fetch-Dest: empty", "Accept: text/html"}, false},
		{"no headers", "/about.html", nil, false},
		{"dotfile", "/.env", []string{"Sec-Fetch-Dest: document"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := ssetest.Request(t, ts.http, "GET", tt.target, tt.header...)
			if resp.StatusCode != 404 || strings.Contains(body, "/__devserve/client.js") != tt.client {
				t.Errorf("GET %s: %s, client %v, want 404, client %v\n%s", tt.target, resp.Status, !tt.client, tt.client, body)
			}
		})
	}
	// The pages that were missing appear: the browsers that got the 404
	// page are told to reload.
	for _, page := range []string{"about.html", "docs/index.html"} {
		ts.writeAtomic(t, page, "<p>here now</p>")
		if r := ts.nextReport(t); !r.Reload || !slices.Contains(r.Changed, page) {
			t.Errorf("%s created: %+v, want a reload", page, r)
		}
	}
}

// TestSaveStream saves one file every 10 ms for a second, as a tool that
// rewrites a file in a loop would: builds start every streamGap, the
// last one has the last content, and a save after the stream builds at
// once.
func TestSaveStream(t *testing.T) {
	t.Parallel()
	const saves, every = 100, 10 * time.Millisecond
	ts := startServer(t, copyFixture(t, "live"), "127.0.0.1:0", Options{})
	took, stalls := ts.saveAtRate(t, "value.js", `export const value = "save %d";`, saves, every)
	builds, last := 0, fmt.Sprintf(`"save %d"`, saves-1)
	for {
		r := ts.nextReport(t)
		builds++
		if _, body := ssetest.Request(t, ts.http, "GET", "/main.js"); r.Event == EventBuilt && strings.Contains(body, last) {
			break
		}
	}
	// One build per streamGap, plus one for each time the stream paused
	// for streamWindow: the writer stalled, or the watcher or the loop got
	// the CPU late (a loaded machine). 3 to 7 here; a build per save
	// would be 100.
	if most := int(took/streamGap) + stalls + saves/10; builds > most {
		t.Errorf("%d saves in %v (%d stalls) took %d builds, want at most %d", saves, took, stalls, builds, most)
	}
	t.Logf("%d saves in %v: %d stalls, %d builds", saves, took.Round(time.Millisecond), stalls, builds)

	// After a pause, a save builds at once: well within streamGap of its
	// batch.
	<-time.After(2 * streamGap) // the pause, a bounded wait
	ts.drainReports()
	for len(ts.batches) > 0 {
		<-ts.batches
	}
	ts.write(t, "value.js", `export const value = "after the pause";`)
	b := ts.nextBatch(t, "value.js")
	if !b.started {
		t.Error("a save after a pause did not start a build at once")
	}
	ts.waitReport(t, EventBuilt)
}
