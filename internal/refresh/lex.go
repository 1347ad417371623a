package refresh

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// kind is the lexical class of a token.
type kind uint8

const (
	tIdent   kind = iota // identifiers and keywords
	tPrivate             // #name
	tNum
	tStr
	tTemplate // a template literal or one piece of it (see tpl)
	tRegex
	tPunct
)

// Template pieces: a template without substitutions is whole; one with
// them is a head ("`a${"), middles ("}b${") and a tail ("}c`").
const (
	tplWhole = iota
	tplHead
	tplMiddle
	tplTail
)

// brace is what a "{" opens.
type brace uint8

const (
	bNone   brace = iota
	bBlock        // a block statement, a switch body, a class static block
	bFunc         // the body of a function declaration or expression
	bArrow        // the body of an arrow function
	bMethod       // the body of a method in a class or an object literal
	bClass        // a class body
	bObject       // an object literal (or an import/export list)
)

// token is one token of the input, with what the lexer learnt of its
// context on the way.
type token struct {
	text       string // the source text
	start, end int    // byte offsets in the input
	// match is the other end of a bracket pair ("(" and ")", "[" and "]",
	// "{" and "}", a template's head and its tail); -1 for other tokens.
	match int
	// close is, for an opening bracket, the token that ends its inside:
	// the matching bracket, or for a template head or middle the next
	// piece. -1 for other tokens.
	close int
	// parent is the innermost opening bracket (or template head or
	// middle) around the token; -1 at the top level.
	parent int
	depth  int // how many brackets are open around the token
	kind   kind
	tpl    uint8
	brace  brace // for "{" and "}": what the pair delimits
	nl     bool  // a line terminator comes between the previous token and this one
	ctrl   bool  // for "(" and ")": the head of if, for, while, with, switch or catch
	// stmtEnd is set on a "}" that ends a statement (a block, a function or
	// class declaration).
	stmtEnd bool
	label   bool // for ":": a label's or a case's colon, after which a statement begins
	stmt    bool // the token begins a statement
	decl    bool // the token may begin a declaration: a statement, or after export or export default
	kw      bool // for function and class: a keyword (not a property name)
}

// frame is an open bracket while lexing.
type frame struct {
	open    int  // index of its token
	head    int  // for a template: index of the template's head
	ch      byte // '(', '[', '{' or '`'
	ternary int  // "?" seen at this level without their ":"
}

// lexer turns the input into tokens.
type lexer struct {
	src      string
	pos      int
	toks     []token
	stack    []frame
	classes  []pendingClass
	ternary0 int // "?" seen at the top level without their ":"
	nl       bool
	reset    bool // a comment asks for "@refresh reset"
}

// pendingClass is a class keyword whose body has not begun.
type pendingClass struct {
	depth int  // len(stack) at the keyword: its body's "{" is at the same depth
	decl  bool // a class declaration
}

// lex tokenizes src, a JavaScript module or script. It fails on what is not
// JavaScript it can follow: unbalanced brackets, unterminated literals and
// comments, JSX.
func lex(src string) (*lexer, error) {
	l := &lexer{src: src, toks: make([]token, 0, len(src)/3+16)} // a token per 3 bytes is usual
	if strings.HasPrefix(src, "#!") {
		l.skipLine()
	}
	for {
		if err := l.skipSpace(); err != nil {
			return nil, err
		}
		if l.pos >= len(src) {
			break
		}
		if err := l.next(); err != nil {
			return nil, err
		}
	}
	if len(l.stack) > 0 {
		f := l.stack[len(l.stack)-1]
		return nil, l.errAt(l.toks[f.open].start, "unclosed %q", l.toks[f.open].text)
	}
	return l, nil
}

func (l *lexer) errAt(off int, format string, args ...any) error {
	line := 1 + strings.Count(l.src[:off], "\n")
	col := off - strings.LastIndexByte(l.src[:off], '\n') - 1
	return fmt.Errorf("%d:%d: %s", line, col, fmt.Sprintf(format, args...))
}

