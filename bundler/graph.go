package bundler

import (
	"encoding/json"
	"maps"
	"path/filepath"
	"slices"
	"strings"
)

// This file is the graph of module mode: the modules installed, what
// imports what, which modules the entries reach, and how a change of a file
// reaches the modules it touches.

// graph is the state of module mode. Build writes it holding buildMu and
// mu; readers hold mu and wait for a build in progress, as Lookup does.
type graph struct {
	entries []string           // JS entries, root-relative
	mods    map[string]*module // by id, as last installed
	scripts map[string]*Output // entry URL -> the script of an entry in chunks; nil: not assembled since the last build
	assets  map[string]*Output // by URL path: files JS imports with the "file" loader
	// retry are the ids compiled in a failed build, compiled again next
	// time; every installed module with errors is among them (see
	// finishGraph), so a build need not look at every module for errors.
	retry []string
	// files indexes the installed modules by the files whose change can
	// change them (touchedBy): each module's own file and the files
	// inlined into it, sorted by file, so that a build finds the modules
	// a change touches without a look at every module (touched).
	files []fileRef
	// linked are the folders LinkedDirs returns, found when linkedFound;
	// install and an index change make them found again.
	linked      []string
	linkedFound bool
	// merged is Result.Inputs as last made from mergedCtx, the inputs of
	// the contexts, and inputs; nil: none since install.
	merged, mergedCtx []string

	reachedEntries int      // how many entries the installed modules were walked from
	refreshStart   string   // Fast Refresh's argument of __devserve_start, JSON; see refreshSetup.startArg
	env            string   // the value of import.meta.env's global, which entry scripts set; see defineEnv
	refreshIDs     []string // the modules it names
	cssIDs         []string // the CSS modules installed
	sig            uint64   // XOR of the installed modules' sig, for Result.ID
	inputs         []string // root-relative files of the installed modules, sorted
	base           string   // Options.Base: the URLs the scripts import start with it

	// assembled holds the scripts of registrations of the last assembly
	// (the script of an entry of few modules, or a chunk), by URL path:
	// served while scripts is not nil, and reused by the next assembly
	// (see assembledChunk).
	assembled map[string]*assembledChunk
	// preloads are, by entry, URLs its script imports, as last
	// assembled: the runtime and the chunks made anew; see Bundler.Page.
	preloads map[string][]string
	// styles are, by entry, the stylesheets its modules link as they
	// first run, in that order; see Bundler.Page. Made by assembleAll
	// when nil, and set to nil when the modules that link stylesheets or
	// the static imports change: the walk costs an assembly of 20,000
	// modules a third of its time, and an edit seldom changes either.
	styles map[string][]styleLink
}

// styleLink is a stylesheet that module id links (meta.style(href)).
type styleLink struct{ id, href string }

// stylesOf returns the stylesheets that the modules entry reaches by static
// imports link as they run, in the order they run (each after what it
// imports), once each; a module's CSS modules' where it imports the first
// (styleBefore).
func (g *graph) stylesOf(entry string) []styleLink {
	var out []styleLink
	seen := map[string]bool{}
	var walk func(id string)
	walk = func(id string) {
		m := g.mods[id]
		if seen[id] || m == nil {
			return
		}
		seen[id] = true
		href := m.styleHref()
		for _, d := range m.static {
			if d == m.styleBefore && href != "" {
				out = append(out, styleLink{id, href})
				href = ""
			}
			walk(d)
		}
		if href != "" {
			out = append(out, styleLink{id, href})
		}
	}
	walk("/" + entry)
	return out
}

func newGraph() *graph {
	return &graph{mods: map[string]*module{}, assets: map[string]*Output{}, base: "/"}
}

// compiled reports whether m is compiled from a file by esbuild, not made
// by the bundler (a CSS module, a stub).
func (m *module) compiled() bool { return !m.css && !m.stub }

// touchedBy reports whether a change to p can change m: p is its file, a
// file inlined into it, or a folder holding its file. p is root-relative,
// or absolute for a linked file outside the root (see linked): of the
// packages, only those are ever reported.
func (m *module) touchedBy(p string) bool {
	switch {
	case m.css:
		return false
	case m.dep:
		return filepath.IsAbs(p) && (m.file == p || strings.HasPrefix(m.file, p+string(filepath.Separator)))
	case filepath.IsAbs(p):
		return false
	}
	return m.file == p || m.inline[p] || p == "." || strings.HasPrefix(m.file, p+"/")
}

// fileRef is an entry of graph.files: module id can change with file.
type fileRef struct{ file, id string }

