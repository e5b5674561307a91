package wsock

import "testing"

func BenchmarkParseFrame(b *testing.B) {
	frame := maskFrame(OpText, true, []byte(`42["message",{"devices":"0f5f7c9e-7c7b-4a37-9f3e-1d2c3b4a5e6f","payload":{"t":1,"p":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}]`))
	buf := make([]byte, len(frame))
	b.SetBytes(int64(len(frame)))
	for i := 0; i < b.N; i++ {
		copy(buf, frame)
		if _, n, err := ParseFrame(buf, 1<<20); err != nil || n != len(frame) {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendFrame(b *testing.B) {
	p := make([]byte, 160)
	var dst []byte
	for i := 0; i < b.N; i++ {
		dst = AppendFrame(dst[:0], OpText, p)
	}
}
