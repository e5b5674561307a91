package sio09

import "testing"

func FuzzDecode(f *testing.F) {
	for _, s := range []string{"1::", "2::", `5:::{"name":"x","args":[1]}`, `5:3+::{"name":"x"}`, `6:::3+[1]`, `6:::4`, "7:::1+0", "3::/chat:hi"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := Decode(b)
		if err != nil {
			return
		}
		if fr.Type < 0 || fr.Type > 8 {
			t.Fatalf("type %d", fr.Type)
		}
		if fr.Type == TypeAck && fr.AckID < 0 {
			t.Fatalf("ack without id: %q", b)
		}
	})
}

func FuzzDecodePayload(f *testing.F) {
	f.Add([]byte("\ufffd3\ufffd2::\ufffd3\ufffd1::"))
	f.Add([]byte("5:::{}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		frames, err := DecodePayload(b)
		if err != nil || len(frames) < 2 {
			return
		}
		again, err := DecodePayload(AppendPayload(nil, frames))
		if err != nil || len(again) != len(frames) {
			t.Fatalf("round trip of %q: %v", b, err)
		}
	})
}
