package codec

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math"
	"reflect"
	"skyhub/internal/errs"
	"skyhub/internal/jsonx"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// JSON is the wamp.2.json serializer (RawSocket id 1, WebSocket text
// frames). Binary values travel as a string made of a NUL character
// followed by the standard base64 of the bytes, in both directions.
type JSON struct{}

func (JSON) Name() string      { return "json" }
func (JSON) RawSocketID() byte { return RawJSON }
func (JSON) Binary() bool      { return false }

// Append encodes msg as JSON.
func (JSON) Append(dst []byte, msg []any) ([]byte, error) {
	e := jsonEnc{b: dst}
	if err := e.value(msg, 0); err != nil {
		return dst, err
	}
	return e.b, nil
}

// Decode parses one JSON message; it must be an array.
func (JSON) Decode(b []byte) ([]any, error) {
	d := jsonDec{b: b}
	d.ws()
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	d.ws()
	if d.i != len(d.b) {
		return nil, d.fail("trailing data after the message")
	}
	return asList("codec.json", v)
}

// errNULString: in WAMP's JSON a string starting with NUL means binary, so
// a text string starting with NUL cannot be represented.
var errNULString = errs.E("codec.json", errs.Invalid, "a string starting with NUL cannot be sent in JSON (reserved for binary values)")

// ---- encoder ----

type jsonEnc struct{ b []byte }

func (e *jsonEnc) value(v any, depth int) error {
	if depth > MaxDepth {
		return decodeError("codec.json", "value nested deeper than %d", MaxDepth)
	}
	switch x := v.(type) {
	case nil:
		e.b = append(e.b, "null"...)
	case bool:
		e.b = strconv.AppendBool(e.b, x)
	case string:
		if len(x) > 0 && x[0] == 0 {
			return errNULString
		}
		e.str(x)
	case []byte:
		e.bytes(x)
	case int:
		e.b = strconv.AppendInt(e.b, int64(x), 10)
	case int64:
		e.b = strconv.AppendInt(e.b, x, 10)
	case int32:
		e.b = strconv.AppendInt(e.b, int64(x), 10)
	case uint64:
		e.b = strconv.AppendUint(e.b, x, 10)
	case uint32:
		e.b = strconv.AppendUint(e.b, uint64(x), 10)
	case uint:
		e.b = strconv.AppendUint(e.b, uint64(x), 10)
	case float64:
		return e.float(x, 64)
	case float32:
		return e.float(float64(x), 32)
	case json.Number:
		if _, err := strconv.ParseFloat(string(x), 64); err != nil || x == "" {
			return decodeError("codec.json", "invalid number %q", string(x))
		}
		e.b = append(e.b, x...)
	case []any:
		e.b = append(e.b, '[')
		for i, el := range x {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			if err := e.value(el, depth+1); err != nil {
				return err
			}
		}
		e.b = append(e.b, ']')
	case map[string]any:
		e.b = append(e.b, '{')
		first := true
		for k, el := range x {
			if !first {
				e.b = append(e.b, ',')
			}
			first = false
			e.str(k)
			e.b = append(e.b, ':')
			if err := e.value(el, depth+1); err != nil {
				return err
			}
		}
		e.b = append(e.b, '}')
	default:
		return e.reflectValue(reflect.ValueOf(v), depth)
	}
	return nil
}

