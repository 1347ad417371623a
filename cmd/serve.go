package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/devserve/devserve/bundler"
	"github.com/devserve/devserve/hmr"
	"github.com/spf13/cobra"
)

// serveOptions are what the command line of `devserve [dir]` says: its
// folder and flags, as parsed, checked by runServe.
type serveOptions struct {
	dir      string
	out      io.Writer
	port     int
	portSet  bool // --port was given, so a taken port is an error
	host     string
	entries  []string
	ignores  []string
	allowed  []string
	poll     time.Duration
	quiet    bool
	dotfiles bool
	proxy    []string
	watch    []string
	bundle   bool
	noFR     bool
	noCache  bool
	mode     string
	noSPA    bool
	https    bool
	cert     string
	key      string
	base     string
}

// newServeCommand returns the `devserve [dir]` command, writing to out. It
// only parses the command line; runF runs it (nil: runServe), so that tests
// can check the parsing without starting a server, as gh's commands do.
func newServeCommand(out io.Writer, runF func(context.Context, *serveOptions) error) *cobra.Command {
	f := serveOptions{dir: ".", out: out}
	if runF == nil {
		runF = runServe
	}
	c := &cobra.Command{
		Use:   "devserve [dir]",
		Short: "Serve a web project and update the browser on every save",
		Long: `devserve serves dir (default ".") on http://127.0.0.1:8000/, compiles the
scripts and stylesheets its HTML pages name with esbuild, and updates every
open page when a file changes: CSS in place, JS modules that accept it
(import.meta.hot) in place, anything else by a reload, and build errors over
the page.

With --proxy, devserve stands in front of an app (a Go server, say): it
serves its own files and bundles, sends every other request to the app, and
adds its client to the app's HTML pages; when the app restarts, the pages
reload.`,
		Args:          cobra.MaximumNArgs(1),
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 1 {
				f.dir = args[0]
			}
			f.portSet = c.Flags().Changed("port")
			return runF(c.Context(), &f)
		},
	}
	fl := c.Flags()
	fl.IntVarP(&f.port, "port", "p", 8000, "port to listen on; if taken and not given, the next free one")
	fl.StringVar(&f.host, "host", "127.0.0.1", "address to listen on; anything but loopback exposes your source to the network")
	fl.StringArrayVar(&f.entries, "entry", nil, "entry point to bundle (repeatable); default: the scripts and stylesheets of the HTML pages")
	fl.StringArrayVar(&f.ignores, "ignore", nil, "path pattern the watcher ignores (repeatable), e.g. 'dist' or '*.log'")
	fl.StringArrayVar(&f.allowed, "allowed-host", nil, "Host header to accept besides loopback names (repeatable; '*' accepts any)")
	fl.DurationVar(&f.poll, "poll", 0, "poll for changes at this interval instead of inotify (network and container file systems)")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "print only errors")
	fl.BoolVar(&f.dotfiles, "allow-dotfiles", false, "serve files and folders whose name starts with a dot (.env, .git)")
	fl.StringArrayVar(&f.proxy, "proxy", nil, "URL of an app to serve what dir does not have, with live reload in its pages, e.g. http://127.0.0.1:8080; or PREFIX=URL to send the paths under PREFIX to a server (repeatable), e.g. /api=http://127.0.0.1:8080 (a URL with a path, as /api/=http://127.0.0.1:8080/, replaces the prefix)")
	fl.StringArrayVar(&f.watch, "watch", nil, "folder whose changes reload the pages, with no build (repeatable), e.g. templates")
	fl.BoolVar(&f.bundle, "bundle", false, "serve each script bundled, as a production build does: no hot module replacement, every JS edit reloads")
	fl.BoolVar(&f.noFR, "no-react-refresh", false, "reload the page on an edit of a React component instead of re-rendering it in place with its state (React Fast Refresh)")
	fl.BoolVar(&f.noCache, "no-cache", false, "compile every module at start instead of reading those compiled before, and the last bundle, from node_modules/.cache/devserve (or the user cache folder)")
	fl.StringVar(&f.mode, "mode", bundler.DefaultMode, "import.meta.env.MODE, and the env files to read: .env, .env.local, .env.[mode], .env.[mode].local")
	fl.BoolVar(&f.noSPA, "no-spa-fallback", false, "answer a navigation to a path with no file with a 404 page, not the nearest index.html above it")
	fl.BoolVar(&f.https, "https", false, "serve https:// (HTTP/2) with a certificate devserve makes for localhost and the --host and --allowed-host names, signed by mkcert's CA if installed")
	fl.StringVar(&f.cert, "cert", "", "certificate file (PEM) to serve https:// with, instead of devserve's; needs --key")
	fl.StringVar(&f.key, "key", "", "private key file (PEM) of --cert")
	fl.StringVar(&f.base, "base", "/", "URL path to serve the project under, e.g. /app/ behind a reverse proxy: pages, scripts, devserve's own URLs and import.meta.env.BASE_URL start with it ('app' means /app/)")
	return c
}

