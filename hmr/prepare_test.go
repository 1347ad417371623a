package hmr

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/devserve/devserve/internal/ssetest"
)

// TestPreparedSavesNeverStale: saves of a module and of the CSS module it
// compiles in, at paces that land in the watcher's quiet window, just
// after it, and between builds, each written in place (truncated, then
// written: noticed twice), end with the server serving what is on the
// disk. The server compiles a noticed save ahead of its build
// (prepare.go), and a build takes that compile only where it is what the
// build would compile.
func TestPreparedSavesNeverStale(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, s := range map[string]string{
		"index.html":   `<script type="module" src="/main.js"></script>`,
		"main.js":      "import { text } from './a.js';\nconsole.log(text);\n",
		"a.js":         aModule(0),
		"a.module.css": ".a { color: rgb(0, 0, 0); }\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ts := startServer(t, dir, "127.0.0.1:0", Options{})
	rng := rand.New(rand.NewPCG(1, 2))
	paces := []time.Duration{0, 500 * time.Microsecond, 2 * time.Millisecond, 20 * time.Millisecond}
	save, color := 0, 0
	for round := range 5 {
		for range 12 {
			save++
			ts.write(t, "a.js", aModule(save))
			if rng.IntN(4) == 0 {
				color++
				ts.write(t, "a.module.css", fmt.Sprintf(".a { color: rgb(%d, 0, 0); }\n", color))
			}
			time.Sleep(paces[rng.IntN(len(paces))]) // the pace of the saves, not a wait for the server
		}
		ts.waitServed(t, fmt.Sprintf("round %d", round), fmt.Sprintf(`"save %d"`, save), fmt.Sprintf("rgb(%d, 0, 0)", color))
	}
}

// aModule is a.js at its ith save: its text, and its CSS module's class.
func aModule(i int) string {
	return fmt.Sprintf("import s from './a.module.css';\nexport const text = \"save %d\" + s.a;\n", i)
}

var styleHref = regexp.MustCompile(`\.style\("([^"]+)"\)`)

// waitServed waits, report by report, until the entry /main.js holds js
// and the stylesheet its modules link holds css.
func (ts *testServer) waitServed(t *testing.T, what, js, css string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, script := ssetest.Request(t, ts.http, "GET", "/main.js")
		sheet := ""
		if m := styleHref.FindStringSubmatch(script); m != nil {
			_, sheet = ssetest.Request(t, ts.http, "GET", m[1])
		}
		if strings.Contains(script, js) && strings.Contains(sheet, css) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: the server serves\n%s\n%s\nwant %s and %s, as on the disk", what, script, sheet, js, css)
		}
		ts.nextReport(t)
	}
}
