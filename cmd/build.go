package cmd

import (
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/devserve/devserve/bundler"
	"github.com/spf13/cobra"
)

// buildOptions are what the command line of `devserve build [dir]` says.
type buildOptions struct {
	dir     string
	out     io.Writer
	outdir  string
	minify  bool
	entries []string
	mode    string
	base    string
}

// newBuildCommand returns the `devserve build [dir]` command, writing to
// out. It only parses the command line; runF runs it (nil: runBuild).
func newBuildCommand(out io.Writer, runF func(*buildOptions) error) *cobra.Command {
	o := buildOptions{dir: ".", out: out}
	if runF == nil {
		runF = runBuild
	}
	c := &cobra.Command{
		Use:   "build [dir]",
		Short: "Bundle the project for production into --outdir",
		Long: `build bundles the entries of dir's HTML pages (or --entry) once, with no
client and no watcher, and writes the bundles and the pages to --outdir with
the pages' script and stylesheet URLs pointing at the built files.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.dir = args[0]
			}
			return runF(&o)
		},
	}
	c.Flags().StringVarP(&o.outdir, "outdir", "o", "dist", "folder to write the build to")
	c.Flags().BoolVar(&o.minify, "minify", false, "minify JavaScript and CSS")
	c.Flags().StringArrayVar(&o.entries, "entry", nil, "entry point to bundle (repeatable); default: the scripts and stylesheets of the HTML pages")
	c.Flags().StringVar(&o.base, "base", "/", "URL path the site is deployed under, e.g. /app/: the pages' and bundles' URLs and import.meta.env.BASE_URL start with it ('app' means /app/)")
	c.Flags().StringVar(&o.mode, "mode", "production", "import.meta.env.MODE, and the env files to read: .env, .env.local, .env.[mode], .env.[mode].local")
	return c
}

// runBuild runs one production build of o.dir into o.outdir.
// import.meta.env.PROD is true whatever the mode, as in vite build.
func runBuild(o *buildOptions) error {
	dir, outdir := o.dir, o.outdir
	p := newPrinter(o.out, false)
	if err := checkRoot(dir); err != nil {
		return err
	}
	base, err := bundler.NormalizeBase(o.base)
	if err != nil {
		return fmt.Errorf("--base: %w", err)
	}
	rel, err := rootRelative(dir, o.entries)
	if err != nil {
		return err
	}
	absOut, err := filepath.Abs(outdir)
	if err != nil {
		return err
	}
	b, err := bundler.New(bundler.Options{Root: dir, Base: base, Production: true, Logger: p.logger(), BuildOptions: bundler.BuildOptions{Entries: rel, Minify: o.minify, Mode: o.mode}})
	if err != nil {
		return err
	}
	defer b.Close()
	start := time.Now()
	res := b.Build(nil)
	if n := len(res.Warnings); n > 0 {
		p.warn("%d %s:", n, plural(n, "warning"))
		for _, m := range res.Warnings {
			p.printf("%s", p.message(m))
		}
	}
	if !res.OK() {
		p.printf("devserve: %s\n", p.paint(red+bold, fmt.Sprintf("%d %s:", len(res.Errors), plural(len(res.Errors), "error"))))
		for _, m := range res.Errors {
			p.printf("%s", p.message(m))
		}
		return fmt.Errorf("build failed with %d %s", len(res.Errors), plural(len(res.Errors), "error"))
	}
	n, err := b.WriteSite(absOut)
	if err != nil {
		return err
	}
	p.say("built %s into %s in %s (%d files)", dir, outdir, time.Since(start).Round(time.Millisecond), n)
	return nil
}
