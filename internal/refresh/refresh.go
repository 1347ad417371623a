// Package refresh is the registration transform of React Fast Refresh,
// written in Go so that devserve needs no Node.js at run time: it does to a
// module what react-refresh/babel does, and React's own
// react-refresh/runtime (from the project's node_modules) does the rest in
// the browser.
//
// # What it adds
//
// For every top-level component (a function declaration, or a single
// variable bound to a function, to a likely higher-order component call
// like memo(...) or forwardRef(...), or to something used as an element
// type in createElement/jsx calls, whose name begins with an uppercase
// letter; also export default hoc(...), and class declarations that extend
// something) it registers the component:
//
//	_c = App;                      // after the declaration, same line
//	var _c;                        // appended at the end of the module
//	$RefreshReg$(_c, "/src/App.tsx App");
//
// Functions wrapped by a higher-order call are registered too, under the
// name of the call: memo(_c2 = () => ...) is "A$memo".
//
// For every function that calls hooks (useX(...), X.useY(...)) it adds a
// signature: the runtime compares signatures between versions and remounts
// a component whose hooks changed instead of keeping its state:
//
//	var _s = $RefreshSig$();       // at the top of the enclosing scope
//	function App() {_s();          // first thing in the body
//	  const [n, setN] = useState(0);
//	  ...
//	}_s(App, "...key...", false, function () { return [useCustom]; });
//
// The key lists the hooks called in order, each with the pattern it is
// assigned to and, for useState and useReducer, the initial state's source:
// editing an initial state, or adding, removing or reordering hooks,
// resets the component's state; other edits keep it. Custom hooks in scope
// are listed so the runtime folds their own signatures in; a custom hook
// not in scope, or a comment containing "@refresh reset", forces a remount
// on every edit. Anonymous components (export default () => ...) are not
// registered, as React's plugin does not register them.
//
// # Input
//
// The input is JavaScript with its imports and exports as written:
// TypeScript stripped, JSX compiled to jsx(...) or createElement(...)
// calls. esbuild's Transform of the source (or a Build without bundling)
// with the project's JSX settings and Format left unset gives exactly that.
// (With Format ESM, esbuild would turn export default memo(...) into a
// variable named after the file, which is not registered; and esbuild drops
// comments, so Options.ForceReset carries "@refresh reset".) So the package
// understands JavaScript only, with a lexer of its own that tells regular
// expressions from divisions and blocks from object literals, and a
// skimming parser that finds functions, declarations, calls and exports by
// their tokens. JSX in the input is an error; TypeScript is not detected
// and must not be given.
//
// # Output
//
// Every insertion but the registrations at the end goes on the line it
// belongs to, so the output has the input's lines, and a source map of the
// input stays right to the line (columns shift on the lines with an
// insertion; Info.Edits tells by how much, for whoever wants them exact).
//
// # Use
//
// A bundler passes each module of the project (not those of node_modules)
// through esbuild's Transform and Transform in an OnLoad plugin, and hands
// esbuild the output with the first Transform's source map inline
// (//# sourceMappingURL=data:...): esbuild chains the two, so the build's
// map leads to the source (TestSourceMapChain). Registrations name their
// module (Options.ID), and Options.Register and Options.Signature name
// what a module calls, e.g. import.meta.refreshReg and
// import.meta.refreshSig, which a module runtime can give each module. The
// runtime installs react-refresh/runtime before React DOM first runs
// (RefreshRuntime.injectIntoGlobalHook(window)); it lets a module take its
// own updates when Info.Boundary says so and RefreshRuntime.isLikelyComponentType
// accepts each of its new exports, then calls
// RefreshRuntime.performReactRefresh(); an update to any other module goes
// on to its importers. TestRefreshInBrowser does all of this in a page.
package refresh

