package wsock

import "testing"

func FuzzParseFrame(f *testing.F) {
	f.Add(maskFrame(OpText, true, []byte("hello")))
	f.Add(maskFrame(OpPing, true, nil))
	f.Add(maskFrame(OpBinary, false, make([]byte, 200)))
	f.Add([]byte{0x81, 0xff, 0, 0, 0, 0, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		for len(b) > 0 {
			fr, n, err := ParseFrame(b, 1<<16)
			if err != nil || n == 0 {
				return
			}
			if n > len(b) || len(fr.Payload) > n {
				t.Fatalf("n=%d len=%d payload=%d", n, len(b), len(fr.Payload))
			}
			b = b[n:]
		}
	})
}
