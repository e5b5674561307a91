package codec

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/vmihailenco/msgpack/v5"

	"skyhub/internal/errs"
	"skyhub/internal/wamp"
)

const maxID = uint64(1) << 53

// sample is a CALL with every kind of value WAMP payloads carry.
func sample() []any {
	return []any{int64(48), maxID, map[string]any{"receive_progress": true, "timeout": int64(1000)},
		"com.example.add",
		[]any{int64(-5), maxID - 1, 3.25, "héllo \"q\" \\ \n\t\x01 \u2028", []byte{0, 1, 2, 0xFF}, nil, false,
			[]any{}, map[string]any{}, uint64(math.MaxUint64), int64(math.MinInt64)},
		map[string]any{"bin": []byte("x"), "nested": map[string]any{"l": []any{int64(1), "a"}}, "": "empty key"}}
}

func TestRoundTripEveryCodec(t *testing.T) {
	for _, c := range All() {
		t.Run(c.Name(), func(t *testing.T) {
			b, err := c.Append([]byte("prefix"), sample())
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(b, []byte("prefix")) {
				t.Fatal("Append must append to dst")
			}
			got, err := c.Decode(b[len("prefix"):])
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(normalize(got), normalize(sample())) {
				t.Fatalf("round trip\n got %#v\nwant %#v", normalize(got), normalize(sample()))
			}
			// IDs up to 2^53 come back as exact integers, not floats.
			if got[1] != int64(maxID) && got[1] != maxID {
				t.Fatalf("id decoded as %T %v", got[1], got[1])
			}
			m, err := wamp.FromList(got)
			if err != nil {
				t.Fatal(err)
			}
			if call := m.(*wamp.Call); uint64(call.Request) != maxID {
				t.Fatalf("request id %d", call.Request)
			}
		})
	}
}

