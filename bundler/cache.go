package bundler

import (
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
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
// Entries live in pack files (cachepack.go): each run appends the entries
// it compiles to one pack of its own, so a cold start writes one file, not
// one per module (creating a file costs more than compiling a small
// module). Every record carries a SHA-256 of its key, time and payload:
// two runs on one project write packs of their own harmlessly, a crash
// leaves at most a torn last record, which reads as missing, and a corrupt
// record is a miss that the next compile writes again. A file that changed
// since its build began (its mtime is not older than the build) is not
// written: the compile may have read either version. Once per run, when
// there are too many packs, too many bytes or too many records unused for
// 30 days, the records in use are compacted into one new pack.

// cacheLayout names the entries' folder under BuildOptions.CacheDir; a new
// layout or format gets a new name. Older layouts are removed by prune.
const cacheLayout = "modules-v2"

// Limits of the cache on disk.
const (
	cacheMaxBytes = 512 << 20           // compacted to 3/4 of this, oldest first
	cacheMaxAge   = 30 * 24 * time.Hour // an entry unused this long goes
	cacheMaxPacks = 8                   // more packs than this are compacted
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

// CacheWarm reports whether the module cache held modules this binary
// compiled when New opened it: false without a cache (or outside module
// mode), on a first start and after an upgrade of devserve, whose keys
// differ. A dev server serves its first pages bundled when it is cold
// (hmr.Options.BundleFirst), rather than keep them waiting while every
// module compiles alone.
func (b *Bundler) CacheWarm() bool {
	return b.cache != nil && b.cache.warm
}

// CacheWarmAt reports, without opening it, whether the module cache in
// dir (a BuildOptions.CacheDir) holds modules this binary compiled, as
// CacheWarm would after New: for a caller that must know before the first
// build, such as one that picks the garbage collector's pace for it.
func CacheWarmAt(dir string) bool {
	if dir == "" || dir == NoCache {
		return false
	}
	id, err := binaryID()
	if err != nil {
		return false
	}
	dir = filepath.Join(dir, cacheLayout)
	_, err = os.Stat(filepath.Join(dir, markName(id)))
	return err == nil && len(packsOf(dir, binaryTag(id))) > 0
}