import (
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrSyntax is wrapped by the errors of Transform on input it cannot
// follow (which esbuild may still accept): serve such a module without
// Fast Refresh.
var ErrSyntax = errors.New("refresh: input not understood")

// Options tune Transform. The zero value emits what react-refresh/babel
// does by default, with hashed signature keys.
type Options struct {
	// ID names the module in registrations: component App of ID
	// "/src/App.tsx" is registered as "/src/App.tsx App". Without an ID,
	// as "App" (the runtime's $RefreshReg$ must then add the module).
	ID string
	// Register is the function called to register a component
	// (default "$RefreshReg$"); Signature the one called to create a
	// signature function (default "$RefreshSig$"). Any expression will do,
	// e.g. "import.meta.hot.refreshReg".
	Register, Signature string
	// ForceReset makes every component of the module remount on each edit,
	// as a "// @refresh reset" comment does. Set it when such a comment was
	// in the source but did not survive compilation (esbuild drops
	// comments): WantsReset tells.
	ForceReset bool
	// FullKeys writes signature keys in full instead of as their SHA-1
	// (for tests and debugging; React's plugin hashes them too).
	FullKeys bool
}

// Info is what Transform found in a module.
type Info struct {
	// Components are the names registered, in order ("App",
	// "Button$memo", "%default%").
	Components []string
	// Signatures is how many functions got a signature.
	Signatures int
	// Exports are the module's exports, in order.
	Exports []Export
	// ExportAll is set when the module re-exports everything of another
	// (export * from), whose exports it cannot know.
	ExportAll bool
	// Edits are the insertions, in order of Offset: the output is the
	// input with each Text inserted at its Offset (a byte offset of the
	// input). They never contain a line break, but the last, at the end of
	// the input, which registers the components.
	Edits []Edit
}

// Export is one export of a module.
type Export struct {
	Name  string // exported name: "App", "default"
	Local string // the local binding, "" for an expression or a re-export
	// Component is set when the export is a component registered by the
	// module.
	Component bool
}

// Edit is an insertion into the input.
type Edit struct {
	Offset int
	Text   string
}

// Boundary reports whether the module can take its own updates: it
// exports something, and everything it exports is a component it
// registered. React Refresh re-runs such a module in place and re-renders
// its components; an edit to any other module goes on to its importers.
// The runtime should check the same of the values the new version exports
// (RefreshRuntime.isLikelyComponentType), as some components are not
// recognizable from the source alone.
func (i Info) Boundary() bool {
	if i.ExportAll || len(i.Exports) == 0 {
		return false
	}
	for _, e := range i.Exports {
		if !e.Component {
			return false
		}
	}
	return true
}

// WantsReset reports whether a module's source asks for "@refresh reset",
// for Options.ForceReset when the code given to Transform lost its
// comments. Like React's plugin it looks for the words, here anywhere: in
// a string they reset state too, which is safe.
func WantsReset(source []byte) bool {
	return strings.Contains(string(source), "@refresh reset")
}

// Transform adds the registrations and signatures of React Fast Refresh to
// code, a JavaScript module (see the package documentation). When there is
// nothing to add, out is code itself.
func Transform(code []byte, opts Options) (out []byte, info Info, err error) {
	return transform(code, opts, false)
}

// transform is Transform; with parens, every construct it adds around an
// expression is only a pair of parentheses and statements are left out,
// so that the output must mean what the input does (tests check that
// esbuild prints both alike).
func transform(code []byte, opts Options, parens bool) (out []byte, info Info, err error) {
	if opts.Register == "" {
		opts.Register = "$RefreshReg$"
	}
	if opts.Signature == "" {
		opts.Signature = "$RefreshSig$"
	}
	src := string(code)
	l, err := lex(src)
	if err != nil {
		return nil, Info{}, fmt.Errorf("%w: %s", ErrSyntax, err)
	}
	t := &transformer{file: analyze(src, l.toks), opts: opts, reset: opts.ForceReset || l.reset,
		uids: map[string]int{}, used: map[string]bool{}, components: map[string]bool{}, sigVars: map[int][]string{}}
	t.register()
	t.sign()
	t.exports()
	t.finish()
	info = t.info
	if len(t.edits) == 0 {
		return code, info, nil
	}
	slices.SortStableFunc(t.edits, func(a, b edit) int {
		if a.off != b.off {
			return a.off - b.off
		}
		if a.class != b.class {
			return a.class - b.class
		}
		switch a.class {
		case closer:
			return a.size - b.size // inner first
		case opener:
			return b.size - a.size // outer first
		}
		return a.size - b.size
	})
	var sb strings.Builder
	sb.Grow(len(src) + 64*len(t.edits))
	at := 0
	var last byte // of the output so far
	for _, e := range t.edits {
		if parens {
			n := strings.Count(e.text, "(") - strings.Count(e.text, ")")
			switch {
			case e.fn: // esbuild keeps parentheses around functions
				e.text = ""
			case e.stmt: // a "(" at the start of a line may continue the one before
				e.text = ""
			case e.class == opener:
				e.text = strings.Repeat("(", n)
			case e.class == closer:
				e.text = strings.Repeat(")", -n)
			default:
				e.text, e.semi = "", false
			}
		}
		sb.WriteString(src[at:e.off])
		if e.off > at {
			last = src[e.off-1]
		}
		n := len(info.Edits)
		same := n > 0 && info.Edits[n-1].Offset == e.off
		if e.semi && !(same && strings.HasSuffix(info.Edits[n-1].Text, ";")) {
			e.text = ";" + e.text // one semicolon ends the statement before
		}
		if e.text != "" && identByte(e.text[0]) && identByte(last) {
			e.text = " " + e.text // export default_s(...) would be one word
		}
		sb.WriteString(e.text)
		if e.text != "" {
			last = e.text[len(e.text)-1]
		}
		at = e.off
		if same {
			info.Edits[n-1].Text += e.text
		} else {
			info.Edits = append(info.Edits, Edit{Offset: e.off, Text: e.text})
		}
	}
	sb.WriteString(src[at:])
	return []byte(sb.String()), info, nil
}

// identByte reports whether c may be part of an identifier (any byte of
// a non-ASCII character counts).
func identByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '$' || c == '\\' || c >= utf8.RuneSelf
}

