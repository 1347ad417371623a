package hmr

import (
	"context"
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
