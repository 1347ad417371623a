package bundler

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/devserve/devserve/internal/protocol"
)

// This file is module mode (Options.Modules): every module is compiled
// alone by esbuild into a factory function registered under its id, and a
// JS entry is served as one script holding the factories of every module
// it reaches (or chunks of them). A page loads one script or a few, as with
// a bundle, but the runtime (client/hmr.js) can run a module again with new
// code: the hot update of one module fetches that module alone. See
// "Modules" in the package documentation.
//
// Module mode lives in four files: this one holds the flow of a Build
// (buildGraph, buildModules and its steps, finishGraph) and the lookup of
// its URLs; graph.go the graph of installed modules and their imports;
// compile.go the compiling of modules by esbuild; assemble.go the linking
// of compiled modules into registrations, entry scripts and update scripts.

// URLs of module mode.
const (
	// HMRPath is the URL of the runtime every entry script imports: the
	// module registry and import.meta.hot.
	HMRPath = protocol.HMRPath
	// ModulePrefix is where one module's new code is served for a hot
	// update: ModulePrefix + id without its leading slash.
	ModulePrefix = protocol.ModulePrefix
	// ChunkPrefix is where the chunks of a big entry's script are served.
	ChunkPrefix = protocol.ChunkPrefix
	// DepsPrefix begins the ids of packages from node_modules, each
	// bundled into one module.
	DepsPrefix = protocol.DepsPrefix
	// cssModuleQuery marks the module that stands for a CSS file imported
	// from JS: "/src/x.css?module".
	cssModuleQuery = "?module"
	// bannerMark is esbuild's banner, replaced by each module's factory
	// header; it is a line of its own that the source map skips.
	bannerMark = protocol.ModuleMark
	// metaName stands for import.meta in module code: the factory's
	// argument that carries url and hot.
	metaName = protocol.Meta
)

// jsModuleExts are the JS and TS files, which quickResolve resolves. Every
// file of the project that JS imports is a module of its own (also JSON,
// text and assets); a package's assets and files imported with a query
// (?raw) are inlined into their importer by esbuild.
var jsModuleExts = map[string]bool{".js": true, ".mjs": true, ".cjs": true, ".jsx": true,
	".ts": true, ".mts": true, ".cts": true, ".tsx": true}

// module is one module of the registry: a source file, a package, or the
// module standing for a CSS file imported from JS.
//
// A project can have tens of thousands of modules, all held for the life
// of the server: its maps are nil while empty (see setKey), as most are.
type module struct {
	id       string            // "/src/b.ts", "/__devserve/deps/tiny-pkg/index.js", "/src/x.css?module"
	file     string            // root-relative source file; absolute for packages; the CSS file for CSS modules
	dep      bool              // a package
	css      bool              // a CSS module
	refresh  bool              // compiled with React Fast Refresh's registrations; see refresh.go
	stub     bool              // stands for no file: emptyID, a Node built-in
	strict   bool              // compiled without bundling: its let and const stay; see esm.go
	tla      bool              // has top-level await; see compileTLA
	waits    bool              // has, or imports a module that has, top-level await
	acyclic  bool              // in no import cycle: its exports may be plain properties; see plain.go
	out      []byte            // esbuild's output: banner line, code, footer; helpers blanked
	helpers  map[string]string // esbuild's runtime helpers the code uses, by name; shared, never changed (see shareHelpers)
	srcMap   *mapRef           // its source map, sources as URL paths; nil: none
	deps     map[string]string // specifier as written -> module id
	static   []string          // ids it imports statically, in the order of its imports
	dyn      []string          // ids it imports with import()
	inline   map[string]bool   // root-relative files esbuild inlined into it (?raw imports, CSS modules)
	depFiles map[string]string // package module id -> absolute file
	alts     map[string]string // package module id -> the file a require() of it wants; see resolveImport
	errs     []Message         // of its last compile; nil when it compiled
	warns    []Message
	rec      *cacheRec // what its compile saw, until it is in the cache; see cache.go

	hash  string   // of its registration, __devserve_define(id, deps, factory), made by appendDef; "": not rendered
	plain [2]int32 // with acyclic, where its export statement is in its code when its exports are plain; see exportsAt
	lines int      // of its registration
	sig   uint64   // of id and hash; see graph.sig

	depIDs []string // the ids of deps, sorted, without repeats: what reach walks; set by render

	style     string // see styleHref, once styleSeen
	styleSeen bool
	// styleBefore is the first of static imported after the module's
	// first CSS module, before whose stylesheets the page links the one
	// of its CSS modules (see cssOf, stylesOf), as Vite links a CSS
	// module where it is imported; "" for after them all.
	styleBefore string
}

