package hmr

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/devserve/devserve/bundler"
	"github.com/devserve/devserve/watcher"
)

// While changes stream in (a checkout writing a thousand files, a tool
// rewriting a file many times a second), a build waits for the stream to
// pause: every build of a JS change updates or reloads the pages, and
// doing that for half of a checkout helps no one. A batch is part of a
// stream when it arrives during a build or within streamWindow of the
// batch before, or while the watcher is still taking in the burst; the
// stream's next build starts once the stream paused for streamWindow (no
// batch, the watcher idle), or streamGap after the last build started, so
// that a stream that never pauses still shows progress. A save after a
// pause builds at once.
const (
	streamWindow = 50 * time.Millisecond
	streamGap    = 500 * time.Millisecond
)

// loop turns watcher batches into builds and events. It owns the build
// goroutine: one build at a time, and changes that arrive during a build
// cause exactly one more build when it ends.
func (s *Server) loop() {
	defer close(s.loopDone)
	pending := map[string]watcher.Op{}
	// dirty are paths that changed while a build ran: what that build
	// read of them is unknown, so they are never skipped as unchanged.
	dirty := map[string]bool{}
	var done chan buildOutcome
	// keepDue fires once the server has been idle for a while
	// (keeper.idleFor), to keep a bundle for the next start (keep.go).
	var keepDue <-chan time.Time
	idle := func() {
		if s.keep != nil {
			keepDue = time.After(s.keep.idleFor())
		}
	}
	idle()
	// With BundleFirst, until module mode serves: the changes since its
	// first build began, and that build's outcome if it came during a
	// build (see bundlefirst.go).
	var sinceModules map[string]bool
	if s.modules != nil {
		sinceModules = map[string]bool{}
	}
	// modulesDone is module mode's build, once done, until it serves: it
	// came while a build ran or was due, or install put it off.
	var modulesDone *modulesBuild
	var lastBatch, lastStart time.Time
	// putOff is when install last put module mode off; zero if never.
	var putOff time.Time
	// install makes module mode serve once it has built what changed
	// since its build began (the bundle has built it already): served
	// before, it would give a request what its build read before those
	// changes. The loop hears no batch meanwhile, so those paths count as
	// changed during a build.
	//
	// If that build fails in a file of the project changed since module
	// mode's build began, the bundle goes on serving, and install is tried
	// again after its next build: a failed build keeps each module's last
	// good code, and module mode's of that file is older than the edits
	// the bundle built (module mode compiled the file, the bundle built a
	// good edit, then a broken one, which module mode read from the disk
	// first or after the bundle did). Until a bundled build that began
	// after it was put off ends well, with module mode still failing
	// there: then the errors are module mode's own, and it serves with
	// them, as it does with errors elsewhere (a linked package's file,
	// which only module mode watches).
	//
	// That build reads the files from the disk, not from a batch: a save
	// under way can give it a file half written (truncated, not yet
	// written), which builds well, empty. So a file of the project that
	// changed while it built, or is empty after it, puts the switch off as
	// well, until a bundled build that began after that (a file gone for
	// good, before and after, does not).
	install := func(mb modulesBuild) {
		modulesDone = nil
		for _, p := range s.modules.LinkedChangedSince(mb.start) {
			sinceModules[p] = true
		}
		var halfDone bool
		if len(sinceModules) > 0 {
			start := time.Now()
			before := s.stamps(sinceModules)
			mb.res = s.modules.Build(slices.Sorted(maps.Keys(sinceModules)))
			mb.elapsed += time.Since(start)
			after := s.stamps(sinceModules)
			halfDone = !maps.Equal(before, after) || slices.ContainsFunc(slices.Collect(maps.Values(after)), func(st fileStamp) bool { return st.size == 0 })
		}
		s.mu.Lock()
		bundleOK := !s.failed
		s.mu.Unlock()
		brokenEdit := slices.ContainsFunc(mb.res.Errors, func(m Message) bool { return !filepath.IsAbs(m.File) && sinceModules[m.File] })
		retried := !putOff.IsZero() && lastStart.After(putOff) // a bundled build began since the switch was put off
		if brokenEdit && !(retried && bundleOK) || halfDone && !retried {
			modulesDone, putOff = &mb, time.Now()
			s.log.Debug("module mode waits for a good build", "errors", len(mb.res.Errors), "half-written", halfDone)
			return
		}
		for p := range sinceModules {
			dirty[p] = true
		}
		sinceModules = nil
		s.installModules(mb)
	}
	var due <-chan time.Time // when set, the stream's next build
	// start builds pending now or, in a stream, once it pauses for
	// streamWindow (each batch of the stream pushes that back) but no
	// later than streamGap after the last build started.
	start := func(stream bool) {
		if wait := min(streamWindow, streamGap-time.Since(lastStart)); stream && wait > 0 {
			due = time.After(wait)
			return
		}
		due = nil
		if done = s.startBuild(pending, dirty); done != nil {
			lastStart = time.Now()
		}
	}
	onBatch := func(batch []watcher.Change) {
		s.keep.changed()
		idle()
		for _, c := range batch {
			pending[c.Path] = c.Op
			if sinceModules != nil {
				sinceModules[c.Path] = true
			}
			if done != nil {
				dirty[c.Path] = true
			}
		}
		stream := done != nil || time.Since(lastBatch) < streamWindow || s.watcher.Busy()
		lastBatch = time.Now()
		started := false
		if done == nil {
			start(stream)
			started = done != nil
		}
		if s.opts.batchHook != nil {
			s.opts.batchHook(batch, started)
		}
	}
	batches, errs := s.watcher.Batches(), s.watcher.Errors()
	for {
		select {
		case <-s.quit:
			if done != nil {
				<-done
			}
			return
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			s.log.Warn("watch: " + err.Error())
			if errors.Is(err, fs.ErrNotExist) {
				s.rootMissing()
			}
		case batch, ok := <-batches:
			if !ok {
				batches = nil
				continue
			}
			onBatch(batch)
		case batch := <-s.linkedBatches:
			onBatch(batch) // a linked package's: absolute paths
		case out := <-done:
			done = nil
			s.finishBuild(out.res, out.changed, out.html, out.elapsed)
			s.followLinked()
			idle()
			if modulesDone != nil {
				install(*modulesDone)
			}
			if len(pending) > 0 {
				start(true)
			}
		case mb := <-s.modulesBuilt:
			if done != nil || due != nil {
				modulesDone = &mb // after that build: it may break a file
				continue
			}
			install(mb)
			if len(pending) > 0 {
				start(false)
			}
		case <-keepDue:
			keepDue = nil
			if done == nil && due == nil && !s.compiling() {
				s.refresh()
			}
			if s.keep.wants() {
				idle() // again, until a bundle is kept
			}
		case <-due:
			if s.watcher.Busy() && time.Since(lastStart) < streamGap {
				due = time.After(streamWindow) // more of the stream is on its way
				continue
			}
			start(false)
			if done == nil && modulesDone != nil {
				install(*modulesDone)
			}
		}
	}
}

