package bundler

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// TestAssembleReusesChunks: after an edit, the entry's next assembly
// makes again only the chunk that holds the edited module, reusing the
// others as they were, and serves exactly the bytes of an assembly from
// scratch, for every script and source map.
func TestAssembleReusesChunks(t *testing.T) {
	root := project(t, manyModules(3*chunkSize, ""))
	b := open(t, Options{Root: root, Modules: true})
	mustBuild(t, b, nil)
	get(t, b, "/main.js")
	assembled := func() map[string]*assembledChunk {
		b.mu.Lock()
		defer b.mu.Unlock()
		return maps.Clone(b.graph.assembled)
	}
	// served is every script and source map the entry's script leads to.
	served := func() map[string]*Output {
		out := map[string]*Output{"/main.js": lookup(t, b, "/main.js")}
		for _, u := range importedURLs(string(out["/main.js"].Contents)) {
			p, _, _ := strings.Cut(u, "?")
			out[p], out[p+".map"] = lookup(t, b, p), lookup(t, b, p+".map")
		}
		return out
	}
	before := assembled()

	for i, edit := range []map[string]string{
		{"m/7.js": "export const v7 = 'seven';\n"},
		{"m/7.js": "export const v7 = 7;\n"}, // back as it was
		{"m/8.js": "export const v8 = 'eight';\n", "m/9.js": "export const v9 = 'nine';\n"},
	} {
		writeFiles(t, root, edit)
		mustBuild(t, b, slices.Collect(maps.Keys(edit)))
		got := served()
		after := assembled()
		var remade []string
		for p, a := range after {
			if before[p] != a {
				remade = append(remade, p)
			}
		}
		if len(remade) == 0 || len(remade) > len(edit) { // a chunk per edited module at most
			t.Errorf("edit %d remade %q", i, remade)
		}
		// An assembly from scratch serves the same bytes.
		b.mu.Lock()
		b.graph.assembled = nil
		b.graph.scripts = nil
		b.mu.Unlock()
		fresh := served()
		if !slices.Equal(slices.Sorted(maps.Keys(fresh)), slices.Sorted(maps.Keys(got))) {
			t.Fatalf("edit %d: scripts %q, from scratch %q", i, slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(fresh)))
		}
		for p, o := range fresh {
			if !bytes.Equal(o.Contents, got[p].Contents) || o.Hash != got[p].Hash {
				t.Errorf("edit %d: %s differs from an assembly from scratch", i, p)
			}
			if o.Hash != hashHex(o.Contents) {
				t.Errorf("edit %d: %s has hash %s, its bytes %s", i, p, o.Hash, hashHex(o.Contents))
			}
		}
		before = assembled()
	}
}

// TestChunkSourceMaps: a chunk's index source map, made when it is asked
// for, has a section for each module at the line where its registration
// starts in the chunk as served, also after an edit that moves the
// registrations, when only the edited chunk's map changes.
func TestChunkSourceMaps(t *testing.T) {
	root := project(t, manyModules(2*chunkSize, ""))
	b := open(t, Options{Root: root, Modules: true})
	mustBuild(t, b, nil)
	check := func(when string) map[string]string {
		t.Helper()
		hashes := map[string]string{}
		for _, u := range importedURLs(get(t, b, "/main.js")) {
			p, _, _ := strings.Cut(u, "?")
			chunk := get(t, b, u)
			lines := strings.Split(chunk, "\n")
			o := lookup(t, b, p+".map")
			if o.Kind != Map || o.Hash != hashHex(o.Contents) || o.Immutable {
				t.Errorf("%s: %s.map is %s, hash %s of %s, immutable %v", when, p, o.Kind, o.Hash, hashHex(o.Contents), o.Immutable)
			}
			hashes[p] = o.Hash
			var sm struct {
				Version  int
				Sections []struct {
					Offset struct{ Line, Column int }
					Map    struct{ Sources []string }
				}
			}
			if err := json.Unmarshal(o.Contents, &sm); err != nil || sm.Version != 3 {
				t.Fatalf("%s: %s.map: version %d, %v", when, p, sm.Version, err)
			}
			for _, s := range sm.Sections {
				if len(s.Map.Sources) != 1 || s.Offset.Line >= len(lines) ||
					!strings.HasPrefix(lines[s.Offset.Line], `__devserve_define("`+s.Map.Sources[0]+`"`) || s.Offset.Column != 0 {
					t.Errorf("%s: %s.map: section of %q at %+v, a line that is not its registration", when, p, s.Map.Sources, s.Offset)
				}
			}
			if n := strings.Count(chunk, "\n__devserve_define("); len(sm.Sections) != n {
				t.Errorf("%s: %s.map has %d sections for %d modules", when, p, len(sm.Sections), n)
			}
		}
		if len(hashes) < 2 {
			t.Fatalf("%s: %d chunks, want 2 or more", when, len(hashes))
		}
		return hashes
	}
	before := check("first")
	writeFiles(t, root, map[string]string{"m/7.js": "export const v7 = 7;\nexport const a7 = 1;\nexport const b7 = 2;\n"})
	mustBuild(t, b, []string{"m/7.js"})
	after := check("after an edit")
	changed := 0
	for p, h := range after {
		if before[p] != h {
			changed++
		}
	}
	if changed != 1 {
		t.Errorf("an edit of one module changed %d chunks' maps, want 1", changed)
	}
}

