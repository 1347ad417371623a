package hmr_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/devserve/devserve/bundler"
	"github.com/devserve/devserve/hmr"
)

// get returns the body of a GET of u as a browser's request for a page,
// with the build ID of the client's tag replaced by "…", since it changes
// with every run of the server.
func get(u string, header ...string) string {
	body, err := fetch(u, header...)
	if err != nil {
		log.Fatal(err)
	}
	return body
}

func fetch(u string, header ...string) (string, error) {
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Sec-Fetch-Dest", "document")
	for _, h := range header {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return regexp.MustCompile(`build=\w*`).ReplaceAllString(string(b), "build=…"), err
}

// An app mounts the Server next to its own handlers and wraps them with
// Inject: its pages get the client, which reloads them on every build.
func ExampleServer_Inject() {
	// The app's page, as html/template or templ would render it.
	app := http.NewServeMux()
	app.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<html><head><title>app</title></head><body>Hello</body></html>`)
	})

	dev, err := hmr.New(hmr.Options{
		Root:       "../testdata/goapp/web", // the app's TypeScript and CSS
		Build:      bundler.BuildOptions{Entries: []string{"static/app.ts", "static/app.css"}},
		ReloadDirs: []string{"../testdata/goapp/templates"}, // a change reloads the pages
	})
	if err != nil {
		log.Fatal(err)
	}
	defer dev.Close() // before the http.Server shuts down: it ends the event streams

	app.Handle(hmr.Prefix, dev)     // the client and its event stream
	app.Handle("GET /static/", dev) // the bundles, rebuilt on every save
	srv := httptest.NewServer(dev.Inject(app))
	defer srv.Close()

	fmt.Println(get(srv.URL + "/"))
	// Output:
	// <html><head><title>app</title><script type="module" src="/__devserve/client.js?build=…"></script></head><body>Hello</body></html>
}

// The app tells the pages to reload, say after it parsed its templates.
func ExampleServer_Reload() {
	dev, err := hmr.New(hmr.Options{Root: "../testdata/goapp/web"})
	if err != nil {
		log.Fatal(err)
	}
	defer dev.Close()
	srv := httptest.NewServer(dev)
	defer srv.Close()

	// What a page's client hears.
	resp, err := http.Get(srv.URL + hmr.EventsPath)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	if err := dev.Reload("templates parsed"); err != nil {
		log.Fatal(err)
	}
	lines := bufio.NewScanner(resp.Body)
	for lines.Scan() {
		if lines.Text() == "event: reload" {
			lines.Scan()
			fmt.Println("event: reload")
			fmt.Println(lines.Text())
			break
		}
	}
	// Output:
	// event: reload
	// data: {"reason":"templates parsed"}
}

// In proxy mode, the Server stands in front of an app: it serves its own
// files and bundles, and passes the rest to the app, with the client in
// its pages; htmx requests and other partials pass untouched.
func ExampleOptions_proxy() {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if r.Header.Get("HX-Request") != "" {
			fmt.Fprint(w, `<p>partial</p>`)
			return
		}
		fmt.Fprint(w, `<html><head><title>app</title></head><body>Hello</body></html>`)
	}))
	defer app.Close()
	backend, err := url.Parse(app.URL)
	if err != nil {
		log.Fatal(err)
	}

	dev, err := hmr.New(hmr.Options{Root: "../testdata/goapp/web", Proxy: backend})
	if err != nil {
		log.Fatal(err)
	}
	defer dev.Close()
	srv := httptest.NewServer(dev)
	defer srv.Close()

	fmt.Println(get(srv.URL + "/"))
	fmt.Println(get(srv.URL+"/", "HX-Request: true"))
	// Output:
	// <html><head><title>app</title><script type="module" src="/__devserve/client.js?build=…"></script></head><body>Hello</body></html>
	// <p>partial</p>
}

// A proxy route sends the paths under a prefix to an API, as Vite's
// server.proxy does: here /api/ to an API whose target URL has a path,
// which replaces the prefix. The rest is the project's.
func ExampleProxyRoute() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"path":%q}`, r.URL.RequestURI())
	}))
	defer api.Close()
	target, err := url.Parse(api.URL + "/v1/")
	if err != nil {
		log.Fatal(err)
	}

	dev, err := hmr.New(hmr.Options{
		Root:        "../testdata/goapp/web",
		ProxyRoutes: []hmr.ProxyRoute{{Prefix: "/api/", Target: target}},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer dev.Close()
	srv := httptest.NewServer(dev)
	defer srv.Close()

	fmt.Println(get(srv.URL + "/api/users?page=2"))
	fmt.Println(get(srv.URL + "/api"))
	fmt.Println(get(srv.URL+"/apix", "Sec-Fetch-Dest: empty"))
	// Output:
	// {"path":"/v1/users?page=2"}
	// {"path":"/v1/"}
	// 404 page not found
}

// TestGoApp builds testdata/goapp, the example app, runs it in development
// mode and checks what a browser would get: pages with the client, the
// partial as it is, the bundles, and a reload when a template changes.
func TestGoApp(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a program")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	// Build with the flags of this test, so that the packages are in the
	// build cache already.
	args := []string{"build", "-o", filepath.Join(t.TempDir(), "goapp")}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "-race" && s.Value == "true" {
				args = append(args, "-race")
			}
		}
	}
	bin := args[2]
	out, err := exec.Command(gobin, append(args, "../testdata/goapp")...).CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	// Run it in a copy, whose templates the test edits.
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../testdata/goapp")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-dev", "-addr", "127.0.0.1:0")
	cmd.Dir = dir
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) }
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() {
		t.Fatalf("goapp printed nothing: %s", stderr.String())
	}
	base, ok := strings.CutPrefix(lines.Text(), "goapp: listening on ")
	if !ok {
		t.Fatalf("goapp printed %q", lines.Text())
	}
	base = strings.TrimSuffix(base, "/")

	get := func(u string, header ...string) string {
		t.Helper()
		body, err := fetch(u, header...)
		if err != nil {
			t.Fatal(err)
		}
		return body
	}
	if page := get(base + "/"); !strings.Contains(page, `<script type="module" src="/__devserve/client.js?build=…"></script></head>`) {
		t.Errorf("page without the client:\n%s", page)
	}
	if partial := get(base+"/greeting", "HX-Request: true"); partial != "<p class=\"greeting\">Hello, gopher!</p>\n" {
		t.Errorf("partial %q", partial)
	}
	if js := get(base + "/static/app.ts"); !strings.Contains(js, "addEventListener") || strings.Contains(js, "as HTMLButtonElement") {
		t.Errorf("/static/app.ts is not bundled:\n%s", js)
	}

	resp, err := http.Get(base + hmr.EventsPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	events := bufio.NewScanner(resp.Body)
	for events.Scan() && !strings.HasPrefix(events.Text(), "event: sync") {
	}
	if err := os.WriteFile(filepath.Join(dir, "templates", "greeting.html"), []byte("<p>Hi!</p>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for events.Scan() && events.Text() != "event: reload" {
	}
	if events.Err() != nil {
		t.Fatalf("no reload: %v", events.Err())
	}
	if partial := get(base+"/greeting", "HX-Request: true"); partial != "<p>Hi!</p>\n" {
		t.Errorf("partial after the edit %q", partial)
	}

	resp.Body.Close()
	cmd.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); err != nil {
		t.Errorf("goapp: %v\n%s", err, stderr.String())
	}
}
