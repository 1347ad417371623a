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
// (cssInlineChange): an edit of one builds everything again, as their
// importer's module knows nothing of them.

// cssInlineDeps are, per stylesheet imported with ?inline (absolute), the
// other files its last build read.
type cssInlineDeps struct {
	mu   sync.Mutex
	deps map[string][]string // absolute
}

func (c *cssInlineDeps) set(file string, deps []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.deps == nil {
		c.deps = map[string][]string{}
	}
	c.deps[file] = deps
}

// has reports whether file was built as an inline stylesheet.
func (c *cssInlineDeps) has(file string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.deps[file]
	return ok
}

// depsOf returns the files that the last build of the inline stylesheet
// file read besides it.
func (c *cssInlineDeps) depsOf(file string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.deps[file]
}

// uses reports whether absolute p is a file that an inline stylesheet's
// build read besides the stylesheet itself.
func (c *cssInlineDeps) uses(p string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, deps := range c.deps {
		if slices.Contains(deps, p) {
			return true
		}
	}
	return false
}

// cssInlineChange reports whether changed root-relative (or absolute)
// path p is a file that an inline stylesheet @imports.
func (b *Bundler) cssInlineChange(p string) bool {
	if !filepath.IsAbs(p) {
		p = filepath.Join(b.root, filepath.FromSlash(p))
	}
	return b.cssInline.uses(p)
}

// isCSSFile reports whether p names a stylesheet.
func isCSSFile(p string) bool { return strings.EqualFold(filepath.Ext(p), ".css") }

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
		}
	}
	b.cssInline.set(file, deps)
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
