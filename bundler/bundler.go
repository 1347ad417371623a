// Package bundler builds a web project's entry points with esbuild into
// memory and answers requests for what it built, rebuilding incrementally as
// files change.
//
// # Entries
//
// Entries are the JavaScript/TypeScript (.js .mjs .jsx .ts .tsx) and CSS
// files a page loads. They are given in Options.Entries or, when that is
// empty, discovered from the HTML pages under Root: every
// <script type="module" src> and <link rel="stylesheet" href> with a local
// URL naming an existing file of an entry type. Classic (non-module) scripts
// are not entries.
//
// # Contexts
//
// Every entry gets its own esbuild context (api.BuildContext), and a Build
// rebuilds only the contexts whose last inputs include a changed file (plus
// those whose last build failed). One context per entry means a CSS edit
// costs only a CSS rebuild (milliseconds, however big the JS), an edit to one
// page's code does not relink the other pages, and an error in one entry leaves every other
// entry building and served. The price is that a module shared by several JS
// entries is parsed once per entry that imports it; esbuild caches parses per
// context, and contexts rebuild in parallel.
//
// # URLs
//
// Outputs live in memory and are served at URLs that mirror Root, so a page
// keeps the URLs it was written with:
//
//   - a JS entry is served at its own URL: "/src/main.ts" answers the bundled
//     JavaScript, its source map is "/src/main.ts.map", and the bundle's
//     sourceMappingURL comment is rewritten to point there;
//   - a CSS entry likewise: "/styles/app.css" and "/styles/app.css.map";
//   - CSS imported by a JS entry (esbuild's CSS bundle beside the JS) is
//     served at the entry's URL with its extension replaced by ".css":
//     "/src/main.css" for "/src/main.ts". Nothing links it automatically;
//     CSSFor tells a server which stylesheet to add to the page;
//   - files referenced with the "file" loader (fonts and images in url(),
//     imported assets) keep their folder and get a content hash:
//     "/img/logo-ABCD1234.svg". CSS refers to them by relative URL, which
//     resolves because the layout mirrors Root; JS refers to them by absolute
//     URL ("/img/logo-ABCD1234.svg"), because a string in JS is resolved
//     against the page, not the script.
//
// Image, font, audio, video, PDF and wasm files get the "file" loader by
// default (esbuild has no loader for them); Options.Loader overrides it.
//
// # Modules
//
// With Options.Modules (what the dev server uses by default), JS is not
// bundled: every module is compiled alone, for hot module replacement.
// esbuild compiles each source module to CommonJS-shaped code with every
// import left external, and the bundler wraps it as a factory registered
// under the module's id, the URL path of its source ("/src/b.ts"):
//
//	__devserve_define("/src/b.ts", {"./c": "/src/c.ts"}, function (require, module, exports, __devserve_meta) { ... })
//
// A JS entry is served at its URL as one script: the registrations of every
// module it reaches, then __devserve_start of the entry, with an index
// source map (one section per module) at its URL + ".map"; past chunkSize
// (256) modules, as a script that imports chunks of them, each at a URL
// under ChunkPrefix that names its content (Output.Immutable). The
// runtime, client/hmr.js at HMRPath, runs the factories. A Build compiles only the
// modules whose file (or a file inlined into them: JSON, text) changed and
// reports them in Result.Modules, each with the URL under ModulePrefix of its
// update script, which registers its new code. Packages from node_modules
// are compiled one module per file too (under DepsPrefix; see packages.go);
// CSS imported from JS becomes a module that links the CSS file, built as a
// CSS entry; JSON, text and assets are modules whose exports are the data
// or the asset's URL (the asset served as with bundles); a CSS module
// (*.module.css) and a file imported with ?raw, ?url or ?inline are inlined
// into their importer. import.meta is the
// factory's last argument ({url, hot}); outside module mode import.meta.hot
// is defined as undefined, so `if (import.meta.hot)` blocks are dropped.
//
// # Environment
//
// import.meta.env is Vite's: the mode (Options.Mode), DEV and PROD
// (Options.Production), BASE_URL, SSR, and the variables whose name starts
// with VITE_ or DEVSERVE_ from Options.Environ and the env files of the
// mode under Root (see LoadEnv). Its values are esbuild define entries, in
// module mode as bundled, so no other variable is ever in the output. A
// change of an env file that changes them rebuilds everything and sets
// Result.EnvChanged; a line that does not parse is an error of every
// build until it is fixed, and the last good values stay.
//
// # public/
//
// Files under Root/public (PublicDir) are served by the dev server at "/"
// as they are, Vite's convention. They are no sources: their pages are not
// searched for entries, a change to them is no page or config change, and
// an absolute URL to one (url("/moon.svg") in CSS, import "/moon.svg" in
// JS) is kept as written instead of being read from the file system's
// root. WriteSite copies them to the root of the output folder.
//
// # Files on disk
//
// WriteTo writes the outputs for a production build. There, entries get
// esbuild's real output names ("src/main.ts" becomes "src/main.js", with
// "src/main.js.map"); everything else is written at its URL path. OutputFor
// and CSSFor give those names so HTML can be rewritten to match. Only the
// extension ever changes: folder and base name are the entry's own.
package bundler

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/devserve/devserve/internal/protocol"
	"github.com/evanw/esbuild/pkg/api"
)

