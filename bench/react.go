//go:build linux

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The React cases: a generated project of React components (-projects
// react) and a copy of testdata/apps/react-ts (-projects app). Both are
// served from their own index.html by devserve, vite (with
// @vitejs/plugin-react) and bun, with the same react, react-dom and
// react-refresh packages: the project's node_modules is a folder of
// symlinks to the packages of a shared node_modules (the peers' by default).

// ReactProject is a React project on disk whose one component the harness
// edits, with a counter in that component whose state a hot update keeps.
type ReactProject struct {
	// Dir is the project root, holding index.html and node_modules.
	Dir string
	// Components is the number of generated components, 0 for the app.
	Components int
	// Selectors say where the probe finds the edited component's text (out,
	// whose color the CSS edit changes), the total shown once the whole
	// tree rendered, and the counter.
	Selectors Selectors
	// InitialLabel is the edited component's text in a fresh project.
	InitialLabel string
	// Total is the text of the total once the page has rendered; "" when
	// the page shows none.
	Total string
	// writeLabel rewrites the edited component to show label.
	writeLabel func(label string) error
	// writeColor rewrites the stylesheet to give out the color.
	writeColor func(color string) error
}

// WriteLabel rewrites the edited component to render label.
func (p *ReactProject) WriteLabel(label string) error { return p.writeLabel(label) }

// WriteColor rewrites the project's stylesheet to give the edited
// component's text the color.
func (p *ReactProject) WriteColor(color string) error { return p.writeColor(color) }

// MinComponents is the smallest generated React project.
const MinComponents = 2

// reactPackages are the packages a React project's node_modules must have.
var reactPackages = []string{"react", "react-dom", "react-refresh"}

// GenerateReactProject writes a project of n React components (n >= 2) into
// dir: src/c<i>.jsx exports the component C<i>, which has a useState counter
// and renders the components 10i+1 … 10i+10 below it, as the module tree of
// GenerateProject. The last component, the one the harness edits, shows
// its label in #out and its counter in #count. src/main.jsx renders C0 and
// #total with react-dom's createRoot; index.html links style.css. Its
// node_modules links every package of modules (see linkModules), and a
// vite.config.mjs adds @vitejs/plugin-react for vite (devserve and bun
// ignore it).
func GenerateReactProject(dir string, n int, modules string) (*ReactProject, error) {
	if n < MinComponents {
		return nil, fmt.Errorf("a React project of %d components: need at least %d", n, MinComponents)
	}
	p := &ReactProject{Dir: dir, Components: n, Selectors: idSelectors, InitialLabel: InitialLeaf,
		Total: fmt.Sprintf("%d components", n)}
	write := func(rel, content string) error {
		path := filepath.Join(dir, rel)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", rel, err)
		}
		return nil
	}
	edited := n - 1
	p.writeLabel = func(label string) error {
		return write(filepath.Join("src", fmt.Sprintf("c%d.jsx", edited)), reactComponent(edited, n, label))
	}
	p.writeColor = func(color string) error { return write("style.css", StyleCSS(color)) }

	if err := os.MkdirAll(filepath.Join(dir, "src"), 0o755); err != nil {
		return nil, fmt.Errorf("create React project dir: %w", err)
	}
	for i := range n {
		if err := write(filepath.Join("src", fmt.Sprintf("c%d.jsx", i)), reactComponent(i, n, p.InitialLabel)); err != nil {
			return nil, err
		}
	}
	files := map[string]string{
		"index.html":      reactIndexHTML(),
		"package.json":    reactPackageJSON,
		"vite.config.mjs": reactViteConfig,
		"style.css":       StyleCSS(InitialColor),
		"src/main.jsx":    reactMain(p.Total),
	}
	for name, content := range files {
		if err := write(name, content); err != nil {
			return nil, err
		}
	}
	if err := linkModules(filepath.Join(dir, "node_modules"), modules); err != nil {
		return nil, err
	}
	return p, nil
}

