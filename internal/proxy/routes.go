package proxy

import (
	"net/http"
	"net/url"
	"strings"
)

// Prefix returns the path prefix of p's route, without its trailing slash,
// or "" for the whole-app proxy.
func (p *Proxy) Prefix() string { return p.prefix }

// Covers reports whether the decoded path is under p's route: its prefix
// or below it, on a segment boundary.
func (p *Proxy) Covers(path string) bool { return underPrefix(p.prefix, path) }

// Cancel releases a Proxy that was never started; Close stops one that
// was.
func (p *Proxy) Cancel() { p.cancel() }

// ServeRoute proxies r, which is under the route of p (see Covers), after
// refusing a crafted path.
func (p *Proxy) ServeRoute(w http.ResponseWriter, r *http.Request) {
	if HasDotDotSegment(r.URL.Path) {
		http.Error(w, "devserve: bad path: . and .. segments are not proxied", http.StatusBadRequest)
		return
	}
	p.ServeHTTP(w, r)
}

// underPrefix reports whether path p is prefix (which has no trailing
// slash) or under it.
func underPrefix(prefix, p string) bool {
	return strings.HasPrefix(p, prefix) && (len(p) == len(prefix) || p[len(prefix)] == '/')
}

// HasDotDotSegment reports whether the slash path p has a "." or ".."
// segment, which browsers resolve before they send a URL: a request with
// one is crafted, and through a route that replaces its prefix it would
// climb out of the target's path.
func HasDotDotSegment(p string) bool {
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

// setRouteURL points u, the outgoing request's URL, at target for in, the
// incoming request's URL under prefix: the path as it is when target has
// none, else with the prefix replaced by target's path (see
// ProxyRoute.Target). An encoded path stays encoded as the browser sent
// it (/api/a%2Fb keeps its %2F), and the queries of target and in are
// joined.
func setRouteURL(u *url.URL, target *url.URL, prefix string, in *url.URL) {
	u.Scheme, u.Host = target.Scheme, target.Host
	u.Path, u.RawPath = in.Path, in.RawPath
	if target.Path != "" {
		rest := in.Path[len(prefix):] // "" or "/..."
		esc := in.EscapedPath()
		// Skip the prefix in the escaped form: each %XX is one byte of the
		// decoded path.
		i := 0
		for range len(prefix) {
			if esc[i] == '%' {
				i += 3
			} else {
				i++
			}
		}
		u.Path = joinRest(target.Path, rest)
		u.RawPath = joinRest(target.EscapedPath(), esc[i:])
		if u.RawPath == (&url.URL{Path: u.Path}).EscapedPath() {
			u.RawPath = ""
		}
	}
	switch {
	case target.RawQuery == "" || in.RawQuery == "":
		u.RawQuery = target.RawQuery + in.RawQuery
	default:
		u.RawQuery = target.RawQuery + "&" + in.RawQuery
	}
}

// joinRest appends rest, "" or a path that starts with a slash, to base
// with one slash between them.
func joinRest(base, rest string) string {
	if rest == "" {
		return base
	}
	return strings.TrimSuffix(base, "/") + rest
}
