package bundler

import (
	"os"
	"path/filepath"
	"slices"
	"strings"

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
	opts.Sourcemap = api.SourceMapInline
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
