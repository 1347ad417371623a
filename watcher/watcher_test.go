package watcher

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// wait bounds every wait for something that must happen.
const wait = 5 * time.Second

// testOptions are generous with time, so that a test machine's hiccup cannot
// split what the test does into two batches. Quiet and MaxWait themselves
// are tested with their own settings.
func testOptions() Options {
	return Options{Quiet: 50 * time.Millisecond, MaxWait: 2 * time.Second}
}

// modes runs a test once watching with inotify and once polling: both must
// produce the same batches.
func modes(t *testing.T, f func(t *testing.T, opts Options)) {
	t.Run("inotify", func(t *testing.T) {
		t.Parallel()
		f(t, testOptions())
	})
	t.Run("poll", func(t *testing.T) {
		t.Parallel()
		opts := testOptions()
		opts.Poll = 10 * time.Millisecond
		f(t, opts)
	})
}

func start(t *testing.T, root string, opts Options) *Watcher {
	t.Helper()
	return startWith(t, root, opts, hooks{})
}

func startWith(t *testing.T, root string, opts Options, h hooks) *Watcher {
	t.Helper()
	h.hold = make(chan hold)
	w, err := newWatcher(root, opts, h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := w.Close(); err != nil {
			t.Error(err)
		}
	})
	return w
}

// act runs f while the watcher is held, so that everything f does reaches
// the watcher at once, as one burst, however slowly the test machine runs
// f: a test that expects one batch must not depend on the machine's speed.
// (Tests of bursts as they come, live, expect no exact batches.) Watching
// inotify, it then makes a fence, a folder the watcher ignores, and releases
// the watcher once the watcher has read the fence's event, and so every
// event of f (see held); not if f removed the root or put another folder in
// its place, whose events the watcher does not get.
func act(t *testing.T, w *Watcher, f func()) {
	t.Helper()
	before, _ := os.Stat(w.root)
	h := hold{
		fence:   filepath.Join(w.root, ".fence-"+rand.Text()+"~"),
		fenced:  make(chan struct{}),
		release: make(chan struct{}),
	}
	defer close(h.release)
	select {
	case w.hooks.hold <- h:
	case <-time.After(wait):
		t.Fatal("watcher busy")
	}
	f()
	if after, err := os.Stat(w.root); before == nil || err != nil || !os.SameFile(before, after) {
		return
	}
	must(t, os.Mkdir(h.fence, 0o755))
	select {
	case <-h.fenced:
	case <-time.After(wait):
		t.Fatal("the fence's event never came")
	}
}

// next returns the next batch, failing the test if none comes in time.
func next(t *testing.T, w *Watcher, timeout time.Duration) []Change {
	t.Helper()
	select {
	case b, ok := <-w.Batches():
		if !ok {
			t.Fatal("Batches closed")
		}
		return b
	case <-time.After(timeout):
		t.Fatalf("no batch within %s", timeout)
	}
	return nil
}

// nextErr returns the next error, failing the test if none comes in time.
func nextErr(t *testing.T, w *Watcher) error {
	t.Helper()
	select {
	case err := <-w.Errors():
		return err
	case <-time.After(wait):
		t.Fatal("no error")
	}
	return nil
}

// expect fails the test unless the next batch is want.
func expect(t *testing.T, w *Watcher, want ...Change) {
	t.Helper()
	if got := next(t, w, wait); !slices.Equal(got, want) {
		t.Fatalf("batch:\n got %v\nwant %v", got, want)
	}
}

// sentinel writes a file nobody ignores and expects it, alone, in the next
// batch: proof that nothing done before it was reported.
func sentinel(t *testing.T, w *Watcher, root string) {
	t.Helper()
	name := fmt.Sprintf("sentinel-%d", time.Now().UnixNano())
	act(t, w, func() { write(t, root, name, "x") })
	expect(t, w, Change{name, Created})
}

func write(t *testing.T, root, rel, content string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mkdir(t *testing.T, root, rel string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(root, filepath.FromSlash(rel)), 0o755); err != nil {
		t.Fatal(err)
	}
}

