package hmr

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/devserve/devserve/internal/browsertest"
)

// TestBrowserEnv: a page shows import.meta.env (by name, whole,
// destructured, a missing name) in module mode and bundled; an edit of
// .env reloads it with the new value, a broken line shows on the overlay
// with its file and line while the page keeps running, and the fix
// reloads it.
func TestBrowserEnv(t *testing.T) {
	inBothModes(t, func(t *testing.T, tab context.Context, bundle bool) {
		ts := startEnv(t, bundle)
		navigateTo(t, tab, ts.URL, textIs("x", "dev:from .env"))
		for id, want := range map[string]string{
			"mode":         "dev:development",
			"flags":        "dev:true false / false",
			"missing":      "dev:undefined",
			"destructured": "dev:from .env from the process",
		} {
			if got := evalJS[string](t, tab, `document.getElementById("`+id+`").textContent`); got != want {
				t.Errorf("#%s = %q, want %q", id, got, want)
			}
		}
		all := evalJS[string](t, tab, `(() => {
				const env = JSON.parse(document.getElementById("all").textContent.slice(4));
				return [env.MODE, env.DEV, env.PROD, env.SSR, env.BASE_URL, env.VITE_X, env.VITE_PREFIX,
					Object.keys(env).filter((k) => !/^(VITE_|DEVSERVE_)/.test(k)).join("+")].join(" ");
			})()`)
		if all != "development true false false / from .env dev: BASE_URL+MODE+DEV+PROD+SSR" {
			t.Errorf("import.meta.env whole = %q", all)
		}
		if html := evalJS[string](t, tab, `document.documentElement.outerHTML`); strings.Contains(html, envSecret) || strings.Contains(html, procSecret) {
			t.Error("the page shows a secret")
		}

		if err := browsertest.MarkPage(tab); err != nil {
			t.Fatal(err)
		}
		ts.replaceIn(t, ".env", "VITE_X=from .env", "VITE_X=edited")
		waitJS(t, tab, textIs("x", "dev:edited"))
		if same, err := browsertest.SamePage(tab); err != nil || same {
			t.Errorf("editing .env did not reload the page (same=%v, err=%v)", same, err)
		}
		if bundle {
			return
		}

		overlay := `document.querySelector("devserve-overlay")`
		ts.write(t, ".env.local", "VITE_X=broken\nVITE_BAD=\"open\n")
		waitJS(t, tab, overlay+` && `+overlay+`.shadowRoot.textContent.includes(".env.local:2")`)
		if got := evalJS[string](t, tab, `document.getElementById("x").textContent`); got != "dev:edited" {
			t.Errorf("with a broken .env.local the page shows %q", got)
		}
		ts.write(t, ".env.local", "VITE_X=from .env.local\n")
		waitJS(t, tab, textIs("x", "dev:from .env.local")+` && !`+overlay)
	})
}

// navigateTo opens url in tab and waits until the client is connected
// and ready holds.
func navigateTo(t *testing.T, tab context.Context, url, ready string) {
	t.Helper()
	if err := chromedp.Do(tab, chromedp.Navigate(url)); err != nil {
		t.Fatalf("navigate %s: %v", url, err)
	}
	waitJS(t, tab, `window.__devserve && window.__devserve.connected && `+ready)
}
