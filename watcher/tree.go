package watcher

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// entry is what the watcher knows of one path.
type entry struct {
	dir   bool
	stat  bool // mode, size and mtime are set (polling)
	mode  fs.FileMode
	size  int64
	mtime int64
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
		// within this one loses its old watch before its new name adds
		// one (see watch; this also holds where folders have no inode).
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
			if prev, ok := w.ids[rel]; ok && prev != id && w.byID[prev] == rel {
				delete(w.byID, prev) // a new folder of the same name
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
