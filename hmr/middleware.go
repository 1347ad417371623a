package hmr

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/andybalholm/brotli"
	"github.com/devserve/devserve/client"
)

// maxPage bounds the HTML page, encoded or not, that the client is
// injected into. A bigger page is served as it is, without the client.
const maxPage = 32 << 20

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
		if !wantsPage(r) {
			next.ServeHTTP(w, r)
			return
		}
		if !s.waitIdle(r) {
			return
		}
		r = withDecodableEncodings(r)
		iw := &injectWriter{rw: w, r: r, s: s}
		next.ServeHTTP(iw, r)
		iw.finish()
	})
}

// wantsPage reports whether r may be answered with a page to inject into:
// a GET or HEAD for a document. Requests of htmx (HX-Request) and fetch,
// XMLHttpRequest, frames and other subresources (Sec-Fetch-Dest other than
// document) expect the response as it is.
func wantsPage(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	if r.Header.Get("HX-Request") != "" || r.Header.Get("Upgrade") != "" {
		return false
	}
	dest := r.Header.Get("Sec-Fetch-Dest")
	return dest == "" || dest == "document"
}

// isPage reports whether a response with this status and header is an
// HTML page to inject into.
func isPage(code int, h http.Header) bool {
	switch {
	case code == http.StatusNoContent || code == http.StatusPartialContent:
		return false
	case code >= 200 && code < 300, code >= 400 && code < 600:
	default:
		return false
	}
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mt != "text/html" {
		return false
	}
	if d, _, _ := mime.ParseMediaType(h.Get("Content-Disposition")); d == "attachment" {
		return false
	}
	return h.Get("Content-Length") != "0"
}

// decodable lists the content codings that decodeBody can undo.
var decodable = map[string]bool{"gzip": true, "x-gzip": true, "deflate": true, "br": true, "identity": true}

// withDecodableEncodings returns r, or a shallow copy of it whose
// Accept-Encoding lists only the codings that the client can be injected
// through, with their weights: a browser offers zstd too.
func withDecodableEncodings(r *http.Request) *http.Request {
	v := r.Header.Get("Accept-Encoding")
	if v == "" {
		return r
	}
	var keep []string
	for _, c := range strings.Split(v, ",") {
		c = strings.TrimSpace(c)
		name, _, _ := strings.Cut(c, ";")
		if decodable[strings.ToLower(strings.TrimSpace(name))] {
			keep = append(keep, c)
		}
	}
	if len(keep) == 0 {
		keep = []string{"identity"}
	}
	r2 := r.Clone(r.Context())
	r2.Header.Set("Accept-Encoding", strings.Join(keep, ", "))
	return r2
}

// errCoding reports a content coding that decodeBody cannot undo.
var errCoding = errors.New("unsupported content coding")

// decodeBody undoes the content codings of a body, last applied first, and
// fails beyond maxPage bytes.
func decodeBody(codings string, body []byte) ([]byte, error) {
	list := strings.Split(codings, ",")
	for i := len(list) - 1; i >= 0; i-- {
		c := strings.ToLower(strings.TrimSpace(list[i]))
		var r io.Reader
		switch c {
		case "", "identity":
			continue
		case "gzip", "x-gzip":
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				return nil, fmt.Errorf("gzip: %w", err)
			}
			r = zr
		case "deflate":
			// HTTP's deflate is zlib; some servers send raw DEFLATE.
			if zr, err := zlib.NewReader(bytes.NewReader(body)); err == nil {
				r = zr
			} else {
				r = flate.NewReader(bytes.NewReader(body))
			}
		case "br":
			r = brotli.NewReader(bytes.NewReader(body))
		default:
			return nil, fmt.Errorf("%w %q", errCoding, c)
		}
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(io.LimitReader(r, maxPage+1)); err != nil {
			return nil, fmt.Errorf("%s: %w", c, err)
		}
		if buf.Len() > maxPage {
			return nil, fmt.Errorf("%s: page larger than %d bytes", c, maxPage)
		}
		body = buf.Bytes()
	}
	return body, nil
}

