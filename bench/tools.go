//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Env is where the harness finds the programs it compares.
type Env struct {
	// Root is the devserve repository (the directory holding go.mod).
	Root string
	// Peers is testdata/bench-peers: package.json, package-lock.json,
	// node_modules and esbuild-serve.cjs.
	Peers string
	// Devserve is the devserve binary.
	Devserve string
	// Node is the node binary, empty when no peer on Node is benchmarked.
	Node string
	// Self is the bench binary, which serves the floor (floorCommand);
	// empty when the floor is not benchmarked.
	Self string
	// Bun is the bun binary from the peers, empty when bun is not
	// benchmarked.
	Bun string
	// ReactModules is the node_modules folder whose packages the React
	// projects link (react, react-dom, react-refresh, and for vite
	// @vitejs/plugin-react); empty when no React project is measured.
	ReactModules string
}

// Tool is one dev server under test.
type Tool struct {
	// Name is the name used by -tools and in the results.
	Name string
	// Layout is the index.html variant this tool serves.
	Layout Layout
	// NeedsNode is true for the peers that run on Node.
	NeedsNode bool
	// NeedsPeers is true for a peer installed in testdata/bench-peers that
	// does not run on Node (bun).
	NeedsPeers bool
	// ServesPage is true for a tool that serves the project's own
	// index.html as it is, and so can serve the React projects.
	ServesPage bool
	// PublicAtRoot is true for a tool without Vite's public/ folder that
	// resolves the URLs of index.html as files from the root: the app's
	// copy gets public/'s files at its root as well.
	PublicAtRoot bool
	// Command returns the command that serves dir on 127.0.0.1:port.
	Command func(env *Env, dir string, port int) *exec.Cmd
	// Version returns the version reported in the results.
	Version func(env *Env) string
	// Static is true for the floor: a static server with no watcher. It
	// has no CSS edits, hot edits or bursts, and its JS edit saves nothing:
	// the harness reloads the page itself.
	Static bool
	// MaxModules, when not 0, is the largest tree the tool is run on.
	MaxModules int
	// CacheDirs are directories inside the project that the tool may write
	// caches or outputs to; they are removed before each cold start (not
	// before a restart), as is the session's XDG_CACHE_HOME.
	CacheDirs []string
	// Settle, if set, waits after a cold start or restart until the work
	// the tool goes on with after its first page is done, so that the next
	// step (a restart, an edit) meets it as a user who keeps it running
	// does: devserve serves its first page bundled while module mode
	// compiles.
	Settle func(ctx context.Context, port int) error
}

// esbuildLayout points the page at esbuild's in-memory outputs under /out/
// and adds the live-reload snippet from esbuild's documentation. style.css is
// an entry point, so that a CSS edit is seen by esbuild's watcher.
var esbuildLayout = Layout{
	ScriptSrc: "/out/main.js",
	StyleHref: "/out/style.css",
	HeadExtra: "<script>new EventSource('/esbuild').addEventListener('change', () => location.reload());</script>",
}

// webpackLayout loads webpack's in-memory bundle under /out/ as a classic
// deferred script (what html-webpack-plugin writes); style.css stays a
// static file.
var webpackLayout = Layout{ScriptSrc: "/out/main.js", StyleHref: "/style.css", Classic: true}

// tools lists every tool the harness knows, in the order of the table.
var tools = []*Tool{
	{
		Name:       "devserve",
		Layout:     plainLayout,
		ServesPage: true,
		Command: func(env *Env, dir string, port int) *exec.Cmd {
			return exec.Command(env.Devserve, "--port", strconv.Itoa(port), "--quiet", dir)
		},
		Version: devserveVersion,
		// Its module cache, when the project has node_modules; else it
		// is under XDG_CACHE_HOME, which the harness gives each session.
		CacheDirs: []string{"node_modules/.cache/devserve"},
		Settle:    devserveSettle,
	},
	{
		// devserve with --bundle: the bundled mode, for comparison with
		// module mode (the default).
		Name:       "devserve-bundle",
		Layout:     plainLayout,
		ServesPage: true,
		Command: func(env *Env, dir string, port int) *exec.Cmd {
			return exec.Command(env.Devserve, "--port", strconv.Itoa(port), "--quiet", "--bundle", dir)
		},
		Version: devserveVersion,
	},
	{
		Name:       "vite",
		Layout:     plainLayout,
		NeedsNode:  true,
		ServesPage: true,
		Command: func(env *Env, dir string, port int) *exec.Cmd {
			vite := filepath.Join(env.Peers, "node_modules", "vite", "bin", "vite.js")
			return exec.Command(env.Node, vite, dir,
				"--host", "127.0.0.1", "--port", strconv.Itoa(port), "--strictPort",
				"--clearScreen", "false", "--logLevel", "warn")
		},
		Version: func(env *Env) string {
			if v := peerVersion(env, "@vitejs/plugin-react"); v != "unknown" {
				return peerVersion(env, "vite") + ", @vitejs/plugin-react " + v
			}
			return peerVersion(env, "vite")
		},
		// node_modules/.vite, not node_modules: a React project's
		// node_modules holds the links to its packages.
		CacheDirs: []string{".vite", "node_modules/.vite"},
		// It serves each module alone: at 5,000 a reload takes 10 s, at
		// 20,000 a run would take hours.
		MaxModules: 5000,
	},
	{
		Name:      "esbuild",
		Layout:    esbuildLayout,
		NeedsNode: true,
		Command: func(env *Env, dir string, port int) *exec.Cmd {
			return exec.Command(env.Node, filepath.Join(env.Peers, "esbuild-serve.cjs"), dir, strconv.Itoa(port))
		},
		Version:   func(env *Env) string { return peerVersion(env, "esbuild") },
		CacheDirs: []string{"out"},
	},
	{
		Name:      "webpack",
		Layout:    webpackLayout,
		NeedsNode: true,
		Command: func(env *Env, dir string, port int) *exec.Cmd {
			return exec.Command(env.Node, filepath.Join(env.Peers, "webpack-serve.cjs"), dir, strconv.Itoa(port))
		},
		Version: func(env *Env) string {
			return "webpack " + peerVersion(env, "webpack") + ", webpack-dev-server " + peerVersion(env, "webpack-dev-server")
		},
	},
	{
		// bun's dev server of an HTML entry: it bundles the page's
		// scripts and stylesheets, with hot updates and React Fast
		// Refresh of its own. It has no cache on disk.
		Name:         "bun",
		Layout:       plainLayout,
		NeedsPeers:   true,
		ServesPage:   true,
		PublicAtRoot: true,
		Command: func(env *Env, dir string, port int) *exec.Cmd {
			cmd := exec.Command(env.Bun, "--port", strconv.Itoa(port), "./index.html")
			cmd.Dir = dir
			return cmd
		},
		Version: func(env *Env) string { return peerVersion(env, "bun") },
	},
	{
		// The browser's floor: the tree bundled once (esbuild, in the
		// bench binary, as it starts) and served by a static server
		// with ETag revalidation (floor.go). Its JS edit is a reload
		// with nothing saved.
		Name:   "floor",
		Layout: floorLayout,
		Static: true,
		Command: func(env *Env, dir string, port int) *exec.Cmd {
			return exec.Command(env.Self, floorCommand, dir, strconv.Itoa(port))
		},
		Version: func(*Env) string { return "esbuild " + esbuildVersion() + " bundle, static server with ETags" },
	},
}

