// Package jsonv decodes JSON into generic values, and encodes them, on the
// real-time message path, where encoding/json's reflection-driven decoder
// and encoder were a large share of a message's CPU. Append renders exactly
// what json.Marshal renders. Decode produces exactly what encoding/json produces when
// decoding into an interface{} with UseNumber: map[string]any, []any,
// string, json.Number, bool and nil; strings get invalid UTF-8 and unpaired
// surrogates replaced by U+FFFD as encoding/json does; duplicate keys keep
// the last value. Split cuts a JSON array into its elements. Both reject
// what json.Valid rejects (FuzzDecode checks the equivalence).
package jsonv

import (
	"encoding/json"
	"errors"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// ErrSyntax is returned for input that is not valid JSON.
var ErrSyntax = errors.New("jsonv: invalid JSON")

// maxDepth bounds nesting as encoding/json does.
const maxDepth = 10000

// Decode parses one JSON value (surrounding whitespace allowed, nothing
// else after it).
func Decode(b []byte) (any, error) {
	d := decoder{b: b}
	d.ws()
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	d.ws()
	if d.i != len(d.b) {
		return nil, ErrSyntax
	}
	return v, nil
}

// Split returns the elements of the JSON array b as sub-slices of b
// (each a valid JSON value, without surrounding whitespace); null gives
// none, as json.Unmarshal into a slice does.
func Split(b []byte) ([][]byte, error) {
	d := decoder{b: b}
	d.ws()
	if v, err := d.literal(); err == nil && v == nil {
		d.ws()
		if d.i == len(d.b) {
			return nil, nil
		}
		return nil, ErrSyntax
	}
	if d.i >= len(d.b) || d.b[d.i] != '[' {
		return nil, ErrSyntax
	}
	d.i++
	var out [][]byte
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == ']' {
		d.i++
	} else {
		for {
			d.ws()
			start := d.i
			if err := d.skip(2); err != nil {
				return nil, err
			}
			out = append(out, d.b[start:d.i])
			d.ws()
			if d.i >= len(d.b) {
				return nil, ErrSyntax
			}
			c := d.b[d.i]
			d.i++
			if c == ']' {
				break
			}
			if c != ',' {
				return nil, ErrSyntax
			}
		}
	}
	d.ws()
	if d.i != len(d.b) {
		return nil, ErrSyntax
	}
	return out, nil
}

type decoder struct {
	b []byte
	i int
}

func (d *decoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *decoder) value(depth int) (any, error) {
	if d.i >= len(d.b) {
		return nil, ErrSyntax
	}
	switch c := d.b[d.i]; {
	case c == '{':
		return d.object(depth + 1)
	case c == '[':
		return d.array(depth + 1)
	case c == '"':
		return d.str()
	case c == '-' || (c >= '0' && c <= '9'):
		start := d.i
		if err := d.number(); err != nil {
			return nil, err
		}
		return json.Number(d.b[start:d.i]), nil
	default:
		return d.literal()
	}
}

func (d *decoder) literal() (any, error) {
	rest := d.b[d.i:]
	switch {
	case len(rest) >= 4 && string(rest[:4]) == "true":
		d.i += 4
		return true, nil
	case len(rest) >= 5 && string(rest[:5]) == "false":
		d.i += 5
		return false, nil
	case len(rest) >= 4 && string(rest[:4]) == "null":
		d.i += 4
		return nil, nil
	}
	return nil, ErrSyntax
}

func (d *decoder) object(depth int) (any, error) {
	if depth > maxDepth {
		return nil, ErrSyntax
	}
	d.i++ // {
	m := map[string]any{}
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		return m, nil
	}
	for {
		d.ws()
		if d.i >= len(d.b) || d.b[d.i] != '"' {
			return nil, ErrSyntax
		}
		k, err := d.str()
		if err != nil {
			return nil, err
		}
		d.ws()
		if d.i >= len(d.b) || d.b[d.i] != ':' {
			return nil, ErrSyntax
		}
		d.i++
		d.ws()
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		m[k] = v
		d.ws()
		if d.i >= len(d.b) {
			return nil, ErrSyntax
		}
		c := d.b[d.i]
		d.i++
		if c == '}' {
			return m, nil
		}
		if c != ',' {
			return nil, ErrSyntax
		}
	}
}

