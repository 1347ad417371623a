package bundler

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/devserve/devserve/internal/protocol"
	"github.com/evanw/esbuild/pkg/api"
)

// This file is how module mode treats packages from node_modules: every
// file of a package that a page reaches is a module of its own, as the
// project's files are, so a page holds exactly one copy of each file of
// each package version, whichever way it is reached (an app's import, a
// package's inner require, a nested copy at another version). What esbuild
// decides inside a bundle and its plugin API does not pass on is decided
// here: which file of a package both an import and a require get, the
// "browser" field's disabled files, and Node's built-in modules.

// Ids of the modules that stand for no file.
const (
	// emptyID is the module of a file that a package.json "browser" field
	// maps to false: an empty CommonJS module, as in esbuild's bundles.
	emptyID = DepsPrefix + "__empty.js"
	// nodePrefix begins the ids of the stand-ins for Node's built-in
	// modules ("/__devserve/deps/__node/fs.js").
	nodePrefix = DepsPrefix + "__node/"
)

// nodeBuiltins are the modules Node has built in (module.builtinModules),
// which a package may import for its server side. Browsers have none.
var nodeBuiltins = func() map[string]bool {
	m := map[string]bool{}
	for _, n := range strings.Fields(`assert assert/strict async_hooks buffer child_process cluster console
		constants crypto dgram diagnostics_channel dns dns/promises domain events fs fs/promises http
		http2 https inspector inspector/promises module net os path path/posix path/win32 perf_hooks
		process punycode querystring readline readline/promises repl sea sqlite stream stream/consumers
		stream/promises stream/web string_decoder sys test test/reporters timers timers/promises tls
		trace_events tty url util util/types v8 vm wasi worker_threads zlib`) {
		m[n] = true
	}
	return m
}()

// builtinName is the Node built-in that spec names ("fs", "node:fs",
// "fs/promises"), or "".
func builtinName(spec string) string {
	name := strings.TrimPrefix(spec, "node:")
	if nodeBuiltins[name] || (name != spec && name != "") {
		return name
	}
	return ""
}

// unit is one module to compile: a file of the project (root-relative) or
// of a package (absolute), under the id it is registered as.
type unit struct {
	id   string
	file string
	dep  bool
}

// abs is the unit's file as an absolute path.
func (b *Bundler) abs(u unit) string {
	if u.dep {
		return u.file
	}
	return filepath.Join(b.root, filepath.FromSlash(u.file))
}

// inPackage reports whether the absolute file p belongs to a package: it
// lies under a node_modules folder or outside the root.
func (b *Bundler) inPackage(p string) bool {
	rel, ok := b.relInput(p)
	return !ok || strings.Contains("/"+rel, "/node_modules/")
}

// resolved is where an import goes, as the plugin decides it.
type resolved struct {
	api.ResolveResult
	// alt is the file a require() of a bare specifier resolves to when an
	// import of it resolves to another (the "main" beside the "module"
	// field, or a "require" condition beside "import"); see resolveImport.
	alt string
}

// resolveImport resolves an import through esbuild. A bare specifier is
// resolved as an import statement resolves it, whatever the kind, so that
// an import and a require of one package name one module. esbuild bundles
// resolve a require() of a package to its "main" file and an import to its
// "module" file, and when both occur use "main" for both; its plugin API
// says nothing of that pair. So a require of a package whose require file
// differs reports that file in alt, and the graph compiles the package's
// module from it when any module of the page requires it (see
// buildModules): one copy of the package, in the shape require() expects.
func resolveImport(pb api.PluginBuild, a api.OnResolveArgs) resolved {
	opts := api.ResolveOptions{Importer: a.Importer, Namespace: a.Namespace,
		ResolveDir: a.ResolveDir, Kind: a.Kind, PluginData: resolveMark{}, With: a.With}
	if !isBare(a.Path) || a.Kind == api.ResolveJSImportStatement || a.Kind == api.ResolveJSDynamicImport ||
		a.Kind == api.ResolveCSSImportRule || a.Kind == api.ResolveCSSURLToken {
		return resolved{ResolveResult: pb.Resolve(a.Path, opts)}
	}
	req := pb.Resolve(a.Path, opts)
	opts.Kind = api.ResolveJSImportStatement
	imp := pb.Resolve(a.Path, opts)
	if len(imp.Errors) > 0 || imp.Namespace != "file" || imp.Path == "" {
		return resolved{ResolveResult: req}
	}
	r := resolved{ResolveResult: imp}
	if len(req.Errors) == 0 && req.Namespace == "file" && req.Path != imp.Path {
		r.alt = req.Path
	}
	return r
}

