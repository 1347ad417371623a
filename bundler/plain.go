package bundler

import (
	"bytes"
	"slices"
	"strings"
)

// This file gives the modules that no import cycle holds their exports
// as plain properties, set when the module's code has run, instead of
// esbuild's getters (issue #14).
//
// esbuild's CommonJS output defines a getter for each export (__export),
// which is what keeps an import live: an importer reads the binding as it
// is now. A page runs thousands of them, and V8 compiles each getter with
// the chunk (the chunks ask for every function to be compiled as they
// load): at 20,000 modules the page of module mode took 30% less time
// with plain properties (docs/DESIGN.md). A plain property is the same
// as a getter when two things hold:
//
//   - Nobody reads the exports before the module's code has run. Only a
//     module's own cycle can: an importer runs after its imports, and
//     import() runs its module once the importer's code has run. So
//     modules in a cycle (markAcyclic) keep their getters.
//   - The binding never changes after the module's code has run: it is
//     assigned nowhere but in its declaration (constantBinding, a
//     look at esbuild's output that errs towards a getter).
//
// A module where either is in doubt keeps esbuild's getters, all of
// them, so that its exports are listed in the same order either way.

// markAcyclic sets acyclic on the compiled modules of mods that no import
// cycle holds, packages included, and clears it on the others (cyclic
// lists those in a cycle). A rendered module whose mark changes is
// replaced by a copy, as in markWaits: the installed graph may share it.
func markAcyclic(mods map[string]*module, cyclic map[string]bool) {
	for id, m := range mods {
		want := m.compiled() && !cyclic[id]
		switch {
		case m.acyclic == want:
		case !m.rendered():
			m.acyclic = want // compiled in this build: no one else has it
		default:
			c := *m
			c.acyclic, c.hash = want, ""
			mods[id] = &c
		}
	}
}

// exportsAt returns where esbuild's export statement is in body (a
// module's code as compiled, ending with its factory's "});\n") when its
// exports can be plain properties (see the top of this file); 0, 0 when
// they keep their getters. render keeps it for appendDef (appendPlain).
func exportsAt(body []byte) (start, end int) {
	const call, open, close = "__export(", ", {\n", "\n});\n"
	i := bytes.Index(body, []byte("\n"+call))
	if i < 0 || bytes.Count(body, []byte(call)) != 1 || bytes.Contains(body, []byte("__reExport(")) ||
		!bytes.HasSuffix(body, []byte("});\n")) || wordIndex(body, "eval", 0) >= 0 {
		return 0, 0
	}
	start = i + 1
	name, _, ok := strings.Cut(string(body[start+len(call):min(len(body), start+len(call)+256)]), open)
	if !ok || !isIdent(name) {
		return 0, 0
	}
	list := body[start+len(call)+len(name)+len(open):]
	n := bytes.Index(list, []byte(close))
	if n < 0 {
		return 0, 0
	}
	end = start + len(call) + len(name) + len(open) + n + len(close)
	// The object is the module's own exports: new, and handed to the
	// runtime at once.
	if !bytes.HasSuffix(body[:start], []byte("var "+name+" = {};\n")) ||
		!bytes.HasPrefix(body[end:], []byte("module.exports = __toCommonJS("+name+");\n")) {
		return 0, 0
	}
	ok = true
	eachExport(body[start:end], func(key, val []byte) {
		// __toCommonJS marks the object with __esModule; __proto__ would
		// set its prototype.
		k, v := string(key), string(val)
		ok = ok && isIdent(k) && isIdent(v) && k != "__esModule" && k != "__proto__" && constantBinding(body, v, start, end)
	})
	if !ok {
		return 0, 0
	}
	return start, end
}

// eachExport calls f with each name and value of the export statement
// stmt, "__export(name, {\n  key: () => value,\n...\n});\n"; with
// nil, nil for a line of another shape.
func eachExport(stmt []byte, f func(key, val []byte)) {
	_, list, _ := bytes.Cut(stmt, []byte("\n"))
	list = list[:max(0, len(list)-len("\n});\n"))]
	for len(list) > 0 {
		var line []byte
		line, list, _ = bytes.Cut(list, []byte("\n"))
		key, val, ok := bytes.Cut(bytes.TrimSuffix(bytes.TrimPrefix(line, []byte("  ")), []byte(",")), []byte(": () => "))
		if !ok {
			key, val = nil, nil
		}
		f(key, val)
	}
}

// appendPlain appends body to dst with the export statement at [start,
// end) (from exportsAt) blank, its lines kept so that the source map still
// fits, and the exports set as properties at the end of the factory.
func appendPlain(dst, body []byte, start, end int) []byte {
	stmt := body[start:end]
	name := stmt[len("__export("):bytes.IndexByte(stmt, ',')]
	dst = slices.Grow(dst, len(body)+len(stmt))
	dst = append(dst, body[:start]...)
	for range bytes.Count(stmt, []byte("\n")) {
		dst = append(dst, '\n')
	}
	dst = append(dst, body[end:len(body)-len("});\n")]...)
	eachExport(stmt, func(key, val []byte) {
		dst = append(append(append(append(append(dst, name...), '.'), key...), " = "...), val...)
		dst = append(dst, ';')
	})
	return append(dst, "\n});\n"...)
}

