package hmr

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/devserve/devserve/bundler"
	"github.com/devserve/devserve/client"
	"github.com/devserve/devserve/internal/guard"
	"github.com/devserve/devserve/internal/protocol"
	"github.com/devserve/devserve/internal/proxy"
	"github.com/devserve/devserve/watcher"
)

// Prefix is the URL prefix reserved for devserve's own endpoints. Nothing of
// the user's project is ever served under it.
const Prefix = protocol.Prefix

// Endpoint paths of the wire protocol (see docs/DESIGN.md).
const (
	ClientPath = protocol.ClientPath
	WorkerPath = protocol.WorkerPath
	EventsPath = protocol.EventsPath
	StatusPath = protocol.StatusPath
)

// Options configures a Server. The zero value serves the current folder
// with discovered entries, on loopback names only.
type Options struct {
	// Root is the project folder to serve and watch; "" means ".".
	Root string
	// Base is the URL path the project is served under, for an app behind
	// a reverse proxy at a path: with "/app/", /app/x is what / x is
	// without it, the pages' absolute URLs and every URL devserve writes
	// (its client, the scripts' imports, updates, assets,
	// import.meta.env.BASE_URL) start with /app/, and requests outside
	// it get a redirect to it (a navigation to /) or a 404 that names it.
	// ProxyRoutes match the path as the browser sent it, base included;
	// the Proxy backend gets it as sent too. It is normalized as
	// bundler.NormalizeBase says ("app" is "/app/"); "" means "/". See
	// base.go.
	Base string
	// Build says how the project's code is built: entries, esbuild's
	// options, import.meta.env. Where the project is (Root, Base), the
	// Logger and module mode (Bundle) are the server's own settings. In
	// module mode an empty CacheDir is bundler.DefaultCacheDir of the
	// root, so that a restart reads the modules compiled before;
	// bundler.NoCache turns the cache off.
	Build bundler.BuildOptions
	// Bundle serves each JS entry bundled, as a production build does,
	// instead of in module mode (bundler.Options.Modules): no hot module
	// replacement, every JS change reloads the pages.
	Bundle bool
	// BundleFirst, in module mode, serves the pages bundled (as Bundle
	// does) while module mode compiles in the background, when the module
	// cache holds no module this binary compiled (a first start, an
	// upgrade, no cache; bundler.CacheWarm): a
	// bundle takes a fraction of the time of compiling every module alone,
	// so the first page shows sooner; its source maps are made when asked
	// for (bundler.Options.MapsOnRequest). A page served bundled has no
	// modules to replace: its client reloads it on its first JS update,
	// into module mode. Ready says when module mode serves; until then Status
	// says Compiling. See docs/DESIGN.md, "The first page of a cold start
	// is bundled".
	BundleFirst bool
	// Ignore lists path patterns (path.Match syntax) the file watchers
	// leave out besides their built-in ones; see watcher.Options.Ignore.
	Ignore []string
	// Poll, if positive, makes the file watchers list the tree at this
	// interval instead of using inotify: for network and container file
	// systems that send no events.
	Poll time.Duration
	// AllowedHosts are Host names allowed besides loopback names
	// (DNS rebinding protection); "*" allows any host.
	AllowedHosts []string
	// AllowDotfiles serves files and folders whose name starts with a dot
	// (.env, .git), which are 404 by default.
	AllowDotfiles bool
	// Proxy, if set, is the URL of a backend, such as a Go app, to serve
	// everything else: requests that are not for devserve's endpoints, the
	// bundler's outputs or a file under Root go to it, and its HTML pages
	// get the client injected (as with Inject). When the backend goes down
	// and comes back, the pages reload. See internal/proxy.
	Proxy *url.URL
	// ProxyRoutes send the requests under path prefixes to other servers,
	// an API beside the pages as with Vite's server.proxy, the longest
	// prefix first. They come right after the Host/Origin guard: nothing
	// under a prefix is ever served from Root, public/ or the SPA fallback,
	// nor goes to Proxy, with which they combine. Their answers come back
	// untouched (no client in them), WebSocket upgrades and event streams
	// unbuffered; a navigation that the server does not answer gets a page
	// that says so and reloads once it does. See ProxyRoute and routes.go.
	ProxyRoutes []ProxyRoute
	// ReloadDirs are folders besides Root whose changes reload the pages,
	// with no build: the templates of a Go app, say.
	ReloadDirs []string
	// NoSPAFallback turns off the SPA fallback: by default a browser's
	// navigation to a path with no file and no file extension
	// (/app/users/42) gets the nearest index.html above it, as with Vite,
	// so that the routes of a single-page app survive a reload. Without
	// it, such a navigation gets the missing page. Proxy mode never falls
	// back: the backend answers what the root does not have. See spa.go.
	NoSPAFallback bool
	// Heartbeat is how often the event stream proves to the pages that it
	// is alive (EventPing); a page that hears nothing for two and a half
	// of these takes its connection for dead and reconnects. 0 means 10s.
	Heartbeat time.Duration
	// OnReport, if set, is called after every build and every reload
	// request, when a proxied backend goes down, and after a bundle for
	// the next start (ReportKeep), for terminal output.
	// It must not block long. It is called from the build loop, and for
	// reloads, backends and bundles for the next start from other
	// goroutines too.
	OnReport func(Report)
	// Logger receives diagnostics; nil is silent.
	Logger *slog.Logger

	// lockfilePoll, for tests, replaces lockfilePoll.
	lockfilePoll time.Duration
	// keepIdle and keptWait, for tests, replace keepIdle and keptWait.
	keepIdle, keptWait time.Duration
	// batchHook, for tests, is called by the build loop after it handled
	// a watcher batch, with whether that started a build.
	batchHook func(batch []watcher.Change, started bool)
	// modulesHook, for tests, is called on the goroutine of the first
	// build of module mode with BundleFirst, once its start is taken,
	// before it runs.
	modulesHook func()
	// modulesBuiltHook, for tests, is called on that goroutine once that
	// build has ended, before the loop hears of it.
	modulesBuiltHook func()
	// fetchUpdates, for tests, keeps the code out of built events: the
	// pages fetch every hot update (see inline.go).
	fetchUpdates bool
}

