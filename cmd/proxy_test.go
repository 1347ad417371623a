package cmd

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/devserve/devserve/hmr"
)

func TestParseProxies(t *testing.T) {
	type route struct{ prefix, target string }
	tests := []struct {
		name   string
		in     []string
		app    string
		routes []route
		err    string // in the error, which also names the value
	}{
		{name: "none"},
		{name: "empty", in: []string{""}},
		{name: "app", in: []string{"http://127.0.0.1:8080"}, app: "http://127.0.0.1:8080"},
		{name: "app by port", in: []string{":3000"}, app: "http://localhost:3000"},
		{name: "app with a query", in: []string{"http://127.0.0.1:8080/?a=b"}, app: "http://127.0.0.1:8080/?a=b"},
		{name: "app by host:port with a query", in: []string{"127.0.0.1:8080/?a=b"}, app: "http://127.0.0.1:8080/?a=b"},
		{name: "route", in: []string{"/api=http://127.0.0.1:8080"}, routes: []route{{"/api", "http://127.0.0.1:8080"}}},
		{name: "route that strips", in: []string{"/api/=http://127.0.0.1:8080/"}, routes: []route{{"/api/", "http://127.0.0.1:8080/"}}},
		{name: "route by port", in: []string{"/api=:8080"}, routes: []route{{"/api", "http://localhost:8080"}}},
		{name: "route with a query", in: []string{"/api=http://127.0.0.1:8080/v1?key=a=b"}, routes: []route{{"/api", "http://127.0.0.1:8080/v1?key=a=b"}}},
		{name: "routes and an app", in: []string{"/api=http://127.0.0.1:1", "http://127.0.0.1:2", "/auth/=https://auth.localhost/"},
			app: "http://127.0.0.1:2", routes: []route{{"/api", "http://127.0.0.1:1"}, {"/auth/", "https://auth.localhost/"}}},
		{name: "prefix without a URL", in: []string{"/api"}, err: "no URL for the prefix"},
		{name: "prefix with an empty URL", in: []string{"/api="}, err: "no URL for the prefix"},
		{name: "prefix without a slash", in: []string{"api=http://127.0.0.1:8080"}, err: `the path prefix "api" must start with /, as in /api=`},
		{name: "no prefix", in: []string{"=http://127.0.0.1:8080"}, err: `the path prefix "" must start with /`},
		{name: "route URL that does not parse", in: []string{"/api=http://[::1"}, err: "not a URL"},
		{name: "route URL of another scheme", in: []string{"/api=ftp://127.0.0.1"}, err: "want an http:// or https:// URL"},
		{name: "route URL with no host", in: []string{"/api=http://"}, err: "want an http:// or https:// URL"},
		{name: "app URL of another scheme", in: []string{"ftp://127.0.0.1"}, err: "want an http:// or https:// URL"},
		{name: "two apps", in: []string{"http://127.0.0.1:1", ":2"}, err: "the app is http://127.0.0.1:1 already"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app, routes, err := parseProxies(tt.in)
			if tt.err != "" {
				bad := tt.in[len(tt.in)-1]
				if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.HasPrefix(err.Error(), "--proxy "+bad+": ") || strings.Contains(err.Error(), "\n") {
					t.Errorf("parseProxies(%q) = %v, want a one-line error about %s with %q", tt.in, err, bad, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(app); app == nil && tt.app != "" || app != nil && got != tt.app {
				t.Errorf("app %v, want %q", app, tt.app)
			}
			var got []route
			for _, r := range routes {
				got = append(got, route{r.Prefix, r.Target.String()})
			}
			if !slices.Equal(got, tt.routes) {
				t.Errorf("routes %v, want %v", got, tt.routes)
			}
		})
	}
}

func TestParseBackend(t *testing.T) {
	tests := []struct {
		in, want string
		err      bool
	}{
		{in: "http://127.0.0.1:8080", want: "http://127.0.0.1:8080"},
		{in: "https://app.localhost/base", want: "https://app.localhost/base"},
		{in: "127.0.0.1:8080", want: "http://127.0.0.1:8080"},
		{in: ":3000", want: "http://localhost:3000"},
		{in: "ftp://127.0.0.1", err: true},
		{in: "http://", err: true},
		{in: "http://[::1", err: true},
	}
	for _, tt := range tests {
		u, err := parseBackend(tt.in)
		switch {
		case tt.err && err == nil:
			t.Errorf("parseBackend(%q) = %v, want an error", tt.in, u)
		case !tt.err && (err != nil || u.String() != tt.want):
			t.Errorf("parseBackend(%q) = %v, %v; want %s", tt.in, u, err, tt.want)
		}
	}
}

// TestServeProxy runs `devserve --proxy URL --watch DIR dir` in front of an
// app and checks that the app's page gets the client, the folder's files
// are served, and a change in the watched folder reloads the pages.
func TestServeProxy(t *testing.T) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<html><head><title>app</title></head><body>the app</body></html>")
	}))
	defer app.Close()
	dir, templates := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(dir, "style.css"), []byte("body { color: red }"), 0o644)
	os.WriteFile(filepath.Join(templates, "page.tmpl"), []byte("{{.}}"), 0o644)

	out, url, stop := startServe(t, "--port", "0", "--proxy", app.URL, "--watch", templates, dir)
	out.waitFor(t, regexp.MustCompile(`proxying everything else to `+regexp.QuoteMeta(app.URL)))
	for path, want := range map[string]string{
		"":          `<script type="module" src="/__devserve/client.js?build=`,
		"style.css": "color: red",
	} {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("GET /%s: %s\n%s", path, resp.Status, body)
		}
	}
	stream, err := http.Get(url + "__devserve/events")
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	os.WriteFile(filepath.Join(templates, "page.tmpl"), []byte("{{.Name}}"), 0o644)
	out.waitFor(t, regexp.MustCompile(`\d\d:\d\d:\d\d reload .*page\.tmpl → 1 browser`))

	if err := stop(); err != nil {
		t.Fatalf("serve returned %v", err)
	}
}

