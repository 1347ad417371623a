package bundler

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"hash"
	"hash/fnv"
	"io"
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

// render works out what the graph keeps of the module's registration
// (appendDef): its hash, its lines, the ids it imports and whether its
// exports are plain (see plain.go). The registration itself is made
// again whenever a script holds it: kept, it would be the largest part of
// the server's memory after the scripts (issue #14), and making it takes
// a few microseconds.
func (m *module) render() {
	m.depIDs = slices.Compact(slices.Sorted(maps.Values(m.deps)))
	m.plain = [2]int32{}
	if m.acyclic {
		start, end := exportsAt(bytes.TrimPrefix(m.out, []byte(bannerMark)))
		m.plain = [2]int32{int32(start), int32(end)}
	}
	def := m.appendDef(nil)
	m.hash = hashHex(def)
	m.lines = bytes.Count(def, []byte("\n"))
	sum := sha256.Sum256([]byte(m.id + "\x00" + m.hash))
	m.sig = binary.LittleEndian.Uint64(sum[:8])
}

// rendered reports whether render has run: the module's code is ready to
// be served.
func (m *module) rendered() bool { return m.hash != "" }

// appendDef appends the module's registration to dst: esbuild's output
// with its banner line replaced by the factory's header (the factory's
// body is the module, compiled to CommonJS; import.meta is its last
// argument) and its import() calls of other modules sent to the registry.
// It ends with a newline. The same module gives the same bytes.
//
// The deps go as a string of JSON: the runtime parses it when it needs
// them (see depsOf in client/hmr.js), and a page that loads needs none,
// where an object literal per module was as much memory for V8 to make
// as the rest of the module's registration.
func (m *module) appendDef(dst []byte) []byte {
	dst = append(dst, protocol.Define+`(`...)
	dst = appendJSONString(dst, m.id)
	var deps []byte
	deps = append(deps, '{')
	for i, spec := range slices.Sorted(maps.Keys(m.deps)) {
		if i > 0 {
			deps = append(deps, ',')
		}
		deps = appendJSONString(deps, spec)
		deps = append(deps, ':')
		deps = appendJSONString(deps, m.deps[spec])
	}
	deps = append(deps, '}')
	dst = append(dst, ',', '"')
	for _, c := range deps { // JSON in a string: only its quotes and backslashes need one more
		if c == '"' || c == '\\' {
			dst = append(dst, '\\')
		}
		dst = append(dst, c)
	}
	dst = append(dst, `",function(require,module,exports,`+metaName+`){`...)
	if m.strict {
		// Its requires name imports as written (see compileStrict).
		dst = append(dst, `require=`+metaName+`.require;`...)
	}
	body := bytes.TrimPrefix(m.out, []byte(bannerMark))
	if m.plain[1] > 0 {
		body = appendPlain(nil, body, int(m.plain[0]), int(m.plain[1]))
	}
	if m.refresh {
		// Fast Refresh's registrations call these; the runtime makes the
		// module a boundary when its exports are all components.
		dst = append(dst, `var $RefreshReg$=`+metaName+`.refresh.register,$RefreshSig$=`+metaName+`.refresh.signature;`...)
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
	dst = append(dst, body...)
	if !bytes.HasSuffix(dst, []byte("\n")) {
		dst = append(dst, '\n')
	}
	return dst
}

// appendJSONString appends s as encoding/json writes it, without its
// reflection for the usual id or import, which needs no escape: a
// registration is made again each time a script holds it.
func appendJSONString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(dst, q...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// updateScript is what ModulePrefix serves for a module: its registration
// as an update, with its source map inline.
func (m *module) updateScript(base string) []byte {
	var buf bytes.Buffer
	buf.WriteString(updateHead(base))
	buf.Write(helperBlock(m))
	before := bytes.Count(buf.Bytes(), []byte("\n"))
	buf.Write(m.appendDef(buf.AvailableBuffer()))
	if sm := m.updateMap(before); sm != nil {
		buf.WriteString("//# sourceMappingURL=data:application/json;base64,")
		buf.WriteString(base64.StdEncoding.EncodeToString(sm))
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

// updateHead is the first line of an update script: its import of the
// runtime's update.
func updateHead(base string) string {
	return `import{` + protocol.RuntimeUpdate + ` as ` + protocol.Define + `}from"` + withBase(base, HMRPath) + "\";\n"
}

// updateScriptMap is the source map of updateScript(base), which
// ModulePrefix serves at the script's path + ".map": the page that runs a
// hot update's code from its built event names it there, rather than
// carrying it inline (see hmr's inlineCode).
func (m *module) updateScriptMap(base string) []byte {
	return m.updateMap(strings.Count(updateHead(base), "\n") + bytes.Count(helperBlock(m), []byte("\n")))
}

// updateMap is the module's source map with its lines starting after the
// first before lines, where an update script puts the registration; nil
// when the module has none.
func (m *module) updateMap(before int) []byte {
	sm := m.sourceMap()
	if sm == nil {
		return nil
	}
	return bytes.Replace(sm, []byte(`"mappings":"`), []byte(`"mappings":"`+strings.Repeat(";", before)), 1)
}

// chunkSize is about how many modules one script holds. An entry that
// reaches more is served as a small script importing chunks, each at a
// URL that names its content, cached for good: after an edit a reload
// fetches, and the browser compiles, only the chunk that changed.
const chunkSize = 256

// assembledChunk is a script of registrations as last assembled: a head,
// the helpers and registrations of mods, and a tail, served at name, with
// its index source map (one section per module) at name + ".map". Neither
// is kept: both are made again from the modules when asked for (see
// render), which keeps the server's memory at about one copy of the
// modules' code and maps instead of three (issue #14). A module is never
// changed once rendered (a new version is a new module), so a chunk of
// the same modules, in the same order, with the same head and tail, is
// the same bytes: a reload after an edit assembles and hashes only the
// chunk that changed.
type assembledChunk struct {
	name, head, tail string
	mods             []*module
	helpers          []byte // the helpers' declarations (see helperBlock)
	start            int    // lines of head and helpers: where the first registration starts
	size             int    // of the script
	hash             string // of the script
}

// writeScript writes the chunk's script to w.
func (a *assembledChunk) writeScript(w io.Writer) {
	io.WriteString(w, a.head)
	w.Write(a.helpers)
	var def []byte
	for _, m := range a.mods {
		def = m.appendDef(def[:0])
		w.Write(def)
	}
	io.WriteString(w, a.tail)
}

// script makes the chunk's script.
func (a *assembledChunk) script() []byte {
	var buf bytes.Buffer
	buf.Grow(a.size)
	a.writeScript(&buf)
	return buf.Bytes()
}

// sourceMap makes the chunk's index source map: a section for each module
// with a map, at the line where its registration starts.
func (a *assembledChunk) sourceMap() []byte {
	var sm bytes.Buffer
	sm.WriteString(`{"version":3,"sections":[`)
	line, first := a.start, true
	for _, m := range a.mods {
		if mm := m.sourceMap(); mm != nil {
			if !first {
				sm.WriteByte(',')
			}
			first = false
			sm.WriteString(`{"offset":{"line":` + strconv.Itoa(line) + `,"column":0},"map":`)
			sm.Write(mm)
			sm.WriteByte('}')
		}
		line += m.lines
	}
	sm.WriteString("]}")
	return sm.Bytes()
}

// chunkAt is what LookupURL found of an assembled chunk: its script
// (immutable when asked for at the URL that names it) or its source map.
// It makes the bytes after LookupURL lets go of mu: the chunk's modules
// never change.
type chunkAt struct {
	a                    *assembledChunk
	sourceMap, immutable bool
}

// output makes what c serves.
func (c chunkAt) output() *Output {
	if c.sourceMap {
		p, sm := c.a.name+".map", c.a.sourceMap()
		return &Output{Path: p, Kind: Map, Hash: hashHex(sm), ContentType: contentType(Map, p), Contents: sm}
	}
	return &Output{Path: c.a.name, Kind: JS, Hash: c.a.hash, ContentType: contentType(JS, c.a.name),
		Contents: c.a.script(), Immutable: c.immutable}
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

// assemble returns the script name of head, mods and tail: as last
// assembled when it has the same modules, head and tail (see
// assembledChunk), else made now.
func (g *graph) assemble(name, head string, mods []*module, tail string) *assembledChunk {
	if a := g.assembled[name]; a != nil && a.head == head && a.tail == tail && slices.Equal(a.mods, mods) {
		return a
	}
	a := &assembledChunk{name: name, head: head, tail: tail, mods: mods, helpers: helperBlock(mods...)}
	a.start = strings.Count(head, "\n") + bytes.Count(a.helpers, []byte("\n"))
	h := &countingHash{h: sha256.New()}
	a.writeScript(h)
	a.size, a.hash = h.n, hex.EncodeToString(h.h.Sum(nil)[:8]) // as hashHex
	return a
}

// countingHash is a hash that counts the bytes written to it.
type countingHash struct {
	h hash.Hash
	n int
}

func (c *countingHash) Write(p []byte) (int, error) {
	c.n += len(p)
	return c.h.Write(p)
}

// assembleAll makes the scripts of every JS entry: one script holding
// every module it reaches, or, past chunkSize modules, a script importing
// chunks: chunks of the project's modules and chunks of packages (see
// chunked); the scripts of the last assembly whose modules did not change
// are reused. Called with mu held.
func (g *graph) assembleAll() {
	g.scripts = map[string]*Output{}
	g.preloads = map[string][]string{}
	if g.styles == nil {
		g.styles = make(map[string][]styleLink, len(g.entries))
		for _, e := range g.entries {
			g.styles[e] = g.stylesOf(e)
		}
	}
	assembled := map[string]*assembledChunk{}
	defer func() { g.assembled = assembled }()
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
		if g.env != "" {
			// Before any module runs (imports only define them).
			start = envStatement(g.env) + "\n" + start
		}
		g.preloads[e] = []string{runtime}
		if len(mods) <= chunkSize {
			name := "/" + e
			assembled[name] = g.assemble(name, `import{`+protocol.RuntimeDefine+` as `+protocol.Define+`,`+protocol.RuntimeStart+` as `+protocol.Start+`}from"`+runtime+"\";\n",
				mods, start+"//# sourceMappingURL="+path.Base(e)+".map\n")
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
				a := g.assemble(name, group.head, c, "//# sourceMappingURL="+path.Base(name)+".map\n")
				if g.assembled[name] == a {
					reused = true
				} else {
					fresh = append(fresh, withBase(g.base, name)+"?v="+a.hash)
				}
				assembled[name] = a
				entry.WriteString(`import "` + withBase(g.base, name) + "?v=" + a.hash + "\";\n")
			}
		}
		if reused {
			g.preloads[e] = append(g.preloads[e], fresh...)
		}
		entry.WriteString(`import{` + protocol.RuntimeStart + ` as ` + protocol.Start + `}from"` + runtime + "\";\n" + start)
		p, js := "/"+e, []byte(entry.String())
		g.scripts[p] = &Output{Path: p, Kind: JS, Hash: hashHex(js), ContentType: contentType(JS, p), Contents: js}
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