// tree creates folders (names ending in "/") and files under root.
func tree(t *testing.T, root string, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if dir, ok := strings.CutSuffix(p, "/"); ok {
			mkdir(t, root, dir)
			continue
		}
		mkdir(t, root, filepath.Dir(p))
		write(t, root, p, p)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func changes(op Op, paths ...string) []Change {
	out := make([]Change, len(paths))
	for i, p := range paths {
		out[i] = Change{p, op}
	}
	return out
}

// watched returns the watched folders relative to root, sorted.
func watched(t *testing.T, w *Watcher, root string) []string {
	t.Helper()
	var out []string
	for _, p := range w.fs.WatchList() {
		rel, err := filepath.Rel(root, p)
		must(t, err)
		out = append(out, filepath.ToSlash(rel))
	}
	slices.Sort(out)
	return out
}

func TestOpString(t *testing.T) {
	for op, want := range map[Op]string{Created: "created", Changed: "changed", Removed: "removed", 0: "Op(0)"} {
		if got := op.String(); got != want {
			t.Errorf("Op(%d).String() = %q, want %q", int(op), got, want)
		}
	}
}

func TestNewFails(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "file", "x")
	for _, tc := range []struct {
		name string
		root string
		opts Options
		want string
	}{
		{"missing root", filepath.Join(dir, "missing"), Options{}, "no such file"},
		{"root is a file", filepath.Join(dir, "file"), Options{}, "not a directory"},
		{"bad pattern", dir, Options{Ignore: []string{"[a"}}, "syntax error"},
		{"trailing slash", dir, Options{Ignore: []string{"dist/"}}, "trailing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := New(tc.root, tc.opts)
			if err == nil {
				w.Close()
				t.Fatal("New succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "watch ") {
				t.Fatalf("error %q: want it to start with \"watch \" and contain %q", err, tc.want)
			}
		})
	}
}

func TestBatchFold(t *testing.T) {
	type step struct{ before, now bool }
	var (
		create = step{false, true}
		change = step{true, true}
		remove = step{true, false}
		// Events after the first only say whether the path exists now.
		thenCreate = step{false, true}
		thenRemove = step{true, false}
	)
	for _, tc := range []struct {
		name  string
		steps []step
		want  Op
	}{
		{"created", []step{create}, Created},
		{"changed", []step{change}, Changed},
		{"removed", []step{remove}, Removed},
		{"created, removed", []step{create, thenRemove}, 0},
		{"removed, created", []step{remove, thenCreate}, Changed},
		{"created, changed", []step{create, change}, Created},
		{"changed, removed", []step{change, thenRemove}, Removed},
		{"removed, created, removed", []step{remove, thenCreate, thenRemove}, Removed},
		{"created, removed, created", []step{create, thenRemove, thenCreate}, Created},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Every way of cutting the steps into a sealed batch and a
			// later one must fold the same.
			for cut := range len(tc.steps) + 1 {
				b, later := batch{}, batch{}
				for i, s := range tc.steps {
					if i < cut {
						b.note("p", s.before, s.now)
					} else {
						later.note("p", s.before, s.now)
					}
				}
				b.merge(later)
				var want []Change
				if tc.want != 0 {
					want = []Change{{"p", tc.want}}
				}
				if got := b.changes(); !slices.Equal(got, want) {
					t.Errorf("cut at %d: got %v, want %v", cut, got, want)
				}
			}
		})
	}
}

func TestBatchSorted(t *testing.T) {
	b := batch{}
	for _, p := range []string{"b", "a/z", "a", "c", "a/b"} {
		b.note(p, false, true)
	}
	want := changes(Created, "a", "a/b", "a/z", "b", "c")
	if got := b.changes(); !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestFileLifecycle(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, opts Options) {
		root := t.TempDir()
		tree(t, root, "sub/old.js")
		w := start(t, root, opts)

		act(t, w, func() { write(t, root, "a.js", "1") })
		expect(t, w, Change{"a.js", Created})
		act(t, w, func() { write(t, root, "a.js", "22") })
		expect(t, w, Change{"a.js", Changed})
		act(t, w, func() { write(t, root, "sub/old.js", "changed") })
		expect(t, w, Change{"sub/old.js", Changed})
		act(t, w, func() { must(t, os.Remove(filepath.Join(root, "a.js"))) })
		expect(t, w, Change{"a.js", Removed})
		act(t, w, func() { must(t, os.Rename(filepath.Join(root, "sub/old.js"), filepath.Join(root, "new.js"))) })
		expect(t, w, Change{"new.js", Created}, Change{"sub/old.js", Removed})
	})
}

func TestNewFolderWithFiles(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, opts Options) {
		root := t.TempDir()
		w := start(t, root, opts)

		// mkdir -p a/b/c && echo > a/b/c/x.js: the files land before the
		// watcher can watch the folders.
		act(t, w, func() {
			mkdir(t, root, "a/b/c")
			write(t, root, "a/b/c/x.js", "x")
			write(t, root, "a/top.js", "x")
		})
		expect(t, w, changes(Created, "a", "a/b", "a/b/c", "a/b/c/x.js", "a/top.js")...)

		// The new folders are watched.
		act(t, w, func() { write(t, root, "a/b/c/y.js", "y") })
		expect(t, w, Change{"a/b/c/y.js", Created})
		if opts.Poll == 0 {
			if got, want := watched(t, w, root), []string{".", "a", "a/b", "a/b/c"}; !slices.Equal(got, want) {
				t.Errorf("watched %v, want %v", got, want)
			}
		}
	})
}

