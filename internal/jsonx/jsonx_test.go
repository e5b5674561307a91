package jsonx

import (
	"bytes"
	"encoding/json"
	"testing"
)

func marshalNoHTML(s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func check(t *testing.T, s string) {
	t.Helper()
	want, _ := json.Marshal(s)
	if got := AppendString([]byte("x"), s); !bytes.Equal(got[1:], want) || got[0] != 'x' {
		t.Fatalf("AppendString(%q) = %s, json.Marshal %s", s, got[1:], want)
	}
	if got, want := AppendStringNoHTML(nil, s), marshalNoHTML(s); !bytes.Equal(got, want) {
		t.Fatalf("AppendStringNoHTML(%q) = %s, encoder %s", s, got, want)
	}
}

func TestLikeEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `q"b\s`, "<a&b>", "\b\f\n\r\t\x00\x1f\x7f",
		"é ünïcode 日本", "\u2028\u2029", "bad \xff\xfe utf8", "\xe2\x80", "end\\"} {
		check(t, s)
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a<b>", "\x00\u2028\xff", `"\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { check(t, s) })
}
