package events

import (
	"context"
	"encoding/json"
	"testing"
)

// FuzzSessionEvent feeds arbitrary event names and argument bytes to an
// identified session: every event must be answered (ack) or ignored without
// a panic or a hang, and every emitted value must be JSON-encodable.
func FuzzSessionEvent(f *testing.F) {
	for _, s := range [][2]string{
		{"message", `{"devices":"*","payload":{"a":[1,2]}}`},
		{"message", `{"devices":[1,{"x":2}]}`},
		{"subscribe", `"some-uuid"`},
		{"update", `{"uuid":null,"token":5,"color":"red"}`},
		{"devices", `{"online":true,"n":null}`},
		{"getdata", `{"start":"2014-03-07T00:00:00Z","limit":"5"}`},
		{"identity", `{"uuid":"","token":""}`},
		{"unregister", `[]`},
		{"nonsense", `not json`},
	} {
		f.Add(s[0], []byte(s[1]))
	}
	e := newEnvF(f)
	f.Fuzz(func(t *testing.T, event string, arg []byte) {
		c := newConn("socket.io")
		s := e.h.Connect(context.Background(), c, nil, nil)
		defer s.Closed()
		<-c.events // identify
		s.Event(context.Background(), "identity", raw(map[string]any{}), nil)
		<-c.events // ready (auto-registered)
		args := []json.RawMessage{arg}
		if !json.Valid(arg) {
			args = []json.RawMessage{json.RawMessage(`null`)} // transports hand over valid JSON only
		}
		s.Event(context.Background(), event, args, func(a ...any) {
			if _, err := json.Marshal(a); err != nil {
				t.Fatalf("ack not JSON-encodable: %v", err)
			}
		})
	})
}

// FuzzWSSessionEvent: the same over /ws/v2, where answers are frames
// named after the request and update also takes [query, {"$set": ...}].
func FuzzWSSessionEvent(f *testing.F) {
	for _, s := range [][2]string{
		{"update", `[{"uuid":"x"},{"$set":{"color":"red"}}]`},
		{"update", `[{"uuid":null},{"$push":{"a":1}}]`},
		{"update", `[1,2,3]`},
		{"update", `[{},{"$set":[1]}]`},
		{"whoami", `null`},
		{"unregister", `{"uuid":"nope"}`},
		{"devices", `{"online":true}`},
	} {
		f.Add(s[0], []byte(s[1]))
	}
	e := newEnvF(f)
	f.Fuzz(func(t *testing.T, event string, arg []byte) {
		c := newConn("ws")
		s := e.h.Connect(context.Background(), c, nil, nil)
		defer s.Closed()
		<-c.events // identify
		s.Event(context.Background(), "identity", raw(map[string]any{}), nil)
		<-c.events // ready (auto-registered)
		args := []json.RawMessage{arg}
		if !json.Valid(arg) {
			args = []json.RawMessage{json.RawMessage(`null`)}
		}
		s.Event(context.Background(), event, args, nil)
		for len(c.events) > 0 { // no panic, no hang; drain what it answered
			<-c.events
		}
	})
}
