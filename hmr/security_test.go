package hmr

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/devserve/devserve/internal/guard"
	"github.com/devserve/devserve/internal/proxy"
	"github.com/devserve/devserve/internal/sse"
	"github.com/devserve/devserve/internal/ssetest"
)

// Every secret of a hostile project holds this prefix, so that one check
// finds any of them in a response.
const secretMark = "MARK-"

// hostileProject is a copy of testdata/live with secrets placed where dev
// servers have leaked them from: beside the root, in another folder, in
// dotfiles and dot-folders inside it, and behind symbolic links that leave
// it. The page's own code holds a secret too (sourceMark): what a foreign
// site must not read.
type hostileProject struct {
	root    string
	beside  string // the root's parent folder: ../secret.txt
	outside string // another folder, absolute
}

const sourceMark = secretMark + "SOURCE"

func newHostileProject(t testing.TB) hostileProject {
	t.Helper()
	root := copyFixture(t, "live")
	p := hostileProject{root: root, beside: filepath.Dir(root), outside: t.TempDir()}
	files := map[string]string{
		filepath.Join(p.beside, "secret.txt"):                                 "MARK-BESIDE-TXT",
		filepath.Join(p.beside, "secret.html"):                                "<p>MARK-BESIDE-HTML</p>",
		filepath.Join(p.beside, ".env"):                                       "MARK-BESIDE-ENV",
		filepath.Join(p.outside, "secret.txt"):                                "MARK-OUTSIDE-TXT",
		filepath.Join(p.outside, "index.html"):                                "<p>MARK-OUTSIDE-INDEX</p>",
		filepath.Join(root, ".env"):                                           "API_KEY=MARK-DOTENV",
		filepath.Join(root, ".EnV.local"):                                     "MARK-DOTENV-LOCAL",
		filepath.Join(root, ".git", "config"):                                 "[remote] url = MARK-GITCONFIG",
		filepath.Join(root, "src", ".secret"):                                 "MARK-SRC-DOTFILE",
		filepath.Join(root, "src", "plain.txt"):                               "a plain file",
		filepath.Join(root, "node_modules", ".pnpm", "pkg@1.0.0", "index.js"): "export const pkg = 1;",
		filepath.Join(root, "value.js"):                                       `export const value = "` + sourceMark + `";`,
		filepath.Join(root, "public", "robots.txt"):                           "User-agent: *",
		filepath.Join(root, "public", ".secret"):                              "MARK-PUBLIC-DOTFILE",
		filepath.Join(root, "public", ".cache", "key"):                        "MARK-PUBLIC-DOTFOLDER",
	}
	for name, content := range files {
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"link.txt":         filepath.Join(p.beside, "secret.txt"), // file, absolute
		"src/link.html":    "../../secret.html",                   // HTML file, relative
		"linkdir":          p.outside,                             // folder
		"src/up":           "..",                                  // inside: allowed, but only to the root
		"src/.hiddenlnk":   "../.env",
		"src/env.txt":      "../.env",         // a plain name for a dotfile
		"gitdir":           ".git",            // a plain name for a dot-folder
		"node_modules/pkg": ".pnpm/pkg@1.0.0", // as pnpm links dependencies
		"public/out.txt":   filepath.Join(p.beside, "secret.txt"),
		"public/outdir":    p.outside,
		"public/env.txt":   "../.env",
		"public/cache":     ".cache",
		"public/up":        "..", // inside: the root's files, as they are at /
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, filepath.FromSlash(name))); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// expand replaces {out} in a request target with the absolute path of the
// other folder, without its leading slash. The root's parent needs no
// placeholder: it is "..".
func (p hostileProject) expand(s string) string {
	return strings.NewReplacer("{out}", strings.TrimPrefix(filepath.ToSlash(p.outside), "/")).Replace(s)
}

// rawExchange sends raw, a whole HTTP/1.1 request as bytes, on a new
// connection to addr and returns the response with its body read: the
// request target and the headers go out exactly as written, which
// net/http's client would not allow.
func rawExchange(t testing.TB, addr, raw string) (*http.Response, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(ssetest.Timeout))
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	method, _, _ := strings.Cut(raw, " ")
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("reading the answer to %q: %v", raw, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("reading the answer to %q: %v", raw, err)
	}
	return resp, string(body)
}

// attack is one request shape that has made a dev server leak files.
type attack struct {
	name   string
	method string   // "" is GET
	target string   // the request target, sent verbatim after expand
	host   string   // the Host header; "" is the server's address
	header []string // more header lines
	code   int      // the status wanted
	// byNetHTTP: net/http answers before the handler runs, so the
	// answer has none of the handler's headers.
	byNetHTTP bool
}

