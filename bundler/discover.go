package bundler

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/net/html"
)

// isHTML reports whether a root-relative path names an HTML page.
func isHTML(p string) bool {
	ext := strings.ToLower(path.Ext(p))
	return ext == ".html" || ext == ".htm"
}

// skipDir reports whether discovery skips a folder: dependencies, dot-folders
// (.git, .cache) and the bundler's own output folder name.
func skipDir(name string) bool {
	return name == "node_modules" || name == outDirName || strings.HasPrefix(name, ".")
}

// discover finds the entries referenced by every HTML page under root, but
// those of PublicDir, which are served as they are: module scripts and
// stylesheets with a local URL naming an existing file of an entry type
// outside PublicDir. The result is sorted, de-duplicated and root-relative. missing
// holds the entry-typed files pages refer to that do not exist (yet): creating
// one changes the entries. Unreadable pages and folders are skipped; only an
// unreadable root fails.
func discover(root string) (entries []string, missing map[string]bool, err error) {
	set := make(map[string]struct{})
	missing = make(map[string]bool)
	public := filepath.Join(root, PublicDir)
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root {
				return err
			}
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if p != root && (skipDir(d.Name()) || p == public) {
				return fs.SkipDir
			}
			return nil
		}
		if !isHTML(d.Name()) || !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return nil
		}
		pageDir := path.Dir(filepath.ToSlash(rel))
		for _, ref := range pageRefs(bytes.NewReader(data)) {
			entry, ok := resolveRef(pageDir, ref)
			if !ok || IsPublic(entry) {
				continue // a file of PublicDir is served as it is
			}
			if fi, err := os.Stat(filepath.Join(root, filepath.FromSlash(entry))); err == nil && fi.Mode().IsRegular() {
				set[entry] = struct{}{}
			} else {
				missing[entry] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("discover entries under %s: %w", root, err)
	}
	entries = make([]string, 0, len(set))
	for e := range set {
		entries = append(entries, e)
	}
	sort.Strings(entries)
	return entries, missing, nil
}

// pageRefs returns the raw URLs of a page's module scripts
// (<script type="module" src>) and stylesheets (<link rel="stylesheet" href>),
// in document order. Classic scripts are left alone: they are not modules and
// the browser would not run a bundle's import/export syntax in them.
func pageRefs(r io.Reader) []string {
	var refs []string
	z := html.NewTokenizer(r)
	for {
		switch z.Next() {
		case html.ErrorToken:
			return refs
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			tag := string(name)
			if (tag != "script" && tag != "link") || !hasAttr {
				continue
			}
			attrs := make(map[string]string, 4)
			for more := true; more; {
				var k, v []byte
				k, v, more = z.TagAttr()
				key := string(k)
				if _, dup := attrs[key]; !dup { // the first of duplicate attributes wins, as in browsers
					attrs[key] = string(v)
				}
			}
			switch tag {
			case "script":
				if strings.EqualFold(strings.TrimSpace(attrs["type"]), "module") && attrs["src"] != "" {
					refs = append(refs, attrs["src"])
				}
			case "link":
				if hasToken(attrs["rel"], "stylesheet") && attrs["href"] != "" {
					refs = append(refs, attrs["href"])
				}
			}
		}
	}
}

// hasToken reports whether a space-separated attribute value (rel) contains
// tok, case-insensitively.
func hasToken(list, tok string) bool {
	for _, f := range strings.Fields(list) {
		if strings.EqualFold(f, tok) {
			return true
		}
	}
	return false
}

// isSlash reports whether a browser treats c as a path separator in a URL.
func isSlash(c byte) bool { return c == '/' || c == '\\' }

// resolveRef turns a URL found in the page in folder pageDir (root-relative,
// "." for the root) into a root-relative entry path. It fails for URLs with a
// scheme or host, protocol-relative URLs and files that are not of an entry
// type. Query and fragment are dropped.
func resolveRef(pageDir, ref string) (string, bool) {
	ref = strings.TrimSpace(ref)
	if ref == "" || (len(ref) >= 2 && isSlash(ref[0]) && isSlash(ref[1])) {
		return "", false // protocol-relative; browsers read "\\" as "//"
	}
	u, err := url.Parse(ref)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Opaque != "" || u.Path == "" {
		return "", false
	}
	// Resolve as the browser does: against "/" or the page's folder, with
	// dot segments removed and any "../" above the root clamped at the root.
	p := u.Path
	if !strings.HasPrefix(p, "/") {
		p = "/" + pageDir + "/" + p
	}
	p = strings.TrimPrefix(path.Clean(p), "/")
	if p == "" || p == "." {
		return "", false
	}
	if _, ok := entryKind(p); !ok {
		return "", false
	}
	return p, true
}
