package hmr

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/devserve/devserve/internal/browsertest"
)

// appFixture copies the app testdata/apps/<name> into a temporary folder
// that the test may edit, with a symbolic link to the app's node_modules,
// which .ci/run installs with npm ci --omit=dev. Without them the test is
// skipped, or fails when the browser tests are required.
func appFixture(t testing.TB, name string) string {
	t.Helper()
	src, err := filepath.Abs(filepath.Join("..", "testdata", "apps", name))
	if err != nil {
		t.Fatal(err)
	}
	modules := filepath.Join(src, "node_modules")
	browsertest.NeedPackages(t, src, "npm ci --omit=dev")
	dst := t.TempDir()
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		switch {
		case p == modules:
			return filepath.SkipDir
		case d.IsDir():
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatalf("copy app %s: %v", name, err)
	}
	if err := os.Symlink(modules, filepath.Join(dst, "node_modules")); err != nil {
		t.Fatal(err)
	}
	return dst
}

// appCase is what a test does with one app of testdata/apps: JS
// conditions that hold once the app has rendered, an interaction, an edit
// of a component's text, an edit of a stylesheet, and for an app with a
// router a deep link.
type appCase struct {
	name string
	// ready holds once the app has rendered, its images loaded.
	ready string
	// click is clicked (a JS expression giving the element), and then
	// clicked holds.
	click, clicked string
	// component is a file whose text old becomes new, which then shows.
	// new and shows say "devserve", which the fix of a syntax error in
	// component turns into "devserve, fixed" in both.
	component, old, new, shows string
	// css is a stylesheet that gets a rule appended: rule, after which
	// style (a JS expression) is "rgb(1, 2, 3)" with no reload.
	css, rule, style string
	// deepLink, if not "", is a URL path of the app's router, which
	// renders deepReady when the page is loaded at it.
	deepLink, deepReady string
}

// imagesLoaded is a JS condition: every image of root (a document or a
// shadow root) has loaded.
func imagesLoaded(root string) string {
	return `[...` + root + `.querySelectorAll("img")].every((i) => i.complete && i.naturalWidth > 0)`
}

// appCases are the apps of testdata/apps (see each one's ORIGIN).
var appCases = []appCase{{
	name: "react-ts",
	ready: `document.querySelector("#root h1")?.textContent === "Get started" && ` +
		`document.querySelectorAll("#root img").length === 5 && ` + imagesLoaded("document"),
	click:     `document.querySelector("button.counter")`,
	clicked:   `document.querySelector("button.counter").textContent === "Count is 1"`,
	component: "src/App.tsx", old: "<h1>Get started</h1>", new: "<h1>Get started with devserve</h1>",
	shows: `document.querySelector("#root h1")?.textContent === "Get started with devserve"`,
	css:   "src/App.css", rule: ".counter { outline: 3px solid rgb(1, 2, 3); }",
	style: `getComputedStyle(document.querySelector("button.counter")).outlineColor`,
}, {
	name: "preact-router",
	ready: `document.querySelector("#app .home h1")?.textContent.startsWith("Get Started building") && ` +
		`document.querySelector("header a.active")?.textContent === "Home" && ` + imagesLoaded("document"),
	// The header's link goes through preact-iso's router, with no page load.
	click:   `document.querySelector("header a[href='/404']")`,
	clicked: `location.pathname === "/404" && document.querySelector("#app main h1")?.textContent === "404: Not Found" && document.querySelector("header a.active")?.textContent === "404"`,
	// The edits are made on the router's page /404, which reloads there
	// through the SPA fallback.
	component: "src/pages/_404.tsx", old: "<h1>404: Not Found</h1>", new: "<h1>404: Not Found by devserve</h1>",
	shows: `location.pathname === "/404" && document.querySelector("#app main h1")?.textContent === "404: Not Found by devserve"`,
	css:   "src/style.css", rule: "header { outline: 3px solid rgb(1, 2, 3); }",
	style:    `getComputedStyle(document.querySelector("header")).outlineColor`,
	deepLink: "/missing/page", deepReady: `document.querySelector("#app main h1")?.textContent.startsWith("404: ")`,
}, {
	name: "lit-ts",
	ready: `(() => { const r = document.querySelector("my-element")?.shadowRoot;
		return !!r && r.querySelectorAll("img").length === 5 && ` + imagesLoaded("r") + ` &&
			r.querySelector("button.counter").textContent.trim() === "Count is 0" })()`,
	// @property with useDefineForClassFields off: a click renders again.
	click:     `document.querySelector("my-element").shadowRoot.querySelector("button.counter")`,
	clicked:   `document.querySelector("my-element").shadowRoot.querySelector("button.counter").textContent.trim() === "Count is 1"`,
	component: "src/my-element.ts", old: "save to test", new: "save with devserve to test",
	shows: `document.querySelector("my-element")?.shadowRoot?.querySelector("p")?.textContent.includes("save with devserve to test")`,
	css:   "src/index.css", rule: "my-element { outline: 3px solid rgb(1, 2, 3); }",
	style: `getComputedStyle(document.querySelector("my-element")).outlineColor`,
}}

