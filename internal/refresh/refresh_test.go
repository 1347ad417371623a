package refresh

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/evanw/esbuild/pkg/api"
)

// goldenCase is one file of testdata/transform: a module, the output of
// Transform with Options{ID: "/a.js", FullKeys: true}, the components it
// registers and whether it is a boundary. The files follow the cases of
// react-refresh's own tests, with JSX compiled (jsx(...) calls) as esbuild
// gives modules to Transform, and add devserve's.
type goldenCase struct {
	file, in, out string
	components    []string
	boundary      bool
}

// readGolden reads the cases of testdata/transform. A file is a title line
// and sections "-- in --", "-- out --", "-- components --" (one a line)
// and "-- boundary --".
func readGolden(t testing.TB) []goldenCase {
	t.Helper()
	files, err := filepath.Glob("testdata/transform/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test cases: %v", err)
	}
	var cases []goldenCase
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		sections := map[string]string{}
		var cur string
		for _, line := range strings.SplitAfter(string(data), "\n") {
			if strings.HasPrefix(line, "-- ") && strings.HasSuffix(line, " --\n") {
				cur = strings.TrimSuffix(strings.TrimPrefix(line, "-- "), " --\n")
				continue
			}
			if cur != "" {
				sections[cur] += line
			}
		}
		c := goldenCase{file: name, in: sections["in"], out: sections["out"],
			boundary: strings.TrimSpace(sections["boundary"]) == "true"}
		c.components = strings.Fields(sections["components"])
		cases = append(cases, c)
	}
	return cases
}

func TestTransform(t *testing.T) {
	for _, c := range readGolden(t) {
		t.Run(filepath.Base(c.file), func(t *testing.T) {
			out, info, err := Transform([]byte(c.in), Options{ID: "/a.js", FullKeys: true})
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != c.out {
				t.Errorf("output:\n%s\nwant:\n%s", out, c.out)
			}
			if !slices.Equal(info.Components, c.components) {
				t.Errorf("components %q, want %q", info.Components, c.components)
			}
			if info.Boundary() != c.boundary {
				t.Errorf("boundary %v, want %v (exports %+v)", info.Boundary(), c.boundary, info.Exports)
			}
			checkEdits(t, c.in, out, info)
			checkEsbuild(t, out)
			checkMeaning(t, c.in)
		})
	}
}

// checkEdits checks that info.Edits make out from in, and that only the
// last, at the end, adds lines.
func checkEdits(t *testing.T, in string, out []byte, info Info) {
	t.Helper()
	var sb strings.Builder
	at := 0
	for i, e := range info.Edits {
		if e.Offset < at || e.Offset > len(in) {
			t.Fatalf("edit %d at %d after %d", i, e.Offset, at)
		}
		if strings.ContainsAny(e.Text, "\n\r") && (i != len(info.Edits)-1 || e.Offset != len(in)) {
			t.Errorf("edit %d at %d adds a line: %q", i, e.Offset, e.Text)
		}
		sb.WriteString(in[at:e.Offset] + e.Text)
		at = e.Offset
	}
	sb.WriteString(in[at:])
	if sb.String() != string(out) {
		t.Errorf("the edits make\n%s\nnot\n%s", sb.String(), out)
	}
}

// checkMeaning checks that the output of transform with parens, where
// every construct Transform adds around an expression is a pair of
// parentheses, means what the input means: that esbuild prints both alike.
// Misplaced, the parentheses would group something else.
func checkMeaning(t *testing.T, in string) {
	t.Helper()
	out, _, err := transform([]byte(in), Options{}, true)
	if err != nil {
		t.Fatal(err)
	}
	a := api.Transform(in, api.TransformOptions{Loader: api.LoaderJS})
	b := api.Transform(string(out), api.TransformOptions{Loader: api.LoaderJS})
	if len(a.Errors) > 0 || len(b.Errors) > 0 || !bytes.Equal(a.Code, b.Code) {
		t.Fatalf("the inserted constructs change the meaning of\n%s\nas\n%s", in, out)
	}
}

// checkEsbuild checks that esbuild accepts code.
func checkEsbuild(t *testing.T, code []byte) {
	t.Helper()
	r := api.Transform(string(code), api.TransformOptions{Loader: api.LoaderJS})
	if len(r.Errors) > 0 {
		t.Fatalf("esbuild rejects the output: %s\n%s", r.Errors[0].Text, code)
	}
}

