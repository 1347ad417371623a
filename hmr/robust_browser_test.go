package hmr

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/devserve/devserve/internal/browsertest"
	"github.com/devserve/devserve/internal/ssetest"
)

const overlayJS = `document.querySelector("devserve-overlay")`

// overlayShows is a JS condition: the error overlay is up and says s.
func overlayShows(s string) string {
	return overlayJS + ` && ` + overlayJS + `.shadowRoot.textContent.includes(` + strconv.Quote(s) + `)`
}

// pageOK is a JS condition: no overlay, and the client thinks all is well.
const pageOK = `!` + overlayJS + ` && window.__devserve.connected && window.__devserve.status === "ok"`

// drainReports drops the reports waiting, once a test step is over: a
// step may cause more than one build (a removal and a creation can arrive
// in two batches), and the next step must not take them for its own.
func (ts *testServer) drainReports() {
	for {
		select {
		case <-ts.reports:
		default:
			return
		}
	}
}

// waitErrors waits for a report of a failed build whose errors mention s.
func (ts *testServer) waitErrors(t testing.TB, s string) Report {
	t.Helper()
	timeout := time.After(20 * time.Second)
	var seen []string
	for {
		select {
		case r := <-ts.reports:
			if r.Event == EventErrors && strings.Contains(errorsText(r), s) {
				return r
			}
			seen = append(seen, fmt.Sprintf("%s %v reload=%v %q", r.Event, r.Changed, r.Reload, errorsText(r)))
		case <-timeout:
			t.Fatalf("timed out waiting for a failed build that mentions %q; reports:\n%s", s, strings.Join(seen, "\n"))
			return Report{}
		}
	}
}