// Options configures a Bundler. Only Root is required. The fields of its
// own say where the project is and what the bundler is for (a dev server's
// module mode, a production build); BuildOptions, the settings of how the
// project's code is built, is what a dev server passes through as its user
// gave them (hmr.Options.Build).
type Options struct {
	// Root is the project folder; every path the bundler takes or gives is
	// relative to it, and it is served at "/" (at Base in the browser).
	Root string
	// Base is the URL path the browser reaches Root at, for an app served
	// under a path ("/app/") behind a reverse proxy: every URL the bundler
	// writes for the browser starts with it, and import.meta.env.BASE_URL
	// is it. It is normalized as NormalizeBase says ("app" is "/app/");
	// "" means "/". Paths, ids and Lookup stay root-relative. See base.go.
	Base string
	// Logger receives debug logs of builds; nil is silent.
	Logger *slog.Logger
	// Modules is module mode, for hot module replacement: every module is
	// compiled alone into a factory registered in the runtime at HMRPath,
	// an entry's script holds the factories of what it reaches, and a
	// build reports the modules that changed. See "Modules" in the package
	// documentation, LookupURL and Result.Modules. CSS entries are built
	// as without it.
	Modules bool
	// MarkBundled, outside module mode, starts each JS bundle with a
	// statement that sets globalThis.__devserve_bundled: the client of a
	// page running it knows that the page holds every module bundled, with
	// none to replace, and reloads on any JS update, module mode's too. A
	// dev server sets it for the bundles it serves while module mode
	// compiles (hmr.Options.BundleFirst).
	MarkBundled bool
	// MapsOnRequest, outside module mode and with linked source maps (the
	// default), builds the bundles without their maps and ends each
	// script and stylesheet with the comment that names its map, as
	// esbuild would. The map is made when Lookup is asked for it: esbuild
	// builds the entry again with its map, and the map is served only if
	// that build's output is, byte for byte, the one served; else the map
	// is not found. A map costs a quarter to a third of a bundle with
	// packages in it (testdata/apps/react-ts: 54 ms without, 79 ms with),
	// and a page needs one only to show where its code threw, or in
	// DevTools. A dev server sets it for the bundles of a cold start's
	// first pages (hmr.Options.BundleFirst), which wait for the bundle.
	MapsOnRequest bool
	// KeepBundle, outside module mode and with BuildOptions.CacheDir,
	// makes New look there for the bundles that an earlier Bundler's Keep
	// wrote, and the first Build serve them instead of bundling, when
	// nothing they were built from changed since: no input, no
	// package.json, tsconfig or lockfile, no file added or removed beside
	// them, no option (KeptBundle says whether New found them so). A dev
	// server sets it for the bundles of its first pages
	// (hmr.Options.BundleFirst), so that a restart serves them at once.
	// See keep.go.
	KeepBundle bool
	// Production marks a production build (`devserve build`), as `vite
	// build` is one: import.meta.env.PROD is true and DEV false unless
	// NODE_ENV says otherwise, whatever the Mode.
	Production bool
	// CSSSyntaxErrors makes errors of the CSS syntax problems that esbuild
	// only warns about, recovering as a browser does (which drops the rule
	// or declaration): an unbalanced brace or bracket, an unexpected or
	// missing token, an unterminated string or url(), a // comment. See
	// cssSyntaxProblem for which. Only the project's own files count, not
	// those of node_modules. An entry with such an error keeps its last
	// good outputs, or, before it has any, serves what esbuild made. The
	// dev server sets it, so that broken CSS shows over the page as broken
	// JS does; a production build keeps esbuild's warnings.
	CSSSyntaxErrors bool

	BuildOptions
}

// BuildOptions are the settings of how a project's code is built: its
// entries, esbuild's options, import.meta.env. The zero value builds the
// scripts and stylesheets the HTML pages name for esnext, with linked
// source maps and the development env.
type BuildOptions struct {
	// Entries are slash-separated paths relative to Root of .js .mjs .jsx .ts
	// .tsx and .css files. Empty: discovered from Root's HTML pages, and
	// rediscovered when a page changes.
	Entries []string
	// Define replaces global identifiers with expressions (esbuild's define).
	Define map[string]string
	// Loader maps an extension (".svg") to an esbuild loader name ("file",
	// "text", "dataurl", ...), overriding the defaults.
	Loader map[string]string
	// JSX is the JSX mode: "transform", "automatic", "preserve", or ""
	// for "automatic" when the root's package.json depends on react or
	// preact (with "preact" as the import source when only preact is
	// there), as the React and Preact plugins of Vite do, else "transform".
	JSX string
	// JSXFactory, JSXFragment and JSXImportSource are esbuild's JSX options
	// of the same names. As in esbuild, a tsconfig that sets jsx,
	// jsxFactory, jsxFragmentFactory or jsxImportSource wins for the files
	// it covers.
	JSXFactory, JSXFragment, JSXImportSource string
	// Tsconfig is the path to a tsconfig file, relative to Root or absolute;
	// "" lets esbuild find the nearest one.
	Tsconfig string
	// Target is esbuild's target list, e.g. "es2020" or "es2020,safari15";
	// "" means esnext.
	Target string
	// Sourcemap is "" or "linked" (the default), "inline", "external" or
	// "none".
	Sourcemap string
	// Minify minifies whitespace, identifiers and syntax, for production
	// builds.
	Minify bool
	// NoReactRefresh turns off React Fast Refresh, which module mode does
	// by default when the root's package.json depends on react and the
	// react-refresh package is installed: an edit of a component (.jsx,
	// .tsx) re-renders it in place with its state. See refresh.go.
	NoReactRefresh bool
	// Mode is import.meta.env.MODE, and picks the env files read besides
	// .env and .env.local: .env.[mode] and .env.[mode].local. "" means
	// DefaultMode ("development"); `devserve build` passes "production".
	// See LoadEnv.
	Mode string
	// Environ returns the process environment (KEY=value), read once by
	// New: import.meta.env takes its VITE_ and DEVSERVE_ variables, which
	// win over the env files', and env files may refer to any of it. nil
	// means os.Environ; tests pass their own.
	Environ func() []string
	// CacheDir is where module mode keeps the modules it compiled, for
	// the next Bundler on the same project to read instead of compiling
	// them again (a restart costs a fraction of a cold start), and where
	// a bundled Bundler keeps its bundles (Keep). "" or NoCache: no
	// cache. DefaultCacheDir is where a dev server keeps it;
	// hmr.New sets that. A folder that cannot be written to turns the
	// cache off with a warning; entries are keyed and checked so that a
	// cached module is always what a compile would make now. See cache.go.
	CacheDir string
}