// TestBrowserApps runs the apps of testdata/apps, Vite projects as their
// scaffolders write them, unchanged in the default mode (module mode):
// each renders with its images and no error in the console, reacts to a
// click, shows an edit of a component, swaps an edited stylesheet without
// a reload, and shows a syntax error on the overlay until it is fixed. An
// app with a router renders at a deep link, and its edits are made on a
// page of the router, which a reload loads again at its URL.
func TestBrowserApps(t *testing.T) {
	for _, c := range appCases {
		t.Run(c.name, func(t *testing.T) {
			ts := startServer(t, appFixture(t, c.name), "127.0.0.1:0", Options{})
			tab := browsertest.New(t)
			pe := watchErrors(t, tab)
			noErrors := func(step string) {
				t.Helper()
				if errs := pe.take(); len(errs) > 0 {
					t.Errorf("%s: errors in the page:\n%s", step, strings.Join(errs, "\n"))
				}
			}
			connected := `window.__devserve && window.__devserve.connected && `
			if err := chromedp.Do(tab, chromedp.Navigate(ts.URL)); err != nil {
				t.Fatal(err)
			}
			waitJS(t, tab, connected+c.ready)
			noErrors("first render")

			evalJS[any](t, tab, c.click+`.click()`)
			waitJS(t, tab, c.clicked)
			noErrors("click")

			if c.deepLink != "" {
				t.Run("deep link", func(t *testing.T) {
					appDeepLink(t, ts, tab, c)
				})
			}

			// The edits are saved through a rename, so no build reads a file
			// half written. A component's edit shows (a reload is fine).
			good := string(readFile(t, filepath.Join(ts.dir, c.component)))
			if !strings.Contains(good, c.old) {
				t.Fatalf("%s does not contain %q", c.component, c.old)
			}
			good = strings.Replace(good, c.old, c.new, 1)
			ts.writeAtomic(t, c.component, good)
			waitJS(t, tab, pageOK+` && `+c.shows)
			noErrors("component edit")

			// A stylesheet's edit is swapped in place.
			if got := evalJS[string](t, tab, c.style); got == "rgb(1, 2, 3)" {
				t.Fatalf("the style is already %s before the edit", got)
			}
			if err := browsertest.MarkPage(tab); err != nil {
				t.Fatal(err)
			}
			b := readFile(t, filepath.Join(ts.dir, c.css))
			ts.writeAtomic(t, c.css, string(b)+"\n"+c.rule+"\n")
			waitJS(t, tab, c.style+` === "rgb(1, 2, 3)"`)
			samePage(t, tab, "stylesheet edit")
			noErrors("stylesheet edit")

			// A syntax error shows on the overlay, and the fix clears it.
			ts.writeAtomic(t, c.component, good+"\nexport const broken = ;\n")
			waitJS(t, tab, overlayShows(filepath.Base(c.component)))
			// The client logs the build's error as a console error.
			pe.waitFor(t, filepath.Base(c.component))
			fixed := func(s string) string { return strings.Replace(s, "devserve", "devserve, fixed", 1) }
			ts.writeAtomic(t, c.component, strings.Replace(good, c.new, fixed(c.new), 1))
			waitJS(t, tab, pageOK+` && `+fixed(c.shows))
			noErrors("after the fix")
		})
	}
}

// appDeepLink loads the page at the app's deep link in a new tab of the
// browser of tab: the SPA fallback answers it with the app's index.html,
// as Vite does.
func appDeepLink(t *testing.T, ts *testServer, tab context.Context, c appCase) {
	tab = browsertest.NewTab(t, tab)
	deep := watchErrors(t, tab)
	if err := chromedp.Do(tab, chromedp.Navigate(ts.URL+c.deepLink)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, tab, `window.__devserve && window.__devserve.connected && `+c.deepReady+
		` && location.pathname === `+strconv.Quote(c.deepLink))
	if errs := deep.take(); len(errs) > 0 {
		t.Errorf("errors in the page at %s:\n%s", c.deepLink, strings.Join(errs, "\n"))
	}
}

// waitFor waits until the tab has reported an error that mentions s, and
// then drops the errors seen so far.
func (pe *pageErrors) waitFor(t *testing.T, s string) {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(browserWait)
	for {
		pe.mu.Lock()
		found := false
		for _, e := range pe.errs {
			found = found || strings.Contains(e, s)
		}
		pe.mu.Unlock()
		if found {
			pe.take()
			return
		}
		select {
		case <-tick.C:
		case <-timeout:
			t.Fatalf("the page reported no error that mentions %q; it reported:\n%s", s, strings.Join(pe.take(), "\n"))
		}
	}
}
