// Package attr is DynamoDB's typed attribute value: the S, N, B, SS, NS, BS,
// M, L, BOOL and NULL types, their JSON wire form ({"S":"x"}), number
// normalisation, comparison, item size accounting, a compact binary storage
// form and an order-preserving key encoding of the scalar key types.
package attr

import (
	"bytes"
	"sort"
)

// Type is an attribute value's type tag.
type Type uint8

// The attribute types.
const (
	Invalid Type = iota
	S
	N
	B
	SS
	NS
	BS
	M
	L
	BOOL
	NULL
)

var typeNames = [...]string{"", "S", "N", "B", "SS", "NS", "BS", "M", "L", "BOOL", "NULL"}

func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "?"
}

// ParseType maps a type tag ("S", "NS", ...) to its Type (Invalid if unknown).
func ParseType(s string) Type {
	for i, n := range typeNames {
		if i > 0 && n == s {
			return Type(i)
		}
	}
	return Invalid
}

// LongName is the type's name as DynamoDB's error messages spell it.
func (t Type) LongName() string {
	switch t {
	case S:
		return "STRING"
	case N:
		return "NUMBER"
	case B:
		return "BINARY"
	case SS:
		return "STRING_SET"
	case NS:
		return "NUMBER_SET"
	case BS:
		return "BINARY_SET"
	case M:
		return "MAP"
	case L:
		return "LIST"
	case BOOL:
		return "BOOLEAN"
	case NULL:
		return "NULL"
	}
	return "UNKNOWN"
}

// Value is one attribute value. Exactly the fields of its type are used:
// Str for S and N (N holds the normalised decimal), Bin for B, Strs for SS
// and NS, Bins for BS, Map for M, List for L, Bool for BOOL.
type Value struct {
	T    Type
	Str  string
	Bin  []byte
	Strs []string
	Bins [][]byte
	Map  map[string]Value
	List []Value
	Bool bool
}

// Item is a whole item (or a key): attribute name to value.
type Item map[string]Value

// Str returns an S value.
func Str(s string) Value { return Value{T: S, Str: s} }

// Num returns an N value from a decimal string, normalised; ok is false if
// the string is not a valid DynamoDB number.
func Num(s string) (Value, bool) {
	n, err := NormalizeNumber(s)
	if err != nil {
		return Value{}, false
	}
	return Value{T: N, Str: n}, true
}

// Bin returns a B value.
func Bin(b []byte) Value { return Value{T: B, Bin: b} }

// Equal reports deep equality (sets compare as sets).
func Equal(a, b Value) bool {
	if a.T != b.T {
		return false
	}
	switch a.T {
	case S:
		return a.Str == b.Str
	case N:
		return CompareNumbers(a.Str, b.Str) == 0
	case B:
		return bytes.Equal(a.Bin, b.Bin)
	case BOOL:
		return a.Bool == b.Bool
	case NULL:
		return true
	case SS:
		return sameStrSet(a.Strs, b.Strs, false)
	case NS:
		return sameStrSet(a.Strs, b.Strs, true)
	case BS:
		if len(a.Bins) != len(b.Bins) {
			return false
		}
		for _, x := range a.Bins {
			found := false
			for _, y := range b.Bins {
				if bytes.Equal(x, y) {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
		return true
	case L:
		if len(a.List) != len(b.List) {
			return false
		}
		for i := range a.List {
			if !Equal(a.List[i], b.List[i]) {
				return false
			}
		}
		return true
	case M:
		if len(a.Map) != len(b.Map) {
			return false
		}
		for k, v := range a.Map {
			w, ok := b.Map[k]
			if !ok || !Equal(v, w) {
				return false
			}
		}
		return true
	}
	return false
}

func sameStrSet(a, b []string, num bool) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		found := false
		for _, y := range b {
			if x == y || (num && CompareNumbers(x, y) == 0) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// Compare orders two scalar values of the same type (S, N or B); ok is false
// when they are not comparable.
func Compare(a, b Value) (int, bool) {
	if a.T != b.T {
		return 0, false
	}
	switch a.T {
	case S:
		return cmpStr(a.Str, b.Str), true
	case N:
		return CompareNumbers(a.Str, b.Str), true
	case B:
		return bytes.Compare(a.Bin, b.Bin), true
	}
	return 0, false
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Clone returns a deep copy.
func (v Value) Clone() Value {
	out := v
	if v.Bin != nil {
		out.Bin = append([]byte(nil), v.Bin...)
	}
	if v.Strs != nil {
		out.Strs = append([]string(nil), v.Strs...)
	}
	if v.Bins != nil {
		out.Bins = make([][]byte, len(v.Bins))
		for i, b := range v.Bins {
			out.Bins[i] = append([]byte(nil), b...)
		}
	}
	if v.Map != nil {
		out.Map = make(map[string]Value, len(v.Map))
		for k, x := range v.Map {
			out.Map[k] = x.Clone()
		}
	}
	if v.List != nil {
		out.List = make([]Value, len(v.List))
		for i, x := range v.List {
			out.List[i] = x.Clone()
		}
	}
	return out
}

// Clone returns a deep copy of the item.
func (it Item) Clone() Item {
	if it == nil {
		return nil
	}
	out := make(Item, len(it))
	for k, v := range it {
		out[k] = v.Clone()
	}
	return out
}

// Size is the value's size as DynamoDB counts it towards the 400 KB limit.
func (v Value) Size() int {
	switch v.T {
	case S:
		return len(v.Str)
	case N:
		return numberSize(v.Str)
	case B:
		return len(v.Bin)
	case SS:
		n := 0
		for _, s := range v.Strs {
			n += len(s)
		}
		return n
	case NS:
		n := 0
		for _, s := range v.Strs {
			n += numberSize(s)
		}
		return n
	case BS:
		n := 0
		for _, b := range v.Bins {
			n += len(b)
		}
		return n
	case M:
		n := 3
		for k, x := range v.Map {
			n += len(k) + x.Size() + 1
		}
		return n
	case L:
		n := 3
		for _, x := range v.List {
			n += x.Size() + 1
		}
		return n
	case BOOL, NULL:
		return 1
	}
	return 0
}

func numberSize(s string) int {
	digits := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			digits++
		}
	}
	return (digits+1)/2 + 1
}

// Size is the item's size: attribute names plus values.
func (it Item) Size() int {
	n := 0
	for k, v := range it {
		n += len(k) + v.Size()
	}
	return n
}

// SortedNames returns the item's attribute names in order.
func (it Item) SortedNames() []string {
	names := make([]string, 0, len(it))
	for k := range it {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
