package kinesis

import (
	"fmt"
	"math/big"
	"math/bits"
	"strconv"
)

// Sequence numbers follow the layout AWS uses (as kinesalite documented it):
// the decimal value of a 47-hex-digit number
//
//	2 | shard creation secs (9) | shard index low nibble (1) | counter (16) |
//	00 | arrival secs (9) | shard index (8) | 2
//
// so numbers of one shard compare numerically in counter order.
type seqNum struct {
	created uint64 // shard creation, epoch seconds
	counter uint64
	arrival uint64 // epoch seconds
	shard   uint32
}

func (s seqNum) String() string {
	// Build the 188-bit value in three words, then print it in decimal by
	// long division by 10^19 (no big.Int on the write path).
	var w [3]uint64 // w[0] most significant
	push := func(v uint64, n uint) {
		w[0] = w[0]<<n | w[1]>>(64-n)
		w[1] = w[1]<<n | w[2]>>(64-n)
		w[2] = w[2]<<n | v
	}
	push(2, 4)
	push(s.created&0xfffffffff, 36)
	push(uint64(s.shard&0xf), 4)
	push(s.counter>>32, 32)
	push(s.counter&0xffffffff, 32)
	push(0, 8)
	push(s.arrival&0xfffffffff, 36)
	push(uint64(s.shard), 32)
	push(2, 4)
	const tenPow19 = 10000000000000000000
	var parts [4]uint64
	n := 0
	for w[0] != 0 || w[1] != 0 || w[2] != 0 {
		var r uint64
		w[0], r = bits.Div64(0, w[0], tenPow19)
		w[1], r = bits.Div64(r, w[1], tenPow19)
		w[2], r = bits.Div64(r, w[2], tenPow19)
		parts[n] = r
		n++
	}
	if n == 0 {
		return "0"
	}
	b := strconv.AppendUint(make([]byte, 0, 60), parts[n-1], 10)
	for i := n - 2; i >= 0; i-- {
		d := strconv.FormatUint(parts[i], 10)
		for k := len(d); k < 19; k++ {
			b = append(b, '0')
		}
		b = append(b, d...)
	}
	return string(b)
}

// slowString is the reference encoding (tests compare against it).
func (s seqNum) slowString() string {
	h := fmt.Sprintf("2%09x%x%016x00%09x%08x2", s.created&0xfffffffff, s.shard&0xf, s.counter,
		s.arrival&0xfffffffff, s.shard)
	b, _ := new(big.Int).SetString(h, 16)
	return b.String()
}

// parseSeq decodes a sequence number; ok is false when it is not one of ours.
func parseSeq(s string) (seqNum, bool) {
	if s == "" || len(s) > 129 {
		return seqNum{}, false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return seqNum{}, false
		}
	}
	b, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return seqNum{}, false
	}
	h := b.Text(16)
	if len(h) != 47 || h[0] != '2' || h[46] != '2' || h[27:29] != "00" {
		return seqNum{}, false
	}
	var out seqNum
	var err error
	p := func(str string) uint64 {
		v, e := strconv.ParseUint(str, 16, 64)
		if e != nil {
			err = e
		}
		return v
	}
	out.created = p(h[1:10])
	nib := p(h[10:11])
	out.counter = p(h[11:27])
	out.arrival = p(h[29:38])
	out.shard = uint32(p(h[38:46]))
	if err != nil || nib != uint64(out.shard&0xf) {
		return seqNum{}, false
	}
	return out, true
}
