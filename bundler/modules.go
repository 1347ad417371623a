package bundler

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/url"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/evanw/esbuild/pkg/api"
)

// This file is the unbundled mode (Options.Modules): every JS/TS source
// module is compiled alone by esbuild and served as its own native ES
// module, so that one module can be replaced in a running page
// (import.meta.hot). See the package documentation, "Modules".

// Prefixes and names of what the module mode serves besides the sources.
const (
	// HMRPath is the URL of the hot-update runtime every module imports.
	HMRPath = "/__devserve/hmr.js"
	// DepsPrefix is where packages from node_modules are served, bundled.
	DepsPrefix = "/__devserve/deps/"
	// cssModuleQuery marks the JS module that stands for a CSS file
	// imported from JS: "/src/x.css?module".
	cssModuleQuery = "?module"
	// bannerMark is esbuild's banner; it is replaced by each module's
	// prelude. The banner is a line of its own that the source map skips,
	// so the prelude shifts no mapping.
	bannerMark = "/*__devserve_prelude__*/"
)

// jsModuleExts are the files served as modules of their own; other imports
// (JSON, text, assets) are inlined into their importer by esbuild.
var jsModuleExts = map[string]bool{".js": true, ".mjs": true, ".cjs": true, ".jsx": true,
	".ts": true, ".mts": true, ".cts": true, ".tsx": true}

// module is one served module: a source file compiled alone, or the JS
// module standing for a CSS file imported from JS.
type module struct {
	id       string            // URL path: "/src/b.ts", "/src/x.css?module"
	file     string            // root-relative source file
	css      bool              // the module of a CSS file imported from JS
	body     []byte            // esbuild's output after the banner line
	deps     map[string]string // specifier as written -> module id
	inline   map[string]bool   // other root-relative files esbuild inlined (JSON, text)
	depFiles map[string]string // dep URL -> absolute file of the package module
	hash     string            // of the page-load rendering
	ver      string            // version in URLs; changes with hash or when bumped
	hist     []version         // ver over time, by build sequence
	self     bool              // calls import.meta.hot.accept() for itself
	accept   map[string]bool   // ids it accepts updates of
	errs     []Message         // of its last compile; nil when it compiled
	warns    []Message
	code     []byte // page-load rendering: prelude + body
}

type version struct {
	seq uint64
	ver string
}

// verAt returns the version the module had at build sequence seq, "" if it
// did not exist yet.
func (m *module) verAt(seq uint64) string {
	v := ""
	for _, h := range m.hist {
		if h.seq > seq {
			break
		}
		v = h.ver
	}
	return v
}

// HotUpdate is one module-level update of a build in module mode.
type HotUpdate struct {
	// Boundary is the id (URL path) of the module whose accept handler
	// takes the update.
	Boundary string
	// Accepted is the id of the module being replaced: Boundary itself
	// when the module accepts its own updates. "" when Reload.
	Accepted string
	// URL is where the new version of Accepted is fetched from.
	URL string
	// Reload is set when the module Boundary changed and no module
	// accepts it on some path to an entry: a page that loaded it must
	// reload.
	Reload bool
}

// graph is the state of module mode. Build writes its fields holding
// Bundler.buildMu and Bundler.mu; readers hold Bundler.mu and wait for the
// build in progress, as Lookup does.
type graph struct {
	entries   []string           // JS entries, root-relative
	mods      map[string]*module // by id, CSS modules included
	byFile    map[string]*module // JS modules by root-relative file
	seq       uint64             // build sequence, one more per Build
	deps      map[string]string  // dep URL -> absolute file, as last bundled
	depOut    map[string]*Output // URL path -> bundled package or chunk
	depFailed bool               // the last bundling of deps failed
	mapJSON   []byte             // import map of the current state
	assets    map[string]*Output // by URL path: files JS imports with the "file" loader
	retry     []string           // files compiled in a failed build: compiled again next time
}

