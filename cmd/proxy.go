package cmd

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/devserve/devserve/hmr"
)

// parseProxies parses the values of --proxy: at most one URL of an app,
// which serves what the folder does not have (hmr.Options.Proxy), and any
// number of PREFIX=URL routes (hmr.Options.ProxyRoutes). A value is a route
// when it starts with "/", or when it has an "=" with no ":", "/" or "?"
// before it (api=http://..., a prefix without its slash), so that an app's
// URL with a query (http://127.0.0.1:8080/?a=b) stays an app. Each error
// names the value and says what is wanted, in one line.
func parseProxies(values []string) (*url.URL, []hmr.ProxyRoute, error) {
	var app *url.URL
	var routes []hmr.ProxyRoute
	for _, v := range values {
		if v == "" {
			continue
		}
		prefix, target, eq := strings.Cut(v, "=")
		if !strings.HasPrefix(v, "/") && (!eq || strings.ContainsAny(prefix, ":/?")) {
			if app != nil {
				return nil, nil, fmt.Errorf("--proxy %s: the app is %s already; give one app URL, and PREFIX=URL for each other server", v, app.Redacted())
			}
			u, err := parseBackend(v)
			if err != nil {
				return nil, nil, fmt.Errorf("--proxy %s: %w", v, err)
			}
			app = u
			continue
		}
		if !strings.HasPrefix(prefix, "/") {
			example := "/" + prefix
			if prefix == "" {
				example = "/api"
			}
			return nil, nil, fmt.Errorf("--proxy %s: the path prefix %q must start with /, as in %s=%s", v, prefix, example, target)
		}
		if target == "" {
			return nil, nil, fmt.Errorf("--proxy %s: no URL for the prefix; want PREFIX=URL, as in %s=http://127.0.0.1:8080", v, prefix)
		}
		u, err := parseBackend(target)
		if err != nil {
			return nil, nil, fmt.Errorf("--proxy %s: %w", v, err)
		}
		routes = append(routes, hmr.ProxyRoute{Prefix: prefix, Target: u})
	}
	return app, routes, nil
}

// parseBackend parses the URL of a --proxy value. A bare host:port or
// :port means http:// on it (localhost for :port).
func parseBackend(s string) (*url.URL, error) {
	if !strings.Contains(s, "://") {
		if strings.HasPrefix(s, ":") {
			s = "localhost" + s
		}
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("not a URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("want an http:// or https:// URL such as http://127.0.0.1:8080, not %s", s)
	}
	return u, nil
}