// Kind says what an Output is, so a client knows how to apply an update.
type Kind string

// The kinds of output.
const (
	// JS is the bundle of a JavaScript/TypeScript entry.
	JS Kind = protocol.UpdateJS
	// CSS is the bundle of a CSS entry, or the CSS a JS entry imports.
	CSS Kind = protocol.UpdateCSS
	// Asset is a file emitted by the "file" or "copy" loader (fonts, images).
	Asset Kind = protocol.UpdateAsset
	// Map is a source map.
	Map Kind = "map"
)

// Output is one built file. Outputs are shared and must not be modified.
type Output struct {
	// Path is the URL path it is served at, starting with "/".
	Path string
	// Kind is what it is.
	Kind Kind
	// Hash is a hex hash of Contents, usable as an ETag.
	Hash string
	// ContentType is the Content-Type to serve it with.
	ContentType string
	// Contents are the bytes.
	Contents []byte
	// Immutable says that the URL it was looked up at names these bytes
	// for good (a chunk's URL carries its hash): it may be cached forever.
	Immutable bool
}

// Message is an error or warning, esbuild's api.Message flattened to what a
// terminal or an error overlay shows.
type Message struct {
	// Text is the message.
	Text string `json:"text"`
	// File is the slash path relative to Root of the file it is about, ""
	// when none (an absolute path for a file outside Root).
	File string `json:"file"`
	// Line is 1-based; 0 when there is no location.
	Line int `json:"line"`
	// Column is esbuild's: 0-based, counted in bytes.
	Column int `json:"column"`
	// LineText is the text of the line.
	LineText string `json:"lineText"`
	// Suggestion is esbuild's suggested replacement, if any.
	Suggestion string `json:"suggestion"`
}

// Result is what a Build did and what is served after it.
type Result struct {
	// ID is a short hex hash of every served output's path and hash: the
	// same outputs give the same ID.
	ID string
	// Duration is how long Build took, not counting the wait for an
	// earlier Build to finish.
	Duration time.Duration
	// Inputs are the root-relative slash paths of every input of the last
	// good build of each entry, sorted. Results may share them: they must
	// not be modified.
	Inputs []string
	// Outputs are every output now served, sorted by Path. After a failure
	// an entry that failed keeps its last good outputs.
	Outputs []*Output
	// Changed are the outputs that are new or whose contents differ from
	// the previous successful Build's: empty (not nil) when nothing changed,
	// nil when this build failed. After a failure, the next successful build
	// reports everything changed since the last successful one.
	Changed []*Output
	// Modules are the modules whose code changed, in module mode
	// (Options.Modules); nil when the build failed or outside module mode.
	Modules []ModuleUpdate
	// EnvChanged says that import.meta.env changed (an env file was
	// edited) since the last successful build; only a successful build
	// says so. Pages should reload, as Vite restarts on such an edit.
	EnvChanged bool
	// Errors are the current errors of every entry; never nil.
	Errors []Message
	// Warnings are the current warnings of every entry; never nil.
	Warnings []Message
}

// OK reports whether the build had no errors.
func (r *Result) OK() bool { return len(r.Errors) == 0 }