// Edit classes, in the order they go at one offset: what closes a
// construct, then statements, then what opens a construct.
const (
	closer = iota
	point
	opener
)

// edit is an insertion while transforming. Openers and closers of nested
// constructs at one offset are ordered by size, the tokens the construct
// spans; points by size as a rank.
type edit struct {
	off   int
	class int
	size  int
	text  string
	semi  bool // a statement that needs a semicolon before it
	fn    bool // an opener or closer around a function
	stmt  bool // an opener or closer around an expression that begins a statement
}

// transformer holds the state of one Transform.
type transformer struct {
	*file
	opts       Options
	reset      bool
	edits      []edit
	uids       map[string]int
	used       map[string]bool
	regs       []registration
	components map[string]bool // top-level bindings registered
	defaultReg bool            // export default <expression> was registered
	types      map[string]bool // identifiers used as element types, once needed
	sigVars    map[int][]string
	info       Info
}

// registration is one $RefreshReg$ call.
type registration struct {
	handle, name string
}

// uid returns a name made of base not used in the input nor before.
func (t *transformer) uid(base string) string {
	for n := max(t.uids[base], 1); ; n++ {
		name := base
		if n > 1 {
			name += strconv.Itoa(n)
		}
		if !t.idents[name] && !t.used[name] {
			t.used[name] = true
			t.uids[base] = n + 1
			return name
		}
	}
}

func (t *transformer) add(off, class, size int, text string) {
	t.edits = append(t.edits, edit{off: off, class: class, size: size, text: text})
}

// isComponentName reports whether name begins with an uppercase letter
// (as React's plugin checks it: ASCII A to Z).
func isComponentName(name string) bool {
	return name != "" && name[0] >= 'A' && name[0] <= 'Z'
}

// inList reports whether the statement that begins at token i is an item
// of a statement list, so that a statement can go after it (not the body
// of an if, a loop, an else).
func (t *transformer) inList(i int) bool {
	if i == 0 {
		return true
	}
	p := &t.toks[i-1]
	if p.kind == tPunct && p.text == ")" && p.ctrl || isWord(p, "else") && !t.member(i-1) || isWord(p, "do") && !t.member(i-1) {
		return false
	}
	return t.toks[i].stmt || isWord(p, "export")
}

// after returns where a statement goes after the one that ends with token
// end-1 (before token end), and whether it needs a semicolon first.
func (t *transformer) after(end int) (off int, semi bool) {
	if t.is(end, ";") {
		return t.toks[end].end, false
	}
	last := &t.toks[end-1]
	return last.end, !(last.kind == tPunct && last.text == "}" && last.stmtEnd)
}

