package attr

import (
	"bytes"
	"encoding/json"
	"math/rand"
	"sort"
	"strconv"
	"testing"
)

func TestNormalizeNumber(t *testing.T) {
	cases := map[string]string{
		"21.50": "21.5", "0021": "21", "-0": "0", "0.000": "0", "1e3": "1000", "1.5E-3": "0.0015",
		"-12.340e1": "-123.4", "+7": "7", ".5": "0.5", "5.": "5", "1e125": "1" + string(bytes.Repeat([]byte("0"), 125)),
	}
	for in, want := range cases {
		got, err := NormalizeNumber(in)
		if err != nil || got != want {
			t.Errorf("%q -> %q, %v; want %q", in, got, err, want)
		}
	}
	bad := map[string]error{"": ErrNotNumber, "abc": ErrNotNumber, "1e": ErrNotNumber, "1.2.3": ErrNotNumber,
		"1e126": ErrOverflow, "1e-131": ErrUnderflow, "123456789012345678901234567890123456789": ErrPrecision}
	for in, want := range bad {
		if _, err := NormalizeNumber(in); err != want {
			t.Errorf("%q: err %v want %v", in, err, want)
		}
	}
}

func TestAddNumbers(t *testing.T) {
	cases := [][4]string{{"1.5", "2", "+", "3.5"}, {"0.1", "0.2", "+", "0.3"}, {"5", "7", "-", "-2"}, {"-1e10", "1e10", "+", "0"}, {"1e-5", "100", "+", "100.00001"}}
	for _, c := range cases {
		got, err := AddNumbers(c[0], c[1], c[2] == "-")
		if err != nil || got != c[3] {
			t.Errorf("%s %s %s = %q, %v; want %s", c[0], c[2], c[1], got, err, c[3])
		}
	}
}

// The key encoding must sort exactly as the values compare.
func TestKeyOrder(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	var nums []string
	for i := 0; i < 2000; i++ {
		f := (r.Float64() - 0.5) * float64(r.Intn(1e6))
		s := strconv.FormatFloat(f, 'g', 1+r.Intn(12), 64)
		if r.Intn(10) == 0 {
			s = strconv.Itoa(r.Intn(100) - 50)
		}
		n, err := NormalizeNumber(s)
		if err != nil {
			t.Fatal(s, err)
		}
		nums = append(nums, n)
	}
	nums = append(nums, "0", "-0.001", "0.001", "10", "100", "1", "-1", "-10", "-100", "99.99999")
	byValue := append([]string(nil), nums...)
	sort.SliceStable(byValue, func(i, j int) bool { return CompareNumbers(byValue[i], byValue[j]) < 0 })
	byKey := append([]string(nil), nums...)
	sort.SliceStable(byKey, func(i, j int) bool {
		return bytes.Compare(AppendKey(nil, Value{T: N, Str: byKey[i]}), AppendKey(nil, Value{T: N, Str: byKey[j]})) < 0
	})
	for i := range byValue {
		if CompareNumbers(byValue[i], byKey[i]) != 0 {
			t.Fatalf("order differs at %d: value order %s, key order %s", i, byValue[i], byKey[i])
		}
	}
	// strings with NUL bytes and prefixes; composite keys stay ordered by the first component
	strs := []string{"", "a", "a\x00", "a\x00b", "a\x01", "ab", "b", "\xff"}
	for i := 1; i < len(strs); i++ {
		a := AppendKey(AppendKey(nil, Str(strs[i-1])), Str("zzz"))
		b := AppendKey(AppendKey(nil, Str(strs[i])), Str(""))
		if bytes.Compare(a, b) >= 0 {
			t.Fatalf("%q+zzz !< %q+''", strs[i-1], strs[i])
		}
	}
}