func TestServeProxyBadURL(t *testing.T) {
	out := newSyncBuffer()
	c := newRootCommand(out, out)
	c.SetArgs([]string{"--port", "0", "--proxy", "ftp://x", t.TempDir()})
	if err := c.Execute(); err == nil || !strings.Contains(err.Error(), "--proxy") {
		t.Errorf("serve --proxy ftp://x: %v", err)
	}
}

// TestServePathProxy runs `devserve --proxy /api=URL --proxy /v1/=URL/ dir`
// and checks what it prints and where the requests go.
func TestServePathProxy(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "the API at "+r.URL.RequestURI())
	}))
	defer api.Close()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "api"), 0o755)
	os.WriteFile(filepath.Join(dir, "api", "notes.txt"), []byte("the folder's notes"), 0o644)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("the folder's notes"), 0o644)

	out, url, stop := startServe(t, "--port", "0", "--proxy", "/api="+api.URL, "--proxy", "/v1/="+api.URL+"/", dir)
	out.waitFor(t, regexp.MustCompile(`proxying /api to `+regexp.QuoteMeta(api.URL)+`\n`))
	out.waitFor(t, regexp.MustCompile(`proxying /v1/ to `+regexp.QuoteMeta(api.URL)+`/\n`))
	for path, want := range map[string]string{
		"api/notes.txt":   "the API at /api/notes.txt",
		"v1/users?q=1":    "the API at /users?q=1",
		"notes.txt":       "the folder's notes",
		"apix/notes.txt":  "404",
		"v1x/users?q=1":   "404",
		"api/a%2Fb?x=%20": "the API at /api/a%2Fb?x=%20",
	} {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got := resp.Status + " " + string(body); !strings.Contains(got, want) {
			t.Errorf("GET /%s: %s, want %q", path, got, want)
		}
	}
	if err := stop(); err != nil {
		t.Fatalf("serve returned %v", err)
	}
}

// TestServeProxyBadInput runs devserve as a process with each bad --proxy
// value: it must print one line that names the value and exit with
// status 1, before it serves anything.
func TestServeProxyBadInput(t *testing.T) {
	if os.Getenv("DEVSERVE_TEST_MAIN") == "1" {
		// The arguments for devserve follow the test binary's "--".
		os.Args = append([]string{"devserve"}, os.Args[slices.Index(os.Args, "--")+1:]...)
		Execute()
		os.Exit(0)
	}
	dir := t.TempDir()
	for _, tt := range []struct{ value, want string }{
		{"/api", `devserve: --proxy /api: no URL for the prefix; want PREFIX=URL, as in /api=http://127.0.0.1:8080`},
		{"api=http://127.0.0.1:8080", `devserve: --proxy api=http://127.0.0.1:8080: the path prefix "api" must start with /, as in /api=http://127.0.0.1:8080`},
		{"/api=http://[::1", `devserve: --proxy /api=http://[::1: not a URL: parse "http://[::1": missing ']' in host`},
		{"/api=ftp://127.0.0.1", `devserve: --proxy /api=ftp://127.0.0.1: want an http:// or https:// URL such as http://127.0.0.1:8080, not ftp://127.0.0.1`},
		{"/__devserve/x=http://127.0.0.1:1", `devserve: proxy route /__devserve/x=http://127.0.0.1:1: /__devserve/ is devserve's own`},
		{"/=http://127.0.0.1:1", `devserve: proxy route /=http://127.0.0.1:1: the prefix / would take every path`},
	} {
		t.Run(tt.value, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestServeProxyBadInput$", "--", "--port", "0", "--proxy", tt.value, dir)
			// The child exits inside Execute, past TestMain's cleanup:
			// the folders TestMain makes go to one the test removes.
			cmd.Env = append(os.Environ(), "DEVSERVE_TEST_MAIN=1", "TMPDIR="+t.TempDir())
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Fatalf("exit: %v, want status 1\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
			}
			if got := stderr.String(); !strings.HasPrefix(got, tt.want) || strings.Count(got, "\n") != 1 {
				t.Errorf("stderr:\n%s\nwant one line that starts\n%s", got, tt.want)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout: %s", stdout.String())
			}
		})
	}
}

