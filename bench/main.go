//go:build linux

// Command bench compares devserve with other dev servers in a real browser.
//
// For each project and each tool it starts the tool's server on a free port
// and drives headless Chromium through chromedp. On a generated tree of
// plain ES modules (-projects tree, one per -sizes) it times cold starts,
// JS edits, CSS edits, hot edits (of a module that accepts its own updates)
// and bursts of writes; on a generated project of React components
// (-projects react, -components) and on a copy of testdata/apps/react-ts
// (-projects app) it times cold starts, component edits (checking that the
// component kept its state) and CSS edits. Then it reads the server's
// memory. It prints medians, p95s and ratios to devserve and writes every
// sample to a JSON file.
//
//	go run ./bench -sizes 10,1000,5000 -edits 20 -tools devserve,vite,esbuild
//	go run ./bench -projects react,app -tools devserve,vite,bun
//
// The peers (vite, esbuild, webpack, bun) and the React packages are
// installed in testdata/bench-peers with `npm ci` when missing. With
// -tools devserve and -projects tree nothing needs Node or npm.
// See bench/README.md for the method. It runs on Linux: it reads memory
// and load from /proc, and runs each server in a process group that the
// kernel kills with the bench.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Config is the run's configuration, from the flags.
type Config struct {
	Projects   []string // CaseTree, CaseReact, CaseApp
	Sizes      []int    // modules of the tree
	Components []int    // components of the React project
	Tools      []*Tool
	Edits      int // JS, CSS and hot edits (each) per tool and size
	Cold       int // cold starts per tool and size
	Restarts   int // restarts (caches kept) per tool and size, after the cold starts
	// EditedRestarts are restarts after the restarts, each after a JS
	// edit made while the server was down (tree projects only).
	EditedRestarts int
	Bursts         int           // bursts per tool and size
	BurstFiles     int           // tree modules written in a burst, besides leaf.js
	Timeout        time.Duration // limit for one cold start, edit or burst; 0: see StepTimeout
	Gap            time.Duration // pause before each edit
	Poll           time.Duration // Go-side poll interval
	Quiet          time.Duration // a burst is over after this long without a load
	Idle           time.Duration // the server left alone after the steps, its memory sampled; 0: not
	Out            string        // JSON results path
	Devserve       string        // prebuilt devserve binary, or "" to build one
	Chromium       string        // browser binary
	// ReactModules is the node_modules whose packages the React cases
	// link; "" for the peers'.
	ReactModules string
	Install      bool // run npm ci even if node_modules looks current
	Keep         bool // keep the generated projects and server logs
}

// parseFlags reads the command line into a Config.
func parseFlags(args []string) (*Config, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	projects := fs.String("projects", CaseTree, "comma-separated projects: tree (generated ES modules, -sizes), react (generated React components, -components), app ("+App+")")
	sizes := fs.String("sizes", "10,1000,5000,20000", "comma-separated sizes of the tree project, in ES modules")
	components := fs.String("components", "1000", "comma-separated sizes of the react project, in components")
	toolList := fs.String("tools", "devserve,vite,esbuild,bun,floor", "comma-separated tools: "+strings.Join(toolNames(), ", ")+" (the react and app projects skip esbuild and webpack)")
	cfg := &Config{}
	fs.IntVar(&cfg.Edits, "edits", 20, "JS edits, CSS edits and hot edits (each) per tool and size")
	fs.IntVar(&cfg.Cold, "cold", -1, "cold starts per tool and size (-1: same as -edits)")
	fs.IntVar(&cfg.Restarts, "restarts", -1, "restarts per tool and size after the cold starts, the tool's caches kept (-1: same as -cold)")
	fs.IntVar(&cfg.EditedRestarts, "edited-restarts", 0, "restarts after the restarts, each after a JS edit made while the server was down (tree projects)")
	fs.IntVar(&cfg.Bursts, "bursts", 3, "bursts of writes per tool and size")
	fs.IntVar(&cfg.BurstFiles, "burst-files", 50, "tree modules written in one burst, besides leaf.js")
	fs.DurationVar(&cfg.Timeout, "timeout", 0, "limit for one cold start, edit or burst (0: 90 s, or 10 ms per module or component when that is more)")
	fs.DurationVar(&cfg.Gap, "gap", 300*time.Millisecond, "pause before each edit, so watchers are idle")
	fs.DurationVar(&cfg.Poll, "poll", 10*time.Millisecond, "interval of the Go-side poll of the page")
	fs.DurationVar(&cfg.Quiet, "quiet", 2*time.Second, "after a burst, wait until no page load for this long")
	fs.DurationVar(&cfg.Idle, "idle", 25*time.Second, "after the edits, leave the server alone this long, its memory read every 100 ms (0: not)")
	fs.StringVar(&cfg.Out, "out", filepath.Join("bench", "out", "results.json"), "JSON file for every sample")
	fs.StringVar(&cfg.Devserve, "devserve", "", "prebuilt devserve binary (default: go build the repository)")
	fs.StringVar(&cfg.Chromium, "chromium", "/usr/bin/chromium", "Chromium binary")
	fs.BoolVar(&cfg.Install, "install", false, "run npm ci in testdata/bench-peers even if installed")
	fs.BoolVar(&cfg.Keep, "keep", false, "keep the generated projects and server logs")
	fs.StringVar(&cfg.ReactModules, "react-modules", "", "node_modules with react, react-dom and react-refresh for the react and app projects (default: testdata/bench-peers/node_modules)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	var err error
	if cfg.Projects, err = parseProjects(*projects); err != nil {
		return nil, err
	}
	if cfg.Sizes, err = parseSizes("-sizes", *sizes, MinModules); err != nil {
		return nil, err
	}
	if cfg.Components, err = parseSizes("-components", *components, MinComponents); err != nil {
		return nil, err
	}
	if cfg.Tools, err = lookupTools(*toolList); err != nil {
		return nil, err
	}
	if cfg.Cold < 0 {
		cfg.Cold = cfg.Edits
	}
	if cfg.Restarts < 0 {
		cfg.Restarts = cfg.Cold
	}
	if cfg.Cold < 1 {
		return nil, errors.New("-cold must be at least 1: the edits use the server of the last cold start")
	}
	return cfg, nil
}

// StepTimeout is the limit for one cold start, edit or burst on a project
// of size n (modules or components): -timeout, or by default 90 s, or
// 10 ms per module when that is more (a cold start of 20,000 modules on a
// loaded machine can take a minute).
func (c *Config) StepTimeout(n int) time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return max(90*time.Second, time.Duration(n)*10*time.Millisecond)
}

