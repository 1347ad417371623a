// Package watcher watches a folder tree and hands over its changes in
// batches, one batch per burst of activity.
//
// It builds on fsnotify (inotify on Linux) and adds what a dev server needs
// and fsnotify leaves to its callers: recursion, ignore rules, folding the
// many events of an editor's save or a git checkout into one sorted batch,
// surviving the root's removal, and polling, on request or when the kernel
// runs out of inotify watches.
//
// # What the kernel promises, and what it does not
//
// inotify watches one folder, not the tree below it, and only from the
// moment the watch is added: a folder that arrives with files already inside
// (mkdir -p, cp -r, mv, git checkout) produces one event, for the folder. So
// when a folder appears the watcher first watches it and then lists it,
// recursively, reporting everything found as Created; a file that shows up
// both in the listing and as an event is reported once.
//
// A watch follows the folder, not its name: after a rename, events from
// inside still carry the old name. So a renamed folder is handled as a
// removal (its watches are dropped, everything known below it is Removed)
// plus the arrival of a new folder.
//
// Renaming a file over another (the atomic save most editors do) reports no
// removal of the file replaced, only a rename of the temporary file and the
// arrival of the target. The watcher remembers which paths exist, so the
// target comes out as one Changed and the temporary file, created and gone
// within the batch, not at all.
//
// A write event means a write happened, not that the writer is done: the
// Quiet window is what waits for the end of a save or a checkout.
//
// The kernel queues a limited number of events (fs.inotify.max_queued_events)
// and drops the rest; the watcher then rescans, reports every file as
// Changed, and says so on Errors. The number of watches per user is limited
// too (fs.inotify.max_user_watches); when it runs out, the watcher says how
// to raise it and polls instead.
//
// Network file systems, FUSE, and folders shared into containers or VMs from
// another OS often deliver no events at all; use [Options.Poll] there.
// Polling sees only what differs between two polls (size, modification time
// and mode): a write that keeps all three, or a file that comes and goes
// between two polls, goes unseen.
//
// Attribute-only changes (chmod, and touch on Linux, which inotify reports
// as an attribute change) are not reported by the inotify watcher.
package watcher

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Op is what happened to a path over one batch.
type Op int

const (
	// Created: the path did not exist before the batch and does after it.
	Created Op = iota + 1
	// Changed: the path existed before the batch and still does, with
	// different content; this includes a file replaced by an atomic save.
	Changed
	// Removed: the path existed before the batch and does not after it.
	Removed
)

// String returns "created", "changed" or "removed".
func (o Op) String() string {
	switch o {
	case Created:
		return "created"
	case Changed:
		return "changed"
	case Removed:
		return "removed"
	}
	return fmt.Sprintf("Op(%d)", int(o))
}

// Change is one path's net change over a batch. Folders are reported too:
// Created when they appear (followed by everything found inside), Removed
// when they go (with everything that was known inside).
type Change struct {
	Path string // slash-separated, relative to root, never "" or starting with "/" or ".."
	Op   Op
}

// Options tune a Watcher. The zero value is ready to use.
type Options struct {
	// Ignore lists patterns (path.Match syntax) to leave out, on top of the
	// built-in ones; see Ignored for how they match.
	Ignore []string

	// Quiet is how long no change must arrive for a burst to end and its
	// batch to go out. 0 means 10ms.
	Quiet time.Duration

	// MaxWait caps the time from a batch's first change to its delivery,
	// so a steady stream of changes still flushes. 0 means 100ms.
	MaxWait time.Duration

	// Poll, if positive, makes the watcher list the tree at this interval
	// instead of using inotify: for file systems that send no events.
	Poll time.Duration

	// Logger receives debug and warning messages; nil means silent.
	Logger *slog.Logger
}

const (
	defaultQuiet   = 10 * time.Millisecond
	defaultMaxWait = 100 * time.Millisecond
	fallbackPoll   = 500 * time.Millisecond // polling after the watch limit is hit
	rootPoll       = 200 * time.Millisecond // looking for a removed root
	errorBuffer    = 16
)