// Bundler builds a project's entries with esbuild and holds the outputs in
// memory. Its methods are safe for concurrent use; builds run one at a time.
type Bundler struct {
	root     string // absolute, symlinks resolved
	strict   bool   // Options.CSSSyntaxErrors
	rootAs   string // absolute, as given (differs from root behind a symlink)
	outdir   string // never exists; see outDirName
	tsconfig string // root-relative slash path of Options.Tsconfig, "" if none
	discover bool   // entries come from HTML pages
	base     api.BuildOptions
	urlBase  string // Options.Base, normalized: "/" or "/app/"
	log      *slog.Logger

	// import.meta.env (env.go). Written by New, then by Build holding
	// buildMu; b.base.Define is userDefine plus env.Define, and
	// b.base.Banner banner plus, with envGlobal, the env object (see
	// defineEnv).
	envCfg        EnvConfig
	envGlobal     bool              // a dev server: import.meta.env is a global
	production    bool              // Options.Production: workers are written as files (see worker.go)
	workspaceLock string            // see WorkspaceLockfile
	envObj        string            // with envGlobal, its value; "" where import.meta.env is the user's define
	htmlEnv       map[string]string // what a page's %NAME% takes (Env.html); guarded by mu
	banner        string            // esbuildOptions' JS banner
	envFiles      []string          // root-relative env files of the mode
	userDefine    map[string]string // esbuildOptions' define: Options.Define and import.meta.hot
	env           *Env              // what the contexts and modules are built with
	envErrs       []Message         // of the last LoadEnv: the build fails while there are any
	envWarns      []Message
	envPending    bool // env changed since the last successful build

	// buildMu is held for the whole of a Build (and Close): one at a time.
	// Fields of entryCtx and ctxs are written only while holding both
	// buildMu and mu, so Build may read them holding buildMu alone.
	buildMu sync.Mutex

	mu       sync.Mutex
	idle     *sync.Cond // broadcast when building becomes false
	building bool
	closed   bool
	// stopping is set by Close before it waits for a Build in progress,
	// which then compiles no more modules (see compile).
	stopping atomic.Bool
	ctxs     []*entryCtx // sorted by entry
	entries  []string    // every entry, sorted; in module mode JS entries have no context
	graph    *graph      // module mode's state; nil without Options.Modules
	// browserField: the root's package.json has a "browser" field, which
	// can remap files; module mode then leaves all resolving to esbuild.
	browserField bool
	browser      browserMaps  // module mode: package.json "browser" fields, by folder
	resolves     resolveCache // module mode: imports resolved since files last came or went
	// refresh is how module mode does Fast Refresh, if it does; see
	// refresh.go.
	refresh   refreshSetup
	prepared  prepared           // what Prepare made, for Build to take; see prepare.go
	globs     globDeps           // what import.meta.glob calls look at; see glob.go
	styleDeps styleDepFiles      // what stylesheets read by builds of their own read; see inlinecss.go
	sass      string             // sass-embedded's Dart Sass command, "" if not installed; see sass.go
	workers   workerRefs         // in a production build, the workers that code starts; see worker.go
	cache     *diskCache         // module mode's cache on disk; nil: none
	cssUsed   []string           // module mode: CSS files imported from JS, sorted
	missing   map[string]bool    // files pages refer to that do not exist; see discover
	served    map[string]*Output // what Lookup answers
	reported  map[string]string  // URL path -> hash as of the last successful Build
	good      bool               // a Build has succeeded
	last      *Result

	// mapsOnRequest is Options.MapsOnRequest, where it applies; mapsMade
	// holds the maps mapOnRequest made, by URL path, with the output each
	// maps: good while that output is the one served.
	mapsOnRequest bool
	mapsMade      map[string]madeMap

	// keepDir is where the bundles are kept (Options.KeepBundle), "" if
	// nowhere; kept is the kept bundle New found, for the first Build;
	// builtAt is when the last Build that built something began (Keep),
	// and builtTook how long it took.
	keepDir   string
	kept      *keptBundle
	builtAt   time.Time
	builtTook time.Duration

	// Test hooks, nil outside tests. buildHook runs at the start of every
	// Build once building is set; rebuildHook runs just before an entry's
	// esbuild rebuild, on that rebuild's goroutine; lookupWaitHook runs (with
	// mu held) each time Lookup is about to wait for a build.
	buildHook      func()
	rebuildHook    func(entry string)
	lookupWaitHook func()

	// helperSets holds the maps of esbuild's helpers that modules share,
	// by their names (joined by NUL); see shareHelpers.
	helperMu   sync.Mutex
	helperSets map[string][]map[string]string
}

// entryCtx is one entry's esbuild context and what its builds left.
type entryCtx struct {
	entry string // root-relative slash path
	kind  Kind   // JS or CSS
	ctx   api.BuildContext
	// opts are the options ctx was made with; with Options.MapsOnRequest,
	// mapOnRequest builds the entry's maps with them.
	opts api.BuildOptions

	failed   bool      // the last build failed, or there was none yet
	state    *ctxState // of the last good build; nil before one
	errors   []Message // of the last build
	warnings []Message // of the last build
	rebuilds int       // builds attempted, for tests
	// recovered: state is what esbuild made of CSS with syntax problems
	// (Options.CSSSyntaxErrors), served only until a good build.
	recovered bool
}