// Report describes one thing the server told the browsers: a finished build
// (Event is EventBuilt or EventErrors) or a reload (EventReload). With
// NoBuild, no build ran: the project's own errors (a clash of public/)
// appeared, changed or went away, and Event says whether errors remain.
type Report struct {
	Time time.Time
	// Event is the event the browsers were sent (EventBuilt, EventErrors,
	// EventReload), or ReportBackendDown, which no browser is sent.
	Event    string
	Changed  []string // root-relative paths that caused it
	Duration time.Duration
	Updates  []Update
	Reload   bool
	Reason   string
	Errors   []Message // the build's errors, then the project's
	Warnings []Message
	Failed   bool // the build failed (EventErrors): the last good one is served; or, of ReportKeep, nothing was kept
	NoBuild  bool // no build ran: only the project's errors changed
	Clients  int  // how many browsers were told
}

// Server is the dev server: an http.Handler serving the project with the
// client injected into its HTML, the bundler's outputs and the protocol's
// endpoints, plus the loop that turns file changes into builds and events.
// Create it with New and stop it with Close.
type Server struct {
	root    string
	base    string // Options.Base, normalized: "/" or "/app/"
	opts    Options
	log     *slog.Logger
	guard   *guard.Guard
	watcher *watcher.Watcher
	broker  *Broker
	same    *sameBytes
	pages   pages
	workers workerFiles
	// instance salts build IDs, so that a page from an earlier run of the
	// server reloads once when it reconnects: HTML, or a file read from
	// disk, may have changed while no server watched.
	instance string
	scripts  map[string]script // the client's scripts, minified

	// cur is the bundler that serves: the module-mode one, or with
	// BundleFirst a bundled one until the module-mode one, modules, has
	// built (see bundlefirst.go).
	cur     atomic.Pointer[bundler.Bundler]
	modules *bundler.Bundler // build loop only, after New
	// modulesBuilt brings the first build of modules; ready is closed
	// once modules serves, or at once without BundleFirst.
	modulesBuilt chan modulesBuild
	ready        chan struct{}
	// keep keeps a bundle for the next start fresh, with BundleFirst
	// and a cache folder; nil otherwise (see keep.go).
	keep *keeper

	mu        sync.Mutex
	build     string // ID of the outputs being served
	status    string // "ok", "building", "error"
	failed    bool   // the last build failed: build is the last good one
	buildErrs []Message
	errs      []Message // what the browsers see: see combineErrors
	warnings  []Message
	idle      chan struct{} // closed while no build runs
	rootGone  bool          // the root is missing (build loop only; see rootMissing)

	// Build loop only (and New, before the loop starts).
	clashes map[string]Message // clashes of public/ by URL path (public.go)
	owed    bool               // the browsers were not told of a good build: see finishBuild

	notices notices // one-time warnings printed (public folder)

	proxy   *proxy.Proxy   // nil unless Options.Proxy
	routes  []*proxy.Proxy // Options.ProxyRoutes, longest prefix first
	proxies []*proxy.Proxy // proxy and routes: what New starts and Close ends
	dirs    []*watchDir    // Options.ReloadDirs
	extras  sync.WaitGroup
	// linked are the watched folders of linked packages (see linked.go),
	// kept by the build loop; their batches come on linkedBatches.
	linked        map[string]*linkedDir
	linkedBatches chan []watcher.Change
	wopts         watcher.Options // for the watchers of linked packages

	saves     chan string // files noticed changing, for prepareSaves
	quit      chan struct{}
	loopDone  chan struct{}
	closeOnce sync.Once
}

