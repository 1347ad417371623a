package hmr

import (
	"bufio"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/devserve/devserve/internal/ssetest"
	"go.uber.org/goleak"
)

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestRouteFor checks which route a path takes: the longest prefix that
// covers it on segment boundaries, whatever the order of the routes.
func TestRouteFor(t *testing.T) {
	s := &Server{log: slog.New(slog.DiscardHandler)}
	routes, err := newRoutes(s, []ProxyRoute{
		{Prefix: "/api", Target: mustURL(t, "http://127.0.0.1:1")},
		{Prefix: "/api/v2/", Target: mustURL(t, "http://127.0.0.1:2/")},
		{Prefix: "/auth", Target: mustURL(t, "http://127.0.0.1:3")},
	})
	if err != nil {
		t.Fatal(err)
	}
	s.routes = routes
	t.Cleanup(func() {
		for _, px := range routes {
			px.Cancel()
		}
	})
	tests := []struct{ path, want string }{
		{"/api", "/api"},
		{"/api/", "/api"},
		{"/api/users", "/api"},
		{"/apix", ""},
		{"/apix/users", ""},
		{"/api/v2", "/api/v2"},
		{"/api/v2/", "/api/v2"},
		{"/api/v2/users", "/api/v2"},
		{"/api/v2x", "/api"},
		{"/auth/login", "/auth"},
		{"/API/users", ""},
		{"/", ""},
		{"/src/main.ts", ""},
		{"/x/api", ""},
	}
	for _, tt := range tests {
		got := ""
		if px := s.routeFor(tt.path); px != nil {
			got = px.Prefix()
		}
		if got != tt.want {
			t.Errorf("route of %s: %q, want %q", tt.path, got, tt.want)
		}
	}
}

// TestProxyRoutesRefused checks that New refuses routes it cannot serve,
// with an error that names the route and says why.
func TestProxyRoutesRefused(t *testing.T) {
	good := mustURL(t, "http://127.0.0.1:1")
	tests := []struct {
		name   string
		routes []ProxyRoute
		want   string
	}{
		{"no slash", []ProxyRoute{{Prefix: "api", Target: good}}, "must start with /"},
		{"empty", []ProxyRoute{{Prefix: "", Target: good}}, "must start with /"},
		{"root", []ProxyRoute{{Prefix: "/", Target: good}}, "would take every path"},
		{"empty segment", []ProxyRoute{{Prefix: "/api//x", Target: good}}, "empty, . or .. segment"},
		{"dot-dot", []ProxyRoute{{Prefix: "/api/../x", Target: good}}, "empty, . or .. segment"},
		{"query", []ProxyRoute{{Prefix: "/api?x=1", Target: good}}, "plain path"},
		{"encoded", []ProxyRoute{{Prefix: "/a%20b", Target: good}}, "plain path"},
		{"devserve's own", []ProxyRoute{{Prefix: "/__devserve/x", Target: good}}, "/__devserve/ is devserve's own"},
		{"devserve's own, no slash", []ProxyRoute{{Prefix: "/__devserve", Target: good}}, "/__devserve/ is devserve's own"},
		{"no target", []ProxyRoute{{Prefix: "/api"}}, "want an http:// or https:// URL"},
		{"ftp target", []ProxyRoute{{Prefix: "/api", Target: mustURL(t, "ftp://127.0.0.1")}}, "want an http:// or https:// URL"},
		{"no host", []ProxyRoute{{Prefix: "/api", Target: mustURL(t, "http:///x")}}, "want an http:// or https:// URL"},
		{"twice", []ProxyRoute{{Prefix: "/api", Target: good}, {Prefix: "/api/", Target: good}}, "taken by /api=http://127.0.0.1:1"},
	}
	dir := copyFixture(t, "live")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, err := New(Options{Root: dir, ProxyRoutes: tt.routes})
			if err == nil {
				srv.Close()
				t.Fatalf("New accepted %v", tt.routes)
			}
			if !strings.Contains(err.Error(), "proxy route ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want one with %q", err, tt.want)
			}
		})
	}
	// A prefix that merely starts like the reserved one is fine.
	srv, err := New(Options{Root: dir, ProxyRoutes: []ProxyRoute{{Prefix: "/__dev", Target: good}}})
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
}

