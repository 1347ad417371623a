package bundler

import (
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// benchProject writes a project of n ES modules to a temporary folder: a page
// loading src/main.js and style.css, main.js importing a binary tree of
// n-2 plain modules and one leaf module, src/leaf.js.
func benchProject(b *testing.B, n int) string {
	b.Helper()
	files := map[string]string{
		"index.html":  `<!doctype html><link rel="stylesheet" href="/style.css"><script type="module" src="/src/main.js"></script>`,
		"style.css":   "body { color: black }\n",
		"src/leaf.js": "export const leaf = 0;\n",
	}
	tree := n - 2 // modules besides main.js and leaf.js
	name := func(i int) string { return fmt.Sprintf("src/m%d/mod%d.js", i/100, i) }
	for i := 0; i < tree; i++ {
		var sb strings.Builder
		var sum []string
		for _, c := range []int{2*i + 1, 2*i + 2} {
			if c < tree {
				fmt.Fprintf(&sb, "import { f%d } from \"../m%d/mod%d.js\";\n", c, c/100, c)
				sum = append(sum, fmt.Sprintf("f%d(x)", c))
			}
		}
		sum = append(sum, "x * "+strconv.Itoa(i+1))
		fmt.Fprintf(&sb, "export function f%d(x) {\n  return %s;\n}\n", i, strings.Join(sum, " + "))
		files[name(i)] = sb.String()
	}
	main := "import { leaf } from \"./leaf.js\";\n"
	if tree > 0 {
		main += "import { f0 } from \"./m0/mod0.js\";\nconsole.log(f0(leaf));\n"
	} else {
		main += "console.log(leaf);\n"
	}
	files["src/main.js"] = main
	return project(b, files)
}

// benchModes are the two ways of serving JS that the benchmarks compare.
var benchModes = []struct {
	name    string
	modules bool
}{{"bundled", false}, {"modules", true}}

// BenchmarkRebuild measures an edit of one leaf module and its rebuild, in
// projects of 10, 1,000 and 5,000 modules, bundled and in module mode.
func BenchmarkRebuild(b *testing.B) {
	for _, mode := range benchModes {
		for _, n := range []int{10, 1000, 5000, 20000} {
			if n > 5000 && !mode.modules {
				continue // a bundle of 20,000 takes seconds to build: module mode's hot path is what is timed there
			}
			b.Run(fmt.Sprintf("%s/%d", mode.name, n), func(b *testing.B) {
				root := benchProject(b, n)
				bu := open(b, Options{Root: root, Modules: mode.modules})
				r := mustBuild(b, bu, nil)
				if len(r.Inputs) != n+1 { // n modules and style.css
					b.Fatalf("%d inputs, want %d", len(r.Inputs), n+1)
				}
				changed := []string{"src/leaf.js"}
				var inBuild time.Duration
				for i := 0; b.Loop(); i++ {
					writeFiles(b, root, map[string]string{"src/leaf.js": fmt.Sprintf("export const leaf = %d;\n", i+1)})
					r := bu.Build(changed)
					if !r.OK() || len(r.Changed)+len(r.Modules) == 0 {
						b.Fatalf("rebuild: ok=%v changed=%d modules=%d", r.OK(), len(r.Changed), len(r.Modules))
					}
					inBuild += r.Duration
				}
				b.ReportMetric(float64(inBuild.Microseconds())/1000/float64(b.N), "build-ms/op")
				if o, ok := bu.Lookup("/src/main.js"); ok {
					b.ReportMetric(float64(len(o.Contents))/1024, "script-KiB")
				} else if u, _ := url.Parse("/src/main.js"); u != nil {
					if o, ok := bu.LookupURL(u); ok {
						b.ReportMetric(float64(len(o.Contents))/1024, "script-KiB")
					}
				}
			})
		}
	}
}

// BenchmarkColdBuild measures New, the first Build and Close of a project
// of 1,000 and 5,000 modules, bundled, in module mode, and in module mode
// writing the module cache as a first start does (Close waits for the
// writes): the server's part of a cold start.
func BenchmarkColdBuild(b *testing.B) {
	modes := append(benchModes[:len(benchModes):len(benchModes)], struct {
		name    string
		modules bool
	}{"modules+cache", true})
	for _, mode := range modes {
		for _, n := range []int{1000, 5000} {
			b.Run(fmt.Sprintf("%s/%d", mode.name, n), func(b *testing.B) {
				root := benchProject(b, n)
				for b.Loop() {
					opts := Options{Root: root, Modules: mode.modules}
					if mode.name == "modules+cache" {
						opts.CacheDir = b.TempDir()
					}
					bu, err := New(opts)
					if err != nil {
						b.Fatal(err)
					}
					if r := bu.Build(nil); !r.OK() {
						b.Fatal(r.Errors)
					}
					bu.Close()
				}
			})
		}
	}
}

// BenchmarkRestartBuild measures New and the first Build of the projects
// of BenchmarkColdBuild in module mode with the module cache that an
// earlier run wrote: the server's part of a restart.
func BenchmarkRestartBuild(b *testing.B) {
	for _, n := range []int{1000, 5000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			root := benchProject(b, n)
			old := time.Now().Add(-time.Minute)
			_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					err = os.Chtimes(p, old, old)
				}
				return err
			})
			opts := Options{Root: root, Modules: true, BuildOptions: BuildOptions{CacheDir: b.TempDir()}}
			for i := 0; i == 0 || b.Loop(); i++ {
				bu, err := New(opts)
				if err != nil {
					b.Fatal(err)
				}
				if r := bu.Build(nil); !r.OK() {
					b.Fatal(r.Errors)
				}
				if i > 0 && bu.cache.misses.Load() > 0 {
					b.Fatalf("%d misses", bu.cache.misses.Load())
				}
				bu.Close()
			}
		})
	}
}

// BenchmarkCSSRebuild measures an edit of the CSS entry and its rebuild in
// the 1,000-module project: only the CSS entry's context runs.
func BenchmarkCSSRebuild(b *testing.B) {
	for _, mode := range benchModes {
		b.Run(mode.name, func(b *testing.B) {
			root := benchProject(b, 1000)
			bu := open(b, Options{Root: root, Modules: mode.modules})
			mustBuild(b, bu, nil)
			changed := []string{"style.css"}
			var inBuild time.Duration
			for i := 0; b.Loop(); i++ {
				writeFiles(b, root, map[string]string{"style.css": fmt.Sprintf("body { margin: %dpx }\n", i+1)})
				r := bu.Build(changed)
				if !r.OK() || len(r.Changed) == 0 {
					b.Fatalf("rebuild: ok=%v changed=%d", r.OK(), len(r.Changed))
				}
				inBuild += r.Duration
			}
			b.ReportMetric(float64(inBuild.Microseconds())/1000/float64(b.N), "build-ms/op")
		})
	}
}
