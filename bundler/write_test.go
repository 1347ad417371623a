package bundler

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestWriteSite(t *testing.T) {
	index := `<!doctype html>
<html><head><link rel="stylesheet" href="/style.css"></head>
<body>
  <!-- <script type="module" src="./src/main.ts"></script> -->
  <script type="module" src="./src/main.ts?v=1"></script>
  <script src="legacy.js"></script>
</body></html>
`
	root := project(t, map[string]string{
		"index.html":          index,
		"about/index.html":    `<p>about</p><script type=module src=/src/main.ts></script>`,
		"src/main.ts":         `import "./theme.css"; import { u } from "./util"; console.log(u);`,
		"src/util.ts":         `export const u = 1;`,
		"src/theme.css":       `h1 { color: red }`,
		"style.css":           `body { background: url(img/a.png) }`,
		"img/a.png":           "png",
		"img/unused.png":      "png2",
		"legacy.js":           "var x = 1;",
		"robots.txt":          "User-agent: *",
		"package.json":        `{"name": "x"}`,
		"tsconfig.json":       `{}`,
		".env":                "SECRET=1",
		".git/config":         "x",
		"node_modules/x/i.js": "export {}",
	})
	b := open(t, Options{Root: root})
	r := mustBuild(t, b, nil)
	png := findPath(r.Outputs, "/img/a-", ".png")
	if png == nil {
		t.Fatalf("no hashed png in %q", paths(r.Outputs))
	}

	dist := filepath.Join(root, "dist")
	n := 0
	for range 2 { // the second run must not copy dist into itself
		var err error
		if n, err = b.WriteSite(dist); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	filepath.WalkDir(dist, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dist, p)
			got = append(got, filepath.ToSlash(rel))
		}
		return err
	})
	want := []string{
		"about/index.html", strings.TrimPrefix(png.Path, "/"), "img/a.png", "img/unused.png", "index.html",
		"legacy.js", "robots.txt", "src/main.css", "src/main.css.map", "src/main.js", "src/main.js.map",
		"style.css", "style.css.map",
	}
	if !slices.Equal(got, want) {
		t.Errorf("written:\n%q\nwant\n%q", got, want)
	}
	if n != len(want) {
		t.Errorf("WriteSite says it wrote %d files, want %d", n, len(want))
	}
	wantIndex := strings.Replace(index,
		`<script type="module" src="./src/main.ts?v=1"></script>`,
		`<link rel="stylesheet" href="./src/main.css"><script type="module" src="./src/main.js?v=1"></script>`, 1)
	if page := readFile(t, dist, "index.html"); page != wantIndex {
		t.Errorf("index.html:\n%s\nwant\n%s", page, wantIndex)
	}
	if page := readFile(t, dist, "about/index.html"); page != `<p>about</p><link rel="stylesheet" href="/src/main.css"><script type="module" src="/src/main.js"></script>` {
		t.Errorf("about/index.html:\n%s", page)
	}
	if css := readFile(t, dist, "style.css"); !strings.Contains(css, strings.TrimPrefix(png.Path, "/")) {
		t.Errorf("style.css does not use the hashed image:\n%s", css)
	}

	if _, err := b.WriteSite(root); err == nil {
		t.Error("WriteSite into the root succeeded")
	}
}

