package bundler

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// BenchmarkRefreshRebuild measures the build of a React component edit
// with Fast Refresh, the edit a React developer makes all day (issue #14):
// testdata/apps/react-ts's App.tsx with its <h1> changed, in module mode,
// with the packages of testdata/npm/react19; "prepared" builds it after
// Prepare (whose own time is not counted), as a dev server does after its
// watcher noticed the save; "plain" builds the same edit without Fast
// Refresh, for the transform's share.
//
//	go test -run '^$' -bench RefreshRebuild ./bundler
func BenchmarkRefreshRebuild(b *testing.B) {
	for _, c := range []struct {
		name             string
		refresh, prepare bool
	}{{"refresh", true, false}, {"prepared", true, true}, {"plain", false, false}} {
		b.Run(c.name, func(b *testing.B) {
			root := reactTSProject(b)
			bu := open(b, Options{Root: root, Modules: true, BuildOptions: BuildOptions{NoReactRefresh: !c.refresh}})
			mustBuild(b, bu, nil)
			app := readFile(b, root, "src/App.tsx")
			const h1 = "<h1>Get started</h1>"
			if !strings.Contains(app, h1) {
				b.Fatalf("no %s in App.tsx", h1)
			}
			changed := []string{"src/App.tsx"}
			var inBuild time.Duration
			for i := 0; b.Loop(); i++ {
				writeFiles(b, root, map[string]string{"src/App.tsx": strings.Replace(app, h1, fmt.Sprintf("<h1>Get started %d</h1>", i), 1)})
				if c.prepare {
					bu.Prepare(changed[0])
				}
				r := bu.Build(changed)
				if !r.OK() || len(r.Modules) != 1 {
					b.Fatalf("rebuild: ok=%v modules=%d %v", r.OK(), len(r.Modules), r.Errors)
				}
				inBuild += r.Duration
			}
			b.ReportMetric(float64(inBuild.Microseconds())/1000/float64(b.N), "build-ms/op")
		})
	}
}

// reactTSProject copies testdata/apps/react-ts with testdata/npm/react19's
// node_modules instead of its own, which has react-refresh (the app's own,
// installed without dev dependencies, has not).
func reactTSProject(t testing.TB) string {
	t.Helper()
	npm := react19(t)
	dst := fixture(t, filepath.Join("apps", "react-ts"))
	if err := os.RemoveAll(filepath.Join(dst, "node_modules")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(npm, "node_modules"), filepath.Join(dst, "node_modules")); err != nil {
		t.Fatal(err)
	}
	return dst
}
