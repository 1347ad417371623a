package bundler

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// modProject is a project for module mode: an entry importing a module
// that accepts itself, plain modules, CSS from JS, JSON, a lazy module and
// a package.
var modProject = map[string]string{
	"index.html": `<script type="module" src="/main.ts"></script>`,
	"main.ts": "import { count } from './counter';\nimport { plain } from './plain';\nimport './style.css';\n" +
		"import data from './data.json';\nimport { shout } from 'tiny';\n" +
		"export const lazy = () => import('./lazy');\nconsole.log(count, plain, data.n, shout('x'), import.meta.url);\n",
	"counter.ts":                     "export const count: number = 1;\nif (import.meta.hot) import.meta.hot.accept();\n",
	"plain.ts":                       "import { leaf } from './leaf';\nexport const plain = leaf + 1;\n",
	"leaf.ts":                        "export const leaf = 1;\n",
	"lazy.ts":                        "export const lazy = 'lazy';\n",
	"style.css":                      "body { color: red }\n",
	"data.json":                      `{"n": 1}`,
	"node_modules/tiny/package.json": `{"name":"tiny","main":"index.js"}`,
	"node_modules/tiny/index.js":     "exports.shout = (s) => s.toUpperCase();\n",
}

// get returns what module mode serves at raw.
func get(t *testing.T, b *Bundler, raw string) string {
	t.Helper()
	u, _ := url.Parse(raw)
	o, ok := b.LookupURL(u)
	if !ok {
		t.Fatalf("LookupURL(%s): not found", raw)
	}
	return string(o.Contents)
}

func ids(ms []ModuleUpdate) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

func TestModules(t *testing.T) {
	root := project(t, modProject)
	b := open(t, Options{Root: root, Modules: true})
	mustBuild(t, b, nil)

	script := get(t, b, "/main.ts")
	if n := strings.Count(script, "var __export = "); n != 1 {
		t.Errorf("the entry's script declares __export %d times, want once", n)
	}
	for _, want := range []string{
		`import{define as __devserve_define,start as __devserve_start}from"/__devserve/hmr.js";`,
		`__devserve_define("/main.ts","{`, `\"./counter\":\"/counter.ts\"`, `require("/counter.ts")`,
		`__devserve_define("/counter.ts"`, `__devserve_define("/leaf.ts"`, `__devserve_define("/lazy.ts"`,
		`__devserve_meta.import("/lazy.ts")`, `__devserve_meta.url`,
		`__devserve_define("/style.css?module"`, `.style("/style.css?v=`,
		`__devserve_define("/__devserve/deps/tiny/index.js"`, `toUpperCase`,
		`__devserve_start("/main.ts");`, "sourceMappingURL=main.ts.map",
	} {
		if !strings.Contains(script, want) {
			t.Errorf("the entry's script lacks %q", want)
		}
	}
	var sm struct {
		Sections []struct {
			Offset struct{ Line int }
			Map    struct{ Sources []string }
		}
	}
	if err := json.Unmarshal([]byte(get(t, b, "/main.ts.map")), &sm); err != nil {
		t.Fatalf("index map: %v", err)
	}
	lines := strings.Split(script, "\n")
	for _, s := range sm.Sections {
		if len(s.Map.Sources) == 0 || !strings.HasPrefix(s.Map.Sources[0], "/") {
			t.Errorf("section at line %d: sources %q, want URL paths", s.Offset.Line, s.Map.Sources)
			continue
		}
		// Each section starts on the line of its module's registration.
		want := `__devserve_define("` + strings.TrimPrefix(s.Map.Sources[0], "") + `"`
		if s.Map.Sources[0] != "/node_modules/tiny/index.js" && !strings.HasPrefix(lines[s.Offset.Line], want) {
			t.Errorf("section at line %d (%s) starts at %q", s.Offset.Line, s.Map.Sources[0], lines[s.Offset.Line])
		}
	}
	if len(sm.Sections) < 6 {
		t.Errorf("index map has %d sections, want one per module", len(sm.Sections))
	}
	up := get(t, b, "/__devserve/m/counter.ts")
	if !strings.HasPrefix(up, `import{update as __devserve_define}from"/__devserve/hmr.js";`) ||
		!strings.Contains(up, "\nvar __export = ") || !strings.Contains(up, "\n"+`__devserve_define("/counter.ts"`) ||
		!strings.Contains(up, "sourceMappingURL=data:application/json;base64,") {
		t.Errorf("update script of counter.ts:\n%s", up)
	}
	get(t, b, "/__devserve/m/style.css?module")
	// The update script's map is served at its path + ".map" too, as
	// it is inline.
	_, inline, _ := strings.Cut(up, "sourceMappingURL=data:application/json;base64,")
	inlined, err := base64.StdEncoding.DecodeString(strings.TrimSpace(inline))
	if err != nil {
		t.Fatal(err)
	}
	if sm := get(t, b, "/__devserve/m/counter.ts.map"); sm != string(inlined) {
		t.Errorf("map of counter.ts's update:\n%s\nwant the one inline:\n%s", sm, inlined)
	}
	for _, missing := range []string{"/__devserve/m/nothere.ts.map", "/__devserve/m/counter.ts.map?module"} {
		if u, _ := url.Parse(missing); u != nil {
			if _, ok := b.LookupURL(u); ok {
				t.Errorf("LookupURL(%s) found", missing)
			}
		}
	}

	for _, c := range []struct {
		name, file, body string
		want             []string
	}{
		{"module", "counter.ts", "export const count: number = 2;\nif (import.meta.hot) import.meta.hot.accept();\n", []string{"/counter.ts"}},
		{"same code", "counter.ts", "export const count: number = 2;\nif (import.meta.hot) import.meta.hot.accept();\n", []string{}},
		{"css imported from JS", "style.css", "body { color: blue }\n", []string{"/style.css?module"}},
		{"json, a module of its own", "data.json", `{"n": 2}`, []string{"/data.json"}},
		{"a new import", "leaf.ts", "export { lazy as leaf } from './lazy';\n", []string{"/leaf.ts"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			writeFiles(t, root, map[string]string{c.file: c.body})
			r := mustBuild(t, b, []string{c.file})
			if got := ids(r.Modules); !slices.Equal(got, c.want) {
				t.Errorf("Modules = %q, want %q", got, c.want)
			}
			for _, m := range r.Modules {
				if !strings.HasPrefix(m.URL, ModulePrefix) {
					t.Errorf("URL %s", m.URL)
				}
			}
		})
	}

	t.Run("error then fix", func(t *testing.T) {
		writeFiles(t, root, map[string]string{"plain.ts": "export const plain = ;\n", "counter.ts": "export const count = 3;\n"})
		r := b.Build([]string{"plain.ts", "counter.ts"})
		if r.OK() || r.Modules != nil || r.Errors[0].File != "plain.ts" {
			t.Fatalf("errors = %+v, modules = %v", r.Errors, r.Modules)
		}
		writeFiles(t, root, map[string]string{"plain.ts": "export const plain = 5;\n"})
		r = mustBuild(t, b, []string{"plain.ts"})
		// counter.ts compiled fine in the failed build: it is reported
		// now, with the fix, not lost.
		if got := ids(r.Modules); !slices.Equal(got, []string{"/counter.ts", "/plain.ts"}) {
			t.Errorf("Modules = %q", got)
		}
	})
}

