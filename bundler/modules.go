package bundler

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"maps"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/devserve/devserve/internal/protocol"
	"github.com/evanw/esbuild/pkg/api"
)

// This file is module mode (Options.Modules): every module is compiled
// alone by esbuild into a factory function registered under its id, and a
// JS entry is served as one script holding the factories of every module
// it reaches (or chunks of them). A page loads one script or a few, as with
// a bundle, but the runtime (client/hmr.js) can run a module again with new
// code: the hot update of one module fetches that module alone. See
// "Modules" in the package documentation.

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
type module struct {
	id       string            // "/src/b.ts", "/__devserve/deps/tiny-pkg/index.js", "/src/x.css?module"
	file     string            // root-relative source file; absolute for packages; the CSS file for CSS modules
	dep      bool              // a package
	css      bool              // a CSS module
	refresh  bool              // compiled with React Fast Refresh's registrations; see refresh.go
	stub     bool              // stands for no file: emptyID, a Node built-in
	out      []byte            // esbuild's output: banner line, code, footer; helpers blanked
	helpers  map[string]string // esbuild's runtime helpers the code uses, by name
	srcMap   []byte            // its source map, sources as URL paths
	deps     map[string]string // specifier as written -> module id
	static   []string          // ids it imports statically, in the order of its imports
	dyn      []string          // ids it imports with import()
	strict   bool              // compiled without bundling: its let and const stay; see esm.go
	tla      bool              // has top-level await; see compileTLA
	waits    bool              // has, or imports a module that has, top-level await
	inline   map[string]bool   // root-relative files esbuild inlined into it (?raw imports, CSS modules)
	depFiles map[string]string // package module id -> absolute file
	alts     map[string]string // package module id -> the file a require() of it wants; see resolveImport
	errs     []Message         // of its last compile; nil when it compiled
	warns    []Message

	def  []byte // the registration: __devserve_define(id, deps, factory)
	hash string // of def
	sig  uint64 // of id and hash; see graph.sig
}

// graph is the state of module mode. Build writes it holding buildMu and
// mu; readers hold mu and wait for a build in progress, as Lookup does.
type graph struct {
	entries []string           // JS entries, root-relative
	mods    map[string]*module // by id, as last installed
	scripts map[string]*Output // entry URL and its ".map" -> the entry's script and index source map; nil: not assembled since the last build
	assets  map[string]*Output // by URL path: files JS imports with the "file" loader
	retry   []string           // ids compiled in a failed build: compiled again next time

	reachedEntries int      // how many entries the installed modules were walked from
	refreshStart   string   // Fast Refresh's argument of __devserve_start, JSON; see refreshSetup.startArg
	refreshIDs     []string // the modules it names
	cssIDs         []string // the CSS modules installed
	sig            uint64   // XOR of the installed modules' sig, for Result.ID
	inputs         []string // root-relative files of the installed modules, sorted
	base           string   // Options.Base: the URLs the scripts import start with it
}

func newGraph() *graph {
	return &graph{mods: map[string]*module{}, assets: map[string]*Output{}, base: "/"}
}

// ModuleUpdate is a module whose code changed in a build, in module mode.
type ModuleUpdate struct {
	// ID is the module's id: the URL path of its source ("/src/b.ts"),
	// with "?module" for a CSS file imported from JS.
	ID string
	// URL serves its new registration, for the runtime to import.
	URL string
}

// resolveMark is PluginData that tells the plugin a resolve is its own.
type resolveMark struct{}

// edges is what the plugin saw during one compile: per importing file
// (absolute), its imports.
type edges struct {
	mu        sync.Mutex
	seen      map[string][]edge
	refreshed map[string]bool // files loaded with Fast Refresh's registrations
}

type edge struct {
	spec     string // as written
	resolved string // absolute file
	alt      string // "dep": the file a require() wants, if not resolved
	id       string // "stub": the module's id
	kind     string // "js", "css", "dep", "stub", "inline"
	query    string // "js": the asset query of the import ("?raw"), if any
	dynamic  bool   // import()
}

func (e *edges) add(importer string, ed edge) {
	e.mu.Lock()
	e.seen[importer] = append(e.seen[importer], ed)
	e.mu.Unlock()
}

// isBare reports whether an import specifier names a package.
func isBare(spec string) bool {
	return !strings.HasPrefix(spec, ".") && !strings.HasPrefix(spec, "/") && !strings.Contains(spec, ":")
}