// reflectValue handles named types (wamp.ID, wamp.URI, typed slices and
// maps); structs fall back to encoding/json.
func (e *jsonEnc) reflectValue(rv reflect.Value, depth int) error {
	switch rv.Kind() {
	case reflect.Invalid:
		e.b = append(e.b, "null"...)
	case reflect.Bool:
		e.b = strconv.AppendBool(e.b, rv.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.b = strconv.AppendInt(e.b, rv.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		e.b = strconv.AppendUint(e.b, rv.Uint(), 10)
	case reflect.Float32:
		return e.float(rv.Float(), 32)
	case reflect.Float64:
		return e.float(rv.Float(), 64)
	case reflect.String:
		if s := rv.String(); len(s) > 0 && s[0] == 0 {
			return errNULString
		}
		e.str(rv.String())
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			e.b = append(e.b, "null"...)
			return nil
		}
		return e.value(rv.Elem().Interface(), depth+1)
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			e.b = append(e.b, "null"...)
			return nil
		}
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			b := make([]byte, rv.Len())
			reflect.Copy(reflect.ValueOf(b), rv)
			e.bytes(b)
			return nil
		}
		e.b = append(e.b, '[')
		for i := 0; i < rv.Len(); i++ {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			if err := e.value(rv.Index(i).Interface(), depth+1); err != nil {
				return err
			}
		}
		e.b = append(e.b, ']')
	case reflect.Map:
		if rv.IsNil() {
			e.b = append(e.b, "null"...)
			return nil
		}
		e.b = append(e.b, '{')
		it := rv.MapRange()
		first := true
		for it.Next() {
			k := it.Key()
			for k.Kind() == reflect.Interface && !k.IsNil() {
				k = k.Elem()
			}
			if k.Kind() != reflect.String {
				return decodeError("codec.json", "dict key of type %s is not a string", k.Type())
			}
			if !first {
				e.b = append(e.b, ',')
			}
			first = false
			e.str(k.String())
			e.b = append(e.b, ':')
			if err := e.value(it.Value().Interface(), depth+1); err != nil {
				return err
			}
		}
		e.b = append(e.b, '}')
	default:
		raw, err := json.Marshal(rv.Interface())
		if err != nil {
			return decodeError("codec.json", "cannot encode %s: %v", rv.Type(), err)
		}
		e.b = append(e.b, raw...)
	}
	return nil
}

func (e *jsonEnc) float(f float64, bits int) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return decodeError("codec.json", "cannot encode %v in JSON", f)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21)) {
		format = 'e'
	}
	start := len(e.b)
	e.b = strconv.AppendFloat(e.b, f, format, -1, bits)
	// Keep floats floats: an integral value gets ".0", so it decodes as a
	// float again (as Python's json does), not as an integer.
	if bytes.IndexAny(e.b[start:], ".e") < 0 {
		e.b = append(e.b, '.', '0')
	}
	return nil
}

func (e *jsonEnc) bytes(b []byte) {
	e.b = append(e.b, `"\u0000`...)
	e.b = base64.StdEncoding.AppendEncode(e.b, b)
	e.b = append(e.b, '"')
}

func (e *jsonEnc) str(s string) { e.b = jsonx.AppendStringNoHTML(e.b, s) }

// ---- decoder ----

type jsonDec struct {
	b []byte
	i int
}

func (d *jsonDec) fail(msg string) error {
	return decodeError("codec.json", "invalid JSON at offset %d: %s", d.i, msg)
}

func (d *jsonDec) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *jsonDec) value(depth int) (any, error) {
	if depth > MaxDepth {
		return nil, d.fail("nested too deeply")
	}
	if d.i >= len(d.b) {
		return nil, d.fail("unexpected end of input")
	}
	switch c := d.b[d.i]; {
	case c == '[':
		d.i++
		l := []any{}
		d.ws()
		if d.i < len(d.b) && d.b[d.i] == ']' {
			d.i++
			return l, nil
		}
		for {
			d.ws()
			v, err := d.value(depth + 1)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
			d.ws()
			if d.i >= len(d.b) {
				return nil, d.fail("unterminated array")
			}
			switch d.b[d.i] {
			case ',':
				d.i++
			case ']':
				d.i++
				return l, nil
			default:
				return nil, d.fail("expected ',' or ']'")
			}
		}
	case c == '{':
		d.i++
		m := map[string]any{}
		d.ws()
		if d.i < len(d.b) && d.b[d.i] == '}' {
			d.i++
			return m, nil
		}
		for {
			d.ws()
			if d.i >= len(d.b) || d.b[d.i] != '"' {
				return nil, d.fail("expected a string key")
			}
			k, err := d.str()
			if err != nil {
				return nil, err
			}
			d.ws()
			if d.i >= len(d.b) || d.b[d.i] != ':' {
				return nil, d.fail("expected ':'")
			}
			d.i++
			d.ws()
			v, err := d.value(depth + 1)
			if err != nil {
				return nil, err
			}
			m[k] = v
			d.ws()
			if d.i >= len(d.b) {
				return nil, d.fail("unterminated object")
			}
			switch d.b[d.i] {
			case ',':
				d.i++
			case '}':
				d.i++
				return m, nil
			default:
				return nil, d.fail("expected ',' or '}'")
			}
		}
	case c == '"':
		s, err := d.str()
		if err != nil {
			return nil, err
		}
		if len(s) > 0 && s[0] == 0 {
			return decodeBinary(s[1:])
		}
		return s, nil
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	case c == 't':
		return true, d.lit("true")
	case c == 'f':
		return false, d.lit("false")
	case c == 'n':
		return nil, d.lit("null")
	}
	return nil, d.fail("unexpected character")
}

