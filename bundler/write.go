package bundler

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/net/html"
)

// OutputFor returns the file name WriteTo gives entry's bundle, a
// root-relative slash path: "src/main.js" for "src/main.ts",
// "styles/app.css" for "styles/app.css". Only the extension differs from the
// entry's, so a build command can rewrite a page's src/href by swapping the
// extension. It returns "" for an unknown entry or before a good build of it.
func (b *Bundler) OutputFor(entry string) string {
	if c := b.findEntry(entry); c != nil && c.state != nil {
		return c.state.file
	}
	return ""
}

// CSSFor returns the root-relative slash path of the CSS that JS entry
// imports ("src/main.css" for "src/main.ts"), "" if it imports none. The
// same name is its dev URL (with a leading "/") and its WriteTo file name;
// nothing links it, so the server or build command adds a stylesheet link.
func (b *Bundler) CSSFor(entry string) string {
	if c := b.findEntry(entry); c != nil && c.state != nil {
		return c.state.cssFile
	}
	return ""
}

// findEntry returns a copy of the context of an entry given in any form rel
// accepts, nil if there is none. ctxState values are never modified once
// built, so the copy may be read without holding mu.
func (b *Bundler) findEntry(entry string) *entryCtx {
	rel, ok := b.rel(entry)
	if !ok {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.ctxs {
		if c.entry == rel {
			return &entryCtx{entry: c.entry, kind: c.kind, state: c.state}
		}
	}
	return nil
}

// WriteTo writes the outputs of the last Build to dir for a production
// build: entry bundles and their maps under esbuild's output names (see
// OutputFor, with sourceMappingURL comments to match), everything else at
// its URL path. Existing files are overwritten, others left alone. It waits
// for a build in progress and fails if there was no Build yet or the last
// one had errors, so a broken build is never shipped. dir may not be the
// root itself.
func (b *Bundler) WriteTo(dir string) error {
	_, err := b.writeOutputs(dir)
	return err
}

// WriteSite writes a deployable copy of the site to dir for a production
// build: the outputs (as WriteTo), every HTML page with its module scripts
// and stylesheets pointed at the built files (and a stylesheet link added
// before each script whose entry imports CSS; see CSSFor), and every other
// file the dev server would serve as is: images, fonts, robots.txt and so on.
// Left out are node_modules, dot-files and dot-folders, the sources that went
// into the bundles (.js .ts .css ... inputs), package.json, tsconfig and
// jsconfig files, what notShipped names (TypeScript, lockfiles, build
// tools' configs), and dir itself when it lies under the root. The files of
// PublicDir go to the root of dir as they are (public/robots.txt is
// dir/robots.txt), last: as in the dev server, they win over a file of the
// same name, and such a clash is logged as a warning. The same conditions
// as WriteTo apply. It returns how many files it wrote.
func (b *Bundler) WriteSite(dir string) (int, error) {
	snap, err := b.writeOutputs(dir)
	if err != nil {
		return 0, err
	}
	workerInputs, err := b.writeWorkers(snap)
	if err != nil {
		return 0, err
	}
	bundled := make(map[string]bool, len(snap.last.Inputs))
	for _, in := range slices.Concat(snap.last.Inputs, workerInputs) {
		if isSource(in) {
			bundled[in] = true
		}
	}
	public := filepath.Join(b.root, PublicDir)
	site := map[string]bool{}
	err = filepath.WalkDir(b.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("bundler: write: %w", err)
		}
		if d.IsDir() {
			if p == snap.dir || (p != b.root && (skipDir(d.Name()) || p == public)) {
				return fs.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(b.root, p)
		if err != nil {
			return fmt.Errorf("bundler: write: %w", err)
		}
		rel = filepath.ToSlash(rel)
		if !d.Type().IsRegular() || strings.HasPrefix(d.Name(), ".") || bundled[rel] || snap.written[rel] ||
			b.isConfig(rel) || notShipped(rel) {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("bundler: write: %w", err)
		}
		if isHTML(rel) {
			b.mu.Lock()
			data = replaceHTMLEnv(data, b.htmlEnv)
			b.mu.Unlock()
			data = rewritePage(data, path.Dir(rel), snap.entries, b.urlBase)
		}
		site[rel] = true
		return writeFile(snap.dir, rel, data)
	})
	if err != nil {
		return 0, err
	}
	if err := b.writePublic(snap, site); err != nil {
		return 0, err
	}
	for name := range snap.written {
		site[name] = true
	}
	return len(site), nil
}

// writePublic copies the files of PublicDir, but dot-files and dot-folders,
// to the root of the output folder as they are. site are the files
// WriteSite wrote besides the outputs; writePublic adds its own.
func (b *Bundler) writePublic(snap *snapshot, site map[string]bool) error {
	public := filepath.Join(b.root, PublicDir)
	if fi, err := os.Stat(public); err != nil || !fi.IsDir() {
		return nil // no public folder
	}
	return filepath.WalkDir(public, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("bundler: write %s: %w", PublicDir, err)
		}
		if d.IsDir() {
			if p == snap.dir || (p != public && strings.HasPrefix(d.Name(), ".")) {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || strings.HasPrefix(d.Name(), ".") {
			return nil
		}
		rel, err := filepath.Rel(public, p)
		if err != nil {
			return fmt.Errorf("bundler: write %s: %w", PublicDir, err)
		}
		rel = filepath.ToSlash(rel)
		if snap.written[rel] || site[rel] {
			b.log.Warn(fmt.Sprintf("%s/%s and the built %s have the same URL /%s; writing the one of %s/",
				PublicDir, rel, rel, rel, PublicDir))
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("bundler: write %s: %w", PublicDir, err)
		}
		site[rel] = true
		return writeFile(snap.dir, rel, data)
	})
}

// snapshot is what the last good build left, for writing it out.
type snapshot struct {
	dir     string               // absolute output folder
	last    *Result              // the last Build, successful
	entries map[string]pageEntry // by entry
	written map[string]bool      // root-relative names of the files written
}

// writeOutputs waits for a build in progress, checks that the last one
// succeeded, and writes its outputs to dir (see WriteTo).
func (b *Bundler) writeOutputs(dir string) (*snapshot, error) {
	if dir == "" {
		return nil, errors.New("bundler: write: no output folder given")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("bundler: write: %w", err)
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	if abs == b.root {
		return nil, fmt.Errorf("bundler: write: %s is the project root; refusing to overwrite the sources", dir)
	}

	snap := &snapshot{dir: abs, entries: map[string]pageEntry{}, written: map[string]bool{}}
	files := make(map[string]string)
	b.mu.Lock()
	for b.building {
		b.idle.Wait()
	}
	snap.last = b.last
	for _, c := range b.ctxs {
		if c.state != nil {
			snap.entries[c.entry] = pageEntry{file: c.state.file, css: c.state.cssFile}
			for u, f := range c.state.files {
				files[u] = f
			}
		}
	}
	b.mu.Unlock()
	switch {
	case snap.last == nil:
		return nil, errors.New("bundler: write: nothing built yet")
	case !snap.last.OK():
		return nil, fmt.Errorf("bundler: write: the last build failed: %s", snap.last.Errors[0].Text)
	}

	from := make(map[string]string, len(snap.last.Outputs))
	for _, o := range snap.last.Outputs {
		name, ok := files[o.Path]
		if !ok {
			name = strings.TrimPrefix(o.Path, "/")
		}
		if prev, dup := from[name]; dup {
			return nil, fmt.Errorf("bundler: write: %s and %s would both be written to %s", prev, o.Path, name)
		}
		from[name] = o.Path
		snap.written[name] = true
		contents := o.Contents
		if o.Kind == JS || o.Kind == CSS {
			contents = rewriteMapComment(contents, path.Base(name)+".map")
		}
		if err := writeFile(abs, name, contents); err != nil {
			return nil, err
		}
	}
	return snap, nil
}

// writeFile writes data to the root-relative slash path name under dir.
func writeFile(dir, name string, data []byte) error {
	target := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return fmt.Errorf("bundler: write %s: %w", name, err)
	}
	if err := os.WriteFile(target, data, 0o644); err != nil {
		return fmt.Errorf("bundler: write %s: %w", name, err)
	}
	return nil
}

// pageEntry is what a page needs to know of an entry: its output file and
// its CSS bundle ("" if none), both root-relative, and the URLs its script
// imports, to preload (module mode, see Bundler.Page).
type pageEntry struct {
	file, css string
	preload   []string
	styles    []styleLink // module mode: what its modules link as they run
}

// lockfiles are the base names of package managers' lockfiles.
var lockfiles = []string{"package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lock", "bun.lockb"}

// isLockfile reports whether a file's base name is a package manager's
// lockfile.
func isLockfile(base string) bool { return slices.Contains(lockfiles, base) }

// workspaceLockfile returns the lockfile of the workspace that holds root,
// absolute: when root has no lockfile of its own, the nearest one in a
// folder above it (npm, yarn, pnpm and bun workspaces keep theirs at the
// workspace's root, and install there); "" when there is none.
func workspaceLockfile(root string) string {
	has := func(dir string) string {
		for _, name := range lockfiles {
			p := filepath.Join(dir, name)
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
				return p
			}
		}
		return ""
	}
	if has(root) != "" {
		return ""
	}
	for dir := filepath.Dir(root); ; dir = filepath.Dir(dir) {
		if p := has(dir); p != "" {
			return p
		}
		if dir == filepath.Dir(dir) {
			return ""
		}
	}
}

