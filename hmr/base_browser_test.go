package hmr

import (
	"testing"

	"github.com/devserve/devserve/internal/browsertest"
)

// TestBrowserBase serves a project under /app/ and checks in Chromium that
// everything works there: the page, its script and stylesheet, an imported
// asset, a file of public/ (fetched at import.meta.env.BASE_URL and in a
// url() of the CSS), the event stream, a hot update, a CSS swap, a deep
// link of the SPA fallback, and the redirect of / to /app/.
func TestBrowserBase(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"index.html": `<!doctype html><html><head><meta charset="utf-8"><title>base</title>
<link rel="stylesheet" href="/style.css">
<script type="module" src="/src/main.ts"></script></head>
<body><p id="out">loading</p><p id="data">loading</p><img id="logo" alt=""></body></html>`,
		"src/main.ts": `import logo from "./logo.svg";
import "./label";
(document.getElementById("logo") as HTMLImageElement).src = logo;
fetch(import.meta.env.BASE_URL + "data.txt").then((r) => r.text()).then((t) => {
  document.getElementById("data")!.textContent = t.trim();
});
sessionStorage.setItem("runs", String(Number(sessionStorage.getItem("runs") || 0) + 1));
`,
		"src/label.ts":    "document.getElementById(\"out\")!.textContent = \"one \" + location.pathname;\nimport.meta.hot?.accept();\n",
		"src/logo.svg":    `<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>`,
		"style.css":       "#out { color: rgb(255, 0, 0); }\nbody { background: url(\"/moon.svg\") no-repeat; }\n",
		"public/data.txt": "public-one\n",
		"public/moon.svg": `<svg xmlns="http://www.w3.org/2000/svg" width="2" height="2"/>`,
	} {
		writeTestFile(t, dir, name, body)
	}
	ts := startServer(t, dir, "127.0.0.1:0", Options{Base: "/app/"})
	tab := browsertest.New(t)
	navigate(t, tab, ts.URL+"/app/")
	waitJS(t, tab, outText("one /app/")+` && `+textIs("data", "public-one"))

	// What the page loaded, all under /app/.
	waitJS(t, tab, `document.getElementById("logo").complete && document.getElementById("logo").naturalWidth === 4`)
	for what, expr := range map[string]string{
		"the asset URL":      `document.getElementById("logo").getAttribute("src").startsWith("/app/src/logo-")`,
		"the script URL":     `!!document.querySelector('script[src="/app/src/main.ts"]')`,
		"the client URL":     `!!document.querySelector('script[src^="/app/__devserve/client.js?build="]')`,
		"the stylesheet":     `getComputedStyle(document.getElementById("out")).color === "rgb(255, 0, 0)"`,
		"public/ in the CSS": `getComputedStyle(document.body).backgroundImage.includes("/app/moon.svg")`,
	} {
		if !evalJS[bool](t, tab, expr) {
			t.Errorf("%s: %s is false", what, expr)
		}
	}
	// (Chromium asks for /favicon.ico by itself.)
	if outside := evalJS[[]string](t, tab, `performance.getEntriesByType("resource").map((e) => e.name).filter((u) => !new URL(u).pathname.startsWith("/app/") && new URL(u).pathname !== "/favicon.ico")`); len(outside) > 0 {
		t.Errorf("the page fetched outside the base: %q", outside)
	}
	// The stream of /app/__devserve/events connected (the page says so)
	// and the server counts the tab.
	if n := ts.Status().Clients; n < 1 {
		t.Errorf("%d clients, want the tab", n)
	}

	if err := browsertest.MarkPage(tab); err != nil {
		t.Fatal(err)
	}
	ts.write(t, "src/label.ts", "document.getElementById(\"out\")!.textContent = \"two \" + location.pathname;\nimport.meta.hot?.accept();\n")
	waitJS(t, tab, outText("two /app/"))
	samePage(t, tab, "hot update under the base")
	ts.write(t, "style.css", "#out { color: rgb(0, 0, 255); }\nbody { background: url(\"/moon.svg\") no-repeat; }\n")
	waitJS(t, tab, `getComputedStyle(document.getElementById("out")).color === "rgb(0, 0, 255)" && document.querySelectorAll('link[rel="stylesheet"]').length === 1`)
	samePage(t, tab, "CSS swap under the base")
	if n := runs(t, tab); n != 1 {
		t.Errorf("the page ran %d times, want 1", n)
	}

	// A deep link gets the SPA fallback, under the base.
	navigate(t, tab, ts.URL+"/app/users/42")
	waitJS(t, tab, outText("two /app/users/42")+` && `+textIs("data", "public-one"))

	// The root sends a browser to the base.
	navigate(t, tab, ts.URL+"/")
	waitJS(t, tab, `location.pathname === "/app/" && `+outText("two /app/"))
}
