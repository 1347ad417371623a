package hmr

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBrowserPrefresh edits a Preact component in module mode with the
// real preact and Prefresh (@prefresh/core, @prefresh/utils), which take
// the same registrations as React's runtime: the component re-renders in
// place with its state across edits, and a change of its hooks resets it.
func TestBrowserPrefresh(t *testing.T) {
	pkgs := npmFixture(t, "react19")
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "prefresh"), os.DirFS(filepath.Join(pkgs, "prefresh"))); err != nil {
		t.Fatal(err)
	}
	// A Preact project: no react in its package.json.
	pkg := `{"dependencies": {"preact": "*"}, "devDependencies": {"@prefresh/core": "*", "@prefresh/utils": "*"}}`
	if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(pkg), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(pkgs, "node_modules"), filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	ts, tab, pe := openRefreshPage(t, dir, "prefresh")
	label := "label v0"
	for i := 1; i <= 5; i++ {
		next := fmt.Sprintf("label v%d", i)
		ts.replaceIn(t, "prefresh/App.jsx", label, next)
		label = next
		waitJS(t, tab, textIs("label", next))
		waitJS(t, tab, textIs("inc", "count 3")+` && document.getElementById("text").value === "typed"`)
		samePage(t, tab, next)
	}
	if n := evalJS[int](t, tab, `window.mainRuns`); n != 1 {
		t.Errorf("main.jsx ran %d times, want once", n)
	}
	ts.replaceIn(t, "prefresh/App.jsx", "const [count, setCount] = useState(0);",
		"const [count, setCount] = useState(0);\n  const [other] = useState(1);")
	waitJS(t, tab, textIs("inc", "count 0"))
	samePage(t, tab, "hooks change")
	if errs := pe.take(); len(errs) > 0 {
		t.Errorf("errors in the page:\n%s", strings.Join(errs, "\n"))
	}
}
