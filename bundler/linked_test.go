package bundler

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestLinkedPackage builds an app of a workspace whose node_modules links
// to a package outside the root, beside a package installed from a
// registry (pnpm's layout: a link into node_modules/.pnpm): the linked one
// is watched source, and a change of it, by absolute path, rebuilds its
// module; the installed one is neither.
func TestLinkedPackage(t *testing.T) {
	ws := t.TempDir()
	writeFiles(t, ws, map[string]string{
		"packages/ui/package.json":                                   `{"name": "ui", "main": "src/index.ts"}`,
		"packages/ui/src/index.ts":                                   "export { label } from './label'\n",
		"packages/ui/src/label.ts":                                   "export const label = (s: string) => 'ui ' + s\n",
		"node_modules/.pnpm/dep@1.0.0/node_modules/dep/package.json": `{"name": "dep", "main": "index.js"}`,
		"node_modules/.pnpm/dep@1.0.0/node_modules/dep/index.js":     "exports.dep = 1\n",
		"apps/web/index.html":                                        `<script type="module" src="/main.ts"></script>`,
		"apps/web/main.ts":                                           "import { label } from 'ui'\nimport { dep } from 'dep'\nconsole.log(label('x'), dep)\n",
	})
	for link, target := range map[string]string{
		"node_modules/ui":  "../packages/ui",
		"node_modules/dep": ".pnpm/dep@1.0.0/node_modules/dep",
	} {
		if err := os.Symlink(target, filepath.Join(ws, link)); err != nil {
			t.Fatal(err)
		}
	}
	b := open(t, Options{Root: filepath.Join(ws, "apps", "web"), Modules: true})
	mustBuild(t, b, nil)
	if got, want := b.LinkedDirs(), []string{filepath.Join(ws, "packages", "ui")}; !slices.Equal(got, want) {
		t.Errorf("LinkedDirs = %q, want %q", got, want)
	}
	label := filepath.Join(ws, "packages", "ui", "src", "label.ts")
	for _, c := range []struct {
		path string
		want bool
	}{
		{label, true},
		{filepath.Join(ws, "packages", "ui"), true},
		{filepath.Join(ws, "packages", "other.ts"), false},
		{filepath.Join(ws, "node_modules", ".pnpm", "dep@1.0.0", "node_modules", "dep", "index.js"), false},
	} {
		if got := b.Affects([]string{c.path}); got != c.want {
			t.Errorf("Affects(%s) = %v, want %v", c.path, got, c.want)
		}
	}
	// Written a minute ago: nothing linked changed since now; then label.ts.
	old := time.Now().Add(-time.Minute)
	for _, f := range []string{"packages/ui/src/index.ts", "packages/ui/src/label.ts"} {
		if err := os.Chtimes(filepath.Join(ws, f), old, old); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	if got := b.LinkedChangedSince(now); len(got) != 0 {
		t.Errorf("LinkedChangedSince(now) = %q before the edit, want none", got)
	}
	writeFiles(t, ws, map[string]string{"packages/ui/src/label.ts": "export const label = (s: string) => 'UI ' + s\n"})
	if got := b.LinkedChangedSince(now); !slices.Equal(got, []string{label}) {
		t.Errorf("LinkedChangedSince(now) = %q after the edit, want label.ts alone", got)
	}
	// A linked file's save is compiled ahead of its build too (see
	// Prepare), and the build takes it.
	compiles := 0
	b.rebuildHook = func(string) { compiles++ }
	defer func() { b.rebuildHook = nil }()
	b.Prepare(label)
	prepared := compiles
	r := mustBuild(t, b, []string{label})
	if len(r.Modules) != 1 || !strings.HasSuffix(r.Modules[0].ID, "/label.ts") {
		t.Fatalf("updated %+v, want the linked label.ts", r.Modules)
	}
	if prepared != 1 || compiles != 1 {
		t.Errorf("label.ts compiled %d times by Prepare and %d by the build, want once by Prepare", prepared, compiles-prepared)
	}
	if up := get(t, b, r.Modules[0].URL); !strings.Contains(up, `"UI "`) {
		t.Errorf("update:\n%s", up)
	}
}

func TestBrokenLink(t *testing.T) {
	dir := t.TempDir()
	for link, target := range map[string]string{"self": "self", "a": "b", "b": "a", "gone": "nowhere", "ok": "."} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	for name, want := range map[string]string{
		"self": "leads in a loop (self -> self)",
		"a":    "leads in a loop (a -> b -> a)",
		"gone": "points at " + filepath.Join(dir, "nowhere") + ", which does not exist",
		"ok":   "",
		"none": "",
	} {
		if got := brokenLink(filepath.Join(dir, name)); got != want {
			t.Errorf("brokenLink(%s) = %q, want %q", name, got, want)
		}
	}
}