func TestFolderMovedIn(t *testing.T) {
	t.Parallel()
	// cp -r somewhere else, then mv into the tree: one event, for the
	// folder, with a whole tree inside.
	modes(t, func(t *testing.T, opts Options) {
		root, elsewhere := t.TempDir(), t.TempDir()
		w := start(t, root, opts)
		tree(t, elsewhere, "pkg/index.js", "pkg/lib/a.js", "pkg/lib/deep/b.js", "pkg/empty/")
		act(t, w, func() { must(t, os.Rename(filepath.Join(elsewhere, "pkg"), filepath.Join(root, "pkg"))) })
		expect(t, w, changes(Created, "pkg", "pkg/empty", "pkg/index.js", "pkg/lib", "pkg/lib/a.js", "pkg/lib/deep", "pkg/lib/deep/b.js")...)

		act(t, w, func() { write(t, root, "pkg/lib/deep/b.js", "changed") })
		expect(t, w, Change{"pkg/lib/deep/b.js", Changed})
	})
}

func TestFolderMovedIntoNewFolder(t *testing.T) {
	// mkdir p && mv x p/y: the listing of the new folder p finds y before
	// the event of x's move is handled, and y is the folder watched as x.
	t.Parallel()
	modes(t, func(t *testing.T, opts Options) {
		root := t.TempDir()
		tree(t, root, "x/sub/old.js")
		w := start(t, root, opts)
		act(t, w, func() {
			mkdir(t, root, "p")
			must(t, os.Rename(filepath.Join(root, "x"), filepath.Join(root, "p/y")))
		})
		expect(t, w,
			Change{"p", Created}, Change{"p/y", Created}, Change{"p/y/sub", Created}, Change{"p/y/sub/old.js", Created},
			Change{"x", Removed}, Change{"x/sub", Removed}, Change{"x/sub/old.js", Removed},
		)
		if opts.Poll == 0 {
			if got, want := watched(t, w, root), []string{".", "p", "p/y", "p/y/sub"}; !slices.Equal(got, want) {
				t.Errorf("watched %v, want %v", got, want)
			}
		}
		act(t, w, func() {
			write(t, root, "p/y/new.js", "x")
			write(t, root, "p/y/sub/old.js", "changed")
		})
		expect(t, w, Change{"p/y/new.js", Created}, Change{"p/y/sub/old.js", Changed})
	})
}

func TestFolderRemoved(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, opts Options) {
		root := t.TempDir()
		tree(t, root, "a/b/x.js", "a/y.js", "keep.js")
		w := start(t, root, opts)

		act(t, w, func() { must(t, os.RemoveAll(filepath.Join(root, "a"))) })
		expect(t, w, changes(Removed, "a", "a/b", "a/b/x.js", "a/y.js")...)
		if opts.Poll == 0 {
			if got, want := watched(t, w, root), []string{"."}; !slices.Equal(got, want) {
				t.Errorf("watched %v, want %v", got, want)
			}
		}

		// A folder of the same name is a new folder.
		act(t, w, func() { tree(t, root, "a/b/x.js") })
		expect(t, w, changes(Created, "a", "a/b", "a/b/x.js")...)
	})
}

func TestFolderMovedOut(t *testing.T) {
	t.Parallel()
	// Moving a folder out of the tree removes it, and its watches, which
	// follow the folder and would otherwise keep reporting from outside.
	modes(t, func(t *testing.T, opts Options) {
		root, elsewhere := t.TempDir(), t.TempDir()
		tree(t, root, "a/b/x.js", "a/y.js")
		w := start(t, root, opts)

		act(t, w, func() { must(t, os.Rename(filepath.Join(root, "a"), filepath.Join(elsewhere, "a"))) })
		expect(t, w, changes(Removed, "a", "a/b", "a/b/x.js", "a/y.js")...)
		if opts.Poll == 0 {
			if got, want := watched(t, w, root), []string{"."}; !slices.Equal(got, want) {
				t.Errorf("watched %v, want %v", got, want)
			}
		}
		write(t, elsewhere, "a/b/x.js", "changed outside")
		write(t, elsewhere, "a/new.js", "new outside")
		sentinel(t, w, root)
	})
}

func TestFolderRenamed(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, opts Options) {
		root := t.TempDir()
		tree(t, root, "a/b/x.js", "a/y.js")
		w := start(t, root, opts)

		act(t, w, func() { must(t, os.Rename(filepath.Join(root, "a"), filepath.Join(root, "c"))) })
		expect(t, w,
			Change{"a", Removed}, Change{"a/b", Removed}, Change{"a/b/x.js", Removed}, Change{"a/y.js", Removed},
			Change{"c", Created}, Change{"c/b", Created}, Change{"c/b/x.js", Created}, Change{"c/y.js", Created},
		)
		// Changes inside come under the new name, not the old one.
		act(t, w, func() { write(t, root, "c/b/x.js", "changed") })
		expect(t, w, Change{"c/b/x.js", Changed})
		if opts.Poll == 0 {
			if got, want := watched(t, w, root), []string{".", "c", "c/b"}; !slices.Equal(got, want) {
				t.Errorf("watched %v, want %v", got, want)
			}
		}
	})
}

