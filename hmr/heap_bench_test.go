package hmr

import (
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/devserve/devserve/bundler"
)

var heapProfile = flag.String("heapprofile", "", "BenchmarkServerHeap writes the heap profile of its last size to this file")

// BenchmarkServerHeap measures what a Server holds for a project: its
// live heap (live-MiB) after the first build and one page load (the page,
// the stylesheet, the runtime, the entry's script and every chunk) of the
// browser benchmark's tree of 5,000 and 20,000 modules, with no cache,
// and with the first page served bundled (bundle-first: what is left of
// the bundled build once module mode serves). RSS is about the
// binary and runtime plus what the GC lets the heap grow to from this
// (docs/DESIGN.md, "Where devserve's memory goes"). With -heapprofile FILE
// it writes the heap profile there, sampled every 4 KiB:
//
//	go test -run '^$' -bench ServerHeap -benchtime 1x ./hmr -args -heapprofile heap.out
func BenchmarkServerHeap(b *testing.B) {
	for _, c := range []struct {
		name  string
		n     int
		first bool
	}{{"5000", 5000, false}, {"20000", 20000, false}, {"bundle-first/5000", 5000, true}} {
		n := c.n
		b.Run(c.name, func(b *testing.B) {
			root := saveProject(b, n)
			if *heapProfile != "" {
				defer func(rate int) { runtime.MemProfileRate = rate }(runtime.MemProfileRate)
				runtime.MemProfileRate = 4096
			}
			for b.Loop() {
				s, err := New(Options{Root: root, Logger: slog.New(slog.DiscardHandler),
					Build: bundler.BuildOptions{CacheDir: bundler.NoCache}, BundleFirst: c.first})
				if err != nil {
					b.Fatal(err)
				}
				<-s.Ready()
				// esbuild keeps what each of its builds parsed for 250 ms
				// after it returns (api.Build's recentBuild, for its own
				// serve); no event says when it lets go.
				time.Sleep(300 * time.Millisecond)
				loadPage(b, s)
				runtime.GC()
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "live-MiB")
				if *heapProfile != "" {
					writeHeapProfile(b, *heapProfile)
				}
				runtime.KeepAlive(s)
				if err := s.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// chunkImport matches an entry script's import of a chunk.
var chunkImport = regexp.MustCompile(`(?m)^import "([^"]+)";$`)

// loadPage asks h for what a browser loads of saveProject's page.
func loadPage(b *testing.B, h http.Handler) {
	b.Helper()
	get := func(u string) []byte {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "http://127.0.0.1"+u, nil))
		if w.Code != http.StatusOK {
			b.Fatalf("GET %s: %d", u, w.Code)
		}
		body, _ := io.ReadAll(w.Result().Body)
		return body
	}
	for _, u := range []string{"/", "/style.css", "/__devserve/hmr.js"} {
		get(u)
	}
	script := get("/main.js")
	chunks := chunkImport.FindAllStringSubmatch(string(script), -1)
	if len(chunks) == 0 || !strings.Contains(string(script), "__devserve_start(") {
		b.Fatalf("entry script:\n%.500s", script)
	}
	for _, c := range chunks {
		get(c[1])
	}
}

// writeHeapProfile writes the heap profile to file.
func writeHeapProfile(b *testing.B, file string) {
	b.Helper()
	f, err := os.Create(file)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		b.Fatal(err)
	}
}