const (
	crossSiteScript = "Sec-Fetch-Site: cross-site\r\nSec-Fetch-Mode: no-cors\r\nSec-Fetch-Dest: script"
	evilOrigin      = "Origin: https://evil.example"
)

var attacks = []attack{
	// Vite's fs.deny bypasses through the query string: devserve has no
	// query-driven loaders and no /@fs/, so the query never matters.
	{name: "CVE-2025-30208 raw import of a dotfile", target: "/.env?import&raw??", code: 404},
	{name: "CVE-2025-30208 raw import beside the root", target: "/../secret.txt?import&raw??", code: 400},
	{name: "CVE-2025-30208 raw import through /@fs/", target: "/@fs/{out}/secret.txt?import&raw??", code: 404},
	{name: "CVE-2025-31125 inline import of a dotfile", target: "/.env?import&?inline=1.wasm?init", code: 404},
	{name: "CVE-2025-31125 inline import through /@fs/", target: "/@fs/{out}/secret.txt?import&inline", code: 404},
	{name: "CVE-2025-31486 svg wasm init of a dotfile", target: "/.env?.svg?.wasm?init", code: 404},
	{name: "CVE-2025-31486 svg wasm init through /@fs/", target: "/@fs/{out}/secret.txt?.svg?.wasm?init", code: 404},
	{name: "CVE-2025-31486 svg wasm init beside the root", target: "/../secret.txt?.svg?.wasm?init", code: 400},
	// A raw "#" is no fragment in a request target: it is part of the
	// path, and what follows it must not climb out.
	{name: "CVE-2025-32395 raw hash then dot-dot", target: "/#/../../secret.txt", code: 400},
	{name: "CVE-2025-32395 raw hash into a dotfile", target: "/src/#/../../.env", code: 400},
	{name: "CVE-2025-32395 raw hash after a file", target: "/notes.txt#/../.env", code: 400},
	{name: "CVE-2025-46565 trailing slash-dot on a dotfile", target: "/.env/.", code: 400},
	{name: "CVE-2025-46565 trailing slash-dot in a dot-folder", target: "/src/.secret/.", code: 400},
	{name: "CVE-2025-46565 trailing slash on a dotfile", target: "/.env/", code: 404},
	{name: "CVE-2025-58752 HTML beside the root", target: "/../secret.html", code: 400},
	{name: "CVE-2025-58752 HTML through a symlink", target: "/src/link.html", code: 404},
	{name: "CVE-2025-58752 HTML in another folder", target: "/linkdir/index.html", code: 404},
	{name: "CVE-2025-62522 trailing backslash", target: "/.env\\", code: 400},
	{name: "CVE-2025-62522 trailing encoded backslash", target: "/.env%5C", code: 400},
	{name: "CVE-2024-23331 case of a dotfile", target: "/.EnV", code: 404},
	{name: "CVE-2024-23331 case of a dot-folder", target: "/.GIT/config", code: 404},
	{name: "CVE-2024-23331 case of an existing dotfile", target: "/.EnV.local", code: 404},
	// DNS rebinding and cross-origin reads.
	{name: "CVE-2025-24010 foreign Host", target: "/main.js", host: "evil.example", code: 403},
	{name: "CVE-2025-24010 foreign Host with the port", target: "/", host: "evil.example:8000", code: 403},
	{name: "CVE-2025-24010 localhost lookalike Host", target: "/main.js", host: "localhost.evil.example", code: 403},
	{name: "CVE-2025-24010 foreign Host on the status", target: StatusPath, host: "evil.example", code: 403},
	{name: "CVE-2025-24010 foreign Origin on fetch", target: "/main.js", header: []string{evilOrigin, "Sec-Fetch-Mode: cors", "Sec-Fetch-Site: cross-site"}, code: 403},
	{name: "CVE-2025-24010 foreign Origin alone", target: "/main.js.map", header: []string{evilOrigin}, code: 403},
	{name: "CVE-2025-24010 cross-site no-cors script", target: "/main.js", header: []string{crossSiteScript}, code: 403},
	{name: "CVE-2025-24010 opaque Origin", target: "/main.js", header: []string{"Origin: null", "Sec-Fetch-Mode: cors"}, code: 403},
	// webpack-dev-server's event socket, open to any origin.
	{name: "CVE-2018-14732 event stream to a foreign Origin", target: EventsPath, header: []string{evilOrigin}, code: 403},
	{name: "CVE-2018-14732 event stream to a cross-site EventSource", target: EventsPath, header: []string{evilOrigin, "Sec-Fetch-Site: cross-site", "Sec-Fetch-Mode: cors", "Sec-Fetch-Dest: empty"}, code: 403},
	{name: "CVE-2018-14732 event stream to a foreign Host", target: EventsPath, host: "evil.example", code: 403},
	// Source theft through a <script> tag of another site.
	{name: "CVE-2025-30359 cross-site script tag on a bundle", target: "/main.js", header: []string{crossSiteScript}, code: 403},
	{name: "CVE-2025-30359 cross-site script tag on a source map", target: "/main.js.map", header: []string{crossSiteScript}, code: 403},
	{name: "CVE-2025-30360 cross-site script tag on a plain source", target: "/value.js", header: []string{crossSiteScript}, code: 403},
	{name: "CVE-2025-30360 cross-site script tag on the client", target: ClientPath, header: []string{crossSiteScript}, code: 403},
	{name: "CVE-2025-30360 same-site script tag from another port", target: "/main.js", header: []string{"Origin: http://127.0.0.1:1", "Sec-Fetch-Site: same-site", "Sec-Fetch-Mode: cors"}, code: 200},
	// esbuild serve: Access-Control-Allow-Origin: * (checked on every
	// response below) and backslash traversal.
	{name: "GHSA-67mh-4wv8-2f99 preflight from a foreign Origin", method: "OPTIONS", target: "/main.js", header: []string{evilOrigin, "Access-Control-Request-Method: GET"}, code: 403},
	{name: "GHSA-67mh-4wv8-2f99 preflight from the same origin", method: "OPTIONS", target: "/main.js", code: 405},
	{name: "GHSA-67mh-4wv8-2f99 cross-origin fetch of a bundle", target: "/main.js", header: []string{evilOrigin, "Sec-Fetch-Mode: cors"}, code: 403},
	{name: "GHSA-67mh-4wv8-2f99 error response", target: "/nope.js", code: 404},
	{name: "GHSA-g7r4-m6w7-qqqr backslashes", target: "/..\\..\\secret.txt", code: 400},
	{name: "GHSA-g7r4-m6w7-qqqr encoded backslashes", target: "/..%5c..%5csecret.txt", code: 400},
	{name: "GHSA-g7r4-m6w7-qqqr mixed slashes", target: "/src\\..\\.env", code: 400},
	// Every spelling of "..".
	{name: "encoded dot-dot", target: "/%2e%2e/secret.txt", code: 400},
	{name: "encoded dot-dot and slash", target: "/%2e%2e%2fsecret.txt", code: 400},
	{name: "half encoded dot-dot", target: "/.%2e/secret.txt", code: 400},
	{name: "encoded slash after dot-dot", target: "/..%2fsecret.txt", code: 400},
	{name: "double encoded dot-dot", target: "/%252e%252e/secret.txt", code: 404},
	{name: "double encoded dot-dot and slash", target: "/%252e%252e%252fsecret.txt", code: 404},
	{name: "overlong UTF-8 dot-dot", target: "/%c0%ae%c0%ae/secret.txt", code: 400},
	{name: "overlong UTF-8 slash", target: "/..%c0%afsecret.txt", code: 400},
	{name: "NUL before an extension", target: "/.env%00.js", code: 400},
	{name: "NUL after a file", target: "/notes.txt%00/../.env", code: 400},
	{name: "dot-dot deep", target: "/src/../../secret.txt", code: 400},
	{name: "dot segment", target: "/./.env", code: 400},
	// The public folder, served at /, under the same rules.
	{name: "public/ dotfile", target: "/.secret", code: 404},
	{name: "public/ dot-folder", target: "/.cache/key", code: 404},
	{name: "public/ file symlink out of the root", target: "/out.txt", code: 404},
	{name: "public/ folder symlink out of the root", target: "/outdir/secret.txt", code: 404},
	{name: "public/ symlink to a dotfile", target: "/env.txt", code: 404},
	{name: "public/ symlink to a dot-folder", target: "/cache/key", code: 404},
	{name: "public/ symlink to the root then a dotfile", target: "/up/.env", code: 404},
	{name: "public/ by its own name", target: "/public/robots.txt", code: 404},
	{name: "public/ by its own name, a dotfile", target: "/public/.secret", code: 404},
	{name: "public/ by its own name, dot-dot", target: "/public/../.env", code: 400},
	{name: "public/ encoded dot-dot", target: "/%2e%2e/public/robots.txt", code: 400},
	// The SPA fallback serves the root's pages and nothing else.
	{name: "deep link under a folder symlink out of the root", target: "/linkdir/deep/route", header: []string{"Sec-Fetch-Dest: document", "Sec-Fetch-Mode: navigate"}, code: 200},
	{name: "deep link to a folder symlink out of the root", target: "/linkdir/", header: []string{"Sec-Fetch-Dest: document", "Sec-Fetch-Mode: navigate"}, code: 200},
	{name: "deep link in a dot-folder", target: "/.git/deep", header: []string{"Sec-Fetch-Dest: document", "Sec-Fetch-Mode: navigate"}, code: 404},
	// Request targets that are not plain paths.
	{name: "double slash to an absolute path", target: "//etc/passwd", code: 400},
	{name: "double slash to the other folder", target: "//{out}/secret.txt", code: 400},
	{name: "absolute form with a foreign host", target: "http://evil.example/../secret.txt", code: 403},
	{name: "absolute form with dot-dot", target: "http://127.0.0.1/../secret.txt", code: 400},
	{name: "absolute form to a dotfile", target: "http://localhost/.env", code: 404},
	{name: "dot-dot after a folder", target: "/a/../../secret.txt", code: 400},
	{name: "reserved prefix then dot-dot", target: "/__devserve/../.env", code: 404},
	{name: "reserved prefix then dot-dot beside", target: "/__devserve/../../secret.txt", code: 404},
	// Symbolic links inside the root that leave it.
	{name: "file symlink out of the root", target: "/link.txt", code: 404},
	{name: "folder symlink out of the root", target: "/linkdir/secret.txt", code: 404},
	{name: "folder symlink out of the root, index", target: "/linkdir/", code: 404},
	{name: "symlink to the root then out", target: "/src/up/../secret.txt", code: 400},
	{name: "symlink to a dotfile", target: "/src/.hiddenlnk", code: 404},
	{name: "symlink to the root then a dotfile", target: "/src/up/.env", code: 404},
	{name: "symlink with a plain name to a dotfile", target: "/src/env.txt", code: 404},
	{name: "symlink with a plain name to a dot-folder", target: "/gitdir/config", code: 404},
	{name: "dependency store by its own name", target: "/node_modules/.pnpm/pkg@1.0.0/index.js", code: 404},
	// Dotfiles and dot-folders.
	{name: "dotfile", target: "/.env", code: 404},
	{name: "dot-folder file", target: "/.git/config", code: 404},
	{name: "dot-folder", target: "/.git/", code: 404},
	{name: "dotfile in a folder", target: "/src/.secret", code: 404},
	{name: "dotfile, HEAD", method: "HEAD", target: "/.env", code: 404},
	{name: "dotfile with a range", target: "/.env", header: []string{"Range: bytes=0-3"}, code: 404},
	// No listings.
	{name: "folder without index.html", target: "/src/", code: 404},
	{name: "folder without index.html, no slash", target: "/src", code: 301},
	{name: "root of a symlinked folder", target: "/src/up/src/", code: 404},
	// Malformed headers are refused, not crashed on.
	{name: "malformed Host port", target: "/", host: "localhost:80x", code: 400},
	{name: "Host with userinfo", target: "/", host: "evil.example@localhost", code: 400, byNetHTTP: true},
	{name: "Host with a space", target: "/", host: "local host", code: 400, byNetHTTP: true},
	{name: "two Host headers", target: "/", header: []string{"Host: evil.example"}, code: 400, byNetHTTP: true},
	{name: "empty Host", target: "/", host: " ", code: 400},
	{name: "Host too long", target: "/", host: strings.Repeat("a", 300) + ".localhost", code: 400},
	{name: "malformed Origin", target: "/", header: []string{"Origin: ::not a url"}, code: 400},
	{name: "Origin without a host", target: "/", header: []string{"Origin: http://"}, code: 400},
	{name: "Origin with an unclosed bracket", target: "/", header: []string{"Origin: http://[::1"}, code: 400},
	{name: "Origin of another scheme", target: "/", header: []string{"Origin: file://localhost"}, code: 400},
	{name: "Origin of invalid UTF-8", target: "/", header: []string{"Origin: http://\xff\xfe"}, code: 400},
}

