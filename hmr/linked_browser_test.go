package hmr

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/devserve/devserve/internal/browsertest"
)

// TestBrowserLinkedPackage serves an app of an npm/pnpm-style workspace
// whose node_modules links to a package of the workspace outside the
// root: the package is compiled as source, and an edit there hot-updates
// the page as an edit of the app does.
func TestBrowserLinkedPackage(t *testing.T) {
	ws := t.TempDir()
	writeTestFile(t, ws, "package.json", `{"private": true, "workspaces": ["apps/*", "packages/*"]}`)
	writeTestFile(t, ws, "packages/ui/package.json", `{"name": "ui", "version": "1.0.0", "main": "src/index.ts"}`)
	label := "export const label = (s: string): string => `%s ${s}`\n"
	writeTestFile(t, ws, "packages/ui/src/index.ts", fmt.Sprintf(label, "ui"))
	if err := os.MkdirAll(filepath.Join(ws, "node_modules"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join("..", "packages", "ui"), filepath.Join(ws, "node_modules", "ui")); err != nil {
		t.Fatal(err)
	}
	app := filepath.Join(ws, "apps", "web")
	writeTestFile(t, app, "index.html", `<!doctype html><link rel="icon" href="data:,"><p id="out">loading</p><script type="module" src="/src/main.ts"></script>`)
	writeTestFile(t, app, "src/main.ts", "import { label } from 'ui'\ndocument.getElementById('out')!.textContent = label('app')\nimport.meta.hot?.accept()\n")

	ts := startServer(t, app, "127.0.0.1:0", Options{})
	tab := browsertest.New(t)
	openPage(t, tab, ts.URL)
	waitJS(t, tab, outText("ui app")+` && `+pageOK)
	if err := browsertest.MarkPage(tab); err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, ws, "packages/ui/src/index.ts", fmt.Sprintf(label, "UI"))
	if r := ts.nextReport(t); r.Event != EventBuilt || len(r.Updates) != 1 {
		t.Fatalf("report %+v, want a build with the linked module's update", r)
	}
	waitJS(t, tab, outText("UI app")+` && `+pageOK)
	samePage(t, tab, "an edit of a linked package")
}
