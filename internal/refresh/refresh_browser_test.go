package refresh

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/devserve/devserve/internal/browsertest"
	"github.com/evanw/esbuild/pkg/api"
)

// appVersions are the versions of a module /src/App.jsx, as a developer
// saves them one after the other.
var appVersions = []string{
	// 0: the first version.
	`import { useState, memo, Component } from "react";
function useLabel(n) {
  return "n=" + n;
}
export default function App() {
  const [n, setN] = useState(0);
  const label = useLabel(n);
  return <button id="app" onClick={() => setN(n + 1)}>v0 {label}</button>;
}
export const Counter = memo(() => {
  const [c, setC] = useState(0);
  return <button id="counter" onClick={() => setC(c + 1)}>c0 {c}</button>;
});
export class Klass extends Component {
  state = { k: 0 };
  render() {
    return <button id="klass" onClick={() => this.setState({ k: this.state.k + 1 })}>k0 {this.state.k}</button>;
  }
}
`,
	// 1: only text changes: function components keep their state, the
	// class is remounted.
	`import { useState, memo, Component } from "react";
function useLabel(n) {
  return "n=" + n;
}
export default function App() {
  const [n, setN] = useState(0);
  const label = useLabel(n);
  return <button id="app" onClick={() => setN(n + 1)}>v1 {label}</button>;
}
export const Counter = memo(() => {
  const [c, setC] = useState(0);
  return <button id="counter" onClick={() => setC(c + 1)}>c1 {c}</button>;
});
export class Klass extends Component {
  state = { k: 0 };
  render() {
    return <button id="klass" onClick={() => this.setState({ k: this.state.k + 1 })}>k1 {this.state.k}</button>;
  }
}
`,
	// 2: App's initial state changes: App resets; Counter keeps its state.
	`import { useState, memo, Component } from "react";
function useLabel(n) {
  return "n=" + n;
}
export default function App() {
  const [n, setN] = useState(10);
  const label = useLabel(n);
  return <button id="app" onClick={() => setN(n + 1)}>v2 {label}</button>;
}
export const Counter = memo(() => {
  const [c, setC] = useState(0);
  return <button id="counter" onClick={() => setC(c + 1)}>c2 {c}</button>;
});
export class Klass extends Component {
  state = { k: 0 };
  render() {
    return <button id="klass" onClick={() => this.setState({ k: this.state.k + 1 })}>k2 {this.state.k}</button>;
  }
}
`,
	// 3: the custom hook App calls gets a hook of its own: App resets,
	// through the custom hooks its signature names.
	`import { useState, useRef, memo, Component } from "react";
function useLabel(n) {
  useRef(null);
  return "n=" + n;
}
export default function App() {
  const [n, setN] = useState(10);
  const label = useLabel(n);
  return <button id="app" onClick={() => setN(n + 1)}>v3 {label}</button>;
}
export const Counter = memo(() => {
  const [c, setC] = useState(0);
  return <button id="counter" onClick={() => setC(c + 1)}>c3 {c}</button>;
});
export class Klass extends Component {
  state = { k: 0 };
  render() {
    return <button id="klass" onClick={() => this.setState({ k: this.state.k + 1 })}>k3 {this.state.k}</button>;
  }
}
`,
}

// harness runs the versions of the module: window.load(n) runs version n
// (a CommonJS factory, as devserve's runtime has modules) and returns its
// exports, and window.update(n) runs it and lets React Refresh apply it.
// The root renders the first version's components, which React resolves
// to the latest through the registrations.
const harness = `import "virtual:prelude";
import * as React from "react";
import * as jsxRuntime from "react/jsx-runtime";
import { createRoot } from "react-dom/client";
const RefreshRuntime = window.RefreshRuntime;
const packages = { react: React, "react/jsx-runtime": jsxRuntime };
const versions = [VERSIONS];
window.load = (n) => {
  const module = { exports: {} };
  versions[n]((id) => packages[id], module, module.exports,
    (type, id) => RefreshRuntime.register(type, id), RefreshRuntime.createSignatureFunctionForTransform);
  return module.exports;
};
window.update = (n) => {
  const exports = window.load(n);
  window.boundary = Object.values(exports).every((e) => RefreshRuntime.isLikelyComponentType(e));
  RefreshRuntime.performReactRefresh();
};
const first = window.load(0);
createRoot(document.getElementById("root")).render(React.createElement(React.Fragment, null,
  React.createElement(first.default), React.createElement(first.Counter), React.createElement(first.Klass)));
`

// prelude installs the runtime before React DOM loads, as it must.
const prelude = `import RefreshRuntime from "react-refresh/runtime";
RefreshRuntime.injectIntoGlobalHook(window);
window.RefreshRuntime = RefreshRuntime;
`

