package bundler

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// modProject is a project for module mode: an entry importing a
// self-accepting counter, a plain module, a module accepting a dep, CSS
// from JS, JSON and a package.
var modProject = map[string]string{
	"index.html":     `<script type="module" src="/main.ts"></script>`,
	"main.ts":        "import { count } from './counter';\nimport { plain } from './plain';\nimport './widget';\nimport './style.css';\nimport data from './data.json';\nimport { shout } from 'tiny';\nconsole.log(count, plain, data.n, shout('x'));\n",
	"counter.ts":     "export const count: number = 1;\nif (import.meta.hot) import.meta.hot.accept();\n",
	"plain.ts":       "import { leaf } from './leaf';\nexport const plain = leaf + 1;\n",
	"leaf.ts":        "export const leaf = 1;\n",
	"widget.ts":      "import { part } from './part';\nimport.meta.hot?.accept('./part', () => {});\nexport const w = part;\n",
	"part.ts":        "import { sub } from './sub';\nexport const part = sub;\n",
	"sub.ts":         "export const sub = 'sub';\n",
	"style.css":      "body { color: red }\n",
	"data.json":      `{"n": 1}`,
	"node_modules/tiny/package.json": `{"name":"tiny","type":"module","main":"index.js"}`,
	"node_modules/tiny/index.js":     "export const shout = (s) => s.toUpperCase();\n",
}

func get(t *testing.T, b *Bundler, raw string) (string, bool) {
	t.Helper()
	u, _ := url.Parse(raw)
	o, immutable, ok := b.LookupURL(u)
	if !ok {
		t.Fatalf("LookupURL(%s): not found", raw)
	}
	return string(o.Contents), immutable
}

func TestModules(t *testing.T) {
	root := project(t, modProject)
	b := open(t, Options{Root: root, Modules: true})
	r := mustBuild(t, b, nil)
	if r.Hot != nil {
		t.Errorf("first build Hot = %+v", r.Hot)
	}
	main, _ := get(t, b, "/main.ts")
	for _, want := range []string{`from"/__devserve/hmr.js"`, `"./counter":"/counter.ts"`, `from "/counter.ts"`,
		`"/style.css?module"`, `from "/__devserve/deps/tiny/index.js"`, "sourceMappingURL=data:"} {
		if !strings.Contains(main, want) {
			t.Errorf("main.ts lacks %q:\n%s", want, main)
		}
	}
	var im struct{ Imports map[string]string }
	if err := json.Unmarshal(b.ImportMap(), &im); err != nil {
		t.Fatal(err)
	}
	if _, ok := im.Imports["/main.ts"]; ok {
		t.Error("the entry is in the import map")
	}
	for _, id := range []string{"/counter.ts", "/leaf.ts", "/style.css?module", "/__devserve/deps/tiny/index.js", HMRPath} {
		if im.Imports[id] == "" {
			t.Errorf("import map lacks %s: %v", id, im.Imports)
		}
	}
	if _, imm := get(t, b, im.Imports["/leaf.ts"]); !imm {
		t.Error("current version not immutable")
	}
	css, _ := get(t, b, "/style.css?module")
	if !strings.Contains(css, "updateStyle") || !strings.Contains(css, `"/style.css?v=`) {
		t.Errorf("css module: %s", css)
	}
	if dep, _ := get(t, b, "/__devserve/deps/tiny/index.js"); !strings.Contains(dep, "toUpperCase") {
		t.Errorf("dep: %s", dep)
	}

	cases := []struct {
		name  string
		file  string
		body  string
		want  []HotUpdate // URL checked for a prefix only
	}{
		{"self-accepting", "counter.ts", "export const count: number = 2;\nif (import.meta.hot) import.meta.hot.accept();\n",
			[]HotUpdate{{Boundary: "/counter.ts", Accepted: "/counter.ts"}}},
		{"reaches the entry", "leaf.ts", "export const leaf = 2;\n",
			[]HotUpdate{{Boundary: "/leaf.ts", Reload: true}}},
		{"accepted by an importer", "sub.ts", "export const sub = 'sub2';\n",
			[]HotUpdate{{Boundary: "/widget.ts", Accepted: "/part.ts"}}},
		{"css", "style.css", "body { color: blue }\n",
			[]HotUpdate{{Boundary: "/style.css?module", Accepted: "/style.css?module"}}},
		{"json inlined into the entry", "data.json", `{"n": 2}`,
			[]HotUpdate{{Boundary: "/main.ts", Reload: true}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			writeFiles(t, root, map[string]string{c.file: c.body})
			r := mustBuild(t, b, []string{c.file})
			if len(r.Hot) != len(c.want) {
				t.Fatalf("Hot = %+v, want %+v", r.Hot, c.want)
			}
			for i, u := range r.Hot {
				w := c.want[i]
				if u.Boundary != w.Boundary || u.Accepted != w.Accepted || u.Reload != w.Reload ||
					(!u.Reload && !strings.HasPrefix(u.URL, u.Accepted)) {
					t.Errorf("Hot[%d] = %+v, want %+v", i, u, w)
				}
			}
		})
	}
}
