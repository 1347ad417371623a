package bundler

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"maps"
	"math/bits"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// This file stores the module cache's entries in pack files: each run of a
// Bundler appends the entries it compiles to one pack of its own, and
// reads entries from every pack that was there when it started.
//
// A pack is packMagic followed by records, each
//
//	uvarint  len(key), key
//	uint64   used: when a run last used the entry (Unix nanoseconds)
//	uint64   len(payload)
//	[32]byte SHA-256 of the above and the payload
//	payload
//
// in little endian. A pack is only ever appended to, by its one run; a
// run that reads a pack another run is still appending to sees its last
// record torn, which is a miss. A record is checked against its hash when
// it is read, so a damaged one is a miss too.

// packMagic starts every pack file.
const packMagic = "devserve-pack-1\n"

// packExt ends the name of every pack file.
const packExt = ".pack"

// packHead is the most a record's head (everything before the payload)
// can take: a key's length, a key of at most 255 bytes, used, the
// payload's length and the hash.
const packHead = binary.MaxVarintLen64 + 255 + 8 + 8 + sha256.Size

// packRec is where a record is: in which pack (of diskCache.packs), at
// which offset its payload starts, how long it is, when it was last used
// and whether this run used it. It is small: a restart indexes every
// module (20,000 records are 2.5 MB less than with the hash and a second
// map for fresh). Its hash is checked against the one in the pack.
type packRec struct {
	off   int64
	used  int64
	n     int32
	pack  int32
	fresh bool
}

// diskCache is the module cache in one folder. Its writer goroutine writes
// the entries put to the run's own pack and prunes once; close stops it
// after the writes queued.
type diskCache struct {
	dir    string // BuildOptions.CacheDir/cacheLayout
	binary string // the binary's identity; see binaryID
	log    *slog.Logger

	mu      sync.Mutex
	index   map[string]packRec // every record readable, by key
	packs   []*os.File         // every pack opened (only appended to), closed by close
	pending map[string]queued  // key -> entry to write
	closed  bool
	kick    chan struct{} // a write is pending, or close was called
	done    chan struct{} // closed when the writer has ended

	// The run's own pack, appended to by the writer only.
	own     *os.File
	ownPack int32 // its index in packs
	ownSize int64

	broken atomic.Bool // a write failed: no more writes this run

	// warm: when the cache was opened, it held records and this binary
	// had written some of them (its mark, see markName, was there).
	warm bool

	// Counts, for tests and the debug log.
	hits, misses, writes atomic.Int64
	// wroteHook, when set (by a test, before the first put), is called
	// after each batch the writer wrote.
	wroteHook func()
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
		index: map[string]packRec{}, pending: map[string]queued{},
		kick: make(chan struct{}, 1), done: make(chan struct{})}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return off(err)
	}
	probe, err := os.CreateTemp(c.dir, ".tmp-*")
	if err != nil {
		return off(fmt.Errorf("cannot write to %s: %w", dir, err))
	}
	probe.Close()
	os.Remove(probe.Name())
	c.load()
	mark := filepath.Join(c.dir, markName(c.binary))
	_, err = os.Stat(mark)
	if c.warm = err == nil && len(c.index) > 0; c.warm {
		now := time.Now()
		os.Chtimes(mark, now, now) // in use: another binary's prune keeps its packs
	}
	go c.run()
	return c
}

// markName is the name of the empty file that says this binary wrote to
// the cache, touched by each run that writes to it or finds it warm;
// prune removes it, and the binary's packs, once unused for cacheMaxAge.
// A key covers the binary, so the records of another devserve are
// misses: a cache that holds only those is as cold as an empty one.
func markName(binary string) string {
	return markPrefix + binaryTag(binary)
}

// binaryTag names a binary in the cache's folder: its mark, and the start
// of the name of every pack it writes (packsOf). A run reads only its own
// binary's packs, whose keys may match: another's, left by an upgrade,
// would only cost each start the time to scan them (42 MB at 20,000
// modules). They go with their binary's mark (prune).
func binaryTag(binary string) string {
	sum := sha256.Sum256([]byte(binary))
	return fmt.Sprintf("%x", sum[:8])
}

