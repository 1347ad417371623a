package cmd

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/devserve/devserve/hmr"
)

// syncBuffer is an io.Writer that tests can read while a command writes,
// and that signals each write.
type syncBuffer struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	wrote chan struct{}
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{wrote: make(chan struct{}, 1)} }

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case b.wrote <- struct{}{}:
	default:
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor waits until the output matches re and returns the first match's
// groups.
func (b *syncBuffer) waitFor(t *testing.T, re *regexp.Regexp) []string {
	t.Helper()
	m, err := b.await(re, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// await waits up to timeout until the output matches re and returns the
// first match's groups.
func (b *syncBuffer) await(re *regexp.Regexp, timeout time.Duration) ([]string, error) {
	deadline := time.After(timeout)
	for {
		if m := re.FindStringSubmatch(b.String()); m != nil {
			return m, nil
		}
		select {
		case <-b.wrote:
		case <-deadline:
			return nil, fmt.Errorf("output never matched %s:\n%s", re, b.String())
		}
	}
}

// TestVersion checks that `devserve version`, --version and -v print the
// same line.
// lineKind matches the start of each kind of line the printer writes:
// devserve's own, an event while serving, or a detail of the line above.
var lineKind = regexp.MustCompile(`^(devserve: \S|\d\d:\d\d:\d\d \S|  )`)

// checkLines fails the test for each line of out that is of no kind.
func checkLines(t *testing.T, out string) {
	t.Helper()
	for _, line := range strings.SplitAfter(out, "\n") {
		if line != "" && !lineKind.MatchString(line) {
			t.Errorf("line %q is not \"devserve: ...\", \"15:04:05 ...\" or \"  ...\", in:\n%s", line, out)
		}
	}
	if out != "" && !strings.HasSuffix(out, "\n") {
		t.Errorf("output does not end its last line:\n%s", out)
	}
}

// TestServePortFallback: when the default port is taken devserve says so,
// in a line of its own, and serves at the next one.
func TestServePortFallback(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := taken.Addr().(*net.TCPAddr).Port
	out := newSyncBuffer()
	c := newRootCommand(out, out)
	// As if the default were port: Value.Set leaves the flag unchanged.
	if err := c.Flags().Lookup("port").Value.Set(strconv.Itoa(port)); err != nil {
		t.Fatal(err)
	}
	c.SetArgs([]string{tinyProject(t)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.ExecuteContext(ctx) }()
	m := out.waitFor(t, regexp.MustCompile(`serving .* at http://127\.0\.0\.1:(\d+)/`))
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("devserve: port %d is in use, using %s\n", port, m[1])
	if !strings.HasPrefix(out.String(), want) || m[1] == strconv.Itoa(port) {
		t.Errorf("output does not start with %q:\n%s", want, out.String())
	}
	checkLines(t, out.String())
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}, {"-v"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			c := newRootCommand(&out, &errOut)
			c.SetArgs(args)
			if err := c.Execute(); err != nil {
				t.Fatal(err)
			}
			if got, want := out.String(), versionString()+"\n"; got != want {
				t.Errorf("printed %q, want %q", got, want)
			}
			if !regexp.MustCompile(`^devserve \S+.* go1\.\d+.* linux/\w+\n$`).MatchString(out.String()) {
				t.Errorf("version printed %q", out.String())
			}
			if errOut.Len() != 0 {
				t.Errorf("stderr %q", errOut.String())
			}
		})
	}
}

func TestServeCommand(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "index.html"), []byte(`<script type="module" src="main.ts"></script>`), 0o644)
	os.WriteFile(filepath.Join(dir, "main.ts"), []byte(`const n: number = 1; console.log(n);`), 0o644)
	out, url, stop := startServe(t, "--port", "0", dir)
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Errorf("serving at %s, want loopback", url)
	}
	// A first start: the scripts are bundled until the modules compiled.
	out.waitFor(t, regexp.MustCompile(`\d\d:\d\d:\d\d modules compiled in .*: hot updates from the next JS edit on`))
	resp, err := http.Get(url + "main.ts")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "console.log(n)") || strings.Contains(string(body), ": number") {
		t.Fatalf("GET main.ts: %s\n%s", resp.Status, body)
	}
	// An open event stream must not hold up the stop.
	stream, err := http.Get(url + "__devserve/events")
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()

	os.WriteFile(filepath.Join(dir, "main.ts"), []byte(`const n: number = 2; console.log(n);`), 0o644)
	out.waitFor(t, regexp.MustCompile(`\d\d:\d\d:\d\d built in .* main\.ts \(1 update\) → 1 browser`))

	stopped := time.Now()
	if err := stop(); err != nil {
		t.Fatalf("serve returned %v", err)
	}
	if d := time.Since(stopped); d > time.Second {
		t.Errorf("stopping took %v, want under a second", d)
	}
}

