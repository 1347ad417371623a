package bundler

import (
	"strings"
	"testing"
)

func TestNormalizeBase(t *testing.T) {
	cases := []struct {
		in, want, err string
	}{
		{"", "/", ""},
		{"/", "/", ""},
		{"/app/", "/app/", ""},
		{"/app", "/app/", ""},
		{"app", "/app/", ""},
		{"app/", "/app/", ""},
		{"/my-app/v1.2/", "/my-app/v1.2/", ""},
		{"/~user/@x+y_z/", "/~user/@x+y_z/", ""},
		{"//", "", "want a URL path"},
		{"https://cdn.example/app/", "", "not a full URL"},
		{"//cdn.example/app/", "", "not a full URL"},
		{"./", "", "without . or .."},
		{"/app/../x/", "", "without . or .."},
		{"/a//b/", "", "empty path segment"},
		{"/app?x=1", "", "not allowed"},
		{"/app#x", "", "not allowed"},
		{"/a%2fb/", "", "not allowed"},
		{"/a b/", "", "not allowed"},
		{`/a\b/`, "", "not allowed"},
		{"/__devserve/", "", "devserve's own"},
		{"/__devserve/x", "", "devserve's own"},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := NormalizeBase(c.in)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("NormalizeBase(%q) = %q, %v; want an error with %q", c.in, got, err, c.err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("NormalizeBase(%q) = %q, %v; want %q", c.in, got, err, c.want)
			}
		})
	}
}

// TestBaseURLs checks that every URL written for the browser carries the
// base, in module mode and bundled, while paths and ids stay root-relative.
func TestBaseURLs(t *testing.T) {
	files := map[string]string{
		"index.html": `<script type="module" src="/src/main.ts"></script>`,
		"src/main.ts": "import logo from './logo.png';\nimport './style.css';\nimport { n } from './n';\n" +
			"document.body.dataset.logo = logo; document.body.dataset.base = import.meta.env.BASE_URL + n;\n",
		"src/n.ts":        "export const n = 1;\n",
		"src/logo.png":    "png",
		"src/style.css":   "body { background: url(/moon.svg) }\n",
		"public/moon.svg": "<svg/>",
	}
	for _, modules := range []bool{true, false} {
		name := "bundled"
		if modules {
			name = "modules"
		}
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			writeFiles(t, root, files)
			b, err := New(Options{Root: root, Modules: modules, Base: "app"})
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			if b.Base() != "/app/" {
				t.Errorf("Base() = %q", b.Base())
			}
			r := mustBuild(t, b, nil)
			var js, css string
			for _, o := range r.Outputs {
				if !strings.HasPrefix(o.Path, "/") || strings.HasPrefix(o.Path, "/app/") {
					t.Errorf("output path %s is not root-relative", o.Path)
				}
				switch {
				case o.Kind == JS:
					js += string(o.Contents)
				case o.Kind == CSS:
					css += string(o.Contents)
				}
			}
			if modules {
				js = get(t, b, "/src/main.ts") // assembled when asked for
			}
			want := []string{`"/app/"`, `"/app/src/logo-`}
			if modules {
				want = append(want, `from"/app/__devserve/hmr.js"`, `"/app/src/style.css?v=`)
			}
			for _, w := range want {
				if !strings.Contains(js, w) {
					t.Errorf("JS lacks %s:\n%s", w, js)
				}
			}
			if !strings.Contains(css, "url(/app/moon.svg)") {
				t.Errorf("CSS lacks the public file under the base:\n%s", css)
			}
			if modules {
				writeFiles(t, root, map[string]string{"src/n.ts": "export const n = 2;\n"})
				r = mustBuild(t, b, []string{"src/n.ts"})
				if len(r.Modules) != 1 || r.Modules[0].ID != "/src/n.ts" || !strings.HasPrefix(r.Modules[0].URL, "/app/__devserve/m/src/n.ts?v=") {
					t.Fatalf("Modules = %+v", r.Modules)
				}
				up := get(t, b, strings.TrimPrefix(r.Modules[0].URL, "/app"))
				if !strings.HasPrefix(up, `import{update as __devserve_define}from"/app/__devserve/hmr.js";`) {
					t.Errorf("update script:\n%s", up)
				}
			}
			page := string(b.Page([]byte(files["index.html"]), "index.html"))
			if !strings.Contains(page, `src="/app/src/main.ts"`) {
				t.Errorf("Page: %s", page)
			}
		})
	}
}

// TestWriteSiteBase checks that a production build under a base path
// writes its pages' and bundles' URLs with the base.
func TestWriteSiteBase(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"index.html":   `<link rel="icon" href="/favicon.ico"><script type="module" src="/src/main.ts"></script>`,
		"src/main.ts":  "import logo from './logo.png';\nimport './main.css';\nconsole.log(logo, import.meta.env.BASE_URL);\n",
		"src/main.css": "body { color: red }\n",
		"src/logo.png": "png",
		"favicon.ico":  "ico",
	})
	b, err := New(Options{Root: root, Production: true, Base: "/app/"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	mustBuild(t, b, nil)
	dist := t.TempDir()
	if _, err := b.WriteSite(dist); err != nil {
		t.Fatal(err)
	}
	want := `<link rel="icon" href="/app/favicon.ico"><link rel="stylesheet" href="/app/src/main.css"><script type="module" src="/app/src/main.js"></script>`
	if page := readFile(t, dist, "index.html"); page != want {
		t.Errorf("index.html:\n%s\nwant\n%s", page, want)
	}
	js := readFile(t, dist, "src/main.js")
	if !strings.Contains(js, `"/app/src/logo-`) || !strings.Contains(js, `"/app/"`) {
		t.Errorf("main.js:\n%s", js)
	}
}
