package bundler

import (
	"bytes"
	"strings"
	"testing"
)

func TestRewriteDynamicImports(t *testing.T) {
	const call = dynamicImportCall + "("
	tests := []struct {
		name, src, want string // want "" : left as it is
	}{
		{"one variable", "import(`./locales/${lang}.js`)",
			call + `import.meta.glob("./locales/*.js"), ` + "`./locales/${lang}.js`)"},
		{"two, up a folder, spaces kept", "await import( `../${a}/x-${b.c}.json`\n)",
			"await " + call + `import.meta.glob("../*/x-*.json"), ` + " `../${a}/x-${b.c}.json`\n)"},
		{"from the root, a query", "import(`/src/icons/${name}.svg?raw`)",
			call + `import.meta.glob("/src/icons/*.svg", { query: "?raw" }), ` + "`/src/icons/${name}.svg?raw`)"},
		{"braces and strings in the expression", "import(`./p/${ {a: '}'}[k] }.ts`)",
			call + `import.meta.glob("./p/*.ts"), ` + "`./p/${ {a: '}'}[k] }.ts`)"},
		{"no variable", "import(`./a.js`)", ""},
		{"no extension", "import(`./locales/${lang}`)", ""},
		{"bare", "import(`pkg/${x}.js`)", ""},
		{"a variable first", "import(`${base}/x.js`)", ""},
		{"an escape", "import(`./a\\`${x}.js`)", ""},
		{"a nested template", "import(`./${`x`}.js`)", ""},
		{"a second argument", "import(`./${x}.json`, { with: { type: 'json' } })", ""},
		{"a glob character", "import(`./*/${x}.js`)", ""},
		{"a method", "loader.import(`./${x}.js`)", ""},
		{"empty substitution", "import(`./${}.js`)", ""},
		{"unterminated", "import(`./${x}.js", ""},
		{"no ${ at all", "const s = `a`;\nimport('./x.js');\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.want
			if want == "" {
				want = tt.src
			}
			if got := string(rewriteDynamicImports([]byte(tt.src), func(string) bool { return true })); got != want {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
	if got := string(rewriteDynamicImports([]byte("import(`../../${x}.js`)"), func(string) bool { return false })); got != "import(`../../${x}.js`)" {
		t.Errorf("a pattern refused was rewritten: %s", got)
	}
}

// TestDynamicImportVars: import(`./locales/${lang}.js`), in both modes:
// the files the pattern matches are modules of the graph, so an edit of
// one is built (module mode had inlined them into the importer, and kept
// the old code), and a file created there is in the next build (neither
// mode had it).
func TestDynamicImportVars(t *testing.T) {
	for _, modules := range []bool{false, true} {
		root := project(t, map[string]string{
			"index.html":    `<script type="module" src="/main.js"></script>`,
			"main.js":       "const lang = location.hash.slice(1) || 'en';\nimport(`./locales/${lang}.js`).then((m) => console.log(m.default));\n",
			"locales/en.js": "export default 'hello';\n",
			"locales/fr.js": "export default 'bonjour';\n",
		})
		b := open(t, Options{Root: root, Modules: modules})
		mustBuild(t, b, nil)
		served := func() string { return get(t, b, "/main.js") }
		if s := served(); !strings.Contains(s, "bonjour") {
			t.Fatalf("modules=%v: fr.js is not served:\n%s", modules, s)
		}
		writeFiles(t, root, map[string]string{"locales/en.js": "export default 'howdy';\n"})
		r := mustBuild(t, b, []string{"locales/en.js"})
		if modules && (len(r.Modules) != 1 || r.Modules[0].ID != "/locales/en.js") {
			t.Errorf("an edit of en.js updated %q, want it alone", ids(r.Modules))
		}
		if s := served(); !strings.Contains(s, "howdy") {
			t.Errorf("modules=%v: the edit of en.js is not served:\n%s", modules, s)
		}
		writeFiles(t, root, map[string]string{"locales/de.js": "export default 'hallo';\n"})
		mustBuild(t, b, []string{"locales/de.js"})
		if s := served(); !strings.Contains(s, "hallo") || !strings.Contains(s, `"./locales/de.js"`) {
			t.Errorf("modules=%v: the created de.js is not served:\n%s", modules, s)
		}
	}
}

// FuzzRewriteDynamicImports: no source panics the rewrite, the lines keep
// their numbers, and a rewritten source is not rewritten again.
func FuzzRewriteDynamicImports(f *testing.F) {
	for _, seed := range []string{
		"import(`./locales/${lang}.js`)",
		"import( `../${a}/x-${b.c}.json`\n)",
		"import(`/i/${n}.svg?raw`)",
		"import(`./p/${ {a: '}'}[k] }.ts`)",
		"import(`./${`x`}.js`)",
		"import(`./${x}",
		"import(`./${'\\",
	} {
		f.Add(seed)
	}
	all := func(string) bool { return true }
	f.Fuzz(func(t *testing.T, src string) {
		out := rewriteDynamicImports([]byte(src), all)
		if bytes.Count(out, []byte("\n")) != strings.Count(src, "\n") {
			t.Errorf("the lines moved:\n%s\n->\n%s", src, out)
		}
		if again := rewriteDynamicImports(out, all); !bytes.Equal(again, out) {
			t.Errorf("rewritten twice:\n%s\n->\n%s", out, again)
		}
	})
}
