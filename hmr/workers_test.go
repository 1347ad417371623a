package hmr

import (
	"strings"
	"testing"

	"github.com/devserve/devserve/internal/ssetest"
)

// TestWorkerRequest: a worker's script is built when the browser's
// Sec-Fetch-Dest says a worker asks for it, or, for a browser that sends
// no such header, when the URL has the query of Vite's worker imports; any
// other request for the file gets it as it is.
func TestWorkerRequest(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, dir, "index.html", `<script type="module" src="/main.ts"></script>`)
	writeTestFile(t, dir, "main.ts", "import W from './worker.ts?worker';\nnew W();\n")
	writeTestFile(t, dir, "worker.ts", "const n: number = 2;\npostMessage(n);\n")
	ts := startServer(t, dir, "127.0.0.1:0", Options{})
	for _, c := range []struct {
		name, path string
		header     []string
		built      bool
	}{
		{"Sec-Fetch-Dest worker", "/worker.ts", []string{"Sec-Fetch-Dest: worker"}, true},
		{"Sec-Fetch-Dest sharedworker", "/worker.ts", []string{"Sec-Fetch-Dest: sharedworker"}, true},
		{"the query of a worker import", "/worker.ts?worker_file&type=module", nil, true},
		{"a script", "/worker.ts", []string{"Sec-Fetch-Dest: script"}, false},
	} {
		_, body := ssetest.Request(t, ts.http, "GET", c.path, c.header...)
		if built := !strings.Contains(body, "n: number") && strings.Contains(body, "postMessage(n)"); built != c.built {
			t.Errorf("%s: built = %v, want %v:\n%s", c.name, built, c.built, body)
		}
	}
}
