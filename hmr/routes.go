package hmr

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/devserve/devserve/client"
	"github.com/devserve/devserve/internal/guard"
	"github.com/devserve/devserve/internal/proxy"
)

// Proxy routes: the requests under a path prefix go to another server, an
// API beside the pages, as with Vite's server.proxy. They come right after
// the Host/Origin guard and before everything else (the public folder, the
// bundles, the source tree, the SPA fallback and the whole-app proxy), so
// that nothing under a prefix is ever answered from the root. The longest
// prefix wins. Each route has a proxy of its own (internal/proxy): WebSocket
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
func newRoutes(s *Server, routes []ProxyRoute) ([]*proxy.Proxy, error) {
	var out []*proxy.Proxy
	seen := map[string]string{}
	for _, rt := range routes {
		p, err := routePrefix(rt.Prefix)
		if err == nil && (rt.Target == nil || rt.Target.Scheme != "http" && rt.Target.Scheme != "https" || rt.Target.Host == "") {
			err = fmt.Errorf("want an http:// or https:// URL with a host")
		}
		if err == nil && seen[p] != "" {
			err = fmt.Errorf("the prefix is taken by %s already", seen[p])
		}
		var px *proxy.Proxy
		if err == nil {
			px, err = proxy.New(s.proxyOptions(rt.Target, p))
		}
		if err != nil {
			for _, px := range out {
				px.Cancel()
			}
			return nil, fmt.Errorf("proxy route %s: %w", rt, err)
		}
		seen[p] = rt.String()
		out = append(out, px)
	}
	sort.SliceStable(out, func(i, j int) bool { return len(out[i].Prefix()) > len(out[j].Prefix()) })
	return out, nil
}

// routeFor returns the proxy of the route that covers the decoded path p,
// or nil.
func (s *Server) routeFor(p string) *proxy.Proxy {
	for _, px := range s.routes {
		if px.Covers(p) {
			return px
		}
	}
	return nil
}

// proxyOptions are the options of the proxy to target of the whole app
// (prefix "") or of the route of prefix: the hooks through which it
// injects the client, makes the backend-down page reload on the next
// event, publishes a reload and finds the path the browser sent.
func (s *Server) proxyOptions(target *url.URL, prefix string) proxy.Options {
	return proxy.Options{
		Target: target,
		Prefix: prefix,
		Logger: s.log,
		Inject: s.injectPage,
		DownTag: func() []byte {
			return s.tag(client.TagOptions{ReloadAfter: s.broker.lastID()})
		},
		Reload: func(reason string) { s.reload(nil, reason) },
		Down: func(reason string) {
			s.report(Report{Time: time.Now(), Event: ReportBackendDown, Reason: reason})
		},
		OriginalURL: origURL,
	}
}
