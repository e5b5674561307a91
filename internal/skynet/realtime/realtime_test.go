package realtime

import (
	"encoding/json"
	"testing"
)

// AppendEvent renders exactly what json.Marshal renders for the array,
// with Encoded arguments copied as they are.
func TestAppendEventMatchesJSONMarshal(t *testing.T) {
	doc := map[string]any{"devices": "x", "payload": map[string]any{"a": 1, "s": "<&>\"\\ é \u2028"}}
	enc, _ := json.Marshal(doc)
	for _, tc := range []struct {
		event string
		args  []any
		plain []any // the same args without Encoded
	}{
		{"message", []any{Encoded(enc)}, []any{doc}},
		{"message", []any{doc, 3, "x"}, []any{doc, 3, "x"}},
		{"ready", nil, nil},
		{"na<me>\"é", []any{nil}, []any{nil}},
		{"e", []any{Encoded(nil)}, []any{nil}},
	} {
		got, err := AppendEvent(nil, tc.event, tc.args)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(append([]any{tc.event}, tc.plain...))
		if string(got) != string(want) {
			t.Errorf("AppendEvent(%q) = %s, want %s", tc.event, got, want)
		}
	}
	if _, err := AppendEvent(nil, "e", []any{func() {}}); err == nil {
		t.Error("a value json cannot encode: no error")
	}
	// Encoded marshals as itself where an encoder does not look for it
	b, err := json.Marshal(map[string]any{"m": Encoded(enc)})
	if err != nil || string(b) != `{"m":`+string(enc)+`}` {
		t.Errorf("json.Marshal(Encoded) = %s %v", b, err)
	}
}
