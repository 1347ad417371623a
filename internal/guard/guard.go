// Package guard decides which requests may reach a dev server's project at
// all. A dev server holds the user's source, so it refuses what a browser
// would only send on behalf of another website (DNS rebinding, cross-site
// reads) and request paths that could name a file outside the served
// folder or a dotfile in it.
//
// It is internal: package hmr applies it to every request before anything
// else, and its rules are hmr's (hmr.Options.AllowedHosts,
// AllowDotfiles), not an API of their own.
package guard

import (
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// Guard checks the Host, Origin and Sec-Fetch headers of requests: it
// allows loopback names and the hosts it was made with, and refuses
// cross-site requests but top-level navigations.
type Guard struct {
	// hosts are extra Host names allowed besides loopback names: the
	// listen host and what the user allowed, lower case, without port.
	hosts map[string]bool
	// anyHost allows every Host (the user said so explicitly).
	anyHost bool
}

// New returns a Guard that allows, besides loopback names, the hosts of
// allowed (host or host:port; "*" allows every host).
func New(allowed []string) *Guard {
	g := &Guard{hosts: map[string]bool{}}
	for _, h := range allowed {
		h = strings.ToLower(strings.TrimSpace(h))
		if h == "*" {
			g.anyHost = true
			continue
		}
		if hh, _, err := net.SplitHostPort(h); err == nil {
			h = hh
		}
		h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
		if h != "" {
			g.hosts[h] = true
		}
	}
	return g
}

// hostAllowed reports whether a Host header value (with optional port) names
// this server: a loopback name or address, or a host the user allowed.
func (g *Guard) hostAllowed(hostport string) (ok, valid bool) {
	host, valid := splitHost(hostport)
	if !valid {
		return false, false
	}
	if g.anyHost || g.hosts[host] {
		return true, true
	}
	return isLoopbackHost(host), true
}

// splitHost returns the lower-cased host of a host[:port] value and whether
// the value is well formed.
func splitHost(hostport string) (string, bool) {
	if hostport == "" || len(hostport) > 255 {
		return "", false
	}
	host := hostport
	if h, port, err := net.SplitHostPort(hostport); err == nil {
		if port == "" || strings.Trim(port, "0123456789") != "" {
			return "", false
		}
		host = h
	} else if strings.HasPrefix(hostport, "[") {
		host = strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]")
	}
	host = strings.ToLower(host)
	if host == "" {
		return "", false
	}
	for _, r := range host {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == ':' || r == '_' || r == '%') {
			return "", false
		}
	}
	return strings.TrimSuffix(host, "."), true
}

// isLoopbackHost reports whether host is localhost, a *.localhost name
// (RFC 6761 reserves them for loopback) or a loopback IP address.
func isLoopbackHost(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	if i := strings.IndexByte(host, '%'); i >= 0 { // zone, as in ::1%lo
		host = host[:i]
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Check returns 0 when r may be served, else the status code and a message
// saying why it was refused and what allows it.
func (g *Guard) Check(r *http.Request) (int, string) {
	ok, valid := g.hostAllowed(r.Host)
	if !valid {
		return http.StatusBadRequest, "devserve: malformed Host header"
	}
	if !ok {
		host, _ := splitHost(r.Host) // valid: only [a-z0-9.:_%-]
		return http.StatusForbidden, "devserve: refused Host " + quote(r.Host) +
			": only loopback names are served by default (DNS rebinding protection);" +
			" to serve this name, start devserve with --allowed-host " + host +
			" (hmr.Options.AllowedHosts)"
	}
	if origin := r.Header.Get("Origin"); origin != "" && origin != "null" {
		u, err := url.Parse(origin)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return http.StatusBadRequest, "devserve: malformed Origin header"
		}
		// Another loopback port is allowed: without
		// Access-Control-Allow-Origin its pages cannot read the answer
		// anyway, and a Go app behind --proxy may live there.
		switch ok, valid := g.hostAllowed(u.Host); {
		case !valid:
			return http.StatusBadRequest, "devserve: malformed Origin header"
		case !ok:
			return http.StatusForbidden, "devserve: refused cross-origin request from " + quote(origin)
		}
	} else if origin == "null" && r.Header.Get("Sec-Fetch-Mode") != "navigate" {
		return http.StatusForbidden, "devserve: refused request from an opaque origin"
	}
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" && r.Header.Get("Sec-Fetch-Mode") != "navigate" {
		return http.StatusForbidden, "devserve: refused cross-site request (only top-level navigations are allowed)"
	}
	return 0, ""
}

// CleanPath validates a decoded URL path and returns it relative to the
// served root ("" for the root itself) with a trailing-slash flag. It refuses
// (ok=false) every shape that could name something outside the root or that
// has more than one spelling: "..", ".", empty segments, backslashes, NUL and
// other control characters, invalid UTF-8 (overlong encodings among them).
func CleanPath(p string) (rel string, dir bool, ok bool) {
	if !strings.HasPrefix(p, "/") || !utf8.ValidString(p) {
		return "", false, false
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return "", false, false
		}
	}
	rel = p[1:]
	if rel == "" {
		return "", true, true
	}
	if strings.HasSuffix(rel, "/") {
		dir = true
		rel = rel[:len(rel)-1]
	}
	for _, seg := range strings.Split(rel, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", false, false
		}
	}
	return rel, dir, true
}

// HasDotSegment reports whether any segment of a slash path starts with a
// dot: .env, .git/config, src/.secret.
func HasDotSegment(rel string) bool {
	for _, seg := range strings.Split(rel, "/") {
		if strings.HasPrefix(seg, ".") {
			return true
		}
	}
	return false
}

// LinksToDotfile reports whether name, a file's path relative to root in
// the OS's form, leads through symbolic links to a dotfile or into a
// dot-folder of root: a link env.txt -> .env must not serve what /.env may
// not. A path that cannot be resolved counts as one. Folders below a
// node_modules folder are exempt: package managers link dependencies
// through folders such as node_modules/.pnpm, which hold none of the
// project's secrets.
func LinksToDotfile(root, name string) bool {
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return true
	}
	real, err := filepath.EvalSymlinks(filepath.Join(realRoot, name))
	if err != nil {
		return true
	}
	rel, err := filepath.Rel(realRoot, real)
	if err != nil || !filepath.IsLocal(rel) {
		return true // outside the root, which os.Root refuses anyway
	}
	for _, seg := range strings.Split(filepath.ToSlash(rel), "/") {
		if seg == "node_modules" {
			return false
		}
		if strings.HasPrefix(seg, ".") && seg != "." {
			return true
		}
	}
	return false
}

// quote quotes s for a message, cut to 100 bytes, as valid UTF-8.
func quote(s string) string {
	if len(s) > 100 {
		s = s[:100] + "…"
	}
	return strings.ToValidUTF8(`"`+s+`"`, "?")
}