// TestHelpersShared: the modules that use one of esbuild's helpers share
// one copy of its text, not one each.
func TestHelpersShared(t *testing.T) {
	root := project(t, map[string]string{
		"index.html": `<script type="module" src="/main.js"></script>`,
		"main.js":    "import { a } from './a.js';\nimport { b } from './b.js';\nconsole.log(a, b);\nexport const m = 1;\n",
		"a.js":       "export const a = 1;\n",
		"b.js":       "export const b = 2;\n",
	})
	b := open(t, Options{Root: root, Modules: true})
	mustBuild(t, b, nil)
	b.mu.Lock()
	defer b.mu.Unlock()
	texts := map[string]*byte{}
	for _, id := range []string{"/main.js", "/a.js", "/b.js"} {
		m := b.graph.mods[id]
		if m == nil || len(m.helpers) == 0 {
			t.Fatalf("module %s: %v, no helpers", id, m)
		}
		for name, text := range m.helpers {
			if p, ok := texts[name]; ok && p != unsafe.StringData(text) {
				t.Errorf("%s has a copy of its own of %s", id, name)
			}
			texts[name] = unsafe.StringData(text)
		}
	}
}

// TestChunksHint: past chunkSize modules, the project's modules and the
// packages' go to chunks of their own, and only the project's chunks
// carry V8's compile hint.
func TestChunksHint(t *testing.T) {
	files := manyModules(chunkSize+10, "import { p } from 'pkg';\nconsole.log(p);\n")
	files["node_modules/pkg/package.json"] = `{"name": "pkg", "main": "index.js"}`
	files["node_modules/pkg/index.js"] = "export const p = 1;\n"
	root := project(t, files)
	b := open(t, Options{Root: root, Modules: true})
	mustBuild(t, b, nil)
	own, deps := 0, 0
	for _, line := range strings.Split(get(t, b, "/main.js"), "\n") {
		u, ok := strings.CutPrefix(line, `import "`)
		if !ok || !strings.HasPrefix(u, ChunkPrefix) {
			continue
		}
		u, _, _ = strings.Cut(u, "?")
		chunk := get(t, b, u)
		hinted := strings.HasPrefix(chunk, "//# allFunctionsCalledOnLoad\n")
		pkg := strings.Contains(chunk, `__devserve_define("`+DepsPrefix)
		switch {
		case strings.Contains(u, "-d"):
			deps++
			if hinted || !pkg || strings.Contains(chunk, `"/m/`) {
				t.Errorf("package chunk %s: hint %v, a package %v, or a module of the project:\n%.300s", u, hinted, pkg, chunk)
			}
		default:
			own++
			if !hinted || pkg {
				t.Errorf("project chunk %s: hint %v, a package %v:\n%.300s", u, hinted, pkg, chunk)
			}
		}
	}
	if own < 2 || deps != 1 {
		t.Errorf("%d project chunks and %d package chunks, want 2 or more and 1", own, deps)
	}
}

