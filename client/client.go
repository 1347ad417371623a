// Package client holds the browser client of devserve: client.js, a small
// JavaScript module that every HTML page devserve serves loads through the
// tag of [Tag]. The client follows the event stream at [EventsPath] and swaps
// CSS, reloads the page or shows build errors over it, as docs/DESIGN.md
// describes under "Wire protocol" and "Client rules".
//
// The package only provides the script and the tag; serving them is the
// job of package hmr.
package client

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"html"
	"net/url"
	"sync"
)

// Path is the URL path under which the server serves the client script.
const Path = "/__devserve/client.js"

// EventsPath is the URL path of the server-sent event stream that the client
// listens to. The client adds ?lastEventId=N when it reconnects.
const EventsPath = "/__devserve/events"

//go:embed client.js
var source []byte

// Source returns the client script, JavaScript to serve at [Path] with the
// content type text/javascript. The caller owns the returned slice.
func Source() []byte {
	return bytes.Clone(source)
}

// etag is computed once, on first use, from the embedded script.
var etag = sync.OnceValue(func() string {
	sum := sha256.Sum256(source)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
})

// ETag returns a strong entity tag of the script, quotes included, for the
// ETag header of responses at [Path]. It is a hash of the script, so it
// changes exactly when the script does.
func ETag() string {
	return etag()
}

// Tag returns the script element that the server injects into each HTML
// page: a module script that loads the client from [Path]. build is the ID
// of the build the page belongs to; the client compares it with the
// server's current build to tell when the page is out of date. The ID is
// query-escaped and HTML-escaped, so any string is safe.
func Tag(build string) []byte {
	return []byte(`<script type="module" src="` + Path + `?build=` +
		html.EscapeString(url.QueryEscape(build)) + `"></script>`)
}
