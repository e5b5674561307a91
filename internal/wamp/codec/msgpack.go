package codec

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
)

// MsgPack is the wamp.2.msgpack serializer (RawSocket id 2, WebSocket
// binary frames). Strings are str, binary values bin. The codec is written
// here rather than taken from a reflection-based library so that decoding
// hostile input is bounded in depth and allocation (see DEPENDENCIES.md).
type MsgPack struct{}

func (MsgPack) Name() string      { return "msgpack" }
func (MsgPack) RawSocketID() byte { return RawMsgPack }
func (MsgPack) Binary() bool      { return true }

// Append encodes msg as MessagePack.
func (MsgPack) Append(dst []byte, msg []any) ([]byte, error) {
	e := mpEnc{b: dst}
	if err := e.value(msg, 0); err != nil {
		return dst, err
	}
	return e.b, nil
}

// Decode parses one MessagePack message; it must be an array.
func (MsgPack) Decode(b []byte) ([]any, error) {
	d := mpDec{b: b}
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	if d.i != len(d.b) {
		return nil, decodeError("codec.msgpack", "trailing data after the message")
	}
	return asList("codec.msgpack", v)
}

// ---- encoder ----

type mpEnc struct{ b []byte }

func (e *mpEnc) int(n int64) {
	if n >= 0 {
		e.uint(uint64(n))
		return
	}
	switch {
	case n >= -32:
		e.b = append(e.b, byte(n))
	case n >= math.MinInt8:
		e.b = append(e.b, 0xd0, byte(n))
	case n >= math.MinInt16:
		e.b = append(e.b, 0xd1)
		e.b = binary.BigEndian.AppendUint16(e.b, uint16(n))
	case n >= math.MinInt32:
		e.b = append(e.b, 0xd2)
		e.b = binary.BigEndian.AppendUint32(e.b, uint32(n))
	default:
		e.b = append(e.b, 0xd3)
		e.b = binary.BigEndian.AppendUint64(e.b, uint64(n))
	}
}

func (e *mpEnc) uint(n uint64) {
	switch {
	case n <= 0x7f:
		e.b = append(e.b, byte(n))
	case n <= math.MaxUint8:
		e.b = append(e.b, 0xcc, byte(n))
	case n <= math.MaxUint16:
		e.b = append(e.b, 0xcd)
		e.b = binary.BigEndian.AppendUint16(e.b, uint16(n))
	case n <= math.MaxUint32:
		e.b = append(e.b, 0xce)
		e.b = binary.BigEndian.AppendUint32(e.b, uint32(n))
	default:
		e.b = append(e.b, 0xcf)
		e.b = binary.BigEndian.AppendUint64(e.b, n)
	}
}

func (e *mpEnc) str(s string) {
	n := len(s)
	switch {
	case n < 32:
		e.b = append(e.b, 0xa0|byte(n))
	case n <= math.MaxUint8:
		e.b = append(e.b, 0xd9, byte(n))
	case n <= math.MaxUint16:
		e.b = append(e.b, 0xda)
		e.b = binary.BigEndian.AppendUint16(e.b, uint16(n))
	default:
		e.b = append(e.b, 0xdb)
		e.b = binary.BigEndian.AppendUint32(e.b, uint32(n))
	}
	e.b = append(e.b, s...)
}

func (e *mpEnc) bin(p []byte) {
	n := len(p)
	switch {
	case n <= math.MaxUint8:
		e.b = append(e.b, 0xc4, byte(n))
	case n <= math.MaxUint16:
		e.b = append(e.b, 0xc5)
		e.b = binary.BigEndian.AppendUint16(e.b, uint16(n))
	default:
		e.b = append(e.b, 0xc6)
		e.b = binary.BigEndian.AppendUint32(e.b, uint32(n))
	}
	e.b = append(e.b, p...)
}

func (e *mpEnc) arrayHeader(n int) {
	switch {
	case n < 16:
		e.b = append(e.b, 0x90|byte(n))
	case n <= math.MaxUint16:
		e.b = append(e.b, 0xdc)
		e.b = binary.BigEndian.AppendUint16(e.b, uint16(n))
	default:
		e.b = append(e.b, 0xdd)
		e.b = binary.BigEndian.AppendUint32(e.b, uint32(n))
	}
}

