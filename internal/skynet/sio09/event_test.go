package sio09

import (
	"bytes"
	"encoding/json"
	"testing"
)

// decodeEventStd is what decodeEvent must match: encoding/json into the
// frame's struct.
func decodeEventStd(data []byte) (string, []json.RawMessage, bool) {
	var ev struct {
		Name *string           `json:"name"`
		Args []json.RawMessage `json:"args"`
	}
	if err := json.Unmarshal(data, &ev); err != nil || ev.Name == nil {
		return "", nil, false
	}
	return *ev.Name, ev.Args, true
}

var eventSeeds = []string{
	`{"name":"message","args":[{"devices":"x"},1,"s"]}`, `{"name":"m"}`, `{"args":[]}`, `{"name":null}`,
	`{"NAME":"a","Args":[1]}`, `{"name":"a","name":"b"}`, `{"name":"a","name":null}`, "{\"argſ\":[1],\"name\":\"x\"}",
	`{"name":1}`, `{"name":"a","args":{}}`, `{"name":"a","args":null}`, `{"name":"a","args":5,"args":[1]}`,
	`null`, `[]`, `"s"`, ` {"name" : "a" , "x" : [1,{"y":2}] } `, `{"name":"\u00e9\ud800"}`, `{"name":"a"`, ``,
}

func checkEvent(t *testing.T, in []byte) {
	t.Helper()
	name, args, ok := decodeEvent(in)
	wname, wargs, wok := decodeEventStd(in)
	if ok != wok || name != wname || len(args) != len(wargs) {
		t.Fatalf("decodeEvent(%q) = %q %d %v, encoding/json %q %d %v", in, name, len(args), ok, wname, len(wargs), wok)
	}
	for i := range args {
		if !bytes.Equal(args[i], wargs[i]) {
			t.Fatalf("decodeEvent(%q) arg %d = %s, encoding/json %s", in, i, args[i], wargs[i])
		}
	}
}

func TestDecodeEventMatchesEncodingJSON(t *testing.T) {
	for _, s := range eventSeeds {
		checkEvent(t, []byte(s))
	}
}

// FuzzDecodeEvent: an event frame's body decodes as encoding/json decodes it.
func FuzzDecodeEvent(f *testing.F) {
	for _, s := range eventSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) { checkEvent(t, in) })
}