// toolNames lists the names of the tools.
func toolNames() []string {
	var names []string
	for _, t := range tools {
		names = append(names, t.Name)
	}
	return names
}

// bunBinary finds the bun binary of the npm package bun in the peers: its
// postinstall script moves the platform package's binary to bun/bin/bun.exe
// (a placeholder until then); without the script it stays in
// @oven/bun-<platform>/bin/bun. The first that runs wins.
func bunBinary(peers string) (string, error) {
	nm := filepath.Join(peers, "node_modules")
	candidates := []string{
		filepath.Join(nm, "bun", "bin", "bun.exe"),
		filepath.Join(nm, "@oven", "bun-linux-x64", "bin", "bun"),
		filepath.Join(nm, "@oven", "bun-linux-x64-baseline", "bin", "bun"),
		filepath.Join(nm, "@oven", "bun-linux-aarch64", "bin", "bun"),
	}
	for _, c := range candidates {
		if err := exec.Command(c, "--version").Run(); err == nil {
			return c, nil
		}
	}
	return "", fmt.Errorf("bun is not installed in %s: none of %s runs (npm ci there, or go run ./bench -install)",
		nm, strings.Join(candidates, ", "))
}

// lookupTools returns the tools named in a comma-separated list.
func lookupTools(list string) ([]*Tool, error) {
	var out []*Tool
	for name := range strings.SplitSeq(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		t := findTool(name)
		if t == nil {
			return nil, fmt.Errorf("unknown tool %q (known: %s)", name, strings.Join(toolNames(), ", "))
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no tool in %q", list)
	}
	return out, nil
}

// findTool returns the tool called name, or nil.
func findTool(name string) *Tool {
	for _, t := range tools {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// peerVersion reads the installed version of an npm package of the peers.
func peerVersion(env *Env, pkg string) string {
	data, err := os.ReadFile(filepath.Join(env.Peers, "node_modules", pkg, "package.json"))
	if err != nil {
		return "unknown"
	}
	var meta struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(data, &meta); err != nil || meta.Version == "" {
		return "unknown"
	}
	return meta.Version
}

// devserveVersion describes the devserve under test: the first line of
// `devserve version` when the binary has that command, and the repository's
// git commit.
func devserveVersion(env *Env) string {
	var parts []string
	if out, err := exec.Command(env.Devserve, "version").Output(); err == nil {
		if line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n"); line != "" {
			parts = append(parts, line)
		}
	}
	if out, err := exec.Command("git", "-C", env.Root, "describe", "--always", "--dirty").Output(); err == nil {
		parts = append(parts, "git "+strings.TrimSpace(string(out)))
	}
	if len(parts) == 0 {
		return "dev"
	}
	return strings.Join(parts, ", ")
}

// devserveSettle polls devserve's status until module mode serves
// (hmr.Status.Compiling is false), every 20 ms.
func devserveSettle(ctx context.Context, port int) error {
	url := fmt.Sprintf("http://127.0.0.1:%d/__devserve/status", port)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return fmt.Errorf("devserve status: %w", err)
		}
		var st struct {
			Compiling bool `json:"compiling"`
		}
		err = json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("devserve status: %w", err)
		}
		if !st.Compiling {
			return nil
		}
		if err := sleep(ctx, 20*time.Millisecond); err != nil {
			return err
		}
	}
}
