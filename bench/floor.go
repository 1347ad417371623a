//go:build linux

package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/evanw/esbuild/pkg/api"
)

// The floor is what the browser itself needs to reload the project: the
// tree bundled once by esbuild, served by a static server whose every
// response revalidates with an ETag. No dev server can reload the page
// faster, so its "JS edit" (a reload with nothing saved) is the floor for
// every tool's JS edit.

// floorCommand, as the first argument, makes the bench binary the floor's
// static server: bench floor-serve DIR PORT. It runs as a process of its
// own, so the harness starts, stops and measures it as it does the peers.
const floorCommand = "floor-serve"

// floorBundle is the URL path of the floor's bundle, as floorLayout names it.
const floorBundle = "/out/main.js"

// floorLayout points the page at the bundle; style.css is a static file.
var floorLayout = Layout{ScriptSrc: floorBundle, StyleHref: "/style.css"}

// bundleTree bundles dir/main.js once, as `devserve build` or esbuild
// would: one ES module script.
func bundleTree(dir string) ([]byte, error) {
	res := api.Build(api.BuildOptions{
		EntryPoints:   []string{filepath.Join(dir, "main.js")},
		Bundle:        true,
		Format:        api.FormatESModule,
		Outdir:        filepath.Join(dir, "out"),
		Write:         false,
		LogLevel:      api.LogLevelSilent,
		AbsWorkingDir: dir,
	})
	if len(res.Errors) > 0 {
		return nil, fmt.Errorf("bundle %s: %s", dir, res.Errors[0].Text)
	}
	if len(res.OutputFiles) != 1 {
		return nil, fmt.Errorf("bundle %s: %d outputs, want 1", dir, len(res.OutputFiles))
	}
	return res.OutputFiles[0].Contents, nil
}

// floorHandler serves the bundle at floorBundle and the files of root
// (index.html for /), each with Cache-Control: no-cache and an ETag that
// hashes its bytes: the browser keeps everything and revalidates it on
// every load, getting 304s for what did not change.
type floorHandler struct {
	root   *os.Root
	bundle []byte
}

func (h *floorHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := path.Clean(r.URL.Path)
	b := h.bundle
	if name != floorBundle {
		if name == "/" {
			name = "/index.html"
		}
		var err error
		if b, err = h.root.ReadFile(name[1:]); err != nil {
			http.NotFound(w, r)
			return
		}
	}
	sum := sha256.Sum256(b)
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:16])+`"`)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
}

// floorBundleCommand, as the first argument, makes the bench binary write
// the floor's bundle of DIR to its standard output: the server bundles in
// a process of its own, so that esbuild's memory is not counted as the
// static server's.
const floorBundleCommand = "floor-bundle"

// writeFloorBundle bundles the project in args[0] to stdout.
func writeFloorBundle(args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return errors.New("usage: bench " + floorBundleCommand + " DIR")
	}
	bundle, err := bundleTree(args[0])
	if err != nil {
		return err
	}
	_, err = stdout.Write(bundle)
	return err
}

// serveFloor bundles the project in args[0] (in a child process, see
// floorBundleCommand) and serves it on 127.0.0.1:args[1] until the process
// is killed.
func serveFloor(args []string) error {
	if len(args) != 2 {
		return errors.New("usage: bench " + floorCommand + " DIR PORT")
	}
	port, err := strconv.Atoi(args[1])
	if err != nil {
		return fmt.Errorf("port %q: %w", args[1], err)
	}
	root, err := os.OpenRoot(args[0])
	if err != nil {
		return fmt.Errorf("open project: %w", err)
	}
	defer root.Close()
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(self, floorBundleCommand, args[0])
	cmd.Stderr = os.Stderr
	bundle, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	return http.Serve(l, &floorHandler{root: root, bundle: bundle})
}

// esbuildVersion is the version of the esbuild Go module the bench binary
// was built with.
func esbuildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/evanw/esbuild" {
				return strings.TrimPrefix(d.Version, "v")
			}
		}
	}
	return "unknown"
}
