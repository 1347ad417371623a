package bundler

import (
	"encoding/json"
	"reflect"
	"testing"
)

// metafileCases are metafiles shaped as esbuild writes them, with the
// corners the scanner must get right: escapes in keys and values, nested
// "inputs" and "entryPoint" keys that are not the ones read, empty objects,
// numbers, booleans and null.
var metafileCases = []string{
	`{"inputs":{},"outputs":{}}`,
	`{}`,
	` { "inputs" : { "/r/a.js" : { "bytes" : 12 , "imports" : [ ] } } , "outputs" : { } } `,
	`{
  "inputs": {
    "/r/src/main.ts": {"bytes": 120, "imports": [{"path": "/r/src/b.ts", "kind": "import-statement", "original": "./b"}], "format": "esm"},
    "/r/src/b.ts": {"bytes": 3, "imports": [], "with": {"type": "json"}},
    "/r/src/q\"uote\\d.ts": {"bytes": 1, "imports": []},
    "/r/src/end\\": {"bytes": 1, "imports": [{"path": "\\\"", "kind": "x"}]},
    "/r/src/\u00e9t\u00e9.ts": {"bytes": 1, "imports": []},
    "(disabled):fs": {"bytes": 0, "imports": []},
    "/r/neg.ts": {"bytes": -1.5e3, "x": true, "y": false, "z": null}
  },
  "outputs": {
    "/r/out/src/main.js.map": {"imports": [], "exports": [], "inputs": {}, "bytes": 99},
    "/r/out/src/main.js": {
      "imports": [{"path": "/r/out/x.js", "kind": "import-statement", "external": true}],
      "exports": ["a", "entryPoint"],
      "entryPoint": "/r/src/main.ts",
      "cssBundle": "/r/out/src/main.css",
      "inputs": {"/r/src/main.ts": {"bytesInOutput": 10}, "entryPoint": {"bytesInOutput": 1}},
      "bytes": 456
    },
    "/r/out/src/main.css": {"imports": [], "entryPoint": "/r/src/\"odd\".ts", "inputs": {"/r/src/a.css": {"bytesInOutput": 5}}, "bytes": 7}
  }
}`,
	`{"outputs":{"/o.js":{"entryPoint":"/e.js","nested":{"entryPoint":"/wrong.js","a":[{"cssBundle":"/wrong.css"}]}}},"inputs":{"/e.js":{}}}`,
}

// TestScanMetafile checks that the scanner reads what encoding/json reads.
func TestScanMetafile(t *testing.T) {
	for i, data := range metafileCases {
		var want metafile
		if err := json.Unmarshal([]byte(data), &want); err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		got, err := scanMetafile(data)
		if err != nil {
			t.Fatalf("case %d: scan: %v", i, err)
		}
		if want.Inputs == nil {
			want.Inputs = map[string]struct{}{}
		}
		if want.Outputs == nil {
			want.Outputs = map[string]metaOutput{}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("case %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
}

// TestScanMetafileBad checks that the scanner refuses what it cannot read,
// so that parseMetafile falls back to encoding/json, which then decides.
func TestScanMetafileBad(t *testing.T) {
	for _, data := range []string{
		``, `[]`, `{`, `{"inputs":{"a":}}`, `{"inputs":{"a":1}`, `{"inputs":{"a":"x}}`,
		`{"inputs":{"a":{"b":[}}`, `{"outputs":{"o":{"entryPoint":1}}}`, `{"inputs":{}} x`,
		`{"inputs":{"a\`, `{"inputs" {}}`, `{"inputs":{},}`,
	} {
		if m, err := scanMetafile(data); err == nil {
			t.Errorf("scanMetafile(%q) = %+v, want an error", data, m)
		}
	}
	// An output's entryPoint that is not a string is not esbuild's, but
	// encoding/json reads it as an error too.
	if _, err := parseMetafile(`{"outputs":{"o":{"entryPoint":1}}}`); err == nil {
		t.Error("parseMetafile accepted a number as entryPoint")
	}
}

// TestMetafileOfBuilds checks the scanner against encoding/json on the
// metafiles of real builds of the fixtures.
func TestMetafileOfBuilds(t *testing.T) {
	for _, name := range []string{"app", "demo", "live", "withpkg"} {
		t.Run(name, func(t *testing.T) {
			b := open(t, Options{Root: fixture(t, name)})
			b.mu.Lock()
			ctxs := b.ctxs
			b.mu.Unlock()
			if len(ctxs) == 0 {
				t.Skip("no entries")
			}
			for _, c := range ctxs {
				res := c.ctx.Rebuild()
				if len(res.Errors) > 0 {
					continue
				}
				var want metafile
				if err := json.Unmarshal([]byte(res.Metafile), &want); err != nil {
					t.Fatal(err)
				}
				got, err := scanMetafile(res.Metafile)
				if err != nil {
					t.Fatalf("%s: %v", c.entry, err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s:\n got %+v\nwant %+v", c.entry, got, want)
				}
			}
		})
	}
}

// FuzzScanMetafile checks that whenever encoding/json and the scanner both
// read a text, they read the same. (The scanner skips values without
// checking all of JSON's syntax, so it may accept a text encoding/json
// refuses; esbuild writes valid JSON.)
func FuzzScanMetafile(f *testing.F) {
	for _, c := range metafileCases {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, data string) {
		var want metafile
		if err := json.Unmarshal([]byte(data), &want); err != nil {
			return
		}
		got, err := scanMetafile(data)
		if err != nil {
			return
		}
		if want.Inputs == nil {
			want.Inputs = map[string]struct{}{}
		}
		if want.Outputs == nil {
			want.Outputs = map[string]metaOutput{}
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\n got %+v\nwant %+v", data, got, want)
		}
	})
}