// addAfter inserts statement s after the statement ending before token
// end; rank orders statements at one place (signatures, then
// registrations).
func (t *transformer) addAfter(end, rank int, s string) {
	off, semi := t.after(end)
	t.edits = append(t.edits, edit{off: off, class: point, size: rank, text: s, semi: semi})
}

// register finds the top-level components and registers them, in the
// order of the source.
func (t *transformer) register() {
	toks := t.toks
	for i := range toks {
		tok := &toks[i]
		if tok.depth != 0 || tok.kind != tIdent || t.member(i) {
			continue
		}
		switch {
		case tok.text == "export" && tok.stmt && t.is(i+1, "default"):
			t.exportDefault(i + 2)
		case tok.text == "function" && tok.kw && tok.decl && t.inList(t.stmtStart(i)):
			fn := t.fnAt[i]
			if fn == nil {
				fn = t.fnAt[i-1]
			}
			if fn == nil || fn.kind != fDecl || fn.parent >= 0 || !isComponentName(fn.name) {
				continue
			}
			t.components[fn.name] = true
			t.addAfter(fn.end, 1, t.newReg(fn.name)+" = "+fn.name+";")
		case tok.text == "class" && tok.kw && tok.decl && t.inList(t.stmtStart(i)):
			// React's plugin leaves classes out; registered, a class
			// component is remounted by the runtime instead of left stale.
			if !t.isIdent(i+1) || !isComponentName(toks[i+1].text) || !t.is(i+2, "extends") {
				continue
			}
			body := t.classBody(i)
			if body < 0 {
				continue
			}
			name := toks[i+1].text
			t.components[name] = true
			t.addAfter(toks[body].match+1, 1, t.newReg(name)+" = "+name+";")
		case t.declAt[i] != nil:
			d := t.declAt[i]
			if d.owner >= 0 || d.inFor || len(d.list) != 1 || !t.inList(t.stmtStart(i)) {
				continue
			}
			dr := &d.list[0]
			if dr.init < 0 || dr.patEnd != dr.pat+1 || !t.isIdent(dr.pat) || !isComponentName(toks[dr.pat].text) {
				continue
			}
			t.declarator(toks[dr.pat].text, dr)
		}
	}
}

// classBody returns the "{" of the body of the class whose keyword is
// token i, or -1.
func (t *transformer) classBody(i int) int {
	for j := i + 1; j < len(t.toks); j++ {
		if t.toks[j].depth == t.toks[i].depth && t.toks[j].brace == bClass && t.is(j, "{") {
			return j
		}
		if t.toks[j].depth < t.toks[i].depth {
			break
		}
	}
	return -1
}

// newReg registers a component under name and returns its handle.
func (t *transformer) newReg(name string) string {
	h := t.uid("_c")
	t.regs = append(t.regs, registration{handle: h, name: name})
	return h
}

// declarator registers what the top-level declarator dr binds to name,
// when it looks like a component.
func (t *transformer) declarator(name string, dr *declarator) {
	s, e := t.unparen(dr.init, dr.initEnd)
	if t.fnAtRange(s, e) == nil {
		c := t.parseChain(s, e)
		switch {
		case c.ok && c.call:
			if c.isImport || c.callee == calleeIdent && (strings.HasPrefix(t.toks[s].text, "require") || strings.HasPrefix(t.toks[s].text, "import")) {
				return
			}
		case c.ok && c.tagged:
		default:
			return
		}
	}
	found := func(id string, is, ie int, wrap bool) {
		if !wrap {
			return // hoc(Foo): Foo is registered where it is defined
		}
		h := t.newReg(id)
		if is == s && ie == e {
			t.addAfter(dr.d.end, 1, h+" = "+name+";")
			return
		}
		t.add(t.toks[is].start, opener, 2*(ie-is)+1, h+" = ")
	}
	if t.inner(name, s, e, found) {
		t.components[name] = true
	} else if t.usedAsType(name) {
		// const Header = styled.div`...`, used as <Header />.
		found(name, s, e, true)
		t.components[name] = true
	}
}

