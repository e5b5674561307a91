package attr

import (
	"encoding/base64"
	"encoding/json"
)

// UnmarshalJSON decodes an item ({"name": {"S": "..."}, ...}). Well-formed
// common input is parsed directly; anything unusual (escapes, non-ASCII,
// odd key spelling, duplicates, invalid values) falls back to the general
// decoder, which gives exactly encoding/json's behaviour and DynamoDB's
// validation messages. FuzzItemFastPath checks that both agree.
func (it *Item) UnmarshalJSON(data []byte) error {
	if m, ok := fastItem(data); ok {
		*it = m
		return nil
	}
	var m map[string]Value
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	*it = m
	return nil
}

type fastParser struct {
	b []byte
	i int
}

func fastItem(data []byte) (Item, bool) {
	p := &fastParser{b: data}
	m, ok := p.object(0)
	if !ok {
		return nil, false
	}
	p.ws()
	return m, p.i == len(p.b)
}

func (p *fastParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *fastParser) lit(c byte) bool {
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// str parses a string without escapes or non-ASCII bytes.
func (p *fastParser) str() (string, bool) {
	p.ws()
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return "", false
	}
	start := p.i + 1
	for j := start; j < len(p.b); j++ {
		c := p.b[j]
		if c == '"' {
			p.i = j + 1
			return string(p.b[start:j]), true
		}
		if c == '\\' || c < 0x20 || c >= 0x80 {
			return "", false
		}
	}
	return "", false
}

func (p *fastParser) object(depth int) (map[string]Value, bool) {
	if depth > 32 || !p.lit('{') {
		return nil, false
	}
	m := map[string]Value{}
	if p.lit('}') {
		return m, true
	}
	for {
		k, ok := p.str()
		if !ok || !p.lit(':') {
			return nil, false
		}
		if _, dup := m[k]; dup {
			return nil, false
		}
		v, ok := p.value(depth)
		if !ok {
			return nil, false
		}
		m[k] = v
		if p.lit(',') {
			continue
		}
		if p.lit('}') {
			return m, true
		}
		return nil, false
	}
}

func (p *fastParser) strList() ([]string, bool) {
	if !p.lit('[') {
		return nil, false
	}
	var out []string
	if p.lit(']') {
		return nil, false // empty sets are errors: let the general path say so
	}
	for {
		s, ok := p.str()
		if !ok {
			return nil, false
		}
		out = append(out, s)
		if p.lit(',') {
			continue
		}
		if p.lit(']') {
			return out, true
		}
		return nil, false
	}
}

func (p *fastParser) word(w string) bool {
	p.ws()
	if len(p.b)-p.i >= len(w) && string(p.b[p.i:p.i+len(w)]) == w {
		p.i += len(w)
		return true
	}
	return false
}

// value parses {"T": ...} with exactly one exact type key.
func (p *fastParser) value(depth int) (Value, bool) {
	var v Value
	if !p.lit('{') {
		return v, false
	}
	t, ok := p.str()
	if !ok || !p.lit(':') {
		return v, false
	}
	switch t {
	case "S":
		s, ok := p.str()
		if !ok {
			return v, false
		}
		v = Value{T: S, Str: s}
	case "N":
		s, ok := p.str()
		if !ok {
			return v, false
		}
		n, err := NormalizeNumber(s)
		if err != nil {
			return v, false
		}
		v = Value{T: N, Str: n}
	case "B":
		s, ok := p.str()
		if !ok {
			return v, false
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return v, false
		}
		v = Value{T: B, Bin: b}
	case "SS", "NS":
		l, ok := p.strList()
		if !ok || dupStrings(l, false) {
			return v, false
		}
		if t == "NS" {
			for i, s := range l {
				n, err := NormalizeNumber(s)
				if err != nil {
					return v, false
				}
				l[i] = n
			}
			if dupStrings(l, true) {
				return v, false
			}
			v = Value{T: NS, Strs: l}
		} else {
			v = Value{T: SS, Strs: l}
		}
	case "BS":
		l, ok := p.strList()
		if !ok {
			return v, false
		}
		seen := map[string]bool{}
		v = Value{T: BS}
		for _, s := range l {
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil || seen[string(b)] {
				return v, false
			}
			seen[string(b)] = true
			v.Bins = append(v.Bins, b)
		}
	case "M":
		m, ok := p.object(depth + 1)
		if !ok {
			return v, false
		}
		v = Value{T: M, Map: m}
	case "L":
		if !p.lit('[') {
			return v, false
		}
		l := []Value{}
		if !p.lit(']') {
			for {
				x, ok := p.value(depth + 1)
				if !ok {
					return v, false
				}
				l = append(l, x)
				if p.lit(',') {
					continue
				}
				if p.lit(']') {
					break
				}
				return v, false
			}
		}
		v = Value{T: L, List: l}
	case "BOOL":
		switch {
		case p.word("true"):
			v = Value{T: BOOL, Bool: true}
		case p.word("false"):
			v = Value{T: BOOL}
		default:
			return v, false
		}
	case "NULL":
		if !p.word("true") {
			return v, false
		}
		v = Value{T: NULL}
	default:
		return v, false
	}
	if !p.lit('}') {
		return v, false
	}
	return v, true
}

// FastItemAt decodes the item that starts at data[i] (after optional
// whitespace) with the fast decoder, for request scanners that walk a whole
// body. It returns the index just past the item; ok is false for anything
// the fast decoder leaves to the general one (the caller then falls back to
// encoding/json for the whole request).
func FastItemAt(data []byte, i int) (it Item, next int, ok bool) {
	p := fastParser{b: data, i: i}
	m, ok := p.object(0)
	return m, p.i, ok
}

// FastValueAt decodes one attribute value ({"S": ...}) at data[i] like
// FastItemAt.
func FastValueAt(data []byte, i int) (v Value, next int, ok bool) {
	p := fastParser{b: data, i: i}
	v, ok = p.value(0)
	return v, p.i, ok
}
