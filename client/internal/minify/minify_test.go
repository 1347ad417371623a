package minify

import (
	"strings"
	"testing"
)

func TestScript(t *testing.T) {
	for _, c := range []struct {
		name, src string
		want, not []string // in the output, and not
		err       string
	}{
		{"minified", "const longName = 1;\n// a comment\nexport function f(argument) {\n  return argument + longName;\n}\n",
			[]string{"export function f("}, []string{"longName", "argument", "a comment", "\n  "}, ""},
		{"for ES2020", "a ??= b;\n", []string{"a"}, []string{"??="}, ""},
		{"a syntax error", "const = 1;\n", nil, nil, "Expected identifier"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := Script([]byte(c.src))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one with %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range c.want {
				if !strings.Contains(string(got), w) {
					t.Errorf("%q lacks %q", got, w)
				}
			}
			for _, n := range c.not {
				if strings.Contains(string(got), n) {
					t.Errorf("%q has %q", got, n)
				}
			}
		})
	}
}
