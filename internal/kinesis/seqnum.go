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
	if h[11] > '7' { // the counter is a signed 64-bit value
		return seqNum{}, false
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

// seqShardName names the shard a sequence number encodes, as AWS prints it
// (the index is a signed 32-bit value: "shardId--02147483648").
func seqShardName(idx uint32) string { return fmt.Sprintf("shardId-%012d", int32(idx)) }

var (
	pow124 = new(big.Int).Lsh(big.NewInt(1), 124)
	pow125 = new(big.Int).Lsh(big.NewInt(1), 125)
)

// maxSeqCreateSecs bounds the creation time a sequence number may encode.
const maxSeqCreateSecs = 16025175000

// oldSeqShard decodes the shard index of a number in AWS's oldest layout
// (below 2^125: 2^124 is implied, creation seconds in hex digits 1-9, the
// shard in the last four); ok is false for anything else.
func oldSeqShard(s string) (uint32, bool) {
	b, ok := new(big.Int).SetString(s, 10)
	if !ok || b.Sign() < 0 || b.Cmp(pow125) >= 0 {
		return 0, false
	}
	if b.Cmp(pow124) < 0 {
		b.Add(b, pow124)
	}
	h := b.Text(16)
	if created, err := strconv.ParseUint(h[1:10], 16, 64); err != nil || created >= maxSeqCreateSecs {
		return 0, false
	}
	idx, _ := strconv.ParseUint(h[28:32], 16, 32)
	return uint32(idx), true
}

// ValidOrderingSeq reports whether a SequenceNumberForOrdering is one AWS
// accepts: a sequence number in its current layout (version 1 or 2, a
// counter below 2^63, a creation time in range, an arrival time not in the
// future), or one of the oldest layout with a creation time in range.
func ValidOrderingSeq(s string, nowMs int64) bool {
	if _, old := oldSeqShard(s); old {
		return true
	}
	b, ok := new(big.Int).SetString(s, 10)
	if !ok || b.Sign() < 0 {
		return false
	}
	h := b.Text(16)
	if len(h) != 47 || h[0] != '2' {
		return false
	}
	switch h[46] {
	case '1':
		return true
	case '2':
	default:
		return false
	}
	if h[11] > '7' {
		return false
	}
	created, _ := strconv.ParseUint(h[1:10], 16, 64)
	arrival, _ := strconv.ParseUint(h[29:38], 16, 64)
	return created < maxSeqCreateSecs && int64(arrival)*1000 <= nowMs
}
