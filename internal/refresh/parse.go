package refresh

import (
	"slices"
	"strings"
)

// fnKind is the syntactic form of a function.
type fnKind uint8

const (
	fDecl   fnKind = iota // function declaration
	fExpr                 // function expression
	fArrow                // arrow function
	fMethod               // method of a class or an object literal
)

// function is a function of the input.
type function struct {
	kind       fnKind
	start, end int // tokens [start, end): from async or function (or the parameters) to the body's end
	params     int // the "(" of the parameters, or an arrow's lone parameter
	body       int // the body's "{", or the first token of an arrow's expression body
	bodyEnd    int // the token after the body
	block      bool
	name       string // of a declaration or a named function expression
	parent     int    // the enclosing function's index, or -1 for the module
	hooks      []hookCall
	names      map[string]bool // bindings of its scope (approximately: block scopes are merged into it)
}

// hookCall is a call of a hook: a callee named useX (or X.useY).
type hookCall struct {
	name    string // useState
	callee  string // useState, React.useState
	binding string // the identifier the callee needs in scope ("" if no simple one)
	key     string // the declarator's pattern and, for useState and useReducer, the initial state
}

// declaration is a var, let or const declaration.
type declaration struct {
	kw    int // the keyword's token
	list  []declarator
	end   int // the token after the last declarator
	inFor bool
	owner int // the function around it, or -1
}

// declarator is one binding of a declaration: a pattern, and an
// initializer or none.
type declarator struct {
	d             *declaration
	pat, patEnd   int
	init, initEnd int // -1, -1 without an initializer
}

// file is the input under analysis.
type file struct {
	src      string
	toks     []token
	fns      []*function
	fnAt     map[int]*function // by start token
	params   map[int]bool      // "(" that open parameters, not calls
	owner    []int             // per token, the innermost function around it, or -1
	decls    []*declaration
	declAt   map[int]*declaration // by keyword token
	byInit   map[int]*declarator  // by the first token of the unparenthesized initializer
	modNames map[string]bool      // module-scope bindings
	idents   map[string]bool      // every identifier: generated names avoid them
}

// analyze finds the functions, declarations and hook calls of the tokens.
func analyze(src string, toks []token) *file {
	f := &file{src: src, toks: toks, fnAt: map[int]*function{}, params: map[int]bool{},
		byInit: map[int]*declarator{}, declAt: map[int]*declaration{}, modNames: map[string]bool{}, idents: map[string]bool{}}
	for _, t := range toks {
		if t.kind == tIdent {
			f.idents[t.text] = true
		}
	}
	f.findFunctions()
	f.findDeclarations()
	f.findImports()
	f.findHooks()
	return f
}

// is reports whether token i is the punctuator or word s.
func (f *file) is(i int, s string) bool {
	if i < 0 || i >= len(f.toks) {
		return false
	}
	t := &f.toks[i]
	return (t.kind == tPunct || t.kind == tIdent) && t.text == s
}

// isIdent reports whether token i is an identifier usable as a binding or a
// reference (not a keyword that cannot be one).
func (f *file) isIdent(i int) bool {
	if i < 0 || i >= len(f.toks) || f.toks[i].kind != tIdent {
		return false
	}
	return !reserved[f.toks[i].text]
}

// reserved are the words that are never identifiers.
var reserved = map[string]bool{
	"break": true, "case": true, "catch": true, "class": true, "const": true, "continue": true, "debugger": true,
	"default": true, "delete": true, "do": true, "else": true, "export": true, "extends": true, "false": true,
	"finally": true, "for": true, "function": true, "if": true, "import": true, "in": true, "instanceof": true,
	"new": true, "null": true, "return": true, "super": true, "switch": true, "this": true, "throw": true,
	"true": true, "try": true, "typeof": true, "var": true, "void": true, "while": true, "with": true,
}

// member reports whether token i follows a "." or "?." (a property name).
func (f *file) member(i int) bool {
	return i > 0 && isMember(&f.toks[i-1])
}