// The garbage collector's paces in the binary (GOGC). A cold start
// compiles every module, and at Go's default pace a quarter of its CPU
// went to collecting (5,000 modules: 7.3-8.1 s of user CPU against
// 5.2-5.9 s at 400; the bench's cold start at 20,000 modules: 8.6 to
// 6.9 s). The heap's peak grows with it (105 to 233 MB at 5,000 modules),
// capped at 1 GiB by a soft limit, and so does what is left once handed
// back (20,000 modules: 81 to 99 MiB of RSS, the objects kept sitting
// among more pages; 5,000: 38 to 41), a trade made for the cold start's
// seconds. After the first build, what stays is mostly
// the modules served, for the server's life, and Go lets the heap grow to
// twice what is live before it collects (100): 1.75 times keeps RSS below
// Bun's at 20,000 modules, for a collection a little more often while
// serving (docs/DESIGN.md, issue #14).
const (
	firstBuildGCPercent = 400
	firstBuildMemLimit  = 1 << 30
	servingGCPercent    = 75
)

// firstBuildGC sets the first build's pace until the returned function is
// called, after the first build, which sets the serving pace and hands
// the first build's garbage back to the OS at once: Go would return it
// over minutes, and a dev server idles for most of its life, beside a
// browser and an editor. With the module cache warm (a restart), the
// first build compiles little, and the serving pace holds from the start:
// at 20,000 modules a restart then takes 61 MiB of RSS against 76, in the
// same time. Process-wide settings: the binary's to make, not the
// library's; a GOGC or GOMEMLIMIT of the user's wins.
func firstBuildGC(warm bool) (done func()) {
	if os.Getenv("GOGC") != "" {
		return debug.FreeOSMemory
	}
	limit := os.Getenv("GOMEMLIMIT") == ""
	coldGC.Lock()
	if warm {
		if coldGC.builds == 0 {
			debug.SetGCPercent(servingGCPercent)
		}
		coldGC.Unlock()
		return debug.FreeOSMemory
	}
	if coldGC.builds++; coldGC.builds == 1 {
		debug.SetGCPercent(firstBuildGCPercent)
		if limit {
			coldGC.limit = debug.SetMemoryLimit(firstBuildMemLimit)
		}
	}
	coldGC.Unlock()
	return func() {
		coldGC.Lock()
		if coldGC.builds--; coldGC.builds == 0 {
			debug.SetGCPercent(servingGCPercent)
			if limit {
				debug.SetMemoryLimit(coldGC.limit)
			}
		}
		coldGC.Unlock()
		debug.FreeOSMemory()
	}
}

// esbuildKeeps is longer than esbuild keeps what each api.Build parsed
// after it returns (250 ms, for its own serve mode): a compile's last
// batches are live when module mode starts serving, and garbage then.
const esbuildKeeps = 500 * time.Millisecond

// bigBuild is how long a build takes from which its garbage goes back to
// the OS once it is done, as the first build's does: an edit that brought
// a 14 MB data file into the graph (a 1.6 s build) left the process at
// 400-500 MiB of RSS, most of it garbage that no later allocation came to
// collect, for minutes. An edit's build takes milliseconds.
const bigBuild = 250 * time.Millisecond