// injectPage returns page, the HTML answer to r with header h, with the
// client's tag injected and its CSS links added (bundler.LinkCSS), and
// amends h's Content-Security-Policy for it. A page that loads the client
// already comes back as it is.
func (s *Server) injectPage(h http.Header, r *http.Request, page []byte) []byte {
	if bytes.Contains(page, []byte(client.Path)) {
		return page
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	nonce := allowClient(h, scheme, strings.ToLower(r.Host), metaNonce(page))
	tag := s.tag(client.TagOptions{Nonce: nonce})
	return InjectScript(s.bundler.LinkCSS(page, pageRel(r.URL.Path)), tag)
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

// setPageHeader fixes the header of an injected page of n bytes, sent as
// identity.
func setPageHeader(h http.Header, n int) {
	h.Set("Content-Length", strconv.Itoa(n))
	h.Del("Content-Encoding")
	dropValidators(h)
}

// dropValidators deletes what describes the bytes of the page before
// injection: a cached copy would carry the client of an earlier build.
func dropValidators(h http.Header) {
	for _, k := range []string{"ETag", "Last-Modified", "Accept-Ranges", "Content-MD5", "Content-Digest", "Repr-Digest", "Digest"} {
		h.Del(k)
	}
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

// injectWriter is the ResponseWriter of Inject. It decides at WriteHeader
// whether the response is a page: then it buffers it until finish, else it
// passes everything through.
type injectWriter struct {
	rw    http.ResponseWriter
	r     *http.Request
	s     *Server
	state int // one of the constants below
	code  int
	buf   bytes.Buffer
}

const (
	undecided = iota
	passing
	buffering
)

func (w *injectWriter) Header() http.Header { return w.rw.Header() }

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *injectWriter) Unwrap() http.ResponseWriter { return w.rw }

func (w *injectWriter) WriteHeader(code int) {
	if w.state != undecided {
		if w.state == passing {
			w.rw.WriteHeader(code) // net/http reports the superfluous call
		}
		return
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		w.rw.WriteHeader(code) // informational, such as 103 Early Hints
		return
	}
	if isPage(code, w.rw.Header()) {
		if w.r.Method == http.MethodGet {
			w.state, w.code = buffering, code
			return
		}
		// HEAD: the body that a GET would get is not known.
		h := w.rw.Header()
		h.Del("Content-Length")
		h.Del("Content-Encoding")
		dropValidators(h)
	}
	w.state = passing
	w.rw.WriteHeader(code)
}

func (w *injectWriter) Write(p []byte) (int, error) {
	if w.state == undecided {
		if h := w.rw.Header(); h.Get("Content-Type") == "" && h.Get("Content-Encoding") == "" && len(p) > 0 {
			h.Set("Content-Type", http.DetectContentType(p)) // as net/http would
		}
		w.WriteHeader(http.StatusOK)
	}
	if w.state == passing {
		return w.rw.Write(p)
	}
	w.buf.Write(p)
	if w.buf.Len() > maxPage {
		w.s.log.Warn("hmr: page too big for the client", "path", w.r.URL.Path, "limit", maxPage)
		if err := w.spill(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// spill gives up injecting: it sends the header and what was buffered, and
// passes the rest through.
func (w *injectWriter) spill() error {
	w.state = passing
	w.rw.WriteHeader(w.code)
	_, err := w.rw.Write(w.buf.Bytes())
	w.buf = bytes.Buffer{}
	return err
}

// FlushError flushes a response that passes through; a page is sent whole
// by finish.
func (w *injectWriter) FlushError() error {
	if w.state == undecided {
		w.WriteHeader(http.StatusOK)
	}
	if w.state != passing {
		return nil
	}
	return http.NewResponseController(w.rw).Flush()
}

// Flush implements http.Flusher.
func (w *injectWriter) Flush() { _ = w.FlushError() }

// Hijack implements http.Hijacker, for WebSocket libraries that check for
// it rather than use http.ResponseController.
func (w *injectWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.rw).Hijack()
}

// finish sends a buffered page with the client injected, or as it is if
// its coding cannot be undone.
func (w *injectWriter) finish() {
	if w.state != buffering {
		return
	}
	h := w.rw.Header()
	page, err := decodeBody(h.Get("Content-Encoding"), w.buf.Bytes())
	if err != nil {
		w.s.log.Warn("hmr: page served without the client", "path", w.r.URL.Path, "err", err)
		w.spill()
		return
	}
	page = w.s.injectPage(h, w.r, page)
	setPageHeader(h, len(page))
	w.rw.WriteHeader(w.code)
	w.rw.Write(page)
}