// skipSpace skips white space and comments, noting line terminators.
func (l *lexer) skipSpace() error {
	l.nl = false
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == '\n' || c == '\r':
			l.nl = true
			l.pos++
		case c == ' ' || c == '\t' || c == '\v' || c == '\f':
			l.pos++
		case c == '/' && l.pos+1 < len(l.src) && l.src[l.pos+1] == '/':
			start := l.pos
			l.skipLine()
			l.comment(l.src[start:l.pos])
		case c == '/' && l.pos+1 < len(l.src) && l.src[l.pos+1] == '*':
			end := strings.Index(l.src[l.pos+2:], "*/")
			if end < 0 {
				return l.errAt(l.pos, "unterminated comment")
			}
			text := l.src[l.pos : l.pos+2+end+2]
			if strings.ContainsAny(text, "\n\r\u2028\u2029") {
				l.nl = true
			}
			l.comment(text)
			l.pos += len(text)
		case c < utf8.RuneSelf:
			return nil
		default:
			r, n := utf8.DecodeRuneInString(l.src[l.pos:])
			switch {
			case r == '\u2028' || r == '\u2029':
				l.nl = true
			case r == '\ufeff' || unicode.Is(unicode.Zs, r):
			default:
				return nil
			}
			l.pos += n
		}
	}
	return nil
}

func (l *lexer) comment(text string) {
	if strings.Contains(text, "@refresh reset") {
		l.reset = true
	}
}

// skipLine moves to the next line terminator.
func (l *lexer) skipLine() {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		if c == '\n' || c == '\r' {
			return
		}
		if c == 0xe2 && (strings.HasPrefix(l.src[l.pos:], "\u2028") || strings.HasPrefix(l.src[l.pos:], "\u2029")) {
			return
		}
		l.pos++
	}
}

// puncts are the punctuators of more than one character, longest first,
// by their first character.
var puncts = func() (by [128][]string) {
	for _, p := range []string{
		">>>=", "...", "===", "!==", "**=", "<<=", ">>=", ">>>", "&&=", "||=", "??=",
		"=>", "==", "!=", "<=", ">=", "&&", "||", "??", "?.", "++", "--", "+=", "-=", "*=", "/=", "%=",
		"&=", "|=", "^=", "**", "<<", ">>",
	} {
		by[p[0]] = append(by[p[0]], p)
	}
	return by
}()

// punctLen is the length of the longest punctuator s starts with, or 1
// for a character that starts none. Trying only the punctuators of s's
// first character made lexing an app's component twice as fast.
func punctLen(s string) int {
	if s[0] < utf8.RuneSelf {
		for _, p := range puncts[s[0]] {
			if strings.HasPrefix(s, p) {
				return len(p)
			}
		}
	}
	return 1
}

// next lexes one token at l.pos, which is not white space.
func (l *lexer) next() error {
	start := l.pos
	c := l.src[start]
	switch {
	case isIdentStart(l.src, start):
		l.pos = identEnd(l.src, start)
		return l.push(tIdent, start)
	case c == '#' && start+1 < len(l.src) && isIdentStart(l.src, start+1):
		l.pos = identEnd(l.src, start+1)
		return l.push(tPrivate, start)
	case c >= '0' && c <= '9' || c == '.' && start+1 < len(l.src) && l.src[start+1] >= '0' && l.src[start+1] <= '9':
		l.pos = numberEnd(l.src, start)
		return l.push(tNum, start)
	case c == '"' || c == '\'':
		end, ok := stringEnd(l.src, start)
		if !ok {
			return l.errAt(start, "unterminated string")
		}
		l.pos = end
		return l.push(tStr, start)
	case c == '`':
		return l.template(start + 1)
	case c == '}' && len(l.stack) > 0 && l.stack[len(l.stack)-1].ch == '`':
		return l.template(start + 1)
	case c == '/' && l.regexAllowed():
		end, ok := regexEnd(l.src, start)
		if !ok {
			return l.errAt(start, "unterminated regular expression")
		}
		l.pos = end
		return l.push(tRegex, start)
	case c == '<' && l.regexAllowed() && start+1 < len(l.src) && (l.src[start+1] == '>' || isIdentStart(l.src, start+1)):
		return l.errAt(start, "JSX or a type argument: the input must be JavaScript")
	}
	l.pos = start + punctLen(l.src[start:])
	if l.pos == start+2 && c == '?' && l.src[start+1] == '.' && l.pos < len(l.src) && l.src[l.pos] >= '0' && l.src[l.pos] <= '9' {
		l.pos = start + 1 // a ? .5 : b
	}
	if c >= utf8.RuneSelf {
		return l.errAt(start, "unexpected character %q", l.src[start:start+1])
	}
	if l.pos == start+1 && !strings.ContainsRune("{}()[];,<>+-*/%&|^!~?:=.@", rune(c)) {
		return l.errAt(start, "unexpected character %q", l.src[start:l.pos])
	}
	return l.push(tPunct, start)
}