// browserMaps caches the "browser" field of package.json files by folder.
type browserMaps struct {
	mu   sync.Mutex
	maps map[string]browserMap // folder -> its package's map; nil map: no package.json
}

// browserMap is a package's "browser" field as a map, with the folder of
// its package.json.
type browserMap struct {
	dir string
	m   map[string]any
}

// mapsFiles reports whether the map may remap a file of its package: a
// key names one by a path ("./lib/node.js"); others name packages
// ("react-transition-group/cjs/x.js"), which a relative import is not.
func (bm browserMap) mapsFiles() bool {
	for k := range bm.m {
		if strings.HasPrefix(k, ".") || strings.HasPrefix(k, "/") {
			return true
		}
	}
	return false
}

// of returns the browser map of the package that holds folder dir.
func (c *browserMaps) of(dir string) browserMap {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.maps == nil {
		c.maps = map[string]browserMap{}
	}
	var walked []string
	var found browserMap
	for d := dir; ; d = filepath.Dir(d) {
		if bm, ok := c.maps[d]; ok {
			found = bm
			break
		}
		walked = append(walked, d)
		if data, err := os.ReadFile(filepath.Join(d, "package.json")); err == nil {
			var pkg struct {
				Browser json.RawMessage `json:"browser"`
			}
			found.dir = d
			if json.Unmarshal(data, &pkg) == nil {
				_ = json.Unmarshal(pkg.Browser, &found.m) // a string field maps no file
			}
			break
		}
		if filepath.Dir(d) == d || filepath.Base(d) == "node_modules" {
			break
		}
	}
	for _, d := range walked {
		c.maps[d] = found
	}
	return found
}

// disabled reports whether a "browser" field maps an import to false: the
// importer's package maps the specifier (a package name, or a file of its
// own), or the resolved file's package maps that file. esbuild loads such
// a file as an empty module; its plugin API reports the file itself.
func (c *browserMaps) disabled(importer, spec, file string) bool {
	off := func(bm browserMap, key string) bool {
		v, ok := bm.m[key]
		return ok && v == false
	}
	fileOff := func(bm browserMap, f string) bool {
		if bm.m == nil {
			return false
		}
		rel, err := filepath.Rel(bm.dir, f)
		if err != nil || strings.HasPrefix(rel, "..") {
			return false
		}
		rel = "./" + filepath.ToSlash(rel)
		return off(bm, rel) || off(bm, strings.TrimSuffix(rel, path.Ext(rel)))
	}
	if importer != "" {
		if bm := c.of(filepath.Dir(importer)); bm.m != nil {
			if isBare(spec) && off(bm, spec) {
				return true
			}
			if fileOff(bm, file) {
				return true
			}
		}
	}
	return fileOff(c.of(filepath.Dir(file)), file)
}

// stubModule is the module of a stand-in id: emptyID, or a Node built-in
// under nodePrefix, whose exports throw a clear error when used, as
// Vite's do: a package that only imports "fs" for its server side works,
// one that calls it in the browser says why it fails.
func stubModule(id string) *module {
	code := "module.exports = {};"
	if name, ok := strings.CutPrefix(id, nodePrefix); ok {
		q, _ := json.Marshal(strings.TrimSuffix(name, ".js"))
		code = `var name = ` + string(q) + `, fail = (key) => { throw new Error("[devserve] Module \"" + name + "\" is built into Node.js and has no browser version; it was replaced by an empty module, so \"" + name + "." + String(key) + "\" cannot be used in the browser."); };
var quiet = (key) => typeof key === "symbol" || key === "__esModule" || key === "then" || key === "default" || key === "toJSON" || key === "$$typeof";
var missing = new Proxy({}, { get: (_, key) => quiet(key) ? undefined : fail(key) });
module.exports = new Proxy({}, { get: (_, key) => quiet(key) ? undefined : fail(key), getPrototypeOf: () => missing });`
	}
	m := &module{id: id, dep: true, stub: true}
	m.out = []byte(bannerMark + "\n" + code + "\n});\n")
	m.render()
	return m
}

