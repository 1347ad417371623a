package bundler

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/devserve/devserve/internal/protocol"
	"github.com/evanw/esbuild/pkg/api"
)

// This file keeps two semantics of ES modules that the CommonJS-shaped
// factories of module mode lose. esbuild compiles each module in bundle
// mode, which resolves its imports through the module plugin, but a
// bundle turns top-level let, const and class into var and has no
// top-level await in CommonJS output. So:
//
//   - A module of the project in an import cycle is compiled once more
//     without bundling (strict), which keeps let, const and class: a read
//     of a binding before its initialization throws "Cannot access 'x'
//     before initialization" as in the browser's own modules. Only a cycle
//     can read another module's binding before it is initialized, so the
//     other modules keep the one compile.
//   - A module with top-level await is compiled to an ES module, and its
//     body becomes an async function that the runtime awaits (compileTLA).
//     The modules that import it, directly or through others, wait for it
//     before they run, as in the browser: their factories carry the order
//     of their imports (module.order) and the runtime runs those first.

// isTopLevelAwait reports whether msg is esbuild's refusal of top-level
// await in CommonJS output.
func isTopLevelAwait(msg api.Message) bool {
	return strings.HasPrefix(msg.Text, "Top-level await is currently not supported")
}

// tlaCall is what a module with top-level await calls with its body: the
// runtime's meta.tla(body), body being async (setExports) => {...}.
const tlaCall = metaName + ".tla(async (" + protocol.Exports + ") => {"

// compileTLA compiles unit u, which has top-level await, into m: esbuild
// makes it an ES module (imports first, then the code, then one export
// clause, as bundle mode prints them), its code is wrapped into an async
// function that first hands its exports to the runtime as getters, and
// esbuild converts that to CommonJS, chaining the source maps.
func (b *Bundler) compileTLA(u unit, m *module) []*Output {
	seen := newEdges(b.cache != nil)
	o := b.moduleOptions([]unit{u}, seen)
	o.Format = api.FormatESModule
	o.Banner, o.Footer = nil, nil
	res := api.Build(o)
	for _, msg := range res.Errors {
		m.errs = append(m.errs, b.message(msg))
	}
	if len(res.Errors) > 0 {
		return nil
	}
	files := map[string][]byte{}
	for _, of := range res.OutputFiles {
		files[of.Path] = of.Contents
	}
	js := b.outFile(m.id)
	src, err := tlaSource(files[js])
	if err == nil {
		src = append(src, "\n//# sourceMappingURL=data:application/json;base64,"+base64.StdEncoding.EncodeToString(files[js+".map"])+"\n"...)
		r := api.Transform(string(src), api.TransformOptions{Format: api.FormatCommonJS, Loader: api.LoaderJS,
			Sourcemap: api.SourceMapExternal, Sourcefile: filepath.Base(js), Target: api.ESNext})
		if len(r.Errors) > 0 {
			err = fmt.Errorf("%s", r.Errors[0].Text)
		}
		m.out, m.helpers = splitHelpers(append([]byte(bannerMark+"\n"), append(r.Code, "});\n"...)...))
		m.helpers = b.shareHelpers(m.helpers)
		// The map starts at the code, one line below the banner.
		m.srcMap = newMapRef(b.fixMap(bytes.Replace(r.Map, []byte(`"mappings": "`), []byte(`"mappings": ";`), 1), filepath.Dir(js)))
	}
	if err != nil {
		m.out, m.errs = nil, []Message{{Text: "top-level await: " + err.Error(), File: m.file}}
		return nil
	}
	delete(files, js)
	delete(files, js+".map")
	m.tla = true
	return b.finishModule(m, u, files, seen)
}

// tlaSource makes the ES module that esbuild printed for one module (in
// bundle mode: helpers, a comment naming the file, the imports and
// re-exports, the code, and at the end one "export {...};") into a module
// whose code runs in an async function:
//
//	import { b } from "/src/b.ts";
//	__devserve_meta.tla(async (__devserve_exports) => {__devserve_exports({"x": () => x});
//	var x = await b();
//	});
//
// Lines keep their numbers, so that the source map still fits. The getters
// read the function's variables, which bundle mode made var: they exist,
// undefined, from the start, and the imports stay live.
func tlaSource(esm []byte) ([]byte, error) {
	lines := bytes.SplitAfter(esm, []byte("\n"))
	i := slices.IndexFunc(lines, func(l []byte) bool { return bytes.HasPrefix(l, []byte("// ")) })
	if i < 0 {
		return nil, fmt.Errorf("unexpected output: no file comment")
	}
	lines[i] = []byte("\n")
	// The imports and re-exports; one may span lines.
	open := i
	for j := i + 1; j < len(lines); j++ {
		l := lines[j]
		if !bytes.HasPrefix(l, []byte("import ")) && !bytes.HasPrefix(l, []byte("export * ")) && !bytes.HasPrefix(l, []byte("import{")) {
			break
		}
		for !bytes.HasSuffix(bytes.TrimRight(lines[j], "\n"), []byte(";")) && j+1 < len(lines) {
			j++
		}
		open = j
	}
	// The export clause: from the last line that starts it to the end.
	exports := map[string]string{} // exported name -> local
	end := len(lines)
	for j := len(lines) - 1; j > open; j-- {
		if l := bytes.TrimSpace(lines[j]); len(l) == 0 || bytes.Equal(l, []byte("};")) || !bytes.HasPrefix(lines[j], []byte("export")) && bytes.HasPrefix(lines[j], []byte("  ")) {
			continue // blank, or the clause's end or items
		}
		if bytes.Equal(lines[j], []byte("export {\n")) || bytes.HasPrefix(lines[j], []byte("export { ")) {
			clause := string(bytes.Join(lines[j:], nil))
			clause = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(strings.TrimPrefix(clause, "export")), ";"))
			for _, item := range strings.Split(strings.Trim(clause, "{}"), ",") {
				local, name, ok := strings.Cut(strings.TrimSpace(item), " as ")
				if !ok {
					name = local
				}
				if local != "" {
					exports[strings.Trim(name, `"`)] = local
				}
			}
			end = j
			break
		}
		break // no export clause: the code ends here
	}
	getters := make([]string, 0, len(exports))
	for _, name := range slices.Sorted(maps.Keys(exports)) {
		q, _ := json.Marshal(name)
		getters = append(getters, string(q)+": () => "+exports[name])
	}
	opener := tlaCall + protocol.Exports + "({" + strings.Join(getters, ", ") + "});"
	var out bytes.Buffer
	for j, l := range lines[:end] {
		if j == open {
			out.Write(bytes.TrimRight(l, "\n"))
			out.WriteString(opener + "\n")
			continue
		}
		out.Write(l)
	}
	// The function ends where the export clause was, which leaves its
	// lines empty.
	out.WriteString("});")
	for _, l := range lines[end:] {
		if bytes.HasSuffix(l, []byte("\n")) {
			out.WriteByte('\n')
		}
	}
	return out.Bytes(), nil
}