// TestHotOutsideModuleMode: bundled (as `devserve build` and --bundle
// build) import.meta.hot is undefined and its blocks are dropped.
func TestHotOutsideModuleMode(t *testing.T) {
	root := project(t, map[string]string{
		"index.html": `<script type="module" src="/main.js"></script>`,
		"main.js":    "if (import.meta.hot) { console.log('HOT-ONLY'); import.meta.hot.accept(); }\nconsole.log('always');\n",
	})
	b := open(t, Options{Root: root, BuildOptions: BuildOptions{Minify: true}})
	mustBuild(t, b, nil)
	out := string(lookup(t, b, "/main.js").Contents)
	if strings.Contains(out, "HOT-ONLY") || strings.Contains(out, "import.meta") || !strings.Contains(out, "always") {
		t.Errorf("bundled output:\n%s", out)
	}
}

// originalLine maps a generated 0-based line and column through a source
// map (version 3, one section) to the source and 0-based line there.
func originalLine(t *testing.T, rawMap []byte, line, col int) (string, int) {
	t.Helper()
	var sm struct {
		Sources  []string
		Mappings string
	}
	if err := json.Unmarshal(rawMap, &sm); err != nil {
		t.Fatal(err)
	}
	src, oline, found := 0, 0, -1
	foundSrc := ""
	for l, text := range strings.Split(sm.Mappings, ";") {
		gcol := 0
		for _, seg := range strings.Split(text, ",") {
			if seg == "" {
				continue
			}
			vals := decodeVLQs(seg)
			gcol += vals[0]
			if len(vals) >= 4 {
				src += vals[1]
				oline += vals[2]
			}
			if l == line && gcol <= col && len(vals) >= 4 {
				found, foundSrc = oline, sm.Sources[src]
			}
		}
	}
	if found < 0 {
		t.Fatalf("no mapping on generated line %d", line)
	}
	return foundSrc, found
}

