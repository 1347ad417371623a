package bundler

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devserve/devserve/internal/protocol"
)

func TestParseDotenv(t *testing.T) {
	for _, c := range []struct {
		name string
		in   string
		want map[string]string
		errs []envError // text is a substring of the error's
	}{
		{"basic", "A=1\nB=two words\n", map[string]string{"A": "1", "B": "two words"}, nil},
		{"empty value", "A=\nB=  \n", map[string]string{"A": "", "B": ""}, nil},
		{"spaces around", "  A = 1  \n\tB\t=\tx y\t\n", map[string]string{"A": "1", "B": "x y"}, nil},
		{"comments and blank lines", "# c\n\n   # indented\nA=1 # trailing\nB=x#y\n", map[string]string{"A": "1", "B": "x"}, nil},
		{"export", "export A=1\nexport\tB=2\nexportC=3\nexport=4\n", map[string]string{"A": "1", "B": "2", "exportC": "3", "export": "4"}, nil},
		{"colon", "A: 1\nB:\tx\n", map[string]string{"A": "1", "B": "x"}, nil},
		{"name characters", "a.b-c_D9=1\n9LIVES=2\n", map[string]string{"a.b-c_D9": "1", "9LIVES": "2"}, nil},
		{"later wins", "A=1\nA=2\n", map[string]string{"A": "2"}, nil},
		{"CRLF and CR", "A=1\r\nB=2\rC=\"x\ny\"\r\n", map[string]string{"A": "1", "B": "2", "C": "x\ny"}, nil},
		{"BOM", "\xEF\xBB\xBFA=1\n", map[string]string{"A": "1"}, nil},
		{"no final newline", "A=1", map[string]string{"A": "1"}, nil},
		{"single quotes keep everything", `A='  x # y \n $Z '`, map[string]string{"A": `  x # y \n $Z `}, nil},
		{"double quotes", `A="  x # y "`, map[string]string{"A": "  x # y "}, nil},
		{"double quote escapes", `A="1\n2\r3\t4\\n"`, map[string]string{"A": "1\n2\r3\\t4\\\n"}, nil},
		{"backticks", "A=`it's \"q\"`", map[string]string{"A": `it's "q"`}, nil},
		{"escaped quote does not close", `A="say \"hi\""`, map[string]string{"A": `say \"hi\"`}, nil},
		{"quote inside unquoted", `A=it's`, map[string]string{"A": "it's"}, nil},
		{"comment after quotes", `A="x" # c`, map[string]string{"A": "x"}, nil},
		{"multiline double", "A=\"line 1\nline 2\"\nB=3\n", map[string]string{"A": "line 1\nline 2", "B": "3"}, nil},
		{"multiline single", "A='1\n2'\nB=3", map[string]string{"A": "1\n2", "B": "3"}, nil},
		{"multiline line numbers", "A=\"1\n2\n3\"\nbad\n", map[string]string{"A": "1\n2\n3"},
			[]envError{{4, 3, `expected "=" after bad`}}},
		{"no equals", "A=1\nJUSTANAME\nB=2\n", map[string]string{"A": "1", "B": "2"},
			[]envError{{2, 9, `expected "=" after JUSTANAME`}}},
		{"space in name", "  MY KEY=1\n", map[string]string{}, []envError{{1, 5, `expected "=" after MY`}}},
		{"no name", "=1\n", map[string]string{}, []envError{{1, 0, "expected NAME=value"}}},
		{"export alone", "export A\n", map[string]string{}, []envError{{1, 8, `expected "=" after A`}}},
		{"bad character", "A=1\n$B=2\n", map[string]string{"A": "1"}, []envError{{2, 0, "expected NAME=value"}}},
		{"colon needs a blank", "A:1\n", map[string]string{}, []envError{{1, 1, `expected "=" after A`}}},
		{"unterminated", "A=1\nB=\"open\nC=3\n", map[string]string{"A": "1"},
			[]envError{{2, 2, "the value of B has no closing double quote"}}},
		{"unterminated backtick", "B=`x", map[string]string{}, []envError{{1, 2, "no closing backtick"}}},
		{"text after quote", "A='x' y\nB=2\n", map[string]string{"B": "2"},
			[]envError{{1, 6, "unexpected text after the closing single quote of A"}}},
		{"text after multiline quote", "A=\"x\ny\"z\nB=2\n", map[string]string{"B": "2"},
			[]envError{{2, 2, "after the closing double quote of A"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			vars, errs := parseDotenv([]byte(c.in))
			got := map[string]string{}
			for _, v := range vars {
				got[v.name] = v.value
			}
			if c.want == nil {
				c.want = map[string]string{}
			}
			if !maps.Equal(got, c.want) {
				t.Errorf("vars = %q, want %q", got, c.want)
			}
			if len(errs) != len(c.errs) {
				t.Fatalf("errors = %+v, want %+v", errs, c.errs)
			}
			for i, w := range c.errs {
				g := errs[i]
				if g.line != w.line || g.col != w.col || !strings.Contains(g.text, w.text) {
					t.Errorf("error %d = %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

// TestParseDotenvLines: every variable knows the line it starts on.
func TestParseDotenvLines(t *testing.T) {
	vars, _ := parseDotenv([]byte("# c\nA=1\nB=\"x\ny\"\n\nC=3\n"))
	want := map[string]int{"A": 2, "B": 3, "C": 6}
	for _, v := range vars {
		if v.line != want[v.name] {
			t.Errorf("%s on line %d, want %d", v.name, v.line, want[v.name])
		}
	}
}

func TestExpandEnv(t *testing.T) {
	proc := map[string]string{"HOME": "/home/u", "EMPTY": "", "SELF": "proc"}
	for _, c := range []struct {
		name string
		raw  map[string]string
		want map[string]string
	}{
		{"plain", map[string]string{"A": "x"}, map[string]string{"A": "x"}},
		{"both forms", map[string]string{"A": "1", "B": "$A-${A}"}, map[string]string{"A": "1", "B": "1-1"}},
		{"from the process", map[string]string{"A": "$HOME/x"}, map[string]string{"A": "/home/u/x"}},
		{"unknown is empty", map[string]string{"A": "test$foo", "B": "a${nope}b"}, map[string]string{"A": "test", "B": "ab"}},
		{"escaped", map[string]string{"K": "1", "A": `test\$K`, "B": `\${K}`}, map[string]string{"K": "1", "A": "test$K", "B": "${K}"}},
		{"chained, any order", map[string]string{"C": "$B!", "B": "$A$A", "A": "x"}, map[string]string{"A": "x", "B": "xx", "C": "xx!"}},
		{"adjacent", map[string]string{"A": "1", "B": "2", "C": "$A$B"}, map[string]string{"A": "1", "B": "2", "C": "12"}},
		{"name ends at a non-name character", map[string]string{"A": "1", "B": "$A.x $A-y"}, map[string]string{"A": "1", "B": "1.x 1-y"}},
		{"lone dollars", map[string]string{"A": "$ 5 $1 $", "B": "${"}, map[string]string{"A": "$ 5 $1 $", "B": "${"}},
		{"default", map[string]string{"A": "${NOPE:-d}", "B": "${EMPTY:-d}", "C": "${HOME:-d}"},
			map[string]string{"A": "d", "B": "d", "C": "/home/u"}},
		{"default only when unset", map[string]string{"A": "${NOPE-d}", "B": "${EMPTY-d}"}, map[string]string{"A": "d", "B": ""}},
		{"alternative", map[string]string{"A": "${HOME:+yes}", "B": "${EMPTY:+yes}", "C": "${EMPTY+yes}", "D": "${NOPE+yes}"},
			map[string]string{"A": "yes", "B": "", "C": "yes", "D": ""}},
		{"nested default", map[string]string{"X": "x", "A": "${NOPE:-${NOPE2:-$X}}", "B": "${NOPE:-a/${X}/b}"},
			map[string]string{"X": "x", "A": "x", "B": "a/x/b"}},
		{"the process wins and is not expanded", map[string]string{"SELF": "$HOME", "A": "$SELF"}, map[string]string{"SELF": "proc", "A": "proc"}},
		{"self reference", map[string]string{"A": "a$A"}, map[string]string{"A": "a"}},
		{"cycle", map[string]string{"A": "a$B", "B": "b$A"}, map[string]string{"A": "ab", "B": "ba"}},
		{"URL", map[string]string{"USER": "me", "PASS": "pw", "URL": "db://${USER}:${PASS}@host/$USER"},
			map[string]string{"USER": "me", "PASS": "pw", "URL": "db://me:pw@host/me"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			for range 5 { // map order must not matter
				if got := expandEnv(c.raw, proc); !maps.Equal(got, c.want) {
					t.Fatalf("expandEnv(%q) = %q, want %q", c.raw, got, c.want)
				}
			}
		})
	}
}

func TestLoadEnv(t *testing.T) {
	files := map[string]string{
		".env":                   "VITE_A=env\nVITE_B=env\nVITE_C=env\nVITE_D=env\nVITE_E=env\nSECRET=s3cr3t\nDEVSERVE_X=$SECRET-free\n",
		".env.local":             "VITE_B=local\nVITE_C=local\nVITE_D=local\n",
		".env.development":       "VITE_C=dev\nVITE_D=dev\n",
		".env.development.local": "VITE_D=devlocal\n",
		".env.staging":           "VITE_C=staging\n",
		".env.production":        "VITE_C=prod\n",
		".env.test":              "VITE_C=test\n",
	}
	root := project(t, files)
	environ := []string{"VITE_E=process", "VITE_ONLY_PROCESS=p", "HOME=/h", "NOT_EXPOSED=1", "junk"}
	for _, c := range []struct {
		name       string
		mode       string
		production bool
		environ    []string
		prod       bool
		vars       map[string]string
		files      []string
	}{
		{"development", "", false, environ, false, map[string]string{"VITE_A": "env", "VITE_B": "local", "VITE_C": "dev",
			"VITE_D": "devlocal", "VITE_E": "process", "VITE_ONLY_PROCESS": "p", "DEVSERVE_X": "s3cr3t-free"},
			[]string{".env", ".env.local", ".env.development", ".env.development.local"}},
		{"staging build", "staging", true, nil, true, map[string]string{"VITE_A": "env", "VITE_B": "local", "VITE_C": "staging",
			"VITE_D": "local", "VITE_E": "env", "DEVSERVE_X": "s3cr3t-free"}, []string{".env", ".env.local", ".env.staging"}},
		{"build in development mode is still production", "development", true, nil, true, nil, nil},
		{"serve in production mode is still development", "production", false, nil, false, nil, nil},
		{"test mode loads .env.local too, as Vite does", "test", false, nil, false, map[string]string{"VITE_A": "env", "VITE_B": "local",
			"VITE_C": "test", "VITE_D": "local", "VITE_E": "env", "DEVSERVE_X": "s3cr3t-free"}, []string{".env", ".env.local", ".env.test"}},
		{"NODE_ENV from the process", "", false, []string{"NODE_ENV=production"}, true, nil, nil},
		{"NODE_ENV=development builds for development", "", true, []string{"NODE_ENV=development"}, false, nil, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			env, errs, warns := LoadEnv(EnvConfig{Root: root, Mode: c.mode, Production: c.production, Environ: c.environ})
			if len(errs)+len(warns) > 0 {
				t.Fatalf("errs %+v, warns %+v", errs, warns)
			}
			mode := c.mode
			if mode == "" {
				mode = "development"
			}
			if env.Mode != mode || env.Prod != c.prod {
				t.Errorf("Mode %q Prod %v, want %q %v", env.Mode, env.Prod, mode, c.prod)
			}
			if c.vars != nil && !maps.Equal(env.Vars, c.vars) {
				t.Errorf("Vars = %q\nwant %q", env.Vars, c.vars)
			}
			if c.files != nil && strings.Join(env.Files, " ") != strings.Join(c.files, " ") {
				t.Errorf("Files = %q, want %q", env.Files, c.files)
			}
			for k, v := range env.Define {
				if strings.Contains(v, "s3cr3t\"") || strings.Contains(k, "SECRET") || strings.Contains(k, "HOME") || strings.Contains(v, "NOT_EXPOSED") {
					t.Errorf("define %s = %s exposes what it must not", k, v)
				}
			}
		})
	}

	t.Run("defines", func(t *testing.T) {
		env, _, _ := LoadEnv(EnvConfig{Root: project(t, map[string]string{".env": "VITE_Q=\"a \\\"q\\\" </script>\"\nVITE_A-B=dash\n"}),
			Environ: []string{"DEVSERVE_Z=z"}})
		want := map[string]string{
			"import.meta.env": `{"BASE_URL":"/","MODE":"development","DEV":true,"PROD":false,"SSR":false,` +
				`"DEVSERVE_Z":"z","VITE_A-B":"dash","VITE_Q":"a \\\"q\\\" \u003c/script\u003e"}`,
			"import.meta.env.BASE_URL":   `"/"`,
			"import.meta.env.MODE":       `"development"`,
			"import.meta.env.DEV":        "true",
			"import.meta.env.PROD":       "false",
			"import.meta.env.SSR":        "false",
			"import.meta.env.DEVSERVE_Z": `"z"`,
			"import.meta.env.VITE_Q":     `"a \\\"q\\\" \u003c/script\u003e"`,
			// VITE_A-B is no identifier: only in the object.
		}
		if !maps.Equal(env.Define, want) {
			t.Errorf("Define =\n%q\nwant\n%q", env.Define, want)
		}
	})

	t.Run("errors", func(t *testing.T) {
		root := project(t, map[string]string{
			".env":       "VITE_A=1\n",
			".env.local": "VITE_A=2\nVITE_B=2\nSECRET=\"hunter2\n",
		})
		env, errs, _ := LoadEnv(EnvConfig{Root: root})
		if len(errs) != 1 || errs[0].File != ".env.local" || errs[0].Line != 3 || errs[0].Column != 7 ||
			!strings.Contains(errs[0].Text, "no closing double quote") {
			t.Fatalf("errs = %+v", errs)
		}
		if strings.Contains(errs[0].Text+errs[0].LineText, "hunter2") {
			t.Errorf("the error quotes the secret: %+v", errs[0])
		}
		// A file with an error contributes nothing.
		if !maps.Equal(env.Vars, map[string]string{"VITE_A": "1"}) || strings.Join(env.Files, " ") != ".env" {
			t.Errorf("Vars %q Files %q", env.Vars, env.Files)
		}
	})

	t.Run("NODE_ENV in a file", func(t *testing.T) {
		root := project(t, map[string]string{".env.production": "\nNODE_ENV=development\n", ".env.staging": "NODE_ENV=production\n"})
		env, _, warns := LoadEnv(EnvConfig{Root: root, Mode: "production", Production: true})
		if env.Prod || len(warns) != 0 {
			t.Errorf("NODE_ENV=development in .env.production: Prod %v, warns %+v", env.Prod, warns)
		}
		env, _, warns = LoadEnv(EnvConfig{Root: root, Mode: "staging"})
		if env.Prod || len(warns) != 1 || warns[0].File != ".env.staging" || warns[0].Line != 1 {
			t.Errorf("NODE_ENV=production in .env.staging: Prod %v, warns %+v", env.Prod, warns)
		}
		env, _, _ = LoadEnv(EnvConfig{Root: root, Mode: "production", Production: true, Environ: []string{"NODE_ENV=production"}})
		if !env.Prod {
			t.Error("the process's NODE_ENV must win over the file's")
		}
	})

	t.Run("unreadable", func(t *testing.T) {
		root := t.TempDir()
		if err := os.Mkdir(filepath.Join(root, ".env"), 0o755); err != nil {
			t.Fatal(err)
		}
		_, errs, _ := LoadEnv(EnvConfig{Root: root})
		if len(errs) != 1 || errs[0].File != ".env" {
			t.Errorf("errs = %+v", errs)
		}
	})
}

func TestCheckMode(t *testing.T) {
	for mode, ok := range map[string]bool{"development": true, "staging": true, "e2e.ci": true,
		"local": false, "": false, "..": false, "a/b": false, `a\b`: false} {
		if err := CheckMode(mode); (err == nil) != ok {
			t.Errorf("CheckMode(%q) = %v", mode, err)
		}
	}
}

// envSecret is the value of SECRET in testdata/env/.env.
const envSecret = "devserve-test-secret-81f2"

// served returns every byte b serves for testdata/env's page, joined.
func served(t *testing.T, b *Bundler) string {
	t.Helper()
	var all strings.Builder
	for _, o := range b.Last().Outputs {
		all.Write(o.Contents)
	}
	if b.graph != nil {
		for _, u := range []string{"/src/main.ts", "/src/main.ts.map", "/__devserve/m/src/main.ts", "/__devserve/m/src/show.ts"} {
			all.WriteString(get(t, b, u))
		}
	}
	return all.String()
}

// TestImportMetaEnv builds testdata/env in both modes, edits its .env,
// breaks it and fixes it.
func TestImportMetaEnv(t *testing.T) {
	for _, modules := range []bool{true, false} {
		t.Run(map[bool]string{true: "modules", false: "bundled"}[modules], func(t *testing.T) {
			root := fixture(t, "env")
			b := open(t, Options{
				Root:    root,
				Modules: modules,
				BuildOptions: BuildOptions{Environ: func() []string {
					return []string{"DEVSERVE_Y=from the process", "NOT_EXPOSED_EITHER=proc-secret"}
				}},
			})
			r := mustBuild(t, b, nil)
			if r.EnvChanged {
				t.Error("the first build reports EnvChanged")
			}
			out := served(t, b)
			for _, want := range []string{`"from .env"`, `"development"`, `"dev:"`, `"from the process"`, `BASE_URL:"/"`} {
				// esbuild prints the object BASE_URL: "/"; a dev server's
				// bundle sets it in its banner, as JSON.
				if !strings.Contains(strings.NewReplacer(`BASE_URL: "/"`, `BASE_URL:"/"`, `"BASE_URL":"/"`, `BASE_URL:"/"`).Replace(out), want) {
					t.Errorf("the served code lacks %s", want)
				}
			}
			for _, secret := range []string{envSecret, "proc-secret", "SECRET", "NOT_EXPOSED_EITHER"} {
				if strings.Contains(out, secret) {
					t.Errorf("the served code contains %q", secret)
				}
			}
			if modules {
				// A module names the global, which the entry script sets
				// before it runs any module: no module carries the object.
				mod, entry := get(t, b, "/__devserve/m/src/main.ts"), get(t, b, "/src/main.ts")
				if !strings.Contains(mod, "globalThis."+protocol.Env) || strings.Contains(mod, "BASE_URL") {
					t.Errorf("a module's code:\n%s", mod)
				}
				set, run := strings.Index(entry, "globalThis."+protocol.Env+" = {"), strings.Index(entry, protocol.Start+"(")
				if set < 0 || run < set {
					t.Errorf("the entry script does not set the global before it runs its modules:\n%s", entry)
				}
			}

			for _, c := range []struct {
				paths []string
				want  bool
			}{{[]string{".env"}, true}, {[]string{".env.local"}, true}, {[]string{".env.development.local"}, true},
				{[]string{".env.production"}, false}, {[]string{"src/.env"}, false}} {
				if got := b.Affects(c.paths); got != c.want {
					t.Errorf("Affects(%q) = %v, want %v", c.paths, got, c.want)
				}
			}

			// An edit of a value rebuilds with it and says so.
			writeFiles(t, root, map[string]string{".env.local": "VITE_X=from .env.local\n"})
			r = mustBuild(t, b, []string{".env.local"})
			if out := served(t, b); !r.EnvChanged || !strings.Contains(out, `"from .env.local"`) || strings.Contains(out, `"from .env"`) {
				t.Errorf("after editing .env.local: EnvChanged %v, served code has the old value or lacks the new one", r.EnvChanged)
			}
			if modules && len(r.Modules) == 0 {
				t.Error("no module reported changed")
			}

			// A secret's edit changes nothing served.
			writeFiles(t, root, map[string]string{".env": strings.Replace(readFile(t, root, ".env"), envSecret, envSecret+"-2", 1)})
			r = mustBuild(t, b, []string{".env"})
			if r.EnvChanged || len(r.Changed) != 0 || len(r.Modules) != 0 {
				t.Errorf("editing SECRET: EnvChanged %v, changed %v, modules %v", r.EnvChanged, paths(r.Changed), ids(r.Modules))
			}

			// A bad line fails the build, with its file and line, and the
			// last good code stays served until the fix.
			writeFiles(t, root, map[string]string{".env.local": "VITE_X=broken\nVITE_Z=\"" + envSecret + "\n"})
			for _, changed := range [][]string{{".env.local"}, {"src/show.ts"}} {
				r = b.Build(changed)
				if r.OK() || r.Errors[0].File != ".env.local" || r.Errors[0].Line != 2 || !strings.Contains(r.Errors[0].Text, "VITE_Z") {
					t.Fatalf("Build(%q) errors = %+v", changed, r.Errors)
				}
				if strings.Contains(r.Errors[0].Text+r.Errors[0].LineText, envSecret) {
					t.Errorf("the error shows the value: %+v", r.Errors[0])
				}
				if out := served(t, b); strings.Contains(out, `"broken"`) || !strings.Contains(out, `"from .env.local"`) {
					t.Error("the broken env file changed what is served")
				}
			}
			writeFiles(t, root, map[string]string{".env.local": "VITE_X=fixed\n"})
			r = mustBuild(t, b, []string{".env.local"})
			if !r.EnvChanged || !strings.Contains(served(t, b), `"fixed"`) {
				t.Errorf("after the fix: EnvChanged %v", r.EnvChanged)
			}
			remove(t, root, ".env.local")
			r = mustBuild(t, b, []string{".env.local"})
			if !r.EnvChanged || !strings.Contains(served(t, b), `"from .env"`) {
				t.Errorf("after removing .env.local: EnvChanged %v", r.EnvChanged)
			}
		})
	}
}

// TestImportMetaEnvBuild: a production build is PROD whatever its mode,
// and drops DEV-only code.
func TestImportMetaEnvBuild(t *testing.T) {
	for _, c := range []struct {
		mode, x string
	}{{"production", "from .env.production"}, {"staging", "from .env"}} {
		t.Run(c.mode, func(t *testing.T) {
			b := open(t, Options{
				Root:         fixture(t, "env"),
				Production:   true,
				BuildOptions: BuildOptions{Mode: c.mode, Minify: true, Environ: func() []string { return nil }},
			})
			mustBuild(t, b, nil)
			js := string(lookup(t, b, "/src/main.ts").Contents)
			for _, want := range []string{`"` + c.x + `"`, `"` + c.mode + `"`, "production only", `"default y"`} {
				if !strings.Contains(js, want) {
					t.Errorf("the build lacks %s:\n%s", want, js)
				}
			}
			if strings.Contains(js, "dev:") || strings.Contains(js, envSecret) {
				t.Errorf("the build has what it must not:\n%s", js)
			}
		})
	}
	if _, err := New(Options{Root: t.TempDir(), BuildOptions: BuildOptions{Mode: "local"}}); err == nil || !strings.Contains(err.Error(), "local") {
		t.Errorf("New with mode local: %v", err)
	}
}

// TestImportMetaEnvUserDefine: Options.Define wins over import.meta.env.
func TestImportMetaEnvUserDefine(t *testing.T) {
	b := open(t, Options{
		Root:         fixture(t, "env"),
		BuildOptions: BuildOptions{Environ: func() []string { return nil }, Define: map[string]string{"import.meta.env.VITE_X": `"mine"`}},
	})
	mustBuild(t, b, nil)
	if js := string(lookup(t, b, "/src/main.ts").Contents); !strings.Contains(js, `"mine"`) {
		t.Errorf("Options.Define lost:\n%s", js)
	}
}

func TestReplaceHTMLEnv(t *testing.T) {
	vars := (&Env{Mode: "development", Vars: map[string]string{"VITE_TITLE": "My app", "VITE_EMPTY": ""}}).html()
	for _, tt := range []struct{ in, want string }{
		{"<title>%VITE_TITLE%</title>", "<title>My app</title>"},
		{"%MODE% %DEV% %PROD% %SSR% %BASE_URL%", "development true false false /"},
		{"<p>%VITE_EMPTY%</p>", "<p></p>"},
		{"%SECRET% %VITE_NOT_SET%", "%SECRET% %VITE_NOT_SET%"},
		{"width: 100%; height: 50%", "width: 100%; height: 50%"},
		{"100% %VITE_TITLE%", "100% My app"},
		{"no percent sign", "no percent sign"},
	} {
		if got := string(replaceHTMLEnv([]byte(tt.in), vars)); got != tt.want {
			t.Errorf("replaceHTMLEnv(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