// moduleOptions are esbuild's options for compiling each of units alone.
// Every import of another module is left external, under the module's id;
// seen records them.
func (b *Bundler) moduleOptions(units []unit, seen *edges) api.BuildOptions {
	o := b.base
	o.Format = api.FormatCommonJS
	o.Metafile = false
	o.Sourcemap = api.SourceMapExternal
	o.PublicPath = b.urlBase
	o.Banner = map[string]string{"js": bannerMark}
	o.Footer = map[string]string{"js": "});"}
	o.Define = maps.Clone(o.Define)
	if o.Define == nil {
		o.Define = map[string]string{}
	}
	o.Define["import.meta"] = metaName
	if _, ok := o.Define["process.env.NODE_ENV"]; !ok {
		o.Define["process.env.NODE_ENV"] = `"development"`
	}
	for _, u := range units {
		in := b.abs(u)
		if _, query, ok := strings.Cut(u.id, "?"); ok && !u.dep && assetQuery.MatchString("?"+query) {
			in += "?" + query + dataQuery // a file imported with a query
		} else if !jsModuleExts[strings.ToLower(filepath.Ext(in))] {
			in += dataQuery // JSON, text, an asset: see dataModule
		}
		o.EntryPointsAdvanced = append(o.EntryPointsAdvanced,
			api.EntryPoint{InputPath: in, OutputPath: strings.TrimPrefix(u.id, "/")})
	}
	// The module plugin comes first: it decides every import, and the
	// shared plugins resolve what it asks esbuild to resolve.
	o.Plugins = append([]api.Plugin{{Name: "devserve-modules", Setup: func(pb api.PluginBuild) {
		pb.OnResolve(api.OnResolveOptions{Filter: ".*"}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
			if file, ok := strings.CutSuffix(a.Path, dataQuery); ok {
				if a.Kind == api.ResolveEntryPoint {
					return api.OnResolveResult{Path: file, Namespace: dataNamespace}, nil
				}
				return api.OnResolveResult{Path: file}, nil // the data module's own file
			}
			if a.Kind == api.ResolveEntryPoint || a.PluginData == (resolveMark{}) {
				return api.OnResolveResult{}, nil
			}
			dyn := a.Kind == api.ResolveJSDynamicImport
			if inPkg := b.inPackage(a.Importer); a.Namespace == "file" {
				if p, ok := b.quickResolve(a.ResolveDir, a.Path, inPkg); ok && inPkg {
					seen.add(a.Importer, edge{spec: a.Path, resolved: p, kind: "dep", dynamic: dyn})
					return api.OnResolveResult{Path: b.depURL(p), External: true}, nil
				} else if ok {
					rel, _ := b.relInput(p)
					seen.add(a.Importer, edge{spec: a.Path, resolved: p, kind: "js", dynamic: dyn})
					return api.OnResolveResult{Path: "/" + rel, External: true}, nil
				}
			}
			r := b.resolves.resolve(pb, a)
			if len(r.Errors) > 0 {
				if name := builtinName(a.Path); name != "" {
					id := nodePrefix + name + ".js"
					seen.add(a.Importer, edge{spec: a.Path, id: id, kind: "stub", dynamic: dyn})
					return api.OnResolveResult{Path: id, External: true, Warnings: []api.Message{{
						Text: fmt.Sprintf("%q is built into Node.js and has no browser version: it is replaced by an empty module", a.Path)}}}, nil
				}
				if why := b.unresolved(a.ResolveDir, a.Path); why != "" {
					r.Errors = []api.Message{{Text: why}}
				}
				return api.OnResolveResult{Errors: r.Errors, Warnings: r.Warnings}, nil
			}
			if _, ok := r.PluginData.(assetLoad); ok {
				// A file of the project imported with a query: a module
				// of its own, as a plain import of it is, so that it can
				// be accepted (import.meta.hot.accept("./logo.svg?inline",
				// cb)). Its stand-in (see dataModule) inlines the file as
				// the query says, as it does a package's file.
				if rel, inRoot := b.relInput(r.Path); inRoot && a.Namespace == "file" && !b.inPackage(r.Path) {
					seen.add(a.Importer, edge{spec: a.Path, resolved: r.Path, query: r.Suffix, kind: "js", dynamic: dyn})
					return api.OnResolveResult{Path: "/" + rel + r.Suffix, External: true}, nil
				}
				seen.add(a.Importer, edge{spec: a.Path, resolved: r.Path, kind: "inline"})
				return api.OnResolveResult{Path: r.Path, Suffix: r.Suffix, PluginData: r.PluginData}, nil
			}
			if r.External || r.Namespace != "file" || r.Path == "" {
				return api.OnResolveResult{Path: r.Path, External: r.External, Namespace: r.Namespace,
					PluginData: r.PluginData, Suffix: r.Suffix}, nil
			}
			if b.browser.disabled(a.Importer, a.Path, r.Path) {
				seen.add(a.Importer, edge{spec: a.Path, id: emptyID, kind: "stub", dynamic: dyn})
				return api.OnResolveResult{Path: emptyID, External: true}, nil
			}
			rel, inRoot := b.relInput(r.Path)
			ext := strings.ToLower(path.Ext(r.Path))
			if strings.HasSuffix(strings.ToLower(r.Path), ".module.css") {
				// A CSS module gives its importer the class names, and its
				// CSS goes out with the importer (see cssOf).
				ext = ""
			}
			switch {
			case ext == ".css" && inRoot && a.Kind != api.ResolveCSSImportRule && a.Kind != api.ResolveCSSURLToken:
				seen.add(a.Importer, edge{spec: a.Path, resolved: r.Path, kind: "css"})
				return api.OnResolveResult{Path: "/" + rel + cssModuleQuery, External: true}, nil
			case b.inPackage(r.Path) && (jsModuleExts[ext] || ext == ".json"):
				seen.add(a.Importer, edge{spec: a.Path, resolved: r.Path, alt: r.alt, kind: "dep", dynamic: dyn})
				return api.OnResolveResult{Path: b.depURL(r.Path), External: true}, nil
			case !b.inPackage(r.Path) && ext != "" && ext != ".css":
				// A file of the project: a module of its own, also an
				// asset, JSON or text, so that it can be accepted
				// (import.meta.hot.accept("./logo.svg", cb)) and an edit
				// of it compiles it alone.
				seen.add(a.Importer, edge{spec: a.Path, resolved: r.Path, kind: "js", dynamic: dyn})
				return api.OnResolveResult{Path: "/" + rel, External: true}, nil
			}
			seen.add(a.Importer, edge{spec: a.Path, resolved: r.Path, kind: "inline"})
			return api.OnResolveResult{Path: r.Path, Suffix: r.Suffix}, nil
		})
		pb.OnLoad(api.OnLoadOptions{Filter: `\.[mM]?[jJtT][sSxX][xX]?$`, Namespace: "file"}, func(a api.OnLoadArgs) (api.OnLoadResult, error) {
			if !b.refreshes(a.Path) {
				return api.OnLoadResult{}, nil
			}
			res, ok := b.refreshLoad(a.Path)
			if ok {
				seen.mu.Lock()
				seen.refreshed[a.Path] = true
				seen.mu.Unlock()
			}
			return res, nil
		})
		pb.OnLoad(api.OnLoadOptions{Filter: ".*", Namespace: dataNamespace}, func(a api.OnLoadArgs) (api.OnLoadResult, error) {
			code := dataModule(a.Path)
			return api.OnLoadResult{Contents: &code, ResolveDir: filepath.Dir(a.Path), Loader: api.LoaderJS}, nil
		})
	}}}, o.Plugins...)
	return o
}

