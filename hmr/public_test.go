package hmr

import (
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
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
			resp, body := request(t, ts.http, tt.method, tt.target, tt.header...)
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
// source tree with the same URL, and over a build output, and that the
// terminal hears of each clash once: at start and when it appears.
func TestPublicWins(t *testing.T) {
	dir := copyFixture(t, "spa")
	writeTestFile(t, dir, "robots.txt", "the source tree's")
	log := &logRecorder{msgs: make(chan string, 100)}
	ts := startServer(t, dir, "127.0.0.1:0", Options{Logger: slog.New(log)})
	const clash = "public/robots.txt and robots.txt have the same URL /robots.txt; devserve serves public/robots.txt"
	if m := log.find("public/robots.txt and robots.txt"); m == "" || !strings.HasPrefix(m, clash) {
		t.Errorf("at start, the warning is %q, want %q", m, clash)
	}
	if _, body := request(t, ts.http, "GET", "/robots.txt"); !strings.Contains(body, "User-agent") {
		t.Errorf("GET /robots.txt: %q, want the one of public/", body)
	}

	// A clash with an entry: public/ wins, as in Vite, where public
	// files are served before any transform.
	ts.write(t, "public/style.css", "/* public's */")
	log.wait(t, "public/style.css and style.css have the same URL")
	if _, body := request(t, ts.http, "GET", "/style.css"); body != "/* public's */" {
		t.Errorf("GET /style.css: %q, want the one of public/", body)
	}

	// Once per URL, whichever side changes.
	ts.write(t, "robots.txt", "changed")
	ts.nextBatch(t, "robots.txt")
	ts.write(t, "public/style.css", "/* again */")
	ts.nextBatch(t, "public/style.css")
	request(t, ts.http, "GET", "/public/robots.txt")
	request(t, ts.http, "GET", "/public/robots.txt")
	if m := log.find("/public/robots.txt is not served"); !strings.Contains(m, "use /robots.txt instead") {
		t.Errorf("warning %q, want one that names /robots.txt", m)
	}
	log.mu.Lock()
	log.drain()
	n := map[string]int{}
	for _, m := range log.seen {
		n[strings.SplitN(m, " ", 2)[0]]++
	}
	log.mu.Unlock()
	// seen holds what find read; wait took the first of public/style.css.
	for first, want := range map[string]int{"public/robots.txt": 1, "public/style.css": 0, "/public/robots.txt": 1} {
		if n[first] != want {
			t.Errorf("%d more warnings starting with %s, want %d; all: %q", n[first], first, want, log.seen)
		}
	}
}

// TestPublicChangeReloads checks that a change in public/ reloads the
// pages with no build, and that a save of the same bytes does not.
func TestPublicChangeReloads(t *testing.T) {
	ts := startServer(t, copyFixture(t, "spa"), "127.0.0.1:0", Options{})
	st := openStream(t, ts.http, EventsPath)
	st.start()

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
			resp, _ := request(t, ts.http, "GET", c.url)
			etag := resp.Header.Get("ETag")
			if etag == "" || resp.Header.Get("Last-Modified") != "" {
				t.Fatalf("ETag %q, Last-Modified %q: want an ETag only", etag, resp.Header.Get("Last-Modified"))
			}
			if again, _ := request(t, ts.http, "GET", c.url, "If-None-Match: "+etag); again.StatusCode != http.StatusNotModified {
				t.Errorf("revalidated: %s, want 304", again.Status)
			}
			ts.write(t, c.file, "two\n") // same size, same second
			resp, body := request(t, ts.http, "GET", c.url, "If-None-Match: "+etag)
			if resp.StatusCode != 200 || body != "two\n" {
				t.Errorf("after a change: %s %q, want 200 with the new text", resp.Status, body)
			}
		})
	}
}