// limit is the token that ends the bracket around token i.
func (f *file) limit(i int) int {
	if p := f.toks[i].parent; p >= 0 {
		return f.toks[p].close
	}
	return len(f.toks)
}

// text is the source of tokens [i, j).
func (f *file) text(i, j int) string {
	if i >= j {
		return ""
	}
	return f.src[f.toks[i].start:f.toks[j-1].end]
}

// exprEnd returns the token after the assignment expression that begins at
// token i: the first ",", ";", ":" (not a ternary's) or closing bracket
// outside brackets, the end of an arrow function with a block body, or a
// line break where a semicolon would be inserted.
func (f *file) exprEnd(i int) int {
	limit := f.limit(i)
	ternary := 0
	for j := i; j < limit; {
		t := &f.toks[j]
		if j > i && t.nl && canEnd(&f.toks[j-1]) && !canContinue(t) {
			return j
		}
		switch t.kind {
		case tPunct:
			switch t.text {
			case ",", ";", ")", "]", "}":
				return j
			case ":":
				if ternary == 0 {
					return j
				}
				ternary--
			case "?":
				ternary++
			case "=>":
				if f.is(j+1, "{") {
					return f.toks[j+1].match + 1
				}
			case "(", "[", "{":
				j = t.match + 1
				continue
			}
		case tTemplate:
			if t.tpl == tplHead {
				j = t.match + 1
				continue
			}
		}
		j++
	}
	return limit
}

// unparen strips the parentheses around the expression [i, j).
func (f *file) unparen(i, j int) (int, int) {
	for j-i >= 2 && f.is(i, "(") && f.toks[i].match == j-1 && !f.callArgs(i) && !f.params[i] {
		i, j = i+1, j-1
	}
	return i, j
}

// callArgs reports whether the "(" at i opens the arguments of a call.
func (f *file) callArgs(i int) bool {
	if i == 0 || f.toks[i].ctrl || f.params[i] {
		return false
	}
	p := &f.toks[i-1]
	switch p.kind {
	case tIdent:
		if f.member(i - 1) {
			return true
		}
		switch p.text {
		case "this", "super", "import":
			return true
		case "return", "yield", "break", "continue", "of":
			return false
		}
		return !reserved[p.text] && !noEnd[p.text]
	case tPunct:
		switch p.text {
		case ")", "]", "?.":
			return true
		case "}":
			return !p.stmtEnd && p.brace != bArrow
		}
		return false
	case tTemplate:
		return p.tpl == tplWhole || p.tpl == tplTail
	}
	return p.kind != tNum
}