// template lexes a template piece from the opening "`" or "}" before
// from.
func (l *lexer) template(from int) error {
	start := from - 1
	for i := from; i < len(l.src); i++ {
		switch l.src[i] {
		case '\\':
			i++
		case '`':
			l.pos = i + 1
			if l.src[start] == '`' {
				return l.pushTemplate(tplWhole, start)
			}
			return l.pushTemplate(tplTail, start)
		case '$':
			if i+1 < len(l.src) && l.src[i+1] == '{' {
				l.pos = i + 2
				if l.src[start] == '`' {
					return l.pushTemplate(tplHead, start)
				}
				return l.pushTemplate(tplMiddle, start)
			}
		}
	}
	return l.errAt(start, "unterminated template literal")
}

func (l *lexer) pushTemplate(tpl uint8, start int) error {
	t := l.token(tTemplate, start)
	t.tpl = tpl
	i := len(l.toks)
	head := i
	if tpl == tplMiddle || tpl == tplTail {
		f := l.stack[len(l.stack)-1]
		l.stack = l.stack[:len(l.stack)-1]
		l.toks[f.open].close = i
		t.depth, t.parent = len(l.stack), l.parentIndex()
		head = f.head
		if tpl == tplTail {
			l.toks[head].match = i
			t.match = head
		}
	}
	l.toks = append(l.toks, t)
	if tpl == tplHead || tpl == tplMiddle {
		l.stack = append(l.stack, frame{open: i, head: head, ch: '`'})
	}
	return nil
}

func (l *lexer) parentIndex() int {
	if len(l.stack) == 0 {
		return -1
	}
	return l.stack[len(l.stack)-1].open
}

// token makes the token from start to l.pos, with its context.
func (l *lexer) token(k kind, start int) token {
	return token{kind: k, text: l.src[start:l.pos], start: start, end: l.pos, nl: l.nl,
		match: -1, close: -1, parent: l.parentIndex(), depth: len(l.stack)}
}

// prev returns the token n back from the end (1: the last one), or nil.
func (l *lexer) prev(n int) *token {
	if len(l.toks) < n {
		return nil
	}
	return &l.toks[len(l.toks)-n]
}

// top is the innermost open bracket, or nil at the top level.
func (l *lexer) top() *frame {
	if len(l.stack) == 0 {
		return nil
	}
	return &l.stack[len(l.stack)-1]
}

// container reports whether the innermost bracket holds statements.
func (l *lexer) container() bool {
	f := l.top()
	if f == nil {
		return true
	}
	if f.ch != '{' {
		return false
	}
	switch l.toks[f.open].brace {
	case bBlock, bFunc, bArrow, bMethod:
		return true
	}
	return false
}

// inKeys reports whether the innermost bracket is an object literal or a
// class body, whose direct tokens are property names and values.
func (l *lexer) inKeys() brace {
	if f := l.top(); f != nil && f.ch == '{' {
		if b := l.toks[f.open].brace; b == bObject || b == bClass {
			return b
		}
	}
	return bNone
}

// push appends a token of kind k from start to l.pos.
func (l *lexer) push(k kind, start int) error {
	t := l.token(k, start)
	i := len(l.toks)
	p, pp := l.prev(1), l.prev(2)
	t.stmt = l.container() && startsStatement(&t, p, pp)
	t.decl = t.stmt || isWord(p, "export") && !isMember(pp) || isWord(p, "default") && isWord(pp, "export") ||
		isWord(p, "async") && p.decl && !t.nl
	if k == tIdent && !isMember(p) {
		switch t.text {
		case "function", "class":
			t.kw = true
			switch l.inKeys() {
			case bObject:
				t.kw = !(p != nil && (p.text == "{" || p.text == ",") || isWord(p, "async") || isWord(p, "get") || isWord(p, "set"))
			case bClass:
				t.kw = p != nil && p.text == "=" || isWord(p, "async") && pp != nil && pp.text == "="
			}
			if t.kw && t.text == "class" {
				l.classes = append(l.classes, pendingClass{depth: len(l.stack), decl: t.decl})
			}
		}
	}
	if k != tPunct {
		l.toks = append(l.toks, t)
		return nil
	}
	switch t.text {
	case "(", "[", "{":
		if t.text == "(" {
			t.ctrl = p != nil && p.kind == tIdent && !isMember(pp) &&
				(strings.Contains(" if for while with switch catch ", " "+p.text+" ") ||
					p.text == "await" && isWord(pp, "for"))
		}
		if t.text == "{" {
			t.brace, t.stmtEnd = l.braceKind(&t, p)
		}
		l.toks = append(l.toks, t)
		l.stack = append(l.stack, frame{open: i, ch: t.text[0]})
		return nil
	case ")", "]", "}":
		f := l.top()
		if f == nil || f.ch != openerOf(t.text) {
			return l.errAt(start, "unexpected %q", t.text)
		}
		l.stack = l.stack[:len(l.stack)-1]
		o := &l.toks[f.open]
		o.match, o.close, t.match = i, i, f.open
		t.depth, t.parent = len(l.stack), l.parentIndex()
		t.ctrl, t.brace, t.stmtEnd = o.ctrl, o.brace, o.stmtEnd
		l.toks = append(l.toks, t)
		return nil
	case "?":
		if f := l.top(); f != nil {
			f.ternary++
		} else {
			l.ternary0++
		}
	case ":":
		n := &l.ternary0
		if f := l.top(); f != nil {
			n = &f.ternary
		}
		if *n > 0 {
			*n--
		} else {
			t.label = l.container()
		}
	}
	l.toks = append(l.toks, t)
	return nil
}

