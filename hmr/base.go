package hmr

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
)

// A base path (Options.Base, "/app/") serves the project under a path, for
// an app that lives behind a reverse proxy at https://example.com/app/ or in
// a setup that forwards only a path to the dev server. The Server strips it
// at the edge, in ServeHTTP: everything behind (files, public/, the SPA
// fallback, the bundler's outputs, the endpoints under Prefix) sees
// root-relative paths, as without a base, and every URL the Server and the
// bundler write for the browser starts with the base (see package
// bundler's base.go). What is outside the base gets a clear answer in
// underBase.

// origURLKey is the context key of the URL a request had before the base
// was stripped: the backend of Options.Proxy gets the URL the browser
// asked for.
type origURLKey struct{}

// underBase returns r with the base stripped from its path, or answers r
// itself and returns false: "/app" is redirected to "/app/"; outside the
// base, in proxy mode the backend answers (it owns every other path), a
// browser's navigation to "/" is redirected to the base, as with Vite, and
// anything else is 404 with a message that names the base. Stripping is on
// the decoded path, so "/app/%2e%2e/x" comes out as "/../x", which the
// file server refuses as it refuses "/../x" without a base.
func (s *Server) underBase(w http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	prefix := strings.TrimSuffix(s.base, "/") // "/app"
	p := r.URL.Path
	if rest, ok := strings.CutPrefix(p, prefix); ok && strings.HasPrefix(rest, "/") {
		r2 := new(http.Request)
		*r2 = *r
		u := *r.URL
		u.Path = rest
		u.RawPath = ""
		if raw, ok := strings.CutPrefix(r.URL.RawPath, prefix); ok && strings.HasPrefix(raw, "/") {
			u.RawPath = raw
		}
		r2.URL = &u
		return r2.WithContext(context.WithValue(r.Context(), origURLKey{}, r.URL)), true
	}
	if p == prefix && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		target := s.base
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, target, http.StatusMovedPermanently)
		return nil, false
	}
	if s.passThru(w, r) {
		return nil, false
	}
	if p == "/" && wantsDocument(r) {
		http.Redirect(w, r, s.base, http.StatusFound)
		return nil, false
	}
	if !wantsDocument(r) {
		http.Error(w, "404 not found: devserve serves this project under "+s.base, http.StatusNotFound)
		return nil, false
	}
	// A navigation outside the base: say where the project is, with a
	// link to the same path under the base.
	under := s.base + strings.TrimLeft(p, "/")
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNotFound)
	w.Write([]byte(`<!doctype html><html><head><meta charset="utf-8"><title>404 Not Found</title></head><body><h1>404 Not Found</h1>` +
		`<p>devserve serves this project under <a href="` + html.EscapeString(s.base) + `">` + html.EscapeString(s.base) + `</a>. ` +
		`Did you mean <a href="` + html.EscapeString((&url.URL{Path: under}).EscapedPath()) + `">` + html.EscapeString(under) + `</a>?</p></body></html>`))
	return nil, false
}

// origURL returns the URL r had before the base was stripped, or r's own.
func origURL(r *http.Request) *url.URL {
	if u, ok := r.Context().Value(origURLKey{}).(*url.URL); ok {
		return u
	}
	return r.URL
}
