package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestSummarize(t *testing.T) {
	twenty := make([]float64, 20)
	for i := range twenty {
		twenty[i] = float64(20 - i) // 20, 19, …, 1: unsorted on purpose
	}
	tests := []struct {
		name string
		in   []float64
		want Summary
	}{
		{"empty", nil, Summary{}},
		{"one", []float64{7}, Summary{N: 1, Median: 7, P95: 7, Min: 7, Max: 7}},
		{"odd", []float64{3, 1, 2}, Summary{N: 3, Median: 2, P95: 3, Min: 1, Max: 3}},
		{"even", []float64{4, 1, 3, 2}, Summary{N: 4, Median: 2.5, P95: 4, Min: 1, Max: 4}},
		// Nearest rank: ceil(0.95*20) = 19th smallest.
		{"twenty", twenty, Summary{N: 20, Median: 10.5, P95: 19, Min: 1, Max: 20}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Summarize(tt.in); got != tt.want {
				t.Errorf("Summarize(%v) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestSummarizeKeepsInput(t *testing.T) {
	in := []float64{3, 1, 2}
	Summarize(in)
	if in[0] != 3 || in[1] != 1 || in[2] != 2 {
		t.Errorf("Summarize sorted its input: %v", in)
	}
}

var importRE = regexp.MustCompile(`from '\./(m\d+)\.js'`)

func TestGenerateProject(t *testing.T) {
	for _, n := range []int{4, 10, 123, 1000} {
		dir := t.TempDir()
		p, err := GenerateProject(dir, n, plainLayout)
		if err != nil {
			t.Fatalf("GenerateProject(%d): %v", n, err)
		}
		mods, err := os.ReadDir(filepath.Join(dir, "mods"))
		if err != nil {
			t.Fatal(err)
		}
		if got := len(mods) + 3; got != n {
			t.Errorf("n=%d: %d modules on disk (tree + main.js + leaf.js + hot.js), want %d", n, got, n)
		}
		// Every tree module but the root is imported exactly once: a tree.
		imported := map[string]int{}
		for _, m := range mods {
			src := readFile(t, filepath.Join(dir, "mods", m.Name()))
			for _, match := range importRE.FindAllStringSubmatch(src, -1) {
				imported[match[1]]++
			}
			if strings.Count(src, "import ") > fanOut {
				t.Errorf("%s imports more than %d modules", m.Name(), fanOut)
			}
		}
		for _, m := range mods {
			name := strings.TrimSuffix(m.Name(), ".js")
			want := 1
			if name == "m0" {
				want = 0
			}
			if imported[name] != want {
				t.Errorf("n=%d: %s imported %d times, want %d", n, name, imported[name], want)
			}
		}
		if p.Total() != n-3 {
			t.Errorf("n=%d: Total() = %d, want %d", n, p.Total(), n-3)
		}
	}
}

func TestGenerateProjectFiles(t *testing.T) {
	dir := t.TempDir()
	if _, err := GenerateProject(dir, 10, esbuildLayout); err != nil {
		t.Fatal(err)
	}
	html := readFile(t, filepath.Join(dir, "index.html"))
	for _, want := range []string{
		`<script type="module" src="/out/main.js">`,
		`<link rel="stylesheet" href="/out/style.css">`,
		`new EventSource('/esbuild')`,
		`window.__bench`,
		`<p id="out">`,
		`<p id="hot">`,
		`'hot:' + hot.textContent`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
	if strings.Index(html, "window.__bench") > strings.Index(html, "<link") {
		t.Error("the probe must come before the stylesheet")
	}
	if got := readFile(t, filepath.Join(dir, "leaf.js")); got != "export const value = \"leaf-0\";\n" {
		t.Errorf("leaf.js = %q", got)
	}
	if main := readFile(t, filepath.Join(dir, "main.js")); !strings.Contains(main, "from './leaf.js'") ||
		strings.Contains(main, "import.meta.hot") {
		t.Errorf("main.js must import leaf.js and accept no hot update:\n%s", main)
	}
	if main := readFile(t, filepath.Join(dir, "main.js")); !strings.Contains(main, "import './hot.js';") {
		t.Errorf("main.js must import hot.js:\n%s", main)
	}
	if got, want := readFile(t, filepath.Join(dir, "hot.js")), `export const value = "hot-0";

document.getElementById("hot").textContent = value;

if (import.meta.hot) import.meta.hot.accept();
if (import.meta.webpackHot) import.meta.webpackHot.accept();
`; got != want {
		t.Errorf("hot.js = %q, want %q", got, want)
	}
	for _, name := range []string{"leaf.js", filepath.Join("mods", "m0.js")} {
		if src := readFile(t, filepath.Join(dir, name)); strings.Contains(src, "import.meta") {
			t.Errorf("%s must accept no hot update:\n%s", name, src)
		}
	}
}

func TestWriteHot(t *testing.T) {
	dir := t.TempDir()
	p, err := GenerateProject(dir, 10, plainLayout)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.WriteHot(`hot-"1"`); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(dir, "hot.js")); !strings.HasPrefix(got, `export const value = "hot-\"1\"";`) ||
		!strings.Contains(got, "import.meta.hot.accept();") {
		t.Errorf("hot.js after WriteHot:\n%s", got)
	}
}

func TestBurst(t *testing.T) {
	dir := t.TempDir()
	p, err := GenerateProject(dir, 1000, plainLayout)
	if err != nil {
		t.Fatal(err)
	}
	files, err := p.Burst(50, "burst-0")
	if err != nil {
		t.Fatal(err)
	}
	if files != 51 || p.Total() != 997+50 {
		t.Errorf("Burst wrote %d files, total %d; want 51 files, total %d", files, p.Total(), 997+50)
	}
	if got := readFile(t, filepath.Join(dir, "mods", "m49.js")); !strings.Contains(got, "export const v = 2;") {
		t.Errorf("m49.js not bumped:\n%s", got)
	}

	small, err := GenerateProject(t.TempDir(), 10, plainLayout)
	if err != nil {
		t.Fatal(err)
	}
	if files, _ := small.Burst(50, "x"); files != 8 {
		t.Errorf("burst on 7 tree modules wrote %d files, want 8", files)
	}
}

func TestEditColorDistinct(t *testing.T) {
	seen := map[string]bool{InitialColor: true}
	for i := range 1000 {
		c := EditColor(i)
		if seen[c] {
			t.Fatalf("EditColor(%d) = %s repeats", i, c)
		}
		seen[c] = true
	}
}

func TestParseFlags(t *testing.T) {
	cfg, err := parseFlags([]string{"-sizes", "10", "-edits", "3", "-tools", "devserve"})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Sizes) != 1 || cfg.Sizes[0] != 10 || cfg.Edits != 3 || cfg.Cold != 3 ||
		len(cfg.Tools) != 1 || cfg.Tools[0].NeedsNode {
		t.Errorf("unexpected config %+v", cfg)
	}
	for _, bad := range [][]string{{"-sizes", "3"}, {"-sizes", "x"}, {"-tools", "parcel"}, {"-cold", "0"}} {
		if _, err := parseFlags(bad); err == nil {
			t.Errorf("parseFlags(%q) accepted bad flags", bad)
		}
	}
}

func TestProcField(t *testing.T) {
	path := filepath.Join(t.TempDir(), "status")
	if err := os.WriteFile(path, []byte("Name:\tx\nVmRSS:\t  1234 kB\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := procField(path, "VmRSS:")
	if err != nil || got != 1234*1024 {
		t.Errorf("procField = %d, %v; want %d", got, err, 1234*1024)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