// TestAttacks sends each request shape that made a dev server leak files
// or source to a server on a hostile project, and checks that no secret is
// in the answer.
func TestAttacks(t *testing.T) {
	p := newHostileProject(t)
	ts := startServer(t, p.root, "127.0.0.1:0", Options{})
	runAttacks(t, ts, p, attacks, true)
	// The server still serves, and none of it broke the build loop.
	if resp, body := ssetest.Request(t, ts.http, "GET", "/main.js"); resp.StatusCode != 200 || !strings.Contains(body, sourceMark) {
		t.Errorf("after the attacks, GET /main.js: %s\n%s", resp.Status, body)
	}
	ts.noReport(t)
}

// TestAttacksInProxyMode sends the attacks to a server in front of an app.
// What the root does not serve goes to the app, paths it refuses included
// (the app judges its own paths), with the app's own headers; but the
// refusals of other sites and hosts must stand, and no secret of the root
// may come out.
func TestAttacksInProxyMode(t *testing.T) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "the app's answer")
	}))
	t.Cleanup(app.Close)
	u, err := url.Parse(app.URL)
	if err != nil {
		t.Fatal(err)
	}
	p := newHostileProject(t)
	runAttacks(t, startServer(t, p.root, "127.0.0.1:0", Options{Proxy: u}), p, attacks, false)
}

