package jsonv

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// stdDecode is what jsonv must match: encoding/json into any, UseNumber.
func stdDecode(b []byte) (any, bool) {
	if !json.Valid(b) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	return v, true
}

func check(t *testing.T, in []byte) {
	t.Helper()
	show := in
	if len(show) > 80 {
		show = show[:80]
	}
	want, ok := stdDecode(in)
	got, err := Decode(in)
	if ok != (err == nil) {
		t.Fatalf("Decode(%q): err %v, encoding/json valid %v", show, err, ok)
	}
	if ok && !reflect.DeepEqual(got, want) {
		t.Fatalf("Decode(%q) = %#v, encoding/json %#v", show, got, want)
	}
	var name string
	stdNameErr := json.Unmarshal(in, &name)
	if got, ok := String(in); ok != (stdNameErr == nil) || got != name {
		t.Fatalf("String(%q) = %q %v, encoding/json %q %v", show, got, ok, name, stdNameErr)
	}
	var arr []json.RawMessage
	stdErr := json.Unmarshal(in, &arr)
	if raw, err := SplitRaw(in); (err == nil) != (stdErr == nil) || len(raw) != len(arr) {
		t.Fatalf("SplitRaw(%q) = %d %v, encoding/json %d %v", show, len(raw), err, len(arr), stdErr)
	}
	parts, err := Split(in)
	if (stdErr == nil) != (err == nil) {
		t.Fatalf("Split(%q): err %v, encoding/json %v", show, err, stdErr)
	}
	if err == nil {
		if len(parts) != len(arr) {
			t.Fatalf("Split(%q) = %d parts, encoding/json %d", show, len(parts), len(arr))
		}
		for i := range parts {
			if !bytes.Equal(parts[i], arr[i]) {
				t.Fatalf("Split(%q)[%d] = %q, encoding/json %q", show, i, parts[i], arr[i])
			}
		}
	}
}

var seeds = []string{
	`{"devices":"0f5f7c9e","payload":{"t":1,"p":"xx"}}`,
	`["message",{"a":[1,-2.5e+3,0,true,false,null,{}],"b":""}]`,
	` [ 1 , "x" ] `, `[]`, `{}`, `null`, `"s"`, `-0`, `1e5`, `0.1E-2`,
	`"\u00e9\ud83d\ude00\ud800x\udc00\u0041\n\t\"\\\/\b\f\r"`,
	"\"\xff\xfe raw \xed\xa0\x80\"", `{"a":1,"a":2}`,
	`01`, `1.`, `.5`, `-`, `+1`, `1e`, `[1,]`, `{"a":1,}`, `{"a" 1}`, `[1 2]`, `tru`, `nul`,
	`"\x"`, `"\u12"`, `"\u12g4"`, "\"a\x01\"", `"unterminated`, `[`, `{`, `{"a":`, `[1]x`, ``, ` `,
	strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
	"[" + strings.Repeat(`{"a":`, 9999) + "1" + strings.Repeat("}", 9999) + "]",
	"[" + strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000) + "]",
	strings.Repeat(`{"a":`, 100) + "1" + strings.Repeat("}", 100),
}

func TestMatchesEncodingJSON(t *testing.T) {
	for _, s := range seeds {
		check(t, []byte(s))
	}
}

// FuzzDecode: Decode and Split accept exactly what encoding/json accepts
// and produce the same values and elements.
func FuzzDecode(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) { check(t, in) })
}

func BenchmarkDecodeMessage(b *testing.B) {
	in := []byte(`{"devices":"0f5f7c9e-7c7b-4a37-9f3e-1d2c3b4a5e6f","payload":{"t":1732512345678,"seq":12,"p":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}`)
	b.Run("jsonv", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := Decode(in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, ok := stdDecode(in); !ok {
				b.Fatal("invalid")
			}
		}
	})
}

func checkEncode(t *testing.T, v any) {
	t.Helper()
	want, wantErr := json.Marshal(v)
	got, err := Append(nil, v)
	if (err == nil) != (wantErr == nil) || (err == nil && !bytes.Equal(got, want)) {
		t.Fatalf("Append(%#v) = %s %v, json.Marshal %s %v", v, got, err, want, wantErr)
	}
}

func TestAppendMatchesJSONMarshal(t *testing.T) {
	for _, s := range seeds {
		if v, err := Decode([]byte(s)); err == nil {
			checkEncode(t, v)
		}
	}
	for _, v := range []any{
		map[string]any{"b": 1.5, "a": []any{json.Number("12"), json.Number(""), int64(7), "x\u2028\u2029\x7f\x00<>&\xff"}, "": nil},
		map[string]any(nil), []any(nil), map[string]string{"z": "y"}, json.Number("1x"), func() {},
		map[string]any{"f": func() {}},
	} {
		checkEncode(t, v)
	}
}

// FuzzEncode: Append renders what json.Marshal renders, for any document
// Decode produces and for arbitrary strings.
func FuzzEncode(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkEncode(t, string(in))
		if v, err := Decode(in); err == nil {
			checkEncode(t, v)
		}
	})
}

func BenchmarkEncodeMessage(b *testing.B) {
	v, _ := Decode([]byte(`{"devices":"0f5f7c9e-7c7b-4a37-9f3e-1d2c3b4a5e6f","fromUuid":"1f5f7c9e-7c7b-4a37-9f3e-1d2c3b4a5e6f","payload":{"t":1732512345678,"seq":12,"p":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}`))
	b.Run("jsonv", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for i := 0; i < b.N; i++ {
			buf, _ = Append(buf[:0], v)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			json.Marshal(v)
		}
	})
}
