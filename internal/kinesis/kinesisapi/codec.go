package kinesisapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// Codec content types.
const (
	ctJSON = "application/x-amz-json-1.1"
	ctCBOR = "application/x-amz-cbor-1.1"
)

var cborDec, _ = cbor.DecOptions{
	MaxNestedLevels:  32,
	MaxArrayElements: 20000,
	MaxMapPairs:      20000,
	DefaultMapType:   nil,
	TimeTag:          cbor.DecTagOptional,
}.DecMode()

var cborEnc, _ = cbor.EncOptions{}.EncMode()

// errSerialization marks undecodable bodies.
var errSerialization = errors.New("SerializationException")

// cborToJSON converts a CBOR request body to the equivalent AWS JSON body:
// byte strings become base64 strings, epoch timestamps (tag 1) numbers.
func cborToJSON(body []byte) ([]byte, error) {
	var v any
	if err := cborDec.Unmarshal(body, &v); err != nil {
		return nil, fmt.Errorf("%w: %v", errSerialization, err)
	}
	t, err := fromCBOR(v, 0)
	if err != nil {
		return nil, err
	}
	return json.Marshal(t)
}

func fromCBOR(v any, depth int) (any, error) {
	if depth > 32 {
		return nil, errSerialization
	}
	switch x := v.(type) {
	case []byte:
		return base64.StdEncoding.EncodeToString(x), nil
	case time.Time:
		return float64(x.UnixMilli()) / 1000, nil
	case cbor.Tag:
		if x.Number == 1 {
			return fromCBOR(x.Content, depth+1)
		}
		return nil, fmt.Errorf("%w: unexpected CBOR tag %d", errSerialization, x.Number)
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, val := range x {
			ks, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("%w: non-string map key", errSerialization)
			}
			c, err := fromCBOR(val, depth+1)
			if err != nil {
				return nil, err
			}
			m[ks] = c
		}
		return m, nil
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, val := range x {
			c, err := fromCBOR(val, depth+1)
			if err != nil {
				return nil, err
			}
			m[k] = c
		}
		return m, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			c, err := fromCBOR(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("%w: non-finite number", errSerialization)
		}
		return x, nil
	case float32:
		return float64(x), nil
	case nil, bool, string, uint64, int64:
		return x, nil
	}
	return nil, fmt.Errorf("%w: unsupported CBOR value %T", errSerialization, v)
}

// jsonToCBOR converts an AWS JSON response to CBOR: "Data" members become
// byte strings and "*Timestamp" members epoch-seconds tags.
func jsonToCBOR(b []byte) ([]byte, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return cborEnc.Marshal(toCBOR("", v))
}

func toCBOR(key string, v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = toCBOR(k, e)
		}
		return m
	case []any:
		for i, e := range x {
			x[i] = toCBOR(key, e)
		}
		return x
	case string:
		if key == "Data" {
			if raw, err := base64.StdEncoding.DecodeString(x); err == nil {
				return raw
			}
		}
		return x
	case json.Number:
		if strings.HasSuffix(key, "Timestamp") {
			f, _ := x.Float64()
			return cbor.Tag{Number: 1, Content: f}
		}
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	}
	return v
}

// epoch accepts a timestamp as a JSON number (epoch seconds) or an
// ISO 8601 string.
type epoch struct {
	t   time.Time
	set bool
}

func (e *epoch) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			e.t, e.set = time.UnixMilli(int64(f*1000)), true
			return nil
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return &json.UnmarshalTypeError{Value: "string", Type: nil}
		}
		e.t, e.set = t, true
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e13 {
		return &json.UnmarshalTypeError{Value: "number " + string(b)}
	}
	e.t, e.set = time.UnixMilli(int64(f*1000)), true
	return nil
}

func (e epoch) ptr() *time.Time {
	if !e.set {
		return nil
	}
	t := e.t
	return &t
}

var (
	hashKeyPattern = regexp.MustCompile(`^(0|[1-9]\d{0,38})$`)
	seqPattern     = regexp.MustCompile(`^(0|[1-9]\d{0,128})$`)
)