// TestModuleSourceMaps: a line of a module maps back to its source, in the
// entry's index map and in an update's inline map.
func TestModuleSourceMaps(t *testing.T) {
	src := "import { x } from './x';\n\nexport function f(): number {\n  throw new Error('marker' + x);\n}\n"
	root := project(t, map[string]string{
		"index.html": `<script type="module" src="/main.ts"></script>`,
		"main.ts":    "import { f } from './mod';\nexport const g = f;\n",
		"mod.ts":     src,
		"x.ts":       "export const x: number = 1;\n",
	})
	b := open(t, Options{Root: root, Modules: true})
	mustBuild(t, b, nil)
	const wantLine = 3 // 0-based line of the throw in mod.ts

	script := strings.Split(get(t, b, "/main.ts"), "\n")
	var sm struct {
		Sections []struct {
			Offset struct{ Line int }
			Map    json.RawMessage
		}
	}
	if err := json.Unmarshal([]byte(get(t, b, "/main.ts.map")), &sm); err != nil {
		t.Fatal(err)
	}
	gen := slices.IndexFunc(script, func(l string) bool { return strings.Contains(l, "marker") })
	sec := -1
	for i, s := range sm.Sections {
		if s.Offset.Line <= gen {
			sec = i
		}
	}
	file, line := originalLine(t, sm.Sections[sec].Map, gen-sm.Sections[sec].Offset.Line, strings.Index(script[gen], "throw"))
	if file != "/mod.ts" || line != wantLine {
		t.Errorf("entry script line %d maps to %s:%d, want /mod.ts:%d", gen, file, line, wantLine)
	}

	up := get(t, b, "/__devserve/m/mod.ts")
	lines := strings.Split(up, "\n")
	gen = slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, "marker") })
	const prefix = "//# sourceMappingURL=data:application/json;base64,"
	enc := lines[slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, prefix) })][len(prefix):]
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		t.Fatal(err)
	}
	file, line = originalLine(t, raw, gen, strings.Index(lines[gen], "throw"))
	if file != "/mod.ts" || line != wantLine {
		t.Errorf("update script line %d maps to %s:%d, want /mod.ts:%d", gen, file, line, wantLine)
	}
}

// TestSplitHelpersDirectives: a module whose output starts with
// directives ("use strict", "use client") loses its helpers too, its
// directives staying first: the helpers it kept were esbuild's, whose
// node-mode __toESM gave axios's lib files whole exports objects for
// their default imports of each other, and TanStack Query's "use client"
// files the same.
func TestSplitHelpersDirectives(t *testing.T) {
	helper := "var __toESM = (mod, isNodeMode, target) => (target = mod, mod);\n"
	for _, prologue := range []string{"\"use strict\";\n", "\"use client\";\n\"use strict\";\n"} {
		out := bannerMark + "\n" + prologue + helper + "\n// a.js\nvar import_u = __toESM(require(\"/u.js\"), 1);\n});\n"
		code, helpers := splitHelpers([]byte(out))
		if helpers["__toESM"] != helperOverrides["__toESM"] {
			t.Errorf("prologue %q: helpers %q, want __toESM's override", prologue, helpers)
		}
		if want := bannerMark + "\n" + prologue + "\n\n// a.js\n"; !strings.HasPrefix(string(code), want) {
			t.Errorf("prologue %q: code\n%s\nwant it to start with\n%s", prologue, code, want)
		}
	}
}

// FuzzSplitHelpers: taking the helpers out of any output keeps its line
// count (the source map must still fit) and never panics.
func FuzzSplitHelpers(f *testing.F) {
	f.Add([]byte(bannerMark + "\nvar __defProp = Object.defineProperty;\nvar __export = (target, all) => {\n  for (var name in all)\n    __defProp(target, name, { get: all[name], enumerable: true });\n};\n\n// a.ts\nvar x = 1;\n});\n"))
	f.Add([]byte(bannerMark + "\nvar __x\n"))
	f.Add([]byte(bannerMark + "\n\"use strict\";\nvar __defProp = Object.defineProperty;\nvar x = 1;\n"))
	f.Add([]byte("no banner\n"))
	f.Fuzz(func(t *testing.T, out []byte) {
		code, helpers := splitHelpers(out)
		if got, want := strings.Count(string(code), "\n"), strings.Count(string(out), "\n"); got != want {
			t.Fatalf("%d lines, want %d", got, want)
		}
		for name, text := range helpers {
			if !strings.HasPrefix(name, "__") || !strings.Contains(string(out), text) && text != helperOverrides[name] {
				t.Fatalf("helper %q = %q not from the input", name, text)
			}
		}
	})
}

