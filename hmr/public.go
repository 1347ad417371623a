package hmr

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/devserve/devserve/bundler"
	"github.com/devserve/devserve/internal/guard"
)

// The public folder (bundler.PublicDir), Vite's convention: its files are
// served at "/" as they are, with no build and no client injected, before
// anything else, as Vite serves them before its transforms. So when
// public/x and a file x of the source tree have the same URL, public/x
// wins, and the clash is an error until one of them goes (see clashAt).
// The folder is not part of the site's URLs under its own name: /public/x
// is a 404, as it is in the output of devserve build, and the terminal
// says where the file is.

// servePublic serves rel, a cleaned URL path without dot segments (unless
// dotfiles are allowed), from the public folder if it holds such a file,
// and reports whether it did. The file is opened through the root, so
// that the rules of every other file hold: no symbolic link out of the
// root, none to a dotfile.
func (s *Server) servePublic(w http.ResponseWriter, r *http.Request, rel string) bool {
	name := filepath.Join(bundler.PublicDir, filepath.FromSlash(rel))
	// Most requests are for other files: one stat rules them out, where
	// opening through the root costs a few more system calls.
	if fi, err := os.Stat(filepath.Join(s.root, name)); err != nil || !fi.Mode().IsRegular() {
		return false
	}
	root, err := os.OpenRoot(s.root)
	if err != nil {
		return false
	}
	defer root.Close()
	f, err := root.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || (!s.opts.AllowDotfiles && guard.LinksToDotfile(s.root, name)) {
		return false
	}
	serveValidated(w, r, name, f, fi)
	return true
}

// serveValidated serves the file f (fi its information, name its name),
// which the browser must revalidate, with an ETag and no Last-Modified:
// its one-second precision would answer 304 to the reload that follows a
// change made in the same second as the page's last fetch, and the page
// would show the old file. The ETag of a small file is a hash of its
// bytes; of a big one, its modification time and size, as nginx makes
// them.
func serveValidated(w http.ResponseWriter, r *http.Request, name string, f *os.File, fi fs.FileInfo) {
	h := w.Header()
	h.Set("Cache-Control", "no-cache")
	var content io.ReadSeeker = f
	if fi.Size() <= maxHashed {
		b, err := io.ReadAll(f)
		if err != nil {
			http.Error(w, "cannot read "+filepath.Base(name), http.StatusInternalServerError)
			return
		}
		content = bytes.NewReader(b)
		h.Set("ETag", etagOf(b))
	} else {
		h.Set("ETag", fmt.Sprintf(`"%x-%x"`, fi.ModTime().UnixNano(), fi.Size()))
	}
	http.ServeContent(w, r, name, time.Time{}, content)
}

// maxHashed is the size up to which a served file's ETag is a hash of its
// bytes.
const maxHashed = 1 << 20

// publicURL answers a request for /public/..., which names nothing: the
// files of the public folder are at "/". The terminal says so once.
func (s *Server) publicURL(w http.ResponseWriter, r *http.Request, rel string, dir bool) {
	if s.notices.once("url " + rel) {
		u := strings.TrimPrefix(rel, bundler.PublicDir)
		if u == "" {
			u = "/"
		}
		s.log.Warn("/" + rel + " is not served: the files of " + bundler.PublicDir + "/ are served at /; use " + u + " instead")
	}
	s.missingFile(w, r, rel, dir)
}

// A clash: public/x and a file x of the source tree have the same URL /x.
// public/x is served (see servePublic), and x never is, which is rarely
// what the user meant, so while a clash lasts it is an error of the
// project, as a build error is: it shows on the overlay of every page and
// in the terminal, until either file is renamed or removed. It is no
// failed compile: the build installs its outputs as usual (see
// Server.combineErrors for how clashes join the build's errors).

// clashAt returns the clash of the URL of rel, a root-relative slash path
// of the public folder or of the source tree, if the files of both sides
// exist; key is the URL path without its slash, "" when rel can have no
// clash (a dotfile, which is never served unless allowed).
func (s *Server) clashAt(rel string) (key string, m Message, ok bool) {
	src, pub := rel, path.Join(bundler.PublicDir, rel)
	if bundler.IsPublic(rel) {
		src, pub = strings.TrimPrefix(rel, bundler.PublicDir+"/"), rel
	}
	if src == "" || bundler.IsPublic(src) || (!s.opts.AllowDotfiles && guard.HasDotSegment(src)) {
		return "", Message{}, false
	}
	if !isRegular(s.root, pub) || !isRegular(s.root, src) {
		return src, Message{}, false
	}
	return src, clashMessage(pub, src), true
}

// clashMessage is the error of a clash of pub, a file of the public
// folder, with src, a file of the source tree.
func clashMessage(pub, src string) Message {
	return Message{
		File: pub,
		Text: pub + " and " + src + " have the same URL /" + src + ": devserve serves " + pub +
			" (files of " + bundler.PublicDir + "/ come first, as in Vite), and " + src + " is never served",
		Suggestion: "rename or remove " + pub + " or " + src,
	}
}

// updateClashes checks the URL of every path in paths (root-relative slash
// paths of a watcher batch: created, changed or removed) for a clash, and
// reports whether the set of clashes changed. The watcher reports every
// file under a folder that comes or goes, so the paths of a batch are all
// the files whose clash may have changed. Only New, before the build loop
// starts, and the build loop call it.
func (s *Server) updateClashes(paths []string) bool {
	changed := false
	for _, p := range paths {
		if filepath.IsAbs(p) {
			continue // a linked package's file, outside the root
		}
		key, m, ok := s.clashAt(p)
		if key == "" {
			continue
		}
		old, had := s.clashes[key]
		switch {
		case ok && (!had || old != m):
			if s.clashes == nil {
				s.clashes = map[string]Message{}
			}
			s.clashes[key] = m
			changed = true
		case !ok && had:
			delete(s.clashes, key)
			changed = true
		}
	}
	return changed
}

// clashList returns the clash errors, sorted by URL.
func (s *Server) clashList() []Message {
	keys := slices.Sorted(maps.Keys(s.clashes))
	ms := make([]Message, len(keys))
	for i, k := range keys {
		ms[i] = s.clashes[k]
	}
	return ms
}

// publicFiles lists the files of the public folder, root-relative, for
// New's first check of clashes.
func (s *Server) publicFiles() []string {
	var files []string
	dir := filepath.Join(s.root, bundler.PublicDir)
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if rel, err := filepath.Rel(s.root, p); err == nil {
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	return files
}

// isRegular reports whether the root-relative slash path rel is a regular
// file under root.
func isRegular(root, rel string) bool {
	fi, err := os.Stat(filepath.Join(root, filepath.FromSlash(rel)))
	return err == nil && fi.Mode().IsRegular()
}

// maxNotices bounds the warnings remembered as printed; past it, no more
// are printed, so that a crawler cannot flood the terminal.
const maxNotices = 1000

// notices remembers which one-time warnings were printed.
type notices struct {
	mu   sync.Mutex
	seen map[string]bool
}

// once reports whether the warning key is to be printed: the first time
// it is asked for, while fewer than maxNotices were.
func (n *notices) once(key string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.seen[key] || len(n.seen) >= maxNotices {
		return false
	}
	if n.seen == nil {
		n.seen = map[string]bool{}
	}
	n.seen[key] = true
	return true
}
