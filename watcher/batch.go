package watcher

import (
	"errors"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"
)

// existence is what a batch knows of one path: whether it existed before the
// batch's first change to it, and whether it exists after the latest.
// Folding a run of events into these two bits is what turns "created then
// removed" into nothing and "removed then created" into Changed.
type existence struct{ before, now bool }

// op is the change a batch reports for the path, or 0 for none.
func (e existence) op() Op {
	switch {
	case !e.before && e.now:
		return Created
	case e.before && !e.now:
		return Removed
	case e.before && e.now:
		return Changed
	}
	return 0
}

// batch folds changes per path.
type batch map[string]existence

// note records that path existed (before) and exists (now) around one
// change. For a path already in the batch, only now is taken: before was
// settled by its first change.
func (b batch) note(path string, before, now bool) {
	if e, ok := b[path]; ok {
		e.now = now
		b[path] = e
		return
	}
	b[path] = existence{before, now}
}

// merge folds the later batch l into b.
func (b batch) merge(l batch) {
	for p, e := range l {
		b.note(p, e.before, e.now)
	}
}

// changes returns b's changes sorted by path, or nil if everything in it
// cancelled out.
func (b batch) changes() []Change {
	out := make([]Change, 0, len(b))
	for p, e := range b {
		if op := e.op(); op != 0 {
			out = append(out, Change{Path: p, Op: op})
		}
	}
	if len(out) == 0 {
		return nil
	}
	slices.SortFunc(out, func(x, y Change) int { return strings.Compare(x.Path, y.Path) })
	return out
}

// emptyWait and emptyCheckMax: see seal.
const (
	emptyWait     = 50 * time.Millisecond
	emptyCheckMax = 8
)

// unsettled reports whether a file the burst under way changed or created
// is now an empty regular file, or one it removed is still missing: a save
// may be half done.
func (w *Watcher) unsettled() bool {
	for rel, e := range w.cur {
		fi, err := os.Lstat(w.abs(rel))
		switch {
		case e.now && err == nil && fi.Mode().IsRegular() && fi.Size() == 0:
			return true
		case e.before && !e.now && errors.Is(err, fs.ErrNotExist):
			return true
		}
	}
	return false
}

// note records a change to rel for the burst under way.
func (w *Watcher) note(rel string, before, now bool) {
	if w.setup {
		return
	}
	w.cur.note(rel, before, now)
	if w.noticed != nil && now && len(w.cur) <= 2 {
		w.noticed(rel)
	}
	w.noted = true
	w.waited = false // a change since the wait: the save goes on
	w.busy.Store(true)
	w.lastNote.Store(time.Now().UnixNano())
}

// arm sets the flush timer after the burst grew: Quiet from now, but no
// later than MaxWait from the burst's first change. A lone save (at most
// two paths, the first changes for MaxWait) waits only quickQuiet: an
// editor's save is done within a millisecond, and those 8 ms are on the
// way from every save to the screen. One path alone (a file written in
// place) waits soloQuiet: its truncation or removal before the write is
// caught by seal's wait on an empty or missing file. A checkout that goes on past it makes a
// second batch, which the build loop coalesces.
func (w *Watcher) arm() {
	now := time.Now()
	if w.first.IsZero() {
		w.first = now
	}
	w.last = now
	quiet := w.quiet
	if len(w.cur) <= 2 && w.first.Sub(w.sealed) >= w.maxWait {
		quiet = min(quiet, quickQuiet)
		if len(w.cur) == 1 {
			quiet = min(quiet, soloQuiet)
		}
	}
	w.armed = quiet
	w.flush.Reset(min(quiet, w.first.Add(w.maxWait).Sub(now)))
}

// seal ends the burst under way, folding it into the batch waiting for the
// receiver.
//
// A burst of a few changes in which a file is empty, or was removed,
// waits up to emptyWait more for another change: a save that
// truncates the file and then writes it (os.WriteFile, many editors), or
// removes it and writes it again, can be seen between the two on a busy
// machine, all the more with the short quiet of a lone save, and a build
// of the empty or missing file would run a module with nothing in it, or
// show an error, until the next batch. Vite waits so too. A file that
// stays empty or removed (on purpose) goes out then. It waits once
// whatever the burst's age (a busy machine can leave its events to the
// watcher late, a MaxWait after the first), and again after a change
// that came during the wait while the burst is younger than MaxWait: a
// save that removes the file, then creates it and writes it, is seen
// empty once more between the last two.
func (w *Watcher) seal() {
	// A burst that removed files of the root may have removed the root
	// too, which inotify may not tell (rootGone); by now, a quiet window
	// later, an rm -rf has removed it.
	if w.rootSeen && !w.gone && w.fs != nil {
		w.rootSeen = false
		if w.rootGone() {
			w.lost()
		}
	}
	if !w.waited && (w.waits == 0 || time.Since(w.first) < w.maxWait) && len(w.cur) <= emptyCheckMax && w.unsettled() {
		w.waited = true
		w.waits++
		w.flush.Reset(emptyWait)
		select {
		case w.hooks.waiting <- struct{}{}:
		default:
		}
		return
	}
	w.waited, w.waits = false, 0
	if time.Since(w.last) >= w.quiet {
		w.calm = w.last
	}
	w.first = time.Time{}
	w.busy.Store(false)
	// Sealed with changes still arriving: MaxWait cut the burst off.
	w.cut.Store(time.Since(w.last) < w.armed)
	if len(w.cur) == 0 {
		return
	}
	w.sealed = time.Now()
	if w.ready == nil {
		w.ready = w.cur
	} else {
		w.ready.merge(w.cur)
	}
	w.cur = batch{}
	select {
	case w.hooks.sealed <- struct{}{}:
	default:
	}
	w.out = w.ready.changes()
	if w.out == nil {
		w.ready = nil
	}
	w.log.Debug("watcher: batch ready", "changes", len(w.out))
}
