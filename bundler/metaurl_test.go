package bundler

import "testing"

func TestRewriteMetaURLs(t *testing.T) {
	const dir = "/app/src/parts"
	for _, tt := range []struct{ name, in, want string }{
		{"a file", `new URL("./logo.png", import.meta.url)`, `new URL("/app/src/parts/logo.png", import.meta.url)`},
		{"up a folder, single quotes, spaces", "new  URL( '../img/a.png' ,\n import.meta.url )", "new  URL( \"/app/src/img/a.png\" ,\n import.meta.url )"},
		{"escaped, query and fragment kept", `new URL("./a b.svg?x=1#top", import.meta.url)`, `new URL("/app/src/parts/a%20b.svg?x=1#top", import.meta.url)`},
		{"a folder", `new URL("./icons/", import.meta.url)`, `new URL("/app/src/parts/icons/", import.meta.url)`},
		{"a template", "new URL(`./icons/${name}.svg`, import.meta.url)", "new URL(`/app/src/parts/icons/${name}.svg`, import.meta.url)"},
		{"a template's variable after ../", "new URL(`../${a}/../x.svg`, import.meta.url)", "new URL(`/app/src/${a}/../x.svg`, import.meta.url)"},
		{"above the root stays at it", `new URL("../../../../x.png", import.meta.url)`, `new URL("/x.png", import.meta.url)`},
		{"absolute, left", `new URL("/logo.png", import.meta.url)`, ""},
		{"bare, left", `new URL("logo.png", import.meta.url)`, ""},
		{"another base, left", `new URL("./logo.png", location.href)`, ""},
		{"a variable, left", `new URL(path, import.meta.url)`, ""},
		{"a template starting with a variable, left", "new URL(`${dir}/x.svg`, import.meta.url)", ""},
		{"import.meta.url alone, left", `console.log(import.meta.url)`, ""},
	} {
		want := tt.want
		if want == "" {
			want = tt.in
		}
		if got := string(rewriteMetaURLs([]byte(tt.in), dir, nil)); got != want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, want)
		}
	}
}

// TestRewriteMetaURLsWorker: a worker's URL is asked of the callback; any
// other URL is not.
func TestRewriteMetaURLsWorker(t *testing.T) {
	worker := func(p string) string { return p + ".built" }
	for _, tt := range []struct{ in, want string }{
		{`new Worker(new URL("./w.ts", import.meta.url), { type: "module" })`, `new Worker(new URL("/src/w.ts.built", import.meta.url), { type: "module" })`},
		{`new SharedWorker( new URL('../s.js', import.meta.url))`, `new SharedWorker( new URL("/s.js.built", import.meta.url))`},
		{`new URL("./w.ts", import.meta.url)`, `new URL("/src/w.ts", import.meta.url)`},
		{"new Worker(new URL(`./${w}.ts`, import.meta.url))", "new Worker(new URL(`/src/${w}.ts`, import.meta.url))"},
	} {
		if got := string(rewriteMetaURLs([]byte(tt.in), "/src", worker)); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.in, got, tt.want)
		}
	}
}
