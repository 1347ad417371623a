//go:build linux

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// fanOut is how many child modules each module of the generated tree imports.
const fanOut = 10

// Layout says which URLs a tool's index.html must point at, and what extra
// markup it needs. Each tool gets its own variant of the project.
type Layout struct {
	// ScriptSrc is the src of the <script type="module"> entry.
	ScriptSrc string
	// StyleHref is the href of the stylesheet link.
	StyleHref string
	// Classic makes the entry a classic deferred script instead of a module
	// script, for a bundler whose output is not an ES module.
	Classic bool
	// HeadExtra is markup added at the end of <head>, for example a tool's
	// live-reload snippet.
	HeadExtra string
}

// plainLayout is the project as a user writes it: the page points straight at
// the source files. devserve and vite serve this one.
var plainLayout = Layout{ScriptSrc: "/main.js", StyleHref: "/style.css"}

// Project is a generated benchmark project on disk.
type Project struct {
	// Dir is the project root, holding index.html, main.js, leaf.js,
	// hot.js, style.css and mods/.
	Dir string
	// Modules is the number of ES modules: main.js, leaf.js, hot.js and the
	// tree.
	Modules int
	// Tree is the number of modules in mods/ (Modules - 3).
	Tree int
	// values holds the exported number v of each tree module, so that edits
	// can change them and the harness knows the expected total.
	values []int
}

// Selectors say where the probe finds what it watches: out (a text, and
// its computed color), total and hot (texts), and count (a counter the
// harness clicks, to check that a hot update kept a component's state). An
// empty selector is not watched.
type Selectors struct {
	Out, Total, Hot, Count string
}

// idSelectors are the selectors of the generated projects: elements with
// the ids out, total, hot and count.
var idSelectors = Selectors{Out: "#out", Total: "#total", Hot: "#hot", Count: "#count"}

// probeTemplate is the inline classic script at the top of every page's
// <head>; %s is the JSON of the selectors. It runs before anything else of
// the page and records, with the page's wall clock (performance.timeOrigin
// + performance.now()), when a text of out, total, hot or count, or a
// computed color of out, first appeared in this document. It checks on
// every DOM mutation, on every load event (a stylesheet that finished
// loading) and on every animation frame. It also counts document loads in
// sessionStorage, so that reloads are visible across navigations, and it
// clicks the counter when asked.
const probeTemplate = `<script>
(function () {
  var sel = %s;
  var now = function () { return performance.timeOrigin + performance.now(); };
  var loads = +(sessionStorage.getItem('bench.loads') || 0) + 1;
  sessionStorage.setItem('bench.loads', String(loads));
  var b = window.__bench = { loads: loads, marker: '', text: {}, color: {} };
  function el(key) { return sel[key] ? document.querySelector(sel[key]) : null; }
  function seen(map, key) { if (!(key in map)) map[key] = now(); }
  function check() {
    ['out', 'total', 'hot', 'count'].forEach(function (key) {
      var e = el(key);
      if (e) seen(b.text, key + ':' + e.textContent);
    });
    var out = el('out');
    if (out) seen(b.color, getComputedStyle(out).color);
  }
  new MutationObserver(check).observe(document, { subtree: true, childList: true, characterData: true });
  document.addEventListener('load', check, true);
  (function frame() { check(); requestAnimationFrame(frame); })();
  function text(key) { var e = el(key); return e ? e.textContent : ''; }
  b.click = function () { var e = el('count'); if (!e) return false; e.click(); return true; };
  b.query = function (out, total, color, hot) {
    return {
      loads: +(sessionStorage.getItem('bench.loads') || 0),
      runs: +(sessionStorage.getItem('bench.runs') || 0),
      marker: b.marker,
      outAt: out ? (b.text['out:' + out] || 0) : 0,
      totalAt: total ? (b.text['total:' + total] || 0) : 0,
      colorAt: color ? (b.color[color] || 0) : 0,
      hotAt: hot ? (b.text['hot:' + hot] || 0) : 0,
      out: text('out'), total: text('total'), hot: text('hot'), count: text('count'),
      ready: document.readyState === 'complete',
      bundled: !!globalThis.__devserve_bundled
    };
  };
})();
</script>`

