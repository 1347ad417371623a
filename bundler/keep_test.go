package bundler

import (
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// keptProject is the project of the kept-bundle tests: an import by a
// path without extension (which a new file can shadow), a package, a
// stylesheet, an asset, a tsconfig and an env value.
var keptProject = map[string]string{
	"index.html":                    `<!doctype html><link rel="stylesheet" href="/src/style.css"><script type="module" src="/src/main.ts"></script>`,
	"src/main.ts":                   "import { util } from \"./util\";\nimport { pkg } from \"pkg\";\nimport logo from \"./logo.svg\";\nconsole.log(util, pkg, logo, import.meta.env.VITE_NAME);\n",
	"src/util.js":                   "export const util = \"util.js\";\n",
	"src/logo.svg":                  `<svg xmlns="http://www.w3.org/2000/svg"/>`,
	"src/style.css":                 "body { color: red }\n",
	"tsconfig.json":                 `{"compilerOptions": {}}`,
	".env":                          "VITE_NAME=first\n",
	"package-lock.json":             `{"lockfileVersion": 3}`,
	"node_modules/pkg/package.json": `{"name": "pkg", "version": "1.0.0", "main": "index.js"}`,
	"node_modules/pkg/index.js":     "exports.pkg = \"pkg 1.0.0\";\n",
}

// pathsProject, added to keptProject, imports "@lib/x" and "@lib/deep/y",
// which a tsconfig maps to gen/ first, where neither is, then to lib/.
var pathsProject = map[string]string{
	"tsconfig.json":  `{"compilerOptions": {"paths": {"@lib/*": ["./gen/*", "./lib/*"]}}}`,
	"gen/deep/.keep": "",
	"lib/x.ts":       "export const x = \"lib\";\n",
	"lib/deep/y.ts":  "export const y = \"lib\";\n",
	"src/main.ts":    "import { x } from \"@lib/x\";\nimport { y } from \"@lib/deep/y\";\nconsole.log(x, y);\n",
}

// age sets the modification time of every file and folder under root
// changed in the last 30 s a minute back: changes made while no Bundler
// ran, which a bundle may be kept with (a file changed just before a build
// is not; see cacheRacy). What it aged before keeps its time: a folder the
// change did not touch must look the same to the kept bundle.
func age(t testing.TB, root string) {
	t.Helper()
	now := time.Now()
	old := now.Add(-time.Minute)
	set := func(p string) error {
		fi, err := os.Lstat(p)
		if err != nil || fi.ModTime().Before(now.Add(-30*time.Second)) {
			return err
		}
		return os.Chtimes(p, old, old)
	}
	var dirs []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			dirs = append(dirs, p) // after their files, which change them
			return nil
		}
		return set(p)
	})
	for _, d := range dirs {
		if err == nil {
			err = set(d)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
}

// keptStart opens a bundled Bundler on root with KeepBundle and dir as its
// cache folder, builds, keeps what it bundled, and closes it. It returns
// the outputs' ID and whether the build bundled (false: it served the
// kept bundle, as KeptBundle said).
func keptStart(t *testing.T, root, dir string, opts Options) (string, bool) {
	t.Helper()
	opts.Root, opts.KeepBundle, opts.MapsOnRequest, opts.MarkBundled, opts.CacheDir = root, true, true, true, dir
	b, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	found := b.KeptBundle()
	r := mustBuild(t, b, nil)
	bundled := false
	for _, n := range rebuilds(b) {
		bundled = bundled || n > 0
	}
	if found == bundled || b.KeptBundle() == bundled {
		t.Errorf("KeptBundle() = %v before the first build, %v after, and it bundled: %v", found, b.KeptBundle(), bundled)
	}
	if took := b.KeptBuildTime(); (took > 0) != !bundled {
		t.Errorf("KeptBuildTime() = %s, and it bundled: %v", took, bundled)
	}
	if err := b.Keep(); bundled && err != nil {
		t.Errorf("Keep: %v", err)
	} else if !bundled && err == nil {
		t.Error("Keep with nothing built since New wrote the bundle")
	}
	return r.ID, bundled
}

// TestKeptBundle checks that a start serves the bundle an earlier one kept
// exactly when a bundle made now would be the same, and otherwise bundles
// (and serves what a start with nothing kept serves).
func TestKeptBundle(t *testing.T) {
	tests := []struct {
		name   string
		files  map[string]string                    // in the project besides keptProject's
		change func(t *testing.T, root, dir string) // while no Bundler runs
		opts   Options
		kept   bool // the kept bundle is served
		// noAge: the files keep the times change gave them; else all
		// are set a minute back, which a kept bundle sees through.
		noAge bool
	}{
		{name: "nothing changed", kept: true},
		{name: "input edited", change: func(t *testing.T, root, _ string) {
			writeFiles(t, root, map[string]string{"src/util.js": "export const util = \"edited\";\n"})
		}},
		{name: "edited with its size and modification time kept", noAge: true, change: func(t *testing.T, root, _ string) {
			p := filepath.Join(root, "src", "util.js")
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			writeFiles(t, root, map[string]string{"src/util.js": "export const util = \"UTIL.JS\";\n"})
			if err := os.Chtimes(p, fi.ModTime(), fi.ModTime()); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "touched", kept: true, noAge: true, change: func(t *testing.T, root, _ string) {
			old := time.Now().Add(-2 * time.Minute)
			if err := os.Chtimes(filepath.Join(root, "src", "util.js"), old, old); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "stylesheet edited", change: func(t *testing.T, root, _ string) {
			writeFiles(t, root, map[string]string{"src/style.css": "body { color: blue }\n"})
		}},
		{name: "asset edited", change: func(t *testing.T, root, _ string) {
			writeFiles(t, root, map[string]string{"src/logo.svg": `<svg xmlns="http://www.w3.org/2000/svg" width="2"/>`})
		}},
		{name: "a new file shadows an import", change: func(t *testing.T, root, _ string) {
			writeFiles(t, root, map[string]string{"src/util.ts": "export const util = \"util.ts\";\n"})
		}},
		{name: "a new file in a folder no import can reach", kept: true, noAge: true, files: map[string]string{"docs/notes.md": "# notes\n"},
			change: func(t *testing.T, root, _ string) {
				writeFiles(t, root, map[string]string{"docs/util.ts": "export const util = \"docs\";\n"})
			}},
		{name: "a new file under a paths target tried first", files: pathsProject, change: func(t *testing.T, root, _ string) {
			writeFiles(t, root, map[string]string{"gen/x.ts": "export const x = \"gen\";\n"})
		}},
		{name: "a new file deep under a paths target tried first", files: pathsProject, change: func(t *testing.T, root, _ string) {
			writeFiles(t, root, map[string]string{"gen/deep/y.ts": "export const y = \"gen\";\n"})
		}},
		{name: "a new file under a paths target that does not exist", files: map[string]string{
			"tsconfig.json": `{"compilerOptions": {"paths": {"@lib/*": ["./gen/out/*", "./lib/*"]}}}`,
			"gen/.keep":     "",
			"lib/x.ts":      "export const x = \"lib\";\n",
			"src/main.ts":   "import { x } from \"@lib/x\";\nconsole.log(x);\n",
		}, change: func(t *testing.T, root, _ string) {
			writeFiles(t, root, map[string]string{"gen/out/x.ts": "export const x = \"gen\";\n"})
		}},
		{name: "a new file under baseUrl shadows a package", files: map[string]string{
			"tsconfig.json": `{"compilerOptions": {"baseUrl": "./types"}}`,
			"types/.keep":   "",
		}, change: func(t *testing.T, root, _ string) {
			writeFiles(t, root, map[string]string{"types/pkg.ts": "export const pkg = \"types\";\n"})
		}},
		{name: "a package upgraded", change: func(t *testing.T, root, _ string) {
			writeFiles(t, root, map[string]string{"node_modules/pkg/index.js": "exports.pkg = \"pkg 2.0.0\";\n"})
		}},
		{name: "a package's package.json", change: func(t *testing.T, root, _ string) {
			writeFiles(t, root, map[string]string{
				"node_modules/pkg/package.json": `{"name": "pkg", "version": "1.0.0", "main": "other.js"}`,
				"node_modules/pkg/other.js":     "exports.pkg = \"other\";\n",
			})
		}},
		{name: "tsconfig", change: func(t *testing.T, root, _ string) {
			writeFiles(t, root, map[string]string{"tsconfig.json": `{"compilerOptions": {"target": "es2020"}}`})
		}},
		{name: "lockfile", change: func(t *testing.T, root, _ string) {
			writeFiles(t, root, map[string]string{"package-lock.json": `{"lockfileVersion": 3, "packages": {}}`})
		}},
		{name: "env file", change: func(t *testing.T, root, _ string) {
			writeFiles(t, root, map[string]string{".env": "VITE_NAME=second\n"})
		}},
		{name: "an option", opts: Options{BuildOptions: BuildOptions{Define: map[string]string{"X": "1"}}}},
		{name: "a new page entry", change: func(t *testing.T, root, _ string) {
			writeFiles(t, root, map[string]string{
				"other.html":   `<!doctype html><script type="module" src="/src/other.js"></script>`,
				"src/other.js": "console.log(1);\n",
			})
		}},
		{name: "corrupt file", change: func(t *testing.T, _, dir string) {
			p := filepath.Join(dir, keptName)
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			data[len(data)/2] ^= 1
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "torn file", change: func(t *testing.T, _, dir string) {
			p := filepath.Join(dir, keptName)
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(p, fi.Size()/2); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := maps.Clone(keptProject)
			maps.Copy(files, tt.files)
			root, dir := project(t, files), t.TempDir()
			age(t, root)
			first, bundled := keptStart(t, root, dir, Options{})
			if !bundled {
				t.Fatal("the first start served a kept bundle")
			}
			if !KeptBundleAt(dir) {
				t.Fatal("the first start kept no bundle")
			}
			if tt.change != nil {
				tt.change(t, root, dir)
			}
			if tt.change != nil && !tt.noAge {
				age(t, root)
			}
			id, bundled := keptStart(t, root, dir, tt.opts)
			if bundled == tt.kept {
				t.Errorf("bundled = %v, want %v", bundled, !tt.kept)
			}
			// What a start with nothing kept serves now.
			want, _ := keptStart(t, root, t.TempDir(), tt.opts)
			if id != want {
				t.Errorf("served outputs %s, a fresh bundle's are %s", id, want)
			}
			if tt.kept && id != first {
				t.Errorf("served outputs %s, the kept ones were %s", id, first)
			}
			// The start that bundled kept its bundle: the next one serves it.
			if _, bundled := keptStart(t, root, dir, tt.opts); bundled {
				t.Error("the start after bundled again")
			}
		})
	}
}

// TestKeptBundleRacy checks that a build is not kept when a file it read
// changed just before it began: it may have read either version.
func TestKeptBundleRacy(t *testing.T) {
	root, dir := project(t, keptProject), t.TempDir()
	age(t, root)
	writeFiles(t, root, map[string]string{"src/util.js": "export const util = \"now\";\n"})
	b := open(t, Options{Root: root, KeepBundle: true, BuildOptions: BuildOptions{CacheDir: dir}})
	mustBuild(t, b, nil)
	if err := b.Keep(); !errors.Is(err, ErrChangedDuringBuild) || KeptBundleAt(dir) {
		t.Fatalf("Keep = %v with a file changed as its build began", err)
	}
}

// TestKeptBundleNotKept checks that a build that read files its inputs do
// not name (import.meta.glob's matches) is not kept, ErrNotKeepable, nor
// one that failed, another error: a fix makes the next one keepable.
func TestKeptBundleNotKept(t *testing.T) {
	for name, tt := range map[string]struct {
		files       map[string]string
		notKeepable bool
	}{
		"glob": {notKeepable: true, files: map[string]string{
			"index.html":     `<!doctype html><script type="module" src="/src/main.js"></script>`,
			"src/main.js":    "const all = import.meta.glob(\"./pages/*.js\", { eager: true });\nconsole.log(all);\n",
			"src/pages/a.js": "export default 1;\n",
		}},
		"failed": {files: map[string]string{
			"index.html":  `<!doctype html><script type="module" src="/src/main.js"></script>`,
			"src/main.js": "import x from \"./missing.js\";\n",
		}},
	} {
		t.Run(name, func(t *testing.T) {
			root, dir := project(t, tt.files), t.TempDir()
			age(t, root)
			b := open(t, Options{Root: root, KeepBundle: true, BuildOptions: BuildOptions{CacheDir: dir}})
			b.Build(nil)
			if err := b.Keep(); err == nil || errors.Is(err, ErrNotKeepable) != tt.notKeepable || KeptBundleAt(dir) {
				t.Errorf("Keep = %v, want an error (ErrNotKeepable: %v) and nothing kept", err, tt.notKeepable)
			}
		})
	}
}
