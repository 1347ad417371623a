package client

import (
	"fmt"
	"testing"

	"github.com/devserve/devserve/internal/browsertest"
)

// TestHMRBrowserAcceptOnce: each accept callback runs once per update,
// with every module it takes, and every registration runs.
func TestHMRBrowserAcceptOnce(t *testing.T) {
	browser := browsertest.New(t)

	// One build changes a self-accepting module and a module it imports:
	// the module runs again once, and its old accept callback is called
	// once.
	t.Run("SelfAndDepChangeTogether", func(t *testing.T) {
		dep := func(v string) string { return `exports.v = "` + v + `";` }
		self := func(v string) string {
			return `log.push("self ` + v + ` with dep " + require("/dep.js").v);
__devserve_meta.hot.accept(function () { log.push("accept ` + v + `"); });`
		}
		deps := map[string]string{"./dep.js": "/dep.js"}
		h := openHot(t, browser,
			entryScript("/main.js",
				def("/main.js", map[string]string{"./self.js": "/self.js"}, `require("/self.js");`),
				def("/self.js", deps, self("1")), def("/dep.js", nil, dep("1"))),
			merge(updates("/self.js", deps, map[string]string{"2": self("2")}),
				updates("/dep.js", nil, map[string]string{"2": dep("2")})))
		h.waitWindowLog("self 1 with dep 1")
		h.built(jsUpdate("/self.js", "2"), jsUpdate("/dep.js", "2"))
		h.waitJS(`log.includes("accept 1")`)
		h.stays()
		h.waitWindowLog("self 1 with dep 1", "self 2 with dep 2", "accept 1")
	})

	// Two accept registrations for the same module: both callbacks are
	// called, as in Vite.
	t.Run("TwoCallbacks", func(t *testing.T) {
		h := openHot(t, browser,
			entryScript("/main.js",
				def("/main.js", map[string]string{"./dep.js": "/dep.js"}, `require("/dep.js");
__devserve_meta.hot.accept("./dep.js", function (m) { log.push("first " + m.v); });
__devserve_meta.hot.accept(["./dep.js"], function (ms) { log.push("second " + ms[0].v); });`),
				def("/dep.js", nil, `exports.v = 1;`)),
			updates("/dep.js", nil, map[string]string{"2": `exports.v = 2;`}))
		h.built(jsUpdate("/dep.js", "2"))
		h.waitJS(`log.length > 0`)
		h.stays()
		h.waitWindowLog("first 2", "second 2")
	})

	// One build changes two deps of an array accept: its callback is
	// called once with both.
	t.Run("ArrayTwoChanged", func(t *testing.T) {
		deps := map[string]string{"./a.js": "/a.js", "./b.js": "/b.js"}
		h := openHot(t, browser,
			entryScript("/main.js",
				def("/main.js", deps, `require("/a.js"); require("/b.js");
__devserve_meta.hot.accept(["./a.js", "./b.js"], function (ms) { log.push("accept " + ms.map(function (m) { return m && m.v; }).join()); });`),
				def("/a.js", nil, `exports.v = "a1";`), def("/b.js", nil, `exports.v = "b1";`)),
			merge(updates("/a.js", nil, map[string]string{"2": `exports.v = "a2";`}),
				updates("/b.js", nil, map[string]string{"2": `exports.v = "b2";`})))
		h.built(jsUpdate("/a.js", "2"), jsUpdate("/b.js", "2"))
		h.waitJS(`log.length > 0`)
		h.stays()
		h.waitWindowLog("accept a2,b2")
	})

	// A leaf under 24 layers of two modules each, every module importing
	// both of the layer below: 2^24 ways up from the leaf to the module
	// that accepts the top layer. Each module is walked once, so the
	// update applies at once instead of never.
	t.Run("ManyWays", func(t *testing.T) {
		const layers = 24
		id := func(l, i int) string { return fmt.Sprintf("/l%d_%d.js", l, i) }
		var defs []string
		for l := 0; l < layers; l++ {
			for i := 0; i < 2; i++ {
				deps := map[string]string{}
				code := `exports.v = 0;`
				if l+1 < layers {
					deps["./a"], deps["./b"] = id(l+1, 0), id(l+1, 1)
					code = fmt.Sprintf(`exports.v = require(%q).v + require(%q).v;`, id(l+1, 0), id(l+1, 1))
				} else {
					deps["./leaf.js"] = "/leaf.js"
					code = `exports.v = require("/leaf.js").v;`
				}
				defs = append(defs, def(id(l, i), deps, code))
			}
		}
		top := map[string]string{"./a": id(0, 0), "./b": id(0, 1)}
		defs = append(defs, def("/main.js", top, `require("`+id(0, 0)+`"); require("`+id(0, 1)+`");
__devserve_meta.hot.accept(["./a", "./b"], function (ms) { log.push("top " + ms[0].v); });`),
			def("/leaf.js", nil, `exports.v = 1;`))
		h := openHot(t, browser, entryScript("/main.js", defs...),
			updates("/leaf.js", nil, map[string]string{"2": `exports.v = 2;`}))
		h.built(jsUpdate("/leaf.js", "2"))
		h.waitJS(`log.length > 0`)
		h.stays()
		h.waitWindowLog(fmt.Sprintf("top %d", 2<<(layers-1)))
	})
}