func newGraph() *graph {
	return &graph{mods: map[string]*module{}, byFile: map[string]*module{},
		deps: map[string]string{}, depOut: map[string]*Output{}, assets: map[string]*Output{}}
}

// resolveMark is PluginData that tells the plugin a resolve is its own.
type resolveMark struct{}

// edges is what the plugin saw during one compile: per importing file
// (absolute), its imports.
type edges struct {
	mu   sync.Mutex
	seen map[string][]edge
}

type edge struct {
	spec     string // as written
	resolved string // absolute file
	kind     string // "js", "css", "dep", "inline"
}

func (e *edges) add(importer string, ed edge) {
	e.mu.Lock()
	e.seen[importer] = append(e.seen[importer], ed)
	e.mu.Unlock()
}

// moduleOptions are esbuild's options for compiling modules alone.
func (b *Bundler) moduleOptions(files []string, seen *edges) api.BuildOptions {
	o := b.base
	o.Metafile = false
	o.Sourcemap = api.SourceMapInline
	o.PublicPath = "/"
	o.Banner = map[string]string{"js": bannerMark}
	for _, f := range files {
		o.EntryPointsAdvanced = append(o.EntryPointsAdvanced, api.EntryPoint{
			InputPath:  filepath.Join(b.root, filepath.FromSlash(f)),
			OutputPath: f, // esbuild adds ".js": "src/b.ts.js", unique per source
		})
	}
	o.Plugins = []api.Plugin{{Name: "devserve-modules", Setup: func(pb api.PluginBuild) {
		pb.OnResolve(api.OnResolveOptions{Filter: ".*"}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
			if a.Kind == api.ResolveEntryPoint || a.PluginData == (resolveMark{}) {
				return api.OnResolveResult{}, nil
			}
			r := pb.Resolve(a.Path, api.ResolveOptions{Importer: a.Importer, Namespace: a.Namespace,
				ResolveDir: a.ResolveDir, Kind: a.Kind, PluginData: resolveMark{}, With: a.With})
			if len(r.Errors) > 0 {
				return api.OnResolveResult{Errors: r.Errors, Warnings: r.Warnings}, nil
			}
			if r.External || r.Namespace != "file" || r.Path == "" {
				return api.OnResolveResult{Path: r.Path, External: r.External, Namespace: r.Namespace,
					PluginData: r.PluginData, Suffix: r.Suffix}, nil
			}
			rel, inRoot := b.relInput(r.Path)
			ext := strings.ToLower(path.Ext(r.Path))
			switch {
			case !inRoot || strings.Contains("/"+rel, "/node_modules/"):
				seen.add(a.Importer, edge{spec: a.Path, resolved: r.Path, kind: "dep"})
				return api.OnResolveResult{Path: b.depURL(r.Path), External: true}, nil
			case ext == ".css":
				seen.add(a.Importer, edge{spec: a.Path, resolved: r.Path, kind: "css"})
				return api.OnResolveResult{Path: "/" + rel + cssModuleQuery, External: true}, nil
			case jsModuleExts[ext]:
				seen.add(a.Importer, edge{spec: a.Path, resolved: r.Path, kind: "js"})
				return api.OnResolveResult{Path: "/" + rel, External: true}, nil
			}
			seen.add(a.Importer, edge{spec: a.Path, resolved: r.Path, kind: "inline"})
			return api.OnResolveResult{Path: r.Path, Suffix: r.Suffix}, nil
		})
	}}}
	return o
}