// helperOverrides replace two of esbuild's runtime helpers in the scripts.
// Each module is compiled alone, so esbuild cannot tell whether what an
// import gets is a real ES module or CommonJS, and in "node mode" (an .mjs
// file, or "type": "module") its __toESM makes the whole exports object
// the default import. __toCommonJS, which esbuild wraps around every ES
// module it converts, marks the exports as an ES module's; __toESM in node
// mode then gives such exports as they are, as an ES module importing an ES
// module gets them, and CommonJS exports as node does.
var helperOverrides = map[string]string{
	// esbuild's copies the module's exports, getters of its bindings,
	// into a new object as more getters; this one marks the exports
	// object itself (one object and one getter per export less, for
	// every module a page runs), unless the module exports a binding of
	// that name.
	"__toCommonJS": `var __toCommonJS = (mod) => __hasOwnProp.call(mod, "__esModule") ? __copyProps(__defProp(__defProp({}, "__esModule", { value: true }), "` + protocol.ESMFlag + `", { value: true }), mod) : __defProp(__defProp(mod, "__esModule", { value: true }), "` + protocol.ESMFlag + `", { value: true });` + "\n",
	"__toESM": `var __toESM = (mod, isNodeMode, target) => (target = mod != null ? __create(__getProtoOf(mod)) : {}, __copyProps(
  (isNodeMode && !(mod && mod.` + protocol.ESMFlag + `)) || !mod || !mod.__esModule ? __defProp(target, "default", { value: mod, enumerable: true }) : target,
  mod
));` + "\n",
}

// nodeModeImport matches esbuild's node-mode interop call around a
// require of another module: __toESM(require("/src/x.ts"), 1).
var nodeModeImport = regexp.MustCompile(`__toESM\((require\("[^"\\\n]*"\)), 1\)`)

// appInterop gives a module of the project the interop that Vite gives it
// whatever its package's "type": a default import of CommonJS that sets
// __esModule is its "default" export, not the whole exports object.
// Packages keep node's rule, which esbuild applies in their bundles.
func appInterop(out []byte) []byte {
	return nodeModeImport.ReplaceAll(out, []byte("__toESM($1)"))
}

// packageName is the package a bare specifier names ("@scope/pkg" of
// "@scope/pkg/sub"), or "".
func packageName(spec string) string {
	if !isBare(spec) {
		return ""
	}
	parts := strings.SplitN(spec, "/", 3)
	if strings.HasPrefix(spec, "@") && len(parts) > 1 {
		return parts[0] + "/" + parts[1]
	}
	return parts[0]
}

// isPackageName reports whether name, as packageName gives it, can be the
// name of an npm package: "pkg" or "@scope/pkg", each part made of
// letters, digits and "-._~", not starting with "." or "_" or "~". Path
// aliases of Vite projects are not: "@/components", "~/lib", "$lib".
func isPackageName(name string) bool {
	parts := []string{name}
	if scope, rest, ok := strings.Cut(name, "/"); ok && strings.HasPrefix(scope, "@") {
		parts = []string{scope[1:], rest}
	}
	for _, p := range parts {
		if p == "" || strings.ContainsAny(p[:1], "._~") {
			return false
		}
		for _, c := range p {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-._~", c)) {
				return false
			}
		}
	}
	return true
}

// unresolved says why a bare specifier that esbuild could not resolve
// from folder dir fails: it is a path alias or a subpath import that
// nothing maps, the package is not installed, or it is and names no file
// that exists for it, and which. "" for other specifiers.
func (b *Bundler) unresolved(dir, spec string) string {
	name := packageName(spec)
	if name == "" {
		return ""
	}
	if strings.HasPrefix(spec, "#") {
		return fmt.Sprintf("Could not resolve %q: a specifier starting with # is a subpath import, "+
			"which the \"imports\" of the nearest package.json must map", spec)
	}
	if !isPackageName(name) {
		return fmt.Sprintf("Could not resolve %q: no package can be named %q, so this is a path alias; "+
			"devserve takes aliases from \"paths\" in the tsconfig.json or jsconfig.json that applies to the file "+
			"(or, when tsconfig.json only lists references, in the one for the browser code, such as tsconfig.app.json), "+
			"not from vite.config's resolve.alias", spec, name)
	}
	for d := dir; ; d = filepath.Dir(d) {
		pkg := filepath.Join(d, "node_modules", filepath.FromSlash(name))
		if why := brokenLink(pkg); why != "" {
			rel := pkg
			if r, ok := b.relInput(pkg); ok {
				rel = r
			}
			return fmt.Sprintf("Could not resolve %q: %s is a symbolic link (a workspace's, say) that %s", spec, rel, why)
		}
		if fi, err := os.Stat(pkg); err == nil && fi.IsDir() {
			rel := pkg
			if r, ok := b.relInput(pkg); ok {
				rel = r
			}
			msg := fmt.Sprintf("Could not resolve %q: the package %q is installed in %s but names no file for it", spec, name, rel)
			if why := b.namesNoFile(pkg, "."+strings.TrimPrefix(spec, name)); why != "" {
				return msg + ": " + why
			}
			return msg + " (check its package.json \"exports\", \"module\" and \"main\", or reinstall it)"
		}
		if filepath.Dir(d) == d {
			return fmt.Sprintf("Could not resolve %q: the package %q is not installed (npm install %s)", spec, name, name)
		}
	}
}

