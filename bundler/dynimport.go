package bundler

import (
	"bytes"
	"path"
	"regexp"
	"strconv"
	"strings"
)

// A dynamic import of a template literal with variables, as Vite takes it
// (its dynamic-import-vars): import(`./locales/${lang}.js`) loads one of
// the files that the pattern "./locales/*.js" matches, each variable
// standing for a part of one file or folder name. It is rewritten, before
// import.meta.glob's expansion (glob.go), into a lookup in that glob:
//
//	import(`./locales/${lang}.js`)
//	  -> ((m, p) => ...)(import.meta.glob("./locales/*.js"), `./locales/${lang}.js`)
//
// so the files are modules of the graph, as a glob's are: their edits
// update them, and a file created or removed there builds again. esbuild's
// own expansion of such imports in a bundle covered neither; module mode
// inlined the files into the importer. A name that no file matches
// rejects, as Vite's "Unknown variable dynamic import".
//
// As in Vite, the pattern must start with ./, ../ or /, and its last part
// must name a file's extension ("./locales/${lang}" does not); a query
// ("?raw") goes to the glob. An import that does not qualify is left to
// esbuild: a template with escapes or nested templates, an expression
// with strings of backticks, a second argument.

// dynamicImportRe finds the start of a dynamic import of a template.
var dynamicImportRe = regexp.MustCompile("\\bimport\\s*\\(\\s*`")

// dynamicImportCall is the function that the rewrite calls with the glob
// and the import's specifier.
const dynamicImportCall = `((m, p) => (m[p.split("?")[0]] || (() => Promise.reject(new Error("Unknown variable dynamic import: " + p))))())`

// rewriteDynamicImports returns src with each dynamic import of a
// template literal with variables that qualifies (see above), and whose
// pattern ok accepts, rewritten into a lookup in an import.meta.glob call;
// src itself when there is none.
func rewriteDynamicImports(src []byte, ok func(pattern string) bool) []byte {
	if !bytes.Contains(src, []byte("${")) {
		return src
	}
	var out bytes.Buffer
	last := 0
	for _, loc := range dynamicImportRe.FindAllIndex(src, -1) {
		if loc[0] < last || precededByDot(src, loc[0]) {
			continue
		}
		tick := loc[1] - 1
		statics, end, parsed := parseTemplate(src, tick+1)
		if !parsed {
			continue
		}
		paren := end
		for paren < len(src) && isSpace(src[paren]) {
			paren++
		}
		if paren == len(src) || src[paren] != ')' {
			continue // a second argument, or no call
		}
		pattern, glob, qualifies := dynamicImportGlob(statics)
		if !qualifies || !ok(pattern) {
			continue
		}
		if out.Len() == 0 {
			out.Grow(len(src) + 256)
		}
		out.Write(src[last:loc[0]])
		out.WriteString(dynamicImportCall + "(" + glob + ", ")
		// The argument as it is, with the spaces around it: the lines
		// below keep their numbers.
		out.Write(src[loc[0]+bytes.IndexByte(src[loc[0]:], '(')+1 : paren+1])
		last = paren + 1
	}
	if last == 0 {
		return src
	}
	out.Write(src[last:])
	return out.Bytes()
}

// dynamicImportGlob returns the pattern and the import.meta.glob call that
// stand for a template whose static parts are statics, and whether it
// qualifies.
func dynamicImportGlob(statics []string) (pattern, call string, ok bool) {
	if len(statics) < 2 {
		return "", "", false // no variable
	}
	first, lastPart := statics[0], statics[len(statics)-1]
	if !strings.HasPrefix(first, "./") && !strings.HasPrefix(first, "../") && !strings.HasPrefix(first, "/") {
		return "", "", false
	}
	for _, s := range statics[:len(statics)-1] {
		if strings.ContainsAny(s, "*?[]{}!") {
			return "", "", false
		}
	}
	lastPart, query, hasQuery := strings.Cut(lastPart, "?")
	if strings.ContainsAny(lastPart, "*[]{}!") || path.Ext(lastPart) == "" {
		return "", "", false // no extension, "./locales/${lang}": which files?
	}
	pattern = strings.Join(append(statics[:len(statics)-1:len(statics)-1], lastPart), "*")
	call = "import.meta.glob(" + strconv.Quote(pattern)
	if hasQuery {
		call += ", { query: " + strconv.Quote("?"+query) + " }"
	}
	return pattern, call + ")", true
}

// parseTemplate reads a template literal from src at i, just after its
// opening backtick: its static parts, and where it ends, after the closing
// backtick. ok is false for one it does not follow: escapes, nested
// templates, an empty substitution, no end.
func parseTemplate(src []byte, i int) (statics []string, end int, ok bool) {
	start := i
	for i < len(src) {
		switch c := src[i]; {
		case c == '\\':
			return nil, 0, false
		case c == '`':
			return append(statics, string(src[start:i])), i + 1, true
		case c == '$' && i+1 < len(src) && src[i+1] == '{':
			statics = append(statics, string(src[start:i]))
			j, ok := skipSubstitution(src, i+2)
			if !ok || strings.TrimSpace(string(src[i+2:j-1])) == "" {
				return nil, 0, false
			}
			i, start = j, j
		default:
			i++
		}
	}
	return nil, 0, false
}

// skipSubstitution returns where the expression of a template's ${ at i
// ends, after its }, skipping braces and quoted strings in it; ok is false
// for a backtick in it, or no end.
func skipSubstitution(src []byte, i int) (int, bool) {
	depth := 1
	for ; i < len(src); i++ {
		switch c := src[i]; c {
		case '`':
			return 0, false
		case '{':
			depth++
		case '}':
			if depth--; depth == 0 {
				return i + 1, true
			}
		case '\'', '"':
			for i++; i < len(src) && src[i] != c; i++ {
				if src[i] == '\\' {
					i++
				}
			}
		}
	}
	return 0, false
}

// precededByDot reports whether the word at i follows a ".", as a method
// named import does (x.import(`...`)).
func precededByDot(src []byte, i int) bool {
	for i--; i >= 0 && isSpace(src[i]); i-- {
	}
	return i >= 0 && src[i] == '.'
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}
