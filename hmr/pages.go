package hmr

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
)

// pages holds the HTML pages as the server last served them. Requests are
// answered from it and only the build loop replaces an entry, after it saw
// a change of the file. So the loop knows exactly which bytes any browser
// can have: a save that leaves a page as it was reloads nothing, and one
// that changes it always does.
type pages struct {
	mu     sync.Mutex
	m      map[string][]byte // by slash path relative to the root
	missed map[string]bool   // pages answered 404 to a browser; see miss
}

// get returns the page rel, reading it through root the first time.
func (p *pages) get(root *os.Root, rel string) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if b, ok := p.m[rel]; ok {
		return b, nil
	}
	f, err := root.Open(rel)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(f); err != nil {
		return nil, err
	}
	if p.m == nil {
		p.m = map[string][]byte{}
	}
	p.m[rel] = buf.Bytes()
	return buf.Bytes(), nil
}

// changed reports whether a browser may show page rel other than it is on
// disk now: it was served, and its bytes differ or it is gone. Then it
// forgets what was served, so the next request reads the file again.
func (p *pages) changed(root, rel string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	old, ok := p.m[rel]
	if !ok {
		// A page a browser was told is missing: now it is not.
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(rel))); p.missed[rel] && err == nil {
			delete(p.missed, rel)
			return true
		}
		return false
	}
	now, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
	if err == nil && bytes.Equal(now, old) {
		return false
	}
	delete(p.m, rel)
	return true
}