// TestBrowserSurvivesFilesystemChanges takes files, folders and the whole
// root away from a running server, and brings them back: each loss must
// show in the terminal report and in the page's overlay, and each return
// must bring the page back to the current code, with no restart.
func TestBrowserSurvivesFilesystemChanges(t *testing.T) {
	t.Parallel()
	ts, tab := openLive(t)
	at := func(rel string) string { return filepath.Join(ts.dir, filepath.FromSlash(rel)) }
	must := func(t *testing.T, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	mainJS, page := string(readFile(t, at("main.js"))), string(readFile(t, at("index.html")))
	// A file no one can read. Tests run as root here, and root reads a
	// file whatever its mode, so for root the file becomes a symbolic
	// link to itself, which no one can read either (ELOOP).
	unreadable := func(t *testing.T) { must(t, os.Chmod(at("value.js"), 0)) }
	if os.Geteuid() == 0 {
		unreadable = func(t *testing.T) {
			must(t, os.Remove(at("value.js")))
			must(t, os.Symlink("value.js", at("value.js")))
		}
	}

	steps := []struct {
		name   string
		do     func(t *testing.T)
		errors string // a failed build must mention this; "" for a good build
		page   string // JS condition the page must reach
	}{
		{"a folder of modules", func(t *testing.T) {
			ts.writeAtomic(t, "lib/text.js", `export const text = "from lib";`)
			ts.writeAtomic(t, "value.js", `export { text as value } from "./lib/text.js";`)
		}, "", outText("from lib") + " && " + pageOK},
		{"entry deleted", func(t *testing.T) { must(t, os.Remove(at("main.js"))) }, "main.js", overlayShows("main.js")},
		{"entry recreated", func(t *testing.T) {
			ts.writeAtomic(t, "main.js", strings.Replace(mainJS, "= value;", `= value + "!";`, 1))
		}, "", outText("from lib!") + " && " + pageOK},
		{"folder renamed", func(t *testing.T) { must(t, os.Rename(at("lib"), at("lib2"))) }, `"./lib/text.js"`, overlayShows("./lib/text.js")},
		{"folder renamed back", func(t *testing.T) { must(t, os.Rename(at("lib2"), at("lib"))) }, "", outText("from lib!") + " && " + pageOK},
		{"file unreadable", unreadable, "value.js", overlayShows("value.js")},
		{"file readable again", func(t *testing.T) {
			must(t, os.Remove(at("value.js")))
			ts.writeAtomic(t, "value.js", `export const value = "readable again";`)
		}, "", outText("readable again!") + " && " + pageOK},
		{"page deleted", func(t *testing.T) { must(t, os.Remove(at("index.html"))) }, "",
			`document.title === "404 Not Found" && window.__devserve.connected`},
		{"page restored", func(t *testing.T) { ts.writeAtomic(t, "index.html", page) }, "", outText("readable again!") + " && " + pageOK},
		{"root deleted", func(t *testing.T) { must(t, os.RemoveAll(ts.dir)) }, "project folder", overlayShows("project folder")},
		{"root recreated", func(t *testing.T) {
			must(t, os.CopyFS(ts.dir, os.DirFS(filepath.Join("..", "testdata", "live"))))
		}, "", outText("one") + " && " + pageOK},
	}
	for _, st := range steps {
		ok := t.Run(st.name, func(t *testing.T) {
			st.do(t)
			if st.errors != "" {
				ts.waitErrors(t, st.errors)
			} else {
				ts.waitReport(t, EventBuilt)
			}
			if err := browsertest.WaitJS(tab, st.page, browserWait); err != nil {
				t.Fatalf("%v\nstatus: %+v", err, ts.Status())
			}
			ts.drainReports()
		})
		if !ok {
			break // the next steps start from this one's state
		}
	}
}

// unplugProxy forwards TCP connections to a server until it is unplugged:
// then it cuts the connections it carries and closes every new one at
// once, as a network that went away would, counting them. Or it black-holes
// the connections it carries: they stay open but carry nothing either way,
// not even their end, as when a laptop sleeps or a proxy drops a
// connection without a word; new ones are forwarded.
type unplugProxy struct {
	ln     net.Listener
	target string

	mu       sync.Mutex
	down     bool
	conns    map[net.Conn]bool
	quiet    []*atomic.Bool // a flag per connection carried: black-holed
	attempts chan struct{}  // a token per refused connection
	wg       sync.WaitGroup
}

func newUnplugProxy(t *testing.T, target string) *unplugProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &unplugProxy{ln: ln, target: target, conns: map[net.Conn]bool{}, attempts: make(chan struct{}, 1000)}
	p.wg.Go(p.accept)
	t.Cleanup(func() {
		ln.Close()
		p.unplug()
		p.wg.Wait()
	})
	return p
}

func (p *unplugProxy) URL() string { return "http://" + p.ln.Addr().String() }

func (p *unplugProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			c.Close()
			p.attempts <- struct{}{}
			continue
		}
		p.conns[c] = true
		p.mu.Unlock()
		p.wg.Go(func() { p.forward(c) })
	}
}

func (p *unplugProxy) forward(c net.Conn) {
	defer func() {
		p.mu.Lock()
		delete(p.conns, c)
		p.mu.Unlock()
		c.Close()
	}()
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	p.mu.Lock()
	if p.down {
		p.mu.Unlock()
		s.Close()
		return
	}
	p.conns[s] = true
	quiet := new(atomic.Bool)
	p.quiet = append(p.quiet, quiet)
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.conns, s)
		p.mu.Unlock()
		s.Close()
	}()
	done := make(chan struct{}, 2)
	go func() { pump(s, c, quiet); done <- struct{}{} }()
	go func() { pump(c, s, quiet); done <- struct{}{} }()
	<-done
	if quiet.Load() {
		<-done // a black hole closes nothing; the test's end (unplug) does
	}
}

// pump copies from src to dst until either fails, dropping what it reads
// once quiet is set.
func pump(dst, src net.Conn, quiet *atomic.Bool) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !quiet.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// blackhole silences every connection carried now; see unplugProxy.
func (p *unplugProxy) blackhole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, q := range p.quiet {
		q.Store(true)
	}
}

