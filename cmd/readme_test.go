package cmd

import (
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TestReadmeFlags checks README.md's flag tables against the commands'
// flags: every flag has a row, every row a flag, with the flag's shorthand
// and default. A README row may hold several flags (`--cert`, `--key`).
// The descriptions are the README's own, with links, so they are not
// compared.
func TestReadmeFlags(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	root := newRootCommand(io.Discard, io.Discard)
	build, _, err := root.Find([]string{"build"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		table string // the name in the table's marker
		cmd   *cobra.Command
	}{
		{"devserve", root},
		{"devserve build", build},
	} {
		t.Run(tt.table, func(t *testing.T) {
			rows := flagTable(t, string(readme), tt.table)
			var names []string
			tt.cmd.Flags().VisitAll(func(f *pflag.Flag) {
				names = append(names, f.Name)
				row, ok := rows[f.Name]
				if !ok {
					t.Errorf("--%s has no row in the table", f.Name)
					return
				}
				if f.Shorthand != "" && !slices.Contains(row.flags, "-"+f.Shorthand) {
					t.Errorf("--%s: the row does not give its shorthand -%s", f.Name, f.Shorthand)
				}
				if want := readmeDefault(f); want != nil && !slices.Contains(want, row.def) {
					t.Errorf("--%s: the default is %q in the table, want one of %q", f.Name, row.def, want)
				}
			})
			for name, row := range rows {
				if !slices.Contains(names, name) {
					t.Errorf("the table has a row for --%s, which is no flag", name)
				}
				for _, s := range row.flags {
					if strings.HasPrefix(s, "--") {
						continue
					}
					if f := tt.cmd.Flags().ShorthandLookup(s[1:]); f == nil || !slices.Contains(row.flags, "--"+f.Name) {
						t.Errorf("the table gives %s in the row of %q, which is not its flag's shorthand", s, row.flags)
					}
				}
			}
		})
	}
}

// readmeRow is a row of a README flag table: the flags of its first cell
// (--name and -x) and its default cell.
type readmeRow struct {
	flags []string
	def   string
}

// flagTable returns the rows of the table under the line
// "<!-- flags: name (...) -->" by flag name, without its dashes.
func flagTable(t *testing.T, readme, name string) map[string]readmeRow {
	t.Helper()
	marker := "<!-- flags: " + name + " ("
	_, table, ok := strings.Cut(readme, marker)
	if !ok {
		t.Fatalf("README.md has no line %s...", marker)
	}
	lines := strings.Split(table, "\n")[1:]
	if len(lines) < 2 || lines[0] != "| flag | default | what it does |" {
		t.Fatalf("no flag table under %s", marker)
	}
	rows := map[string]readmeRow{}
	flag := regexp.MustCompile("`(--?[a-z][a-z-]*)`")
	for _, line := range lines[2:] {
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(line, "|")
		if len(cells) < 4 {
			t.Fatalf("row %q has no default cell", line)
		}
		var row readmeRow
		for _, m := range flag.FindAllStringSubmatch(cells[1], -1) {
			row.flags = append(row.flags, m[1])
		}
		row.def = strings.TrimSpace(cells[2])
		for _, f := range row.flags {
			if strings.HasPrefix(f, "--") {
				if _, dup := rows[f[2:]]; dup {
					t.Errorf("two rows for %s", f)
				}
				rows[f[2:]] = row
			}
		}
	}
	return rows
}

// readmeDefault returns what the README may show as f's default: its
// value, "off" for a false bool, nothing (or a word or two of prose) for an
// empty value. nil means any.
func readmeDefault(f *pflag.Flag) []string {
	switch {
	case f.Value.Type() == "bool" && f.DefValue == "false":
		return []string{"off", ""}
	case f.Name == "version": // cobra's, a bool without a value shown
		return []string{""}
	case f.DefValue == "" || f.DefValue == "[]" || f.DefValue == "0s":
		return []string{"", map[string]string{"entry": "from the HTML"}[f.Name]}
	}
	return []string{f.DefValue}
}
