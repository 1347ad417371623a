package bundler

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// This file is the persistent cache of module mode (BuildOptions.CacheDir): the
// compiled modules of one run, on disk, for the next run on the same
// project to take instead of compiling them again. A cold start compiles
// every module alone, and esbuild's cost per module compiled alone is most
// of a cold start; a restart on a project served before reads them back.
//
// An entry is found by a key that hashes everything that decides a
// module's compile before its imports are resolved: the module's id and
// file, whether it is an entry, its file's content, the package.json and
// tsconfig files esbuild reads for it (configKey), every option that
// reaches esbuild, the base URL, Fast Refresh's setup, and the binary
// itself (its Go build ID, which covers devserve's and esbuild's code). An
// entry also records what the compile saw that the key cannot name: every
// import it resolved, with what the module plugin answered (the files and
// ids that the code names), and the content of every other file compiled
// into it (a CSS module, a file imported with ?raw). On a restart each of
// those imports is resolved again and each file hashed again; an entry is
// used only when all are the same, so a new file that shadows an import,
// a package upgraded in node_modules or a changed tsconfig path makes it a
// miss, never a stale module.
//
// Files are written to a temporary name and renamed into place, and carry
// their length and a SHA-256 of their payload: two runs on one project
// write the same entries harmlessly, a crash leaves at most a temporary
// file, and a torn or corrupt entry is a miss that the next compile
// writes again. A file that changed since its build began (its mtime is
// not older than the build) is not written: the compile may have read
// either version. Entries not used for 30 days, temporary files and the
// oldest entries past cacheMaxBytes are pruned once per run.

// cacheLayout names the entries' folder under BuildOptions.CacheDir; a new
// layout or format gets a new name.
const cacheLayout = "modules-v1"

// cacheMagic starts every entry file, before the payload's length and
// hash.
const cacheMagic = "devserve-module\n"

// Limits of the cache on disk.
const (
	cacheMaxBytes = 512 << 20           // pruned to 3/4 of this, oldest first
	cacheMaxAge   = 30 * 24 * time.Hour // an entry unused this long goes
	cacheTouch    = 24 * time.Hour      // a hit renews an entry at most this often
	cachePruneIn  = 5 * time.Second     // after New: prune when the cold start is over
	// cacheRacy is how close to the start of a compile a file's mtime
	// may be for the entry to be written: a file changed during the
	// compile may have been read in either version.
	cacheRacy = 100 * time.Millisecond
)

// NoCache as BuildOptions.CacheDir turns the persistent cache off where a
// caller would otherwise pick a folder for it (hmr.New does).
const NoCache = "off"

// DefaultCacheDir is where a dev server keeps the module cache of the
// project at root, where users look for such caches: node_modules/.cache/
// devserve when root has a node_modules folder of its own (Vite keeps
// node_modules/.vite, Babel and others node_modules/.cache), else the
// user's cache folder (os.UserCacheDir) under devserve/ and a hash of the
// root. A node_modules that is a symbolic link belongs to another folder,
// which other projects may share, so it is not written into.
func DefaultCacheDir(root string) (string, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return "", fmt.Errorf("cache folder of %s: %w", root, err)
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	if fi, err := os.Lstat(filepath.Join(abs, "node_modules")); err == nil && fi.IsDir() {
		return filepath.Join(abs, "node_modules", ".cache", "devserve"), nil
	}
	user, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("cache folder of %s: %w", root, err)
	}
	sum := sha256.Sum256([]byte(abs))
	return filepath.Join(user, "devserve", hex.EncodeToString(sum[:8])), nil
}

