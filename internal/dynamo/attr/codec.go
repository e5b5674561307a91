package attr

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"unicode/utf8"

	"skyhub/internal/jsonx"
)

// ValidationError is a client error found while decoding a value; its text
// is DynamoDB's ValidationException message.
type ValidationError string

func (e ValidationError) Error() string { return string(e) }

type wireValue struct {
	S    *string           `json:"S"`
	N    *string           `json:"N"`
	B    *[]byte           `json:"B"`
	SS   *[]string         `json:"SS"`
	NS   *[]string         `json:"NS"`
	BS   *[][]byte         `json:"BS"`
	M    *map[string]Value `json:"M"`
	L    *[]Value          `json:"L"`
	BOOL *bool             `json:"BOOL"`
	NULL *bool             `json:"NULL"`
}

// UnmarshalJSON decodes the wire form, validating it as DynamoDB does.
func (v *Value) UnmarshalJSON(data []byte) error {
	if fastScalar(v, data) {
		return nil
	}
	if string(data) == "null" {
		return ValidationError("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
	}
	var w wireValue
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	n := 0
	set := func(b bool) {
		if b {
			n++
		}
	}
	set(w.S != nil)
	set(w.N != nil)
	set(w.B != nil)
	set(w.SS != nil)
	set(w.NS != nil)
	set(w.BS != nil)
	set(w.M != nil)
	set(w.L != nil)
	set(w.BOOL != nil)
	set(w.NULL != nil)
	if n == 0 {
		return ValidationError("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
	}
	if n > 1 {
		return ValidationError("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes")
	}
	*v = Value{}
	switch {
	case w.S != nil:
		v.T, v.Str = S, *w.S
	case w.N != nil:
		s, err := NormalizeNumber(*w.N)
		if err != nil {
			return numErr(*w.N, err)
		}
		v.T, v.Str = N, s
	case w.B != nil:
		v.T, v.Bin = B, *w.B
		if v.Bin == nil {
			v.Bin = []byte{}
		}
	case w.SS != nil:
		if len(*w.SS) == 0 {
			return ValidationError("One or more parameter values were invalid: An string set  may not be empty")
		}
		if dupStrings(*w.SS, false) {
			return ValidationError("One or more parameter values were invalid: Input collection " + listStr(*w.SS) + " contains duplicates.")
		}
		v.T, v.Strs = SS, *w.SS
	case w.NS != nil:
		if len(*w.NS) == 0 {
			return ValidationError("One or more parameter values were invalid: An number set  may not be empty")
		}
		out := make([]string, len(*w.NS))
		for i, s := range *w.NS {
			n, err := NormalizeNumber(s)
			if err != nil {
				return numErr(s, err)
			}
			out[i] = n
		}
		if dupStrings(out, true) {
			return ValidationError("One or more parameter values were invalid: Input collection " + listStr(*w.NS) + " contains duplicates.")
		}
		v.T, v.Strs = NS, out
	case w.BS != nil:
		if len(*w.BS) == 0 {
			return ValidationError("One or more parameter values were invalid: Binary sets should not be empty")
		}
		seen := map[string]bool{}
		for _, b := range *w.BS {
			if seen[string(b)] {
				return ValidationError("One or more parameter values were invalid: Input collection contains duplicates.")
			}
			seen[string(b)] = true
		}
		v.T, v.Bins = BS, *w.BS
	case w.M != nil:
		v.T, v.Map = M, *w.M
		if v.Map == nil {
			v.Map = map[string]Value{}
		}
	case w.L != nil:
		v.T, v.List = L, *w.L
		if v.List == nil {
			v.List = []Value{}
		}
	case w.BOOL != nil:
		v.T, v.Bool = BOOL, *w.BOOL
	case w.NULL != nil:
		if !*w.NULL {
			return ValidationError("One or more parameter values were invalid: Null attribute value types must have the value of true")
		}
		v.T = NULL
	}
	return nil
}

// fastScalar decodes the common {"S":"text"} and {"N":"digits"} forms
// (no escapes, no spaces) without a second JSON parse.
func fastScalar(v *Value, data []byte) bool {
	if len(data) < 8 || data[0] != '{' || data[1] != '"' || data[3] != '"' || data[4] != ':' || data[5] != '"' ||
		data[len(data)-1] != '}' || data[len(data)-2] != '"' {
		return false
	}
	inner := data[6 : len(data)-2]
	for _, c := range inner {
		if c == '"' || c == '\\' || c < 0x20 || c >= 0x80 {
			return false
		}
	}
	switch data[2] {
	case 'S':
		*v = Value{T: S, Str: string(inner)}
		return true
	case 'N':
		n, err := NormalizeNumber(string(inner))
		if err != nil {
			return false // the slow path reports the error
		}
		*v = Value{T: N, Str: n}
		return true
	}
	return false
}

func numErr(s string, err error) error {
	if errors.Is(err, ErrNotNumber) {
		if s == "" {
			return ValidationError("The parameter cannot be converted to a numeric value")
		}
		return ValidationError("The parameter cannot be converted to a numeric value: " + s)
	}
	return ValidationError(err.Error())
}

func dupStrings(ss []string, num bool) bool {
	seen := make(map[string]bool, len(ss))
	for _, s := range ss {
		if seen[s] {
			return true
		}
		seen[s] = true
	}
	return false
}

func listStr(ss []string) string {
	b := []byte{'['}
	for i, s := range ss {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, s...)
	}
	return string(append(b, ']'))
}

// MarshalJSON renders the wire form.
func (v Value) MarshalJSON() ([]byte, error) { return AppendJSON(nil, v), nil }

// MarshalJSON renders an item's wire form with sorted names.
func (it Item) MarshalJSON() ([]byte, error) { return AppendItemJSON(nil, it), nil }

// AppendItemJSON appends {"name":{...},...}.
func AppendItemJSON(b []byte, it Item) []byte {
	b = append(b, '{')
	for i, k := range it.SortedNames() {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonx.AppendStringNoHTML(b, k)
		b = append(b, ':')
		b = AppendJSON(b, it[k])
	}
	return append(b, '}')
}

// AppendJSON appends the wire form of v.
func AppendJSON(b []byte, v Value) []byte {
	switch v.T {
	case S:
		b = append(b, `{"S":`...)
		b = jsonx.AppendStringNoHTML(b, v.Str)
	case N:
		b = append(b, `{"N":"`...)
		b = append(b, v.Str...)
		b = append(b, '"')
	case B:
		b = append(b, `{"B":"`...)
		b = base64.StdEncoding.AppendEncode(b, v.Bin)
		b = append(b, '"')
	case SS, NS:
		if v.T == SS {
			b = append(b, `{"SS":[`...)
		} else {
			b = append(b, `{"NS":[`...)
		}
		for i, s := range v.Strs {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonx.AppendStringNoHTML(b, s)
		}
		b = append(b, ']')
	case BS:
		b = append(b, `{"BS":[`...)
		for i, x := range v.Bins {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = base64.StdEncoding.AppendEncode(b, x)
			b = append(b, '"')
		}
		b = append(b, ']')
	case M:
		b = append(b, `{"M":`...)
		b = AppendItemJSON(b, Item(v.Map))
	case L:
		b = append(b, `{"L":[`...)
		for i, x := range v.List {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendJSON(b, x)
		}
		b = append(b, ']')
	case BOOL:
		b = append(b, `{"BOOL":`...)
		b = strconv.AppendBool(b, v.Bool)
	case NULL:
		b = append(b, `{"NULL":true`...)
	default:
		return append(b, "{}"...)
	}
	return append(b, '}')
}

// ---- binary storage form ----

// EncodeItem appends the compact storage form of it.
func EncodeItem(b []byte, it Item) []byte {
	b = binary.AppendUvarint(b, uint64(len(it)))
	names := make([]string, 0, len(it))
	for k := range it {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		b = appendStr(b, k)
		b = encodeValue(b, it[k])
	}
	return b
}

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func encodeValue(b []byte, v Value) []byte {
	b = append(b, byte(v.T))
	switch v.T {
	case S, N:
		b = appendStr(b, v.Str)
	case B:
		b = appendStr(b, string(v.Bin))
	case SS, NS:
		b = binary.AppendUvarint(b, uint64(len(v.Strs)))
		for _, s := range v.Strs {
			b = appendStr(b, s)
		}
	case BS:
		b = binary.AppendUvarint(b, uint64(len(v.Bins)))
		for _, s := range v.Bins {
			b = appendStr(b, string(s))
		}
	case M:
		b = EncodeItem(b, Item(v.Map))
	case L:
		b = binary.AppendUvarint(b, uint64(len(v.List)))
		for _, x := range v.List {
			b = encodeValue(b, x)
		}
	case BOOL:
		if v.Bool {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	}
	return b
}

var errCorrupt = errors.New("attr: corrupt stored item")

type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() int {
	if r.err != nil {
		return 0
	}
	n, k := binary.Uvarint(r.b)
	if k <= 0 || n > uint64(len(r.b)) {
		r.err = errCorrupt
		return 0
	}
	r.b = r.b[k:]
	return int(n)
}

func (r *reader) str() string {
	n := r.uvarint()
	if r.err != nil || n > len(r.b) {
		r.err = errCorrupt
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// raw returns the next string's bytes without copying them.
func (r *reader) raw() []byte {
	n := r.uvarint()
	if r.err != nil || n > len(r.b) {
		r.err = errCorrupt
		return nil
	}
	s := r.b[:n:n]
	r.b = r.b[n:]
	return s
}

// appendJSONBytes appends s as a JSON string; plain ASCII (the common case)
// is copied without converting s to a string first.
func appendJSONBytes(b []byte, s []byte) []byte {
	for _, c := range s {
		if !jsonPlain[c] {
			return jsonx.AppendStringNoHTML(b, string(s))
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// jsonPlain marks the bytes a JSON string carries as they are.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// StoredSize is Item.Size of an item in storage form, computed without
// decoding it.
func StoredSize(stored []byte) (int, error) {
	r := &reader{b: stored}
	n, _ := r.itemSize(0)
	return n, r.err
}

// itemSize returns the sum of name and value sizes and the member count.
func (r *reader) itemSize(depth int) (int, int) {
	n := r.uvarint()
	if depth > 64 {
		r.err = errCorrupt
	}
	total := 0
	for i := 0; i < n && r.err == nil; i++ {
		total += len(r.raw()) + r.valueSize(depth)
	}
	return total, n
}

func numberSizeBytes(s []byte) int {
	digits := 0
	for _, c := range s {
		if c >= '0' && c <= '9' {
			digits++
		}
	}
	return (digits+1)/2 + 1
}

func (r *reader) valueSize(depth int) int {
	switch t := Type(r.byte1()); t {
	case S, B:
		return len(r.raw())
	case N:
		return numberSizeBytes(r.raw())
	case SS, NS, BS:
		n := r.uvarint()
		size := 0
		for i := 0; i < n && r.err == nil; i++ {
			if t == NS {
				size += numberSizeBytes(r.raw())
			} else {
				size += len(r.raw())
			}
		}
		return size
	case M:
		sum, n := r.itemSize(depth + 1)
		return 3 + sum + n
	case L:
		n := r.uvarint()
		size := 3
		for i := 0; i < n && r.err == nil; i++ {
			size += r.valueSize(depth+1) + 1
		}
		return size
	case BOOL:
		r.byte1()
		return 1
	case NULL:
		return 1
	default:
		r.err = errCorrupt
	}
	return 0
}

func (r *reader) byte1() byte {
	if r.err != nil || len(r.b) == 0 {
		r.err = errCorrupt
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// DecodeAttrs parses only the named top-level attributes of an item in
// storage form (the others are skipped without being built).
func DecodeAttrs(b []byte, names ...string) (Item, error) {
	r := &reader{b: b}
	n := r.uvarint()
	it := make(Item, len(names))
	for i := 0; i < n && r.err == nil; i++ {
		k := r.raw()
		want := false
		for _, name := range names {
			if string(k) == name {
				want = true
				break
			}
		}
		if want {
			it[string(k)] = r.value(0)
		} else {
			r.valueSize(0)
		}
	}
	return it, r.err
}

// DecodeItem parses the storage form.
func DecodeItem(b []byte) (Item, error) {
	r := &reader{b: b}
	it := r.item(0)
	return it, r.err
}

func (r *reader) item(depth int) Item {
	n := r.uvarint()
	if depth > 64 {
		r.err = errCorrupt
	}
	if r.err != nil {
		return nil
	}
	it := make(Item, n)
	for i := 0; i < n && r.err == nil; i++ {
		k := r.str()
		it[k] = r.value(depth)
	}
	return it
}

func (r *reader) value(depth int) Value {
	v := Value{T: Type(r.byte1())}
	switch v.T {
	case S, N:
		v.Str = r.str()
	case B:
		v.Bin = []byte(r.str())
	case SS, NS:
		n := r.uvarint()
		v.Strs = make([]string, 0, min(n, 1024))
		for i := 0; i < n && r.err == nil; i++ {
			v.Strs = append(v.Strs, r.str())
		}
	case BS:
		n := r.uvarint()
		for i := 0; i < n && r.err == nil; i++ {
			v.Bins = append(v.Bins, []byte(r.str()))
		}
	case M:
		v.Map = map[string]Value(r.item(depth + 1))
	case L:
		n := r.uvarint()
		v.List = make([]Value, 0, min(n, 1024))
		for i := 0; i < n && r.err == nil; i++ {
			v.List = append(v.List, r.value(depth+1))
		}
	case BOOL:
		v.Bool = r.byte1() == 1
	case NULL:
	default:
		r.err = errCorrupt
	}
	return v
}

// ---- order-preserving key encoding ----

// AppendKey appends an encoding of a scalar key value (S, N or B) whose
// bytewise order is the value's DynamoDB order and which is self-delimiting,
// so encoded hash and range keys can be concatenated.
func AppendKey(b []byte, v Value) []byte {
	switch v.T {
	case S:
		return appendEscaped(b, v.Str)
	case B:
		return appendEscaped(b, string(v.Bin))
	case N:
		return appendNumberKey(b, v.Str)
	}
	return b
}

func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			b = append(b, 0, 0xff)
		} else {
			b = append(b, s[i])
		}
	}
	return append(b, 0, 1)
}

func appendNumberKey(b []byte, s string) []byte {
	d, _ := parseDecimal(s)
	if d.digits == "" {
		return append(b, 0x80)
	}
	e := uint16(d.exp + 1000)
	if !d.neg {
		b = append(b, 0x81, byte(e>>8), byte(e))
		b = append(b, d.digits...)
		return append(b, 0)
	}
	e = 0xffff - e
	b = append(b, 0x7f, byte(e>>8), byte(e))
	for i := 0; i < len(d.digits); i++ {
		b = append(b, 0xff-d.digits[i])
	}
	return append(b, 0xff)
}

// AppendStoredJSON appends the wire JSON of an item in storage form without
// building the item in memory (the storage form is already name-ordered).
func AppendStoredJSON(b []byte, stored []byte) ([]byte, error) {
	r := &reader{b: stored}
	b = r.itemJSON(b, 0)
	return b, r.err
}

func (r *reader) itemJSON(b []byte, depth int) []byte {
	n := r.uvarint()
	if depth > 64 {
		r.err = errCorrupt
	}
	b = append(b, '{')
	for i := 0; i < n && r.err == nil; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONBytes(b, r.raw())
		b = append(b, ':')
		b = r.valueJSON(b, depth)
	}
	return append(b, '}')
}

func (r *reader) valueJSON(b []byte, depth int) []byte {
	t := Type(r.byte1())
	switch t {
	case S:
		b = append(b, `{"S":`...)
		b = appendJSONBytes(b, r.raw())
	case N:
		b = append(b, `{"N":"`...)
		b = append(b, r.raw()...)
		b = append(b, '"')
	case B:
		b = append(b, `{"B":"`...)
		b = base64.StdEncoding.AppendEncode(b, r.raw())
		b = append(b, '"')
	case SS, NS, BS:
		b = append(b, `{"`...)
		b = append(b, t.String()...)
		b = append(b, `":[`...)
		n := r.uvarint()
		for i := 0; i < n && r.err == nil; i++ {
			if i > 0 {
				b = append(b, ',')
			}
			s := r.raw()
			switch t {
			case SS:
				b = appendJSONBytes(b, s)
			case NS:
				b = append(b, '"')
				b = append(b, s...)
				b = append(b, '"')
			default:
				b = append(b, '"')
				b = base64.StdEncoding.AppendEncode(b, s)
				b = append(b, '"')
			}
		}
		b = append(b, ']')
	case M:
		b = append(b, `{"M":`...)
		b = r.itemJSON(b, depth+1)
	case L:
		b = append(b, `{"L":[`...)
		n := r.uvarint()
		for i := 0; i < n && r.err == nil; i++ {
			if i > 0 {
				b = append(b, ',')
			}
			b = r.valueJSON(b, depth+1)
		}
		b = append(b, ']')
	case BOOL:
		b = append(b, `{"BOOL":`...)
		b = strconv.AppendBool(b, r.byte1() == 1)
	case NULL:
		b = append(b, `{"NULL":true`...)
	default:
		r.err = errCorrupt
	}
	return append(b, '}')
}
