package cmd

import (
	"bytes"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// envSecret is the value of SECRET in testdata/env/.env.
const envSecret = "devserve-test-secret-81f2"

// readTree returns every file under dir by slash path.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestBuildCommandMode: devserve build is mode production unless --mode
// says otherwise, and PROD either way; nothing but prefixed variables
// reaches the written files (scripts and the %NAME% of pages), and no env
// file is copied.
func TestBuildCommandMode(t *testing.T) {
	for _, c := range []struct {
		args  []string
		want  []string
		title string // of index.html, from %VITE_X%, %MODE% and %SECRET%
	}{
		{nil, []string{`"from .env.production"`, `"production"`, "production only"}, "env: from .env.production, production, %SECRET%"},
		{[]string{"--mode", "staging"}, []string{`"from .env"`, `"staging"`, "production only"}, "env: from .env, staging, %SECRET%"},
	} {
		outdir := t.TempDir()
		var out bytes.Buffer
		cmd := newRootCommand(&out, &out)
		cmd.SetArgs(append([]string{"build", filepath.Join("..", "testdata", "env"), "--outdir", outdir, "--minify"}, c.args...))
		if err := cmd.Execute(); err != nil {
			t.Fatalf("build %q: %v\n%s", c.args, err, out.String())
		}
		files := readTree(t, outdir)
		js := files["src/main.js"]
		for _, want := range c.want {
			if !strings.Contains(js, want) {
				t.Errorf("build %q: src/main.js lacks %s:\n%s", c.args, want, js)
			}
		}
		if page := files["index.html"]; !strings.Contains(page, "<title>"+c.title+"</title>") {
			t.Errorf("build %q: index.html's title is not %q:\n%s", c.args, c.title, page)
		}
		for name, body := range files {
			if strings.HasPrefix(name, ".env") || strings.Contains(body, envSecret) || strings.Contains(body, "dev:") {
				t.Errorf("build %q wrote %s, which has what it must not", c.args, name)
			}
		}
	}
}

// TestBuildCommandEnvError: a line of an env file that does not parse
// fails the build with file:line, and the terminal never shows its value.
func TestBuildCommandEnvError(t *testing.T) {
	dir := tinyProject(t)
	os.WriteFile(filepath.Join(dir, ".env"), []byte("VITE_A=1\nVITE_B=\"not-closed-"+envSecret+"\n"), 0o644)
	var out bytes.Buffer
	c := newRootCommand(&out, &out)
	c.SetArgs([]string{"build", dir, "--outdir", t.TempDir()})
	if err := c.Execute(); err == nil || !strings.Contains(err.Error(), "build failed") {
		t.Fatalf("build with a broken .env: %v", err)
	}
	if !regexp.MustCompile(`\.env:2:\d+: the value of VITE_B has no closing double quote`).MatchString(out.String()) {
		t.Errorf("the error is not printed with file:line:\n%s", out.String())
	}
	if strings.Contains(out.String(), envSecret) {
		t.Errorf("the terminal shows the value:\n%s", out.String())
	}
}

// TestServeMode: --mode picks import.meta.env.MODE and the env files.
func TestServeMode(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "index.html"), []byte(`<script type="module" src="main.ts"></script>`), 0o644)
	os.WriteFile(filepath.Join(dir, "main.ts"), []byte(`console.log(import.meta.env.MODE, import.meta.env.VITE_X, import.meta.env.DEV);`), 0o644)
	os.WriteFile(filepath.Join(dir, ".env.staging"), []byte("VITE_X=staged\n"), 0o644)
	_, url, _ := startServe(t, "--port", "0", "--mode", "staging", dir)
	resp, err := http.Get(url + "main.ts")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `console.log("staging", "staged", true)`) {
		t.Errorf("GET main.ts:\n%s", body)
	}
	// The env files themselves are not served.
	resp, err = http.Get(url + ".env.staging")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /.env.staging: %s", resp.Status)
	}
}