func TestJSONBinaryConvention(t *testing.T) {
	b, err := JSON{}.Append(nil, []any{int64(1), []byte{0xde, 0xad}})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `[1,"\u00003q0="]` {
		t.Fatalf("encoded %s", b)
	}
	for _, in := range []string{`[1,"\u00003q0="]`, `[1,"\u00003q0"]`} {
		l, err := JSON{}.Decode([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(l[1].([]byte), []byte{0xde, 0xad}) {
			t.Fatalf("%s decoded %#v", in, l[1])
		}
	}
	// A NUL-prefixed string that is not base64 is a decoding error.
	if _, err := (JSON{}).Decode([]byte(`[1,"\u0000***"]`)); err == nil {
		t.Fatal("bad base64 accepted")
	}
	// Ordinary strings stay strings; named types encode by kind.
	b, err = JSON{}.Append(nil, []any{wamp.ID(7), wamp.URI("a.b"), map[string]wamp.ID{"x": 1}})
	if err != nil || string(b) != `[7,"a.b",{"x":1}]` {
		t.Fatalf("named types: %s %v", b, err)
	}
}

func TestJSONNumbers(t *testing.T) {
	l, err := JSON{}.Decode([]byte(`[9007199254740992, 9007199254740993, 18446744073709551615, -1, 1.5, 1e2, -0, 1E400]`))
	if err == nil {
		t.Fatal("1E400 accepted")
	}
	l, err = JSON{}.Decode([]byte(`[9007199254740992, 9007199254740993, 18446744073709551615, -1, 1.5, 1e2, -0]`))
	if err != nil {
		t.Fatal(err)
	}
	want := []any{int64(1 << 53), int64(1<<53 + 1), uint64(math.MaxUint64), int64(-1), 1.5, 100.0, int64(0)}
	if !reflect.DeepEqual(l, want) {
		t.Fatalf("got %#v", l)
	}
	if _, err := (JSON{}).Append(nil, []any{math.NaN()}); err == nil {
		t.Fatal("NaN encoded")
	}
}

func TestMsgPackStrBin(t *testing.T) {
	b, err := MsgPack{}.Append(nil, []any{"ab", []byte("ab")})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, []byte{0x92, 0xa2, 'a', 'b', 0xc4, 2, 'a', 'b'}) {
		t.Fatalf("encoded %x", b)
	}
	// The reference library decodes our bytes to the same values.
	var ref []any
	if err := msgpack.Unmarshal(b, &ref); err != nil || ref[0] != "ab" || !bytes.Equal(ref[1].([]byte), []byte("ab")) {
		t.Fatalf("reference decode: %#v %v", ref, err)
	}
}

func TestDecodeErrors(t *testing.T) {
	cases := []struct {
		c    Codec
		in   string
		want string
	}{
		{JSON{}, ``, "end of input"},
		{JSON{}, `{}`, "not a list"},
		{JSON{}, `[1,`, "end of input"},
		{JSON{}, `[1] x`, "trailing"},
		{JSON{}, `[1,"a\qb"]`, "escape"},
		{JSON{}, `[01]`, "expected"},
		{JSON{}, `["\ud800"]`, ""}, // lone surrogate: replaced, accepted
		{JSON{}, strings.Repeat("[", MaxDepth+5) + strings.Repeat("]", MaxDepth+5), "deeply"},
		{JSON{}, `[{1:2}]`, "string key"},
		{MsgPack{}, "", "end of input"},
		{MsgPack{}, "\x80", "not a list"},
		{MsgPack{}, "\xdd\xff\xff\xff\xff", "end of input"}, // 4 billion elements claimed
		{MsgPack{}, "\xdf\xff\xff\xff\xff", "end of input"},
		{MsgPack{}, "\x91\xc1", "invalid type"},
		{MsgPack{}, "\x91\xd4\x01\x02", "extension"},
		{MsgPack{}, "\x91\x81\x01\x02", "key is not a string"},
		{MsgPack{}, "\x90\x90", "trailing"},
		{MsgPack{}, strings.Repeat("\x91", MaxDepth+5) + "\x01", "deeply"},
		{CBOR{}, "", "invalid CBOR"},
		{CBOR{}, "\xa0", "not a list"},
		{CBOR{}, "\x9b\x00\x00\x00\x01\x00\x00\x00\x00", "invalid CBOR"},
		{CBOR{}, "\x81\xa1\x01\x02", "invalid CBOR"},
		{CBOR{}, strings.Repeat("\x81", MaxDepth+5) + "\x01", "invalid CBOR"},
		{CBOR{}, "\x80\x80", "invalid CBOR"},
	}
	for _, tc := range cases {
		_, err := tc.c.Decode([]byte(tc.in))
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s %q: %v", tc.c.Name(), tc.in, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %q: error %v, want %q", tc.c.Name(), tc.in, err, tc.want)
			continue
		}
		if errs.KindOf(err) != errs.Invalid {
			t.Errorf("%s %q: kind %v", tc.c.Name(), tc.in, errs.KindOf(err))
		}
	}
}

func TestBatchFraming(t *testing.T) {
	js, _ := ParseSubprotocol("wamp.2.json.batched")
	b, err := js.AppendFrame(nil, []any{int64(1)})
	if err != nil || string(b) != "[1]\x1e" {
		t.Fatalf("json batch %q %v", b, err)
	}
	mp, _ := ParseSubprotocol("wamp.2.msgpack.batched")
	b, err = mp.AppendFrame(nil, []any{int64(1)})
	if err != nil || !bytes.Equal(b, []byte{0, 0, 0, 2, 0x91, 1}) {
		t.Fatalf("msgpack batch %x %v", b, err)
	}
	for _, tc := range []struct {
		sp   string
		in   string
		want string
	}{
		{"wamp.2.json.batched", "", "empty batch"},
		{"wamp.2.json.batched", "[1]", "not terminated"},
		{"wamp.2.cbor.batched", "", "empty batch"},
		{"wamp.2.cbor.batched", "\x00\x00", "truncated"},
		{"wamp.2.msgpack.batched", "\x00\x00\x00\x05\x91", "past the end"},
	} {
		sp, ok := ParseSubprotocol(tc.sp)
		if !ok {
			t.Fatal(tc.sp)
		}
		err := sp.Split([]byte(tc.in), func([]byte) error { return nil })
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %q: %v", tc.sp, tc.in, err)
		}
	}
	if len(Subprotocols()) != 6 {
		t.Fatal("six subprotocols expected")
	}
	if _, ok := ParseSubprotocol("wamp.2.ubjson"); ok {
		t.Fatal("ubjson is not served")
	}
}

