package bundler

import (
	"os"
	"path/filepath"
	"regexp"
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
// react-refresh/runtime from the project's node_modules does the rest: the
// page's runtime (client/hmr.js) sets it up before React loads, gives each
// such module its $RefreshReg$ and $RefreshSig$, makes a module whose
// exports are all components accept its own updates, and asks React to
// refresh once an update ran.

// refreshRuntimeSpec is the module that does Fast Refresh in the browser.
const refreshRuntimeSpec = "react-refresh/runtime"

// refreshMissingText is the warning of a React project without
// react-refresh installed.
const refreshMissingText = "React Fast Refresh needs the react-refresh package: npm install -D react-refresh " +
	"(until then an edit of a component reloads the page)"

// setupRefresh decides whether module mode does Fast Refresh: the project
// depends on react, Options.NoReactRefresh is not set, and react-refresh
// is installed (else refreshMissing says so in the first build's warnings).
func (b *Bundler) setupRefresh(opts *Options) {
	if b.graph == nil || opts.NoReactRefresh || !projectDeps(b.root)["react"] {
		return
	}
	for d := b.root; ; d = filepath.Dir(d) {
		p := filepath.Join(d, "node_modules", "react-refresh", "runtime.js")
		if real, err := filepath.EvalSymlinks(p); err == nil {
			b.refreshFile = real
			return
		}
		if filepath.Dir(d) == d {
			b.refreshMissing = true
			return
		}
	}
}

// refreshExts are the files whose modules may get Fast Refresh: .jsx and
// .tsx always, .js and .ts when they call hooks (a custom hook needs its
// signature too, or adding a hook to it would keep state it must reset).
var refreshExts = map[string]bool{".jsx": true, ".tsx": true, ".js": true, ".ts": true, ".mjs": true, ".mts": true}

// hookCall matches what may be the call of a hook in a .js or .ts file.
var hookCall = regexp.MustCompile(`\buse[A-Z0-9_$]`)

// refreshes reports whether the module of absolute file p may get Fast
// Refresh: a file of the project with one of refreshExts.
func (b *Bundler) refreshes(p string) bool {
	return b.refreshFile != "" && refreshExts[strings.ToLower(filepath.Ext(p))] && !b.inPackage(p)
}

// sourceMapComment matches the inline source map esbuild's Transform ends
// its output with.
var sourceMapComment = regexp.MustCompile(`(?m)^//# sourceMappingURL=data:[^\n]*\n?\z`)

// refreshLoad loads the .jsx or .tsx file at p for its module with Fast
// Refresh: esbuild's Transform makes it plain JS, with an inline source
// map that esbuild chains, and refresh.Transform adds the registrations.
// A file that refresh.Transform cannot follow is loaded as it is: its
// edits reload the page.
func (b *Bundler) refreshLoad(p string) (api.OnLoadResult, bool) {
	src, err := os.ReadFile(p)
	if err != nil {
		return api.OnLoadResult{}, false
	}
	loader := map[string]api.Loader{".jsx": api.LoaderJSX, ".tsx": api.LoaderTSX, ".ts": api.LoaderTS, ".mts": api.LoaderTS,
		".js": api.LoaderJS, ".mjs": api.LoaderJS}[strings.ToLower(filepath.Ext(p))]
	if (loader == api.LoaderJS || loader == api.LoaderTS) && !hookCall.Match(src) {
		return api.OnLoadResult{}, false // no component or hook here
	}
	tr := api.Transform(string(src), api.TransformOptions{
		Loader:          loader,
		Sourcefile:      p,
		Sourcemap:       api.SourceMapInline,
		SourcesContent:  api.SourcesContentInclude,
		Target:          api.ESNext, // the module's build lowers it: lowering first could change hook keys
		JSX:             b.base.JSX,
		JSXFactory:      b.base.JSXFactory,
		JSXFragment:     b.base.JSXFragment,
		JSXImportSource: b.base.JSXImportSource,
		JSXDev:          b.base.JSXDev,
		TsconfigRaw:     b.tsconfigRaw(filepath.Dir(p)),
		LogLevel:        api.LogLevelSilent,
	})
	if len(tr.Errors) > 0 {
		// The module's own compile reports them, at the source's lines.
		return api.OnLoadResult{}, false
	}
	code := tr.Code
	mapComment := sourceMapComment.Find(code)
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