// notShipped reports whether root-relative p is a file of the project that
// a built site never holds, even when no bundle used it: TypeScript
// (browsers cannot run it: a config, a declaration file), Sass (partials
// that a compile read, not a bundle), lockfiles, and
// the configs of build tools, as `vite build` ships none of them.
func notShipped(p string) bool {
	base := path.Base(p)
	switch path.Ext(base) {
	case ".ts", ".mts", ".cts", ".tsx", ".scss", ".sass":
		return true
	}
	if isLockfile(base) {
		return true
	}
	for _, tool := range []string{"vite.config.", "vitest.config.", "postcss.config.", "tailwind.config.", "eslint.config.", "prettier.config."} {
		if strings.HasPrefix(base, tool) {
			return true
		}
	}
	return false
}

// isSource reports whether a bundle input is source code that the bundle
// replaces (as opposed to an asset that may also be referenced directly).
func isSource(p string) bool {
	switch path.Ext(p) {
	case ".js", ".mjs", ".cjs", ".jsx", ".ts", ".mts", ".cts", ".tsx", ".css", ".scss", ".sass", ".json":
		return true
	}
	return false
}

// rewritePage points a page's module scripts and stylesheets that name an
// entry at the entry's built file, keeping the URL's form (relative or
// absolute, query, fragment), and adds a stylesheet link before a script
// whose entry imports CSS, in module mode the stylesheets its modules
// link as they run (as client/hmr.js's updateStyle marks them, which then
// finds them there: they load before the script runs, as a bundle's do,
// with no flash of the page unstyled, and layout read at start is
// styled), and modulepreload links for the URLs its entry's script
// imports (each URL once). With a base path other than "/" (base "" is
// none), it prefixes the absolute URLs of scripts, stylesheets, images and
// media (see baseAttrs) with it, as Vite does. Everything else is copied
// byte for byte.
func rewritePage(page []byte, pageDir string, entries map[string]pageEntry, base string) []byte {
	var out bytes.Buffer
	out.Grow(len(page) + 256)
	preloaded := map[string]bool{}
	z := html.NewTokenizer(bytes.NewReader(page))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			// Keep whatever the tokenizer could not make sense of at the end.
			out.Write(z.Raw())
			return out.Bytes()
		}
		raw := append([]byte(nil), z.Raw()...)
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			out.Write(raw)
			continue
		}
		tok := z.Token()
		attr, ok := "", false
		switch tok.Data {
		case "script":
			attr, ok = "src", strings.EqualFold(strings.TrimSpace(getAttr(tok, "type")), "module")
		case "link":
			attr, ok = "href", hasToken(getAttr(tok, "rel"), "stylesheet")
		}
		ref := getAttr(tok, attr)
		entry, found := "", false
		if ok {
			entry, found = resolveRef(pageDir, ref)
		}
		changed := false
		if pe, known := entries[entry]; found && known && pe.file != "" {
			if pe.css != "" && tok.Data == "script" {
				link := html.Token{Type: html.StartTagToken, Data: "link", Attr: []html.Attribute{
					{Key: "rel", Val: "stylesheet"},
					{Key: "href", Val: rebase(base, withExt(ref, path.Ext(pe.css), false))},
				}}
				out.WriteString(link.String())
			}
			for _, l := range pe.styles {
				if tok.Data == "script" && !preloaded[l.id+"\x00"+l.href] {
					preloaded[l.id+"\x00"+l.href] = true
					link := html.Token{Type: html.StartTagToken, Data: "link", Attr: []html.Attribute{
						{Key: "rel", Val: "stylesheet"},
						{Key: "href", Val: l.href},
						{Key: "data-devserve-style", Val: l.id},
					}}
					out.WriteString(link.String())
				}
			}
			for _, u := range pe.preload {
				if tok.Data == "script" && !preloaded[u] {
					preloaded[u] = true
					link := html.Token{Type: html.StartTagToken, Data: "link", Attr: []html.Attribute{
						{Key: "rel", Val: "modulepreload"},
						{Key: "href", Val: u},
					}}
					out.WriteString(link.String())
				}
			}
			if newRef := withExt(ref, path.Ext(pe.file), true); newRef != ref {
				setAttr(&tok, attr, newRef)
				changed = true
			}
		}
		for _, a := range baseAttrs[tok.Data] {
			if v := getAttr(tok, a); v != "" {
				if nv := rebase(base, v); nv != v {
					setAttr(&tok, a, nv)
					changed = true
				}
			}
		}
		if !changed {
			out.Write(raw)
			continue
		}
		out.WriteString(tok.String())
	}
}