// compile compiles files (root-relative) each alone and returns the
// modules, and the errors and warnings per file. Files whose compile
// failed come back with errs set. A syntax error in one file fails
// esbuild's whole build, so the files without errors are compiled again.
func (b *Bundler) compile(files []string) (map[string]*module, []api.OutputFile) {
	out := map[string]*module{}
	var assets []api.OutputFile
	for len(files) > 0 {
		seen := &edges{seen: map[string][]edge{}}
		res := api.Build(b.moduleOptions(files, seen))
		failed := map[string]bool{}
		for _, m := range res.Errors {
			f := ""
			if m.Location != nil {
				f, _ = b.relInput(m.Location.File)
			}
			if !slices.Contains(files, f) {
				// An error in no file of ours (an inlined file, a
				// plugin): blame every file that inlines it, or all.
				f = ""
				for _, g := range files {
					for _, e := range seen.seen[filepath.Join(b.root, filepath.FromSlash(g))] {
						if m.Location != nil && e.resolved == m.Location.File {
							f = g
						}
					}
				}
			}
			if f == "" {
				for _, g := range files {
					failed[g] = true
					mod := moduleFor(out, g)
					mod.errs = append(mod.errs, b.message(m))
				}
				continue
			}
			failed[f] = true
			mod := moduleFor(out, f)
			mod.errs = append(mod.errs, b.message(m))
		}
		if len(res.Errors) == 0 {
			for _, of := range res.OutputFiles {
				rel, ok := b.relOutput(of.Path)
				if !ok {
					continue
				}
				src := strings.TrimSuffix(rel, ".js")
				if !slices.Contains(files, src) || !strings.HasSuffix(rel, ".js") {
					assets = append(assets, of)
					continue
				}
				mod := moduleFor(out, src)
				mod.body = of.Contents
				for _, e := range seen.seen[filepath.Join(b.root, filepath.FromSlash(src))] {
					b.addEdge(mod, e)
				}
			}
			for _, m := range res.Warnings {
				if m.Location != nil {
					if f, ok := b.relInput(m.Location.File); ok && out[f] != nil {
						out[f].warns = append(out[f].warns, b.message(m))
					}
				}
			}
			return out, assets
		}
		var rest []string
		for _, f := range files {
			if !failed[f] {
				rest = append(rest, f)
			}
		}
		if len(rest) == len(files) {
			break // no progress; cannot happen, but never loop
		}
		files = rest
	}
	return out, assets
}

func moduleFor(out map[string]*module, file string) *module {
	m := out[file]
	if m == nil {
		m = &module{id: "/" + file, file: file, deps: map[string]string{}, inline: map[string]bool{},
			depFiles: map[string]string{}}
		out[file] = m
	}
	return m
}

// addEdge records one import of m seen by the plugin.
func (b *Bundler) addEdge(m *module, e edge) {
	switch e.kind {
	case "inline":
		if rel, ok := b.relInput(e.resolved); ok {
			m.inline[rel] = true
		}
	case "dep":
		m.deps[e.spec] = b.depURL(e.resolved)
		m.depFiles[b.depURL(e.resolved)] = e.resolved
	default:
		rel, _ := b.relInput(e.resolved)
		id := "/" + rel
		if e.kind == "css" {
			id += cssModuleQuery
		}
		m.deps[e.spec] = id
	}
}