// fileStamp is what stamps sees of a file: -1 for no regular file.
type fileStamp struct {
	size  int64
	mtime time.Time
}

// stamps returns the size and modification time of each file of the
// project (root-relative) among paths.
func (s *Server) stamps(paths map[string]bool) map[string]fileStamp {
	out := make(map[string]fileStamp, len(paths))
	for p := range paths {
		if filepath.IsAbs(p) {
			continue // a linked package's file: not the bundle's, never put off
		}
		out[p] = stampOf(filepath.Join(s.root, filepath.FromSlash(p)))
	}
	return out
}

// stampOf returns the fileStamp of the file at absolute path p.
func stampOf(p string) fileStamp {
	if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
		return fileStamp{size: fi.Size(), mtime: fi.ModTime()}
	}
	return fileStamp{size: -1}
}

type buildOutcome struct {
	res     *bundler.Result
	changed []string
	html    bool
	elapsed time.Duration
}

// startBuild decides what the pending changes need, empties pending and,
// if a build is needed, starts it and returns the channel its outcome
// arrives on. A change to HTML or to a file of the public folder alone
// asks the browsers to reload. A change to the clashes of public/ with
// the source tree that needs no build is told at once (clashesChanged);
// one with a build, with the build's outcome.
func (s *Server) startBuild(pending map[string]watcher.Op, dirty map[string]bool) chan buildOutcome {
	if s.rootMissing() {
		return nil // pending waits for the root to come back
	}
	paths := slices.Sorted(maps.Keys(pending))
	clashed := s.updateClashes(paths)
	var changed, html []string
	for p, op := range pending {
		switch {
		case filepath.IsAbs(p):
			// A file of a linked package (see linked.go), outside the
			// root: the bundler decides.
		case bundler.IsPublic(p):
			// Served as they are: no build, but the pages may show
			// them. The bundler still hears of them: a build that
			// failed on a URL to a missing one may now succeed.
			if s.same.seen(p, op == watcher.Changed && !dirty[p]) {
				continue
			}
			html = append(html, p)
		case isHTML(p):
			// Pages are not build outputs: the page cache knows
			// whether a browser can have other bytes than the disk.
			if s.pages.changed(s.root, p) {
				html = append(html, p)
			}
		case s.same.seen(p, op == watcher.Changed && !dirty[p]):
			continue
		}
		if s.workers.uses(p) {
			html = append(html, p) // a worker's file: the pages run the old worker (workers.go)
		}
		changed = append(changed, p)
	}
	clear(pending)
	clear(dirty)
	slices.Sort(changed)
	if len(changed) == 0 || !s.current().Affects(changed) {
		if clashed && s.clashesChanged(paths, len(html) > 0) {
			return nil // the pages reload
		}
		if len(html) > 0 {
			s.reload(changed, strings.Join(html, ", ")+" changed")
		} else if len(changed) > 0 {
			s.log.Debug("change affects no build", "changed", changed)
		}
		return nil
	}
	s.mu.Lock()
	s.status = StatusBuilding
	s.idle = make(chan struct{})
	build := s.build
	s.mu.Unlock()
	done := make(chan buildOutcome, 1)
	go func() {
		start := time.Now()
		res := s.current().Build(changed)
		done <- buildOutcome{res: res, changed: changed, html: len(html) > 0, elapsed: time.Since(start)}
	}()
	// While it builds: the loop publishes built only once this returned.
	s.broker.Publish(EventBuilding, BuildingData{Build: build, Changed: changed})
	return done
}

