package bundler

import (
	"encoding/json"
	"path/filepath"
	"testing"
)

func TestJSONC(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"a": 1}`, `{"a": 1}`},
		{"{\n  // a comment\n  \"a\": 1, /* more */ \"b\": [1, 2,],\n}", "{\n  \n  \"a\": 1,  \"b\": [1, 2]\n}"},
		{`{"url": "http://x/*y*/", "s": "a,}"}`, `{"url": "http://x/*y*/", "s": "a,}"}`},
		{"{\"a\": \"q\\\"//\", // c\n}", "{\"a\": \"q\\\"//\" \n}"},
	} {
		got := string(jsonc([]byte(c.in)))
		if got != c.want {
			t.Errorf("jsonc(%q) = %q, want %q", c.in, got, c.want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("jsonc(%q) = %q: not JSON", c.in, got)
		}
	}
}

// TestAppTsconfig: a solution-style tsconfig.json (Vite's templates)
// gives way to the referenced file of the browser code, whose paths ("@/")
// and JSX settings then apply; a tsconfig.json with options of its own
// stays.
func TestAppTsconfig(t *testing.T) {
	solution := `{
  "files": [],
  "references": [
    { "path": "./tsconfig.app.json" }, // the browser
    { "path": "./tsconfig.node.json" },
  ]
}`
	app := `{
  "compilerOptions": {
    /* Bundler mode */
    "jsx": "react-jsx",
    "baseUrl": ".",
    "paths": { "@/*": ["./src/*"] },
  },
  "include": ["src"]
}`
	node := `{"compilerOptions": {"lib": ["ES2023"]}, "include": ["vite.config.ts"]}`
	files := map[string]string{
		"tsconfig.json": solution, "tsconfig.app.json": app, "tsconfig.node.json": node,
		"index.html":   `<script type="module" src="/src/main.ts"></script>`,
		"src/main.ts":  "import { x } from '@/lib/x';\nconsole.log(x);\n",
		"src/lib/x.ts": "export const x: number = 42;\n",
	}
	root := project(t, files)
	if got, want := appTsconfig(root), filepath.Join(root, "tsconfig.app.json"); got != want {
		t.Errorf("appTsconfig = %q, want %q", got, want)
	}
	for _, modules := range []bool{true, false} {
		b := open(t, Options{Root: root, Modules: modules})
		mustBuild(t, b, nil)
	}
	own := project(t, map[string]string{"tsconfig.json": `{"compilerOptions": {}, "references": [{"path": "./a.json"}]}`, "a.json": app})
	if got := appTsconfig(own); got != "" {
		t.Errorf("appTsconfig of a tsconfig with options of its own = %q, want none", got)
	}
}
