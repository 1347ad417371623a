package hmr

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/devserve/devserve/internal/browsertest"
)

// exportCases are modules whose exports change, or are read, in every way
// that decides between esbuild's getters and plain properties (see
// bundler/plain.go). main.js records what an importer sees.
var exportCases = map[string]string{
	"inc.js":      "export let c = 0;\nexport function inc() { c++; }\n",
	"destruct.js": "export let c = 0;\nexport function set(v) { [c] = [v]; }\n",
	"short.js":    "export let o = 1;\nexport function set() { ({ o } = { o: 2 }); }\n",
	"forof.js":    "export var x = 1;\nexport function set() { for (x of [5, 6]); }\n",
	"forin.js":    "export let k = '';\nexport function set() { for (k in { p: 1 }); }\n",
	"compound.js": "export let y = 1;\nexport const set = () => { y += 10; };\n",
	"logical.js":  "export let z = null;\nexport function set() { z ??= 5; }\n",
	"fn.js":       "export function fn() { return 1; }\nexport function set() { fn = () => 2; }\n",
	"klass.js":    "export class K { static v = 1; }\nexport function set() { K = class { static v = 2; }; }\n",
	"eval.js":     "export let t = 1;\nexport function set() { eval('t = 2'); }\n",
	"comment.js":  "export let r = 1;\nexport function set() { r /* c */ = 2; }\n",
	"template.js": "export let q = 'a';\nexport function set() { q = `${q}b`; }\n",
	"later.js":    "export let late = 'before';\nexport function set() { return Promise.resolve().then(() => { late = 'after'; }); }\n",
	"consts.js":   "const zeta = 1, alpha = 2;\nexport { zeta, alpha };\nexport default function () { return zeta + alpha; }\nexport class Mid {}\n",
	"cycle-a.js":  "import { b } from './cycle-b.js';\nexport const a = 'a' + b;\nexport function name() { return 'A'; }\n",
	"cycle-b.js":  "import { name } from './cycle-a.js';\nexport const b = name();\n",
	"main.js": `import * as inc from './inc.js';
import * as destruct from './destruct.js';
import * as short from './short.js';
import * as forof from './forof.js';
import * as forin from './forin.js';
import * as compound from './compound.js';
import * as logical from './logical.js';
import * as fn from './fn.js';
import * as klass from './klass.js';
import * as ev from './eval.js';
import * as comment from './comment.js';
import * as template from './template.js';
import * as later from './later.js';
import * as consts from './consts.js';
import { a } from './cycle-a.js';
const seen = [];
for (const m of [inc, destruct, short, forof, forin, compound, logical, fn, klass, ev, comment, template]) {
  const before = JSON.stringify(Object.keys(m));
  m.set ? m.set(7) : m.inc();
  seen.push(before, JSON.stringify(Object.entries(m).map(([k, v]) => [k, typeof v == 'function' ? (v.v ?? v.name) : v])));
}
seen.push(fn.fn(), klass.K.v, JSON.stringify(Object.keys(consts)), consts.default(), a);
later.set().then(() => {
  seen.push(later.late);
  document.getElementById('out').textContent = seen.join(' ');
});
`,
}

// TestBrowserExportsMatchNative loads the same modules as the browser's
// own ES modules (a static server) and through devserve's module mode,
// and wants the importer to see the same in both: live bindings however
// they are assigned, the names in order, and a read through a cycle.
func TestBrowserExportsMatchNative(t *testing.T) {
	browser := browsertest.New(t)
	dir := t.TempDir()
	writeTestFile(t, dir, "index.html", `<!doctype html><link rel="icon" href="data:,"><p id="out"></p><script type="module" src="/main.js"></script>`)
	for name, src := range exportCases {
		writeTestFile(t, dir, name, src)
	}
	native := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(native.Close)
	ts := startServer(t, dir, "127.0.0.1:0", Options{})

	got := map[string]string{}
	for _, u := range []string{native.URL, ts.URL} {
		tab := browsertest.NewTab(t, browser)
		if err := chromedp.Do(tab, chromedp.Navigate(u)); err != nil {
			t.Fatalf("navigate %s: %v", u, err)
		}
		waitJS(t, tab, `document.getElementById("out").textContent !== ""`)
		got[u] = evalJS[string](t, tab, `document.getElementById("out").textContent`)
	}
	if got[ts.URL] != got[native.URL] {
		t.Errorf("devserve's modules:\n%s\nthe browser's own:\n%s", got[ts.URL], got[native.URL])
	}
	t.Logf("%s", got[native.URL])
}