// New validates opts, finds the entries and creates their esbuild contexts.
// It does not build: call Build(nil) for that. The root must be an existing
// folder and every given entry an existing file of an entry type under it.
func New(opts Options) (*Bundler, error) {
	if opts.Root == "" {
		return nil, errors.New("bundler: Options.Root is required")
	}
	given, err := filepath.Abs(opts.Root)
	root := given
	if err == nil {
		root, err = filepath.EvalSymlinks(given)
	}
	if err != nil {
		return nil, fmt.Errorf("bundler: root %s: %w", opts.Root, err)
	}
	fi, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("bundler: root: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("bundler: root %s is not a folder", opts.Root)
	}

	b := &Bundler{
		root:     root,
		rootAs:   given,
		outdir:   filepath.Join(root, outDirName),
		discover: len(opts.Entries) == 0,
		strict:   opts.CSSSyntaxErrors,
		log:      opts.Logger,
		served:   map[string]*Output{},
		reported: map[string]string{},
	}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	if b.urlBase, err = NormalizeBase(opts.Base); err != nil {
		return nil, fmt.Errorf("bundler: %w", err)
	}
	b.idle = sync.NewCond(&b.mu)
	if opts.Modules {
		b.graph = newGraph()
		b.graph.base = b.urlBase
		pkg, _ := os.ReadFile(filepath.Join(root, "package.json"))
		b.browserField = bytes.Contains(pkg, []byte(`"browser"`))
		b.setupRefresh(&opts)
		b.graph.refreshStart, b.graph.refreshIDs = b.refresh.startArg(b.depURL)
	}
	opts.Base = b.urlBase
	if b.base, err = esbuildOptions(root, b.outdir, &opts); err != nil {
		return nil, fmt.Errorf("bundler: %w", err)
	}
	b.base.Plugins = append([]api.Plugin{b.assetsPlugin()}, b.base.Plugins...) // before public/: "/x.svg?raw" reads the file
	b.mapsOnRequest = opts.MapsOnRequest && !opts.Modules && b.base.Sourcemap == api.SourceMapLinked
	if !opts.Modules && opts.CacheDir != NoCache {
		b.keepDir = opts.CacheDir // see Keep
	}
	mode := opts.Mode
	if mode == "" {
		mode = DefaultMode
	}
	if err := CheckMode(mode); err != nil {
		return nil, fmt.Errorf("bundler: %w", err)
	}
	environ := opts.Environ
	if environ == nil {
		environ = os.Environ
	}
	b.envCfg = EnvConfig{Root: root, Mode: mode, Production: opts.Production, Environ: environ(), Base: b.urlBase}
	b.envFiles = EnvFiles(mode)
	b.userDefine, b.banner = b.base.Define, b.base.Banner["js"]
	b.envGlobal = !opts.Production
	b.production = opts.Production
	b.workspaceLock = workspaceLockfile(root)
	b.sass = findSass(root)
	// An env file with an error is left out until it is fixed; Build
	// reports the error.
	b.env, b.envErrs, b.envWarns = LoadEnv(b.envCfg)
	b.defineEnv()
	// Let esbuild check the options now (defines, JSX names, tsconfig) even
	// when there are no entries yet, so mistakes surface in New.
	ctx, cerr := api.Context(b.base)
	if cerr != nil {
		return nil, fmt.Errorf("bundler: %w", contextError(cerr))
	}
	ctx.Dispose()
	if opts.Tsconfig != "" {
		if rel, ok := b.rel(opts.Tsconfig); ok {
			b.tsconfig = rel
		}
	}

	var entries []string
	if b.discover {
		if entries, b.missing, err = discover(root); err != nil {
			return nil, fmt.Errorf("bundler: %w", err)
		}
	} else {
		for _, e := range opts.Entries {
			rel, err := b.checkEntry(e)
			if err != nil {
				return nil, fmt.Errorf("bundler: %w", err)
			}
			entries = append(entries, rel)
		}
		sort.Strings(entries)
		entries = slices.Compact(entries)
	}
	if errs := b.setEntries(entries); len(errs) > 0 {
		for _, c := range b.ctxs {
			c.ctx.Dispose()
		}
		return nil, fmt.Errorf("bundler: %s", errs[0].Text)
	}
	if b.graph != nil {
		b.cache = openCache(opts.CacheDir, b.log)
	}
	if opts.KeepBundle && b.keepDir != "" {
		b.kept = b.loadKept()
	}
	b.log.Debug("bundler: ready", "root", root, "entries", entries, "discovered", b.discover)
	return b, nil
}

// checkEntry validates a given entry and returns it root-relative.
func (b *Bundler) checkEntry(e string) (string, error) {
	rel, ok := b.rel(e)
	if !ok || rel == "." {
		return "", fmt.Errorf("entry %s: not a file under the root %s", e, b.root)
	}
	if _, ok := entryKind(rel); !ok {
		return "", fmt.Errorf("entry %s: not a .js .mjs .jsx .ts .tsx or .css file", e)
	}
	fi, err := os.Stat(filepath.Join(b.root, filepath.FromSlash(rel)))
	if err != nil {
		return "", fmt.Errorf("entry %s: %w", e, err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("entry %s: not a regular file", e)
	}
	return rel, nil
}

// rel turns a root-relative (slash or OS separators) or absolute path into a
// clean root-relative slash path; false if it lies outside the root.
func (b *Bundler) rel(p string) (string, bool) {
	if filepath.IsAbs(p) {
		r, err := filepath.Rel(b.root, p)
		if (err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator))) && b.rootAs != b.root {
			// A watcher may report paths under the root as it was given.
			r, err = filepath.Rel(b.rootAs, p)
		}
		if err != nil {
			return "", false
		}
		p = r
	}
	p = path.Clean(filepath.ToSlash(p))
	if p == ".." || strings.HasPrefix(p, "../") || strings.HasPrefix(p, "/") {
		return "", false
	}
	return p, true
}

// newCtx creates the esbuild context of one entry.
func (b *Bundler) newCtx(entry string) (*entryCtx, error) {
	kind, ok := entryKind(entry)
	if !ok {
		return nil, fmt.Errorf("entry %s: not a .js .mjs .jsx .ts .tsx or .css file", entry)
	}
	opts := b.base
	opts.EntryPoints = []string{filepath.Join(b.root, filepath.FromSlash(entry))}
	if kind == JS {
		// Asset URLs in JS are resolved against the page, not the script,
		// so they must be absolute. CSS keeps relative url()s.
		opts.PublicPath = b.urlBase
	}
	if b.mapsOnRequest {
		opts.Sourcemap = api.SourceMapNone
	}
	ctx, cerr := api.Context(opts)
	if cerr != nil {
		return nil, fmt.Errorf("entry %s: %w", entry, contextError(cerr))
	}
	return &entryCtx{entry: entry, kind: kind, ctx: ctx, opts: opts, failed: true}, nil
}

// contextError turns esbuild's option errors into one error.
func contextError(cerr *api.ContextError) error {
	texts := make([]string, 0, len(cerr.Errors))
	for _, m := range cerr.Errors {
		texts = append(texts, m.Text)
	}
	if len(texts) == 0 {
		texts = append(texts, cerr.Error())
	}
	return fmt.Errorf("esbuild options: %s", strings.Join(texts, "; "))
}

// WorkspaceLockfile returns the lockfile of the workspace that holds the
// root, absolute, when the root has none of its own: the nearest one in a
// folder above it, as npm, yarn, pnpm and bun workspaces keep it; "" when
// there is none. Packages are installed beside it, and node_modules is
// not watched: a change of this file, passed to Build (or Affects) by
// its absolute path, builds everything again, as the root's own
// lockfile's does. It is found once, by New.
func (b *Bundler) WorkspaceLockfile() string { return b.workspaceLock }

