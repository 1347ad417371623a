package client

import (
	"bytes"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTag(t *testing.T) {
	tests := []struct {
		build string
		want  string
	}{
		{"b1", `<script type="module" src="/__devserve/client.js?build=b1"></script>`},
		{"", `<script type="module" src="/__devserve/client.js?build="></script>`},
		{"a b", `<script type="module" src="/__devserve/client.js?build=a+b"></script>`},
		{`x"><script>alert(1)</script>`,
			`<script type="module" src="/__devserve/client.js?build=x%22%3E%3Cscript%3Ealert%281%29%3C%2Fscript%3E"></script>`},
		{"a&b=c#d'", `<script type="module" src="/__devserve/client.js?build=a%26b%3Dc%23d%27"></script>`},
		{"日本", `<script type="module" src="/__devserve/client.js?build=%E6%97%A5%E6%9C%AC"></script>`},
	}
	src := regexp.MustCompile(`^<script type="module" src="([^"<>]*)"></script>$`)
	for _, tt := range tests {
		got := string(Tag(tt.build))
		if got != tt.want {
			t.Errorf("Tag(%q) =\n  %s\nwant\n  %s", tt.build, got, tt.want)
		}
		// Whatever the ID, the attribute holds and gives the ID back.
		m := src.FindStringSubmatch(got)
		if m == nil {
			t.Errorf("Tag(%q) = %s: not one well-formed script element", tt.build, got)
			continue
		}
		u, err := url.Parse(html.UnescapeString(m[1]))
		if err != nil {
			t.Errorf("Tag(%q): src: %v", tt.build, err)
			continue
		}
		if u.Path != Path || u.Query().Get("build") != tt.build {
			t.Errorf("Tag(%q): src %q has path %q and build %q", tt.build, m[1], u.Path, u.Query().Get("build"))
		}
	}
}

func TestSourceIsACopy(t *testing.T) {
	s := Source()
	s[0] ^= 0xff
	if bytes.Equal(s, Source()) {
		t.Fatal("changing the slice from Source changed the script")
	}
}

// maxSize is the size limit of the client as written. It was 10 KB until
// the client learnt to share one stream through a SharedWorker (it keeps
// its own stream as the fallback, so the connection code lives in both
// files), then 14 KB, until it learnt to show the page's runtime errors
// (their locating lives in errors.js, loaded when one comes). The server
// sends it minified, about half of it, and hmr's TestClientScriptsMinified
// holds what goes out under 10 KB; this limit keeps the source from
// growing without notice.
const maxSize = 20_500 // 18,000 until it watched the stream's heartbeat and learnt the base path; 20,000 until it moved an untouched bundled page to module mode

func TestSize(t *testing.T) {
	if n := len(Source()); n >= maxSize {
		t.Fatalf("client.js is %d bytes, want under %d", n, maxSize)
	} else {
		t.Logf("client.js is %d bytes", n)
	}
}

func TestSourceContents(t *testing.T) {
	src := string(Source())
	if !utf8.ValidString(src) {
		t.Error("client.js is not valid UTF-8")
	}
	for _, want := range []string{
		EventsPath,           // the stream it listens to
		"import.meta.url",    // where it finds its build
		"window.__devserve",  // the one global
		`"devserve-overlay"`, // the overlay host that tests look for
		"[devserve]",         // the prefix of its console lines
		"function applyJS(",  // the seam for module hot replacement
		`addEventListener("pagehide"`,
	} {
		if !strings.Contains(src, want) {
			t.Errorf("client.js does not contain %q", want)
		}
	}
	for _, leftover := range []string{
		"debugger", "console.log(", "TODO", "FIXME", "XXX", "alert(",
		"sourceMappingURL", "localhost", "127.0.0.1", "eval(", "innerHTML",
		"\r",
	} {
		if strings.Contains(src, leftover) {
			t.Errorf("client.js contains %q", leftover)
		}
	}
}

func TestTagWithBase(t *testing.T) {
	cases := []struct{ name, base, want string }{
		{"none", "", `<script type="module" src="/__devserve/client.js?build=b1"></script>`},
		{"root", "/", `<script type="module" src="/__devserve/client.js?build=b1"></script>`},
		{"a path", "/app/", `<script type="module" src="/app/__devserve/client.js?build=b1"></script>`},
		{"nested", "/a/b/", `<script type="module" src="/a/b/__devserve/client.js?build=b1"></script>`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := string(TagWith("b1", TagOptions{Base: c.base})); got != c.want {
				t.Errorf("TagWith(Base %q) =\n  %s\nwant\n  %s", c.base, got, c.want)
			}
		})
	}
}
