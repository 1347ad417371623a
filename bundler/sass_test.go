package bundler

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// sassProject writes files into a new project whose node_modules links
// the Dart Sass of sass-embedded installed in testdata/npm/react19 (by
// .ci/run); the test skips when it is not installed.
func sassProject(t *testing.T, files map[string]string) string {
	t.Helper()
	npm := react19(t)
	pkg := "sass-embedded-" + sassPlatform()
	if _, err := os.Stat(filepath.Join(npm, "node_modules", pkg)); err != nil {
		t.Skipf("no %s for this platform in %s", pkg, npm)
	}
	root := project(t, files)
	if err := os.MkdirAll(filepath.Join(root, "node_modules"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(npm, "node_modules", pkg), filepath.Join(root, "node_modules", pkg)); err != nil {
		t.Fatal(err)
	}
	return root
}

// TestSass: Sass stylesheets, imported from JS, linked by a page, and as
// CSS modules, build in both modes with sass-embedded's compiler; an edit
// of a partial builds again what used it (module mode: the stylesheet's
// context, or the module of a Sass CSS module, alone); an error is at
// its file and line; bare @use looks in node_modules; a partial's url()
// is rebased to the stylesheet, as Vite does.
func TestSass(t *testing.T) {
	for _, modules := range []bool{false, true} {
		root := sassProject(t, map[string]string{
			"index.html":                    `<link rel="stylesheet" href="/src/page.sass"><script type="module" src="/src/main.js"></script>`,
			"src/main.js":                   "import './app.scss';\nimport s from './card.module.scss';\nconsole.log(s.card);\n",
			"src/app.scss":                  "@use 'theme/vars';\n@use 'kit/colors';\n@use 'theme/dot';\n.a { color: vars.$c; .b { background: colors.$bg; } }\n",
			"src/theme/_dot.scss":           ".dot { background: url(\"../img/dot.png\"); }\n",
			"src/img/dot.png":               "PNG",
			"src/theme/_vars.scss":          "$c: rgb(1, 2, 3);\n",
			"src/card.module.scss":          "@use 'theme/vars';\n.card { border-color: vars.$c; }\n",
			"src/page.sass":                 "body\n  margin: 3px\n",
			"node_modules/kit/_colors.scss": "$bg: rgb(7, 8, 9);\n",
			"node_modules/kit/package.json": `{"name": "kit"}`,
		})
		b := open(t, Options{Root: root, Modules: modules})
		mustBuild(t, b, nil)
		all := func() string {
			var s strings.Builder
			for _, o := range b.Last().Outputs {
				if o.Kind == CSS {
					s.Write(o.Contents)
				}
			}
			if modules {
				b.mu.Lock()
				for _, o := range b.graph.assets { // the CSS of CSS modules: see cssOf
					if o.Kind == CSS {
						s.Write(o.Contents)
					}
				}
				b.mu.Unlock()
			}
			return s.String()
		}
		css := all()
		for _, want := range []string{".a {\n  color: rgb(1, 2, 3);", ".a .b {\n  background: rgb(7, 8, 9);", "margin: 3px", "border-color: rgb(1, 2, 3)"} {
			if !strings.Contains(strings.ReplaceAll(css, "\r", ""), want) {
				t.Errorf("modules=%v: the CSS lacks %q:\n%s", modules, want, css)
			}
		}

		writeFiles(t, root, map[string]string{"src/theme/_vars.scss": "$c: rgb(4, 5, 6);\n"})
		if !b.Affects([]string{"src/theme/_vars.scss"}) {
			t.Errorf("modules=%v: an edit of a partial affects no build", modules)
		}
		r := mustBuild(t, b, []string{"src/theme/_vars.scss"})
		if css := all(); !strings.Contains(css, "color: rgb(4, 5, 6)") || !strings.Contains(css, "border-color: rgb(4, 5, 6)") || strings.Contains(css, "rgb(1, 2, 3)") {
			t.Errorf("modules=%v: after the partial's edit:\n%s", modules, css)
		}
		if modules {
			if got := ids(r.Modules); !slices.Equal(slices.Sorted(slices.Values(got)), []string{"/src/app.scss?module", "/src/main.js"}) {
				t.Errorf("the partial's edit updated %q, want the stylesheet's and the CSS module's importer", got)
			}
		}

		writeFiles(t, root, map[string]string{"src/theme/_vars.scss": "$c: rgb(4, 5, 6)\n.x { color: $nope; }\n"})
		r = b.Build([]string{"src/theme/_vars.scss"})
		if r.OK() || !slices.ContainsFunc(r.Errors, func(m Message) bool { return m.File == "src/theme/_vars.scss" && m.Line > 0 }) {
			t.Errorf("modules=%v: a broken partial: %+v", modules, r.Errors)
		}
		writeFiles(t, root, map[string]string{"src/theme/_vars.scss": "$c: rgb(7, 7, 7);\n"})
		if !b.Affects([]string{"src/theme/_vars.scss"}) {
			t.Errorf("modules=%v: the fix of a partial affects no build", modules)
		}
		mustBuild(t, b, []string{"src/theme/_vars.scss"})
		if css := all(); !strings.Contains(css, "color: rgb(7, 7, 7)") || !strings.Contains(css, "border-color: rgb(7, 7, 7)") {
			t.Errorf("modules=%v: after the partial's fix:\n%s", modules, css)
		}
	}
}

// TestWriteSiteSass: a production build ships the compiled CSS, with the
// page's link pointed at it, and no Sass file, partials included.
func TestWriteSiteSass(t *testing.T) {
	root := sassProject(t, map[string]string{
		"index.html":     `<link rel="stylesheet" href="/src/page.scss"><script type="module" src="/src/main.js"></script>`,
		"src/main.js":    "import './app.scss';\n",
		"src/app.scss":   "@use 'vars';\n.a { color: vars.$c; }\n",
		"src/_vars.scss": "$c: rgb(1, 2, 3);\n",
		"src/page.scss":  "body { margin: 0; }\n",
	})
	b := open(t, Options{Root: root, Production: true})
	mustBuild(t, b, nil)
	out := t.TempDir()
	if _, err := b.WriteSite(out); err != nil {
		t.Fatal(err)
	}
	if page := readFile(t, out, "index.html"); !strings.Contains(page, `href="/src/page.css"`) {
		t.Errorf("index.html:\n%s", page)
	}
	if css := readFile(t, out, "src/main.css"); !strings.Contains(css, "rgb(1, 2, 3)") {
		t.Errorf("src/main.css:\n%s", css)
	}
	filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err == nil && isSass(p) {
			t.Errorf("%s was shipped", p)
		}
		return nil
	})
}