// Watcher watches a folder tree; see the package documentation. Its methods
// are safe to call from any goroutine.
type Watcher struct {
	root    string // absolute and clean
	prefix  string // what names under root start with
	ignore  []string
	quiet   time.Duration
	maxWait time.Duration
	log     *slog.Logger
	hooks   hooks

	batches chan []Change
	errs    chan error
	polling atomic.Bool
	wakeups atomic.Int64 // loop iterations other than sends, so tests can see an idle watcher sleep
	done    chan struct{}
	stopped chan struct{}
	once    sync.Once
	err     error // from closing fsnotify, set before stopped is closed

	// fsnotify's errors, queued by a goroutine of their own (see forward).
	fsMu       sync.Mutex
	fsErrs     []error
	fsOverflow bool
	fsPoke     chan struct{} // a value when something is queued
	fsDone     chan struct{} // closed when forward returns

	// Owned by New, then by the run goroutine.
	fs     *fsnotify.Watcher           // nil while polling
	dirs   map[string]map[string]entry // folder ("" is root) -> name -> entry
	ids    map[string]fileID           // watched folder -> its identity
	byID   map[fileID]string           // and back
	seen   map[string]struct{}         // scratch for sync
	failed map[string]bool             // folders whose problem was reported
	gone   bool                        // the root is missing
	setup  bool                        // New is listing the tree: nothing to report
	cur    batch                       // the burst under way
	ready  batch                       // ended bursts, waiting for the receiver
	out    []Change                    // ready's changes, for the next send
	noted  bool                        // cur grew since the flush timer was set
	first  time.Time                   // the burst's first change
	last   time.Time                   // the burst's latest change
	calm   time.Time                   // when the watcher was last caught up with the kernel
	since  time.Time                   // after a switch to polling: files modified since may have been missed
	flush  *time.Timer                 // ends the burst
	tick   *time.Ticker                // polling, or looking for a removed root; nil otherwise
}

// entry is what the watcher knows of one path.
type entry struct {
	dir   bool
	stat  bool // mode, size and mtime are set (polling)
	mode  fs.FileMode
	size  int64
	mtime int64
}

// hooks let tests provoke failures the kernel cannot be made to produce on
// demand.
type hooks struct {
	failAdd  func(name string) error // a non-nil result replaces adding the watch
	failRead func(name string) error // a non-nil result replaces listing the folder
	poll     time.Duration           // polling interval after the watch limit is hit; 0 means 500ms
	hold     chan chan struct{}      // the loop stops until the channel received is closed
}

// New starts watching the folder root and everything below it. It returns
// once every folder is watched, so any change made after New returns is
// reported. It fails if root is not a folder or an ignore pattern is
// malformed; problems with parts of the tree are sent to Errors instead.
func New(root string, opts Options) (*Watcher, error) {
	return newWatcher(root, opts, hooks{})
}

func newWatcher(root string, opts Options, h hooks) (*Watcher, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", root, err)
	}
	info, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", root, err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("watch %s: not a directory", root)
	}
	if err := checkPatterns(opts.Ignore); err != nil {
		return nil, fmt.Errorf("watch %s: %w", root, err)
	}

	w := &Watcher{
		root:    abs,
		prefix:  abs,
		ignore:  append([]string(nil), opts.Ignore...),
		quiet:   opts.Quiet,
		maxWait: opts.MaxWait,
		log:     opts.Logger,
		hooks:   h,
		batches: make(chan []Change),
		errs:    make(chan error, errorBuffer),
		done:    make(chan struct{}),
		stopped: make(chan struct{}),
		dirs:    make(map[string]map[string]entry),
		ids:     make(map[string]fileID),
		byID:    make(map[fileID]string),
		seen:    make(map[string]struct{}),
		failed:  make(map[string]bool),
		setup:   true,
		cur:     batch{},
		calm:    time.Now(),
		flush:   time.NewTimer(time.Hour),
		fsPoke:  make(chan struct{}, 1),
	}
	w.flush.Stop()
	if !strings.HasSuffix(w.prefix, string(filepath.Separator)) {
		w.prefix += string(filepath.Separator)
	}
	if w.quiet <= 0 {
		w.quiet = defaultQuiet
	}
	if w.maxWait <= 0 {
		w.maxWait = defaultMaxWait
	}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}

	if opts.Poll > 0 {
		w.startPolling(opts.Poll)
	} else if w.fs, err = fsnotify.NewWatcher(); err != nil {
		w.fs = nil
		w.report(fmt.Errorf("watch %s: %w%s; polling every %s instead", abs, err, limitHint(err), w.fallbackEvery()))
		w.startPolling(w.fallbackEvery())
	} else {
		w.fsDone = make(chan struct{})
		go w.forward(w.fs.Errors, w.fsDone)
	}
	if err := w.sync("", true, false); err != nil {
		w.fallback(err)
	}
	w.setup = false
	go w.run()
	return w, nil
}