// findFunctions finds every function, its parent and the tokens it owns.
func (f *file) findFunctions() {
	toks := f.toks
	for i := range toks {
		t := &toks[i]
		switch {
		case t.kind == tIdent && t.kw && t.text == "function":
			j := i + 1
			if f.is(j, "*") {
				j++
			}
			fn := &function{kind: fExpr, start: i}
			if t.decl {
				fn.kind = fDecl
			}
			if i > 0 && isWord(&toks[i-1], "async") && !f.member(i-1) && !t.nl {
				fn.start = i - 1
			}
			if j < len(toks) && toks[j].kind == tIdent && !f.is(j, "(") {
				fn.name = toks[j].text
				j++
			}
			if !f.is(j, "(") || !f.is(toks[j].match+1, "{") {
				continue
			}
			fn.params, fn.body, fn.block = j, toks[j].match+1, true
			fn.bodyEnd = toks[fn.body].match + 1
			fn.end = fn.bodyEnd
			f.add(fn)
		case t.kind == tPunct && t.text == "=>" && i > 0:
			fn := &function{kind: fArrow, body: i + 1}
			switch p := &toks[i-1]; {
			case p.kind == tPunct && p.text == ")":
				fn.start, fn.params = p.match, p.match
			case p.kind == tIdent:
				fn.start, fn.params = i-1, i-1
			default:
				continue
			}
			if s := fn.start; s > 0 && isWord(&toks[s-1], "async") && !f.member(s-1) && !toks[s].nl {
				fn.start = s - 1
			}
			if f.is(i+1, "{") {
				fn.block, fn.bodyEnd = true, toks[i+1].match+1
			} else if i+1 < len(toks) {
				fn.bodyEnd = f.exprEnd(i + 1)
			} else {
				continue
			}
			fn.end = fn.bodyEnd
			f.add(fn)
		case t.kind == tPunct && t.text == "{" && t.brace == bMethod:
			open := toks[i-1].match
			fn := &function{kind: fMethod, start: open, params: open, body: i, block: true,
				bodyEnd: t.match + 1, end: t.match + 1}
			if open > 0 {
				fn.start = open - 1
				if f.is(open-1, "]") {
					fn.start = toks[open-1].match
				}
			}
			f.add(fn)
		}
	}
	slices.SortStableFunc(f.fns, func(a, b *function) int {
		if a.start != b.start {
			return a.start - b.start
		}
		return b.end - a.end
	})
	f.owner = make([]int, len(toks))
	for i := range f.owner {
		f.owner[i] = -1
	}
	var open []int
	for k, fn := range f.fns {
		for len(open) > 0 && f.fns[open[len(open)-1]].end <= fn.start {
			open = open[:len(open)-1]
		}
		fn.parent = -1
		if len(open) > 0 {
			fn.parent = open[len(open)-1]
		}
		open = append(open, k)
		for i := fn.start; i < fn.end; i++ {
			f.owner[i] = k
		}
		f.fnAt[fn.start] = fn
	}
	for _, fn := range f.fns {
		fn.names = map[string]bool{}
		if fn.kind == fExpr && fn.name != "" {
			fn.names[fn.name] = true
		}
		if fn.kind == fDecl && fn.name != "" {
			f.scopeOf(fn.parent)[fn.name] = true
		}
		if fn.kind == fArrow && !f.is(fn.params, "(") {
			fn.names[toks[fn.params].text] = true
		} else {
			for _, it := range f.items(fn.params) {
				f.patternNames(it[0], fn.names)
			}
		}
	}
}

// add records a function.
func (f *file) add(fn *function) {
	f.fns = append(f.fns, fn)
	if fn.kind != fArrow || f.is(fn.params, "(") {
		f.params[fn.params] = true
	}
}

// scopeOf returns the bindings of function k, or of the module for -1.
func (f *file) scopeOf(k int) map[string]bool {
	if k < 0 {
		return f.modNames
	}
	return f.fns[k].names
}

// items splits the inside of the bracket at token open at its commas.
func (f *file) items(open int) [][2]int {
	var out [][2]int
	close := f.toks[open].match
	start := open + 1
	for j := open + 1; j < close; {
		t := &f.toks[j]
		if t.kind == tPunct && t.text == "," {
			out = append(out, [2]int{start, j})
			start = j + 1
		}
		if t.match > j && (t.kind == tPunct || t.tpl == tplHead) {
			j = t.match + 1
			continue
		}
		j++
	}
	if start < close {
		out = append(out, [2]int{start, close})
	}
	return out
}

// patternNames adds to names the bindings of the pattern at token i (an
// identifier, an array or an object pattern; a rest element's "..." is
// skipped) and returns the token after the pattern.
func (f *file) patternNames(i int, names map[string]bool) int {
	if f.is(i, "...") {
		i++
	}
	switch {
	case f.isIdent(i):
		names[f.toks[i].text] = true
		return i + 1
	case f.is(i, "["):
		for _, it := range f.items(i) {
			f.patternNames(it[0], names)
		}
		return f.toks[i].match + 1
	case f.is(i, "{"):
		for _, it := range f.items(i) {
			a, b := it[0], it[1]
			if f.is(a, "...") {
				f.patternNames(a+1, names)
				continue
			}
			k := a + 1 // after the key
			if f.is(a, "[") {
				k = f.toks[a].match + 1
			}
			if k < b && f.is(k, ":") {
				f.patternNames(k+1, names)
			} else if f.isIdent(a) {
				names[f.toks[a].text] = true
			}
		}
		return f.toks[i].match + 1
	}
	return i + 1
}

