package bundler

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/evanw/esbuild/pkg/api"
)

// This file is Vite's import.meta.glob: a call with literal arguments
// becomes, before esbuild reads the module, an object of the files its
// patterns match, keyed by their paths:
//
//	import.meta.glob("./pages/*.ts")
//	  -> Object.assign({"./pages/a.ts": () => import("./pages/a.ts"), ...})
//	import.meta.glob("./pages/*.ts", { eager: true, import: "default" })
//	  -> Object.assign({"./pages/a.ts": __devserve_glob_0_0, ...})
//	     with `import __devserve_glob_0_0 from "./pages/a.ts";` appended to
//	     the module (imports hoist, so the end is as good as the top, and
//	     the lines of the code above keep their numbers)
//
// Patterns are relative to the module ("./", "../") or to the root ("/");
// `*`, `**`, `?`, `[...]` and `{a,b}` as in Vite, a leading "!" excludes.
// Options: eager, import (a name, "default" or "*"), query ("?raw",
// "?url"...). Files in node_modules and dot folders are left out, unless
// the pattern names them, and so is the module itself. A file created or
// removed where a module's patterns look builds everything again
// (Bundler.globChange), as a config's change does: its object changes.
// Such modules are not kept in the module cache, whose checks cover
// imports, not the listing of folders.

// globCallRe finds a call, with TypeScript's type argument if any.
var globCallRe = regexp.MustCompile(`\bimport\.meta\.glob\s*(?:<[^<>()]*(?:<[^<>()]*>[^<>()]*)*>)?\s*\(`)

// globDep is what one module's calls look at: absolute patterns (slash
// paths), and the files they matched.
type globDep struct {
	patterns []string
	matched  map[string]bool // absolute file paths
}

// globDeps are the patterns of every module loaded with calls, by its
// absolute file. esbuild loads files on goroutines of its own.
type globDeps struct {
	mu   sync.Mutex
	deps map[string][]globDep
}

func (g *globDeps) set(file string, deps []globDep) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.deps == nil {
		g.deps = map[string][]globDep{}
	}
	if len(deps) == 0 {
		delete(g.deps, file)
		return
	}
	g.deps[file] = deps
}

// has reports whether the module of file was loaded with calls.
func (g *globDeps) has(file string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.deps[file] != nil
}

// changes reports whether absolute file p was created or removed where a
// module's patterns look: it matches one and its existence is not what
// the module's load found. The patterns of a module whose file is gone
// are forgotten.
func (g *globDeps) changes(p string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	slash := filepath.ToSlash(p)
	fi, err := os.Stat(p)
	exists := err == nil && fi.Mode().IsRegular()
	for file, deps := range g.deps {
		if _, err := os.Stat(file); err != nil {
			delete(g.deps, file)
			continue
		}
		for _, d := range deps {
			if exists != d.matched[p] && slices.ContainsFunc(d.patterns, func(pat string) bool { return globMatch(pat, slash) }) {
				return true
			}
		}
	}
	return false
}

// globChange reports whether changed root-relative (or absolute) path p
// changes what a module's import.meta.glob matches.
func (b *Bundler) globChange(p string) bool {
	if !filepath.IsAbs(p) {
		p = filepath.Join(b.root, filepath.FromSlash(p))
	}
	return b.globs.changes(p)
}

