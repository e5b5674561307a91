package codec

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"skyhub/internal/wamp"
)

type vectorFile struct {
	Type    string `json:"wamp_message_type"`
	Code    int64  `json:"wamp_message_code"`
	Samples []struct {
		Description string                       `json:"description"`
		Serializers map[string][]vectorBytes     `json:"serializers"`
		Expected    map[string]json.RawMessage   `json:"expected_attributes"`
		Wmsg        json.RawMessage              `json:"wmsg"`
		ExpectedErr map[string]any               `json:"expected_error"`
		_           map[string]map[string]string `json:"-"`
	} `json:"samples"`
}

type vectorBytes struct {
	Bytes string `json:"bytes"`
	Hex   string `json:"bytes_hex"`
	Note  string `json:"note"`
}

// normalize maps every integer to int64 (uint64 above MaxInt64) so values
// decoded by different codecs compare equal.
func normalize(v any) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	case uint64:
		if x <= 1<<63-1 {
			return int64(x)
		}
		return x
	case int:
		return int64(x)
	}
	return v
}

// multiKeyDict reports whether v holds a dict with more than one key (Go
// maps have no order, so re-encoding such a message cannot be byte-exact).
func multiKeyDict(v any) bool {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if multiKeyDict(e) {
				return true
			}
		}
	case map[string]any:
		if len(x) > 1 {
			return true
		}
		for _, e := range x {
			if multiKeyDict(e) {
				return true
			}
		}
	}
	return false
}

func vectorDir(t *testing.T) string {
	// The repository root is two levels up from this package (the test runs
	// in its directory); the shared data sits beside the repository.
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "..", "shared", "testdata", "wamp-vectors")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("wamp-proto test vectors not present at %s (fresh clone without shared/): %v", dir, err)
	}
	return dir
}

// TestVectors decodes every serialization sample of the wamp-proto test
// vectors with its codec, checks all codecs agree on the message, that it
// is a valid WAMP message of the stated type, and that it re-encodes and
// decodes back unchanged through every codec, plain and batched; where
// byte order is deterministic the re-encoding must equal the vector bytes.
func TestVectors(t *testing.T) {
	dir := vectorDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "singlemessage", "*", "*.json"))
	if err != nil || len(files) < 20 {
		t.Fatalf("expected the singlemessage vectors, found %d (%v)", len(files), err)
	}
	decoded, exact, validations := 0, 0, 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var vf vectorFile
		if err := json.Unmarshal(raw, &vf); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		for si, s := range vf.Samples {
			t.Run(name+"/"+s.Description, func(t *testing.T) {
				if s.Wmsg != nil {
					validations++
					var l []any
					if err := json.Unmarshal(s.Wmsg, &l); err != nil {
						t.Fatal(err)
					}
					// Decode through our JSON to get WAMP's number types.
					l, err := JSON{}.Decode(s.Wmsg)
					if err != nil {
						t.Fatalf("wmsg %s: %v", s.Wmsg, err)
					}
					roundTripAll(t, l)
					return
				}
				var first any
				firstFrom := ""
				for ser, list := range s.Serializers {
					c, ok := ByName(ser)
					if !ok {
						continue // ubjson, flatbuffers: not served
					}
					for vi, vb := range list {
						b, err := hex.DecodeString(vb.Hex)
						if err != nil {
							t.Fatalf("%s[%d]: bad hex: %v", ser, vi, err)
						}
						if vb.Bytes != "" && vb.Bytes != string(b) {
							t.Fatalf("%s[%d]: bytes and bytes_hex differ", ser, vi)
						}
						l, err := c.Decode(b)
						if err != nil {
							t.Fatalf("%s[%d] decode: %v", ser, vi, err)
						}
						decoded++
						n := normalize(l)
						if first == nil {
							first, firstFrom = n, ser
						} else if !reflect.DeepEqual(first, n) {
							t.Fatalf("%s[%d] decodes to %#v, %s to %#v", ser, vi, n, firstFrom, first)
						}
						if got := n.([]any)[0]; got != vf.Code {
							t.Fatalf("%s[%d]: message code %v, want %d", ser, vi, got, vf.Code)
						}
						if vf.Code < 256 && pptPayload(l) {
							// Payload passthru (E2EE): Arguments is one binary
							// value, not a list. The codec handles it; the message
							// model does not yet (a gap reported to its owner).
							if _, err := wamp.FromList(l); err != nil {
								t.Logf("%s[%d]: message model rejects a passthru payload: %v", ser, vi, err)
							}
						} else if vf.Code < 256 {
							m, err := wamp.FromList(l)
							if err != nil {
								t.Fatalf("%s[%d]: FromList: %v", ser, vi, err)
							}
							if int64(m.MessageType()) != vf.Code {
								t.Fatalf("typed message %T for code %d", m, vf.Code)
							}
						}
						// Byte-exact re-encoding where Go's map order cannot matter
						// and the vector is compact.
						if !multiKeyDict(l) && !strings.Contains(vb.Note, "spaces") {
							out, err := c.Append(nil, l)
							if err != nil {
								t.Fatal(err)
							}
							if bytes.Equal(out, b) {
								exact++
							} else if c.Binary() {
								t.Errorf("%s[%d]: re-encoded %x, vector %x", ser, vi, out, b)
							}
						}
						roundTripAll(t, l)
					}
				}
				if first == nil {
					t.Fatalf("sample %d has no json/msgpack/cbor bytes", si)
				}
				if len(s.Expected) > 0 {
					var mt int64
					if err := json.Unmarshal(s.Expected["message_type"], &mt); err == nil && mt != vf.Code {
						t.Fatalf("expected_attributes.message_type %d != %d", mt, vf.Code)
					}
				}
			})
		}
	}
	t.Logf("decoded %d vector encodings, %d re-encoded byte-exact, %d validation messages round-tripped", decoded, exact, validations)
	if decoded < 100 {
		t.Fatalf("only %d vector encodings decoded", decoded)
	}
}

// roundTripAll encodes l with every codec, plain and batched (a batch of
// two), decodes it back and compares.
func roundTripAll(t *testing.T, l []any) {
	t.Helper()
	want := normalize(l)
	for _, sp := range Subprotocols() {
		frame, err := sp.AppendFrame(nil, l)
		if err != nil {
			t.Fatalf("%s encode: %v", sp, err)
		}
		if sp.Batched {
			frame, err = sp.AppendFrame(frame, l)
			if err != nil {
				t.Fatal(err)
			}
		}
		n := 0
		err = sp.Split(frame, func(b []byte) error {
			n++
			got, err := sp.Codec.Decode(b)
			if err != nil {
				return err
			}
			if !reflect.DeepEqual(normalize(got), want) {
				t.Fatalf("%s round trip: got %#v, want %#v", sp, normalize(got), want)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s decode: %v", sp, err)
		}
		if wantN := map[bool]int{false: 1, true: 2}[sp.Batched]; n != wantN {
			t.Fatalf("%s: %d messages, want %d", sp, n, wantN)
		}
	}
}

// pptPayload reports whether l carries a transparent (passthru, E2EE)
// payload: one binary value where the Arguments list would be.
func pptPayload(l []any) bool {
	for _, e := range l[1:] {
		if _, ok := e.([]byte); ok {
			return true
		}
	}
	return false
}
