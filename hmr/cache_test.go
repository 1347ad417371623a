package hmr

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/devserve/devserve/bundler"
)

// TestMain points the user cache folder (os.UserCacheDir), where module
// mode keeps its cache for a root without node_modules, at a temporary
// folder, so that no test writes into the user's. The tests run with the
// cache on, as users do: startServer gives each test a cache folder of
// its own.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "devserve-hmr-cache-")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_CACHE_HOME", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// TestRestartServesDisk serves a project, stops, changes its files as a
// checkout would while no server runs (a module's content, and a new file
// that shadows an import), and serves it again with the cache the first
// run wrote: the script is the new one, byte for byte what a server
// without the cache serves.
func TestRestartServesDisk(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"index.html":   `<!doctype html><script type="module" src="/src/main.js"></script>`,
		"src/main.js":  "import { util } from \"./util\";\nimport { value } from \"./value.js\";\nconsole.log(util, value);\n",
		"src/util.js":  "export const util = \"from util.js\";\n",
		"src/value.js": "export const value = \"first value\";\n",
	}
	write := func(files map[string]string) {
		old := time.Now().Add(-time.Minute) // written while no server ran
		for name, body := range files {
			p := filepath.Join(dir, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(p, old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	write(files)
	cache, err := bundler.DefaultCacheDir(dir) // in TestMain's XDG_CACHE_HOME
	if err != nil {
		t.Fatal(err)
	}
	script := func(opts Options) string {
		if opts.Build.CacheDir == "" {
			opts.Build.CacheDir = cache
		}
		ts := startServer(t, dir, "127.0.0.1:0", opts)
		defer ts.stop()
		resp, err := http.Get(ts.URL + "/src/main.js")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /src/main.js: %d, %v", resp.StatusCode, err)
		}
		return string(body)
	}
	if first := script(Options{}); !strings.Contains(first, "first value") || !strings.Contains(first, "from util.js") {
		t.Fatalf("first run serves\n%s", first)
	}
	if _, err := os.Stat(cache); err != nil {
		t.Fatalf("the first run wrote no cache: %v", err)
	}
	write(map[string]string{
		"src/value.js": "export const value = \"second value\";\n",
		"src/util.ts":  "export const util: string = \"from util.ts\";\n",
	})
	restart := script(Options{})
	fresh := script(Options{Build: bundler.BuildOptions{CacheDir: bundler.NoCache}})
	if !strings.Contains(restart, "second value") || !strings.Contains(restart, "from util.ts") || strings.Contains(restart, "first value") {
		t.Errorf("the restart serves\n%s", restart)
	}
	if restart != fresh {
		t.Errorf("the restart serves\n%s\nwhile a server without the cache serves\n%s", restart, fresh)
	}
}
