package bundler

import (
	"maps"
	"path/filepath"
	"slices"
	"testing"
)

// TestTouched checks the file index of the graph against touchedBy, which
// it stands in for: every module a change can change, and no other.
func TestTouched(t *testing.T) {
	pkg := filepath.Join(t.TempDir(), "linked", "pkg")
	mods := []*module{
		{id: "/src/a.ts", file: "src/a.ts"},
		{id: "/src/a.ts.bak.js", file: "src/a.ts.bak.js"},
		{id: "/src/b/c.ts", file: "src/b/c.ts", inline: map[string]bool{"assets/x.svg": true}},
		{id: "/src-old/d.js", file: "src-old/d.js"},
		{id: "/src/b-c/e.js", file: "src/b-c/e.js"},
		{id: "/main.js", file: "main.js"},
		{id: "/img.svg", file: "img.svg"},
		{id: "/img.svg?url", file: "img.svg"},
		{id: "/src/x.css?module", file: "src/x.css", css: true},
		{id: "/__devserve/deps/pkg/index.js", file: filepath.Join(pkg, "index.js"), dep: true},
		{id: "/__devserve/deps/pkg/lib/util.js", file: filepath.Join(pkg, "lib", "util.js"), dep: true},
		stubModule("/__devserve/deps/__node/fs.js"),
	}
	g := newGraph()
	g.install(maps.Collect(func(yield func(string, *module) bool) {
		for _, m := range mods {
			if !yield(m.id, m) {
				return
			}
		}
	}))
	for _, p := range []string{
		"src/a.ts", "src", "src/b", "src/b/c.ts", "src/b-c", "src-old", "src/a", "assets/x.svg", "assets",
		"main.js", "img.svg", "src/x.css", ".", "nothing.js", "sr",
		pkg, filepath.Join(pkg, "lib"), filepath.Join(pkg, "lib", "util.js"), filepath.Dir(pkg), filepath.Join(pkg, "index"),
	} {
		var want []string
		for _, m := range mods {
			if m.touchedBy(p) {
				want = append(want, m.id)
			}
		}
		set := map[string]bool{}
		g.touched(p, func(id string) { set[id] = true })
		if got := slices.Sorted(maps.Keys(set)); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
			t.Errorf("touched(%q) = %q, want %q", p, got, want)
		}
		if got, want := g.affects(p), len(want) > 0; got != want {
			t.Errorf("affects(%q) = %v, want %v", p, got, want)
		}
	}
}
