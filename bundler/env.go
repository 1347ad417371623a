package bundler

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/devserve/devserve/internal/protocol"
)

// This file is import.meta.env, as Vite has it: the mode, DEV/PROD,
// BASE_URL, SSR and every variable whose name starts with VITE_ or
// DEVSERVE_, from the process environment and the project's .env files.
// The values reach the code through esbuild's define, so a variable
// without the prefix never reaches the browser: it is never defined.

// DefaultMode is the mode when Options.Mode is empty: the dev server's.
// `devserve build` passes "production", as `vite build` does.
const DefaultMode = "development"

// envPrefixes are the prefixes of the variables import.meta.env exposes:
// Vite's, so that Vite projects run unchanged, and devserve's own.
var envPrefixes = []string{"VITE_", "DEVSERVE_"}

// exposed reports whether a variable of this name goes to the browser.
func exposed(name string) bool {
	for _, p := range envPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// EnvConfig says where LoadEnv finds the variables and what it computes.
type EnvConfig struct {
	// Root is the folder of the .env files: the project root.
	Root string
	// Mode is import.meta.env.MODE and names the mode's files
	// (.env.[mode], .env.[mode].local); "" means DefaultMode.
	Mode string
	// Production is a production build (`devserve build`): NODE_ENV
	// defaults to "production", and with it import.meta.env.PROD, as in
	// `vite build`, whatever the mode.
	Production bool
	// Base is import.meta.env.BASE_URL, the base path (Options.Base); ""
	// means "/".
	Base string
	// Environ is the process environment as KEY=value strings (os.Environ's
	// form). Its variables win over the files'.
	Environ []string
}

// Env is what import.meta.env holds in a build.
type Env struct {
	// Mode is import.meta.env.MODE.
	Mode string
	// Base is import.meta.env.BASE_URL: EnvConfig.Base, "/" if empty.
	Base string
	// Prod is import.meta.env.PROD; DEV is its opposite. It is true when
	// NODE_ENV is "production": NODE_ENV comes from the process, else
	// from the command (production for a build), and an env file may set
	// it to "development" only, as in Vite.
	Prod bool
	// Vars are the variables exposed to the browser (names starting with
	// VITE_ or DEVSERVE_), by name.
	Vars map[string]string
	// Files are the root-relative env files that were read, in the order
	// they were applied (later ones win).
	Files []string
	// Define are esbuild define entries: "import.meta.env" as an object
	// of everything above, and "import.meta.env.NAME" for each built-in
	// and each variable whose name is an identifier, so that
	// `if (import.meta.env.DEV)` is dead code in a production build.
	Define map[string]string
}

// EnvFiles returns the env files of mode, root-relative, in the order they
// are applied: a later one wins over an earlier one, the mode's over the
// generic ones and ".local" (kept out of version control) over the shared.
func EnvFiles(mode string) []string {
	if mode == "" {
		mode = DefaultMode
	}
	return []string{".env", ".env.local", ".env." + mode, ".env." + mode + ".local"}
}

// CheckMode reports whether mode can name env files: not empty, no path
// separators, and not "local", which Vite refuses too (".env.local.local").
func CheckMode(mode string) error {
	switch {
	case mode == "local":
		return errors.New(`mode "local" cannot be used: it clashes with the .local suffix of env files`)
	case mode == "" || mode == "." || mode == ".." || strings.ContainsAny(mode, `/\`+"\x00"):
		return fmt.Errorf("mode %q: want a name such as development, production or staging", mode)
	}
	return nil
}

// LoadEnv reads the env files of c.Mode under c.Root and computes
// import.meta.env. Process variables win over the files', and among the
// files the order of EnvFiles. File values may refer to other variables
// (see expandEnv). errs are lines that do not parse, with File and Line;
// a file with an error contributes nothing. warns are settings Vite
// ignores too (NODE_ENV other than development in a file). The messages
// never quote a value or a line: an env file holds secrets.
func LoadEnv(c EnvConfig) (env *Env, errs, warns []Message) {
	mode := c.Mode
	if mode == "" {
		mode = DefaultMode
	}
	proc := map[string]string{}
	for _, kv := range c.Environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			proc[k] = v
		}
	}
	base := c.Base
	if base == "" {
		base = "/"
	}
	env = &Env{Mode: mode, Base: base, Vars: map[string]string{}}
	raw := map[string]string{}   // the files' values, unexpanded, by precedence
	where := map[string]envVar{} // where each of raw was set
	if err := CheckMode(mode); err != nil {
		errs = append(errs, Message{Text: err.Error()})
	} else {
		for _, name := range EnvFiles(mode) {
			data, err := os.ReadFile(filepath.Join(c.Root, name))
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				errs = append(errs, Message{Text: fmt.Sprintf("env file: %v", err), File: name})
				continue
			}
			vars, bad := parseDotenv(data)
			for _, e := range bad {
				errs = append(errs, Message{Text: e.text, File: name, Line: e.line, Column: e.col})
			}
			if len(bad) > 0 {
				continue
			}
			env.Files = append(env.Files, name)
			for _, v := range vars {
				raw[v.name] = v.value
				v.file = name
				where[v.name] = v
			}
		}
	}
	files := expandEnv(raw, proc)

	nodeEnv := "development"
	if c.Production {
		nodeEnv = "production"
	}
	if v := proc["NODE_ENV"]; v != "" {
		nodeEnv = v
	} else if v, ok := files["NODE_ENV"]; ok {
		if v == "development" {
			nodeEnv = v
		} else {
			w := where["NODE_ENV"]
			warns = append(warns, Message{File: w.file, Line: w.line, Text: "NODE_ENV in an env file may only be " +
				"\"development\" (for a development build); other values are ignored, as in Vite"})
		}
	}
	env.Prod = nodeEnv == "production"

	for k, v := range files {
		if exposed(k) {
			env.Vars[k] = v
		}
	}
	for k, v := range proc {
		if exposed(k) {
			env.Vars[k] = v
		}
	}
	env.Define = env.defines()
	return env, errs, warns
}

// identRE matches names that can follow "import.meta.env." in a define.
var identRE = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*$`)

// defines computes Env.Define.
func (e *Env) defines() map[string]string {
	q := func(s string) string {
		b, _ := json.Marshal(s)
		return string(b)
	}
	b := func(v bool) string {
		if v {
			return "true"
		}
		return "false"
	}
	builtins := [][2]string{
		{"BASE_URL", q(cmp.Or(e.Base, "/"))}, {"MODE", q(e.Mode)}, {"DEV", b(!e.Prod)}, {"PROD", b(e.Prod)}, {"SSR", "false"},
	}
	def := map[string]string{}
	var obj bytes.Buffer
	obj.WriteByte('{')
	add := func(name, value string) {
		if obj.Len() > 1 {
			obj.WriteByte(',')
		}
		obj.WriteString(q(name) + ":" + value)
		if identRE.MatchString(name) {
			def["import.meta.env."+name] = value
		}
	}
	for _, kv := range builtins {
		add(kv[0], kv[1])
	}
	for _, name := range slices.Sorted(maps.Keys(e.Vars)) {
		add(name, q(e.Vars[name]))
	}
	obj.WriteByte('}')
	def["import.meta.env"] = obj.String()
	return def
}

// envVar is one assignment of an env file.
type envVar struct {
	name, value string
	file        string
	line        int
}

// envError is a line of an env file that does not parse.
type envError struct {
	line, col int // 1-based line, 0-based byte column
	text      string
}

// parseDotenv parses an env file as dotenv does (the parser Vite uses):
//
//   - NAME=value per line; blank lines and lines starting with # are
//     skipped; "export " before the name is allowed, as is NAME: value;
//     a name is letters, digits, _, . and -;
//   - an unquoted value ends at # or the end of the line, and is trimmed;
//   - a value in '...', "..." or `...` is kept as written (spaces, #) and
//     may span lines; in "..." only \n and \r are escapes (a newline, a
//     carriage return); a quote preceded by a backslash does not end it;
//   - a later assignment of a name wins.
//
// Unlike dotenv, which skips what it cannot read, a line that does not
// parse is an error: no name, no "=", an unterminated quote or text after
// the closing quote.
func parseDotenv(data []byte) ([]envVar, []envError) {
	s := string(bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF")))
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	var vars []envVar
	var errs []envError
	line, i := 1, 0
	// nextLine moves i past the end of the current line.
	nextLine := func() {
		if j := strings.IndexByte(s[i:], '\n'); j >= 0 {
			i += j + 1
		} else {
			i = len(s)
		}
		line++
	}
	for i < len(s) {
		start := i
		col := func() int { return i - start }
		i += spaces(s[i:])
		if i == len(s) || s[i] == '\n' || s[i] == '#' {
			nextLine()
			continue
		}
		if rest, ok := strings.CutPrefix(s[i:], "export"); ok && spaces(rest) > 0 {
			i += len("export") + spaces(rest)
		}
		n := nameLen(s[i:])
		if n == 0 {
			errs = append(errs, envError{line, col(), "expected NAME=value: a name of letters, digits, _, . or -"})
			nextLine()
			continue
		}
		name := s[i : i+n]
		i += n
		i += spaces(s[i:])
		switch {
		case i < len(s) && s[i] == '=':
			i++
		case i+1 < len(s) && s[i] == ':' && (s[i+1] == ' ' || s[i+1] == '\t'):
			i++
		default:
			errs = append(errs, envError{line, col(), fmt.Sprintf("expected \"=\" after %s", name)})
			nextLine()
			continue
		}
		i += spaces(s[i:])
		v := envVar{name: name, line: line}
		if i < len(s) && strings.IndexByte("'\"`", s[i]) >= 0 {
			q, open, openLine := s[i], col(), line
			end := -1
			for j := i + 1; j < len(s); j++ {
				if s[j] == '\\' && j+1 < len(s) && s[j+1] == q {
					j++
				} else if s[j] == q {
					end = j
					break
				}
			}
			if end < 0 {
				errs = append(errs, envError{openLine, open, fmt.Sprintf("the value of %s has no closing %s", name, quoteName(q))})
				i = len(s) // the rest of the file is inside the quote
				continue
			}
			v.value = s[i+1 : end]
			line += strings.Count(v.value, "\n")
			if q == '"' {
				v.value = strings.ReplaceAll(v.value, `\n`, "\n")
				v.value = strings.ReplaceAll(v.value, `\r`, "\r")
			}
			i = end + 1
			lineStart := strings.LastIndexByte(s[:i], '\n') + 1
			i += spaces(s[i:])
			if i < len(s) && s[i] != '\n' && s[i] != '#' {
				errs = append(errs, envError{line, i - lineStart, fmt.Sprintf("unexpected text after the closing %s of %s", quoteName(q), name)})
				nextLine()
				continue
			}
		} else {
			end := strings.IndexAny(s[i:], "#\n")
			if end < 0 {
				end = len(s) - i
			}
			v.value = strings.TrimSpace(s[i : i+end])
		}
		vars = append(vars, v)
		nextLine()
	}
	return vars, errs
}

// spaces returns the length of the blanks (not newlines) s starts with.
func spaces(s string) int {
	n := 0
	for n < len(s) && (s[n] == ' ' || s[n] == '\t' || s[n] == '\v' || s[n] == '\f') {
		n++
	}
	return n
}

// nameLen returns the length of the variable name s starts with.
func nameLen(s string) int {
	n := 0
	for n < len(s) {
		c := s[n]
		if c == '_' || c == '.' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			n++
			continue
		}
		break
	}
	return n
}

func quoteName(q byte) string {
	switch q {
	case '\'':
		return "single quote"
	case '"':
		return "double quote"
	}
	return "backtick"
}

// expandEnv returns the files' values with references to variables
// expanded, as dotenv-expand does for Vite: $NAME and ${NAME} take the
// variable's value (the process's if it has one, else the files',
// expanded in turn), "" when it has none; ${NAME:-default} and
// ${NAME-default} take default when NAME is unset or empty (:-) or unset
// (-), ${NAME:+alt} and ${NAME+alt} take alt when it is set and not empty
// (:+) or set (+), and default and alt are expanded too; \$ is a literal $.
// A name that the process has keeps the process's value, unexpanded. A
// reference back to a variable being expanded (A=$B, B=$A) is "", so each
// variable of a cycle sees the others once: A=a$B and B=b$A give "ab"
// and "ba", whatever the order.
func expandEnv(raw, proc map[string]string) map[string]string {
	memo := map[string]string{} // values that met no cycle
	busy := map[string]bool{}
	cycles := 0
	var lookup func(name string) (string, bool)
	lookup = func(name string) (string, bool) {
		if v, ok := proc[name]; ok {
			return v, true
		}
		if v, ok := memo[name]; ok {
			return v, true
		}
		r, ok := raw[name]
		if !ok {
			return "", false
		}
		if busy[name] {
			cycles++
			return "", true
		}
		before := cycles
		busy[name] = true
		v := expandValue(r, lookup)
		delete(busy, name)
		if cycles == before {
			memo[name] = v
		}
		return v, true
	}
	out := make(map[string]string, len(raw))
	for name := range raw {
		out[name], _ = lookup(name)
	}
	return out
}

// expandValue expands the references in s; see expandEnv.
func expandValue(s string, lookup func(string) (string, bool)) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) && s[i+1] == '$' {
			b.WriteByte('$')
			i++
			continue
		}
		if c != '$' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		if s[i+1] == '{' {
			end := closingBrace(s, i+2)
			if end < 0 {
				b.WriteByte(c) // no closing brace: not a reference
				continue
			}
			b.WriteString(expandBraced(s[i+2:end], lookup))
			i = end
			continue
		}
		n := 0
		for i+1+n < len(s) && (s[i+1+n] == '_' || isAlpha(s[i+1+n]) || n > 0 && isDigit(s[i+1+n])) {
			n++
		}
		if n == 0 {
			b.WriteByte(c)
			continue
		}
		v, _ := lookup(s[i+1 : i+1+n])
		b.WriteString(v)
		i += n
	}
	return b.String()
}