// inner looks for components in the expression [s, e), named id, as
// react-refresh's findInnerComponents does: a function, or a call of an
// identifier or member (a likely higher-order component) whose first
// argument is one, or a capitalized identifier. It calls found for each,
// innermost first, with wrap false for an identifier (not to be
// registered again), and reports whether it found any.
func (t *transformer) inner(id string, s, e int, found func(id string, s, e int, wrap bool)) bool {
	s, e = t.unparen(s, e)
	if e == s+1 && t.isIdent(s) {
		if !isComponentName(t.toks[s].text) {
			return false
		}
		found(id, s, e, false)
		return true
	}
	if fn := t.fnAtRange(s, e); fn != nil {
		if fn.kind == fArrow && !fn.block {
			if bs, be := t.unparen(fn.body, fn.bodyEnd); t.fnAtRange(bs, be) != nil && t.fnAtRange(bs, be).kind == fArrow {
				return false // () => () => ...: a factory, not a component
			}
		}
		found(id, s, e, true)
		return true
	}
	c := t.parseChain(s, e)
	if !c.ok || !c.call || c.callee == calleeOther {
		return false
	}
	args := t.items(c.open)
	if len(args) == 0 {
		return false
	}
	if !t.inner(id+"$"+t.text(s, c.open), args[0][0], args[0][1], found) {
		return false
	}
	found(id, s, e, true)
	return true
}

// elementFuncs are the functions whose arguments are element types.
var elementFuncs = map[string]bool{"createElement": true, "jsx": true, "jsxs": true, "jsxDEV": true}

// usedAsType reports whether the binding name is an argument of a call of
// createElement, jsx, jsxs or jsxDEV (what JSX compiles to).
func (t *transformer) usedAsType(name string) bool {
	if t.types == nil {
		t.types = map[string]bool{}
		for i := range t.toks {
			if t.toks[i].kind != tIdent || t.member(i) {
				continue
			}
			p := t.toks[i].parent
			if p < 1 || !t.is(p, "(") || !(t.is(i-1, "(") || t.is(i-1, ",")) || !(t.is(i+1, ",") || t.is(i+1, ")")) {
				continue
			}
			if c := &t.toks[p-1]; c.kind == tIdent && elementFuncs[c.text] {
				t.types[t.toks[i].text] = true
			}
		}
	}
	return t.types[name]
}

// sign adds the signatures of the functions that call hooks.
func (t *transformer) sign() {
	for k, fn := range t.fns {
		if len(fn.hooks) == 0 || fn.kind == fMethod || fn.kind == fDecl && fn.name == "" {
			continue
		}
		t.info.Signatures++
		h := t.uid("_s")
		scope := t.varScope(fn)
		t.sigVars[scope] = append(t.sigVars[scope], h)
		if fn.block {
			off, semi := t.bodyStart(fn.body)
			t.edits = append(t.edits, edit{off: off, class: point, text: h + "();", semi: semi})
		} else {
			size := 2 * (fn.bodyEnd - fn.body)
			isFn := t.fnAtRange(t.unparen(fn.body, fn.bodyEnd)) != nil
			t.edits = append(t.edits, edit{off: t.toks[fn.body].start, class: opener, size: size, text: "(" + h + "(), ", fn: isFn},
				edit{off: t.toks[fn.bodyEnd-1].end, class: closer, size: size, text: ")", fn: isFn})
		}
		switch dr := t.byInit[fn.start]; {
		case fn.kind == fDecl:
			if t.inList(t.stmtStart(fn.start)) {
				t.addAfter(fn.end, 0, h+"("+fn.name+", "+t.sigArgs(fn, fn.parent)+");")
			}
		case dr != nil && t.isInit(dr, fn.start, fn.end):
			first := dr.d.kw
			if t.is(first-1, "export") {
				first--
			}
			if dr.patEnd == dr.pat+1 && t.isIdent(dr.pat) && !dr.d.inFor && t.inList(first) {
				t.addAfter(dr.d.end, 0, h+"("+t.toks[dr.pat].text+", "+t.sigArgs(fn, dr.d.owner)+");")
			}
		default:
			t.wrap(h, fn.start, fn.end, t.sigArgs(fn, k))
			s, e := fn.start, fn.end
			for {
				var ok bool
				if s, e, ok = t.hocAbove(s, e); !ok {
					break
				}
				t.wrap(h, s, e, t.sigArgs(fn, t.owner[s]))
			}
		}
	}
	for scope, vars := range t.sigVars {
		var sb strings.Builder
		for i, v := range vars {
			if i > 0 {
				sb.WriteString(", ")
			} else {
				sb.WriteString("var ")
			}
			sb.WriteString(v + " = " + t.opts.Signature + "()")
		}
		sb.WriteString(";")
		open := -1
		if scope >= 0 {
			open = t.fns[scope].body
		}
		off, semi := t.bodyStart(open)
		t.edits = append(t.edits, edit{off: off, class: point, size: 1, text: sb.String(), semi: semi})
	}
}

