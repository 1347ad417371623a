package hmr

import (
	"encoding/json"
	"testing"
)

func TestEventJSON(t *testing.T) {
	msg := Message{Text: "t", File: "f.ts", Line: 3, Column: 4, LineText: "x", Suggestion: "s"}
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"sync zero", SyncData{}, `{"build":"","status":"","failed":false,"errors":[],"warnings":[]}`},
		{"sync", SyncData{Build: "b1", Status: StatusError, Errors: []Message{msg}},
			`{"build":"b1","status":"error","failed":false,"errors":[{"text":"t","file":"f.ts","line":3,"column":4,"lineText":"x","suggestion":"s"}],"warnings":[]}`},
		{"sync pointer", &SyncData{Status: StatusOK}, `{"build":"","status":"ok","failed":false,"errors":[],"warnings":[]}`},
		{"building zero", BuildingData{}, `{"build":"","changed":[]}`},
		{"building", BuildingData{Build: "b1", Changed: []string{"a.css"}}, `{"build":"b1","changed":["a.css"]}`},
		{"built zero", BuiltData{}, `{"build":"","durationMs":0,"updates":[],"reload":false,"warnings":[]}`},
		{"built", BuiltData{Build: "b2", DurationMs: 1.5, Updates: []Update{{Type: UpdateCSS, Path: "/a.css"}}, Reload: true, Warnings: []Message{}},
			`{"build":"b2","durationMs":1.5,"updates":[{"type":"css","path":"/a.css"}],"reload":true,"warnings":[]}`},
		{"errors zero", ErrorsData{}, `{"build":"","failed":false,"errors":[],"warnings":[]}`},
		{"errors", ErrorsData{Build: "b1", Failed: true, Warnings: []Message{{Text: "w"}}},
			`{"build":"b1","failed":true,"errors":[],"warnings":[{"text":"w","file":"","line":0,"column":0,"lineText":"","suggestion":""}]}`},
		{"reload", ReloadData{Reason: "index.html changed"}, `{"reason":"index.html changed"}`},
		{"in a slice", []any{SyncData{}, BuildingData{}}, `[{"build":"","status":"","failed":false,"errors":[],"warnings":[]},{"build":"","changed":[]}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestEventJSONRoundTrip(t *testing.T) {
	in := BuiltData{Build: "b", DurationMs: 12.25, Updates: []Update{{Type: UpdateJS, Path: "/main.js"}}, Warnings: []Message{{Text: "w", Line: 1}}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out BuiltData
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out.Build != in.Build || out.DurationMs != in.DurationMs || len(out.Updates) != 1 || out.Updates[0] != in.Updates[0] || len(out.Warnings) != 1 || out.Warnings[0] != in.Warnings[0] {
		t.Errorf("round trip: got %+v, want %+v", out, in)
	}
}