// npmFixture is the folder of a project under testdata/npm whose packages
// .ci/run installs with npm ci; without them the test is skipped, or fails
// when the browser tests are required.
func npmFixture(t *testing.T, name string) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "testdata", "npm", name))
	if err != nil {
		t.Fatal(err)
	}
	browsertest.NeedPackages(t, dir, "npm ci")
	return dir
}

// compileVersion takes a version of /src/App.jsx through esbuild's
// Transform, Transform and esbuild again into a CommonJS factory.
func compileVersion(t *testing.T, src string) string {
	t.Helper()
	r := api.Transform(src, api.TransformOptions{Loader: api.LoaderJSX, JSX: api.JSXAutomatic, Sourcefile: "/src/App.jsx"})
	if len(r.Errors) > 0 {
		t.Fatal(r.Errors[0].Text)
	}
	out, info, err := Transform(r.Code, Options{ID: "/src/App.jsx"})
	if err != nil {
		t.Fatal(err)
	}
	if !info.Boundary() {
		t.Fatalf("not a boundary: %+v", info.Exports)
	}
	r = api.Transform(string(out), api.TransformOptions{Loader: api.LoaderJS, Format: api.FormatCommonJS})
	if len(r.Errors) > 0 {
		t.Fatalf("%s\n%s", r.Errors[0].Text, out)
	}
	return "function (require, module, exports, $RefreshReg$, $RefreshSig$) {\n" + string(r.Code) + "}"
}

func TestRefreshInBrowser(t *testing.T) {
	dir := npmFixture(t, "react19")
	var versions []string
	for _, v := range appVersions {
		versions = append(versions, compileVersion(t, v))
	}
	files := map[string]string{"harness": strings.Replace(harness, "VERSIONS", strings.Join(versions, ",\n"), 1), "prelude": prelude}
	b := api.Build(api.BuildOptions{
		EntryPoints: []string{"virtual:harness"}, Bundle: true, Write: false, Format: api.FormatESModule,
		Define: map[string]string{"process.env.NODE_ENV": `"development"`}, AbsWorkingDir: dir,
		Plugins: []api.Plugin{{Name: "virtual", Setup: func(pb api.PluginBuild) {
			pb.OnResolve(api.OnResolveOptions{Filter: "^virtual:"}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
				return api.OnResolveResult{Path: strings.TrimPrefix(a.Path, "virtual:"), Namespace: "virtual"}, nil
			})
			pb.OnLoad(api.OnLoadOptions{Filter: ".*", Namespace: "virtual"}, func(a api.OnLoadArgs) (api.OnLoadResult, error) {
				s := files[a.Path]
				return api.OnLoadResult{Contents: &s, ResolveDir: dir, Loader: api.LoaderJS}, nil
			})
		}}},
	})
	if len(b.Errors) > 0 {
		t.Fatal(b.Errors[0].Text)
	}
	script := b.OutputFiles[0].Contents
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/app.js" {
			w.Header().Set("Content-Type", "text/javascript")
			w.Write(script)
			return
		}
		fmt.Fprint(w, `<!doctype html><div id="root"></div><script type="module" src="/app.js"></script>`)
	}))
	defer srv.Close()

	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	want := func(app, counter, klass string) {
		t.Helper()
		expr := fmt.Sprintf(`document.querySelector("#app")?.textContent === %q && document.querySelector("#counter")?.textContent === %q && document.querySelector("#klass")?.textContent === %q`, app, counter, klass)
		if err := browsertest.WaitJS(ctx, expr, 5*time.Second); err != nil {
			got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("button")].map((b) => b.textContent).join(" | ")`))
			t.Fatalf("page shows %q, want %q | %q | %q", got, app, counter, klass)
		}
	}
	click := func(sel string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf("document.querySelector(%q).click(), true", sel))); err != nil {
			t.Fatal(err)
		}
	}
	update := func(n int) {
		t.Helper()
		boundary, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf("window.update(%d), window.boundary", n)))
		if err != nil {
			t.Fatal(err)
		}
		if !boundary {
			t.Errorf("version %d: the runtime does not take every export for a component", n)
		}
	}

	want("v0 n=0", "c0 0", "k0 0")
	click("#app")
	click("#app")
	click("#counter")
	click("#klass")
	want("v0 n=2", "c0 1", "k0 1")
	update(1) // text only: state kept, the class remounted
	want("v1 n=2", "c1 1", "k1 0")
	update(2) // App's initial state: App reset
	want("v2 n=10", "c2 1", "k2 0")
	click("#app")
	want("v2 n=11", "c2 1", "k2 0")
	update(3) // App's custom hook has a new hook: App reset
	want("v3 n=10", "c3 1", "k3 0")
	if unrecoverable, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("window.RefreshRuntime.hasUnrecoverableErrors()")); err != nil || unrecoverable {
		t.Errorf("unrecoverable errors: %v %v", unrecoverable, err)
	}
}