// stmtStart returns the first token of the statement whose declaration
// keyword (function, class, const...) is token i.
func (t *transformer) stmtStart(i int) int {
	for i > 0 && (isWord(&t.toks[i-1], "export") || isWord(&t.toks[i-1], "default") || isWord(&t.toks[i-1], "async")) && !t.member(i-1) {
		i--
	}
	return i
}

// isInit reports whether [s, e) is the whole initializer of dr.
func (t *transformer) isInit(dr *declarator, s, e int) bool {
	is, ie := t.unparen(dr.init, dr.initEnd)
	return is == s && ie == e
}

// wrap wraps the expression [s, e) in a call of the signature function h
// (in parentheses after new, which would call h instead).
func (t *transformer) wrap(h string, s, e int, args string) {
	size := 2 * (e - s)
	open, close := h+"(", ", "+args+")"
	if s > 0 && isWord(&t.toks[s-1], "new") && !t.member(s-1) {
		open, close = "("+open, close+")"
	}
	isFn, stmt := t.fnAtRange(t.unparen(s, e)) != nil, t.toks[s].stmt
	t.edits = append(t.edits, edit{off: t.toks[s].start, class: opener, size: size, text: open, fn: isFn, stmt: stmt},
		edit{off: t.toks[e-1].end, class: closer, size: size, text: close, fn: isFn, stmt: stmt})
}

// hocAbove returns the call whose argument the expression [s, e) is, as
// react-refresh's findHOCCallPathsAbove finds it: hoc(x), not new Hoc(x)
// nor x(...) nor hoc?.(x).
func (t *transformer) hocAbove(s, e int) (int, int, bool) {
	for t.is(s-1, "(") && t.toks[s-1].match == e && !t.callArgs(s-1) && !t.params[s-1] {
		s, e = s-1, e+1 // parentheses
	}
	p := t.toks[s].parent
	if p < 0 || !t.is(p, "(") || !t.callArgs(p) || t.is(p-1, "?.") {
		return 0, 0, false
	}
	if !(s-1 == p || t.is(s-1, ",")) || !(e == t.toks[p].match || t.is(e, ",")) {
		return 0, 0, false
	}
	cs := t.calleeStart(p - 1)
	if cs < 0 {
		return 0, 0, false
	}
	return cs, t.toks[p].match + 1, true
}

// calleeStart returns the first token of the callee that ends with token
// k, or -1 when it is no plain call (new, optional chains).
func (t *transformer) calleeStart(k int) int {
	for k >= 0 {
		tok := &t.toks[k]
		start := k
		switch {
		case tok.kind == tPunct && (tok.text == ")" || tok.text == "]"):
			start = tok.match
			if tok.text == ")" && t.callArgs(start) || tok.text == "]" && start > 0 && canEnd(&t.toks[start-1]) && !t.toks[start-1].stmtEnd {
				if t.is(start-1, "?.") {
					return -1
				}
				k = start - 1
				continue
			}
		case tok.kind == tTemplate && (tok.tpl == tplWhole || tok.tpl == tplTail):
			if tok.tpl == tplTail {
				start = tok.match
			}
			if start > 0 && canEnd(&t.toks[start-1]) {
				k = start - 1
				continue
			}
		case tok.kind == tIdent && (!reserved[tok.text] || tok.text == "this" || tok.text == "super"):
			if t.member(k) {
				if t.is(k-1, "?.") {
					return -1
				}
				k -= 2
				continue
			}
		case tok.kind == tPrivate && t.member(k):
			k -= 2
			continue
		default:
			return -1
		}
		if isWord(&t.toks[max(start-1, 0)], "new") && start > 0 {
			return -1
		}
		return start
	}
	return -1
}

