package hmr

import (
	"cmp"
	"time"

	"github.com/devserve/devserve/bundler"
)

// A cold start in module mode compiles every module alone, which takes
// several times as long as bundling them (esbuild's cost per build). With
// Options.BundleFirst and a module cache that holds nothing, the server
// serves the pages bundled while module mode compiles in the background;
// and on a restart, while a bundle kept by an earlier run is fresh, it
// serves that one while module mode reads its modules from the cache
// (see keep.go):
//
//   - New builds a bundler without module mode (bundler.Options.MarkBundled)
//     and serves it; the module-mode one, modules, builds on a goroutine of
//     its own, started once the bundled build is done. The bundles are
//     built without their source maps, which the first page waits for
//     and seldom asks for; a request makes one (bundler.Options.MapsOnRequest).
//   - Until that ends, the build loop builds changes with the bundled
//     bundler, as with Options.Bundle (a JS change reloads the pages), and
//     keeps their paths in sinceModules: modules may have read them either
//     way.
//   - When modules has built, the loop, once no build runs, builds those
//     paths again with it, and the files of linked packages changed since
//     its build began (only module mode watches their folders:
//     bundler.LinkedChangedSince), and then serves it (installModules):
//     served before that, it would give a request what its build read
//     before those changes. If that build failed in a file changed since
//     its build began, the bundle serves on and the loop tries again
//     after the bundle's next build: module mode's last good code of that
//     file is older than the bundle's (see install in loop.go). The pages
//     are told only that module mode serves (ReloadData.Bundled): they
//     show what is on disk, as bundled code. Their JS sets
//     globalThis.__devserve_bundled, so that a page nobody touched since
//     it loaded reloads into module mode then, and any other on its first
//     JS update: a page in use keeps what its user did until an edit
//     reloads it anyway.

// keptWait is how long module mode's first build waits after the first
// pages were served from a kept bundle: its compiles and the page's load
// share the machine's cores, and the bundle is there to show the page
// soon. Measured on the react-ts app (2 cores): restart to the page shown
// 376 ms building at once, 233-247 waiting 400 ms (module mode serving
// 475 and 670-750 ms after the spawn); see docs/DESIGN.md.
const keptWait = 300 * time.Millisecond

// modulesBuild is the outcome of the first build of Server.modules.
type modulesBuild struct {
	res     *bundler.Result
	start   time.Time
	elapsed time.Duration
}

// newBundlers makes the bundlers that serve: opts's, or with BundleFirst
// and nothing in the module cache or a fresh bundle kept by an earlier
// run, a bundled one first (cur) and opts's as modules. With BundleFirst
// and a cache folder, s.keep keeps the bundle of the next start fresh
// (keep.go).
func (s *Server) newBundlers(opts bundler.Options) error {
	s.ready = make(chan struct{})
	b, err := bundler.New(opts)
	if err != nil {
		return err
	}
	modulesNow := func() error {
		s.cur.Store(b)
		close(s.ready)
		return nil
	}
	if !s.opts.BundleFirst || !opts.Modules {
		return modulesNow()
	}
	first := opts
	first.Modules, first.MarkBundled, first.MapsOnRequest = false, true, true
	if opts.CacheDir != "" && opts.CacheDir != bundler.NoCache {
		s.keep = &keeper{opts: first, log: s.log, report: s.report, idle: cmp.Or(s.opts.keepIdle, keepIdle)}
		first.KeepBundle = true
	}
	if b.CacheWarm() && !bundler.KeptBundleAt(opts.CacheDir) {
		s.keep.changed() // none: the next idle time keeps one
		return modulesNow()
	}
	bb, err := bundler.New(first)
	if err != nil {
		b.Close()
		return err
	}
	if b.CacheWarm() && !bb.KeptBundle() {
		// Bundling would cost more than module mode with its modules
		// read from the cache.
		bb.Close()
		s.keep.changed()
		return modulesNow()
	}
	s.cur.Store(bb)
	s.modules = b
	s.modulesBuilt = make(chan modulesBuild, 1)
	return nil
}

// current is the bundler that serves now.
func (s *Server) current() *bundler.Bundler { return s.cur.Load() }

// buildModules starts the first build of modules, if there is one to
// build, on a goroutine that Close waits for.
func (s *Server) buildModules() {
	if s.modules == nil {
		return
	}
	m := s.modules
	wait := time.Duration(0)
	if s.current().KeptBundle() {
		wait = cmp.Or(s.opts.keptWait, keptWait)
	}
	s.extras.Go(func() {
		select {
		case <-time.After(wait):
		case <-s.quit:
			return // Close: stopModules closes m
		}
		start := time.Now()
		if s.opts.modulesHook != nil {
			s.opts.modulesHook()
		}
		res := m.Build(nil)
		if s.opts.modulesBuiltHook != nil {
			s.opts.modulesBuiltHook()
		}
		s.modulesBuilt <- modulesBuild{res: res, start: start, elapsed: time.Since(start)}
	})
}

// installModules makes modules serve, once it has built (its first build,
// and what changed since it began), in the build loop with no build
// running; the bundled bundler is closed. A failed
// build's errors go to the pages. A good one is told to nobody, as the
// pages show the same code, bundled, unless the bundled build had failed
// (bundling checks what module mode cannot, such as an import of a name
// that a module does not export): then the pages reload.
func (s *Server) installModules(mb modulesBuild) {
	old := s.cur.Swap(s.modules)
	s.modules = nil
	old.Close()
	s.mu.Lock()
	bundleFailed := s.failed
	s.mu.Unlock()
	if !mb.res.OK() {
		s.finishBuild(mb.res, []string{}, false, mb.elapsed) // errors, to the pages
	} else {
		s.finishBuild(mb.res, nil, false, mb.elapsed) // as a first build
		if bundleFailed {
			s.reload(nil, "module mode built, the bundle had failed")
		} else {
			s.mu.Lock()
			build := s.build
			s.mu.Unlock()
			s.broker.Publish(EventReload, ReloadData{Reason: "module mode serves", Bundled: true, Build: build})
		}
		s.report(Report{Time: time.Now(), Event: ReportModules, Duration: mb.elapsed})
	}
	s.followLinked()
	close(s.ready)
	s.log.Debug("module mode serves", "build", mb.elapsed)
}

// stopModules, in Close once the loop has ended, cuts short the first
// build of modules if it runs and closes Ready if it never served.
func (s *Server) stopModules() {
	if s.modules != nil {
		s.modules.Close()
		close(s.ready)
	}
}

// closeBundlers closes the bundlers.
func (s *Server) closeBundlers() error {
	var err error
	if s.modules != nil {
		err = s.modules.Close()
	}
	if b := s.current(); b != nil {
		if cerr := b.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// compiling reports whether module mode has yet to serve.
func (s *Server) compiling() bool {
	select {
	case <-s.ready:
		return false
	default:
		return true
	}
}

// Ready is closed once the server serves in module mode, or in bundle
// mode (Options.Bundle), for good: at once, unless Options.BundleFirst
// serves the first pages bundled; then when module mode has built. Close
// closes it too.
func (s *Server) Ready() <-chan struct{} { return s.ready }
