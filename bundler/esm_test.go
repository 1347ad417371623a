package bundler

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

func TestCycles(t *testing.T) {
	for _, c := range []struct {
		name  string
		graph map[string][]string // id -> static imports
		dep   []string            // ids of packages
		want  []string
	}{
		{"none", map[string][]string{"/a": {"/b"}, "/b": {"/c"}, "/c": nil}, nil, nil},
		{"two", map[string][]string{"/main": {"/a"}, "/a": {"/b"}, "/b": {"/a"}}, nil, []string{"/a", "/b"}},
		{"self", map[string][]string{"/a": {"/a"}, "/b": nil}, nil, []string{"/a"}},
		{"two cycles", map[string][]string{"/m": {"/a", "/c"}, "/a": {"/b"}, "/b": {"/a"}, "/c": {"/d"}, "/d": {"/e"}, "/e": {"/c"}},
			nil, []string{"/a", "/b", "/c", "/d", "/e"}},
		{"through a package", map[string][]string{"/a": {"/p"}, "/p": {"/a"}}, []string{"/p"}, []string{"/a", "/p"}},
		{"in a package", map[string][]string{"/a": {"/p"}, "/p": {"/q"}, "/q": {"/p"}}, []string{"/p", "/q"}, []string{"/p", "/q"}},
		{"missing module", map[string][]string{"/a": {"/gone"}}, nil, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			mods := map[string]*module{}
			for id, imports := range c.graph {
				mods[id] = &module{id: id, static: imports, dep: slices.Contains(c.dep, id)}
			}
			if got := slices.Sorted(maps.Keys(cycles(mods))); !slices.Equal(got, c.want) {
				t.Errorf("cycles = %q, want %q", got, c.want)
			}
		})
	}
}

func TestTLASource(t *testing.T) {
	for _, c := range []struct {
		name, esm string
		want      []string // in the output, in order
	}{
		{"imports and exports",
			"var __defProp = Object.defineProperty;\n\n// src/t.ts\nimport { b } from \"/src/b.ts\";\nimport {\n  c,\n  d\n} from \"/src/c.ts\";\nexport * from \"/src/e.ts\";\nvar x = await b();\nvar t_default = x + c;\nexport {\n  t_default as default,\n  x,\n  d as \"d-d\"\n};\n",
			[]string{"var __defProp", "import { b } from \"/src/b.ts\";", "export * from \"/src/e.ts\";" + tlaCall +
				`__devserve_exports({"d-d": () => d, "default": () => t_default, "x": () => x});`, "var x = await b();\n", "});\n"}},
		{"no imports, no exports", "// src/t.ts\nawait 1;\nconsole.log(2);\n",
			[]string{tlaCall + "__devserve_exports({});\nawait 1;\nconsole.log(2);\n});"}},
		{"one export", "// src/t.ts\nvar x = await 1;\nexport { x };\n",
			[]string{`__devserve_exports({"x": () => x});` + "\nvar x = await 1;\n});\n"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := tlaSource([]byte(c.esm))
			if err != nil {
				t.Fatal(err)
			}
			if n, want := strings.Count(string(got), "\n"), strings.Count(c.esm, "\n"); n != want {
				t.Errorf("%d lines, want %d (the source map must still fit):\n%s", n, want, got)
			}
			rest := string(got)
			for _, w := range c.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("output lacks %q after what came before:\n%s", w, got)
				}
				rest = rest[i+len(w):]
			}
		})
	}
	if _, err := tlaSource([]byte("var x = await 1;\n")); err == nil {
		t.Error("no error for output without a file comment")
	}
}

// TestESMSemantics builds a project with an import cycle and top-level
// await in module mode: the cycle's modules keep their const, the module
// that awaits runs in meta.tla, and its importers carry their imports'
// order; an edit keeps all that.
func TestESMSemantics(t *testing.T) {
	root := project(t, map[string]string{
		"index.html":   `<script type="module" src="/main.ts"></script>`,
		"main.ts":      "import { a } from './a'\nimport { value } from './config'\nimport './last'\nconsole.log(a, value)\nexport const lazy = () => import('./b')\n",
		"a.ts":         "import { b } from './b'\nexport const a = 'a'\nexport const getB = () => b\n",
		"b.ts":         "import { a } from './a'\nexport const b = 'b'\nexport class K {}\nexport const getA = () => a\n",
		"config.ts":    "export const value = await Promise.resolve(1)\n",
		"last.ts":      "console.log('last')\n",
		"package.json": `{"type": "module"}`,
	})
	b := open(t, Options{Root: root, Modules: true})
	mustBuild(t, b, nil)
	script := get(t, b, "/main.ts")
	for _, want := range []string{
		`__devserve_define("/a.ts","{\"./b\":\"/b.ts\"}",function(require,module,exports,__devserve_meta){require=__devserve_meta.require;`,
		`const a = "a";`, `require("./b")`, `const b = "b";`, `class K {`,
		`__devserve_define("/config.ts","{}",function(require,module,exports,__devserve_meta){` + "\n" + tlaCall,
		`var value = await Promise.resolve(1);`,
		`},[]);` + "\n" + `__devserve_define("/last.ts"`,
		`},["/a.ts","/config.ts","/last.ts"]);`,
		`__devserve_meta.import("/b.ts")`,
	} {
		if !strings.Contains(script, want) {
			t.Errorf("the script lacks %q:\n%s", want, script)
		}
	}
	if strings.Contains(script, `var a = "a"`) {
		t.Error("a.ts, in a cycle, was compiled with its const made var")
	}
	if n := strings.Count(script, `},[`); n != 2 {
		t.Errorf("%d modules carry an order, want 2 (main.ts and config.ts):\n%s", n, script)
	}

	// An edit of a module of the cycle keeps it strict.
	writeFiles(t, root, map[string]string{"b.ts": "import { a } from './a'\nexport const b = 'b2'\nexport const getA = () => a\n"})
	r := mustBuild(t, b, []string{"b.ts"})
	if got := ids(r.Modules); !slices.Equal(got, []string{"/b.ts"}) {
		t.Errorf("updated %q, want /b.ts", got)
	}
	if up := get(t, b, "/__devserve/m/b.ts"); !strings.Contains(up, `const b = "b2";`) || !strings.Contains(up, `require=__devserve_meta.require;`) {
		t.Errorf("update of b.ts:\n%s", up)
	}

	// A module whose imports bundle mode did not see keeps its bundled
	// code: its requires could not be mapped.
	mods := map[string]*module{}
	for id, m := range b.graph.mods {
		c := *m
		c.strict = false
		if id == "/a.ts" {
			c.deps = map[string]string{}
		}
		mods[id] = &c
	}
	b.compileStrict(mods, []string{"/a.ts", "/b.ts"})
	if mods["/a.ts"].strict || !mods["/b.ts"].strict {
		t.Errorf("strict: a.ts %v (imports unknown), b.ts %v", mods["/a.ts"].strict, mods["/b.ts"].strict)
	}
}