// varScope returns the function in whose body the signature variable of
// fn is declared: the nearest one around it with a block body that fn is
// in (not in its parameters); -1 for the module.
func (t *transformer) varScope(fn *function) int {
	for k := fn.parent; k >= 0; k = t.fns[k].parent {
		if p := t.fns[k]; p.block && fn.start > p.body {
			return k
		}
	}
	return -1
}

// bodyStart returns where the first statement of a body goes: after the
// "{" at token open (-1: the module) and its directives ("use strict"),
// and whether it needs a leading semicolon.
func (t *transformer) bodyStart(open int) (off int, semi bool) {
	k, close := open+1, len(t.toks)
	if open >= 0 {
		close = t.toks[open].match
		off = t.toks[open].end
	} else if len(t.toks) > 0 {
		off = t.toks[0].start
	}
	for k < close && t.toks[k].kind == tStr {
		switch {
		case t.is(k+1, ";"):
			off, semi = t.toks[k+1].end, false
			k += 2
			continue
		case k+1 == close || t.toks[k+1].stmt:
			off, semi = t.toks[k].end, true
			k++
			continue
		}
		break
	}
	return off, semi
}

// sigArgs returns the arguments of a signature call after the function:
// the key, and when needed whether to force a reset and the custom hooks
// in scope at function scope (-1: the module).
func (t *transformer) sigArgs(fn *function, scope int) string {
	keys := make([]string, len(fn.hooks))
	force := t.reset
	var custom []string
	for i, h := range fn.hooks {
		keys[i] = h.name + "{" + h.key + "}"
		if builtinHooks[h.name] {
			continue
		}
		if h.binding != "" && t.bound(h.binding, scope) {
			custom = append(custom, h.callee)
		} else {
			force = true
		}
	}
	key := strings.Join(keys, "\n")
	if !t.opts.FullKeys {
		sum := sha1.Sum([]byte(key))
		key = base64.StdEncoding.EncodeToString(sum[:])
	}
	s := quote(key)
	if force || len(custom) > 0 {
		s += ", " + strconv.FormatBool(force)
	}
	if len(custom) > 0 {
		s += ", function () { return [" + strings.Join(custom, ", ") + "]; }"
	}
	return s
}

// bound reports whether name has a binding in function scope or around it.
func (t *transformer) bound(name string, scope int) bool {
	for ; scope >= 0; scope = t.fns[scope].parent {
		if t.fns[scope].names[name] {
			return true
		}
	}
	return t.modNames[name]
}

// exports lists the module's exports and registers export default hoc(...).
func (t *transformer) exports() {
	toks := t.toks
	for i := range toks {
		if !isWord(&toks[i], "export") || toks[i].depth != 0 || !toks[i].stmt {
			continue
		}
		j := i + 1
		if j >= len(toks) {
			break
		}
		switch {
		case t.is(j, "default"):
			t.export("default", t.defaultLocal(j+1))
		case t.is(j, "*"):
			if t.is(j+1, "as") && j+2 < len(toks) {
				t.export(exportName(&toks[j+2]), "")
			} else {
				t.info.ExportAll = true
			}
		case t.is(j, "{"):
			from := t.is(toks[j].match+1, "from")
			for _, it := range t.items(j) {
				a, b := it[0], it[1]
				if a >= b {
					continue
				}
				local, name := exportName(&toks[a]), exportName(&toks[b-1])
				if from {
					local = ""
				}
				t.export(name, local)
			}
		case toks[j].kw && (toks[j].text == "function" || toks[j].text == "class"), isWord(&toks[j], "async"):
			if t.is(j, "async") {
				j++
			}
			k := j + 1
			if t.is(k, "*") {
				k++
			}
			if t.isIdent(k) {
				t.export(toks[k].text, toks[k].text)
			}
		case t.declAt[j] != nil:
			for _, dr := range t.declAt[j].list {
				names := map[string]bool{}
				t.patternNames(dr.pat, names)
				// The map loses the order: take the names in the order
				// their tokens come.
				for k := dr.pat; k < dr.patEnd; k++ {
					if toks[k].kind == tIdent && names[toks[k].text] {
						delete(names, toks[k].text)
						t.export(toks[k].text, toks[k].text)
					}
				}
			}
		}
	}
}