func TestJSONRoundTrip(t *testing.T) {
	in := `{"a":{"S":"x\"y\n"},"b":{"N":"01.50"},"c":{"B":"AQID"},"d":{"SS":["p","q"]},"e":{"NS":["1","2.0"]},` +
		`"f":{"BS":["AQ=="]},"g":{"M":{"h":{"BOOL":true},"i":{"NULL":true}}},"j":{"L":[{"S":""},{"N":"-0"}]}}`
	var it Item
	if err := json.Unmarshal([]byte(in), &it); err != nil {
		t.Fatal(err)
	}
	if it["b"].Str != "1.5" || it["e"].Strs[1] != "2" || !bytes.Equal(it["c"].Bin, []byte{1, 2, 3}) {
		t.Fatalf("decoded %v", it)
	}
	out := AppendItemJSON(nil, it)
	var back Item
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	stored, err := DecodeItem(EncodeItem(nil, back))
	if err != nil {
		t.Fatal(err)
	}
	if !Equal(Value{T: M, Map: it}, Value{T: M, Map: stored}) {
		t.Fatalf("round trip changed the item:\n%v\n%v", it, stored)
	}
	bad := map[string]string{
		`{}`:                "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
		`{"S":"a","N":"1"}`: "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes",
		`{"SS":[]}`:         "One or more parameter values were invalid: An string set  may not be empty",
		`{"SS":["a","a"]}`:  "One or more parameter values were invalid: Input collection [a, a] contains duplicates.",
		`{"N":"x"}`:         "The parameter cannot be converted to a numeric value: x",
		`{"NULL":false}`:    "One or more parameter values were invalid: Null attribute value types must have the value of true",
	}
	for in, msg := range bad {
		var v Value
		err := json.Unmarshal([]byte(in), &v)
		if err == nil || err.Error() != msg {
			t.Errorf("%s: got %v want %s", in, err, msg)
		}
	}
}

// checkCanonicalInt: NormalizeNumber's shortcut for canonical integers
// agrees with the full normalisation.
func checkCanonicalInt(t *testing.T, s string) {
	t.Helper()
	if !canonicalInt(s) {
		return
	}
	d, err := parseDecimal(s)
	if err == nil {
		err = d.check()
	}
	if err != nil || d.String() != s {
		t.Fatalf("canonical integer %q: full normalisation %q, %v", s, d.String(), err)
	}
}

func TestCanonicalInt(t *testing.T) {
	for _, s := range []string{"0", "7", "-7", "1200", "-1000000", "12345678901234567890123456789012345678", "-99999999999999999999999999999999999999"} {
		if !canonicalInt(s) {
			t.Errorf("%q not taken", s)
		}
		checkCanonicalInt(t, s)
	}
	for _, s := range []string{"", "-", "-0", "00", "01", "+1", "1.0", "1e3", "123456789012345678901234567890123456789", " 1", "1 "} {
		if canonicalInt(s) {
			t.Errorf("%q taken", s)
		}
	}
}

func FuzzNumber(f *testing.F) {
	for _, s := range []string{"1", "-1.5e3", "0.0001", "1e125", "abc", ".", "-", "1e-130"} {
		f.Add(s, "2.5")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		checkCanonicalInt(t, a)
		na, err := NormalizeNumber(a)
		if err != nil {
			return
		}
		again, err := NormalizeNumber(na)
		if err != nil || again != na {
			t.Fatalf("normalise not idempotent: %q -> %q -> %q (%v)", a, na, again, err)
		}
		nb, err := NormalizeNumber(b)
		if err != nil {
			return
		}
		c := CompareNumbers(na, nb)
		k := bytes.Compare(AppendKey(nil, Value{T: N, Str: na}), AppendKey(nil, Value{T: N, Str: nb}))
		if c != k {
			t.Fatalf("compare(%s,%s)=%d but key order %d", na, nb, c, k)
		}
		AddNumbers(na, nb, false)
	})
}