func (e *mpEnc) mapHeader(n int) {
	switch {
	case n < 16:
		e.b = append(e.b, 0x80|byte(n))
	case n <= math.MaxUint16:
		e.b = append(e.b, 0xde)
		e.b = binary.BigEndian.AppendUint16(e.b, uint16(n))
	default:
		e.b = append(e.b, 0xdf)
		e.b = binary.BigEndian.AppendUint32(e.b, uint32(n))
	}
}

func (e *mpEnc) float(f float64) {
	e.b = append(e.b, 0xcb)
	e.b = binary.BigEndian.AppendUint64(e.b, math.Float64bits(f))
}

func (e *mpEnc) value(v any, depth int) error {
	if depth > MaxDepth {
		return decodeError("codec.msgpack", "value nested deeper than %d", MaxDepth)
	}
	switch x := v.(type) {
	case nil:
		e.b = append(e.b, 0xc0)
	case bool:
		if x {
			e.b = append(e.b, 0xc3)
		} else {
			e.b = append(e.b, 0xc2)
		}
	case string:
		e.str(x)
	case []byte:
		e.bin(x)
	case int:
		e.int(int64(x))
	case int64:
		e.int(x)
	case int32:
		e.int(int64(x))
	case uint64:
		e.uint(x)
	case uint32:
		e.uint(uint64(x))
	case uint:
		e.uint(uint64(x))
	case float64:
		e.float(x)
	case float32:
		e.b = append(e.b, 0xca)
		e.b = binary.BigEndian.AppendUint32(e.b, math.Float32bits(x))
	case json.Number:
		if n, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			e.int(n)
		} else if u, err := strconv.ParseUint(string(x), 10, 64); err == nil {
			e.uint(u)
		} else if f, err := strconv.ParseFloat(string(x), 64); err == nil {
			e.float(f)
		} else {
			return decodeError("codec.msgpack", "invalid number %q", string(x))
		}
	case []any:
		e.arrayHeader(len(x))
		for _, el := range x {
			if err := e.value(el, depth+1); err != nil {
				return err
			}
		}
	case map[string]any:
		e.mapHeader(len(x))
		for k, el := range x {
			e.str(k)
			if err := e.value(el, depth+1); err != nil {
				return err
			}
		}
	default:
		return e.reflectValue(reflect.ValueOf(v), depth)
	}
	return nil
}

func (e *mpEnc) reflectValue(rv reflect.Value, depth int) error {
	switch rv.Kind() {
	case reflect.Invalid:
		e.b = append(e.b, 0xc0)
	case reflect.Bool:
		return e.value(rv.Bool(), depth)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.int(rv.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		e.uint(rv.Uint())
	case reflect.Float32, reflect.Float64:
		e.float(rv.Float())
	case reflect.String:
		e.str(rv.String())
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			e.b = append(e.b, 0xc0)
			return nil
		}
		return e.value(rv.Elem().Interface(), depth+1)
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			e.b = append(e.b, 0xc0)
			return nil
		}
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			b := make([]byte, rv.Len())
			reflect.Copy(reflect.ValueOf(b), rv)
			e.bin(b)
			return nil
		}
		e.arrayHeader(rv.Len())
		for i := 0; i < rv.Len(); i++ {
			if err := e.value(rv.Index(i).Interface(), depth+1); err != nil {
				return err
			}
		}
	case reflect.Map:
		if rv.IsNil() {
			e.b = append(e.b, 0xc0)
			return nil
		}
		e.mapHeader(rv.Len())
		it := rv.MapRange()
		for it.Next() {
			if err := e.value(it.Key().Interface(), depth+1); err != nil {
				return err
			}
			if err := e.value(it.Value().Interface(), depth+1); err != nil {
				return err
			}
		}
	default:
		// Structs and the like: through their JSON form, as plain data.
		raw, err := json.Marshal(rv.Interface())
		if err != nil {
			return decodeError("codec.msgpack", "cannot encode %s: %v", rv.Type(), err)
		}
		v, err := (&jsonDec{b: raw}).value(0)
		if err != nil {
			return err
		}
		return e.value(v, depth+1)
	}
	return nil
}

// ---- decoder ----

type mpDec struct {
	b []byte
	i int
}