// Batches returns the channel of batches: each holds one burst's changes,
// every path at most once, sorted by path. While the receiver is busy,
// further bursts are folded into the batch waiting for it. The channel is
// closed by Close.
func (w *Watcher) Batches() <-chan []Change { return w.batches }

// Errors returns the channel of problems that do not stop the watcher: the
// root removed (it is watched again when it comes back), the watch limit hit
// (the watcher polls from then on), a folder that cannot be read, lost
// events. It is buffered and never blocks the watcher: errors that do not
// fit are dropped. The channel is closed by Close.
func (w *Watcher) Errors() <-chan error { return w.errs }

// Polling reports whether the watcher polls, because Options.Poll asked for
// it or because inotify could not watch the whole tree.
func (w *Watcher) Polling() bool { return w.polling.Load() }

// Close stops the watcher: its goroutine, its inotify watches, its timers.
// It closes the Batches and Errors channels, dropping a batch not yet
// received. It is safe to call more than once and from several goroutines;
// every call returns once everything has stopped.
func (w *Watcher) Close() error {
	w.once.Do(func() { close(w.done) })
	<-w.stopped
	return w.err
}

// run is the watcher's one goroutine: it owns all of the watcher's state.
func (w *Watcher) run() {
	defer w.stop()
	for {
		var events <-chan fsnotify.Event
		if w.fs != nil {
			events = w.fs.Events
		}
		var ticks <-chan time.Time
		if w.tick != nil {
			ticks = w.tick.C
		}
		var out chan<- []Change
		if w.out != nil {
			out = w.batches
		}

		var err error
		select {
		case <-w.done:
			return
		case ev, ok := <-events:
			if !ok {
				err = fmt.Errorf("watch %s: inotify stopped", w.root)
				break
			}
			err = w.handle(ev)
		case <-w.fsPoke:
			err = w.fsErrors()
		case <-ticks:
			err = w.poll()
		case <-w.flush.C:
			w.seal()
		case out <- w.out:
			w.log.Debug("watcher: batch delivered", "changes", len(w.out))
			w.ready, w.out = nil, nil
			continue // not counted: the receiver may look before this line runs
		case release := <-w.hooks.hold:
			select {
			case <-release:
			case <-w.done:
				return
			}
			continue
		}
		w.wakeups.Add(1)
		if err != nil {
			w.fallback(err)
		}
		if w.noted {
			w.noted = false
			w.arm()
		}
	}
}

// stop releases everything run owns.
func (w *Watcher) stop() {
	w.flush.Stop()
	if w.tick != nil {
		w.tick.Stop()
	}
	if w.fs != nil {
		if err := w.fs.Close(); err != nil {
			w.err = fmt.Errorf("watch %s: close: %w", w.root, err)
		}
		<-w.fsDone
	}
	close(w.batches)
	close(w.errs)
	close(w.stopped)
}

// handle applies one inotify event. A non-nil result means inotify cannot
// go on and the watcher must poll.
func (w *Watcher) handle(ev fsnotify.Event) error {
	if ev.Name == w.root {
		if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
			w.lost()
		}
		return nil
	}
	rel, ok := strings.CutPrefix(ev.Name, w.prefix)
	if !ok || rel == "" {
		return nil
	}
	rel = filepath.ToSlash(rel)
	parent, name := split(rel)
	kids, ok := w.dirs[parent]
	if !ok || w.skip(parent, name) {
		return nil // from a folder dropped since, or ignored
	}
	old, known := kids[name]
	switch {
	case ev.Has(fsnotify.Create):
		info, err := os.Lstat(ev.Name)
		if err != nil {
			return nil // gone again; its Remove or Rename event follows
		}
		if !info.IsDir() { // symbolic links included: never followed
			if known && old.dir {
				w.forgetDir(rel)
			}
			kids[name] = entry{}
			w.note(rel, known, true)
			return nil
		}
		if !known || !old.dir {
			kids[name] = entry{dir: true}
			w.note(rel, known, true)
		}
		// Watch first, then list: whatever the listing misses, an event
		// reports.
		return w.sync(rel, false, false)
	case ev.Has(fsnotify.Remove), ev.Has(fsnotify.Rename):
		if known {
			w.forget(rel, old)
			delete(kids, name)
		}
	case ev.Has(fsnotify.Write):
		if known && old.dir {
			return nil // kqueue reports a folder's new entries as a write
		}
		if !known {
			kids[name] = entry{}
		}
		w.note(rel, known, true)
	}
	return nil
}

