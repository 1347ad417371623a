package bundler

import (
	"maps"
	"math/rand/v2"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

// withReactStubs returns files, a React project's own, with the root's
// package.json depending on react and stand-ins for react and
// react-refresh/runtime in node_modules: enough for module mode to do
// Fast Refresh without installing anything.
func withReactStubs(files map[string]string) map[string]string {
	all := map[string]string{
		"package.json":                            `{"dependencies":{"react":"19"}}`,
		"node_modules/react/package.json":         `{"name":"react","main":"index.js"}`,
		"node_modules/react/index.js":             "exports.useState = (v) => [v];\n",
		"node_modules/react/jsx-dev-runtime.js":   "exports.jsxDEV = () => null;\n",
		"node_modules/react-refresh/package.json": `{"name":"react-refresh"}`,
		"node_modules/react-refresh/runtime.js":   "exports.register = () => {};\n",
	}
	maps.Copy(all, files)
	return all
}

// TestRefreshModules: in a React project with react-refresh installed, a
// component module is compiled with Fast Refresh's registrations and the
// runtime's hooks, the entry brings react-refresh's runtime and starts
// with it; a plain .js module, a project without react-refresh (which is
// told what to install) and NoReactRefresh get none of it.
func TestRefreshModules(t *testing.T) {
	files := withReactStubs(map[string]string{
		"index.html": `<script type="module" src="/main.jsx"></script>`,
		"main.jsx":   "import App from './App.tsx';\nimport { n } from './plain.js';\nimport { useN } from './hooks.ts';\nconsole.log(<App />, n, useN);\n",
		"hooks.ts":   "import { useState } from 'react';\nexport function useN(): number {\n  const [n] = useState(0);\n  return n;\n}\n",
		"App.tsx":    "import { useState } from 'react';\nexport default function App(): JSX.Element {\n  const [n] = useState<number>(0);\n  return <p>{n}</p>;\n}\n",
		"plain.js":   "export const n = 1;\n",
	})
	for _, c := range []struct {
		name    string
		drop    string
		opts    Options
		refresh bool
		warning bool
	}{
		{name: "on", refresh: true},
		{name: "not installed", drop: "node_modules/react-refresh/runtime.js", warning: true},
		{name: "off", opts: Options{BuildOptions: BuildOptions{NoReactRefresh: true}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			fs := map[string]string{}
			for k, v := range files {
				if k != c.drop {
					fs[k] = v
				}
			}
			opts := c.opts
			opts.Root, opts.Modules = project(t, fs), true
			b := open(t, opts)
			r := mustBuild(t, b, nil)
			script := get(t, b, "/main.jsx")
			app := registration(script, "/App.tsx")
			has := strings.Contains(app, `$RefreshReg$(_c, "/App.tsx App")`) &&
				strings.Contains(app, `var $RefreshReg$=__devserve_meta.refresh.register,$RefreshSig$=__devserve_meta.refresh.signature;`) &&
				strings.Contains(app, "__devserve_meta.refresh.done(module);")
			if has != c.refresh {
				t.Errorf("App.tsx compiled with Fast Refresh: %v, want %v\n%s", has, c.refresh, app)
			}
			starts := strings.Contains(script, `__devserve_start("/main.jsx",{"react":["/__devserve/deps/react-refresh/runtime.js"]});`)
			if starts != c.refresh {
				t.Errorf("the entry starts with react-refresh's runtime: %v, want %v", starts, c.refresh)
			}
			// A custom hook in a .ts file gets its signature, so that a
			// hook added to it resets the state of its components.
			if hooks := registration(script, "/hooks.ts"); strings.Contains(hooks, "$RefreshSig$()") != c.refresh {
				t.Errorf("hooks.ts has a hook signature: %v, want %v\n%s", !c.refresh, c.refresh, hooks)
			}
			if strings.Contains(registration(script, "/plain.js"), "RefreshReg") {
				t.Errorf("plain.js got Fast Refresh's registrations")
			}
			warned := slices.ContainsFunc(r.Warnings, func(m Message) bool { return strings.Contains(m.Text, "npm install -D react-refresh") })
			if warned != c.warning {
				t.Errorf("warned of react-refresh: %v, want %v (%v)", warned, c.warning, r.Warnings)
			}
		})
	}
}

// registration is the registration of module id in an entry's script.
func registration(script, id string) string {
	m := script[strings.Index(script, `__devserve_define("`+id+`"`):]
	if end := strings.Index(m[1:], "__devserve_define("); end >= 0 {
		return m[:end+1]
	}
	return m
}

// TestInlineMapComment: the inline map comment is found only as the last
// line of the code, with or without its newline.
func TestInlineMapComment(t *testing.T) {
	const c = "//# sourceMappingURL=data:application/json;base64,eyJ2IjozfQ=="
	for _, tt := range []struct{ code, want string }{
		{"x;\n" + c + "\n", c + "\n"},
		{"x;\n" + c, c},
		{c + "\n", c + "\n"},
		{"x;\n" + c + "\n\n", ""},                   // not the last line
		{"x;\n" + c + "\ny;\n", ""},                 // not the last line
		{"x; " + c + "\n", ""},                      // not at a line's start
		{"x;\n//# sourceMappingURL=a.js.map\n", ""}, // not inline
		{"", ""},
	} {
		if got := string(inlineMapComment([]byte(tt.code))); got != tt.want {
			t.Errorf("inlineMapComment(%q) = %q, want %q", tt.code, got, tt.want)
		}
	}
}

// TestCallsHook: callsHook answers as the regular expression it stands for.
func TestCallsHook(t *testing.T) {
	re := regexp.MustCompile(`\buse[A-Z0-9_$]`)
	cases := []string{
		"", "use", "useState()", "x = useState(0)", "React.useEffect(f)", "reuseX()", "_useX", "$useX",
		"useless", "use_", "use$", "use1", "a.use(x)", "users", "const used = 1; useRef", "// useX in a comment",
		"\"useX\"", "ause", "usE", "9useX", "éuseX", "x\nuseMemo", "useuseX", "uuseX",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "usesUXx_$9 .\n"
	for range 2000 {
		b := make([]byte, rng.IntN(12))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		cases = append(cases, string(b))
	}
	for _, c := range cases {
		if got, want := callsHook([]byte(c)), re.MatchString(c); got != want {
			t.Errorf("callsHook(%q) = %v, want %v", c, got, want)
		}
	}
}

// TestPrepare: Prepare compiles a module whose file was saved, and the
// next Build of that file alone takes it, if the file holds the same
// bytes; a save after Prepare, a Build of another path too (its CSS
// module), or a Build in between compile it again. A component that no module is compiled from
// yet gets its Fast Refresh transform, which a Build that reads the same
// bytes and tsconfig takes. A file with an import.meta.glob, and a
// Prepare during a Build, make nothing.
func TestPrepare(t *testing.T) {
	files := withReactStubs(map[string]string{
		"tsconfig.json":  `{"compilerOptions":{}}`,
		"index.html":     `<script type="module" src="/main.jsx"></script>`,
		"main.jsx":       "import App from './App.tsx';\nimport { n } from './plain.js';\nimport { pages } from './globs.tsx';\nconsole.log(<App />, n, pages);\n",
		"App.tsx":        "import s from './App.module.css';\nexport default function App() {\n  return <p className={s.app}>v0</p>;\n}\n",
		"App.module.css": ".app { color: red; }\n",
		"globs.tsx":      "export const pages = import.meta.glob('./*.js');\n",
		"plain.js":       "export const n = 1;\n",
	})
	root := project(t, files)
	b := open(t, Options{Root: root, Modules: true})
	mustBuild(t, b, nil)
	component := func(name, v string) string {
		return "import s from './App.module.css';\nexport default function " + name + "() {\n  return <p className={s.app}>" + v + "</p>;\n}\n"
	}
	var mu sync.Mutex
	compiles := map[string]int{}
	b.rebuildHook = func(file string) {
		mu.Lock()
		compiles[file]++
		mu.Unlock()
	}
	compiled := func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		c := maps.Clone(compiles)
		clear(compiles)
		return c
	}
	build := func(t *testing.T, changed []string, file, want string) {
		t.Helper()
		mustBuild(t, b, changed)
		if got := registration(get(t, b, "/main.jsx"), "/"+file); !strings.Contains(got, want) {
			t.Errorf("%s compiled:\n%s\nwant %q in it", file, got, want)
		}
	}
	prepared := func() (*preparedModule, *preparedLoad) {
		b.prepared.mu.Lock()
		defer b.prepared.mu.Unlock()
		return b.prepared.module, b.prepared.load
	}

	for _, c := range []struct {
		name, saved string
		between     func()   // after Prepare, before the Build
		changed     []string // the Build's
		want        string
		compiles    int // of App.tsx, Prepare's included
	}{
		{"taken", "v1", nil, []string{"App.tsx"}, "v1", 1},
		{"saved again", "v2", func() { writeFiles(t, root, map[string]string{"App.tsx": component("App", "v2 again")}) }, []string{"App.tsx"}, "v2 again", 2},
		{"its CSS module too", "v3", func() { writeFiles(t, root, map[string]string{"App.module.css": ".app { color: blue; }\n"}) }, []string{"App.module.css", "App.tsx"}, "v3", 2},
		{"another path too", "v3b", func() { writeFiles(t, root, map[string]string{"plain.js": "export const n = 2;\n"}) }, []string{"App.tsx", "plain.js"}, "v3b", 2},
		{"a build between", "v4", func() {
			writeFiles(t, root, map[string]string{"plain.js": "export const n = 3;\n"})
			mustBuild(t, b, []string{"plain.js"})
		}, []string{"App.tsx"}, "v4", 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := c.saved
			writeFiles(t, root, map[string]string{"App.tsx": component("App", v)})
			compiled()
			b.Prepare("App.tsx")
			if m, _ := prepared(); m == nil || m.id != "/App.tsx" || !strings.Contains(string(m.mod.out), v) {
				t.Fatalf("Prepare made %+v, want App.tsx's module", m)
			}
			if c.between != nil {
				c.between()
			}
			build(t, c.changed, "App.tsx", c.want)
			if n := compiled()["App.tsx"]; n != c.compiles {
				t.Errorf("App.tsx compiled %d times, want %d", n, c.compiles)
			}
		})
	}

	t.Run("a new component", func(t *testing.T) {
		writeFiles(t, root, map[string]string{"New.tsx": component("New", "new")})
		b.Prepare(filepath.Join(root, "New.tsx")) // an absolute path too
		if _, l := prepared(); l == nil || !strings.Contains(*l.res.Contents, `$RefreshReg$(_c, "/New.tsx New")`) {
			t.Fatalf("Prepare made %+v, want New.tsx's transform", l)
		}
		writeFiles(t, root, map[string]string{"main.jsx": "import New from './New.tsx';\nconsole.log(<New />);\n"})
		build(t, []string{"New.tsx", "main.jsx"}, "New.tsx", `"new"`)
		if _, l := prepared(); l != nil {
			t.Errorf("Build left what Prepare made: %+v", l)
		}
	})
	t.Run("tsconfig changed", func(t *testing.T) {
		writeFiles(t, root, map[string]string{"Other.tsx": component("Other", "other")})
		b.Prepare("Other.tsx")
		writeFiles(t, root, map[string]string{"tsconfig.json": `{"compilerOptions":{"jsx":"react-jsx"}}`,
			"main.jsx": "import Other from './Other.tsx';\nconsole.log(<Other />);\n"})
		build(t, []string{"tsconfig.json", "Other.tsx", "main.jsx"}, "Other.tsx", `"other"`)
		if _, l := prepared(); l == nil {
			t.Errorf("a Build with another tsconfig took what Prepare made")
		}
	})
	for _, c := range []struct{ name, file, body string }{
		{"a glob", "globs.tsx", "export const pages = import.meta.glob('./*.tsx');\n"},
		{"a template import", "Other.tsx", "export const load = (n) => import(`./${n}.tsx`);\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b.prepared.putModule(preparedModule{id: "none"})
			b.prepared.put(preparedLoad{path: "none"})
			writeFiles(t, root, map[string]string{c.file: c.body})
			b.Prepare(c.file)
			if m, l := prepared(); m == nil || m.id != "none" || l == nil || l.path != "none" {
				t.Errorf("Prepare made %+v, %+v", m, l)
			}
		})
	}
	t.Run("during a build", func(t *testing.T) {
		writeFiles(t, root, map[string]string{"main.jsx": files["main.jsx"], "App.tsx": component("App", "v5")})
		b.buildHook = func() {
			b.prepared.putModule(preparedModule{id: "none"})
			b.Prepare("App.tsx")
			if m, _ := prepared(); m == nil || m.id != "none" {
				t.Errorf("Prepare during a Build made %+v", m)
			}
		}
		defer func() { b.buildHook = nil }()
		build(t, []string{"App.tsx", "main.jsx"}, "App.tsx", `"v5"`)
	})
}
