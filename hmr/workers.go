package hmr

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
)

// A module worker's script (new Worker(new URL("./worker.ts",
// import.meta.url), { type: "module" }), and SharedWorker) is no entry of
// a page: the browser asks for the file by its URL. Served as it is, a
// TypeScript worker, or one that imports packages, would not run; so a
// request a browser makes for a worker (Sec-Fetch-Dest) gets the file
// built alone, bundled with what it imports (bundler.Worker). The files
// such a build read are remembered: an edit of one reloads the pages, as
// the worker that runs there is the old one.

// workerFiles are the files that the workers served were built from.
type workerFiles struct {
	mu    sync.Mutex
	files map[string]map[string]bool // worker -> root-relative inputs
}

// served records the inputs of worker rel's latest build.
func (wf *workerFiles) served(rel string, inputs []string) {
	wf.mu.Lock()
	defer wf.mu.Unlock()
	if wf.files == nil {
		wf.files = map[string]map[string]bool{}
	}
	set := make(map[string]bool, len(inputs))
	for _, in := range inputs {
		set[in] = true
	}
	wf.files[rel] = set
}

// uses reports whether root-relative p is a file a served worker was
// built from.
func (wf *workerFiles) uses(p string) bool {
	wf.mu.Lock()
	defer wf.mu.Unlock()
	for _, set := range wf.files {
		if set[p] {
			return true
		}
	}
	return false
}

// isWorkerRequest reports whether r is a browser's request for a worker's
// script: its Sec-Fetch-Dest says so, or, for a browser that sends no
// such header, the URL has the query of a worker import's URL ("?worker"
// in Vite's terms, see bundler.workerModule).
func isWorkerRequest(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Dest") {
	case "worker", "sharedworker":
		return true
	}
	return r.URL.Query().Has("worker_file")
}

// serveWorker answers a request for the script of a worker at rel, a JS
// or TS file of the project, with its build; it reports false for any
// other file. A build that fails gives a script that throws its first
// error, with the file and line, where the worker's error event and the
// console show it.
func (s *Server) serveWorker(w http.ResponseWriter, r *http.Request, rel string) bool {
	code, inputs, errs, ok := s.current().Worker(rel)
	if !ok {
		return false
	}
	s.workers.served(rel, inputs)
	if len(errs) > 0 {
		e := errs[0]
		msg, _ := json.Marshal(fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Text))
		code = []byte("throw new Error(" + string(msg) + ");\n")
	}
	serveBytes(w, r, "text/javascript; charset=utf-8", etagOf(code), code)
	return true
}
