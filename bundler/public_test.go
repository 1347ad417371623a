package bundler

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestIsPublic(t *testing.T) {
	for rel, want := range map[string]bool{
		"public":               true,
		"public/robots.txt":    true,
		"public/img/moon.svg":  true,
		"publicity.txt":        false,
		"public.html":          false,
		"src/public/x.svg":     false,
		"":                     false,
		"publicx/robots.txt":   false,
		"node_modules/public":  false,
		"public_html/index.js": false,
	} {
		if got := IsPublic(rel); got != want {
			t.Errorf("IsPublic(%q) = %v, want %v", rel, got, want)
		}
	}
}

func TestPublicFileExists(t *testing.T) {
	dir := filepath.Join(project(t, map[string]string{
		"public/moon.svg":           "<svg/>",
		"public/fonts/a b.woff2":    "font",
		"public/.secret.svg":        "<svg/>",
		"public/.hidden/x.svg":      "<svg/>",
		"public/img/sub/star.svg":   "<svg/>",
		"outside.svg":               "<svg/>",
		"public/folder.svg/x.svg":   "<svg/>",
		"public/with space/moo.svg": "<svg/>",
	}), PublicDir)
	for ref, want := range map[string]bool{
		"/moon.svg":              true,
		"/moon.svg?v=1":          true,
		"/moon.svg#frag":         true,
		"/fonts/a%20b.woff2":     true,
		"/fonts/a b.woff2":       true,
		"/img/sub/star.svg":      true,
		"/with space/moo.svg":    true,
		"/nope.svg":              false,
		"/":                      false,
		"/.secret.svg":           false,
		"/.hidden/x.svg":         false,
		"/../outside.svg":        false,
		"/img/../moon.svg":       false,
		"/img/./sub/star.svg":    false,
		"/img//sub/star.svg":     false,
		"/folder.svg":            false,
		"/img\\sub\\star.svg":    false,
		"/moon.svg%00":           false,
		"/%2e%2e/outside.svg":    false,
		"/img/sub/star.svg/../x": false,
	} {
		if got := publicFileExists(dir, ref); got != want {
			t.Errorf("publicFileExists(%q) = %v, want %v", ref, got, want)
		}
	}
}

// TestPublicURLs checks that absolute URLs to files of public/ build in
// CSS and JS, in every mode, and stay as written.
func TestPublicURLs(t *testing.T) {
	files := map[string]string{
		"index.html":           `<link rel="stylesheet" href="/style.css"><script type="module" src="/main.ts"></script>`,
		"style.css":            `body { background: url("/moon.svg") } @font-face { src: url(/fonts/a.woff2?#iefix) } .x { background: url(img/local.png) }`,
		"img/local.png":        "png",
		"main.ts":              `import moon from "/moon.svg"; console.log(moon);`,
		"public/moon.svg":      "<svg/>",
		"public/fonts/a.woff2": "font",
	}
	tests := []struct {
		name    string
		modules bool
		urls    map[string][]string // output -> what it must hold
	}{
		{"bundled", false, map[string][]string{
			"/style.css": {`url(/moon.svg)`, `url(/fonts/a.woff2?#iefix)`, `img/local-`},
			"/main.ts":   {`"/moon.svg"`},
		}},
		// Module mode's contexts set their own plugins for JS (see
		// moduleOptions); its CSS entries use the shared options.
		{"modules", true, map[string][]string{
			"/style.css": {`url(/moon.svg)`, `url(/fonts/a.woff2?#iefix)`, `img/local-`},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := project(t, files)
			if tt.modules {
				os.WriteFile(filepath.Join(root, "main.ts"), []byte(`console.log(1);`), 0o644)
			}
			b := open(t, Options{Root: root, Modules: tt.modules})
			mustBuild(t, b, nil)
			for u, wants := range tt.urls {
				got := string(lookup(t, b, u).Contents)
				for _, w := range wants {
					if !strings.Contains(got, w) {
						t.Errorf("%s does not hold %s:\n%s", u, w, got)
					}
				}
			}
		})
	}

	// A URL to a file that public/ does not have is an error, as before;
	// creating the file fixes the build.
	root := project(t, map[string]string{
		"index.html": `<link rel="stylesheet" href="/style.css">`,
		"style.css":  `body { background: url("/later.svg") }`,
	})
	b := open(t, Options{Root: root})
	if r := b.Build(nil); r.OK() {
		t.Fatalf("a URL to a missing public file built: %+v", r.Outputs)
	}
	writeFiles(t, root, map[string]string{"public/later.svg": "<svg/>"})
	if !b.Affects([]string{"public/later.svg"}) {
		t.Error("a new public file does not affect a build that failed")
	}
	mustBuild(t, b, []string{"public/later.svg"})
	if !b.Affects([]string{"style.css"}) || b.Affects([]string{"public/later.svg"}) {
		t.Error("after a good build, a public file still affects it, or its input does not")
	}
}

