package wamp

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestRoundTripEveryMessage(t *testing.T) {
	d := Dict{"x": "y"}
	args := List{"a", int64(1)}
	kw := Dict{"k": "v"}
	msgs := []Message{
		&Hello{Realm: "realm1", Details: Dict{"roles": Dict{"caller": Dict{}}}},
		&Welcome{Session: 42, Details: d},
		&Abort{Details: d, Reason: "wamp.error.no_such_realm"},
		&Abort{Details: d, Reason: "wamp.error.no_such_realm", Arguments: args, ArgumentsKw: kw},
		&Challenge{AuthMethod: "ticket", Extra: d},
		&Authenticate{Signature: "secret", Extra: d},
		&Goodbye{Details: d, Reason: "wamp.close.close_realm"},
		&Error{Type: CALL, Request: 7, Details: d, Error: "wamp.error.no_such_procedure", Arguments: args},
		&Publish{Request: 1, Options: d, Topic: "com.t", Arguments: args, ArgumentsKw: kw},
		&Published{Request: 1, Publication: 99},
		&Subscribe{Request: 2, Options: d, Topic: "com.t"},
		&Subscribed{Request: 2, Subscription: 5},
		&Unsubscribe{Request: 3, Subscription: 5},
		&Unsubscribed{Request: 3},
		&Unsubscribed{Request: 3, Details: Dict{"reason": "x"}},
		&Unsubscribed{Request: 0, Details: Dict{"subscription": int64(5), "reason": "x"}},
		&Unregistered{Request: 0, Details: Dict{"registration": int64(5)}},
		&Event{Subscription: 5, Publication: 99, Details: d, Arguments: args},
		&Call{Request: 4, Options: d, Procedure: "com.p", ArgumentsKw: kw},
		&Cancel{Request: 4, Options: Dict{"mode": "kill"}},
		&Result{Request: 4, Details: d, Arguments: args, ArgumentsKw: kw},
		&Register{Request: 5, Options: d, Procedure: "com.p"},
		&Registered{Request: 5, Registration: 8},
		&Unregister{Request: 6, Registration: 8},
		&Unregistered{Request: 6},
		&Invocation{Request: 1, Registration: 8, Details: d, Arguments: args},
		&Interrupt{Request: 1, Options: Dict{"mode": "kill"}},
		&Yield{Request: 1, Options: d, Arguments: args},
	}
	seen := map[MessageType]bool{}
	for _, m := range msgs {
		seen[m.MessageType()] = true
		l := ToList(m)
		// Through JSON, as a serializer would (float64 numbers).
		b, err := json.Marshal(l)
		if err != nil {
			t.Fatal(err)
		}
		var back []any
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		got, err := FromList(back)
		if err != nil {
			t.Fatalf("%s: %v", m.MessageType(), err)
		}
		// Compare through ToList+JSON again (numbers normalised).
		b2, _ := json.Marshal(ToList(got))
		if string(b) != string(b2) {
			t.Errorf("%s: round trip %s != %s", m.MessageType(), b2, b)
		}
		if got.MessageType() != m.MessageType() {
			t.Errorf("type %v != %v", got.MessageType(), m.MessageType())
		}
	}
	if len(seen) != len(typeNames) {
		t.Errorf("covered %d of %d message types", len(seen), len(typeNames))
	}
}

func TestToListOmitsEmptyPayload(t *testing.T) {
	cases := []struct {
		m    Message
		want int
	}{
		{&Call{Request: 1, Procedure: "a"}, 4},
		{&Call{Request: 1, Procedure: "a", Arguments: List{}}, 4},
		{&Call{Request: 1, Procedure: "a", Arguments: List{1}}, 5},
		{&Call{Request: 1, Procedure: "a", ArgumentsKw: Dict{"a": 1}}, 6},
		{&Result{Request: 1}, 3},
		{&Event{Subscription: 1, Publication: 1, ArgumentsKw: Dict{}}, 4},
	}
	for _, c := range cases {
		l := ToList(c.m)
		if len(l) != c.want {
			t.Errorf("%#v: %d elements, want %d", c.m, len(l), c.want)
		}
		if _, ok := l[2].(Dict); !ok && c.m.MessageType() == CALL {
			t.Errorf("nil options not rendered as a dict")
		}
	}
	if l := ToList(&Call{Request: 1, Procedure: "a", ArgumentsKw: Dict{"a": 1}}); !reflect.DeepEqual(l[4], List{}) {
		t.Errorf("empty Arguments before ArgumentsKw: %#v", l[4])
	}
}

func TestFromListNumericForms(t *testing.T) {
	forms := []any{int8(48), int16(48), int32(48), int64(48), int(48), uint8(48), uint16(48),
		uint32(48), uint64(48), float64(48), json.Number("48")}
	for _, f := range forms {
		m, err := FromList([]any{f, uint32(7), map[any]any{"receive_progress": true}, "com.p"})
		if err != nil {
			t.Fatalf("%T: %v", f, err)
		}
		c := m.(*Call)
		if c.Request != 7 || c.Options["receive_progress"] != true {
			t.Errorf("%T: %#v", f, c)
		}
	}
}

func TestFromListNormalizesNestedMaps(t *testing.T) {
	l := []any{int64(16), int64(1), map[string]any{"a": map[any]any{"b": int64(1)}}, "t",
		[]any{map[any]any{"x": []any{map[any]any{"y": "z"}}}}, map[any]any{"k": map[any]any{"n": 1}}}
	m, err := FromList(l)
	if err != nil {
		t.Fatal(err)
	}
	p := m.(*Publish)
	if _, ok := p.Options["a"].(Dict); !ok {
		t.Errorf("nested options map not converted: %T", p.Options["a"])
	}
	inner := p.Arguments[0].(Dict)["x"].([]any)[0]
	if _, ok := inner.(Dict); !ok {
		t.Errorf("nested payload map not converted: %T", inner)
	}
	if _, ok := p.ArgumentsKw["k"].(Dict); !ok {
		t.Errorf("kwargs nested map not converted")
	}
	if _, err := json.Marshal(ToList(m)); err != nil {
		t.Errorf("normalised message does not encode as JSON: %v", err)
	}
}

