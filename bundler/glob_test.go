package bundler

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGlobMatch(t *testing.T) {
	for _, tc := range []struct {
		pat, name string
		want      bool
	}{
		{"/r/pages/*.ts", "/r/pages/a.ts", true},
		{"/r/pages/*.ts", "/r/pages/sub/a.ts", false},
		{"/r/pages/**/*.ts", "/r/pages/a.ts", true},
		{"/r/pages/**/*.ts", "/r/pages/x/y/a.ts", true},
		{"/r/pages/**", "/r/pages/x/y/a.ts", true},
		{"/r/pages/*.{ts,tsx}", "/r/pages/a.tsx", true},
		{"/r/pages/*.{ts,tsx}", "/r/pages/a.js", false},
		{"/r/{a,b}/{c,d}.js", "/r/b/d.js", true},
		{"/r/pages/?.ts", "/r/pages/ab.ts", false},
		{"/r/pages/[ab].ts", "/r/pages/b.ts", true},
	} {
		if got := globMatch(tc.pat, tc.name); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tc.pat, tc.name, got, tc.want)
		}
	}
}

// TestExpandGlobs expands calls as Vite would, keeping the module's
// lines, and rejects what is not literal.
func TestExpandGlobs(t *testing.T) {
	root := project(t, map[string]string{
		"src/pages/a.ts":         "export default 'a';\n",
		"src/pages/b.tsx":        "export default 'b';\n",
		"src/pages/sub/c.ts":     "export default 'c';\n",
		"src/pages/.hidden.ts":   "export default 'h';\n",
		"src/pages/skip.test.ts": "export default 's';\n",
		"src/data/x.json":        "{}\n",
	})
	b := open(t, Options{Root: root})
	file := filepath.Join(b.root, "src", "main.ts")
	for _, tc := range []struct {
		name, src, want, tail, err string
	}{
		{"lazy", `const p = import.meta.glob("./pages/*.ts");`,
			`const p = Object.assign({"./pages/a.ts": () => import("./pages/a.ts"), "./pages/skip.test.ts": () => import("./pages/skip.test.ts")});`, "", ""},
		{"negated, braces, deep", `import.meta.glob(["./pages/**/*.{ts,tsx}", "!**/*.test.ts"])`,
			`Object.assign({"./pages/a.ts": () => import("./pages/a.ts"), "./pages/b.tsx": () => import("./pages/b.tsx"), "./pages/sub/c.ts": () => import("./pages/sub/c.ts")})`, "", ""},
		{"eager default", "import.meta.glob('./pages/*.tsx', { eager: true, import: 'default' })",
			`Object.assign({"./pages/b.tsx": __devserve_glob_0_0})`, `import __devserve_glob_0_0 from "./pages/b.tsx";`, ""},
		{"eager named, from the root, query", "import.meta.glob<string>(\n  '/src/pages/b.tsx',\n  { eager: true, import: 'name', query: '?raw' },\n)",
			"Object.assign({\"/src/pages/b.tsx\": __devserve_glob_0_0})\n\n\n", `import { "name" as __devserve_glob_0_0 } from "./pages/b.tsx?raw";`, ""},
		{"lazy import", "import.meta.glob('./data/*.json', { import: 'default' })",
			`Object.assign({"./data/x.json": () => import("./data/x.json").then((m) => m["default"])})`, "", ""},
		{"not a literal", "import.meta.glob(dir + '/*.ts')", "", "", "main.ts:1:0: import.meta.glob: its arguments must be literals"},
		{"a template", "import.meta.glob(`./${d}/*.ts`)", "", "", "must be literals, not templates"},
		{"an alias", "import.meta.glob('@/pages/*.ts')", "", "", `pattern "@/pages/*.ts" must start with ./, ../ or /`},
		{"out of the project", "import.meta.glob('../../**/*.ts')", "", "", `pattern "../../**/*.ts" leads out of the project`},
		{"an unknown option", "import.meta.glob('./pages/*.ts', { base: './x' })", "", "", `option "base" is not supported`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := b.expandGlobs(file, []byte(tc.src))
			if tc.err != "" {
				if err == nil || !strings.Contains(fmt.Sprintf("main.ts:%d:%d: %s", err.line, err.col, err.text), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			if tc.tail != "" {
				if !strings.HasSuffix(want, "\n") {
					want += "\n"
				}
				want += tc.tail + "\n"
			}
			if string(out) != want {
				t.Errorf("got\n%s\nwant\n%s", out, want)
			}
			// The code above the imports appended keeps the module's
			// lines, and ends its last one for them if it must.
			lines := strings.Count(strings.TrimSuffix(string(out), tc.tail+"\n"), "\n")
			if want := strings.Count(tc.src, "\n"); lines != want && !(tc.tail != "" && lines == want+1 && !strings.HasSuffix(tc.src, "\n")) {
				t.Errorf("the lines moved:\n%s", out)
			}
		})
	}
}

// TestImportMetaGlob builds a module that globs a folder, in both modes
// and with the module cache: it gets the files, a file created or removed
// there builds it again, and an edit of a file matched is an edit as any.
func TestImportMetaGlob(t *testing.T) {
	for _, tc := range []struct {
		name    string
		modules bool
		cache   bool
	}{{"bundled", false, false}, {"modules", true, false}, {"modules, cached", true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			root := project(t, map[string]string{
				"index.html":     `<script type="module" src="/src/main.ts"></script>`,
				"src/main.ts":    "const pages = import.meta.glob('./pages/*.ts', { eager: true, import: 'default' });\nconsole.log(Object.keys(pages), Object.values(pages));\n",
				"src/pages/a.ts": "export default 'page-a';\n",
			})
			opts := Options{Root: root, Modules: tc.modules}
			if tc.cache {
				opts.CacheDir = t.TempDir()
			}
			b := open(t, opts)
			served := func() string {
				t.Helper()
				js := get(t, b, "/src/main.ts")
				if tc.modules {
					js += get(t, b, ModulePrefix+"src/pages/b.ts") // fails the test if b.ts is not a module
				}
				return js
			}
			mustBuild(t, b, nil)
			if js := get(t, b, "/src/main.ts"); !strings.Contains(js, `"./pages/a.ts"`) || !strings.Contains(js, "page-a") {
				t.Fatalf("first build:\n%s", js)
			}

			writeFiles(t, root, map[string]string{"src/pages/b.ts": "export default 'page-b';\n"})
			if !b.Affects([]string{"src/pages/b.ts"}) {
				t.Errorf("Affects(a new file the glob matches) = false")
			}
			mustBuild(t, b, []string{"src/pages/b.ts"})
			if js := served(); !strings.Contains(js, `"./pages/b.ts"`) || !strings.Contains(js, "page-b") {
				t.Errorf("after b.ts was created:\n%s", js)
			}

			writeFiles(t, root, map[string]string{"src/pages/b.ts": "export default 'page-b2';\n"})
			mustBuild(t, b, []string{"src/pages/b.ts"})
			if js := served(); !strings.Contains(js, "page-b2") {
				t.Errorf("after b.ts was edited:\n%s", js)
			}

			if err := os.Remove(filepath.Join(root, "src", "pages", "a.ts")); err != nil {
				t.Fatal(err)
			}
			mustBuild(t, b, []string{"src/pages/a.ts"})
			if js := get(t, b, "/src/main.ts"); strings.Contains(js, `"./pages/a.ts"`) {
				t.Errorf("after a.ts was removed:\n%s", js)
			}
			if b.Affects([]string{"src/other.ts"}) {
				t.Errorf("Affects(a file no glob matches) = true")
			}
		})
	}
}