// globLoad loads a JS or TS module of the project (a linked package's
// included), with its import.meta.glob calls expanded if it has any, and
// the paths of its new URL(..., import.meta.url) made absolute; ok is
// false for any other file, which esbuild then loads itself. It hands
// esbuild the source it read, so that no file is read twice (a bundle of
// 5,000 modules took 5% longer that way).
func (b *Bundler) globLoad(p string) (res api.OnLoadResult, ok bool) {
	ext := strings.ToLower(filepath.Ext(p))
	if !jsModuleExts[ext] || (b.inPackage(p) && !b.linked(p)) {
		return res, false
	}
	src, err := os.ReadFile(p)
	if err != nil {
		return res, false // esbuild says why
	}
	src, errs := b.loadGlobs(p, src)
	if errs != nil {
		return api.OnLoadResult{Errors: errs}, true
	}
	if rel, ok := b.relInput(filepath.Dir(p)); ok {
		// A bundle's import.meta.url is the entry's (see metaurl.go);
		// a module's own, in module mode, gives the same URLs.
		var worker func(string) string
		if b.production {
			worker = b.productionWorker
		}
		src = rewriteMetaURLs(src, path.Join(b.urlBase, rel), worker)
	}
	code := string(src)
	loader, ok := b.base.Loader[ext]
	if !ok {
		loader = jsLoaders[ext]
	}
	return api.OnLoadResult{Contents: &code, Loader: loader, ResolveDir: filepath.Dir(p)}, true
}

// loadGlobs returns src, the source of the module at p, with its
// import.meta.glob calls expanded, its dynamic imports of templates with
// variables too (see dynimport.go), or as it is and p's patterns forgotten
// when it has none; a call that cannot be expanded is the load's error.
func (b *Bundler) loadGlobs(p string, src []byte) ([]byte, []api.Message) {
	src = rewriteDynamicImports(src, func(pattern string) bool {
		return b.checkGlob(p, globCall{patterns: []string{pattern}}) == nil
	})
	if !bytes.Contains(src, []byte("import.meta.glob")) {
		b.globs.set(p, nil)
		return src, nil
	}
	out, err := b.expandGlobs(p, src)
	if err != nil {
		return nil, []api.Message{err.message(p)}
	}
	return out, nil
}

// jsLoaders are esbuild's loaders for jsModuleExts.
var jsLoaders = map[string]api.Loader{".js": api.LoaderJS, ".mjs": api.LoaderJS, ".cjs": api.LoaderJS,
	".jsx": api.LoaderJSX, ".ts": api.LoaderTS, ".mts": api.LoaderTS, ".cts": api.LoaderTS, ".tsx": api.LoaderTSX}

// globError is a call that cannot be expanded, where it is.
type globError struct {
	text      string
	line, col int // 1-based line, 0-based byte column
	lineText  string
}

// message is e as esbuild's message about the module at file.
func (e *globError) message(file string) api.Message {
	return api.Message{Text: e.text, Location: &api.Location{File: file, Line: e.line, Column: e.col, LineText: e.lineText}}
}

// expandGlobs returns src, the source of the module at absolute path
// file, with its import.meta.glob calls expanded, and records what they
// look at for globChange. A call in a comment or a string is expanded
// too; Vite's is no wiser.
func (b *Bundler) expandGlobs(file string, src []byte) ([]byte, *globError) {
	var out, tail bytes.Buffer
	var deps []globDep
	last := 0
	for n, loc := range globCallRe.FindAllIndex(src, -1) {
		if loc[0] < last {
			continue
		}
		call, end, err := parseGlobCall(src, loc[1])
		if err == nil {
			err = b.checkGlob(file, call)
		}
		if err != nil {
			line := 1 + bytes.Count(src[:loc[0]], []byte("\n"))
			start := bytes.LastIndexByte(src[:loc[0]], '\n') + 1
			stop := bytes.IndexByte(src[start:], '\n')
			if stop < 0 {
				stop = len(src) - start
			}
			return nil, &globError{text: "import.meta.glob: " + err.Error(), line: line, col: loc[0] - start, lineText: string(src[start : start+stop])}
		}
		dep, code := b.globCode(file, call, n, &tail)
		deps = append(deps, dep)
		out.Write(src[last:loc[0]])
		out.WriteString(code)
		out.WriteString(strings.Repeat("\n", bytes.Count(src[loc[0]:end], []byte("\n"))))
		last = end
	}
	out.Write(src[last:])
	if tail.Len() > 0 {
		if !bytes.HasSuffix(out.Bytes(), []byte("\n")) {
			out.WriteByte('\n')
		}
		out.Write(tail.Bytes())
	}
	b.globs.set(file, deps)
	return out.Bytes(), nil
}