// echoJSON decodes the test backend's echo of a request.
func echoJSON(t testing.TB, body []byte) map[string]string {
	t.Helper()
	var got map[string]string
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("not the backend's echo: %v\n%s", err, body)
	}
	return got
}

// TestProxyRoutes serves a project whose folders api/ and public/api/
// have files and pages, with /api and /v1 routed to the test backend: the
// backend answers everything under them, with the request's path as it is
// or stripped, and X-Forwarded-*; the guard refuses what it refuses
// elsewhere; what is not under a prefix is the project's.
func TestProxyRoutes(t *testing.T) {
	be := startBackend(t, "127.0.0.1:0")
	dir := copyFixture(t, "live")
	for name, content := range map[string]string{
		"api/index.html":        "<p>MARK-API-PAGE</p>",
		"api/notes.txt":         "MARK-API-FILE",
		"public/api/robots.txt": "MARK-API-PUBLIC",
		"apix/notes.txt":        "the project's apix",
	} {
		writeTestFile(t, dir, name, content)
	}
	ts := startServer(t, dir, "127.0.0.1:0", Options{ProxyRoutes: []ProxyRoute{
		{Prefix: "/api", Target: mustURL(t, be.URL)},
		{Prefix: "/v1/", Target: mustURL(t, be.URL+"/")},
	}})
	defer rawClient.CloseIdleConnections()
	host := strings.TrimPrefix(ts.URL, "http://")
	nav := []string{"Sec-Fetch-Dest: document", "Sec-Fetch-Mode: navigate", "Accept: text/html"}
	tests := []struct {
		name, method, target string
		header               []string
		code                 int
		echo                 map[string]string // what the backend saw; nil: not the backend
		body                 string            // in the answer
	}{
		{name: "fetch", target: "/api/users?q=1", header: []string{"Sec-Fetch-Dest: empty", "Origin: " + ts.URL}, code: 200,
			echo: map[string]string{"uri": "/api/users?q=1", "host": host, "xff": "127.0.0.1", "xfh": host, "xfp": "http"}},
		{name: "the prefix itself", target: "/api", code: 200, body: `{"ok":true}`},
		{name: "a file of the project under the prefix", target: "/api/notes.txt", code: 200, echo: map[string]string{"uri": "/api/notes.txt"}},
		{name: "a file of public/ under the prefix", target: "/api/robots.txt", code: 200, echo: map[string]string{"uri": "/api/robots.txt"}},
		{name: "a page of the project under the prefix", target: "/api/", header: nav, code: 200, echo: map[string]string{"uri": "/api/"}},
		{name: "a deep link under the prefix", target: "/api/users/42", header: nav, code: 200, echo: map[string]string{"uri": "/api/users/42"}},
		{name: "a dotfile path", target: "/api/.well-known/x", code: 200, echo: map[string]string{"uri": "/api/.well-known/x"}},
		{name: "encoded path", target: "/api/a%2Fb", code: 200, echo: map[string]string{"uri": "/api/a%2Fb"}},
		{name: "post", method: "POST", target: "/api/form", header: []string{"Origin: " + ts.URL}, code: 200,
			echo: map[string]string{"method": "POST", "uri": "/api/form", "body": "a=1"}},
		{name: "delete", method: "DELETE", target: "/api/users/1", code: 200, echo: map[string]string{"method": "DELETE"}},
		{name: "stripped", target: "/v1/users?q=1", code: 200, echo: map[string]string{"uri": "/users?q=1", "xfh": host}},
		{name: "stripped, encoded", target: "/v1/a%2Fb", code: 200, echo: map[string]string{"uri": "/a%2Fb"}},
		{name: "no client in the backend's pages", target: "/v1/chunked", header: nav, code: 200, body: "<title>app chunked</title>"},
		{name: "not under the prefix", target: "/apix/notes.txt", code: 200, body: "the project's apix"},
		{name: "devserve's own", target: StatusPath, code: 200, body: `"status"`},
		{name: "foreign Host", target: "/api/users", header: []string{"Host: evil.example"}, code: 403},
		{name: "foreign Origin", method: "POST", target: "/api/form", header: []string{"Origin: http://evil.example"}, code: 403},
		{name: "cross-site fetch", target: "/api/users", header: []string{"Origin: http://evil.example", "Sec-Fetch-Site: cross-site", "Sec-Fetch-Mode: cors"}, code: 403},
		{name: "cross-site script tag", target: "/api/users", header: []string{"Sec-Fetch-Site: cross-site", "Sec-Fetch-Mode: no-cors", "Sec-Fetch-Dest: script"}, code: 403},
		{name: "dot-dot", target: "/api/../api/notes.txt", code: 400},
		{name: "encoded dot-dot", target: "/v1/%2e%2e/secret", code: 400},
		{name: "encoded slash and dot-dot", target: "/v1/x%2f..%2fsecret", code: 400},
		{name: "dot", target: "/api/./users", code: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = "GET"
			}
			body := ""
			if method == "POST" {
				body = "a=1"
			}
			var resp *http.Response
			var got []byte
			if strings.Contains(tt.target, "/.") || strings.Contains(tt.target, "%2") {
				// net/http's client would clean or re-encode the path.
				extra := ""
				for _, h := range tt.header {
					extra += h + "\r\n"
				}
				r, b := rawExchange(t, host, method+" "+tt.target+" HTTP/1.1\r\nHost: "+host+"\r\n"+extra+"Connection: close\r\n\r\n")
				resp, got = r, []byte(b)
			} else {
				resp, got = doRequest(t, method, ts.URL+tt.target, body, append([]string{"Accept-Encoding: identity"}, tt.header...)...)
			}
			if resp.StatusCode != tt.code {
				t.Fatalf("%s %s: %s\n%s", method, tt.target, resp.Status, got)
			}
			if strings.Contains(string(got), "MARK-") {
				t.Errorf("the project's file under the prefix:\n%s", got)
			}
			if v := resp.Header.Values("Access-Control-Allow-Origin"); len(v) > 0 {
				t.Errorf("Access-Control-Allow-Origin: %q", v)
			}
			if tt.echo != nil {
				echo := echoJSON(t, got)
				for k, v := range tt.echo {
					if echo[k] != v {
						t.Errorf("the backend saw %s = %q, want %q (all: %v)", k, echo[k], v, echo)
					}
				}
			}
			if !strings.Contains(string(got), tt.body) {
				t.Errorf("answer without %q:\n%s", tt.body, got)
			}
			if (strings.HasPrefix(tt.target, "/api") || strings.HasPrefix(tt.target, "/v1")) && tagRE.Match(got) {
				t.Errorf("the client is in the backend's page:\n%s", got)
			}
		})
	}
}

