package watcher

import (
	"fmt"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestRandomOps does random things to a tree, live, and checks the one
// property that holds however the machine's timing cuts them into batches:
// the batches, folded, take the tree from how it was to how it is. It also
// checks that the watcher knows exactly the paths on disk, and watches
// exactly the folders among them.
func TestRandomOps(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, opts Options) {
		for seed := range uint64(2) {
			randomOps(t, opts, seed)
		}
	})
}

func randomOps(t *testing.T, opts Options, seed uint64) {
	root := t.TempDir()
	tree(t, root, "a/b/c.js", "a/d.js", "e/f/g/h.js", "i.js")
	before := snapshot(t, root)
	opts.Quiet = 5 * time.Millisecond // many batches: folding across them is part of the test
	w := start(t, root, opts)
	received := make(chan []Change, 10000)
	go func() {
		defer close(received)
		for b := range w.Batches() {
			received <- b
		}
	}()

	r := rand.New(rand.NewPCG(seed, 1))
	pick := func(dir bool) string {
		var c []string
		for p := range snapshot(t, root) {
			if info, err := os.Lstat(filepath.Join(root, p)); err == nil && info.IsDir() == dir {
				c = append(c, p)
			}
		}
		if len(c) == 0 && dir {
			return "."
		}
		if len(c) == 0 {
			return "none.js"
		}
		slices.Sort(c)
		return c[r.IntN(len(c))]
	}
	name := func() string { return fmt.Sprintf("n%d", r.IntN(8)) }
	abs := func(rel string) string { return filepath.Join(root, filepath.FromSlash(rel)) }
	content := func() []byte { return fmt.Append(nil, r.Int()) }
	// Errors are ignored: a random rename may meet a folder that is not
	// empty, a random path may be a folder; whatever happens, happens.
	op := func() {
		switch r.IntN(9) {
		case 0: // a new file
			os.WriteFile(abs(pick(true)+"/"+name()+".js"), content(), 0o644)
		case 1: // a write
			os.WriteFile(abs(pick(false)), content(), 0o644)
		case 2: // rm
			os.Remove(abs(pick(false)))
		case 3: // mkdir -p with a file inside
			p := pick(true) + "/" + name() + "/" + name()
			os.MkdirAll(abs(p), 0o755)
			os.WriteFile(abs(p+"/x.js"), content(), 0o644)
		case 4: // rm -rf
			if d := pick(true); d != "." {
				os.RemoveAll(abs(d))
			}
		case 5: // mv a folder
			if d := pick(true); d != "." {
				os.Rename(abs(d), abs(pick(true)+"/"+name()))
			}
		case 6: // an atomic save
			f := pick(false)
			os.WriteFile(abs(f+".tmp"), content(), 0o644)
			os.Rename(abs(f+".tmp"), abs(f))
		case 8: // mkdir -p a new folder, and mv a folder into it
			p := pick(true) + "/" + name() + "/" + name()
			os.MkdirAll(abs(p), 0o755)
			if d := pick(true); d != "." {
				os.Rename(abs(d), abs(p+"/"+name()))
			}
		case 7: // mv a folder out, and maybe back in under another name
			out := filepath.Join(t.TempDir(), "out")
			if d := pick(true); d != "." && os.Rename(abs(d), out) == nil && r.IntN(2) == 0 {
				os.Rename(out, abs(name()))
			}
		}
	}
	// Some runs of operations happen while the watcher is held: then its
	// listings of new folders run ahead of the events it has yet to handle.
	for range 12 {
		run := func() {
			for range 10 {
				op()
			}
		}
		if r.IntN(2) == 0 {
			act(t, w, run)
		} else {
			run()
		}
	}
	// Events come in order, and a poll that sees the sentinel sees the
	// rest: once it is reported, everything before it is.
	write(t, root, "sentinel", "x")
	after := snapshot(t, root)

	folded := batch{}
	for done := false; !done; {
		select {
		case b := <-received:
			for _, c := range b {
				folded.note(c.Path, c.Op != Created, c.Op != Removed)
				done = done || c.Path == "sentinel"
			}
		case <-time.After(wait):
			t.Fatalf("seed %d: no sentinel", seed)
		}
	}
	all := maps.Clone(before)
	maps.Copy(all, after)
	for p := range folded {
		all[p] = true
	}
	var bad []string
	for p := range all {
		got, want := folded[p].op(), Op(0)
		switch {
		case before[p] && after[p]:
			want = Changed // or nothing
			if got == 0 {
				want = 0
			}
		case before[p]:
			want = Removed
		case after[p]:
			want = Created
		}
		if got != want {
			bad = append(bad, fmt.Sprintf("%s: got %v, want %v", p, got, want))
		}
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		t.Fatalf("seed %d:\n%s", seed, strings.Join(bad, "\n"))
	}

	act(t, w, func() { // the watcher's state is the test's while it is held
		known := map[string]bool{}
		var dirs []string
		for dir, kids := range w.dirs {
			for n := range kids {
				known[join(dir, n)] = true
			}
			dirs = append(dirs, cmp(dir, "."))
		}
		if !maps.Equal(known, after) {
			t.Errorf("seed %d: the watcher knows %d paths, the disk has %d", seed, len(known), len(after))
		}
		slices.Sort(dirs)
		if opts.Poll == 0 {
			if got := watched(t, w, root); !slices.Equal(got, dirs) {
				t.Errorf("seed %d: watched %v, want %v", seed, got, dirs)
			}
		}
	})
}

// cmp returns s, or def if s is empty.
func cmp(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// snapshot returns every path under root, relative to it, but for ignored
// names.
func snapshot(t *testing.T, root string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		if builtin(d.Name()) {
			return fs.SkipDir // act's fences, in the root
		}
		rel, err := filepath.Rel(root, p)
		out[filepath.ToSlash(rel)] = true
		return err
	})
	must(t, err)
	return out
}
