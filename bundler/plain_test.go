package bundler

import (
	"slices"
	"strings"
	"testing"
)

// exportsBody is a module's code as esbuild prints it in module mode, with
// the given export list and code after it.
func exportsBody(list, code string) string {
	return "\n// a.ts\nvar a_exports = {};\n__export(a_exports, {\n" + list + "\n});\n" +
		"module.exports = __toCommonJS(a_exports);\n" + code + "});\n"
}

func TestPlainExports(t *testing.T) {
	for _, c := range []struct {
		name, body string
		want       string // the assignments at the end; "": none, the getters stay
	}{
		{"constants and a function", exportsBody("  a: () => a,\n  default: () => a_default,\n  f: () => f",
			"var a = 1;\nvar a_default = a + 1;\nfunction f() {\n  return a;\n}\n"),
			"a_exports.a = a;a_exports.default = a_default;a_exports.f = f;"},
		{"a class", exportsBody("  K: () => K", "var K = class _K {\n  static make() {\n    return new _K();\n  }\n};\nK.prototype.x = 1;\n"),
			"a_exports.K = K;"},
		{"reads of every kind", exportsBody("  v: () => v",
			"var v = 1;\nf(v);\nx = v ? v : -v;\ny = v + v - v * v / v % v;\nz = v == 1 || v != 2 || v <= v >= v;\n"+
				"w = v?.p ?? v[0];\ns = `${v}`;\no = { v: 1 };\nobj.v = 2;\ncall(...v);\nq = (v) => v;\nif (v instanceof K) {\n}\n"),
			"a_exports.v = v;"},
		{"a first argument", exportsBody("  App: () => App", "function App() {\n}\nrender((0, import_jsx.jsx)(App, {}), root);\nvar f = (App, b) => App;\n"),
			"a_exports.App = App;"},
		{"a later argument", exportsBody("  v: () => v", "var v = 1;\nf(a, v, b);\n"), ""},
		{"in strings", exportsBody("  v: () => v", "var v = 1;\nlog(\"v = 2\", 'v', `v`);\n"), "a_exports.v = v;"},
		{"a let, changed later", exportsBody("  count: () => count,\n  inc: () => inc",
			"var count = 0;\nfunction inc() {\n  count++;\n}\n"), ""},
		{"assigned", exportsBody("  v: () => v", "var v;\nfunction set() {\n  v = 2;\n}\n"), ""},
		{"compound assignment", exportsBody("  v: () => v", "var v = 1;\nv += 2;\n"), ""},
		{"logical assignment", exportsBody("  v: () => v", "var v = 1;\nv ??= 2;\n"), ""},
		{"prefix decrement", exportsBody("  v: () => v", "var v = 1;\n--v;\n"), ""},
		{"destructuring", exportsBody("  v: () => v", "var v = 1;\n[v] = [2];\n"), ""},
		{"declared with another", exportsBody("  v: () => v", "var a = 1, v = 2;\n"), ""},
		{"declared twice", exportsBody("  v: () => v", "var v = 1;\nfunction g() {\n  var v = 2;\n}\n"), ""},
		{"for of", exportsBody("  v: () => v", "var v;\nfor (v of list) ;\n"), ""},
		{"shorthand property", exportsBody("  v: () => v", "var v = 1;\nvar o = { v };\n"), ""},
		{"behind a comment", exportsBody("  v: () => v", "var v = 1;\nv /* c */ = 2;\n"), ""},
		{"eval", exportsBody("  v: () => v", "var v = 1;\neval(\"v = 2\");\n"), ""},
		{"a re-export", exportsBody("  x: () => import_b.x", "var import_b = require(\"/b.js\");\n"), ""},
		{"a name in quotes", exportsBody("  \"a-b\": () => v", "var v = 1;\n"), ""},
		{"__esModule", exportsBody("  __esModule: () => v", "var v = 1;\n"), ""},
		{"export star", exportsBody("  v: () => v", "__reExport(a_exports, require(\"/b.js\"), module.exports);\nvar v = 1;\n"), ""},
		{"no exports", "\n// a.ts\nconsole.log(1);\n});\n", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			start, end := exportsAt([]byte(c.body))
			if c.want == "" {
				if end != 0 {
					t.Fatalf("made plain:\n%s", appendPlain(nil, []byte(c.body), start, end))
				}
				return
			}
			if end == 0 {
				t.Fatalf("kept the getters of:\n%s", c.body)
			}
			s := string(appendPlain([]byte("x"), []byte(c.body), start, end)[1:])
			if strings.Contains(s, "__export(") || !strings.HasSuffix(s, "\n"+c.want+"\n});\n") ||
				!strings.Contains(s, "var a_exports = {};\n") || !strings.Contains(s, "module.exports = __toCommonJS(a_exports);\n") {
				t.Errorf("got:\n%s\nwant the assignments %q at the end", s, c.want)
			}
			// The code keeps its lines, so that the source map still fits.
			code := func(s string) []string { l := strings.Split(s, "\n"); return l[:len(l)-3] }
			before, after := code(c.body), code(s)
			first, last := slices.Index(before, "__export(a_exports, {"), slices.Index(before, "});")
			for i := range before {
				if i >= first && i <= last {
					if after[i] != "" {
						t.Errorf("line %d: %q, want it blank", i, after[i])
					}
				} else if after[i] != before[i] {
					t.Errorf("line %d: %q, want %q", i, after[i], before[i])
				}
			}
		})
	}
}