// styleHref returns the href of the stylesheet that the module links as
// it runs (a CSS file's module, or one whose CSS modules esbuild bundled:
// cssModule and cssOf end its code with meta.style(href)); "" for none.
func (m *module) styleHref() string {
	if m.styleSeen {
		return m.style
	}
	m.style, m.styleSeen = findStyleHref(m.out), true
	return m.style
}

// findStyleHref is styleHref, looked up in the code.
func findStyleHref(out []byte) string {
	tail := out[max(0, len(out)-1024):]
	call := []byte(metaName + `.style("`)
	i := bytes.LastIndex(tail, call)
	if i < 0 {
		return ""
	}
	rest := tail[i+len(call)-1:]
	end := bytes.Index(rest, []byte(`")`))
	var href string
	if end < 0 || json.Unmarshal(rest[:end+1], &href) != nil {
		return ""
	}
	return href
}

// sourceMap returns the module's source map; nil when it has none.
func (m *module) sourceMap() []byte {
	return m.srcMap.bytes()
}

// mapRef holds a module's source map: its bytes until the module cache
// has written them, then where they are there (see packedMap). The
// cache's writer moves it while a request may read it, so the two are
// swapped whole.
type mapRef struct{ cur atomic.Pointer[mapAt] }

// mapAt is a source map's bytes, or where they are in the module cache.
type mapAt struct {
	b      []byte
	packed *packedMap
}

// newMapRef holds b; nil for an empty map.
func newMapRef(b []byte) *mapRef {
	if len(b) == 0 {
		return nil
	}
	r := &mapRef{}
	r.cur.Store(&mapAt{b: b})
	return r
}

// bytes returns the map; nil for none, or when the cache cannot give it.
func (r *mapRef) bytes() []byte {
	if r == nil {
		return nil
	}
	at := r.cur.Load()
	if at.packed != nil {
		return at.packed.read()
	}
	return at.b
}

// setKey sets (*m)[k] to v, making the map if it is nil.
func setKey[K comparable, V any](m *map[K]V, k K, v V) {
	if *m == nil {
		*m = map[K]V{}
	}
	(*m)[k] = v
}

// nilIfEmpty is m, or nil when m is empty.
func nilIfEmpty[K comparable, V any](m map[K]V) map[K]V {
	if len(m) == 0 {
		return nil
	}
	return m
}

// ModuleUpdate is a module whose code changed in a build, in module mode.
type ModuleUpdate struct {
	// ID is the module's id: the URL path of its source ("/src/b.ts"),
	// with "?module" for a CSS file imported from JS.
	ID string
	// URL serves its new registration, for the runtime to import.
	URL string
}

