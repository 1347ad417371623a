package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "min"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.js"), []byte("export function f() {\n  const longName = 1;\n  return longName;\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := write(dir, "a.js"); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "min", "a.js"))
	if err != nil || strings.Contains(string(got), "longName") {
		t.Errorf("min/a.js = %q, %v; want it minified", got, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.js"), []byte("const = 1;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := write(dir, "bad.js"); err == nil || !strings.Contains(err.Error(), "minify bad.js") {
		t.Errorf("write of a bad script: %v", err)
	}
}
