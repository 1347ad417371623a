package bundler

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/devserve/devserve/internal/protocol"
	"github.com/evanw/esbuild/pkg/api"
)

// outDirName is the folder under Root that esbuild is told to write to.
// Nothing is ever written there (Write is false); it only fixes the layout of
// output paths, which mirror Root so that relative url()s keep working and
// source maps' relative "sources" resolve to the sources' own URLs.
const outDirName = "__devserve_out__"

// jsEntryExts and cssEntryExts are the extensions an entry may have.
var (
	jsEntryExts  = map[string]bool{".js": true, ".mjs": true, ".jsx": true, ".ts": true, ".tsx": true}
	cssEntryExts = map[string]bool{".css": true, ".scss": true, ".sass": true}
)

// entryKind reports what an entry with this name bundles into.
func entryKind(name string) (Kind, bool) {
	ext := path.Ext(name)
	switch {
	case jsEntryExts[ext]:
		return JS, true
	case cssEntryExts[ext]:
		return CSS, true
	}
	return "", false
}

// loaderNames maps the loader names accepted in Options.Loader (esbuild's own
// spelling) to esbuild's constants.
var loaderNames = map[string]api.Loader{
	"base64":     api.LoaderBase64,
	"binary":     api.LoaderBinary,
	"copy":       api.LoaderCopy,
	"css":        api.LoaderCSS,
	"dataurl":    api.LoaderDataURL,
	"default":    api.LoaderDefault,
	"empty":      api.LoaderEmpty,
	"file":       api.LoaderFile,
	"global-css": api.LoaderGlobalCSS,
	"js":         api.LoaderJS,
	"json":       api.LoaderJSON,
	"jsx":        api.LoaderJSX,
	"local-css":  api.LoaderLocalCSS,
	"text":       api.LoaderText,
	"ts":         api.LoaderTS,
	"tsx":        api.LoaderTSX,
}

// defaultAssetExts get the "file" loader unless Options.Loader says
// otherwise. esbuild has no loader for them by default, so a CSS url() to a
// font or an image would be a build error; a dev server should just serve
// them (Vite does the same).
var defaultAssetExts = []string{
	".apng", ".avif", ".bmp", ".gif", ".ico", ".jpeg", ".jpg", ".png", ".svg", ".webp",
	".eot", ".otf", ".ttf", ".woff", ".woff2",
	".mp3", ".mp4", ".ogg", ".wav", ".webm",
	".pdf", ".wasm",
}

// targetNames maps the language targets accepted in Options.Target.
var targetNames = map[string]api.Target{
	"esnext": api.ESNext,
	"es5":    api.ES5,
	"es6":    api.ES2015,
	"es2015": api.ES2015,
	"es2016": api.ES2016,
	"es2017": api.ES2017,
	"es2018": api.ES2018,
	"es2019": api.ES2019,
	"es2020": api.ES2020,
	"es2021": api.ES2021,
	"es2022": api.ES2022,
	"es2023": api.ES2023,
	"es2024": api.ES2024,
	"es2025": api.ES2025,
}

// engineNames maps the engine prefixes accepted in Options.Target
// ("chrome100", "safari15.4").
var engineNames = map[string]api.EngineName{
	"chrome":  api.EngineChrome,
	"deno":    api.EngineDeno,
	"edge":    api.EngineEdge,
	"firefox": api.EngineFirefox,
	"hermes":  api.EngineHermes,
	"ie":      api.EngineIE,
	"ios":     api.EngineIOS,
	"node":    api.EngineNode,
	"opera":   api.EngineOpera,
	"rhino":   api.EngineRhino,
	"safari":  api.EngineSafari,
}

// parseTarget reads a comma-separated target list the way esbuild's CLI does:
// at most one language version ("es2020") plus any engines ("chrome100").
func parseTarget(s string) (api.Target, []api.Engine, error) {
	target := api.ESNext
	var engines []api.Engine
	if strings.TrimSpace(s) == "" {
		return target, nil, nil
	}
	for _, part := range strings.Split(s, ",") {
		part = strings.ToLower(strings.TrimSpace(part))
		if t, ok := targetNames[part]; ok {
			target = t
			continue
		}
		i := strings.IndexAny(part, "0123456789")
		if i <= 0 {
			return 0, nil, fmt.Errorf("unknown target %q", part)
		}
		name, ok := engineNames[part[:i]]
		if !ok {
			return 0, nil, fmt.Errorf("unknown target %q", part)
		}
		engines = append(engines, api.Engine{Name: name, Version: part[i:]})
	}
	return target, engines, nil
}

// bundledMark is the banner of Options.MarkBundled.
const bundledMark = "globalThis." + protocol.Bundled + " = true;"

