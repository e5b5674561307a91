package skynet

import (
	"encoding/json"
	"testing"

	"skyhub/internal/errs"
)

func TestParseBody(t *testing.T) {
	cases := []struct {
		ctype, body string
		want        string // JSON of the fields, or "" for an Invalid error
	}{
		{"", "", `{}`},
		{"application/x-www-form-urlencoded", "name=mydevicename&token=mytoken&color=green", `{"color":"green","name":"mydevicename","token":"mytoken"}`},
		{"application/x-www-form-urlencoded", `{"devices": "u", "message": {"color": "red"}}`, `{"devices":"u","message":{"color":"red"}}`},
		{"", "count=3&on=true&list=[1,2]&token=123&uuid=42&empty=", `{"count":3,"empty":"","list":[1,2],"on":true,"token":"123","uuid":"42"}`},
		{"application/json", `{"a":1}`, `{"a":1}`},
		{"application/json; charset=utf-8", `{"big":12345678901234567890}`, `{"big":12345678901234567890}`},
		{"application/json", `{"a":`, ""},
		{"application/json", `[1]`, ""},
		{"text/plain", `{"a":1} {"b":2}`, ""},
		{"", "%zz=1", ""},
	}
	for _, c := range cases {
		got, err := ParseBody(c.ctype, []byte(c.body))
		if c.want == "" {
			if !errs.Is(err, errs.Invalid) {
				t.Errorf("%q: want Invalid error, got %v %v", c.body, got, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.body, err)
			continue
		}
		b, _ := json.Marshal(got)
		if string(b) != c.want {
			t.Errorf("%q: got %s want %s", c.body, b, c.want)
		}
	}
}

// FuzzParseBody: any input gives fields or an Invalid error, never a panic,
// and the fields always re-encode as JSON.
func FuzzParseBody(f *testing.F) {
	f.Add("", "name=mydevicename&token=mytoken&color=green")
	f.Add("application/json", `{"devices":"*","payload":{"x":[1,2,{"y":null}]}}`)
	f.Add("application/x-www-form-urlencoded", `{"devices": "u", "message": {"color": "red"}}`)
	f.Fuzz(func(t *testing.T, ctype, body string) {
		d, err := ParseBody(ctype, []byte(body))
		if err != nil {
			if !errs.Is(err, errs.Invalid) {
				t.Fatalf("error of kind %v: %v", errs.KindOf(err), err)
			}
			return
		}
		if _, err := json.Marshal(d); err != nil {
			t.Fatalf("fields do not re-encode: %v", err)
		}
	})
}
