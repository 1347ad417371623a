package bundler

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devserve/devserve/internal/browsertest"
	"go.uber.org/goleak"
)

// esbuildTimer ignores the goroutine every esbuild Rebuild starts to forget
// its "recent build" 250 ms later (pkg/api/api_impl.go, used by esbuild's own
// dev server). It ends by itself, even after Dispose, so it is no leak; but
// on a loaded machine it can outlive goleak's retries. Nothing else of
// esbuild's is ignored.
var esbuildTimer = goleak.IgnoreAnyFunction("github.com/evanw/esbuild/pkg/api.(*internalContext).rebuild.func1")

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, esbuildTimer)
}

// copyDir copies the fixture folder src into a new temporary folder and
// returns it, so a test can edit the files.
func copyDir(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
	return dst
}

// react19 returns testdata/npm/react19, the project whose lockfile pins
// the real npm packages the tests use (React, react-refresh,
// sass-embedded's compiler), and skips the test, as a browser test is,
// when .ci/run has not installed them.
func react19(t testing.TB) string {
	t.Helper()
	npm, err := filepath.Abs(filepath.Join("..", "testdata", "npm", "react19"))
	if err != nil {
		t.Fatal(err)
	}
	browsertest.NeedPackages(t, npm, "npm ci")
	return npm
}

// fixture copies testdata/name.
func fixture(t testing.TB, name string) string {
	t.Helper()
	return copyDir(t, filepath.Join("..", "testdata", name))
}

// writeFiles writes root-relative files (slash paths) under root.
func writeFiles(t testing.TB, root string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// readFile reads a root-relative file.
func readFile(t testing.TB, root, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// project makes a temporary project from files.
func project(t testing.TB, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	writeFiles(t, root, files)
	return root
}

// open creates a Bundler that is closed when the test ends.
func open(t testing.TB, opts Options) *Bundler {
	t.Helper()
	b, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// mustBuild builds and fails the test on errors.
func mustBuild(t testing.TB, b *Bundler, changed []string) *Result {
	t.Helper()
	r := b.Build(changed)
	if !r.OK() {
		t.Fatalf("Build(%q) failed: %+v", changed, r.Errors)
	}
	return r
}

// lookup returns the contents served at urlPath and fails if there are none.
func lookup(t testing.TB, b *Bundler, urlPath string) *Output {
	t.Helper()
	o, ok := b.Lookup(urlPath)
	if !ok {
		t.Fatalf("Lookup(%q): not found", urlPath)
	}
	return o
}

// paths lists the Path of each output.
func paths(outs []*Output) []string {
	ps := make([]string, len(outs))
	for i, o := range outs {
		ps[i] = o.Path
	}
	return ps
}

// findPath returns the first output whose Path has the prefix and suffix.
func findPath(outs []*Output, prefix, suffix string) *Output {
	for _, o := range outs {
		if strings.HasPrefix(o.Path, prefix) && strings.HasSuffix(o.Path, suffix) {
			return o
		}
	}
	return nil
}

// rebuilds returns how many builds each entry's context has run.
func rebuilds(b *Bundler) map[string]int {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := make(map[string]int, len(b.ctxs))
	for _, c := range b.ctxs {
		m[c.entry] = c.rebuilds
	}
	return m
}
