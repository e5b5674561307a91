package socketio

import (
	"strings"
	"testing"
)

func TestDecodePayload(t *testing.T) {
	for _, c := range []struct {
		name string
		in   string
		want []string // type+data; "b" prefix marks binary data
		bad  bool
	}{
		{"string", "2:401:2", []string{"40", "2"}, false},
		{"utf16 lengths", "6:4\"é😀\"1:3", []string{"4\"é😀\"", "3"}, false},
		{"base64", "6:b4AQID", []string{"b4\x01\x02\x03"}, false},
		{"binary framing", "\x00\x02\xff42\x01\x04\xff\x04\x01\x02\x03", []string{"42", "b4\x01\x02\x03"}, false},
		{"short", "9:42", nil, true},
		{"no colon", "42", nil, true},
		{"zero length", "0:", nil, true},
		{"bad type", "2:9x", nil, true},
		{"split surrogate", "1:😀", nil, true},
		{"binary bad kind", "\x00\x02\xff42\x07", nil, true},
		{"binary too long", "\x01\x09\xff\x04", nil, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			pkts, err := DecodePayload([]byte(c.in))
			if c.bad {
				if err == nil {
					t.Fatalf("accepted: %+v", pkts)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range pkts {
				s := string([]byte{p.Type}) + string(p.Data)
				if p.Binary {
					s = "b" + s
				}
				got = append(got, s)
			}
			if strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Fatalf("got %q want %q", got, c.want)
			}
		})
	}
}
