package bundler

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestWorker builds a worker's script alone, bundled with what it
// imports, in both modes; reports its errors and the files it read; and
// refuses what is no script under the root.
func TestWorker(t *testing.T) {
	for _, modules := range []bool{false, true} {
		root := project(t, map[string]string{
			"index.html":                    `<script type="module" src="/src/main.ts"></script>`,
			"src/main.ts":                   "new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });\n",
			"src/worker.ts":                 "import { double } from './math';\nimport { v } from 'pkg';\nself.onmessage = (e: MessageEvent<number>) => self.postMessage(double(e.data) + v);\n",
			"src/math.ts":                   "export const double = (n: number): number => n * 2;\n",
			"src/broken.ts":                 "const x: number = ;\n",
			"public/plain.js":               "postMessage(1);\n",
			"src/data.json":                 "{}\n",
			"node_modules/pkg/package.json": `{"name": "pkg", "main": "index.js"}`,
			"node_modules/pkg/index.js":     "export const v = 1;\n",
			"node_modules/pkg/worker.js":    "import { v } from './index.js';\npostMessage(v);\n",
		})
		b := open(t, Options{Root: root, Modules: modules})
		mustBuild(t, b, nil)

		code, inputs, errs, ok := b.Worker("src/worker.ts")
		if !ok || len(errs) > 0 {
			t.Fatalf("modules=%v: Worker: ok=%v errs=%+v", modules, ok, errs)
		}
		js := string(code)
		if !strings.Contains(js, "n * 2") || !strings.Contains(js, "self.onmessage") || strings.Contains(js, "from './math'") ||
			strings.Contains(js, ": number") || !strings.Contains(js, "sourceMappingURL=data:") {
			t.Errorf("modules=%v: the worker's script:\n%s", modules, js)
		}
		if !slices.Equal(inputs, []string{"node_modules/pkg/index.js", "src/math.ts", "src/worker.ts"}) {
			t.Errorf("modules=%v: inputs %q", modules, inputs)
		}

		if _, inputs, errs, ok := b.Worker("src/broken.ts"); !ok || len(errs) == 0 || errs[0].File != "src/broken.ts" || !slices.Equal(inputs, []string{"src/broken.ts"}) {
			t.Errorf("modules=%v: a broken worker: ok=%v errs=%+v inputs=%q", modules, ok, errs, inputs)
		}
		// A package's worker, as monaco-editor's: import editorWorker from
		// "monaco-editor/esm/vs/editor/editor.worker?worker".
		if code, _, errs, ok := b.Worker("node_modules/pkg/worker.js"); !ok || len(errs) > 0 || !strings.Contains(string(code), "v = 1") {
			t.Errorf("modules=%v: a package's worker: ok=%v errs=%+v\n%s", modules, ok, errs, code)
		}
		for _, rel := range []string{"public/plain.js", "src/data.json", "src/missing.ts", "../outside.js"} {
			if _, _, _, ok := b.Worker(rel); ok {
				t.Errorf("modules=%v: Worker(%q) is ok", modules, rel)
			}
		}
	}
}

