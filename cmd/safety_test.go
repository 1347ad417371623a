package cmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// tinyProject writes a project with one page and one module to a new
// folder.
func tinyProject(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "index.html"), []byte(`<script type="module" src="main.ts"></script>`), 0o644)
	os.WriteFile(filepath.Join(dir, "main.ts"), []byte(`console.log("tiny");`), 0o644)
	return dir
}

// background is the root command running in a goroutine of the test, as
// a user's devserve runs in a terminal.
type background struct {
	args   []string
	out    *syncBuffer // its output and errors
	cancel context.CancelFunc
	done   chan struct{} // closed when the command has returned
	err    error         // what it returned, once done is closed
}

// runBackground starts the root command with args.
func runBackground(args []string) *background {
	ctx, cancel := context.WithCancel(context.Background())
	b := &background{args: args, out: newSyncBuffer(), cancel: cancel, done: make(chan struct{})}
	c := newRootCommand(b.out, b.out)
	c.SetArgs(args)
	go func() { b.err = c.ExecuteContext(ctx); close(b.done) }()
	return b
}

// stop interrupts the command, waits for it and returns its error. It may
// be called again.
func (b *background) stop() error {
	b.cancel()
	select {
	case <-b.done:
		return b.err
	case <-time.After(10 * time.Second):
		return fmt.Errorf("devserve %q did not stop", b.args)
	}
}

// exited reports whether the command has returned.
func (b *background) exited() bool {
	select {
	case <-b.done:
		return true
	default:
		return false
	}
}

// servingLine is the line that says where devserve serves.
var servingLine = regexp.MustCompile(`serving .* at (https?://\S+/)`)

// url waits up to timeout for the line with the URL devserve serves at,
// and returns the URL; an error if the command ended first, or the time
// ran out.
func (b *background) url(timeout time.Duration) (string, error) {
	deadline := time.After(timeout)
	for {
		if m := servingLine.FindStringSubmatch(b.out.String()); m != nil {
			return m[1], nil
		}
		select {
		case <-b.out.wrote:
		case <-b.done:
			if m := servingLine.FindStringSubmatch(b.out.String()); m != nil {
				return m[1], nil
			}
			if b.err != nil {
				return "", b.err
			}
			return "", fmt.Errorf("devserve stopped")
		case <-deadline:
			return "", fmt.Errorf("no URL printed:\n%s", b.out.String())
		}
	}
}

// startServe runs the serve command with args until the test ends, and
// returns its output once it printed the URL it serves at, with that URL,
// and a stop function that interrupts the command, waits for it and returns
// its error. Cleanup stops it if the test did not.
func startServe(t *testing.T, args ...string) (*syncBuffer, string, func() error) {
	t.Helper()
	b := runBackground(args)
	t.Cleanup(func() {
		if err := b.stop(); err != nil {
			t.Errorf("serve %q: %v", args, err)
		}
		checkLines(t, b.out.String())
	})
	url, err := b.url(20 * time.Second)
	if err != nil {
		t.Fatalf("serve %q: %v\n%s", args, err, b.out.String())
	}
	return b.out, url, b.stop
}

// get requests url (at the address dial, with Host host when not empty).
func get(t *testing.T, dial, url, host string) (int, string) {
	t.Helper()
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "tcp", dial)
	}}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// nonLoopbackIP returns an IPv4 address of this machine other than
// loopback, or "".
func nonLoopbackIP() string {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil && n.IP.IsGlobalUnicast() {
			return n.IP.String()
		}
	}
	return ""
}