// combineErrors sets the errors and status the browsers see, with s.mu
// held, from the last build's outcome and the clashes of public/ with the
// source tree (public.go): the errors are the build's, then the clashes',
// and the status is StatusError while there are any. A clash fails no
// build: a good build's outputs are installed and served as usual, and
// Failed stays false. But the browsers hear of a good build with clashes
// as an errors event (ErrorsData with Failed false and the new build's
// ID), not as a built one, so the overlay keeps showing the clashes; the
// pages apply none of its updates and owe a reload (s.owed), which the
// built event that clears the last clash asks for.
func (s *Server) combineErrors() {
	s.errs = slices.Concat(s.buildErrs, s.clashList())
	if s.failed || len(s.errs) > 0 {
		s.status = StatusError
	} else {
		s.status = StatusOK
	}
}

// finishBuild records a build's result, tells the browsers and reports it.
// html says that a page or a file of the public folder changed.
func (s *Server) finishBuild(res *bundler.Result, changed []string, html bool, elapsed time.Duration) {
	// Copies, never nil: the server's state shares nothing with the
	// bundler's result.
	rep := Report{Time: time.Now(), Changed: changed, Duration: elapsed,
		Warnings: append([]Message{}, res.Warnings...), Failed: !res.OK()}
	s.mu.Lock()
	if res.OK() {
		s.build = s.buildID(res.ID)
	}
	s.failed, s.buildErrs, s.warnings = !res.OK(), append([]Message{}, res.Errors...), rep.Warnings
	s.combineErrors()
	rep.Errors = s.errs
	told := s.status == StatusOK // else the pages get errors, not the build
	build := s.build
	idle := s.idle
	s.mu.Unlock()
	select {
	case <-idle:
	default:
		close(idle)
	}
	if changed == nil { // the first build: nobody is connected yet
		if !told {
			rep.Event = EventErrors
			s.report(rep)
		}
		return
	}
	// What the pages must do to show this build: if they are not told
	// now, they owe it until a build or a fix is told.
	reload := html || s.owed
	var ups []Update
	if res.OK() {
		ups = updates(res.Changed)
		// An env file's edit reloads, as Vite restarts on one: the new
		// import.meta.env applies to the whole page at once.
		reload = reload || res.EnvChanged
		for _, u := range ups {
			if u.Type == UpdateJS { // bundled JS: no module to replace
				reload = true
			}
		}
		for _, m := range res.Modules {
			ups = append(ups, Update{Type: UpdateJS, Path: m.ID, URL: m.URL})
		}
	}
	if told {
		s.owed = false
		if !reload && !s.opts.fetchUpdates {
			s.inlineCode(ups)
		}
		rep.Event, rep.Updates, rep.Reload = EventBuilt, ups, reload
		_, rep.Clients, _ = s.broker.Publish(EventBuilt, BuiltData{Build: build,
			DurationMs: float64(elapsed.Microseconds()) / 1000, Updates: rep.Updates,
			Reload: rep.Reload, Warnings: nonNil(rep.Warnings)})
	} else {
		s.owed = reload || len(ups) > 0
		rep.Event = EventErrors
		_, rep.Clients, _ = s.broker.Publish(EventErrors, ErrorsData{Build: build, Failed: rep.Failed,
			Errors: nonNil(rep.Errors), Warnings: nonNil(rep.Warnings)})
	}
	s.report(rep)
}

