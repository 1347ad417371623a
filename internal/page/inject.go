// Package page does the work on the HTML pages that get devserve's
// client: it finds where the client's tag goes (Inject), tells which
// requests and responses are pages to inject into (Wanted, IsPage),
// undoes their content codings (Decode), amends their
// Content-Security-Policy for the client (AllowClient, MetaNonce), and
// injects into the pages of any handler (Serve), buffering only those.
//
// It knows nothing of builds or of the server: what to inject comes from
// its caller, package hmr, as a function. It is internal: hmr exports
// what users need of it (hmr.InjectScript, Server.Inject).
package page

import (
	"bytes"

	"golang.org/x/net/html"
)

// utf8BOM is the byte order mark some editors put at the start of files.
var utf8BOM = []byte("\xef\xbb\xbf")

// Inject returns a copy of html with tag (typically the client's
// <script> element) inserted once, at the first of these places that
// exists:
//
//   - right before the </head> end tag, or right after the <body> start
//     tag, whichever comes first;
//   - right after the leading doctype, <html> and <head> tags, as far as
//     the document starts with them (comments and white space between them
//     are allowed);
//   - at the start, after a UTF-8 byte order mark if there is one.
//
// Tags are found with an HTML tokenizer, so case does not matter and text
// that only looks like a tag (in a comment, an attribute value, or the
// text of a script, style, title, textarea and the like) is not mistaken
// for one. Apart from tag, the result holds the bytes of html unchanged;
// malformed input only moves where tag goes.
func Inject(html, tag []byte) []byte {
	at := injectionPoint(html)
	out := make([]byte, 0, len(html)+len(tag))
	out = append(out, html[:at]...)
	out = append(out, tag...)
	return append(out, html[at:]...)
}

// injectionPoint returns the offset in doc where Inject puts the tag.
func injectionPoint(doc []byte) int {
	base := 0
	if bytes.HasPrefix(doc, utf8BOM) {
		base = len(utf8BOM)
	}
	z := html.NewTokenizer(bytes.NewReader(doc[base:]))
	end := base     // offset of the end of the current token
	lead := base    // the fallback: after the leading doctype, <html>, <head>
	leading := true // no other content seen yet
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			// The end of the input, or a tag cut short by it (a tokenizer
			// that reads from memory fails on nothing else).
			return lead
		}
		start := end
		end += len(z.Raw()) // the raw bytes of the tokens partition the input
		switch tt {
		case html.EndTagToken:
			if name, _ := z.TagName(); string(name) == "head" {
				return start
			}
			leading = false
		case html.StartTagToken, html.SelfClosingTagToken:
			switch name, _ := z.TagName(); string(name) {
			case "body":
				return end
			case "html", "head":
				if leading {
					lead = end
				}
			default:
				leading = false
			}
		case html.DoctypeToken:
			// A doctype cut short by the end of the input is returned too.
			if leading && bytes.HasSuffix(z.Raw(), []byte(">")) {
				lead = end
			}
		case html.TextToken:
			if !isHTMLSpace(z.Raw()) {
				leading = false
			}
		case html.CommentToken:
			// Comments may come before, between and after the leading tags.
		}
	}
}

// isHTMLSpace reports whether b is only ASCII white space, as HTML defines it.
func isHTMLSpace(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\n', '\f', '\r':
		default:
			return false
		}
	}
	return true
}
