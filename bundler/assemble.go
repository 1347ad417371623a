package bundler

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"hash/fnv"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/devserve/devserve/internal/protocol"
)

// This file links the compiled modules of module mode into what the page
// loads: each module's registration with the runtime, the entries'
// scripts (one script or chunks of them) with their index source maps,
// and the update script of one module for a hot update.

// helperBlock declares the helpers of mods once each, in name order.
func helperBlock(mods ...*module) []byte {
	all := map[string]string{}
	for _, m := range mods {
		for n, t := range m.helpers {
			all[n] = t
		}
	}
	var buf bytes.Buffer
	for _, n := range slices.Sorted(maps.Keys(all)) {
		buf.WriteString(all[n])
	}
	return buf.Bytes()
}

// render makes the module's registration: esbuild's output with its banner
// line replaced by the factory's header (the factory's body is the module,
// compiled to CommonJS; import.meta is its last argument) and its import()
// calls of other modules sent to the registry.
func (m *module) render() {
	// The deps go as a string of JSON: the runtime parses it when it
	// needs them (see depsOf in client/hmr.js), and a page that loads
	// needs none, where an object literal per module was as much memory
	// for V8 to make as the rest of the module's registration.
	deps, _ := json.Marshal(m.deps)
	deps, _ = json.Marshal(string(deps))
	id, _ := json.Marshal(m.id)
	head := protocol.Define + `(` + string(id) + `,` + string(deps) + `,function(require,module,exports,` + metaName + `){`
	if m.strict {
		// Its requires name imports as written (see compileStrict).
		head += `require=` + metaName + `.require;`
	}
	body := bytes.TrimPrefix(m.out, []byte(bannerMark))
	if m.refresh {
		// Fast Refresh's registrations call these; the runtime makes the
		// module a boundary when its exports are all components.
		head += `var $RefreshReg$=` + metaName + `.refresh.register,$RefreshSig$=` + metaName + `.refresh.signature;`
		if b, ok := bytes.CutSuffix(body, []byte("});\n")); ok {
			body = append(slices.Clip(b), []byte(metaName+".refresh.done(module);\n});\n")...)
		}
	}
	// import() of a module goes to the registry. esbuild wrote the id, or,
	// strict, the import as written. One pass: a replacement holds the id.
	var dynamic []string
	for spec, d := range m.deps {
		if slices.Contains(m.dyn, d) {
			written := d
			if m.strict {
				written = spec
			}
			q, _ := json.Marshal(written)
			to, _ := json.Marshal(d)
			dynamic = append(dynamic, `import(`+string(q)+`)`, metaName+`.import(`+string(to)+`)`)
		}
	}
	if len(dynamic) > 0 {
		body = []byte(strings.NewReplacer(dynamic...).Replace(string(body)))
	}
	if m.waits {
		// The runtime runs its imports first, in this order, and waits
		// for those with top-level await.
		order, _ := json.Marshal(append([]string{}, m.static...))
		if b, ok := bytes.CutSuffix(body, []byte("});\n")); ok {
			body = append(slices.Clip(b), []byte("},"+string(order)+");\n")...)
		}
	}
	m.depIDs = slices.Compact(slices.Sorted(maps.Values(m.deps)))
	m.def = append([]byte(head), body...)
	if !bytes.HasSuffix(m.def, []byte("\n")) {
		m.def = append(m.def, '\n')
	}
	m.hash = hashHex(m.def)
	sum := sha256.Sum256([]byte(m.id + "\x00" + m.hash))
	m.sig = binary.LittleEndian.Uint64(sum[:8])
}