// exportName is the name a token of an export list stands for.
func exportName(tok *token) string {
	if tok.kind == tStr {
		if s, err := strconv.Unquote(`"` + tok.text[1:len(tok.text)-1] + `"`); err == nil {
			return s
		}
		return tok.text[1 : len(tok.text)-1]
	}
	return tok.text
}

// export records an export.
func (t *transformer) export(name, local string) {
	t.info.Exports = append(t.info.Exports, Export{Name: name, Local: local})
}

// defaultLocal returns the local binding that export default at token j
// exports: the name of a function or class declaration, or an identifier;
// "" for anything else.
func (t *transformer) defaultLocal(j int) string {
	k := j
	if t.is(k, "async") && t.is(k+1, "function") {
		k++
	}
	if k < len(t.toks) && t.toks[k].kw && (t.toks[k].text == "function" || t.toks[k].text == "class") {
		k++
		if t.is(k, "*") {
			k++
		}
		if t.isIdent(k) && !t.is(k, "extends") {
			return t.toks[k].text
		}
		return ""
	}
	if s, e := t.unparen(j, t.exprEnd(j)); e == s+1 && t.isIdent(s) {
		return t.toks[s].text
	}
	return ""
}

// exportDefault registers the components of export default <expression>
// at token j, when the expression is a call: export default memo(...),
// export default hoc(Foo).
func (t *transformer) exportDefault(j int) {
	if j >= len(t.toks) || t.toks[j].kw || t.is(j, "async") && t.is(j+1, "function") {
		return
	}
	s, e := t.unparen(j, t.exprEnd(j))
	if c := t.parseChain(s, e); !c.ok || !c.call {
		return
	}
	t.defaultReg = t.inner("%default%", s, e, func(id string, is, ie int, wrap bool) {
		if wrap {
			t.add(t.toks[is].start, opener, 2*(ie-is)+1, t.newReg(id)+" = ")
		}
	})
}

// finish decides which exports are components and appends the
// registrations.
func (t *transformer) finish() {
	for i := range t.info.Exports {
		e := &t.info.Exports[i]
		e.Component = e.Local != "" && t.components[e.Local] || e.Name == "default" && e.Local == "" && t.defaultReg
	}
	if len(t.regs) == 0 {
		return
	}
	var sb strings.Builder
	if !strings.HasSuffix(t.src, "\n") {
		sb.WriteString("\n")
	}
	sb.WriteString("var ")
	for i, r := range t.regs {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(r.handle)
		t.info.Components = append(t.info.Components, r.name)
	}
	sb.WriteString(";\n")
	for _, r := range t.regs {
		id := r.name
		if t.opts.ID != "" {
			id = t.opts.ID + " " + r.name
		}
		sb.WriteString(t.opts.Register + "(" + r.handle + ", " + quote(id) + ");\n")
	}
	t.add(len(t.src), point, 2, sb.String())
}

// quote returns s as a JavaScript string literal (in double quotes).
func quote(s string) string {
	var sb strings.Builder
	sb.WriteByte('"')
	for i, r := range s {
		switch {
		case r == '"' || r == '\\':
			sb.WriteByte('\\')
			sb.WriteRune(r)
		case r == '\n':
			sb.WriteString(`\n`)
		case r == '\r':
			sb.WriteString(`\r`)
		case r == '\t':
			sb.WriteString(`\t`)
		case r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029':
			fmt.Fprintf(&sb, `\u%04x`, r)
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			fmt.Fprintf(&sb, `\x%02x`, s[i]) // a byte that is no UTF-8: the character of its value
		default:
			sb.WriteRune(r)
		}
	}
	sb.WriteByte('"')
	return sb.String()
}
