package hmr

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/devserve/devserve/internal/guard"
)

// Proxy routes: the requests under a path prefix go to another server, an
// API beside the pages, as with Vite's server.proxy. They come right after
// the Host/Origin guard and before everything else (the public folder, the
// bundles, the source tree, the SPA fallback and the whole-app proxy), so
// that nothing under a prefix is ever answered from the root. The longest
// prefix wins. Each route has a proxy of its own (proxy.go): WebSocket
// upgrades and event streams pass through unbuffered, a navigation gets
// the backend-down page, and the backend's answers come back untouched (no
// client injected, no CORS header added).

// ProxyRoute sends the requests under a path prefix to another server:
// Options.ProxyRoutes.
type ProxyRoute struct {
	// Prefix is the path the route covers, compared with the request's
	// decoded path on segment boundaries: "/api" covers /api and /api/...,
	// not /apix. A trailing slash changes nothing ("/api/" covers the
	// same). It starts with "/", is not "/" itself, has no empty, "." or
	// ".." segment, no "?", "#" or "%", and is not under Prefix
	// (/__devserve/).
	Prefix string
	// Target is the http:// or https:// URL of the server. Without a path
	// (http://127.0.0.1:8080) the request's path goes as it is:
	// /api/users is http://127.0.0.1:8080/api/users. With a path, even
	// "/", that path replaces the prefix: with http://127.0.0.1:8080/,
	// /api/users is http://127.0.0.1:8080/users and /api is
	// http://127.0.0.1:8080/; with http://127.0.0.1:8080/v2, /api/users
	// is http://127.0.0.1:8080/v2/users. A query of Target comes before
	// the request's.
	Target *url.URL
}

// String returns the route as the --proxy flag spells it, with any
// password of the target redacted.
func (r ProxyRoute) String() string {
	t := "<nil>"
	if r.Target != nil {
		t = r.Target.Redacted()
	}
	return r.Prefix + "=" + t
}

// routePrefix validates a route's prefix and returns it without its
// trailing slash.
func routePrefix(prefix string) (string, error) {
	if !strings.HasPrefix(prefix, "/") {
		return "", fmt.Errorf("the prefix must start with /, as in /api")
	}
	if strings.ContainsAny(prefix, "?#%") {
		return "", fmt.Errorf("the prefix is a plain path: no ?, # or %%")
	}
	p := strings.TrimSuffix(prefix, "/")
	if p == "" {
		return "", fmt.Errorf("the prefix / would take every path; proxy the whole app with Options.Proxy (--proxy URL)")
	}
	if _, _, ok := guard.CleanPath(p); !ok {
		return "", fmt.Errorf("the prefix has an empty, . or .. segment, a backslash or a control character")
	}
	if strings.HasPrefix(p+"/", Prefix) {
		return "", fmt.Errorf("%s is devserve's own", Prefix)
	}
	return p, nil
}

// newRoutes makes the proxies of routes, longest prefix first.
func newRoutes(s *Server, routes []ProxyRoute) ([]*proxy, error) {
	var out []*proxy
	seen := map[string]string{}
	for _, rt := range routes {
		p, err := routePrefix(rt.Prefix)
		if err == nil && (rt.Target == nil || rt.Target.Scheme != "http" && rt.Target.Scheme != "https" || rt.Target.Host == "") {
			err = fmt.Errorf("want an http:// or https:// URL with a host")
		}
		if err == nil && seen[p] != "" {
			err = fmt.Errorf("the prefix is taken by %s already", seen[p])
		}
		var px *proxy
		if err == nil {
			px, err = newProxy(s, rt.Target, p)
		}
		if err != nil {
			for _, px := range out {
				px.cancel()
			}
			return nil, fmt.Errorf("proxy route %s: %w", rt, err)
		}
		seen[p] = rt.String()
		out = append(out, px)
	}
	sort.SliceStable(out, func(i, j int) bool { return len(out[i].prefix) > len(out[j].prefix) })
	return out, nil
}

// routeFor returns the proxy of the route that covers the decoded path p,
// or nil.
func (s *Server) routeFor(p string) *proxy {
	for _, px := range s.routes {
		if underPrefix(px.prefix, p) {
			return px
		}
	}
	return nil
}

// underPrefix reports whether path p is prefix (which has no trailing
// slash) or under it.
func underPrefix(prefix, p string) bool {
	return strings.HasPrefix(p, prefix) && (len(p) == len(prefix) || p[len(prefix)] == '/')
}

// hasDotDotSegment reports whether the slash path p has a "." or ".."
// segment, which browsers resolve before they send a URL: a request with
// one is crafted, and through a route that replaces its prefix it would
// climb out of the target's path.
func hasDotDotSegment(p string) bool {
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

// serveRoute proxies r, which is under the route of px, after refusing a
// crafted path.
func (px *proxy) serveRoute(w http.ResponseWriter, r *http.Request) {
	if hasDotDotSegment(r.URL.Path) {
		http.Error(w, "devserve: bad path: . and .. segments are not proxied", http.StatusBadRequest)
		return
	}
	px.ServeHTTP(w, r)
}