// baseAttrs are, by tag, the attributes whose absolute URLs get the base
// path in a page (see rewritePage): what the page loads itself.
var baseAttrs = map[string][]string{
	"script": {"src"},
	"link":   {"href"},
	"img":    {"src"},
	"source": {"src"},
	"video":  {"src", "poster"},
	"audio":  {"src"},
	"track":  {"src"},
}

// rebase returns ref with base in front if it is an absolute URL path
// ("/src/main.ts", not "//cdn.example/x.js", not relative), and base is
// a base path other than "/".
func rebase(base, ref string) string {
	t := strings.TrimSpace(ref)
	if base == "" || base == "/" || !strings.HasPrefix(t, "/") || strings.HasPrefix(t, "//") || strings.HasPrefix(t, "/\\") {
		return ref
	}
	return base + t[1:]
}

// setAttr sets the first attribute key of a tag to val.
func setAttr(tok *html.Token, key, val string) {
	for i := range tok.Attr {
		if tok.Attr[i].Key == key && tok.Attr[i].Namespace == "" {
			tok.Attr[i].Val = val
			return
		}
	}
}

// getAttr returns the first value of attribute key of a tag.
func getAttr(tok html.Token, key string) string {
	for _, a := range tok.Attr {
		if a.Key == key && a.Namespace == "" {
			return a.Val
		}
	}
	return ""
}

