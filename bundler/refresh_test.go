package bundler

import (
	"math/rand/v2"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestRefreshModules: in a React project with react-refresh installed, a
// component module is compiled with Fast Refresh's registrations and the
// runtime's hooks, the entry brings react-refresh's runtime and starts
// with it; a plain .js module, a project without react-refresh (which is
// told what to install) and NoReactRefresh get none of it.
func TestRefreshModules(t *testing.T) {
	files := map[string]string{
		"package.json":                          `{"dependencies":{"react":"19"}}`,
		"index.html":                            `<script type="module" src="/main.jsx"></script>`,
		"main.jsx":                              "import App from './App.tsx';\nimport { n } from './plain.js';\nimport { useN } from './hooks.ts';\nconsole.log(<App />, n, useN);\n",
		"hooks.ts":                              "import { useState } from 'react';\nexport function useN(): number {\n  const [n] = useState(0);\n  return n;\n}\n",
		"App.tsx":                               "import { useState } from 'react';\nexport default function App(): JSX.Element {\n  const [n] = useState<number>(0);\n  return <p>{n}</p>;\n}\n",
		"plain.js":                              "export const n = 1;\n",
		"node_modules/react/package.json":       `{"name":"react","main":"index.js"}`,
		"node_modules/react/index.js":           "exports.useState = (v) => [v];\n",
		"node_modules/react/jsx-dev-runtime.js": "exports.jsxDEV = () => null;\n",
		"node_modules/react-refresh/package.json": `{"name":"react-refresh"}`,
		"node_modules/react-refresh/runtime.js":   "exports.register = () => {};\n",
	}
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

// TestPrepare: what Prepare makes of a component is taken by the next
// Build that reads the same bytes and tsconfig, and only by it: a save
// after Prepare, or a changed tsconfig, builds from the disk; a file
// without components or hooks, one with an import.meta.glob, and a
// Prepare during a Build make nothing.
func TestPrepare(t *testing.T) {
	files := map[string]string{
		"package.json":                          `{"dependencies":{"react":"19"}}`,
		"tsconfig.json":                         `{"compilerOptions":{}}`,
		"index.html":                            `<script type="module" src="/main.jsx"></script>`,
		"main.jsx":                              "import App from './App.tsx';\nimport { n } from './plain.js';\nimport { pages } from './globs.tsx';\nconsole.log(<App />, n, pages);\n",
		"App.tsx":                               "export default function App() {\n  return <p>v0</p>;\n}\n",
		"globs.tsx":                             "export const pages = import.meta.glob('./*.js');\n",
		"plain.js":                              "export const n = 1;\n",
		"node_modules/react/package.json":       `{"name":"react","main":"index.js"}`,
		"node_modules/react/index.js":           "exports.useState = (v) => [v];\n",
		"node_modules/react/jsx-dev-runtime.js": "exports.jsxDEV = (type, props) => props.children;\n",
		"node_modules/react-refresh/package.json": `{"name":"react-refresh"}`,
		"node_modules/react-refresh/runtime.js":   "exports.register = () => {};\n",
	}
	root := project(t, files)
	b := open(t, Options{Root: root, Modules: true})
	mustBuild(t, b, nil)
	app := func(v string) string { return "export default function App() {\n  return <p>" + v + "</p>;\n}\n" }
	prepared := func() *preparedLoad {
		b.prepared.mu.Lock()
		defer b.prepared.mu.Unlock()
		return b.prepared.last
	}
	build := func(t *testing.T, file, want string) {
		t.Helper()
		mustBuild(t, b, []string{file})
		if got := registration(get(t, b, "/main.jsx"), "/"+file); !strings.Contains(got, want) {
			t.Errorf("%s compiled:\n%s\nwant %q in it", file, got, want)
		}
	}

	t.Run("taken", func(t *testing.T) {
		writeFiles(t, root, map[string]string{"App.tsx": app("v1")})
		b.Prepare("App.tsx")
		if l := prepared(); l == nil || !strings.Contains(*l.res.Contents, "v1") || !strings.Contains(*l.res.Contents, `$RefreshReg$(_c, "/App.tsx App")`) {
			t.Fatalf("Prepare made %+v, want App.tsx's transform", l)
		}
		build(t, "App.tsx", `"v1"`)
		if l := prepared(); l != nil {
			t.Errorf("Build left what Prepare made: %+v", l)
		}
	})
	t.Run("saved again", func(t *testing.T) {
		writeFiles(t, root, map[string]string{"App.tsx": app("v2")})
		b.Prepare(filepath.Join(root, "App.tsx")) // an absolute path too
		writeFiles(t, root, map[string]string{"App.tsx": app("v3")})
		build(t, "App.tsx", `"v3"`)
	})
	t.Run("tsconfig changed", func(t *testing.T) {
		writeFiles(t, root, map[string]string{"App.tsx": app("v4")})
		b.Prepare("App.tsx")
		writeFiles(t, root, map[string]string{"tsconfig.json": `{"compilerOptions":{"jsx":"react-jsx"}}`})
		build(t, "App.tsx", `"v4"`)
		if l := prepared(); l == nil {
			t.Errorf("a Build with another tsconfig took what Prepare made")
		}
	})
	for _, c := range []struct{ name, file, body string }{
		{"no component", "plain.js", "export const n = 2;\n"},
		{"a glob", "globs.tsx", "export const pages = import.meta.glob('./*.tsx');\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b.prepared.put(preparedLoad{path: "none"})
			writeFiles(t, root, map[string]string{c.file: c.body})
			b.Prepare(c.file)
			if l := prepared(); l == nil || l.path != "none" {
				t.Errorf("Prepare made %+v", l)
			}
		})
	}
	t.Run("during a build", func(t *testing.T) {
		b.prepared.put(preparedLoad{path: "none"})
		writeFiles(t, root, map[string]string{"App.tsx": app("v5")})
		b.buildHook = func() {
			b.Prepare("App.tsx")
			if l := prepared(); l == nil || l.path != "none" {
				t.Errorf("Prepare during a Build made %+v", l)
			}
		}
		defer func() { b.buildHook = nil }()
		build(t, "App.tsx", `"v5"`)
	})
}