// The projects of -projects.
const (
	CaseTree  = "tree"  // the generated tree of ES modules
	CaseReact = "react" // the generated React components
	CaseApp   = "app"   // a copy of testdata/apps/react-ts
)

// parseProjects parses "tree,react,app".
func parseProjects(list string) ([]string, error) {
	var out []string
	for f := range strings.SplitSeq(list, ",") {
		switch f = strings.TrimSpace(f); f {
		case CaseTree, CaseReact, CaseApp:
			out = append(out, f)
		default:
			return nil, fmt.Errorf("unknown project %q in -projects (known: tree, react, app)", f)
		}
	}
	return out, nil
}

// parseSizes parses "10,1000,5000", the values of flag, each at least least.
func parseSizes(flag, list string, least int) ([]int, error) {
	var sizes []int
	for f := range strings.SplitSeq(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < least {
			return nil, fmt.Errorf("bad size %q in %s: want a number >= %d", f, flag, least)
		}
		sizes = append(sizes, n)
	}
	return sizes, nil
}

func main() {
	if len(os.Args) > 1 && (os.Args[1] == floorCommand || os.Args[1] == floorBundleCommand) {
		serve := serveFloor
		if os.Args[1] == floorBundleCommand {
			serve = func(args []string) error { return writeFloorBundle(args, os.Stdout) }
		}
		if err := serve(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "bench floor:", err)
			os.Exit(1)
		}
		return
	}
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = run(ctx, cfg)
	stop()
	stopAllServers()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// run prepares the tools and the browser, measures every size and tool, and
// reports.
func run(ctx context.Context, cfg *Config) error {
	res := &Results{Started: time.Now(), Command: os.Args, Method: methodNote,
		Host: Host{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, CPUs: runtime.NumCPU(), Go: runtime.Version()}}
	workDir, err := os.MkdirTemp("", "devserve-bench-")
	if err != nil {
		return fmt.Errorf("create work dir: %w", err)
	}
	if cfg.Keep {
		progress("keeping projects and logs in %s", workDir)
	} else {
		defer os.RemoveAll(workDir)
	}
	env, err := prepareEnv(ctx, cfg, workDir)
	if err != nil {
		return err
	}
	if env.Node != "" {
		res.Host.Node = commandOutput(env.Node, "--version")
	}
	res.Versions = map[string]string{}
	for _, t := range cfg.Tools {
		res.Versions[t.Name] = t.Version(env)
	}
	b, err := StartBrowser(ctx, cfg.Chromium, filepath.Join(workDir, "chromium"))
	if err != nil {
		return err
	}
	defer b.Close()
	res.Host.Chromium = b.Version

measure:
	for _, c := range cfg.Projects {
		sizes := map[string][]int{CaseTree: cfg.Sizes, CaseReact: cfg.Components, CaseApp: {0}}[c]
		for _, n := range sizes {
			for _, t := range cfg.Tools {
				if c != CaseTree && !t.ServesPage {
					progress("== %s: no %s project (it does not serve the project's own index.html); skipped", t.Name, c)
					continue
				}
				if c == CaseTree && t.MaxModules > 0 && n > t.MaxModules {
					progress("== %s: no tree of %d modules (it is run up to %d); skipped", t.Name, n, t.MaxModules)
					continue
				}
				progress("== %s, %s project, size %d", t.Name, c, n)
				r := measureTool(ctx, cfg, env, b, t, c, n, workDir)
				res.Runs = append(res.Runs, r)
				for _, e := range r.Errors {
					progress("%s %s %d: %s", t.Name, c, n, e)
				}
				if ctx.Err() != nil {
					break measure
				}
			}
		}
	}
	res.Finished = time.Now()
	printTable(os.Stdout, res)
	if err := res.WriteJSON(cfg.Out); err != nil {
		return err
	}
	progress("wrote %s", cfg.Out)
	if err := ctx.Err(); err != nil {
		return err
	}
	if n := failures(res.Runs); n > 0 {
		return fmt.Errorf("%d failures (see the table and %s)", n, cfg.Out)
	}
	return nil
}

