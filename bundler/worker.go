package bundler

import (
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/evanw/esbuild/pkg/api"
)

// Worker builds the JS or TS file at root-relative rel for a browser's
// Worker or SharedWorker (new Worker(new URL("./worker.ts",
// import.meta.url), { type: "module" }), or import W from
// "./worker.ts?worker", as Vite projects write it; also a package's
// worker, such as monaco-editor's, under the root's node_modules): one
// ES module with everything it imports bundled in and its source map
// inline. Module mode's registry is the page's, and a worker has no page;
// served as it is, the file would be TypeScript, or would import packages
// by bare names. It returns the script, or the build's errors, and the
// files of the project the build read, root-relative, which the caller
// watches: a worker is not an entry, and its edits reach no page by
// themselves. ok is false when rel is no JS or TS file under the root (but
// in PublicDir, served as it is), or the Bundler is closed.
func (b *Bundler) Worker(rel string) (code []byte, inputs []string, errs []Message, ok bool) {
	rel, inRoot := b.rel(rel)
	abs := filepath.Join(b.root, filepath.FromSlash(rel))
	if !inRoot || IsPublic(rel) || !jsModuleExts[strings.ToLower(filepath.Ext(rel))] {
		return nil, nil, nil, false
	}
	if fi, err := os.Stat(abs); err != nil || !fi.Mode().IsRegular() {
		return nil, nil, nil, false
	}
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return nil, nil, nil, false
	}
	opts := b.base
	opts.EntryPoints = []string{abs}
	opts.PublicPath = b.urlBase
	if opts.Sourcemap != api.SourceMapNone {
		opts.Sourcemap = api.SourceMapInline
	}
	opts.Write = false
	res := api.Build(opts)
	if meta, err := parseMetafile(res.Metafile); err == nil {
		for in := range meta.Inputs {
			if r, ok := b.relInput(in); ok {
				inputs = append(inputs, strings.Clone(r))
			}
		}
	}
	if len(res.Errors) > 0 {
		// A failed build writes no metafile: its fix is a change of the
		// worker's file or of one the errors name.
		errs = b.messages(res.Errors)
		inputs = append(inputs, rel)
		for _, m := range errs {
			if m.File != "" && !filepath.IsAbs(m.File) {
				inputs = append(inputs, m.File)
			}
		}
		slices.Sort(inputs)
		return nil, slices.Compact(inputs), errs, true
	}
	slices.Sort(inputs)
	base := strings.TrimSuffix(filepath.Base(rel), filepath.Ext(rel)) + ".js"
	for _, f := range res.OutputFiles {
		if filepath.Base(f.Path) == base {
			return f.Contents, inputs, nil, true
		}
	}
	return nil, inputs, []Message{{Text: "worker " + rel + ": esbuild wrote no script for it"}}, true
}

// A production build has no server to build a worker when a browser asks
// for it: the workers that code starts (import W from "./w.ts?worker", or
// new Worker(new URL("./w.ts", import.meta.url))) are written as files
// by WriteSite, and their URLs name those files (workerOut).

// workerRefs are the root-relative files that a production build's code
// starts as workers.
type workerRefs struct {
	mu    sync.Mutex
	files map[string]bool
}

func (w *workerRefs) add(rel string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.files == nil {
		w.files = map[string]bool{}
	}
	w.files[rel] = true
}

func (w *workerRefs) list() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Sorted(maps.Keys(w.files))
}

// workerOut is the file that a production build writes the worker at
// root-relative rel to: "src/worker.ts" is "src/worker.js".
func workerOut(rel string) string {
	return strings.TrimSuffix(rel, path.Ext(rel)) + ".js"
}

// productionWorker returns the URL path of the file written for the worker
// at URL path u (under the base), and records the worker, when u names a
// JS or TS file of the project; else u.
func (b *Bundler) productionWorker(u string) string {
	rel, ok := strings.CutPrefix(u, b.urlBase)
	if !ok || IsPublic(rel) || !jsModuleExts[strings.ToLower(path.Ext(rel))] {
		return u
	}
	if fi, err := os.Stat(filepath.Join(b.root, filepath.FromSlash(rel))); err != nil || !fi.Mode().IsRegular() {
		return u
	}
	b.workers.add(rel)
	return b.urlBase + workerOut(rel)
}

// writeWorkers builds the workers that the last build's code starts and
// writes each to its file under snap's folder; it returns the files they
// were built from, which are not shipped as they are.
func (b *Bundler) writeWorkers(snap *snapshot) ([]string, error) {
	var inputs []string
	for _, rel := range b.workers.list() {
		code, in, errs, ok := b.Worker(rel)
		if !ok {
			continue // gone since the build
		}
		if len(errs) > 0 {
			e := errs[0]
			return nil, fmt.Errorf("bundler: write: worker %s: %s:%d:%d: %s", rel, e.File, e.Line, e.Column, e.Text)
		}
		out := workerOut(rel)
		if err := writeFile(snap.dir, out, code); err != nil {
			return nil, err
		}
		snap.written[out] = true
		inputs = append(inputs, in...)
	}
	return inputs, nil
}