// TestAttacksOnProxyRoutes sends the attacks to a server with proxy routes,
// one of them over a folder of the project that holds secrets (/src), then
// again under a route that replaces its prefix (/api/). Whatever the
// routes' backend answers, the refusals of other sites and hosts must
// stand, no secret of the root may come out, and no path with a dot
// segment may reach the backend.
func TestAttacksOnProxyRoutes(t *testing.T) {
	seen := make(chan string, 10*len(attacks))
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.URL.Path
		io.WriteString(w, "the API's answer")
	}))
	t.Cleanup(api.Close)
	target, err := url.Parse(api.URL)
	if err != nil {
		t.Fatal(err)
	}
	p := newHostileProject(t)
	ts := startServer(t, p.root, "127.0.0.1:0", Options{ProxyRoutes: []ProxyRoute{
		{Prefix: "/src", Target: target},
		{Prefix: "/api/", Target: target.JoinPath("/")},
	}})
	runAttacks(t, ts, p, attacks, false)
	var prefixed []attack
	for _, a := range attacks {
		if strings.HasPrefix(a.target, "/") {
			a.name = "/api" + a.target + " " + a.name
			a.target = "/api" + a.target
			prefixed = append(prefixed, a)
		}
	}
	runAttacks(t, ts, p, prefixed, false)
	close(seen)
	n := 0
	for path := range seen {
		n++
		if proxy.HasDotDotSegment(path) {
			t.Errorf("the backend got %s", path)
		}
	}
	if n == 0 {
		t.Error("no attack reached the backend: the routes are not in front")
	}
}

