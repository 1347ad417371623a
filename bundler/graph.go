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
	retry   []string           // ids compiled in a failed build: compiled again next time

	reachedEntries int      // how many entries the installed modules were walked from
	refreshStart   string   // Fast Refresh's argument of __devserve_start, JSON; see refreshSetup.startArg
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
		return true
	}
	for _, m := range g.mods {
		if m.errs != nil || m.touchedBy(p) {
			return true
		}
	}
	return false
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