// forward queues fsnotify's errors for run until fsnotify closes errs. It
// never blocks fsnotify, which sends some errors while holding the lock that
// Add and Remove take: were run to receive them itself, a run inside Remove
// and fsnotify inside such a send would wait for each other forever.
func (w *Watcher) forward(errs <-chan error, done chan<- struct{}) {
	defer close(done)
	for err := range errs {
		w.fsMu.Lock()
		if errors.Is(err, fsnotify.ErrEventOverflow) {
			w.fsOverflow = true
		} else if len(w.fsErrs) < errorBuffer {
			w.fsErrs = append(w.fsErrs, err)
		}
		w.fsMu.Unlock()
		select {
		case w.fsPoke <- struct{}{}:
		default:
		}
	}
}

// fsErrors handles the errors forward queued.
func (w *Watcher) fsErrors() error {
	w.fsMu.Lock()
	errs, overflow := w.fsErrs, w.fsOverflow
	w.fsErrs, w.fsOverflow = nil, false
	w.fsMu.Unlock()
	for _, err := range errs {
		if errors.Is(err, syscall.EINVAL) {
			// fsnotify dropping the watch of a moved folder the kernel
			// had dropped already: nothing was lost.
			w.log.Debug("watcher: fsnotify", "err", err)
			continue
		}
		w.report(fmt.Errorf("watch %s: %w", w.root, err))
	}
	if !overflow {
		return nil
	}
	w.report(fmt.Errorf("watch %s: %w: changes were lost, reporting every file as changed", w.root, fsnotify.ErrEventOverflow))
	if w.gone {
		return nil
	}
	return w.sync("", true, true)
}

// poll runs on each tick: it lists the tree when polling, and looks for the
// root while it is gone.
func (w *Watcher) poll() error {
	info, err := os.Stat(w.root)
	if err != nil || !info.IsDir() {
		if !w.gone {
			w.lost()
		}
		return nil
	}
	if w.gone {
		w.gone = false
		w.log.Info("watcher: root is back", "root", w.root)
		if !w.Polling() {
			w.tick.Stop()
			w.tick = nil
		}
	}
	return w.sync("", true, false)
}

// lost forgets the whole tree when the root goes, and starts looking for it.
func (w *Watcher) lost() {
	w.forgetDir("")
	w.gone = true
	w.report(fmt.Errorf("watch %s: root removed, waiting for it to come back: %w", w.root, fs.ErrNotExist))
	if !w.Polling() {
		w.setTicker(rootPoll)
	}
}

// fallback switches to polling because inotify cannot go on; err says why.
// Changes between the last event handled and the switch would be lost, so
// the first listing reports files modified since the watcher was last
// caught up as Changed.
func (w *Watcher) fallback(err error) {
	every := w.fallbackEvery()
	w.report(fmt.Errorf("%w; polling every %s instead", err, every))
	w.log.Info("watcher: polling", "root", w.root, "every", every)
	if w.fs != nil {
		if err := w.fs.Close(); err != nil {
			w.log.Warn("watcher: closing inotify", "err", err)
		}
		<-w.fsDone
		w.fs = nil
	}
	w.since = w.calm.Add(-100 * time.Millisecond) // mtime is coarse, and lags the clock
	w.startPolling(every)
	if !w.gone {
		_ = w.sync("", true, false) // cannot fail: it adds no watch
	}
}

func (w *Watcher) fallbackEvery() time.Duration {
	if w.hooks.poll > 0 {
		return w.hooks.poll
	}
	return fallbackPoll
}

func (w *Watcher) startPolling(every time.Duration) {
	w.polling.Store(true)
	w.setTicker(every)
}

func (w *Watcher) setTicker(every time.Duration) {
	if w.tick == nil {
		w.tick = time.NewTicker(every)
	} else {
		w.tick.Reset(every)
	}
}