// TestSassInline: Sass imported with ?inline is its compiled CSS as a
// string, and its partials' edits are in the next build, in both modes.
func TestSassInline(t *testing.T) {
	for _, modules := range []bool{false, true} {
		root := sassProject(t, map[string]string{
			"index.html":     `<script type="module" src="/src/main.js"></script>`,
			"src/main.js":    "import css from './el.scss?inline';\nconsole.log(css);\n",
			"src/el.scss":    "@use 'vars';\n.el { color: vars.$c; }\n",
			"src/_vars.scss": "$c: rgb(1, 2, 3);\n",
		})
		b := open(t, Options{Root: root, Modules: modules})
		mustBuild(t, b, nil)
		if js := get(t, b, "/src/main.js"); !strings.Contains(js, `color: rgb(1, 2, 3)`) || strings.Contains(js, "data:text/css") {
			t.Errorf("modules=%v: the script:\n%s", modules, js)
		}
		writeFiles(t, root, map[string]string{"src/_vars.scss": "$c: rgb(4, 5, 6);\n"})
		mustBuild(t, b, []string{"src/_vars.scss"})
		if js := get(t, b, "/src/main.js"); !strings.Contains(js, `color: rgb(4, 5, 6)`) {
			t.Errorf("modules=%v: after the partial's edit:\n%s", modules, js)
		}
	}
}

// TestSourceOfLines reads which source wrote each line from a source
// map's mappings (Dart Sass's, for a partial then the stylesheet).
func TestSourceOfLines(t *testing.T) {
	if got, want := sourceOfLines("AAAA;EACE;EACA;;;ACDF;EAAQ"), []int{0, 0, 0, -1, -1, 1, 1}; !slices.Equal(got, want) {
		t.Errorf("sourceOfLines = %v, want %v", got, want)
	}
	if got, want := decodeVLQs("gBAAgB"), []int{16, 0, 0, 16}; !slices.Equal(got, want) {
		t.Errorf("decodeVLQs = %v, want %v", got, want)
	}
	css := []byte(".c {\n  background: url(\"../img/b.png\");\n}\n.m {\n  background: url(./a.png), url(/abs.png), url(data:x);\n}\n")
	got := string(rebaseSassURLs(css, "/p/s/main.scss", []string{"/p/s/parts/_c.scss", "/p/s/main.scss"}, "AAAA;EACE;;ACFF;EACE"))
	if want := ".c {\n  background: url(\"./img/b.png\");\n}\n.m {\n  background: url(./a.png), url(/abs.png), url(data:x);\n}\n"; got != want {
		t.Errorf("rebaseSassURLs =\n%s\nwant\n%s", got, want)
	}
}

// FuzzRebaseSassURLs: no output and no mappings make the rebase panic,
// and output without a url() comes back as it is.
func FuzzRebaseSassURLs(f *testing.F) {
	f.Add(".c { background: url(\"../img/b.png\"); }\n", "AAAA;EACE;;ACFF")
	f.Add("url(", "gggg")
	f.Add("a\nurl(x)\nurl('y')", ";;;A;;B,C")
	sources := []string{"/p/s/parts/_c.scss", "/p/s/main.scss"}
	f.Fuzz(func(t *testing.T, css, mappings string) {
		out := rebaseSassURLs([]byte(css), "/p/s/main.scss", sources, mappings)
		if !strings.Contains(css, "url(") && string(out) != css {
			t.Errorf("changed without a url(): %q -> %q", css, out)
		}
	})
}