// buildModules brings the modules up to date with changed (root-relative;
// all: compile everything again) and returns them by id, with the assets
// esbuild emitted. A module whose compile failed keeps its last good code
// with the errors attached. Called by Build holding buildMu.
func (b *Bundler) buildModules(changed []string, all bool) (mods, patch map[string]*module, assets []*Output) {
	g := b.graph
	if all || !b.onlyEdits(changed) {
		b.resolves.reset() // files may have come and gone since the last Build
	}
	todo, same := b.staleModules(changed, all)
	if same && len(todo) == 0 {
		return nil, nil, nil // nothing to compile, nothing to drop: as installed
	}
	if same {
		if patch, assets, ok := b.patchModules(todo); ok {
			return nil, patch, assets
		}
	}
	mods = map[string]*module{}
	for id, m := range g.mods {
		if !m.css {
			mods[id] = m // stubs too: they never change
		}
	}
	b.dropGone(mods, todo)
	assets = b.compileReached(mods, todo)
	g.keepReached(mods)
	cyclic := cycles(mods)
	b.compileStrict(mods, slices.Sorted(maps.Keys(cyclic)))
	markWaits(mods)
	markAcyclic(mods, cyclic)
	return mods, nil, assets
}

// onlyEdits reports whether every path of changed is a file that the
// installed modules were compiled from (their own, or one inlined) and
// that still exists: edits of what was there. Those change no import's
// resolution, which depends on which files and folders exist and on the
// package.json and tsconfig files (never a module's file; a change of one
// rebuilds everything), so the imports resolved before stay good. A
// component's edit then finds react and its JSX runtime resolved, where
// esbuild's resolve of them was 29% of the compile. Anything else, a new
// file, a folder, a lockfile, one removed, forgets them all. As before,
// node_modules itself is not watched: a package installed while devserve
// runs is seen once the package manager writes its lockfile (isConfig).
func (b *Bundler) onlyEdits(changed []string) bool {
	g := b.graph
	for _, p := range changed {
		if i := g.fileAt(p); i == len(g.files) || g.files[i].file != p {
			return false
		}
		if fi, err := os.Stat(b.abs(unit{file: p, dep: filepath.IsAbs(p)})); err != nil || !fi.Mode().IsRegular() {
			return false
		}
	}
	return len(changed) > 0
}

// staleModules returns the ids of the modules to compile again for
// changed (all: every compiled module), with those that failed or were
// compiled in a failed build and the entries not yet compiled, and
// whether the entries are the ones the installed modules were walked
// from.
func (b *Bundler) staleModules(changed []string, all bool) (todo map[string]bool, same bool) {
	g := b.graph
	todo = map[string]bool{}
	if all {
		for id, m := range g.mods {
			if m.compiled() {
				todo[id] = true
			}
		}
	}
	for _, p := range changed {
		g.touched(p, func(id string) { todo[id] = true })
	}
	for _, id := range g.retry { // with every module that has errors
		todo[id] = true
	}
	same = len(g.entries) == g.reachedEntries
	for _, e := range g.entries {
		if g.mods["/"+e] == nil {
			todo["/"+e] = true
			same = false
		}
	}
	return todo, same
}

// dropGone takes out of mods and todo each module of todo whose file is
// gone (not an entry) and puts its importers in todo: compiled again, the
// error is theirs, at the import.
func (b *Bundler) dropGone(mods map[string]*module, todo map[string]bool) {
	g := b.graph
	for id := range todo {
		m := mods[id]
		if m == nil || m.dep || slices.Contains(g.entries, m.file) || b.exists(m.file) {
			continue
		}
		delete(todo, id)
		delete(mods, id)
		for iid, imp := range mods {
			if slices.Contains(slices.Collect(maps.Values(imp.deps)), id) {
				todo[iid] = true
			}
		}
	}
}

