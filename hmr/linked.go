package hmr

import (
	"path/filepath"
	"time"

	"github.com/devserve/devserve/watcher"
)

// linkedDir watches a folder of linked source outside the root, a package
// of the workspace that node_modules links to (bundler.LinkedDirs). Its
// changes go to the build loop by absolute path, so that an edit there
// hot-updates the pages as an edit of the project does.
type linkedDir struct {
	w    *watcher.Watcher
	stop chan struct{}
}

// followLinked makes the watched linked folders those the bundler's
// modules come from now: it starts a watcher for each new one and stops
// those no longer used. Called after each build, by New and then by the
// build loop only. A folder that cannot be watched is reported once, and
// tried again after the next build.
func (s *Server) followLinked() {
	want := map[string]bool{}
	for _, d := range s.current().LinkedDirs() {
		want[d] = true
		if s.linked[d] != nil {
			continue
		}
		opts := s.wopts
		opts.Noticed = func(rel string) { s.noticed(filepath.Join(d, filepath.FromSlash(rel))) } // see prepare.go
		w, err := watcher.New(d, opts)
		if err != nil {
			if s.notices.once("linked " + d) {
				s.log.Warn("watch " + d + " (a linked package): " + err.Error() + "; its edits show after a save in the project")
			}
			continue
		}
		s.log.Debug("watching a linked package", "dir", d)
		ld := &linkedDir{w: w, stop: make(chan struct{})}
		s.linked[d] = ld
		s.extras.Go(func() { s.forwardLinked(d, ld) })
	}
	for d, ld := range s.linked {
		if !want[d] {
			close(ld.stop)
			delete(s.linked, d)
		}
	}
}

// forwardLinked sends the batches of the watcher of linked folder dir to
// the build loop, with absolute paths, until the folder is no longer used
// or the Server closes; then it closes the watcher.
func (s *Server) forwardLinked(dir string, ld *linkedDir) {
	defer ld.w.Close()
	batches, errs := ld.w.Batches(), ld.w.Errors()
	for {
		select {
		case <-s.quit:
			return
		case <-ld.stop:
			return
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			s.log.Warn("watch " + dir + ": " + err.Error())
		case batch, ok := <-batches:
			if !ok {
				return
			}
			abs := make([]watcher.Change, len(batch))
			for i, c := range batch {
				abs[i] = watcher.Change{Path: filepath.Join(dir, filepath.FromSlash(c.Path)), Op: c.Op}
			}
			select {
			case s.linkedBatches <- abs:
			case <-s.quit:
				return
			case <-ld.stop:
				return
			}
		}
	}
}

// lockfilePoll is how often watchLockfile looks at the workspace's
// lockfile: package managers write it once an install is done, and a
// second is nothing beside an install.
const lockfilePoll = time.Second

// watchLockfile looks, until the Server closes, at the lockfile of the
// workspace above the root (bundler.WorkspaceLockfile: a monorepo whose
// package manager installs into the workspace's node_modules), and sends
// its changes to the build loop as a linked package's are sent: an
// install there (an upgrade, npm ci after a pull) builds everything again
// against the new packages, as the root's own lockfile does. It is polled,
// not watched: the watchers are for trees, and this is one file of a
// folder that may hold the whole workspace.
func (s *Server) watchLockfile(every time.Duration) {
	p := s.current().WorkspaceLockfile()
	if p == "" {
		return
	}
	s.log.Debug("watching the workspace's lockfile", "file", p)
	last := stampOf(p) // now, not when the goroutine runs: an install may come first
	s.extras.Go(func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-s.quit:
				return
			case <-tick.C:
			}
			now := stampOf(p)
			if now == last {
				continue
			}
			last = now
			select {
			case s.linkedBatches <- []watcher.Change{{Path: p, Op: watcher.Changed}}:
			case <-s.quit:
				return
			}
		}
	})
}
