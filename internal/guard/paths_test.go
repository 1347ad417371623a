package guard

import (
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzCleanPath checks CleanPath's promise: a path it accepts names exactly
// one thing under the root, spelled one way.
func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{"/", "/a", "/a/", "/a/b.js", "/..", "/a/../b", "//x", "/a\\b", "/\xc0\xae", "/a\x00", "/.env", "/a/./b", "/ä/ö"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		rel, dir, ok := CleanPath(p)
		if !ok {
			if rel != "" || dir {
				t.Fatalf("CleanPath(%q) refused it but returned %q, %v", p, rel, dir)
			}
			return
		}
		if want := strings.TrimPrefix(path.Clean(p), "/"); rel != want {
			t.Fatalf("CleanPath(%q) = %q, but it cleans to %q", p, rel, want)
		}
		if !utf8.ValidString(rel) || strings.ContainsAny(rel, "\\\x00") || strings.HasPrefix(rel, "/") {
			t.Fatalf("CleanPath(%q) = %q", p, rel)
		}
		for _, seg := range strings.Split(rel, "/") {
			if rel != "" && (seg == "" || seg == "." || seg == "..") {
				t.Fatalf("CleanPath(%q) = %q: segment %q", p, rel, seg)
			}
		}
		if local := filepath.FromSlash(rel); rel != "" && !filepath.IsLocal(local) {
			t.Fatalf("CleanPath(%q) = %q: not a local path", p, rel)
		}
		if dir != (strings.HasSuffix(p, "/")) {
			t.Fatalf("CleanPath(%q): dir = %v", p, dir)
		}
	})
}

func TestLinksToDotfile(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	for _, f := range []string{".env", ".git/config", "src/a.js", "node_modules/.pnpm/pkg@1/index.js"} {
		p := filepath.Join(root, filepath.FromSlash(f))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, nil, 0o644)
	}
	os.WriteFile(filepath.Join(outside, "x.txt"), nil, 0o644)
	for link, target := range map[string]string{
		"env.txt":          ".env",
		"gitdir":           ".git",
		"src/b.js":         "a.js",
		"src/up":           "..",
		"node_modules/pkg": ".pnpm/pkg@1",
		"node_modules/env": "../.env",
		"out.txt":          filepath.Join(outside, "x.txt"),
		"dangling":         "nowhere",
		"loop":             "loop",
	} {
		if err := os.Symlink(target, filepath.Join(root, filepath.FromSlash(link))); err != nil {
			t.Fatal(err)
		}
	}
	tests := map[string]bool{
		".":                         false,
		"src/a.js":                  false,
		"src/b.js":                  false,
		"src/up/src/a.js":           false,
		"node_modules/pkg/index.js": false,
		"env.txt":                   true,
		"gitdir/config":             true,
		"src/up/.env":               true,
		"node_modules/env":          true,
		"out.txt":                   true,
		"dangling":                  true,
		"loop":                      true,
		"missing.js":                true,
	}
	for name, want := range tests {
		if got := LinksToDotfile(root, filepath.FromSlash(name)); got != want {
			t.Errorf("LinksToDotfile(%q) = %v, want %v", name, got, want)
		}
	}
}