// clashesChanged tells the browsers and the terminal that the clashes of
// public/ changed, in a batch (paths) that needs no build: an errors
// event while any error remains, else a built event with no updates that
// clears the overlay, and reloads the pages if they owe a reload or html
// (a page or a file of public/ changed). It reports whether the pages
// were asked to reload.
func (s *Server) clashesChanged(paths []string, html bool) bool {
	s.mu.Lock()
	s.combineErrors()
	rep := Report{Time: time.Now(), Changed: paths, NoBuild: true, Failed: s.failed,
		Errors: s.errs, Warnings: s.warnings}
	ok, build := s.status == StatusOK, s.build
	s.mu.Unlock()
	if ok {
		rep.Event, rep.Reload = EventBuilt, html || s.owed
		s.owed = false
		_, rep.Clients, _ = s.broker.Publish(EventBuilt, BuiltData{Build: build, Updates: []Update{},
			Reload: rep.Reload, Warnings: nonNil(rep.Warnings)})
	} else {
		rep.Event = EventErrors
		_, rep.Clients, _ = s.broker.Publish(EventErrors, ErrorsData{Build: build, Failed: rep.Failed,
			Errors: nonNil(rep.Errors), Warnings: nonNil(rep.Warnings)})
	}
	s.report(rep)
	return rep.Reload
}

func (s *Server) reload(changed []string, reason string) {
	_, n, _ := s.broker.Publish(EventReload, ReloadData{Reason: reason})
	s.report(Report{Time: time.Now(), Event: EventReload, Changed: changed, Reason: reason, Reload: true, Clients: n})
}

func (s *Server) report(r Report) {
	if s.opts.OnReport != nil {
		s.opts.OnReport(r)
	}
}

// updates lists what the browser must fetch again, in the protocol's terms.
func updates(outs []*bundler.Output) []Update {
	u := []Update{}
	for _, o := range outs {
		switch o.Kind {
		case bundler.JS, bundler.CSS, bundler.Asset:
			u = append(u, Update{Type: string(o.Kind), Path: o.Path})
		}
	}
	return u
}

func isHTML(p string) bool {
	ext := strings.ToLower(path.Ext(p))
	return ext == ".html" || ext == ".htm"
}

// sameBytes remembers the content hash of files as they were when a build
// started, so that a save that leaves the bytes as they were costs no build
// and no reload. Only the build loop uses it.
type sameBytes struct {
	root   string
	hashes map[string]string
}

func newSameBytes(root string) *sameBytes {
	return &sameBytes{root: root, hashes: map[string]string{}}
}

// seen reports whether rel holds the bytes it held when last seen, and
// remembers its bytes now. With trust false (the file was created, removed
// or changed while a build ran, so what that build read is unknown) it
// forgets rel and reports false.
func (s *sameBytes) seen(rel string, trust bool) bool {
	old, had := s.hashes[rel]
	delete(s.hashes, rel)
	if !trust {
		return false
	}
	b, err := os.ReadFile(filepath.Join(s.root, filepath.FromSlash(rel)))
	if err != nil {
		return false
	}
	sum := sha256.Sum256(b)
	h := hex.EncodeToString(sum[:])
	s.hashes[rel] = h
	return had && h == old
}

// buildID is the protocol's build ID for the bundler's: salted with the
// server's instance.
func (s *Server) buildID(outputs string) string {
	if outputs == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(s.instance + outputs))
	return hex.EncodeToString(sum[:8])
}

func etagOf(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:8]) + `"`
}