// New starts watching opts.Root, runs the first build and starts the build
// loop. The returned Server serves requests at once; Close stops it.
func New(opts Options) (*Server, error) {
	root := opts.Root
	if root == "" {
		root = "."
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("serve %s: %w", root, err)
	}
	if fi, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("serve %s: %w", root, err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("serve %s: not a directory", root)
	}
	base, err := bundler.NormalizeBase(opts.Base)
	if err != nil {
		return nil, fmt.Errorf("serve %s: %w", root, err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		base:     base,
		instance: rand.Text(),
		scripts:  clientScripts(),
		root:     abs,
		opts:     opts,
		log:      log,
		guard:    guard.New(opts.AllowedHosts),
		same:     newSameBytes(abs),
		status:   StatusOK,
		idle:     make(chan struct{}),
		saves:    make(chan string, 1),
		quit:     make(chan struct{}),
		loopDone: make(chan struct{}),
		linked:   map[string]*linkedDir{},

		linkedBatches: make(chan []watcher.Change),
	}
	close(s.idle)

	build := opts.Build
	if !opts.Bundle && build.CacheDir == "" {
		if build.CacheDir, err = bundler.DefaultCacheDir(abs); err != nil {
			log.Warn("the module cache is off: " + err.Error())
		}
	}
	// The watcher starts first: a kept bundle is checked against the
	// files in newBundlers, and what changes after that must reach the
	// build loop.
	wopts := watcher.Options{Ignore: opts.Ignore, Poll: opts.Poll, Logger: opts.Logger}
	s.wopts = wopts
	wopts.Noticed = s.noticed // see prepare.go
	if s.watcher, err = watcher.New(abs, wopts); err != nil {
		return nil, err
	}
	if err := s.newBundlers(bundler.Options{
		Root:            abs,
		Base:            base,
		Logger:          opts.Logger,
		Modules:         !opts.Bundle,
		CSSSyntaxErrors: true, // broken CSS shows on the overlay
		BuildOptions:    build,
	}); err != nil {
		s.watcher.Close()
		return nil, err
	}
	if err := s.watchDirs(opts.ReloadDirs, s.wopts); err != nil {
		s.watcher.Close()
		s.closeBundlers()
		return nil, err
	}
	if opts.Proxy != nil {
		if s.proxy, err = proxy.New(s.proxyOptions(opts.Proxy, "")); err == nil {
			s.proxies = append(s.proxies, s.proxy)
		}
	}
	if err == nil {
		s.routes, err = newRoutes(s, opts.ProxyRoutes)
		s.proxies = append(s.proxies, s.routes...)
	}
	if err != nil {
		for _, px := range s.proxies {
			px.Cancel()
		}
		s.closeWatchDirs()
		s.watcher.Close()
		s.closeBundlers()
		return nil, err
	}
	s.broker = NewBroker(BrokerOptions{Sync: s.syncData, Logger: opts.Logger, Heartbeat: opts.Heartbeat})

	s.updateClashes(s.publicFiles())
	start := time.Now()
	res := s.current().Build(nil)
	took := time.Since(start)
	s.finishBuild(res, nil, false, took)
	switch {
	case s.keep == nil || s.modules == nil:
	case s.current().KeptBundle():
		s.keep.bundled(s.current().KeptBuildTime())
	default:
		s.keep.bundled(took)
		s.keepFirst(s.current())
	}
	s.followLinked()
	s.watchLockfile(cmp.Or(opts.lockfilePoll, lockfilePoll))
	s.buildModules()
	s.prepareSaves()
	go s.loop()
	s.followWatchDirs()
	for _, px := range s.proxies {
		px.Start()
	}
	return s, nil
}

// Close stops the build loop, the watchers and the bundler, ends every
// event stream and, in proxy mode, every proxied request. It waits for a
// build in progress to end. Every goroutine of the Server has ended when
// it returns.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.quit)
		<-s.loopDone
		s.stopModules()
		if s.keep != nil {
			s.keep.close()
		}
		s.extras.Wait()
		var perrs []error
		for _, px := range s.proxies {
			perrs = append(perrs, px.Close())
		}
		err = errors.Join(s.watcher.Close(), s.closeWatchDirs(), errors.Join(perrs...), s.broker.Close(), s.closeBundlers())
	})
	return err
}