// A module whose file is not JS (JSON, text, an asset) is compiled from a
// stand-in that re-exports the file: esbuild gives an entry point of such
// a file no exports in CommonJS output.
const (
	dataQuery     = "?devserve-data"
	dataNamespace = "devserve-data"
)

// dataFile is the file of a data module's stand-in as esbuild names it in
// messages and source maps ("devserve-data:/abs/data.json"), and whether p
// names one.
func dataFile(p string) (string, bool) {
	return strings.CutPrefix(p, dataNamespace+":")
}

// dataModule is the stand-in of the non-JS module of file: the file's
// default export (the data, the text, the asset's URL) and, for a JSON
// object, its keys that are names (esbuild's "export *" passes no JSON
// keys on).
func dataModule(file string) string {
	if loc := assetQuery.FindStringIndex(file); loc != nil {
		// A file imported with a query: the file as the query says (see
		// assetsPlugin), found from its folder.
		q, _ := json.Marshal("./" + filepath.Base(file[:loc[0]]) + file[loc[0]:])
		return "export { default } from " + string(q) + ";\n"
	}
	q, _ := json.Marshal(file + dataQuery)
	code := "export { default } from " + string(q) + ";\n"
	if strings.EqualFold(filepath.Ext(file), ".json") {
		var obj map[string]json.RawMessage
		data, _ := os.ReadFile(file)
		if json.Unmarshal(data, &obj) == nil {
			var names []string
			for _, k := range slices.Sorted(maps.Keys(obj)) {
				if jsIdent.MatchString(k) && k != "default" {
					names = append(names, k)
				}
			}
			if len(names) > 0 {
				code += "export { " + strings.Join(names, ", ") + " } from " + string(q) + ";\n"
			}
		}
	}
	return code
}

