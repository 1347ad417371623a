package bundler

import (
	"slices"
	"strings"
	"testing"
)

// TestInlineCSS: a stylesheet imported with ?inline is its built CSS as a
// string, in both modes: @imports bundled in, url()s the absolute URLs
// that serve the files (under the base path), public ones as they are;
// an edit of the stylesheet or of a file it @imports is in the next
// build, and in module mode after a restart with the module cache too.
func TestInlineCSS(t *testing.T) {
	for _, modules := range []bool{false, true} {
		root := t.TempDir()
		writeOld(t, root, map[string]string{
			"index.html":      `<script type="module" src="/src/main.js"></script>`,
			"src/main.js":     "import css from './el.css?inline';\nconsole.log(css);\n",
			"src/el.css":      "@import './base.css';\n.x { background: url(\"./a b.png\"); }\n.y { background: url(/moon.png); }\n",
			"src/base.css":    ".base { margin: 0; }\n",
			"src/a b.png":     "PNG",
			"public/moon.png": "PNG",
		})
		opts := Options{Root: root, Modules: modules, Base: "/app/", BuildOptions: BuildOptions{CacheDir: t.TempDir()}}
		b := open(t, opts)
		mustBuild(t, b, nil)
		has := func(b *Bundler, when string, wants ...string) {
			t.Helper()
			js := get(t, b, "/src/main.js")
			for _, want := range wants {
				if !strings.Contains(js, want) {
					t.Errorf("modules=%v, %s: the script lacks %s:\n%s", modules, when, want, js)
				}
			}
		}
		has(b, "built", `margin: 0;`, `url(/app/src/a%20b.png)`, `url(/app/moon.png)`)
		if strings.Contains(get(t, b, "/src/main.js"), "data:text/css") {
			t.Errorf("modules=%v: a data: URL for the stylesheet", modules)
		}

		writeFiles(t, root, map[string]string{"src/base.css": ".base { margin: 1px; }\n"})
		r := mustBuild(t, b, []string{"src/base.css"})
		has(b, "base.css edited", `margin: 1px;`)
		if got := ids(r.Modules); modules && !slices.Equal(got, []string{"/src/el.css?inline"}) {
			t.Errorf("an edit of base.css updated %q, want the stylesheet's module alone", got)
		}
		writeFiles(t, root, map[string]string{"src/el.css": "@import './base.css';\n.x { color: blue; }\n"})
		mustBuild(t, b, []string{"src/el.css"})
		has(b, "el.css edited", `color: blue;`, `margin: 1px;`)
		b.Close()

		writeOld(t, root, map[string]string{"src/base.css": ".base { margin: 2px; }\n"})
		again := open(t, opts)
		mustBuild(t, again, nil)
		has(again, "restarted after base.css was edited", `margin: 2px;`)
	}
}