// TestWorkerImports: Vite's worker imports ("./worker.ts?worker",
// "?sharedworker", "&url", "&inline") give, in both modes and under a
// base path, a constructor of a module worker, or the URL, of the script
// that the server builds for a worker; a file of public/ is its own URL;
// a file outside the root is an error at its import.
func TestWorkerImports(t *testing.T) {
	files := map[string]string{
		"index.html": `<script type="module" src="/src/main.ts"></script>`,
		"src/main.ts": "import W from './worker.ts?worker';\nimport S from './worker.ts?sharedworker';\n" +
			"import I from './worker.ts?worker&inline';\nimport u from './worker.ts?worker&url';\n" +
			"import P from 'pkg/worker.js?worker';\nimport Pub from '/plain.js?worker';\n" +
			"console.log(new W(), new S({ name: 's' }), new I(), u, new P(), new Pub());\n",
		"src/worker.ts":                 "self.onmessage = (e: MessageEvent<number>) => self.postMessage(e.data * 2);\n",
		"public/plain.js":               "postMessage(1);\n",
		"node_modules/pkg/package.json": `{"name": "pkg"}`,
		"node_modules/pkg/worker.js":    "postMessage(2);\n",
	}
	for _, modules := range []bool{false, true} {
		root := project(t, files)
		b := open(t, Options{Root: root, Modules: modules, Base: "/app/"})
		mustBuild(t, b, nil)
		script := get(t, b, "/src/main.ts")
		for _, want := range []string{
			`new Worker("/app/src/worker.ts?worker_file&type=module", { type: "module", name: options?.name })`,
			`new SharedWorker("/app/src/worker.ts?worker_file&type=module", { type: "module", name: options?.name })`,
			`"/app/src/worker.ts?worker_file&type=module";`,
			`new Worker("/app/node_modules/pkg/worker.js?worker_file&type=module"`,
			`new Worker("/app/plain.js", {`,
		} {
			if !strings.Contains(script, want) {
				t.Errorf("modules=%v: the entry's script lacks %s:\n%s", modules, want, script)
			}
		}

		writeFiles(t, root, map[string]string{
			"../outside.js": "postMessage(3);\n",
			"src/main.ts":   "import O from '../../outside.js?worker';\nnew O();\n",
		})
		r := b.Build([]string{"src/main.ts"})
		if r.OK() || !strings.Contains(r.Errors[0].Text, "outside the project's folder") || r.Errors[0].File != "src/main.ts" {
			t.Errorf("modules=%v: a worker outside the root: %+v", modules, r.Errors)
		}
	}
}

// TestWriteSiteWorkers: a production build has no server to build workers
// on request: the workers that code starts, by either form, are written
// as built files, the code names those, and their sources are not
// shipped; a worker that does not build fails the write.
func TestWriteSiteWorkers(t *testing.T) {
	root := project(t, map[string]string{
		"index.html": `<script type="module" src="/src/main.ts"></script>`,
		"src/main.ts": "import W from './worker.ts?worker';\nimport u from './worker.ts?worker&url';\nnew W();\nconsole.log(u);\n" +
			"new Worker(new URL('./other.ts', import.meta.url), { type: 'module' });\n",
		"src/worker.ts": "import { n } from './n';\npostMessage(n);\n",
		"src/n.ts":      "export const n: number = 2;\n",
		"src/other.ts":  "const o: number = 3;\npostMessage(o);\n",
	})
	b := open(t, Options{Root: root, Production: true, Base: "/app/"})
	mustBuild(t, b, nil)
	out := t.TempDir()
	if _, err := b.WriteSite(out); err != nil {
		t.Fatal(err)
	}
	main := readFile(t, out, "src/main.js")
	for _, want := range []string{`new Worker("/app/src/worker.js", {`, `"/app/src/worker.js"`, `new URL("/app/src/other.js", import.meta.url)`} {
		if !strings.Contains(main, want) {
			t.Errorf("src/main.js lacks %s:\n%s", want, main)
		}
	}
	if w := readFile(t, out, "src/worker.js"); !strings.Contains(w, "n = 2") || strings.Contains(w, ": number") {
		t.Errorf("src/worker.js:\n%s", w)
	}
	if o := readFile(t, out, "src/other.js"); !strings.Contains(o, "o = 3") {
		t.Errorf("src/other.js:\n%s", o)
	}
	for _, src := range []string{"src/worker.ts", "src/n.ts", "src/other.ts"} {
		if _, err := os.Stat(filepath.Join(out, src)); err == nil {
			t.Errorf("%s was shipped", src)
		}
	}

	writeFiles(t, root, map[string]string{"src/other.ts": "const o: number = ;\n"})
	if _, err := b.WriteSite(t.TempDir()); err == nil || !strings.Contains(err.Error(), "worker src/other.ts: src/other.ts:1:") {
		t.Errorf("WriteSite with a broken worker: %v", err)
	}
}