// sync brings what the watcher knows of folder rel in line with the disk,
// noting every difference; with deep, it does so for every folder below it
// too (new folders are always synced in full), and with touch, it reports
// every file as Changed. With inotify, it watches the folder before listing
// it, so that what the listing misses is reported by an event. It
// returns an error only when the kernel refuses a watch for lack of
// resources.
func (w *Watcher) sync(rel string, deep, touch bool) error {
	abs := w.abs(rel)
	if w.fs != nil {
		if err := w.watch(rel, abs); err != nil {
			if hint := limitHint(err); hint != "" {
				return fmt.Errorf("watch %s: %w%s", abs, err, hint)
			}
			if !vanished(err) {
				w.problem(rel, fmt.Errorf("watch %s: %w", abs, err))
			}
			return nil
		}
	}
	list, err := w.readDir(abs)
	if err != nil {
		if !vanished(err) {
			w.problem(rel, fmt.Errorf("watch %s: %w", abs, err))
		}
		return nil
	}
	delete(w.failed, rel)

	kids := w.dirs[rel]
	if kids == nil {
		kids = make(map[string]entry, len(list))
		w.dirs[rel] = kids
	} else if len(kids) > 0 {
		// Forget what went before adding what came: a folder renamed
		// within the tree must lose its old watch before its new name
		// adds one, or fsnotify would report both under the old name.
		for _, d := range list {
			w.seen[d.Name()] = struct{}{}
		}
		for name, e := range kids {
			if _, ok := w.seen[name]; !ok {
				w.forget(join(rel, name), e)
				delete(kids, name)
			}
		}
		clear(w.seen)
	}

	for _, d := range list {
		name := d.Name()
		if w.skip(rel, name) {
			continue
		}
		e := entry{dir: d.IsDir()} // false for symbolic links: never followed
		if w.fs == nil && !e.dir {
			info, err := d.Info()
			if err != nil {
				continue // removed since the listing
			}
			e.stat, e.mode, e.size, e.mtime = true, info.Mode(), info.Size(), info.ModTime().UnixNano()
		}
		old, known := kids[name]
		kids[name] = e
		switch {
		case !known || old.dir != e.dir:
			if known && old.dir {
				w.forgetDir(join(rel, name))
			}
			if !w.setup {
				w.note(join(rel, name), known, true)
			}
			if e.dir {
				if err := w.sync(join(rel, name), true, false); err != nil {
					return err
				}
			}
		case e.dir:
			if deep {
				if err := w.sync(join(rel, name), true, touch); err != nil {
					return err
				}
			}
		case touch || w.modified(old, e):
			w.note(join(rel, name), true, true)
		}
	}
	return nil
}

// skip reports whether the entry name of folder dir is ignored.
func (w *Watcher) skip(dir, name string) bool {
	return skip(dir, name, w.ignore)
}

// modified reports whether polling found a known file changed.
func (w *Watcher) modified(old, e entry) bool {
	switch {
	case !e.stat:
		return false // inotify: events tell
	case !old.stat:
		return e.mtime >= w.since.UnixNano() // just switched to polling
	}
	return old.size != e.size || old.mtime != e.mtime || old.mode != e.mode
}

// forget notes rel, and everything known below it, as removed.
func (w *Watcher) forget(rel string, e entry) {
	if e.dir {
		w.forgetDir(rel)
	}
	w.note(rel, true, false)
}

// forgetDir notes everything known below folder rel as removed, and drops
// the folder's watch and those below it.
func (w *Watcher) forgetDir(rel string) {
	for name, e := range w.dirs[rel] {
		w.forget(join(rel, name), e)
	}
	delete(w.dirs, rel)
	delete(w.failed, rel)
	if id, ok := w.ids[rel]; ok {
		if w.byID[id] == rel {
			delete(w.byID, id)
		}
		delete(w.ids, rel)
	}
	if w.fs != nil {
		// The kernel drops the watch of a removed folder by itself, and
		// fsnotify its record of it; this is for folders moved away.
		_ = w.fs.Remove(w.abs(rel))
	}
}

// note records a change to rel for the burst under way.
func (w *Watcher) note(rel string, before, now bool) {
	if w.setup {
		return
	}
	w.cur.note(rel, before, now)
	w.noted = true
}