// TestModuleChunks: an entry that reaches more than chunkSize modules is a
// script importing chunks at URLs that name their content; an edit of one
// module changes one chunk's URL.
func TestModuleChunks(t *testing.T) {
	const n = 3 * chunkSize
	root := project(t, manyModules(n, ""))
	b := open(t, Options{Root: root, Modules: true})
	mustBuild(t, b, nil)

	chunks := func() []string {
		script := get(t, b, "/main.js")
		var urls []string
		for _, line := range strings.Split(script, "\n") {
			if u, ok := strings.CutPrefix(line, `import "`+ChunkPrefix); ok {
				urls = append(urls, ChunkPrefix+strings.TrimSuffix(u, `";`))
			}
		}
		if !strings.Contains(script, `__devserve_start("/main.js");`) || len(urls) < 2 {
			t.Fatalf("entry script:\n%s", script)
		}
		return urls
	}
	before := chunks()
	defined := 0
	for _, raw := range before {
		u, _ := url.Parse(raw)
		o, ok := b.LookupURL(u)
		if !ok || !o.Immutable {
			t.Fatalf("%s: found %v, immutable %v", raw, ok, ok && o.Immutable)
		}
		defined += strings.Count(string(o.Contents), "\n__devserve_define(")
		if strings.Count(string(o.Contents), "var __export = ") > 1 {
			t.Errorf("%s declares a helper twice", raw)
		}
		get(t, b, strings.SplitN(raw, "?", 2)[0]+".map")
	}
	if defined != n+1 {
		t.Errorf("the chunks define %d modules, want %d", defined, n+1)
	}
	stale, _ := url.Parse(strings.SplitN(before[0], "?", 2)[0] + "?v=old")
	if o, ok := b.LookupURL(stale); !ok || o.Immutable {
		t.Errorf("a chunk at a stale version: found %v, immutable %v", ok, ok && o.Immutable)
	}

	writeFiles(t, root, map[string]string{"m/7.js": "export const v7 = 'seven';\n"})
	mustBuild(t, b, []string{"m/7.js"})
	after := chunks()
	changed := 0
	for i := range before {
		if before[i] != after[i] {
			changed++
		}
	}
	if len(after) != len(before) || changed != 1 {
		t.Errorf("an edit of one module changed %d of %d chunk URLs, want 1", changed, len(before))
	}
}

// TestModuleAssetQueries: a file of the project imported with an asset
// query is a module of its own, under an id that keeps the query, so that
// an importer can accept it and an edit of the file updates that module
// alone; its code is the file as the query says.
func TestModuleAssetQueries(t *testing.T) {
	root := project(t, map[string]string{
		"index.html": `<script type="module" src="/main.js"></script>`,
		"main.js": "import raw from './note.txt?raw';\nimport inline from './logo.svg?inline';\n" +
			"console.log(raw, inline);\nimport.meta.hot.accept('./logo.svg?inline', () => {});\n",
		"note.txt": "hello",
		"logo.svg": `<svg xmlns="http://www.w3.org/2000/svg"/>`,
	})
	b := open(t, Options{Root: root, Modules: true})
	mustBuild(t, b, nil)
	script := get(t, b, "/main.js")
	for _, want := range []string{`\"./note.txt?raw\":\"/note.txt?raw\"`, `\"./logo.svg?inline\":\"/logo.svg?inline\"`, `"hello"`, `data:image/svg+xml`} {
		if !strings.Contains(script, want) {
			t.Errorf("the entry's script lacks %s:\n%s", want, script)
		}
	}
	writeFiles(t, root, map[string]string{"logo.svg": `<svg xmlns="http://www.w3.org/2000/svg"><g/></svg>`})
	r := mustBuild(t, b, []string{"logo.svg"})
	if got := ids(r.Modules); !slices.Equal(got, []string{"/logo.svg?inline"}) {
		t.Fatalf("Modules = %q, want the ?inline module alone", got)
	}
	if code := get(t, b, r.Modules[0].URL); !strings.Contains(code, "data:image/svg+xml") || !strings.Contains(code, "<g/>") {
		t.Errorf("the update of /logo.svg?inline is\n%s\nwant the new data: URL", code)
	}
}