// diskCache is the module cache in one folder. Its writer goroutine writes
// the entries put, and prunes once; close stops it after the writes
// queued.
type diskCache struct {
	dir    string // BuildOptions.CacheDir/cacheLayout
	binary string // the binary's identity; see binaryID
	log    *slog.Logger

	mu      sync.Mutex
	pending map[string][]byte // key -> entry to write
	closed  bool
	kick    chan struct{} // a write is pending, or close was called
	done    chan struct{} // closed when the writer has ended

	broken atomic.Bool // a write failed: no more writes this run

	// Counts, for tests and the debug log.
	hits, misses, writes atomic.Int64
}

// openCache opens the cache in dir, or returns nil (no cache) when dir is
// "" or NoCache, or with a warning when it cannot be written to or the
// binary cannot be told apart from another.
func openCache(dir string, log *slog.Logger) *diskCache {
	if dir == "" || dir == NoCache {
		return nil
	}
	off := func(err error) *diskCache {
		log.Warn("the module cache is off: " + err.Error())
		return nil
	}
	id, err := binaryID()
	if err != nil {
		return off(err)
	}
	c := &diskCache{dir: filepath.Join(dir, cacheLayout), binary: id, log: log,
		pending: map[string][]byte{}, kick: make(chan struct{}, 1), done: make(chan struct{})}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return off(err)
	}
	probe, err := os.CreateTemp(c.dir, ".tmp-*")
	if err != nil {
		return off(fmt.Errorf("cannot write to %s: %w", dir, err))
	}
	probe.Close()
	os.Remove(probe.Name())
	go c.run()
	return c
}