// updateScript is what ModulePrefix serves for a module: its registration
// as an update, with its source map inline.
func (m *module) updateScript(base string) []byte {
	var buf bytes.Buffer
	buf.WriteString(`import{` + protocol.RuntimeUpdate + ` as ` + protocol.Define + `}from"` + withBase(base, HMRPath) + "\";\n")
	buf.Write(helperBlock(m))
	before := bytes.Count(buf.Bytes(), []byte("\n"))
	buf.Write(m.def)
	if m.srcMap != nil {
		// The map's lines start at the registration.
		sm := bytes.Replace(m.srcMap, []byte(`"mappings":"`), []byte(`"mappings":"`+strings.Repeat(";", before)), 1)
		buf.WriteString("//# sourceMappingURL=data:application/json;base64,")
		buf.WriteString(base64.StdEncoding.EncodeToString(sm))
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

// chunkSize is about how many modules one script holds. An entry that
// reaches more is served as a small script importing chunks, each at a
// URL that names its content, cached for good: after an edit a reload
// fetches, and the browser compiles, only the chunk that changed.
const chunkSize = 256

// registrations is a script of head, the helpers and registrations of
// mods, and tail; and its index source map, one section per module.
func registrations(head string, mods []*module, tail string) (script, srcMap []byte) {
	var js, sm bytes.Buffer
	js.WriteString(head)
	js.Write(helperBlock(mods...))
	sm.WriteString(`{"version":3,"sections":[`)
	line, first := bytes.Count(js.Bytes(), []byte("\n")), true
	for _, m := range mods {
		if m.srcMap != nil {
			if !first {
				sm.WriteByte(',')
			}
			first = false
			sm.WriteString(`{"offset":{"line":` + strconv.Itoa(line) + `,"column":0},"map":`)
			sm.Write(m.srcMap)
			sm.WriteByte('}')
		}
		js.Write(m.def)
		line += bytes.Count(m.def, []byte("\n"))
	}
	js.WriteString(tail)
	sm.WriteString("]}")
	return js.Bytes(), sm.Bytes()
}

// assembledChunk is a chunk's script and source map as last assembled,
// with what they were made of. A module is never changed once rendered
// (a new version is a new module), so a chunk of the same modules, in the
// same order, with the same head and tail, is the same bytes: a reload
// after an edit assembles and hashes only the chunk that changed.
type assembledChunk struct {
	head, tail string
	mods       []*module
	js, sm     *Output
}

// chunked splits mods into about len(mods)/chunkSize chunks, a module
// going to the chunk its id hashes to, so an edit changes one chunk and
// adding a module moves no other.
func chunked(mods []*module) [][]*module {
	n := (len(mods) + chunkSize - 1) / chunkSize
	chunks := make([][]*module, n)
	for _, m := range mods {
		h := fnv.New32a()
		h.Write([]byte(m.id))
		i := h.Sum32() % uint32(n)
		chunks[i] = append(chunks[i], m)
	}
	return chunks
}

// assemble returns the chunk name of mods with head: as last assembled
// when it has the same modules and head (see assembledChunk), else made
// now.
func (g *graph) assemble(name, head string, mods []*module) *assembledChunk {
	tail := "//# sourceMappingURL=" + path.Base(name) + ".map\n"
	if a := g.assembled[name]; a != nil && a.head == head && a.tail == tail && slices.Equal(a.mods, mods) {
		return a
	}
	js, sm := registrations(head, mods, tail)
	return &assembledChunk{head: head, tail: tail, mods: mods,
		js: &Output{Path: name, Kind: JS, Hash: hashHex(js), ContentType: contentType(JS, name), Contents: js},
		sm: &Output{Path: name + ".map", Kind: Map, Hash: hashHex(sm), ContentType: contentType(Map, name+".map"), Contents: sm}}
}

// assembleAll makes the scripts of every JS entry: one script holding
// every module it reaches, or, past chunkSize modules, a script importing
// chunks: chunks of the project's modules and chunks of packages (see
// chunked); the chunks of the last assembly whose modules did not change
// are reused. Called with mu held.
func (g *graph) assembleAll() {
	g.scripts = map[string]*Output{}
	g.preloads = map[string][]string{}
	assembled := map[string]*assembledChunk{}
	defer func() { g.assembled = assembled }()
	put := func(p string, kind Kind, b []byte) *Output {
		o := &Output{Path: p, Kind: kind, Hash: hashHex(b), ContentType: contentType(kind, p), Contents: b}
		g.scripts[p] = o
		return o
	}
	runtime := withBase(g.base, HMRPath)
	for _, e := range g.entries {
		mods := g.reach(e)
		if len(mods) == 0 {
			continue
		}
		q, _ := json.Marshal("/" + e)
		start := protocol.Start + `(` + string(q) + ");\n"
		if g.refreshStart != "" && !slices.ContainsFunc(g.refreshIDs, func(id string) bool { return g.mods[id] == nil }) {
			start = protocol.Start + `(` + string(q) + "," + g.refreshStart + ");\n"
		}
		g.preloads[e] = []string{runtime}
		if len(mods) <= chunkSize {
			js, sm := registrations(`import{`+protocol.RuntimeDefine+` as `+protocol.Define+`,`+protocol.RuntimeStart+` as `+protocol.Start+`}from"`+runtime+"\";\n",
				mods, start+"//# sourceMappingURL="+path.Base(e)+".map\n")
			put("/"+e, JS, js)
			put("/"+e+".map", Map, sm)
			continue
		}
		var entry strings.Builder
		prefix := ChunkPrefix + hashHex([]byte(e))[:8] + "-"
		imports := `import{` + protocol.RuntimeDefine + ` as ` + protocol.Define + `}from"` + runtime + "\";\n"
		// Preloads name the chunks made anew by an assembly that reused
		// others: after an edit, what the page's browser does not have.
		// A first assembly's are all new, and a browser that starts cold
		// loaded the page later with twenty preloads than without.
		var fresh []string
		reused := false
		var own, deps []*module
		for _, m := range mods {
			if m.dep {
				deps = append(deps, m)
			} else {
				own = append(own, m)
			}
		}
		for _, group := range []struct {
			mods       []*module
			name, head string
		}{
			// The project's modules run as the page loads (all but
			// those only import() reaches): V8 compiles their code with
			// the chunk (off the main thread when streamed) and keeps it
			// in its code cache, instead of compiling each factory as it
			// first runs (https://v8.dev/blog/explicit-compile-hints).
			{own, prefix, "//# allFunctionsCalledOnLoad\n" + imports},
			// Packages hold many functions that never run: no hint.
			{deps, prefix + "d", imports},
		} {
			for i, c := range chunked(group.mods) {
				if len(c) == 0 {
					continue
				}
				name := group.name + strconv.Itoa(i) + ".js"
				a := g.assemble(name, group.head, c)
				if g.assembled[name] == a {
					reused = true
				} else {
					fresh = append(fresh, withBase(g.base, name)+"?v="+a.js.Hash)
				}
				assembled[name] = a
				g.scripts[name], g.scripts[name+".map"] = a.js, a.sm
				entry.WriteString(`import "` + withBase(g.base, name) + "?v=" + a.js.Hash + "\";\n")
			}
		}
		if reused {
			g.preloads[e] = append(g.preloads[e], fresh...)
		}
		entry.WriteString(`import{` + protocol.RuntimeStart + ` as ` + protocol.Start + `}from"` + runtime + "\";\n" + start)
		put("/"+e, JS, []byte(entry.String()))
	}
}

// update is m's entry in Result.Modules.
func (m *module) update(base string) ModuleUpdate {
	return ModuleUpdate{ID: m.id, URL: withBase(base, ModulePrefix) + strings.TrimPrefix(m.id, "/") + sep(m.id) + "v=" + m.hash}
}

// sep is the separator before a query parameter added to id.
func sep(id string) string {
	if strings.Contains(id, "?") {
		return "&"
	}
	return "?"
}