// cycles returns the ids of the compiled modules, packages included, that
// lie on an import cycle, by Tarjan's algorithm over their imports.
// (compileStrict takes the project's among them.)
func cycles(mods map[string]*module) map[string]bool {
	in := map[string]bool{}
	index, low := map[string]int{}, map[string]int{}
	onStack := map[string]bool{}
	var stack []string
	n := 0
	var visit func(id string)
	visit = func(id string) {
		index[id], low[id] = n, n
		n++
		stack = append(stack, id)
		onStack[id] = true
		for _, d := range mods[id].static {
			if m := mods[d]; m == nil || !m.compiled() {
				continue
			}
			if _, ok := index[d]; !ok {
				visit(d)
				low[id] = min(low[id], low[d])
			} else if onStack[d] {
				low[id] = min(low[id], index[d])
			}
		}
		if low[id] != index[id] {
			return
		}
		var scc []string
		for {
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			onStack[top] = false
			scc = append(scc, top)
			if top == id {
				break
			}
		}
		if len(scc) > 1 || slices.Contains(mods[id].static, id) {
			for _, x := range scc {
				in[x] = true
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(mods)) {
		if m := mods[id]; m.compiled() {
			if _, ok := index[id]; !ok {
				visit(id)
			}
		}
	}
	return in
}

// compileStrict compiles the modules ids of mods (modules of the project,
// each compiled already) again without bundling, which keeps top-level
// let, const and class; see the top of this file. Their requires then
// name the imports as written, which the runtime maps through deps. A
// module whose output would differ in more than that (it inlines a file,
// has top-level await, or the compile fails) keeps the code it has. The
// modules compiled are replaced in mods by copies, as mods may share them
// with the installed graph.
func (b *Bundler) compileStrict(mods map[string]*module, ids []string) {
	var units []unit
	for _, id := range ids {
		if m := mods[id]; m != nil && !m.strict && !m.tla && !m.dep && m.errs == nil && m.out != nil && len(m.inline) == 0 {
			units = append(units, unit{id: m.id, file: m.file})
		}
	}
	if len(units) == 0 {
		return
	}
	seen := newEdges(false)
	o := b.moduleOptions(units, seen)
	o.Bundle = false
	o.Metafile = true
	res := api.Build(o)
	if len(res.Errors) > 0 {
		return
	}
	var meta struct {
		Outputs map[string]struct {
			Imports []struct{ Path, Kind string }
		}
	}
	if json.Unmarshal([]byte(res.Metafile), &meta) != nil {
		return
	}
	files := map[string][]byte{}
	for _, of := range res.OutputFiles {
		files[of.Path] = of.Contents
	}
	imports := map[string][]string{} // output file (absolute) -> imports as written
	for p, out := range meta.Outputs {
		if !filepath.IsAbs(p) {
			p = filepath.Join(b.root, filepath.FromSlash(p))
		}
		for _, imp := range out.Imports {
			imports[p] = append(imports[p], imp.Path)
		}
	}
	for _, u := range units {
		m := mods[u.id]
		js := b.outFile(m.id)
		if files[js] == nil || slices.ContainsFunc(imports[js], func(spec string) bool { return m.deps[spec] == "" }) {
			continue // an import bundle mode did not see
		}
		c := *m
		c.out, c.helpers = splitHelpers(files[js])
		c.helpers = b.shareHelpers(c.helpers)
		c.out = appInterop(c.out)
		c.srcMap = newMapRef(b.fixMap(files[js+".map"], filepath.Dir(js)))
		c.strict, c.hash = true, ""
		mods[u.id] = &c
	}
}

// markWaits sets waits on the modules of mods that have top-level await or
// import, directly or not, a module that has: the runtime runs their
// imports first and waits for them. A module whose mark changes is
// replaced by a copy, as in compileStrict.
func markWaits(mods map[string]*module) {
	waits := map[string]bool{}
	var visit func(id string) bool
	visiting := map[string]bool{}
	visit = func(id string) bool {
		m := mods[id]
		if m == nil || visiting[id] {
			return false
		}
		if w, ok := waits[id]; ok {
			return w
		}
		visiting[id] = true
		w := m.tla
		for _, d := range m.static {
			w = visit(d) || w
		}
		visiting[id] = false
		waits[id] = w
		return w
	}
	for _, id := range slices.Sorted(maps.Keys(mods)) {
		if m := mods[id]; visit(id) != m.waits {
			c := *m
			c.waits, c.hash = !m.waits, ""
			mods[id] = &c
		}
	}
}