// arm sets the flush timer after the burst grew: Quiet from now, but no
// later than MaxWait from the burst's first change.
func (w *Watcher) arm() {
	now := time.Now()
	if w.first.IsZero() {
		w.first = now
	}
	w.last = now
	w.flush.Reset(min(w.quiet, w.first.Add(w.maxWait).Sub(now)))
}

// seal ends the burst under way, folding it into the batch waiting for the
// receiver.
func (w *Watcher) seal() {
	if time.Since(w.last) >= w.quiet {
		w.calm = w.last
	}
	w.first = time.Time{}
	if len(w.cur) == 0 {
		return
	}
	if w.ready == nil {
		w.ready = w.cur
	} else {
		w.ready.merge(w.cur)
	}
	w.cur = batch{}
	w.out = w.ready.changes()
	if w.out == nil {
		w.ready = nil
	}
	w.log.Debug("watcher: batch ready", "changes", len(w.out))
}

// report sends err on Errors, or drops it if Errors is full.
func (w *Watcher) report(err error) {
	w.log.Warn("watcher: problem", "err", err)
	select {
	case w.errs <- err:
	default:
		w.log.Warn("watcher: Errors is full, dropped the problem", "err", err)
	}
}

// problem reports a problem with folder rel once, until the folder is read
// again: a poll would otherwise repeat it on every tick.
func (w *Watcher) problem(rel string, err error) {
	if w.failed[rel] {
		return
	}
	w.failed[rel] = true
	w.report(err)
}

// watch adds the inotify watch of folder rel.
//
// A watch follows its folder, not its name, and a listing can run ahead of
// the events: a folder found here may be one already watched under the
// name it had before a move whose event has not come yet. fsnotify would
// then keep the watch under the old name, and drop it for good when that
// event comes. So the old name is forgotten first, as that event would
// have it, and the watch added afresh under the new one.
func (w *Watcher) watch(rel, abs string) error {
	if info, err := os.Lstat(abs); err == nil {
		if id, ok := idOf(info); ok {
			if old, ok := w.byID[id]; ok && old != rel && !w.sameDir(old, id) {
				w.moved(old)
			}
			w.ids[rel], w.byID[id] = id, rel
		}
	}
	if w.hooks.failAdd != nil {
		if err := w.hooks.failAdd(abs); err != nil {
			return err
		}
	}
	return w.fs.Add(abs)
}

// sameDir reports whether folder rel is still the folder id: the same
// folder seen at two paths through a bind mount.
func (w *Watcher) sameDir(rel string, id fileID) bool {
	info, err := os.Lstat(w.abs(rel))
	if err != nil {
		return false
	}
	got, _ := idOf(info)
	return got == id
}

// moved forgets folder rel, which was moved away.
func (w *Watcher) moved(rel string) {
	parent, name := split(rel)
	if e, ok := w.dirs[parent][name]; ok && e.dir {
		w.forget(rel, e)
		delete(w.dirs[parent], name)
		return
	}
	w.forgetDir(rel)
}

func (w *Watcher) readDir(abs string) ([]fs.DirEntry, error) {
	if w.hooks.failRead != nil {
		if err := w.hooks.failRead(abs); err != nil {
			return nil, err
		}
	}
	f, err := os.Open(abs)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.ReadDir(-1)
}

// abs returns the absolute path of rel.
func (w *Watcher) abs(rel string) string {
	if rel == "" {
		return w.root
	}
	return filepath.Join(w.root, filepath.FromSlash(rel))
}

// vanished reports whether err says a folder is no longer there, which an
// event or the next poll reports as a removal.
func vanished(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// limitHint returns what to tell the user when err is the kernel running
// out of a resource inotify needs, or "" otherwise.
func limitHint(err error) string {
	switch {
	case errors.Is(err, syscall.ENOSPC):
		return " (the inotify watch limit, fs.inotify.max_user_watches, is reached;" +
			" raise it with: sudo sysctl fs.inotify.max_user_watches=524288)"
	case errors.Is(err, syscall.EMFILE):
		return " (too many inotify instances or open files;" +
			" raise fs.inotify.max_user_instances, e.g. sudo sysctl fs.inotify.max_user_instances=1024, or ulimit -n)"
	}
	return ""
}

func join(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

func split(rel string) (dir, name string) {
	i := strings.LastIndexByte(rel, '/')
	if i < 0 {
		return "", rel
	}
	return rel[:i], rel[i+1:]
}