// globCall is a call's literal arguments.
type globCall struct {
	patterns []string
	eager    bool
	imp      string // the import option: "" (the module), "*", "default", a name
	query    string // with its "?"
}

// checkGlob rejects patterns that name no file of the project, for the
// module at file: one must start with ./, ../ or /, and stay in the root
// (a pattern that led to / would list the whole disk). A negated one may
// be bare ("!**/*.test.ts"), relative to the module, as in Vite.
func (b *Bundler) checkGlob(file string, c globCall) error {
	for _, p := range c.patterns {
		if strings.HasPrefix(p, "!") {
			continue
		}
		if !strings.HasPrefix(p, "./") && !strings.HasPrefix(p, "../") && !strings.HasPrefix(p, "/") {
			return fmt.Errorf("pattern %q must start with ./, ../ or /", p)
		}
		abs := filepath.Join(filepath.Dir(file), filepath.FromSlash(p))
		if strings.HasPrefix(p, "/") {
			abs = filepath.Join(b.root, filepath.FromSlash(p))
		}
		if _, ok := b.relInput(abs); !ok && !b.linked(file) {
			return fmt.Errorf("pattern %q leads out of the project", p)
		}
	}
	if !slices.ContainsFunc(c.patterns, func(p string) bool { return !strings.HasPrefix(p, "!") }) {
		return fmt.Errorf("no pattern that is not negated")
	}
	return nil
}

// globCode returns the expression that stands for call number n of the
// module at file, with the imports of an eager call appended to tail, and
// what the call looks at.
func (b *Bundler) globCode(file string, c globCall, n int, tail *bytes.Buffer) (globDep, string) {
	dir := filepath.ToSlash(filepath.Dir(file))
	root := filepath.ToSlash(b.root)
	abs := func(p string) string {
		if strings.HasPrefix(p, "/") {
			return path.Join(root, p)
		}
		return path.Join(dir, p)
	}
	dep := globDep{matched: map[string]bool{}}
	var neg []string
	for _, p := range c.patterns {
		if rest, ok := strings.CutPrefix(p, "!"); ok {
			neg = append(neg, abs(rest))
		} else {
			dep.patterns = append(dep.patterns, expandBraces(abs(p))...)
		}
	}
	var files []string
	for _, pat := range dep.patterns {
		for _, f := range globFiles(pat) {
			if f == filepath.ToSlash(file) || dep.matched[filepath.FromSlash(f)] ||
				slices.ContainsFunc(neg, func(x string) bool { return globMatch(x, f) }) {
				continue
			}
			dep.matched[filepath.FromSlash(f)] = true
			files = append(files, f)
		}
	}
	slices.Sort(files)
	fromRoot := slices.ContainsFunc(c.patterns, func(p string) bool { return strings.HasPrefix(p, "/") })
	var obj strings.Builder
	obj.WriteString("Object.assign({")
	for i, f := range files {
		spec, _ := filepath.Rel(filepath.Dir(file), filepath.FromSlash(f))
		spec = filepath.ToSlash(spec)
		if !strings.HasPrefix(spec, "../") {
			spec = "./" + spec
		}
		key := spec
		if fromRoot {
			key = "/" + strings.TrimPrefix(f, root+"/")
		}
		target := strconv.Quote(spec + c.query)
		if i > 0 {
			obj.WriteString(", ")
		}
		obj.WriteString(strconv.Quote(key) + ": ")
		if !c.eager {
			obj.WriteString("() => import(" + target + ")")
			if c.imp != "" && c.imp != "*" {
				obj.WriteString(".then((m) => m[" + strconv.Quote(c.imp) + "])")
			}
			continue
		}
		name := fmt.Sprintf("__devserve_glob_%d_%d", n, i)
		obj.WriteString(name)
		switch c.imp {
		case "", "*":
			fmt.Fprintf(tail, "import * as %s from %s;\n", name, target)
		case "default":
			fmt.Fprintf(tail, "import %s from %s;\n", name, target)
		default:
			fmt.Fprintf(tail, "import { %s as %s } from %s;\n", strconv.Quote(c.imp), name, target)
		}
	}
	obj.WriteString("})")
	return dep, obj.String()
}