// binaryID names the running binary's code: its Go build ID (a hash of
// everything it was built from, esbuild included), else a hash of the
// file; with the Go and esbuild versions, which the build ID covers too.
func binaryID() (string, error) {
	var id []string
	if bi, ok := debug.ReadBuildInfo(); ok {
		id = append(id, bi.GoVersion, bi.Main.Path, bi.Main.Version)
		for _, d := range bi.Deps {
			if d.Path == "github.com/evanw/esbuild" {
				id = append(id, "esbuild "+d.Version+" "+d.Sum)
			}
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("no path to the running binary: %w", err)
	}
	if f, err := elf.Open(exe); err == nil {
		note := f.Section(".note.go.buildid")
		var data []byte
		if note != nil {
			data, _ = note.Data()
		}
		f.Close()
		// namesz, descsz, type, "Go\x00\x00", the ID.
		if len(data) > 16 && string(data[12:16]) == "Go\x00\x00" {
			if n := binary.LittleEndian.Uint32(data[4:8]); n > 0 && int(16+n) <= len(data) {
				return strings.Join(append(id, "buildid "+string(data[16:16+n])), "\n"), nil
			}
		}
	}
	f, err := os.Open(exe)
	if err != nil {
		return "", fmt.Errorf("read the running binary: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read the running binary: %w", err)
	}
	return strings.Join(append(id, "sha256 "+hex.EncodeToString(h.Sum(nil))), "\n"), nil
}

// path is where the entry of key lives.
func (c *diskCache) path(key string) string {
	return filepath.Join(c.dir, key[:2], key[2:])
}

// get returns the payload of key's entry, or false when there is none or
// it is not whole.
func (c *diskCache) get(key string) ([]byte, bool) {
	c.mu.Lock()
	data, ok := c.pending[key]
	c.mu.Unlock()
	if ok {
		return data, true
	}
	f, err := os.Open(c.path(key))
	if err != nil {
		return nil, false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() < int64(len(cacheMagic)+8+sha256.Size) || fi.Size() > 1<<31 {
		return nil, false
	}
	raw := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, raw); err != nil {
		return nil, false
	}
	payload, ok := unframe(raw)
	if !ok {
		c.log.Debug("bundler: a module cache entry is damaged; compiling again", "file", c.path(key))
		return nil, false
	}
	if time.Since(fi.ModTime()) > cacheTouch {
		now := time.Now()
		_ = os.Chtimes(c.path(key), now, now) // used: pruned last
	}
	return payload, true
}

// frame wraps a payload as an entry file: magic, length, SHA-256, payload.
func frame(payload []byte) []byte {
	out := make([]byte, 0, len(cacheMagic)+8+sha256.Size+len(payload))
	out = append(out, cacheMagic...)
	out = binary.LittleEndian.AppendUint64(out, uint64(len(payload)))
	sum := sha256.Sum256(payload)
	out = append(out, sum[:]...)
	return append(out, payload...)
}

// unframe checks an entry file and returns its payload.
func unframe(raw []byte) ([]byte, bool) {
	rest, ok := bytes.CutPrefix(raw, []byte(cacheMagic))
	if !ok || len(rest) < 8+sha256.Size {
		return nil, false
	}
	n := binary.LittleEndian.Uint64(rest)
	sum, payload := rest[8:8+sha256.Size], rest[8+sha256.Size:]
	if uint64(len(payload)) != n {
		return nil, false
	}
	if got := sha256.Sum256(payload); !bytes.Equal(got[:], sum) {
		return nil, false
	}
	return payload, true
}

// put queues the entry of key for the writer.
func (c *diskCache) put(key string, payload []byte) {
	if c.broken.Load() {
		return
	}
	c.mu.Lock()
	if !c.closed {
		c.pending[key] = payload
	}
	c.mu.Unlock()
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// cacheWriters is how many files the writer writes at once: most of a
// write is waiting on the file system.
const cacheWriters = 4

// run is the writer: it writes what put queued, cacheWriters at a time,
// prunes once a while after the start, and ends when close was called and
// nothing is queued.
func (c *diskCache) run() {
	defer close(c.done)
	prune := time.NewTimer(cachePruneIn)
	defer prune.Stop()
	made := map[string]bool{} // folders made this run
	var madeMu sync.Mutex
	for {
		select {
		case <-c.kick:
		case <-prune.C:
			c.prune(time.Now())
			continue
		}
		for {
			c.mu.Lock()
			batch := make(map[string][]byte, len(c.pending))
			for key, data := range c.pending {
				batch[key] = data
			}
			closed := c.closed
			c.mu.Unlock()
			if len(batch) == 0 {
				if closed {
					return
				}
				break
			}
			keys := slices.Collect(maps.Keys(batch))
			var wg sync.WaitGroup
			next := make(chan string)
			for range min(cacheWriters, len(keys)) {
				wg.Go(func() {
					for key := range next {
						if c.broken.Load() {
							continue
						}
						sub := filepath.Dir(c.path(key))
						madeMu.Lock()
						ok := made[sub]
						madeMu.Unlock()
						if !ok && os.MkdirAll(sub, 0o755) == nil {
							madeMu.Lock()
							made[sub] = true
							madeMu.Unlock()
						}
						c.write(key, batch[key])
					}
				})
			}
			for _, key := range keys {
				next <- key
			}
			close(next)
			wg.Wait()
			c.mu.Lock()
			for _, key := range keys {
				if bytes.Equal(c.pending[key], batch[key]) {
					delete(c.pending, key)
				}
			}
			if len(c.pending) == 0 {
				// A map keeps its size: a cold start's entries would
				// hold on to room for all of them (issue #14).
				c.pending = map[string][]byte{}
			}
			c.mu.Unlock()
		}
	}
}

// write writes one entry (its folder made): to a temporary file beside
// it, then renamed into place, so that a reader sees a whole entry or
// none.
func (c *diskCache) write(key string, payload []byte) {
	dst := c.path(key)
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".tmp-*")
	if err == nil {
		_, err = tmp.Write(frame(payload))
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp.Name(), dst)
		}
		if err != nil {
			os.Remove(tmp.Name())
		}
	}
	if err != nil {
		if !c.broken.Swap(true) {
			c.log.Warn("the module cache is off for this run: " + err.Error())
		}
		return
	}
	c.writes.Add(1)
}

