package hmr

import (
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/devserve/devserve/bundler"
)

// A start with a bundle kept by an earlier run (bundler.Options.KeepBundle)
// serves its first pages from it while module mode builds, which costs the
// server a few milliseconds and the page what a bundle costs: a fraction of
// module mode's page (chunks, registry). It is served only while nothing it
// was built from changed, and a start that finds it stale with the module
// cache warm serves module mode at once, as before: bundling would cost
// more. So the kept bundle is kept fresh:
//
//   - the first pages' bundle is kept once built (keepFirst), unless it
//     was the kept one;
//   - once module mode serves, the keeper bundles the project again when
//     it has changed since (or the kept bundle was stale or missing at the
//     start) and the server has been idle (no batch, no build) for
//     keepIdle, or keepIdleRatio times as long as its last bundle took
//     if more (idleFor). A batch cuts such a build short without waiting
//     for it, and the next idle time runs it again; a project whose
//     bundles cannot be kept
//     (bundler.ErrNotKeepable: Sass partials, import.meta.glob) is not
//     bundled again for it in this run.

// keepIdle is how long the server waits, idle, before it bundles a
// changed project again for the next start, at least.
const keepIdle = 3 * time.Second

// keepIdleRatio is how many times as long as its last bundle took the
// server waits, idle, before it bundles again: a save that comes while it
// bundles pays for it (esbuild's cancel lets the files it has begun to
// parse finish, and its heap is the collector's), most in a big project,
// where it takes longest: a hot update at 20,000 modules took 49 ms
// instead of 5 with a save 3.5 s after the last (-gap 3.5s in the
// bench), the bundle taking 2 s. So a big project's bundle waits for a
// long pause, when its user is away.
const keepIdleRatio = 10

// keeper keeps the bundle of the next start fresh.
type keeper struct {
	opts   bundler.Options // a bundled bundler's, for a refresh
	log    *slog.Logger
	report func(Report)  // ReportKeep after each refresh
	idle   time.Duration // the least idle time before a refresh

	mu     sync.Mutex
	stale  bool          // the files changed since the kept bundle was made, or it is stale or missing
	busy   bool          // a refresh runs
	stop   chan struct{} // closed to cut the refresh under way short; nil if none builds
	never  bool          // a build could not be kept: no more tries
	took   time.Duration // how long the last bundle took: the first pages', the kept one's or a refresh's
	closed bool
}

// keepFirst keeps the bundle of the first pages, bb's first build, on a
// goroutine that Close waits for.
func (s *Server) keepFirst(bb *bundler.Bundler) {
	s.extras.Go(func() { s.keep.kept(bb.Keep()) })
}

// bundled tells the keeper how long a bundle of the project took: the
// first pages', or the kept one's.
func (k *keeper) bundled(took time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.took = took
}

// idleFor is how long the server must be idle before a refresh: idle, or
// keepIdleRatio times what the last bundle took, if more.
func (k *keeper) idleFor() time.Duration {
	k.mu.Lock()
	defer k.mu.Unlock()
	return max(k.idle, keepIdleRatio*k.took)
}

// kept takes the outcome of a Keep: a bundle that could not be kept
// because a file changed as it was built is stale, and the next idle time
// bundles again; after any other error (no entries, a folder that cannot
// be written), only the next change does.
func (k *keeper) kept(err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case err == nil:
		k.log.Debug("bundle kept for the next start")
	case errors.Is(err, bundler.ErrNotKeepable):
		k.never = true
		k.log.Debug("the bundles cannot be kept for the next start", "err", err)
	case errors.Is(err, bundler.ErrChangedDuringBuild):
		k.stale = true
		k.log.Debug("bundle not kept for the next start", "err", err)
	default:
		k.log.Debug("bundle not kept for the next start", "err", err)
	}
}

// changed, called by the loop for every batch, marks the kept bundle
// stale and cuts short a refresh under way: it competes with the build
// of the batch, and would keep what the batch changed in either version.
// A nil keeper does nothing.
func (k *keeper) changed() {
	if k == nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.stale = true
	k.cut()
}

// cut tells a refresh under way to close its bundler, which then ends
// without keeping anything; it does not wait for that. Called with mu
// held.
func (k *keeper) cut() {
	if k.stop != nil {
		close(k.stop)
		k.stop = nil
	}
}

// wants reports whether the keeper has work: a stale bundle to keep, or a
// refresh running (which may find the bundle stale again).
func (k *keeper) wants() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return (k.stale || k.busy) && !k.never && !k.closed
}

// refresh bundles the project again and keeps it, on a goroutine that
// Close waits for, if the kept bundle is stale and no refresh runs.
// Called by the loop when the server has been idle for keepIdle, with
// module mode serving.
func (s *Server) refresh() {
	k := s.keep
	k.mu.Lock()
	ok := k.stale && !k.busy && !k.never && !k.closed
	if ok {
		k.stale, k.busy = false, true
	}
	k.mu.Unlock()
	if ok {
		s.extras.Go(k.run)
	}
}

// run is a refresh.
func (k *keeper) run() {
	start := time.Now()
	kept := false
	defer func() {
		k.mu.Lock()
		k.busy = false
		k.mu.Unlock()
	}()
	b, err := bundler.New(k.opts)
	if err != nil {
		k.kept(err)
		return
	}
	defer func() {
		b.Close() // first: the report says that its garbage is garbage
		k.report(Report{Time: time.Now(), Event: ReportKeep, Duration: time.Since(start), Failed: !kept})
	}()
	k.mu.Lock()
	if k.closed || k.stale { // changed since it began
		k.mu.Unlock()
		return
	}
	stop := make(chan struct{})
	k.stop = stop
	k.mu.Unlock()
	// A cut closes the bundler here, not in the loop that cuts: esbuild's
	// cancel waits until the build has stopped, and the save whose batch
	// cut it must not (a hot update at 20,000 modules took 75 ms instead
	// of 5 when the save came during a refresh).
	built := make(chan struct{})
	var closer sync.WaitGroup
	closer.Go(func() {
		select {
		case <-stop:
			b.Close()
		case <-built:
		}
	})
	res := b.Build(nil)
	took := time.Since(start)
	close(built)
	closer.Wait()
	if res.OK() {
		err = b.Keep() // safe even if cut: it checks the files against the build's start
	}
	k.mu.Lock()
	cut := k.stop != stop // changed, or close
	if cut {
		// A whole bundle takes longer: the next refresh waits at least
		// ten times this, or a save that comes at the pace of this one
		// would cut every refresh, and each save pay for it.
		k.took = max(k.took, took)
	} else {
		k.stop, k.took = nil, took
	}
	k.mu.Unlock()
	switch {
	case cut:
		k.log.Debug("bundling for the next start cut short")
		return
	case !res.OK():
		// The pages show the errors; the next batch marks it stale.
		k.log.Debug("bundling for the next start failed", "errors", len(res.Errors))
		return
	}
	k.kept(err)
	kept = err == nil
	k.log.Debug("bundled for the next start", "took", time.Since(start))
}

// close cuts short a refresh under way and lets none start; Close calls
// it before it waits for the server's goroutines.
func (k *keeper) close() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.closed = true
	k.cut()
}
