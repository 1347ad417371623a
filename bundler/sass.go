package bundler

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/evanw/esbuild/pkg/api"
)

// Sass stylesheets (.scss, .sass), as Vite projects import them, are
// compiled by the compiler that the project installed with the npm
// package sass-embedded, Vite's recommended one: its package for the
// platform (sass-embedded-linux-x64 and so on) holds Dart Sass's native
// command, which needs no Node.js and compiles a stylesheet in tens of
// milliseconds. The pure-JS package sass needs Node.js to run, and is not
// used: without sass-embedded, an import of Sass fails saying to install
// it. The compiled CSS goes on through esbuild as a .css file would
// (bundled @imports, url()s, CSS modules for *.module.scss); the partials
// the compile read are remembered (styleDeps), as their edits change it.

// sassTimeout bounds one compile: a stylesheet in a loop of @imports
// ends with an error from Sass itself; this is for a compiler that hangs.
const sassTimeout = 30 * time.Second

// isSass reports whether p names a Sass stylesheet.
func isSass(p string) bool {
	ext := strings.ToLower(filepath.Ext(p))
	return ext == ".scss" || ext == ".sass"
}

// sassPlatform is the suffix of sass-embedded's package for this platform
// ("linux-x64"), as npm names them; "" for one it has none for.
func sassPlatform() string {
	goos := map[string]string{"linux": "linux", "darwin": "darwin", "windows": "win32", "android": "android"}[runtime.GOOS]
	arch := map[string]string{"amd64": "x64", "arm64": "arm64", "arm": "arm", "386": "ia32", "riscv64": "riscv64"}[runtime.GOARCH]
	if goos == "" || arch == "" {
		return ""
	}
	return goos + "-" + arch
}

// findSass returns the Dart Sass command of sass-embedded installed in a
// node_modules folder at or above root, "" when there is none.
func findSass(root string) string {
	plat := sassPlatform()
	if plat == "" {
		return ""
	}
	name := "sass"
	if runtime.GOOS == "windows" {
		name = "sass.bat"
	}
	pkgs := []string{"sass-embedded-" + plat}
	if runtime.GOOS == "linux" {
		pkgs = append(pkgs, "sass-embedded-linux-musl-"+strings.TrimPrefix(plat, "linux-"))
	}
	for dir := root; ; dir = filepath.Dir(dir) {
		for _, pkg := range pkgs {
			p := filepath.Join(dir, "node_modules", pkg, "dart-sass", name)
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
				return p
			}
		}
		if dir == filepath.Dir(dir) {
			return ""
		}
	}
}

// sassLoad is the OnLoad of a Sass stylesheet: its CSS, with the loader of
// a .css file (local-css for *.module.scss), or the compile's errors.
func (b *Bundler) sassLoad(file string) api.OnLoadResult {
	css, deps, errs := b.compileSass(file)
	if errs != nil {
		// The partials of the last good compile, and the one the error
		// names: their edits may fix it.
		deps = slices.Compact(slices.Sorted(slices.Values(append(deps, b.styleDeps.depsOf(file)...))))
	}
	b.styleDeps.set(file, deps)
	if errs != nil {
		return api.OnLoadResult{Errors: errs, WatchFiles: deps}
	}
	loader := api.LoaderCSS
	if isCSSModule(file) {
		loader = api.LoaderLocalCSS
	}
	return api.OnLoadResult{Contents: &css, Loader: loader, ResolveDir: filepath.Dir(file), WatchFiles: deps}
}

// compileSass compiles the Sass stylesheet at absolute path file to CSS,
// and returns the other files the compile read (partials, @use'd
// modules), absolute: the sources of the source map Sass embeds, which is
// then taken off. Bare URLs (@use "bootstrap/scss/bootstrap") are looked
// up in the node_modules folders at and above the root, as Vite's Sass
// setup does.
func (b *Bundler) compileSass(file string) (css string, deps []string, errs []api.Message) {
	if b.sass == "" {
		return "", nil, []api.Message{{Text: "no Sass compiler is installed: install sass-embedded (npm install -D sass-embedded), " +
			"whose native compiler devserve runs (the sass package needs Node.js)", Location: &api.Location{File: file}}}
	}
	args := []string{"--embed-source-map", "--source-map-urls=absolute", "--no-error-css", "--quiet-deps", "--pkg-importer=node"}
	for dir := b.root; ; dir = filepath.Dir(dir) {
		if fi, err := os.Stat(filepath.Join(dir, "node_modules")); err == nil && fi.IsDir() {
			args = append(args, "--load-path="+filepath.Join(dir, "node_modules"))
		}
		if dir == filepath.Dir(dir) {
			break
		}
	}
	if strings.EqualFold(filepath.Ext(file), ".sass") {
		args = append(args, "--indented")
	}
	ctx, cancel := context.WithTimeout(context.Background(), sassTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.sass, append(args, file)...)
	cmd.Dir = b.root
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := sassError(stderr.String(), b.root, file, err)
		if msg.Location.File != file {
			deps = []string{msg.Location.File}
		}
		return "", deps, []api.Message{msg}
	}
	out := stdout.Bytes()
	const mark = "/*# sourceMappingURL=data:application/json;charset=utf-8,"
	const mark64 = "/*# sourceMappingURL=data:application/json;base64,"
	var raw []byte
	if i := bytes.LastIndex(out, []byte(mark64)); i >= 0 {
		raw, _ = base64.StdEncoding.DecodeString(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(string(out[i+len(mark64):])), "*/")))
		out = out[:i]
	} else if i := bytes.LastIndex(out, []byte(mark)); i >= 0 {
		s, _ := url.PathUnescape(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(string(out[i+len(mark):])), "*/")))
		raw = []byte(s)
		out = out[:i]
	}
	var sm struct {
		Sources  []string `json:"sources"`
		Mappings string   `json:"mappings"`
	}
	_ = json.Unmarshal(raw, &sm)
	sources := make([]string, len(sm.Sources)) // absolute; "" for one not a file
	for i, src := range sm.Sources {
		u, err := url.Parse(src)
		if err != nil || u.Scheme != "file" {
			continue
		}
		sources[i] = filepath.Clean(filepath.FromSlash(u.Path))
		if sources[i] != file {
			deps = append(deps, sources[i])
		}
	}
	return string(rebaseSassURLs(out, file, sources, sm.Mappings)), deps, nil
}