// Entries returns the current entries, root-relative and sorted.
func (b *Bundler) Entries() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.entries)
}

// isConfig reports whether a root-relative path is a file that changes how
// everything is built: tsconfig/jsconfig files (including extended ones such
// as tsconfig.base.json), package.json files, Options.Tsconfig, and
// lockfiles; none under PublicDir. node_modules is not watched: a package
// manager's lockfile, written once it has installed, is what says that
// packages changed there (an upgrade, npm ci after a pull), and everything
// is built again against them.
func (b *Bundler) isConfig(p string) bool {
	if b.tsconfig != "" && p == b.tsconfig {
		return true
	}
	if IsPublic(p) {
		return false // served as it is, never read by esbuild as a config
	}
	base := path.Base(p)
	if base == "package.json" || isLockfile(base) {
		return true
	}
	return path.Ext(base) == ".json" && (strings.HasPrefix(base, "tsconfig") || strings.HasPrefix(base, "jsconfig"))
}

// pageChange reports whether a change to root-relative path p can change the
// discovered entries: p is a page, or a file a page refers to that did not
// exist at the last discovery (or a folder that may hold one). Called with
// mu held or by Build. Pages under PublicDir are not searched.
func (b *Bundler) pageChange(p string) bool {
	if IsPublic(p) {
		return false
	}
	if isHTML(p) || b.missing[p] {
		return true
	}
	prefix := p + "/"
	for m := range b.missing {
		if p == "." || strings.HasPrefix(m, prefix) {
			return true
		}
	}
	return false
}

// touches reports whether a change to root-relative path p can matter to the
// last good build of c: p is an input, or a folder holding one.
func (c *entryCtx) touches(p string) bool {
	if c.state == nil {
		return false
	}
	if _, ok := c.state.inputs[p]; ok {
		return true
	}
	if p == "." {
		return len(c.state.inputs) > 0
	}
	prefix := p + "/"
	for in := range c.state.inputs {
		if strings.HasPrefix(in, prefix) {
			return true
		}
	}
	return false
}

// ctxTouches reports whether a change to p can change c's build: p is an
// input of its last build or a folder holding one (touches), or a file
// that a stylesheet among those inputs read by a build or compiler of its
// own (a Sass partial, what a stylesheet imported with ?inline @imports;
// see styleDepFiles), which esbuild's inputs do not name.
func (b *Bundler) ctxTouches(c *entryCtx, p string) bool {
	if c.touches(p) {
		return true
	}
	if c.state == nil || !b.styleDepChange(p) {
		return false
	}
	abs := p
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(b.root, filepath.FromSlash(p))
	}
	for in := range c.state.inputs {
		if isCSSFile(in) && slices.Contains(b.styleDeps.depsOf(filepath.Join(b.root, filepath.FromSlash(in))), abs) {
			return true
		}
	}
	return false
}

// Affects reports whether a change to any of these paths (root-relative or
// absolute) can change the build: it is an input of the last build of some
// entry or a folder holding one, some entry's last build failed (a new file
// may fix it), it is a config file (tsconfig.json, jsconfig.json,
// package.json), or, while entries are discovered, it is an HTML page or a
// file a page refers to that did not exist.
func (b *Bundler) Affects(paths []string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	for _, raw := range paths {
		p, ok := b.rel(raw)
		if !ok {
			if filepath.IsAbs(raw) && b.linked(raw) && b.graph != nil && b.graph.affects(filepath.Clean(raw)) {
				return true // see LinkedDirs
			}
			if raw == b.workspaceLock {
				return true // see WorkspaceLockfile
			}
			continue
		}
		if b.isConfig(p) || b.globChange(p) || slices.Contains(b.envFiles, p) || (b.discover && b.pageChange(p)) || (b.graph != nil && b.graph.affects(p)) {
			return true
		}
		for _, c := range b.ctxs {
			if c.failed || b.ctxTouches(c, p) {
				return true
			}
		}
	}
	return false
}

// Lookup returns the output served at urlPath, a clean URL path without
// query ("/src/main.ts"). While a Build runs it waits for it, so a request
// never gets stale output; then it answers from the last good outputs.
func (b *Bundler) Lookup(urlPath string) (*Output, bool) {
	if !strings.HasPrefix(urlPath, "/") {
		urlPath = "/" + urlPath
	}
	return b.LookupURL(&url.URL{Path: urlPath})
}

