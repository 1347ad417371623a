package bundler

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// BenchmarkReloadAssemble measures what a reload after a leaf edit costs
// the server in module mode: the rebuild, then the first request for the
// entry's script, which assembles it (assemble-ms), and the requests for
// every chunk it imports, as a page asks for them (chunks-ms).
func BenchmarkReloadAssemble(b *testing.B) {
	for _, n := range []int{1000, 5000, 20000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			root := benchProject(b, n)
			bu := open(b, Options{Root: root, Modules: true})
			mustBuild(b, bu, nil)
			entry, _ := url.Parse("/src/main.js")
			var assemble, chunks time.Duration
			for i := 0; b.Loop(); i++ {
				writeFiles(b, root, map[string]string{"src/leaf.js": fmt.Sprintf("export const leaf = %d;\n", i+1)})
				if r := bu.Build([]string{"src/leaf.js"}); !r.OK() {
					b.Fatal(r.Errors)
				}
				t0 := time.Now()
				o, ok := bu.LookupURL(entry)
				if !ok {
					b.Fatal("no entry script")
				}
				t1 := time.Now()
				for _, u := range importedURLs(string(o.Contents)) {
					cu, _ := url.Parse(u)
					if _, ok := bu.LookupURL(cu); !ok && cu.Path != HMRPath {
						b.Fatalf("no %s", u)
					}
				}
				assemble += t1.Sub(t0)
				chunks += time.Since(t1)
			}
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
			b.ReportMetric(ms(assemble), "assemble-ms/op")
			b.ReportMetric(ms(chunks), "chunks-ms/op")
		})
	}
}

// importedURLs lists the URLs of a script's `import "URL"` lines.
func importedURLs(script string) []string {
	var out []string
	for _, m := range importLine.FindAllStringSubmatch(script, -1) {
		out = append(out, m[1])
	}
	return out
}

var importLine = regexp.MustCompile(`(?m)^import "([^"]+)";$`)
