package bundler

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// A project made with Vite's templates has a "solution-style"
// tsconfig.json: no compiler options of its own, only references to
// tsconfig.app.json (the browser code: jsx, paths such as "@/*") and
// tsconfig.node.json (vite.config.ts). esbuild reads the nearest
// tsconfig.json and does not follow references, so "@/x" imports fail and
// the JSX settings are missed. appTsconfig finds the referenced file that
// holds the browser code's options, for esbuild to use in its place.

// tsconfigFile is what appTsconfig reads of a tsconfig file.
type tsconfigFile struct {
	Files           *[]string `json:"files"`
	Include         []string  `json:"include"`
	References      []struct{ Path string }
	CompilerOptions *struct {
		Lib   []string       `json:"lib"`
		JSX   string         `json:"jsx"`
		Paths map[string]any `json:"paths"`
	} `json:"compilerOptions"`
}

// appTsconfig returns the tsconfig file that the root's solution-style
// tsconfig.json refers to for the browser code (absolute), or "" when the
// root's tsconfig.json has options of its own, or no such reference: the
// first reference that sets jsx or paths or has the DOM library, else the
// first whose name does not say "node".
func appTsconfig(root string) string {
	var top tsconfigFile
	if !readTsconfig(filepath.Join(root, "tsconfig.json"), &top) || len(top.References) == 0 ||
		top.CompilerOptions != nil || top.Files == nil || len(*top.Files) > 0 {
		return ""
	}
	var fallback string
	for _, ref := range top.References {
		p := filepath.Join(root, filepath.FromSlash(ref.Path))
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			p = filepath.Join(p, "tsconfig.json")
		}
		var ts tsconfigFile
		if !readTsconfig(p, &ts) || ts.CompilerOptions == nil {
			continue
		}
		co := ts.CompilerOptions
		if co.JSX != "" || len(co.Paths) > 0 || slices.ContainsFunc(co.Lib, func(l string) bool { return strings.EqualFold(l, "dom") }) {
			return p
		}
		if fallback == "" && !strings.Contains(strings.ToLower(filepath.Base(p)), "node") {
			fallback = p
		}
	}
	return fallback
}

// readTsconfig reads the tsconfig file at p into v: JSON with comments and
// trailing commas, as TypeScript reads it.
func readTsconfig(p string, v any) bool {
	data, err := os.ReadFile(p)
	return err == nil && json.Unmarshal(jsonc(data), v) == nil
}

// jsonc turns JSON with comments and trailing commas into JSON: comments
// go first, then each comma that only a closing bracket follows.
func jsonc(in []byte) []byte {
	return scanJSON(scanJSON(in, true), false)
}

// scanJSON copies in, outside strings dropping comments (comments) or the
// commas before a closing bracket (!comments).
func scanJSON(in []byte, comments bool) []byte {
	out := make([]byte, 0, len(in))
	for i := 0; i < len(in); i++ {
		c := in[i]
		switch {
		case c == '"':
			j := i + 1
			for ; j < len(in) && in[j] != '"'; j++ {
				if in[j] == '\\' {
					j++
				}
			}
			out = append(out, in[i:min(j+1, len(in))]...)
			i = j
			continue
		case comments && c == '/' && i+1 < len(in) && in[i+1] == '/':
			for i+1 < len(in) && in[i+1] != '\n' {
				i++
			}
			continue
		case comments && c == '/' && i+1 < len(in) && in[i+1] == '*':
			end := strings.Index(string(in[i+2:]), "*/")
			if end < 0 {
				return out
			}
			i += end + 3
			continue
		case !comments && c == ',':
			j := i + 1
			for j < len(in) && strings.ContainsRune(" \t\r\n", rune(in[j])) {
				j++
			}
			if j < len(in) && (in[j] == '}' || in[j] == ']') {
				continue
			}
		}
		out = append(out, c)
	}
	return out
}

// nameDirs returns the folders that the tsconfig files ts let an import
// resolve into by a name rather than a relative path: compilerOptions's
// baseUrl (esbuild resolves a bare import there before node_modules), and
// each target of paths up to its first "*", against every baseUrl of ts
// and the folder of each file that sets paths (TypeScript's base is the
// baseUrl, from whichever file of an extends chain sets it, else the
// folder of the file that sets paths: taking them all is never less). A
// file created under one of them can change what an import resolves to
// while no input changes (a paths target tried before the one that
// matched), so a kept bundle stamps every folder under them. The folders
// need not exist.
func nameDirs(ts []string) []string {
	var bases, targets, dirs []string
	for _, p := range ts {
		var cfg struct {
			CompilerOptions struct {
				BaseURL string                     `json:"baseUrl"`
				Paths   map[string]json.RawMessage `json:"paths"`
			} `json:"compilerOptions"`
		}
		if !readTsconfig(p, &cfg) {
			continue
		}
		co := cfg.CompilerOptions
		if co.BaseURL != "" {
			b := filepath.Join(filepath.Dir(p), filepath.FromSlash(co.BaseURL))
			bases, dirs = append(bases, b), append(dirs, b)
		}
		if len(co.Paths) > 0 {
			bases = append(bases, filepath.Dir(p))
		}
		for _, raw := range co.Paths {
			var to []string
			_ = json.Unmarshal(raw, &to)
			for _, t := range to {
				t, _, _ = strings.Cut(t, "*")
				targets = append(targets, t[:strings.LastIndex(t, "/")+1])
			}
		}
	}
	for _, t := range targets {
		if filepath.IsAbs(t) {
			dirs = append(dirs, filepath.Clean(t))
			continue
		}
		for _, b := range bases {
			dirs = append(dirs, filepath.Join(b, filepath.FromSlash(t)))
		}
	}
	slices.Sort(dirs)
	return slices.Compact(dirs)
}