// manyModules is a project whose page loads main.js, which is head and
// then imports m/0.js ... m/<n-1>.js, each exporting a number.
func manyModules(n int, head string) map[string]string {
	files := map[string]string{"index.html": `<script type="module" src="/main.js"></script>`}
	main := head
	for i := range n {
		main += fmt.Sprintf("import './m/%d.js';\n", i)
		files[fmt.Sprintf("m/%d.js", i)] = fmt.Sprintf("export const v%d = %d;\n", i, i)
	}
	files["main.js"] = main
	return files
}

// TestPagePreloads: in module mode the page names the runtime in a
// modulepreload link before its entry's script, and, after an edit, the
// chunks that the edit changed, at the URLs the script imports them from
// (each once); not in a page with a Content-Security-Policy, nor in a
// backend's page (LinkCSS).
func TestPagePreloads(t *testing.T) {
	for _, tt := range []struct {
		name   string
		n      int  // modules main.js imports
		chunks bool // past chunkSize
	}{
		{"one script", 3, false},
		{"chunks", 3 * chunkSize, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			root := project(t, manyModules(tt.n, ""))
			b := open(t, Options{Root: root, Modules: true})
			mustBuild(t, b, nil)
			const script = `<script type="module" src="/main.js"></script>`
			page := `<head>` + script + script + `</head>`
			links := func(urls ...string) string {
				var s string
				for _, u := range urls {
					s += `<link rel="modulepreload" href="` + u + `">`
				}
				return s
			}
			runtime := withBase("/", HMRPath)
			// A first assembly: every chunk is new, none is preloaded.
			if got, w := string(b.Page([]byte(page), "index.html")), `<head>`+links(runtime)+script+script+`</head>`; got != w {
				t.Errorf("Page =\n%s\nwant\n%s", got, w)
			}
			imports := func() map[string]bool {
				m := map[string]bool{}
				for _, line := range strings.Split(get(t, b, "/main.js"), "\n") {
					if u, ok := strings.CutPrefix(line, `import "`); ok {
						m[strings.TrimSuffix(u, `";`)] = true
					}
				}
				return m
			}
			before := imports()
			if tt.chunks != (len(before) > 0) {
				t.Fatalf("main.js imports %v", before)
			}
			writeFiles(t, root, map[string]string{"m/7.js": "export const v7 = 'seven';\n"})
			mustBuild(t, b, []string{"m/7.js"})
			got := string(b.Page([]byte(page), "index.html"))
			want := []string{runtime}
			for u := range imports() {
				if !before[u] {
					want = append(want, u)
				}
			}
			if tt.chunks && len(want) != 2 {
				t.Fatalf("the edit changed the chunks %q", want[1:])
			}
			if w := `<head>` + links(want...) + script + script + `</head>`; got != w {
				t.Errorf("Page after an edit =\n%s\nwant\n%s", got, w)
			}
			csp := `<meta http-equiv="Content-Security-Policy" content="script-src 'self'">` + page
			if got := string(b.Page([]byte(csp), "index.html")); got != csp {
				t.Errorf("Page with a policy =\n%s", got)
			}
			if got := string(b.LinkCSS([]byte(page), "index.html")); got != page {
				t.Errorf("LinkCSS =\n%s", got)
			}
		})
	}
}

// TestAppendJSONString: a string goes into a registration as
// encoding/json writes it.
func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"", "/src/b.ts", "./a.js?raw", `a"b`, `a\b`, "<x>&", "é", "\u2028", "\x01", "\xff"} {
		want, _ := json.Marshal(s)
		if got := appendJSONString([]byte("x"), s); string(got) != "x"+string(want) {
			t.Errorf("appendJSONString(%q) = %s, want x%s", s, got, want)
		}
	}
}

