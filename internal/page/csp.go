package page

import (
	"bytes"
	"crypto/rand"
	"net/http"
	"strings"

	"golang.org/x/net/html"
)

// Content-Security-Policy amendments for pages that get the client.
//
// A page's policy may forbid what the client needs: its <script> element
// (script-src-elem, script-src, default-src), the SharedWorker it starts
// (worker-src, child-src, script-src, default-src) and the event stream
// the page opens where there is no worker (connect-src, default-src).
// AllowClient amends each policy of the response, for that response only,
// as narrowly as it can:
//
//   - The script tag carries a nonce when the policy can take one without
//     a change of meaning: the page's own nonce when it has one, else a new
//     one added to the policy. A nonce changes nothing for other scripts
//     unless the list relies on 'unsafe-inline' (which a nonce disables);
//     then 'self' is added instead, as the tag loads a same-origin script.
//   - 'self' is added where connections or workers are not allowed to this
//     origin. A directive that only falls back to default-src is added as a
//     copy of default-src plus 'self', so default-src keeps governing the
//     rest as before.
//
// Policies in <meta http-equiv> elements cannot be amended by headers;
// their nonce is reused, which is what a page with such a policy needs.

// cspHeaders are the response headers whose policies are amended. Report-only
// policies block nothing but would report the client.
var cspHeaders = []string{"Content-Security-Policy", "Content-Security-Policy-Report-Only"}

// directive is one directive of a policy: its name in lower case and its
// source expressions as written.
type directive struct {
	name    string
	sources []string
}

// policy is one serialized policy, its directives in order.
type policy []directive

func parsePolicy(s string) policy {
	var p policy
	for _, part := range strings.Split(s, ";") {
		f := strings.Fields(part)
		if len(f) == 0 {
			continue
		}
		p = append(p, directive{name: strings.ToLower(f[0]), sources: f[1:]})
	}
	return p
}

// String serializes p as a header value.
func (p policy) String() string {
	parts := make([]string, len(p))
	for i, d := range p {
		parts[i] = strings.Join(append([]string{d.name}, d.sources...), " ")
	}
	return strings.Join(parts, "; ")
}

// find returns the index of the directive that governs in the absence of
// the ones before it: the first of names that the policy has (the first
// occurrence, as browsers ignore repeated directives), or -1.
func (p policy) find(names ...string) int {
	for _, n := range names {
		for i, d := range p {
			if d.name == n {
				return i
			}
		}
	}
	return -1
}

// allow adds src to the directive at i. When that directive is default-src
// and it stands in for name, a directive name is added instead, a copy of
// default-src with src, so that default-src keeps its meaning for the rest.
func (p *policy) allow(i int, name, src string) {
	d := &(*p)[i]
	if d.name == "default-src" && name != "default-src" {
		*p = append(*p, directive{name: name, sources: with(d.sources, src)})
		return
	}
	d.sources = with(d.sources, src)
}

// with returns sources plus src, without 'none', which only means something
// alone.
func with(sources []string, src string) []string {
	out := make([]string, 0, len(sources)+1)
	for _, s := range sources {
		if !strings.EqualFold(s, "'none'") {
			out = append(out, s)
		}
	}
	if !has(out, src) {
		out = append(out, src)
	}
	return out
}

// has reports whether sources holds src; keywords are case-insensitive.
func has(sources []string, src string) bool {
	for _, s := range sources {
		if s == src || strings.HasPrefix(s, "'") && !strings.HasPrefix(s, "'nonce-") && strings.EqualFold(s, src) {
			return true
		}
	}
	return false
}

// nonceOf returns the first nonce of sources, or "".
func nonceOf(sources []string) string {
	for _, s := range sources {
		if v, ok := strings.CutPrefix(s, "'nonce-"); ok && strings.HasSuffix(v, "'") && len(v) > 1 {
			return v[:len(v)-1]
		}
	}
	return ""
}

// hasNonceOrHash reports whether sources allow scripts by nonce or hash,
// which makes browsers ignore 'unsafe-inline'.
func hasNonceOrHash(sources []string) bool {
	for _, s := range sources {
		l := strings.ToLower(s)
		if strings.HasPrefix(l, "'nonce-") || strings.HasPrefix(l, "'sha256-") ||
			strings.HasPrefix(l, "'sha384-") || strings.HasPrefix(l, "'sha512-") {
			return true
		}
	}
	return false
}

// allowsOrigin reports whether sources allow URLs of the origin
// scheme://host: by 'self', *, the scheme, or the host itself. It does not
// match wildcard hosts; a source missed here only costs a redundant 'self'.
func allowsOrigin(sources []string, scheme, host string) bool {
	for _, s := range sources {
		l := strings.TrimSuffix(strings.ToLower(s), "/")
		if l == "'self'" || l == "*" || l == scheme+":" || l == host || l == scheme+"://"+host {
			return true
		}
	}
	return false
}

