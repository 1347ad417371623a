package watcher

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// benchModes runs a benchmark watching with inotify and polling.
func benchModes(b *testing.B, poll time.Duration, f func(b *testing.B, opts Options)) {
	b.Run("inotify", func(b *testing.B) { f(b, Options{}) })
	b.Run("poll", func(b *testing.B) { f(b, Options{Poll: poll}) })
}

// BenchmarkSetup20k measures New on a tree of 20,000 files in 2,000
// folders: the time and memory it takes to be ready.
func BenchmarkSetup20k(b *testing.B) {
	root := b.TempDir()
	for i := range 40 {
		for j := range 50 {
			dir := filepath.Join(root, fmt.Sprintf("pkg%02d", i))
			if j > 0 {
				dir = filepath.Join(dir, fmt.Sprintf("mod%02d", j))
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				b.Fatal(err)
			}
			for k := range 10 {
				if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("file%d.js", k)), []byte("x"), 0o644); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	benchModes(b, time.Hour, func(b *testing.B, opts Options) {
		b.ReportAllocs()
		for b.Loop() {
			w, err := New(root, opts)
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if w.Polling() != (opts.Poll > 0) {
				b.Fatal("fell back to polling")
			}
			w.Close()
			b.StartTimer()
		}
	})
}

// BenchmarkWriteToBatch measures the latency from writing a file to
// receiving its batch.
func BenchmarkWriteToBatch(b *testing.B) {
	benchModes(b, 100*time.Millisecond, func(b *testing.B, opts Options) {
		root := b.TempDir()
		w, err := New(root, opts)
		if err != nil {
			b.Fatal(err)
		}
		defer w.Close()
		n := 0
		var total time.Duration
		for b.Loop() {
			// A pause as between two saves of a person: each write is
			// a lone save, not part of a stream.
			time.Sleep(defaultMaxWait + 10*time.Millisecond)
			n++
			start := time.Now()
			if err := os.WriteFile(filepath.Join(root, "app.js"), []byte(fmt.Sprint(n)), 0o644); err != nil {
				b.Fatal(err)
			}
			select {
			case <-w.Batches():
			case <-time.After(5 * time.Second):
				b.Fatal("no batch")
			}
			total += time.Since(start)
		}
		b.ReportMetric(float64(total.Microseconds())/1000/float64(n), "ms/op")
	})
}

// BenchmarkCheckoutBurst writes 1,000 files into 20 new folders as fast as
// it can, as a git checkout does, while a receiver takes batches as a server
// would, and counts the batches the files arrive in. With the default
// MaxWait of 100ms, a burst that lasts longer than that (on a slow disk)
// is cut into one batch per 100ms by design; "tmpfs" shows the watcher
// without the disk in the way.
func BenchmarkCheckoutBurst(b *testing.B) {
	b.Run("disk", func(b *testing.B) { benchCheckout(b, b.TempDir()) })
	b.Run("tmpfs", func(b *testing.B) {
		dir, err := os.MkdirTemp("/dev/shm", "watcher-bench-")
		if err != nil {
			b.Skip("no /dev/shm:", err)
		}
		defer os.RemoveAll(dir)
		benchCheckout(b, dir)
	})
}

func benchCheckout(b *testing.B, root string) {
	w, err := New(root, Options{})
	if err != nil {
		b.Fatal(err)
	}
	received := make(chan []Change, 1000)
	go func() {
		defer close(received)
		for batch := range w.Batches() {
			received <- batch
		}
	}()
	defer func() {
		w.Close()
		for range received {
		}
	}()

	batches, n := 0, 0
	var writing time.Duration
	for b.Loop() {
		n++
		start := time.Now()
		want := map[string]bool{}
		for i := range 1000 {
			dir := fmt.Sprintf("checkout%d/pkg%02d", n, i%20)
			if i < 20 {
				if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
					b.Fatal(err)
				}
			}
			p := fmt.Sprintf("%s/file%03d.js", dir, i)
			if err := os.WriteFile(filepath.Join(root, p), []byte(p), 0o644); err != nil {
				b.Fatal(err)
			}
			want[p] = true
		}
		writing += time.Since(start)
		for len(want) > 0 {
			select {
			case batch := <-received:
				batches++
				for _, c := range batch {
					delete(want, c.Path)
				}
			case <-time.After(5 * time.Second):
				b.Fatalf("%d files never reported", len(want))
			}
		}
		// A straggler (the last file's write after its creation) counts.
		b.StopTimer()
		select {
		case <-received:
			batches++
		case <-time.After(300 * time.Millisecond):
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(batches)/float64(n), "batches/op")
	b.ReportMetric(float64(writing.Microseconds())/1000/float64(n), "write-ms/op")
}