// constantBinding reports whether the code of body, outside [skip, skipEnd)
// (the export statement), surely never assigns v but where it declares it,
// once. It looks at every occurrence of the word v in esbuild's output and
// allows only those followed by what cannot make it an assignment's
// target; the rest (a destructuring, a for-in, a shorthand property, a
// comment: anything unsure) answer false. A property named v, and v in a
// string, are not the binding.
func constantBinding(body []byte, v string, skip, skipEnd int) bool {
	decls := 0
	for j := wordIndex(body, v, 0); j >= 0; j = wordIndex(body, v, j+len(v)) {
		if j >= skip && j < skipEnd {
			continue
		}
		var prev, next byte
		if j > 0 {
			prev = body[j-1]
		}
		after := body[j+len(v):]
		if len(after) > 0 {
			next = after[0]
		}
		switch {
		case prev == '.' && (j < 2 || body[j-2] != '.'): // a property, not "...v"
			continue
		case isQuote(prev) || isQuote(next): // in a string; `v` before a template is a tag: a read
			continue
		case j >= 2 && string(body[j-2:j]) == "${" && next == '}': // a template's ${v}
			continue
		}
		before := bytes.TrimRight(body[:j], " \t")
		if w := lastWord(before); w == "var" || w == "let" || w == "const" || w == "function" || w == "class" {
			if decls++; decls > 1 {
				return false
			}
			continue
		}
		if bytes.HasSuffix(before, []byte("++")) || bytes.HasSuffix(before, []byte("--")) {
			return false
		}
		rest := bytes.TrimLeft(after, " \t\r\n")
		// "(v," is a call's first argument (jsx(App, ...)) or an arrow's
		// parameter: never an assignment to the binding.
		if first := bytes.HasSuffix(bytes.TrimRight(before, "\r\n"), []byte("(")); first && bytes.HasPrefix(rest, []byte(",")) {
			continue
		}
		if !readFollows(rest) {
			return false
		}
	}
	return true
}

// readFollows reports whether rest, what follows an identifier, surely
// leaves the identifier read, not assigned.
func readFollows(rest []byte) bool {
	if len(rest) == 0 {
		return false
	}
	has := func(p string) bool { return bytes.HasPrefix(rest, []byte(p)) }
	switch rest[0] {
	case ')', ';', '.', '(', '[', '{', ':':
		return true
	case '?':
		return !has("??=")
	case '+':
		return !has("++") && !has("+=")
	case '-':
		return !has("--") && !has("-=")
	case '*':
		return !has("*=") && !has("**=")
	case '/':
		return !has("/=") && !has("//") && !has("/*") // a comment may hide what follows
	case '%':
		return !has("%=")
	case '<':
		return !has("<<=")
	case '>':
		return !has(">>=") && !has(">>>=")
	case '&':
		return !has("&=") && !has("&&=")
	case '|':
		return !has("|=") && !has("||=")
	case '^':
		return !has("^=")
	case '!':
		return true // "!=", "!=="
	case '=':
		return has("==") || has("=>") // a comparison, or an arrow's parameter
	}
	const kw = "instanceof" // any other word may be "in" or "of" of a for loop
	return has(kw) && (len(rest) == len(kw) || !isIdentByte(rest[len(kw)]))
}

// wordIndex returns the index of the first occurrence of the identifier w
// in b at or after from, as a whole word; -1 if none.
func wordIndex(b []byte, w string, from int) int {
	for from <= len(b) {
		i := bytes.Index(b[from:], []byte(w))
		if i < 0 {
			return -1
		}
		i += from
		if (i == 0 || !isIdentByte(b[i-1])) && (i+len(w) == len(b) || !isIdentByte(b[i+len(w)])) {
			return i
		}
		from = i + 1
	}
	return -1
}

// lastWord returns the identifier that b ends with; "" if none.
func lastWord(b []byte) string {
	i := len(b)
	for i > 0 && isIdentByte(b[i-1]) {
		i--
	}
	return string(b[i:])
}

// isIdent reports whether s is a plain JavaScript identifier (ASCII).
func isIdent(s string) bool {
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isIdentByte(c) || c >= 0x80 {
			return false
		}
	}
	return true
}

// isIdentByte reports whether c can be part of an identifier; every byte
// of a non-ASCII character counts, as esbuild may print one unescaped.
func isIdentByte(c byte) bool {
	return c == '_' || c == '$' || c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

func isQuote(c byte) bool { return c == '"' || c == '\'' || c == '`' }