// coldGC is what firstBuildGC changed: the garbage collector's settings
// are the process's one state, which several servers in one process
// (tests) share, so the first to start a first build sets them and the
// last to finish one sets the serving pace.
var coldGC struct {
	sync.Mutex
	builds int
	limit  int64
}

// runServe runs the dev server that f describes until ctx is done.
func runServe(ctx context.Context, f *serveOptions) error {
	dir := f.dir
	p := newPrinter(f.out, f.quiet)
	if err := checkRoot(dir); err != nil {
		return err
	}
	entries, err := rootRelative(dir, f.entries)
	if err != nil {
		return err
	}
	backend, routes, err := parseProxies(f.proxy)
	if err != nil {
		return err
	}
	base, err := bundler.NormalizeBase(f.base)
	if err != nil {
		return fmt.Errorf("--base: %w", err)
	}
	hosts := append(listenHosts(f.host), f.allowed...)
	cert, err := certificate(f, hosts)
	if err != nil {
		return err
	}
	ln, err := listen(f.host, f.port, f.portSet)
	if err != nil {
		return err
	}
	defer ln.Close()
	cache := cacheDir(f.noCache)
	if cache == "" && !f.bundle {
		cache, _ = bundler.DefaultCacheDir(dir) // as hmr.New picks it
	}
	firstBuildDone := firstBuildGC(bundler.CacheWarmAt(cache))
	bigBuilt := make(chan struct{}, 1)
	report := func(r hmr.Report) {
		p.report(r)
		// A bundle for the next start is made while the user is away,
		// and all of its garbage goes: a small project's too (the react-ts
		// app's took devserve from 27 to 53 MiB of RSS, for good).
		if r.Duration >= bigBuild || r.Event == hmr.ReportKeep {
			select {
			case bigBuilt <- struct{}{}:
			default:
			}
		}
	}
	srv, err := hmr.New(hmr.Options{
		Root:          dir,
		Base:          base,
		Build:         bundler.BuildOptions{Entries: entries, Mode: f.mode, NoReactRefresh: f.noFR, CacheDir: cache},
		Bundle:        f.bundle,
		BundleFirst:   true,
		Ignore:        f.ignores,
		Poll:          f.poll,
		AllowedHosts:  hosts,
		AllowDotfiles: f.dotfiles,
		Proxy:         backend,
		ProxyRoutes:   routes,
		ReloadDirs:    f.watch,
		NoSPAFallback: f.noSPA,
		OnReport:      report,
		Logger:        p.logger(),
	})
	if err != nil {
		firstBuildDone()
		return err
	}
	// The first build's pace lasts until module mode serves (with
	// BundleFirst it compiles after New returns); its garbage goes back to
	// the OS then, and again once esbuild has let go of its last builds;
	// a big build's, once esbuild has let go of it.
	freed, stop := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(freed)
		<-srv.Ready()
		firstBuildDone()
		for {
			select {
			case <-time.After(esbuildKeeps):
				debug.FreeOSMemory()
			case <-stop:
				return
			}
			select {
			case <-bigBuilt:
			case <-stop:
				return
			}
		}
	}()
	defer func() { <-freed }()
	defer close(stop)
	port := ln.Addr().(*net.TCPAddr).Port
	if f.port != 0 && port != f.port {
		p.say("port %d is in use, using %d", f.port, port)
	}
	url := urlFor(f.host, port, cert != nil) + strings.TrimPrefix(base, "/")
	var network []string
	if ip := net.ParseIP(f.host); ip != nil && ip.IsUnspecified() {
		ifs, err := interfaces()
		if err != nil {
			p.warn("%v", err)
		}
		network = []string{}
		for _, u := range networkURLs(f.host, port, cert != nil, ifs) {
			network = append(network, u+strings.TrimPrefix(base, "/"))
		}
	}
	p.serving(dir, url, network, srv.Status())
	if cert != nil {
		p.certificate(cert, urlHost(f.host))
	}
	for _, r := range routes {
		p.detail("proxying %s to %s", r.Prefix, r.Target.Redacted())
	}
	if backend != nil {
		p.detail("proxying everything else to %s", backend.Redacted())
	}
	if !isLoopbackIP(f.host) {
		p.exposed(f.host, url, network)
	}

	hs := hmr.NewHTTPServer(srv, p.logger())
	if cert != nil {
		hs.TLSConfig = cert.TLSConfig()
	}
	served := make(chan error, 1)
	go func() { served <- serveOn(hs, ln) }()
	select {
	case <-ctx.Done():
	case err = <-served:
	}
	// Close ends the event streams first; Shutdown then finds idle
	// connections and returns at once.
	srv.Close()
	sctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if serr := hs.Shutdown(sctx); serr != nil {
		hs.Close()
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// listen opens host:port. When the port is taken and was not asked for
// explicitly it tries the next ones, as a user who runs two projects
// expects.
func listen(host string, port int, explicit bool) (net.Listener, error) {
	tries := 1
	if !explicit && port != 0 {
		tries = 20
	}
	var err error
	for i := 0; i < tries && port+i <= 65535; i++ {
		var ln net.Listener
		ln, err = net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port+i)))
		if err == nil {
			return ln, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			break
		}
	}
	if errors.Is(err, syscall.EADDRINUSE) {
		if explicit {
			return nil, fmt.Errorf("port %d is already in use (try another --port, or leave it out to take the next free one)", port)
		}
		return nil, fmt.Errorf("ports %d to %d are all in use", port, port+tries-1)
	}
	return nil, fmt.Errorf("listen on %s: %w", net.JoinHostPort(host, strconv.Itoa(port)), err)
}

