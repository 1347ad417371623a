package hmr

import (
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/devserve/devserve/watcher"
)

// copyFixture copies testdata/<name> from the repository into a temporary
// folder that the test may edit.
func copyFixture(t testing.TB, name string) string {
	t.Helper()
	src := filepath.Join("..", "testdata", name)
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatalf("copy fixture %s: %v", name, err)
	}
	return dst
}

// testServer is a Server listening on 127.0.0.1 for a test, with what its
// build loop reports.
type testServer struct {
	*Server
	URL     string
	dir     string
	reports chan Report
	batches chan batchSeen
	http    *httptest.Server
}

type batchSeen struct {
	batch   []watcher.Change
	started bool
}

// startServer serves dir on addr ("127.0.0.1:0" for any port) until the test
// ends.
func startServer(t testing.TB, dir, addr string, opts Options) *testServer {
	t.Helper()
	return startServerVia(t, dir, addr, opts, nil)
}

// startServerVia is startServer with the server's handler wrapped by wrap,
// if not nil, so that a test can hold or watch requests.
func startServerVia(t testing.TB, dir, addr string, opts Options, wrap func(http.Handler) http.Handler) *testServer {
	t.Helper()
	ts := &testServer{dir: dir, reports: make(chan Report, 1000), batches: make(chan batchSeen, 1000)}
	opts.Root = dir
	if opts.Build.CacheDir == "" {
		// The module cache of this test alone: never in a fixture's
		// node_modules under testdata/, which hmr.New's default would
		// pick.
		opts.Build.CacheDir = filepath.Join(t.TempDir(), "cache")
	}
	onReport, onBatch := opts.OnReport, opts.batchHook // the caller's, called first
	opts.OnReport = func(r Report) {
		if onReport != nil {
			onReport(r)
		}
		ts.reports <- r
	}
	opts.batchHook = func(b []watcher.Change, started bool) {
		if onBatch != nil {
			onBatch(b, started)
		}
		ts.batches <- batchSeen{b, started}
	}
	srv, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		srv.Close()
		t.Fatalf("listen: %v", err)
	}
	ts.Server = srv
	var h http.Handler = srv
	if wrap != nil {
		h = wrap(srv)
	}
	ts.http = httptest.NewUnstartedServer(h)
	ts.http.Listener.Close()
	ts.http.Listener = ln
	ts.http.Config = NewHTTPServer(h, nil)
	ts.http.Start()
	ts.URL = ts.http.URL
	t.Cleanup(ts.stop)
	return ts
}

// stop closes the server the way the command does: event streams first,
// then the listener and the connections.
func (ts *testServer) stop() {
	ts.Server.Close()
	ts.http.Close()
}

// write writes a file of the served project.
func (ts *testServer) write(t testing.TB, rel, content string) {
	t.Helper()
	p := filepath.Join(ts.dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// nextReport waits for the build loop's next report.
func (ts *testServer) nextReport(t testing.TB) Report {
	t.Helper()
	select {
	case r := <-ts.reports:
		return r
	case <-time.After(20 * time.Second):
		t.Fatal("timed out waiting for a build report")
		return Report{}
	}
}

// nextBatch waits until the build loop has handled a watcher batch that
// names path.
func (ts *testServer) nextBatch(t testing.TB, path string) batchSeen {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case b := <-ts.batches:
			for _, c := range b.batch {
				if c.Path == path {
					return b
				}
			}
		case <-timeout:
			t.Fatalf("timed out waiting for a change of %s", path)
		}
	}
}

// noReport fails if a report is waiting.
func (ts *testServer) noReport(t testing.TB) {
	t.Helper()
	select {
	case r := <-ts.reports:
		t.Fatalf("unexpected report: %+v", r)
	default:
	}
}

func readFile(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// saveAtRate writes rel n times, one save every period, with format's %d
// the save's number, and returns how long it took and how many times the
// writer stalled: went streamWindow or more without a save, which ends a
// stream for the build loop. On each tick it makes the saves due by then,
// so a writer that gets the CPU late still saves at the rate on average.
// This is the load of a test, not a wait.
func (ts *testServer) saveAtRate(t testing.TB, rel, format string, n int, every time.Duration) (took time.Duration, stalls int) {
	t.Helper()
	began := time.Now()
	last := began
	tick := time.NewTicker(every)
	defer tick.Stop()
	for i := 0; i < n; {
		<-tick.C
		if time.Since(last) >= streamWindow {
			stalls++
		}
		for due := min(int(time.Since(began)/every), n); i < due; i++ {
			ts.write(t, rel, fmt.Sprintf(format, i))
			last = time.Now()
		}
	}
	return time.Since(began), stalls
}