// decodeBinary turns the base64 after the NUL into bytes (padded or not).
func decodeBinary(s string) (any, error) {
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	if b, err := base64.RawStdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return nil, decodeError("codec.json", "binary string (NUL prefix) is not valid base64")
}

func (d *jsonDec) lit(word string) error {
	if len(d.b)-d.i < len(word) || string(d.b[d.i:d.i+len(word)]) != word {
		return d.fail("invalid literal")
	}
	d.i += len(word)
	return nil
}

func (d *jsonDec) number() (any, error) {
	start := d.i
	isFloat := false
	if d.b[d.i] == '-' {
		d.i++
	}
	digits := func() int {
		n := 0
		for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
			d.i++
			n++
		}
		return n
	}
	if d.i < len(d.b) && d.b[d.i] == '0' {
		d.i++
	} else if digits() == 0 {
		return nil, d.fail("invalid number")
	}
	if d.i < len(d.b) && d.b[d.i] == '.' {
		d.i++
		isFloat = true
		if digits() == 0 {
			return nil, d.fail("invalid number")
		}
	}
	if d.i < len(d.b) && (d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		d.i++
		isFloat = true
		if d.i < len(d.b) && (d.b[d.i] == '+' || d.b[d.i] == '-') {
			d.i++
		}
		if digits() == 0 {
			return nil, d.fail("invalid number")
		}
	}
	s := string(d.b[start:d.i])
	if !isFloat {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, nil
		}
		if s[0] != '-' {
			if n, err := strconv.ParseUint(s, 10, 64); err == nil {
				return n, nil
			}
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, d.fail("number out of range")
	}
	return f, nil
}

// str parses a string starting at the opening quote.
func (d *jsonDec) str() (string, error) {
	d.i++ // opening quote
	start := d.i
	// Fast path: no escapes, plain ASCII or valid UTF-8.
	for d.i < len(d.b) {
		c := d.b[d.i]
		if c == '"' {
			s := d.b[start:d.i]
			d.i++
			if utf8.Valid(s) {
				return string(s), nil
			}
			return string(fixUTF8(nil, s)), nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		d.i++
	}
	buf := fixUTF8(make([]byte, 0, d.i-start+16), d.b[start:d.i])
	for {
		if d.i >= len(d.b) {
			return "", d.fail("unterminated string")
		}
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			return string(buf), nil
		case c < 0x20:
			return "", d.fail("control character in string")
		case c == '\\':
			d.i++
			if d.i >= len(d.b) {
				return "", d.fail("unterminated escape")
			}
			esc := d.b[d.i]
			d.i++
			switch esc {
			case '"', '\\', '/':
				buf = append(buf, esc)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r, ok := d.hex4()
				if !ok {
					return "", d.fail("invalid \\u escape")
				}
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if d.i+1 < len(d.b) && d.b[d.i] == '\\' && d.b[d.i+1] == 'u' {
						save := d.i
						d.i += 2
						var ok2 bool
						r2, ok2 = d.hex4()
						if !ok2 {
							return "", d.fail("invalid \\u escape")
						}
						if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
							buf = utf8.AppendRune(buf, dec)
							continue
						}
						d.i = save
					}
					r = utf8.RuneError
				}
				buf = utf8.AppendRune(buf, r)
			default:
				return "", d.fail("invalid escape")
			}
		default:
			j := d.i
			for j < len(d.b) && d.b[j] != '"' && d.b[j] != '\\' && d.b[j] >= 0x20 {
				j++
			}
			buf = fixUTF8(buf, d.b[d.i:j])
			d.i = j
		}
	}
}

func (d *jsonDec) hex4() (rune, bool) {
	if len(d.b)-d.i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range d.b[d.i : d.i+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	d.i += 4
	return r, true
}

// fixUTF8 appends s to dst, replacing each invalid byte with U+FFFD (as
// encoding/json does).
func fixUTF8(dst, s []byte) []byte {
	for len(s) > 0 {
		r, size := utf8.DecodeRune(s)
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, "\uFFFD"...)
		} else {
			dst = append(dst, s[:size]...)
		}
		s = s[size:]
	}
	return dst
}
