package bundler

import (
	"bytes"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
)

// new URL("./logo.png", import.meta.url) is how Vite projects name a file
// by its URL (images, a worker, wasm). In a bundle, import.meta.url is the
// bundle's URL, the entry's, not that of the module that wrote it: from
// src/parts/view.ts the URL came out as /src/logo.png, a 404, on the
// bundled first page and in a production build. Vite's dev server
// rewrites the path to the file's own; so does this, before esbuild reads
// the module: "./logo.png" becomes "/src/parts/logo.png" (under the base
// path), which resolves the same against any import.meta.url of the site.
// A template's leading "./" or "../" is resolved the same way
// (`./icons/${name}.svg`); anything else is left as it is.

// metaURLRe matches new URL with a relative string or template and
// import.meta.url, and new Worker or new SharedWorker around it if there
// is one.
var metaURLRe = regexp.MustCompile("(?P<worker>\\bnew\\s+(?:Shared)?Worker\\s*\\(\\s*)?\\bnew\\s+URL\\s*\\(\\s*" +
	"(?:(?P<quote>['\"])(?P<str>\\.\\.?/[^'\"\\\\\\n]*)['\"]|`(?P<tpl>\\.\\.?/[^`\\\\]*)`)\\s*,\\s*import\\.meta\\.url\\s*\\)")

// The groups of metaURLRe.
var (
	metaWorker = metaURLRe.SubexpIndex("worker")
	metaQuote  = metaURLRe.SubexpIndex("quote")
	metaStr    = metaURLRe.SubexpIndex("str")
	metaTpl    = metaURLRe.SubexpIndex("tpl")
)

// rewriteMetaURLs returns src, the source of a module whose folder is
// served at URL path dir (with the base), with the relative paths of its
// new URL(..., import.meta.url) made absolute; src itself when it has
// none. worker, if not nil, is asked for the URL path of a worker's
// script (new Worker(new URL("./w.ts", import.meta.url)), a string).
func rewriteMetaURLs(src []byte, dir string, worker func(string) string) []byte {
	if !bytes.Contains(src, []byte("import.meta.url")) {
		return src
	}
	return metaURLRe.ReplaceAllFunc(src, func(m []byte) []byte {
		sub := metaURLRe.FindSubmatchIndex(m)
		group := func(i int) (string, int, int) { return string(m[sub[2*i]:sub[2*i+1]]), sub[2*i], sub[2*i+1] }
		var lit string
		var start, end int
		if sub[2*metaStr] >= 0 { // a string: its path is escaped, its query and fragment kept
			rel, _, e := group(metaStr)
			p, rest := rel, ""
			if i := strings.IndexAny(rel, "?#"); i >= 0 {
				p, rest = rel[:i], rel[i:]
			}
			p = joinURLPath(dir, p)
			if worker != nil && sub[2*metaWorker] >= 0 && rest == "" {
				p = worker(p)
			}
			lit = strconv.Quote((&url.URL{Path: p}).EscapedPath() + rest)
			start, end = sub[2*metaQuote], e+1
		} else { // a template: its text up to the first ${ is the path
			rel, s, e := group(metaTpl)
			p, rest := rel, ""
			if i := strings.Index(rel, "${"); i >= 0 {
				p, rest = rel[:i], rel[i:]
			}
			lit = "`" + joinURLPath(dir, p) + rest + "`"
			start, end = s-1, e+1
		}
		out := append([]byte{}, m[:start]...)
		return append(append(out, lit...), m[end:]...)
	})
}

// joinURLPath joins URL path dir and relative path rel, keeping rel's
// trailing slash ("./icons/" names a folder).
func joinURLPath(dir, rel string) string {
	p := path.Join(dir, rel)
	if strings.HasSuffix(rel, "/") && p != "/" {
		p += "/"
	}
	return p
}
