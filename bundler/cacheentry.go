package bundler

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/evanw/esbuild/pkg/api"
)

// This file is the module side of the persistent cache (see cache.go):
// what a compile records for it, the entry of a module and its encoding,
// and the lookup and the checks that make a hit exactly what a compile
// would make now.

// resolveCall is one import resolved during a compile, as the module
// plugin was asked and answered: a cached module is used only when every
// one of its calls gets the same answer again.
type resolveCall struct {
	importer, namespace, dir, spec string
	kind                           api.ResolveKind
	with                           map[string]string
	answer                         string // callAnswer of the plugin's answer
	load                           string // the file esbuild loads for it, if any: compiled into the module
}

// callAnswer is what a resolve answered, as text: the result and the edge.
func callAnswer(r api.OnResolveResult, ed *edge) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%q %v %q %q %#v", r.Path, r.External, r.Namespace, r.Suffix, r.PluginData)
	for _, m := range r.Errors {
		fmt.Fprintf(&sb, " error %q", m.Text)
	}
	for _, m := range r.Warnings {
		fmt.Fprintf(&sb, " warning %q", m.Text)
	}
	if ed != nil {
		fmt.Fprintf(&sb, " edge %+v", *ed)
	}
	return sb.String()
}

// newEdges makes the record of one compile; with calls, of every resolve
// too, for the cache.
func newEdges(calls bool) *edges {
	e := &edges{seen: map[string][]edge{}, refreshed: map[string]bool{}}
	if calls {
		e.calls = map[string][]resolveCall{}
	}
	return e
}