// TestImportMetaGlobCache: a file created while no devserve ran is found
// by a restart: the module cache holds no module whose code is a listing
// (its checks cover imports and files, not folders).
func TestImportMetaGlobCache(t *testing.T) {
	root := t.TempDir()
	writeOld(t, root, map[string]string{
		"index.html":     `<script type="module" src="/src/main.ts"></script>`,
		"src/main.ts":    "console.log(Object.keys(import.meta.glob('./pages/*.ts')));\n",
		"src/other.ts":   "export const other = 1;\n",
		"src/pages/a.ts": "export default 'page-a';\n",
	})
	opts := Options{Root: root, Modules: true, BuildOptions: BuildOptions{CacheDir: t.TempDir()}}
	first := open(t, opts)
	mustBuild(t, first, nil)
	first.Close()
	writeOld(t, root, map[string]string{"src/pages/b.ts": "export default 'page-b';\n"})
	again := open(t, opts)
	mustBuild(t, again, nil)
	if js := get(t, again, "/src/main.ts"); !strings.Contains(js, `"./pages/b.ts"`) {
		t.Errorf("after a restart, with b.ts created:\n%s", js)
	}
}

// TestImportMetaGlobError: a call that is not literal fails the build at
// its line, in both modes.
func TestImportMetaGlobError(t *testing.T) {
	for _, modules := range []bool{false, true} {
		root := project(t, map[string]string{
			"index.html":  `<script type="module" src="/src/main.ts"></script>`,
			"src/main.ts": "const dir = './pages';\nconsole.log(import.meta.glob(dir + '/*.ts'));\n",
		})
		r := open(t, Options{Root: root, Modules: modules}).Build(nil)
		if len(r.Errors) == 0 || r.Errors[0].File != "src/main.ts" || r.Errors[0].Line != 2 || !strings.Contains(r.Errors[0].Text, "import.meta.glob: its arguments must be literals") {
			t.Errorf("modules=%v: errors %+v, want the call's at src/main.ts:2", modules, r.Errors)
		}
	}
}

// FuzzExpandGlobs: no source makes the expansion panic, or keep a call
// it did not understand.
func FuzzExpandGlobs(f *testing.F) {
	for _, seed := range []string{
		"import.meta.glob('./pages/*.ts')",
		"import.meta.glob(['./a/**', '!**/x.ts'], { eager: true, import: 'default', query: '?raw' })",
		"import.meta.glob<T<U>>(`./x/*`, {})",
		"import.meta.glob(\"\\u0041\", { as: 'url', exhaustive: false, })",
		"import.meta.glob(",
		"import.meta.glob([",
		"import.meta.glob('./x', {",
	} {
		f.Add(seed)
	}
	root := f.TempDir()
	writeFiles(f, root, map[string]string{"src/pages/a.ts": "export default 1;\n", "src/x/b.js": "\n"})
	b, err := New(Options{Root: root})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { b.Close() })
	file := filepath.Join(b.root, "src", "main.ts")
	f.Fuzz(func(t *testing.T, src string) {
		out, gerr := b.expandGlobs(file, []byte(src))
		if gerr == nil && globCallRe.Match(out) {
			t.Errorf("a call is left in:\n%s", out)
		}
	})
}