func (d *decoder) array(depth int) (any, error) {
	if depth > maxDepth {
		return nil, ErrSyntax
	}
	d.i++ // [
	a := []any{}
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == ']' {
		d.i++
		return a, nil
	}
	for {
		d.ws()
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		d.ws()
		if d.i >= len(d.b) {
			return nil, ErrSyntax
		}
		c := d.b[d.i]
		d.i++
		if c == ']' {
			return a, nil
		}
		if c != ',' {
			return nil, ErrSyntax
		}
	}
}

// number checks a number literal at d.i and moves past it.
func (d *decoder) number() error {
	b, i := d.b, d.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return ErrSyntax
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return ErrSyntax
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return ErrSyntax
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	d.i = i
	return nil
}

// str decodes the string at d.i (at its opening quote).
func (d *decoder) str() (string, error) {
	b := d.b
	start := d.i + 1
	// fast path: no escapes, printable ASCII or valid UTF-8
	i := start
	for i < len(b) {
		c := b[i]
		if c == '"' {
			s := b[start:i]
			if utf8.Valid(s) {
				d.i = i + 1
				return string(s), nil
			}
			break
		}
		if c == '\\' || c < 0x20 {
			break
		}
		i++
	}
	out := make([]byte, 0, i-start+16)
	i = start
	for {
		if i >= len(b) {
			return "", ErrSyntax
		}
		c := b[i]
		switch {
		case c == '"':
			d.i = i + 1
			return string(out), nil
		case c < 0x20:
			return "", ErrSyntax
		case c == '\\':
			if i+1 >= len(b) {
				return "", ErrSyntax
			}
			switch b[i+1] {
			case '"', '\\', '/':
				out = append(out, b[i+1])
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, ok := hex4(b, i+2)
				if !ok {
					return "", ErrSyntax
				}
				i += 6
				if utf16.IsSurrogate(r) {
					if r2, ok := pairAt(b, i); ok {
						if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
							i += 6
							out = utf8.AppendRune(out, dec)
							continue
						}
					}
					r = utf8.RuneError
				}
				out = utf8.AppendRune(out, r)
				continue
			default:
				return "", ErrSyntax
			}
			i += 2
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, size := utf8.DecodeRune(b[i:])
			i += size
			out = utf8.AppendRune(out, r) // RuneError for invalid bytes
		}
	}
}

// pairAt reads a \uXXXX escape at i, if there is one.
func pairAt(b []byte, i int) (rune, bool) {
	if i+1 < len(b) && b[i] == '\\' && b[i+1] == 'u' {
		return hex4(b, i+2)
	}
	return 0, false
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// skip moves past one value, checking it; depth is the value's nesting
// depth if it is an object or array.
func (d *decoder) skip(depth int) error {
	if d.i >= len(d.b) {
		return ErrSyntax
	}
	if c := d.b[d.i]; (c == '{' || c == '[') && depth > maxDepth {
		return ErrSyntax
	}
	switch c := d.b[d.i]; {
	case c == '{':
		d.i++
		d.ws()
		if d.i < len(d.b) && d.b[d.i] == '}' {
			d.i++
			return nil
		}
		for {
			d.ws()
			if d.i >= len(d.b) || d.b[d.i] != '"' {
				return ErrSyntax
			}
			if err := d.skipStr(); err != nil {
				return err
			}
			d.ws()
			if d.i >= len(d.b) || d.b[d.i] != ':' {
				return ErrSyntax
			}
			d.i++
			d.ws()
			if err := d.skip(depth + 1); err != nil {
				return err
			}
			d.ws()
			if d.i >= len(d.b) {
				return ErrSyntax
			}
			c := d.b[d.i]
			d.i++
			if c == '}' {
				return nil
			}
			if c != ',' {
				return ErrSyntax
			}
		}
	case c == '[':
		d.i++
		d.ws()
		if d.i < len(d.b) && d.b[d.i] == ']' {
			d.i++
			return nil
		}
		for {
			d.ws()
			if err := d.skip(depth + 1); err != nil {
				return err
			}
			d.ws()
			if d.i >= len(d.b) {
				return ErrSyntax
			}
			c := d.b[d.i]
			d.i++
			if c == ']' {
				return nil
			}
			if c != ',' {
				return ErrSyntax
			}
		}
	case c == '"':
		return d.skipStr()
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	default:
		_, err := d.literal()
		return err
	}
}

// skipStr moves past a string, checking its escapes (any bytes >= 0x20
// are valid JSON string content, as json.Valid accepts).
func (d *decoder) skipStr() error {
	b := d.b
	i := d.i + 1
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			d.i = i + 1
			return nil
		case c < 0x20:
			return ErrSyntax
		case c == '\\':
			if i+1 >= len(b) {
				return ErrSyntax
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if _, ok := hex4(b, i+2); !ok {
					return ErrSyntax
				}
				i += 6
			default:
				return ErrSyntax
			}
		default:
			i++
		}
	}
	return ErrSyntax
}