// runAttacks sends each of attacks to ts, serving p, and checks that no
// secret is in the answers and no answer allows other origins. With
// exact, it checks the status codes of the table and the headers of
// devserve's answers, else only the refusals of requests from other sites
// and hosts.
func runAttacks(t *testing.T, ts *testServer, p hostileProject, attacks []attack, exact bool) {
	addr := strings.TrimPrefix(ts.URL, "http://")
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			method := a.method
			if method == "" {
				method = "GET"
			}
			host := a.host
			if host == "" {
				host = addr
			}
			raw := method + " " + p.expand(a.target) + " HTTP/1.1\r\nHost: " + host + "\r\n"
			for _, h := range a.header {
				raw += h + "\r\n"
			}
			resp, body := rawExchange(t, addr, raw+"Connection: close\r\n\r\n")
			fromElsewhere := (a.host != "" || len(a.header) > 0) && (a.code == 400 || a.code == 403)
			if (exact || fromElsewhere) && resp.StatusCode != a.code {
				t.Errorf("%s %s: %s, want %d\n%s", method, a.target, resp.Status, a.code, body)
			}
			if a.code != 200 && strings.Contains(body, secretMark) || strings.Contains(strings.ReplaceAll(body, sourceMark, ""), secretMark) {
				t.Errorf("%s %s: a secret leaked:\n%s", method, a.target, body)
			}
			if exact && !a.byNetHTTP {
				checkHeaders(t, resp)
			}
			if got := resp.Header.Values("Access-Control-Allow-Origin"); len(got) > 0 {
				t.Errorf("Access-Control-Allow-Origin: %q", got)
			}
		})
	}
}

// checkHeaders checks what every answer of the server carries, and what
// none may.
func checkHeaders(t *testing.T, resp *http.Response) {
	t.Helper()
	if got := resp.Header.Values("Access-Control-Allow-Origin"); len(got) > 0 {
		t.Errorf("Access-Control-Allow-Origin: %q", got)
	}
	if got := resp.Header.Get("Cross-Origin-Resource-Policy"); got != "same-origin" {
		t.Errorf("Cross-Origin-Resource-Policy = %q, want same-origin", got)
	}
	if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
	}
}