// jsIdent matches the names esbuild exports of a JSON object.
var jsIdent = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*$`)

// batchSize is how many modules one esbuild build compiles. esbuild's
// cost per entry point grows with their number (1,000 entry points cost
// 1.1 ms of CPU each, 50 cost 0.8 ms), and batches let builds run on every
// core.
const batchSize = 64

// compile compiles units in batches, as many at once as there are
// cores, and merges what compileBatch returns.
func (b *Bundler) compile(units []unit) (map[string]*module, []*Output) {
	if len(units) <= batchSize {
		return b.compileBatch(units)
	}
	out := map[string]*module{}
	var assets []*Output
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i := 0; i < len(units); i += batchSize {
		batch := units[i:min(i+batchSize, len(units))]
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			got, more := b.compileBatch(batch)
			mu.Lock()
			maps.Copy(out, got)
			assets = append(assets, more...)
			mu.Unlock()
		})
	}
	wg.Wait()
	return out, assets
}

// compileBatch compiles each of units alone and returns the modules by
// id, and the assets esbuild emitted. Modules whose compile failed come
// back with errs set. A syntax error in one file fails esbuild's whole
// build, so the others are compiled again without it.
func (b *Bundler) compileBatch(units []unit) (out map[string]*module, assets []*Output) {
	out = map[string]*module{}
	newModule := func(u unit) *module {
		if old := out[u.id]; old != nil {
			return old
		}
		m := &module{id: u.id, file: u.file, dep: u.dep, deps: map[string]string{}, inline: map[string]bool{},
			depFiles: map[string]string{}, alts: map[string]string{}}
		out[u.id] = m
		return m
	}
	defer func() {
		if v := recover(); v != nil {
			b.log.Error("bundler: panic during build", "modules", units, "panic", v, "stack", string(debug.Stack()))
			for _, u := range units {
				m := newModule(u)
				m.errs = append(m.errs, Message{Text: fmt.Sprintf("internal error building %s: %v", u.file, v), File: m.file})
			}
		}
	}()
	units = slices.DeleteFunc(slices.Clone(units), func(u unit) bool {
		what := "entry " + u.file
		if u.dep || !slices.Contains(b.graph.entries, u.file) {
			what = "module " + u.file // imported by a module whose build still has the old file
		}
		fi, err := os.Stat(b.abs(u))
		switch {
		case err != nil && errors.Is(err, fs.ErrNotExist):
			err = errors.New("file not found")
		case err == nil && !fi.Mode().IsRegular():
			err = errors.New("not a regular file")
		}
		if err != nil {
			newModule(u).errs = []Message{{Text: what + ": " + err.Error(), File: u.file}}
		}
		return err != nil
	})
	var tla []unit // units with top-level await
	for len(units) > 0 {
		if b.rebuildHook != nil {
			for _, u := range units {
				b.rebuildHook(u.file)
			}
		}
		seen := &edges{seen: map[string][]edge{}, refreshed: map[string]bool{}}
		res := api.Build(b.moduleOptions(units, seen))
		failed := map[string]bool{}
		for _, msg := range res.Errors {
			for _, u := range b.blame(msg, units, seen) {
				if isTopLevelAwait(msg) && msg.Location != nil {
					// Compiled from ES module output instead: see compileTLA.
					if !failed[u.id] {
						tla = append(tla, u)
					}
					failed[u.id] = true
					continue
				}
				failed[u.id] = true
				m := newModule(u)
				m.errs = append(m.errs, b.message(msg))
			}
		}
		if len(res.Errors) == 0 {
			files := map[string][]byte{}
			for _, of := range res.OutputFiles {
				files[of.Path] = of.Contents
			}
			for _, u := range units {
				m := newModule(u)
				js := b.outFile(m.id)
				m.out, m.helpers = splitHelpers(files[js])
				m.srcMap = b.fixMap(files[js+".map"], filepath.Dir(js))
				delete(files, js)
				delete(files, js+".map")
				assets = append(assets, b.finishModule(m, u, files, seen)...)
			}
			for p, c := range files {
				if rel, ok := b.relOutput(p); ok && !strings.HasSuffix(rel, ".map") {
					assets = append(assets, &Output{Path: "/" + rel, Kind: Asset, Hash: hashHex(c),
						ContentType: contentType(Asset, rel), Contents: c})
				}
			}
			for _, msg := range res.Warnings {
				for _, u := range b.blame(msg, units, seen) {
					newModule(u).warns = append(newModule(u).warns, b.message(msg))
				}
			}
			break
		}
		units = slices.DeleteFunc(units, func(u unit) bool { return failed[u.id] })
	}
	for _, u := range tla {
		if m := out[u.id]; m == nil || m.errs == nil {
			assets = append(assets, b.compileTLA(u, newModule(u))...)
		}
	}
	return out, assets
}

// outFile is where esbuild writes the JS of module id.
func (b *Bundler) outFile(id string) string {
	return filepath.Join(b.outdir, filepath.FromSlash(strings.TrimPrefix(id, "/"))) + ".js"
}

// finishModule takes what else a compile made for module m of unit u (its
// code, helpers and source map set): its imports as seen, the CSS esbuild
// bundled for it, and, for an entry, Fast Refresh's runtime. It returns
// the CSS to serve, and takes it out of files.
func (b *Bundler) finishModule(m *module, u unit, files map[string][]byte, seen *edges) (assets []*Output) {
	if !u.dep {
		m.out = appInterop(m.out)
	}
	js := b.outFile(m.id)
	if css := strings.TrimSuffix(js, ".js") + ".css"; files[css] != nil {
		assets = append(assets, b.cssOf(m, files[css], css))
		delete(files, css)
		delete(files, css+".map")
	}
	for _, ed := range seen.seen[b.abs(u)] {
		b.addEdge(m, ed)
	}
	m.refresh = seen.refreshed[b.abs(u)]
	if !u.dep && slices.Contains(b.graph.entries, u.file) {
		// The page sets up Fast Refresh's runtime before it starts an
		// entry (see assembleAll), so the entry brings it.
		for i, f := range b.refresh.files {
			id := b.depURL(f)
			m.deps[b.refresh.packages[i]], m.depFiles[id] = id, f
		}
	}
	return assets
}

// cssOf serves the CSS that esbuild bundled for module m (the CSS modules,
// "*.module.css", it imports), from output file p, and makes m link it when
// it runs: a new version of m swaps the stylesheet.
func (b *Bundler) cssOf(m *module, css []byte, p string) *Output {
	rel, _ := b.relOutput(p)
	a := &Output{Path: "/" + rel, Kind: CSS, Hash: hashHex(css), ContentType: cssType, Contents: css}
	href, _ := json.Marshal(withBase(b.urlBase, a.Path) + "?v=" + a.Hash)
	if body, ok := bytes.CutSuffix(m.out, []byte("});\n")); ok {
		m.out = append(body, []byte(metaName+".style("+string(href)+");\n});\n")...)
	}
	return a
}

// blame returns the units of a compile that an esbuild message is about:
// the one it is located in or that inlines that file, else all of them.
func (b *Bundler) blame(msg api.Message, units []unit, seen *edges) []unit {
	if msg.Location == nil {
		return units
	}
	f := msg.Location.File
	if file, ok := dataFile(f); ok {
		f = file
	}
	if !filepath.IsAbs(f) {
		f = filepath.Join(b.root, filepath.FromSlash(f))
	}
	var blamed []unit
	for _, u := range units {
		src := b.abs(u)
		if src == f || slices.ContainsFunc(seen.seen[src], func(ed edge) bool { return ed.resolved == f }) {
			blamed = append(blamed, u)
		}
	}
	if len(blamed) == 0 {
		return units
	}
	return blamed
}

// addEdge records one import of m seen by the plugin.
func (b *Bundler) addEdge(m *module, e edge) {
	var id string
	switch e.kind {
	case "inline":
		if rel, ok := b.relInput(e.resolved); ok {
			m.inline[rel] = true
		}
		return
	case "stub":
		id = e.id
	case "dep":
		id = b.depURL(e.resolved)
		m.depFiles[id] = e.resolved
		if e.alt != "" {
			m.alts[id] = e.alt
		}
	case "css":
		rel, _ := b.relInput(e.resolved)
		id = "/" + rel + cssModuleQuery
	default:
		rel, _ := b.relInput(e.resolved)
		id = "/" + rel + e.query
	}
	m.deps[e.spec] = id
	if e.dynamic && !slices.Contains(m.dyn, id) {
		m.dyn = append(m.dyn, id)
	}
	if !e.dynamic && !slices.Contains(m.static, id) {
		m.static = append(m.static, id)
	}
}

// splitHelpers takes esbuild's runtime helpers (the `var __name = ...`
// statements its CommonJS output starts with) out of a module's output.
// Every module would repeat them (a kilobyte each); the scripts declare
// each once, around the factories. The lines stay, empty, so the source
// map still fits. A helper statement ends at the first line that is not
// indented and ends with ";" (esbuild indents what is inside). Only
// esbuild's helper names count: without bundling, the module's own code
// follows the helpers directly, and it may start with a var of its own.
func splitHelpers(out []byte) ([]byte, map[string]string) {
	helpers := map[string]string{}
	lines := bytes.SplitAfter(out, []byte("\n"))
	if len(lines) < 2 || !bytes.HasPrefix(lines[0], []byte(bannerMark)) {
		return out, helpers
	}
	end := 1
	for end < len(lines) {
		rest, ok := bytes.CutPrefix(lines[end], []byte("var __"))
		name := "__" + string(rest[:max(bytes.IndexByte(rest, ' '), 0)])
		if !ok || !esbuildHelpers[name] {
			break
		}
		last := end
		for last < len(lines)-1 && !endsStatement(lines[last]) {
			last++
		}
		helpers[name] = string(bytes.Join(lines[end:last+1], nil))
		end = last + 1
	}
	if len(helpers) == 0 {
		return out, helpers
	}
	for name, text := range helperOverrides {
		if _, ok := helpers[name]; ok {
			helpers[name] = text
		}
	}
	code := append([]byte{}, lines[0]...)
	for _, l := range lines[1:end] {
		if bytes.HasSuffix(l, []byte("\n")) {
			code = append(code, '\n')
		}
	}
	for _, l := range lines[end:] {
		code = append(code, l...)
	}
	return code, helpers
}

// endsStatement reports whether line ends a top-level statement as
// esbuild prints it: not indented, ending with ";".
func endsStatement(line []byte) bool {
	return len(line) > 0 && line[0] != ' ' && bytes.HasSuffix(bytes.TrimRight(line, "\r\n"), []byte(";"))
}

// esbuildHelpers are the names of esbuild's runtime helpers
// (internal/runtime in esbuild's source). A helper missing here stays in
// the module's code, which is correct, only bigger.
var esbuildHelpers = func() map[string]bool {
	names := map[string]bool{}
	for _, name := range strings.Fields(`__accessCheck __async __asyncGenerator __await __callDispose
		__commonJS __commonJSMin __copyProps __create __decorateClass __decorateElement
		__decorateParam __decoratorContext __decoratorMetadata __decoratorStart __decoratorStrings
		__defNormalProp __defProp __defProps __earlyAccess __esm __esmMin __expectFn __export
		__forAwait __freeze __getOwnPropDesc __getOwnPropDescs __getOwnPropNames __getOwnPropSymbols
		__getProtoOf __glob __hasOwnProp __knownSymbol __name __objRest __pow __privateAdd
		__privateGet __privateIn __privateMethod __privateSet __privateWrapper __propIsEnum
		__publicField __reExport __reflectGet __reflectSet __require __restKey __runInitializers
		__spreadProps __spreadValues __superGet __superSet __superWrapper __template __toBinary
		__toBinaryNode __toCommonJS __toESM __typeError __using __yieldStar`) {
		names[name] = true
	}
	return names
}()

// helperBlock declares the helpers of mods once each, in name order.
func helperBlock(mods ...*module) []byte {
	all := map[string]string{}
	for _, m := range mods {
		for n, t := range m.helpers {
			all[n] = t
		}
	}
	var buf bytes.Buffer
	for _, n := range slices.Sorted(maps.Keys(all)) {
		buf.WriteString(all[n])
	}
	return buf.Bytes()
}

// fixMap makes the sources of a module's source map absolute URL paths, so
// that it reads the same in the entry's index map and inlined in an update.
func (b *Bundler) fixMap(raw []byte, mapDir string) []byte {
	var sm map[string]any
	if json.Unmarshal(raw, &sm) != nil {
		return nil
	}
	if srcs, ok := sm["sources"].([]any); ok {
		for i, s := range srcs {
			str, _ := s.(string)
			abs := filepath.Join(mapDir, filepath.FromSlash(str))
			if file, ok := dataFile(str); ok {
				abs = file // a data module's stand-in: its file
			}
			if rel, ok := b.relInput(abs); ok {
				srcs[i] = "/" + rel
			}
		}
	}
	out, _ := json.Marshal(sm)
	return out
}

// quickResolve resolves the common import, a relative path to a JS/TS or
// JSON file that exists under that very name, without esbuild, and returns
// the file: esbuild's resolve from a plugin makes a new resolver each
// time, which reads the folders and parses the package.json files again
// (most of a cold start with packages). Anything else (no extension, a
// folder, a symlink, a "browser" field that may remap the file) is left to
// esbuild. inPkg says whether the importer is a package's file; the result
// is one too, or a file of the project.
func (b *Bundler) quickResolve(dir, spec string, inPkg bool) (string, bool) {
	ext := path.Ext(spec)
	if !(strings.HasPrefix(spec, "./") || strings.HasPrefix(spec, "../")) ||
		!(jsModuleExts[ext] || (inPkg && ext == ".json")) || strings.ContainsAny(spec, "?#\\") {
		return "", false
	}
	p := filepath.Join(dir, filepath.FromSlash(spec))
	fi, err := os.Lstat(p)
	if err != nil || !fi.Mode().IsRegular() || b.inPackage(p) != inPkg {
		return "", false
	}
	if real, err := filepath.EvalSymlinks(filepath.Dir(p)); err != nil || real != filepath.Dir(p) {
		return "", false
	}
	if inPkg {
		if bm := b.browser.of(filepath.Dir(p)); bm.m != nil {
			return "", false
		}
	} else if b.browserField {
		return "", false
	}
	return p, true
}

// resolveCache holds what resolveImport answered during one Build: many
// modules of one folder import the same things.
type resolveCache struct {
	mu sync.Mutex
	m  map[string]resolved
}

// reset forgets every answer.
func (c *resolveCache) reset() {
	c.mu.Lock()
	c.m = nil
	c.mu.Unlock()
}

// resolve is resolveImport through the cache.
func (c *resolveCache) resolve(pb api.PluginBuild, a api.OnResolveArgs) resolved {
	kind := "import"
	switch a.Kind {
	case api.ResolveJSRequireCall, api.ResolveJSRequireResolve:
		kind = "require"
	case api.ResolveJSImportStatement, api.ResolveJSDynamicImport:
	default:
		return resolveImport(pb, a)
	}
	if len(a.With) > 0 {
		return resolveImport(pb, a)
	}
	key := a.ResolveDir + "\x00" + a.Path + "\x00" + kind
	c.mu.Lock()
	r, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return r
	}
	r = resolveImport(pb, a)
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]resolved{}
	}
	c.m[key] = r
	c.mu.Unlock()
	return r
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

// depURL is the id of a package module (a file under node_modules or
// outside the root): its path under the last node_modules folder, prefixed
// by a hash of the folder that holds that node_modules when it is not the
// root (a nested copy of a package, a parent folder's packages), or by a
// hash of its folder when it is under no node_modules. Every file of one
// copy of a package shares the prefix.
func (b *Bundler) depURL(file string) string {
	slash := filepath.ToSlash(file)
	var key string
	if i := strings.LastIndex(slash, "/node_modules/"); i >= 0 {
		key = slash[i+len("/node_modules/"):]
		if slash[:i] != filepath.ToSlash(b.root) {
			key = hashHex([]byte(slash[:i]))[:8] + "/" + key
		}
	} else {
		key = hashHex([]byte(path.Dir(slash)))[:8] + "/" + path.Base(slash)
	}
	return DepsPrefix + key
}

// buildModules brings the modules up to date with changed (root-relative;
// all: compile everything again) and returns them by id, with the assets
// esbuild emitted. A module whose compile failed keeps its last good code
// with the errors attached. Called by Build holding buildMu.
func (b *Bundler) buildModules(changed []string, all bool) (mods, patch map[string]*module, assets []*Output) {
	g := b.graph
	b.resolves.reset() // files may have come and gone since the last Build
	todo := map[string]bool{}
	for id, m := range g.mods {
		if (all && m.compiled()) || m.errs != nil || slices.ContainsFunc(changed, m.touchedBy) {
			todo[id] = true
		}
	}
	for _, id := range g.retry {
		todo[id] = true
	}
	same := len(g.entries) == g.reachedEntries
	for _, e := range g.entries {
		if g.mods["/"+e] == nil {
			todo["/"+e] = true
			same = false
		}
	}
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
	// A module whose file is gone (not an entry): its importers are
	// compiled again, so that the error is theirs, at the import.
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
	// Keep what the entries reach.
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
	b.compileStrict(mods, slices.Sorted(maps.Keys(cycles(mods))))
	markWaits(mods)
	return mods, nil, assets
}

// compileAll compiles units, each id once, and returns the modules by
// id with the assets esbuild emitted.
func (b *Bundler) compileAll(units []unit) (map[string]*module, []*Output) {
	if len(units) == 0 {
		return map[string]*module{}, nil
	}
	slices.SortFunc(units, func(x, y unit) int { return strings.Compare(x.id, y.id) })
	return b.compile(slices.CompactFunc(units, func(x, y unit) bool { return x.id == y.id }))
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
		m.waits = old.waits
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

// render makes the module's registration: esbuild's output with its banner
// line replaced by the factory's header (the factory's body is the module,
// compiled to CommonJS; import.meta is its last argument) and its import()
// calls of other modules sent to the registry.
func (m *module) render() {
	deps, _ := json.Marshal(m.deps)
	id, _ := json.Marshal(m.id)
	head := protocol.Define + `(` + string(id) + `,` + string(deps) + `,function(require,module,exports,` + metaName + `){`
	if m.strict {
		// Its requires name imports as written (see compileStrict).
		head += `require=` + metaName + `.require;`
	}
	body := bytes.TrimPrefix(m.out, []byte(bannerMark))
	if m.refresh {
		// Fast Refresh's registrations call these; the runtime makes the
		// module a boundary when its exports are all components.
		head += `var $RefreshReg$=` + metaName + `.refresh.register,$RefreshSig$=` + metaName + `.refresh.signature;`
		if b, ok := bytes.CutSuffix(body, []byte("});\n")); ok {
			body = append(slices.Clip(b), []byte(metaName+".refresh.done(module);\n});\n")...)
		}
	}
	// import() of a module goes to the registry. esbuild wrote the id, or,
	// strict, the import as written. One pass: a replacement holds the id.
	var dynamic []string
	for spec, d := range m.deps {
		if slices.Contains(m.dyn, d) {
			written := d
			if m.strict {
				written = spec
			}
			q, _ := json.Marshal(written)
			to, _ := json.Marshal(d)
			dynamic = append(dynamic, `import(`+string(q)+`)`, metaName+`.import(`+string(to)+`)`)
		}
	}
	if len(dynamic) > 0 {
		body = []byte(strings.NewReplacer(dynamic...).Replace(string(body)))
	}
	if m.waits {
		// The runtime runs its imports first, in this order, and waits
		// for those with top-level await.
		order, _ := json.Marshal(append([]string{}, m.static...))
		if b, ok := bytes.CutSuffix(body, []byte("});\n")); ok {
			body = append(slices.Clip(b), []byte("},"+string(order)+");\n")...)
		}
	}
	m.def = append([]byte(head), body...)
	if !bytes.HasSuffix(m.def, []byte("\n")) {
		m.def = append(m.def, '\n')
	}
	m.hash = hashHex(m.def)
	sum := sha256.Sum256([]byte(m.id + "\x00" + m.hash))
	m.sig = binary.LittleEndian.Uint64(sum[:8])
}

// updateScript is what ModulePrefix serves for a module: its registration
// as an update, with its source map inline.
func (m *module) updateScript(base string) []byte {
	var buf bytes.Buffer
	buf.WriteString(`import{` + protocol.RuntimeUpdate + ` as ` + protocol.Define + `}from"` + withBase(base, HMRPath) + "\";\n")
	buf.Write(helperBlock(m))
	before := bytes.Count(buf.Bytes(), []byte("\n"))
	buf.Write(m.def)
	if m.srcMap != nil {
		// The map's lines start at the registration.
		sm := bytes.Replace(m.srcMap, []byte(`"mappings":"`), []byte(`"mappings":"`+strings.Repeat(";", before)), 1)
		buf.WriteString("//# sourceMappingURL=data:application/json;base64,")
		buf.WriteString(base64.StdEncoding.EncodeToString(sm))
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

// chunkSize is about how many modules one script holds. An entry that
// reaches more is served as a small script importing chunks, each at a
// URL that names its content, cached for good: after an edit a reload
// fetches, and the browser compiles, only the chunk that changed.
const chunkSize = 256

// reach lists the modules an entry reaches, depth first.
func (g *graph) reach(entry string) []*module {
	var order []*module
	seen := map[string]bool{}
	var walk func(id string)
	walk = func(id string) {
		m := g.mods[id]
		if seen[id] || m == nil {
			return
		}
		seen[id] = true
		if m.def != nil {
			order = append(order, m)
		}
		for _, d := range slices.Sorted(maps.Values(m.deps)) {
			walk(d)
		}
	}
	walk("/" + entry)
	return order
}

// registrations is a script of head, the helpers and registrations of
// mods, and tail; and its index source map, one section per module.
func registrations(head string, mods []*module, tail string) (script, srcMap []byte) {
	var js, sm bytes.Buffer
	js.WriteString(head)
	js.Write(helperBlock(mods...))
	sm.WriteString(`{"version":3,"sections":[`)
	line, first := bytes.Count(js.Bytes(), []byte("\n")), true
	for _, m := range mods {
		if m.srcMap != nil {
			if !first {
				sm.WriteByte(',')
			}
			first = false
			sm.WriteString(`{"offset":{"line":` + strconv.Itoa(line) + `,"column":0},"map":`)
			sm.Write(m.srcMap)
			sm.WriteByte('}')
		}
		js.Write(m.def)
		line += bytes.Count(m.def, []byte("\n"))
	}
	js.WriteString(tail)
	sm.WriteString("]}")
	return js.Bytes(), sm.Bytes()
}

// assembleAll makes the scripts of every JS entry: one script holding
// every module it reaches, or, past chunkSize modules, a script importing
// chunks. A module goes to the chunk its id hashes to, so an edit changes
// one chunk and adding a module moves no other. Called with mu held.
func (g *graph) assembleAll() {
	g.scripts = map[string]*Output{}
	put := func(p string, kind Kind, b []byte) *Output {
		o := &Output{Path: p, Kind: kind, Hash: hashHex(b), ContentType: contentType(kind, p), Contents: b}
		g.scripts[p] = o
		return o
	}
	for _, e := range g.entries {
		mods := g.reach(e)
		if len(mods) == 0 {
			continue
		}
		q, _ := json.Marshal("/" + e)
		start := protocol.Start + `(` + string(q) + ");\n"
		if g.refreshStart != "" && !slices.ContainsFunc(g.refreshIDs, func(id string) bool { return g.mods[id] == nil }) {
			start = protocol.Start + `(` + string(q) + "," + g.refreshStart + ");\n"
		}
		if len(mods) <= chunkSize {
			js, sm := registrations(`import{`+protocol.RuntimeDefine+` as `+protocol.Define+`,`+protocol.RuntimeStart+` as `+protocol.Start+`}from"`+withBase(g.base, HMRPath)+"\";\n",
				mods, start+"//# sourceMappingURL="+path.Base(e)+".map\n")
			put("/"+e, JS, js)
			put("/"+e+".map", Map, sm)
			continue
		}
		n := (len(mods) + chunkSize - 1) / chunkSize
		chunks := make([][]*module, n)
		for _, m := range mods {
			h := fnv.New32a()
			h.Write([]byte(m.id))
			i := h.Sum32() % uint32(n)
			chunks[i] = append(chunks[i], m)
		}
		var entry strings.Builder
		prefix := ChunkPrefix + hashHex([]byte(e))[:8] + "-"
		for i, c := range chunks {
			if len(c) == 0 {
				continue
			}
			name := prefix + strconv.Itoa(i) + ".js"
			js, sm := registrations(`import{`+protocol.RuntimeDefine+` as `+protocol.Define+`}from"`+withBase(g.base, HMRPath)+"\";\n",
				c, "//# sourceMappingURL="+path.Base(name)+".map\n")
			o := put(name, JS, js)
			put(name+".map", Map, sm)
			entry.WriteString(`import "` + withBase(g.base, name) + "?v=" + o.Hash + "\";\n")
		}
		entry.WriteString(`import{` + protocol.RuntimeStart + ` as ` + protocol.Start + `}from"` + withBase(g.base, HMRPath) + "\";\n" + start)
		put("/"+e, JS, []byte(entry.String()))
	}
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
			if m.def == nil {
				m.render()
			}
			if old := g.mods[id]; (old == nil && len(g.mods) > 0) || (old != nil && old.hash != m.hash) {
				r.Modules = append(r.Modules, m.update(b.urlBase))
			}
		}
		g.install(mods)
	}
	r.ID = hashHex([]byte(r.ID + "\n" + strconv.FormatUint(g.sig, 16)))
	r.Inputs = mergeSorted(r.Inputs, g.inputs)
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
	m := &module{id: id, file: file, css: true, deps: map[string]string{}}
	m.out = []byte(bannerMark + "\n" + metaName + `.hot.accept();` + metaName + `.style(` + string(href) + `);` +
		metaName + `.hot.prune(()=>` + metaName + ".style(null));\n});\n")
	m.render()
	return m
}

