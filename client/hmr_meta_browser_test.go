package client

import (
	"testing"

	"github.com/devserve/devserve/internal/browsertest"
)

// TestHMRMetaBrowser: import.meta.url and import.meta.hot, which the
// runtime makes when a module first reads them, are the module's URL and
// one hot context for each version of the module, however often the
// module reads them; a module that reads neither (b.js) runs as before.
func TestHMRMetaBrowser(t *testing.T) {
	browser := browsertest.New(t)
	meta := func(v string) string {
		return `var m = __devserve_meta;
log.push("a` + v + ` url " + (m.url === new URL("/sub/a.js", location.href).href) + " " + (m.url === m.url));
log.push("a` + v + ` hot " + (m.hot === m.hot) + " " + typeof m.hot.accept);
m.hot.accept();`
	}
	h := openHot(t, browser,
		entryScript("/main.js",
			def("/main.js", map[string]string{"./sub/a.js": "/sub/a.js", "./b.js": "/b.js"},
				`require("/sub/a.js"); require("/b.js"); log.push("main");`),
			def("/sub/a.js", nil, meta("1")),
			def("/b.js", nil, `log.push("b1");`)),
		updates("/sub/a.js", nil, map[string]string{"2": meta("2")}))
	h.waitWindowLog("a1 url true true", "a1 hot true function", "b1", "main")
	h.built(jsUpdate("/sub/a.js", "2"))
	h.waitWindowLog("a1 url true true", "a1 hot true function", "b1", "main", "a2 url true true", "a2 hot true function")
	h.stays()
}
