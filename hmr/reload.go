package hmr

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/devserve/devserve/watcher"
)

// Reload tells every connected page to reload, with reason in its console
// and in the Report passed to OnReport. An app calls it when what its
// pages show changed without a build, say after it parsed its templates
// again.
func (s *Server) Reload(reason string) error {
	_, n, err := s.broker.Publish(EventReload, ReloadData{Reason: reason})
	if err != nil {
		return err
	}
	s.report(Report{Time: time.Now(), Event: EventReload, Reason: reason, Reload: true, Clients: n})
	return nil
}

// watchDir is a folder of Options.ReloadDirs: a change of any file under it
// reloads the pages, with no build.
type watchDir struct {
	name string // as given, for reports
	w    *watcher.Watcher
	same *sameBytes
}

// watchDirs starts a watcher for each folder of dirs. On error it stops
// those it started.
func (s *Server) watchDirs(dirs []string, opts watcher.Options) error {
	for _, d := range dirs {
		abs, err := filepath.Abs(d)
		if err == nil {
			var fi os.FileInfo
			if fi, err = os.Stat(abs); err == nil && !fi.IsDir() {
				err = errors.New("not a directory")
			}
		}
		var w *watcher.Watcher
		if err == nil {
			w, err = watcher.New(abs, opts)
		}
		if err != nil {
			s.closeWatchDirs()
			return fmt.Errorf("watch %s: %w", d, err)
		}
		s.dirs = append(s.dirs, &watchDir{name: filepath.ToSlash(d), w: w, same: newSameBytes(abs)})
	}
	return nil
}

// followWatchDirs starts the goroutines that turn changes of the watched
// folders into reloads. They return when s.quit is closed.
func (s *Server) followWatchDirs() {
	for _, d := range s.dirs {
		s.extras.Go(func() { s.followWatchDir(d) })
	}
}

func (s *Server) followWatchDir(d *watchDir) {
	batches, errs := d.w.Batches(), d.w.Errors()
	for {
		select {
		case <-s.quit:
			return
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			s.log.Warn("watch " + d.name + ": " + err.Error())
		case batch, ok := <-batches:
			if !ok {
				batches = nil
				continue
			}
			var changed []string
			for _, c := range batch {
				// A save that leaves the bytes as they were reloads nothing.
				if !d.same.seen(c.Path, c.Op == watcher.Changed) {
					changed = append(changed, path.Join(d.name, c.Path))
				}
			}
			if len(changed) == 0 {
				continue
			}
			slices.Sort(changed)
			s.reload(changed, strings.Join(changed, ", ")+" changed")
		}
	}
}

// closeWatchDirs stops the watchers of Options.ReloadDirs.
func (s *Server) closeWatchDirs() error {
	var errs []error
	for _, d := range s.dirs {
		errs = append(errs, d.w.Close())
	}
	s.dirs = nil
	return errors.Join(errs...)
}