// indexFiles makes g.files the index of g.mods.
func (g *graph) indexFiles() {
	g.files, g.linkedFound = g.files[:0], false
	for id, m := range g.mods {
		if m.css || m.file == "" {
			continue // touched by no change
		}
		g.files = append(g.files, fileRef{m.file, id})
		for f := range m.inline {
			g.files = append(g.files, fileRef{f, id})
		}
	}
	slices.SortFunc(g.files, func(a, b fileRef) int {
		if c := strings.Compare(a.file, b.file); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
}

// touched calls add with the id of every installed module that a change
// to p can change (touchedBy), maybe more than once: those indexed under
// p itself and, for a folder, under the files in it, which sort together
// after p + "/". Only p "." (the root) looks at every module.
func (g *graph) touched(p string, add func(id string)) {
	check := func(id string) {
		if m := g.mods[id]; m != nil && m.touchedBy(p) {
			add(id)
		}
	}
	if p == "." {
		for id := range g.mods {
			check(id)
		}
		return
	}
	sep := "/"
	if filepath.IsAbs(p) {
		sep = string(filepath.Separator)
	}
	for i := g.fileAt(p); i < len(g.files) && g.files[i].file == p; i++ {
		check(g.files[i].id)
	}
	dir := p + sep // "p.js" and "p-x/…" sort between p and the files under p
	for i := g.fileAt(dir); i < len(g.files) && strings.HasPrefix(g.files[i].file, dir); i++ {
		check(g.files[i].id)
	}
}

// fileAt returns the index in g.files of the first entry of file f, or
// where it would be.
func (g *graph) fileAt(f string) int {
	i, _ := slices.BinarySearchFunc(g.files, f, func(r fileRef, f string) int { return strings.Compare(r.file, f) })
	return i
}

// reach lists the modules an entry reaches, depth first.
func (g *graph) reach(entry string) []*module {
	order := make([]*module, 0, len(g.mods))
	seen := make(map[string]bool, len(g.mods))
	var walk func(id string)
	walk = func(id string) {
		m := g.mods[id]
		if seen[id] || m == nil {
			return
		}
		seen[id] = true
		if m.rendered() {
			order = append(order, m)
		}
		deps := m.depIDs
		if deps == nil && len(m.deps) > 0 {
			deps = slices.Sorted(maps.Values(m.deps)) // not rendered (yet)
		}
		for _, d := range deps {
			walk(d)
		}
	}
	walk("/" + entry)
	return order
}

// replace installs m in place of the module of its id (which may carry
// the errors of a failed build), and reports whether its code differs.
func (g *graph) replace(m *module) bool {
	old := g.mods[m.id]
	g.mods[m.id] = m
	if old.styleHref() != m.styleHref() || old.styleBefore != m.styleBefore || !slices.Equal(old.static, m.static) {
		g.styles = nil // see stylesOf
	}
	if old.file != m.file || !maps.Equal(old.inline, m.inline) {
		g.indexFiles() // never for a patch (see patchModules): a safeguard
	}
	if old.hash == m.hash {
		return false
	}
	g.sig ^= old.sig ^ m.sig
	g.scripts = nil
	return true
}

// install makes mods the served modules and computes what each Result
// takes from them.
func (g *graph) install(mods map[string]*module) {
	g.mods = mods
	g.scripts = nil // assembled when a page asks: a hot update needs none
	g.styles = nil
	g.cssIDs = g.cssIDs[:0]
	g.sig = 0
	inputs := map[string]bool{}
	for _, id := range slices.Sorted(maps.Keys(mods)) {
		m := mods[id]
		g.sig ^= m.sig
		if m.css {
			g.cssIDs = append(g.cssIDs, id)
		} else if !m.dep {
			inputs[m.file] = true
		}
		for f := range m.inline {
			inputs[f] = true
		}
	}
	g.inputs = slices.Sorted(maps.Keys(inputs))
	g.merged = nil
	g.indexFiles()
}

// withInputs returns the sorted union of ctx, the inputs of the contexts,
// and the modules' inputs: the same slice as last time while neither
// changed, for the union is as long as the project and a hot update
// changes neither.
func (g *graph) withInputs(ctx []string) []string {
	if g.merged == nil || !slices.Equal(ctx, g.mergedCtx) {
		g.merged, g.mergedCtx = mergeSorted(ctx, g.inputs), ctx
	}
	return g.merged
}

// cssModule is the module of the CSS file imported from JS as id: it
// links the stylesheet as last built (the href carries the CSS's hash, so
// a CSS change is a change of this module) and accepts its own updates.
// Called with mu held.
func (b *Bundler) cssModule(id string) *module {
	file := strings.TrimPrefix(strings.TrimSuffix(id, cssModuleQuery), "/")
	h := ""
	if o := b.served["/"+file]; o != nil {
		h = o.Hash
	}
	href, _ := json.Marshal(withBase(b.urlBase, file) + "?v=" + h)
	m := &module{id: id, file: file, css: true}
	m.out = []byte(bannerMark + "\n" + metaName + `.hot.accept();` + metaName + `.style(` + string(href) + `);` +
		metaName + `.hot.prune(()=>` + metaName + ".style(null));\n});\n")
	m.render()
	return m
}

// mergeSorted merges two sorted lists into one without duplicates.
func mergeSorted(a, b []string) []string {
	out := make([]string, 0, len(a)+len(b))
	for len(a) > 0 || len(b) > 0 {
		switch {
		case len(b) == 0 || (len(a) > 0 && a[0] < b[0]):
			out, a = append(out, a[0]), a[1:]
		case len(a) == 0 || b[0] < a[0]:
			out, b = append(out, b[0]), b[1:]
		default:
			out, a, b = append(out, a[0]), a[1:], b[1:]
		}
	}
	return out
}

// affects reports whether a change to root-relative p can change what
// module mode serves. Called with mu held.
func (g *graph) affects(p string) bool {
	if len(g.retry) > 0 || slices.Contains(g.entries, p) {
		return true // retry holds every module with errors
	}
	found := false
	g.touched(p, func(string) { found = true })
	return found
}

// keepReached takes out of mods the modules that no entry reaches, and
// records how many entries they were walked from.
func (g *graph) keepReached(mods map[string]*module) {
	reach := map[string]bool{}
	var walk func(id string)
	walk = func(id string) {
		m := mods[id]
		if reach[id] || m == nil {
			return
		}
		reach[id] = true
		for _, d := range m.deps {
			walk(d)
		}
	}
	for _, e := range g.entries {
		walk("/" + e)
	}
	maps.DeleteFunc(mods, func(id string, _ *module) bool { return !reach[id] })
	g.reachedEntries = len(g.entries)
}
