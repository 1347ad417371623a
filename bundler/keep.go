package bundler

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

// This file keeps a dev server's bundles on disk (Keep, Options.KeepBundle):
// a restart on a project served before serves the bundles an earlier run
// made instead of bundling again, when nothing they were built from
// changed.
//
// Keep writes the outputs of a good build of every entry to one file
// under BuildOptions.CacheDir, through a temporary file renamed over the
// last (two runs on one project each write a whole file; a crash leaves
// the old one). With it go what a bundle of them now must find unchanged
// for the outputs to be what esbuild would make; New checks them all:
//
//   - the key: the binary (which covers devserve's and esbuild's code),
//     every esbuild option as %#v prints it (define and env values,
//     target, JSX, loaders), the root, the base and the entries;
//   - the content of every input of every entry, inside the root or not,
//     of the package.json and tsconfig files esbuild reads for them
//     (configs), and of the project's lockfile: a package upgrade;
//   - the modification time of every folder holding an input, and of
//     every folder between it and the root: a file added or removed there
//     (a util.ts now beside the util.js an import found, a node_modules
//     folder nearer than the one a package came from) may change what an
//     import resolves to, and is a miss.
//
// A build that read files esbuild does not name as inputs (Sass partials,
// what an import.meta.glob matched) is not kept (ErrNotKeepable): its
// bundle would hold what this file cannot check. Nor is one whose files
// changed while it ran (a modification time within cacheRacy of its
// start, as cache.go does): its outputs may hold either version.

// keptName is the kept bundle's file under BuildOptions.CacheDir; a new
// format gets a new name.
const keptName = "bundle-v1"

// keptBundle is the kept bundle's file, gob-encoded after a SHA-256 of
// the encoding.
type keptBundle struct {
	Key     string              // keepKey
	Files   map[string]keptFile // by absolute path
	Dirs    map[string]int64    // absolute folder -> modification time, ns
	Entries []keptEntry         // sorted by Entry
	Took    time.Duration       // how long the build that made it took
}

// keptFile is a file a kept bundle was built from, as it was: the hex
// SHA-256 of its content ("" for a file that did not exist, as a lockfile
// may not) and its statKey. A file whose statKey is the same has not
// changed; one whose key differs (or is "") is hashed again, and counts
// as changed only if its content did.
type keptFile struct{ Sum, Stat string }

// keptEntry is one entry's ctxState and warnings.
type keptEntry struct {
	Entry, File, CSSFile string
	Inputs               []string // root-relative
	Files                map[string]string
	Outputs              []*Output
	Warnings             []Message
}

// KeptBundleAt reports whether dir (a BuildOptions.CacheDir) holds a kept
// bundle (Keep), without reading it: whether it fits the project as it is
// now, New with Options.KeepBundle tells (KeptBundle).
func KeptBundleAt(dir string) bool {
	if dir == "" || dir == NoCache {
		return false
	}
	_, err := os.Stat(filepath.Join(dir, keptName))
	return err == nil
}

