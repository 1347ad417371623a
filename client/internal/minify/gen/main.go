// Command gen writes the client's scripts minified into client/min; go
// generate runs it in the folder of package client.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/devserve/devserve/client/internal/minify"
)

func main() {
	for _, name := range minify.Names {
		if err := write(".", name); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
	}
}

// write minifies dir/name into dir/min/name.
func write(dir, name string) error {
	src, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	out, err := minify.Script(src)
	if err != nil {
		return fmt.Errorf("minify %s: %w", name, err)
	}
	return os.WriteFile(filepath.Join(dir, "min", name), out, 0o644)
}