// resolved records one answer of the module plugin: the edge, and the
// call. esbuild's resolves for the plugin (resolveMark) are part of the
// call that made them.
func (e *edges) resolved(a api.OnResolveArgs, r api.OnResolveResult, ed *edge) {
	if a.PluginData == (resolveMark{}) {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if ed != nil {
		e.seen[a.Importer] = append(e.seen[a.Importer], *ed)
	}
	if a.Kind == api.ResolveEntryPoint || e.calls == nil {
		return
	}
	c := resolveCall{importer: a.Importer, namespace: a.Namespace, dir: a.ResolveDir, spec: a.Path,
		kind: a.Kind, with: a.With, answer: callAnswer(r, ed)}
	if !r.External && r.Path != "" && (r.Namespace == "" || r.Namespace == "file") {
		c.load = r.Path
	}
	e.calls[a.Importer] = append(e.calls[a.Importer], c)
}

// cacheRec is what a compile of one module saw that its cache key does
// not name; see cache.go.
type cacheRec struct {
	files  []string      // absolute: the files compiled into it besides its own
	calls  []resolveCall // every import resolved in its file and those
	assets []*Output     // what the compile emitted for it
}

// record returns the cacheRec of the module of file: its calls, and those
// of the files they load, and so on.
func (e *edges) record(file string) *cacheRec {
	e.mu.Lock()
	defer e.mu.Unlock()
	rec := &cacheRec{}
	done := map[string]bool{file: true}
	for queue := []string{file}; len(queue) > 0; queue = queue[1:] {
		for _, c := range e.calls[queue[0]] {
			rec.calls = append(rec.calls, c)
			if c.load != "" && !done[c.load] {
				done[c.load] = true
				rec.files = append(rec.files, c.load)
				queue = append(queue, c.load)
			}
		}
	}
	return rec
}

// assetName matches esbuild's name of an emitted asset: AssetNames'
// "[dir]/[name]-[hash]" and the extension.
var assetName = regexp.MustCompile(`^(.*)-[A-Z0-9]{8}(\.[^./]*)?$`)

// ownAssets gives each module of mods (compiled in one batch) the assets
// of the batch that come from its files, for its cache entry. An asset
// that no module claims leaves every module of the batch out of the
// cache: which one needs it is not known.
func (b *Bundler) ownAssets(mods map[string]*module, assets []*Output) {
	for _, a := range assets {
		sub := assetName.FindStringSubmatch(strings.TrimPrefix(a.Path, "/"))
		claimed := false
		for _, m := range mods {
			if m.rec == nil || sub == nil {
				continue
			}
			for _, f := range append([]string{m.absFile(b)}, m.rec.files...) {
				if b.assetOf(f, sub[1], sub[2]) {
					m.rec.assets = append(m.rec.assets, a)
					claimed = true
					break
				}
			}
		}
		if !claimed {
			for _, m := range mods {
				m.rec = nil
			}
			return
		}
	}
}

// assetOf reports whether an asset named stem + "-HASH" + ext is the
// output of file f: [dir] is f's folder relative to the root, with ".."
// written "_.._" as esbuild does.
func (b *Bundler) assetOf(f, stem, ext string) bool {
	rel, err := filepath.Rel(b.root, f)
	if err != nil {
		return false
	}
	rel = filepath.ToSlash(rel)
	parts := strings.Split(rel, "/")
	for i, p := range parts {
		if p == ".." {
			parts[i] = "_.._"
		}
	}
	rel = strings.Join(parts, "/")
	fext := filepath.Ext(rel)
	return strings.TrimSuffix(rel, fext) == stem && fext == ext
}

// absFile is the module's file as an absolute path.
func (m *module) absFile(b *Bundler) string {
	return b.abs(unit{id: m.id, file: m.file, dep: m.dep})
}

// readsStyleDeps reports whether module m is, or inlines, a stylesheet
// that a build or compiler of its own read (see styleDepFiles).
func (b *Bundler) readsStyleDeps(m *module) bool {
	return b.styleDeps.has(m.absFile(b)) || slices.ContainsFunc(b.inlinedFiles(m), b.styleDeps.has)
}

// fromCache looks up units in the cache and returns the modules found, with
// their assets, and the units to compile with the keys to store them
// under. A module is found when its entry is whole and every file and
// import it recorded is as it was.
func (b *Bundler) fromCache(k *cacheKeys, units []unit) (hits map[string]*module, assets []*Output, rest []unit, keys map[string]string) {
	hits, keys = map[string]*module{}, map[string]string{}
	if k == nil {
		return hits, nil, units, keys
	}
	type found struct {
		u     unit
		key   string
		entry *cacheEntry
	}
	got := make([]found, len(units))
	parallel(len(units), func(i int) {
		u := units[i]
		got[i].u = u
		key, ok := b.unitKey(k, u)
		if !ok {
			return
		}
		got[i].key = key
		if data, rec, ok := b.cache.get(key); ok {
			if e, err := decodeEntry(data, key); err == nil && b.filesSame(k, e) {
				e.mod.srcMap = b.cache.sourceMap(data, e.mapOff, e.mapLen, rec)
				got[i].entry = e
			} else if err != nil {
				b.log.Debug("bundler: a module cache entry does not decode; compiling again", "module", u.id, "err", err)
			}
		}
	})
	var check []*cacheEntry
	for _, f := range got {
		if f.entry != nil {
			check = append(check, f.entry)
		}
	}
	same := b.importsSame(check)
	for _, f := range got {
		if f.entry != nil && same[f.entry] {
			m := f.entry.mod
			m.helpers = b.shareHelpers(m.helpers) // one copy of each helper set, as a compile keeps
			hits[m.id] = m
			assets = append(assets, f.entry.assets...)
			b.cache.hits.Add(1)
			continue
		}
		rest = append(rest, f.u)
		if f.key != "" {
			keys[f.u.id] = f.key
		}
		b.cache.misses.Add(1)
	}
	return hits, assets, rest, keys
}

// parallel runs f(0) ... f(n-1) on every core.
func parallel(n int, f func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(n, runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for i := range next {
				f(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// filesSame reports whether the files compiled into e's module besides its
// own have the content and the config files they had.
func (b *Bundler) filesSame(k *cacheKeys, e *cacheEntry) bool {
	for _, f := range e.files {
		sum, ok := fileSum(k, f.path)
		if !ok || sum != f.sum {
			return false
		}
	}
	return true
}

// fileSum hashes the content of file p with the config files of its
// folder.
func fileSum(k *cacheKeys, p string) (string, bool) {
	data, err := os.ReadFile(p)
	if err != nil {
		return "", false
	}
	cfg, _ := k.configs.key(filepath.Dir(p))
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%d\x00", cfg, len(data))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil)), true
}

// importsSame resolves every import the entries recorded again, through
// the module plugin as a compile does (in one esbuild build that compiles
// nothing: its plugins do the resolving), and reports the entries whose
// every import got the same answer.
func (b *Bundler) importsSame(entries []*cacheEntry) map[*cacheEntry]bool {
	same := map[*cacheEntry]bool{}
	if len(entries) == 0 {
		return same
	}
	var mu sync.Mutex
	o := b.moduleOptions(nil, newEdges(false))
	o.Stdin = &api.StdinOptions{Contents: "", ResolveDir: b.root, Sourcefile: "devserve-cache-check.js"}
	o.Plugins = append([]api.Plugin{{Name: "devserve-cache-check", Setup: func(pb api.PluginBuild) {
		pb.OnStart(func() (api.OnStartResult, error) {
			parallel(len(entries), func(i int) {
				e := entries[i]
				for _, c := range e.calls {
					r, ed := b.resolveModule(pb, api.OnResolveArgs{Path: c.spec, Importer: c.importer,
						Namespace: c.namespace, ResolveDir: c.dir, Kind: c.kind, With: c.with})
					if callAnswer(r, ed) != c.answer {
						return
					}
				}
				mu.Lock()
				same[e] = true
				mu.Unlock()
			})
			return api.OnStartResult{}, nil
		})
	}}}, o.Plugins...)
	if res := api.Build(o); len(res.Errors) > 0 {
		b.log.Debug("bundler: the module cache's check failed; compiling", "err", res.Errors[0].Text)
		return map[*cacheEntry]bool{}
	}
	return same
}

// toCache writes the modules compiled for units whose key is known, when
// they compiled and nothing they were compiled from changed since k's
// start (a compile that raced an edit may have read either version).
// Batches of one compile may call it at once.
func (b *Bundler) toCache(k *cacheKeys, got map[string]*module, keys map[string]string) {
	if k == nil {
		return
	}
	for id, key := range keys {
		m := got[id]
		if m == nil {
			continue
		}
		rec := m.rec
		m.rec = nil
		if rec == nil || m.errs != nil || m.out == nil || b.globs.has(m.absFile(b)) || b.readsStyleDeps(m) {
			// import.meta.glob's matches, a listing, and what an inline
			// stylesheet @imports, read by a build of its own: an
			// entry's checks cover neither
			continue
		}
		e := &cacheEntry{mod: m, assets: rec.assets, calls: rec.calls}
		racy := false
		_, own := k.configs.key(filepath.Dir(m.absFile(b)))
		checked := append([]string{m.absFile(b)}, own...)
		for _, f := range rec.files {
			sum, ok := fileSum(k, f)
			_, cfg := k.configs.key(filepath.Dir(f))
			checked = append(checked, f)
			checked = append(checked, cfg...)
			if !ok {
				racy = true
				break
			}
			e.files = append(e.files, cacheFile{f, sum})
		}
		for _, f := range checked {
			if fi, err := os.Stat(f); err != nil || !fi.ModTime().Before(k.start.Add(-cacheRacy)) {
				racy = true
				break
			}
		}
		if !racy {
			payload, mapOff, mapLen := e.encode(key)
			b.cache.put(key, queued{payload: payload, sm: m.srcMap, mapOff: mapOff, mapLen: mapLen})
		}
	}
}

// cacheEntry is one module in the cache: the module as compiled, the
// assets its compile emitted, the other files compiled into it and the
// imports it resolved.
type cacheEntry struct {
	mod    *module
	assets []*Output
	files  []cacheFile
	calls  []resolveCall

	// mapOff and mapLen are where decodeEntry found the module's source
	// map in the payload; it leaves mod.srcMap to its caller (see
	// diskCache.sourceMap).
	mapOff, mapLen int
}

// cacheFile is a file compiled into a module besides its own, with
// fileSum's hash.
type cacheFile struct{ path, sum string }

// encode writes the entry's payload, and says where the module's source
// map is in it.
func (e *cacheEntry) encode(key string) (payload []byte, mapOff, mapLen int) {
	var w encoder
	m := e.mod
	w.str(key)
	w.str(m.id)
	w.str(m.file)
	w.flags(m.dep, m.refresh, m.tla)
	w.bytes(m.out)
	sm := m.sourceMap()
	w.num(len(sm))
	mapOff, mapLen = len(w.b), len(sm)
	w.b = append(w.b, sm...)
	w.dict(m.helpers)
	w.dict(m.deps)
	w.list(m.static)
	w.str(m.styleBefore)
	w.list(m.dyn)
	w.list(slices.Sorted(maps.Keys(m.inline)))
	w.dict(m.depFiles)
	w.dict(m.alts)
	w.num(len(m.warns))
	for _, msg := range m.warns {
		w.list([]string{msg.Text, msg.File, msg.LineText, msg.Suggestion})
		w.num(msg.Line)
		w.num(msg.Column)
	}
	w.num(len(e.assets))
	for _, a := range e.assets {
		w.list([]string{a.Path, string(a.Kind), a.Hash, a.ContentType})
		w.bytes(a.Contents)
	}
	w.num(len(e.files))
	for _, f := range e.files {
		w.list([]string{f.path, f.sum})
	}
	w.num(len(e.calls))
	for _, c := range e.calls {
		w.list([]string{c.importer, c.namespace, c.dir, c.spec, c.answer, c.load})
		w.num(int(c.kind))
		w.dict(c.with)
	}
	return w.b, mapOff, mapLen
}

// decodeEntry reads a payload that encode wrote for key.
func decodeEntry(data []byte, key string) (*cacheEntry, error) {
	r := decoder{b: data}
	if r.str() != key {
		return nil, fmt.Errorf("the entry is of another key")
	}
	m := &module{id: r.str(), file: r.str()}
	e := &cacheEntry{mod: m}
	fl := r.flags(3)
	m.dep, m.refresh, m.tla = fl[0], fl[1], fl[2]
	m.out = r.bytes()
	e.mapLen = len(r.raw())
	e.mapOff = len(data) - len(r.b) - e.mapLen
	m.helpers = r.dict()
	m.deps = nilIfEmpty(r.dict())
	m.static = r.list()
	m.styleBefore = r.str()
	m.dyn = r.list()
	for _, f := range r.list() {
		setKey(&m.inline, f, true)
	}
	m.depFiles = nilIfEmpty(r.dict())
	m.alts = nilIfEmpty(r.dict())
	for range r.count() {
		s := r.list()
		if len(s) != 4 {
			return nil, fmt.Errorf("a warning of %d fields", len(s))
		}
		m.warns = append(m.warns, Message{Text: s[0], File: s[1], LineText: s[2], Suggestion: s[3], Line: r.num(), Column: r.num()})
	}
	for range r.count() {
		s := r.list()
		if len(s) != 4 {
			return nil, fmt.Errorf("an asset of %d fields", len(s))
		}
		e.assets = append(e.assets, &Output{Path: s[0], Kind: Kind(s[1]), Hash: s[2], ContentType: s[3], Contents: r.bytes()})
	}
	for range r.count() {
		s := r.list()
		if len(s) != 2 {
			return nil, fmt.Errorf("a file of %d fields", len(s))
		}
		e.files = append(e.files, cacheFile{s[0], s[1]})
	}
	for range r.count() {
		s := r.list()
		if len(s) != 6 {
			return nil, fmt.Errorf("an import of %d fields", len(s))
		}
		e.calls = append(e.calls, resolveCall{importer: s[0], namespace: s[1], dir: s[2], spec: s[3], answer: s[4], load: s[5],
			kind: api.ResolveKind(r.num()), with: r.dict()})
	}
	if r.err != nil {
		return nil, r.err
	}
	if len(r.b) > 0 {
		return nil, fmt.Errorf("%d bytes after the entry", len(r.b))
	}
	return e, nil
}

// encoder writes the cache's payloads: lengths as uvarints, then bytes.
type encoder struct{ b []byte }

func (w *encoder) num(n int)      { w.b = binary.AppendUvarint(w.b, uint64(n)) }
func (w *encoder) bytes(p []byte) { w.num(len(p)); w.b = append(w.b, p...) }
func (w *encoder) str(s string)   { w.num(len(s)); w.b = append(w.b, s...) }
func (w *encoder) list(s []string) {
	w.num(len(s))
	for _, x := range s {
		w.str(x)
	}
}

func (w *encoder) flags(fs ...bool) {
	n := 0
	for i, f := range fs {
		if f {
			n |= 1 << i
		}
	}
	w.num(n)
}

// dict writes a map in key order.
func (w *encoder) dict(m map[string]string) {
	w.num(len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		w.str(k)
		w.str(m[k])
	}
}

// decoder reads what encoder wrote; after the first error it reads zeros.
type decoder struct {
	b   []byte
	err error
}

func (r *decoder) num() int {
	if r.err != nil {
		return 0
	}
	n, k := binary.Uvarint(r.b)
	if k <= 0 || n > uint64(len(r.b))+1<<20 {
		r.err = fmt.Errorf("bad number")
		return 0
	}
	r.b = r.b[k:]
	return int(n)
}

// count reads a number of items, each of which takes a byte at least.
func (r *decoder) count() int {
	n := r.num()
	if n > len(r.b) {
		r.err = fmt.Errorf("bad count")
		return 0
	}
	return n
}

// raw reads a length and that many bytes, which stay the payload's.
func (r *decoder) raw() []byte {
	n := r.num()
	if r.err != nil || n > len(r.b) {
		if r.err == nil {
			r.err = fmt.Errorf("bad length")
		}
		return nil
	}
	p := r.b[:n:n]
	r.b = r.b[n:]
	return p
}

// bytes reads what encoder.bytes wrote, as a copy; nil when empty.
func (r *decoder) bytes() []byte {
	if p := r.raw(); len(p) > 0 {
		return bytes.Clone(p)
	}
	return nil
}

func (r *decoder) str() string { return string(r.raw()) }

func (r *decoder) list() []string {
	n := r.count()
	var s []string
	for range n {
		s = append(s, r.str())
	}
	return s
}

func (r *decoder) flags(n int) []bool {
	v := r.num()
	out := make([]bool, n)
	for i := range out {
		out[i] = v&(1<<i) != 0
	}
	return out
}

func (r *decoder) dict() map[string]string {
	n := r.count()
	m := make(map[string]string, n)
	for range n {
		k := r.str()
		m[k] = r.str()
	}
	return m
}