// scriptDirectives are the directives that govern a <script src> element,
// in order of precedence; workerDirectives those that govern a worker.
var (
	scriptDirectives = []string{"script-src-elem", "script-src", "default-src"}
	workerDirectives = []string{"worker-src", "child-src", "script-src", "default-src"}
)

// AllowClient amends the policies of h (see cspHeaders) so that the
// client's script, worker and stream work on a page of the origin
// scheme://host, and returns the nonce its tag must carry ("" for none).
// pageNonce is a nonce that a <meta> policy of the page expects, if any.
func AllowClient(h http.Header, scheme, host, pageNonce string) (nonce string) {
	var enforced []policy
	for _, v := range h.Values(cspHeaders[0]) {
		for _, s := range strings.Split(v, ",") {
			enforced = append(enforced, parsePolicy(s))
		}
	}
	for _, p := range enforced {
		if i := p.find(scriptDirectives...); i >= 0 {
			if nonce = nonceOf(p[i].sources); nonce != "" {
				break
			}
		}
	}
	if nonce == "" {
		nonce = pageNonce
	}
	for _, name := range cspHeaders {
		values := h.Values(name)
		if len(values) == 0 {
			continue
		}
		out := make([]string, len(values))
		for i, v := range values {
			list := strings.Split(v, ",")
			for j, s := range list {
				if strings.TrimSpace(s) == "" {
					continue
				}
				p := parsePolicy(s)
				nonce = p.allowClient(scheme, host, nonce)
				list[j] = p.String()
			}
			out[i] = strings.Join(list, ", ")
		}
		h[name] = out
	}
	return nonce
}

// allowClient amends p for the client (see AllowClient) with
// the tag's nonce so far, and returns the nonce, new if p needed one.
func (p *policy) allowClient(scheme, host, nonce string) string {
	if i := p.find(scriptDirectives...); i >= 0 {
		src := (*p)[i].sources
		strict := has(src, "'strict-dynamic'")
		switch {
		case nonce != "" && has(src, "'nonce-"+nonce+"'"):
		case !strict && allowsOrigin(src, scheme, host):
		case !strict && has(src, "'unsafe-inline'") && !hasNonceOrHash(src):
			// A nonce would disable 'unsafe-inline' for the page's scripts.
			p.allow(i, "script-src", "'self'")
		default:
			if nonce == "" {
				nonce = rand.Text()
			}
			p.allow(i, "script-src", "'nonce-"+nonce+"'")
		}
	}
	// Checked after the script's amendment, which may have allowed it.
	if i := p.find(workerDirectives...); i >= 0 {
		src := (*p)[i].sources
		strict := has(src, "'strict-dynamic'")
		// With 'strict-dynamic', the nonced client may start a worker.
		if !(strict && nonce != "" && (*p)[i].name != "worker-src") && !(!strict && allowsOrigin(src, scheme, host)) {
			if (*p)[i].name == "worker-src" {
				(*p)[i].sources = with(src, "'self'")
			} else {
				*p = append(*p, directive{name: "worker-src", sources: with(locations(src), "'self'")})
			}
		}
	}
	if i := p.find("connect-src", "default-src"); i >= 0 && !allowsOrigin((*p)[i].sources, scheme, host) {
		p.allow(i, "connect-src", "'self'")
	}
	return nonce
}

// locations returns the sources that name places (hosts, schemes, 'self',
// *), dropping nonces, hashes and keywords that mean nothing for workers.
func locations(sources []string) []string {
	var out []string
	for _, s := range sources {
		if !strings.HasPrefix(s, "'") || strings.EqualFold(s, "'self'") {
			out = append(out, s)
		}
	}
	return out
}

// MetaNonce returns the script nonce of the policies that the page sets in
// <meta http-equiv="Content-Security-Policy"> elements of its head, or "".
func MetaNonce(doc []byte) string {
	if !bytes.Contains(bytes.ToLower(doc), []byte("content-security-policy")) {
		return ""
	}
	z := html.NewTokenizer(bytes.NewReader(doc))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return ""
		case html.StartTagToken, html.SelfClosingTagToken:
			name, attrs := z.TagName()
			switch string(name) {
			case "body":
				return ""
			case "meta":
				var equiv, content string
				for attrs {
					var k, v []byte
					k, v, attrs = z.TagAttr()
					switch string(k) {
					case "http-equiv":
						equiv = string(v)
					case "content":
						content = string(v)
					}
				}
				if !strings.EqualFold(equiv, "content-security-policy") {
					continue
				}
				for _, s := range strings.Split(content, ",") {
					p := parsePolicy(s)
					if i := p.find(scriptDirectives...); i >= 0 {
						if n := nonceOf(p[i].sources); n != "" {
							return n
						}
					}
				}
			}
		case html.EndTagToken:
			if name, _ := z.TagName(); string(name) == "head" {
				return ""
			}
		}
	}
}