// TestAllowedRequests checks that the protections leave alone what a
// developer does: top-level navigations from other sites (a link in an
// issue tracker), same-origin scripts, other loopback ports, and the
// requests that the secrets of TestAttacks would answer were they allowed.
func TestAllowedRequests(t *testing.T) {
	p := newHostileProject(t)
	ts := startServer(t, p.root, "127.0.0.1:0", Options{})
	dots := startServer(t, newHostileProject(t).root, "127.0.0.1:0", Options{AllowDotfiles: true})
	tests := []struct {
		name   string
		ts     *testServer
		target string
		header []string
		code   int
		body   string
	}{
		{"same-origin script", ts, "/main.js", []string{"Sec-Fetch-Site: same-origin", "Sec-Fetch-Mode: no-cors", "Sec-Fetch-Dest: script"}, 200, sourceMark},
		{"same-origin fetch", ts, "/main.js", []string{"Origin: " + ts.URL, "Sec-Fetch-Site: same-origin", "Sec-Fetch-Mode: cors"}, 200, sourceMark},
		{"cross-site top-level navigation", ts, "/", []string{"Sec-Fetch-Site: cross-site", "Sec-Fetch-Mode: navigate", "Sec-Fetch-Dest: document", "Sec-Fetch-User: ?1"}, 200, `<p id="out">`},
		{"cross-site navigation to a folder", ts, "/src", []string{"Sec-Fetch-Site: cross-site", "Sec-Fetch-Mode: navigate", "Sec-Fetch-Dest: document"}, 301, ""},
		{"query string ignored", ts, "/notes.txt?.env", nil, 200, "not part of any build"},
		{"query string ignored on a bundle", ts, "/main.js?import&raw", nil, 200, sourceMark},
		{"symlink inside the root", ts, "/src/up/notes.txt", nil, 200, "not part of any build"},
		{"plain file in a folder", ts, "/src/plain.txt", nil, 200, "a plain file"},
		{"dotfile allowed", dots, "/.env", nil, 200, "MARK-DOTENV"},
		{"dot-folder allowed", dots, "/.git/config", nil, 200, "MARK-GITCONFIG"},
		{"dotfiles allowed, symlink to a dotfile", dots, "/src/env.txt", nil, 200, "MARK-DOTENV"},
		{"dotfiles allowed, still no symlink out", dots, "/link.txt", nil, 404, ""},
		{"dependency linked through node_modules/.pnpm", ts, "/node_modules/pkg/index.js", nil, 200, "export const pkg"},
		{"dotfiles allowed, still no climbing", dots, "/../.env", nil, 400, ""},
		{"public file", ts, "/robots.txt", nil, 200, "User-agent"},
		{"public file through a symlink inside the root", ts, "/up/notes.txt", nil, 200, "not part of any build"},
		{"dotfiles allowed, public dotfile", dots, "/.secret", nil, 200, "MARK-PUBLIC-DOTFILE"},
		{"dotfiles allowed, public symlink to a dotfile", dots, "/env.txt", nil, 200, "MARK-DOTENV"},
		{"dotfiles allowed, still no public symlink out", dots, "/out.txt", nil, 404, ""},
		{"cross-site navigation to a deep link", ts, "/app/users/42", []string{"Sec-Fetch-Site: cross-site", "Sec-Fetch-Mode: navigate", "Sec-Fetch-Dest: document"}, 200, `<p id="out">`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := ssetest.Request(t, tt.ts.http, "GET", tt.target, append(tt.header, "Connection: close")...)
			if resp.StatusCode != tt.code || !strings.Contains(body, tt.body) {
				t.Errorf("GET %s: %s, want %d with %q\n%s", tt.target, resp.Status, tt.code, tt.body, body)
			}
			checkHeaders(t, resp)
		})
	}
}

// TestQueryDoesNotChangeTheFile checks that what follows the path never
// changes which file is served.
func TestQueryDoesNotChangeTheFile(t *testing.T) {
	ts := startServer(t, newHostileProject(t).root, "127.0.0.1:0", Options{})
	for _, base := range []string{"/notes.txt", "/main.js", "/style.css", "/"} {
		_, want := ssetest.Request(t, ts.http, "GET", base)
		for _, suffix := range []string{"?raw", "?import&raw??", "?url", "?inline", "?.env", "?../.env", "?x=/../../secret.txt", "?%00", "?#frag"} {
			resp, body := ssetest.Request(t, ts.http, "GET", base+suffix)
			if resp.StatusCode != 200 || body != want {
				t.Errorf("GET %s%s: %s, a different body than GET %s", base, suffix, resp.Status, base)
			}
		}
	}
}