func TestBuildCommand(t *testing.T) {
	outdir := t.TempDir()
	var out bytes.Buffer
	c := newRootCommand(&out, &out)
	c.SetArgs([]string{"build", filepath.Join("..", "testdata", "app"), "--outdir", outdir, "--minify"})
	if err := c.Execute(); err != nil {
		t.Fatalf("build: %v\n%s", err, out.String())
	}
	page, err := os.ReadFile(filepath.Join(outdir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page), `src="/src/main.js"`) || strings.Contains(string(page), "__devserve") {
		t.Errorf("built page:\n%s", page)
	}
	checkLines(t, out.String())
	js, err := os.ReadFile(filepath.Join(outdir, "src", "main.js"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(js, []byte("__devserve")) || bytes.Contains(js, []byte("\n  ")) {
		t.Errorf("built JS is not minified or has the client:\n%s", js)
	}
}

func TestBuildCommandFails(t *testing.T) {
	var out bytes.Buffer
	c := newRootCommand(&out, &out)
	c.SetArgs([]string{"build", filepath.Join("..", "testdata", "broken"), "--outdir", t.TempDir()})
	err := c.Execute()
	if err == nil || !strings.Contains(err.Error(), "build failed") {
		t.Fatalf("build of a broken project: %v", err)
	}
	if !regexp.MustCompile(`main\.ts:\d+:\d+: `).MatchString(out.String()) {
		t.Errorf("errors not printed with file:line:column:\n%s", out.String())
	}
	if !strings.HasPrefix(out.String(), "devserve: 1 error:\n") {
		t.Errorf("errors printed with no head line:\n%s", out.String())
	}
	checkLines(t, out.String())
}

func TestListen(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := taken.Addr().(*net.TCPAddr).Port

	ln, err := listen("127.0.0.1", port, false)
	if err != nil {
		t.Fatalf("listen with a default port that is taken: %v", err)
	}
	if got := ln.Addr().(*net.TCPAddr).Port; got == port {
		t.Errorf("listened on the taken port")
	}
	ln.Close()

	_, err = listen("127.0.0.1", port, true)
	if err == nil || !strings.Contains(err.Error(), "port "+strconv.Itoa(port)+" is already in use") {
		t.Errorf("listen on an explicit taken port: %v", err)
	}
}

func TestRootRelative(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "src"), 0o755)
	os.WriteFile(filepath.Join(dir, "src", "main.ts"), nil, 0o644)
	t.Chdir(filepath.Dir(dir))
	base := filepath.Base(dir)
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{"src/main.ts", "src/main.ts", false},
		{filepath.Join(base, "src", "main.ts"), "src/main.ts", false},
		{filepath.Join(dir, "src", "main.ts"), "src/main.ts", false},
		{"../outside.ts", "", true},
		{"/etc/passwd", "", true},
	}
	for _, tt := range tests {
		got, err := rootRelative(base, []string{tt.in})
		if tt.wantErr {
			if err == nil {
				t.Errorf("rootRelative(%q) = %v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || len(got) != 1 || got[0] != tt.want {
			t.Errorf("rootRelative(%q) = %v, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestEditorColumn(t *testing.T) {
	tests := []struct {
		line string
		col  int
		want int
	}{
		{"let x = 1", 0, 1},
		{"let x = 1", 4, 5},
		{"const s = \"日本\"; x", 18, 15}, // two 3-byte characters before
		{"😀 = 1", 5, 3},                 // a 4-byte character
		{"short", 99, 6},
		{"", -1, 1},
	}
	for _, tt := range tests {
		if got := editorColumn(tt.line, tt.col); got != tt.want {
			t.Errorf("editorColumn(%q, %d) = %d, want %d", tt.line, tt.col, got, tt.want)
		}
	}
}

func TestReportOutput(t *testing.T) {
	var out bytes.Buffer
	p := newPrinter(&out, false)
	p.report(hmr.Report{
		Time:    time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC),
		Event:   hmr.EventErrors,
		Failed:  true,
		Changed: []string{"src/a.ts"},
		Clients: 2,
		Errors: []hmr.Message{{Text: `Expected ";" but found "y"`, File: "src/a.ts", Line: 3, Column: 13,
			LineText: `let s = "é" y`, Suggestion: ";"}},
	})
	want := `15:04:05 build failed src/a.ts → 2 browsers
  src/a.ts:3:13: Expected ";" but found "y"
     3 | let s = "é" y
       |             ^
  suggestion: ;
`
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
	checkLines(t, out.String())
	if strings.Contains(out.String(), "\x1b[") {
		t.Error("colors written to a buffer")
	}

	out.Reset()
	quiet := newPrinter(&out, true)
	quiet.report(hmr.Report{Event: hmr.EventBuilt, Changed: []string{"a.ts"}})
	quiet.report(hmr.Report{Event: hmr.EventReload})
	if out.Len() != 0 {
		t.Errorf("--quiet printed %q", out.String())
	}
}

// TestReportProjectErrors prints the reports of errors that are no failed
// build (a clash of public/ with the source tree) and of their fix.
func TestReportProjectErrors(t *testing.T) {
	at := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	clash := hmr.Message{File: "public/a.txt", Text: "public/a.txt and a.txt have the same URL /a.txt",
		Suggestion: "rename or remove public/a.txt or a.txt"}
	tests := []struct {
		name  string
		quiet bool
		r     hmr.Report
		want  string
	}{
		{"a good build with a clash", false,
			hmr.Report{Time: at, Event: hmr.EventErrors, Changed: []string{"src/b.ts"}, Clients: 1, Errors: []hmr.Message{clash}},
			"15:04:05 error src/b.ts → 1 browser\n  public/a.txt: public/a.txt and a.txt have the same URL /a.txt\n" +
				"  suggestion: rename or remove public/a.txt or a.txt\n"},
		{"a clash, quiet", true,
			hmr.Report{Time: at, Event: hmr.EventErrors, NoBuild: true, Changed: []string{"a.txt"}, Errors: []hmr.Message{clash}},
			"15:04:05 error a.txt → 0 browsers\n  public/a.txt: public/a.txt and a.txt have the same URL /a.txt\n" +
				"  suggestion: rename or remove public/a.txt or a.txt\n"},
		{"fixed", false,
			hmr.Report{Time: at, Event: hmr.EventBuilt, NoBuild: true, Changed: []string{"a.txt"}, Clients: 2},
			"15:04:05 fixed a.txt → 2 browsers\n"},
		{"fixed, with a reload", false,
			hmr.Report{Time: at, Event: hmr.EventBuilt, NoBuild: true, Changed: []string{"public/a.txt"}, Reload: true, Clients: 1},
			"15:04:05 fixed public/a.txt (reload) → 1 browser\n"},
		{"fixed, quiet", true,
			hmr.Report{Time: at, Event: hmr.EventBuilt, NoBuild: true, Changed: []string{"a.txt"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			newPrinter(&out, tt.quiet).report(tt.r)
			if out.String() != tt.want {
				t.Errorf("got\n%s\nwant\n%s", out.String(), tt.want)
			}
		})
	}
}

func TestUseColor(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	if useColor(os.Stdout) {
		t.Error("color with NO_COLOR set")
	}
	t.Setenv("NO_COLOR", "")
	if useColor(&bytes.Buffer{}) {
		t.Error("color on a buffer")
	}
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if useColor(f) {
		t.Error("color on a regular file")
	}
}

// TestBaseFlag checks --base of both commands: "app" is normalized to
// /app/ (as Vite does), the URL printed and the built page's URLs carry
// it, and a base that is no URL path is one clear error.
func TestBaseFlag(t *testing.T) {
	t.Run("serve", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "index.html"), []byte(`<script type="module" src="/main.ts"></script>`), 0o644)
		os.WriteFile(filepath.Join(dir, "main.ts"), []byte(`console.log(import.meta.env.BASE_URL);`), 0o644)
		_, url, stop := startServe(t, "--port", "0", "--base", "app", dir)
		defer stop()
		if !strings.HasSuffix(url, "/app/") {
			t.Fatalf("serving at %s, want the base in the URL", url)
		}
		resp, err := http.Get(url + "main.ts")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), `"/app/"`) {
			t.Fatalf("GET /app/main.ts: %s\n%s", resp.Status, body)
		}
	})
	t.Run("build", func(t *testing.T) {
		outdir := t.TempDir()
		var out bytes.Buffer
		c := newRootCommand(&out, &out)
		c.SetArgs([]string{"build", filepath.Join("..", "testdata", "app"), "--outdir", outdir, "--base", "/app/"})
		if err := c.Execute(); err != nil {
			t.Fatalf("build: %v\n%s", err, out.String())
		}
		page, err := os.ReadFile(filepath.Join(outdir, "index.html"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(page), `src="/app/src/main.js"`) {
			t.Errorf("built page:\n%s", page)
		}
	})
	for _, args := range [][]string{
		{"--base", "https://example.com/app/", t.TempDir()},
		{"build", "--base", "/a b/", "--outdir", t.TempDir(), filepath.Join("..", "testdata", "app")},
	} {
		c := newRootCommand(io.Discard, io.Discard)
		c.SetArgs(args)
		err := c.Execute()
		if err == nil || !strings.HasPrefix(err.Error(), "--base: base ") || strings.Contains(err.Error(), "\n") {
			t.Errorf("devserve %q: %v, want a one-line --base error", args, err)
		}
	}
}

