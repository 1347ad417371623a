package cmd

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/devserve/devserve/devcert"
	"github.com/devserve/devserve/internal/browsertest"
)

// TestBrowserHTTPS opens a page of `devserve --https` in Chromium at a
// name other than localhost, with the certificate devserve made trusted
// through its public key: the page loads over HTTP/2 in a secure context
// (crypto.subtle is there), its event stream connects, and edits update
// it in place.
func TestBrowserHTTPS(t *testing.T) {
	certs := isolateConfig(t)
	dir := t.TempDir()
	for name, content := range map[string]string{
		"index.html": `<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="/style.css"><script type="module" src="/main.js"></script>
</head><body><p id="out">loading</p></body></html>`,
		"style.css": "#out { color: rgb(255, 0, 0); }\n",
		"value.js":  `export const value = "one";` + "\n",
		"main.js": `import { value } from "./value.js";
const show = (v) => { document.getElementById("out").textContent = v; };
show(value);
import.meta.hot?.accept("./value.js", (m) => show(m.value));
`,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, served, _ := startServe(t, "--https", "--allowed-host", "devserve.test", "--port", "0", dir)
	u, err := url.Parse(served)
	if err != nil {
		t.Fatal(err)
	}
	page := "https://devserve.test:" + u.Port() + "/"

	// Chromium trusts the certificate by the hash of its public key, as
	// a browser that imported devserve's CA would trust it.
	pair, err := tls.LoadX509KeyPair(filepath.Join(certs, devcert.CertFile), filepath.Join(certs, devcert.CertFile))
	if err != nil {
		t.Fatal(err)
	}
	spki := sha256.Sum256(pair.Leaf.RawSubjectPublicKeyInfo)
	tab := browsertest.New(t,
		chromedp.Flag("ignore-certificate-errors-spki-list", base64.StdEncoding.EncodeToString(spki[:])),
		chromedp.Flag("host-resolver-rules", "MAP devserve.test 127.0.0.1"),
	)
	const wait = 15 * time.Second
	waitJS := func(expr string) {
		t.Helper()
		if err := browsertest.WaitJS(tab, expr, wait); err != nil {
			state, _ := chromedp.Run(tab, chromedp.Evaluate[string](`JSON.stringify({href: location.href, text: document.body && document.body.innerText, devserve: window.__devserve})`))
			t.Fatalf("%v\npage: %s", err, state)
		}
	}
	if err := chromedp.Do(tab, chromedp.Navigate(page)); err != nil {
		t.Fatalf("navigate %s: %v", page, err)
	}
	waitJS(`window.__devserve.connected && document.getElementById("out").textContent === "one"`)
	for _, expr := range []string{
		`performance.getEntriesByType("navigation")[0].nextHopProtocol === "h2"`,
		`location.protocol === "https:" && window.isSecureContext`,
		`typeof crypto.subtle.digest === "function"`,
	} {
		if ok, err := chromedp.Run(tab, chromedp.Evaluate[bool](expr)); err != nil || !ok {
			t.Errorf("%s: %v, %v", expr, ok, err)
		}
	}

	if err := browsertest.MarkPage(tab); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "style.css"), []byte("#out { color: rgb(0, 0, 255); }\n"), 0o644)
	waitJS(`getComputedStyle(document.getElementById("out")).color === "rgb(0, 0, 255)"`)
	os.WriteFile(filepath.Join(dir, "value.js"), []byte(`export const value = "two";`+"\n"), 0o644)
	waitJS(`document.getElementById("out").textContent === "two"`)
	if same, err := browsertest.SamePage(tab); err != nil || !same {
		t.Errorf("the page reloaded on edits it takes in place (same=%v, err=%v)", same, err)
	}
}