// close writes what is queued and stops the writer.
func (c *diskCache) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	select {
	case c.kick <- struct{}{}:
	default:
	}
	<-c.done
}

// prune removes entries unused for cacheMaxAge, temporary files an hour
// old (a crash's), and the oldest entries while the rest weigh more than
// cacheMaxBytes, down to three quarters of it. Another run may prune at
// the same time: whatever one removes, the other no longer finds.
func (c *diskCache) prune(now time.Time) {
	type file struct {
		path string
		size int64
		mod  time.Time
	}
	var files []file
	var total int64
	subs, _ := os.ReadDir(c.dir)
	for _, sub := range subs {
		if !sub.IsDir() {
			continue
		}
		ents, _ := os.ReadDir(filepath.Join(c.dir, sub.Name()))
		for _, e := range ents {
			fi, err := e.Info()
			if err != nil || !fi.Mode().IsRegular() {
				continue
			}
			p := filepath.Join(c.dir, sub.Name(), e.Name())
			age := now.Sub(fi.ModTime())
			if (strings.HasPrefix(e.Name(), ".tmp-") && age > time.Hour) || age > cacheMaxAge {
				os.Remove(p)
				continue
			}
			files = append(files, file{p, fi.Size(), fi.ModTime()})
			total += fi.Size()
		}
	}
	if total <= cacheMaxBytes {
		return
	}
	slices.SortFunc(files, func(a, b file) int { return a.mod.Compare(b.mod) })
	for _, f := range files {
		if total <= cacheMaxBytes/4*3 {
			break
		}
		os.Remove(f.path)
		total -= f.size
	}
}

// configs hashes the package.json and tsconfig files esbuild reads for the
// files of a folder, once per folder for a Build's cache work.
type configs struct {
	mu   sync.Mutex
	dirs map[string]*configDir
}

// configDir is what configs found for a folder.
type configDir struct {
	pkg     string   // hash of the nearest package.json, path and content
	pkgFile string   // that file
	ts      string   // hash of every tsconfig file in the folder and above
	tsFiles []string // those files, and those they extend
}

// key returns the hash of the config files that the compile of a file in
// dir depends on, and those files: the nearest package.json (its "type",
// its "browser" field) and, outside node_modules (esbuild ignores
// tsconfig files there), every tsconfig.json and jsconfig.json in dir and
// above it, with the files they extend (esbuild takes the nearest; the
// Fast Refresh transform the nearest tsconfig.json). Hashing all of them
// only costs a miss more when a far one changes.
func (c *configs) key(dir string) (string, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := c.dir(dir)
	var files []string
	if d.pkgFile != "" {
		files = append(files, d.pkgFile)
	}
	if strings.Contains(filepath.ToSlash(dir)+"/", "/node_modules/") {
		return d.pkg, files
	}
	return d.pkg + d.ts, append(files, d.tsFiles...)
}

// dir computes the configDir of dir and its parents. Called with mu held.
func (c *configs) dir(dir string) *configDir {
	if d := c.dirs[dir]; d != nil {
		return d
	}
	if c.dirs == nil {
		c.dirs = map[string]*configDir{}
	}
	d := &configDir{}
	h := sha256.New()
	if up := filepath.Dir(dir); up != dir {
		parent := c.dir(up)
		d.pkg, d.pkgFile, d.tsFiles = parent.pkg, parent.pkgFile, slices.Clip(parent.tsFiles)
		h.Write([]byte(parent.ts))
	}
	if data, err := os.ReadFile(filepath.Join(dir, "package.json")); err == nil {
		sum := sha256.Sum256(append([]byte(dir+"\x00"), data...))
		d.pkg, d.pkgFile = hex.EncodeToString(sum[:]), filepath.Join(dir, "package.json")
	}
	for _, name := range []string{"tsconfig.json", "jsconfig.json"} {
		d.tsFiles = hashTsconfig(h, filepath.Join(dir, name), d.tsFiles, 0)
	}
	d.ts = hex.EncodeToString(h.Sum(nil))
	c.dirs[dir] = d
	return d
}