// TestPrintBackendState prints what hmr says of a proxied backend: one
// line when it goes down (a record it logs) and one when it is back (the
// reload it reports).
func TestPrintBackendState(t *testing.T) {
	at := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	tests := []struct {
		name  string
		quiet bool
		print func(*printer)
		want  string
	}{
		{"down", false, func(p *printer) {
			p.report(hmr.Report{Time: at, Event: hmr.ReportBackendDown,
				Reason: "the backend http://127.0.0.1:8080 is down (dial tcp 127.0.0.1:8080: connect: connection refused)"})
		}, "15:04:05 the backend http://127.0.0.1:8080 is down (dial tcp 127.0.0.1:8080: connect: connection refused)\n"},
		{"back", false, func(p *printer) {
			p.report(hmr.Report{Time: at, Event: hmr.EventReload, Reason: "the backend http://127.0.0.1:8080 is back", Reload: true, Clients: 2})
		}, "15:04:05 reload (the backend http://127.0.0.1:8080 is back) → 2 browsers\n"},
		{"a file's reload keeps its line", false, func(p *printer) {
			p.report(hmr.Report{Time: at, Event: hmr.EventReload, Changed: []string{"page.tmpl"}, Reason: "page.tmpl changed", Reload: true, Clients: 1})
		}, "15:04:05 reload page.tmpl → 1 browser\n"},
		{"down, quiet", true, func(p *printer) {
			p.report(hmr.Report{Time: at, Event: hmr.ReportBackendDown, Reason: "the backend http://127.0.0.1:8080 is down"})
		}, ""},
		{"no line for the log record", false, func(p *printer) {
			p.logger().Info("hmr: backend is down", "backend", "http://127.0.0.1:8080")
		}, ""},
		{"other records below warnings", false, func(p *printer) {
			p.logger().Info("watcher: polling", "every", "1s")
			p.logger().Debug("hmr: backend down", "path", "/")
		}, ""},
		{"a warning", false, func(p *printer) {
			p.logger().Warn("hmr: backend failed", "path", "/x")
		}, "devserve: warning: hmr: backend failed path=/x\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			tt.print(newPrinter(&out, tt.quiet))
			if strings.HasPrefix(tt.want, "^") {
				if !regexp.MustCompile(tt.want).MatchString(out.String()) {
					t.Errorf("got %q, want it to match %s", out.String(), tt.want)
				}
			} else if out.String() != tt.want {
				t.Errorf("got %q, want %q", out.String(), tt.want)
			}
			checkLines(t, out.String())
		})
	}
}

// TestServeBackendDownAndBack stops the app behind --proxy and starts it
// again at the same address: devserve prints one line for each.
func TestServeBackendDownAndBack(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<html><body>the app</body></html>")
	})
	app := &http.Server{Handler: page}
	go app.Serve(ln)

	out, _, _ := startServe(t, "--port", "0", "--proxy", "http://"+addr, t.TempDir())
	app.Close()
	down := out.waitFor(t, regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d (the backend http://`+regexp.QuoteMeta(addr)+` is down.*)\n`))
	if !strings.Contains(down[1], " is down (dial tcp "+addr+": ") {
		t.Errorf("the down line does not say why: %q", down[1])
	}

	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("the app's port was taken meanwhile: %v", err)
	}
	app = &http.Server{Handler: page}
	go app.Serve(ln)
	defer app.Close()
	out.waitFor(t, regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d reload \(the backend http://`+regexp.QuoteMeta(addr)+` is back\) → 0 browsers\n`))
	if n := strings.Count(out.String(), "is down"); n != 1 {
		t.Errorf("%d lines say the backend is down, want 1:\n%s", n, out.String())
	}
}
