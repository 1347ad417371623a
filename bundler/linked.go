package bundler

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Linked source: in an npm, pnpm or yarn workspace, node_modules/<pkg> is
// a symlink to a package of the workspace, and esbuild resolves it to
// where it really is, often outside the root (a monorepo's packages/ui
// beside apps/web). Such a package is the user's source, not something
// installed: module mode compiles it as it does packages (one module per
// file, under DepsPrefix), but a dev server watches its folder
// (LinkedDirs) and passes its changes to Build by absolute path, and an
// edit there rebuilds its module and hot-updates the page as an edit of
// the project does. Packages installed from a registry sit under a
// node_modules folder, also with pnpm (node_modules/.pnpm/...), and stay
// cached and unwatched.

// linked reports whether the absolute file p is linked source: outside
// the root and under no node_modules folder. Besides workspace packages,
// that is a file imported by a path that leaves the root ("../../shared").
func (b *Bundler) linked(p string) bool {
	if _, inRoot := b.relInput(p); inRoot {
		return false
	}
	return !strings.Contains(filepath.ToSlash(p)+"/", "/node_modules/")
}

// LinkedDirs returns the folders of the linked source that the page's
// modules come from (see the top of this file): for each linked file, the
// nearest folder above it with a package.json, or its own folder. A dev
// server watches them and passes their changes to Build as absolute
// paths. Sorted; none inside another. Nil outside module mode. They are
// found again once the modules were walked again (not after a build that
// only changed the code of some), not on every call: a dev server asks
// after every build, and the walk is over every module.
func (b *Bundler) LinkedDirs() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	g := b.graph
	if g == nil {
		return nil
	}
	if !g.linkedFound {
		g.linked, g.linkedFound = b.linkedDirs(), true
	}
	return slices.Clone(g.linked)
}

// LinkedChangedSince returns the files of linked packages that modules
// come from (see LinkedDirs) whose modification time is t or later, or
// within cacheRacy before it (file times are coarse), and those gone:
// what may have changed while nothing watched their folders, such as
// during the first build of a dev server that serves bundled pages
// meanwhile (hmr.Options.BundleFirst), whose watchers of linked folders
// follow module mode's LinkedDirs. Sorted; nil outside module mode.
func (b *Bundler) LinkedChangedSince(t time.Time) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.graph == nil {
		return nil
	}
	var out []string
	for _, m := range b.graph.mods {
		if !m.dep || !filepath.IsAbs(m.file) || !b.linked(m.file) {
			continue
		}
		if fi, err := os.Stat(m.file); err != nil || !fi.ModTime().Before(t.Add(-cacheRacy)) {
			out = append(out, m.file)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// linkedDirs finds what LinkedDirs returns. Called with mu held.
func (b *Bundler) linkedDirs() []string {
	roots := map[string]string{} // folder -> its package folder
	var dirs []string
	for _, m := range b.graph.mods {
		if !m.dep || !filepath.IsAbs(m.file) || !b.linked(m.file) {
			continue
		}
		dirs = append(dirs, packageDir(filepath.Dir(m.file), roots))
	}
	slices.Sort(dirs)
	dirs = slices.Compact(dirs)
	return slices.DeleteFunc(dirs, func(d string) bool {
		return slices.ContainsFunc(dirs, func(o string) bool { return o != d && strings.HasPrefix(d, o+string(filepath.Separator)) })
	})
}

// packageDir returns the nearest folder at or above dir that holds a
// package.json, or dir when there is none; known caches the answers found.
func packageDir(dir string, known map[string]string) string {
	var seen []string
	found := func(p string) string {
		for _, s := range seen {
			known[s] = p
		}
		return p
	}
	for d := dir; ; {
		if p, ok := known[d]; ok {
			return found(p)
		}
		seen = append(seen, d)
		if fi, err := os.Stat(filepath.Join(d, "package.json")); err == nil && fi.Mode().IsRegular() {
			return found(d)
		}
		up := filepath.Dir(d)
		if up == d {
			return dir
		}
		d = up
	}
}
