// Package cmd holds devserve's cobra commands. Commands only parse flags,
// build option structs and call the library packages, so every behaviour
// can be tested without the binary.
package cmd

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// newRootCommand returns the `devserve [dir]` command with its subcommands,
// writing to out and errOut.
func newRootCommand(out, errOut io.Writer) *cobra.Command {
	root := newServeCommand(out, nil)
	root.SetOut(out)
	root.SetErr(errOut)
	root.AddCommand(newBuildCommand(out, nil), newVersionCommand(out))
	// --version and -v, which esbuild and Vite accept, print what
	// `devserve version` prints.
	root.Version = versionString()
	root.SetVersionTemplate("{{.Version}}\n")
	root.Flags().BoolP("version", "v", false, "print devserve's version, as the version command does")
	return root
}

// Execute runs devserve with os.Args until it is done or interrupted, and
// exits with status 1 after printing a one-line error.
func Execute() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCommand(os.Stdout, os.Stderr).ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "devserve: "+err.Error())
		os.Exit(1)
	}
}
