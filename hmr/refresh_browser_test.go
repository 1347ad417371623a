package hmr

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/devserve/devserve/internal/browsertest"
)

// refreshProject is a copy of the Fast Refresh pages of
// testdata/npm/react19/refresh with the packages of testdata/npm/name
// (react19 or react18) linked in.
func refreshProject(t *testing.T, name string) string {
	t.Helper()
	pkgs, pages := npmFixture(t, name), npmFixture(t, "react19")
	dst := t.TempDir()
	if err := os.CopyFS(filepath.Join(dst, "refresh"), os.DirFS(filepath.Join(pages, "refresh"))); err != nil {
		t.Fatal(err)
	}
	pkg, err := os.ReadFile(filepath.Join(pkgs, "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dst, "package.json"), pkg, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(pkgs, "node_modules"), filepath.Join(dst, "node_modules")); err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestBrowserFastRefresh edits React components in module mode with the
// real react, react-dom and react-refresh: components re-render in place
// with their state (a counter, a form input) across 20 saves; a change of
// a component's hooks resets its state; a context provider's edit keeps
// the consumers working; a class component re-mounts; a module that also
// exports a constant hands its update to its importer; a syntax error and
// a component that throws show the overlay, and the next good save
// recovers without a reload.
func TestBrowserFastRefresh(t *testing.T) {
	for _, name := range []string{"react19", "react18"} {
		t.Run(name, func(t *testing.T) {
			testFastRefresh(t, name)
		})
	}
}

// openRefreshPage serves dir and opens its page /page/, a component with
// a counter and a text input (testdata/npm/react19/refresh or prefresh);
// it clicks the counter to 3 and types "typed", so that edits can show
// the state kept, and marks the page.
func openRefreshPage(t *testing.T, dir, page string) (*testServer, context.Context, *pageErrors) {
	t.Helper()
	ts := startServer(t, dir, "127.0.0.1:0", Options{})
	tab := browsertest.New(t)
	pe := watchErrors(t, tab)
	if err := chromedp.Do(tab, chromedp.Navigate(ts.URL+"/"+page+"/")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tab, `window.__devserve && window.__devserve.connected && document.getElementById("label") !== null`)
	for range 3 {
		evalJS[any](t, tab, `document.getElementById("inc").click()`)
	}
	waitJS(t, tab, textIs("inc", "count 3"))
	if err := chromedp.Do(tab, chromedp.SendKeys("#text", "typed")); err != nil {
		t.Fatal(err)
	}
	if err := browsertest.MarkPage(tab); err != nil {
		t.Fatal(err)
	}
	return ts, tab, pe
}

func testFastRefresh(t *testing.T, name string) {
	dir := refreshProject(t, name)
	ts, tab, pe := openRefreshPage(t, dir, "refresh")
	kept := func(what string) {
		t.Helper()
		waitJS(t, tab, textIs("inc", "count 3")+` && document.getElementById("text").value === "typed"`)
		samePage(t, tab, what)
	}

	label := "label v0"
	for i := 1; i <= 20; i++ {
		next := fmt.Sprintf("label v%d", i)
		ts.replaceIn(t, "refresh/App.jsx", label, next)
		label = next
		waitJS(t, tab, textIs("label", next))
		kept(next)
	}
	if n := evalJS[int](t, tab, `window.mainRuns`); n != 1 {
		t.Errorf("main.jsx ran %d times, want once: the edits went past the component", n)
	}

	// A context provider's edit: the consumer still sees the value.
	ts.replaceIn(t, "refresh/theme.jsx", `value="dark"`, `value="light"`)
	waitJS(t, tab, textIs("theme", "theme light"))
	kept("context provider edit")

	// A class component re-mounts with the new code.
	evalJS[any](t, tab, `document.getElementById("klass").click()`)
	waitJS(t, tab, textIs("klass", "klass k0 1"))
	ts.replaceIn(t, "refresh/Klass.jsx", "klass k0", "klass k1")
	waitJS(t, tab, textIs("klass", "klass k1 0")+" || "+textIs("klass", "klass k1 1"))
	kept("class component edit")

	// A module that exports a constant besides a component gives its
	// update to its importer, App, which re-renders with its state.
	ts.replaceIn(t, "refresh/badge.jsx", "badge text 0", "badge text 1")
	waitJS(t, tab, textIs("badge-text", "badge text 1"))
	kept("edit of a module that also exports a constant")

	if errs := pe.take(); len(errs) > 0 {
		t.Errorf("errors in the page:\n%s", strings.Join(errs, "\n"))
	}

	// A syntax error shows the overlay; the fix recovers in place.
	overlay := `document.querySelector("devserve-overlay")`
	ts.replaceIn(t, "refresh/App.jsx", "<input", "<<input")
	waitJS(t, tab, overlay+` !== null`)
	ts.replaceIn(t, "refresh/App.jsx", "<<input", "<input")
	waitJS(t, tab, overlay+` === null`)
	kept("syntax error fixed")

	// A component that throws as it renders shows the overlay; the next
	// good save renders again.
	ts.replaceIn(t, "refresh/theme.jsx", `return <p id="theme">`, `if (1) throw new Error("render failed"); return <p id="theme">`)
	waitJS(t, tab, overlay+` !== null`)
	ts.replaceIn(t, "refresh/theme.jsx", `if (1) throw new Error("render failed"); `, ``)
	waitJS(t, tab, textIs("theme", "theme light"))
	samePage(t, tab, "render error fixed")

	// A change of the component's hooks resets its state, in place.
	ts.replaceIn(t, "refresh/App.jsx", "const [count, setCount] = useState(0);",
		"const [count, setCount] = useState(0);\n  const [other] = useState(1);")
	waitJS(t, tab, textIs("inc", "count 0"))
	samePage(t, tab, "hooks change")

}