// compileReached compiles the modules of todo into mods, then the modules
// they import that mods lacks, and so on until every import has its
// module, and returns the assets esbuild emitted. A module whose compile
// failed keeps its last good code with the errors attached.
func (b *Bundler) compileReached(mods map[string]*module, todo map[string]bool) (assets []*Output) {
	// A package is compiled from the file a require() of it wants when
	// any module requires it (see resolveImport); pkgFile holds the file of
	// each package module to compile.
	alts, pkgFile := map[string]string{}, map[string]string{}
	for _, m := range mods {
		maps.Copy(alts, m.alts)
	}
	for len(todo) > 0 {
		var units []unit
		for id := range todo {
			switch m := mods[id]; {
			case pkgFile[id] != "":
				units = append(units, unit{id: id, file: pkgFile[id], dep: true})
			case m != nil:
				units = append(units, unit{id: id, file: m.file, dep: m.dep})
			case !strings.HasPrefix(id, DepsPrefix):
				file, _, _ := strings.Cut(strings.TrimPrefix(id, "/"), "?")
				units = append(units, unit{id: id, file: file})
			}
		}
		clear(todo)
		clear(pkgFile)
		got, more := b.compileAll(units)
		assets = append(assets, more...)
		for id, m := range got {
			maps.Copy(alts, m.alts)
			if old := mods[id]; old != nil && m.errs != nil && old.out != nil {
				old.errs, old.warns = m.errs, m.warns
				continue
			}
			mods[id] = m
		}
		for _, m := range got {
			for _, id := range m.deps {
				switch f, dep := m.depFiles[id]; {
				case strings.HasSuffix(id, cssModuleQuery):
				case strings.HasPrefix(id, nodePrefix) || id == emptyID:
					if mods[id] == nil {
						mods[id] = stubModule(id)
					}
				case dep:
					if a := alts[id]; a != "" {
						f = a
					}
					if old := mods[id]; old == nil || old.file != f {
						pkgFile[id], todo[id] = f, true
					}
				case mods[id] == nil:
					todo[id] = true
				}
			}
		}
		// A require found now of a package compiled from its import file.
		for id, a := range alts {
			if old := mods[id]; old != nil && old.file != a && !todo[id] {
				pkgFile[id], todo[id] = a, true
			}
		}
	}
	return assets
}

// compileAll compiles units, each id once, and returns the modules by
// id with the assets esbuild emitted.
func (b *Bundler) compileAll(units []unit) (map[string]*module, []*Output) {
	if len(units) == 0 {
		return map[string]*module{}, nil
	}
	slices.SortFunc(units, func(x, y unit) int { return strings.Compare(x.id, y.id) })
	units = slices.CompactFunc(units, func(x, y unit) bool { return x.id == y.id })
	k := b.newCacheKeys()
	hits, assets, units, keys := b.fromCache(k, units)
	if len(units) == 0 {
		return hits, assets
	}
	// Each batch goes to the cache's writer as it is compiled: queued
	// until the whole compile ends, a cold start's entries were most of
	// the heap when it ended (issue #14).
	got, more := b.compile(units, func(got map[string]*module) { b.toCache(k, got, keys) })
	maps.Copy(got, hits)
	return got, append(assets, more...)
}

// patchModules compiles the modules of todo, all of them installed, and
// returns them when nothing but their code changed: their files exist, they
// compiled, and they import and inline what they did. Then the graph needs
// no new walk, and a one-module edit costs the same at 10 modules as at
// 5,000. false: something else changed; the caller walks the graph.
func (b *Bundler) patchModules(todo map[string]bool) (map[string]*module, []*Output, bool) {
	g := b.graph
	var units []unit
	for id := range todo {
		switch m := g.mods[id]; {
		case m == nil || !m.compiled():
			return nil, nil, false
		case !m.dep && !b.exists(m.file):
			return nil, nil, false
		default:
			units = append(units, unit{id: id, file: m.file, dep: m.dep})
		}
	}
	got, assets := b.compileAll(units)
	var strict []string
	for id, m := range got {
		old := g.mods[id]
		if old == nil || m.errs != nil || !maps.Equal(old.deps, m.deps) || !maps.Equal(old.inline, m.inline) || old.tla != m.tla {
			return nil, nil, false
		}
		// The same imports: the same cycles, the same waits.
		m.waits, m.acyclic = old.waits, old.acyclic
		if old.strict {
			strict = append(strict, id)
		}
	}
	b.compileStrict(got, strict)
	return got, assets, true
}