// listenHosts returns the Host names the server must accept besides
// loopback names when it listens on host: the host itself, and for an
// unspecified address (0.0.0.0, ::) this machine's addresses and name.
func listenHosts(host string) []string {
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsUnspecified() {
		return []string{host}
	}
	hosts := []string{}
	if name, err := os.Hostname(); err == nil {
		hosts = append(hosts, name)
	}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			hosts = append(hosts, n.IP.String())
		}
	}
	return hosts
}

func isLoopbackIP(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// urlFor returns the URL to print for a server on host:port.
func urlFor(host string, port int, https bool) string {
	scheme := "http://"
	if https {
		scheme = "https://"
	}
	return scheme + net.JoinHostPort(urlHost(host), strconv.Itoa(port)) + "/"
}

// urlHost returns the host of the URL to print for a server on host: an
// unspecified address (0.0.0.0, ::) is reached as localhost.
func urlHost(host string) string {
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		return "localhost"
	}
	return host
}

// checkRoot returns an error naming dir as the user typed it when dir is
// no folder, so that neither command answers with a library's words
// ("bundler: root ./nope: lstat ...").
func checkRoot(dir string) error {
	fi, err := os.Stat(dir)
	var pe *fs.PathError
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR): // ENOTDIR: a file on the way
		return fmt.Errorf("%s: no such folder", dir)
	case errors.As(err, &pe):
		return fmt.Errorf("%s: %w", dir, pe.Err)
	case err != nil:
		return fmt.Errorf("%s: %w", dir, err)
	case !fi.IsDir():
		return fmt.Errorf("%s is a file, not a folder", dir)
	}
	return nil
}

// rootRelative turns --entry values into paths relative to dir. A value may
// be given relative to the current folder (as a shell completes it) or to
// dir; one that leaves dir is an error.
func rootRelative(dir string, entries []string) ([]string, error) {
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		p := filepath.Join(absDir, e)
		if filepath.IsAbs(e) {
			p = filepath.Clean(e)
		} else if _, err := os.Stat(e); err == nil {
			p, _ = filepath.Abs(e)
		}
		rel, err := filepath.Rel(absDir, p)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return nil, fmt.Errorf("entry %s is outside %s", e, dir)
		}
		out = append(out, filepath.ToSlash(rel))
	}
	return out, nil
}

// cacheDir is bundler.BuildOptions.CacheDir for --no-cache: hmr.New's default
// unless it is given.
func cacheDir(off bool) string {
	if off {
		return bundler.NoCache
	}
	return ""
}