// update is m's entry in Result.Modules.
func (m *module) update(base string) ModuleUpdate {
	return ModuleUpdate{ID: m.id, URL: withBase(base, ModulePrefix) + strings.TrimPrefix(m.id, "/") + sep(m.id) + "v=" + m.hash}
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

// sep is the separator before a query parameter added to id.
func sep(id string) string {
	if strings.Contains(id, "?") {
		return "&"
	}
	return "?"
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
// "?module" for the module of a CSS file imported from JS. Otherwise it
// answers as Lookup. Like Lookup it waits for a build in progress.
func (b *Bundler) LookupURL(u *url.URL) (*Output, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.waitLocked()
	if g := b.graph; g != nil {
		e := strings.TrimSuffix(strings.TrimPrefix(u.Path, "/"), ".map")
		if slices.Contains(g.entries, e) || strings.HasPrefix(u.Path, ChunkPrefix) {
			if g.scripts == nil {
				g.assembleAll()
			}
			o := g.scripts[u.Path]
			if o != nil && strings.HasPrefix(u.Path, ChunkPrefix) && u.Query().Get("v") == o.Hash {
				c := *o
				c.Immutable = true
				o = &c
			}
			if o != nil {
				return o, true
			}
		}
		if id, ok := strings.CutPrefix(u.Path, ModulePrefix); ok {
			id = "/" + id
			if u.Query().Has("module") {
				id += cssModuleQuery
			}
			for q := range assetQueries {
				if u.Query().Has(q) {
					id += "?" + q
				}
			}
			if m := g.mods[id]; m != nil && m.def != nil {
				code := m.updateScript(g.base)
				return &Output{Path: u.Path, Kind: JS, Hash: hashHex(code), ContentType: jsType, Contents: code}, true
			}
			return nil, false
		}
		if o := g.assets[u.Path]; o != nil {
			return o, true
		}
	}
	o, ok := b.served[u.Path]
	return o, ok
}