// findDeclarations parses every var, let and const declaration.
func (f *file) findDeclarations() {
	toks := f.toks
	for i := range toks {
		t := &toks[i]
		if t.kind != tIdent || (t.text != "var" && t.text != "let" && t.text != "const") || f.member(i) {
			continue
		}
		inFor := i >= 2 && f.is(i-1, "(") && toks[i-1].ctrl && (f.is(i-2, "for") || f.is(i-2, "await"))
		if !t.decl && !inFor {
			continue
		}
		if !(f.isIdent(i+1) || f.is(i+1, "[") || f.is(i+1, "{")) || t.text == "let" && (f.is(i+1, "in") || f.is(i+1, "instanceof")) {
			continue
		}
		d := &declaration{kw: i, inFor: inFor, owner: f.owner[i]}
		scope := f.scopeOf(d.owner)
		j := i + 1
		for {
			if !(f.isIdent(j) || f.is(j, "[") || f.is(j, "{")) {
				break
			}
			dr := declarator{d: d, pat: j, init: -1, initEnd: -1}
			dr.patEnd = f.patternNames(j, scope)
			j = dr.patEnd
			if f.is(j, "=") && j+1 < len(toks) {
				dr.init = j + 1
				dr.initEnd = f.exprEnd(j + 1)
				j = dr.initEnd
			}
			d.list = append(d.list, dr)
			if !f.is(j, ",") {
				break
			}
			j++
		}
		d.end = j
		if len(d.list) == 0 {
			continue
		}
		f.decls = append(f.decls, d)
		f.declAt[i] = d
		for k := range d.list {
			dr := &d.list[k]
			if dr.init >= 0 {
				s, _ := f.unparen(dr.init, dr.initEnd)
				f.byInit[s] = dr
			}
		}
	}
	// Class declarations, and catch clause parameters, bind names too.
	for i := range toks {
		switch {
		case toks[i].kw && toks[i].text == "class" && toks[i].decl && f.isIdent(i+1):
			f.scopeOf(f.owner[i])[toks[i+1].text] = true
		case isWord(&toks[i], "catch") && !f.member(i) && f.is(i+1, "("):
			f.patternNames(i+2, f.scopeOf(f.owner[i]))
		}
	}
}

// findImports records the bindings of the import declarations.
func (f *file) findImports() {
	toks := f.toks
	for i := range toks {
		if !isWord(&toks[i], "import") || !toks[i].stmt || toks[i].depth != 0 || f.is(i+1, "(") || f.is(i+1, ".") {
			continue
		}
		j := i + 1
		if f.isIdent(j) && !f.is(j, "from") || f.is(j, "from") && (f.is(j+1, ",") || f.is(j+1, "from")) {
			f.modNames[toks[j].text] = true
			j++
			if f.is(j, ",") {
				j++
			}
		}
		switch {
		case f.is(j, "*") && f.is(j+1, "as") && j+2 < len(toks):
			f.modNames[toks[j+2].text] = true
		case f.is(j, "{"):
			for _, it := range f.items(j) {
				if it[1] > it[0] && toks[it[1]-1].kind == tIdent {
					f.modNames[toks[it[1]-1].text] = true
				}
			}
		}
	}
}

// builtinHooks are React's hooks, whose signatures the runtime need not
// look into.
var builtinHooks = map[string]bool{
	"useState": true, "useReducer": true, "useEffect": true, "useLayoutEffect": true, "useMemo": true,
	"useCallback": true, "useRef": true, "useContext": true, "useImperativeHandle": true, "useDebugValue": true,
	"useId": true, "useDeferredValue": true, "useTransition": true, "useInsertionEffect": true,
	"useSyncExternalStore": true, "useFormStatus": true, "useFormState": true, "useActionState": true,
	"useOptimistic": true,
}

// isHookName reports whether name is use followed by an uppercase letter.
func isHookName(name string) bool {
	return len(name) > 3 && strings.HasPrefix(name, "use") && name[3] >= 'A' && name[3] <= 'Z'
}

