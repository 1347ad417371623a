package hmr

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/devserve/devserve/internal/ssetest"
)

// saveProject writes a project like the browser benchmark's (bench/): n ES
// modules, main.js importing leaf.js and a tree of n-2 modules in mods/ with
// a fan-out of 10, style.css, and index.html loading both.
func saveProject(b *testing.B, n int) string {
	b.Helper()
	dir := b.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "mods"), 0o755); err != nil {
		b.Fatal(err)
	}
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	tree := n - 2
	for i := range tree {
		var sb strings.Builder
		sum := "v"
		for c := 10*i + 1; c <= 10*i+10 && c < tree; c++ {
			fmt.Fprintf(&sb, "import { total as t%d } from './m%d.js';\n", c, c)
			sum += fmt.Sprintf(" + t%d", c)
		}
		fmt.Fprintf(&sb, "export const v = 1;\nexport const total = %s;\n", sum)
		write(fmt.Sprintf("mods/m%d.js", i), sb.String())
	}
	write("leaf.js", "export const value = 'leaf-0';\n")
	write("main.js", "import { value } from './leaf.js';\nimport { total } from './mods/m0.js';\n"+
		"document.getElementById('total').textContent = String(total);\n"+
		"document.getElementById('out').textContent = value;\n")
	write("style.css", "#out { color: rgb(1, 1, 1) }\n")
	write("index.html", `<!doctype html><html><head><link rel="stylesheet" href="/style.css">`+
		`<script type="module" src="/main.js"></script></head><body><p id="out"></p><p id="total"></p></body></html>`)
	return dir
}

// BenchmarkSave measures the server's side of a save, split into its parts,
// for a JS edit (leaf.js, a full reload) and a CSS edit (style.css, a swap)
// in projects of 10, 1,000 and 5,000 modules, as the browser benchmark
// makes them. One event stream is open, as one browser tab would hold.
//
//   - batch-ms: from the write to the "building" event on the stream (the
//     watcher's quiet window, the build loop's checks);
//   - build-ms: from "building" to "built" (Bundler.Build and the publish);
//   - fetch-ms: from "built" to having what the browser then fetches: the
//     page and the bundle for a JS edit, with If-None-Match for what the
//     previous round fetched (a 304 when unchanged); for "hot" (the same
//     edit as a browser that accepts it takes it) the changed module's
//     update script; the stylesheet for CSS;
//   - save-ms is the whole, from the write to the last byte fetched (ns/op
//     also counts a pause before each write that lets everything go idle).
func BenchmarkSave(b *testing.B) {
	for _, kind := range []string{"js", "hot", "css"} {
		for _, n := range []int{10, 1000, 5000} {
			b.Run(fmt.Sprintf("%s/%d", kind, n), func(b *testing.B) {
				benchSave(b, kind, n)
			})
		}
	}
}

func benchSave(b *testing.B, kind string, n int) {
	dir := saveProject(b, n)
	ts := startServer(b, dir, "127.0.0.1:0", Options{})
	ts.dropReports(b)
	stream := ssetest.Open(b, ts.http, EventsPath)
	stream.Start()

	file, fetch := "leaf.js", []string{"/", "/main.js"}
	content := func(i int) string { return fmt.Sprintf("export const value = 'leaf-%d';\n", i) }
	if kind == "hot" {
		fetch = nil
	}
	if kind == "css" {
		file, fetch = "style.css", []string{"/style.css"}
		content = func(i int) string { return fmt.Sprintf("#out { color: rgb(%d, 1, 1) }\n", i%256) }
	}
	etags := map[string]string{}
	get := func(target string) {
		req, err := http.NewRequest("GET", ts.URL+target, nil)
		if err != nil {
			b.Fatal(err)
		}
		if et := etags[target]; et != "" {
			req.Header.Set("If-None-Match", et)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 && resp.StatusCode != 304 {
			b.Fatalf("GET %s: %s", target, resp.Status)
		}
		etags[target] = resp.Header.Get("ETag")
	}
	for _, f := range fetch {
		get(f)
	}

	var batch, build, fetched time.Duration
	for i := 0; b.Loop(); i++ {
		time.Sleep(150 * time.Millisecond) // a person's pause: the watcher and the loop go idle
		t0 := time.Now()
		if err := os.WriteFile(filepath.Join(dir, file), []byte(content(i+1)), 0o644); err != nil {
			b.Fatal(err)
		}
		var t1, t2 time.Time
		for t2.IsZero() {
			ev := stream.NextEvent()
			switch ev.Type {
			case EventBuilding:
				t1 = time.Now()
			case EventBuilt:
				t2 = time.Now()
				if kind == "hot" {
					var d BuiltData
					if err := json.Unmarshal([]byte(ev.Data), &d); err != nil || len(d.Updates) != 1 || d.Updates[0].URL == "" {
						b.Fatalf("built %s: %v", ev.Data, err)
					}
					fetch = []string{d.Updates[0].URL}
				}
			case EventErrors:
				b.Fatalf("build failed: %s", ev.Data)
			}
		}
		if t1.IsZero() {
			t1 = t2
		}
		for _, f := range fetch {
			get(f)
		}
		t3 := time.Now()
		batch += t1.Sub(t0)
		build += t2.Sub(t1)
		fetched += t3.Sub(t2)
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
	b.ReportMetric(ms(batch), "batch-ms")
	b.ReportMetric(ms(build), "build-ms")
	b.ReportMetric(ms(fetched), "fetch-ms")
	b.ReportMetric(ms(batch+build+fetched), "save-ms")
}

// dropReports reads and drops the server's reports and batches until the
// benchmark ends, for a benchmark that reads none.
func (ts *testServer) dropReports(b *testing.B) {
	go func() {
		for {
			select {
			case <-ts.reports:
			case <-ts.batches:
			case <-b.Context().Done():
				return
			}
		}
	}()
}

// BenchmarkCheckoutBuilds rewrites every module of a 1,000-module project
// as fast as it can, as a git checkout does, and counts the builds the
// server ran until all of them were built (builds/op), in module mode and
// bundled.
func BenchmarkCheckoutBuilds(b *testing.B) {
	for _, bundle := range []bool{false, true} {
		b.Run(map[bool]string{false: "modules", true: "bundled"}[bundle], func(b *testing.B) {
			dir := saveProject(b, 1000)
			ts := startServer(b, dir, "127.0.0.1:0", Options{Bundle: bundle})
			var files []string
			for i := range 998 {
				files = append(files, fmt.Sprintf("mods/m%d.js", i))
			}
			builds, round := 0, 0
			for b.Loop() {
				round++
				for _, f := range files {
					content := strings.Replace(string(readFile(b, filepath.Join(dir, f))),
						"export const v = ", fmt.Sprintf("export const v = %d + ", round), 1)
					ts.write(b, f, content)
				}
				left := map[string]bool{}
				for _, f := range files {
					left[f] = true
				}
				for len(left) > 0 {
					for len(ts.batches) > 0 {
						<-ts.batches
					}
					r := ts.nextReport(b)
					if r.Event != EventBuilt {
						b.Fatalf("report %+v", r)
					}
					builds++
					for _, c := range r.Changed {
						delete(left, c)
					}
				}
			}
			b.ReportMetric(float64(builds)/float64(round), "builds/op")
		})
	}
}
