package hmr

import (
	"bytes"
	"net/url"
	"strings"

	"github.com/devserve/devserve/internal/protocol"
)

// A hot update of a small module carries the module's code in the built
// event (Update.Code), so the page runs it at once rather than importing
// it from Update.URL: the request and the browser's module loading were
// about half of a hot update's way from the save to the screen (issue
// #14, BenchmarkHotSave). The caps keep events small for the many tabs
// and the broker's history; a bigger module is fetched as before.
const (
	inlineMax   = 32 << 10 // the biggest update script an event carries
	inlineTotal = 64 << 10 // the most code one event carries
)

// inlineCode sets the Code of the JS updates in ups whose update script
// is small enough, until the event holds inlineTotal of code. Called by
// the build loop right after the build, before the event is published, so
// the code is the build's.
func (s *Server) inlineCode(ups []Update) {
	left := inlineTotal
	for i, u := range ups {
		if u.Type != UpdateJS || u.URL == "" {
			continue
		}
		if code, ok := s.updateCode(u.URL); ok && len(code) <= min(inlineMax, left) {
			left -= len(code)
			ups[i].Code = code
		}
	}
}

// updateCode returns the update script at the module URL ref (as
// ModuleUpdate.URL writes it, under the base path) as the function that
// Update.Code is: the script's first line, its import of the runtime's
// update, becomes the function's head, which takes that update as its
// argument, so the lines stay where they were. The source map inline
// becomes a reference to the script's map, which the server serves at
// ref's path + ".map": the map was almost half of a component's update
// (react-ts's App.tsx: 14 of 31 KB), and only DevTools reads it, while
// every tab pays for its bytes (see mapRef). false: no such script, or
// not of that form (then the page fetches it).
func (s *Server) updateCode(ref string) (string, bool) {
	u, err := url.Parse(ref)
	if err != nil {
		return "", false
	}
	mapURL := *u
	mapURL.Path += ".map"
	if base := strings.TrimSuffix(s.base, "/"); base != "" {
		p, ok := strings.CutPrefix(u.Path, base)
		if !ok {
			return "", false
		}
		u.Path, u.RawPath = p, ""
	}
	out, ok := s.current().LookupURL(u)
	if !ok {
		return "", false
	}
	head, body, ok := bytes.Cut(out.Contents, []byte("\n"))
	if !ok || !bytes.HasPrefix(head, []byte("import{")) || !bytes.Contains(head, []byte(" as "+protocol.Define+"}")) {
		return "", false
	}
	return "(function(" + protocol.Define + "){\n" + string(mapRef(body, mapURL.String())) + "\n})", true
}

// inlineMap begins the last line of a script whose source map is inline.
var inlineMap = []byte("//# sourceMappingURL=data:")

// mapRef returns script with its inline source map, if its last line is
// one, replaced by a reference to mapURL.
func mapRef(script []byte, mapURL string) []byte {
	i := bytes.LastIndexByte(bytes.TrimSuffix(script, []byte("\n")), '\n') + 1
	if !bytes.HasPrefix(script[i:], inlineMap) {
		return script
	}
	return append(script[:i:i], "//# sourceMappingURL="+mapURL+"\n"...)
}
