package hmr

import (
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devserve/devserve/internal/protocol"
	"github.com/devserve/devserve/internal/ssetest"
)

// TestBuiltCarriesCode: the built event of a hot update carries a small
// module's code, the script served at its URL with the import line as the
// function's head and every other line where it was but its source map,
// which it names at the script's path + ".map"; not a big module's; under
// a base path too.
func TestBuiltCarriesCode(t *testing.T) {
	for _, base := range []string{"", "/app/"} {
		t.Run("base="+base, func(t *testing.T) {
			dir := t.TempDir()
			big := "export const big = " + `"` + strings.Repeat("x", inlineMax) + `";` + "\n"
			for name, s := range map[string]string{
				"index.html": `<script type="module" src="main.js"></script>`,
				"main.js":    "import { small } from './small.js';\nimport { big } from './big.js';\nconsole.log(small, big.length);\n",
				"small.js":   "export const small = 1;\n",
				"big.js":     big,
			} {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			ts := startServer(t, dir, "127.0.0.1:0", Options{Base: base})
			st := ssetest.Open(t, ts.http, strings.TrimSuffix(base, "/")+EventsPath)
			st.Start()

			ts.write(t, "small.js", "export const small = 2;\n")
			expectEvent(t, st, EventBuilding)
			var built BuiltData
			decode(t, expectEvent(t, st, EventBuilt), &built)
			if len(built.Updates) != 1 || built.Updates[0].Path != "/small.js" || built.Updates[0].Code == "" {
				t.Fatalf("built = %+v, want small.js's update with its code", built)
			}
			u := built.Updates[0]
			resp, script := ssetest.Request(t, ts.http, "GET", u.URL)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: %s", u.URL, resp.Status)
			}
			head, body, _ := strings.Cut(script, "\n")
			body, inline, ok := strings.Cut(body, "//# sourceMappingURL=data:application/json;base64,")
			path, query, _ := strings.Cut(u.URL, "?")
			mapURL := path + ".map?" + query
			want := "(function(" + protocol.Define + "){\n" + body + "//# sourceMappingURL=" + mapURL + "\n\n})"
			if !ok || !strings.HasPrefix(head, "import{") || u.Code != want {
				t.Errorf("code =\n%s\nwant the script at %s as a function, its map at %s:\n%s", u.Code, u.URL, mapURL, want)
			}
			if !strings.Contains(u.Code, "small = 2") {
				t.Errorf("code without the new code:\n%s", u.Code)
			}
			inlined, err := base64.StdEncoding.DecodeString(strings.TrimSpace(inline))
			if err != nil {
				t.Fatal(err)
			}
			resp, sm := ssetest.Request(t, ts.http, "GET", mapURL)
			if resp.StatusCode != http.StatusOK || sm != string(inlined) || !strings.Contains(sm, `"mappings":";`) {
				t.Errorf("GET %s: %s\n%s\nwant the map inline in the script:\n%s", mapURL, resp.Status, sm, inlined)
			}

			ts.write(t, "big.js", strings.Replace(big, "big =", "big = 'y' +", 1))
			expectEvent(t, st, EventBuilding)
			built = BuiltData{}
			decode(t, expectEvent(t, st, EventBuilt), &built)
			if len(built.Updates) != 1 || built.Updates[0].Path != "/big.js" || built.Updates[0].URL == "" || built.Updates[0].Code != "" {
				t.Errorf("built = %.300v, want big.js's update without its code", built)
			}
		})
	}
}

// TestTagNoEval: a page with a Content-Security-Policy, in a header or a
// <meta>, gets the client with ?csp, which makes it fetch every update.
func TestTagNoEval(t *testing.T) {
	page := func(head string) []byte {
		return []byte("<!doctype html><html><head>" + head + "</head><body></body></html>")
	}
	tests := []struct {
		name   string
		header http.Header
		doc    []byte
		want   bool
	}{
		{"none", nil, page(""), false},
		{"header", http.Header{"Content-Security-Policy": {"script-src 'self'"}}, page(""), true},
		{"report-only", http.Header{"Content-Security-Policy-Report-Only": {"script-src 'self'"}}, page(""), true},
		{"meta", nil, page(`<meta http-equiv="Content-Security-Policy" content="script-src 'self'">`), true},
		{"meta upper case", nil, page(`<META HTTP-EQUIV="CONTENT-SECURITY-POLICY" content="default-src 'self'">`), true},
	}
	for _, tt := range tests {
		if got := hasCSP(tt.header, tt.doc); got != tt.want {
			t.Errorf("%s: hasCSP = %v, want %v", tt.name, got, tt.want)
		}
	}
}