// TestBuildCommandCount checks that the number of files devserve build
// says it wrote is the number in the output folder: bundles, source maps,
// pages, assets and public/ alike. (It once said "4 files" and wrote 5.)
func TestBuildCommandCount(t *testing.T) {
	testdata := func(name string) func(*testing.T) (string, string) {
		return func(t *testing.T) (string, string) { return filepath.Join("..", "testdata", name), t.TempDir() }
	}
	tests := []struct {
		name  string
		dirs  func(*testing.T) (dir, outdir string)
		flags []string
	}{
		{"app", testdata("app"), nil},
		{"app, minified", testdata("app"), []string{"--minify"}},
		{"public/ and assets", testdata("spa"), nil},
		{"demo", testdata("demo"), nil},
		{"under a base", testdata("spa"), []string{"--base", "/app/"}},
		{"outdir in the project, built twice", func(t *testing.T) (string, string) {
			dir := tinyProject(t)
			os.MkdirAll(filepath.Join(dir, "public"), 0o755)
			os.WriteFile(filepath.Join(dir, "public", "robots.txt"), []byte("User-agent: *"), 0o644)
			os.WriteFile(filepath.Join(dir, "about.html"), []byte("<h1>about</h1>"), 0o644)
			c := newRootCommand(io.Discard, io.Discard)
			c.SetArgs([]string{"build", "--outdir", filepath.Join(dir, "dist"), dir})
			if err := c.Execute(); err != nil {
				t.Fatal(err)
			}
			return dir, filepath.Join(dir, "dist")
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, outdir := tt.dirs(t)
			var out bytes.Buffer
			c := newRootCommand(&out, &out)
			c.SetArgs(append([]string{"build", "--outdir", outdir, dir}, tt.flags...))
			if err := c.Execute(); err != nil {
				t.Fatalf("build: %v\n%s", err, out.String())
			}
			m := regexp.MustCompile(`\((\d+) files?\)\n$`).FindStringSubmatch(out.String())
			if m == nil {
				t.Fatalf("no count of files printed:\n%s", out.String())
			}
			checkLines(t, out.String())
			files := readTree(t, outdir)
			if n, _ := strconv.Atoi(m[1]); n != len(files) || n == 0 {
				names := slices.Sorted(maps.Keys(files))
				t.Errorf("said %s files, wrote %d: %s", m[1], len(files), strings.Join(names, " "))
			}
		})
	}
}

// TestCheckRoot: a folder that is not there, or is a file, is named as the
// user typed it, in the words of neither the bundler nor the OS.
func TestCheckRoot(t *testing.T) {
	dir := tinyProject(t)
	t.Chdir(dir)
	tests := []struct {
		dir, want string
	}{
		{".", ""},
		{"./nope", "./nope: no such folder"},
		{"nope/deeper", "nope/deeper: no such folder"},
		{"main.ts", "main.ts is a file, not a folder"},
		{"main.ts/x", "main.ts/x: no such folder"},
	}
	for _, tt := range tests {
		err := checkRoot(tt.dir)
		if got := fmt.Sprint(err); tt.want == "" && err != nil || tt.want != "" && got != tt.want {
			t.Errorf("checkRoot(%q) = %v, want %q", tt.dir, err, tt.want)
		}
	}
	for _, args := range [][]string{{"build", "./nope"}, {"--port", "0", "./nope"}} {
		c := newRootCommand(io.Discard, io.Discard)
		c.SetArgs(args)
		if err := c.Execute(); fmt.Sprint(err) != "./nope: no such folder" {
			t.Errorf("devserve %q: %v, want ./nope: no such folder", args, err)
		}
	}
}