func TestAtomicSave(t *testing.T) {
	t.Parallel()
	rename := func(t *testing.T, root, from, to string) {
		t.Helper()
		must(t, os.Rename(filepath.Join(root, from), filepath.Join(root, to)))
	}
	remove := func(t *testing.T, root, rel string) {
		t.Helper()
		must(t, os.Remove(filepath.Join(root, rel)))
	}
	for _, tc := range []struct {
		name string
		save func(t *testing.T, root string)
	}{
		{"temp file renamed over", func(t *testing.T, root string) {
			write(t, root, "src/.app.js.tmp123", "new content")
			rename(t, root, "src/.app.js.tmp123", "src/app.js")
		}},
		{"vim", func(t *testing.T, root string) {
			write(t, root, "src/4913", "")
			remove(t, root, "src/4913")
			rename(t, root, "src/app.js", "src/app.js~")
			write(t, root, "src/app.js", "new content")
			remove(t, root, "src/app.js~")
		}},
		{"jetbrains", func(t *testing.T, root string) {
			write(t, root, "src/app.js___jb_tmp___", "new content")
			rename(t, root, "src/app.js", "src/app.js___jb_old___")
			rename(t, root, "src/app.js___jb_tmp___", "src/app.js")
			remove(t, root, "src/app.js___jb_old___")
		}},
		{"emacs", func(t *testing.T, root string) {
			must(t, os.Symlink("user@host.1234", filepath.Join(root, "src/.#app.js")))
			write(t, root, "src/#app.js#", "autosave")
			write(t, root, "src/app.js", "new content")
			remove(t, root, "src/#app.js#")
			remove(t, root, "src/.#app.js")
		}},
		{"removed and written again", func(t *testing.T, root string) {
			remove(t, root, "src/app.js")
			write(t, root, "src/app.js", "new content")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			modes(t, func(t *testing.T, opts Options) {
				root := t.TempDir()
				tree(t, root, "src/app.js")
				w := start(t, root, opts)
				act(t, w, func() { tc.save(t, root) })
				expect(t, w, Change{"src/app.js", Changed})
			})
		})
	}
}

func TestAtomicSaveLive(t *testing.T) {
	// The same, with the watcher handling events as they come: the temp
	// file is seen, then gone. (Should the test machine stall between the
	// two steps for longer than Quiet, they make two batches; folded, they
	// must still say just that the target changed.)
	t.Parallel()
	root := t.TempDir()
	tree(t, root, "src/app.js")
	w := start(t, root, Options{Quiet: 200 * time.Millisecond, MaxWait: time.Minute})
	write(t, root, "src/.app.js.tmp123", "new content")
	must(t, os.Rename(filepath.Join(root, "src/.app.js.tmp123"), filepath.Join(root, "src/app.js")))
	folded := batch{}
	for folded["src/app.js"].op() == 0 {
		for _, c := range next(t, w, wait) {
			folded.note(c.Path, c.Op != Created, c.Op != Removed)
		}
	}
	if got, want := folded.changes(), []Change{{"src/app.js", Changed}}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestIgnore(t *testing.T) {
	t.Parallel()
	ignored := []string{
		".git/", ".git/objects/ab/", ".git/HEAD", "node_modules/react/index.js",
		"dist/app.js", "web/out/x.js", "src/deep/gen/g.js",
	}
	modes(t, func(t *testing.T, opts Options) {
		root := t.TempDir()
		tree(t, root, append(ignored, "src/deep/d.js", "web/app.js")...)
		opts.Ignore = []string{"dist", "web/out", "src/*/gen"}
		w := start(t, root, opts)

		if opts.Poll == 0 {
			// An ignored folder costs no watch.
			want := []string{".", "src", "src/deep", "web"}
			if got := watched(t, w, root); !slices.Equal(got, want) {
				t.Errorf("watched %v, want %v", got, want)
			}
		}
		for _, p := range ignored {
			if !strings.HasSuffix(p, "/") {
				write(t, root, p, "changed")
			}
		}
		tree(t, root, "node_modules/new/index.js", "dist/new/x.js", "src/deep/gen/new.js", "web/out/new/")
		for _, name := range []string{"a.swp", "a.swx", "a.js~", ".#a.js", "#a.js#", "4913", "a.js___jb_tmp___", "a.js___jb_old___"} {
			write(t, root, "src/"+name, "x")
		}
		sentinel(t, w, root)
	})
}

func TestMaxWait(t *testing.T) {
	t.Parallel()
	// With a Quiet window the writes never leave, only MaxWait can flush.
	root := t.TempDir()
	w := start(t, root, Options{Quiet: time.Hour, MaxWait: 50 * time.Millisecond})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := os.WriteFile(filepath.Join(root, "stream.log"), []byte(strings.Repeat("x", i)), 0o644); err != nil {
				t.Error(err)
				return
			}
			time.Sleep(time.Millisecond) // a steady stream, not a flood
		}
	})
	defer wg.Wait()
	defer close(stop)
	for range 2 {
		b := next(t, w, wait)
		if len(b) != 1 || b[0].Path != "stream.log" {
			t.Fatalf("batch %v", b)
		}
	}
}