// findHooks finds the hook calls and gives them to the functions that
// make them.
func (f *file) findHooks() {
	toks := f.toks
	for i := range toks {
		t := &toks[i]
		if t.kind != tIdent || !isHookName(t.text) || !f.is(i+1, "(") || f.params[i+1] {
			continue
		}
		h := hookCall{name: t.text, callee: t.text, binding: t.text}
		start := i
		if f.member(i) {
			if !f.is(i-1, ".") {
				continue // an optional chain is no call babel looks at
			}
			start = i - 2
			h.binding = ""
			if f.isIdent(start) && !f.member(start) {
				h.binding = toks[start].text
				h.callee = f.text(start, i+1)
			} else {
				h.callee = ""
				for start >= 0 && (f.member(start+1) || f.is(start, ")") || f.is(start, "]")) {
					if f.is(start, ")") || f.is(start, "]") {
						start = toks[start].match - 1
					} else {
						start -= 2
					}
				}
				if start < 0 {
					start = 0
				}
			}
		}
		if start > 0 && isWord(&toks[start-1], "new") {
			continue
		}
		k := f.owner[i]
		if k < 0 {
			continue // not in a function
		}
		close := toks[i+1].match
		if dr := f.byInit[start]; dr != nil {
			if s, e := f.unparen(dr.init, dr.initEnd); s == start && e == close+1 {
				h.key = f.text(dr.pat, dr.patEnd)
			}
		}
		args := f.items(i + 1)
		switch {
		case h.name == "useState" && len(args) > 0:
			h.key += "(" + f.text(args[0][0], args[0][1]) + ")"
		case h.name == "useReducer" && len(args) > 1:
			h.key += "(" + f.text(args[1][0], args[1][1]) + ")"
		}
		f.fns[k].hooks = append(f.fns[k].hooks, h)
	}
}

// chain describes an expression made of a primary and member accesses,
// calls and tagged templates.
type chain struct {
	ok       bool
	call     bool // ends with a call's arguments
	open     int  // the "(" of those arguments
	callee   int  // calleeKind of the callee
	tagged   bool // ends with a template
	isImport bool // import(...)
}

// Callee kinds, as babel sees them.
const (
	calleeOther = iota
	calleeIdent
	calleeMember
)

// parseChain reads the expression [i, j) as a chain: a primary (an
// identifier, this, super, import or a parenthesized expression) followed
// by property accesses, calls and templates.
func (f *file) parseChain(i, j int) chain {
	var c chain
	if i >= j {
		return c
	}
	k := i
	kind := calleeOther // of the chain so far, as a callee
	switch {
	case f.is(k, "("):
		k = f.toks[k].match + 1
	case f.isIdent(k):
		kind = calleeIdent
		k++
	case f.is(k, "this") || f.is(k, "super") || f.is(k, "import"):
		k++
	default:
		return c
	}
	optional := false // babel's Optional* nodes are no member or call
	for k < j {
		t := &f.toks[k]
		c.call, c.tagged = false, false
		switch {
		case f.is(k, ".") && k+1 < j && (f.toks[k+1].kind == tIdent || f.toks[k+1].kind == tPrivate):
			k += 2
			kind = calleeMember
		case f.is(k, "?."):
			optional = true
			k++
			if k < j && (f.toks[k].kind == tIdent || f.toks[k].kind == tPrivate) {
				k++
			}
		case f.is(k, "["):
			k = t.match + 1
			kind = calleeMember
		case f.is(k, "("):
			c.call, c.open, c.callee = true, k, kind
			c.isImport = f.is(i, "import") && k == i+1
			kind = calleeOther
			k = t.match + 1
		case t.kind == tTemplate:
			c.tagged = true
			kind = calleeOther
			if t.tpl == tplHead {
				k = t.match
			}
			k++
		default:
			return chain{}
		}
		if optional {
			kind = calleeOther
			if c.call {
				c.callee = calleeOther
			}
		}
	}
	c.ok = k == j
	return c
}

// fnAtRange returns the function spanning exactly the tokens [i, j), or nil.
func (f *file) fnAtRange(i, j int) *function {
	if fn := f.fnAt[i]; fn != nil && fn.end == j && fn.kind != fMethod {
		return fn
	}
	return nil
}
