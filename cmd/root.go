// Package cmd holds devserve's cobra commands. Commands only parse flags,
// build option structs and call the library packages.
package cmd

import (
	"os"

	"github.com/spf13/cobra"
)

// newRootCommand returns the `devserve [dir]` command with its subcommands.
func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "devserve [dir]",
		Short:         "Serve a web project and update the browser on every save",
		Args:          cobra.MaximumNArgs(1),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	return root
}

// Execute runs devserve with os.Args and exits non-zero on error.
func Execute() {
	if err := newRootCommand().Execute(); err != nil {
		os.Stderr.WriteString("devserve: " + err.Error() + "\n")
		os.Exit(1)
	}
}