// TestServeHost checks where devserve listens, what it says about it, and
// which Host headers it then accepts.
func TestServeHost(t *testing.T) {
	ip := nonLoopbackIP()
	tests := []struct {
		name    string
		args    []string
		dialIP  string // "" is 127.0.0.1
		url     string // regexp of the printed URL
		warn    bool
		network bool           // the server is on all interfaces: print their URLs
		hosts   map[string]int // Host header (with port when it ends in ":") -> status
		needIP  bool           // the case needs a network address
	}{
		{name: "default is loopback", url: `http://127\.0\.0\.1:\d+/`,
			hosts: map[string]int{"127.0.0.1:": 200, "localhost:": 200, "[::1]:": 200, "evil.example": 403, "192.0.2.9:": 403}},
		{name: "localhost", args: []string{"--host", "localhost"}, url: `http://localhost:\d+/`,
			hosts: map[string]int{"localhost:": 200, "evil.example": 403}},
		{name: "all interfaces", args: []string{"--host", "0.0.0.0"}, url: `http://localhost:\d+/`, warn: true, network: true,
			hosts: map[string]int{"localhost:": 200, "evil.example": 403, "evil.example:": 403}},
		{name: "allowed host", args: []string{"--allowed-host", "dev.example"}, url: `http://127\.0\.0\.1:\d+/`,
			hosts: map[string]int{"dev.example:": 200, "dev.example": 200, "evil.example": 403}},
		{name: "a network address", args: []string{"--host", ip}, dialIP: ip,
			url: regexp.QuoteMeta("http://"+ip) + `:\d+/`, warn: true,
			hosts: map[string]int{ip + ":": 200, "localhost:": 200, "evil.example": 403}, needIP: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.needIP && ip == "" {
				t.Skip("this machine has no network address")
			}
			out, url, _ := startServe(t, append(tt.args, "--port", "0", tinyProject(t))...)
			if !regexp.MustCompile(`^` + tt.url + `$`).MatchString(url) {
				t.Errorf("serving at %s, want %s", url, tt.url)
			}
			port := url[strings.LastIndexByte(url[:len(url)-1], ':')+1 : len(url)-1]
			dialIP := tt.dialIP
			if dialIP == "" {
				dialIP = "127.0.0.1"
			}
			dial := net.JoinHostPort(dialIP, port)
			for host, want := range tt.hosts {
				if strings.HasSuffix(host, ":") {
					host += port
				}
				code, body := get(t, dial, "http://"+dial+"/main.ts", host)
				if code != want {
					t.Errorf("Host %s: %d, want %d\n%s", host, code, want, body)
				}
				if code == 403 {
					name, _, err := net.SplitHostPort(host)
					if err != nil {
						name = host
					}
					if !strings.Contains(body, "--allowed-host "+name) {
						t.Errorf("Host %s: 403 does not say which flag allows it:\n%s", host, body)
					}
				}
			}
			// The requests were served, so everything printed before
			// serving is out.
			at := " at " + regexp.QuoteMeta(url)
			var network []string
			if tt.network {
				// The addresses other machines reach, one per line; the
				// warning points at them.
				at = ""
				ifs, err := interfaces()
				if err != nil {
					t.Fatal(err)
				}
				n, _ := strconv.Atoi(port)
				network = networkURLs("0.0.0.0", n, false, ifs)
				if len(network) == 0 {
					network = []string{"no address yet (no interface but loopback is up)"}
				}
			}
			var got []string
			for _, m := range regexp.MustCompile(`(?m)^  Network: (.*)$`).FindAllStringSubmatch(out.String(), -1) {
				got = append(got, m[1])
			}
			if !slices.Equal(got, network) {
				t.Errorf("network URLs printed %q, want %q\n%s", got, network, out.String())
			}
			warning := regexp.MustCompile(`(?m)^devserve: warning: listening on \S+: anyone on your network can read your source code` + at + `$`)
			if got := warning.MatchString(out.String()); got != tt.warn {
				t.Errorf("warning printed: %v, want %v\n%s", got, tt.warn, out.String())
			}
		})
	}
}

// TestServeDoesNotListenBeyondLoopback checks that by default the port is
// closed to other addresses of the machine.
func TestServeDoesNotListenBeyondLoopback(t *testing.T) {
	ip := nonLoopbackIP()
	if ip == "" {
		t.Skip("this machine has no network address")
	}
	_, url, _ := startServe(t, "--port", "0", tinyProject(t))
	port := url[strings.LastIndexByte(url[:len(url)-1], ':')+1 : len(url)-1]
	conn, err := net.DialTimeout("tcp", net.JoinHostPort(ip, port), 5*time.Second)
	if err == nil {
		conn.Close()
		t.Fatalf("port %s is open on %s", port, ip)
	}
}

