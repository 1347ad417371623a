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
		if got := string(rewriteMetaURLs([]byte(tt.in), dir)); got != want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, want)
		}
	}
}