// reactComponent returns src/c<i>.jsx of a project of n components. Every
// component keeps a counter in useState; the edited one (the last) shows
// label in #out and its counter in #count, the others their own names.
// The module exports its component alone, so that it is a Fast Refresh
// boundary for every tool.
func reactComponent(i, n int, label string) string {
	var b strings.Builder
	b.WriteString("import { useState } from 'react';\n")
	var kids []int
	for c := fanOut*i + 1; c <= fanOut*i+fanOut && c < n; c++ {
		fmt.Fprintf(&b, "import { C%d } from './c%d.jsx';\n", c, c)
		kids = append(kids, c)
	}
	lit, _ := json.Marshal(label) // a string always encodes
	text, countID := fmt.Sprintf("<span>c%d</span>", i), ""
	if i == n-1 {
		text, countID = fmt.Sprintf("<span id=\"out\">{%s}</span>", lit), ` id="count"`
	}
	fmt.Fprintf(&b, "\nexport function C%d() {\n  const [n, setN] = useState(0);\n  return (\n    <div className=\"c\">\n", i)
	fmt.Fprintf(&b, "      %s\n      <button%s onClick={() => setN(n + 1)}>{n}</button>\n", text, countID)
	for _, c := range kids {
		fmt.Fprintf(&b, "      <C%d />\n", c)
	}
	b.WriteString("    </div>\n  );\n}\n")
	return b.String()
}

// reactMain returns src/main.jsx: it renders the tree and then #total, in
// one commit, so that #total shows once the whole tree is in the page.
func reactMain(total string) string {
	lit, _ := json.Marshal(total) // a string always encodes
	return fmt.Sprintf(`import { createRoot } from 'react-dom/client';
import { C0 } from './c0.jsx';

createRoot(document.getElementById('root')).render(
  <>
    <C0 />
    <p id="total">{%s}</p>
  </>
);
`, lit)
}

// reactIndexHTML is the generated React project's page: the probe, the
// stylesheet, the entry and the root element.
func reactIndexHTML() string {
	return "<!doctype html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>devserve bench: React</title>\n" +
		probeScript(idSelectors) + "\n" +
		"<link rel=\"stylesheet\" href=\"/style.css\">\n" +
		"<script type=\"module\" src=\"/src/main.jsx\"></script>\n" +
		"</head>\n<body>\n<div id=\"root\"></div>\n</body>\n</html>\n"
}

// reactPackageJSON is the generated project's package.json: its dependency
// on react is what makes devserve use React's JSX runtime and Fast Refresh.
const reactPackageJSON = `{
  "name": "devserve-bench-react",
  "private": true,
  "type": "module",
  "dependencies": {
    "react": "*",
    "react-dom": "*"
  }
}
`

// reactViteConfig is vite's configuration of the generated project: the
// React plugin, which adds Fast Refresh, as a React project made with vite
// has it.
const reactViteConfig = `import react from '@vitejs/plugin-react';

export default { plugins: [react()] };
`

// checkReactModules says whether the node_modules folder dir holds
// reactPackages.
func checkReactModules(dir string) error {
	for _, pkg := range reactPackages {
		if _, err := os.Stat(filepath.Join(dir, pkg, "package.json")); err != nil {
			return fmt.Errorf("the react and app projects need %s in %s (npm ci in testdata/bench-peers, or -react-modules): %w",
				strings.Join(reactPackages, ", "), dir, err)
		}
	}
	return nil
}

