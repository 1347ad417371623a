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
// plus the arrival of a new folder. A listing can run ahead of the events
// (mkdir p && mv src p/): a folder it finds may be one already watched under
// the name it had before a move whose event is still on its way; the watcher
// recognises it by its device and inode numbers and moves it at once.
//
// Renaming a file over another (the atomic save most editors do) reports no
// removal of the file replaced, only a rename of the temporary file and the
// arrival of the target. The watcher remembers which paths exist, so the
// target comes out as one Changed and the temporary file, created and gone
// within the batch, not at all.
//
// A write event means a write happened, not that the writer is done: the
// Quiet window is what waits for the end of a save or a checkout. (A
// caller that wants to start on a save meanwhile can hear of its first
// events through Options.Noticed, at its own risk of reading a file half
// written.)
//
// The removal of a watched folder itself is reported only once nothing
// holds it: while a shell has the root as its working folder (or this
// process does, started in it), an rm -rf of the root reports only the
// removal of what was inside. So a burst that removed something from the
// root ends by checking that the root is still the folder watched, by its
// device and inode numbers.
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
// Attribute-only changes (chmod, and touch, which inotify reports as an
// attribute change) are not reported when watching inotify; polling, which
// compares modification times and modes, reports them as Changed.
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
	// built-in ones: a path is left out when one of its elements is always
	// ignored (.git, node_modules, editor swap, backup and temp files), or
	// when it matches one of these.
	//
	// A pattern without a "/" is matched against every element of the path
	// relative to the root, so "*.log" ignores "a.log" and "logs/b.log",
	// and "dist" ignores "dist" and "web/dist/app.js". A pattern with a "/"
	// is matched against the whole path and against each of its parent
	// folders, so "web/dist" and "web/*" both ignore "web/dist/app.js"; a
	// leading "/" only anchors, as it does in .gitignore. New returns an
	// error for a malformed pattern. Ignored folders are never watched.
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

	// Noticed, if set, is called with the path (as Change.Path) of a
	// file or folder created or changed, as the change is noted in a
	// burst of at most two paths, a save rather than a checkout: its
	// batch goes out a quiet window later, and work that the batch will
	// need, such as reading and compiling the file, can begin meanwhile.
	// The file may be half written then; only the batch says what
	// changed. It is called on the watcher's goroutine and must return at
	// once.
	Noticed func(path string)
}

const (
	defaultQuiet   = 10 * time.Millisecond
	defaultMaxWait = 100 * time.Millisecond
	quickQuiet     = 2 * time.Millisecond   // the Quiet of a lone save; see arm
	soloQuiet      = 1 * time.Millisecond   // the Quiet of a lone save of one path; see arm
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
	noticed func(path string) // Options.Noticed

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
	fs       *fsnotify.Watcher           // nil while polling
	dirs     map[string]map[string]entry // folder ("" is root) -> name -> entry
	ids      map[string]fileID           // watched folder -> its identity
	byID     map[fileID]string           // and back
	seen     map[string]struct{}         // scratch for sync
	failed   map[string]bool             // folders whose problem was reported
	gone     bool                        // the root is missing
	rootSeen bool                        // the burst removed something from the root; see seal
	setup    bool                        // New is listing the tree: nothing to report
	cur      batch                       // the burst under way
	ready    batch                       // ended bursts, waiting for the receiver
	out      []Change                    // ready's changes, for the next send
	noted    bool                        // cur grew since the flush timer was set
	first    time.Time                   // the burst's first change
	last     time.Time                   // the burst's latest change
	calm     time.Time                   // when the watcher was last caught up with the kernel
	sealed   time.Time                   // when the last non-empty burst ended
	busy     atomic.Bool                 // cur holds changes; see Busy
	lastNote atomic.Int64                // when the last change was noted, Unix nanoseconds
	cut      atomic.Bool                 // the last batch was sealed by MaxWait, not by quiet
	armed    time.Duration               // the quiet window of the burst under way
	waited   bool                        // the burst waited for an emptied or removed file since its last change; see seal
	waits    int                         // how many times the burst under way waited so
	since    time.Time                   // after a switch to polling: files modified since may have been missed
	flush    *time.Timer                 // ends the burst
	tick     *time.Ticker                // polling, or looking for a removed root; nil otherwise
}

