package hmr

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/devserve/devserve/internal/browsertest"
)

// openSPA starts a server on a copy of testdata/spa and a browser tab on
// the route at path, and waits until the app rendered it with the text of
// public/data.txt and the client connected.
func openSPA(t *testing.T, path, app string) (*testServer, context.Context) {
	t.Helper()
	ts := startServer(t, copyFixture(t, "spa"), "127.0.0.1:0", Options{})
	tab := browsertest.New(t)
	if err := chromedp.Do(tab, chromedp.Navigate(ts.URL+path)); err != nil {
		t.Fatalf("navigate %s: %v", path, err)
	}
	waitJS(t, tab, `window.__devserve.connected && `+outText(app+" "+path)+` && `+textIs("data", "one"))
	return ts, tab
}

// TestBrowserSPADeepLink opens routes of the app that no file has: the
// nearest index.html renders them, with its stylesheet and the file of
// public/ it points at, and the client connected.
func TestBrowserSPADeepLink(t *testing.T) {
	ts, tab := openSPA(t, "/app/users/42", "app")
	if got := evalJS[string](t, tab, `document.title + " " + location.pathname`); got != "spa /app/users/42" {
		t.Errorf("title and path = %q", got)
	}
	if got := evalJS[string](t, tab, `getComputedStyle(document.getElementById("out")).color`); got != "rgb(255, 0, 0)" {
		t.Errorf("#out color = %s: the stylesheet did not apply", got)
	}
	// The background of style.css, url("/moon.svg"), comes from public/.
	waitJS(t, tab, `performance.getEntriesByName(location.origin + "/moon.svg").length === 1 && getComputedStyle(document.body).backgroundImage.includes("/moon.svg")`)

	// A route under /admin/ gets admin/index.html, another app.
	if err := chromedp.Do(tab, chromedp.Navigate(ts.URL+"/admin/users/john.doe")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tab, `window.__devserve.connected && `+outText("admin /admin/users/john.doe")+` && document.title === "admin"`)

	// An edit of the app's code reaches the tab on the deep link.
	ts.write(t, "src/admin.ts", `import { show } from "./show";
show("ADMIN");`)
	waitJS(t, tab, outText("ADMIN /admin/users/john.doe"))
}

// TestBrowserPublicReload edits a file of public/ that the page shows:
// the page reloads and shows the new text, with no build.
func TestBrowserPublicReload(t *testing.T) {
	ts, tab := openSPA(t, "/app/settings", "app")
	if err := browsertest.MarkPage(tab); err != nil {
		t.Fatal(err)
	}
	ts.writeAtomic(t, "public/data.txt", "two\n")
	waitJS(t, tab, textIs("data", "two")+` && `+outText("app /app/settings")+` && window.__devserve.connected`)
	if same, _ := browsertest.SamePage(tab); same {
		t.Error("the page shows the new text without a reload")
	}
	if n := runs(t, tab); n != 2 {
		t.Errorf("the page ran %d times, want 2 (one reload)", n)
	}
	if r := ts.nextReport(t); r.Event != EventReload || len(r.Changed) != 1 || r.Changed[0] != "public/data.txt" || r.Clients != 1 {
		t.Errorf("report = %+v, want a reload for public/data.txt told to 1 browser", r)
	}
}

// TestBrowserPublicClash makes a file of the source tree with the URL of a
// file of public/ that the page shows, and then one of public/ with the
// URL of the page's stylesheet: each clash shows on the overlay of the
// open page and of a page opened later, public/ keeps winning, a good
// build meanwhile is held back from the open page, and removing either
// side clears the overlay and shows what is on disk.
func TestBrowserPublicClash(t *testing.T) {
	ts, tab := openSPA(t, "/", "app")
	waitJS(t, tab, pageOK)
	if err := browsertest.MarkPage(tab); err != nil {
		t.Fatal(err)
	}
	const (
		title = `1 error in the project's files`
		color = `getComputedStyle(document.getElementById("out")).color`
	)

	// The source side comes: the overlay names both files and the fix,
	// with no reload, and the page still shows public/data.txt.
	ts.write(t, "data.txt", "mine\n")
	waitJS(t, tab, overlayTitle(title)+` && `+overlayShows("public/data.txt and data.txt have the same URL /data.txt")+
		` && `+overlayShows("devserve serves public/data.txt")+` && `+overlayShows("rename or remove public/data.txt or data.txt"))
	samePage(t, tab, "the clash")

	// A good build is installed but held back from the open page, not
	// from one opened now, which shows the clash too, from its first sync.
	ts.write(t, "src/main.ts", strings.Replace(string(readFile(t, filepath.Join(ts.dir, "src", "main.ts"))), `show("app")`, `show("APP")`, 1))
	r := ts.waitReport(t, EventErrors)
	for strings.Join(r.Changed, " ") != "src/main.ts" { // past the clash's own
		r = ts.waitReport(t, EventErrors)
	}
	if r.Failed || r.NoBuild || errorsText(r) == "" {
		t.Fatalf("report %+v, want the errors of a good build of src/main.ts", r)
	}
	waitJS(t, tab, overlayShows("public/data.txt and data.txt"))
	samePage(t, tab, "a good build with the clash")
	late := browsertest.NewTab(t, tab)
	openPage(t, late, ts.URL)
	waitJS(t, late, overlayTitle(title)+` && `+outText("APP /")+` && `+textIs("data", "one"))
	if n := runs(t, late); n != 1 {
		t.Errorf("the page opened during the clash ran %d times, want 1", n)
	}

	// The source side goes: the overlays clear, and the open page
	// reloads to the build it missed.
	if err := os.Remove(filepath.Join(ts.dir, "data.txt")); err != nil {
		t.Fatal(err)
	}
	for _, tab := range []context.Context{tab, late} {
		waitJS(t, tab, pageOK+` && `+outText("APP /")+` && `+textIs("data", "one"))
	}

	// The public side comes, for the page's stylesheet: public/ wins.
	ts.write(t, "public/style.css", "#out { color: rgb(0, 0, 255) }\n")
	waitJS(t, tab, overlayShows("public/style.css and style.css have the same URL /style.css")+` && `+color+` === "rgb(0, 0, 255)"`)
	// It goes: the page shows the entry's stylesheet again.
	if err := os.Remove(filepath.Join(ts.dir, "public", "style.css")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tab, pageOK+` && `+color+` === "rgb(255, 0, 0)"`)
}