// exists reports whether root-relative f exists.
func (b *Bundler) exists(f string) bool {
	_, err := os.Stat(filepath.Join(b.root, filepath.FromSlash(f)))
	return err == nil
}

// graphBuild is what the module side of one Build made, installed by
// finishGraph when the whole build succeeded.
type graphBuild struct {
	mods   map[string]*module // all modules; nil: the installed ones stay
	patch  map[string]*module // with mods nil: installed modules with new code
	assets []*Output
	errs   []Message
	warns  []Message
}

// buildGraph compiles what changed in module mode and sets up the contexts
// of the CSS files imported from JS. Called by Build holding buildMu.
func (b *Bundler) buildGraph(paths []string, all bool) *graphBuild {
	gb := &graphBuild{}
	if b.refresh.missing && len(b.graph.mods) == 0 {
		gb.warns = append(gb.warns, Message{Text: b.refresh.missingText()})
	}
	gb.mods, gb.patch, gb.assets = b.buildModules(paths, all)
	for _, m := range gb.patch {
		gb.warns = append(gb.warns, m.warns...)
	}
	if gb.mods == nil {
		return gb // the installed modules, maybe some with new code
	}
	var css []string
	for _, id := range slices.Sorted(maps.Keys(gb.mods)) {
		m := gb.mods[id]
		gb.errs = append(gb.errs, m.errs...)
		gb.warns = append(gb.warns, m.warns...)
		for _, d := range m.deps {
			if rel, ok := strings.CutSuffix(d, cssModuleQuery); ok {
				css = append(css, strings.TrimPrefix(rel, "/"))
			}
		}
	}
	slices.Sort(css)
	if css = slices.Compact(css); !slices.Equal(css, b.cssUsed) {
		b.cssUsed = css
		gb.errs = append(gb.errs, b.setEntries(b.entries)...)
	}
	return gb
}

// finishGraph installs what buildGraph made when r is a success, reports
// the modules that changed in r.Modules and assembles the entries'
// scripts. After a failure, the modules compiled are compiled again next
// time, so that none is reported unchanged when the fix comes. Called by
// Build holding buildMu and mu, after resultLocked.
func (b *Bundler) finishGraph(r *Result, gb *graphBuild) {
	g := b.graph
	if r.OK() && g.env != b.envObj {
		g.env, g.scripts = b.envObj, nil // the entry scripts set it
	}
	r.Warnings = append(r.Warnings, gb.warns...)
	g.retry = g.retry[:0]
	switch {
	case !r.OK():
		for id, m := range gb.mods {
			if g.mods[id] != m || m.errs != nil {
				g.retry = append(g.retry, id)
			}
		}
		for id := range gb.patch {
			g.retry = append(g.retry, id)
		}
		// An installed module that a compile gave errors but no walk
		// reached any more (compileReached) is compiled again too: retry
		// holds every module with errors, which staleModules and affects
		// count on.
		for id, m := range g.mods {
			if m.errs != nil && gb.mods[id] != m {
				g.retry = append(g.retry, id)
			}
		}
	case gb.mods == nil:
		// The installed modules stay; some may have new code, and CSS
		// modules change with their CSS.
		r.Modules = []ModuleUpdate{}
		for _, a := range gb.assets {
			g.assets[a.Path] = a
		}
		for _, id := range slices.Sorted(maps.Keys(gb.patch)) {
			m := gb.patch[id]
			m.render()
			if g.replace(m) {
				r.Modules = append(r.Modules, m.update(b.urlBase))
			}
		}
		for _, id := range g.cssIDs {
			if m := b.cssModule(id); g.replace(m) {
				r.Modules = append(r.Modules, m.update(b.urlBase))
			}
		}
	default:
		for _, a := range gb.assets {
			g.assets[a.Path] = a
		}
		mods := gb.mods
		for _, m := range slices.Collect(maps.Values(gb.mods)) {
			for _, d := range m.deps {
				if strings.HasSuffix(d, cssModuleQuery) && mods[d] == nil {
					mods[d] = b.cssModule(d)
				}
			}
		}
		// Report the modules that changed, and new ones (which new code
		// may import), except on the first build: no page has any yet.
		r.Modules = []ModuleUpdate{}
		for _, id := range slices.Sorted(maps.Keys(mods)) {
			m := mods[id]
			if !m.rendered() {
				m.render()
			}
			if old := g.mods[id]; (old == nil && len(g.mods) > 0) || (old != nil && old.hash != m.hash) {
				r.Modules = append(r.Modules, m.update(b.urlBase))
			}
		}
		g.install(mods)
	}
	r.ID = hashHex([]byte(r.ID + "\n" + strconv.FormatUint(g.sig, 16)))
	r.Inputs = g.withInputs(r.Inputs)
}