// TestRefusedHostSaysHowToAllowIt checks the answer to a DNS rebinding
// attempt: it names the Host, and the flag that would allow it.
func TestRefusedHostSaysHowToAllowIt(t *testing.T) {
	tests := []struct {
		allowed []string
		host    string
		code    int
	}{
		{nil, "evil.example", 403},
		{nil, "dev.example:8000", 403},
		{[]string{"dev.example"}, "dev.example:8000", 200},
		{[]string{"DEV.example:9999"}, "dev.EXAMPLE", 200},
		{[]string{"dev.example"}, "other.example", 403},
		{[]string{"192.0.2.7"}, "192.0.2.7:8000", 200},
		{[]string{"::1"}, "[::1]", 200},
		{[]string{"*"}, "anything.example", 200},
	}
	root := copyFixture(t, "live")
	for _, tt := range tests {
		ts := startServer(t, root, "127.0.0.1:0", Options{AllowedHosts: tt.allowed})
		addr := strings.TrimPrefix(ts.URL, "http://")
		resp, body := rawExchange(t, addr, "GET /notes.txt HTTP/1.1\r\nHost: "+tt.host+"\r\nConnection: close\r\n\r\n")
		if resp.StatusCode != tt.code {
			t.Errorf("allowed %q, Host %s: %s, want %d", tt.allowed, tt.host, resp.Status, tt.code)
		}
		if tt.code == 403 {
			h, _, err := net.SplitHostPort(tt.host)
			if err != nil {
				h = tt.host
			}
			if want := "--allowed-host " + h; !strings.Contains(body, want) || !strings.Contains(body, "DNS rebinding") {
				t.Errorf("allowed %q, Host %s: body %q does not say %q", tt.allowed, tt.host, body, want)
			}
		}
		ts.stop()
	}
}

// serveConfigured is startServer with the http.Server's limits changed by
// configure before it starts (and streams served through the
// ResponseWriter when noHijack is set): tests of the limits set them in
// milliseconds.
func serveConfigured(t *testing.T, dir string, noHijack bool, configure func(*http.Server)) *testServer {
	t.Helper()
	srv, err := New(Options{Root: dir})
	if err != nil {
		t.Fatal(err)
	}
	srv.broker.Close() // for one that serves as told
	srv.broker = newBroker(BrokerOptions{Sync: srv.syncData}, sse.Options{NoHijack: noHijack})
	ts := &testServer{Server: srv, dir: dir}
	ts.http = httptest.NewUnstartedServer(srv)
	ts.http.Config = NewHTTPServer(srv, nil)
	configure(ts.http.Config)
	ts.http.Start()
	ts.URL = ts.http.URL
	t.Cleanup(ts.stop)
	return ts
}

func TestHTTPServerLimits(t *testing.T) {
	hs := NewHTTPServer(http.NotFoundHandler(), nil)
	if hs.ReadHeaderTimeout <= 0 || hs.ReadHeaderTimeout > 30*time.Second {
		t.Errorf("ReadHeaderTimeout = %v", hs.ReadHeaderTimeout)
	}
	if hs.MaxHeaderBytes <= 0 || hs.MaxHeaderBytes > 1<<20 {
		t.Errorf("MaxHeaderBytes = %d", hs.MaxHeaderBytes)
	}
	if hs.IdleTimeout <= 0 || hs.ReadTimeout <= 0 || hs.WriteTimeout <= 0 {
		t.Errorf("IdleTimeout %v, ReadTimeout %v, WriteTimeout %v: want all set", hs.IdleTimeout, hs.ReadTimeout, hs.WriteTimeout)
	}
}

// TestSlowloris checks that a client that sends its headers a byte at a
// time, forever, is cut off after ReadHeaderTimeout, and that one sending
// huge headers is refused.
func TestSlowloris(t *testing.T) {
	const readHeader = 300 * time.Millisecond
	ts := serveConfigured(t, copyFixture(t, "live"), false, func(hs *http.Server) {
		hs.ReadHeaderTimeout = readHeader
	})
	// Before the dial: the server's clock for ReadHeaderTimeout starts
	// when it accepts, which may be before Dial returns here.
	start := time.Now()
	conn, err := net.Dial("tcp", ts.http.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		io.Copy(io.Discard, conn) // returns when the server closes it
	}()
	io.WriteString(conn, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	limit := time.After(ssetest.Timeout)
loop:
	for {
		select {
		case <-closed:
			break loop
		case <-tick.C:
			if _, err := conn.Write([]byte("a")); err != nil {
				break loop // the server closed it
			}
		case <-limit:
			t.Fatalf("a client sending one header byte every 20 ms still connected after %v", ssetest.Timeout)
		}
	}
	if d := time.Since(start); d < readHeader {
		t.Errorf("cut after %v, before ReadHeaderTimeout %v", d, readHeader)
	}

	// Headers over MaxHeaderBytes: 431, not read to the end.
	big := "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + strings.Repeat("a", 200<<10) + "\r\n\r\n"
	addr := ts.http.Listener.Addr().String()
	c2, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	c2.SetDeadline(time.Now().Add(ssetest.Timeout))
	go io.WriteString(c2, big) // may fail once the server answers and closes
	resp, err := http.ReadResponse(bufio.NewReader(c2), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("200 KiB of headers: %s, want 431", resp.Status)
	}
}

// TestIdleConnectionsClosed checks that a keep-alive connection that stays
// idle is closed after IdleTimeout.
func TestIdleConnectionsClosed(t *testing.T) {
	ts := serveConfigured(t, copyFixture(t, "live"), false, func(hs *http.Server) {
		hs.IdleTimeout = 200 * time.Millisecond
	})
	conn := ssetest.Dial(t, ts.http, "GET", "/notes.txt")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	start := time.Now()
	conn.SetReadDeadline(time.Now().Add(ssetest.Timeout))
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("an idle connection: %v after %v, want it closed", err, time.Since(start))
	}
}

