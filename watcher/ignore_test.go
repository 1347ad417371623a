package watcher

import (
	"strings"
	"testing"
)

func TestIgnored(t *testing.T) {
	for _, tc := range []struct {
		rel      string
		patterns []string
		want     bool
	}{
		// Built in.
		{".git", nil, true},
		{".git/HEAD", nil, true},
		{"web/.git/config", nil, true},
		{".github/workflows/ci.yml", nil, false},
		{".gitignore", nil, false},
		{"node_modules/react/index.js", nil, true},
		{"packages/a/node_modules/b.js", nil, true},
		{"src/app.js.swp", nil, true},
		{"src/.app.js.swp", nil, true},
		{"src/.app.js.swx", nil, true},
		{"src/app.js~", nil, true},
		{"src/.#app.js", nil, true},
		{"src/#app.js#", nil, true},
		{"src/#", nil, false},
		{"src/#app.js", nil, false},
		{"src/4913", nil, true},
		{"src/49130", nil, false},
		{"src/app.js___jb_tmp___", nil, true},
		{"src/app.js___jb_old___", nil, true},
		{"src/app.js", nil, false},
		{"src/swp.js", nil, false},
		{"", nil, false},
		{".", nil, false},

		// A pattern without "/" matches any element.
		{"dist", []string{"dist"}, true},
		{"dist/app.js", []string{"dist"}, true},
		{"web/dist/app.js", []string{"dist"}, true},
		{"distant/app.js", []string{"dist"}, false},
		{"logs/a.log", []string{"*.log"}, true},
		{"a.log/x", []string{"*.log"}, true},
		{"a.logx", []string{"*.log"}, false},
		{"tmp-1/x", []string{"tmp-?"}, true},

		// A pattern with "/" matches the whole path, or a parent of it.
		{"web/dist", []string{"web/dist"}, true},
		{"web/dist/app.js", []string{"web/dist"}, true},
		{"dist", []string{"web/dist"}, false},
		{"other/web/dist", []string{"web/dist"}, false},
		{"web/a/b.js", []string{"web/*"}, true},
		{"web", []string{"web/*"}, false},
		{"src/x/gen/g.js", []string{"src/*/gen"}, true},
		{"src/gen/g.js", []string{"src/*/gen"}, false},
		{"dist/app.js", []string{"/dist"}, true},
		{"web/dist/app.js", []string{"/dist"}, false},

		// Malformed patterns match nothing; others still apply.
		{"a[b", []string{"a[b", "x"}, false},
		{"x", []string{"a[b", "x"}, true},
	} {
		if got := ignored(tc.rel, tc.patterns); got != tc.want {
			t.Errorf("ignored(%q, %q) = %v, want %v", tc.rel, tc.patterns, got, tc.want)
		}
	}
}

func TestCheckPatterns(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		ok      bool
	}{
		{"dist", true},
		{"*.log", true},
		{"web/dist", true},
		{"/dist", true},
		{"[a-z]*", true},
		{"[a", false},
		{"a\\", false},
		{"dist/", false},
	} {
		if err := checkPatterns([]string{tc.pattern}); (err == nil) != tc.ok {
			t.Errorf("checkPatterns(%q) = %v, want ok=%v", tc.pattern, err, tc.ok)
		}
	}
}

// FuzzIgnored checks that whatever is below an ignored path is ignored too,
// which is what lets the watcher skip ignored folders without looking in.
func FuzzIgnored(f *testing.F) {
	f.Add("src/app.js", "x", "dist")
	f.Add(".git", "HEAD", "")
	f.Add("web/dist", "a.js", "web/*")
	f.Add("a/b", "c", "a/b")
	f.Fuzz(func(t *testing.T, rel, below, pattern string) {
		if strings.Contains(below, "/") || below == "" {
			return
		}
		patterns := []string{pattern}
		if ignored(rel, patterns) && !ignored(rel+"/"+below, patterns) {
			t.Fatalf("%q is ignored, but not %q below it, with %q", rel, below, pattern)
		}
	})
}
