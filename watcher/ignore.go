package watcher

import (
	"fmt"
	"path"
	"strings"
)

// ignored reports whether the slash-separated path rel, relative to the
// watched root, is left out by the watcher, by the rules of Options.Ignore.
// The watcher itself asks skip, entry by entry, as it walks down: it never
// descends into an ignored folder. ignored is the same rules for a whole
// path, which the tests check the rules with.
func ignored(rel string, patterns []string) bool {
	rel = strings.Trim(rel, "/")
	if rel == "" || rel == "." {
		return false
	}
	for i := 0; i <= len(rel); i++ {
		if i < len(rel) && rel[i] != '/' {
			continue
		}
		dir, name := split(rel[:i])
		if skip(dir, name, patterns) {
			return true
		}
	}
	return false
}

// checkPatterns returns an error for the first pattern that can never match
// anything, so a typo in a flag does not silently watch too much.
func checkPatterns(patterns []string) error {
	for _, p := range patterns {
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("ignore pattern %q: %w", p, err)
		}
		if strings.HasSuffix(p, "/") {
			return fmt.Errorf("ignore pattern %q: a trailing \"/\" never matches; drop it", p)
		}
	}
	return nil
}

// skip reports whether the entry name of folder dir ("" for the root) is
// ignored. The folder itself is assumed not to be: the watcher never
// descends into an ignored folder, and ignored checks every parent itself.
func skip(dir, name string, patterns []string) bool {
	if builtin(name) {
		return true
	}
	var rel string // built only if a pattern needs it
	for _, p := range patterns {
		var ok bool
		if strings.Contains(p, "/") {
			if rel == "" {
				rel = join(dir, name)
			}
			ok, _ = path.Match(strings.TrimPrefix(p, "/"), rel)
		} else {
			ok, _ = path.Match(p, name)
		}
		if ok {
			return true
		}
	}
	return false
}

// builtin reports whether name is one of the names no project wants
// watched: version control and dependency folders, and the files editors
// write next to the one being edited (vim: .swp, .swx, "~" backups and its
// "4913" write test; Emacs: ".#" locks and "#...#" autosaves; JetBrains:
// ___jb_tmp___ and ___jb_old___ safe-write files).
func builtin(name string) bool {
	switch name {
	case ".git", "node_modules", "4913":
		return true
	}
	n := len(name)
	return strings.HasSuffix(name, ".swp") ||
		strings.HasSuffix(name, ".swx") ||
		strings.HasSuffix(name, "~") ||
		strings.HasPrefix(name, ".#") ||
		(n >= 2 && name[0] == '#' && name[n-1] == '#') ||
		strings.HasSuffix(name, "___jb_tmp___") ||
		strings.HasSuffix(name, "___jb_old___")
}