// Publish sends an event to every connected browser, as the build loop
// does; an app uses it to ask for a reload after re-parsing its templates.
func (s *Server) Publish(name string, data any) error {
	_, _, err := s.broker.Publish(name, data)
	return err
}

// Status is the JSON served at StatusPath.
type Status struct {
	Build  string `json:"build"`
	Status string `json:"status"`
	// Failed: the last build failed, and Build is the last good one.
	// Status is StatusError too while the project has errors of its own
	// (a clash of public/, see public.go) after a good build.
	Failed bool      `json:"failed"`
	Errors []Message `json:"errors"` // the build's, then the clashes

	Warnings []Message `json:"warnings"`
	Entries  []string  `json:"entries"`
	Clients  int       `json:"clients"`
	// Compiling: module mode compiles in the background, and the pages
	// are served bundled meanwhile (Options.BundleFirst).
	Compiling bool `json:"compiling,omitempty"`
}

// Status returns the current build state.
func (s *Server) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Status{
		Build:    s.build,
		Status:   s.status,
		Failed:   s.failed,
		Errors:   nonNil(s.errs),
		Warnings: nonNil(s.warnings),
		Entries:  s.current().Entries(),
		Clients:  s.broker.Clients(),

		Compiling: s.compiling(),
	}
}

func (s *Server) syncData() any {
	st := s.Status()
	return SyncData{Build: st.Build, Status: st.Status, Failed: st.Failed, Errors: st.Errors, Warnings: st.Warnings}
}

// ServeHTTP serves devserve's endpoints, the bundler's outputs and the
// project's files, or proxies to a backend (Options.ProxyRoutes, then
// Options.Proxy), after refusing requests from other sites and hosts.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("X-Content-Type-Options", "nosniff")
	if code, msg := s.guard.Check(r); code != 0 {
		http.Error(w, msg, code)
		return
	}
	p := r.URL.Path
	if px := s.routeFor(p); px != nil {
		px.ServeRoute(w, r)
		return
	}
	if s.base != "/" {
		var ok bool
		if r, ok = s.underBase(w, r); !ok {
			return
		}
		p = r.URL.Path
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		if !strings.HasPrefix(p, Prefix) && s.passThru(w, r) {
			return
		}
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if strings.HasPrefix(p, Prefix) {
		s.serveInternal(w, r, p)
		return
	}
	rel, dir, ok := guard.CleanPath(p)
	if !ok && !s.passThru(w, r) {
		http.Error(w, "bad path", http.StatusBadRequest)
		return
	}
	if !ok {
		return
	}
	if !s.opts.AllowDotfiles && guard.HasDotSegment(rel) {
		s.notFound(w, r)
		return
	}
	// The public folder comes first, as in Vite: its files need no build.
	if !dir && s.servePublic(w, r, rel) {
		return
	}
	if !s.waitIdle(r) {
		return
	}
	if !dir {
		if out, ok := s.current().LookupURL(r.URL); ok {
			serveOutput(w, r, out)
			return
		}
		if kind, ok := s.current().EntryAt("/" + rel); ok {
			serveUnbuilt(w, r, kind)
			return
		}
	}
	if bundler.IsPublic(rel) {
		s.publicURL(w, r, rel, dir)
		return
	}
	if !dir && isWorkerRequest(r) && s.serveWorker(w, r, rel) {
		return
	}
	s.serveFile(w, r, rel, dir)
}