// brokenLink says what is wrong with p if it is a symbolic link that leads
// nowhere: "leads in a loop (a -> b -> a)" or "points at x, which does not
// exist". "" for anything else.
func brokenLink(p string) string {
	fi, err := os.Lstat(p)
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		return ""
	}
	if _, err := os.Stat(p); err == nil {
		return ""
	}
	chain := []string{filepath.Base(p)}
	seen := map[string]bool{p: true}
	for cur := p; len(chain) < 40; {
		target, err := os.Readlink(cur)
		if err != nil {
			return "cannot be followed: " + err.Error()
		}
		chain = append(chain, target)
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(cur), target)
		}
		if seen[target] {
			return "leads in a loop (" + strings.Join(chain, " -> ") + ")"
		}
		seen[target] = true
		fi, err := os.Lstat(target)
		if err != nil {
			return "points at " + target + ", which does not exist"
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			return "cannot be followed (" + strings.Join(chain, " -> ") + ")"
		}
		cur = target
	}
	return "leads through too many links (" + strings.Join(chain, " -> ") + ")"
}

// namesNoFile says, for the installed package in folder pkg, which field
// of its package.json names no file for the subpath sub ("." for the
// package itself, "./x" for "pkg/x"), and where, as esbuild's plugin API
// does not: the "exports" entry and its target, or a "browser", "module"
// or "main" field that names a missing file. "" when it cannot tell.
func (b *Bundler) namesNoFile(pkg, sub string) string {
	pj := filepath.Join(pkg, "package.json")
	data, err := os.ReadFile(pj)
	if err != nil {
		return "it has no package.json (" + b.place(pj, 0) + ")"
	}
	var fields struct {
		Exports json.RawMessage `json:"exports"`
		Browser json.RawMessage `json:"browser"`
		Module  string          `json:"module"`
		Main    string          `json:"main"`
	}
	if json.Unmarshal(data, &fields) != nil {
		return "its package.json does not parse (" + b.place(pj, 0) + ")"
	}
	if len(fields.Exports) > 0 && string(fields.Exports) != "null" {
		return b.exportsProblem(pkg, pj, data, fields.Exports, sub)
	}
	if sub != "." {
		return ""
	}
	var browser string
	_ = json.Unmarshal(fields.Browser, &browser) // an object maps files, not the package's
	for _, f := range []struct{ key, file string }{{"browser", browser}, {"module", fields.Module}, {"main", fields.Main}} {
		if f.file == "" || fileExists(filepath.Join(pkg, filepath.FromSlash(f.file))) {
			continue
		}
		return fmt.Sprintf("its package.json field %q is %q, which is not a file of the package (%s)",
			f.key, f.file, b.place(pj, jsonKeyLine(data, f.key)))
	}
	return ""
}

// browserConditions are the "exports" conditions esbuild matches in a
// build for the browser (require for a require call).
var browserConditions = map[string]bool{"browser": true, "import": true, "require": true, "module": true, "default": true}

