package bundler

import (
	"slices"
	"strings"
	"testing"
)

// TestWorker builds a worker's script alone, bundled with what it
// imports, in both modes; reports its errors and the files it read; and
// refuses what is no script of the project.
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
		for _, rel := range []string{"public/plain.js", "src/data.json", "src/missing.ts", "node_modules/pkg/index.js", "../outside.js"} {
			if _, _, _, ok := b.Worker(rel); ok {
				t.Errorf("modules=%v: Worker(%q) is ok", modules, rel)
			}
		}
	}
}
