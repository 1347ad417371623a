package bundler

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

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
	m := &module{id: id, dep: true, stub: true, deps: map[string]string{}}
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
	"__toCommonJS": `var __toCommonJS = (mod) => __copyProps(__defProp(__defProp({}, "__esModule", { value: true }), "__devserve_esm", { value: true }), mod);` + "\n",
	"__toESM": `var __toESM = (mod, isNodeMode, target) => (target = mod != null ? __create(__getProtoOf(mod)) : {}, __copyProps(
  (isNodeMode && !(mod && mod.__devserve_esm)) || !mod || !mod.__esModule ? __defProp(target, "default", { value: mod, enumerable: true }) : target,
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
// that exists for it. "" for other specifiers.
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
		if fi, err := os.Stat(pkg); err == nil && fi.IsDir() {
			if rel, ok := b.relInput(pkg); ok {
				pkg = rel
			}
			return fmt.Sprintf("Could not resolve %q: the package %q is installed in %s but names no file for it "+
				"(check its package.json \"exports\", \"module\" and \"main\", or reinstall it)", spec, name, pkg)
		}
		if filepath.Dir(d) == d {
			return fmt.Sprintf("Could not resolve %q: the package %q is not installed (npm install %s)", spec, name, name)
		}
	}
}