// openerOf returns the opening bracket of the closing one c.
func openerOf(c string) byte {
	switch c {
	case ")":
		return '('
	case "]":
		return '['
	}
	return '{'
}

// braceKind classifies a "{" t that follows p, and tells whether its
// "}" ends a statement.
func (l *lexer) braceKind(t, p *token) (b brace, stmtEnd bool) {
	if n := len(l.classes); n > 0 && l.classes[n-1].depth == len(l.stack) {
		c := l.classes[n-1]
		l.classes = l.classes[:n-1]
		return bClass, c.decl
	}
	switch {
	case p == nil:
		return bBlock, true
	case p.text == "=>":
		return bArrow, false
	case p.text == ")" && p.kind == tPunct:
		if p.ctrl {
			return bBlock, true
		}
		if fn := l.functionBefore(p.match); fn >= 0 {
			return bFunc, l.toks[fn].decl
		}
		if l.inKeys() != bNone {
			return bMethod, false
		}
		return bBlock, true
	case t.stmt:
		return bBlock, true
	case p.kind == tIdent && !isMember(l.prev(2)) && (p.text == "else" || p.text == "do" || p.text == "try" || p.text == "finally" || p.text == "catch"):
		return bBlock, true
	case isWord(p, "static") && l.inKeys() == bClass:
		return bBlock, false
	}
	return bObject, false
}

// functionBefore returns the index of the function keyword whose
// parameters open at the "(" open, or -1.
func (l *lexer) functionBefore(open int) int {
	i := open - 1
	if i >= 0 && l.toks[i].kind == tIdent && !l.toks[i].kw {
		i--
	}
	if i >= 0 && l.toks[i].text == "*" {
		i--
	}
	if i >= 0 && l.toks[i].kw && l.toks[i].text == "function" {
		return i
	}
	return -1
}

// regexAllowed reports whether a "/" here starts a regular expression
// rather than a division: whether an expression may begin here.
func (l *lexer) regexAllowed() bool {
	p := l.prev(1)
	if p == nil {
		return true
	}
	switch p.kind {
	case tNum, tStr, tRegex, tPrivate:
		return false
	case tTemplate:
		return p.tpl == tplHead || p.tpl == tplMiddle
	case tIdent:
		if isMember(l.prev(2)) {
			return false
		}
		switch p.text {
		case "return", "typeof", "instanceof", "in", "new", "delete", "void", "throw", "case", "do", "else", "yield", "await", "extends":
			return true
		case "of":
			return canEnd(l.prev(2))
		}
		return false
	}
	switch p.text {
	case ")":
		return p.ctrl
	case "]", "++", "--":
		return false
	case "}":
		return p.stmtEnd || p.brace == bArrow
	}
	return true
}

// startsStatement reports whether t, in a statement list, begins a
// statement, given the tokens p and pp before it.
func startsStatement(t, p, pp *token) bool {
	if p == nil {
		return true
	}
	if p.kind == tPunct {
		switch p.text {
		case ";", "{":
			return true
		case "}":
			if p.stmtEnd {
				return true
			}
		case ")":
			if p.ctrl {
				return true
			}
		case ":":
			if p.label {
				return true
			}
		}
	}
	if p.kind == tIdent && !isMember(pp) && (p.text == "else" || p.text == "do") {
		return true
	}
	return t.nl && canEnd(p) && !canContinue(t)
}

// isMember reports whether p is a "." or "?.", after which a word is a
// property name.
func isMember(p *token) bool {
	return p != nil && p.kind == tPunct && (p.text == "." || p.text == "?.")
}

// isWord reports whether t is the identifier or keyword w.
func isWord(t *token, w string) bool {
	return t != nil && t.kind == tIdent && t.text == w
}