// startupFailures are the ways devserve cannot start: each must be one
// line of error and exit status 1.
func startupFailures(t *testing.T) []struct {
	name string
	args []string
	want string
} {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { taken.Close() })
	port := strconv.Itoa(taken.Addr().(*net.TCPAddr).Port)
	dir := tinyProject(t)
	outside := filepath.Join(filepath.Dir(dir), "outside.ts")
	os.WriteFile(outside, []byte("export {};"), 0o644)
	file := filepath.Join(dir, "main.ts")
	missing := filepath.Join(dir, "no", "such", "folder")
	cert, key, otherKey := certFiles(t)
	return []struct {
		name string
		args []string
		want string
	}{
		{"port in use", []string{"--port", port, dir}, "port " + port + " is already in use"},
		{"root missing", []string{"--port", "0", missing}, missing + ": no such folder"},
		{"root is a file", []string{"--port", "0", file}, file + " is a file, not a folder"},
		{"entry outside the root", []string{"--port", "0", "--entry", outside, dir}, "entry " + outside + " is outside " + dir},
		{"entry outside the root, relative", []string{"--port", "0", "--entry", "../outside.ts", dir}, "is outside " + dir},
		{"entry missing", []string{"--port", "0", "--entry", "nope.ts", dir}, "nope.ts"},
		{"entry not a script", []string{"--port", "0", "--entry", "index.html", dir}, "index.html"},
		{"address of another machine", []string{"--port", "0", "--host", "198.51.100.1", dir}, "listen on 198.51.100.1:0"},
		{"build of a missing root", []string{"build", missing, "--outdir", t.TempDir()}, missing + ": no such folder"},
		{"build of a file", []string{"build", file, "--outdir", t.TempDir()}, file + " is a file, not a folder"},
		{"mode local", []string{"--port", "0", "--mode", "local", dir}, `mode "local" cannot be used`},
		{"build in mode local", []string{"build", dir, "--mode", "local", "--outdir", t.TempDir()}, `mode "local" cannot be used`},
		{"certificate missing", []string{"--port", "0", "--cert", missing, "--key", key, dir}, "--cert/--key: read certificate: open " + missing + ": no such file"},
		{"key missing", []string{"--port", "0", "--cert", cert, "--key", missing, dir}, "--cert/--key: read key: open " + missing},
		{"certificate not PEM", []string{"--port", "0", "--cert", file, "--key", key, dir}, "certificate " + file + ": no certificate in it"},
		{"key not PEM", []string{"--port", "0", "--cert", cert, "--key", file, dir}, "key " + file + ": no private key in it"},
		{"key of another certificate", []string{"--port", "0", "--cert", cert, "--key", otherKey, dir}, "key " + otherKey + " does not match certificate " + cert},
		{"certificate without key", []string{"--port", "0", "--cert", cert, dir}, "--cert needs --key"},
		{"key without certificate", []string{"--port", "0", "--https", "--key", key, dir}, "--key needs --cert"},
	}
}

// TestStartupFailures runs each failure through the command: an error of
// one line, at once.
func TestStartupFailures(t *testing.T) {
	for _, tt := range startupFailures(t) {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			c := newRootCommand(&out, &out)
			c.SetArgs(tt.args)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			err := c.ExecuteContext(ctx)
			if err == nil || errors.Is(ctx.Err(), context.DeadlineExceeded) {
				t.Fatalf("devserve %q: %v, want an error at once\n%s", tt.args, err, out.String())
			}
			if !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("devserve %q: error %q, want one line with %q", tt.args, err, tt.want)
			}
		})
	}
}

// TestExitStatus builds the binary and checks what a user sees when it
// cannot start: exit status 1 and one line on stderr.
func TestExitStatus(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "devserve")
	build := exec.Command("go", "build", "-o", bin, "github.com/devserve/devserve")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, tt := range startupFailures(t) {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, tt.args...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Fatalf("devserve %q: %v, want exit status 1\nstderr: %s", tt.args, err, stderr.String())
			}
			line := stderr.String()
			if !strings.HasPrefix(line, "devserve: ") || !strings.HasSuffix(line, "\n") || strings.Count(line, "\n") != 1 || !strings.Contains(line, tt.want) {
				t.Errorf("devserve %q: stderr %q, want one line \"devserve: ...%s...\"", tt.args, line, tt.want)
			}
		})
	}
}
