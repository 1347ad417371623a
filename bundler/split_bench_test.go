package bundler

import (
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/evanw/esbuild/pkg/api"
)

// mainCtx returns the context of the benchmark project's src/main.js.
func mainCtx(b *testing.B, bu *Bundler) *entryCtx {
	b.Helper()
	for _, c := range bu.ctxs {
		if c.entry == "src/main.js" {
			return c
		}
	}
	b.Fatal("no context for src/main.js")
	return nil
}

// BenchmarkRebuildSplit splits the rebuild of a leaf edit (as in
// BenchmarkRebuild) into esbuild's own Rebuild (esbuild-ms) and what the
// bundler does with its result: collect (metafile, output mapping, hashing:
// collect-ms) and the combined Result (result-ms). It also reports the sizes
// esbuild hands over: the metafile and the outputs.
func BenchmarkRebuildSplit(b *testing.B) {
	for _, n := range []int{10, 1000, 5000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			root := benchProject(b, n)
			bu := open(b, Options{Root: root})
			mustBuild(b, bu, nil)
			c := mainCtx(b, bu)
			var esb, col, res time.Duration
			var metaBytes, outBytes int
			for i := 0; b.Loop(); i++ {
				writeFiles(b, root, map[string]string{"src/leaf.js": fmt.Sprintf("export const leaf = %d;\n", i+1)})
				t0 := time.Now()
				r := c.ctx.Rebuild()
				t1 := time.Now()
				if len(r.Errors) > 0 {
					b.Fatal(r.Errors[0].Text)
				}
				st, _, err := bu.collect(c, &r)
				if err != nil {
					b.Fatal(err)
				}
				t2 := time.Now()
				bu.mu.Lock()
				c.state = st
				bu.resultLocked(t2, nil)
				bu.mu.Unlock()
				t3 := time.Now()
				esb += t1.Sub(t0)
				col += t2.Sub(t1)
				res += t3.Sub(t2)
				metaBytes = len(r.Metafile)
				outBytes = 0
				for _, f := range r.OutputFiles {
					outBytes += len(f.Contents)
				}
			}
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
			b.ReportMetric(ms(esb), "esbuild-ms/op")
			b.ReportMetric(ms(col), "collect-ms/op")
			b.ReportMetric(ms(res), "result-ms/op")
			b.ReportMetric(float64(metaBytes)/1024, "metafile-KiB")
			b.ReportMetric(float64(outBytes)/1024, "outputs-KiB")
		})
	}
}

// BenchmarkCollect measures only the bundler's own work on one esbuild
// result of a leaf edit: collect (metafile, output mapping, hashing) and the
// combined Result, the part of a rebuild that is not esbuild's.
func BenchmarkCollect(b *testing.B) {
	for _, n := range []int{10, 1000, 5000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			root := benchProject(b, n)
			bu := open(b, Options{Root: root})
			mustBuild(b, bu, nil)
			c := mainCtx(b, bu)
			// Two results, collected in turn, so that the bundle and its map
			// differ from the previous collect's, as after an edit.
			var rs [2]api.BuildResult
			for i := range rs {
				writeFiles(b, root, map[string]string{"src/leaf.js": fmt.Sprintf("export const leaf = %d;\n", i+1)})
				if rs[i] = c.ctx.Rebuild(); len(rs[i].Errors) > 0 {
					b.Fatal(rs[i].Errors[0].Text)
				}
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				st, _, err := bu.collect(c, &rs[i%2])
				if err != nil {
					b.Fatal(err)
				}
				bu.mu.Lock()
				c.state = st
				bu.resultLocked(time.Now(), nil)
				bu.mu.Unlock()
			}
		})
	}
}

// BenchmarkMetafile compares reading the metafile of the leaf edit's rebuild
// with encoding/json (what collect did before) and with parseMetafile.
func BenchmarkMetafile(b *testing.B) {
	for _, n := range []int{10, 1000, 5000} {
		root := benchProject(b, n)
		bu := open(b, Options{Root: root})
		mustBuild(b, bu, nil)
		r := mainCtx(b, bu).ctx.Rebuild()
		if len(r.Errors) > 0 {
			b.Fatal(r.Errors[0].Text)
		}
		b.Run(fmt.Sprintf("json/%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(r.Metafile)))
			for b.Loop() {
				var m metafile
				if err := json.Unmarshal([]byte(r.Metafile), &m); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("scan/%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(r.Metafile)))
			for b.Loop() {
				if _, err := parseMetafile(r.Metafile); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