// unbuiltJS stands in for an entry script that has no good build yet (its
// first build failed): it runs nothing of the project, and tells client.js
// (through the global it sets) that the page runs without that entry, so
// that the next good build reloads the page.
const unbuiltJS = "// devserve: this script has not built yet; the errors show on the page, which reloads once it builds.\n" +
	"globalThis." + protocol.Unbuilt + " = true;\n"

// unbuiltCSS stands in for a stylesheet that has no good build yet. The
// next good build swaps it for the real one.
const unbuiltCSS = "/* devserve: this stylesheet has not built yet; the errors show on the page. */\n"

// serveUnbuilt answers a request for an entry that has never built, rather
// than serving its source as a file: a TypeScript file would come with a
// MIME type the browser refuses, and JS or CSS would run uncompiled. The
// stand-in is never cached.
func serveUnbuilt(w http.ResponseWriter, r *http.Request, kind bundler.Kind) {
	ctype, body := "text/javascript; charset=utf-8", unbuiltJS
	if kind == bundler.CSS {
		ctype, body = "text/css; charset=utf-8", unbuiltCSS
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", "no-store")
	http.ServeContent(w, r, "", time.Time{}, strings.NewReader(body))
}

func (s *Server) serveInternal(w http.ResponseWriter, r *http.Request, p string) {
	switch p {
	case ClientPath, WorkerPath, client.HMRPath, client.ErrorsPath:
		sc := s.scripts[p]
		serveBytes(w, r, "text/javascript; charset=utf-8", sc.etag, sc.body)
	case client.TypesPath:
		serveBytes(w, r, "text/plain; charset=utf-8", client.TypesETag(), client.TypesSource())
	case EventsPath:
		s.broker.ServeHTTP(w, r)
	case StatusPath:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(s.Status())
	default:
		if (strings.HasPrefix(p, bundler.ModulePrefix) || strings.HasPrefix(p, bundler.ChunkPrefix)) && s.waitIdle(r) {
			if out, ok := s.current().LookupURL(r.URL); ok {
				serveOutput(w, r, out)
				return
			}
		}
		http.NotFound(w, r)
	}
}

// serveOutput serves a build output; an immutable one (a chunk at the URL
// that names its content) may be cached for good, so a reload does not
// even ask for it.
func serveOutput(w http.ResponseWriter, r *http.Request, out *bundler.Output) {
	if !out.Immutable {
		serveBytes(w, r, out.ContentType, `"`+out.Hash+`"`, out.Contents)
		return
	}
	h := w.Header()
	h.Set("Content-Type", out.ContentType)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", `"`+out.Hash+`"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(out.Contents))
}

// waitIdle blocks while a build runs, so no request gets output or a page
// older than the change that started it. It returns false if the request
// was cancelled meanwhile.
func (s *Server) waitIdle(r *http.Request) bool {
	s.mu.Lock()
	idle := s.idle
	s.mu.Unlock()
	select {
	case <-idle:
		return true
	case <-r.Context().Done():
		return false
	}
}

// serveBytes answers with content that revalidates on every use: the
// browser keeps it but asks with If-None-Match, so a reload costs a 304
// for what did not change and never shows stale code.
func serveBytes(w http.ResponseWriter, r *http.Request, ctype, etag string, b []byte) {
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
}

// serveFile serves rel from the root: index.html for folders, the client
// injected into HTML, never a file outside the root (os.Root refuses ".."
// and symlinks that leave it) and never a directory listing. A path with
// no file goes to missingFile (SPA fallback).
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, rel string, dir bool) {
	root, err := os.OpenRoot(s.root)
	if err != nil {
		s.notFound(w, r)
		return
	}
	defer root.Close()
	name := rel
	if name == "" {
		name = "."
	}
	f, err := root.Open(name)
	if err != nil {
		s.missingFile(w, r, rel, dir)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		s.notFound(w, r)
		return
	}
	if fi.IsDir() {
		if !dir {
			if !hasIndex(root, name) && s.passThru(w, r) {
				return // not a page of the root
			}
			// Relative URLs in the folder's index.html need the slash.
			target := s.base + strings.TrimPrefix(r.URL.Path, "/") + "/"
			if r.URL.RawQuery != "" {
				target += "?" + r.URL.RawQuery
			}
			http.Redirect(w, r, target, http.StatusMovedPermanently)
			return
		}
		f.Close()
		name = filepath.Join(name, "index.html")
		if f, err = root.Open(name); err != nil {
			s.missingFile(w, r, rel, dir)
			return
		}
		defer f.Close()
		if fi, err = f.Stat(); err != nil || fi.IsDir() {
			s.missingFile(w, r, rel, dir)
			return
		}
	} else if dir {
		s.notFound(w, r)
		return
	}
	if !fi.Mode().IsRegular() || (!s.opts.AllowDotfiles && guard.LinksToDotfile(s.root, name)) {
		s.notFound(w, r)
		return
	}
	ext := strings.ToLower(filepath.Ext(name))
	if ext == ".html" || ext == ".htm" {
		s.servePage(w, r, root, name)
		return
	}
	serveValidated(w, r, name, f, fi)
}