// hooks let tests provoke failures the kernel cannot be made to produce on
// demand, and hold the watcher while they act.
type hooks struct {
	failAdd  func(name string) error // a non-nil result replaces adding the watch
	failRead func(name string) error // a non-nil result replaces listing the folder
	poll     time.Duration           // polling interval after the watch limit is hit; 0 means 500ms
	hold     chan hold               // the loop handles nothing until the hold is released; see held
	sealed   chan struct{}           // a value, if there is room, each time a burst ends
	waiting  chan struct{}           // a value, if there is room, each time seal waits for a half-done save
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
		noticed: opts.Noticed,
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

// Busy reports whether a burst is under way: changes have arrived that no
// batch holds yet, or the last batch was cut off by MaxWait and a change
// came within twice the Quiet window (more is on its way). A receiver can
// tell from it that a batch it got is part of something bigger (a
// checkout, a tool writing in a loop) that goes on; after a lone save it
// is false.
func (w *Watcher) Busy() bool {
	return w.busy.Load() || (w.cut.Load() && time.Since(time.Unix(0, w.lastNote.Load())) < 2*w.quiet)
}

// Errors returns the channel of problems that do not stop the watcher: the
// root removed (it is watched again when it comes back), the watch limit hit
// (the watcher polls from then on), a folder that cannot be read, lost
// events. It is buffered and never blocks the watcher: errors that do not
// fit are dropped. The channel is closed by Close.
func (w *Watcher) Errors() <-chan error { return w.errs }

// Polling reports whether the watcher polls, because Options.Poll asked for
// it or because inotify could not watch the whole tree.
func (w *Watcher) Polling() bool { return w.polling.Load() }

// Close stops the watcher: its goroutines, its inotify watches, its timers.
// It closes the Batches and Errors channels, dropping a batch not yet
// received. It is safe to call more than once and from several goroutines;
// every call returns once everything has stopped.
func (w *Watcher) Close() error {
	w.once.Do(func() { close(w.done) })
	<-w.stopped
	return w.err
}

// run is the watcher's main goroutine: all of the watcher's state but the
// queue of fsnotify's errors is its own.
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
		case h := <-w.hooks.hold:
			queued, ok := w.held(h)
			if !ok {
				return
			}
			for _, ev := range queued {
				w.after(w.handle(ev))
			}
			continue
		}
		w.after(err)
	}
}

// after ends a turn of the loop that handled something: err, if not nil,
// makes the watcher poll; a change noted (re)arms the flush timer.
func (w *Watcher) after(err error) {
	w.wakeups.Add(1)
	if err != nil {
		w.fallback(err)
	}
	if w.noted {
		w.noted = false
		w.arm()
	}
}

// hold is a test's hold on the loop (act in the tests).
type hold struct {
	fence   string        // the path whose creation ends what the test did; "" for none
	fenced  chan struct{} // closed once the fence's event is read, or at once without inotify
	release chan struct{} // closed by the test when the loop may go on
}

// held waits until h is released, handling nothing, and returns inotify's
// events read meanwhile, for the loop to handle back to back, as one burst;
// false if the watcher was closed. It reads the events as they come, up to
// the fence's: inotify queues a watcher's events in order, so everything the
// test did before it made the fence is read by then, however late the
// machine runs fsnotify's reader. Without that, a busy test machine handed
// the events of one save over one by one after the release, more than a
// Quiet window apart, and split it.
func (w *Watcher) held(h hold) ([]fsnotify.Event, bool) {
	var events <-chan fsnotify.Event
	if w.fs != nil && !w.gone && h.fence != "" {
		events = w.fs.Events
	} else {
		close(h.fenced)
	}
	var queued []fsnotify.Event
	for {
		select {
		case <-w.done:
			return nil, false
		case <-h.release:
			return queued, true
		case ev, ok := <-events:
			if ok && ev.Name != h.fence {
				queued = append(queued, ev)
				break
			}
			// The fence, or inotify closed (which the loop finds after
			// the release).
			events = nil
			close(h.fenced)
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
		w.rootSeen = w.rootSeen || parent == ""
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

// rootGone reports whether the root is no longer the folder watched: gone,
// or another folder in its place. inotify reports the root's own removal
// only once nothing holds the folder any more, and a shell whose working
// folder it is, or devserve's own when started in it, holds it: all that
// comes of an rm -rf then is the removal of its files.
func (w *Watcher) rootGone() bool {
	return !w.sameDir("", w.ids[""])
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

// report sends err on Errors, or drops it if Errors is full.
func (w *Watcher) report(err error) {
	w.log.Debug("watcher: problem", "err", err) // Errors' receiver tells the user
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
