package socketio

import "testing"

var msg = []byte(`42["message",{"devices":"0f5f7c9e-7c7b-4a37-9f3e-1d2c3b4a5e6f","payload":{"t":1,"p":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}]`)

func BenchmarkDecodeSIO(b *testing.B) {
	for i := 0; i < b.N; i++ {
		p, err := DecodePacket(msg)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := DecodeSIO(p.Data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodePayload(b *testing.B) {
	var body []byte
	for i := 0; i < 10; i++ {
		body = AppendPayloadPacket(body, msg)
	}
	b.SetBytes(int64(len(body)))
	for i := 0; i < b.N; i++ {
		if _, err := DecodePayload(body); err != nil {
			b.Fatal(err)
		}
	}
}