// TestPublicNotSources checks that the pages of public/ are not searched
// for entries, that a page's URL into public/ is no entry, and that
// changes under public/ cost no build.
func TestPublicNotSources(t *testing.T) {
	root := fixture(t, "spa")
	writeFiles(t, root, map[string]string{
		"other.html":          `<script type="module" src="/public/x.ts"></script>`,
		"public/x.ts":         `console.log("x")`,
		"public/package.json": `{}`,
		"public/sub/a.html":   `<script type="module" src="/src/extra.ts"></script>`,
	})
	b := open(t, Options{Root: root})
	r := mustBuild(t, b, nil)
	if got, want := b.Entries(), []string{"src/admin.ts", "src/main.ts", "style.css"}; !slices.Equal(got, want) {
		t.Errorf("entries = %q, want %q", got, want)
	}
	for _, in := range r.Inputs {
		if IsPublic(in) {
			t.Errorf("input %s of public/", in)
		}
	}
	for _, p := range []string{"public/page.html", "public/new.html", "public/package.json", "public/tsconfig.json", "public/x.ts", "public/robots.txt", "public"} {
		if b.Affects([]string{p}) {
			t.Errorf("a change of %s affects the build", p)
		}
	}
	for _, p := range []string{"index.html", "package.json", "src/show.ts"} {
		if !b.Affects([]string{p}) {
			t.Errorf("a change of %s does not affect the build", p)
		}
	}
}

// warnings is a slog.Handler that keeps the messages of warnings.
type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (w *warnings) Handle(_ context.Context, r slog.Record) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, r.Message)
	return nil
}
func (w *warnings) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w *warnings) WithGroup(string) slog.Handler      { return w }

func TestWriteSitePublic(t *testing.T) {
	root := fixture(t, "spa")
	writeFiles(t, root, map[string]string{
		"robots.txt":           "the source tree's",
		"public/.env":          "SECRET",
		"public/.well/x.txt":   "hidden folder",
		"public/img/star.svg":  "<svg>star</svg>",
		"public/style.css":     "/* public's */",
		"public/index.html.gz": "gz",
	})
	var warn warnings
	b := open(t, Options{Root: root, Logger: slog.New(&warn)})
	mustBuild(t, b, nil)
	dist := filepath.Join(t.TempDir(), "dist")
	if _, err := b.WriteSite(dist); err != nil {
		t.Fatal(err)
	}
	var got []string
	filepath.WalkDir(dist, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dist, p)
			got = append(got, filepath.ToSlash(rel))
		}
		return err
	})
	for _, want := range []string{"robots.txt", "moon.svg", "data.txt", "page.html", "img/star.svg", "index.html.gz", "index.html", "admin/index.html", "src/main.js"} {
		if !slices.Contains(got, want) {
			t.Errorf("%s not written; got %q", want, got)
		}
	}
	for _, f := range got {
		if strings.HasPrefix(f, "public/") || strings.Contains(f, ".env") || strings.Contains(f, ".well") {
			t.Errorf("%s written", f)
		}
	}
	// As they are: a page of public/ keeps its script URL and gets no
	// stylesheet link; a clash goes to public/ and is told.
	for name, want := range map[string]string{
		"page.html":    readFile(t, root, "public/page.html"),
		"robots.txt":   readFile(t, root, "public/robots.txt"),
		"style.css":    "/* public's */",
		"img/star.svg": "<svg>star</svg>",
	} {
		if got := readFile(t, dist, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	warn.mu.Lock()
	defer warn.mu.Unlock()
	if len(warn.msgs) != 2 || !strings.Contains(strings.Join(warn.msgs, "\n"), "public/robots.txt") || !strings.Contains(strings.Join(warn.msgs, "\n"), "public/style.css") {
		t.Errorf("warnings = %q, want one for robots.txt and one for style.css", warn.msgs)
	}
}
