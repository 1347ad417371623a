package bundler

import (
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/evanw/esbuild/pkg/api"
)

// A stylesheet imported with ?inline is, in Vite, its CSS as a string,
// not injected into the page: what a web component puts into its shadow
// root (import styles from "./my-element.css?inline"; Lit's
// unsafeCSS(styles)). It was a data: URL here, as ?inline is for other
// files. inlineCSS builds the stylesheet as a page's would be, its
// @imports bundled in, and every url() made the absolute URL that serves
// the file: a <style> in a shadow root resolves URLs against the page,
// not the stylesheet. The files it @imports are remembered
// (styleDepFiles): an edit of one builds again what used it, as their
// importer's module knows nothing of them.

// styleDepFiles are, per stylesheet that a build or a compiler of its own
// read (one imported with ?inline, a Sass stylesheet; absolute), the other
// files that read: its @imports, its partials. esbuild's inputs of the
// build that used the stylesheet do not name them, nor do the module
// cache's checks.
type styleDepFiles struct {
	mu   sync.Mutex
	deps map[string][]string // absolute
}

func (c *styleDepFiles) set(file string, deps []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.deps == nil {
		c.deps = map[string][]string{}
	}
	c.deps[file] = deps
}

// has reports whether file is such a stylesheet.
func (c *styleDepFiles) has(file string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.deps[file]
	return ok
}

// depsOf returns the files that the last read of stylesheet file read
// besides it.
func (c *styleDepFiles) depsOf(file string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.deps[file]
}

// uses reports whether absolute p is a file that such a stylesheet's read
// read besides the stylesheet itself.
func (c *styleDepFiles) uses(p string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, deps := range c.deps {
		if slices.Contains(deps, p) {
			return true
		}
	}
	return false
}

// styleDepChange reports whether changed root-relative (or absolute)
// path p is a file that such a stylesheet read (see styleDepFiles).
func (b *Bundler) styleDepChange(p string) bool {
	if !filepath.IsAbs(p) {
		p = filepath.Join(b.root, filepath.FromSlash(p))
	}
	return b.styleDeps.uses(p)
}

// isCSSFile reports whether p names a stylesheet: CSS, or Sass, which
// compiles to it (see sass.go).
func isCSSFile(p string) bool { return strings.EqualFold(filepath.Ext(p), ".css") || isSass(p) }

// inlineCSS builds the stylesheet at absolute path file for an import
// with ?inline: its CSS, or the build's errors.
func (b *Bundler) inlineCSS(file string) (css string, errs []api.Message) {
	opts := b.base
	opts.EntryPoints = []string{file}
	opts.Sourcemap = api.SourceMapNone
	opts.Metafile = true
	opts.Write = false
	opts.Plugins = append([]api.Plugin{{Name: "devserve-inline-css", Setup: func(pb api.PluginBuild) {
		pb.OnResolve(api.OnResolveOptions{Filter: ".*"}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
			if a.Kind != api.ResolveCSSURLToken || strings.HasPrefix(a.Path, "/") || strings.Contains(a.Path, ":") || strings.HasPrefix(a.Path, "#") {
				return api.OnResolveResult{}, nil // public URLs (publicPlugin), data:, http:, #ids
			}
			p, rest := a.Path, ""
			if i := strings.IndexAny(p, "?#"); i >= 0 {
				p, rest = p[:i], p[i:]
			}
			abs := filepath.Join(a.ResolveDir, filepath.FromSlash(p))
			rel, ok := b.relInput(abs)
			if !ok {
				return api.OnResolveResult{}, nil // a package's file, out of the root: esbuild's way
			}
			return api.OnResolveResult{Path: (&url.URL{Path: b.urlBase + rel}).EscapedPath() + rest, External: true}, nil
		})
	}}}, b.base.Plugins...)
	res := api.Build(opts)
	var deps []string
	if meta, err := parseMetafile(res.Metafile); err == nil {
		for in := range meta.Inputs {
			abs := in
			if !filepath.IsAbs(abs) {
				abs = filepath.Join(b.root, filepath.FromSlash(in))
			}
			if abs != file {
				deps = append(deps, abs)
			}
			if isSass(abs) {
				// What a Sass stylesheet among them read, as this
				// build's load of it recorded it (see sass.go): no
				// input of esbuild's.
				deps = append(deps, b.styleDeps.depsOf(abs)...)
			}
		}
	}
	b.styleDeps.set(file, slices.Compact(slices.Sorted(slices.Values(deps))))
	if len(res.Errors) > 0 {
		return "", res.Errors
	}
	for _, f := range res.OutputFiles {
		if isCSSFile(f.Path) {
			return string(f.Contents), nil
		}
	}
	return "", []api.Message{{Text: "esbuild wrote no stylesheet for " + file}}
}