// servePage serves the HTML page name (relative to root, in the OS's form)
// from the page cache, with its CSS links added and the client injected.
func (s *Server) servePage(w http.ResponseWriter, r *http.Request, root *os.Root, name string) {
	rel := filepath.ToSlash(name)
	b, err := s.pages.get(root, rel)
	if err != nil {
		http.Error(w, "cannot read "+rel, http.StatusInternalServerError)
		return
	}
	b = InjectScript(s.current().Page(b, rel), s.tag(client.TagOptions{NoEval: hasCSP(nil, b)}))
	serveBytes(w, r, "text/html; charset=utf-8", etagOf(b), b)
}

// notFound answers a request for a file that the root does not have: in
// proxy mode the backend answers it, else it is 404 Not Found.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	if !s.passThru(w, r) {
		s.missingPage(w, r)
	}
}

// passThru hands a request that the root does not answer to the backend,
// in proxy mode, and reports whether it did; outside proxy mode the caller
// answers it itself. It is the one place that asks which mode this is
// (Caddy's file server has the same idea: a miss passes through to the
// next handler).
func (s *Server) passThru(w http.ResponseWriter, r *http.Request) bool {
	if s.proxy == nil {
		return false
	}
	s.proxy.ServeHTTP(w, r)
	return true
}

// hasIndex reports whether folder dir of root holds an index.html.
func hasIndex(root *os.Root, dir string) bool {
	fi, err := root.Stat(filepath.Join(dir, "index.html"))
	return err == nil && fi.Mode().IsRegular()
}

// NewHTTPServer returns an http.Server for h with limits that bound slow
// or hostile clients (header size and time, idle connections, writes)
// without cutting event streams: the broker lifts the write deadline of
// each stream. Errors of the server itself go to log (nil: discarded).
//
// For HTTPS, set its TLSConfig (devcert.Cert.TLSConfig gives one) and
// start it with ServeTLS(ln, "", ""): it then offers HTTP/2 and HTTP/1.1
// by ALPN. Over HTTP/2 the event streams of every tab of a browser share
// one connection, each served through its ResponseWriter; over HTTP/1.1
// they are hijacked, as without TLS. The Host and Origin checks are the
// same.
func NewHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
}