// TestPageStyles: in module mode the page links, before its entry's
// script, the stylesheets its modules link as they run (CSS files and CSS
// modules), in the order they run, each once, with the id and href the
// modules pass to updateStyle; also in a page with a policy and a
// backend's page. Before, they came only once the modules ran: the page
// showed unstyled, and code that measured at start measured it so.
func TestPageStyles(t *testing.T) {
	root := project(t, map[string]string{
		"index.html":   `<script type="module" src="/main.js"></script>`,
		"main.js":      "import './a.js';\nimport './main.css';\n",
		"a.js":         "import './a.css';\nimport s from './b.module.css';\nimport './main.css';\nconsole.log(s);\n",
		"a.css":        ".a { color: red; }\n",
		"b.module.css": ".b { color: blue; }\n",
		"main.css":     "body { margin: 0; }\n",
	})
	b := open(t, Options{Root: root, Modules: true})
	mustBuild(t, b, nil)
	hrefs := map[string]string{}
	for _, id := range []string{"/a.css?module", "/a.js", "/main.css?module"} {
		b.mu.Lock()
		hrefs[id] = b.graph.mods[id].styleHref()
		b.mu.Unlock()
		if !strings.Contains(get(t, b, "/main.js"), `.style("`+hrefs[id]+`")`) || hrefs[id] == "" {
			t.Fatalf("module %s links %q, not in the script", id, hrefs[id])
		}
	}
	link := func(id string) string {
		return `<link rel="stylesheet" href="` + hrefs[id] + `" data-devserve-style="` + id + `">`
	}
	const script = `<script type="module" src="/main.js"></script>`
	// a.js's CSS modules' stylesheet goes where it imports the first, as
	// Vite links a CSS module: between a.css and main.css.
	want := link("/a.css?module") + link("/a.js") + link("/main.css?module")
	for name, got := range map[string]string{
		"Page":               string(b.Page([]byte(script+script), "index.html")),
		"Page with a policy": string(b.Page([]byte(`<meta http-equiv="Content-Security-Policy" content="style-src 'self'">`+script), "index.html")),
		"LinkCSS":            string(b.LinkCSS([]byte(script), "index.html")),
	} {
		if !strings.Contains(got, want+script) && !strings.Contains(got, want+`<link rel="modulepreload"`) {
			t.Errorf("%s =\n%s\nwant the links\n%s", name, got, want)
		}
		if strings.Count(got, `rel="stylesheet"`) != 3 {
			t.Errorf("%s links %d stylesheets, want 3:\n%s", name, strings.Count(got, `rel="stylesheet"`), got)
		}
	}

	// An edit of a stylesheet, then of an import, gives the page the
	// new href, and the new order.
	old := hrefs["/a.css?module"]
	writeFiles(t, root, map[string]string{"a.css": ".a { color: green; }\n"})
	mustBuild(t, b, []string{"a.css"})
	if got := string(b.Page([]byte(script), "index.html")); strings.Contains(got, old) || !strings.Contains(got, `data-devserve-style="/a.css?module"`) {
		t.Errorf("Page after an edit of a.css =\n%s\nwant a new href for it", got)
	}
	writeFiles(t, root, map[string]string{"main.js": "import './main.css';\nimport './a.js';\n"})
	mustBuild(t, b, []string{"main.js"})
	got := string(b.Page([]byte(script), "index.html"))
	if m, a := strings.Index(got, `"/main.css?module"`), strings.Index(got, `"/a.css?module"`); m < 0 || a < 0 || m > a {
		t.Errorf("Page after main.js imports main.css first =\n%s", got)
	}
	// A CSS module imported last, then first: its stylesheet follows.
	for _, c := range []struct{ a, first, second string }{
		{"import './a.css';\nimport s from './b.module.css';\nconsole.log(s);\n", `"/a.css?module"`, `"/a.js"`},
		{"import s from './b.module.css';\nimport './a.css';\nconsole.log(s);\n", `"/a.js"`, `"/a.css?module"`},
	} {
		writeFiles(t, root, map[string]string{"main.js": "import './a.js';\n", "a.js": c.a})
		mustBuild(t, b, []string{"a.js", "main.js"})
		got := string(b.Page([]byte(script), "index.html"))
		if i, j := strings.Index(got, `data-devserve-style=`+c.first), strings.Index(got, `data-devserve-style=`+c.second); i < 0 || j < 0 || i > j {
			t.Errorf("Page with a.js\n%s=\n%s\nwant %s's stylesheet before %s's", c.a, got, c.first, c.second)
		}
	}
}