func FuzzDecodeValue(f *testing.F) {
	f.Add([]byte(`{"M":{"a":{"L":[{"N":"1"},{"SS":["x"]}]}}}`))
	f.Add([]byte(`{"BS":["AQ=="]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var v Value
		if err := json.Unmarshal(data, &v); err != nil {
			return
		}
		out := AppendJSON(nil, v)
		var back Value
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("re-decoding %s: %v", out, err)
		}
		if !Equal(v, back) {
			t.Fatalf("round trip changed %s", data)
		}
		st, err := DecodeItem(EncodeItem(nil, Item{"k": v}))
		if err != nil || !Equal(st["k"], v) {
			t.Fatalf("storage round trip failed: %v", err)
		}
		checkStored(t, Item{"k": v})
	})
}

// checkStored: the storage-form size and JSON rendering agree with the
// in-memory ones.
func checkStored(t *testing.T, it Item) {
	t.Helper()
	enc := EncodeItem(nil, it)
	if n, err := StoredSize(enc); err != nil || n != it.Size() {
		t.Fatalf("StoredSize = %d, %v; Size = %d for %v", n, err, it.Size(), it)
	}
	got, err := AppendStoredJSON(nil, enc)
	if err != nil {
		t.Fatal(err)
	}
	if want := AppendItemJSON(nil, it); !bytes.Equal(got, want) {
		t.Fatalf("stored JSON\n%s\nwant\n%s", got, want)
	}
	for _, name := range it.SortedNames() {
		part, err := DecodeAttrs(enc, name, "not-there")
		if err != nil || len(part) != 1 || !Equal(part[name], it[name]) {
			t.Fatalf("DecodeAttrs(%q) = %v, %v", name, part, err)
		}
	}
}

func TestStoredJSON(t *testing.T) {
	in := `{"a":{"S":"x\"y"},"b":{"N":"1.5"},"c":{"B":"AQID"},"d":{"SS":["p","q"]},"e":{"NS":["1","2"]},` +
		`"f":{"BS":["AQ=="]},"g":{"M":{"h":{"BOOL":true},"i":{"NULL":true}}},"j":{"L":[{"S":""},{"N":"0"}]}}`
	var it Item
	if err := json.Unmarshal([]byte(in), &it); err != nil {
		t.Fatal(err)
	}
	got, err := AppendStoredJSON(nil, EncodeItem(nil, it))
	if err != nil {
		t.Fatal(err)
	}
	if want := AppendItemJSON(nil, it); !bytes.Equal(got, want) {
		t.Fatalf("stored JSON\n%s\nwant\n%s", got, want)
	}
	checkStored(t, it)
	checkStored(t, Item{"u": Str("\u2028\x01é\xff"), "n": {T: NS, Strs: []string{"-1.5", "100"}}, "l": {T: L, List: []Value{}}})
}

// FuzzItemFastPath: whenever the fast item decoder accepts an input, the
// general decoder must accept it too and produce the same item.
func FuzzItemFastPath(f *testing.F) {
	for _, s := range []string{
		`{"a":{"S":"x"},"b":{"N":"01.50"},"c":{"B":"AQID"},"d":{"SS":["p","q"]},"e":{"NS":["1","2.0"]}}`,
		`{"f":{"BS":["AQ=="]},"g":{"M":{"h":{"BOOL":true},"i":{"NULL":true}}},"j":{"L":[{"S":""},{"N":"-0"}]}}`,
		`{"a":{"S":"x"},"a":{"S":"y"}}`, `{"a":{"s":"x"}}`, `{"a":{"SS":[]}}`, `{ "k" : { "L" : [ ] } }`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fast, ok := fastItem(data)
		if !ok {
			return
		}
		var slow map[string]Value
		if err := json.Unmarshal(data, &slow); err != nil {
			t.Fatalf("fast path accepted %q, general decoder: %v", data, err)
		}
		if !Equal(Value{T: M, Map: fast}, Value{T: M, Map: slow}) {
			t.Fatalf("decoders disagree on %q:\n%v\n%v", data, fast, slow)
		}
	})
}
