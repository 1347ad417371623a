package client

import (
	"bytes"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

func TestTagWith(t *testing.T) {
	tests := []struct {
		build string
		opts  TagOptions
		want  string
	}{
		{"b1", TagOptions{}, string(Tag("b1"))},
		{"b1", TagOptions{Nonce: "abc"}, `<script type="module" src="/__devserve/client.js?build=b1" nonce="abc"></script>`},
		{"b1", TagOptions{ReloadAfter: 1700000000123}, `<script type="module" src="/__devserve/client.js?build=b1&amp;after=1700000000123"></script>`},
		{"a b", TagOptions{Nonce: `"><script>`, ReloadAfter: 7},
			`<script type="module" src="/__devserve/client.js?build=a+b&amp;after=7" nonce="&#34;&gt;&lt;script&gt;"></script>`},
	}
	src := regexp.MustCompile(`^<script type="module" src="([^"<>]*)"( nonce="[^"<>]*")?></script>$`)
	for _, tt := range tests {
		got := string(TagWith(tt.build, tt.opts))
		if got != tt.want {
			t.Errorf("TagWith(%q, %+v) =\n  %s\nwant\n  %s", tt.build, tt.opts, got, tt.want)
		}
		m := src.FindStringSubmatch(got)
		if m == nil {
			t.Errorf("TagWith(%q, %+v) = %s: not one well-formed script element", tt.build, tt.opts, got)
			continue
		}
		u, err := url.Parse(html.UnescapeString(m[1]))
		if err != nil || u.Query().Get("build") != tt.build {
			t.Errorf("TagWith(%q, %+v): src %q gives build %q (%v)", tt.build, tt.opts, m[1], u.Query().Get("build"), err)
		}
	}
}

func TestWorkerSource(t *testing.T) {
	src := string(WorkerSource())
	for _, want := range []string{
		"onconnect",       // a SharedWorker
		`URL("events"`,    // the stream, next to the worker: EventsPath
		"lastEventId",     // resumes
		"postMessage({})", // answers a join at once: the client waits for it
		`"sync", "building", "built", "errors", "reload"`,
	} {
		if !strings.Contains(src, want) {
			t.Errorf("worker.js does not contain %q", want)
		}
	}
	if !strings.HasSuffix(WorkerPath, "/worker.js") || !strings.HasPrefix(EventsPath, strings.TrimSuffix(WorkerPath, "worker.js")) {
		t.Errorf("worker.js at %s does not find %s as \"events\"", WorkerPath, EventsPath)
	}
	for _, leftover := range []string{"debugger", "console.log(", "TODO", "fetch(", "\r"} {
		if strings.Contains(src, leftover) {
			t.Errorf("worker.js contains %q", leftover)
		}
	}
	w := WorkerSource()
	w[0] ^= 0xff
	if bytes.Equal(w, WorkerSource()) {
		t.Error("changing the slice from WorkerSource changed the script")
	}
	// The client finds the worker next to itself.
	if !strings.Contains(string(Source()), `new URL("worker.js", import.meta.url)`) ||
		strings.TrimSuffix(Path, "client.js") != strings.TrimSuffix(WorkerPath, "worker.js") {
		t.Error("client.js does not load the worker from WorkerPath")
	}
}
