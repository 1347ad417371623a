package bundler

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestBuiltinName(t *testing.T) {
	for _, c := range []struct{ spec, want string }{
		{"fs", "fs"},
		{"node:fs", "fs"},
		{"fs/promises", "fs/promises"},
		{"node:sqlite", "sqlite"},
		{"node:anything-new", "anything-new"},
		{"react", ""},
		{"fsevents", ""},
		{"./fs", ""},
		{"node:", ""},
	} {
		if got := builtinName(c.spec); got != c.want {
			t.Errorf("builtinName(%q) = %q, want %q", c.spec, got, c.want)
		}
	}
}

func TestDepURL(t *testing.T) {
	root := project(t, map[string]string{"index.html": ""})
	b := open(t, Options{Root: root, Modules: true})
	nm := filepath.Join(b.root, "node_modules")
	nested := filepath.Join(nm, "x", "node_modules", "date-fns")
	for _, c := range []struct{ file, want string }{
		{filepath.Join(nm, "react", "index.js"), "/__devserve/deps/react/index.js"},
		{filepath.Join(nm, "preact", "dist", "preact.mjs"), "/__devserve/deps/preact/dist/preact.mjs"},
		{filepath.Join(nm, "@scope", "pkg", "a.cjs"), "/__devserve/deps/@scope/pkg/a.cjs"},
	} {
		if got := b.depURL(c.file); got != c.want {
			t.Errorf("depURL(%s) = %s, want %s", c.file, got, c.want)
		}
	}
	// Every file of a nested copy shares one prefix, which differs from
	// the top-level copy's and from another folder's packages.
	a, z := b.depURL(filepath.Join(nested, "format.js")), b.depURL(filepath.Join(nested, "_lib", "x.js"))
	pa, _, _ := strings.Cut(strings.TrimPrefix(a, DepsPrefix), "/")
	pz, _, _ := strings.Cut(strings.TrimPrefix(z, DepsPrefix), "/")
	if pa != pz || !strings.HasSuffix(a, "/date-fns/format.js") {
		t.Errorf("nested copy: %s and %s, want one hashed prefix", a, z)
	}
	if up := b.depURL(filepath.Join(filepath.Dir(b.root), "node_modules", "react", "index.js")); up == "/__devserve/deps/react/index.js" {
		t.Errorf("a parent folder's react has the root's id %s", up)
	}
	if o1, o2 := b.depURL("/elsewhere/a/index.js"), b.depURL("/elsewhere/b/index.js"); o1 == o2 {
		t.Errorf("two files outside the root share the id %s", o1)
	}
}

func TestBrowserDisabled(t *testing.T) {
	root := project(t, map[string]string{
		"node_modules/p/package.json": `{"name":"p","browser":{"jsdom":false,"./server.js":false,"./lib/node":false,"./b.js":"./c.js"}}`,
		"node_modules/p/index.js":     "",
		"node_modules/p/server.js":    "",
		"node_modules/p/lib/node.js":  "",
		"node_modules/p/b.js":         "",
		"node_modules/q/package.json": `{"name":"q","browser":"./browser.js"}`,
		"node_modules/q/index.js":     "",
		"node_modules/jsdom/index.js": "",
	})
	p := filepath.Join(root, "node_modules", "p")
	q := filepath.Join(root, "node_modules", "q")
	jsdom := filepath.Join(root, "node_modules", "jsdom", "index.js")
	var bm browserMaps
	for _, c := range []struct {
		importer, spec, file string
		want                 bool
	}{
		{filepath.Join(p, "index.js"), "jsdom", jsdom, true},
		{filepath.Join(p, "index.js"), "./server.js", filepath.Join(p, "server.js"), true},
		{filepath.Join(p, "lib", "x.js"), "./node", filepath.Join(p, "lib", "node.js"), true},
		{filepath.Join(root, "main.js"), "p/server.js", filepath.Join(p, "server.js"), true},
		{filepath.Join(p, "index.js"), "./b.js", filepath.Join(p, "b.js"), false},
		{filepath.Join(root, "main.js"), "jsdom", jsdom, false},
		{filepath.Join(q, "index.js"), "jsdom", jsdom, false},
	} {
		if got := bm.disabled(c.importer, c.spec, c.file); got != c.want {
			t.Errorf("disabled(%s, %q) = %v, want %v", c.importer, c.spec, got, c.want)
		}
	}
}

