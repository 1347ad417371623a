package hmr

import (
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devserve/devserve/internal/ssetest"
)

func TestPublic(t *testing.T) {
	dir := copyFixture(t, "spa")
	ts := startServer(t, dir, "127.0.0.1:0", Options{})
	page := string(readFile(t, filepath.Join(dir, "public", "page.html")))
	tests := []struct {
		name   string
		method string
		target string
		header []string
		code   int
		ctype  string
		body   string // a substring of the answer; for page.html, all of it
	}{
		{"text", "GET", "/robots.txt", nil, 200, "text/plain; charset=utf-8", "User-agent: *"},
		{"image", "GET", "/moon.svg", nil, 200, "image/svg+xml", "<circle"},
		{"in a folder", "GET", "/img/star.svg", nil, 200, "image/svg+xml", "<circle"},
		{"with a query", "GET", "/robots.txt?v=2", nil, 200, "text/plain; charset=utf-8", "User-agent: *"},
		{"HEAD", "HEAD", "/robots.txt", nil, 200, "text/plain; charset=utf-8", ""},
		{"a page, as it is", "GET", "/page.html", nil, 200, "text/html; charset=utf-8", page},
		{"a page, navigated to", "GET", "/page.html", navHeader, 200, "text/html; charset=utf-8", page},
		{"a CSS url() to a public file", "GET", "/style.css", nil, 200, "text/css; charset=utf-8", "url(/moon.svg)"},
		// The folder is not served under its own name, as in a build.
		{"under /public/", "GET", "/public/robots.txt", nil, 404, "", ""},
		{"under /public/, navigated to", "GET", "/public/page.html", navHeader, 404, "", missingPage},
		{"the folder", "GET", "/public/", nil, 404, "", ""},
		{"a folder of public/", "GET", "/img/", nil, 404, "", ""},
		{"a folder of public/, no slash", "GET", "/img", nil, 404, "", ""},
		{"missing", "GET", "/nope.svg", nil, 404, "", ""},
		{"no index.html from public/", "GET", "/", navHeader, 200, "text/html; charset=utf-8", appPage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := ssetest.Request(t, ts.http, tt.method, tt.target, tt.header...)
			if resp.StatusCode != tt.code || !strings.Contains(body, tt.body) {
				t.Fatalf("%s %s: %s, want %d with %q\n%s", tt.method, tt.target, resp.Status, tt.code, tt.body, body)
			}
			if tt.ctype != "" && resp.Header.Get("Content-Type") != tt.ctype {
				t.Errorf("Content-Type = %q, want %q", resp.Header.Get("Content-Type"), tt.ctype)
			}
			if tt.body == page && body != page {
				t.Errorf("the page of public/ was changed:\n%s", body)
			}
			if tt.code == 200 && resp.Header.Get("Cache-Control") != "no-cache" {
				t.Errorf("Cache-Control = %q, want no-cache", resp.Header.Get("Cache-Control"))
			}
		})
	}
	if got, want := ts.Status().Entries, []string{"src/admin.ts", "src/main.ts", "style.css"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("entries = %q, want %q (none from public/page.html)", got, want)
	}
}

// TestPublicWins checks that a file of public/ wins over a file of the
// source tree with the same URL, and over a build output, that the clash
// is an error from the start, and that the terminal hears once of a URL
// under /public/.
func TestPublicWins(t *testing.T) {
	dir := copyFixture(t, "spa")
	writeTestFile(t, dir, "robots.txt", "the source tree's")
	log := &logRecorder{msgs: make(chan string, 100)}
	ts := startServer(t, dir, "127.0.0.1:0", Options{Logger: slog.New(log)})
	r := ts.nextReport(t) // the first build's, with the clash
	const clash = "public/robots.txt and robots.txt have the same URL /robots.txt: devserve serves public/robots.txt"
	if r.Event != EventErrors || r.Failed || len(r.Errors) != 1 || !strings.HasPrefix(r.Errors[0].Text, clash) ||
		r.Errors[0].File != "public/robots.txt" || r.Errors[0].Suggestion != "rename or remove public/robots.txt or robots.txt" {
		t.Errorf("at start, report %+v, want the errors of a good build with the clash %q", r, clash)
	}
	if st := ts.Status(); st.Status != StatusError || st.Failed || st.Build == "" {
		t.Errorf("status %+v, want an error with a good build served", st)
	}
	if _, body := ssetest.Request(t, ts.http, "GET", "/robots.txt"); !strings.Contains(body, "User-agent") {
		t.Errorf("GET /robots.txt: %q, want the one of public/", body)
	}

	// A clash with an entry: public/ wins, as in Vite, where public
	// files are served before any transform.
	ts.write(t, "public/style.css", "/* public's */")
	ts.nextBatch(t, "public/style.css")
	if _, body := ssetest.Request(t, ts.http, "GET", "/style.css"); body != "/* public's */" {
		t.Errorf("GET /style.css: %q, want the one of public/", body)
	}

	// Once per URL.
	ssetest.Request(t, ts.http, "GET", "/public/robots.txt")
	ssetest.Request(t, ts.http, "GET", "/public/robots.txt")
	if m := log.find("/public/robots.txt is not served"); !strings.Contains(m, "use /robots.txt instead") {
		t.Errorf("warning %q, want one that names /robots.txt", m)
	}
	log.mu.Lock()
	log.drain()
	n := 0
	for _, m := range log.seen {
		if strings.HasPrefix(m, "/public/robots.txt") {
			n++
		}
	}
	log.mu.Unlock()
	if n != 1 {
		t.Errorf("%d warnings about /public/robots.txt, want 1; all: %q", n, log.seen)
	}
}