// checkout writes files into new folders under src, as fast as it can, and
// returns the changes it made.
func checkout(t *testing.T, root string, files, folders int) map[string]bool {
	t.Helper()
	want := map[string]bool{}
	for i := range files {
		dir := fmt.Sprintf("src/pkg%02d", i%folders)
		if i < folders {
			mkdir(t, root, dir)
			want[dir] = true
		}
		p := fmt.Sprintf("%s/file%03d.js", dir, i)
		write(t, root, p, p)
		want[p] = true
	}
	return want
}

func TestBurst(t *testing.T) {
	t.Parallel()
	// A checkout's thousands of events are one burst: one batch. (Quiet is
	// raised further: the watcher handles the events one after the other,
	// and a starved test machine can pause it for more than 50ms.)
	root := t.TempDir()
	tree(t, root, "src/")
	w := start(t, root, Options{Quiet: 200 * time.Millisecond, MaxWait: time.Minute})
	var want map[string]bool
	act(t, w, func() { want = checkout(t, root, 1000, 20) })
	b := next(t, w, wait)
	if len(b) != len(want) {
		t.Fatalf("batch of %d changes, want %d", len(b), len(want))
	}
	for _, c := range b {
		if !want[c.Path] || c.Op != Created {
			t.Fatalf("unexpected %v", c)
		}
	}
}

func TestBurstLive(t *testing.T) {
	t.Parallel()
	// A smaller checkout, with the watcher handling events as they come and
	// a receiver taking batches as a server would: folders appear while
	// files are written into them, and not one change may be missed. How
	// many batches it takes depends on the machine's speed (the benchmark
	// measures it); it is only logged.
	root := t.TempDir()
	tree(t, root, "src/")
	w := start(t, root, Options{Quiet: 100 * time.Millisecond, MaxWait: time.Minute})
	received := make(chan []Change, 1000)
	go func() {
		defer close(received)
		for b := range w.Batches() {
			received <- b
		}
	}()
	want := checkout(t, root, 300, 10)
	seen := map[string]bool{}
	n := 0
	for ; len(seen) < len(want); n++ {
		var b []Change
		select {
		case b = <-received:
		case <-time.After(wait):
			t.Fatalf("%d of %d changes", len(seen), len(want))
		}
		for _, c := range b {
			// A file's creation and its write may straddle two batches.
			if !want[c.Path] || (c.Op != Created && !(c.Op == Changed && seen[c.Path])) {
				t.Fatalf("unexpected %v", c)
			}
			seen[c.Path] = true
		}
	}
	t.Logf("%d changes in %d batches", len(seen), n)
}

func TestSlowReceiver(t *testing.T) {
	// Bursts that end while the receiver is busy are folded into the batch
	// waiting for it.
	t.Parallel()
	root := t.TempDir()
	tree(t, root, "a.js")
	sealed := make(chan struct{}, 1)
	w := startWith(t, root, Options{}, hooks{sealed: sealed})
	ended := func() {
		t.Helper()
		select {
		case <-sealed:
		case <-time.After(wait):
			t.Fatal("the burst never ended")
		}
	}
	act(t, w, func() { write(t, root, "b.js", "b") })
	ended() // nobody receiving
	act(t, w, func() {
		must(t, os.Remove(filepath.Join(root, "b.js")))
		write(t, root, "a.js", "changed")
	})
	ended()
	expect(t, w, Change{"a.js", Changed})
}

// TestRootRemoved removes the root and brings it back. Held, the root is
// open in another process's hands (a shell's working folder, devserve's
// own when started in it): inotify then does not report its removal,
// only its files'.
func TestRootRemoved(t *testing.T) {
	t.Parallel()
	for _, held := range []bool{false, true} {
		t.Run(map[bool]string{false: "free", true: "held"}[held], func(t *testing.T) {
			t.Parallel()
			modes(t, func(t *testing.T, opts Options) {
				root := filepath.Join(t.TempDir(), "root")
				tree(t, root, "a/x.js", "y.js")
				if held {
					f, err := os.Open(root)
					must(t, err)
					t.Cleanup(func() { f.Close() })
				}
				w := start(t, root, opts)

				act(t, w, func() { must(t, os.RemoveAll(root)) })
				expect(t, w, changes(Removed, "a", "a/x.js", "y.js")...)
				if err := nextErr(t, w); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), root) {
					t.Fatalf("error %v: want fs.ErrNotExist naming the root", err)
				}

				// It comes back, with something in it.
				act(t, w, func() { tree(t, root, "b/z.js") })
				expect(t, w, changes(Created, "b", "b/z.js")...)
				act(t, w, func() { write(t, root, "b/z.js", "changed") })
				expect(t, w, Change{"b/z.js", Changed})

				if opts.Poll == 0 {
					// It stopped looking for the root.
					before := w.wakeups.Load()
					time.Sleep(2 * rootPoll)
					if n := w.wakeups.Load() - before; n != 0 {
						t.Fatalf("%d wake-ups while idle", n)
					}
				}
			})
		})
	}
}

