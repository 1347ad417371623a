package client

import (
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/devserve/devserve/internal/protocol"
)

// The browser scripts cannot import the Go constants of package protocol,
// so these tests read them and check that they spell exactly the
// protocol's names: a name renamed in Go that a script misses, or one a
// script spells that the protocol lacks, fails here.

// scripts are the browser scripts by file name, with hot.d.ts.
func scripts() map[string][]byte {
	return map[string][]byte{
		"client.js": source, "hmr.js": hmrSource, "worker.js": workerSource,
		"errors.js": errorsSource, "hot.d.ts": typesSource,
	}
}

// matches returns the sorted, distinct first groups of re in src.
func matches(re *regexp.Regexp, src []byte) []string {
	var out []string
	for _, m := range re.FindAllSubmatch(src, -1) {
		out = append(out, string(m[1]))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// sorted returns a sorted copy of names without repeats.
func sorted(names ...string) []string {
	out := slices.Clone(names)
	slices.Sort(out)
	return slices.Compact(out)
}

func TestScriptsUseProtocolGlobals(t *testing.T) {
	// A global is __devserve or __devserve_x, not the path __devserve/
	// (written \/ in a regular expression).
	global := regexp.MustCompile(regexp.QuoteMeta(protocol.GlobalPrefix) + `(_[A-Za-z0-9_]*)?\b[^/\\]`)
	globals := func(src []byte) []string {
		var out []string
		for _, m := range global.FindAll(src, -1) {
			out = append(out, strings.TrimRight(string(m[:len(m)-1]), "_"))
		}
		return sorted(out...)
	}
	want := map[string][]string{
		"client.js": sorted(protocol.State, protocol.Reloads, protocol.Unbuilt, protocol.Bundled, protocol.HMR, protocol.Errors),
		"hmr.js":    sorted(protocol.HMR, protocol.Errors),
		"worker.js": nil,
		"errors.js": sorted(protocol.Bundled),
		"hot.d.ts":  nil,
	}
	for name, src := range scripts() {
		if got := globals(src); !slices.Equal(got, want[name]) {
			t.Errorf("%s uses the globals %q, want the protocol's %q", name, got, want[name])
		}
	}
}

func TestScriptsUseProtocolPaths(t *testing.T) {
	paths := []string{protocol.ClientPath, protocol.EventsPath, protocol.WorkerPath,
		protocol.HMRPath, protocol.ErrorsPath, protocol.TypesPath}
	own := strings.TrimPrefix(protocol.Prefix, "/")
	// Paths the scripts name in full ("/__devserve/events", in comments
	// and in errors.js's test of a frame's file).
	full := regexp.MustCompile(regexp.QuoteMeta(own) + `([A-Za-z0-9_.-]*)`)
	var names []string
	for _, p := range paths {
		names = append(names, path.Base(p))
	}
	for name, src := range scripts() {
		for _, got := range matches(full, src) {
			got = strings.TrimRight(got, ".") // the end of a sentence
			if got != "" && !slices.Contains(names, got) {
				t.Errorf("%s names %s%s, which the protocol lacks (it has %q)", name, protocol.Prefix, got, names)
			}
		}
	}

	// The URLs the scripts fetch, relative to their own, by the part of
	// the protocol's path after Prefix.
	relative := regexp.MustCompile(`new URL\("([A-Za-z0-9_.-]+)", (?:import\.meta\.url|location\.href)\)|const EVENTS = "([A-Za-z0-9_.-]+)"`)
	fetched := func(src []byte) []string {
		var out []string
		for _, m := range relative.FindAllSubmatch(src, -1) {
			out = append(out, string(m[1])+string(m[2]))
		}
		return sorted(out...)
	}
	want := map[string][]string{
		// Not hmr.js: the page's instance is the global protocol.HMR.
		"client.js": sorted(path.Base(protocol.EventsPath), path.Base(protocol.WorkerPath),
			path.Base(protocol.ErrorsPath)),
		"worker.js": {path.Base(protocol.EventsPath)},
	}
	for name, src := range scripts() {
		if got := fetched(src); !slices.Equal(got, want[name]) {
			t.Errorf("%s fetches %q beside itself, want the protocol's %q", name, got, want[name])
		}
	}
}

func TestScriptsUseProtocolEvents(t *testing.T) {
	want := sorted(protocol.Events()...)

	// worker.js forwards the events it lists in NAMES.
	m := regexp.MustCompile(`const NAMES = \[([^\]]*)\];`).FindSubmatch(workerSource)
	if m == nil {
		t.Fatal("worker.js: no const NAMES = [...]")
	}
	var forwarded []string
	for _, n := range strings.Split(string(m[1]), ",") {
		forwarded = append(forwarded, strings.Trim(strings.TrimSpace(n), `"`))
	}
	if got := sorted(forwarded...); !slices.Equal(got, want) {
		t.Errorf("worker.js forwards %q, want the protocol's %q", got, want)
	}

	// client.js handles the events it has a handler for.
	block := regexp.MustCompile(`(?s)\n  const handlers = \{\n(.*?)\n  \};\n`).FindSubmatch(source)
	if block == nil {
		t.Fatal("client.js: no const handlers = {...}")
	}
	handled := matches(regexp.MustCompile(`(?m)^    ([A-Za-z]+)\(d?\) \{$`), block[1])
	if !slices.Equal(handled, want) {
		t.Errorf("client.js handles %q, want the protocol's %q", handled, want)
	}

	// Both listen to the heartbeat.
	for name, src := range map[string][]byte{"client.js": source, "worker.js": workerSource} {
		if !strings.Contains(string(src), `addEventListener("`+protocol.EventPing+`"`) {
			t.Errorf("%s does not listen to %q", name, protocol.EventPing)
		}
	}

	// The statuses and update types they compare with are the protocol's.
	statuses := []string{protocol.StatusOK, protocol.StatusBuilding, protocol.StatusError}
	status := regexp.MustCompile(`(?:d|state)\.status === "([a-z]+)"|status: "([a-z]+)"`)
	for name, src := range map[string][]byte{"client.js": source, "worker.js": workerSource} {
		for _, m := range status.FindAllSubmatch(src, -1) {
			s := string(m[1]) + string(m[2])
			if !slices.Contains(statuses, s) && s != "connecting" && s != "disconnected" {
				t.Errorf("%s compares a build status with %q, which the protocol lacks (%q)", name, s, statuses)
			}
		}
	}
	types := matches(regexp.MustCompile(`u\.type === "([a-z]+)"`), source)
	if want := sorted(protocol.UpdateCSS, protocol.UpdateJS); !slices.Equal(types, want) {
		t.Errorf("client.js applies the updates %q, want the protocol's %q", types, want)
	}
	if !strings.Contains(string(hmrSource), `type: "`+protocol.UpdateJS+`"`) {
		t.Errorf("hmr.js does not invalidate with updates of type %q", protocol.UpdateJS)
	}
}

func TestRuntimeExportsProtocolNames(t *testing.T) {
	exports := matches(regexp.MustCompile(`(?m)^export (?:async )?function ([A-Za-z]+)\(`), hmrSource)
	for _, name := range []string{protocol.RuntimeDefine, protocol.RuntimeUpdate, protocol.RuntimeStart} {
		if !slices.Contains(exports, name) {
			t.Errorf("hmr.js exports %q, not the protocol's %q", exports, name)
		}
	}
}