func TestHashedKeys(t *testing.T) {
	in := "function useCounter() {\n  const [n, setN] = useState(0);\n  return n;\n}\n"
	out, info, err := Transform([]byte(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum([]byte("useState{[n, setN](0)}"))
	want := `}_s(useCounter, "` + base64.StdEncoding.EncodeToString(sum[:]) + `");`
	if !strings.Contains(string(out), want) {
		t.Errorf("output:\n%s\nwant it to contain %s", out, want)
	}
	if info.Signatures != 1 || len(info.Components) != 0 || info.Boundary() {
		t.Errorf("info %+v: want a signature, no component, no boundary", info)
	}
}

func TestOptions(t *testing.T) {
	in := "export function App() {\n  useEffect(() => {});\n  return null;\n}\n"
	out, _, err := Transform([]byte(in), Options{Register: "import.meta.hot.refreshReg",
		Signature: "import.meta.hot.refreshSig", ForceReset: true, FullKeys: true})
	if err != nil {
		t.Fatal(err)
	}
	want := "var _s = import.meta.hot.refreshSig();export function App() {_s();\n" +
		"  useEffect(() => {});\n" +
		"  return null;\n" +
		"}_s(App, \"useEffect{}\", true);_c = App;\n" +
		"var _c;\n" +
		"import.meta.hot.refreshReg(_c, \"App\");\n"
	if string(out) != want {
		t.Errorf("output:\n%s\nwant:\n%s", out, want)
	}
}

// TestNames: the names the transform adds avoid those of the module, and
// an ID is quoted.
func TestNames(t *testing.T) {
	in := "const _c = 1, _s = 2, _c2 = 3;\nexport function App() { useState(_c + _s + _c2); }\n"
	out, _, err := Transform([]byte(in), Options{ID: "/src/\"odd\"\n.js", FullKeys: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"var _s2 = $RefreshSig$();", "_s2(App, ", "_c3 = App;", `$RefreshReg$(_c3, "/src/\"odd\"\n.js App");`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output:\n%s\nwant it to contain %s", out, want)
		}
	}
	checkEsbuild(t, out)
}

func TestNothingToDo(t *testing.T) {
	in := []byte("export const answer = 42;\nexport function helper() { return answer; }\n")
	out, info, err := Transform(in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if &out[0] != &in[0] || len(info.Edits) != 0 {
		t.Errorf("output %q, edits %v: want the input itself", out, info.Edits)
	}
	want := []Export{{Name: "answer", Local: "answer"}, {Name: "helper", Local: "helper"}}
	if !slices.Equal(info.Exports, want) || info.Boundary() {
		t.Errorf("exports %+v (boundary %v), want %+v and no boundary", info.Exports, info.Boundary(), want)
	}
}

func TestExports(t *testing.T) {
	in := `export { A as "a-b", B as default } from "./x";
export * as ns from "./y";
export const [p, { q, r: s }] = pair, t = 1;
export async function* gen() {}
export class K {}
`
	_, info, err := Transform([]byte(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range info.Exports {
		got = append(got, e.Name+"="+e.Local)
	}
	want := []string{"a-b=", "default=", "ns=", "p=p", "q=q", "s=s", "t=t", "gen=gen", "K=K"}
	if !slices.Equal(got, want) {
		t.Errorf("exports %q, want %q", got, want)
	}
}

func TestWantsReset(t *testing.T) {
	if !WantsReset([]byte("/* @refresh reset */\nexport const A = () => null;")) || WantsReset([]byte("// @refresh")) {
		t.Error("WantsReset is wrong")
	}
}

func TestSyntaxErrors(t *testing.T) {
	for _, in := range []string{
		"const a = <div>Don't</div>;",
		"const f = <T,>(x: T) => x;",
		`const s = "abc`,
		"f(1, 2",
		"f(1, 2]",
		"/* no end",
		"const t = `a${b`",
		"x = /abc",
		"a ` b",
	} {
		_, _, err := Transform([]byte(in), Options{})
		if !errors.Is(err, ErrSyntax) {
			t.Errorf("%q: err %v, want ErrSyntax", in, err)
		}
	}
}

// TestRegex: what the lexer takes for a regular expression.
func TestRegex(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"x = a / b / c", nil},
		{"if (x) /re/.test(s)", []string{"/re/"}},
		{"while (a) /b/g.test(c)", []string{"/b/g"}},
		{"for await (const x of /a/g.exec(s)) ;", []string{"/a/g"}},
		{"return /re/", []string{"/re/"}},
		{"{}\n/re/.test(s)", []string{"/re/"}},
		{"a = {} / 2 / 3", nil},
		{"x = function(){} / 2 / 3", nil},
		{"function f(){}\n/re/.test(s)", []string{"/re/"}},
		{"class A {}\n/re/.test(s)", []string{"/re/"}},
		{"x = class {} / 2 / 3", nil},
		{"const f = () => {}\n/re/.test(s)", []string{"/re/"}},
		{"let of = 1; of / 2 / 3", nil},
		{"a.return / 2 / 3", nil},
		{"`${a}` / 2 / 3", nil},
		{"x = `${/a/}`", []string{"/a/"}},
		{"x = y\n/re/g.test(z)", nil},
		{"x++ / 2 / 3", nil},
		{"a ? /x/ : /y/", []string{"/x/", "/y/"}},
		{"[/x/, (/y/)]", []string{"/x/", "/y/"}},
		{"x = /[/]'/.source", []string{"/[/]'/"}},
		{"switch (a) { case /x/: break }", []string{"/x/"}},
		{"label: /x/", []string{"/x/"}},
		{"x = {a: /x/}", []string{"/x/"}},
		{"x = y /= 2 / 3", nil},
		{"x = (a) / 2 / 3", nil},
		{"do /x/.exec(a); while (0)", []string{"/x/"}},
		{"typeof /x/", []string{"/x/"}},
	} {
		l, err := lex(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		var got []string
		for _, tok := range l.toks {
			if tok.kind == tRegex {
				got = append(got, tok.text)
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%q: regular expressions %q, want %q", c.in, got, c.want)
		}
	}
}

// tsxSource is a TypeScript React module as a project has it.
const tsxSource = `import { useState, memo, type FC } from "react";
import { useTheme } from "./theme";

interface Props { label: string }

/** The app. */
export default function App({ label }: Props) {
  const [count, setCount] = useState<number>(0);
  const theme = useTheme();
  return (
    <button className={theme} onClick={() => setCount(count + 1)}>
      {label}: {count} {"don't"}
    </button>
  );
}

export const Item: FC<Props> = memo(({ label }) => <li>{label}</li>);

export type Mode = "light" | "dark";
`

// TestTypeScript takes a TSX module through esbuild's Transform, as the
// bundler would, then through Transform.
func TestTypeScript(t *testing.T) {
	for _, jsx := range []api.JSX{api.JSXAutomatic, api.JSXTransform} {
		r := api.Transform(tsxSource, api.TransformOptions{Loader: api.LoaderTSX, JSX: jsx, JSXDev: true, Sourcefile: "/src/App.tsx"})
		if len(r.Errors) > 0 {
			t.Fatal(r.Errors[0].Text)
		}
		out, info, err := Transform(r.Code, Options{ID: "/src/App.tsx", FullKeys: true})
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"App", "Item$memo", "Item"}; !slices.Equal(info.Components, want) {
			t.Errorf("components %q, want %q", info.Components, want)
		}
		if !info.Boundary() || info.Signatures != 1 {
			t.Errorf("boundary %v, %d signatures (exports %+v): want a boundary with 1", info.Boundary(), info.Signatures, info.Exports)
		}
		want := `_s(App, "useState{[count, setCount](0)}\nuseTheme{theme}", false, function () { return [useTheme]; });`
		if !strings.Contains(string(out), want) {
			t.Errorf("output:\n%s\nwant it to contain %s", out, want)
		}
		checkEdits(t, string(r.Code), out, info)
		checkEsbuild(t, out)
	}
}

// FuzzTransform: Transform never panics and, given a module that esbuild
// accepts (or esbuild's own output for it, what the bundler gives), makes
// one that esbuild accepts, with the input's lines.
func FuzzTransform(f *testing.F) {
	for _, c := range readGolden(f) {
		f.Add(c.in)
	}
	for _, s := range []string{
		tsxSource,
		"export default memo(function () { useState(); })",
		"x = y\n/re/g.test(z); if (a) /b/.test(c); const f = () => {}\n/x/.test(s)",
		"a ? b : {c: () => { useX() }}; label: for (;;) { function F() { useY() } break label }",
		"switch (a) { case 1: { const A = () => useZ(); } default: function B() { useW() } }",
		"new function () { useA() }; (function F() { useB() })(); `${() => useC()}`",
		"class A { static { useX() } m() { useY() } f = () => useZ(); static #p = function () { useQ() } }",
		"export default function () { useQ() }\nexport const { A = () => useR() } = o;",
		"const A = async () => { await useThing() }, B = async function* () { yield useOther() };",
		"'use strict'\nfunction App() { 'use strict'; useS() }",
		"#!/usr/bin/env node\nconst App = () => useT()",
		"for (const A = () => useU(); ;) break; if (x) var B = () => useV();",
		"obj = { function() { useX() }, class: 1, async *gen() { useY() } }",
		"const C = memo((props) => useD(props)), D = x => useE(x)\n(y)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if len(api.Transform(src, api.TransformOptions{Loader: api.LoaderJS}).Errors) == 0 {
			fuzzCheck(t, src)
		}
		if r := api.Transform(src, api.TransformOptions{Loader: api.LoaderTSX}); len(r.Errors) == 0 {
			fuzzCheck(t, string(r.Code))
		}
	})
}

func fuzzCheck(t *testing.T, src string) {
	out, info, err := Transform([]byte(src), Options{ID: "/f.js"})
	if err != nil {
		if !errors.Is(err, ErrSyntax) {
			t.Fatalf("%q: error %v is no ErrSyntax", src, err)
		}
		return
	}
	checkEdits(t, src, out, info)
	if !bytes.Equal(out, []byte(src)) {
		if r := api.Transform(string(out), api.TransformOptions{Loader: api.LoaderJS}); len(r.Errors) > 0 {
			t.Fatalf("esbuild accepts\n%s\nbut not the output: %s\n%s", src, r.Errors[0].Text, out)
		}
		checkMeaning(t, src)
	}
}

// TestCorpus runs the checks of FuzzTransform on every JavaScript and
// TypeScript file under the folders listed in $DEVSERVE_REFRESH_CORPUS
// (separated by colons), e.g. the node_modules of testdata/npm/react19:
// each file as it is when esbuild accepts it as JavaScript, and esbuild's
// Transform of it. It takes a minute or two, so it is not run by default.
// When written, it passed on 20,075 inputs: the packages of
// testdata/npm/react19 (React, React DOM, Vue, Lit, MSW, Redux, React
// Router...), npm's own code, the Vite templates and rustdoc's scripts.
func TestCorpus(t *testing.T) {
	dirs := os.Getenv("DEVSERVE_REFRESH_CORPUS")
	if dirs == "" {
		t.Skip("DEVSERVE_REFRESH_CORPUS names no folders")
	}
	loaders := map[string]api.Loader{".js": api.LoaderJS, ".mjs": api.LoaderJS, ".cjs": api.LoaderJS,
		".jsx": api.LoaderJSX, ".ts": api.LoaderTS, ".mts": api.LoaderTS, ".tsx": api.LoaderTSX}
	n := 0
	for _, dir := range filepath.SplitList(dirs) {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			loader := loaders[filepath.Ext(p)]
			if err != nil || d.IsDir() || loader == api.LoaderNone || strings.HasSuffix(p, ".d.ts") {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			t.Run(p, func(t *testing.T) {
				if loader == api.LoaderJS && len(api.Transform(string(data), api.TransformOptions{Loader: loader}).Errors) == 0 {
					fuzzCheck(t, string(data))
					n++
				}
				if r := api.Transform(string(data), api.TransformOptions{Loader: loader, JSX: api.JSXAutomatic}); len(r.Errors) == 0 {
					fuzzCheck(t, string(r.Code))
					n++
				}
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d inputs", n)
}

// TestSourceMapChain shows how a bundler keeps source maps right: it
// loads a TSX file through esbuild's Transform and Transform in an OnLoad
// plugin, with the Transform's source map inline, and esbuild's build maps
// its output to the TSX source through it, to the line.
func TestSourceMapChain(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "App.tsx")
	if err := os.WriteFile(file, []byte(tsxSource), 0o644); err != nil {
		t.Fatal(err)
	}
	load := func(a api.OnLoadArgs) (api.OnLoadResult, error) {
		src, err := os.ReadFile(a.Path)
		if err != nil {
			return api.OnLoadResult{}, err
		}
		r := api.Transform(string(src), api.TransformOptions{Loader: api.LoaderTSX, JSX: api.JSXAutomatic,
			Sourcemap: api.SourceMapExternal, Sourcefile: a.Path, SourcesContent: api.SourcesContentExclude})
		if len(r.Errors) > 0 {
			return api.OnLoadResult{}, errors.New(r.Errors[0].Text)
		}
		out, _, err := Transform(r.Code, Options{ID: "/App.tsx"})
		if err != nil {
			return api.OnLoadResult{}, err
		}
		js := string(out) + "//# sourceMappingURL=data:application/json;base64," + base64.StdEncoding.EncodeToString(r.Map) + "\n"
		return api.OnLoadResult{Contents: &js, Loader: api.LoaderJS}, nil
	}
	b := api.Build(api.BuildOptions{EntryPoints: []string{file}, Bundle: true, External: []string{"react", "react/*", "./theme"},
		Format: api.FormatCommonJS, Sourcemap: api.SourceMapExternal, Write: false, Outdir: filepath.Join(dir, "out"),
		Plugins: []api.Plugin{{Name: "refresh", Setup: func(pb api.PluginBuild) {
			pb.OnLoad(api.OnLoadOptions{Filter: `\.tsx$`}, load)
		}}}})
	if len(b.Errors) > 0 {
		t.Fatal(b.Errors[0].Text)
	}
	var code, sourceMap string
	for _, f := range b.OutputFiles {
		if strings.HasSuffix(f.Path, ".map") {
			sourceMap = string(f.Contents)
		} else {
			code = string(f.Contents)
		}
	}
	if !strings.Contains(code, "$RefreshReg$(") || !strings.Contains(sourceMap, "useState<number>(0)") {
		t.Fatalf("the map does not lead to the TSX source:\n%s", sourceMap)
	}
	// The generated line of useState maps to the source's.
	genLine := strings.Count(code[:strings.Index(code, "useState)(0)")], "\n")
	srcLine := strings.Count(tsxSource[:strings.Index(tsxSource, "useState<number>(0)")], "\n")
	if got := mappedLine(t, sourceMap, genLine); got != srcLine {
		t.Errorf("generated line %d maps to source line %d, want %d", genLine+1, got+1, srcLine+1)
	}
}

// mappedLine returns the source line (0-based) of the first mapping of
// generated line gen (0-based) in the source map m.
func mappedLine(t *testing.T, m string, gen int) int {
	t.Helper()
	var parsed struct{ Mappings string }
	if err := json.Unmarshal([]byte(m), &parsed); err != nil {
		t.Fatal(err)
	}
	const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	src := 0
	for line, segs := range strings.Split(parsed.Mappings, ";") {
		for _, seg := range strings.Split(segs, ",") {
			var fields []int
			for v, shift, i := 0, 0, 0; i < len(seg); i++ {
				d := strings.IndexByte(b64, seg[i])
				v += (d & 31) << shift
				if d&32 != 0 {
					shift += 5
					continue
				}
				if v&1 != 0 {
					v = -(v >> 1)
				} else {
					v >>= 1
				}
				fields = append(fields, v)
				v, shift = 0, 0
			}
			if len(fields) >= 4 {
				src += fields[2]
				if line == gen {
					return src
				}
			}
		}
	}
	t.Fatalf("no mapping on generated line %d", gen+1)
	return -1
}

// bigModule is a module of n components of the usual forms, as esbuild
// gives it to Transform.
func bigModule(n int) string {
	var sb strings.Builder
	sb.WriteString("import { useState, useEffect, memo, forwardRef } from \"react\";\nimport { jsx, jsxs } from \"react/jsx-runtime\";\n")
	for i := range n {
		switch i % 4 {
		case 0:
			fmt.Fprintf(&sb, "export function Comp%d({ a }) {\n  const [n, setN] = useState(%d);\n  useEffect(() => { document.title = `${n}`; }, [n]);\n  return /* @__PURE__ */ jsx(\"button\", { onClick: () => setN(n + 1), children: a / 2 });\n}\n", i, i)
		case 1:
			fmt.Fprintf(&sb, "export const Comp%d = memo(forwardRef((props, ref) => /* @__PURE__ */ jsxs(\"div\", { ref, children: [props.x, /[a-z]+/.test(props.y)] })));\n", i)
		case 2:
			fmt.Fprintf(&sb, "const useThing%d = (x) => {\n  const [v] = useState(() => ({ x }));\n  return v;\n};\n", i)
		case 3:
			fmt.Fprintf(&sb, "export const value%d = { a: [1, 2, 3].map((x) => x * %d), b: \"s\" + 'q' };\n", i, i)
		}
	}
	return sb.String()
}

func BenchmarkTransform(b *testing.B) {
	code := []byte(bigModule(2000))
	b.SetBytes(int64(len(code)))
	for b.Loop() {
		if _, _, err := Transform(code, Options{ID: "/src/big.js"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEsbuildTransform is esbuild's Transform of the same module, for
// scale: the bundler runs one before Transform.
func BenchmarkEsbuildTransform(b *testing.B) {
	code := bigModule(2000)
	b.SetBytes(int64(len(code)))
	for b.Loop() {
		if r := api.Transform(code, api.TransformOptions{Loader: api.LoaderJS}); len(r.Errors) > 0 {
			b.Fatal(r.Errors[0].Text)
		}
	}
}