// TestPlainExportsModules checks which modules of a project get plain
// exports: not those in a cycle, packages' cycles included, and not
// those that change an export; and that a change of the cycles changes
// the modules it touches.
func TestPlainExportsModules(t *testing.T) {
	root := project(t, map[string]string{
		"index.html":                    `<script type="module" src="/main.js"></script>`,
		"main.js":                       "import { a } from './a.js'\nimport { count, inc } from './live.js'\nimport { p } from 'pkg'\ninc()\nconsole.log(a, count, p)\n",
		"a.js":                          "import { b } from './b.js'\nexport const a = b + 1\n",
		"b.js":                          "export const b = 1\nexport function helper() { return 2 }\n",
		"live.js":                       "export let count = 0\nexport function inc() { count++ }\n",
		"node_modules/pkg/package.json": `{"name":"pkg","type":"module","exports":"./index.js"}`,
		"node_modules/pkg/index.js":     "import { q } from './q.js'\nexport const p = 1\nexport function getQ() { return q }\n",
		"node_modules/pkg/q.js":         "import { p } from './index.js'\nexport const q = 2\nexport function getP() { return p }\n",
	})
	b := open(t, Options{Root: root, Modules: true})
	mustBuild(t, b, nil)
	plain := func() []string {
		var ids []string
		for id, m := range b.graph.mods {
			if def := string(m.appendDef(nil)); m.compiled() && strings.Contains(def, "_exports = {};") && !strings.Contains(def, "__export(") {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		return ids
	}
	if got, want := plain(), []string{"/a.js", "/b.js"}; !slices.Equal(got, want) {
		t.Errorf("plain exports in %q, want %q (not live.js, not the package's cycle)", got, want)
	}

	// b.js now imports a.js: both are in a cycle and keep their getters,
	// and a.js, whose file did not change, is an update too.
	writeFiles(t, root, map[string]string{"b.js": "import { a } from './a.js'\nexport const b = 1\nexport function helper() { return a }\n"})
	r := mustBuild(t, b, []string{"b.js"})
	if got := ids(r.Modules); !slices.Equal(got, []string{"/a.js", "/b.js"}) {
		t.Errorf("updated %q, want /a.js and /b.js", got)
	}
	if got := plain(); len(got) != 0 {
		t.Errorf("plain exports in %q, want none", got)
	}
}
