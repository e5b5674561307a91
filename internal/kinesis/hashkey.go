package kinesis

import (
	"crypto/md5"
	"encoding/binary"
	"fmt"
	"math/big"
	"strings"
)

// u128 is an unsigned 128-bit hash key.
type u128 struct{ hi, lo uint64 }

var maxHash = u128{^uint64(0), ^uint64(0)}

func (a u128) cmp(b u128) int {
	switch {
	case a.hi < b.hi:
		return -1
	case a.hi > b.hi:
		return 1
	case a.lo < b.lo:
		return -1
	case a.lo > b.lo:
		return 1
	}
	return 0
}

func (a u128) big() *big.Int {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], a.hi)
	binary.BigEndian.PutUint64(b[8:], a.lo)
	return new(big.Int).SetBytes(b[:])
}

func (a u128) String() string { return a.big().String() }

func fromBig(b *big.Int) u128 {
	var buf [16]byte
	b.FillBytes(buf[:])
	return u128{binary.BigEndian.Uint64(buf[:8]), binary.BigEndian.Uint64(buf[8:])}
}

func (a u128) add(n uint64) u128 {
	lo := a.lo + n
	hi := a.hi
	if lo < a.lo {
		hi++
	}
	return u128{hi, lo}
}

func (a u128) sub1() u128 {
	if a.lo == 0 {
		return u128{a.hi - 1, ^uint64(0)}
	}
	return u128{a.hi, a.lo - 1}
}

var two128 = new(big.Int).Lsh(big.NewInt(1), 128)

// parseHashKey parses a decimal hash key in [0, 2^128).
func parseHashKey(s string) (u128, error) {
	if s == "" || len(s) > 39 || strings.TrimLeft(s, "0123456789") != "" {
		return u128{}, fmt.Errorf("not a decimal integer")
	}
	b, ok := new(big.Int).SetString(s, 10)
	if !ok || b.Cmp(two128) >= 0 {
		return u128{}, fmt.Errorf("out of range")
	}
	return fromBig(b), nil
}

// partitionHash is MD5 of the partition key read as a big-endian 128-bit
// unsigned integer.
func partitionHash(key string) u128 {
	sum := md5.Sum([]byte(key))
	return u128{binary.BigEndian.Uint64(sum[:8]), binary.BigEndian.Uint64(sum[8:])}
}

// splitEven returns the n even ranges of the hash space: range i starts at
// i*floor(2^128/n); the last ends at 2^128-1.
func splitEven(n int) [][2]u128 {
	step := new(big.Int).Div(two128, big.NewInt(int64(n)))
	out := make([][2]u128, n)
	for i := 0; i < n; i++ {
		start := new(big.Int).Mul(step, big.NewInt(int64(i)))
		end := new(big.Int).Sub(new(big.Int).Add(start, step), big.NewInt(1))
		if i == n-1 {
			end = new(big.Int).Sub(two128, big.NewInt(1))
		}
		out[i] = [2]u128{fromBig(start), fromBig(end)}
	}
	return out
}