// sassURL finds a url() in compiled CSS: its quote and its URL.
var sassURL = regexp.MustCompile(`url\(\s*(['"]?)([^'"()\s]+)['"]?\s*\)`)

// rebaseSassURLs makes each relative url() in css, the compiled Sass
// stylesheet at absolute path file, relative to file's folder when a
// partial in another folder wrote it, as Vite does: Sass copies a
// partial's url() as written, and esbuild then resolves it from the
// stylesheet, not from the partial that named the file. Which file wrote
// a line comes from the compile's source map (sources and mappings).
func rebaseSassURLs(css []byte, file string, sources []string, mappings string) []byte {
	if len(sources) < 2 || !bytes.Contains(css, []byte("url(")) {
		return css
	}
	lines := sourceOfLines(mappings)
	var out bytes.Buffer
	last, line, lineStart := 0, 0, 0
	for _, m := range sassURL.FindAllSubmatchIndex(css, -1) {
		for i := lineStart; i < m[0]; i++ {
			if css[i] == '\n' {
				line, lineStart = line+1, i+1
			}
		}
		ref := string(css[m[4]:m[5]])
		if line >= len(lines) || lines[line] < 0 || lines[line] >= len(sources) || sources[lines[line]] == "" ||
			filepath.Dir(sources[lines[line]]) == filepath.Dir(file) || strings.HasPrefix(ref, "/") ||
			strings.HasPrefix(ref, "#") || strings.Contains(ref, ":") || strings.HasPrefix(ref, "$") {
			continue
		}
		target := filepath.Join(filepath.Dir(sources[lines[line]]), filepath.FromSlash(ref))
		rel, err := filepath.Rel(filepath.Dir(file), target)
		if err != nil {
			continue
		}
		rel = filepath.ToSlash(rel)
		if !strings.HasPrefix(rel, "../") {
			rel = "./" + rel
		}
		out.Write(css[last:m[4]])
		out.WriteString(rel)
		last = m[5]
	}
	if last == 0 {
		return css
	}
	out.Write(css[last:])
	return out.Bytes()
}

// sourceOfLines returns, for each line of a source map's generated code,
// the index of the source its first mapping names, -1 for a line with
// none (the mappings of one line are ';'-separated segments of
// base64 VLQs: column, then source index, line and column deltas).
func sourceOfLines(mappings string) []int {
	var lines []int
	src := 0
	for _, line := range strings.Split(mappings, ";") {
		first := -1
		for _, seg := range strings.Split(line, ",") {
			vals := decodeVLQs(seg)
			if len(vals) >= 2 {
				src += vals[1]
				if first < 0 {
					first = src
				}
			}
		}
		lines = append(lines, first)
	}
	return lines
}

// decodeVLQs decodes a source map segment's base64 VLQ numbers; it stops
// at the first character that is not base64.
func decodeVLQs(seg string) []int {
	const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	var vals []int
	v, shift := 0, 0
	for i := 0; i < len(seg); i++ {
		d := strings.IndexByte(b64, seg[i])
		if d < 0 {
			break
		}
		v += (d & 31) << shift
		if d&32 != 0 {
			shift += 5
			continue
		}
		if v&1 != 0 {
			vals = append(vals, -(v >> 1))
		} else {
			vals = append(vals, v>>1)
		}
		v, shift = 0, 0
	}
	return vals
}

// sassErrorAt finds where Dart Sass says an error is, in the lines under
// its message: "  src/styles/main.scss 2:13  root stylesheet".
var sassErrorAt = regexp.MustCompile(`(?m)^\s+(\S.*?) (\d+):(\d+)\s+\S`)

// sassError turns Dart Sass's report of a failed compile of file, run in
// folder dir, into a message at the file and line it names.
func sassError(stderr, dir, file string, err error) api.Message {
	text, _, _ := strings.Cut(strings.TrimSpace(stderr), "\n")
	text = strings.TrimPrefix(text, "Error: ")
	if text == "" {
		text = "sass: " + err.Error()
	}
	loc := &api.Location{File: file}
	if m := sassErrorAt.FindStringSubmatch(stderr); m != nil {
		p := m[1]
		if u, err := url.Parse(p); err == nil && u.Scheme == "file" {
			p = u.Path
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		loc.File = filepath.Clean(p)
		loc.Line, _ = strconv.Atoi(m[2])
		col, _ := strconv.Atoi(m[3])
		loc.Column = max(col-1, 0)
	}
	return api.Message{Text: text, Location: loc}
}