// hashTsconfig writes the content of the tsconfig file p (a marker when it
// does not exist) and of the files it extends into h, and returns files
// with the ones read.
func hashTsconfig(h io.Writer, p string, files []string, depth int) []string {
	data, err := os.ReadFile(p)
	if err != nil {
		return files
	}
	fmt.Fprintf(h, "%s\x00%d\x00", p, len(data))
	h.Write(data)
	files = append(files, p)
	if depth > 8 {
		return files
	}
	var ts struct {
		Extends json.RawMessage `json:"extends"`
	}
	_ = json.Unmarshal(jsonc(data), &ts)
	var exts []string
	if json.Unmarshal(ts.Extends, &exts) != nil {
		var one string
		if json.Unmarshal(ts.Extends, &one) == nil && one != "" {
			exts = []string{one}
		}
	}
	dir := filepath.Dir(p)
	for _, ext := range exts {
		fmt.Fprintf(h, "extends %q\x00", ext)
		var cands []string
		if strings.HasPrefix(ext, ".") || filepath.IsAbs(ext) {
			q := ext
			if !filepath.IsAbs(q) {
				q = filepath.Join(dir, filepath.FromSlash(ext))
			}
			cands = []string{q, q + ".json"}
		} else {
			// A package's config: every place Node's lookup may find it,
			// and the package's package.json, which an upgrade changes.
			name := ext
			if parts := strings.SplitN(ext, "/", 3); strings.HasPrefix(ext, "@") && len(parts) > 1 {
				name = parts[0] + "/" + parts[1]
			} else {
				name = parts[0]
			}
			for d := dir; ; d = filepath.Dir(d) {
				q := filepath.Join(d, "node_modules", filepath.FromSlash(ext))
				cands = append(cands, q, q+".json", filepath.Join(q, "tsconfig.json"),
					filepath.Join(d, "node_modules", filepath.FromSlash(name), "package.json"))
				if filepath.Dir(d) == d {
					break
				}
			}
		}
		for _, q := range cands {
			if fi, err := os.Stat(q); err == nil && fi.Mode().IsRegular() {
				files = hashTsconfig(h, q, files, depth+1)
			}
		}
	}
	return files
}

// cacheKeys is what the cache work of one compileAll shares: the options'
// key, the config files by folder, and when it began.
type cacheKeys struct {
	opts    string
	configs configs
	start   time.Time
}

// newCacheKeys starts the cache work of a compile; nil without a cache.
func (b *Bundler) newCacheKeys() *cacheKeys {
	if b.cache == nil {
		return nil
	}
	k := &cacheKeys{start: time.Now()}
	o := b.base
	o.Plugins = nil // functions; their code is the binary's
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n%#v\n%q %q %q\n%v %q %q\n", cacheLayout, b.cache.binary, runtime.GOOS,
		o, b.root, b.rootAs, b.urlBase, b.browserField, b.refresh.name, b.refresh.files)
	if o.Tsconfig != "" {
		hashTsconfig(h, o.Tsconfig, nil, 0) // for every file of the project
	}
	k.opts = hex.EncodeToString(h.Sum(nil))
	return k
}

// unitKey is the key of u's entry, from the content of its file: false
// when the file cannot be read (its compile says why).
func (b *Bundler) unitKey(k *cacheKeys, u unit) (string, bool) {
	data, err := os.ReadFile(b.abs(u))
	if err != nil {
		return "", false
	}
	cfg, _ := k.configs.key(filepath.Dir(b.abs(u)))
	entry := !u.dep && slices.Contains(b.graph.entries, u.file)
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%q\x00%q\x00%v\x00%v\x00%s\x00%d\x00", k.opts, u.id, u.file, u.dep, entry, cfg, len(data))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil)), true
}
