package bundler

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// Content types of the outputs the bundler makes itself.
const (
	jsType  = "text/javascript; charset=utf-8"
	cssType = "text/css; charset=utf-8"
	mapType = "application/json"
)

// hashHex is the hex hash used for Output.Hash and Result.ID: the first 8
// bytes of SHA-256, plenty to tell builds apart.
func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// outputsID hashes the paths and hashes of outputs sorted by Path.
func outputsID(outs []*Output) string {
	var buf bytes.Buffer
	for _, o := range outs {
		buf.WriteString(o.Path)
		buf.WriteByte(0)
		buf.WriteString(o.Hash)
		buf.WriteByte('\n')
	}
	return hashHex(buf.Bytes())
}

// contentType picks the Content-Type an output is served with.
func contentType(kind Kind, urlPath string) string {
	switch kind {
	case JS:
		return jsType
	case CSS:
		return cssType
	case Map:
		return mapType
	}
	if t := mime.TypeByExtension(path.Ext(urlPath)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// ctxState is what one successful build of one context leaves behind.
type ctxState struct {
	inputs  map[string]struct{} // root-relative slash paths
	outside []string            // absolute inputs outside the root, for keep.go
	outputs []*Output           // sorted by Path
	files   map[string]string   // URL path -> file name WriteTo uses, root-relative
	file    string              // the entry's own output file name ("src/main.js")
	cssFile string              // the CSS bundle's file name for a JS entry, "" if none
}

// collect turns a successful esbuild result of context c into served
// outputs. See the package documentation for the URL mapping.
func (b *Bundler) collect(c *entryCtx, res *api.BuildResult) (*ctxState, []Message, error) {
	meta, err := parseMetafile(res.Metafile)
	if err != nil {
		return nil, nil, fmt.Errorf("entry %s: read esbuild metafile: %w", c.entry, err)
	}
	st := &ctxState{
		inputs: make(map[string]struct{}, len(meta.Inputs)),
		files:  make(map[string]string, len(res.OutputFiles)),
	}
	for in := range meta.Inputs {
		if rel, ok := b.relInput(in); ok {
			if loc := assetQuery.FindStringIndex(rel); loc != nil {
				rel = rel[:loc[0]] // "note.txt?raw" is note.txt's
			}
			// A clone: rel may share the metafile's memory.
			st.inputs[strings.Clone(rel)] = struct{}{}
		} else if filepath.IsAbs(in) {
			if loc := assetQuery.FindStringIndex(in); loc != nil {
				in = in[:loc[0]]
			}
			st.outside = append(st.outside, strings.Clone(in))
		}
	}

	entryAbs := filepath.Join(b.root, filepath.FromSlash(c.entry))
	var mainOut, cssOut string
	for p, o := range meta.Outputs {
		if o.EntryPoint != "" && filepath.Clean(o.EntryPoint) == entryAbs {
			mainOut, cssOut = p, o.CSSBundle
			break
		}
	}

	var warnings []Message
	entryURL := "/" + c.entry
	cssURL := "/" + strings.TrimSuffix(c.entry, path.Ext(c.entry)) + ".css"
	for _, f := range res.OutputFiles {
		rel, err := filepath.Rel(b.outdir, f.Path)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
			warnings = append(warnings, Message{Text: fmt.Sprintf("entry %s: output %s is outside the output folder and is not served", c.entry, f.Path)})
			continue
		}
		rel = filepath.ToSlash(rel)
		var urlPath string
		var kind Kind
		switch f.Path {
		case mainOut:
			urlPath, kind = entryURL, c.kind
			st.file = rel
		case mainOut + ".map":
			urlPath, kind = entryURL+".map", Map
		case cssOut:
			urlPath, kind = cssURL, CSS
			st.cssFile = rel
		case cssOut + ".map":
			urlPath, kind = cssURL+".map", Map
		default:
			urlPath, kind = "/"+rel, Asset
			if strings.HasSuffix(rel, ".map") {
				kind = Map
			}
		}
		contents := f.Contents
		if kind == JS || kind == CSS {
			// Point the comment at the map's URL, relative to the output.
			contents = rewriteMapComment(contents, path.Base(urlPath)+".map")
		}
		st.files[urlPath] = rel
		st.outputs = append(st.outputs, &Output{
			Path:        urlPath,
			Kind:        kind,
			Hash:        hashHex(contents),
			ContentType: contentType(kind, urlPath),
			Contents:    contents,
		})
	}
	sort.Slice(st.outputs, func(i, j int) bool { return st.outputs[i].Path < st.outputs[j].Path })
	return st, warnings, nil
}

// rewriteMapComment points the sourceMappingURL comment that ends a JS or
// CSS output at to. Outputs without a trailing comment, or with an inline
// (data:) map, are returned unchanged.
func rewriteMapComment(b []byte, to string) []byte {
	const marker = "# sourceMappingURL="
	i := bytes.LastIndex(b, []byte(marker))
	if i < 2 || (string(b[i-2:i]) != "//" && string(b[i-2:i]) != "/*") {
		return b
	}
	start := i + len(marker)
	end := start
	for end < len(b) && !strings.ContainsRune(" \t\r\n*", rune(b[end])) {
		end++
	}
	rest := strings.TrimSpace(string(b[end:]))
	if value := string(b[start:end]); value == to || strings.HasPrefix(value, "data:") || (rest != "" && rest != "*/") {
		return b
	}
	out := make([]byte, 0, len(b)-(end-start)+len(to))
	out = append(out, b[:start]...)
	out = append(out, to...)
	return append(out, b[end:]...)
}

// relInput maps a metafile input to a root-relative slash path. Inputs in
// esbuild's virtual namespaces ("(disabled):", "dataurl:") and files outside
// the root are dropped: no watcher reports a change to them in root terms.
func (b *Bundler) relInput(p string) (string, bool) {
	if !filepath.IsAbs(p) {
		return "", false
	}
	rel, err := filepath.Rel(b.root, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// noLoader matches esbuild's error for an import of a file whose type it
// has no loader for, with the extension.
var noLoader = regexp.MustCompile(`^No loader is configured for "(\.[^"]+)" files`)

// preprocessed are the extensions of stylesheets that a preprocessor
// devserve does not run compiles to CSS, which Vite projects import as
// they are (Sass it runs: see sass.go).
var preprocessed = map[string]bool{".less": true, ".styl": true, ".stylus": true}

// messages flattens esbuild's messages.
func (b *Bundler) messages(ms []api.Message) []Message {
	out := make([]Message, 0, len(ms))
	for _, m := range ms {
		out = append(out, b.message(m))
	}
	return out
}

// couldNotResolve matches esbuild's error for an import it cannot resolve.
var couldNotResolve = regexp.MustCompile(`^Could not resolve "([^"]+)"$`)

// message flattens one esbuild message, making its file root-relative.
// An import of a package that could not be resolved says why, as in
// module mode (see unresolved).
func (b *Bundler) message(m api.Message) Message {
	msg := Message{Text: m.Text}
	if sub := couldNotResolve.FindStringSubmatch(m.Text); sub != nil && m.Location != nil && (m.Location.Namespace == "" || m.Location.Namespace == "file") {
		file := m.Location.File
		if !filepath.IsAbs(file) {
			file = filepath.Join(b.root, file)
		}
		if why := b.unresolved(filepath.Dir(file), sub[1]); why != "" {
			msg.Text = why
		}
	}
	if sub := noLoader.FindStringSubmatch(m.Text); sub != nil && preprocessed[sub[1]] {
		msg.Text += ": devserve reads CSS and Sass, not Less or Stylus; compile the stylesheet to a .css file and import that"
	}
	if m.PluginName != "" && !strings.HasPrefix(m.PluginName, "devserve-") {
		msg.Text = "[plugin " + m.PluginName + "] " + m.Text
	}
	if l := m.Location; l != nil {
		msg.File, msg.Line, msg.Column, msg.LineText, msg.Suggestion = l.File, l.Line, l.Column, l.LineText, l.Suggestion
		ns := l.Namespace
		if file, ok := dataFile(l.File); ok && ns == dataNamespace {
			// The stand-in of a JSON, text or asset module: the file
			// itself, not the stand-in's line.
			msg.File, ns = file, "file"
			msg.Line, msg.Column, msg.LineText = 0, 0, ""
		}
		if (ns == "" || ns == "file") && filepath.IsAbs(msg.File) {
			if rel, ok := b.relInput(msg.File); ok {
				msg.File = rel
			} else {
				msg.File = filepath.ToSlash(msg.File)
			}
		}
	}
	return msg
}

// cssSyntaxProblem reports whether esbuild's warning m, about the file of
// root-relative slash path file, is CSS that does not parse, which
// Options.CSSSyntaxErrors makes an error. esbuild recovers from these as a
// browser does, by dropping what it cannot read, so the page silently
// loses a rule or a declaration (a stray "}" or ";" even eats the next
// rule). They are the css-syntax-error warnings whose text starts with
// "Expected", "Unexpected" or "Unterminated" (found by building broken CSS
// with esbuild 0.28; see TestCSSSyntaxErrors), and // comments. Not
// problems: the "*prop" hack of old IE, which browsers skip on purpose,
// esbuild's other css-syntax-error warnings (such as "Cannot use ..."
// about CSS that parses), and anything in a file outside the root or under
// node_modules, which the user does not edit.
func cssSyntaxProblem(m api.Message, file string) bool {
	if file == "" || path.IsAbs(file) || filepath.IsAbs(file) || strings.HasPrefix(file, "node_modules/") || strings.Contains(file, "/node_modules/") {
		return false
	}
	switch m.ID {
	case "js-comment-in-css":
		return true
	case "css-syntax-error":
		if m.Text == `Expected identifier but found "*"` {
			return false
		}
		for _, p := range []string{"Expected ", "Unexpected ", "Unterminated "} {
			if strings.HasPrefix(m.Text, p) {
				return true
			}
		}
	}
	return false
}