// closingBrace returns the index of the "}" that closes a "${" whose
// contents start at from, counting nested "${", or -1.
func closingBrace(s string, from int) int {
	depth := 0
	for j := from; j < len(s); j++ {
		switch {
		case s[j] == '$' && j+1 < len(s) && s[j+1] == '{':
			depth++
			j++
		case s[j] == '}':
			if depth == 0 {
				return j
			}
			depth--
		}
	}
	return -1
}

// expandBraced expands the inside of ${...}: NAME, or NAME followed by one
// of the operators :- - :+ + and a word.
func expandBraced(expr string, lookup func(string) (string, bool)) string {
	n := 0
	for n < len(expr) && (expr[n] == '_' || isAlpha(expr[n]) || n > 0 && isDigit(expr[n])) {
		n++
	}
	name, rest := expr[:n], expr[n:]
	v, set := lookup(name)
	switch {
	case strings.HasPrefix(rest, ":-"):
		if v == "" {
			return expandValue(rest[2:], lookup)
		}
	case strings.HasPrefix(rest, "-"):
		if !set {
			return expandValue(rest[1:], lookup)
		}
	case strings.HasPrefix(rest, ":+"):
		if v != "" {
			return expandValue(rest[2:], lookup)
		}
		return ""
	case strings.HasPrefix(rest, "+"):
		if set {
			return expandValue(rest[1:], lookup)
		}
		return ""
	case rest != "":
		return "" // not a name: nothing has it
	}
	return v
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// withEnv is the define of a build: user's (Options.Define and what
// esbuildOptions adds) plus env's entries, where user has none of its own.
func withEnv(user map[string]string, env *Env) map[string]string {
	d := maps.Clone(user)
	if d == nil {
		d = map[string]string{}
	}
	for k, v := range env.Define {
		if _, ok := d[k]; !ok {
			d[k] = v
		}
	}
	return d
}

// defineEnv sets the contexts' define (and banner) for b.env. esbuild
// gives every file of a build an import of a define whose value is an
// object, such as import.meta.env: 0.2 s of a 1.2 s bundle of 20,000
// modules, and a tenth of each module's compile in module mode, though
// only the files that use import.meta.env whole need it. A dev server's
// code (not a production build's, which must not carry the object
// unused) gets it once instead, as a global that import.meta.env names:
// set by a bundle's banner, or in module mode by each entry script
// before its modules run (envObj; see assembleAll).
func (b *Bundler) defineEnv() {
	d := withEnv(b.userDefine, b.env)
	banner := b.banner
	b.envObj = ""
	if obj, ok := d[envKey]; ok && b.envGlobal && obj == b.env.Define[envKey] {
		d[envKey] = "globalThis." + protocol.Env
		banner = strings.TrimPrefix(banner+"\n"+envStatement(obj), "\n")
		b.envObj = obj
	}
	b.base.Define = d
	if banner != "" {
		b.base.Banner = map[string]string{"js": banner}
	}
	html := b.env.html()
	b.mu.Lock()
	b.htmlEnv = html
	b.mu.Unlock()
}

// htmlEnvRe matches a variable in a page, as Vite writes it: %VITE_TITLE%.
var htmlEnvRe = regexp.MustCompile(`%(\S+?)%`)

// html returns the values that a page's %NAME% takes, as Vite has them:
// every name of import.meta.env, its value as text ("true" for DEV).
func (e *Env) html() map[string]string {
	vars := maps.Clone(e.Vars)
	if vars == nil {
		vars = map[string]string{}
	}
	vars["BASE_URL"] = cmp.Or(e.Base, "/")
	vars["MODE"] = e.Mode
	vars["DEV"] = strconv.FormatBool(!e.Prod)
	vars["PROD"] = strconv.FormatBool(e.Prod)
	vars["SSR"] = "false"
	return vars
}

// replaceHTMLEnv returns page with each %NAME% of a name of vars replaced
// by its value, as Vite does in the root's HTML (<title>%VITE_TITLE%</title>);
// any other %...% stays. Values go in as they are, as in Vite: they are
// the project's own.
func replaceHTMLEnv(page []byte, vars map[string]string) []byte {
	if bytes.IndexByte(page, '%') < 0 {
		return page
	}
	return htmlEnvRe.ReplaceAllFunc(page, func(m []byte) []byte {
		if v, ok := vars[string(m[1:len(m)-1])]; ok {
			return []byte(v)
		}
		return m
	})
}

// envStatement sets the global that import.meta.env names to obj.
func envStatement(obj string) string {
	return "globalThis." + protocol.Env + " = " + obj + ";"
}

// envKey is the define of import.meta.env as a whole.
const envKey = "import.meta.env"

// reloadEnv reads the env files again. When import.meta.env changed it
// takes the new values, makes the bundled JS contexts again (esbuild fixes
// a context's define when it is made) and reports true: everything must
// be built again. While a file has an error, the last good values stay.
// Called by Build holding buildMu.
func (b *Bundler) reloadEnv() (bool, []Message) {
	env, errs, warns := LoadEnv(b.envCfg)
	b.envErrs, b.envWarns = errs, warns
	if len(errs) > 0 || maps.Equal(env.Define, b.env.Define) {
		return false, nil
	}
	b.env = env
	b.defineEnv()
	b.envPending = true
	b.log.Debug("bundler: import.meta.env changed", "mode", env.Mode, "files", env.Files)

	var remade, old []*entryCtx
	var msgs []Message
	for _, c := range b.ctxs {
		if c.kind != JS {
			remade = append(remade, c)
			continue
		}
		n, err := b.newCtx(c.entry)
		if err != nil {
			msgs = append(msgs, Message{Text: err.Error(), File: c.entry})
			remade = append(remade, c)
			continue
		}
		n.failed, n.state, n.errors, n.warnings, n.rebuilds = c.failed, c.state, c.errors, c.warnings, c.rebuilds
		remade = append(remade, n)
		old = append(old, c)
	}
	b.mu.Lock()
	b.ctxs = remade
	b.mu.Unlock()
	for _, c := range old {
		c.ctx.Dispose()
	}
	return true, msgs
}
