package hmr

import (
	"fmt"
	"html"
	"net/http"
	"os"
	"path"
	"strings"
	"time"

	"github.com/devserve/devserve/client"
	"github.com/devserve/devserve/internal/guard"
)

// A project folder can go away while devserve runs (a branch switch that
// removes it, rm -rf and a restore) and files and pages can go and come
// back. This file keeps the browsers told and following when that
// happens: a tab that lands on a missing page gets a 404 page that loads
// the client, so it reloads when the page is back, and a missing root is
// an error on the overlay and in the terminal until it is back.

// maxMissed bounds the pages remembered as answered 404.
const maxMissed = 1000

// missingPage answers 404 Not Found. A browser's navigation gets a small
// page that loads the client, so that the tab follows the builds, shows
// their errors and reloads when the page it asked for appears; anything
// else gets the usual plain text.
func (s *Server) missingPage(w http.ResponseWriter, r *http.Request) {
	if !wantsDocument(r) {
		http.NotFound(w, r)
		return
	}
	msg := "devserve has no file for this address. This page reloads when it appears."
	if fi, err := os.Stat(s.root); err != nil || !fi.IsDir() {
		msg = "The project folder " + s.root + " is missing. This page reloads when it is back."
	}
	if rel, dir, ok := guard.CleanPath(r.URL.Path); ok {
		page := rel
		if dir {
			page = path.Join(rel, "index.html")
		}
		if isHTML(page) {
			s.pages.miss(page)
		}
	}
	b := InjectScript([]byte(`<!doctype html><html><head><meta charset="utf-8"><title>404 Not Found</title></head>`+
		`<body><h1>404 Not Found</h1><p>`+html.EscapeString(msg)+`</p></body></html>`), s.tag(client.TagOptions{}))
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNotFound)
	w.Write(b)
}

// wantsDocument reports whether r is a browser's navigation: a GET or HEAD
// for a document, by Sec-Fetch-Dest or, from browsers that do not send it,
// by Accept.
func wantsDocument(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	switch r.Header.Get("Sec-Fetch-Dest") {
	case "document":
		return true
	case "":
		return strings.Contains(r.Header.Get("Accept"), "text/html")
	}
	return false
}

// miss records that page rel was answered 404 to a browser, so that its
// creation reloads the browsers (see changed).
func (p *pages) miss(rel string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.missed == nil || len(p.missed) >= maxMissed {
		p.missed = map[string]bool{}
	}
	p.missed[rel] = true
}

// rootMissing reports whether the project folder is gone, for the build
// loop, which builds nothing meanwhile: the first time it finds it gone it
// tells the browsers and the terminal, as a failed build, and it forgets
// that once the folder is back (the build that follows tells them).
func (s *Server) rootMissing() bool {
	fi, err := os.Stat(s.root)
	if err == nil && fi.IsDir() {
		s.rootGone = false
		return false
	}
	if s.rootGone {
		return true
	}
	s.rootGone = true
	why := "is gone"
	if err == nil {
		why = "is no longer a folder"
	}
	rep := Report{Time: time.Now(), Event: EventErrors, Failed: true, Errors: []Message{{
		Text: fmt.Sprintf("the project folder %s %s; waiting for it to come back", s.root, why),
	}}}
	s.mu.Lock()
	s.status, s.failed, s.errs, s.warnings = StatusError, true, rep.Errors, nil
	build := s.build
	s.mu.Unlock()
	_, rep.Clients, _ = s.broker.Publish(EventErrors, ErrorsData{Build: build, Failed: true, Errors: rep.Errors, Warnings: []Message{}})
	s.report(rep)
	return true
}