// noEnd are the keywords after which an expression cannot have ended.
var noEnd = map[string]bool{
	"in": true, "instanceof": true, "typeof": true, "void": true, "delete": true, "new": true, "await": true,
	"case": true, "do": true, "else": true, "extends": true, "if": true, "for": true, "while": true, "with": true,
	"switch": true, "catch": true, "function": true, "class": true, "const": true, "let": true, "var": true,
	"import": true, "export": true, "default": true, "try": true, "finally": true, "throw": true,
}

// canEnd reports whether an expression (or a statement, for the
// restricted return, break, continue and yield) may end with t.
func canEnd(t *token) bool {
	if t == nil {
		return false
	}
	switch t.kind {
	case tIdent:
		return !noEnd[t.text]
	case tTemplate:
		return t.tpl == tplWhole || t.tpl == tplTail
	case tPunct:
		switch t.text {
		case ")", "]", "}", "++", "--":
			return true
		}
		return false
	}
	return true
}

// canContinue reports whether t, at the start of a line, continues the
// expression before it (so no semicolon is inserted).
func canContinue(t *token) bool {
	switch t.kind {
	case tPunct:
		switch t.text {
		case "{", "!", "~", "++", "--", "...", "@":
			return false
		}
		return true
	case tTemplate:
		return true
	case tIdent:
		return t.text == "in" || t.text == "instanceof"
	}
	return false
}

// isIdentStart reports whether an identifier starts at s[i].
func isIdentStart(s string, i int) bool {
	c := s[i]
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '$', c == '_':
		return true
	case c == '\\':
		return i+1 < len(s) && s[i+1] == 'u'
	case c < utf8.RuneSelf:
		return false
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return unicode.IsLetter(r) || unicode.Is(unicode.Nl, r) || unicode.Is(unicode.Other_ID_Start, r)
}

// identEnd returns the end of the identifier starting at s[i].
func identEnd(s string, i int) int {
	for i < len(s) {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '$', c == '_':
			i++
		case c == '\\' && i+1 < len(s) && s[i+1] == 'u':
			i += 2
			if i < len(s) && s[i] == '{' {
				if j := strings.IndexByte(s[i:], '}'); j >= 0 {
					i += j + 1
				}
				continue
			}
			for k := 0; k < 4 && i < len(s) && isHex(s[i]); k++ {
				i++
			}
		case c < utf8.RuneSelf:
			return i
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			if !(unicode.In(r, unicode.L, unicode.Nl, unicode.Mn, unicode.Mc, unicode.Nd, unicode.Pc, unicode.Other_ID_Start, unicode.Other_ID_Continue) || r == '\u200c' || r == '\u200d') {
				return i
			}
			i += n
		}
	}
	return i
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// numberEnd returns the end of the numeric literal starting at s[i].
func numberEnd(s string, i int) int {
	digits := func(i int, ok func(byte) bool) int {
		for i < len(s) && (ok(s[i]) || s[i] == '_') {
			i++
		}
		return i
	}
	dec := func(c byte) bool { return c >= '0' && c <= '9' }
	if s[i] == '0' && i+1 < len(s) && strings.ContainsRune("xXoObB", rune(s[i+1])) {
		i = digits(i+2, isHex)
	} else {
		i = digits(i, dec)
		if i < len(s) && s[i] == '.' {
			i = digits(i+1, dec)
		}
		if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
			j := i + 1
			if j < len(s) && (s[j] == '+' || s[j] == '-') {
				j++
			}
			if j < len(s) && dec(s[j]) {
				i = digits(j, dec)
			}
		}
	}
	if i < len(s) && s[i] == 'n' {
		i++
	}
	return i
}

// stringEnd returns the end of the string literal starting at s[i].
func stringEnd(s string, i int) (int, bool) {
	q := s[i]
	for i++; i < len(s); i++ {
		switch s[i] {
		case q:
			return i + 1, true
		case '\\':
			i++
			if i+1 < len(s) && s[i] == '\r' && s[i+1] == '\n' {
				i++
			}
		case '\n', '\r':
			return 0, false
		}
	}
	return 0, false
}

// regexEnd returns the end of the regular expression literal starting at
// s[i], flags included.
func regexEnd(s string, i int) (int, bool) {
	class := false
	for i++; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
			if i < len(s) && (s[i] == '\n' || s[i] == '\r') {
				return 0, false
			}
		case '[':
			class = true
		case ']':
			class = false
		case '\n', '\r':
			return 0, false
		case '/':
			if !class {
				return identEnd(s, i+1), true
			}
		}
	}
	return 0, false
}
