package codec

import (
	"bytes"
	"reflect"
	"sync"

	"github.com/fxamacker/cbor/v2"
)

// CBOR is the wamp.2.cbor serializer (RawSocket id 3, WebSocket binary
// frames). Text strings are strings, byte strings are []byte; dicts must
// have text keys. Unsigned integers decode to uint64 and negative ones to
// int64 (wamp.FromList accepts every integer type). CBOR tags are refused.
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
		// WAMP has no use for tags; refusing them keeps every decoded value
		// plain data that the other codecs can carry.
		TagsMd: cbor.TagsForbidden,
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
	return asList("codec.cbor", v)
}