// probeScript returns the probe for the given selectors.
func probeScript(sel Selectors) string {
	js, err := json.Marshal(map[string]string{"out": sel.Out, "total": sel.Total, "hot": sel.Hot, "count": sel.Count})
	if err != nil {
		panic(err) // a map of strings always encodes
	}
	return fmt.Sprintf(probeTemplate, js)
}

// GenerateProject writes a project of n ES modules (n >= 4) into dir with the
// given index.html layout. The entry main.js imports leaf.js, hot.js and the
// root of a tree of n-3 modules in mods/, where module i imports modules
// fanOut*i+1 … fanOut*i+fanOut. Each tree module exports a number v and the
// total of v over its subtree; main.js writes the leaf's value into #out and
// the tree's total into #total. hot.js writes its own value into #hot and is
// the only module that accepts hot updates (its own), so an edit of any other
// module is a full reload.
func GenerateProject(dir string, n int, layout Layout) (*Project, error) {
	if n < MinModules {
		return nil, fmt.Errorf("project of %d modules: need at least %d (main.js, leaf.js, hot.js and one tree module)", n, MinModules)
	}
	p := &Project{Dir: dir, Modules: n, Tree: n - 3, values: make([]int, n-3)}
	if err := os.MkdirAll(filepath.Join(dir, "mods"), 0o755); err != nil {
		return nil, fmt.Errorf("create project dir: %w", err)
	}
	for i := range p.values {
		p.values[i] = 1
		if err := p.writeTreeModule(i); err != nil {
			return nil, err
		}
	}
	files := map[string]string{
		"index.html": indexHTML(layout),
		"main.js":    mainJS(),
		"style.css":  StyleCSS(InitialColor),
	}
	for name, content := range files {
		if err := p.write(name, content); err != nil {
			return nil, err
		}
	}
	if err := p.WriteLeaf(InitialLeaf); err != nil {
		return nil, err
	}
	if err := p.WriteHot(InitialHot); err != nil {
		return nil, err
	}
	return p, nil
}

// MinModules is the smallest project: main.js, leaf.js, hot.js and one tree
// module.
const MinModules = 4

// InitialLeaf is the value that leaf.js exports in a fresh project.
const InitialLeaf = "leaf-0"

// InitialHot is the value that hot.js exports in a fresh project.
const InitialHot = "hot-0"

// InitialColor is the color of #out in a fresh project's style.css.
const InitialColor = "rgb(1, 1, 1)"

// indexHTML returns the page of one layout, with the probe first in <head>.
func indexHTML(l Layout) string {
	var b strings.Builder
	b.WriteString("<!doctype html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>devserve bench</title>\n")
	b.WriteString(probeScript(idSelectors))
	b.WriteString("\n")
	fmt.Fprintf(&b, "<link rel=\"stylesheet\" href=%q>\n", l.StyleHref)
	if l.Classic {
		fmt.Fprintf(&b, "<script defer src=%q></script>\n", l.ScriptSrc)
	} else {
		fmt.Fprintf(&b, "<script type=\"module\" src=%q></script>\n", l.ScriptSrc)
	}
	if l.HeadExtra != "" {
		b.WriteString(l.HeadExtra)
		b.WriteString("\n")
	}
	b.WriteString("</head>\n<body>\n<p id=\"out\"></p>\n<p id=\"total\"></p>\n<p id=\"hot\"></p>\n</body>\n</html>\n")
	return b.String()
}