// keepKey hashes what decides every output but the files: the binary,
// the options, the root, the base and the entries.
func (b *Bundler) keepKey() (string, error) {
	id, err := binaryID()
	if err != nil {
		return "", err
	}
	o := b.base
	o.Plugins = nil // functions; their code is the binary's
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n%#v\n%q %q %q %v %v\n", keptName, id, runtime.GOOS, o, b.root, b.rootAs, b.urlBase, b.strict, b.mapsOnRequest)
	for _, c := range b.ctxs {
		fmt.Fprintf(h, "%q %#v\n", c.entry, c.opts.EntryPoints)
	}
	if o.Tsconfig != "" {
		hashTsconfig(h, o.Tsconfig, nil, 0)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ErrNotKeepable is the error of Keep for a project whose bundles cannot
// be kept: a build read files that its inputs do not name (Sass partials,
// what import.meta.glob matched), which a later start could not check.
// Another build of the same project will read them too. (A failed entry
// is another error: a fix makes the next build keepable.)
var ErrNotKeepable = errors.New("the bundles cannot be kept")

// ErrChangedDuringBuild is the error of Keep when a file or folder that
// the last Build read changed as it ran, or since: the next Build is the
// one to keep.
var ErrChangedDuringBuild = errors.New("changed during the build")

// Keep writes the outputs of the last Build into the cache folder, for a
// later Bundler with Options.KeepBundle on the same files to serve. The
// files it hashes must be what that Build read: a file changed since it
// began (its modification time not older than that, less cacheRacy) is
// an error, and the caller builds again and keeps that. It errs in module
// mode or without a cache folder (BuildOptions.CacheDir), before a Build
// has built something since New, after Close, and with ErrNotKeepable.
// It hashes and writes outside the build lock: a Build may run meanwhile.
func (b *Bundler) Keep() error {
	b.buildMu.Lock()
	kb, outside, start, err := b.keptOfLast()
	b.buildMu.Unlock()
	if err != nil {
		return err
	}
	return b.writeKept(kb, outside, start)
}

// keptOfLast is what Keep writes, as of the last Build: its kept bundle
// without stamps, the absolute inputs outside the root, and when that
// Build began. Called with buildMu held.
func (b *Bundler) keptOfLast() (*keptBundle, []string, time.Time, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.keepDir == "":
		return nil, nil, time.Time{}, errors.New("no folder to keep bundles in")
	case b.closed:
		return nil, nil, time.Time{}, errors.New(errClosed)
	case b.builtAt.IsZero():
		return nil, nil, time.Time{}, errors.New("nothing built to keep")
	case len(b.ctxs) == 0:
		return nil, nil, time.Time{}, errors.New("no entries to keep")
	}
	for _, c := range b.ctxs {
		if c.failed || c.state == nil || c.recovered {
			return nil, nil, time.Time{}, fmt.Errorf("%s did not build", c.entry)
		}
	}
	b.globs.mu.Lock()
	globs := len(b.globs.deps)
	b.globs.mu.Unlock()
	b.styleDeps.mu.Lock()
	styles := len(b.styleDeps.deps)
	b.styleDeps.mu.Unlock()
	if globs > 0 || styles > 0 {
		return nil, nil, time.Time{}, fmt.Errorf("%w: it read files its inputs do not name", ErrNotKeepable)
	}
	key, err := b.keepKey()
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	kb := &keptBundle{Key: key, Took: b.builtTook}
	var outside []string
	for _, c := range b.ctxs {
		st := c.state
		kb.Entries = append(kb.Entries, keptEntry{
			Entry: c.entry, File: st.file, CSSFile: st.cssFile,
			Inputs:   slices.Sorted(maps.Keys(st.inputs)),
			Files:    st.files,
			Outputs:  st.outputs,
			Warnings: c.warnings,
		})
		outside = append(outside, st.outside...)
	}
	return kb, outside, b.builtAt, nil
}

// writeKept stamps kb with what its inputs are now and writes it.
func (b *Bundler) writeKept(kb *keptBundle, outside []string, start time.Time) error {
	var files []string
	for _, e := range kb.Entries {
		for _, in := range e.Inputs {
			files = append(files, filepath.Join(b.root, filepath.FromSlash(in)))
		}
	}
	files = append(files, outside...)
	var err error
	if kb.Files, kb.Dirs, err = b.keptStamps(files, start); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(kb); err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	sum := sha256.Sum256(buf.Bytes())
	if err := os.MkdirAll(b.keepDir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(b.keepDir, ".tmp-"+keptName+"-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(append(sum[:], buf.Bytes()...))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(b.keepDir, keptName))
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", keptName, err)
	}
	b.log.Debug("bundler: bundle kept", "files", len(kb.Files), "bytes", buf.Len())
	return nil
}

// keptStamps hashes files, with the package.json, tsconfig and lockfiles
// that decide how they are built, and stamps the folders that hold them
// up to the root. A file or folder changed since start, less cacheRacy,
// is an error: the build that began then may have read it in either
// version.
func (b *Bundler) keptStamps(files []string, start time.Time) (map[string]keptFile, map[string]int64, error) {
	var cfg configs
	all := map[string]bool{}
	dirs := map[string]int64{}
	ts := map[string]bool{} // the tsconfig files: see nameDirs
	if b.base.Tsconfig != "" {
		for _, t := range hashTsconfig(io.Discard, b.base.Tsconfig, nil, 0) {
			ts[t] = true
		}
	}
	for _, f := range files {
		all[f] = true
		dir := filepath.Dir(f)
		_, more := cfg.key(dir)
		for _, m := range more {
			all[m] = true
			if filepath.Base(m) != "package.json" {
				ts[m] = true
			}
		}
		for d := dir; dirs[d] == 0; d = filepath.Dir(d) {
			dirs[d] = 1 // stamped below
			if d == b.root || !strings.HasPrefix(d, b.root+string(filepath.Separator)) {
				break
			}
		}
	}
	for _, d := range nameDirs(slices.Sorted(maps.Keys(ts))) {
		stampUnder(d, dirs)
	}
	for _, lock := range append(slices.Clone(lockfiles), b.workspaceLock) {
		if lock != "" {
			if !filepath.IsAbs(lock) {
				lock = filepath.Join(b.root, lock)
			}
			all[lock] = true
		}
	}
	racy := func(t time.Time) bool { return !t.Before(start.Add(-cacheRacy)) }
	for d := range dirs {
		fi, err := os.Stat(d)
		if err != nil {
			return nil, nil, err
		}
		if racy(fi.ModTime()) {
			return nil, nil, fmt.Errorf("%s: %w", d, ErrChangedDuringBuild)
		}
		dirs[d] = fi.ModTime().UnixNano()
	}
	sums := make(map[string]keptFile, len(all))
	for f := range all {
		fi, err := os.Stat(f)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				sums[f] = keptFile{} // absent, as a lockfile may be
				continue
			}
			return nil, nil, err
		}
		if racy(fi.ModTime()) {
			return nil, nil, fmt.Errorf("%s: %w", f, ErrChangedDuringBuild)
		}
		sum, err := contentSum(f)
		if err != nil {
			return nil, nil, err
		}
		sums[f] = keptFile{Sum: sum, Stat: statKey(fi)}
	}
	return sums, dirs, nil
}