// errorFiles lists the files of errors, in order.
func errorFiles(ms []Message) string {
	fs := make([]string, len(ms))
	for i, m := range ms {
		fs[i] = m.File
	}
	return strings.Join(fs, " ")
}

// TestPublicClashErrors follows the server's errors as clashes of public/
// with the source tree come and go, from either side, alone and with the
// build's own errors: in the terminal's reports, the events of an open
// page, the sync a page opened later gets, and the status.
func TestPublicClashErrors(t *testing.T) {
	ts := startServer(t, copyFixture(t, "spa"), "127.0.0.1:0", Options{})
	st := ssetest.Open(t, ts.http, EventsPath)
	st.Start()
	main := string(readFile(t, filepath.Join(ts.dir, "src", "main.ts")))
	remove := func(rel string) func(t *testing.T) {
		return func(t *testing.T) {
			if err := os.RemoveAll(filepath.Join(ts.dir, filepath.FromSlash(rel))); err != nil {
				t.Fatal(err)
			}
		}
	}
	write := func(files ...string) func(t *testing.T) {
		return func(t *testing.T) {
			for i := 0; i < len(files); i += 2 {
				ts.write(t, files[i], files[i+1])
			}
		}
	}
	const (
		robots = "public/robots.txt"
		style  = "public/style.css"
		build  = "build"
		none   = "no build"
	)
	tests := []struct {
		name   string
		do     func(t *testing.T)
		event  string // of the report and of the open page's stream
		ran    string // build, none, or "" when either may be
		failed bool
		files  string // the files of the errors, in order
		reload bool   // for a built event
		newer  bool   // the build served changed
	}{
		{"a source file with a public file's URL", write("robots.txt", "mine"), EventErrors, none, false, robots, false, false},
		{"the source file removed", remove("robots.txt"), EventBuilt, none, false, "", false, false},
		{"the source file back", write("robots.txt", "mine again"), EventErrors, none, false, robots, false, false},
		{"a public file with an entry's URL", write(style, "/* public's */"), EventErrors, "", false, robots + " " + style, false, false},
		{"a good build", write("src/main.ts", main+"show(\"edited\");\n"), EventErrors, build, false, robots + " " + style, false, true},
		{"a failed build", write("src/main.ts", "const broken: number = ;\n"), EventErrors, build, true, "src/main.ts " + robots + " " + style, false, false},
		{"the build fixed", write("src/main.ts", main), EventErrors, build, false, robots + " " + style, false, false},
		{"the source side removed", remove("robots.txt"), EventErrors, none, false, style, false, false},
		// The pages missed the good builds, and /style.css changed.
		{"the public side removed", remove(style), EventBuilt, none, false, "", true, false},
		{"a clash in a folder", write("admin/notes.txt", "a", "public/admin/notes.txt", "b"), EventErrors, none, false, "public/admin/notes.txt", false, false},
		{"the public folder's folder removed", remove("public/admin"), EventBuilt, none, false, "", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := ts.Status().Build
			tt.do(t)
			var r Report
			for r.Event != tt.event || errorFiles(r.Errors) != tt.files {
				r = ts.waitReport(t, tt.event)
			}
			if r.Failed != tt.failed || (tt.ran != "" && r.NoBuild != (tt.ran == none)) || (tt.event == EventBuilt && r.Reload != tt.reload) {
				t.Errorf("report %+v, want failed=%v, %s, reload=%v", r, tt.failed, tt.ran, tt.reload)
			}
			// The open page hears of it.
			for {
				ev := st.NextEvent()
				if ev.Type == EventErrors && tt.event == EventErrors {
					var d ErrorsData
					decode(t, ev, &d)
					if errorFiles(d.Errors) != tt.files {
						continue
					}
					if d.Failed != tt.failed || d.Build != ts.Status().Build {
						t.Errorf("errors event %s, want failed=%v and the build served", ev.Data, tt.failed)
					}
					break
				}
				if ev.Type == EventBuilt && tt.event == EventBuilt {
					var d BuiltData
					decode(t, ev, &d)
					if d.Reload != tt.reload {
						t.Errorf("built event %s, want reload=%v", ev.Data, tt.reload)
					}
					break
				}
			}
			// So does a page opened now, and the status.
			late := ssetest.Open(t, ts.http, EventsPath)
			var sync SyncData
			decode(t, late.Start(), &sync)
			late.Conn.Close()
			status := map[bool]string{true: StatusError, false: StatusOK}[tt.files != ""]
			if sync.Status != status || sync.Failed != tt.failed || errorFiles(sync.Errors) != tt.files {
				t.Errorf("a new page's sync %+v, want status %s, failed=%v, errors of %q", sync, status, tt.failed, tt.files)
			}
			if s := ts.Status(); s.Status != status || s.Failed != tt.failed || errorFiles(s.Errors) != tt.files {
				t.Errorf("status %+v, want %s, failed=%v, errors of %q", s, status, tt.failed, tt.files)
			}
			if tt.newer && ts.Status().Build == before {
				t.Error("the build was not installed")
			}
		})
	}
	if _, body := ssetest.Request(t, ts.http, "GET", "/style.css"); strings.Contains(body, "public's") {
		t.Errorf("GET /style.css after public/style.css went: %q, want the entry's output", body)
	}
}