func (d *mpDec) fail(msg string) error {
	return decodeError("codec.msgpack", "invalid MessagePack at offset %d: %s", d.i, msg)
}

func (d *mpDec) need(n uint64) error {
	if n > uint64(len(d.b)-d.i) {
		return d.fail("unexpected end of input")
	}
	return nil
}

func (d *mpDec) uintN(size int) (uint64, error) {
	if err := d.need(uint64(size)); err != nil {
		return 0, err
	}
	var v uint64
	for _, c := range d.b[d.i : d.i+size] {
		v = v<<8 | uint64(c)
	}
	d.i += size
	return v, nil
}

func (d *mpDec) bytes(n uint64) ([]byte, error) {
	if err := d.need(n); err != nil {
		return nil, err
	}
	p := d.b[d.i : d.i+int(n)]
	d.i += int(n)
	return p, nil
}

func (d *mpDec) value(depth int) (any, error) {
	if depth > MaxDepth {
		return nil, d.fail("nested too deeply")
	}
	if d.i >= len(d.b) {
		return nil, d.fail("unexpected end of input")
	}
	c := d.b[d.i]
	d.i++
	switch {
	case c <= 0x7f:
		return int64(c), nil
	case c >= 0xe0:
		return int64(int8(c)), nil
	case c&0xf0 == 0x80:
		return d.mapBody(uint64(c&0x0f), depth)
	case c&0xf0 == 0x90:
		return d.arrayBody(uint64(c&0x0f), depth)
	case c&0xe0 == 0xa0:
		p, err := d.bytes(uint64(c & 0x1f))
		return string(p), err
	}
	switch c {
	case 0xc0:
		return nil, nil
	case 0xc2:
		return false, nil
	case 0xc3:
		return true, nil
	case 0xc4, 0xc5, 0xc6:
		n, err := d.uintN(1 << (c - 0xc4))
		if err != nil {
			return nil, err
		}
		p, err := d.bytes(n)
		if err != nil {
			return nil, err
		}
		return append([]byte{}, p...), nil
	case 0xca:
		v, err := d.uintN(4)
		return float64(math.Float32frombits(uint32(v))), err
	case 0xcb:
		v, err := d.uintN(8)
		return math.Float64frombits(v), err
	case 0xcc, 0xcd, 0xce, 0xcf:
		v, err := d.uintN(1 << (c - 0xcc))
		if err != nil {
			return nil, err
		}
		if v <= math.MaxInt64 {
			return int64(v), nil
		}
		return v, nil
	case 0xd0:
		v, err := d.uintN(1)
		return int64(int8(v)), err
	case 0xd1:
		v, err := d.uintN(2)
		return int64(int16(v)), err
	case 0xd2:
		v, err := d.uintN(4)
		return int64(int32(v)), err
	case 0xd3:
		v, err := d.uintN(8)
		return int64(v), err
	case 0xd9, 0xda, 0xdb:
		n, err := d.uintN(1 << (c - 0xd9))
		if err != nil {
			return nil, err
		}
		p, err := d.bytes(n)
		return string(p), err
	case 0xdc, 0xdd:
		n, err := d.uintN(2 << (c - 0xdc))
		if err != nil {
			return nil, err
		}
		return d.arrayBody(n, depth)
	case 0xde, 0xdf:
		n, err := d.uintN(2 << (c - 0xde))
		if err != nil {
			return nil, err
		}
		return d.mapBody(n, depth)
	case 0xc7, 0xc8, 0xc9, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8:
		d.i--
		return nil, d.fail("extension types are not supported")
	}
	d.i--
	return nil, d.fail("invalid type byte")
}

func (d *mpDec) arrayBody(n uint64, depth int) (any, error) {
	if err := d.need(n); err != nil { // each element takes at least one byte
		return nil, err
	}
	l := make([]any, 0, n)
	for range n {
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		l = append(l, v)
	}
	return l, nil
}

func (d *mpDec) mapBody(n uint64, depth int) (any, error) {
	if err := d.need(2 * n); err != nil { // a key and a value: two bytes at least
		return nil, err
	}
	m := make(map[string]any, n)
	for range n {
		k, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		ks, ok := k.(string)
		if !ok {
			return nil, d.fail("dict key is not a string")
		}
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		m[ks] = v
	}
	return m, nil
}