// linkModules makes dst a folder with a symlink to each package of the
// node_modules folder src (scoped folders whole; dot entries such as .bin
// and caches left out), so that every tool resolves the same files while
// what a tool writes into node_modules (vite's .vite cache) stays in the
// project. src must hold reactPackages.
func linkModules(dst, src string) error {
	if err := checkReactModules(src); err != nil {
		return err
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return fmt.Errorf("read node_modules to link: %w", err)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return fmt.Errorf("create node_modules: %w", err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if err := os.Symlink(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			return fmt.Errorf("link node_modules/%s: %w", e.Name(), err)
		}
	}
	return nil
}

// App is the real app of -projects app: testdata/apps/react-ts.
const App = "testdata/apps/react-ts"

// appLabel is the text of the app's h1, which the component edit replaces.
const appLabel = "Get started"

// CopyApp copies the app at src (without its node_modules) to dir, links
// node_modules as GenerateReactProject does, and puts the probe first in
// the copy's <head>: the only change to the app's files, but for
// publicAtRoot, which copies the files of public/ next to index.html as
// well, for a tool that resolves the page's URLs (the favicon) as files
// from the root and has no public/ folder (bun). The component edit
// rewrites the h1 of src/App.tsx; the counter is the app's own button; the
// CSS edit appends a rule for the h1 to src/App.css.
func CopyApp(src, dir, modules string, publicAtRoot bool) (*ReactProject, error) {
	if err := copyTree(src, dir); err != nil {
		return nil, fmt.Errorf("copy %s: %w", src, err)
	}
	if publicAtRoot {
		if err := copyTree(filepath.Join(src, "public"), dir); err != nil {
			return nil, fmt.Errorf("copy %s/public to the root: %w", src, err)
		}
	}
	sel := Selectors{Out: "#center h1", Count: "button.counter"}
	html, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		return nil, fmt.Errorf("read the app's page: %w", err)
	}
	head := strings.Index(string(html), "<head>")
	if head < 0 {
		return nil, errors.New("the app's index.html has no <head>")
	}
	head += len("<head>")
	page := string(html[:head]) + "\n" + probeScript(sel) + string(html[head:])
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte(page), 0o644); err != nil {
		return nil, fmt.Errorf("write the app's page: %w", err)
	}
	appTSX := filepath.Join(dir, "src", "App.tsx")
	component, err := os.ReadFile(appTSX)
	if err != nil {
		return nil, fmt.Errorf("read the app's component: %w", err)
	}
	h1 := "<h1>" + appLabel + "</h1>"
	if strings.Count(string(component), h1) != 1 {
		return nil, fmt.Errorf("%s: want one %s to edit", appTSX, h1)
	}
	appCSS := filepath.Join(dir, "src", "App.css")
	style, err := os.ReadFile(appCSS)
	if err != nil {
		return nil, fmt.Errorf("read the app's stylesheet: %w", err)
	}
	p := &ReactProject{Dir: dir, Selectors: sel, InitialLabel: appLabel}
	p.writeLabel = func(label string) error {
		out := strings.Replace(string(component), h1, "<h1>"+label+"</h1>", 1)
		if err := os.WriteFile(appTSX, []byte(out), 0o644); err != nil {
			return fmt.Errorf("write App.tsx: %w", err)
		}
		return nil
	}
	p.writeColor = func(color string) error {
		out := string(style) + fmt.Sprintf("\n#center h1 {\n  color: %s;\n}\n", color)
		if err := os.WriteFile(appCSS, []byte(out), 0o644); err != nil {
			return fmt.Errorf("write App.css: %w", err)
		}
		return nil
	}
	if err := linkModules(filepath.Join(dir, "node_modules"), modules); err != nil {
		return nil, err
	}
	return p, nil
}

// copyTree copies the regular files and folders of src into dst, leaving
// out node_modules.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir() && d.Name() == "node_modules":
			return filepath.SkipDir
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case !d.Type().IsRegular():
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
}

// bumpCount returns the counter's text after one click: its trailing number
// plus one ("Count is 3" -> "Count is 4", "" or "x" -> "1" appended to the
// text before it).
func bumpCount(text string) string {
	i := len(text)
	for i > 0 && text[i-1] >= '0' && text[i-1] <= '9' {
		i--
	}
	n, _ := strconv.Atoi(text[i:]) // "" is 0
	return text[:i] + strconv.Itoa(n+1)
}
