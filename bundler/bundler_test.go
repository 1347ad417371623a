package bundler

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestNewValidates(t *testing.T) {
	root := project(t, map[string]string{
		"main.ts":     "export {}",
		"style.css":   "a{}",
		"README.md":   "hi",
		"dir/x.ts":    "export {}",
		"dir/y.css":   "b{}",
		"../other.ts": "export {}", // outside root
	})
	outside := filepath.Join(filepath.Dir(root), "other.ts")
	cases := []struct {
		name    string
		opts    Options
		wantErr string // "" = no error
	}{
		{"no root", Options{}, "Root is required"},
		{"missing root", Options{Root: filepath.Join(root, "nope")}, "no such file"},
		{"root is a file", Options{Root: filepath.Join(root, "main.ts")}, "not a folder"},
		{"entries ok", Options{Root: root, BuildOptions: BuildOptions{Entries: []string{"main.ts", "style.css", "dir/x.ts"}}}, ""},
		{"absolute entry under root", Options{Root: root, BuildOptions: BuildOptions{Entries: []string{filepath.Join(root, "dir", "y.css")}}}, ""},
		{"missing entry", Options{Root: root, BuildOptions: BuildOptions{Entries: []string{"gone.ts"}}}, "gone.ts"},
		{"entry outside root", Options{Root: root, BuildOptions: BuildOptions{Entries: []string{"../other.ts"}}}, "not a file under the root"},
		{"absolute entry outside root", Options{Root: root, BuildOptions: BuildOptions{Entries: []string{outside}}}, "not a file under the root"},
		{"entry is a folder", Options{Root: root, BuildOptions: BuildOptions{Entries: []string{"dir"}}}, "not a .js"},
		{"entry of wrong type", Options{Root: root, BuildOptions: BuildOptions{Entries: []string{"README.md"}}}, "not a .js"},
		{"bad sourcemap", Options{Root: root, BuildOptions: BuildOptions{Sourcemap: "both"}}, "sourcemap"},
		{"bad jsx", Options{Root: root, BuildOptions: BuildOptions{JSX: "react"}}, "jsx"},
		{"bad target", Options{Root: root, BuildOptions: BuildOptions{Target: "es1999"}}, "target"},
		{"engine target", Options{Root: root, BuildOptions: BuildOptions{Target: "es2020,chrome100,safari15.4"}}, ""},
		{"bad loader name", Options{Root: root, BuildOptions: BuildOptions{Loader: map[string]string{".svg": "picture"}}}, "unknown loader"},
		{"bad loader extension", Options{Root: root, BuildOptions: BuildOptions{Loader: map[string]string{"svg": "file"}}}, "must start with a dot"},
		{"bad define", Options{Root: root, BuildOptions: BuildOptions{Define: map[string]string{"X": "1 +"}}}, "esbuild options: Invalid define value"},
		{"missing tsconfig", Options{Root: root, BuildOptions: BuildOptions{Tsconfig: "nope.json"}}, "nope.json"},
		{"bad jsx factory", Options{Root: root, BuildOptions: BuildOptions{Entries: []string{"main.ts"}, JSXFactory: "1+1"}}, "esbuild options"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := New(tc.opts)
			if b != nil {
				defer b.Close()
			}
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("New: got error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestDiscover(t *testing.T) {
	files := map[string]string{
		"a.ts":                  "export {}",
		"b.mjs":                 "export {}",
		"plain.js":              "export {}",
		"c.css":                 "a{}",
		"sub/d.tsx":             "export {}",
		"sub/e.css":             "a{}",
		"img.png":               "png",
		"node_modules/p/i.js":   "export {}",
		"node_modules/p/x.html": `<script type="module" src="i.js"></script>`,
		".hidden/x.html":        `<script type="module" src="/a.ts"></script>`,
	}
	cases := []struct {
		name  string
		pages map[string]string
		want  []string
	}{
		{"absolute URL", map[string]string{"index.html": `<script type="module" src="/a.ts"></script>`}, []string{"a.ts"}},
		{"relative to the page", map[string]string{"sub/page.html": `<script type="module" src="d.tsx"></script><link rel="stylesheet" href="./e.css">`}, []string{"sub/d.tsx", "sub/e.css"}},
		{"parent folder", map[string]string{"sub/page.html": `<script type="module" src="../a.ts"></script>`}, []string{"a.ts"}},
		{"above the root is clamped", map[string]string{"index.html": `<script type="module" src="../../a.ts"></script>`}, []string{"a.ts"}},
		{"absolute from a sub page", map[string]string{"sub/page.html": `<link rel="stylesheet" href="/c.css">`}, []string{"c.css"}},
		{"query and fragment stripped", map[string]string{"index.html": `<script type="module" src="/a.ts?v=1&amp;x=2#top"></script><link rel=stylesheet href="c.css?inline">`}, []string{"a.ts", "c.css"}},
		{"external URLs ignored", map[string]string{"index.html": `<script type="module" src="https://cdn.example/a.ts"></script><script type="module" src="//cdn.example/a.ts"></script><link rel="stylesheet" href="http://x/c.css"><script type="module" src="data:text/javascript,1"></script>`}, nil},
		{"non-module scripts ignored", map[string]string{"index.html": `<script src="/a.ts"></script><script type="text/javascript" src="/plain.js"></script>`}, nil},
		{"plain js module is an entry", map[string]string{"index.html": `<script type="module" src="plain.js"></script><script type=" MODULE " src="b.mjs"></script>`}, []string{"b.mjs", "plain.js"}},
		{"rel tokens", map[string]string{"index.html": `<link rel="preload" href="/c.css"><link rel="icon" href="/img.png"><link rel="Alternate StyleSheet" href="sub/e.css">`}, []string{"sub/e.css"}},
		{"missing files ignored", map[string]string{"index.html": `<script type="module" src="/nope.ts"></script><link rel="stylesheet" href="/nope.css">`}, nil},
		{"non-entry types ignored", map[string]string{"index.html": `<script type="module" src="/img.png"></script><link rel="stylesheet" href="/a.ts.map">`}, nil},
		{"comments and script text ignored", map[string]string{"index.html": `<!-- <script type="module" src="/a.ts"></script> --><script>document.write('<script type="module" src="/b.mjs"></' + 'script>')</script>`}, nil},
		{"self-closing and uppercase", map[string]string{"index.html": `<LINK REL="stylesheet" HREF="/c.css"/><SCRIPT TYPE="module" SRC="/a.ts"></SCRIPT>`}, []string{"a.ts", "c.css"}},
		{"deduplicated across pages", map[string]string{"index.html": `<script type="module" src="/a.ts"></script>`, "sub/page.html": `<script type="module" src="../a.ts"></script>`, "sub/other.htm": `<script type="module" src="/./a.ts"></script>`}, []string{"a.ts"}},
		{"node_modules and dot folders skipped", nil, nil},
		{"broken HTML", map[string]string{"index.html": "<script type=module src=/a.ts></script>\x00<<<>\xff\xfe</div></body><script"}, []string{"a.ts"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := project(t, files)
			writeFiles(t, root, tc.pages)
			b := open(t, Options{Root: root})
			if got := b.Entries(); !slices.Equal(got, tc.want) {
				t.Fatalf("Entries() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRediscover(t *testing.T) {
	root := fixture(t, "app")
	b := open(t, Options{Root: root})
	mustBuild(t, b, nil)
	index := readFile(t, root, "index.html")

	// A new page script appears.
	writeFiles(t, root, map[string]string{
		"extra.ts":   `console.log("extra")`,
		"index.html": strings.Replace(index, "</body>", `<script type="module" src="extra.ts"></script></body>`, 1),
	})
	before := rebuilds(b)
	r := mustBuild(t, b, []string{"index.html"})
	if want := []string{"extra.ts", "src/main.tsx", "style.css"}; !slices.Equal(b.Entries(), want) {
		t.Fatalf("Entries() = %q, want %q", b.Entries(), want)
	}
	if !slices.Equal(paths(r.Changed), []string{"/extra.ts", "/extra.ts.map"}) {
		t.Errorf("Changed = %q, want the new entry only", paths(r.Changed))
	}
	if after := rebuilds(b); after["src/main.tsx"] != before["src/main.tsx"] || after["style.css"] != before["style.css"] {
		t.Errorf("unchanged entries were rebuilt: %v -> %v", before, after)
	}

	// The page stops using it: the entry and its outputs go away, and its
	// context is disposed (a disposed context ignores Rebuild).
	extra := b.ctxs[slices.IndexFunc(b.ctxs, func(c *entryCtx) bool { return c.entry == "extra.ts" })]
	writeFiles(t, root, map[string]string{"index.html": index})
	r = mustBuild(t, b, []string{"index.html"})
	if r := extra.ctx.Rebuild(); len(r.OutputFiles) != 0 {
		t.Error("the context of a removed entry was not disposed")
	}
	if want := []string{"src/main.tsx", "style.css"}; !slices.Equal(b.Entries(), want) {
		t.Fatalf("Entries() = %q, want %q", b.Entries(), want)
	}
	if _, ok := b.Lookup("/extra.ts"); ok {
		t.Error("/extra.ts still served after its entry went away")
	}
	if findPath(r.Outputs, "/extra", "") != nil {
		t.Errorf("Outputs still hold /extra.ts: %q", paths(r.Outputs))
	}

	// A page refers to a file that does not exist yet: creating it adds
	// the entry.
	writeFiles(t, root, map[string]string{"index.html": strings.Replace(index, "</body>", `<script type="module" src="/later/x.ts"></script></body>`, 1)})
	mustBuild(t, b, []string{"index.html"})
	if slices.Contains(b.Entries(), "later/x.ts") {
		t.Fatal("a missing file became an entry")
	}
	if !b.Affects([]string{"later/x.ts"}) || !b.Affects([]string{"later"}) || b.Affects([]string{"later/y.ts"}) {
		t.Error("Affects does not watch for the missing file")
	}
	writeFiles(t, root, map[string]string{"later/x.ts": "console.log('later')"})
	mustBuild(t, b, []string{"later"}) // a watcher may report only the new folder
	if !slices.Contains(b.Entries(), "later/x.ts") {
		t.Fatalf("Entries() = %q, want later/x.ts among them", b.Entries())
	}
	lookup(t, b, "/later/x.ts")

	// Deleted, the entry fails; rediscovered, it goes; recreated, it's back.
	remove(t, root, "later/x.ts")
	if r := b.Build([]string{"later/x.ts"}); !hasError(r, "entry later/x.ts: file not found") {
		t.Errorf("Errors = %+v", r.Errors)
	}
	if r := mustBuild(t, b, []string{"index.html"}); slices.Contains(b.Entries(), "later/x.ts") || findPath(r.Outputs, "/later", "") != nil {
		t.Errorf("deleted entry still there after rediscovery: %q", b.Entries())
	}
	writeFiles(t, root, map[string]string{"later/x.ts": "console.log('again')"})
	mustBuild(t, b, []string{"later/x.ts"})
	if o := lookup(t, b, "/later/x.ts"); !strings.Contains(string(o.Contents), "again") {
		t.Errorf("recreated entry: %s", o.Contents)
	}
	writeFiles(t, root, map[string]string{"index.html": index})
	mustBuild(t, b, []string{"index.html"})

	// Given entries are never rediscovered.
	fixed := open(t, Options{Root: root, BuildOptions: BuildOptions{Entries: []string{"style.css"}}})
	mustBuild(t, fixed, nil)
	writeFiles(t, root, map[string]string{"index.html": strings.Replace(index, "</body>", `<script type="module" src="extra.ts"></script></body>`, 1)})
	mustBuild(t, fixed, []string{"index.html"})
	if !slices.Equal(fixed.Entries(), []string{"style.css"}) {
		t.Errorf("given entries changed to %q", fixed.Entries())
	}
}

func TestURLMapping(t *testing.T) {
	root := fixture(t, "app")
	b := open(t, Options{Root: root})
	r := mustBuild(t, b, nil)

	svg := findPath(r.Outputs, "/img/dot-", ".svg")
	if svg == nil {
		t.Fatalf("no /img/dot-*.svg output in %q", paths(r.Outputs))
	}
	want := []struct {
		path, kind, contentType string
	}{
		{svg.Path, "asset", "image/svg+xml"},
		{"/src/main.tsx", "js", "text/javascript; charset=utf-8"},
		{"/src/main.tsx.map", "map", "application/json"},
		{"/style.css", "css", "text/css; charset=utf-8"},
		{"/style.css.map", "map", "application/json"},
	}
	if len(r.Outputs) != len(want) {
		t.Fatalf("Outputs = %q, want %d", paths(r.Outputs), len(want))
	}
	for i, w := range want {
		o := r.Outputs[i]
		if o.Path != w.path || string(o.Kind) != w.kind || o.ContentType != w.contentType {
			t.Errorf("output %d = %s %s %q, want %s %s %q", i, o.Path, o.Kind, o.ContentType, w.path, w.kind, w.contentType)
		}
		if o.Hash != hashHex(o.Contents) {
			t.Errorf("%s: Hash %s is not the hash of its contents", o.Path, o.Hash)
		}
		if got := lookup(t, b, o.Path); got != o {
			t.Errorf("Lookup(%s) is not the output in Result", o.Path)
		}
	}
	if _, ok := b.Lookup("/src/main.js"); ok {
		t.Error("the JS is also served under esbuild's name /src/main.js")
	}

	js := string(lookup(t, b, "/src/main.tsx").Contents)
	if !strings.HasSuffix(js, "//# sourceMappingURL=main.tsx.map\n") {
		t.Errorf("JS does not end with its map comment:\n%s", tail(js))
	}
	if !strings.Contains(js, `h("h1", { class: "title" }`) {
		t.Errorf("JSX was not compiled with the tsconfig's factory:\n%s", js)
	}
	css := string(lookup(t, b, "/style.css").Contents)
	if !strings.HasSuffix(css, "/*# sourceMappingURL=style.css.map */\n") {
		t.Errorf("CSS does not end with its map comment:\n%s", tail(css))
	}

	// The CSS's url() resolves, from the CSS's URL, to the served asset.
	m := regexp.MustCompile(`url\("([^"]+)"\)`).FindStringSubmatch(css)
	if m == nil {
		t.Fatalf("no url() in CSS:\n%s", css)
	}
	assetURL := resolveURL(t, "/style.css", m[1])
	if assetURL != svg.Path {
		t.Errorf("url(%s) resolves to %s, want %s", m[1], assetURL, svg.Path)
	}
	if got, want := string(lookup(t, b, assetURL).Contents), readFile(t, root, "img/dot.svg"); got != want {
		t.Errorf("asset contents = %q, want %q", got, want)
	}

	// The map's sources resolve, from the map's URL, to the sources' URLs.
	var sm struct {
		Sources []string `json:"sources"`
	}
	if err := json.Unmarshal(lookup(t, b, "/src/main.tsx.map").Contents, &sm); err != nil {
		t.Fatal(err)
	}
	var sources []string
	for _, s := range sm.Sources {
		sources = append(sources, resolveURL(t, "/src/main.tsx.map", s))
	}
	if want := []string{"/src/h.ts", "/src/greet.ts", "/src/main.tsx"}; !slices.Equal(sources, want) {
		t.Errorf("map sources resolve to %q, want %q", sources, want)
	}

	if want := []string{"img/dot.svg", "src/greet.ts", "src/h.ts", "src/main.tsx", "style.css"}; !slices.Equal(r.Inputs, want) {
		t.Errorf("Inputs = %q, want %q", r.Inputs, want)
	}
	if _, ok := b.Lookup("/nope.js"); ok {
		t.Error("Lookup of an unknown path succeeded")
	}
}

// TestURLMappingImportedAssets covers CSS and files imported from JS.
func TestURLMappingImportedAssets(t *testing.T) {
	root := project(t, map[string]string{
		"index.html":          `<script type="module" src="/src/app/main.ts"></script>`,
		"src/app/main.ts":     `import "./theme.css"; import logo from "../logo.svg"; document.title = logo;`,
		"src/app/theme.css":   `@font-face { font-family: f; src: url(../fonts/f.woff2) } body { font-family: f }`,
		"src/fonts/f.woff2":   "wOF2 not really",
		"src/logo.svg":        "<svg/>",
		"src/unused/skip.png": "png",
	})
	b := open(t, Options{Root: root})
	r := mustBuild(t, b, nil)

	if got := b.CSSFor("src/app/main.ts"); got != "src/app/main.css" {
		t.Errorf("CSSFor = %q, want src/app/main.css", got)
	}
	css := lookup(t, b, "/src/app/main.css")
	if css.Kind != CSS || css.ContentType != cssType {
		t.Errorf("/src/app/main.css is %s %q", css.Kind, css.ContentType)
	}
	if !strings.HasSuffix(string(css.Contents), "/*# sourceMappingURL=main.css.map */\n") {
		t.Errorf("CSS bundle map comment:\n%s", tail(string(css.Contents)))
	}
	lookup(t, b, "/src/app/main.css.map")

	m := regexp.MustCompile(`url\(([^)]+)\)`).FindStringSubmatch(string(css.Contents))
	if m == nil {
		t.Fatalf("no url() in %s", css.Contents)
	}
	font := lookup(t, b, resolveURL(t, "/src/app/main.css", strings.Trim(m[1], `"`)))
	if font.Kind != Asset || string(font.Contents) != "wOF2 not really" || font.ContentType != "font/woff2" {
		t.Errorf("font = %s %s %q", font.Path, font.Kind, font.ContentType)
	}

	// JS gets an absolute URL: strings in JS resolve against the page.
	js := string(lookup(t, b, "/src/app/main.ts").Contents)
	m = regexp.MustCompile(`"(/src/logo-[A-Z0-9]+\.svg)"`).FindStringSubmatch(js)
	if m == nil {
		t.Fatalf("no absolute logo URL in JS:\n%s", js)
	}
	if got := string(lookup(t, b, m[1]).Contents); got != "<svg/>" {
		t.Errorf("logo = %q", got)
	}
	if findPath(r.Outputs, "/src/unused", "") != nil {
		t.Errorf("an unimported file became an output: %q", paths(r.Outputs))
	}
}

func TestBareImport(t *testing.T) {
	b := open(t, Options{Root: fixture(t, "withpkg")})
	r := mustBuild(t, b, nil)
	js := string(lookup(t, b, "/main.js").Contents)
	if !strings.Contains(js, "toUpperCase") {
		t.Errorf("tiny-pkg was not bundled:\n%s", js)
	}
	if !slices.Contains(r.Inputs, "node_modules/tiny-pkg/index.js") {
		t.Errorf("Inputs = %q, want node_modules/tiny-pkg/index.js among them", r.Inputs)
	}
	if !b.Affects([]string{"node_modules/tiny-pkg/index.js"}) {
		t.Error("a change to the package does not affect the build")
	}
}

func TestErrorsAsData(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		want  Message
	}{
		{
			name:  "syntax error",
			files: map[string]string{"main.ts": "const ok = 1;\nconst broken: number = ;\n"},
			want:  Message{Text: `Unexpected ";"`, File: "main.ts", Line: 2, Column: 23, LineText: "const broken: number = ;"},
		},
		{
			name:  "in a sub folder",
			files: map[string]string{"main.ts": `import "./lib/x";`, "lib/x.ts": "export const x = (;\n"},
			want:  Message{Text: `Unexpected ";"`, File: "lib/x.ts", Line: 1, Column: 18, LineText: "export const x = (;"},
		},
		{
			name:  "missing import",
			files: map[string]string{"main.ts": "import { a } from \"./nope\";\nconsole.log(a);\n"},
			want:  Message{Text: `Could not resolve "./nope"`, File: "main.ts", Line: 1, Column: 18, LineText: `import { a } from "./nope";`},
		},
		{
			name:  "css error",
			files: map[string]string{"main.ts": `import "./a.css";`, "a.css": "@import url(./missing.css);\n"},
			want:  Message{Text: `Could not resolve "./missing.css"`, File: "a.css", Line: 1, Column: 8, LineText: "@import url(./missing.css);"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := project(t, tc.files)
			b := open(t, Options{Root: root, BuildOptions: BuildOptions{Entries: []string{"main.ts"}}})
			r := b.Build(nil)
			if r.OK() || len(r.Errors) == 0 {
				t.Fatal("build succeeded")
			}
			if got := r.Errors[0]; got != tc.want {
				t.Errorf("error = %+v\nwant    %+v", got, tc.want)
			}
			if r.Changed != nil {
				t.Errorf("Changed = %q on failure, want nil", paths(r.Changed))
			}
		})
	}

	// The broken fixture, and the JSON shape the browser gets.
	b := open(t, Options{Root: fixture(t, "broken")})
	r := b.Build(nil)
	if len(r.Errors) != 1 || r.Errors[0].File != "main.ts" || r.Errors[0].Line != 2 {
		t.Fatalf("Errors = %+v", r.Errors)
	}
	data, err := json.Marshal(r.Errors[0])
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(data, &fields); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"column", "file", "line", "lineText", "suggestion", "text"}; !slices.Equal(keys, want) {
		t.Errorf("JSON keys = %q, want %q", keys, want)
	}
	if r.Warnings == nil || len(r.Outputs) != 0 {
		t.Errorf("Warnings = %v (want non-nil), Outputs = %q (want none)", r.Warnings, paths(r.Outputs))
	}
}

func TestWarningsAsData(t *testing.T) {
	root := project(t, map[string]string{"main.ts": "if (typeof x == \"null\") {}\n"})
	b := open(t, Options{Root: root, BuildOptions: BuildOptions{Entries: []string{"main.ts"}}})
	r := mustBuild(t, b, nil)
	if len(r.Warnings) != 1 || r.Warnings[0].File != "main.ts" || r.Warnings[0].Line != 1 || r.Warnings[0].LineText == "" {
		t.Fatalf("Warnings = %+v", r.Warnings)
	}
	// Warnings of an entry that is not rebuilt are still reported.
	writeFiles(t, root, map[string]string{"other.txt": "x"})
	if r := mustBuild(t, b, []string{"other.txt"}); len(r.Warnings) != 1 {
		t.Errorf("Warnings after an unrelated change = %+v", r.Warnings)
	}
}

func TestFailedBuildKeepsLastGood(t *testing.T) {
	root := fixture(t, "app")
	b := open(t, Options{Root: root})
	good := mustBuild(t, b, nil)
	oldJS := lookup(t, b, "/src/main.tsx")
	main := readFile(t, root, "src/main.tsx")

	writeFiles(t, root, map[string]string{"src/main.tsx": main + "\nconst = ;\n"})
	r := b.Build([]string{"src/main.tsx"})
	if r.OK() || r.Changed != nil {
		t.Fatalf("broken build: OK=%v Changed=%q", r.OK(), paths(r.Changed))
	}
	if r.ID != good.ID || !reflect.DeepEqual(paths(r.Outputs), paths(good.Outputs)) {
		t.Errorf("failed build changed the served outputs: %s %q", r.ID, paths(r.Outputs))
	}
	if got := lookup(t, b, "/src/main.tsx"); got != oldJS {
		t.Error("Lookup does not answer the last good JS after a failure")
	}
	if b.Last() != r {
		t.Error("Last() is not the failed result")
	}

	writeFiles(t, root, map[string]string{"src/main.tsx": strings.Replace(main, "Edit src", "Now edit src", 1)})
	r = mustBuild(t, b, []string{"src/main.tsx"})
	if !slices.Equal(paths(r.Changed), []string{"/src/main.tsx", "/src/main.tsx.map"}) {
		t.Errorf("Changed after the fix = %q", paths(r.Changed))
	}
	if !strings.Contains(string(lookup(t, b, "/src/main.tsx").Contents), "Now edit src") {
		t.Error("the fixed JS is not served")
	}
}

func TestPartialFailure(t *testing.T) {
	root := fixture(t, "app")
	b := open(t, Options{Root: root})
	mustBuild(t, b, nil)
	oldJS := lookup(t, b, "/src/main.tsx")
	main := readFile(t, root, "src/main.tsx")

	writeFiles(t, root, map[string]string{
		"src/main.tsx": main + "\n<<<\n",
		"style.css":    "body { color: red }\n",
	})
	r := b.Build([]string{"src/main.tsx", "style.css"})
	if r.OK() || r.Changed != nil {
		t.Fatalf("OK=%v Changed=%q, want a failure", r.OK(), paths(r.Changed))
	}
	if got := lookup(t, b, "/src/main.tsx"); got != oldJS {
		t.Error("the failed entry's last good JS is not served")
	}
	if css := lookup(t, b, "/style.css"); !strings.Contains(string(css.Contents), "color: red") {
		t.Errorf("the good entry's new CSS is not served:\n%s", css.Contents)
	}
	if findPath(r.Outputs, "/style.css", "") == nil || findPath(r.Outputs, "/src/main.tsx", "") == nil {
		t.Errorf("Outputs = %q", paths(r.Outputs))
	}

	// Fixing the JS reports the CSS change too: it was never reported.
	writeFiles(t, root, map[string]string{"src/main.tsx": main})
	r = mustBuild(t, b, []string{"src/main.tsx"})
	if want := []string{"/style.css", "/style.css.map"}; !slices.Equal(paths(r.Changed), want) {
		t.Errorf("Changed = %q, want %q", paths(r.Changed), want)
	}
}

func TestChanged(t *testing.T) {
	root := fixture(t, "app")
	b := open(t, Options{Root: root})
	first := mustBuild(t, b, nil)
	if !reflect.DeepEqual(first.Changed, first.Outputs) {
		t.Errorf("first build: Changed = %q, want every output", paths(first.Changed))
	}

	steps := []struct {
		name    string
		files   map[string]string // written before the build
		changed []string
		want    []string // paths in Result.Changed
	}{
		{"same bytes", map[string]string{"src/greet.ts": readFile(t, root, "src/greet.ts")}, []string{"src/greet.ts"}, nil},
		{"css only", map[string]string{"style.css": "body { margin: 0 }\n"}, []string{"style.css"}, []string{"/style.css", "/style.css.map"}},
		{"js only", map[string]string{"src/greet.ts": "export const greet = (n: string) => `Hi ${n}`;\n"}, []string{"src/greet.ts"}, []string{"/src/main.tsx", "/src/main.tsx.map"}},
		{"a comment changes only the map", map[string]string{"src/greet.ts": "// hi\nexport const greet = (n: string) => `Hi ${n}`;\n"}, []string{"src/greet.ts"}, []string{"/src/main.tsx.map"}},
		{"nothing changed", nil, []string{}, nil},
		{"rebuild all, same sources", nil, nil, nil},
	}
	prev := first
	for _, s := range steps {
		writeFiles(t, root, s.files)
		r := mustBuild(t, b, s.changed)
		if r.Changed == nil {
			t.Fatalf("%s: Changed is nil on success", s.name)
		}
		if got := paths(r.Changed); !slices.Equal(got, s.want) && !(len(got) == 0 && len(s.want) == 0) {
			t.Errorf("%s: Changed = %q, want %q", s.name, got, s.want)
		}
		if (len(s.want) == 0) != (r.ID == prev.ID) {
			t.Errorf("%s: ID %s -> %s", s.name, prev.ID, r.ID)
		}
		prev = r
	}
}

func TestIDIsDeterministic(t *testing.T) {
	root := fixture(t, "app")
	a := open(t, Options{Root: root})
	b := open(t, Options{Root: root})
	ra, rb := mustBuild(t, a, nil), mustBuild(t, b, nil)
	if ra.ID == "" || ra.ID != rb.ID {
		t.Errorf("IDs of the same outputs differ: %q %q", ra.ID, rb.ID)
	}
	if ok, _ := regexp.MatchString(`^[0-9a-f]{16}$`, ra.ID); !ok {
		t.Errorf("ID %q is not short hex", ra.ID)
	}
}

func TestOnlyAffectedEntriesRebuilt(t *testing.T) {
	root := fixture(t, "app")
	writeFiles(t, root, map[string]string{"README.md": "hi", "img/unused.png": "png"})
	b := open(t, Options{Root: root})
	if got := rebuilds(b); got["src/main.tsx"] != 0 || got["style.css"] != 0 {
		t.Fatalf("New built already: %v", got)
	}
	steps := []struct {
		changed      []string
		js, css      int // cumulative rebuild counts after the step
		touchedFiles map[string]string
	}{
		{nil, 1, 1, nil},
		{[]string{"style.css"}, 1, 2, map[string]string{"style.css": readFile(t, root, "style.css") + "\na { color: blue }\n"}},
		{[]string{"src/greet.ts"}, 2, 2, nil},
		{[]string{"src/h.ts", "src/greet.ts"}, 3, 2, nil},
		{[]string{"README.md", "img/unused.png"}, 3, 2, nil},
		{[]string{"img/dot.svg"}, 3, 3, nil},
		{[]string{"src"}, 4, 3, nil},                                  // a folder holding inputs
		{[]string{"index.html"}, 4, 3, nil},                           // rediscovery, same entries
		{[]string{"tsconfig.json"}, 5, 4, nil},                        // config: everything
		{[]string{"package.json"}, 6, 5, nil},                         // config: everything
		{[]string{"/etc/passwd"}, 6, 5, nil},                          // outside the root
		{[]string{filepath.Join(root, "src", "main.tsx")}, 7, 5, nil}, // absolute
		{nil, 8, 6, nil},
	}
	for i, s := range steps {
		writeFiles(t, root, s.touchedFiles)
		mustBuild(t, b, s.changed)
		got := rebuilds(b)
		if got["src/main.tsx"] != s.js || got["style.css"] != s.css {
			t.Errorf("step %d Build(%q): rebuilds js=%d css=%d, want js=%d css=%d", i, s.changed, got["src/main.tsx"], got["style.css"], s.js, s.css)
		}
	}

	// A failed entry is rebuilt on any change: a new file may fix it.
	writeFiles(t, root, map[string]string{"src/greet.ts": `export { greet } from "./later";`})
	b.Build([]string{"src/greet.ts"})
	before := rebuilds(b)
	writeFiles(t, root, map[string]string{"src/later.ts": "export const greet = (s: string) => s;"})
	r := mustBuild(t, b, []string{"src/later.ts"})
	after := rebuilds(b)
	if after["src/main.tsx"] != before["src/main.tsx"]+1 || after["style.css"] != before["style.css"] {
		t.Errorf("after a failure: %v -> %v", before, after)
	}
	if !slices.Contains(r.Inputs, "src/later.ts") {
		t.Errorf("Inputs = %q, want src/later.ts", r.Inputs)
	}
}

func TestAffects(t *testing.T) {
	root := fixture(t, "app")
	writeFiles(t, root, map[string]string{"README.md": "hi", "img/unused.png": "png", "docs/x.md": "x"})
	discovered := open(t, Options{Root: root})
	given := open(t, Options{Root: root, BuildOptions: BuildOptions{Entries: []string{"src/main.tsx", "style.css"}}})
	if !discovered.Affects([]string{"README.md"}) {
		t.Error("before the first build every change should matter")
	}
	mustBuild(t, discovered, nil)
	mustBuild(t, given, nil)

	cases := []struct {
		paths             []string
		discovered, given bool
	}{
		{[]string{"src/greet.ts"}, true, true},
		{[]string{"src/main.tsx"}, true, true},
		{[]string{"style.css"}, true, true},
		{[]string{"img/dot.svg"}, true, true},
		{[]string{"README.md"}, false, false},
		{[]string{"img/unused.png"}, false, false},
		{[]string{"README.md", "src/h.ts"}, true, true},
		{[]string{"index.html"}, true, false},
		{[]string{"other/page.htm"}, true, false},
		{[]string{"tsconfig.json"}, true, true},
		{[]string{"src/tsconfig.base.json"}, true, true},
		{[]string{"jsconfig.json"}, true, true},
		{[]string{"node_modules/x/package.json"}, true, true},
		{[]string{"src"}, true, true},
		{[]string{"img"}, true, true},
		{[]string{"docs"}, false, false},
		{[]string{"./src/../src/greet.ts"}, true, true},
		{[]string{filepath.Join(root, "src", "greet.ts")}, true, true},
		{[]string{filepath.Join(root, "README.md")}, false, false},
		{[]string{"../outside.ts"}, false, false},
		{nil, false, false},
	}
	for _, tc := range cases {
		if got := discovered.Affects(tc.paths); got != tc.discovered {
			t.Errorf("discovered: Affects(%q) = %v, want %v", tc.paths, got, tc.discovered)
		}
		if got := given.Affects(tc.paths); got != tc.given {
			t.Errorf("given entries: Affects(%q) = %v, want %v", tc.paths, got, tc.given)
		}
	}

	// After a failure anything may fix it.
	writeFiles(t, root, map[string]string{"src/greet.ts": "export const = ;"})
	discovered.Build([]string{"src/greet.ts"})
	if !discovered.Affects([]string{"README.md"}) {
		t.Error("after a failed build, a new or changed file must matter")
	}

	// Explicit tsconfig path is a config file too.
	writeFiles(t, root, map[string]string{"src/greet.ts": "export const greet = (s: string) => s;", "config/ts.json": `{"compilerOptions": {"jsxFactory": "h", "jsxFragmentFactory": "Fragment"}}`})
	withTs := open(t, Options{Root: root, BuildOptions: BuildOptions{Tsconfig: "config/ts.json"}})
	mustBuild(t, withTs, nil)
	if !withTs.Affects([]string{"config/ts.json"}) || withTs.Affects([]string{"config/other.json"}) {
		t.Error("Options.Tsconfig is not treated as a config file")
	}
}

func TestSymlinkedRoot(t *testing.T) {
	real := fixture(t, "app")
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(real, link); err != nil {
		t.Skip("no symlinks:", err)
	}
	b := open(t, Options{Root: link})
	r := mustBuild(t, b, nil)
	if !slices.Contains(r.Inputs, "src/greet.ts") {
		t.Fatalf("Inputs = %q", r.Inputs)
	}
	for _, p := range []string{filepath.Join(link, "src", "greet.ts"), filepath.Join(real, "src", "greet.ts")} {
		if !b.Affects([]string{p}) {
			t.Errorf("Affects(%s) = false", p)
		}
	}
	writeFiles(t, link, map[string]string{"src/greet.ts": "export const = ;"})
	r = b.Build([]string{filepath.Join(link, "src", "greet.ts")})
	if r.OK() || r.Errors[0].File != "src/greet.ts" {
		t.Errorf("Errors = %+v", r.Errors)
	}
}

func TestLookupWaitsForBuild(t *testing.T) {
	root := fixture(t, "app")
	b := open(t, Options{Root: root})
	mustBuild(t, b, nil)
	writeFiles(t, root, map[string]string{"style.css": "body { color: green }\n"})

	started, release := make(chan struct{}), make(chan struct{})
	b.buildHook = func() { close(started); <-release }
	waiting := make(chan struct{}, 1)
	b.lookupWaitHook = func() {
		select {
		case waiting <- struct{}{}:
		default:
		}
	}

	built := make(chan *Result)
	go func() { built <- b.Build([]string{"style.css"}) }()
	<-started

	got := make(chan *Output)
	go func() {
		o, _ := b.Lookup("/style.css")
		got <- o
	}()
	select {
	case <-waiting:
	case o := <-got:
		t.Fatalf("Lookup answered during a build: %s", o.Contents)
	case <-time.After(10 * time.Second):
		t.Fatal("Lookup neither waited nor answered")
	}
	// Other readers don't block on the build.
	_ = b.Affects([]string{"style.css"})
	_ = b.Entries()
	_ = b.Last()

	close(release)
	o := <-got
	if !strings.Contains(string(o.Contents), "color: green") {
		t.Errorf("Lookup returned stale CSS:\n%s", o.Contents)
	}
	if r := <-built; !r.OK() {
		t.Fatal(r.Errors)
	}
}

func TestBuildsAreSerialized(t *testing.T) {
	root := fixture(t, "app")
	b := open(t, Options{Root: root})
	var mu sync.Mutex
	running, maxRunning := 0, 0
	b.rebuildHook = func(string) {
		mu.Lock()
		running++
		maxRunning = max(maxRunning, running)
		mu.Unlock()
		time.Sleep(time.Millisecond)
		mu.Lock()
		running--
		mu.Unlock()
	}
	b.buildHook = func() {
		mu.Lock()
		defer mu.Unlock()
		if running != 0 {
			t.Error("a build started while another was rebuilding")
		}
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Go(func() {
			if r := b.Build(nil); !r.OK() {
				t.Error(r.Errors)
			}
		})
		wg.Go(func() {
			b.Lookup("/src/main.tsx")
			b.Affects([]string{"src/h.ts"})
			b.Entries()
			b.OutputFor("src/main.tsx")
			if r := b.Last(); r != nil {
				_ = r.ID
			}
		})
	}
	wg.Wait()
	// Two entries rebuild in parallel within one build, never more.
	if maxRunning > 2 {
		t.Errorf("%d rebuilds ran at once", maxRunning)
	}
	if got := rebuilds(b); got["src/main.tsx"] != 8 || got["style.css"] != 8 {
		t.Errorf("rebuilds = %v, want 8 each", got)
	}
}

func TestRobustness(t *testing.T) {
	big := "export const v = [\n" + strings.Repeat("  \"0123456789abcdef0123456789abcdef\",\n", 5<<20/38) + "].length;\n"
	cases := []robustCase{
		{
			name: "invalid UTF-8",
			break_: func(t *testing.T, root string) {
				writeFiles(t, root, map[string]string{"src/greet.ts": "export const greet = (n: string) => \"\xff\xfe\xc3\" + n;\n"})
			},
			changed: []string{"src/greet.ts"},
		},
		{
			name: "binary file named .js",
			break_: func(t *testing.T, root string) {
				bin := make([]byte, 4096)
				for i := range bin {
					bin[i] = byte(i * 7)
				}
				writeFiles(t, root, map[string]string{"src/bin.js": string(bin), "src/greet.ts": `import "./bin.js"; export const greet = (s: string) => s;`})
			},
			changed: []string{"src/greet.ts", "src/bin.js"},
			wantErr: "src/bin.js",
		},
		{
			name: "5 MB file",
			break_: func(t *testing.T, root string) {
				writeFiles(t, root, map[string]string{"src/big.ts": big, "src/greet.ts": `import { v } from "./big"; export const greet = (s: string) => s + v;`})
			},
			changed: []string{"src/greet.ts", "src/big.ts"},
		},
		{
			name: "missing import",
			break_: func(t *testing.T, root string) {
				writeFiles(t, root, map[string]string{"src/greet.ts": `export { greet } from "./nowhere";`})
			},
			changed: []string{"src/greet.ts"},
			wantErr: `Could not resolve "./nowhere"`,
		},
		{
			name: "circular imports",
			break_: func(t *testing.T, root string) {
				writeFiles(t, root, map[string]string{
					"src/greet.ts": `import { b } from "./b"; export const a = 1; export const greet = (s: string) => s + b;`,
					"src/b.ts":     `import { a } from "./greet"; export const b = () => a;`,
				})
			},
			changed: []string{"src/greet.ts", "src/b.ts"},
		},
		{
			name:    "deleted entry",
			break_:  func(t *testing.T, root string) { remove(t, root, "src/main.tsx") },
			changed: []string{"src/main.tsx"},
			wantErr: "entry src/main.tsx: file not found",
		},
		{
			name:    "deleted folder",
			break_:  func(t *testing.T, root string) { remove(t, root, "src") },
			changed: []string{"src"},
			wantErr: "entry src/main.tsx: file not found",
		},
		{
			name:    "deleted CSS asset",
			break_:  func(t *testing.T, root string) { remove(t, root, "img/dot.svg") },
			changed: []string{"img/dot.svg"},
			wantErr: `Could not resolve "./img/dot.svg"`,
		},
		{
			name: "entry replaced by a folder",
			break_: func(t *testing.T, root string) {
				remove(t, root, "style.css")
				writeFiles(t, root, map[string]string{"style.css/x": "x"})
			},
			changed: []string{"style.css"},
			wantErr: "entry style.css: not a regular file",
		},
		{
			name: "unreadable file",
			break_: func(t *testing.T, root string) {
				if err := os.Chmod(filepath.Join(root, "src", "greet.ts"), 0); err != nil {
					t.Fatal(err)
				}
			},
			changed: []string{"src/greet.ts"},
			wantErr: map[bool]string{true: "", false: "greet"}[os.Geteuid() == 0], // root reads anyway
		},
		{
			name:    "esbuild panics",
			break_:  func(t *testing.T, root string) {},
			changed: nil,
			wantErr: "internal error building src/main.tsx: boom",
			hook: func(entry string) {
				if entry == "src/main.tsx" {
					panic("boom")
				}
			},
		},
	}
	for _, mode := range []struct {
		name    string
		modules bool
	}{{"bundled", false}, {"modules", true}} {
		for _, tc := range cases {
			t.Run(mode.name+"/"+tc.name, func(t *testing.T) { tc.run(t, mode.modules) })
		}
	}
}

// robustCase is a way to break a project, for TestRobustness.
type robustCase struct {
	name    string
	break_  func(t *testing.T, root string)
	changed []string
	wantErr string // substring of some error; "" = build may succeed
	hook    func(entry string)
}

// run breaks a copy of testdata/app, checks the build's errors and that
// the last good outputs stay served, puts the project back and checks
// that the next build recovers.
func (tc robustCase) run(t *testing.T, modules bool) {
	orig := fixture(t, "app")
	root := copyDir(t, orig)
	b := open(t, Options{Root: root, Modules: modules})
	good := mustBuild(t, b, nil)

	tc.break_(t, root)
	b.rebuildHook = tc.hook
	r := b.Build(tc.changed)
	b.rebuildHook = nil
	if tc.wantErr != "" {
		if r.OK() || !hasError(r, tc.wantErr) {
			t.Fatalf("errors = %+v, want one containing %q", r.Errors, tc.wantErr)
		}
		if !slices.Equal(paths(r.Outputs), paths(good.Outputs)) {
			t.Errorf("served outputs after the failure = %q, want the last good %q", paths(r.Outputs), paths(good.Outputs))
		}
	}
	lookup(t, b, "/src/main.tsx") // still serving, not blocked

	// Put the project back: the next build recovers.
	if err := os.RemoveAll(root); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(orig, root); err != nil {
		t.Fatal(err)
	}
	r = mustBuild(t, b, append(tc.changed, "src/greet.ts", "src/main.tsx"))
	if r.ID != good.ID {
		t.Errorf("after recovery ID = %s, want the original %s (outputs %q)", r.ID, good.ID, paths(r.Outputs))
	}
}

func TestClose(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(), esbuildTimer)
	root := fixture(t, "app")
	b, err := New(Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	good := mustBuild(t, b, nil)
	mustBuild(t, b, []string{"style.css"})
	ctxs := slices.Clone(b.ctxs)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	// An undisposed context holds no goroutines, so goleak cannot tell;
	// a disposed one ignores Rebuild.
	for _, c := range ctxs {
		if r := c.ctx.Rebuild(); len(r.OutputFiles) != 0 || r.Metafile != "" {
			t.Errorf("context of %s still builds after Close", c.entry)
		}
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	r := b.Build(nil)
	if r.OK() || r.Errors[0].Text != "bundler is closed" || r.Changed != nil {
		t.Errorf("Build after Close = %+v", r)
	}
	if r.ID != good.ID {
		t.Errorf("Build after Close changed what is served")
	}
	if b.Affects([]string{"src/main.tsx"}) {
		t.Error("a closed bundler is affected by changes")
	}
	lookup(t, b, "/src/main.tsx") // answers, does not block
}

func TestCloseDuringBuild(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(), esbuildTimer)
	root := fixture(t, "app")
	b, err := New(Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	started, release := make(chan struct{}), make(chan struct{})
	b.buildHook = func() { close(started); <-release }
	built := make(chan *Result)
	go func() { built <- b.Build(nil) }()
	<-started
	closed := make(chan error)
	go func() { closed <- b.Close() }()
	for !isClosed(b) {
		runtime.Gosched()
	}
	close(release)
	<-built
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if r := b.Build(nil); r.OK() {
		t.Error("Build after Close succeeded")
	}
}

func TestWriteTo(t *testing.T) {
	root := fixture(t, "app")
	b := open(t, Options{Root: root, BuildOptions: BuildOptions{Minify: true}})
	if err := b.WriteTo(t.TempDir()); err == nil {
		t.Error("WriteTo before any build succeeded")
	}
	r := mustBuild(t, b, nil)

	if got := b.OutputFor("src/main.tsx"); got != "src/main.js" {
		t.Errorf("OutputFor(src/main.tsx) = %q", got)
	}
	if got := b.OutputFor("style.css"); got != "style.css" {
		t.Errorf("OutputFor(style.css) = %q", got)
	}
	if got := b.OutputFor("nope.ts"); got != "" {
		t.Errorf("OutputFor(nope.ts) = %q", got)
	}
	if got := b.CSSFor("src/main.tsx"); got != "" {
		t.Errorf("CSSFor(src/main.tsx) = %q, want none", got)
	}

	dir := t.TempDir()
	if err := b.WriteTo(dir); err != nil {
		t.Fatal(err)
	}
	svg := findPath(r.Outputs, "/img/dot-", ".svg")
	want := []string{strings.TrimPrefix(svg.Path, "/"), "src/main.js", "src/main.js.map", "style.css", "style.css.map"}
	var got []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			got = append(got, filepath.ToSlash(rel))
		}
		return err
	})
	if !slices.Equal(got, want) {
		t.Errorf("written files = %q, want %q", got, want)
	}
	js := readFile(t, dir, "src/main.js")
	if !strings.HasSuffix(js, "//# sourceMappingURL=main.js.map\n") {
		t.Errorf("written JS map comment:\n%s", tail(js))
	}
	if strings.Contains(js, "\n  ") {
		t.Errorf("Minify did not minify:\n%s", js)
	}
	if css := readFile(t, dir, "style.css"); !strings.Contains(css, strings.TrimPrefix(svg.Path, "/img/")) {
		t.Errorf("written CSS does not reference the asset:\n%s", css)
	}
	// The served JS is untouched by WriteTo.
	if !strings.HasSuffix(string(lookup(t, b, "/src/main.tsx").Contents), "sourceMappingURL=main.tsx.map\n") {
		t.Error("WriteTo changed the served JS")
	}

	writeFiles(t, root, map[string]string{"style.css": "@import url(./missing.css);"})
	b.Build([]string{"style.css"})
	if err := b.WriteTo(t.TempDir()); err == nil || !strings.Contains(err.Error(), "failed") {
		t.Errorf("WriteTo after a failed build: %v", err)
	}
}

func TestOptions(t *testing.T) {
	files := map[string]string{
		"main.ts":                           "import txt from './note.svg';\nconsole.log(__VERSION__, txt, a ?? b);\ndeclare const __VERSION__: string, a: any, b: any;\n",
		"note.svg":                          "<svg>note</svg>",
		"app.jsx":                           "export const el = <div>hi</div>;\n",
		"node_modules/myjsx/jsx-runtime.js": "export const jsx = (t, p) => ({ t, p });\n",
		"tsconfig.custom.json":              `{"compilerOptions": {"jsxFactory": "myH"}}`,
	}
	cases := []struct {
		name  string
		opts  Options
		entry string
		check func(t *testing.T, js string, b *Bundler)
	}{
		{"define and loader", Options{BuildOptions: BuildOptions{Define: map[string]string{"__VERSION__": `"1.2.3"`}, Loader: map[string]string{".svg": "text"}}}, "main.ts", func(t *testing.T, js string, b *Bundler) {
			if !strings.Contains(js, `"1.2.3"`) || !strings.Contains(js, "<svg>note</svg>") {
				t.Errorf("define/loader not applied:\n%s", js)
			}
		}},
		{"target", Options{BuildOptions: BuildOptions{Target: "es2019", Loader: map[string]string{".svg": "text"}}}, "main.ts", func(t *testing.T, js string, b *Bundler) {
			if strings.Contains(js, "??") {
				t.Errorf("?? not lowered for es2019:\n%s", js)
			}
		}},
		{"inline sourcemap", Options{BuildOptions: BuildOptions{Sourcemap: "inline"}}, "main.ts", func(t *testing.T, js string, b *Bundler) {
			if !strings.Contains(js, "sourceMappingURL=data:application/json") {
				t.Errorf("no inline map:\n%s", tail(js))
			}
			if _, ok := b.Lookup("/main.ts.map"); ok {
				t.Error("a .map is served with inline maps")
			}
		}},
		{"external sourcemap", Options{BuildOptions: BuildOptions{Sourcemap: "external"}}, "main.ts", func(t *testing.T, js string, b *Bundler) {
			if strings.Contains(js, "sourceMappingURL") {
				t.Errorf("external map is linked:\n%s", tail(js))
			}
			lookup(t, b, "/main.ts.map")
		}},
		{"no sourcemap", Options{BuildOptions: BuildOptions{Sourcemap: "none"}}, "main.ts", func(t *testing.T, js string, b *Bundler) {
			if strings.Contains(js, "sourceMappingURL") {
				t.Errorf("map comment without maps:\n%s", tail(js))
			}
			if _, ok := b.Lookup("/main.ts.map"); ok {
				t.Error("a .map is served without maps")
			}
		}},
		{"jsx factory", Options{BuildOptions: BuildOptions{JSXFactory: "hh"}}, "app.jsx", func(t *testing.T, js string, b *Bundler) {
			if !strings.Contains(js, `hh("div"`) {
				t.Errorf("JSXFactory not used:\n%s", js)
			}
		}},
		{"jsx automatic", Options{BuildOptions: BuildOptions{JSX: "automatic", JSXImportSource: "myjsx"}}, "app.jsx", func(t *testing.T, js string, b *Bundler) {
			if !strings.Contains(js, "jsx-runtime") || !strings.Contains(js, `jsx("div"`) {
				t.Errorf("automatic runtime not used:\n%s", js)
			}
		}},
		{"jsx preserve", Options{BuildOptions: BuildOptions{JSX: "preserve"}}, "app.jsx", func(t *testing.T, js string, b *Bundler) {
			if !strings.Contains(js, "<div>hi</div>") {
				t.Errorf("JSX not preserved:\n%s", js)
			}
		}},
		{"tsconfig path", Options{BuildOptions: BuildOptions{Tsconfig: "tsconfig.custom.json"}}, "app.jsx", func(t *testing.T, js string, b *Bundler) {
			if !strings.Contains(js, `myH("div"`) {
				t.Errorf("tsconfig not used:\n%s", js)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := project(t, files)
			tc.opts.Root = root
			tc.opts.Entries = []string{tc.entry}
			b := open(t, tc.opts)
			mustBuild(t, b, nil)
			tc.check(t, string(lookup(t, b, "/"+tc.entry).Contents), b)
		})
	}
}

func TestOutputCollision(t *testing.T) {
	// main.ts's CSS bundle would be /main.css, which is also a CSS entry.
	root := project(t, map[string]string{
		"main.ts":  `import "./a.css";`,
		"a.css":    "a { color: red }",
		"main.css": "b { color: blue }",
	})
	b := open(t, Options{Root: root, BuildOptions: BuildOptions{Entries: []string{"main.ts", "main.css"}}})
	r := mustBuild(t, b, nil)
	if css := string(lookup(t, b, "/main.css").Contents); !strings.Contains(css, "blue") {
		t.Errorf("/main.css is not the CSS entry:\n%s", css)
	}
	if len(r.Warnings) != 2 || !strings.Contains(r.Warnings[0].Text, "/main.css") {
		t.Errorf("Warnings = %+v, want the collisions of /main.css and its map", r.Warnings)
	}
}

func TestRewriteMapComment(t *testing.T) {
	cases := []struct{ in, to, want string }{
		{"x\n//# sourceMappingURL=main.js.map\n", "main.ts.map", "x\n//# sourceMappingURL=main.ts.map\n"},
		{"x\n//# sourceMappingURL=/src/main.js.map\n", "main.ts.map", "x\n//# sourceMappingURL=main.ts.map\n"},
		{"x\n/*# sourceMappingURL=a.css.map */\n", "b.css.map", "x\n/*# sourceMappingURL=b.css.map */\n"},
		{"x\n//# sourceMappingURL=data:application/json;base64,AAAA\n", "a.map", "x\n//# sourceMappingURL=data:application/json;base64,AAAA\n"},
		{"x\n", "a.map", "x\n"},
		{"s = '# sourceMappingURL=a.map'; more()\n", "b.map", "s = '# sourceMappingURL=a.map'; more()\n"},
		{"//# sourceMappingURL=a.map", "b.map", "//# sourceMappingURL=b.map"},
	}
	for _, tc := range cases {
		if got := string(rewriteMapComment([]byte(tc.in), tc.to)); got != tc.want {
			t.Errorf("rewriteMapComment(%q, %q) = %q, want %q", tc.in, tc.to, got, tc.want)
		}
	}
}

func TestNoEntries(t *testing.T) {
	b := open(t, Options{Root: project(t, map[string]string{"index.html": "<p>static</p>"})})
	r := mustBuild(t, b, nil)
	if len(r.Outputs) != 0 || r.Changed == nil || b.Affects([]string{"x.js"}) {
		t.Errorf("empty project: %+v", r)
	}
}

// resolveURL resolves ref against the URL path base, as a browser would.
func resolveURL(t *testing.T, base, ref string) string {
	t.Helper()
	bu, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	ru, err := url.Parse(ref)
	if err != nil {
		t.Fatal(err)
	}
	return bu.ResolveReference(ru).Path
}

// hasError reports whether some error's text or file contains s.
func hasError(r *Result, s string) bool {
	for _, m := range r.Errors {
		if strings.Contains(m.Text, s) || strings.Contains(m.File, s) {
			return true
		}
	}
	return false
}

// isClosed reports whether Close has begun.
func isClosed(b *Bundler) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

// remove deletes a root-relative file or folder.
func remove(t *testing.T, root, name string) {
	t.Helper()
	if err := os.RemoveAll(filepath.Join(root, filepath.FromSlash(name))); err != nil {
		t.Fatal(err)
	}
}

// tail returns the last 200 bytes of s for error messages.
func tail(s string) string {
	if len(s) > 200 {
		return "..." + s[len(s)-200:]
	}
	return s
}

// TestCSSSyntaxErrors builds broken CSS with Options.CSSSyntaxErrors: the
// syntax problems esbuild only warns about are errors of their file, the
// rest stay warnings, and nothing changes without the option.
func TestCSSSyntaxErrors(t *testing.T) {
	for _, tt := range []struct {
		name, css string
		errors    []string // "line:column text" of each error
	}{
		{"unbalanced braces", "h1 { color: ;; {{", []string{`1:15 Unexpected "{"`, `1:16 Unexpected "{"`, `1:17 Expected "}" to go with "{"`}},
		{"unclosed block", ".a { color: red", []string{`1:15 Expected "}" to go with "{"`}},
		{"stray brace", ".a { color: red } }", []string{`1:18 Unexpected "}"`}},
		{"stray semicolon", ".a { color: red } ;\n.b { color: blue }", []string{`1:18 Unexpected ";"`}},
		{"missing colon", ".a { color red; }", []string{`1:10 Expected ":"`}},
		{"unterminated string", ".a { content: \"abc }", []string{`1:20 Expected "}" to go with "{"`, `1:20 Unterminated string token`}},
		{"bad url", ".a { background: url(a b.png) }", []string{`1:23 Expected ")" to end URL token`}},
		{"unbalanced bracket", "a[href { color: red }", []string{`1:7 Expected "]" to go with "["`}},
		{"line comment", "// header\n.a { color: red }", []string{`1:0 Comments in CSS use "/* ... */" instead of "//"`}},
		{"star hack of old IE", ".a { *zoom: 1; _height: 1px; }", nil},
		{"calc without spaces", ".a { width: calc(1px+2px) }", nil},
		{"late @import", ".a { color: red } @import \"b.css\";", nil},
		{"fine", ".a { color: red }", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			root := project(t, map[string]string{"a.css": tt.css, "b.css": ""})
			loose := open(t, Options{Root: root, BuildOptions: BuildOptions{Entries: []string{"a.css"}}}).Build(nil)
			if !loose.OK() {
				t.Errorf("without the option: errors %+v", loose.Errors)
			}
			r := open(t, Options{Root: root, CSSSyntaxErrors: true, BuildOptions: BuildOptions{Entries: []string{"a.css"}}}).Build(nil)
			var got []string
			for _, m := range r.Errors {
				if m.File != "a.css" || m.LineText == "" {
					t.Errorf("error without its place: %+v", m)
				}
				got = append(got, fmt.Sprintf("%d:%d %s", m.Line, m.Column, m.Text))
			}
			if !slices.Equal(got, tt.errors) {
				t.Errorf("errors = %q, want %q", got, tt.errors)
			}
			if len(r.Errors)+len(r.Warnings) != len(loose.Warnings) {
				t.Errorf("%d errors and %d warnings, want the %d warnings without the option between them",
					len(r.Errors), len(r.Warnings), len(loose.Warnings))
			}
		})
	}
}

// TestCSSSyntaxErrorsServing: CSS with syntax problems serves what esbuild
// made of it until a good build, then the last good CSS until the next;
// in module mode the page's modules are served all along, before the
// first good build, as CSS imported from JS or as a CSS entry.
func TestCSSSyntaxErrorsServing(t *testing.T) {
	const broken, good, broken2, good2 = ".a { color: red } }", ".a { color: green }", ".a { color: blue", ".a { color: navy }"
	for _, tt := range []struct {
		name    string
		modules bool
		css     string // the CSS file
		files   map[string]string
	}{
		{"entry", false, "a.css", map[string]string{"index.html": `<link rel="stylesheet" href="a.css">`}},
		{"entry/modules", true, "a.css", map[string]string{"index.html": `<link rel="stylesheet" href="a.css"><script type="module" src="main.js"></script>`,
			"main.js": `document.title = "ran";`}},
		{"from JS/modules", true, "a.css", map[string]string{"index.html": `<script type="module" src="main.js"></script>`,
			"main.js": `import "./a.css"; document.title = "ran";`}},
		{"from JS/bundle", false, "main.css", map[string]string{"index.html": `<script type="module" src="main.js"></script>`,
			"main.js": `import "./a.css"; document.title = "ran";`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.files["a.css"] = broken
			root := project(t, tt.files)
			b := open(t, Options{Root: root, Modules: tt.modules, CSSSyntaxErrors: true})
			served := func(want string) {
				t.Helper()
				if css := lookup(t, b, "/"+tt.css); !strings.Contains(string(css.Contents), want) {
					t.Errorf("/%s serves\n%s\nwant %s", tt.css, css.Contents, want)
				}
			}
			failed := func(r *Result, text string) {
				t.Helper()
				if r.OK() || len(r.Errors) != 1 || r.Errors[0].File != "a.css" || !strings.Contains(r.Errors[0].Text, text) || r.Changed != nil || r.Modules != nil {
					t.Errorf("result: errors %+v, Changed %q, Modules %v; want the error %q", r.Errors, paths(r.Changed), r.Modules, text)
				}
			}
			failed(b.Build(nil), `Unexpected "}"`)
			served("red") // esbuild's recovery, for want of better
			if strings.Contains(tt.files["index.html"], "main.js") {
				if js := lookup(t, b, "/main.js"); !strings.Contains(string(js.Contents), `"ran"`) {
					t.Errorf("the JS is not served:\n%s", js.Contents)
				}
			}
			writeFiles(t, root, map[string]string{"a.css": good})
			if r := mustBuild(t, b, []string{"a.css"}); len(r.Changed) == 0 {
				t.Error("the fix changed nothing")
			}
			served("green")
			writeFiles(t, root, map[string]string{"a.css": broken2})
			failed(b.Build([]string{"a.css"}), `Expected "}" to go with "{"`)
			served("green") // the last good CSS
			writeFiles(t, root, map[string]string{"a.css": good2})
			mustBuild(t, b, []string{"a.css"})
			served("navy")
		})
	}
}

// TestEntryAt tells the URLs of entries, built or not, from other URLs.
func TestEntryAt(t *testing.T) {
	for _, modules := range []bool{false, true} {
		xKind := Kind("")
		if modules {
			xKind = CSS // a CSS file imported from JS has its own context
		}
		root := project(t, map[string]string{
			"index.html":  `<link rel="stylesheet" href="/style.css"><script type="module" src="/src/main.ts"></script>`,
			"style.css":   "body { color: red }",
			"src/main.ts": `import "./x.css"; const n: number = 1; console.log(n);`,
			"src/x.css":   "p { color: blue }",
		})
		b := open(t, Options{Root: root, Modules: modules})
		mustBuild(t, b, nil)
		writeFiles(t, root, map[string]string{"src/main.ts": "const = ;"})
		b.Build([]string{"src/main.ts"})
		for _, tt := range []struct {
			url  string
			kind Kind
			ok   bool
		}{
			{"/src/main.ts", JS, true},
			{"/style.css", CSS, true},
			{"/src/x.css", xKind, modules},
			{"src/main.ts", "", false},
			{"/src/main.ts.map", "", false},
			{"/index.html", "", false},
			{"/nope.ts", "", false},
		} {
			if kind, ok := b.EntryAt(tt.url); kind != tt.kind || ok != tt.ok {
				t.Errorf("modules=%v: EntryAt(%q) = %q, %v; want %q, %v", modules, tt.url, kind, ok, tt.kind, tt.ok)
			}
		}
	}
}

// TestMarkBundled: with MarkBundled a JS bundle starts by setting the
// global that tells the client the page runs bundled code; stylesheets
// are left alone, and module mode, which has modules to replace, never
// sets it.
func TestMarkBundled(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"index.html": `<script type="module" src="/main.js"></script><link rel="stylesheet" href="/style.css">`,
		"main.js":    "import \"./dep.js\";\nconsole.log(\"main\");\n",
		"dep.js":     "console.log(\"dep\");\n",
		"style.css":  "body { color: red }\n",
	})
	for _, modules := range []bool{false, true} {
		b, err := New(Options{Root: root, Modules: modules, MarkBundled: true})
		if err != nil {
			t.Fatal(err)
		}
		if r := b.Build(nil); !r.OK() {
			t.Fatal(r.Errors)
		}
		js, _ := b.Lookup("/main.js")
		css, _ := b.Lookup("/style.css")
		b.Close()
		if js == nil || css == nil {
			t.Fatalf("modules=%v: main.js %v, style.css %v", modules, js, css)
		}
		if got := bytes.HasPrefix(js.Contents, []byte(bundledMark+"\n")); got == modules {
			t.Errorf("modules=%v: main.js starts with the mark: %v\n%.200s", modules, got, js.Contents)
		}
		if bytes.Contains(css.Contents, []byte("__devserve")) {
			t.Errorf("style.css holds the mark:\n%s", css.Contents)
		}
	}
}