// TestModuleAssetQueryOfComponent: in a project with Fast Refresh, a
// component's file imported with ?raw is its text, not the component
// compiled with the refresh transform (which had made it a module that
// imports React's JSX runtime).
func TestModuleAssetQueryOfComponent(t *testing.T) {
	const app = "export function App(): JSX.Element { return <div/>; }\n"
	root := project(t, map[string]string{
		"package.json": `{"dependencies":{"react":"*"}}`,
		"node_modules/react-refresh/package.json": `{"name":"react-refresh"}`,
		"node_modules/react-refresh/runtime.js":   "exports.register = () => {};\n",
		"index.html":                              `<script type="module" src="/main.jsx"></script>`,
		"main.jsx":                                "import src from './App.tsx?raw';\nconsole.log(src);\n",
		"App.tsx":                                 app,
	})
	b := open(t, Options{Root: root, Modules: true})
	mustBuild(t, b, nil)
	want := `"export function App(): JSX.Element { return <div/>; }\n"`
	if script := get(t, b, "/main.jsx"); !strings.Contains(script, want) {
		t.Errorf("the entry's script lacks App.tsx's text %s:\n%s", want, script)
	}
}

// TestResolvesKeptAcrossEdits: the imports resolved for one build stay
// for the next while the builds see only edits of the modules' files, and
// are forgotten when a file comes: a new file can take an import over.
func TestResolvesKeptAcrossEdits(t *testing.T) {
	root := project(t, map[string]string{
		"index.html":                     `<script type="module" src="/main.js"></script>`,
		"main.js":                        "import { x } from './x';\nimport { a } from './a.js';\nimport { shout } from 'tiny';\nconsole.log(x, a, shout('s'));\n",
		"a.js":                           "export const a = 1;\n",
		"x/index.js":                     "export const x = 'folder';\n",
		"node_modules/tiny/package.json": `{"name":"tiny","main":"index.js"}`,
		"node_modules/tiny/index.js":     "exports.shout = (s) => s.toUpperCase();\n",
	})
	b := open(t, Options{Root: root, Modules: true})
	mustBuild(t, b, nil)
	cached := func() int {
		b.resolves.mu.Lock()
		defer b.resolves.mu.Unlock()
		return len(b.resolves.m)
	}
	if cached() == 0 {
		t.Fatal("nothing resolved through the cache")
	}

	// An edit of a.js: main.js's imports stay resolved.
	writeFiles(t, root, map[string]string{"a.js": "export const a = 2;\n"})
	mustBuild(t, b, []string{"a.js"})
	if cached() == 0 {
		t.Error("an edit of a module forgot the imports resolved")
	}

	// x.js comes, with an edit of main.js in the same batch: ./x is
	// x.js now, not x/index.js.
	writeFiles(t, root, map[string]string{"x.js": "export const x = 'file';\n", "main.js": "import { x } from './x';\nconsole.log(x);\n"})
	mustBuild(t, b, []string{"x.js", "main.js"})
	if got := b.graph.mods["/main.js"].deps["./x"]; got != "/x.js" {
		t.Errorf("./x resolved to %q, want /x.js", got)
	}
	// A file gone, with an edit: forgotten too.
	if b.onlyEdits([]string{"gone.js"}) || b.onlyEdits([]string{"main.js", "x"}) || !b.onlyEdits([]string{"main.js"}) || b.onlyEdits(nil) {
		t.Error("onlyEdits: want true for an existing module's file alone")
	}
}

// TestAssetQueryEdited: an edit of a file imported with a query is in the
// next build, in both modes. A bundle's inputs had kept the query
// ("note.txt?raw"), so the edit of note.txt touched no entry and the old
// text stayed served.
func TestAssetQueryEdited(t *testing.T) {
	for _, modules := range []bool{false, true} {
		root := project(t, map[string]string{
			"index.html": `<script type="module" src="/main.js"></script>`,
			"main.js":    "import note from './note.txt?raw';\nconsole.log(note);\n",
			"note.txt":   "hello",
		})
		b := open(t, Options{Root: root, Modules: modules})
		mustBuild(t, b, nil)
		writeFiles(t, root, map[string]string{"note.txt": "howdy"})
		if !b.Affects([]string{"note.txt"}) {
			t.Errorf("modules=%v: an edit of note.txt affects no build", modules)
		}
		mustBuild(t, b, []string{"note.txt"})
		if js := get(t, b, "/main.js"); !strings.Contains(js, `"howdy"`) {
			t.Errorf("modules=%v: the edit of note.txt is not served:\n%s", modules, js)
		}
	}
}