// stampUnder adds dir and every folder under it to dirs, to be stamped,
// but for node_modules and .git; if dir is not a folder, the nearest
// folder above it, which creating it changes.
func stampUnder(dir string, dirs map[string]int64) {
	for {
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
			break
		}
		up := filepath.Dir(dir)
		if up == dir {
			return
		}
		dir = up
	}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil || !d.IsDir():
			return nil
		case p != dir && (d.Name() == "node_modules" || d.Name() == ".git"):
			return fs.SkipDir
		}
		dirs[p] = 1
		return nil
	})
}

// loadKept reads the kept bundle, if there is one for these options and
// entries and every file and folder it was built from is as it was, for
// the first Build to serve. Called by New once the contexts exist.
func (b *Bundler) loadKept() *keptBundle {
	data, err := os.ReadFile(filepath.Join(b.keepDir, keptName))
	if err != nil {
		return nil
	}
	miss := func(why string, args ...any) *keptBundle {
		b.log.Debug("bundler: kept bundle not used: "+why, args...)
		return nil
	}
	if len(data) < sha256.Size {
		return miss("short file")
	}
	if sum := sha256.Sum256(data[sha256.Size:]); !bytes.Equal(sum[:], data[:sha256.Size]) {
		return miss("corrupt file")
	}
	var kb keptBundle
	if err := gob.NewDecoder(bytes.NewReader(data[sha256.Size:])).Decode(&kb); err != nil {
		return miss("decode", "err", err)
	}
	if key, err := b.keepKey(); err != nil || key != kb.Key {
		return miss("other options or binary")
	}
	for d, mtime := range kb.Dirs {
		if fi, err := os.Stat(d); err != nil || fi.ModTime().UnixNano() != mtime {
			return miss("a folder changed", "folder", d)
		}
	}
	if f, ok := sameFiles(kb.Files); !ok {
		return miss("a file changed", "file", f)
	}
	return &kb
}

// KeptBundle reports whether New found a kept bundle (Options.KeepBundle)
// that fits the files as they were then, and the first Build, if there
// was one, served it: it does unless the options changed since (an env
// file). The caller must tell Build of every change since New, as a
// watcher started before New does.
func (b *Bundler) KeptBundle() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.kept != nil
}

// KeptBuildTime is how long the build that made the kept bundle took, if
// KeptBundle: what bundling the project again may take. 0 when there is
// none, or its file does not say (an older devserve's).
func (b *Bundler) KeptBuildTime() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.kept == nil {
		return 0
	}
	return b.kept.Took
}

// serveKept sets the state of every context from the kept bundle New
// found, as a build of each would, if use and the key is still the same
// (an env file may have changed it), and reports whether it did. The
// first Build calls it, with buildMu held: after that, there is none.
func (b *Bundler) serveKept(use bool) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	kb := b.kept
	if kb == nil {
		return false
	}
	b.kept = nil // until it serves
	if !use {
		return false
	}
	if key, err := b.keepKey(); err != nil || key != kb.Key || len(kb.Entries) != len(b.ctxs) {
		return false
	}
	for i, e := range kb.Entries {
		if e.Entry != b.ctxs[i].entry {
			return false
		}
	}
	b.kept = &keptBundle{Key: kb.Key, Took: kb.Took} // for KeptBundle and KeptBuildTime: the rest is in the contexts
	for i, e := range kb.Entries {
		c := b.ctxs[i]
		st := &ctxState{inputs: make(map[string]struct{}, len(e.Inputs)), outputs: e.Outputs, files: e.Files, file: e.File, cssFile: e.CSSFile}
		for _, in := range e.Inputs {
			st.inputs[in] = struct{}{}
		}
		c.state, c.failed, c.recovered = st, false, false
		c.errors, c.warnings = nil, e.Warnings
	}
	b.log.Debug("bundler: kept bundle served", "entries", len(kb.Entries))
	return true
}

// contentSum is the hex SHA-256 of file f's content, "" when it does not
// exist.
func contentSum(f string) (string, error) {
	data, err := os.ReadFile(f)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// sameFiles reports whether every file is as kept: it exists as it did,
// with the same statKey or else the same content; if not, it returns one
// it found changed. It looks on every core: the time goes to system calls.
func sameFiles(files map[string]keptFile) (string, bool) {
	paths := slices.Collect(maps.Keys(files))
	var mu sync.Mutex
	differs := ""
	parallel(len(paths), func(i int) {
		if f := paths[i]; !sameFile(f, files[f]) {
			mu.Lock()
			differs = f
			mu.Unlock()
		}
	})
	return differs, differs == ""
}

// sameFile reports whether file f is as kept.
func sameFile(f string, kept keptFile) bool {
	fi, err := os.Stat(f)
	if err != nil {
		return errors.Is(err, fs.ErrNotExist) && kept.Sum == ""
	}
	if key := statKey(fi); key != "" && key == kept.Stat {
		return true
	}
	sum, err := contentSum(f)
	return err == nil && sum == kept.Sum
}