// exportsProblem says why the "exports" map exports of the package.json
// pj (data its bytes) of the package in folder pkg names no file for the
// subpath sub: no entry for it, no condition a browser build matches, a
// target that is not a path in the package, or a target that is not a
// file, which, when the target is a key of the map too, is a map whose
// entries point at each other: targets are files, never looked up in the
// map again.
func (b *Bundler) exportsProblem(pkg, pj string, data []byte, exports json.RawMessage, sub string) string {
	entries, ok := orderedObject(exports)
	if !ok || len(entries) == 0 || !strings.HasPrefix(entries[0].key, ".") {
		entries = []keyValue{{".", exports}} // a target, or conditions, for the package itself
	}
	var target json.RawMessage
	star := ""
	for _, e := range entries {
		if e.key == sub {
			target = e.value
			break
		}
		if pre, post, ok := strings.Cut(e.key, "*"); ok && len(sub) >= len(pre)+len(post) &&
			strings.HasPrefix(sub, pre) && strings.HasSuffix(sub, post) {
			target, star = e.value, sub[len(pre):len(sub)-len(post)]
			break
		}
	}
	where := b.place(pj, jsonKeyLine(data, "exports"))
	if target == nil {
		return fmt.Sprintf("its package.json \"exports\" has no entry for %q (%s)", sub, where)
	}
	// Follow the conditions a browser build matches, in the map's order.
	for {
		conds, ok := orderedObject(target)
		if !ok {
			break
		}
		var next json.RawMessage
		var names []string
		for _, c := range conds {
			names = append(names, c.key)
			if browserConditions[c.key] && next == nil {
				next = c.value
			}
		}
		if next == nil {
			return fmt.Sprintf("its package.json \"exports\" maps %q under the conditions %q, none of which a browser build matches (%s)",
				sub, names, where)
		}
		target = next
	}
	var file string
	if json.Unmarshal(target, &file) != nil {
		return fmt.Sprintf("its package.json \"exports\" maps %q to %s, which is no file (%s)", sub, target, where)
	}
	file = strings.ReplaceAll(file, "*", star)
	if line := jsonValueLine(data, file); line > 0 {
		where = b.place(pj, line)
	}
	if !strings.HasPrefix(file, "./") {
		return fmt.Sprintf("its package.json \"exports\" maps %q to %q, which is not a path in the package: targets start with \"./\" (%s)",
			sub, file, where)
	}
	if fi, err := os.Stat(filepath.Join(pkg, filepath.FromSlash(file))); err == nil && fi.Mode().IsRegular() {
		return "" // the file is there: something else failed
	}
	msg := fmt.Sprintf("its package.json \"exports\" maps %q to %q, which is not a file of the package (%s)", sub, file, where)
	for _, e := range entries {
		if e.key == file || e.key+"/" == file || (file == "./" && e.key == ".") {
			return msg + fmt.Sprintf(`; %q is also a key of "exports", but the map's targets are files, never looked up in the map again: `+
				`entries that point at each other name no file`, e.key)
		}
	}
	return msg
}

// keyValue is one member of a JSON object.
type keyValue struct {
	key   string
	value json.RawMessage
}

// orderedObject is the members of the JSON object raw in their order, or
// false when raw is no object.
func orderedObject(raw json.RawMessage) ([]keyValue, bool) {
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	var kvs []keyValue
	for dec.More() {
		t, err := dec.Token()
		key, ok := t.(string)
		if err != nil || !ok {
			return nil, false
		}
		var v json.RawMessage
		if dec.Decode(&v) != nil {
			return nil, false
		}
		kvs = append(kvs, keyValue{key, v})
	}
	return kvs, true
}

// fileExists reports whether p names a file as esbuild would find it from
// a package.json field: as it is, with a .js, .mjs, .cjs or .json
// extension, or as a folder with an index file.
func fileExists(p string) bool {
	for _, c := range []string{p, p + ".js", p + ".mjs", p + ".cjs", p + ".json",
		filepath.Join(p, "index.js"), filepath.Join(p, "index.mjs"), filepath.Join(p, "index.cjs"), filepath.Join(p, "package.json")} {
		if fi, err := os.Stat(c); err == nil && fi.Mode().IsRegular() {
			return true
		}
	}
	return false
}

// place is file:line for a message's text, the file root-relative when
// it is under the root; no line when line is 0.
func (b *Bundler) place(file string, line int) string {
	if rel, ok := b.relInput(file); ok {
		file = rel
	}
	file = filepath.ToSlash(file)
	if line > 0 {
		return fmt.Sprintf("%s:%d", file, line)
	}
	return file
}

// jsonKeyLine is the 1-based line of the first "key": in data, or 0.
func jsonKeyLine(data []byte, key string) int {
	return lineOf(data, `"`+regexp.QuoteMeta(key)+`"\s*:`)
}

// jsonValueLine is the 1-based line of the first member whose value is
// the string s in data, or 0.
func jsonValueLine(data []byte, s string) int {
	q, _ := json.Marshal(s)
	return lineOf(data, `:\s*`+regexp.QuoteMeta(string(q)))
}

// lineOf is the 1-based line where the regular expression expr first
// matches data, or 0.
func lineOf(data []byte, expr string) int {
	loc := regexp.MustCompile(expr).FindIndex(data)
	if loc == nil {
		return 0
	}
	return 1 + strings.Count(string(data[:loc[0]]), "\n")
}
