package hmr

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/devserve/devserve/internal/ssetest"
)

// TestWorkspaceLockfile: the project is a folder of a workspace whose
// root installs the packages and holds the lockfile; an install there
// (the package and the lockfile rewritten) builds again, and the new
// package is served, in both modes. node_modules is not watched, and the
// lockfile is above the root: without watchLockfile nothing was built.
func TestWorkspaceLockfile(t *testing.T) {
	for _, bundle := range []bool{false, true} {
		t.Run(map[bool]string{false: "modules", true: "bundled"}[bundle], func(t *testing.T) {
			top := t.TempDir()
			writeTestFile(t, top, "app/index.html", `<script type="module" src="/src/main.js"></script>`)
			writeTestFile(t, top, "app/src/main.js", "import { v } from \"pkg\";\nconsole.log(v);\n")
			writeTestFile(t, top, "node_modules/pkg/package.json", `{"name": "pkg", "main": "index.js"}`)
			writeTestFile(t, top, "node_modules/pkg/index.js", "export const v = \"pkg-v1\";\n")
			writeTestFile(t, top, "pnpm-lock.yaml", "v1\n")
			ts := startServer(t, filepath.Join(top, "app"), "127.0.0.1:0", Options{Bundle: bundle, lockfilePoll: 5 * time.Millisecond})
			st := ssetest.Open(t, ts.http, EventsPath)
			st.Start()

			writeTestFile(t, top, "node_modules/pkg/index.js", "export const v = \"pkg-v2\";\n")
			writeTestFile(t, top, "pnpm-lock.yaml", "v2\n")
			_, built := untilEvent(t, st, EventBuilt)
			var bd BuiltData
			decode(t, ssetest.Event{Type: EventBuilt, Data: built}, &bd)
			served := ""
			if bundle {
				_, served = ssetest.Request(t, ts.http, "GET", "/src/main.js")
			}
			for _, u := range bd.Updates {
				if u.URL != "" {
					_, body := ssetest.Request(t, ts.http, "GET", u.URL)
					served += body
				}
			}
			if !strings.Contains(served, "pkg-v2") {
				t.Errorf("after the install, built %+v serves\n%s", bd, served)
			}
		})
	}
}