// EntryAt reports whether urlPath ("/src/main.ts", clean, without query)
// is the URL an entry's script or stylesheet is served at, and of which
// kind: a JS or CSS entry, or in module mode a CSS file imported from JS.
// A server asks when Lookup finds nothing there, that is, when the entry
// has never built: what it then serves at that URL must not be the
// source file, which a browser refuses or runs uncompiled.
func (b *Bundler) EntryAt(urlPath string) (Kind, bool) {
	rel, ok := strings.CutPrefix(urlPath, "/")
	if !ok {
		return "", false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if slices.Contains(b.entries, rel) {
		return entryKind(rel)
	}
	for _, c := range b.ctxs {
		if c.entry == rel {
			return c.kind, true
		}
	}
	return "", false
}

// Last returns the most recent Result, nil before the first Build.
func (b *Bundler) Last() *Result {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.last
}

// errClosed is the message of a Build after Close.
const errClosed = "bundler is closed"

// Build rebuilds what the changes can affect and returns the new state.
// changed are root-relative (or absolute) paths changed since the last call;
// nil rebuilds every entry (and rediscovers entries). While entries are
// discovered, a changed page, or a new file a page was waiting for, makes
// Build rediscover them and create or dispose contexts to match. Builds are
// serialized; bad source never panics: every problem is an error Message in
// the Result.
func (b *Bundler) Build(changed []string) *Result {
	b.buildMu.Lock()
	defer b.buildMu.Unlock()
	start := time.Now()

	b.mu.Lock()
	if b.closed {
		r := b.resultLocked(start, []Message{{Text: errClosed}})
		b.last = r
		b.mu.Unlock()
		return r
	}
	b.building = true
	b.mu.Unlock()
	defer func() {
		// Whatever happens, let Lookup go on.
		b.mu.Lock()
		b.building = false
		b.idle.Broadcast()
		b.mu.Unlock()
	}()
	if b.buildHook != nil {
		b.buildHook()
	}

	all := changed == nil
	var paths []string
	for _, p := range changed {
		if rel, ok := b.rel(p); ok {
			paths = append(paths, rel)
		} else if filepath.IsAbs(p) && b.linked(p) || p == b.workspaceLock {
			paths = append(paths, filepath.Clean(p)) // see LinkedDirs, WorkspaceLockfile
		}
	}
	b.prepared.building(paths)
	defer b.prepared.built()
	config := all || slices.ContainsFunc(paths, b.isConfig) || slices.ContainsFunc(paths, b.globChange)
	var errs []Message
	if all || slices.ContainsFunc(paths, func(p string) bool { return slices.Contains(b.envFiles, p) }) {
		changed, more := b.reloadEnv()
		config = config || changed
		errs = append(errs, more...)
	}
	errs = append(errs, b.envErrs...)
	if b.discover && (all || slices.ContainsFunc(paths, b.pageChange)) {
		errs = append(errs, b.rediscover()...)
	}
	var gb *graphBuild
	if b.graph != nil {
		gb = b.buildGraph(paths, config)
		errs = append(errs, gb.errs...)
	}

	var todo []*entryCtx
	if !b.serveKept(all && len(errs) == 0) {
		for _, c := range b.ctxs {
			if config || c.failed || slices.ContainsFunc(paths, func(p string) bool { return b.ctxTouches(c, p) }) {
				todo = append(todo, c)
			}
		}
	}
	type outcome struct {
		state            *ctxState
		errors, warnings []Message
	}
	results := make([]outcome, len(todo))
	var wg sync.WaitGroup
	for i, c := range todo {
		wg.Go(func() {
			st, es, ws := b.rebuild(c)
			results[i] = outcome{st, es, ws}
		})
	}
	wg.Wait()

	b.mu.Lock()
	defer b.mu.Unlock()
	for i, c := range todo {
		o := results[i]
		c.rebuilds++
		c.errors, c.warnings = o.errors, o.warnings
		c.failed = o.state == nil || len(o.errors) > 0
		// Outputs with errors (recovered CSS) only stand in for good ones.
		if o.state != nil && (!c.failed || c.state == nil || c.recovered) {
			c.state, c.recovered = o.state, c.failed
		}
	}
	r := b.resultLocked(start, errs)
	if b.graph != nil {
		if ctxErrs := r.Errors; len(errs) == 0 && len(ctxErrs) > 0 && !b.good {
			// Only CSS failed, and no build was good yet: no page runs
			// modules, so none can be left with old ones if the graph
			// goes in now, and the pages can run while the overlay shows
			// the CSS's errors (often CSS esbuild recovered from; see
			// Options.CSSSyntaxErrors). Later, any error holds the graph
			// back, and the next good build reports what it changed.
			r.Errors = []Message{}
			b.finishGraph(r, gb)
			r.Errors, r.Modules = ctxErrs, nil
		} else {
			b.finishGraph(r, gb)
		}
	}
	r.Warnings = append(r.Warnings, b.envWarns...)
	if r.OK() && b.envPending {
		r.EnvChanged, b.envPending = true, false
	}
	if len(todo) > 0 {
		b.builtAt, b.builtTook = start, r.Duration
	}
	b.good = b.good || r.OK()
	b.last = r
	b.log.Debug("bundler: build",
		"rebuilt", len(todo), "entries", len(b.ctxs), "outputs", len(r.Outputs),
		"changed", len(r.Changed), "errors", len(r.Errors), "warnings", len(r.Warnings),
		"duration", r.Duration)
	return r
}

// rediscover re-reads the pages and sets the entries they name. Problems
// come back as error messages.
func (b *Bundler) rediscover() []Message {
	entries, missing, err := discover(b.root)
	if err != nil {
		return []Message{{Text: err.Error()}}
	}
	b.mu.Lock()
	b.missing = missing
	b.mu.Unlock()
	return b.setEntries(entries)
}

// setEntries makes entries (sorted) the entries and creates or disposes
// contexts to match: one per entry, or in module mode one per CSS entry
// and per CSS file imported from JS. Called by New and Build.
func (b *Bundler) setEntries(entries []string) []Message {
	want := entries
	if b.graph != nil {
		want = slices.Clone(b.cssUsed)
		var js []string
		for _, e := range entries {
			if k, _ := entryKind(e); k == CSS {
				want = append(want, e)
			} else {
				js = append(js, e)
			}
		}
		slices.Sort(want)
		want = slices.Compact(want)
		b.mu.Lock()
		b.graph.entries, b.graph.styles = js, nil
		b.mu.Unlock()
	}
	old := make(map[string]*entryCtx, len(b.ctxs))
	for _, c := range b.ctxs {
		old[c.entry] = c
	}
	var errs []Message
	next := make([]*entryCtx, 0, len(want))
	for _, e := range want {
		if c, ok := old[e]; ok {
			next = append(next, c)
			delete(old, e)
			continue
		}
		c, err := b.newCtx(e)
		if err != nil {
			errs = append(errs, Message{Text: err.Error(), File: e})
			continue
		}
		next = append(next, c)
	}
	b.mu.Lock()
	b.entries = entries
	b.ctxs = next
	b.mu.Unlock()
	for _, c := range old {
		c.ctx.Dispose()
	}
	return errs
}

// rebuild runs one context's rebuild and collects its outputs; a nil state
// means it failed, a state with errors that esbuild recovered from CSS
// syntax problems (Options.CSSSyntaxErrors). It never panics.
func (b *Bundler) rebuild(c *entryCtx) (st *ctxState, errs, warns []Message) {
	defer func() {
		if v := recover(); v != nil {
			b.log.Error("bundler: panic during build", "entry", c.entry, "panic", v, "stack", string(debug.Stack()))
			st, errs = nil, append(errs, Message{Text: fmt.Sprintf("internal error building %s: %v", c.entry, v), File: c.entry})
		}
	}()
	fi, err := os.Stat(filepath.Join(b.root, filepath.FromSlash(c.entry)))
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, []Message{{Text: fmt.Sprintf("entry %s: file not found", c.entry), File: c.entry}}, nil
	case err != nil:
		return nil, []Message{{Text: fmt.Sprintf("entry %s: %v", c.entry, err), File: c.entry}}, nil
	case !fi.Mode().IsRegular():
		return nil, []Message{{Text: fmt.Sprintf("entry %s: not a regular file", c.entry), File: c.entry}}, nil
	}
	if b.rebuildHook != nil {
		b.rebuildHook(c.entry)
	}
	res := c.ctx.Rebuild()
	errs = b.messages(res.Errors)
	warns = make([]Message, 0, len(res.Warnings))
	for _, w := range res.Warnings {
		if m := b.message(w); b.strict && cssSyntaxProblem(w, m.File) {
			errs = append(errs, m)
		} else {
			warns = append(warns, m)
		}
	}
	if len(res.Errors) > 0 {
		return nil, errs, warns
	}
	st, more, err := b.collect(c, &res)
	warns = append(warns, more...)
	if err != nil {
		return nil, append(errs, Message{Text: err.Error(), File: c.entry}), warns
	}
	if b.mapsOnRequest {
		st.nameMaps()
	}
	return st, errs, warns
}

