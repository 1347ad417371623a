package client

import (
	"bytes"
	"testing"

	"github.com/devserve/devserve/client/internal/minify"
)

// TestMinifiedCurrent: the minified scripts in min are what minify makes
// of the scripts as they are now.
func TestMinifiedCurrent(t *testing.T) {
	for path, src := range map[string][]byte{Path: source, WorkerPath: workerSource, HMRPath: hmrSource, ErrorsPath: errorsSource} {
		want, err := minify.Script(src)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		got := Minified(path)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: min holds %d bytes, minify makes %d of the script as it is: run go generate ./client", path, len(got), len(want))
		}
		if len(got) >= len(src) {
			t.Errorf("%s: %d bytes minified, %d as written", path, len(got), len(src))
		}
	}
	if Minified("/other.js") != nil {
		t.Error("Minified of another path is not nil")
	}
}
