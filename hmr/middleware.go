package hmr

import (
	"bytes"
	"net/http"
	"path"
	"strings"

	"github.com/devserve/devserve/client"
	"github.com/devserve/devserve/internal/page"
)

// Inject returns a handler that serves next, with the client injected into
// the HTML pages it answers, as the Server does for its own pages: a Go app
// wraps its handler with it to get live reload. Mount the Server itself at
// [Prefix] in the same server, for the client, its event stream and the
// bundler's outputs, as in the package's examples; with Options.Base, at
// the base followed by Prefix ("/app/__devserve/"), unstripped: the tag
// injected points there.
//
// A response gets the client if it answers a GET for a document (not an
// htmx request, nor a fetch or other subresource: see the Sec-Fetch-Dest
// and HX-Request headers), has the content type text/html, a status of
// 200-299 (but 204 and 206) or 400-599, and does not load the client
// already. Such a response is buffered, decoded if its Content-Encoding is
// gzip, deflate or br (the request asks for no other), injected and sent
// as identity with a fixed Content-Length, without its validators (ETag,
// Last-Modified: a cached copy would carry the client of an earlier
// build). Its Content-Security-Policy is amended for the client, for that
// response only. Every other response, WebSocket upgrades and event
// streams included, passes through untouched and unbuffered.
//
// A page request waits for a build in progress, so that the page and the
// outputs it loads are of the same build.
func (s *Server) Inject(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !page.Wanted(r) {
			next.ServeHTTP(w, r)
			return
		}
		if !s.waitIdle(r) {
			return
		}
		page.Serve(w, r, next, s.injectPage, s.log)
	})
}

// InjectScript returns a copy of html with tag (typically the client's
// <script> element) inserted once, at the first of these places that
// exists:
//
//   - right before the </head> end tag, or right after the <body> start
//     tag, whichever comes first;
//   - right after the leading doctype, <html> and <head> tags, as far as
//     the document starts with them (comments and white space between them
//     are allowed);
//   - at the start, after a UTF-8 byte order mark if there is one.
//
// Tags are found with an HTML tokenizer, so case does not matter and text
// that only looks like a tag (in a comment, an attribute value, or the
// text of a script, style, title, textarea and the like) is not mistaken
// for one. Apart from tag, the result holds the bytes of html unchanged;
// malformed input only moves where tag goes.
func InjectScript(html, tag []byte) []byte {
	return page.Inject(html, tag)
}

// injectPage returns doc, the HTML answer to r with header h, with the
// client's tag injected and its CSS links added (bundler.LinkCSS), and
// amends h's Content-Security-Policy for it. A page that loads the client
// already comes back as it is.
func (s *Server) injectPage(h http.Header, r *http.Request, doc []byte) []byte {
	if bytes.Contains(doc, []byte(client.Path)) {
		return doc
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	nonce := page.AllowClient(h, scheme, strings.ToLower(r.Host), page.MetaNonce(doc))
	tag := s.tag(client.TagOptions{Nonce: nonce, NoEval: hasCSP(h, doc)})
	return InjectScript(s.current().LinkCSS(doc, pageRel(r.URL.Path)), tag)
}

// hasCSP reports whether a page with header h (nil for none) and HTML doc
// may have a Content-Security-Policy, enforced or report-only: a header,
// or the name anywhere in the page (a <meta http-equiv>, or just text:
// the client then fetches hot updates, which any policy lets it do).
func hasCSP(h http.Header, doc []byte) bool {
	for _, name := range []string{"Content-Security-Policy", "Content-Security-Policy-Report-Only"} {
		if len(h.Values(name)) > 0 {
			return true
		}
	}
	return bytes.Contains(bytes.ToLower(doc), []byte("content-security-policy"))
}

// pageRel returns the root-relative path that a page at URL path p stands
// for, as bundler.LinkCSS takes it: relative URLs resolve in its folder.
func pageRel(p string) string {
	p = strings.TrimPrefix(path.Clean("/"+p), "/")
	if p == "" || strings.HasSuffix(p, "/") {
		p += "index.html"
	}
	return p
}

// tag is the client's script tag for a page of the current build, under
// the base path.
func (s *Server) tag(o client.TagOptions) []byte {
	o.Base = s.base
	return client.TagWith(s.currentBuild(), o)
}

func (s *Server) currentBuild() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.build
}