// TestEventStreamOutlivesTimeouts checks that the event stream outlives
// the http.Server's WriteTimeout, ReadTimeout and IdleTimeout, which bound
// every other request, in both ways the broker serves streams.
func TestEventStreamOutlivesTimeouts(t *testing.T) {
	const limit = 150 * time.Millisecond
	ssetest.ForEachMode(t, func(t *testing.T, noHijack bool) {
		ts := serveConfigured(t, copyFixture(t, "live"), noHijack, func(hs *http.Server) {
			hs.ReadHeaderTimeout, hs.ReadTimeout, hs.WriteTimeout, hs.IdleTimeout = limit, limit, limit, limit
		})
		st := ssetest.Open(t, ts.http, EventsPath)
		st.Start()
		// Let every limit pass: a bounded wait for something that must
		// not happen, the end of the stream, which the reads below would
		// see.
		<-time.After(4 * limit)
		ts.write(t, "value.js", `export const value = "later";`)
		expectEvent(t, st, EventBuilding)
		expectEvent(t, st, EventBuilt)
	})
}

// servePath serves one request for a decoded URL path (and query) with
// handler h, as net/http would hand it over, and returns the answer.
func servePath(h http.Handler, rawPath, rawQuery string) *httptest.ResponseRecorder {
	r := (&http.Request{
		Method:     "GET",
		URL:        &url.URL{Path: rawPath, RawQuery: rawQuery},
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     http.Header{},
		Host:       "localhost:8000",
		RemoteAddr: "127.0.0.1:1234",
	}).WithContext(context.Background())
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// FuzzServePath checks that for any request path the server never answers
// with a file outside the root or a dotfile, and never panics.
func FuzzServePath(f *testing.F) {
	p := newHostileProject(f)
	srv, err := New(Options{Root: p.root})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { srv.Close() })
	for _, a := range attacks {
		f.Add(p.expand(a.target))
	}
	for _, s := range []string{
		"/", "/index.html", "/main.js", "/notes.txt", "/src/up/notes.txt", "/linkdir", "/src/up/src/up/.env",
		"/" + filepath.ToSlash(p.beside) + "/secret.txt", "/src/up/../../secret.txt",
		"/..", "/.", "/..;/secret.txt", "/%2e%2e/%2e%2e/secret.txt", "/src/link.html/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, target string) {
		// The fuzzed string as net/http would parse it from a request
		// line, when it can, and as a decoded path, as another router or
		// middleware might hand it over.
		var paths [][2]string
		if u, err := url.ParseRequestURI(target); err == nil {
			paths = append(paths, [2]string{u.Path, u.RawQuery})
		}
		if strings.HasPrefix(target, "/") {
			paths = append(paths, [2]string{target, ""})
		}
		for _, pq := range paths {
			if pq[0] == EventsPath {
				continue // a stream that serves no file, and never ends
			}
			w := servePath(srv, pq[0], pq[1])
			body := w.Body.String()
			if strings.Contains(body, secretMark) && !strings.Contains(body, sourceMark) {
				t.Fatalf("path %q: %d with a secret:\n%s", pq[0], w.Code, body)
			}
			if w.Code == 200 {
				rel := strings.TrimPrefix(pq[0], "/")
				if guard.HasDotSegment(rel) || strings.Contains(pq[0], "..") {
					t.Fatalf("path %q served: %d", pq[0], w.Code)
				}
			}
			if got := w.Header().Get("Access-Control-Allow-Origin"); got != "" {
				t.Fatalf("path %q: Access-Control-Allow-Origin %q", pq[0], got)
			}
		}
	})
}