// resultLocked combines the state of every context into a Result and
// updates what is served. errs are bundler-level errors that go first.
// Called with mu held.
func (b *Bundler) resultLocked(start time.Time, errs []Message) *Result {
	r := &Result{
		Errors:   append([]Message{}, errs...),
		Warnings: []Message{},
	}
	served := make(map[string]*Output, len(b.served))
	owner := make(map[string]string, len(b.served))
	inputs := make(map[string]struct{})
	// Two passes so that an entry's own outputs win a URL over an output
	// derived from another entry (a CSS bundle, an asset).
	for pass := 0; pass < 2; pass++ {
		for _, c := range b.ctxs {
			if pass == 0 {
				r.Errors = append(r.Errors, c.errors...)
				r.Warnings = append(r.Warnings, c.warnings...)
			}
			if c.state == nil {
				continue
			}
			if pass == 0 {
				for in := range c.state.inputs {
					inputs[in] = struct{}{}
				}
			}
			for _, o := range c.state.outputs {
				own := o.Path == "/"+c.entry || o.Path == "/"+c.entry+".map"
				if own != (pass == 0) {
					continue
				}
				if prev, ok := served[o.Path]; ok {
					if prev.Hash != o.Hash {
						r.Warnings = append(r.Warnings, Message{Text: fmt.Sprintf(
							"%s is built from both %s and %s; serving the one from %s", o.Path, owner[o.Path], c.entry, owner[o.Path])})
					}
					continue
				}
				served[o.Path] = o
				owner[o.Path] = c.entry
			}
		}
	}
	b.served = served
	for p, m := range b.mapsMade {
		if served[strings.TrimSuffix(p, ".map")] != m.of {
			delete(b.mapsMade, p) // it maps what is served no more
		}
	}

	r.Outputs = make([]*Output, 0, len(served))
	for _, o := range served {
		r.Outputs = append(r.Outputs, o)
	}
	sort.Slice(r.Outputs, func(i, j int) bool { return r.Outputs[i].Path < r.Outputs[j].Path })
	r.Inputs = make([]string, 0, len(inputs))
	for in := range inputs {
		r.Inputs = append(r.Inputs, in)
	}
	sort.Strings(r.Inputs)
	r.ID = outputsID(r.Outputs)

	if r.OK() {
		r.Changed = []*Output{}
		reported := make(map[string]string, len(r.Outputs))
		for _, o := range r.Outputs {
			if b.reported[o.Path] != o.Hash {
				r.Changed = append(r.Changed, o)
			}
			reported[o.Path] = o.Hash
		}
		b.reported = reported
	}
	r.Duration = time.Since(start)
	return r
}

// Close disposes every esbuild context, cutting short a build in progress.
// It is idempotent; a Build after Close returns an error Result.
func (b *Bundler) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	b.stopping.Store(true)
	ctxs := b.ctxs
	b.mu.Unlock()
	for _, c := range ctxs {
		c.ctx.Cancel()
	}

	b.buildMu.Lock()
	defer b.buildMu.Unlock()
	b.mu.Lock()
	ctxs = b.ctxs
	b.mu.Unlock()
	for _, c := range ctxs {
		c.ctx.Dispose()
	}
	if b.cache != nil {
		b.cache.close()
		b.log.Debug("bundler: module cache", "hits", b.cache.hits.Load(), "misses", b.cache.misses.Load(), "writes", b.cache.writes.Load())
	}
	b.log.Debug("bundler: closed")
	return nil
}
