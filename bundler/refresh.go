package bundler

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"

	"github.com/devserve/devserve/internal/refresh"
	"github.com/evanw/esbuild/pkg/api"
)

// This file is React Fast Refresh in module mode: a component edited
// re-renders in place, keeping its state. Each .jsx and .tsx file of the
// project is compiled by esbuild to plain JS first (types stripped, JSX
// compiled), then internal/refresh adds what react-refresh/babel would
// (component registrations and hook signatures), and the module plugin
// compiles the result as the module. In the browser, React's own
// react-refresh/runtime from the project's node_modules does the rest (for
// Preact, Prefresh's @prefresh/core and @prefresh/utils): the
// page's runtime (client/hmr.js) sets it up before React loads, gives each
// such module its $RefreshReg$ and $RefreshSig$, makes a module whose
// exports are all components accept its own updates, and asks React to
// refresh once an update ran.

// refresher is how the page does Fast Refresh for the project's framework:
// the packages whose modules the page's runtime (client/hmr.js) sets up
// before the entry runs, by the name the runtime knows them by.
type refresher struct {
	name     string   // "react" or "preact", the key of __devserve_start's argument
	packages []string // installed by the project: react-refresh, or Prefresh's two
	install  string   // the command that installs them
}

// refreshers are the frameworks with Fast Refresh, the first whose package
// the root's package.json depends on wins: React's own runtime, and
// Prefresh (@prefresh/core and @prefresh/utils) for Preact, which takes
// the same registrations.
var refreshers = []struct {
	dep string
	refresher
}{
	{"react", refresher{"react", []string{"react-refresh/runtime.js"}, "npm install -D react-refresh"}},
	{"preact", refresher{"preact", []string{"@prefresh/core", "@prefresh/utils"}, "npm install -D @prefresh/core @prefresh/utils"}},
}

// refreshSetup is what setupRefresh found.
type refreshSetup struct {
	refresher
	files   []string // the packages' files, absolute; nil when one is missing
	missing bool     // the framework is there, its Fast Refresh packages are not
}

// setupRefresh decides whether module mode does Fast Refresh: the project
// depends on react (or preact), Options.NoReactRefresh is not set, and the
// framework's Fast Refresh packages are installed (else the first build's
// warnings say what to install).
func (b *Bundler) setupRefresh(opts *Options) {
	if b.graph == nil || opts.NoReactRefresh {
		return
	}
	deps := projectDeps(b.root)
	for _, r := range refreshers {
		if !deps[r.dep] {
			continue
		}
		b.refresh.refresher = r.refresher
		for _, pkg := range r.packages {
			f := packageFile(b.root, pkg)
			if f == "" {
				b.refresh.files, b.refresh.missing = nil, true
				return
			}
			b.refresh.files = append(b.refresh.files, f)
		}
		return
	}
}

