package bundler

import (
	"bytes"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// cacheProject is the project of the cache tests: an entry importing a
// module by a path without extension (which a new file can shadow), a
// package, a CSS module and a file with ?raw, all inlined or linked into
// the modules.
var cacheProject = map[string]string{
	"index.html":                    `<!doctype html><script type="module" src="/src/main.js"></script>`,
	"src/main.js":                   "import { util } from \"./util\";\nimport { pkg } from \"pkg\";\nimport { view } from \"./view.js\";\nconsole.log(util, pkg, view);\n",
	"src/util.js":                   "export const util = \"util.js\";\n",
	"src/view.js":                   "import styles from \"./view.module.css\";\nimport text from \"./note.txt?raw\";\nimport logo from \"./logo.svg\";\nexport const view = styles.box + text + logo;\n",
	"src/logo.svg":                  `<svg xmlns="http://www.w3.org/2000/svg"/>`,
	"src/view.module.css":           ".box { color: red }\n",
	"src/note.txt":                  "a note\n",
	"node_modules/pkg/package.json": `{"name": "pkg", "version": "1.0.0", "main": "index.js"}`,
	"node_modules/pkg/index.js":     "exports.pkg = \"pkg 1.0.0\";\nexports.icon = require(\"./icon.png\");\n",
	"node_modules/pkg/icon.png":     "not really a png",
}

// writeOld writes files as writeFiles does, with an mtime a minute ago:
// changes made while no Bundler ran, which the cache may store at once
// (a file changed just before a compile is not stored; see cacheRacy).
func writeOld(t testing.TB, root string, files map[string]string) {
	t.Helper()
	writeFiles(t, root, files)
	old := time.Now().Add(-time.Minute)
	for name := range files {
		if err := os.Chtimes(filepath.Join(root, filepath.FromSlash(name)), old, old); err != nil {
			t.Fatal(err)
		}
	}
}

// started is what one start of a Bundler served and compiled.
type started struct {
	served   string   // every module's registration and source map, and every asset, by id and path
	compiled []string // the files compiled by esbuild, sorted
	hits     int64
}

// startOnce opens a Bundler on root with the cache in dir, builds, and
// closes it (which writes the cache).
func startOnce(t *testing.T, root, dir string, opts Options) started {
	t.Helper()
	opts.Root, opts.Modules, opts.CacheDir = root, true, dir
	b, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	var mu sync.Mutex
	var st started
	b.rebuildHook = func(f string) {
		if rel, err := filepath.Rel(root, f); err == nil && filepath.IsAbs(f) {
			f = filepath.ToSlash(rel)
		}
		mu.Lock()
		st.compiled = append(st.compiled, f)
		mu.Unlock()
	}
	r := b.Build(nil)
	if !r.OK() {
		b.Close()
		t.Fatalf("build: %v", r.Errors)
	}
	b.mu.Lock()
	var sb strings.Builder
	for _, id := range slices.Sorted(maps.Keys(b.graph.mods)) {
		m := b.graph.mods[id]
		fmt.Fprintf(&sb, "%s\n%s\n%s\n", id, m.appendDef(nil), m.sourceMap())
	}
	for _, p := range slices.Sorted(maps.Keys(b.graph.assets)) {
		fmt.Fprintf(&sb, "%s %s\n", p, b.graph.assets[p].Hash)
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(&sb, "warning %+v\n", w)
	}
	b.mu.Unlock()
	st.served = sb.String()
	if b.cache != nil {
		st.hits = b.cache.hits.Load()
	}
	b.Close()
	slices.Sort(st.compiled)
	return st
}

// TestCacheRestart starts a Bundler, changes what a case changes, and starts
// again with the cache: the second start compiles exactly the modules whose
// compile the change can change, serves what a start without the cache
// serves, and a third start compiles nothing.
func TestCacheRestart(t *testing.T) {
	all := []string{"node_modules/pkg/index.js", "src/logo.svg", "src/main.js", "src/note.txt", "src/util.js", "src/view.js"}
	tests := []struct {
		name   string
		change func(t *testing.T, root, dir string)
		opts   Options
		want   []string // compiled by the second start, relative to root
	}{
		{name: "nothing changed", change: func(*testing.T, string, string) {}},
		{name: "content", want: []string{"src/util.js"}, change: func(t *testing.T, root, _ string) {
			writeOld(t, root, map[string]string{"src/util.js": "export const util = \"changed\";\n"})
		}},
		{name: "option", want: all, opts: Options{BuildOptions: BuildOptions{Define: map[string]string{"DEBUG": "true"}}}, change: func(*testing.T, string, string) {}},
		{name: "base", want: all, opts: Options{Base: "/app/"}, change: func(*testing.T, string, string) {}},
		{name: "a new file shadows an import", want: []string{"src/main.js", "src/util.ts"}, change: func(t *testing.T, root, _ string) {
			// esbuild tries .ts before .js: "./util" is util.ts now.
			writeOld(t, root, map[string]string{"src/util.ts": "export const util: string = \"util.ts\";\n"})
		}},
		{name: "a package's file", want: []string{"node_modules/pkg/index.js"}, change: func(t *testing.T, root, _ string) {
			writeOld(t, root, map[string]string{"node_modules/pkg/index.js": "exports.pkg = \"pkg 1.0.1\";\n"})
		}},
		{name: "a package's asset", want: []string{"node_modules/pkg/index.js"}, change: func(t *testing.T, root, _ string) {
			writeOld(t, root, map[string]string{"node_modules/pkg/icon.png": "another png"})
		}},
		{name: "a package upgraded", want: []string{"node_modules/pkg/lib.js", "src/main.js"}, change: func(t *testing.T, root, _ string) {
			writeOld(t, root, map[string]string{
				"node_modules/pkg/package.json": `{"name": "pkg", "version": "2.0.0", "main": "lib.js"}`,
				"node_modules/pkg/lib.js":       "exports.pkg = \"pkg 2.0.0\";\n",
			})
		}},
		{name: "a CSS module", want: []string{"src/view.js"}, change: func(t *testing.T, root, _ string) {
			writeOld(t, root, map[string]string{"src/view.module.css": ".box { color: blue }\n"})
		}},
		{name: "a file imported with ?raw", want: []string{"src/note.txt"}, change: func(t *testing.T, root, _ string) {
			writeOld(t, root, map[string]string{"src/note.txt": "another note\n"})
		}},
		{name: "an asset", want: []string{"src/logo.svg"}, change: func(t *testing.T, root, _ string) {
			writeOld(t, root, map[string]string{"src/logo.svg": `<svg xmlns="http://www.w3.org/2000/svg" width="1"/>`})
		}},
		{name: "a tsconfig", want: []string{"src/logo.svg", "src/main.js", "src/note.txt", "src/util.js", "src/view.js"}, change: func(t *testing.T, root, _ string) {
			writeOld(t, root, map[string]string{"tsconfig.json": `{"compilerOptions": {"useDefineForClassFields": false}}`})
		}},
		{name: "a package.json", want: []string{"src/logo.svg", "src/main.js", "src/note.txt", "src/util.js", "src/view.js"}, change: func(t *testing.T, root, _ string) {
			writeOld(t, root, map[string]string{"package.json": `{"type": "module"}`})
		}},
		{name: "a damaged entry", want: []string{"src/util.js"}, change: func(t *testing.T, _, dir string) {
			damage(t, dir, "src/util.js", func(b []byte) []byte { return b[:len(b)/2] })
		}},
		{name: "a corrupt entry", want: []string{"src/util.js"}, change: func(t *testing.T, _, dir string) {
			damage(t, dir, "src/util.js", func(b []byte) []byte { b[len(b)-3] ^= 0x55; return b })
		}},
		{name: "an empty entry", want: []string{"src/util.js"}, change: func(t *testing.T, _, dir string) {
			damage(t, dir, "src/util.js", func([]byte) []byte { return nil })
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeOld(t, root, cacheProject)
			dir := filepath.Join(t.TempDir(), "cache")
			first := startOnce(t, root, dir, Options{})
			if first.hits != 0 || !slices.Equal(first.compiled, all) {
				t.Fatalf("first start: %d hits, compiled %q; want 0 and %q", first.hits, first.compiled, all)
			}
			tc.change(t, root, dir)
			second := startOnce(t, root, dir, tc.opts)
			if !slices.Equal(second.compiled, tc.want) {
				t.Errorf("second start compiled %q, want %q", second.compiled, tc.want)
			}
			if fresh := startOnce(t, root, "", tc.opts); second.served != fresh.served {
				t.Errorf("second start serves\n%s\nwhile a start without the cache serves\n%s", second.served, fresh.served)
			}
			if third := startOnce(t, root, dir, tc.opts); len(third.compiled) > 0 || third.served != second.served {
				t.Errorf("third start compiled %q (want none), same served: %v", third.compiled, third.served == second.served)
			}
		})
	}
}

// TestCacheSourceMap starts a Bundler again on the cache: its modules
// leave their source maps in the pack, read them as a start without the
// cache makes them, and have none once the bytes there change or the
// Bundler is closed.
func TestCacheSourceMap(t *testing.T) {
	root := t.TempDir()
	writeOld(t, root, cacheProject)
	dir := filepath.Join(t.TempDir(), "cache")
	startOnce(t, root, dir, Options{})
	openBuilt := func(dir string) *Bundler {
		b, err := New(Options{Root: root, Modules: true, BuildOptions: BuildOptions{CacheDir: dir}})
		if err != nil {
			t.Fatal(err)
		}
		if r := b.Build(nil); !r.OK() {
			b.Close()
			t.Fatal(r.Errors)
		}
		return b
	}
	fresh := openBuilt(NoCache)
	defer fresh.Close()
	b := openBuilt(dir)
	defer b.Close()

	var packed []*module
	for id, m := range b.graph.mods {
		want := fresh.graph.mods[id].sourceMap()
		if got := m.sourceMap(); !bytes.Equal(got, want) {
			t.Errorf("%s: source map\n%s\nwant\n%s", id, got, want)
		}
		if m.srcMap == nil {
			continue
		}
		if at := m.srcMap.cur.Load(); at.packed == nil || at.b != nil {
			t.Errorf("%s: the map is not in the pack alone: %+v", id, at)
		}
		packed = append(packed, m)
	}
	if len(packed) < 2 {
		t.Fatalf("%d modules with a map, want more", len(packed))
	}

	p := packed[0].srcMap.cur.Load().packed
	f, err := os.OpenFile(b.cache.packs[p.pack].Name(), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteAt([]byte("X"), p.off+1)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if sm := packed[0].sourceMap(); sm != nil {
		t.Errorf("a map whose bytes changed in the pack: %s, want none", sm)
	}
	b.Close()
	if sm := packed[1].sourceMap(); sm != nil {
		t.Errorf("a map after Close: %s, want none", sm)
	}
}

// TestCacheSourceMapWritten: a module compiled during the run keeps its
// source map in memory until the cache's writer has written its entry,
// and then reads it from the pack.
func TestCacheSourceMapWritten(t *testing.T) {
	root := t.TempDir()
	writeOld(t, root, cacheProject)
	b, err := New(Options{Root: root, Modules: true, BuildOptions: BuildOptions{CacheDir: t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	wrote := make(chan struct{}, 100)
	b.cache.wroteHook = func() { wrote <- struct{}{} }
	if r := b.Build(nil); !r.OK() {
		t.Fatal(r.Errors)
	}
	want := map[*module][]byte{}
	for _, m := range b.graph.mods {
		if m.srcMap != nil {
			want[m] = m.sourceMap()
		}
	}
	if len(want) < 2 {
		t.Fatalf("%d modules with a map, want more", len(want))
	}
	inPack := func() bool {
		for m := range want {
			if m.srcMap.cur.Load().packed == nil {
				return false
			}
		}
		return true
	}
	for !inPack() {
		select {
		case <-wrote:
		case <-time.After(10 * time.Second):
			t.Fatal("the maps never went to the pack")
		}
	}
	for m, sm := range want {
		if got := m.sourceMap(); !bytes.Equal(got, sm) {
			t.Errorf("%s: map from the pack\n%s\nwant\n%s", m.id, got, sm)
		}
	}
}

// damage rewrites the pack in the cache folder dir that holds the entry of
// the module of root-relative file: that record goes last, rewritten by f
// (which sees the whole record, head and payload), the others unchanged.
func damage(t *testing.T, dir, file string, f func([]byte) []byte) {
	t.Helper()
	packs, _ := filepath.Glob(filepath.Join(dir, cacheLayout, "*"+packExt))
	n := 0
	for _, p := range packs {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		fh, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		var others, hit []byte
		start := int64(len(packMagic))
		err = scanPack(fh, 0, func(key string, r packRec) {
			rec := raw[start : r.off+int64(r.n)]
			start = r.off + int64(r.n)
			d := decoder{b: raw[r.off : r.off+int64(r.n)]}
			d.str() // key
			d.str() // id
			if d.str() == file {
				hit = rec
				n++
				return
			}
			others = append(others, rec...)
		})
		fh.Close()
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if hit != nil {
			out := append([]byte(packMagic), others...)
			if err := os.WriteFile(p, append(out, f(slices.Clone(hit))...), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n != 1 {
		t.Fatalf("damage %s: %d entries in %d packs", file, n, len(packs))
	}
}

// TestCacheConcurrent runs two Bundlers on one project and one cache at
// once: both serve what a start without the cache serves, and a third
// start takes every module from the cache.
func TestCacheConcurrent(t *testing.T) {
	root := t.TempDir()
	writeOld(t, root, cacheProject)
	dir := filepath.Join(t.TempDir(), "cache")
	fresh := startOnce(t, root, "", Options{})
	var wg sync.WaitGroup
	got := make([]started, 2)
	for i := range got {
		wg.Go(func() { got[i] = startOnce(t, root, dir, Options{}) })
	}
	wg.Wait()
	for i, st := range got {
		if st.served != fresh.served {
			t.Errorf("start %d at once serves other modules than a start without the cache", i)
		}
	}
	if third := startOnce(t, root, dir, Options{}); len(third.compiled) > 0 || third.served != fresh.served {
		t.Errorf("after two at once, a start compiled %q; want none", third.compiled)
	}
}

// TestCacheUnwritable gives the Bundler a cache folder it cannot create:
// it builds as without a cache, after one warning.
func TestCacheUnwritable(t *testing.T) {
	root := t.TempDir()
	writeOld(t, root, cacheProject)
	blocker := filepath.Join(t.TempDir(), "file")
	writeFiles(t, filepath.Dir(blocker), map[string]string{"file": "not a folder"})
	var logs bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	fresh := startOnce(t, root, "", Options{})
	for range 2 {
		st := startOnce(t, root, filepath.Join(blocker, "cache"), Options{Logger: log})
		if st.served != fresh.served || len(st.compiled) != 6 {
			t.Errorf("without a cache: compiled %q, same served: %v", st.compiled, st.served == fresh.served)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if n := strings.Count(logs.String(), "module cache is off"); n != 2 {
		t.Errorf("%d warnings for two starts, want one each:\n%s", n, logs.String())
	}
}

// lockedWriter serializes writes to a buffer.
type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestCacheRacy changes a module's file just before a build starts: the
// build compiles it and serves it, but does not store it, since its
// compile may have read either version; the next start compiles it again.
func TestCacheRacy(t *testing.T) {
	root := t.TempDir()
	writeOld(t, root, cacheProject)
	dir := filepath.Join(t.TempDir(), "cache")
	startOnce(t, root, dir, Options{})
	writeFiles(t, root, map[string]string{"src/util.js": "export const util = \"just now\";\n"})
	for range 2 {
		if st := startOnce(t, root, dir, Options{}); !slices.Equal(st.compiled, []string{"src/util.js"}) {
			t.Errorf("compiled %q, want only src/util.js", st.compiled)
		}
	}
}

// TestCachePrune writes packs of records of given ages and prunes: too
// many packs, or too many bytes unused for cacheMaxAge, are compacted into
// one pack of the records in use; otherwise the packs stay as they are.
// Old temporary files and older layouts go in any case.
func TestCachePrune(t *testing.T) {
	now := time.Now()
	day := 24 * time.Hour
	tests := []struct {
		name       string
		packs      []map[string]time.Duration // per pack, each record's age
		used       []string                   // read by this run
		keep       []string
		packsAfter int
	}{
		{name: "two fresh packs", packs: []map[string]time.Duration{{"a": day}, {"b": time.Hour}},
			keep: []string{"a", "b"}, packsAfter: 2},
		{name: "too many packs", packs: []map[string]time.Duration{{"a": day}, {"b": day}, {"c": day}, {"d": day}, {"e": day}, {"f": day}, {"g": day}, {"h": day}, {"i": 40 * day}},
			keep: []string{"a", "b", "c", "d", "e", "f", "g", "h"}, packsAfter: 1},
		{name: "a stale half", packs: []map[string]time.Duration{{"old": cacheMaxAge + day, "new": day}},
			keep: []string{"new"}, packsAfter: 1},
		{name: "stale but used", packs: []map[string]time.Duration{{"old": cacheMaxAge + day, "new": day}},
			used: []string{"old"}, keep: []string{"new", "old"}, packsAfter: 1},
		{name: "one stale record of many", packs: []map[string]time.Duration{{"old": cacheMaxAge + day, "a": day, "b": day, "c": day, "d": day}},
			keep: []string{"a", "b", "c", "d", "old"}, packsAfter: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, cacheLayout)
			writeFiles(t, parent, map[string]string{
				cacheLayout + "/.tmp-crash": "x", cacheLayout + "/.tmp-now": "x", "modules-v1/ab/cdef": "an entry of an older devserve",
			})
			if err := os.Chtimes(filepath.Join(dir, ".tmp-crash"), now.Add(-2*time.Hour), now.Add(-2*time.Hour)); err != nil {
				t.Fatal(err)
			}
			for _, recs := range tc.packs {
				f, err := newPack(dir, binaryTag(""))
				if err != nil {
					t.Fatal(err)
				}
				size := int64(len(packMagic))
				for key, age := range recs {
					if _, size, err = writeRecords(f, 0, size, map[string][]byte{key: []byte("payload of " + key)}, now.Add(-age).UnixNano()); err != nil {
						t.Fatal(err)
					}
				}
				f.Close()
			}
			open := func() *diskCache {
				c := &diskCache{dir: dir, log: slog.New(slog.DiscardHandler), index: map[string]packRec{}}
				c.load()
				return c
			}
			c := open()
			for _, key := range tc.used {
				if _, _, ok := c.get(key); !ok {
					t.Fatalf("no %s before pruning", key)
				}
			}
			c.prune(now)
			for _, f := range c.packs {
				f.Close()
			}
			after := open()
			defer func() {
				for _, f := range after.packs {
					f.Close()
				}
			}()
			var kept []string
			for key := range after.index {
				if payload, _, ok := after.get(key); !ok || string(payload) != "payload of "+key {
					t.Errorf("%s: %q, %v after pruning", key, payload, ok)
				}
				kept = append(kept, key)
			}
			slices.Sort(kept)
			if !slices.Equal(kept, tc.keep) || len(after.packs) != tc.packsAfter {
				t.Errorf("kept %q in %d packs, want %q in %d", kept, len(after.packs), tc.keep, tc.packsAfter)
			}
			for name, want := range map[string]bool{cacheLayout + "/.tmp-crash": false, cacheLayout + "/.tmp-now": true, "modules-v1": false} {
				if _, err := os.Stat(filepath.Join(parent, name)); (err == nil) != want {
					t.Errorf("%s: kept %v, want %v", name, err == nil, want)
				}
			}
		})
	}
}

// TestCachePacksOfOtherBinaries: a run reads only its binary's packs; its
// prune removes another binary's with that binary's mark, and at once
// those of an older devserve, which named its packs without a binary.
func TestCachePacksOfOtherBinaries(t *testing.T) {
	dir := t.TempDir()
	pack := func(tag, key string) string {
		f, err := newPack(dir, tag)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, _, err := writeRecords(f, 0, int64(len(packMagic)), map[string][]byte{key: []byte("payload")}, time.Now().UnixNano()); err != nil {
			t.Fatal(err)
		}
		return f.Name()
	}
	own := pack(binaryTag("this"), "own")
	inUse := pack(binaryTag("in use"), "in use")
	gone := pack(binaryTag("gone"), "gone")
	older := filepath.Join(dir, "123456"+packExt)
	if err := os.Rename(pack("", "older"), older); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, map[string]string{markName("this"): "", markName("in use"): ""})

	c := &diskCache{dir: dir, binary: "this", log: slog.New(slog.DiscardHandler), index: map[string]packRec{}}
	c.load()
	defer func() {
		for _, f := range c.packs {
			f.Close()
		}
	}()
	if keys := slices.Sorted(maps.Keys(c.index)); !slices.Equal(keys, []string{"own"}) {
		t.Errorf("the run read the records %q, want its own binary's", keys)
	}
	c.prune(time.Now())
	for p, want := range map[string]bool{own: true, inUse: true, gone: false, older: false} {
		if _, err := os.Stat(p); (err == nil) != want {
			t.Errorf("%s: kept %v, want %v", filepath.Base(p), err == nil, want)
		}
	}
}

// TestCacheRefresh restarts a React project with Fast Refresh: the second
// start compiles nothing and serves the registrations a start without the
// cache makes; turning Fast Refresh off, or a tsconfig that the Fast
// Refresh transform reads, compiles the modules again.
func TestCacheRefresh(t *testing.T) {
	files := withReactStubs(map[string]string{
		"index.html": `<script type="module" src="/main.jsx"></script>`,
		"main.jsx":   "import App from './App.tsx';\nconsole.log(<App />);\n",
		"App.tsx":    "import { useState } from 'react';\nexport default function App(): JSX.Element {\n  const [n] = useState<number>(0);\n  return <p>{n}</p>;\n}\n",
	})
	project := []string{"App.tsx", "main.jsx"}
	for _, tc := range []struct {
		name   string
		change map[string]string
		opts   Options
		want   []string
	}{
		{name: "nothing changed"},
		{name: "Fast Refresh off", opts: Options{BuildOptions: BuildOptions{NoReactRefresh: true}}, want: project},
		{name: "a tsconfig", change: map[string]string{"tsconfig.json": `{"compilerOptions": {"jsx": "react-jsx"}}`}, want: project},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeOld(t, root, files)
			dir := filepath.Join(t.TempDir(), "cache")
			first := startOnce(t, root, dir, Options{})
			if !strings.Contains(first.served, `$RefreshReg$(_c, "/App.tsx App")`) {
				t.Fatalf("no Fast Refresh:\n%s", first.served)
			}
			writeOld(t, root, tc.change)
			second := startOnce(t, root, dir, tc.opts)
			var compiled []string
			for _, f := range second.compiled {
				if !strings.HasPrefix(f, "node_modules/") {
					compiled = append(compiled, f)
				}
			}
			if !slices.Equal(compiled, tc.want) {
				t.Errorf("second start compiled %q of the project, want %q", compiled, tc.want)
			}
			if fresh := startOnce(t, root, "", tc.opts); second.served != fresh.served {
				t.Errorf("second start serves\n%s\nwhile a start without the cache serves\n%s", second.served, fresh.served)
			}
		})
	}
}

// TestCacheWarm: a cache is warm once this binary wrote modules to it, and
// cold without one, on a first start, when only another binary wrote to
// it (its keys never match) and when its packs are gone.
func TestCacheWarm(t *testing.T) {
	tests := []struct {
		name   string
		noDir  bool
		starts int
		change func(t *testing.T, dir string)
		want   bool
	}{
		{name: "no cache", noDir: true, starts: 1},
		{name: "first start"},
		{name: "restart", starts: 1, want: true},
		{name: "another binary's", starts: 1, change: func(t *testing.T, dir string) {
			marks, _ := filepath.Glob(filepath.Join(dir, cacheLayout, markPrefix+"*"))
			if len(marks) != 1 {
				t.Fatalf("marks %q, want one", marks)
			}
			if err := os.Rename(marks[0], filepath.Join(dir, cacheLayout, markPrefix+"0123456789abcdef")); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "packs removed", starts: 1, change: func(t *testing.T, dir string) {
			packs, _ := filepath.Glob(filepath.Join(dir, cacheLayout, "*"+packExt))
			for _, p := range packs {
				os.Remove(p)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeOld(t, root, cacheProject)
			dir := filepath.Join(t.TempDir(), "cache")
			if tc.noDir {
				dir = ""
			}
			for range tc.starts {
				startOnce(t, root, dir, Options{})
			}
			if tc.change != nil {
				tc.change(t, dir)
			}
			b, err := New(Options{Root: root, Modules: true, BuildOptions: BuildOptions{CacheDir: dir}})
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			if got := b.CacheWarm(); got != tc.want {
				t.Errorf("CacheWarm() = %v, want %v", got, tc.want)
			}
			if got := CacheWarmAt(dir); got != tc.want {
				t.Errorf("CacheWarmAt(%q) = %v, want %v", dir, got, tc.want)
			}
		})
	}
}