// relOutput maps an esbuild output path to its path relative to the
// output folder.
func (b *Bundler) relOutput(p string) (string, bool) {
	rel, err := filepath.Rel(b.outdir, p)
	if err != nil || strings.HasPrefix(rel, "..") {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// depURL is the URL a package module (a file under node_modules or
// outside the root) is served at, bundled: its path under the last
// node_modules folder, prefixed by a hash of the full path when there is
// more than one (a nested copy of a package) or none (outside the root).
func (b *Bundler) depURL(file string) string {
	slash := filepath.ToSlash(file)
	key := path.Base(slash)
	n := strings.Count(slash, "/node_modules/")
	if i := strings.LastIndex(slash, "/node_modules/"); i >= 0 {
		key = slash[i+len("/node_modules/"):]
	}
	if n != 1 {
		key = hashHex([]byte(slash))[:8] + "/" + key
	}
	if ext := path.Ext(key); jsModuleExts[ext] {
		key = strings.TrimSuffix(key, ext)
	}
	return DepsPrefix + key + ".js"
}

// localJS returns the root-relative file of a module id that names a JS
// source module, false for CSS modules, packages and URLs.
func localJS(id string) (string, bool) {
	if strings.HasPrefix(id, DepsPrefix) || !jsModuleExts[path.Ext(id)] {
		return "", false
	}
	return strings.CutPrefix(id, "/")
}

// buildModules brings the graph up to date with changed (root-relative;
// all: compile everything again) and returns the compiled modules by file
// and the assets esbuild emitted. Modules of files that failed keep their
// last good code with the errors attached, so they are compiled again on
// the next build. Called by Build holding buildMu.
func (b *Bundler) buildModules(changed []string, all bool) (map[string]*module, []*Output) {
	g := b.graph
	todo := map[string]bool{}
	for f, m := range g.byFile {
		if all || m.errs != nil {
			todo[f] = true
		}
	}
	for _, p := range changed {
		for f, m := range g.byFile {
			if f == p || m.inline[p] || strings.HasPrefix(f, p+"/") || p == "." {
				todo[f] = true
			}
		}
	}
	for _, e := range g.entries {
		if g.byFile[e] == nil {
			todo[e] = true
		}
	}
	for _, f := range g.retry {
		todo[f] = true
	}
	files := maps.Clone(g.byFile)
	var assets []*Output
	for len(todo) > 0 {
		list := slices.Sorted(maps.Keys(todo))
		clear(todo)
		got, emitted := b.compile(list)
		for _, of := range emitted {
			rel, _ := b.relOutput(of.Path)
			assets = append(assets, &Output{Path: "/" + rel, Kind: Asset, Hash: hashHex(of.Contents),
				ContentType: contentType(Asset, rel), Contents: of.Contents})
		}
		for f, m := range got {
			if old := files[f]; old != nil && m.errs != nil && old.body != nil {
				old.errs, old.warns = m.errs, m.warns
				continue
			}
			files[f] = m
			for _, id := range m.deps {
				if dep, ok := localJS(id); ok {
					if _, known := files[dep]; !known && got[dep] == nil {
						todo[dep] = true
					}
				}
			}
		}
	}
	// Keep what the entries reach.
	reach := map[string]bool{}
	var walk func(f string)
	walk = func(f string) {
		m := files[f]
		if reach[f] || m == nil {
			return
		}
		reach[f] = true
		for _, id := range m.deps {
			if dep, ok := localJS(id); ok {
				walk(dep)
			}
		}
	}
	for _, e := range g.entries {
		walk(e)
	}
	for f := range files {
		if !reach[f] {
			delete(files, f)
		}
	}
	return files, assets
}

// bundleDeps bundles the package modules the modules import, all in one
// esbuild build with code splitting so that packages share one copy of
// what they have in common. Returns the outputs by URL path.
func (b *Bundler) bundleDeps(files map[string]string) (map[string]*Output, []Message) {
	out := map[string]*Output{}
	if len(files) == 0 {
		return out, nil
	}
	o := b.base
	o.Metafile = false
	o.Splitting = true
	o.Sourcemap = api.SourceMapInline
	o.PublicPath = DepsPrefix
	o.Outdir = filepath.Join(b.outdir, "__devserve", "deps")
	o.ChunkNames = "chunk-[hash]"
	o.AssetNames = "asset-[name]-[hash]"
	o.Define = maps.Clone(o.Define)
	if o.Define == nil {
		o.Define = map[string]string{}
	}
	if _, ok := o.Define["process.env.NODE_ENV"]; !ok {
		o.Define["process.env.NODE_ENV"] = `"development"`
	}
	for _, u := range slices.Sorted(maps.Keys(files)) {
		o.EntryPointsAdvanced = append(o.EntryPointsAdvanced, api.EntryPoint{
			InputPath: files[u], OutputPath: strings.TrimSuffix(strings.TrimPrefix(u, DepsPrefix), ".js")})
	}
	res := api.Build(o)
	if len(res.Errors) > 0 {
		return nil, b.messages(res.Errors)
	}
	for _, of := range res.OutputFiles {
		rel, err := filepath.Rel(o.Outdir, of.Path)
		if err != nil {
			continue
		}
		u := DepsPrefix + filepath.ToSlash(rel)
		kind := JS
		if !strings.HasSuffix(u, ".js") {
			kind = Asset
		}
		out[u] = &Output{Path: u, Kind: kind, Hash: hashHex(of.Contents), ContentType: contentType(kind, u), Contents: of.Contents}
	}
	return out, nil
}

// prelude is the first line of every module: it gives the module its
// import.meta.hot, with the ids of what it imports (by specifier) so the
// runtime knows the graph of what the page loaded.
func prelude(deps map[string]string) []byte {
	j, _ := json.Marshal(deps) // a map of strings cannot fail
	var buf bytes.Buffer
	buf.WriteString(`import{createHotContext as __devserve_hot}from"` + HMRPath + `";import.meta.hot=__devserve_hot(import.meta.url,`)
	buf.Write(j)
	buf.WriteString(");")
	return buf.Bytes()
}

// render makes a module's page-load code: the prelude on the banner's
// line, then esbuild's output as it is (imports of other modules by their
// ids, which the page's import map turns into versioned URLs).
func (m *module) render() {
	var buf bytes.Buffer
	buf.Write(prelude(m.deps))
	buf.Write(m.body)
	m.code = buf.Bytes()
}

// cssModuleBody is the code of the module standing for a CSS file imported
// from JS: it links the stylesheet (href carries the CSS's hash, so a CSS
// change is a change of this module) and accepts its own updates.
func cssModuleBody(id, href string) []byte {
	q := func(s string) string { j, _ := json.Marshal(s); return string(j) }
	return []byte(`import{updateStyle as __devserve_css}from"` + HMRPath + `";__devserve_css(` + q(id) + `,` + q(href) +
		`);import.meta.hot.accept();import.meta.hot.prune(()=>__devserve_css(` + q(id) + `,null));` + "\n")
}

// scanAccepts finds the import.meta.hot.accept calls in a module's code:
// accept() or accept(callback) accept the module's own updates,
// accept("./dep", cb) and accept(["./a", "./b"], cb) those of its imports.
// Like Vite, it reads the calls as written; a hot object passed around
// under another name is not seen, and its module is not a boundary.
func (m *module) scanAccepts() {
	m.self, m.accept = false, map[string]bool{}
	const hot = "import.meta.hot"
	body := m.body
	for {
		i := bytes.Index(body, []byte(hot))
		if i < 0 {
			return
		}
		body = body[i+len(hot):]
		rest, ok := bytes.CutPrefix(body, []byte("?."))
		if !ok {
			rest, ok = bytes.CutPrefix(body, []byte("."))
		}
		if rest, ok = bytes.CutPrefix(rest, []byte("accept(")); !ok {
			continue
		}
		rest = bytes.TrimLeft(rest, " \t\r\n")
		switch {
		case len(rest) == 0:
			return
		case rest[0] == '"' || rest[0] == '\'' || rest[0] == '`':
			if s, ok := leadingString(rest); ok {
				m.acceptSpec(s)
			}
		case rest[0] == '[':
			list := rest[1:]
			for {
				list = bytes.TrimLeft(list, " \t\r\n,")
				s, ok := leadingString(list)
				if !ok {
					break
				}
				m.acceptSpec(s)
				list = list[len(s)+2:]
			}
		default:
			m.self = true
		}
	}
}

// acceptSpec records that m accepts the import written as spec.
func (m *module) acceptSpec(spec string) {
	if id, ok := m.deps[spec]; ok {
		m.accept[id] = true
		return
	}
	// Not written as imported: resolve it as a URL against the module.
	m.accept[path.Join(path.Dir(m.id), spec)] = true
}

// leadingString reads the string literal b starts with (esbuild prints
// plain strings with double quotes and no escapes in import paths).
func leadingString(b []byte) (string, bool) {
	if len(b) < 2 {
		return "", false
	}
	q := b[0]
	if q != '"' && q != '\'' && q != '`' {
		return "", false
	}
	end := bytes.IndexByte(b[1:], q)
	if end < 0 || bytes.IndexByte(b[1:end+1], '\\') >= 0 {
		return "", false
	}
	return string(b[1 : end+1]), true
}

// withQuery appends a query parameter to a URL path that may have a query.
func withQuery(u, kv string) string {
	if strings.Contains(u, "?") {
		return u + "&" + kv
	}
	return u + "?" + kv
}

// installModules makes files (the JS modules by file) and the CSS modules
// they import the served modules, gives every module whose code changed a
// new version, and returns the ids that changed and the hot updates that
// apply them. cssHash gives the hash of a CSS file's bundle by
// root-relative path. Called by Build holding buildMu and mu.
func (b *Bundler) installModules(files map[string]*module, cssHash func(string) string) (changed []string, hot []HotUpdate) {
	g := b.graph
	g.seq++
	mods := make(map[string]*module, len(files))
	for _, m := range files {
		if m.code == nil && m.body != nil {
			m.scanAccepts()
			m.render()
		}
		mods[m.id] = m
		for _, id := range m.deps {
			if !strings.HasSuffix(id, cssModuleQuery) || mods[id] != nil {
				continue
			}
			rel := strings.TrimSuffix(strings.TrimPrefix(id, "/"), cssModuleQuery)
			c := &module{id: id, file: rel, css: true, deps: map[string]string{},
				body: cssModuleBody(id, "/"+rel+"?v="+cssHash(rel))}
			c.scanAccepts()
			c.render()
			mods[id] = c
		}
	}
	for id, m := range mods {
		m.hash = hashHex(m.code)
		old := g.mods[id]
		switch {
		case old == nil:
			m.ver, m.hist = m.hash, []version{{g.seq, m.hash}}
		case old.hash != m.hash:
			m.ver, m.hist = m.hash, append(slices.Clip(old.hist), version{g.seq, m.hash})
			changed = append(changed, id)
		default:
			m.ver, m.hist = old.ver, old.hist
		}
	}
	sort.Strings(changed)
	hot = b.plan(mods, changed)
	g.mods, g.byFile = mods, files
	g.mapJSON = nil
	return changed, hot
}

// plan walks from each changed module up its importers to the modules
// that accept it. Every module on the way to an accepting one is run
// again, so those that did not change get a new version too (a new URL);
// a path that reaches an entry with nothing accepting it means a reload
// for the pages that loaded the changed module.
func (b *Bundler) plan(mods map[string]*module, changed []string) []HotUpdate {
	g := b.graph
	importers := map[string][]string{}
	for _, id := range slices.Sorted(maps.Keys(mods)) {
		for _, dep := range mods[id].deps {
			if mods[dep] != nil && !slices.Contains(importers[dep], id) {
				importers[dep] = append(importers[dep], id)
			}
		}
	}
	entry := map[string]bool{}
	for _, e := range g.entries {
		entry["/"+e] = true
	}
	var hot []HotUpdate
	rerun := map[string]bool{}
	for _, c := range changed {
		var ups []HotUpdate
		runs := map[string]bool{}
		onPath := map[string]bool{}
		var walk func(id string, path []string) bool
		walk = func(id string, path []string) bool {
			path = append(path, id)
			if mods[id].self {
				ups = append(ups, HotUpdate{Boundary: id, Accepted: id})
				for _, p := range path {
					runs[p] = true
				}
				return true
			}
			if entry[id] || len(importers[id]) == 0 {
				return false
			}
			onPath[id] = true
			defer delete(onPath, id)
			ok := true
			for _, imp := range importers[id] {
				switch {
				case mods[imp].accept[id]:
					ups = append(ups, HotUpdate{Boundary: imp, Accepted: id})
					for _, p := range path {
						runs[p] = true
					}
				case onPath[imp]:
					// A cycle: the way out of it is walked from
					// where it started.
				default:
					ok = walk(imp, path) && ok
				}
			}
			return ok
		}
		if !walk(c, nil) {
			hot = append(hot, HotUpdate{Boundary: c, Reload: true})
			continue
		}
		hot = append(hot, ups...)
		maps.Copy(rerun, runs)
	}
	for id := range rerun {
		if m := mods[id]; !slices.Contains(changed, id) {
			m.ver = m.hash + "." + strconv.FormatUint(g.seq, 10)
			m.hist = append(slices.Clip(m.hist), version{g.seq, m.ver})
		}
	}
	seen := map[HotUpdate]bool{}
	out := hot[:0]
	for _, u := range hot {
		if !u.Reload {
			u.URL = withQuery(u.Accepted, "v="+mods[u.Accepted].ver)
		}
		if !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	return out
}

// ImportMap returns the import map every page gets in module mode, as the
// JSON of a <script type="importmap">: each module's id mapped to the URL
// of its current version (which the browser may cache for good), and the
// runtime's URL carrying the build sequence the page was made at. nil
// outside module mode. A request waits for a build in progress.
func (b *Bundler) ImportMap() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.waitLocked()
	g := b.graph
	if g == nil {
		return nil
	}
	if g.mapJSON == nil {
		imports := map[string]string{HMRPath: HMRPath + "?s=" + strconv.FormatUint(g.seq, 10)}
		entry := map[string]bool{}
		for _, e := range g.entries {
			entry["/"+e] = true
		}
		for id, m := range g.mods {
			if !entry[id] && m.code != nil {
				imports[id] = withQuery(id, "v="+m.ver)
			}
		}
		for u := range g.deps {
			if o := g.depOut[u]; o != nil {
				imports[u] = u + "?v=" + o.Hash
			}
		}
		g.mapJSON, _ = json.Marshal(map[string]any{"imports": imports})
	}
	return g.mapJSON
}

// affects reports whether a change to root-relative p can change what
// module mode serves: p is a module's file, a file inlined into one, a
// folder holding one, or some module failed last time. Called with mu held.
func (g *graph) affects(p string) bool {
	if len(g.retry) > 0 || g.depFailed || slices.Contains(g.entries, p) {
		return true
	}
	for f, m := range g.byFile {
		if f == p || m.inline[p] || p == "." || strings.HasPrefix(f, p+"/") {
			return true
		}
	}
	return false
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
// "/src/b.ts?v=VER" is the version VER of the module (immutable reports
// that it may be cached for good: VER is current), "/src/b.ts?v=VER&s=SEQ"
// the module as a page made at build sequence SEQ imports it in a hot
// update, whose imports of modules that changed since name their current
// versions (the page's import map still names those of its time).
// Otherwise it answers as Lookup.
func (b *Bundler) LookupURL(u *url.URL) (o *Output, immutable bool, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.waitLocked()
	if g := b.graph; g != nil {
		q := u.Query()
		id := u.Path
		if q.Has("module") {
			id += cssModuleQuery
		}
		if m := g.mods[id]; m != nil && m.code != nil {
			o := &Output{Path: id, Kind: JS, Hash: m.hash, ContentType: jsType, Contents: m.code}
			if q.Has("s") {
				seq, _ := strconv.ParseUint(q.Get("s"), 10, 64)
				return b.hotRender(m, seq), false, true
			}
			return o, q.Get("v") == m.ver, true
		}
		if o := g.depOut[u.Path]; o != nil {
			return o, q.Get("v") == o.Hash, true
		}
		if o := g.assets[u.Path]; o != nil {
			return o, false, true
		}
	}
	o, ok = b.served[u.Path]
	return o, false, ok
}

// hotRender is m's code with the imports of modules whose version changed
// since build seq naming that version, as the page made at seq must
// import them. Called with mu held.
func (b *Bundler) hotRender(m *module, seq uint64) *Output {
	g := b.graph
	body := m.body
	s := strconv.FormatUint(seq, 10)
	for _, id := range slices.Sorted(maps.Values(m.deps)) {
		d := g.mods[id]
		if d == nil || d.verAt(seq) == d.ver {
			continue
		}
		to := withQuery(id, "v="+d.ver+"&s="+s)
		body = bytes.ReplaceAll(body, []byte(`"`+id+`"`), []byte(`"`+to+`"`))
	}
	code := append(prelude(m.deps), body...)
	return &Output{Path: m.id, Kind: JS, Hash: hashHex(code), ContentType: jsType, Contents: code}
}

// graphBuild is what the module side of one Build made, installed by
// finishGraph when the whole build succeeded.
type graphBuild struct {
	files  map[string]*module
	assets []*Output
	deps   map[string]string  // dep URL -> file
	depOut map[string]*Output // nil: unchanged
	depErr bool               // bundling the packages failed
	errs   []Message
	warns  []Message
}

// buildGraph compiles what changed in module mode, bundles the packages
// the modules import when that set changed, and sets up the contexts of
// the CSS files imported from JS. Called by Build holding buildMu.
func (b *Bundler) buildGraph(paths []string, all bool) *graphBuild {
	g := b.graph
	gb := &graphBuild{deps: map[string]string{}}
	gb.files, gb.assets = b.buildModules(paths, all)
	var css []string
	for _, f := range slices.Sorted(maps.Keys(gb.files)) {
		m := gb.files[f]
		gb.errs = append(gb.errs, m.errs...)
		gb.warns = append(gb.warns, m.warns...)
		maps.Copy(gb.deps, m.depFiles)
		for _, id := range m.deps {
			if rel, ok := strings.CutSuffix(id, cssModuleQuery); ok {
				css = append(css, strings.TrimPrefix(rel, "/"))
			}
		}
	}
	if all || !maps.Equal(gb.deps, g.deps) || g.depFailed {
		var errs []Message
		gb.depOut, errs = b.bundleDeps(gb.deps)
		gb.errs = append(gb.errs, errs...)
		gb.depErr = len(errs) > 0
	}
	slices.Sort(css)
	if css = slices.Compact(css); !slices.Equal(css, b.cssUsed) {
		b.cssUsed = css
		gb.errs = append(gb.errs, b.setEntries(b.entries)...)
	}
	return gb
}

// finishGraph installs what buildGraph made into r's state when r is a
// success; after a failure the modules compiled are compiled again next
// time, so that none is reported unchanged when the fix comes. Called by
// Build holding buildMu and mu, after resultLocked.
func (b *Bundler) finishGraph(r *Result, gb *graphBuild) {
	g := b.graph
	r.Warnings = append(r.Warnings, gb.warns...)
	g.retry = g.retry[:0]
	if !r.OK() {
		for f, m := range gb.files {
			if g.byFile[f] != m || m.errs != nil {
				g.retry = append(g.retry, f)
			}
		}
		g.depFailed = gb.depErr
	} else {
		if gb.depOut != nil {
			g.depOut, g.deps, g.depFailed = gb.depOut, gb.deps, false
		}
		for _, a := range gb.assets {
			g.assets[a.Path] = a
		}
		_, r.Hot = b.installModules(gb.files, func(rel string) string {
			if o := b.served["/"+rel]; o != nil {
				return o.Hash
			}
			return ""
		})
	}
	var buf bytes.Buffer
	buf.WriteString(r.ID)
	inputs := map[string]bool{}
	for _, in := range r.Inputs {
		inputs[in] = true
	}
	for _, id := range slices.Sorted(maps.Keys(g.mods)) {
		m := g.mods[id]
		buf.WriteString("\n" + id + "\x00" + m.ver)
		if !m.css {
			inputs[m.file] = true
		}
		for f := range m.inline {
			inputs[f] = true
		}
	}
	r.ID = hashHex(buf.Bytes())
	r.Inputs = slices.Sorted(maps.Keys(inputs))
}