func TestAppInterop(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`var import_a = __toESM(require("/src/a.ts"), 1);`, `var import_a = __toESM(require("/src/a.ts"));`},
		{`() => __toESM(require("/__devserve/deps/x/i.js"), 1)`, `() => __toESM(require("/__devserve/deps/x/i.js"))`},
		{`var import_a = __toESM(require("/src/a.ts"));`, `var import_a = __toESM(require("/src/a.ts"));`},
		{`f(__toESM, 1)`, `f(__toESM, 1)`},
	} {
		if got := string(appInterop([]byte(c.in))); got != c.want {
			t.Errorf("appInterop(%s) = %s, want %s", c.in, got, c.want)
		}
	}
}

// TestIsPackageName tells npm package names from the path aliases of Vite
// projects.
func TestIsPackageName(t *testing.T) {
	for name, want := range map[string]bool{
		"react": true, "@types/node": true, "lodash.merge": true, "JSONStream": true, "a-b_c~d": true,
		"@/components": false, "@": false, "~": false, "$lib": false, ".hidden": false, "_x": false,
		"@scope/": false, "@/": false, "a b": false,
	} {
		if got := isPackageName(name); got != want {
			t.Errorf("isPackageName(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestModulesBadPackages: a package whose "main" names a missing file,
// one that is not installed, exports maps that lead nowhere (targets that
// point at each other, a target outside the package, conditions a browser
// build does not match, a missing target), two path aliases that nothing
// maps and a subpath import that nothing maps each fail the build with
// the importing line and a reason that names the package.json field and
// its line, and the last good build stays served; in module mode and
// bundled.
func TestModulesBadPackages(t *testing.T) {
	for _, modules := range []bool{true, false} {
		t.Run(map[bool]string{true: "modules", false: "bundled"}[modules], func(t *testing.T) {
			testBadPackages(t, modules)
		})
	}
}

// testBadPackages is TestModulesBadPackages in module mode or bundled.
func testBadPackages(t *testing.T, modules bool) {
	root := project(t, map[string]string{
		"index.html":                        `<script type="module" src="/main.js"></script>`,
		"main.js":                           "console.log(1);\n",
		"node_modules/nomain/package.json":  "{\n  \"name\": \"nomain\",\n  \"main\": \"lib/gone.js\"\n}\n",
		"node_modules/circ/package.json":    `{"name":"circ","exports":{".":{"browser":{"browser":{"default":"./x.js"}}}}}`,
		"node_modules/loop/package.json":    "{\n  \"name\": \"loop\",\n  \"exports\": {\n    \"./a\": \"./b\",\n    \"./b\": \"./a\"\n  }\n}\n",
		"node_modules/selfref/package.json": `{"name":"selfref","exports":{".":"./index.js","./index.js":"."}}`,
		"node_modules/bare/package.json":    `{"name":"bare","exports":{".":"bare/index.js"}}`,
		"node_modules/server/package.json":  "{\"name\":\"server\",\n\"exports\":{\".\":{\"node\":\"./n.js\",\"worker\":\"./w.js\"}}}",
		"node_modules/server/n.js":          "",
	})
	b := open(t, Options{Root: root, Modules: modules})
	mustBuild(t, b, nil)
	good := get(t, b, "/main.js")
	writeFiles(t, root, map[string]string{
		"main.js": "import a from 'nomain';\nimport b from 'notinstalled';\nimport c from 'circ';\n" +
			"import d from '@/components/x';\nimport e from '~/lib';\nimport f from '#internal';\n" +
			"import g from 'loop/a';\nimport h from 'selfref';\nimport i from 'bare';\nimport j from 'server';\n" +
			"console.log(a, b, c, d, e, f, g, h, i, j);\n",
	})
	r := b.Build([]string{"main.js"})
	const circular = `is also a key of "exports", but the map's targets are files, never looked up in the map again: entries that point at each other name no file`
	want := []struct {
		line int
		text string
	}{
		{1, `"nomain" is installed in node_modules/nomain but names no file for it: its package.json field "main" is "lib/gone.js", ` +
			`which is not a file of the package (node_modules/nomain/package.json:3)`},
		{2, `"notinstalled" is not installed (npm install notinstalled)`},
		{3, `"circ" is installed in node_modules/circ but names no file for it: its package.json "exports" maps "." to "./x.js", ` +
			`which is not a file of the package (node_modules/circ/package.json:1)`},
		// Vite projects' aliases (resolve.alias in vite.config, which
		// devserve does not read) and a subpath import nothing maps.
		{4, `no package can be named "@/components", so this is a path alias; devserve takes aliases from "paths"`},
		{5, `no package can be named "~", so this is a path alias`},
		{6, `"#internal": a specifier starting with # is a subpath import`},
		// Entries of "exports" that point at each other.
		{7, `its package.json "exports" maps "./a" to "./b", which is not a file of the package (node_modules/loop/package.json:4); "./b" ` + circular},
		{8, `its package.json "exports" maps "." to "./index.js", which is not a file of the package (node_modules/selfref/package.json:1); "./index.js" ` + circular},
		{9, `its package.json "exports" maps "." to "bare/index.js", which is not a path in the package: targets start with "./" (node_modules/bare/package.json:1)`},
		{10, `its package.json "exports" maps "." under the conditions ["node" "worker"], none of which a browser build matches (node_modules/server/package.json:2)`},
	}
	if len(r.Errors) != len(want) {
		t.Fatalf("errors = %+v, want %d", r.Errors, len(want))
	}
	for i, w := range want {
		e := r.Errors[i]
		if e.File != "main.js" || e.Line != w.line || !strings.Contains(e.Text, w.text) {
			t.Errorf("error %d = %s:%d %q, want main.js:%d with %q", i, e.File, e.Line, e.Text, w.line, w.text)
		}
	}
	if got := get(t, b, "/main.js"); got != good {
		t.Errorf("a failed build changed what is served")
	}
}

// TestModulesNodeBuiltins: a package importing Node's built-ins, by bare
// name or with the node: prefix, builds in module mode; each is an empty
// module that throws when used, and the build warns of it.
func TestModulesNodeBuiltins(t *testing.T) {
	root := project(t, map[string]string{
		"index.html":                        `<script type="module" src="/main.js"></script>`,
		"main.js":                           "import 'server-bits';\n",
		"node_modules/server-bits/index.js": "const fs = require('fs');\nconst { join } = require('node:path');\nmodule.exports = { fs, join };\n",
	})
	b := open(t, Options{Root: root, Modules: true})
	r := mustBuild(t, b, nil)
	script := get(t, b, "/main.js")
	for _, id := range []string{nodePrefix + "fs.js", nodePrefix + "path.js"} {
		if !strings.Contains(script, `__devserve_define("`+id+`"`) {
			t.Errorf("the script lacks the stand-in %s", id)
		}
	}
	if len(r.Warnings) != 2 {
		t.Errorf("warnings = %v, want one per built-in", r.Warnings)
	}
}

// TestPackageUpgraded: a package in node_modules, which is not watched,
// changes under a running server (npm install of another version), and
// the package manager writes its lockfile, which is: the next Build
// serves the new version, in both modes, with the module cache or not.
func TestPackageUpgraded(t *testing.T) {
	for _, tc := range []struct {
		name      string
		modules   bool
		lockfile  string
		cache     bool
		workspace bool // the project is app/ of a workspace whose root installs
	}{
		{"bundled", false, "package-lock.json", false, false},
		{"modules", true, "package-lock.json", false, false},
		{"modules, cached", true, "yarn.lock", true, false},
		{"modules, pnpm", true, "pnpm-lock.yaml", false, false},
		{"bundled, workspace", false, "package-lock.json", false, true},
		{"modules, pnpm workspace, cached", true, "pnpm-lock.yaml", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := ""
			if tc.workspace {
				app = "app/"
			}
			top := project(t, map[string]string{
				app + "index.html":              `<script type="module" src="/src/main.js"></script>`,
				app + "src/main.js":             "import { v } from \"pkg\";\nconsole.log(v);\n",
				app + "package.json":            `{"dependencies": {"pkg": "1.0.0"}}`,
				"node_modules/pkg/package.json": `{"name": "pkg", "version": "1.0.0", "main": "index.js"}`,
				"node_modules/pkg/index.js":     "export const v = \"pkg-v1\";\n",
				tc.lockfile:                     "1.0.0\n",
			})
			root, lock := filepath.Join(top, app), tc.lockfile
			opts := Options{Root: root, Modules: tc.modules}
			if tc.cache {
				opts.CacheDir = t.TempDir()
			}
			b := open(t, opts)
			if tc.workspace {
				lock = filepath.Join(top, tc.lockfile)
			}
			if got, want := b.WorkspaceLockfile(), map[bool]string{true: lock}[tc.workspace]; got != want {
				t.Errorf("WorkspaceLockfile() = %q, want %q", got, want)
			}
			mustBuild(t, b, nil)
			if js := get(t, b, "/src/main.js"); !strings.Contains(js, "pkg-v1") {
				t.Fatalf("first build:\n%s", js)
			}
			writeFiles(t, top, map[string]string{
				"node_modules/pkg/package.json": `{"name": "pkg", "version": "2.0.0", "main": "index.js"}`,
				"node_modules/pkg/index.js":     "export const v = \"pkg-v2\";\n",
				tc.lockfile:                     "2.0.0\n",
			})
			if !b.Affects([]string{lock}) {
				t.Errorf("Affects(%s) = false", lock)
			}
			r := mustBuild(t, b, []string{lock})
			if js := get(t, b, "/src/main.js"); !strings.Contains(js, "pkg-v2") || strings.Contains(js, "pkg-v1") {
				t.Errorf("after the upgrade:\n%s", js)
			}
			if tc.modules && len(r.Modules) == 0 {
				t.Errorf("no module updates after the upgrade")
			}
		})
	}
}

// TestBareImportScopes: answers to bare imports are shared by the folders
// of one scope (see scopeOf), never across a folder that changes them: a
// node_modules of its own, a package.json (its "browser" field), a
// tsconfig.json. And a package whose "browser" field names packages only
// (MUI's) still has its relative imports resolved without esbuild, as
// one without the field.
func TestBareImportScopes(t *testing.T) {
	root := project(t, map[string]string{
		"index.html":                  `<script type="module" src="/main.js"></script>`,
		"main.js":                     "import { top } from 'a';\nimport { sub } from 'a/sub/index.js';\nimport { lib } from 'a/lib/x.js';\nimport { own } from 'a/own/index.js';\nconsole.log(top, sub, lib, own);\n",
		"node_modules/a/package.json": `{"name": "a", "main": "index.js", "browser": {"other/x.js": "other/y.js"}}`,
		"node_modules/a/index.js":     "export { v as top } from 'dep';\nexport * from './lib/x.js';\n",
		"node_modules/a/lib/x.js":     "export { v as lib } from 'dep';\n",
		"node_modules/a/sub/index.js": "export { v as sub } from 'dep';\n",
		"node_modules/a/sub/node_modules/dep/package.json": `{"name": "dep", "main": "index.js"}`,
		"node_modules/a/sub/node_modules/dep/index.js":     "export const v = 'dep-2';\n",
		"node_modules/a/own/package.json":                  `{"browser": {"dep": "./dep-browser.js"}}`,
		"node_modules/a/own/index.js":                      "export { v as own } from 'dep';\n",
		"node_modules/a/own/dep-browser.js":                "export const v = 'dep-own';\n",
		"node_modules/dep/package.json":                    `{"name": "dep", "main": "index.js"}`,
		"node_modules/dep/index.js":                        "export const v = 'dep-1';\n",
	})
	b := open(t, Options{Root: root, Modules: true})
	mustBuild(t, b, nil)
	b.mu.Lock()
	defer b.mu.Unlock()
	want := map[string]string{
		"a/index.js":     "node_modules/dep/index.js",
		"a/lib/x.js":     "node_modules/dep/index.js",
		"a/sub/index.js": "node_modules/a/sub/node_modules/dep/index.js",
		"a/own/index.js": "node_modules/a/own/dep-browser.js",
	}
	for importer, file := range want {
		m := b.graph.mods[DepsPrefix+importer]
		if m == nil {
			t.Fatalf("no module %s", DepsPrefix+importer)
		}
		if got, w := m.deps["dep"], b.depURL(filepath.Join(root, filepath.FromSlash(file))); got != w {
			t.Errorf("%s imports dep as %q, want %q", importer, got, w)
		}
	}
	if m := b.graph.mods[DepsPrefix+"a/index.js"]; m.deps["./lib/x.js"] != DepsPrefix+"a/lib/x.js" {
		t.Errorf("a/index.js imports ./lib/x.js as %q", m.deps["./lib/x.js"])
	}
}

// TestPreprocessedStylesheet: an import of Less (as Vite projects with
// less installed write it) fails, in both modes, saying why and what to
// do; one of Sass without sass-embedded installed says to install it,
// with the stylesheet named.
func TestPreprocessedStylesheet(t *testing.T) {
	for _, modules := range []bool{false, true} {
		root := project(t, map[string]string{
			"index.html": `<script type="module" src="/main.js"></script><script type="module" src="/sass.js"></script>`,
			"main.js":    "import './app.less';\n",
			"app.less":   "@c: red;\n.a { color: @c; }\n",
			"sass.js":    "import './app.scss';\n",
			"app.scss":   "$c: red;\n.a { color: $c; }\n",
		})
		r := open(t, Options{Root: root, Modules: modules}).Build(nil)
		less := slices.ContainsFunc(r.Errors, func(m Message) bool {
			return strings.Contains(m.Text, `No loader is configured for ".less" files`) && strings.Contains(m.Text, "compile the stylesheet to a .css file")
		})
		sass := slices.ContainsFunc(r.Errors, func(m Message) bool {
			return strings.Contains(m.Text, "install sass-embedded") && m.File == "app.scss"
		})
		if !less || !sass {
			t.Errorf("modules=%v: errors %+v", modules, r.Errors)
		}
	}
}