func TestFromListRejects(t *testing.T) {
	cases := []struct {
		name string
		l    []any
		want string
	}{
		{"empty", []any{}, "empty message"},
		{"type not int", []any{"1", "realm", Dict{}}, "message type is not an integer"},
		{"type fraction", []any{1.5, "realm", Dict{}}, "not an integer"},
		{"unknown type", []any{999, 1}, "unknown message type 999"},
		{"unknown 7", []any{7, 1}, "unknown message type 7"},
		{"hello short", []any{1, "realm"}, "HELLO: 2 elements, want 3"},
		{"hello long", []any{1, "realm", Dict{}, 1}, "HELLO: 4 elements, want 3"},
		{"hello realm int", []any{1, 5, Dict{}}, "URI is not a string"},
		{"hello details list", []any{1, "r", []any{}}, "not a dict"},
		{"id zero", []any{48, 0, Dict{}, "p"}, "not an id"},
		{"id negative", []any{48, -3, Dict{}, "p"}, "not an id"},
		{"id too big", []any{48, float64(1<<53 + 2), Dict{}, "p"}, "not an id"},
		{"id huge uint", []any{48, uint64(1 << 63), Dict{}, "p"}, "not an id"},
		{"id string", []any{48, "1", Dict{}, "p"}, "not an id"},
		{"args not list", []any{48, 1, Dict{}, "p", Dict{}}, "Arguments is not a list"},
		{"args a string", []any{48, 1, Dict{}, "p", "x", Dict{}}, "Arguments is not a list"},
		{"kwargs not dict", []any{48, 1, Dict{}, "p", []any{}, []any{}}, "ArgumentsKw is not a dict"},
		{"too many", []any{48, 1, Dict{}, "p", []any{}, Dict{}, 1}, "7 elements"},
		{"non-string key", []any{48, 1, map[any]any{1: true}, "p"}, "string keys"},
		{"non-string key in payload", []any{48, 1, Dict{}, "p", []any{map[any]any{1: 2}}}, "map key"},
		{"error bad request type", []any{8, 1, 1, Dict{}, "wamp.error.x"}, "invalid REQUEST.Type 1"},
		{"error type string", []any{8, "x", 1, Dict{}, "wamp.error.x"}, "non-negative"},
		{"bool as int", []any{48, true, Dict{}, "p"}, "not an id"},
		{"challenge method int", []any{4, 1, Dict{}}, "not a string"},
		{"unsubscribed extra", []any{35, 1, Dict{}, 1}, "4 elements, want 2 to 3"},
		{"unsubscribed zero without details", []any{35, 0}, "not an id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := FromList(c.l)
			if err == nil {
				t.Fatalf("accepted: %#v", m)
			}
			var pe *ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("not a ProtocolError: %v", err)
			}
			if !strings.Contains(pe.Message, c.want) {
				t.Errorf("message %q does not contain %q", pe.Message, c.want)
			}
		})
	}
}

func TestFromListAcceptsMaxID(t *testing.T) {
	m, err := FromList([]any{int64(17), uint64(MaxID), float64(MaxID)})
	if err != nil {
		t.Fatal(err)
	}
	if p := m.(*Published); p.Request != MaxID || p.Publication != MaxID {
		t.Errorf("%#v", p)
	}
}

func FuzzFromList(f *testing.F) {
	for _, s := range []string{
		`[1,"realm1",{"roles":{"caller":{}}}]`, `[48,1,{},"com.p",[1,2],{"a":1}]`,
		`[8,68,1,{},"com.error",[]]`, `[36,1,2,{"topic":"a.b"},[null,1.5]]`, `[999]`, `[]`,
		`[70,1,{"progress":true}]`, `[3,{},"wamp.error.x"]`, `[16,9007199254740992,{},"t"]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var l []any
		if json.Unmarshal(b, &l) != nil {
			return
		}
		m, err := FromList(l)
		if err != nil {
			if m != nil {
				t.Fatal("message and error")
			}
			return
		}
		// A valid message re-encodes and parses to the same list.
		l1 := ToList(m)
		b1, err := json.Marshal(l1)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		var back []any
		if err := json.Unmarshal(b1, &back); err != nil {
			t.Fatal(err)
		}
		m2, err := FromList(back)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", b1, err)
		}
		b2, _ := json.Marshal(ToList(m2))
		if string(b1) != string(b2) {
			t.Fatalf("unstable: %s vs %s", b1, b2)
		}
	})
}

// TestNullArgumentsWithKw: the nexus client sends null Arguments before
// ArgumentsKw; it decodes as no arguments, and re-encodes as an empty list.
func TestNullArgumentsWithKw(t *testing.T) {
	m, err := FromList([]any{48, 1, Dict{}, "p", nil, map[string]any{"k": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	c := m.(*Call)
	if len(c.Arguments) != 0 || c.ArgumentsKw["k"] != "v" {
		t.Fatalf("got %+v", c)
	}
	l := ToList(c)
	if args, ok := l[4].([]any); !ok && l[4] != nil {
		t.Fatalf("re-encoded Arguments %T %v", l[4], l[4])
	} else if len(args) != 0 {
		t.Fatalf("re-encoded Arguments %v", args)
	}
}
