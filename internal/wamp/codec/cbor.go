package codec

import (
	"bytes"
	"math/big"
	"reflect"
	"sync"

	"github.com/fxamacker/cbor/v2"
)

// CBOR is the wamp.2.cbor serializer (RawSocket id 3, WebSocket binary
// frames). Text strings are strings, byte strings are []byte; dicts must
// have text keys. Unsigned integers decode to uint64 and negative ones to
// int64 (wamp.FromList accepts every integer type). Tags are accepted and
// dropped (their content kept), so byte arrays tagged by JS clients arrive
// as []byte.
type CBOR struct{}

func (CBOR) Name() string      { return "cbor" }
func (CBOR) RawSocketID() byte { return RawCBOR }
func (CBOR) Binary() bool      { return true }

type cborModes struct {
	dec cbor.DecMode
	enc cbor.UserBufferEncMode
}

// modes builds the CBOR modes once from fixed options (immutable after).
var modes = sync.OnceValue(func() cborModes {
	dm, err := cbor.DecOptions{
		DefaultMapType:   reflect.TypeOf(map[string]any(nil)),
		MaxNestedLevels:  MaxDepth + 2,
		MaxArrayElements: 1 << 24,
		MaxMapPairs:      1 << 24,
		IndefLength:      cbor.IndefLengthAllowed,
		DupMapKey:        cbor.DupMapKeyQuiet,
		UTF8:             cbor.UTF8DecodeInvalid, // liberal, like the MessagePack decoder
		// Tags are accepted and removed after decoding (see plain): JS
		// clients tag byte arrays (RFC 8746 typed arrays, tag 64).
		TimeTagToAny: cbor.TimeTagToRFC3339Nano,
		BigIntDec:    cbor.BigIntDecodePointer,
	}.DecMode()
	if err != nil {
		panic(err) // fixed options: a failure is a programming error every test catches
	}
	em, err := cbor.EncOptions{}.UserBufferEncMode()
	if err != nil {
		panic(err)
	}
	return cborModes{dec: dm, enc: em}
})

// Append encodes msg as CBOR.
func (CBOR) Append(dst []byte, msg []any) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	if err := modes().enc.MarshalToBuffer(msg, buf); err != nil {
		return dst, decodeError("codec.cbor", "cannot encode: %v", err)
	}
	return buf.Bytes(), nil
}

// Decode parses one CBOR message; it must be an array.
func (CBOR) Decode(b []byte) ([]any, error) {
	var v any
	if err := modes().dec.Unmarshal(b, &v); err != nil {
		return nil, decodeError("codec.cbor", "invalid CBOR: %v", err)
	}
	return asList("codec.cbor", plain(v))
}

// plain replaces what only CBOR can express with plain data every
// serializer carries: a tag by its content (a typed array of bytes, tag
// 64, becomes []byte; other typed arrays their raw bytes), a bignum by an
// integer when it fits, else a float64. Times were already decoded to
// RFC 3339 strings.
func plain(v any) any {
	switch x := v.(type) {
	case []any:
		for i, e := range x {
			x[i] = plain(e)
		}
	case map[string]any:
		for k, e := range x {
			x[k] = plain(e)
		}
	case cbor.Tag:
		return plain(x.Content)
	case *big.Int:
		if x.IsInt64() {
			return x.Int64()
		}
		if x.IsUint64() {
			return x.Uint64()
		}
		f, _ := new(big.Float).SetInt(x).Float64()
		return f
	}
	return v
}
