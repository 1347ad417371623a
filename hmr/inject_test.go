package hmr

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

const testTag = `<script type="module" src="/__devserve/client.js"></script>`

func TestInjectScript(t *testing.T) {
	// In doc, ‸ marks where the tag must go; the input is doc without it.
	tests := []struct{ name, doc string }{
		{"empty", "‸"},
		{"only text", "‸hello, world\n"},
		{"BOM only", "\ufeff‸"},
		{"BOM and text", "\ufeff‸hello"},
		{"head", "<!DOCTYPE html>\n<html>\n<head>\n<title>t</title>\n‸</head>\n<body>x</body>\n</html>\n"},
		{"upper case", "<!DOCTYPE HTML><HTML><HEAD><TITLE>t</TITLE>‸</HEAD><BODY></BODY></HTML>"},
		{"mixed case end tag with space", "<html><head>‸</Head  ><body>"},
		{"end tag with attributes", "<head>‸</head foo=bar>"},
		{"body", "<html><body>‸<p>x</p></body></html>"},
		{"body with attributes", `<html><BODY class="a" onload='f("</head>")'>‸x</BODY>`},
		{"self-closing body", "<p>x<body/>‸y"},
		{"body before stray end head", "<html><body>‸x</head></body>"},
		{"doctype only", "<!doctype html>‸"},
		{"doctype then text", "<!doctype html>‸\n<p>x</p>"},
		{"BOM doctype html", "\ufeff<!DOCTYPE html>\n<html lang=\"en\">‸\n<p>x"},
		{"leading head without end", "<!DOCTYPE html><!-- c -->\n<html>\n<head>‸<meta charset=utf-8><link rel=stylesheet href=a.css>"},
		{"leading tags stop at content", "<html>‸<p>x</p><head>"},
		{"end head in comment", "<html><head><!-- </head> --><title>t</title>‸</head><body>"},
		{"body in comment", "<html>‸<!-- <body> --><p>x"},
		{"end head in script string", "<head><script>var s = \"</head>\"; var b = '<body>';</script>‸</head>"},
		{"end head in escaped script", "<head><script><!-- document.write('<script></head></script>') --></script>‸</head>"},
		{"end head in style", "<head><style>/* </head> */ a::after{content:\"<body>\"}</style>‸</HEAD>"},
		{"end head in attribute", "<head><meta name=x content=\"</head>\"><meta content='<body>'>‸</head>"},
		{"end head in title", "<head><title></head><body></title>‸</head>"},
		{"end head in textarea", "‸<textarea></head><body></textarea>"},
		{"end head in noscript", "<head><noscript></head></noscript>‸</head>"},
		{"unterminated comment", "‸<!-- </head> <body>"},
		{"unterminated script", "<html><head>‸<script>x </head><body>"},
		{"unterminated tag", "<html>‸<body"},
		{"plaintext", "‸<plaintext></head><body>"},
		{"not body", "<html>‸<bodyx></bodyx><tbody>"},
		{"not head", "‸<header></header></headx>"},
		{"text before head", "hello <head>‸</head>"},
		{"NUL and CRLF", "<head>\r\n\x00<title>\x00</title>\r\n‸</head>"},
		{"invalid UTF-8", "\xff\xfe<head>\xc3‸</head>"},
		{"processing instruction", "<?xml version=\"1.0\"?><html>‸<p>"},
		{"CDATA", "<html>‸<![CDATA[</head>]]><p>"},
		{"end tag only", "‸</p>"},
		{"unterminated doctype", "‸<!DOCTYPE"},
		{"unterminated doctype after html", "<html>‸<!DOCTYPE html"},
		{"less-than text", "a < b <‸</head>"},
		{"tag already present", "<head>" + testTag + "‸</head>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if strings.Count(tt.doc, "‸") != 1 {
				t.Fatalf("bad test: %q needs one ‸", tt.doc)
			}
			in := strings.Replace(tt.doc, "‸", "", 1)
			want := strings.Replace(tt.doc, "‸", testTag, 1)
			got := InjectScript([]byte(in), []byte(testTag))
			if string(got) != want {
				t.Errorf("InjectScript(%q) =\n%q\nwant\n%q", in, got, want)
			}
		})
	}
}

func TestInjectScriptDoesNotModifyInput(t *testing.T) {
	buf := make([]byte, 0, 64) // room to append into, which must not be used
	in := append(buf, "<HTML><HEAD></HEAD>"...)
	InjectScript(in, []byte(testTag))
	if string(in) != "<HTML><HEAD></HEAD>" || string(in[:cap(in)][len(in):len(in)+4]) != "\x00\x00\x00\x00" {
		t.Errorf("input modified: %q", in[:cap(in)])
	}
}

func FuzzInjectScript(f *testing.F) {
	for _, s := range []string{
		"", "x", "\ufeff", "<html><head></head><body></body></html>",
		"<HEAD><!-- </head> --></HEAD>", "<head><script>'</head>'</script></head>",
		"<body a='</head>'>", "<!doctype html><html><head>", "<!-- ", "<script>", "a<</head>",
		"<title></head></title>", "<svg><style></head></style></svg>", "\ufeff<!DOCTYPE html>\n<html>", "<!DOCTYPE",
	} {
		f.Add([]byte(s))
	}
	tag := []byte(testTag) // no proper prefix of it is also a suffix
	f.Fuzz(func(t *testing.T, in []byte) {
		orig := bytes.Clone(in)
		out := InjectScript(in, tag)
		if !bytes.Equal(in, orig) {
			t.Fatalf("input modified")
		}
		if len(out) != len(in)+len(tag) {
			t.Fatalf("len(out) = %d, want %d", len(out), len(in)+len(tag))
		}
		// Where the tag was inserted: out must be in[:at] + tag + in[at:].
		at := bytes.Index(out, tag)
		for at >= 0 && !(bytes.Equal(out[:at], in[:at]) && bytes.Equal(out[at+len(tag):], in[at:])) {
			next := bytes.Index(out[at+1:], tag)
			if next < 0 {
				at = -1
				break
			}
			at += 1 + next
		}
		if at < 0 {
			t.Fatalf("InjectScript(%q) = %q: not the input with the tag inserted", in, out)
		}
		if n, m := bytes.Count(out, tag), bytes.Count(in, tag); n != m+1 {
			t.Fatalf("InjectScript(%q) = %q: %d tags, want %d", in, out, n, m+1)
		}
		// The tag starts a real start tag, not text inside something else.
		z := html.NewTokenizer(bytes.NewReader(out))
		off := 0
		for off < at {
			if z.Next() == html.ErrorToken {
				break
			}
			off += len(z.Raw())
		}
		tt := z.Next()
		name, _ := z.TagName()
		if off != at || tt != html.StartTagToken || string(name) != "script" {
			t.Fatalf("InjectScript(%q) = %q: the tag at %d is not a start tag (token at %d: %v %q)", in, out, at, off, tt, z.Raw())
		}
	})
}