func TestRewritePage(t *testing.T) {
	entries := map[string]pageEntry{
		"src/main.ts": {file: "src/main.js"},
		"app.tsx":     {file: "app.js", css: "app.css"},
		"style.css":   {file: "style.css"},
	}
	cases := []struct{ name, base, page, want string }{
		{"absolute", "", `<script type="module" src="/src/main.ts"></script>`, `<script type="module" src="/src/main.js"></script>`},
		{"relative from a sub page", "", `<script type="module" src="../src/main.ts#x"></script>`, `<script type="module" src="../src/main.js#x"></script>`},
		{"css entry unchanged", "", `<link rel="stylesheet" href="style.css?v=2">`, `<link rel="stylesheet" href="style.css?v=2">`},
		{"css bundle linked", "", `<script type="module" src="../app.tsx" async></script>`, `<link rel="stylesheet" href="../app.css"><script type="module" src="../app.js" async=""></script>`},
		{"classic script untouched", "", `<script src="/src/main.ts"></script>`, `<script src="/src/main.ts"></script>`},
		{"unknown entry untouched", "", `<script type="module" src="/other.ts"></script>`, `<script type="module" src="/other.ts"></script>`},
		{"external untouched", "", `<script type="module" src="https://x/src/main.ts"></script>`, `<script type="module" src="https://x/src/main.ts"></script>`},
		// Under a base path, what the page loads gets the base; links,
		// protocol-relative and relative URLs do not.
		{"base: entry", "/app/", `<script type="module" src="/src/main.ts?v=1"></script>`, `<script type="module" src="/app/src/main.js?v=1"></script>`},
		{"base: css bundle linked", "/app/", `<script type="module" src="/app.tsx"></script>`, `<link rel="stylesheet" href="/app/app.css"><script type="module" src="/app/app.js"></script>`},
		{"base: relative kept", "/app/", `<script type="module" src="../app.tsx"></script><img src="x.png">`, `<link rel="stylesheet" href="../app.css"><script type="module" src="../app.js"></script><img src="x.png">`},
		{"base: stylesheet, image, media", "/app/", `<link rel="icon" href="/favicon.svg"><img src="/logo.png" alt=x><video src="/v.mp4" poster="/p.jpg"></video>`, `<link rel="icon" href="/app/favicon.svg"><img src="/app/logo.png" alt="x"><video src="/app/v.mp4" poster="/app/p.jpg"></video>`},
		{"base: anchors, other hosts untouched", "/app/", `<a href="/about">a</a><script src="//cdn.example/x.js"></script><img src="/\\evil.example/x.png">`, `<a href="/about">a</a><script src="//cdn.example/x.js"></script><img src="/\\evil.example/x.png">`},
		{"base: classic script", "/app/", `<script src="/legacy.js"></script>`, `<script src="/app/legacy.js"></script>`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(rewritePage([]byte(tc.page), "sub", entries, tc.base)); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// FuzzRewritePage checks that a page with no entries to rewrite is copied
// byte for byte, whatever it holds, and that rewriting never panics.
func FuzzRewritePage(f *testing.F) {
	for _, s := range []string{
		"", "<", "<!doctype html><p>x", `<script type="module" src="/a.ts">`, "<script>", "<!--", "<a href='x", "\x00\xff<b>",
		`<SCRIPT TYPE=MODULE SRC=a.ts></SCRIPT><link rel=stylesheet href=a.css>`, "<p <p", "</", "<![CDATA[x]]>",
	} {
		f.Add([]byte(s))
	}
	entries := map[string]pageEntry{"a.ts": {file: "a.js", css: "a.css"}}
	f.Fuzz(func(t *testing.T, page []byte) {
		if got := rewritePage(page, ".", nil, ""); !bytes.Equal(got, page) {
			t.Fatalf("rewritePage changed a page with no entries:\n%q\n%q", page, got)
		}
		rewritePage(page, ".", entries, "")
		pageRefs(bytes.NewReader(page))
	})
}

// FuzzResolveRef checks that a resolved entry is always a clean path inside
// the root.
func FuzzResolveRef(f *testing.F) {
	for _, s := range []string{"/a.ts", "a.ts", "../../a.ts", "//x/a.ts", "https://x/a.ts", "a.ts?x#y", "/./b/../a.css", "%2e%2e/a.ts", `\\x\a.ts`, " /a.js "} {
		f.Add("sub", s)
	}
	f.Fuzz(func(t *testing.T, pageDir, ref string) {
		p, ok := resolveRef(pageDir, ref)
		if !ok {
			return
		}
		if p == "" || strings.HasPrefix(p, "/") || p == ".." || strings.HasPrefix(p, "../") || strings.Contains(p, "/../") || filepath.IsAbs(p) {
			t.Fatalf("resolveRef(%q, %q) = %q", pageDir, ref, p)
		}
		if _, ok := entryKind(p); !ok {
			t.Fatalf("resolveRef(%q, %q) = %q, not an entry type", pageDir, ref, p)
		}
	})
}

// TestLinkCSS covers the stylesheet links the dev server adds for CSS that
// JS entries import.
func TestLinkCSS(t *testing.T) {
	root := project(t, map[string]string{
		"index.html":     `<head><script type="module" src="/src/main.ts?x=1"></script><script type="module" src="plain.js"></script></head>`,
		"src/main.ts":    `import "./theme.css"; document.title = "x";`,
		"src/theme.css":  `body { color: red }`,
		"plain.js":       `document.title = "plain";`,
		"other.html":     `<p>no scripts</p>`,
		"sub/index.html": `<script type="module" src="../src/main.ts"></script>`,
	})
	b := open(t, Options{Root: root})
	mustBuild(t, b, nil)
	tests := []struct{ page, in, want string }{
		{"index.html", readFile(t, root, "index.html"),
			`<head><link rel="stylesheet" href="/src/main.css"><script type="module" src="/src/main.ts?x=1"></script><script type="module" src="plain.js"></script></head>`},
		{"sub/index.html", readFile(t, root, "sub/index.html"),
			`<link rel="stylesheet" href="../src/main.css"><script type="module" src="../src/main.ts"></script>`},
		{"other.html", readFile(t, root, "other.html"), `<p>no scripts</p>`},
	}
	for _, tt := range tests {
		if got := string(b.LinkCSS([]byte(tt.in), tt.page)); got != tt.want {
			t.Errorf("LinkCSS(%s) =\n%s\nwant\n%s", tt.page, got, tt.want)
		}
	}
}

func TestNotShipped(t *testing.T) {
	for _, c := range []struct {
		p    string
		want bool
	}{
		{"vite.config.ts", true}, {"vite.config.mjs", true}, {"src/types.d.ts", true}, {"src/unused.tsx", true},
		{"package-lock.json", true}, {"pnpm-lock.yaml", true}, {"sub/yarn.lock", true}, {"tailwind.config.js", true},
		{"robots.txt", false}, {"img/logo.svg", false}, {"data.json", false}, {"vite.svg", false}, {"legacy.js", false},
	} {
		if got := notShipped(c.p); got != c.want {
			t.Errorf("notShipped(%q) = %v, want %v", c.p, got, c.want)
		}
	}
}