// unplug cuts every connection and refuses new ones until plug.
func (p *unplugProxy) unplug() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
}

func (p *unplugProxy) plug() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}

// TestBrowserOfflineClient takes a page's network away while the server
// goes on building, long enough for the client's reconnection backoff to
// reach its ceiling and for the events it missed to leave the server's
// replay history (what a minute offline does), and then brings it back:
// the page must reconnect by itself and end on the current build, with one
// reload.
//
// Offline is simulated with a TCP proxy between the browser and the server
// that cuts its connections and refuses new ones, rather than by waiting a
// minute: after five refused reconnections the client waits the most it
// ever does (3 s) between tries, so more time changes nothing but the
// number of tries.
func TestBrowserOfflineClient(t *testing.T) {
	t.Parallel()
	ts := startServer(t, copyFixture(t, "live"), "127.0.0.1:0", Options{})
	proxy := newUnplugProxy(t, strings.TrimPrefix(ts.URL, "http://"))
	tab := browsertest.New(t)
	navigate(t, tab, proxy.URL())

	proxy.unplug()
	waitJS(t, tab, `!window.__devserve.connected`)
	ts.writeAtomic(t, "value.js", `export const value = "built while offline";`)
	ts.waitReport(t, EventBuilt)
	for i := range 100 { // more events than the replay history holds
		if err := ts.Publish("noise", i); err != nil {
			t.Fatal(err)
		}
	}
	ts.writeAtomic(t, "value.js", `export const value = "current";`)
	ts.waitReport(t, EventBuilt)
	for range 5 {
		select {
		case <-proxy.attempts:
		case <-time.After(20 * time.Second):
			t.Fatal("the page stopped trying to reconnect")
		}
	}
	if txt := evalJS[string](t, tab, `document.getElementById("out").textContent`); txt != "one" {
		t.Fatalf("the page changed while offline: %q", txt)
	}

	proxy.plug()
	build := ts.Status().Build
	waitJS(t, tab, outText("current")+` && `+pageOK+` && window.__devserve.build === `+strconv.Quote(build))
	if n := runs(t, tab); n != 2 {
		t.Errorf("the page ran %d times, want 2 (one reload)", n)
	}
}

// TestBrowserThousandEdits saves one file 1,000 times at 100 saves a
// second: the page must end on the last content, after far fewer builds
// than saves.
func TestBrowserThousandEdits(t *testing.T) {
	t.Parallel()
	const edits, every = 1000, 10 * time.Millisecond
	ts, tab := openLive(t)
	count := make(chan int)
	stop := make(chan struct{})
	go func() {
		n := 0
		for {
			select {
			case r := <-ts.reports:
				if r.Event == EventBuilt || r.Event == EventErrors {
					n++
				}
			case <-stop:
				count <- n
				return
			}
		}
	}()
	began := time.Now()
	wrote, _ := ts.saveAtRate(t, "value.js", `export const value = "edit %d";`, edits, every)
	final := fmt.Sprintf("edit %d", edits-1)
	if err := browsertest.WaitJS(tab, outText(final)+` && `+pageOK, browserWait); err != nil {
		_, body := ssetest.Request(t, ts.http, "GET", "/main.js")
		i := strings.Index(body, "edit ")
		t.Fatalf("%v\npage: %s\nserver: %+v, serving %.20q, disk %q", err,
			evalJS[string](t, tab, `document.getElementById("out").textContent + " " + JSON.stringify(window.__devserve) + " sync reloads: " + sessionStorage.getItem("__devserve_reloads")`),
			ts.Status(), body[max(i, 0):], readFile(t, filepath.Join(ts.dir, "value.js")))
	}
	close(stop)
	builds := <-count
	t.Logf("%d edits in %v, page final %v later: %d builds", edits, wrote.Round(time.Millisecond), (time.Since(began) - wrote).Round(time.Millisecond), builds)
	if builds >= 200 {
		t.Errorf("%d edits took %d builds, want fewer than 200", edits, builds)
	}
}