// failures counts the run errors, failed samples and bursts that did not end
// on the final content.
func failures(runs []*Run) int {
	n := 0
	for _, r := range runs {
		n += len(r.Errors)
		for _, group := range [][]*Sample{r.Cold, r.JS, r.CSS, r.Hot, r.Component} {
			for _, s := range group {
				if s.Error != "" {
					n++
				}
			}
		}
		for _, b := range r.Bursts {
			if !b.Final {
				n++
			}
		}
	}
	return n
}

// prepareEnv finds the repository, builds devserve if needed, installs the
// peers if a tool or the React packages need them, and finds Node and bun
// for the tools that run on them.
func prepareEnv(ctx context.Context, cfg *Config, workDir string) (*Env, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	env := &Env{Root: root, Peers: filepath.Join(root, "testdata", "bench-peers"), Devserve: cfg.Devserve,
		ReactModules: cfg.ReactModules}
	var onNode, fromPeers []string
	for _, t := range cfg.Tools {
		if t.NeedsNode {
			onNode = append(onNode, t.Name)
		}
		if t.NeedsNode || t.NeedsPeers {
			fromPeers = append(fromPeers, t.Name)
		}
		if t.Name == "floor" && env.Self == "" {
			if env.Self, err = os.Executable(); err != nil {
				return nil, fmt.Errorf("the floor runs the bench binary itself: %w", err)
			}
		}
		if strings.HasPrefix(t.Name, "devserve") && env.Devserve == "" {
			if env.Devserve, err = buildDevserve(ctx, root, workDir); err != nil {
				return nil, err
			}
		}
	}
	reactCases := slices.ContainsFunc(cfg.Projects, func(c string) bool { return c != CaseTree })
	if reactCases && env.ReactModules == "" {
		env.ReactModules = filepath.Join(env.Peers, "node_modules")
		fromPeers = append(fromPeers, "the react and app projects' packages")
	}
	if env.ReactModules != "" {
		if env.ReactModules, err = filepath.Abs(env.ReactModules); err != nil {
			return nil, fmt.Errorf("-react-modules: %w", err)
		}
	}
	if len(onNode) > 0 {
		if env.Node, err = exec.LookPath("node"); err != nil {
			return nil, fmt.Errorf("%s run on Node, which is not installed (use -tools devserve): %w",
				strings.Join(onNode, ", "), err)
		}
	}
	if len(fromPeers) > 0 {
		if err := ensurePeers(ctx, env.Peers, cfg.Install); err != nil {
			return nil, fmt.Errorf("%s come from testdata/bench-peers: %w", strings.Join(fromPeers, ", "), err)
		}
	}
	if reactCases {
		if err := checkReactModules(env.ReactModules); err != nil {
			return nil, err
		}
	}
	for _, t := range cfg.Tools {
		if t.Name == "bun" {
			if env.Bun, err = bunBinary(env.Peers); err != nil {
				return nil, err
			}
		}
	}
	return env, nil
}

// repoRoot walks up from the working directory to the devserve module root.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(data), "module github.com/devserve/devserve\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run the benchmark inside the devserve repository (no go.mod of github.com/devserve/devserve found)")
		}
		dir = parent
	}
}

// buildDevserve builds the repository's command into workDir.
func buildDevserve(ctx context.Context, root, workDir string) (string, error) {
	bin := filepath.Join(workDir, "devserve")
	progress("building devserve")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build devserve: %w\n%s", err, out)
	}
	return bin, nil
}

// ensurePeers runs `npm ci` in the peers directory when forced or when
// node_modules is missing or older than package-lock.json.
func ensurePeers(ctx context.Context, dir string, force bool) error {
	lock, err := os.Stat(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		return fmt.Errorf("peers lock file: %w", err)
	}
	installed, err := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json"))
	if !force && err == nil && !installed.ModTime().Before(lock.ModTime()) {
		return nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return fmt.Errorf("installing the peers needs npm: %w", err)
	}
	progress("installing the peers: npm ci in %s", dir)
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("npm ci in %s: %w", dir, err)
	}
	return nil
}

// commandOutput runs a command and returns its trimmed output, or "".
func commandOutput(name string, args ...string) string {
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// progress prints a progress line to stderr.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, args...)...)
}