// withExt replaces the extension of a URL's path, keeping the rest of it;
// the query and fragment only when keepQuery.
func withExt(ref, ext string, keepQuery bool) string {
	ref = strings.TrimSpace(ref)
	end := strings.IndexAny(ref, "?#")
	if end < 0 {
		end = len(ref)
	}
	p, rest := ref[:end], ref[end:]
	if !keepQuery {
		rest = ""
	}
	return strings.TrimSuffix(p, path.Ext(p)) + ext + rest
}

// LinkCSS returns page (the HTML page at root-relative path pageRel) with a
// stylesheet link added before each module script whose entry imports CSS
// (see CSSFor), since nothing else would load that CSS in development, or
// in module mode whose modules link stylesheets as they run. The
// scripts keep their URLs; a page without such scripts comes back as is.
// It is for pages that are not the root's (a backend's), which keep their
// URLs under a base path too; see Page for the root's.
func (b *Bundler) LinkCSS(page []byte, pageRel string) []byte {
	return b.page(page, pageRel, "", false)
}

// Page returns the root's HTML page at root-relative path pageRel as the
// dev server serves it: with the links of LinkCSS and, under a base path
// (Options.Base), the absolute URLs of its scripts, stylesheets, images
// and media prefixed with the base, so that "/src/main.ts" is fetched at
// "/app/src/main.ts". In module mode, a script of an entry gets
// modulepreload links before it for the runtime and the chunks that an
// edit changed, so that the browser asks for them with the script, not a
// round trip after it, unless the page names a Content-Security-Policy
// (a nonce-only policy would refuse the links). Its %NAME% of a name of
// import.meta.env is the value, as in Vite (<title>%VITE_TITLE%</title>).
// A page that needs none of it comes back as is.
func (b *Bundler) Page(page []byte, pageRel string) []byte {
	b.mu.Lock()
	page = replaceHTMLEnv(page, b.htmlEnv)
	b.mu.Unlock()
	preload := !bytes.Contains(bytes.ToLower(page), []byte("content-security-policy"))
	return b.page(page, pageRel, b.urlBase, preload)
}

func (b *Bundler) page(page []byte, pageRel, base string, preload bool) []byte {
	entries := map[string]pageEntry{}
	b.mu.Lock()
	for _, c := range b.ctxs {
		if c.state != nil && c.state.cssFile != "" {
			entries[c.entry] = pageEntry{file: c.entry, css: c.state.cssFile}
		}
	}
	if g := b.graph; g != nil && len(g.entries) > 0 {
		b.waitLocked() // the scripts the page will get
		if g.scripts == nil {
			g.assembleAll()
		}
		for e, links := range g.styles {
			pe := entries[e]
			pe.file, pe.styles = e, links
			entries[e] = pe
		}
		if preload {
			for e, urls := range g.preloads {
				pe := entries[e]
				pe.file, pe.preload = e, urls
				entries[e] = pe
			}
		}
	}
	b.mu.Unlock()
	if len(entries) == 0 && (base == "" || base == "/") {
		return page
	}
	return rewritePage(page, path.Dir(pageRel), entries, base)
}
