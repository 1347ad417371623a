package hmr

import (
	"context"
	"testing"
)

// TestBrowserWorker: a page starts a module worker written in TypeScript,
// as Vite projects do (new Worker(new URL("./worker.ts",
// import.meta.url), { type: "module" })), in module mode and bundled; it
// runs, and an edit of a file it imports shows on the page.
func TestBrowserWorker(t *testing.T) {
	inBothModes(t, func(t *testing.T, tab context.Context, bundle bool) {
		dir := t.TempDir()
		writeTestFile(t, dir, "index.html", `<p id="out"></p><script type="module" src="/src/main.ts"></script>`)
		writeTestFile(t, dir, "src/main.ts", `const w = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
w.onmessage = (e: MessageEvent<string>) => { document.getElementById("out")!.textContent = e.data; };
w.onerror = (e) => { document.getElementById("out")!.textContent = "error: " + e.message; };
w.postMessage(2);
`)
		writeTestFile(t, dir, "src/worker.ts", `import { double } from "./math";
self.onmessage = (e: MessageEvent<number>) => { self.postMessage("worker says " + double(e.data)); };
`)
		writeTestFile(t, dir, "src/math.ts", "export const double = (n: number): number => n * 2;\n")
		ts := startServer(t, dir, "127.0.0.1:0", Options{Bundle: bundle})
		navigateTo(t, tab, ts.URL, textIs("out", "worker says 4"))

		ts.write(t, "src/math.ts", "export const double = (n: number): number => n * 3;\n")
		waitJS(t, tab, textIs("out", "worker says 6"))
	})
}