// TestRootReplaced: the root removed and at once another folder in its
// place (rm -rf, then a restore), while it is held (see TestRootRemoved):
// the watcher watches the new folder.
func TestRootReplaced(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	root := filepath.Join(parent, "root")
	tree(t, root, "a/x.js", "y.js")
	f, err := os.Open(root)
	must(t, err)
	t.Cleanup(func() { f.Close() })
	w := start(t, root, Options{})

	act(t, w, func() {
		must(t, os.RemoveAll(root))
		tree(t, root, "a/x.js", "y.js")
	})
	// The removal, then the new folder's files as it is found.
	for !slices.Contains(next(t, w, wait), Change{"y.js", Created}) {
	}
	act(t, w, func() { write(t, root, "y.js", "changed") })
	for {
		if got := next(t, w, wait); slices.Contains(got, Change{"y.js", Changed}) {
			break
		}
	}
}

func TestRootMoved(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, opts Options) {
		parent := t.TempDir()
		root, moved := filepath.Join(parent, "root"), filepath.Join(parent, "moved")
		tree(t, root, "a/x.js")
		w := start(t, root, opts)

		act(t, w, func() { must(t, os.Rename(root, moved)) })
		expect(t, w, changes(Removed, "a", "a/x.js")...)
		nextErr(t, w)
		// The folder moved away is no longer watched.
		write(t, moved, "a/x.js", "changed")
		write(t, moved, "new.js", "new")
		mkdir(t, root, "")
		sentinel(t, w, root)
	})
}

func TestWatchLimit(t *testing.T) {
	t.Parallel()
	// The kernel cannot be made to run out of watches on demand: fail the
	// nth add the way inotify_add_watch does.
	failFrom := func(n int) hooks {
		var adds atomic.Int64
		return hooks{
			poll: 10 * time.Millisecond,
			failAdd: func(string) error {
				if adds.Add(1) >= int64(n) {
					return syscall.ENOSPC
				}
				return nil
			},
		}
	}
	checkErr := func(t *testing.T, err error) {
		t.Helper()
		if !errors.Is(err, syscall.ENOSPC) ||
			!strings.Contains(err.Error(), "fs.inotify.max_user_watches") ||
			!strings.Contains(err.Error(), "sudo sysctl fs.inotify.max_user_watches=524288") {
			t.Fatalf("error %q: want ENOSPC, naming the sysctl and how to raise it", err)
		}
	}

	t.Run("at start", func(t *testing.T) {
		t.Parallel()
		root := t.TempDir()
		tree(t, root, "a/b/c/x.js", "d/y.js")
		w := startWith(t, root, testOptions(), failFrom(3))
		if !w.Polling() {
			t.Fatal("not polling")
		}
		checkErr(t, nextErr(t, w))
		act(t, w, func() { write(t, root, "a/b/c/x.js", "changed") })
		expect(t, w, Change{"a/b/c/x.js", Changed})
		act(t, w, func() { tree(t, root, "d/e/z.js") })
		expect(t, w, changes(Created, "d/e", "d/e/z.js")...)
	})

	t.Run("later", func(t *testing.T) {
		t.Parallel()
		root := t.TempDir()
		tree(t, root, "a/x.js", "b/y.js")
		// Files the watcher was caught up with before the switch are
		// not reported; make sure these count as such.
		long := time.Now().Add(-time.Hour)
		must(t, os.Chtimes(filepath.Join(root, "a/x.js"), long, long))
		must(t, os.Chtimes(filepath.Join(root, "b/y.js"), long, long))
		w := startWith(t, root, testOptions(), failFrom(4)) // root, a and b fit
		if w.Polling() {
			t.Fatal("polling from the start")
		}
		// The new folder's watch fails; the write's event, queued behind
		// it, is lost when inotify closes: the switch must still see it.
		act(t, w, func() {
			tree(t, root, "c/d/z.js")
			write(t, root, "a/x.js", "changed")
		})
		expect(t, w, Change{"a/x.js", Changed}, Change{"c", Created}, Change{"c/d", Created}, Change{"c/d/z.js", Created})
		checkErr(t, nextErr(t, w))
		if !w.Polling() {
			t.Fatal("not polling")
		}
		act(t, w, func() { write(t, root, "b/y.js", "changed") })
		expect(t, w, Change{"b/y.js", Changed})
	})
}