// waitLocked waits (with mu held) until no build is in progress.
func (b *Bundler) waitLocked() {
	for b.building {
		if b.lookupWaitHook != nil {
			b.lookupWaitHook()
		}
		b.idle.Wait()
	}
}

// LookupURL is Lookup for a URL with its query, which module mode needs:
// a JS entry's URL serves its script (and URL + ".map" its source map),
// ModulePrefix + id the module's registration for a hot update, with
// "?module" for the module of a CSS file imported from JS, and that path
// + ".map" (same query) the registration's source map. Otherwise it
// answers as Lookup. Like Lookup it waits for a build in progress.
func (b *Bundler) LookupURL(u *url.URL) (*Output, bool) {
	o, c, ok := b.lookupURL(u)
	if c.a != nil {
		return c.output(), true
	}
	if !ok {
		return b.mapOnRequest(u.Path)
	}
	return o, ok
}

// lookupURL is LookupURL holding mu: an assembled script or map comes back
// as c, for LookupURL to make after it lets go of mu.
func (b *Bundler) lookupURL(u *url.URL) (o *Output, c chunkAt, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.waitLocked()
	if g := b.graph; g != nil {
		e := strings.TrimSuffix(strings.TrimPrefix(u.Path, "/"), ".map")
		if slices.Contains(g.entries, e) || strings.HasPrefix(u.Path, ChunkPrefix) {
			if g.scripts == nil {
				g.assembleAll()
			}
			if o := g.scripts[u.Path]; o != nil {
				return o, c, true
			}
			name, isMap := strings.CutSuffix(u.Path, ".map")
			if a := g.assembled[name]; a != nil {
				immutable := !isMap && strings.HasPrefix(u.Path, ChunkPrefix) && u.Query().Get("v") == a.hash
				return nil, chunkAt{a: a, sourceMap: isMap, immutable: immutable}, true
			}
		}
		if file, ok := strings.CutPrefix(u.Path, ModulePrefix); ok {
			var query string
			if u.Query().Has("module") {
				query += cssModuleQuery
			}
			for q := range assetQueries {
				if u.Query().Has(q) {
					query += "?" + q
				}
			}
			if m := g.mods["/"+file+query]; m != nil && m.rendered() {
				code := m.updateScript(g.base)
				return &Output{Path: u.Path, Kind: JS, Hash: hashHex(code), ContentType: jsType, Contents: code}, c, true
			}
			if file, ok := strings.CutSuffix(file, ".map"); ok {
				if m := g.mods["/"+file+query]; m != nil && m.rendered() {
					if sm := m.updateScriptMap(g.base); sm != nil {
						return &Output{Path: u.Path, Kind: Map, Hash: hashHex(sm), ContentType: mapType, Contents: sm}, c, true
					}
				}
			}
			return nil, c, false
		}
		if o := g.assets[u.Path]; o != nil {
			return o, c, true
		}
	}
	o, ok = b.served[u.Path]
	return o, c, ok
}
