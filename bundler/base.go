package bundler

import (
	"fmt"
	"strings"

	"github.com/devserve/devserve/internal/protocol"
)

// The base path (Options.Base) is the URL path under which the project is
// served, "/app/" for an app that lives behind a reverse proxy at
// https://example.com/app/, as Vite's base option is. Every URL the bundler
// writes for the browser starts with it: the runtime's and the chunks'
// imports of an entry script, the update URLs of Result.Modules, the URLs
// of assets imported from JS (esbuild's PublicPath), absolute url()s of CSS
// to public/ files, the links LinkCSS adds, and import.meta.env.BASE_URL.
// Output paths, Lookup and module ids stay root-relative ("/src/main.ts"):
// a server strips the base from a request before it asks the bundler.

// NormalizeBase returns base as a base path that starts and ends with a
// slash: "" and "/" are "/", and "app", "/app" and "app/" are "/app/", as
// Vite adds the slashes a base lacks. It refuses, with an error that says
// why, what cannot be a path prefix a server strips: a full URL, a relative
// base ("./"), "." or ".." segments, empty segments ("/a//b/"), and
// characters other than letters, digits and "-._~@+" (no query, fragment,
// percent escape, backslash or space), so that the base is written into
// HTML, CSS and JS unescaped and matches the request path byte for byte.
func NormalizeBase(base string) (string, error) {
	if strings.Contains(base, "://") || strings.HasPrefix(base, "//") {
		return "", fmt.Errorf("base %q: want a URL path such as /app/, not a full URL", base)
	}
	trimmed := strings.Trim(base, "/")
	if trimmed == "" {
		if base != "" && base != "/" {
			return "", fmt.Errorf("base %q: want a URL path such as /app/", base)
		}
		return "/", nil
	}
	for _, seg := range strings.Split(trimmed, "/") {
		switch seg {
		case "":
			return "", fmt.Errorf("base %q: empty path segment", base)
		case ".", "..":
			return "", fmt.Errorf("base %q: want an absolute URL path such as /app/, without . or .. segments", base)
		}
		for _, c := range seg {
			if !baseChar(c) {
				return "", fmt.Errorf("base %q: %q is not allowed (letters, digits and -._~@+ only)", base, c)
			}
		}
	}
	if own := strings.Trim(protocol.Prefix, "/"); trimmed == own || strings.HasPrefix(trimmed, own+"/") {
		return "", fmt.Errorf("base %q: %s is devserve's own", base, protocol.Prefix)
	}
	return "/" + trimmed + "/", nil
}

// baseChar reports whether c may appear in a segment of a base path.
func baseChar(c rune) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.ContainsRune("-._~@+", c)
}

// withBase returns the root-relative URL path p ("/src/main.ts") as the
// browser fetches it under base ("/app/src/main.ts").
func withBase(base, p string) string {
	if base == "" {
		base = "/"
	}
	return base + strings.TrimPrefix(p, "/")
}

// Base returns the base path URLs are written with: Options.Base,
// normalized.
func (b *Bundler) Base() string { return b.urlBase }