func TestUnreadableFolder(t *testing.T) {
	t.Parallel()
	// Tests may run as root, which reads everything: fail the listing the
	// way a folder without read permission does.
	modes(t, func(t *testing.T, opts Options) {
		root := t.TempDir()
		tree(t, root, "locked/x.js", "open/y.js")
		locked := filepath.Join(root, "locked")
		w := startWith(t, root, opts, hooks{failRead: func(name string) error {
			if name == locked {
				return &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
			}
			return nil
		}})
		if err := nextErr(t, w); !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), locked) {
			t.Fatalf("error %v: want fs.ErrPermission naming the folder", err)
		}
		act(t, w, func() { write(t, root, "open/y.js", "changed") })
		expect(t, w, Change{"open/y.js", Changed})
		select {
		case err := <-w.Errors():
			t.Fatalf("reported again: %v", err)
		default:
		}
	})
}

func TestOverflow(t *testing.T) {
	t.Parallel()
	// The kernel's queue cannot be overflowed on demand: hand the watcher
	// the error fsnotify sends when it is.
	root := t.TempDir()
	tree(t, root, "a/x.js", "y.js")
	w := start(t, root, testOptions())
	w.fs.Errors <- fmt.Errorf("wrapped: %w", fsnotify.ErrEventOverflow)
	if err := nextErr(t, w); !errors.Is(err, fsnotify.ErrEventOverflow) {
		t.Fatalf("error %v", err)
	}
	expect(t, w, changes(Changed, "a/x.js", "y.js")...)
}

func TestSymlinks(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, opts Options) {
		root, outside := t.TempDir(), t.TempDir()
		tree(t, root, "src/a.js")
		tree(t, outside, "lib/b.js")
		must(t, os.Symlink(root, filepath.Join(root, "src/loop"))) // a loop, present from the start
		w := start(t, root, opts)

		act(t, w, func() { must(t, os.Symlink(filepath.Join(outside, "lib"), filepath.Join(root, "src/lib"))) })
		expect(t, w, Change{"src/lib", Created})
		if opts.Poll == 0 {
			if got, want := watched(t, w, root), []string{".", "src"}; !slices.Equal(got, want) {
				t.Errorf("watched %v, want %v", got, want)
			}
		}
		write(t, outside, "lib/b.js", "changed through the link")
		sentinel(t, w, root)
		act(t, w, func() { must(t, os.Remove(filepath.Join(root, "src/lib"))) })
		expect(t, w, Change{"src/lib", Removed})
	})
}

func TestSpacesAndUnicode(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, opts Options) {
		root := filepath.Join(t.TempDir(), "my project ü")
		tree(t, root, "ça va/")
		w := start(t, root, opts)
		act(t, w, func() { tree(t, root, "ça va/héllo wörld.js", "日本語 フォルダ/ファイル.css") })
		expect(t, w, changes(Created, "ça va/héllo wörld.js", "日本語 フォルダ", "日本語 フォルダ/ファイル.css")...)
		act(t, w, func() { write(t, root, "日本語 フォルダ/ファイル.css", "body{}") })
		expect(t, w, Change{"日本語 フォルダ/ファイル.css", Changed})
	})
}

func TestIdle(t *testing.T) {
	t.Parallel()
	// Watching inotify, an idle watcher does no work at all: no ticker, no
	// timer, not one wake-up.
	root := t.TempDir()
	tree(t, root, "a/x.js")
	w := start(t, root, Options{})
	act(t, w, func() { write(t, root, "a/x.js", "changed") })
	expect(t, w, Change{"a/x.js", Changed})
	before := w.wakeups.Load()
	time.Sleep(200 * time.Millisecond)
	if n := w.wakeups.Load() - before; n != 0 {
		t.Fatalf("%d wake-ups while idle", n)
	}
}

func TestClose(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, opts Options) {
		root := t.TempDir()
		w, err := New(root, opts)
		must(t, err)
		write(t, root, "pending.js", "never received")

		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				if err := w.Close(); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		must(t, w.Close())
		if _, ok := <-w.Errors(); ok {
			t.Error("Errors open after Close")
		}
		if _, ok := <-w.Batches(); ok {
			t.Error("Batches open after Close")
		}
	})
}

func TestCloseWhileHeld(t *testing.T) {
	t.Parallel()
	// A test that fails inside act leaves the watcher held: Close must
	// still stop it.
	w, err := newWatcher(t.TempDir(), Options{}, hooks{hold: make(chan hold)})
	must(t, err)
	w.hooks.hold <- hold{fenced: make(chan struct{}), release: make(chan struct{})}
	must(t, w.Close())
}