// TestPublicChangeReloads checks that a change in public/ reloads the
// pages with no build, and that a save of the same bytes does not.
func TestPublicChangeReloads(t *testing.T) {
	ts := startServer(t, copyFixture(t, "spa"), "127.0.0.1:0", Options{})
	st := ssetest.Open(t, ts.http, EventsPath)
	st.Start()

	ts.writeAtomic(t, "public/data.txt", "two\n")
	if b := ts.nextBatch(t, "public/data.txt"); b.started {
		t.Error("a change in public/ started a build")
	}
	var reload ReloadData
	decode(t, expectEvent(t, st, EventReload), &reload)
	if r := ts.nextReport(t); r.Event != EventReload || strings.Join(r.Changed, " ") != "public/data.txt" || !strings.Contains(reload.Reason, "public/data.txt") {
		t.Errorf("report %+v, reload %+v: want a reload for public/data.txt", r, reload)
	}

	ts.writeAtomic(t, "public/data.txt", "two\n")
	ts.nextBatch(t, "public/data.txt")
	ts.noReport(t)

	// A page of public/ is no page of the site: no entry, but a reload.
	ts.writeAtomic(t, "public/new.html", `<script type="module" src="/src/extra.ts"></script>`)
	if b := ts.nextBatch(t, "public/new.html"); b.started {
		t.Error("a new page in public/ started a build")
	}
	expectEvent(t, st, EventReload)
}

// TestFilesRevalidate: files served from disk, of public/ and of the
// source tree, revalidate by ETag with no Last-Modified, so a change in
// the same second as the last fetch, of the same size, is never answered
// 304.
func TestFilesRevalidate(t *testing.T) {
	ts := startServer(t, copyFixture(t, "spa"), "127.0.0.1:0", Options{})
	ts.write(t, "notes.txt", "one\n")
	for _, c := range []struct{ file, url string }{
		{"public/data.txt", "/data.txt"},
		{"notes.txt", "/notes.txt"},
	} {
		t.Run(c.file, func(t *testing.T) {
			resp, _ := ssetest.Request(t, ts.http, "GET", c.url)
			etag := resp.Header.Get("ETag")
			if etag == "" || resp.Header.Get("Last-Modified") != "" {
				t.Fatalf("ETag %q, Last-Modified %q: want an ETag only", etag, resp.Header.Get("Last-Modified"))
			}
			if again, _ := ssetest.Request(t, ts.http, "GET", c.url, "If-None-Match: "+etag); again.StatusCode != http.StatusNotModified {
				t.Errorf("revalidated: %s, want 304", again.Status)
			}
			ts.write(t, c.file, "two\n") // same size, same second
			resp, body := ssetest.Request(t, ts.http, "GET", c.url, "If-None-Match: "+etag)
			if resp.StatusCode != 200 || body != "two\n" {
				t.Errorf("after a change: %s %q, want 200 with the new text", resp.Status, body)
			}
		})
	}
}
