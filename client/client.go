// Package client holds the browser client of devserve: client.js, a small
// JavaScript module that every HTML page devserve serves loads through the
// tag of [Tag]. The client follows the event stream at [EventsPath] and swaps
// CSS, reloads the page or shows build errors over it, as docs/DESIGN.md
// describes under "Wire protocol" and "Client rules". It shows the page's
// uncaught errors over it too, located in the original source by
// errors.js (served at [ErrorsPath]), which it loads when the first one
// comes.
//
// The tabs of one origin share one event stream: the client connects to a
// SharedWorker, worker.js (served at [WorkerPath]), that holds the stream
// and forwards its events to every tab. Where there is no SharedWorker, or
// it cannot start, each tab holds its own stream.
//
// Hot module replacement lives in hmr.js (served at [HMRPath]), the module
// runtime and import.meta.hot, which the entry scripts of module mode
// import; client.js hands it the JS updates of each build. hot.d.ts (served at
// [TypesPath]) declares import.meta.hot for TypeScript.
//
// The package only provides the scripts and the tag; serving them is the
// job of package hmr.
package client

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"html"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/devserve/devserve/internal/protocol"
)

// Path is the URL path under which the server serves the client script.
// Under a base path ([TagOptions].Base, "/app/"), this and every other
// path of this package are served under the base ("/app/__devserve/..."):
// the scripts find each other and the event stream beside themselves.
const Path = protocol.ClientPath

// EventsPath is the URL path of the server-sent event stream that the client
// listens to. The client adds ?lastEventId=N when it reconnects.
const EventsPath = protocol.EventsPath

// WorkerPath is the URL path under which the server serves the shared
// worker script. The client finds it next to itself.
const WorkerPath = protocol.WorkerPath

// HMRPath is the URL path under which the server serves hmr.js, the module
// runtime of module mode: entry scripts register their modules with it and
// start their entry; update scripts give it new code; client.js asks it to
// apply the JS updates of a build. One URL, so one instance per page.
const HMRPath = protocol.HMRPath

// ErrorsPath is the URL path under which the server serves errors.js, which
// the client imports when the page throws, and only then: it maps the
// error's stack through the scripts' source maps for the overlay. The
// client finds it next to itself.
const ErrorsPath = protocol.ErrorsPath

// TypesPath is the URL path under which the server serves the TypeScript
// declarations of import.meta.hot, the file of [TypesSource].
const TypesPath = protocol.TypesPath

//go:embed client.js
var source []byte

//go:embed hmr.js
var hmrSource []byte

//go:embed hot.d.ts
var typesSource []byte

//go:embed errors.js
var errorsSource []byte

//go:embed worker.js
var workerSource []byte

// minified holds the scripts as they are served, minified by go generate
// (see internal/minify).
//
//go:generate go run ./internal/minify/gen
//go:embed min
var minified embed.FS

// Minified returns the script served at path ([Path], [WorkerPath],
// [HMRPath] or [ErrorsPath]) minified, as the server sends it: every page
// loads the client, and minified it is about half the bytes. nil for
// another path. The caller owns the returned slice.
func Minified(path string) []byte {
	name := map[string]string{Path: "client.js", WorkerPath: "worker.js", HMRPath: "hmr.js", ErrorsPath: "errors.js"}[path]
	if name == "" {
		return nil
	}
	b, _ := minified.ReadFile("min/" + name)
	return b
}

// Source returns the client script, JavaScript to serve at [Path] with the
// content type text/javascript. The caller owns the returned slice.
func Source() []byte {
	return bytes.Clone(source)
}

// WorkerSource returns the shared worker script, JavaScript to serve at
// [WorkerPath] with the content type text/javascript. The caller owns the
// returned slice.
func WorkerSource() []byte {
	return bytes.Clone(workerSource)
}

// HMRSource returns hmr.js, JavaScript to serve at [HMRPath] with the
// content type text/javascript: the ES module that entry scripts and update
// scripts import in module mode. It exports define(id, deps, factory,
// order) and start(id, refreshWith), which an entry script calls for its
// modules and its entry; update(id, deps, factory, order), which an update
// script calls with a module's new code; applyUpdates(updates), which the client calls with the JS
// updates of a built event; updateStyle(id, href), which puts a CSS
// module's stylesheet in the page; and emitError(errors). The caller owns
// the returned slice.
func HMRSource() []byte {
	return bytes.Clone(hmrSource)
}

// ErrorsSource returns errors.js, JavaScript to serve at [ErrorsPath] with
// the content type text/javascript: an ES module whose locate(error, at)
// resolves to where an error was thrown in the original source, with the
// lines around it. The caller owns the returned slice.
func ErrorsSource() []byte {
	return bytes.Clone(errorsSource)
}

// TypesSource returns hot.d.ts, TypeScript declarations of import.meta.hot
// that projects copy or reference, to serve at [TypesPath] with the content
// type text/plain or application/typescript. The caller owns the returned
// slice.
func TypesSource() []byte {
	return bytes.Clone(typesSource)
}

var typesETag = sync.OnceValue(func() string { return etagOf(typesSource) })

// etagOf returns a strong entity tag of b: a hash of it, quoted.
func etagOf(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
}

// TypesETag returns a strong entity tag of hot.d.ts, quotes included, for
// the ETag header of responses at [TypesPath].
func TypesETag() string {
	return typesETag()
}

// Tag returns the script element that the server injects into each HTML
// page: a module script that loads the client from [Path]. build is the ID
// of the build the page belongs to; the client compares it with the
// server's current build to tell when the page is out of date. The ID is
// query-escaped and HTML-escaped, so any string is safe.
func Tag(build string) []byte {
	return TagWith(build, TagOptions{})
}

// TagOptions are the optional parts of the tag of [TagWith]. The zero value
// gives the tag of [Tag].
type TagOptions struct {
	// Nonce is the value of the tag's nonce attribute: a nonce that the
	// page's Content-Security-Policy allows scripts with. "" means none.
	Nonce string
	// Base is the base path the page's server serves the project under
	// ("/app/"), which the client's URL starts with instead of "/"; ""
	// means "/". It is written as given: a base that NormalizeBase of
	// package bundler accepted needs no escaping in a URL.
	Base string
	// ReloadAfter, if not 0, makes the page reload on the first event whose
	// id is greater: for a page that stands in for one the server could not
	// make, such as a notice that the backend is down, which must reload
	// once anything happened since it was made.
	ReloadAfter uint64
	// NoEval says that the page has a Content-Security-Policy, which may
	// forbid eval: the client then fetches the code of every hot update
	// rather than run the code a built event carries.
	NoEval bool
}

// TagWith is [Tag] with options. Every value is escaped, so any string is
// safe.
func TagWith(build string, o TagOptions) []byte {
	src := Path + "?build=" + url.QueryEscape(build)
	if o.Base != "" && o.Base != "/" {
		src = strings.TrimSuffix(o.Base, "/") + src
	}
	if o.ReloadAfter != 0 {
		src += "&after=" + strconv.FormatUint(o.ReloadAfter, 10)
	}
	if o.NoEval {
		src += "&csp"
	}
	tag := `<script type="module" src="` + html.EscapeString(src) + `"`
	if o.Nonce != "" {
		tag += ` nonce="` + html.EscapeString(o.Nonce) + `"`
	}
	return []byte(tag + `></script>`)
}