// TestHalfDoneSave: a save that truncates a file, or removes it, and then
// writes it, seen between the two, goes out as one change once the file
// has its content; a file that stays empty or removed goes out too, later.
// A save that removes the file is seen empty once more, created but not
// yet written, and waits again.
func TestHalfDoneSave(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		undo    func(path string) error // the save's first half
		created bool                    // the second half creates the file: seen empty, it waits again
		later   Op                      // what a file left so reports
	}{
		{"truncated", func(p string) error { return os.Truncate(p, 0) }, false, Changed},
		{"removed", os.Remove, true, Removed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			tree(t, root, "src/app.js", "src/left.js")
			waiting := make(chan struct{}, 1)
			w := startWith(t, root, Options{Quiet: 2 * time.Millisecond, MaxWait: time.Second}, hooks{waiting: waiting})
			app := filepath.Join(root, "src", "app.js")
			awaitWait := func(what string) {
				t.Helper()
				select {
				case <-waiting:
				case <-time.After(wait):
					t.Fatalf("the watcher never waited for the save, %s", what)
				}
			}

			must(t, tc.undo(app))
			awaitWait("its first half done")
			f, err := os.OpenFile(app, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
			must(t, err)
			if tc.created {
				awaitWait("the file created, empty")
			}
			_, err = f.WriteString("new content")
			must(t, errors.Join(err, f.Close()))
			expect(t, w, Change{"src/app.js", Changed})
			if data, err := os.ReadFile(app); err != nil || string(data) != "new content" {
				t.Errorf("the batch came with the file holding %q (%v), want its new content", data, err)
			}

			// The save's write may be read from the kernel only after the
			// batch went out (the machine is busy): it reports app.js
			// changed once more, with the same bytes.
			must(t, tc.undo(filepath.Join(root, "src", "left.js")))
			late := Change{"src/app.js", Changed}
			for {
				got := slices.DeleteFunc(next(t, w, wait), func(c Change) bool { return c == late })
				if len(got) == 0 {
					continue
				}
				if want := []Change{{"src/left.js", tc.later}}; !slices.Equal(got, want) {
					t.Fatalf("batch:\n got %v\nwant %v", got, want)
				}
				break
			}
		})
	}
}

// TestHalfDoneSaveInStream: a file emptied in a burst that MaxWait cuts
// off (another file written on and on) is waited for all the same, once:
// a busy machine can hand the watcher a save's events late, a MaxWait
// after the burst began.
func TestHalfDoneSaveInStream(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	tree(t, root, "src/app.js", "src/log.js")
	waiting := make(chan struct{}, 1)
	w := startWith(t, root, Options{Quiet: 10 * time.Millisecond, MaxWait: 20 * time.Millisecond}, hooks{waiting: waiting})
	app := filepath.Join(root, "src", "app.js")
	stop := make(chan struct{})
	streamed := make(chan struct{})
	go func() { // a tool writing a log: a change every 2 ms
		defer close(streamed)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
				os.WriteFile(filepath.Join(root, "src", "log.js"), []byte(strconv.Itoa(i)), 0o644)
			}
		}
	}()
	next(t, w, wait) // the stream's first batch: the bursts after it are cut off by MaxWait
	must(t, os.Truncate(app, 0))
	select {
	case <-waiting:
	case <-time.After(wait):
		t.Fatal("the watcher never waited for the emptied file")
	}
	close(stop)
	<-streamed
	write(t, root, "src/app.js", "new content")
	for {
		got := next(t, w, wait)
		if slices.Contains(got, Change{"src/app.js", Changed}) {
			if data, err := os.ReadFile(app); err != nil || string(data) != "new content" {
				t.Errorf("the batch came with the file holding %q (%v), want its new content", data, err)
			}
			break
		}
	}
}

// TestNoticed: Noticed hears of a saved file before its batch goes out,
// with the path the batch gives, and of no more than two paths of a
// checkout's burst; not of a file removed.
func TestNoticed(t *testing.T) {
	modes(t, func(t *testing.T, opts Options) {
		root := t.TempDir()
		tree(t, root, "src/", "src/app.tsx", "gone.js")
		noticed := make(chan string, 100)
		opts.Noticed = func(p string) { noticed <- p }
		w := start(t, root, opts)
		heard := func() []string {
			var got []string
			for {
				select {
				case p := <-noticed:
					got = append(got, p)
				default:
					return got
				}
			}
		}

		act(t, w, func() { write(t, root, "src/app.tsx", "export const App = 1;\n") })
		expect(t, w, Change{"src/app.tsx", Changed})
		// Once for each event: a write in place can be two (the file
		// truncated, then written).
		if got := slices.Compact(heard()); !slices.Equal(got, []string{"src/app.tsx"}) {
			t.Errorf("noticed %q before the save's batch, want src/app.tsx", got)
		}

		var want map[string]bool
		act(t, w, func() { want = checkout(t, root, 20, 5) })
		if b := next(t, w, wait); len(b) != len(want) {
			t.Fatalf("batch of %d changes, want %d", len(b), len(want))
		}
		if got := heard(); len(got) == 0 || len(slices.Compact(slices.Sorted(slices.Values(got)))) > 2 {
			t.Errorf("noticed %q of a checkout, want one or two paths", got)
		}

		act(t, w, func() {
			if err := os.Remove(filepath.Join(root, "gone.js")); err != nil {
				t.Fatal(err)
			}
		})
		expect(t, w, Change{"gone.js", Removed})
		if got := heard(); len(got) != 0 {
			t.Errorf("noticed %q of a removal", got)
		}
	})
}