// packageFile finds pkg ("name" or "name/file.js") in the node_modules
// folders above root, as Node does, and returns the file it names (for a
// bare name, its package.json's import entry), symlinks resolved; "" when
// it is not installed.
func packageFile(root, pkg string) string {
	for d := root; ; d = filepath.Dir(d) {
		p := filepath.Join(d, "node_modules", filepath.FromSlash(pkg))
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			var meta struct {
				Exports map[string]any `json:"exports"`
				Module  string         `json:"module"`
				Main    string         `json:"main"`
			}
			data, _ := os.ReadFile(filepath.Join(p, "package.json"))
			_ = json.Unmarshal(data, &meta)
			entry := meta.Module
			if dot, ok := meta.Exports["."].(map[string]any); ok {
				if imp, ok := dot["import"].(string); ok {
					entry = imp
				}
			}
			if entry == "" {
				entry = meta.Main
			}
			p = filepath.Join(p, filepath.FromSlash(entry))
		}
		if real, err := filepath.EvalSymlinks(p); err == nil {
			if fi, err := os.Stat(real); err == nil && fi.Mode().IsRegular() {
				return real
			}
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

// refreshMissingText is the warning of a project whose framework has Fast
// Refresh but whose packages for it are not installed.
func (r refreshSetup) missingText() string {
	if r.name == "preact" {
		return "Preact's Fast Refresh (Prefresh) needs @prefresh/core and @prefresh/utils: " + r.install +
			" (until then an edit of a component reloads the page)"
	}
	return "React Fast Refresh needs the react-refresh package: " + r.install +
		" (until then an edit of a component reloads the page)"
}

// startArg is the second argument of __devserve_start, the framework and
// the ids of its Fast Refresh modules ({"react": [id]}), and those ids;
// "" and nil without Fast Refresh.
func (r refreshSetup) startArg(depURL func(string) string) (string, []string) {
	if r.files == nil {
		return "", nil
	}
	ids := make([]string, len(r.files))
	for i, f := range r.files {
		ids[i] = depURL(f)
	}
	arg, _ := json.Marshal(map[string][]string{r.name: ids})
	return string(arg), ids
}

// refreshExts are the files whose modules may get Fast Refresh: .jsx and
// .tsx always, .js and .ts when they call hooks (a custom hook needs its
// signature too, or adding a hook to it would keep state it must reset).
var refreshExts = map[string]bool{".jsx": true, ".tsx": true, ".js": true, ".ts": true, ".mjs": true, ".mts": true}

// callsHook reports whether a .js or .ts file may call a hook: a name
// that starts with "use" and then a capital, a digit, _ or $, after no
// ASCII letter, digit or _ (the regular expression \buse[A-Z0-9_$], which
// stepped through a file without hooks at 60 MB/s, 0.3 ms for 20 KB, on
// every compile of every such file).
func callsHook(src []byte) bool {
	for i := 0; ; i++ {
		j := bytes.Index(src[i:], []byte("use"))
		if j < 0 {
			return false
		}
		i += j
		if (i == 0 || !wordByte(src[i-1])) && i+3 < len(src) && hookNext(src[i+3]) {
			return true
		}
	}
}

// wordByte reports whether c is an ASCII letter, digit or _.
func wordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// hookNext reports whether c may follow "use" in a hook's name.
func hookNext(c byte) bool {
	return c == '_' || c == '$' || '0' <= c && c <= '9' || 'A' <= c && c <= 'Z'
}

// refreshes reports whether the module of absolute file p may get Fast
// Refresh: a file of the project with one of refreshExts.
func (b *Bundler) refreshes(p string) bool {
	return b.refresh.files != nil && refreshExts[strings.ToLower(filepath.Ext(p))] && (!b.inPackage(p) || b.linked(p))
}

// inlineMapComment returns the last line of code, with its newline if it
// has one, if it is the comment of an inline source map, as esbuild's
// Transform ends its output; else nil. It looks only at that line: a
// regular expression that found it cost an app's component edit an eighth
// of its compile, stepping through the map's base64.
func inlineMapComment(code []byte) []byte {
	last := bytes.LastIndexByte(bytes.TrimSuffix(code, []byte("\n")), '\n') + 1
	if !bytes.HasPrefix(code[last:], []byte("//# sourceMappingURL=data:")) {
		return nil
	}
	return code[last:]
}

// refreshLoad loads the .jsx or .tsx file at p for its module with Fast
// Refresh: esbuild's Transform makes it plain JS, with an inline source
// map that esbuild chains, and refresh.Transform adds the registrations.
// A file that refresh.Transform cannot follow is loaded as it is: its
// edits reload the page. What Prepare did for the same bytes is taken
// instead of doing it again.
func (b *Bundler) refreshLoad(p string) (api.OnLoadResult, bool) {
	src, err := os.ReadFile(p)
	if err != nil {
		return api.OnLoadResult{}, false
	}
	src, errs := b.loadGlobs(p, src)
	if errs != nil {
		return api.OnLoadResult{Errors: errs}, true
	}
	if !mayRefresh(p, src) {
		return api.OnLoadResult{}, false
	}
	tsconfig := b.tsconfigRaw(filepath.Dir(p))
	if res, ok := b.prepared.take(p, src, tsconfig); ok {
		return res, true
	}
	return b.refreshTransform(p, src, tsconfig)
}

// mayRefresh reports whether src, the source of the file at p, may hold a
// component or a hook: any .jsx or .tsx file, a .js or .ts file that calls
// a hook.
func mayRefresh(p string, src []byte) bool {
	loader := jsLoaders[strings.ToLower(filepath.Ext(p))]
	return loader != api.LoaderJS && loader != api.LoaderTS || callsHook(src)
}

// refreshTransform is refreshLoad's work on src, the source of the file
// at p, with tsconfig the text of its tsconfig.json.
func (b *Bundler) refreshTransform(p string, src []byte, tsconfig string) (api.OnLoadResult, bool) {
	tr := api.Transform(string(src), api.TransformOptions{
		Loader:          jsLoaders[strings.ToLower(filepath.Ext(p))],
		Sourcefile:      p,
		Sourcemap:       api.SourceMapInline,
		SourcesContent:  api.SourcesContentInclude,
		Target:          api.ESNext, // the module's build lowers it: lowering first could change hook keys
		JSX:             b.base.JSX,
		JSXFactory:      b.base.JSXFactory,
		JSXFragment:     b.base.JSXFragment,
		JSXImportSource: b.base.JSXImportSource,
		JSXDev:          b.base.JSXDev,
		TsconfigRaw:     tsconfig,
		LogLevel:        api.LogLevelSilent,
	})
	if len(tr.Errors) > 0 {
		// The module's own compile reports them, at the source's lines.
		return api.OnLoadResult{}, false
	}
	code := tr.Code
	mapComment := inlineMapComment(code)
	code = code[:len(code)-len(mapComment)]
	rel, _ := b.relInput(p)
	out, _, err := refresh.Transform(code, refresh.Options{ID: "/" + rel, ForceReset: refresh.WantsReset(src)})
	if err != nil {
		b.log.Debug("bundler: no Fast Refresh for a module", "file", rel, "err", err)
		return api.OnLoadResult{}, false
	}
	contents := string(out)
	if !strings.HasSuffix(contents, "\n") {
		contents += "\n"
	}
	contents += string(mapComment)
	return api.OnLoadResult{Contents: &contents, Loader: api.LoaderJS, ResolveDir: filepath.Dir(p)}, true
}

// tsconfigRaw is Options.Tsconfig (or the app's, see appTsconfig), else the
// nearest tsconfig.json above dir (within the root), as
// esbuild's Transform takes it: the file's text, for the compiler options
// that change how TypeScript and JSX compile. Its "extends" is not
// followed.
func (b *Bundler) tsconfigRaw(dir string) string {
	if b.base.Tsconfig != "" {
		data, _ := os.ReadFile(b.base.Tsconfig)
		return string(jsonc(data))
	}
	for d := dir; ; d = filepath.Dir(d) {
		if data, err := os.ReadFile(filepath.Join(d, "tsconfig.json")); err == nil {
			return string(data)
		}
		if d == b.root || filepath.Dir(d) == d {
			return ""
		}
	}
}
