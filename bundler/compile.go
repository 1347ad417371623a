package bundler

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"

	"github.com/evanw/esbuild/pkg/api"
)

// This file compiles the modules of module mode: each module alone by
// esbuild, in batches on every core, with its imports left external under
// the ids of the modules they resolve to, which it records as the edges of
// the graph.

// resolveMark is PluginData that tells the plugin a resolve is its own.
type resolveMark struct{}

// edges is what the plugin saw during one compile: per importing file
// (absolute), its imports.
type edges struct {
	mu        sync.Mutex
	seen      map[string][]edge
	refreshed map[string]bool          // files loaded with Fast Refresh's registrations
	calls     map[string][]resolveCall // per importing file, every import resolved; see cacheRec
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
			r, ed := b.resolveModule(pb, a)
			seen.resolved(a, r, ed)
			return r, nil
		})
		pb.OnLoad(api.OnLoadOptions{Filter: `\.[mM]?[jJtT][sSxX][xX]?$`, Namespace: "file"}, func(a api.OnLoadArgs) (api.OnLoadResult, error) {
			if _, query := a.PluginData.(assetLoad); query || !b.refreshes(a.Path) {
				return api.OnLoadResult{}, nil // "./App.tsx?raw" is the file's text
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

// resolveModule decides an import of a module being compiled, as the
// module plugin's OnResolve: every import of another module is left
// external under that module's id, and the edge says what it is (nil: no
// edge of the graph). It is a function of the arguments, the files and the
// bundler's options, so that a cached module's imports can be decided
// again and compared (see cache.go).
func (b *Bundler) resolveModule(pb api.PluginBuild, a api.OnResolveArgs) (api.OnResolveResult, *edge) {
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
			return api.OnResolveResult{Path: b.depURL(p), External: true}, &edge{spec: a.Path, resolved: p, kind: "dep", dynamic: dyn}
		} else if ok {
			rel, _ := b.relInput(p)
			return api.OnResolveResult{Path: "/" + rel, External: true}, &edge{spec: a.Path, resolved: p, kind: "js", dynamic: dyn}
		}
	}
	r := b.resolves.resolve(pb, a)
	if len(r.Errors) > 0 {
		if name := builtinName(a.Path); name != "" {
			id := nodePrefix + name + ".js"
			return api.OnResolveResult{Path: id, External: true, Warnings: []api.Message{{
				Text: fmt.Sprintf("%q is built into Node.js and has no browser version: it is replaced by an empty module", a.Path)}}}, &edge{spec: a.Path, id: id, kind: "stub", dynamic: dyn}
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
			return api.OnResolveResult{Path: "/" + rel + r.Suffix, External: true}, &edge{spec: a.Path, resolved: r.Path, query: r.Suffix, kind: "js", dynamic: dyn}
		}
		return api.OnResolveResult{Path: r.Path, Suffix: r.Suffix, PluginData: r.PluginData}, &edge{spec: a.Path, resolved: r.Path, kind: "inline"}
	}
	if r.External || r.Namespace != "file" || r.Path == "" {
		return api.OnResolveResult{Path: r.Path, External: r.External, Namespace: r.Namespace,
			PluginData: r.PluginData, Suffix: r.Suffix}, nil
	}
	if b.browser.disabled(a.Importer, a.Path, r.Path) {
		return api.OnResolveResult{Path: emptyID, External: true}, &edge{spec: a.Path, id: emptyID, kind: "stub", dynamic: dyn}
	}
	rel, inRoot := b.relInput(r.Path)
	ext := strings.ToLower(path.Ext(r.Path))
	if isCSSModule(r.Path) {
		// A CSS module (Sass too) gives its importer the class names,
		// and its CSS goes out with the importer (see cssOf).
		ext = ""
	}
	switch {
	case cssEntryExts[ext] && inRoot && a.Kind != api.ResolveCSSImportRule && a.Kind != api.ResolveCSSURLToken:
		return api.OnResolveResult{Path: "/" + rel + cssModuleQuery, External: true}, &edge{spec: a.Path, resolved: r.Path, kind: "css"}
	case b.inPackage(r.Path) && (jsModuleExts[ext] || ext == ".json"):
		return api.OnResolveResult{Path: b.depURL(r.Path), External: true}, &edge{spec: a.Path, resolved: r.Path, alt: r.alt, kind: "dep", dynamic: dyn}
	case !b.inPackage(r.Path) && ext != "" && !cssEntryExts[ext]:
		// A file of the project: a module of its own, also an
		// asset, JSON or text, so that it can be accepted
		// (import.meta.hot.accept("./logo.svg", cb)) and an edit
		// of it compiles it alone.
		return api.OnResolveResult{Path: "/" + rel, External: true}, &edge{spec: a.Path, resolved: r.Path, kind: "js", dynamic: dyn}
	}
	return api.OnResolveResult{Path: r.Path, Suffix: r.Suffix}, &edge{spec: a.Path, resolved: r.Path, kind: "inline"}
}

// isCSSModule reports whether the file at p is a CSS module:
// *.module.css, or of Sass.
func isCSSModule(p string) bool {
	ext := strings.ToLower(path.Ext(p))
	return cssEntryExts[ext] && strings.HasSuffix(strings.ToLower(strings.TrimSuffix(p, path.Ext(p))), ".module")
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
// cores, and merges what compileBatch returns. It hands each batch's
// modules to done as soon as they are compiled, from the batch's
// goroutine. Once Close was called it starts no more batches: the build
// in progress is cut short, its result never served.
func (b *Bundler) compile(units []unit, done func(map[string]*module)) (map[string]*module, []*Output) {
	if b.stopping.Load() {
		return map[string]*module{}, nil
	}
	if len(units) == 1 {
		if m, assets, ok := b.prepared.takeModule(b, units[0]); ok {
			got := map[string]*module{m.id: m}
			done(got)
			return got, assets
		}
	}
	if len(units) <= batchSize {
		got, assets := b.compileBatch(units)
		done(got)
		return got, assets
	}
	out := map[string]*module{}
	var assets []*Output
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i := 0; i < len(units); i += batchSize {
		batch := units[i:min(i+batchSize, len(units))]
		sem <- struct{}{}
		if b.stopping.Load() {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			got, more := b.compileBatch(batch)
			done(got)
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
		m := &module{id: u.id, file: u.file, dep: u.dep}
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
		seen := newEdges(b.cache != nil)
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
			batch := map[string]*module{}
			files := map[string][]byte{}
			for _, of := range res.OutputFiles {
				files[of.Path] = of.Contents
			}
			for _, u := range units {
				m := newModule(u)
				js := b.outFile(m.id)
				m.out, m.helpers = splitHelpers(files[js])
				m.helpers = b.shareHelpers(m.helpers)
				m.srcMap = newMapRef(b.fixMap(files[js+".map"], filepath.Dir(js)))
				delete(files, js)
				delete(files, js+".map")
				assets = append(assets, b.finishModule(m, u, files, seen)...)
				batch[u.id] = m
			}
			var emitted []*Output
			for p, c := range files {
				if rel, ok := b.relOutput(p); ok && !strings.HasSuffix(rel, ".map") {
					emitted = append(emitted, &Output{Path: "/" + rel, Kind: Asset, Hash: hashHex(c),
						ContentType: contentType(Asset, rel), Contents: c})
				}
			}
			b.ownAssets(batch, emitted)
			assets = append(assets, emitted...)
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
	if seen.calls != nil {
		m.rec = seen.record(b.abs(u)) // for the cache; see cacheRec
	}
	if css := strings.TrimSuffix(js, ".js") + ".css"; files[css] != nil {
		assets = append(assets, b.cssOf(m, files[css], css))
		if m.rec != nil {
			m.rec.assets = append(m.rec.assets, assets...)
		}
		delete(files, css)
		delete(files, css+".map")
	}
	cssModule := false
	for _, ed := range seen.seen[b.abs(u)] {
		n := len(m.static)
		b.addEdge(m, ed)
		if cssModule && m.styleBefore == "" && len(m.static) > n {
			m.styleBefore = m.static[n]
		}
		cssModule = cssModule || ed.kind == "inline" && isCSSModule(ed.resolved)
	}
	// What a stylesheet that the module inlines read by a build of its
	// own (one imported with ?inline, a CSS module in Sass: see
	// styleDepFiles) is inlined too.
	for _, f := range append([]string{b.abs(u)}, b.inlinedFiles(m)...) {
		for _, dep := range b.styleDeps.depsOf(f) {
			if rel, ok := b.relInput(dep); ok {
				setKey(&m.inline, rel, true)
			}
		}
	}
	m.refresh = seen.refreshed[b.abs(u)]
	if !u.dep && slices.Contains(b.graph.entries, u.file) {
		// The page sets up Fast Refresh's runtime before it starts an
		// entry (see assembleAll), so the entry brings it.
		for i, f := range b.refresh.files {
			id := b.depURL(f)
			setKey(&m.deps, b.refresh.packages[i], id)
			setKey(&m.depFiles, id, f)
		}
	}
	return assets
}

// inlinedFiles returns the files esbuild inlined into m, absolute.
func (b *Bundler) inlinedFiles(m *module) []string {
	files := make([]string, 0, len(m.inline))
	for rel := range m.inline {
		files = append(files, filepath.Join(b.root, filepath.FromSlash(rel)))
	}
	return files
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
			setKey(&m.inline, rel, true)
		}
		return
	case "stub":
		id = e.id
	case "dep":
		id = b.depURL(e.resolved)
		setKey(&m.depFiles, id, e.resolved)
		if e.alt != "" {
			setKey(&m.alts, id, e.alt)
		}
	case "css":
		rel, _ := b.relInput(e.resolved)
		id = "/" + rel + cssModuleQuery
	default:
		rel, _ := b.relInput(e.resolved)
		id = "/" + rel + e.query
	}
	setKey(&m.deps, e.spec, id)
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
// The directives esbuild puts first ("use strict" of a file that has it,
// "use client") stay where they are, above the helpers: a module left
// with its own helpers would run esbuild's interop, not the overrides
// (see helperOverrides), and its default imports of ES modules in node
// mode would get whole exports objects (axios's lib files start with
// 'use strict').
func splitHelpers(out []byte) ([]byte, map[string]string) {
	helpers := map[string]string{}
	lines := bytes.SplitAfter(out, []byte("\n"))
	if len(lines) < 2 || !bytes.HasPrefix(lines[0], []byte(bannerMark)) {
		return out, helpers
	}
	start := 1
	for start < len(lines) && directiveLine.Match(lines[start]) {
		start++
	}
	end := start
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
	code := append([]byte{}, bytes.Join(lines[:start], nil)...)
	for _, l := range lines[start:end] {
		if bytes.HasSuffix(l, []byte("\n")) {
			code = append(code, '\n')
		}
	}
	for _, l := range lines[end:] {
		code = append(code, l...)
	}
	return code, helpers
}

// directiveLine matches a line of a directive prologue as esbuild prints
// it: "use strict";
var directiveLine = regexp.MustCompile(`^"[^"\\\n]*";\n$`)

// shareHelpers returns the map of a module's helpers (from
// splitHelpers) that every module with the same helpers shares: most
// modules use the same few, with the same texts, and 5,000 modules held
// 8 MB of copies of them. The maps are never changed once made. The maps
// are found by the helpers' names, then compared: a key of the whole
// texts cost a tenth of a restart's build.
func (b *Bundler) shareHelpers(helpers map[string]string) map[string]string {
	key := strings.Join(slices.Sorted(maps.Keys(helpers)), "\x00")
	b.helperMu.Lock()
	defer b.helperMu.Unlock()
	for _, set := range b.helperSets[key] {
		if maps.Equal(set, helpers) {
			return set
		}
	}
	if b.helperSets == nil {
		b.helperSets = map[string][]map[string]string{}
	}
	b.helperSets[key] = append(b.helperSets[key], helpers)
	return helpers
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
// esbuild (a "browser" field that names packages only, as MUI's, cannot
// remap it). inPkg says whether the importer is a package's file; the result
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
	if !b.resolves.realDir(filepath.Dir(p)) {
		return "", false
	}
	if inPkg {
		if bm := b.browser.of(filepath.Dir(p)); bm.mapsFiles() {
			return "", false
		}
	} else if b.browserField {
		return "", false
	}
	return p, true
}

// resolveCache holds what resolveImport answered since a Build last saw
// files come or go (see onlyEdits): many modules of one folder import the
// same things, and an edit of a module imports what it did.
type resolveCache struct {
	mu    sync.Mutex
	m     map[string]resolved
	real  map[string]bool   // folder -> it is its real path (no symlink on the way)
	scope map[string]string // folder -> scopeOf it
}

// reset forgets every answer.
func (c *resolveCache) reset() {
	c.mu.Lock()
	c.m, c.real, c.scope = nil, nil, nil
	c.mu.Unlock()
}

// scopeMarks are what makes a folder a scope (see scopeOf): what esbuild's
// resolution of a bare specifier looks for in each folder on the way up.
var scopeMarks = []string{"node_modules", "package.json", "tsconfig.json", "jsconfig.json"}

// scopeOf returns the nearest folder at or above dir that holds one of
// scopeMarks. A bare specifier resolves from dir as from that folder:
// esbuild looks for node_modules in each folder on the way up, and takes
// the "browser" field, the "imports" map and the tsconfig settings from
// the nearest folder that has the file, so folders that have none of them
// change nothing. A package's hundreds of folders share their package's
// scope, and so one answer: each answer not cached costs esbuild a new
// resolver, which parses the package.json files on its way again (MUI's
// exports maps made its cold start in module mode ten times its bundle's).
func (c *resolveCache) scopeOf(dir string) string {
	c.mu.Lock()
	s, ok := c.scope[dir]
	c.mu.Unlock()
	if ok {
		return s
	}
	marked := slices.ContainsFunc(scopeMarks, func(name string) bool {
		_, err := os.Stat(filepath.Join(dir, name))
		return err == nil
	})
	s = dir
	if parent := filepath.Dir(dir); !marked && parent != dir {
		s = c.scopeOf(parent)
	}
	c.mu.Lock()
	if c.scope == nil {
		c.scope = map[string]string{}
	}
	c.scope[dir] = s
	c.mu.Unlock()
	return s
}

// realDir reports whether the folder dir is its own real path: no
// symbolic link leads to it.
func (c *resolveCache) realDir(dir string) bool {
	c.mu.Lock()
	r, ok := c.real[dir]
	c.mu.Unlock()
	if ok {
		return r
	}
	real, err := filepath.EvalSymlinks(dir)
	r = err == nil && real == dir
	c.mu.Lock()
	if c.real == nil {
		c.real = map[string]bool{}
	}
	c.real[dir] = r
	c.mu.Unlock()
	return r
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
	dir := a.ResolveDir
	if isBare(a.Path) {
		dir = c.scopeOf(dir) // the answer is the same from every folder of the scope
	}
	key := dir + "\x00" + a.Path + "\x00" + kind
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