// SplitRaw is Split on a private copy of b (the elements outlive b's
// buffer), as json.Unmarshal into a []json.RawMessage gives them.
func SplitRaw(b []byte) ([]json.RawMessage, error) {
	parts, err := Split(append([]byte(nil), b...))
	if err != nil || parts == nil {
		return nil, err
	}
	out := make([]json.RawMessage, len(parts))
	for i, p := range parts {
		out[i] = p
	}
	return out, nil
}

// String decodes a JSON string as json.Unmarshal into a string does: null
// gives "" and ok; anything but a string or null is not ok.
func String(b []byte) (string, bool) {
	v, err := Decode(b)
	if err != nil {
		return "", false
	}
	switch x := v.(type) {
	case string:
		return x, true
	case nil:
		return "", true
	}
	return "", false
}

// Members calls fn with each member of the JSON object b, in order (the
// value as its bytes, a sub-slice of b), after checking that b is valid
// JSON. isObject is false for valid JSON that is not an object (null
// included); fn is then not called.
func Members(b []byte, fn func(key string, val []byte)) (isObject bool, err error) {
	d := decoder{b: b}
	d.ws()
	start := d.i
	if err := d.skip(1); err != nil {
		return false, err
	}
	d.ws()
	if d.i != len(d.b) {
		return false, ErrSyntax
	}
	if d.b[start] != '{' {
		return false, nil
	}
	d.i = start + 1
	d.ws()
	if d.b[d.i] == '}' {
		return true, nil
	}
	for {
		d.ws()
		k, err := d.str()
		if err != nil {
			return false, err
		}
		d.ws()
		d.i++ // ':' (checked above)
		d.ws()
		v := d.i
		if err := d.skip(2); err != nil {
			return false, err
		}
		fn(k, d.b[v:d.i])
		d.ws()
		c := d.b[d.i]
		d.i++
		if c == '}' {
			return true, nil
		}
	}
}

// FieldIs reports whether an object key selects the struct field named
// want (lower-case ASCII) as encoding/json matches them: exactly, or
// case-insensitively with its Unicode folding (so "NAME" and "argſ" match).
func FieldIs(key, want string) bool {
	if key == want {
		return true
	}
	i := 0
	for j := 0; j < len(key); {
		var r rune
		if c := key[j]; c < utf8.RuneSelf {
			r = rune(c)
			if 'a' <= c && c <= 'z' {
				r -= 'a' - 'A'
			}
			j++
		} else {
			var n int
			r, n = utf8.DecodeRuneInString(key[j:])
			r = unicode.ToUpper(unicode.ToLower(r))
			j += n
		}
		if i >= len(want) || r >= utf8.RuneSelf {
			return false
		}
		w := want[i]
		if 'a' <= w && w <= 'z' {
			w -= 'a' - 'A'
		}
		if byte(r) != w {
			return false
		}
		i++
	}
	return i == len(want)
}
