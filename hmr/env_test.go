package hmr

import (
	"strings"
	"testing"

	"github.com/devserve/devserve/bundler"
	"github.com/devserve/devserve/internal/ssetest"
)

// envSecret is the value of SECRET in testdata/env/.env; procSecret is a
// variable of the process without the prefix.
const (
	envSecret  = "devserve-test-secret-81f2"
	procSecret = "process-secret-5d1c"
)

// startEnv serves a copy of testdata/env with a process environment that
// has a secret too.
func startEnv(t *testing.T, bundle bool) *testServer {
	t.Helper()
	return startServer(t, copyFixture(t, "env"), "127.0.0.1:0", Options{Bundle: bundle,
		Build: bundler.BuildOptions{Environ: func() []string {
			return []string{"SECRET_TOKEN=" + procSecret, "DEVSERVE_Y=from the process"}
		}}})
}

// untilEvent reads the stream until an event named name, and returns the
// raw data of every event read.
func untilEvent(t *testing.T, st *ssetest.Client, name string) (all, last string) {
	t.Helper()
	for {
		for _, ev := range st.Next().Events {
			all += ev.Data
			if ev.Type == name {
				return all, ev.Data
			}
		}
	}
}

// TestEnvNeverServed greps every byte the server sends for the page
// (page, scripts, source maps, module updates, status, events) for the
// values of variables without the prefix, across an edit of .env and a
// broken line that holds a secret; and checks that the edit reloads.
func TestEnvNeverServed(t *testing.T) {
	for _, bundle := range []bool{false, true} {
		t.Run(map[bool]string{false: "modules", true: "bundled"}[bundle], func(t *testing.T) {
			ts := startEnv(t, bundle)
			var seen strings.Builder
			xValue := "from .env"
			get := func(target string, code int) string {
				t.Helper()
				resp, body := ssetest.Request(t, ts.http, "GET", target)
				if resp.StatusCode != code {
					t.Fatalf("GET %s: %s", target, resp.Status)
				}
				seen.WriteString(body)
				return body
			}
			getAll := func() string {
				t.Helper()
				page := get("/", 200)
				// %NAME% in the page, as in Vite: a variable of
				// import.meta.env is its value, any other name stays.
				if want := "<title>env: " + xValue + ", development, %SECRET%</title>"; !strings.Contains(page, want) {
					t.Errorf("the page lacks %s:\n%s", want, page)
				}
				js := get("/src/main.ts", 200)
				get("/src/main.ts.map", 200)
				get(StatusPath, 200)
				if !bundle {
					get("/__devserve/m/src/main.ts", 200)
					get("/__devserve/m/src/show.ts", 200)
				}
				return js
			}
			st := ssetest.Open(t, ts.http, EventsPath)
			seen.WriteString(st.Start().Data)
			if js := getAll(); !strings.Contains(js, `"from .env"`) || !strings.Contains(js, `"from the process"`) {
				t.Errorf("the script lacks the variables:\n%s", js)
			}
			get("/.env", 404)
			get("/.env.development", 404)

			ts.write(t, ".env", strings.Replace(string(readFile(t, ts.dir+"/.env")), "VITE_X=from .env", "VITE_X=edited", 1))
			xValue = "edited"
			events, built := untilEvent(t, st, EventBuilt)
			seen.WriteString(events)
			var bd BuiltData
			decode(t, ssetest.Event{Type: EventBuilt, Data: built}, &bd)
			if !bd.Reload {
				t.Errorf("built after editing .env = %+v, want a reload", bd)
			}
			for _, u := range bd.Updates {
				if u.URL != "" {
					get(u.URL, 200)
				}
			}
			if js := getAll(); !strings.Contains(js, `"edited"`) {
				t.Errorf("the script lacks the new value:\n%s", js)
			}

			ts.write(t, ".env.local", "VITE_OK=1\nVITE_BAD=\""+envSecret+"\n")
			events, failed := untilEvent(t, st, EventErrors)
			seen.WriteString(events)
			if !strings.Contains(failed, `"file":".env.local","line":2`) {
				t.Errorf("errors = %s, want .env.local line 2", failed)
			}
			if js := getAll(); !strings.Contains(js, `"edited"`) {
				t.Errorf("the last good script is no longer served:\n%s", js)
			}

			for _, secret := range []string{envSecret, procSecret, "SECRET_TOKEN"} {
				if strings.Contains(seen.String(), secret) {
					t.Errorf("the server sent %q", secret)
				}
			}
		})
	}
}
