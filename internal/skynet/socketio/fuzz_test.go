package socketio

import "testing"

func FuzzDecodePayload(f *testing.F) {
	f.Add([]byte(`2:40`))
	f.Add([]byte("12:42[\"a\",\"é😀\"]1:2"))
	f.Add([]byte{0, 2, 0xff, '4', '2', 1, 3, 0xff, 4, 1, 2})
	f.Add([]byte("6:b4AQID"))
	f.Fuzz(func(t *testing.T, b []byte) {
		pkts, err := DecodePayload(b)
		if err != nil {
			return
		}
		// string framing round-trips
		if len(b) > 0 && b[0] != 0 && b[0] != 1 {
			var enc []byte
			for _, p := range pkts {
				if p.Binary {
					return
				}
				enc = AppendPayloadPacket(enc, append([]byte{p.Type}, p.Data...))
			}
			again, err := DecodePayload(enc)
			if err != nil || len(again) != len(pkts) {
				t.Fatalf("re-encoded %q from %q: %v", enc, b, err)
			}
			for i := range again {
				if again[i].Type != pkts[i].Type || string(again[i].Data) != string(pkts[i].Data) {
					t.Fatalf("packet %d: %q != %q", i, again[i].Data, pkts[i].Data)
				}
			}
		}
	})
}

func FuzzDecodePacket(f *testing.F) {
	f.Add([]byte("2probe"))
	f.Add([]byte(`42["x"]`))
	f.Add([]byte("b4AQID"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodePacket(b)
		if err == nil && (p.Type < '0' || p.Type > '6') {
			t.Fatalf("type %q", p.Type)
		}
		DecodeBinaryPacket(b)
	})
}

func FuzzDecodeSIO(f *testing.F) {
	for _, s := range []string{`2["message",{"devices":"*"}]`, `21["whoami",{}]`, `312[null]`, `0/admin,`, `51-/nsp,3["x",{"_placeholder":true,"num":0}]`, `4"err"`, `1`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodeSIO(b)
		if err != nil {
			return
		}
		if p.Type == sioEvent {
			name, args, err := EventArgs(p.Data)
			if err != nil || name != p.Name || len(args) != len(p.Args) {
				t.Fatalf("event accepted but args differ: %q", b)
			}
		}
	})
}