// TestProxyRoutesWithApp combines a route with the whole-app proxy: the
// route's backend answers under the prefix, and the app everything else
// the project does not have.
func TestProxyRoutesWithApp(t *testing.T) {
	app := startBackend(t, "127.0.0.1:0")
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "the API at "+r.URL.RequestURI())
	}))
	t.Cleanup(api.Close)
	ts := startProxy(t, app.URL, Options{ProxyRoutes: []ProxyRoute{{Prefix: "/api/", Target: mustURL(t, api.URL+"/")}}})
	for _, tt := range []struct{ method, path, want string }{
		{"GET", "/api/users", "the API at /users"},
		{"POST", "/api/users", "the API at /users"},
		{"GET", "/apix", `"uri":"/apix"`},
		{"POST", "/form", `"uri":"/form"`},
		{"GET", "/notes.txt", "not part of any build"},
	} {
		resp, body := doRequest(t, tt.method, ts.URL+tt.path, "", "Origin: "+ts.URL)
		if resp.StatusCode != 200 || !strings.Contains(string(body), tt.want) {
			t.Errorf("%s %s: %s %s, want %q", tt.method, tt.path, resp.Status, body, tt.want)
		}
	}
}

// TestProxyRouteStreams checks that an event stream and an upgraded
// connection pass through a route as they come, unbuffered.
func TestProxyRouteStreams(t *testing.T) {
	be := startBackend(t, "127.0.0.1:0")
	ts := startServer(t, copyFixture(t, "live"), "127.0.0.1:0", Options{ProxyRoutes: []ProxyRoute{{Prefix: "/api/", Target: mustURL(t, be.URL+"/")}}})

	checkPassThrough(t, ts, "/api")
}

