package bundler

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// metafile is the part of esbuild's metafile the bundler reads. Paths are
// absolute (api.MetafileAbsPath) except for inputs in virtual namespaces.
type metafile struct {
	Inputs  map[string]struct{}   `json:"inputs"`
	Outputs map[string]metaOutput `json:"outputs"`
}

// metaOutput is what the bundler reads of one output in the metafile.
type metaOutput struct {
	EntryPoint string `json:"entryPoint"`
	CSSBundle  string `json:"cssBundle"`
}

// parseMetafile reads the input paths and each output's entryPoint and
// cssBundle from esbuild's metafile. The metafile describes every import of
// every input and every input of every output (1.5 MiB for 5,000 modules),
// and the bundler needs only the keys of "inputs" and two strings per
// output, so it scans the JSON and skips the rest without decoding it:
// encoding/json spent ~80% of the bundler's own time of a rebuild there. The
// scan checks the structure it walks; if the text is not what esbuild writes
// it falls back to encoding/json, so a surprise costs time, never a wrong
// answer.
func parseMetafile(data string) (metafile, error) {
	if m, err := scanMetafile(data); err == nil {
		return m, nil
	}
	var m metafile
	if err := json.Unmarshal([]byte(data), &m); err != nil {
		return metafile{}, err
	}
	return m, nil
}

// errScan is a metafile the scanner does not understand.
var errScan = errors.New("unexpected metafile")

// scanMetafile is parseMetafile's scanner, without the fallback.
func scanMetafile(data string) (metafile, error) {
	s := &jsonScan{s: data}
	m := metafile{Inputs: map[string]struct{}{}, Outputs: map[string]metaOutput{}}
	err := s.object(func(key string) error {
		if err := exactKey(key, "inputs", "outputs"); err != nil {
			return err
		}
		switch key {
		case "inputs":
			return s.object(func(in string) error {
				m.Inputs[in] = struct{}{}
				return s.skip()
			})
		case "outputs":
			return s.object(func(out string) error {
				var o metaOutput
				err := s.object(func(field string) error {
					if err := exactKey(field, "entryPoint", "cssBundle"); err != nil {
						return err
					}
					switch field {
					case "entryPoint":
						return s.str(&o.EntryPoint)
					case "cssBundle":
						return s.str(&o.CSSBundle)
					}
					return s.skip()
				})
				m.Outputs[out] = o
				return err
			})
		}
		return s.skip()
	})
	if err == nil {
		s.ws()
		if s.i != len(s.s) {
			err = errScan
		}
	}
	if err != nil {
		return metafile{}, err
	}
	return m, nil
}

// exactKey fails for a key that encoding/json would take for one of names
// (it matches keys without regard to case) but that is not spelled the
// same: esbuild never writes one, and encoding/json is left to decide.
func exactKey(key string, names ...string) error {
	for _, n := range names {
		if key != n && strings.EqualFold(key, n) {
			return errScan
		}
	}
	return nil
}

// jsonScan walks JSON text: just enough of it to read object keys and
// string values and to skip any other value.
type jsonScan struct {
	s string
	i int
}

func (s *jsonScan) ws() {
	for s.i < len(s.s) {
		switch s.s[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// next skips white space and consumes c, or fails.
func (s *jsonScan) next(c byte) error {
	s.ws()
	if s.i >= len(s.s) || s.s[s.i] != c {
		return errScan
	}
	s.i++
	return nil
}

// peek skips white space and returns the next byte, 0 at the end.
func (s *jsonScan) peek() byte {
	s.ws()
	if s.i >= len(s.s) {
		return 0
	}
	return s.s[s.i]
}

// object reads an object, calling field with each key when its value is
// next; field must consume the value.
func (s *jsonScan) object(field func(key string) error) error {
	if err := s.next('{'); err != nil {
		return err
	}
	if s.peek() == '}' {
		s.i++
		return nil
	}
	for {
		var key string
		if err := s.str(&key); err != nil {
			return err
		}
		if err := s.next(':'); err != nil {
			return err
		}
		if err := field(key); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return errScan
		}
	}
}

// str reads a string into v, decoding escapes (and, as encoding/json does,
// replacing invalid UTF-8).
func (s *jsonScan) str(v *string) error {
	if s.peek() != '"' {
		return errScan
	}
	start := s.i
	end, escaped := s.strEnd()
	if end < 0 {
		return errScan
	}
	s.i = end
	if !escaped && utf8.ValidString(s.s[start+1:end-1]) {
		*v = s.s[start+1 : end-1]
		return nil
	}
	if err := json.Unmarshal([]byte(s.s[start:end]), v); err != nil {
		return fmt.Errorf("%w: %v", errScan, err)
	}
	return nil
}

// strEnd returns the index just past the string that starts at s.i, and
// whether it holds escapes; -1 if it does not end.
func (s *jsonScan) strEnd() (int, bool) {
	escaped := false
	i := s.i + 1
	for {
		// IndexByte is vectorized; IndexAny would build a set on every call.
		j := strings.IndexByte(s.s[i:], '"')
		if j < 0 {
			return -1, false
		}
		k := strings.IndexByte(s.s[i:i+j], '\\')
		if k < 0 {
			return i + j + 1, escaped
		}
		escaped = true
		i += k + 2 // the backslash and the byte it escapes ("\uXXXX" needs no more)
		if i > len(s.s) {
			return -1, false
		}
	}
}

// skip consumes one value of any type, checking only that strings end and
// brackets balance.
func (s *jsonScan) skip() error {
	switch s.peek() {
	case 0:
		return errScan
	case '"':
		end, _ := s.strEnd()
		if end < 0 {
			return errScan
		}
		s.i = end
		return nil
	case '{', '[':
		depth := 0
		for s.i < len(s.s) {
			switch s.s[s.i] {
			case '"':
				end, _ := s.strEnd()
				if end < 0 {
					return errScan
				}
				s.i = end
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.i++
					return nil
				}
			}
			s.i++
		}
		return errScan
	}
	// A number, true, false or null.
	start := s.i
	for s.i < len(s.s) && !strings.ContainsRune(",}] \t\r\n", rune(s.s[s.i])) {
		s.i++
	}
	if s.i == start {
		return errScan
	}
	return nil
}
