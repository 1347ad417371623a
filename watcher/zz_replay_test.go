package watcher

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"strings"
)

func TestZZReplay(t *testing.T) {
	seed := uint64(1)
	root := t.TempDir()
	tree(t, root, "a/b/c.js", "a/d.js", "e/f/g/h.js", "i.js")
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
	n := 0
	log := func(f string, a ...any) { t.Logf("%d: "+f, append([]any{n}, a...)...) }
	op := func() {
		n++
		switch r.IntN(9) {
		case 0:
			p := pick(true) + "/" + name() + ".js"
			log("write new %s %v", p, os.WriteFile(abs(p), content(), 0o644))
		case 1:
			p := pick(false)
			log("write %s %v", p, os.WriteFile(abs(p), content(), 0o644))
		case 2:
			p := pick(false)
			log("rm %s %v", p, os.Remove(abs(p)))
		case 3:
			p := pick(true) + "/" + name() + "/" + name()
			os.MkdirAll(abs(p), 0o755)
			log("mkdir -p %s + x.js %v", p, os.WriteFile(abs(p+"/x.js"), content(), 0o644))
		case 4:
			if d := pick(true); d != "." {
				log("rm -rf %s %v", d, os.RemoveAll(abs(d)))
			}
		case 5:
			if d := pick(true); d != "." {
				to := pick(true) + "/" + name()
				log("mv %s %s %v", d, to, os.Rename(abs(d), abs(to)))
			}
		case 6:
			f := pick(false)
			os.WriteFile(abs(f+".tmp"), content(), 0o644)
			log("atomic %s %v", f, os.Rename(abs(f+".tmp"), abs(f)))
		case 7:
			out := filepath.Join(t.TempDir(), "out")
			if d := pick(true); d != "." {
				err := os.Rename(abs(d), out)
				log("mv %s OUT %v", d, err)
				if err == nil && r.IntN(2) == 0 {
					nm := name()
					log("mv OUT %s %v", nm, os.Rename(out, abs(nm)))
				}
			}
		case 8:
			p := pick(true) + "/" + name() + "/" + name()
			os.MkdirAll(abs(p), 0o755)
			if d := pick(true); d != "." {
				log("mkdir -p %s; mv %s %s/x %v", p, d, p, "")
				nm := name()
				log("   -> mv %s %s %v", d, p+"/"+nm, os.Rename(abs(d), abs(p+"/"+nm)))
			}
		}
	}
	for range 12 {
		held := false
		run := func() {
			for range 10 {
				op()
			}
		}
		if r.IntN(2) == 0 {
			held = true
		}
		t.Logf("---- chunk held=%v", held)
		run()
	}
	var ps []string
	for p := range snapshot(t, root) {
		if p == "n3" || strings.HasPrefix(p, "n3/") {
			ps = append(ps, p)
		}
	}
	slices.Sort(ps)
	for _, p := range ps {
		t.Log("FINAL", p)
	}
}