// TestProxyRouteBackendDown checks a route whose backend is down: a
// navigation gets the page that says so, a fetch a plain 502, neither
// falls to the project's files, and the pages reload when it is back.
func TestProxyRouteBackendDown(t *testing.T) {
	addr := freeAddr(t)
	dir := copyFixture(t, "live")
	writeTestFile(t, dir, "api/notes.txt", "MARK-API-FILE")
	writeTestFile(t, dir, "api/index.html", "<p>MARK-API-PAGE</p>")
	ts := startServer(t, dir, "127.0.0.1:0", Options{ProxyRoutes: []ProxyRoute{{Prefix: "/api", Target: mustURL(t, "http://"+addr)}}})
	st := ssetest.Open(t, ts.http, EventsPath)
	st.Start()

	resp, body := doRequest(t, "GET", ts.URL+"/api/users", "", "Sec-Fetch-Dest: document")
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(body), "The backend is not running") || !tagRE.Match(body) {
		t.Fatalf("page while the backend is down: %s\n%s", resp.Status, body)
	}
	after := strconv.FormatUint(ts.broker.lastID(), 10)
	if !strings.Contains(string(body), "after="+after) {
		t.Errorf("the page does not reload after event %s:\n%s", after, body)
	}
	for _, p := range []string{"/api/notes.txt", "/api/"} {
		resp, body = doRequest(t, "GET", ts.URL+p, "", "Sec-Fetch-Dest: empty")
		if resp.StatusCode != http.StatusBadGateway || strings.Contains(string(body), "MARK-") {
			t.Errorf("GET %s while the backend is down: %s\n%s", p, resp.Status, body)
		}
	}

	startBackend(t, addr)
	var reload ReloadData
	decode(t, nextNamed(t, st, EventReload), &reload)
	if !strings.Contains(reload.Reason, "is back") {
		t.Errorf("reload reason %q", reload.Reason)
	}
	resp, body = doRequest(t, "GET", ts.URL+"/api/users", "", "Sec-Fetch-Dest: document")
	if resp.StatusCode != 200 || echoJSON(t, body)["uri"] != "/api/users" {
		t.Errorf("after the backend came back: %s\n%s", resp.Status, body)
	}
	// The route's monitor holds no connection: the backend may restart
	// with no reload of the pages.
	ssetest.MustPublish(t, ts.broker, "marker", 1)
	if ev := st.NextEvent(); ev.Type != "marker" {
		t.Fatalf("got %s %s; want no second reload", ev.Type, ev.Data)
	}
}

// TestProxyRoutesCloseLeavesNoGoroutine closes a Server with routes, one
// of them to a backend that is down (its monitor dialing), another with a
// proxied event stream and an upgraded connection open.
func TestProxyRoutesCloseLeavesNoGoroutine(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	be := startBackend(t, "127.0.0.1:0")
	srv, err := New(Options{Root: copyFixture(t, "live"), ProxyRoutes: []ProxyRoute{
		{Prefix: "/api/", Target: mustURL(t, be.URL+"/")},
		{Prefix: "/down", Target: mustURL(t, "http://"+freeAddr(t))},
	}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(srv)
	hs.Config = NewHTTPServer(srv, nil)
	hs.Start()

	events := ssetest.Dial(t, hs, "GET", "/api/events", "Accept: text/event-stream")
	if _, err := http.ReadResponse(bufio.NewReader(events), nil); err != nil {
		t.Fatal(err)
	}
	ws := ssetest.Dial(t, hs, "GET", "/api/ws", "Connection: Upgrade", "Upgrade: echo")
	if resp, err := http.ReadResponse(bufio.NewReader(ws), nil); err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	if resp, _ := doRequest(t, "GET", hs.URL+"/down", "", docHeader()...); resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("/down: %s", resp.Status)
	}

	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	hs.Close()
	be.Close()
	rawClient.CloseIdleConnections()
	for _, c := range []net.Conn{events, ws} {
		c.Close()
	}
	goleak.VerifyNone(t, ignore)
}
