package page

import (
	"bufio"
	"bytes"
	"log/slog"
	"net"
	"net/http"
)

// InjectFunc returns doc, the HTML answer to r with header h, with the
// client injected, and amends h for it (its Content-Security-Policy).
type InjectFunc func(h http.Header, r *http.Request, doc []byte) []byte

// Serve serves r with next, with inject applied to the HTML pages it
// answers (see IsPage): a page is buffered, decoded, injected and sent as
// identity with a fixed Content-Length and without its validators; every
// other response, WebSocket upgrades and event streams included, passes
// through untouched and unbuffered. A page that cannot be injected (too
// big, or in a coding Decode cannot undo) is sent as it is, and log says
// so. r must be Wanted; Serve asks next for the codings it can decode.
func Serve(w http.ResponseWriter, r *http.Request, next http.Handler, inject InjectFunc, log *slog.Logger) {
	r = WithDecodableEncodings(r)
	iw := &injectWriter{rw: w, r: r, inject: inject, log: log}
	next.ServeHTTP(iw, r)
	iw.finish()
}

// injectWriter is the ResponseWriter of Serve. It decides at WriteHeader
// whether the response is a page: then it buffers it until finish, else it
// passes everything through.
type injectWriter struct {
	rw     http.ResponseWriter
	r      *http.Request
	inject InjectFunc
	log    *slog.Logger
	state  int // one of the constants below
	code   int
	buf    bytes.Buffer
}

const (
	undecided = iota
	passing
	buffering
)

// Header returns the header of the response underneath, which a page
// amends before it is sent.
func (w *injectWriter) Header() http.Header { return w.rw.Header() }

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *injectWriter) Unwrap() http.ResponseWriter { return w.rw }

// WriteHeader decides whether the response is a page to buffer (a GET;
// a HEAD of one loses what describes the body) or passes through.
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
	if IsPage(code, w.rw.Header()) {
		if w.r.Method == http.MethodGet {
			w.state, w.code = buffering, code
			return
		}
		// HEAD: the body that a GET would get is not known.
		h := w.rw.Header()
		h.Del("Content-Length")
		h.Del("Content-Encoding")
		DropValidators(h)
	}
	w.state = passing
	w.rw.WriteHeader(code)
}

// Write buffers a page, up to MaxSize, and passes anything else through.
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
	if w.buf.Len() > MaxSize {
		w.log.Warn("hmr: page too big for the client", "path", w.r.URL.Path, "limit", MaxSize)
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
	page, err := Decode(h.Get("Content-Encoding"), w.buf.Bytes())
	if err != nil {
		w.log.Warn("hmr: page served without the client", "path", w.r.URL.Path, "err", err)
		w.spill()
		return
	}
	page = w.inject(h, w.r, page)
	SetHeader(h, len(page))
	w.rw.WriteHeader(w.code)
	w.rw.Write(page)
}