// esbuildOptions turns validated Options into the esbuild options every
// context shares; each context then adds its one entry point.
func esbuildOptions(root, outdir string, o *Options) (api.BuildOptions, error) {
	bo := api.BuildOptions{
		LogLevel:      api.LogLevelSilent,
		AbsPaths:      api.LogAbsPath | api.MetafileAbsPath,
		Bundle:        true,
		Metafile:      true,
		Write:         false,
		Format:        api.FormatESModule,
		Platform:      api.PlatformBrowser,
		AbsWorkingDir: root,
		Outbase:       root,
		Outdir:        outdir,
		EntryNames:    "[dir]/[name]",
		AssetNames:    "[dir]/[name]-[hash]",
		Define:        maps.Clone(o.Define), // the caller may reuse its map
		JSXFactory:    o.JSXFactory,
		JSXFragment:   o.JSXFragment,

		MinifyWhitespace:  o.Minify,
		MinifyIdentifiers: o.Minify,
		MinifySyntax:      o.Minify,

		// Contexts that set their own plugins must keep these.
		Plugins: []api.Plugin{publicPlugin(root, o.Base)},
	}

	if o.MarkBundled && !o.Modules {
		bo.Banner = map[string]string{"js": bundledMark}
	}

	if _, ok := bo.Define["import.meta.hot"]; !ok && !o.Modules {
		// Only module mode has hot updates: elsewhere the API is absent,
		// and `if (import.meta.hot)` blocks are dropped as dead code.
		if bo.Define == nil {
			bo.Define = map[string]string{}
		}
		bo.Define["import.meta.hot"] = "undefined"
	}

	switch o.Sourcemap {
	case "", "linked":
		bo.Sourcemap = api.SourceMapLinked
	case "inline":
		bo.Sourcemap = api.SourceMapInline
	case "external":
		bo.Sourcemap = api.SourceMapExternal
	case "none":
		bo.Sourcemap = api.SourceMapNone
	default:
		return bo, fmt.Errorf("sourcemap %q: want linked, inline, external or none", o.Sourcemap)
	}

	jsx, source := o.JSX, o.JSXImportSource
	if jsx == "" && o.JSXFactory == "" {
		jsx, source = projectJSX(root, source)
	}
	bo.JSXImportSource = source
	// In module mode (the dev server) JSX carries its source location.
	bo.JSXDev = o.Modules && jsx == "automatic"
	switch jsx {
	case "", "transform":
		bo.JSX = api.JSXTransform
	case "automatic":
		bo.JSX = api.JSXAutomatic
	case "preserve":
		bo.JSX = api.JSXPreserve
	default:
		return bo, fmt.Errorf("jsx %q: want transform, automatic or preserve", o.JSX)
	}

	target, engines, err := parseTarget(o.Target)
	if err != nil {
		return bo, err
	}
	bo.Target, bo.Engines = target, engines

	bo.Loader = make(map[string]api.Loader, len(defaultAssetExts)+len(o.Loader))
	for _, ext := range defaultAssetExts {
		bo.Loader[ext] = api.LoaderFile
	}
	for ext, name := range o.Loader {
		if !strings.HasPrefix(ext, ".") || len(ext) < 2 {
			return bo, fmt.Errorf("loader for %q: extension must start with a dot", ext)
		}
		l, ok := loaderNames[name]
		if !ok {
			return bo, fmt.Errorf("loader for %q: unknown loader %q", ext, name)
		}
		bo.Loader[ext] = l
	}

	if o.Tsconfig != "" {
		ts := o.Tsconfig
		if !filepath.IsAbs(ts) {
			ts = filepath.Join(root, filepath.FromSlash(ts))
		}
		if _, err := os.Stat(ts); err != nil {
			return bo, fmt.Errorf("tsconfig: %w", err)
		}
		bo.Tsconfig = ts
	} else if ts := appTsconfig(root); ts != "" {
		bo.Tsconfig = ts // see tsconfig.go
	}
	return bo, nil
}

// projectJSX is the JSX mode and import source for a project that sets
// neither: the automatic runtime of React or Preact when the root's
// package.json depends on it (tsconfig's jsx and jsxImportSource still win
// for the files under it), else esbuild's transform to React.createElement.
func projectJSX(root, source string) (string, string) {
	switch deps := projectDeps(root); {
	case deps["react"]:
		return "automatic", source
	case deps["preact"]:
		if source == "" {
			source = "preact"
		}
		return "automatic", source
	}
	return "", source
}

// projectDeps are the packages the root's package.json depends on, for
// the browser or for its build (dependencies and devDependencies).
func projectDeps(root string) map[string]bool {
	data, err := os.ReadFile(filepath.Join(root, "package.json"))
	if err != nil {
		return nil
	}
	var pkg struct {
		Deps    map[string]string `json:"dependencies"`
		DevDeps map[string]string `json:"devDependencies"`
	}
	if json.Unmarshal(data, &pkg) != nil {
		return nil
	}
	deps := map[string]bool{}
	for name := range pkg.Deps {
		deps[name] = true
	}
	for name := range pkg.DevDeps {
		deps[name] = true
	}
	return deps
}
