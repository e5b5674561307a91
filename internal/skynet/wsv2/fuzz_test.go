package wsv2

import (
	"encoding/json"
	"testing"
)

func FuzzDecodeFrame(f *testing.F) {
	for _, s := range []string{`["identity",{"uuid":"a","token":"b"}]`, `["whoami",null]`, `["update",[{"uuid":"a"},{"$set":{"c":1}}]]`, `[]`, `x`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		name, args, err := DecodeFrame(b)
		if err != nil {
			return
		}
		as := make([]any, len(args))
		for i, a := range args {
			as[i] = a
		}
		enc, err := EncodeFrame(name, as)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		n2, _, err := DecodeFrame(enc)
		if err != nil || n2 != name {
			t.Fatalf("round trip %q -> %q", b, enc)
		}
		_ = json.Valid(enc)
	})
}
