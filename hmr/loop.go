package hmr

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
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
	// owed: a page changed in a build that failed, so no browser was
	// told; the next good build must reload them.
	owed := false
	var done chan buildOutcome
	var due <-chan time.Time // when set, the stream's next build
	var lastBatch, lastStart time.Time
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
			for _, c := range batch {
				pending[c.Path] = c.Op
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
		case out := <-done:
			done = nil
			html := out.html || owed
			owed = html && !out.res.OK()
			s.finishBuild(out.res, out.changed, html, out.elapsed)
			if len(pending) > 0 {
				start(true)
			}
		case <-due:
			if s.watcher.Busy() && time.Since(lastStart) < streamGap {
				due = time.After(streamWindow) // more of the stream is on its way
				continue
			}
			start(false)
		}
	}
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
// asks the browsers to reload.
func (s *Server) startBuild(pending map[string]watcher.Op, dirty map[string]bool) chan buildOutcome {
	if s.rootMissing() {
		return nil // pending waits for the root to come back
	}
	var changed, html []string
	for p, op := range pending {
		if op != watcher.Removed {
			s.checkPublicClash(p)
		}
		switch {
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
		changed = append(changed, p)
	}
	clear(pending)
	clear(dirty)
	slices.Sort(changed)
	if len(changed) == 0 {
		return nil
	}
	if !s.bundler.Affects(changed) {
		if len(html) > 0 {
			s.reload(changed, strings.Join(html, ", ")+" changed")
		} else {
			s.log.Debug("change affects no build", "changed", changed)
		}
		return nil
	}
	s.mu.Lock()
	s.status = StatusBuilding
	s.idle = make(chan struct{})
	build := s.build
	s.mu.Unlock()
	s.broker.Publish(EventBuilding, BuildingData{Build: build, Changed: changed})
	done := make(chan buildOutcome, 1)
	go func() {
		start := time.Now()
		res := s.bundler.Build(changed)
		done <- buildOutcome{res: res, changed: changed, html: len(html) > 0, elapsed: time.Since(start)}
	}()
	return done
}

// finishBuild records a build's result, tells the browsers and reports it.
func (s *Server) finishBuild(res *bundler.Result, changed []string, html bool, elapsed time.Duration) {
	rep := Report{Time: time.Now(), Changed: changed, Duration: elapsed,
		Errors: messages(res.Errors), Warnings: messages(res.Warnings)}
	s.mu.Lock()
	if res.OK() {
		s.build = s.buildID(res.ID)
		s.status = StatusOK
	} else {
		s.status = StatusError
	}
	s.errs, s.warnings = rep.Errors, rep.Warnings
	build := s.build
	idle := s.idle
	s.mu.Unlock()
	select {
	case <-idle:
	default:
		close(idle)
	}
	if changed == nil { // the first build: nobody is connected yet
		if !res.OK() {
			rep.Event = EventErrors
			s.report(rep)
		}
		return
	}
	if res.OK() {
		rep.Event = EventBuilt
		rep.Updates = updates(res.Changed)
		// An env file's edit reloads, as Vite restarts on one: the new
		// import.meta.env applies to the whole page at once.
		rep.Reload = html || res.EnvChanged
		for _, u := range rep.Updates {
			if u.Type == UpdateJS { // bundled JS: no module to replace
				rep.Reload = true
			}
		}
		for _, m := range res.Modules {
			rep.Updates = append(rep.Updates, Update{Type: UpdateJS, Path: m.ID, URL: m.URL})
		}
		_, rep.Clients, _ = s.broker.Publish(EventBuilt, BuiltData{Build: build,
			DurationMs: float64(elapsed.Microseconds()) / 1000, Updates: rep.Updates,
			Reload: rep.Reload, Warnings: nonNil(rep.Warnings)})
	} else {
		rep.Event = EventErrors
		_, rep.Clients, _ = s.broker.Publish(EventErrors, ErrorsData{Build: build,
			Errors: nonNil(rep.Errors), Warnings: nonNil(rep.Warnings)})
	}
	s.report(rep)
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

func messages(ms []bundler.Message) []Message {
	out := make([]Message, len(ms))
	for i, m := range ms {
		out[i] = Message(m)
	}
	return out
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
