package hmr

import (
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/devserve/devserve/bundler"
	"github.com/devserve/devserve/internal/guard"
)

// SPA fallback: a single-page app routes in the browser, so a reload or a
// link to /app/users/42 asks the server for a path that no file has. As
// Vite and webpack-dev-server do, a browser's navigation to such a path
// gets the nearest index.html above it (/app/users/index.html, else
// /app/index.html, ... else /index.html) with the client injected and
// status 200. Requests that are not navigations keep their 404, so a
// missing script or image is still an error in the console.
//
// A path whose last segment has the extension of a file type
// (fileExts: /x.js, /logo.png, /about.html) names a file, not a route: it
// gets the missing page, which reloads when the file appears. Any other
// dot in it is part of a route (/users/john.doe, /v/1.2), which Vite falls
// back for too; webpack-dev-server does not fall back for any dot.
//
// Relative URLs in the page served resolve against the address the
// browser asked for, not the folder of the index.html, as they do on a
// static host with the same rewrite: <script src="./main.ts"> in
// /index.html, served for /app/users/42, asks for /app/users/main.ts.
// Absolute URLs (/src/main.ts, Vite's templates) work from any depth.

// fileExts are the extensions that make the last segment of a path a file
// name, lower case: what web pages load and link to.
var fileExts = extSet(`
	.html .htm .xhtml .js .mjs .cjs .jsx .ts .tsx .mts .cts .css .map .json .jsonld .webmanifest .wasm
	.txt .xml .csv .md .pdf .zip .gz .br .ics .rss .atom
	.svg .png .jpg .jpeg .gif .webp .avif .ico .bmp .apng .tif .tiff
	.woff .woff2 .ttf .otf .eot
	.mp3 .mp4 .ogg .oga .ogv .wav .webm .m4a .m4v .mov .flac .aac .vtt`)

// extSet returns the set of the extensions in the space-separated list.
func extSet(list string) map[string]bool {
	m := map[string]bool{}
	for _, e := range strings.Fields(list) {
		m[e] = true
	}
	return m
}

// deepLink reports whether the root-relative path rel (a folder when dir)
// may be a route of a single-page app rather than the name of a file.
func deepLink(rel string, dir bool) bool {
	return dir || !fileExts[strings.ToLower(path.Ext(rel))]
}

// missingFile answers a request for rel (a folder when dir), which no file
// of the root answers: in proxy mode the backend answers it, a browser's
// navigation to a deep link gets the nearest index.html (unless
// Options.NoSPAFallback), anything else the missing page or a 404.
func (s *Server) missingFile(w http.ResponseWriter, r *http.Request, rel string, dir bool) {
	if s.proxy == nil && !s.opts.NoSPAFallback && wantsDocument(r) && deepLink(rel, dir) && s.spaFallback(w, r, rel, dir) {
		return
	}
	s.notFound(w, r)
}

// spaFallback serves the nearest index.html above rel, outside the public
// folder, and reports whether there was one. The pages it looked for
// first are remembered as missed, so that creating one reloads the
// browsers (see pages.changed): the nearest page is then another.
func (s *Server) spaFallback(w http.ResponseWriter, r *http.Request, rel string, dir bool) bool {
	root, err := os.OpenRoot(s.root)
	if err != nil {
		return false
	}
	defer root.Close()
	d := rel
	if !dir {
		d = path.Dir(rel)
	}
	if d == "" {
		d = "."
	}
	for {
		if !bundler.IsPublic(d) {
			page := path.Join(d, "index.html")
			if s.servablePage(root, page) {
				s.servePage(w, r, root, filepath.FromSlash(page))
				return true
			}
			s.pages.miss(page)
		}
		if d == "." {
			return false
		}
		d = path.Dir(d)
	}
}

// servablePage reports whether the root-relative slash path page is a
// regular file that may be served: inside the root, and no dotfile.
func (s *Server) servablePage(root *os.Root, page string) bool {
	name := filepath.FromSlash(page)
	fi, err := root.Stat(name)
	return err == nil && fi.Mode().IsRegular() && (s.opts.AllowDotfiles || !guard.LinksToDotfile(s.root, name))
}
