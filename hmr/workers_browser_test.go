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

// TestBrowserWorkerImport: Vite's worker imports ("./worker.ts?worker",
// "?sharedworker", "&url") run the TypeScript workers, in module mode and
// bundled; an edit of a worker's file reloads the page, which then runs
// the new worker.
func TestBrowserWorkerImport(t *testing.T) {
	inBothModes(t, func(t *testing.T, tab context.Context, bundle bool) {
		dir := t.TempDir()
		writeTestFile(t, dir, "index.html", `<p id="out"></p><p id="shared"></p><p id="url"></p><script type="module" src="/src/main.ts"></script>`)
		writeTestFile(t, dir, "src/main.ts", `import MyWorker from "./worker.ts?worker";
import MyShared from "./shared.ts?sharedworker";
import workerURL from "./worker.ts?worker&url";
const show = (id: string, text: string) => { document.getElementById(id)!.textContent = text; };
const w = new MyWorker();
w.onmessage = (e: MessageEvent<string>) => show("out", e.data);
w.onerror = (e) => show("out", "error: " + e.message);
w.postMessage(2);
const s = new MyShared({ name: "counter" });
s.port.onmessage = (e: MessageEvent<string>) => show("shared", e.data);
s.port.postMessage(5);
const u = new Worker(workerURL, { type: "module" });
u.onmessage = (e: MessageEvent<string>) => show("url", e.data);
u.postMessage(1);
`)
		writeTestFile(t, dir, "src/worker.ts", `import { double } from "./math";
self.onmessage = (e: MessageEvent<number>) => { self.postMessage("worker says " + double(e.data)); };
`)
		writeTestFile(t, dir, "src/shared.ts", `import { double } from "./math";
declare const self: SharedWorkerGlobalScope;
self.onconnect = (e: MessageEvent) => {
  const port = e.ports[0];
  port.onmessage = (m: MessageEvent<number>) => port.postMessage("shared says " + double(m.data));
};
`)
		writeTestFile(t, dir, "src/math.ts", "export const double = (n: number): number => n * 2;\n")
		ts := startServer(t, dir, "127.0.0.1:0", Options{Bundle: bundle})
		navigateTo(t, tab, ts.URL, textIs("out", "worker says 4"))
		waitJS(t, tab, textIs("shared", "shared says 10"))
		waitJS(t, tab, textIs("url", "worker says 2"))

		ts.write(t, "src/worker.ts", `import { double } from "./math";
self.onmessage = (e: MessageEvent<number>) => { self.postMessage("new worker says " + double(e.data)); };
`)
		waitJS(t, tab, textIs("out", "new worker says 4"))
	})
}
