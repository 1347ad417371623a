package hmr

import (
	"strings"
	"testing"

	"github.com/devserve/devserve/internal/browsertest"
)

// These tests give the server bad input in a real browser (issues #12 and
// #13): each starts from a good build, breaks it, checks that the terminal
// (the build report, which the command prints) and the overlay say what is
// wrong, where, while the page keeps running the last good code, and then
// fixes the input and checks that the page shows what is on disk.

// TestBrowserBadPackages imports packages that name no file, on a copy of
// testdata/live: one not installed, one whose "main" names a missing file,
// one whose "exports" entries point at each other. The overlay and the
// report give the importing file and line and the package.json field at
// fault; the page and the server keep the last good build; installing or
// repairing the package (which, as npm does, writes the project's
// package.json) shows the package's code.
func TestBrowserBadPackages(t *testing.T) {
	browser := browsertest.New(t)
	for _, c := range []struct {
		name     string
		broken   map[string]string // files of the project before the import
		spec     string            // what value.js imports
		want     []string          // in the error, besides value.js:2
		fixed    map[string]string // files that repair the package
		fixedOut string
	}{{
		name: "not installed",
		spec: "notinstalled",
		want: []string{`Could not resolve "notinstalled": the package "notinstalled" is not installed (npm install notinstalled)`},
		fixed: map[string]string{
			"node_modules/notinstalled/package.json": `{"name":"notinstalled","main":"index.js"}`,
			"node_modules/notinstalled/index.js":     `exports.value = "installed";`,
		},
		fixedOut: "installed",
	}, {
		name:   "main missing",
		broken: map[string]string{"node_modules/nomain/package.json": "{\n  \"name\": \"nomain\",\n  \"main\": \"lib/gone.js\"\n}\n"},
		spec:   "nomain",
		want: []string{`the package "nomain" is installed in node_modules/nomain but names no file for it`,
			`its package.json field "main" is "lib/gone.js", which is not a file of the package (node_modules/nomain/package.json:3)`},
		fixed:    map[string]string{"node_modules/nomain/lib/gone.js": `exports.value = "main back";`},
		fixedOut: "main back",
	}, {
		name: "circular exports",
		broken: map[string]string{"node_modules/loop/package.json": "{\n  \"name\": \"loop\",\n  \"exports\": {\n" +
			"    \"./a\": \"./b\",\n    \"./b\": \"./a\"\n  }\n}\n"},
		spec: "loop/a",
		want: []string{`its package.json "exports" maps "./a" to "./b", which is not a file of the package (node_modules/loop/package.json:4)`,
			`"./b" is also a key of "exports", but the map's targets are files, never looked up in the map again`},
		fixed: map[string]string{
			"node_modules/loop/package.json": `{"name":"loop","exports":{"./a":"./a.js"}}`,
			"node_modules/loop/a.js":         `export const value = "exports fixed";`,
		},
		fixedOut: "exports fixed",
	}} {
		t.Run(c.name, func(t *testing.T) {
			dir := copyFixture(t, "live")
			for rel, body := range c.broken {
				writeTestFile(t, dir, rel, body)
			}
			writeTestFile(t, dir, "package.json", `{"name":"live"}`)
			ts := startServer(t, dir, "127.0.0.1:0", Options{})
			tab := browsertest.NewTab(t, browser)
			navigate(t, tab, ts.URL)
			waitJS(t, tab, outText("one")+` && `+pageOK)
			if err := browsertest.MarkPage(tab); err != nil {
				t.Fatal(err)
			}

			ts.write(t, "value.js", "// uses a package\nimport { value as v } from \""+c.spec+"\";\nexport const value = v;\n")
			r := ts.waitErrors(t, c.want[0])
			if len(r.Errors) != 1 || r.Errors[0].File != "value.js" || r.Errors[0].Line != 2 {
				t.Errorf("report errors = %+v, want one at value.js:2", r.Errors)
			}
			for _, w := range c.want {
				if !strings.Contains(errorsText(r), w) {
					t.Errorf("the report says %q, want %q in it", errorsText(r), w)
				}
				waitJS(t, tab, overlayShows(w))
			}
			waitJS(t, tab, overlayShows("value.js:2:")+` && `+overlayShows(`2 | import { value as v } from "`+c.spec+`";`))
			// The page and the server keep the last good build.
			samePage(t, tab, "a failed build")
			waitJS(t, tab, outText("one"))
			_, served := request(t, ts.http, "GET", "/main.js") // it holds value.js
			if !strings.Contains(served, `"one"`) || strings.Contains(served, c.spec) {
				t.Errorf("after the failed build /main.js is\n%s\nwant the last good build's", served)
			}

			// Repair the package as npm would, package.json last.
			for rel, body := range c.fixed {
				ts.write(t, rel, body)
			}
			ts.write(t, "package.json", `{"name":"live","dependencies":{"`+packageOf(c.spec)+`":"*"}}`)
			waitJS(t, tab, outText(c.fixedOut)+` && `+pageOK)
		})
	}
}

// packageOf is the package name of a bare specifier without a scope.
func packageOf(spec string) string {
	name, _, _ := strings.Cut(spec, "/")
	return name
}