// globFiles lists the files that absolute slash pattern pat matches:
// under the folder before its first wildcard, leaving out node_modules and
// dot folders and files unless the pattern names them.
func globFiles(pat string) []string {
	base := pat
	if i := strings.IndexAny(pat, "*?[{"); i >= 0 {
		base = path.Dir(pat[:i+1])
	}
	var files []string
	filepath.WalkDir(filepath.FromSlash(base), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		slash := filepath.ToSlash(p)
		name := d.Name()
		if d.IsDir() {
			if slash != base && (name == "node_modules" && !strings.Contains(pat, "node_modules") ||
				strings.HasPrefix(name, ".") && !strings.Contains(pat, "/.")) {
				return fs.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() && globMatch(pat, slash) && (!strings.HasPrefix(name, ".") || strings.Contains(pat, "/.")) {
			files = append(files, slash)
		}
		return nil
	})
	return files
}

// expandBraces returns pat with each {a,b} alternative spelled out.
func expandBraces(pat string) []string {
	open := strings.IndexByte(pat, '{')
	if open < 0 {
		return []string{pat}
	}
	depth, start := 0, open+1
	var alts []string
	for i := open; i < len(pat); i++ {
		switch pat[i] {
		case '{':
			depth++
		case ',':
			if depth == 1 {
				alts = append(alts, pat[start:i])
				start = i + 1
			}
		case '}':
			if depth--; depth == 0 {
				alts = append(alts, pat[start:i])
				var out []string
				for _, a := range alts {
					out = append(out, expandBraces(pat[:open]+a+pat[i+1:])...)
				}
				return out
			}
		}
	}
	return []string{pat} // unbalanced: taken as it is
}

// globMatch reports whether slash path name matches pattern pat (braces
// expanded): path.Match for each segment, where "**" matches any number
// of segments.
func globMatch(pat, name string) bool {
	for _, p := range expandBraces(pat) {
		if matchSegments(strings.Split(p, "/"), strings.Split(name, "/")) {
			return true
		}
	}
	return false
}

func matchSegments(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for i := 0; i <= len(name); i++ {
				if matchSegments(pat[1:], name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, err := path.Match(pat[0], name[0]); err != nil || !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}

// parseGlobCall reads a call's arguments from src at i, just after its
// "(": a string or an array of strings, and an object of options, all
// literals. It returns the call and where it ends, after its ")".
func parseGlobCall(src []byte, i int) (globCall, int, error) {
	var c globCall
	p := &litParser{src: src, i: i}
	switch p.skip(); {
	case p.peek() == '[':
		p.i++
		for p.skip(); p.peek() != ']'; p.skip() {
			s, err := p.str()
			if err != nil {
				return c, 0, err
			}
			c.patterns = append(c.patterns, s)
			if p.skip(); p.peek() == ',' {
				p.i++
			}
		}
		p.i++
	default:
		s, err := p.str()
		if err != nil {
			return c, 0, err
		}
		c.patterns = []string{s}
	}
	if p.skip(); p.peek() == ',' {
		p.i++
		if p.skip(); p.peek() == '{' {
			p.i++
			for p.skip(); p.peek() != '}'; p.skip() {
				key, err := p.key()
				if err != nil {
					return c, 0, err
				}
				if p.skip(); p.peek() != ':' {
					return c, 0, fmt.Errorf("options must be an object literal")
				}
				p.i++
				p.skip()
				switch key {
				case "eager":
					v, err := p.boolean()
					if err != nil {
						return c, 0, err
					}
					c.eager = v
				case "import", "query", "as":
					v, err := p.str()
					if err != nil {
						return c, 0, err
					}
					switch key {
					case "import":
						c.imp = v
					default: // as: "raw", "url", Vite's older name for the query
						c.query = "?" + strings.TrimPrefix(v, "?")
					}
				case "exhaustive":
					if _, err := p.boolean(); err != nil {
						return c, 0, err
					}
				default:
					return c, 0, fmt.Errorf("option %q is not supported", key)
				}
				if p.skip(); p.peek() == ',' {
					p.i++
				}
			}
			p.i++
		}
		if p.skip(); p.peek() == ',' {
			p.i++
		}
	}
	if p.skip(); p.peek() != ')' {
		return c, 0, fmt.Errorf("its arguments must be literals: a string or an array of strings, then an object of options")
	}
	return c, p.i + 1, nil
}

// litParser reads the literals of a call's arguments.
type litParser struct {
	src []byte
	i   int
}

func (p *litParser) peek() byte {
	if p.i < len(p.src) {
		return p.src[p.i]
	}
	return 0
}

// skip passes white space and comments.
func (p *litParser) skip() {
	for p.i < len(p.src) {
		switch {
		case isSpace(p.src[p.i]):
			p.i++
		case bytes.HasPrefix(p.src[p.i:], []byte("//")):
			for p.i < len(p.src) && p.src[p.i] != '\n' {
				p.i++
			}
		case bytes.HasPrefix(p.src[p.i:], []byte("/*")):
			end := bytes.Index(p.src[p.i+2:], []byte("*/"))
			if end < 0 {
				p.i = len(p.src)
				return
			}
			p.i += end + 4
		default:
			return
		}
	}
}

// str reads a string literal: quoted, or a template without substitutions.
func (p *litParser) str() (string, error) {
	q := p.peek()
	if q != '"' && q != '\'' && q != '`' {
		return "", fmt.Errorf("its arguments must be literals: a string or an array of strings, then an object of options")
	}
	for j := p.i + 1; j < len(p.src); j++ {
		switch p.src[j] {
		case '\\':
			j++
		case '\n':
			if q != '`' {
				return "", fmt.Errorf("unterminated string")
			}
		case '$':
			if q == '`' && j+1 < len(p.src) && p.src[j+1] == '{' {
				return "", fmt.Errorf("its patterns must be literals, not templates with ${...}")
			}
		case q:
			raw := string(p.src[p.i+1 : j])
			p.i = j + 1
			if !strings.Contains(raw, "\\") {
				return raw, nil
			}
			s, err := strconv.Unquote(`"` + strings.ReplaceAll(raw, `"`, `\"`) + `"`)
			if err != nil {
				return "", fmt.Errorf("string %s: %v", raw, err)
			}
			return s, nil
		}
	}
	return "", fmt.Errorf("unterminated string")
}

// key reads an object's property name: an identifier or a string.
func (p *litParser) key() (string, error) {
	if q := p.peek(); q == '"' || q == '\'' {
		return p.str()
	}
	j := p.i
	for j < len(p.src) && (wordByte(p.src[j]) || p.src[j] == '$') {
		j++
	}
	if j == p.i {
		return "", fmt.Errorf("options must be an object literal")
	}
	k := string(p.src[p.i:j])
	p.i = j
	return k, nil
}

// boolean reads true or false.
func (p *litParser) boolean() (bool, error) {
	for _, lit := range []string{"true", "false"} {
		if bytes.HasPrefix(p.src[p.i:], []byte(lit)) {
			p.i += len(lit)
			return lit == "true", nil
		}
	}
	return false, fmt.Errorf("options must be literals")
}
