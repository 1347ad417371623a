package page

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/andybalholm/brotli"
)

// MaxSize bounds the HTML page, encoded or not, that the client is
// injected into. A bigger page is served as it is, without the client.
const MaxSize = 32 << 20

// Wanted reports whether r may be answered with a page to inject into:
// a GET or HEAD for a document. Requests of htmx (HX-Request) and fetch,
// XMLHttpRequest, frames and other subresources (Sec-Fetch-Dest other than
// document) expect the response as it is.
func Wanted(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	if r.Header.Get("HX-Request") != "" || r.Header.Get("Upgrade") != "" {
		return false
	}
	dest := r.Header.Get("Sec-Fetch-Dest")
	return dest == "" || dest == "document"
}

// IsPage reports whether a response with this status and header is an
// HTML page to inject into.
func IsPage(code int, h http.Header) bool {
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

// decodable lists the content codings that Decode can undo.
var decodable = map[string]bool{"gzip": true, "x-gzip": true, "deflate": true, "br": true, "identity": true}

// WithDecodableEncodings returns r, or a shallow copy of it whose
// Accept-Encoding lists only the codings that the client can be injected
// through, with their weights: a browser offers zstd too.
func WithDecodableEncodings(r *http.Request) *http.Request {
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

// ErrCoding reports a content coding that Decode cannot undo.
var ErrCoding = errors.New("unsupported content coding")

// Decode undoes the content codings of a body, last applied first, and
// fails beyond MaxSize bytes.
func Decode(codings string, body []byte) ([]byte, error) {
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
			return nil, fmt.Errorf("%w %q", ErrCoding, c)
		}
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(io.LimitReader(r, MaxSize+1)); err != nil {
			return nil, fmt.Errorf("%s: %w", c, err)
		}
		if buf.Len() > MaxSize {
			return nil, fmt.Errorf("%s: page larger than %d bytes", c, MaxSize)
		}
		body = buf.Bytes()
	}
	return body, nil
}

// SetHeader fixes the header of an injected page of n bytes, sent as
// identity.
func SetHeader(h http.Header, n int) {
	h.Set("Content-Length", strconv.Itoa(n))
	h.Del("Content-Encoding")
	DropValidators(h)
}

// DropValidators deletes what describes the bytes of the page before
// injection: a cached copy would carry the client of an earlier build.
func DropValidators(h http.Header) {
	for _, k := range []string{"ETag", "Last-Modified", "Accept-Ranges", "Content-MD5", "Content-Digest", "Repr-Digest", "Digest"} {
		h.Del(k)
	}
}
