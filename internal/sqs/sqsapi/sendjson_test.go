package sqsapi

import (
	"encoding/json"
	"strings"
	"testing"
)

// The hand-written SendMessage answer must be byte-for-byte what
// encoding/json renders, escapes included.
func TestSendResultJSONMatchesEncodingJSON(t *testing.T) {
	for _, r := range []sendResultJSON{
		{MessageID: "0b1f4a2e-8d3c-4f5e-9a6b-7c8d9e0f1a2b", MD5OfMessageBody: "d41d8cd98f00b204e9800998ecf8427e"},
		{ID: "e-1", MessageID: "m", MD5OfMessageBody: "x", MD5OfMessageAttributes: "a", MD5OfMessageSystemAttributes: "s", SequenceNumber: "18"},
		{ID: `quo"te\back<tag>&amp`, MessageID: "tab\there\x01", MD5OfMessageBody: "é €"},
		{},
	} {
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.appendTo(nil); string(got) != string(want) {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	}
}

func TestReadBody(t *testing.T) {
	for _, c := range []struct {
		body     string
		declared int64
		want     string
		err      bool
	}{
		{"hello", 5, "hello", false},
		{"hello", -1, "hello", false},
		{"", 0, "", false},
		{"hello", 3, "hello", false}, // more than declared: all of it (the limit still bounds it)
		{"he", 5, "", true},          // truncated
		{"hello", 100, "hello", false},
	} {
		got, err := readBody(strings.NewReader(c.body), c.declared, 10)
		if (err != nil) != c.err || string(got) != c.want {
			t.Errorf("readBody(%q, %d) = %q, %v", c.body, c.declared, got, err)
		}
	}
}

// BenchmarkDecodeJSON: a SendMessage body through the reflection-free path
// and through encoding/json.
func BenchmarkDecodeJSON(b *testing.B) {
	body := []byte(`{"QueueUrl":"http://127.0.0.1:4566/000000000000/bench","MessageBody":"` + strings.Repeat("x", 200) + `"}`)
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := decodeJSON(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			in := &input{}
			if err := json.Unmarshal(body, in); err != nil {
				b.Fatal(err)
			}
		}
	})
}