// mainJS returns the entry module. It counts its runs in sessionStorage and
// writes #total before #out, so that a page showing the new #out also shows
// the total of the same run. It imports hot.js only for its effect: hot.js
// writes #hot itself.
func mainJS() string {
	return `import { value } from './leaf.js';
import { total } from './mods/m0.js';
import './hot.js';

sessionStorage.setItem('bench.runs', String(+(sessionStorage.getItem('bench.runs') || 0) + 1));
document.getElementById('total').textContent = String(total);
document.getElementById('out').textContent = value;
`
}

// StyleCSS returns style.css with #out in the given color, written as the
// browser reports a computed color ("rgb(r, g, b)").
func StyleCSS(color string) string {
	return fmt.Sprintf("body { font-family: sans-serif; }\n#out { color: %s; }\n", color)
}

// EditColor returns a distinct color for the i-th CSS edit (i >= 0), never
// InitialColor.
func EditColor(i int) string {
	i++ // skip rgb(0, 0, *) patterns that could match InitialColor
	return fmt.Sprintf("rgb(200, %d, %d)", (i/256)%256, i%256)
}

// writeTreeModule writes mods/m<i>.js with its current value.
func (p *Project) writeTreeModule(i int) error {
	var b strings.Builder
	var kids []string
	for c := fanOut*i + 1; c <= fanOut*i+fanOut && c < p.Tree; c++ {
		fmt.Fprintf(&b, "import { total as t%d } from './m%d.js';\n", c, c)
		kids = append(kids, fmt.Sprintf("t%d", c))
	}
	fmt.Fprintf(&b, "\nexport const v = %d;\n", p.values[i])
	fmt.Fprintf(&b, "export const total = %s;\n", strings.Join(append([]string{"v"}, kids...), " + "))
	return p.write(filepath.Join("mods", fmt.Sprintf("m%d.js", i)), b.String())
}

// WriteLeaf writes leaf.js exporting value.
func (p *Project) WriteLeaf(value string) error {
	lit, err := json.Marshal(value)
	if err != nil {
		return fmt.Errorf("encode leaf value: %w", err)
	}
	return p.write("leaf.js", fmt.Sprintf("export const value = %s;\n", lit))
}

// hotJS returns hot.js exporting value. It writes the value into #hot itself
// and accepts its own updates, so that a tool with hot module replacement
// runs the new version in place: import.meta.hot for devserve and vite (and
// undefined for esbuild, whose serve has no HMR), import.meta.webpackHot for
// webpack.
func hotJS(lit []byte) string {
	return fmt.Sprintf(`export const value = %s;

document.getElementById("hot").textContent = value;

if (import.meta.hot) import.meta.hot.accept();
if (import.meta.webpackHot) import.meta.webpackHot.accept();
`, lit)
}

// WriteHot writes hot.js exporting value.
func (p *Project) WriteHot(value string) error {
	lit, err := json.Marshal(value)
	if err != nil {
		return fmt.Errorf("encode hot value: %w", err)
	}
	return p.write("hot.js", hotJS(lit))
}

// WriteStyle writes style.css with #out in color.
func (p *Project) WriteStyle(color string) error {
	return p.write("style.css", StyleCSS(color))
}

// Total is the sum of the tree modules' values: what the page shows in #total.
func (p *Project) Total() int {
	t := 0
	for _, v := range p.values {
		t += v
	}
	return t
}

// Burst increments the value of the first k tree modules (fewer when the tree
// is smaller) and then writes leaf.js with leaf, all in one quick loop. It
// returns how many files it wrote.
func (p *Project) Burst(k int, leaf string) (int, error) {
	k = min(k, p.Tree)
	var errs []error
	for i := range k {
		p.values[i]++
		errs = append(errs, p.writeTreeModule(i))
	}
	errs = append(errs, p.WriteLeaf(leaf))
	return k + 1, errors.Join(errs...)
}

// write writes a file under the project root, the way an editor saves it
// in place.
func (p *Project) write(rel, content string) error {
	if err := os.WriteFile(filepath.Join(p.Dir, rel), []byte(content), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", rel, err)
	}
	return nil
}
