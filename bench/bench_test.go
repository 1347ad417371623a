//go:build linux

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
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
		`"hot":"#hot"`,
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

// fakeModules makes a node_modules folder with the packages the React
// projects need, and a dot entry that must not be linked.
func fakeModules(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, pkg := range append(slices.Clone(reactPackages), "@vitejs/plugin-react", ".vite") {
		if err := os.MkdirAll(filepath.Join(dir, pkg), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, pkg, "package.json"), []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

var reactImportRE = regexp.MustCompile(`from '\./(c\d+)\.jsx'`)

func TestGenerateReactProject(t *testing.T) {
	modules := fakeModules(t)
	dir := t.TempDir()
	p, err := GenerateReactProject(dir, 123, modules)
	if err != nil {
		t.Fatal(err)
	}
	comps, err := os.ReadDir(filepath.Join(dir, "src"))
	if err != nil {
		t.Fatal(err)
	}
	if len(comps) != 124 { // 123 components and main.jsx
		t.Errorf("%d files in src, want 124", len(comps))
	}
	imported := map[string]int{}
	for _, c := range comps {
		src := readFile(t, filepath.Join(dir, "src", c.Name()))
		for _, m := range reactImportRE.FindAllStringSubmatch(src, -1) {
			imported[m[1]]++
		}
		if c.Name() != "main.jsx" && !strings.Contains(src, "useState(0)") {
			t.Errorf("%s has no state:\n%s", c.Name(), src)
		}
	}
	for i := range 123 {
		want := 1 // main.jsx imports c0
		if imported[fmt.Sprintf("c%d", i)] != want {
			t.Errorf("c%d imported %d times, want %d", i, imported[fmt.Sprintf("c%d", i)], want)
		}
	}
	edited := readFile(t, filepath.Join(dir, "src", "c122.jsx"))
	for _, want := range []string{`<span id="out">{"leaf-0"}</span>`, `<button id="count"`, "export function C122()"} {
		if !strings.Contains(edited, want) {
			t.Errorf("c122.jsx lacks %q:\n%s", want, edited)
		}
	}
	if err := p.WriteLabel("edit-1"); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(dir, "src", "c122.jsx")); !strings.Contains(got, `{"edit-1"}`) {
		t.Errorf("WriteLabel did not rewrite c122.jsx:\n%s", got)
	}
	if main := readFile(t, filepath.Join(dir, "src", "main.jsx")); !strings.Contains(main, `<p id="total">{"123 components"}</p>`) {
		t.Errorf("main.jsx:\n%s", main)
	}
	html := readFile(t, filepath.Join(dir, "index.html"))
	if !strings.Contains(html, `src="/src/main.jsx"`) || strings.Index(html, "window.__bench") > strings.Index(html, "<link") {
		t.Errorf("index.html must have the probe before the stylesheet and the entry:\n%s", html)
	}
	if target, err := os.Readlink(filepath.Join(dir, "node_modules", "react")); err != nil || target != filepath.Join(modules, "react") {
		t.Errorf("node_modules/react links to %q (%v), want %s", target, err, filepath.Join(modules, "react"))
	}
	if _, err := os.Lstat(filepath.Join(dir, "node_modules", ".vite")); err == nil {
		t.Error("node_modules/.vite is linked: vite's cache of one project would be shared")
	}
	if _, err := GenerateReactProject(t.TempDir(), 10, t.TempDir()); err == nil || !strings.Contains(err.Error(), "react-refresh") {
		t.Errorf("a node_modules without React: error %v, want one naming the packages", err)
	}
}

func TestCopyApp(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(root, filepath.FromSlash(App))
	before := readFile(t, filepath.Join(src, "src", "App.tsx"))
	dir := t.TempDir()
	p, err := CopyApp(src, dir, fakeModules(t), true)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.WriteLabel("edit-0"); err != nil {
		t.Fatal(err)
	}
	if err := p.WriteColor("rgb(200, 0, 1)"); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(dir, "src", "App.tsx")); !strings.Contains(got, "<h1>edit-0</h1>") {
		t.Errorf("App.tsx after WriteLabel:\n%s", got)
	}
	if got := readFile(t, filepath.Join(dir, "src", "App.css")); !strings.HasSuffix(got, "#center h1 {\n  color: rgb(200, 0, 1);\n}\n") {
		t.Errorf("App.css after WriteColor ends %q", got[max(0, len(got)-80):])
	}
	if html := readFile(t, filepath.Join(dir, "index.html")); !strings.Contains(html, `"out":"#center h1"`) {
		t.Errorf("the copy's index.html has no probe:\n%s", html)
	}
	if _, err := os.Stat(filepath.Join(dir, "favicon.svg")); err != nil {
		t.Errorf("publicAtRoot: %v", err)
	}
	if after := readFile(t, filepath.Join(src, "src", "App.tsx")); after != before {
		t.Error("CopyApp or its edits changed testdata")
	}
}

func TestBumpCount(t *testing.T) {
	for in, want := range map[string]string{"": "1", "0": "1", "9": "10", "Count is 3": "Count is 4", "x": "x1"} {
		if got := bumpCount(in); got != want {
			t.Errorf("bumpCount(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseProjects(t *testing.T) {
	cfg, err := parseFlags([]string{"-projects", "react,app", "-components", "10", "-tools", "devserve,bun"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.Projects, []string{CaseReact, CaseApp}) || !slices.Equal(cfg.Components, []int{10}) ||
		len(cfg.Tools) != 2 || !cfg.Tools[1].NeedsPeers || !cfg.Tools[1].ServesPage {
		t.Errorf("unexpected config %+v", cfg)
	}
	if cfg, _ := parseFlags(nil); !slices.Equal(cfg.Projects, []string{CaseTree}) {
		t.Errorf("default -projects = %v, want tree", cfg.Projects)
	}
	for _, bad := range [][]string{{"-projects", "vue"}, {"-components", "1"}, {"-tools", "parcel"}} {
		if _, err := parseFlags(bad); err == nil {
			t.Errorf("parseFlags(%q) accepted bad flags", bad)
		}
	}
}

func TestRunRowsRatio(t *testing.T) {
	runs := []*Run{
		{Project: CaseReact, Tool: "devserve", Modules: 10, Component: []*Sample{{Ms: 10}, {Ms: 20}}},
		{Project: CaseReact, Tool: "vite", Modules: 10, Component: []*Sample{{Ms: 45}}},
	}
	var b strings.Builder
	printTable(&b, &Results{Runs: runs})
	if !regexp.MustCompile(`vite\s+10\s+component edit\s+1/1\s+45\.0.*\s3\.00\s`).MatchString(b.String()) {
		t.Errorf("no ratio 3.00 for vite's component edit in:\n%s", b.String())
	}
}