// packsOf returns the packs of the binary named tag in dir.
func packsOf(dir, tag string) []string {
	names, _ := filepath.Glob(filepath.Join(dir, tag+"-*"+packExt))
	return names
}

// markPrefix starts the name of every binary's mark.
const markPrefix = "binary-"

// load indexes the records of every pack in the folder. Of two records of
// one key, the one written last counts: a key does not cover what the
// module's imports resolve to, so a record compiled again after its
// imports changed must win over the one it replaces.
func (c *diskCache) load() {
	for _, name := range packsOf(c.dir, binaryTag(c.binary)) {
		f, err := os.Open(name)
		if err != nil {
			continue
		}
		c.packs = append(c.packs, f)
		if err := scanPack(f, int32(len(c.packs)-1), func(key string, r packRec) {
			if old, ok := c.index[key]; !ok || old.used <= r.used {
				c.index[key] = r
			}
		}); err != nil {
			c.log.Debug("bundler: a module cache pack ends early", "file", name, "err", err)
		}
	}
}

// scanPack calls found for every whole record head of the pack f, in
// order, and returns why it stopped before the end, if it did: a torn or
// damaged record, after which nothing can be trusted to be a head.
func scanPack(f *os.File, pack int32, found func(key string, r packRec)) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	br := bufio.NewReaderSize(f, 64<<10)
	magic := make([]byte, len(packMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != packMagic {
		return errors.New("not a pack")
	}
	off := int64(len(packMagic))
	for off < fi.Size() {
		kn, err := binary.ReadUvarint(br)
		if err != nil || kn == 0 || kn > 255 {
			return fmt.Errorf("record at %d: bad key", off)
		}
		head := make([]byte, kn+8+8+sha256.Size)
		if _, err := io.ReadFull(br, head); err != nil {
			return fmt.Errorf("record at %d: %w", off, err)
		}
		key := string(head[:kn])
		n := binary.LittleEndian.Uint64(head[kn+8:])
		r := packRec{pack: pack, used: int64(binary.LittleEndian.Uint64(head[kn:])), n: int32(n)}
		r.off = off + int64(recordHeadLen(int(kn)))
		if n > 1<<30 || r.off+int64(n) > fi.Size() {
			return fmt.Errorf("record at %d: torn", off)
		}
		if _, err := br.Discard(int(r.n)); err != nil {
			return fmt.Errorf("record at %d: %w", off, err)
		}
		found(key, r)
		off = r.off + int64(r.n)
	}
	return nil
}

// recordHeadLen is the length of a record's head for a key of keyLen
// bytes: as recordHead writes it.
func recordHeadLen(keyLen int) int {
	return (bits.Len64(uint64(keyLen)|1)+6)/7 + keyLen + 8 + 8 + sha256.Size
}

// recordHead is a record's head for key, used and a payload.
func recordHead(key string, used int64, payload []byte) []byte {
	h := binary.AppendUvarint(make([]byte, 0, packHead), uint64(len(key)))
	h = append(h, key...)
	h = binary.LittleEndian.AppendUint64(h, uint64(used))
	h = binary.LittleEndian.AppendUint64(h, uint64(len(payload)))
	sum := recordSum(h, payload)
	return append(h, sum[:]...)
}

// recordSum is the hash of a record: its head up to the hash, and its
// payload.
func recordSum(head, payload []byte) [sha256.Size]byte {
	h := sha256.New()
	h.Write(head)
	h.Write(payload)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// read returns the payload of the record r of key in the pack f, or
// false when it cannot be read or does not match its head and hash.
func (r packRec) read(f *os.File, key string) ([]byte, bool) {
	headLen := recordHeadLen(len(key))
	rec := make([]byte, headLen+int(r.n))
	if _, err := f.ReadAt(rec, r.off-int64(headLen)); err != nil {
		return nil, false
	}
	payload := rec[headLen:]
	if string(recordHead(key, r.used, payload)) != string(rec[:headLen]) {
		return nil, false
	}
	return payload, true
}

// get returns the payload of key's entry and its record, or false when
// there is none or it is not whole. The record is the zero packRec (n is
// 0) for an entry still queued for the writer.
func (c *diskCache) get(key string) ([]byte, packRec, bool) {
	c.mu.Lock()
	q, ok := c.pending[key]
	data := q.payload
	r, found := c.index[key]
	var f *os.File
	if found {
		f = c.packs[r.pack]
	}
	c.mu.Unlock()
	if ok {
		return data, packRec{}, true
	}
	if !found {
		return nil, packRec{}, false
	}
	payload, ok := r.read(f, key)
	if !ok {
		c.log.Debug("bundler: a module cache entry is damaged; compiling again", "file", f.Name(), "offset", r.off)
		return nil, packRec{}, false
	}
	c.mu.Lock()
	if r, ok := c.index[key]; ok {
		r.fresh = true
		c.index[key] = r
	}
	c.mu.Unlock()
	return payload, r, true
}

// packedMap is where a module's source map is in the module cache: n
// bytes at off in one of the packs, with their CRC-32C. Only DevTools and
// the error overlay ask for a map, so a module leaves its map there once
// the cache has it rather than holding it: maps are nearly half of what a
// module holds, 10 MB of RSS at 20,000 modules (issue #14).
type packedMap struct {
	c    *diskCache
	off  int64
	n    int32
	pack int32
	sum  uint32
}

// castagnoli is the CRC-32C table of packedMap's sums.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// packedAt is where the n bytes at off in the payload of rec are.
func (c *diskCache) packedAt(payload []byte, off, n int, rec packRec) *packedMap {
	return &packedMap{c: c, off: rec.off + int64(off), n: int32(n), pack: rec.pack, sum: crc32.Checksum(payload[off:off+n], castagnoli)}
}

// sourceMap returns the source map of a module read from payload: the n
// bytes at off, where they are in the pack when payload is rec's, or a
// copy when it is an entry still queued (rec.n is 0); nil for none.
func (c *diskCache) sourceMap(payload []byte, off, n int, rec packRec) *mapRef {
	switch {
	case n == 0:
		return nil
	case rec.n == 0:
		return newMapRef(bytes.Clone(payload[off : off+n]))
	}
	r := &mapRef{}
	r.cur.Store(&mapAt{packed: c.packedAt(payload, off, n, rec)})
	return r
}

// read reads the map from its pack: nil once the cache is closed, or when
// the bytes are not the ones that were written.
func (p *packedMap) read() []byte {
	p.c.mu.Lock()
	var f *os.File
	if int(p.pack) < len(p.c.packs) {
		f = p.c.packs[p.pack]
	}
	p.c.mu.Unlock()
	if f == nil {
		return nil
	}
	sm := make([]byte, p.n)
	if _, err := f.ReadAt(sm, p.off); err != nil || crc32.Checksum(sm, castagnoli) != p.sum {
		p.c.log.Debug("bundler: a source map in the module cache cannot be read", "file", f.Name(), "offset", p.off, "err", err)
		return nil
	}
	return sm
}

// queued is an entry put for the writer: its payload and, when the
// module's source map is in it (mapLen bytes at mapOff), the module's
// hold on the map, which moves to the pack once the entry is written.
type queued struct {
	payload        []byte
	sm             *mapRef
	mapOff, mapLen int
}

// put queues the entry of key for the writer.
func (c *diskCache) put(key string, q queued) {
	if c.broken.Load() {
		return
	}
	c.mu.Lock()
	if !c.closed {
		c.pending[key] = q
	}
	c.mu.Unlock()
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// run is the writer: it appends what put queued to the run's pack, prunes
// once a while after the start, and ends when close was called and
// nothing is queued.
func (c *diskCache) run() {
	defer close(c.done)
	prune := time.NewTimer(cachePruneIn)
	defer prune.Stop()
	for {
		select {
		case <-c.kick:
		case <-prune.C:
			c.prune(time.Now())
			continue
		}
		for {
			c.mu.Lock()
			batch := maps.Clone(c.pending)
			closed := c.closed
			c.mu.Unlock()
			if len(batch) == 0 {
				if closed {
					return
				}
				break
			}
			var recs map[string]packRec
			if !c.broken.Load() {
				var err error
				if recs, err = c.writeBatch(batch, time.Now()); err != nil && !c.broken.Swap(true) {
					c.log.Warn("the module cache is off for this run: " + err.Error())
				}
			}
			// The modules' maps are in the pack now.
			for key, r := range recs {
				if q := batch[key]; q.sm != nil {
					q.sm.cur.Store(&mapAt{packed: c.packedAt(q.payload, q.mapOff, q.mapLen, r)})
				}
			}
			if c.wroteHook != nil {
				c.wroteHook()
			}
			c.mu.Lock()
			for key, q := range batch {
				if string(c.pending[key].payload) == string(q.payload) {
					delete(c.pending, key)
				}
			}
			if len(c.pending) == 0 {
				// A map keeps its size: a cold start's entries would
				// hold on to room for all of them (issue #14).
				c.pending = map[string]queued{}
			}
			c.mu.Unlock()
		}
	}
}

// writeBatch writes batch's entries to the run's pack, making it first if
// need be, indexes them and returns their records.
func (c *diskCache) writeBatch(batch map[string]queued, now time.Time) (map[string]packRec, error) {
	if c.own == nil {
		// The mark first: another binary's prune removes a pack whose
		// binary has none.
		if err := os.WriteFile(filepath.Join(c.dir, markName(c.binary)), nil, 0o644); err != nil {
			return nil, err
		}
		f, err := newPack(c.dir, binaryTag(c.binary))
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		c.packs = append(c.packs, f)
		c.own, c.ownPack, c.ownSize = f, int32(len(c.packs)-1), int64(len(packMagic))
		c.mu.Unlock()
	}
	payloads := make(map[string][]byte, len(batch))
	for key, q := range batch {
		payloads[key] = q.payload
	}
	recs, size, err := writeRecords(c.own, c.ownPack, c.ownSize, payloads, now.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", c.own.Name(), err)
	}
	c.ownSize = size
	c.mu.Lock()
	for key, r := range recs {
		r.fresh = true
		c.index[key] = r
	}
	c.mu.Unlock()
	c.writes.Add(int64(len(recs)))
	return recs, nil
}

// newPack creates an empty pack of the binary named tag in dir, open for
// reading and appending.
func newPack(dir, tag string) (*os.File, error) {
	f, err := os.CreateTemp(dir, tag+"-*"+packExt)
	if err != nil {
		return nil, err
	}
	if _, err := f.WriteString(packMagic); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return f, nil
}

// writeRecords appends a record for each entry of batch to the pack f,
// which is size bytes long, with used as their time, and returns the
// records and the pack's new size.
func writeRecords(f *os.File, pack int32, size int64, batch map[string][]byte, used int64) (map[string]packRec, int64, error) {
	w := bufio.NewWriterSize(f, 256<<10)
	recs := make(map[string]packRec, len(batch))
	for _, key := range slices.Sorted(maps.Keys(batch)) {
		payload := batch[key]
		head := recordHead(key, used, payload)
		w.Write(head)
		w.Write(payload)
		r := packRec{pack: pack, off: size + int64(len(head)), n: int32(len(payload)), used: used}
		recs[key] = r
		size = r.off + int64(r.n)
	}
	if err := w.Flush(); err != nil { // a bufio.Writer keeps its first error
		return nil, 0, err
	}
	return recs, size, nil
}

// close writes what is queued, stops the writer and closes the packs.
func (c *diskCache) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	select {
	case c.kick <- struct{}{}:
	default:
	}
	<-c.done
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, f := range c.packs {
		f.Close()
	}
	c.packs = nil
}

// prune removes older layouts of the cache and temporary files an hour
// old (a crash's), and compacts the packs when they are more than
// cacheMaxPacks, weigh more than cacheMaxBytes, or a quarter of their
// bytes are records unused for cacheMaxAge: the records in use (read or
// written by this run, or used within cacheMaxAge), newest first and at
// most 3/4 of cacheMaxBytes, go to one new pack, and the packs this run
// knows are removed. Another run may prune at the same time: whatever one
// removes, the other no longer finds, and a pack removed while a run reads
// it stays readable to that run where the OS allows it (Linux and macOS),
// else that run compiles what it no longer finds.
func (c *diskCache) prune(now time.Time) {
	parent := filepath.Dir(c.dir)
	layouts, _ := filepath.Glob(filepath.Join(parent, "modules-v*"))
	for _, dir := range layouts {
		if dir != c.dir {
			os.RemoveAll(dir)
		}
	}
	tmps, _ := filepath.Glob(filepath.Join(c.dir, ".tmp-*"))
	for _, p := range tmps {
		if fi, err := os.Stat(p); err == nil && now.Sub(fi.ModTime()) > time.Hour {
			os.Remove(p)
		}
	}
	marks, _ := filepath.Glob(filepath.Join(c.dir, markPrefix+"*"))
	for _, p := range marks {
		if fi, err := os.Stat(p); err == nil && now.Sub(fi.ModTime()) > cacheMaxAge {
			os.Remove(p)
		}
	}
	// Another binary's packs go with its mark (an older devserve's, named
	// before packs had their binary's tag, at once): no run reads them.
	packs, _ := filepath.Glob(filepath.Join(c.dir, "*"+packExt))
	own := binaryTag(c.binary)
	for _, p := range packs {
		tag, _, ok := strings.Cut(filepath.Base(p), "-")
		if ok && tag == own {
			continue
		}
		if _, err := os.Stat(filepath.Join(c.dir, markPrefix+tag)); ok && err == nil {
			continue
		}
		os.Remove(p)
	}

	type live struct {
		key  string
		r    packRec
		f    *os.File
		used int64 // r.used, or now if this run used it
	}
	c.mu.Lock()
	npacks := len(c.packs)
	var total, stale int64
	recs := make([]live, 0, len(c.index))
	for key, r := range c.index {
		l := live{key, r, c.packs[r.pack], r.used}
		if r.fresh {
			l.used = now.UnixNano()
		}
		total += int64(r.n)
		if now.Sub(time.Unix(0, l.used)) > cacheMaxAge {
			stale += int64(r.n)
			continue
		}
		recs = append(recs, l)
	}
	c.mu.Unlock()
	if npacks <= cacheMaxPacks && total <= cacheMaxBytes && stale <= total/4 {
		return
	}

	// Newest first, to 3/4 of the limit.
	slices.SortFunc(recs, func(a, b live) int { return cmp.Or(cmp.Compare(b.used, a.used), strings.Compare(a.key, b.key)) })
	var kept int64
	for i, l := range recs {
		if kept += int64(l.r.n); kept > cacheMaxBytes/4*3 {
			recs = recs[:i]
			break
		}
	}
	f, err := newPack(c.dir, binaryTag(c.binary))
	if err != nil {
		c.log.Debug("bundler: module cache not compacted", "err", err)
		return
	}
	c.mu.Lock()
	olds := c.packs
	c.packs = append(c.packs, f)
	pack := int32(len(c.packs) - 1)
	c.mu.Unlock()
	byTime := map[int64]map[string][]byte{}
	fresh := map[string]bool{}
	for _, l := range recs {
		payload, ok := l.r.read(l.f, l.key)
		if !ok {
			continue
		}
		if byTime[l.used] == nil {
			byTime[l.used] = map[string][]byte{}
		}
		byTime[l.used][l.key] = payload
		fresh[l.key] = l.r.fresh
	}
	size := int64(len(packMagic))
	index := map[string]packRec{}
	for used, batch := range byTime {
		got, n, err := writeRecords(f, pack, size, batch, used)
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			c.log.Debug("bundler: module cache not compacted", "err", err)
			return
		}
		for key, r := range got {
			r.fresh = fresh[key]
			index[key] = r
		}
		size = n
	}
	c.mu.Lock()
	c.index = index
	c.mu.Unlock()
	c.own, c.ownPack, c.ownSize = f, pack, size
	for _, old := range olds {
		os.Remove(old.Name())
	}
}