// equalValues is reflect.DeepEqual after normalize, with NaN equal to NaN.
func equalValues(a, b any) bool {
	a, b = normalize(a), normalize(b)
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		return ok && (x == y || math.IsNaN(x) && math.IsNaN(y))
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equalValues(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !equalValues(v, w) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

// fuzzRoundTrip checks that whatever c decodes it re-encodes, and that the
// re-encoding decodes to the same value, through every codec that can
// carry it.
func fuzzRoundTrip(t *testing.T, c Codec, data []byte) []any {
	l, err := c.Decode(data)
	if err != nil {
		if errs.KindOf(err) != errs.Invalid {
			t.Fatalf("decode error of kind %v: %v", errs.KindOf(err), err)
		}
		return nil
	}
	for _, o := range All() {
		b, err := o.Append(nil, l)
		if err != nil {
			if o.Name() == "json" && jsonUnrepresentable(l) {
				continue // JSON cannot carry NaN/Inf or NUL-leading strings
			}
			if _, isCBOR := c.(CBOR); isCBOR {
				continue // CBOR tags and the like need not cross codecs
			}
			t.Fatalf("%s re-encode of %#v: %v", o.Name(), l, err)
		}
		back, err := o.Decode(b)
		if err != nil {
			t.Fatalf("%s decode of own encoding %x: %v", o.Name(), b, err)
		}
		if o.Name() == c.Name() || !containsNonFinite(l) && !(o.Name() == "json" && jsonUnrepresentable(l)) {
			if _, isCBOR := c.(CBOR); !isCBOR || o.Name() == "cbor" {
				if !equalValues(back, l) {
					t.Fatalf("%s round trip\n got %#v\nwant %#v", o.Name(), back, l)
				}
			}
		}
	}
	return l
}

// jsonUnrepresentable reports values JSON cannot carry exactly: NaN and
// infinities, strings starting with NUL, invalid UTF-8.
func jsonUnrepresentable(v any) bool {
	switch x := v.(type) {
	case string:
		return len(x) > 0 && x[0] == 0 || !utf8.ValidString(x)
	case []any:
		for _, e := range x {
			if jsonUnrepresentable(e) {
				return true
			}
		}
	case map[string]any:
		for k, e := range x {
			if !utf8.ValidString(k) || jsonUnrepresentable(e) {
				return true
			}
		}
	}
	return containsNonFinite(v)
}

func containsNonFinite(v any) bool {
	switch x := v.(type) {
	case float64:
		return math.IsNaN(x) || math.IsInf(x, 0)
	case float32:
		return containsNonFinite(float64(x))
	case []any:
		for _, e := range x {
			if containsNonFinite(e) {
				return true
			}
		}
	case map[string]any:
		for _, e := range x {
			if containsNonFinite(e) {
				return true
			}
		}
	}
	return false
}

func addSeeds(f *testing.F, c Codec) {
	for _, l := range [][]any{sample(), {int64(1), "realm1", map[string]any{"roles": map[string]any{"caller": map[string]any{}}}}, {int64(999)}, {}} {
		b, err := c.Append(nil, l)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzJSON(f *testing.F) {
	addSeeds(f, JSON{})
	f.Add([]byte(`[1,"\u0000AAEC",{"a":[1.5e3,-0.0,"\ud83d\ude00"]}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		l := fuzzRoundTrip(t, JSON{}, data)
		valid := json.Valid(data)
		if l != nil && !valid {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		if l == nil && valid {
			// encoding/json accepts it: our rejection must be for a WAMP
			// reason (not a list, bad binary string, depth, number range).
			var v any
			dec := json.NewDecoder(bytes.NewReader(data))
			dec.UseNumber()
			if err := dec.Decode(&v); err == nil {
				if _, isList := v.([]any); isList && !strings.Contains(string(data), `\u0000`) &&
					!strings.ContainsAny(string(data), "eE") && bytes.Count(data, []byte("[")) < MaxDepth && bytes.Count(data, []byte("{")) < MaxDepth {
					if _, err := (JSON{}).Decode(data); err != nil {
						t.Fatalf("rejected valid JSON list %q: %v", data, err)
					}
				}
			}
		}
	})
}

func FuzzMsgPack(f *testing.F) {
	addSeeds(f, MsgPack{})
	f.Add([]byte("\x93\xdc\x00\x01\x01\xde\x00\x01\xa1a\xc5\x00\x01x\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l := fuzzRoundTrip(t, MsgPack{}, data)
		if l == nil {
			return
		}
		// Differential: the reference library agrees on what we accepted.
		var ref any
		if err := msgpack.Unmarshal(data, &ref); err != nil {
			t.Fatalf("reference rejects %x that we accepted: %v", data, err)
		}
		if !equalValues(refNormalize(ref), l) {
			t.Fatalf("reference decodes %x to %#v, we to %#v", data, ref, l)
		}
	})
}

// refNormalize maps the reference library's sized integers and float32 to
// our int64/uint64/float64.
func refNormalize(v any) any {
	switch x := v.(type) {
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case float32:
		return float64(x)
	case []any:
		for i := range x {
			x[i] = refNormalize(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = refNormalize(x[k])
		}
	}
	return v
}

func FuzzCBOR(f *testing.F) {
	addSeeds(f, CBOR{})
	f.Add([]byte("\x9f\x01\xbf\x61a\xf9\x3c\x00\xff\x5f\x41x\xff\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRoundTrip(t, CBOR{}, data)
	})
}

func FuzzBatch(f *testing.F) {
	for _, sp := range Subprotocols() {
		b, _ := sp.AppendFrame(nil, sample())
		b, _ = sp.AppendFrame(b, []any{int64(1)})
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, sp := range Subprotocols() {
			if !sp.Batched {
				continue
			}
			total := 0
			err := sp.Split(data, func(m []byte) error {
				total += len(m)
				_, err := sp.Codec.Decode(m)
				return err
			})
			if err == nil && total > len(data) {
				t.Fatalf("%s split out more bytes than it got", sp)
			}
		}
	})
}

func TestCBORTagsBecomePlainData(t *testing.T) {
	// [1, 64(h'010203'), 1(0), 2(h'010000000000000000'), 55799([])]
	in := []byte{0x85, 0x01, 0xd8, 0x40, 0x43, 1, 2, 3, 0xc1, 0x00, 0xc2, 0x49, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0xd9, 0xd9, 0xf7, 0x80}
	l, err := CBOR{}.Decode(in)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(l[1].([]byte), []byte{1, 2, 3}) {
		t.Fatalf("typed array: %#v", l[1])
	}
	if s, ok := l[2].(string); !ok || !strings.HasPrefix(s, "1970-01-01T00:00:00") {
		t.Fatalf("epoch time: %#v", l[2])
	}
	if l[3] != uint64(1<<64-1)+0 && l[3] != float64(1<<64) {
		t.Fatalf("bignum 2^64: %#v", l[3])
	}
	if _, ok := l[4].([]any); !ok {
		t.Fatalf("self-described: %#v", l[4])
	}
	if _, err := (JSON{}).Append(nil, l); err != nil {
		t.Fatalf("tag-free result must encode in JSON: %v", err)
	}
}
