package bundler

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"

	"github.com/evanw/esbuild/pkg/api"
)

// A save's compile can begin before the save is known to be done: a dev
// server's watcher notices the file changing a quiet window before the
// batch goes out (watcher.Options.Noticed), and the build starts after
// that. Prepare uses the window. Whatever it makes is taken only where it
// is the same as what the build would make, else dropped.

// Prepare does ahead of a Build the work on the file at path (as Build's
// changed takes it: root-relative, or absolute for a file of a linked
// package) that the Build would do if only that file's content
// changed. In module mode, when the file is a module's, it compiles the
// module; the next Build takes that module if it is given only that
// path, reads the same bytes there and no other Build ran in between:
// then the compile is the one the Build would have made a moment later,
// and what changes afterwards comes in later batches, as for any build.
// Else, for a component with Fast Refresh, it does the transform before
// the module's compile (see refreshLoad), which any Build that reads the
// same bytes and tsconfig takes. A half-written file read here costs
// nothing but the time. Prepare does nothing while a Build runs, or for
// a file whose source import.meta.glob or a dynamic import of a template
// would change: those look at other files, and record what they look at.
func (b *Bundler) Prepare(path string) {
	rel, ok := b.rel(path)
	abs := filepath.Join(b.root, filepath.FromSlash(rel))
	if !ok && filepath.IsAbs(path) && b.linked(path) {
		rel, abs, ok = filepath.Clean(path), filepath.Clean(path), true // see LinkedDirs
	}
	if !ok || b.graph == nil || b.stopping.Load() || !b.buildMu.TryLock() {
		return
	}
	defer b.buildMu.Unlock()
	src, err := os.ReadFile(abs)
	if err != nil || len(src) == 0 || readsOtherFiles(src) || b.globs.has(abs) {
		return
	}
	if !b.prepareModule(rel, abs, src) && b.refreshes(abs) && mayRefresh(abs, src) {
		b.prepareLoad(abs, src)
	}
}

// readsOtherFiles reports whether src, a module's source, has what
// loadGlobs expands from a listing of files.
func readsOtherFiles(src []byte) bool {
	if bytes.Contains(src, []byte("import.meta.glob")) {
		return true
	}
	templates := false
	rewriteDynamicImports(src, func(string) bool { templates = true; return false })
	return templates
}

// prepareModule compiles the module of file rel (as Build's changed
// takes it), whose bytes are src, for the next Build, if the file is one
// module's, that compiles, and a Build of rel alone would compile that
// module alone; false: it did not.
func (b *Bundler) prepareModule(rel, abs string, src []byte) bool {
	g := b.graph
	if !b.onlyEdits([]string{rel}) {
		return false
	}
	todo, same := b.staleModules([]string{rel}, false)
	if !same || len(todo) != 1 {
		return false
	}
	var u unit
	for id := range todo {
		m := g.mods[id]
		if m == nil || !m.compiled() || m.file != rel || m.dep && !b.linked(m.file) {
			return false
		}
		u = unit{id: id, file: m.file, dep: m.dep}
	}
	if b.prepared.holdsModule(u.id, src) {
		return true // a save noticed twice (its truncation, its write)
	}
	before, err := os.Stat(abs)
	if err != nil {
		return false
	}
	got, assets := b.compileBatch([]unit{u})
	m := got[u.id]
	after, err := os.Stat(abs)
	if err != nil || !after.ModTime().Equal(before.ModTime()) || after.Size() != before.Size() || m == nil || m.errs != nil {
		return false // the file changed while it compiled: which did esbuild read?
	}
	if now, err := os.ReadFile(abs); err != nil || !bytes.Equal(now, src) {
		return false
	}
	b.prepared.putModule(preparedModule{id: u.id, src: src, mod: m, assets: assets})
	return true
}

// prepareLoad does Fast Refresh's transform of the component at abs,
// whose bytes are src, for the loads of later Builds.
func (b *Bundler) prepareLoad(abs string, src []byte) {
	tsconfig := b.tsconfigRaw(filepath.Dir(abs))
	if b.prepared.holds(abs, src, tsconfig) {
		return // a save noticed twice (its truncation, its write)
	}
	if res, ok := b.refreshTransform(abs, src, tsconfig); ok {
		b.prepared.put(preparedLoad{path: abs, src: src, tsconfig: tsconfig, res: res})
	}
}

// preparedModule is a module that Prepare compiled from src, the bytes of
// its file, since the last Build.
type preparedModule struct {
	id     string
	src    []byte
	mod    *module
	assets []*Output
}

// preparedLoad is refreshTransform's load of a file's bytes.
type preparedLoad struct {
	path     string
	src      []byte
	tsconfig string
	res      api.OnLoadResult
}

// prepared is what Prepare made last, until a Build takes it: a module
// until the next Build ends, a load until a Build reads the same bytes.
type prepared struct {
	mu      sync.Mutex
	changed []string // the paths of the Build under way, as it takes them
	module  *preparedModule
	load    *preparedLoad
}

// building records the paths of a Build that starts, for takeModule.
func (p *prepared) building(changed []string) {
	p.mu.Lock()
	p.changed = changed
	p.mu.Unlock()
}

// built forgets the module prepared before a Build that ended: it was
// compiled before what that Build saw.
func (p *prepared) built() {
	p.mu.Lock()
	p.changed, p.module = nil, nil
	p.mu.Unlock()
}

func (p *prepared) putModule(m preparedModule) {
	p.mu.Lock()
	p.module = &m
	p.mu.Unlock()
}

// holdsModule reports whether the module id is prepared from src.
func (p *prepared) holdsModule(id string, src []byte) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := p.module
	return m != nil && m.id == id && bytes.Equal(m.src, src)
}

// takeModule returns the module of unit u as Prepare compiled it, and
// forgets it, if the Build under way was given only u's file (another
// path could be a file compiled into it: a CSS module, a ?raw import),
// and the file still holds the bytes it was compiled from.
func (p *prepared) takeModule(b *Bundler, u unit) (*module, []*Output, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := p.module
	if m == nil || m.id != u.id || len(p.changed) != 1 || p.changed[0] != u.file {
		return nil, nil, false
	}
	p.module = nil
	if src, err := os.ReadFile(b.abs(u)); err != nil || !bytes.Equal(src, m.src) {
		return nil, nil, false
	}
	return m.mod, m.assets, true
}

func (p *prepared) put(l preparedLoad) {
	p.mu.Lock()
	p.load = &l
	p.mu.Unlock()
}

// take returns what Prepare made of the file at path if it read src and
// the tsconfig text tsconfig, and forgets it.
func (p *prepared) take(path string, src []byte, tsconfig string) (api.OnLoadResult, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.holdsLocked(path, src, tsconfig) {
		return api.OnLoadResult{}, false
	}
	res := p.load.res
	p.load = nil
	return res, true
}

// holds reports whether take would find the load of path's src.
func (p *prepared) holds(path string, src []byte, tsconfig string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.holdsLocked(path, src, tsconfig)
}

func (p *prepared) holdsLocked(path string, src []byte, tsconfig string) bool {
	l := p.load
	return l != nil && l.path == path && l.tsconfig == tsconfig && bytes.Equal(l.src, src)
}
