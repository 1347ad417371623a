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
// import.meta.url: the quote, and the path.
var metaURLRe = regexp.MustCompile("\\bnew\\s+URL\\s*\\(\\s*(?:(['\"])(\\.\\.?/[^'\"\\\\\\n]*)['\"]|`(\\.\\.?/[^`\\\\]*)`)\\s*,\\s*import\\.meta\\.url\\s*\\)")

// rewriteMetaURLs returns src, the source of a module whose folder is
// served at URL path dir (with the base), with the relative paths of its
// new URL(..., import.meta.url) made absolute; src itself when it has
// none.
func rewriteMetaURLs(src []byte, dir string) []byte {
	if !bytes.Contains(src, []byte("import.meta.url")) {
		return src
	}
	return metaURLRe.ReplaceAllFunc(src, func(m []byte) []byte {
		sub := metaURLRe.FindSubmatchIndex(m)
		var lit string
		var start, end int
		if sub[4] >= 0 { // a string: its path is escaped, its query and fragment kept
			rel := string(m[sub[4]:sub[5]])
			p, rest := rel, ""
			if i := strings.IndexAny(rel, "?#"); i >= 0 {
				p, rest = rel[:i], rel[i:]
			}
			lit = strconv.Quote((&url.URL{Path: joinURLPath(dir, p)}).EscapedPath() + rest)
			start, end = sub[2], sub[5]+1
		} else { // a template: its text up to the first ${ is the path
			rel := string(m[sub[6]:sub[7]])
			p, rest := rel, ""
			if i := strings.Index(rel, "${"); i >= 0 {
				p, rest = rel[:i], rel[i:]
			}
			lit = "`" + joinURLPath(dir, p) + rest + "`"
			start, end = sub[6]-1, sub[7]+1
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
