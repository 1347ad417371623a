package bundler

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// mapsProject is a project with what a bundle's outputs can be: a JS
// entry that imports a package, a CSS file (its CSS bundle) and an asset,
// and a CSS entry.
var mapsProject = map[string]string{
	"index.html":                        `<script type="module" src="/src/main.ts"></script><link rel="stylesheet" href="/style.css">`,
	"src/main.ts":                       "import { greet } from \"greeter\";\nimport { n } from \"./dep\";\nimport logo from \"./logo.svg\";\nimport \"./app.css\";\nconst x: number = n;\nconsole.log(greet(\"main\"), x, logo);\n",
	"src/dep.ts":                        "export const n: number = 1;\n",
	"src/app.css":                       ".app { color: red }\n",
	"src/logo.svg":                      "<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n",
	"style.css":                         "body { margin: 0 }\n",
	"node_modules/greeter/package.json": `{"name": "greeter", "main": "index.js"}`,
	"node_modules/greeter/index.js":     "exports.greet = function (who) { return \"hello \" + who; };\n",
}

// TestMapsOnRequest: with MapsOnRequest the scripts and stylesheets served
// are byte for byte those of a build with linked maps, and each map,
// asked for, is the one that build made, made once; none is served for
// code that no longer is what a build would make, until Build serves the
// new code; and the option changes nothing where maps are not linked.
func TestMapsOnRequest(t *testing.T) {
	root := project(t, mapsProject)
	want := open(t, Options{Root: root})
	mustBuild(t, want, nil)
	b := open(t, Options{Root: root, MapsOnRequest: true})
	r := mustBuild(t, b, nil)

	for _, o := range r.Outputs {
		if o.Kind == Map {
			t.Errorf("%s is built with the bundle", o.Path)
		}
	}
	served := []string{"/src/main.ts", "/src/main.css", "/style.css"}
	for _, p := range served {
		got, w := lookup(t, b, p), lookup(t, want, p)
		if !bytes.Equal(got.Contents, w.Contents) || got.Hash != w.Hash {
			t.Errorf("%s differs from the one built with its map:\n%s\nwant:\n%s", p, got.Contents, w.Contents)
		}
	}
	for _, p := range served {
		got, w := lookup(t, b, p+".map"), lookup(t, want, p+".map")
		if !bytes.Equal(got.Contents, w.Contents) || got.Kind != Map || got.ContentType != w.ContentType {
			t.Errorf("%s.map (%s, %s) differs from the one built with the bundle (%s, %s):\n%.300s\nwant:\n%.300s",
				p, got.Kind, got.ContentType, w.Kind, w.ContentType, got.Contents, w.Contents)
		}
		if again := lookup(t, b, p+".map"); again != got {
			t.Errorf("%s.map is made again for the same output", p)
		}
	}
	if _, ok := b.Lookup("/src/nothing.js.map"); ok {
		t.Error("a map of nothing served is found")
	}

	// A file changed since the build: the code served is not what a
	// build makes now, so no map of it is.
	b2 := open(t, Options{Root: root, MapsOnRequest: true})
	mustBuild(t, b2, nil)
	writeFiles(t, root, map[string]string{"src/dep.ts": "export const n: number = 2;\n"})
	if o, ok := b2.Lookup("/src/main.ts.map"); ok {
		t.Fatalf("a map is served for code built before an edit:\n%.300s", o.Contents)
	}
	mustBuild(t, b2, []string{"src/dep.ts"})
	m := lookup(t, b2, "/src/main.ts.map")
	var sm struct{ SourcesContent []string }
	if err := json.Unmarshal(m.Contents, &sm); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(sm.SourcesContent, "\n"), "n: number = 2") {
		t.Errorf("the map after the edit's build holds the old source:\n%.500s", m.Contents)
	}

	// Inline maps, and no maps, are as without the option.
	for _, sourcemap := range []string{"inline", "none"} {
		with := open(t, Options{Root: root, MapsOnRequest: true, BuildOptions: BuildOptions{Sourcemap: sourcemap}})
		without := open(t, Options{Root: root, BuildOptions: BuildOptions{Sourcemap: sourcemap}})
		mustBuild(t, with, nil)
		mustBuild(t, without, nil)
		if got, w := lookup(t, with, "/src/main.ts"), lookup(t, without, "/src/main.ts"); !bytes.Equal(got.Contents, w.Contents) {
			t.Errorf("sourcemap %q: the option changed the script:\n%.300s\nwant:\n%.300s", sourcemap, got.Contents, w.Contents)
		}
		if _, ok := with.Lookup("/src/main.ts.map"); ok {
			t.Errorf("sourcemap %q: a map is served", sourcemap)
		}
	}
}
