package skynet

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"skyhub/internal/device"
	"skyhub/internal/errs"
)

// rawKeys keep their string form even when they look like JSON (a numeric
// uuid or token stays a string).
var rawKeys = map[string]bool{"uuid": true, "token": true}

// ParseBody parses a request body the way the original restify server saw
// it: JSON whatever the Content-Type, else a form. Form values are
// JSON-typed when they parse as JSON ("3" is a number, "true" a boolean,
// "[1,2]" an array), else kept as strings. An empty body gives no fields. A
// body that is neither a JSON object nor a form is an Invalid error.
func ParseBody(contentType string, body []byte) (device.Device, error) {
	const op = "skynet.ParseBody"
	b := bytes.TrimSpace(body)
	if len(b) == 0 {
		return device.Device{}, nil
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	isJSON := mt == "application/json" || strings.HasSuffix(mt, "+json")
	if b[0] == '{' || isJSON {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var m map[string]any
		err := dec.Decode(&m)
		if err == nil && dec.More() {
			err = errors.New("data after the JSON object")
		}
		if err == nil && m != nil {
			return device.Device(m), nil
		}
		if isJSON || b[0] == '{' {
			return nil, errs.E(op, errs.Invalid, "Invalid JSON body: expected one JSON object", err)
		}
	}
	vals, err := url.ParseQuery(string(b))
	if err != nil {
		return nil, errs.E(op, errs.Invalid, "Invalid body: neither a JSON object nor a form", err)
	}
	return formFields(vals), nil
}

func formFields(vals url.Values) device.Device {
	d := device.Device{}
	for k, vs := range vals {
		if k == "" || len(vs) == 0 {
			continue
		}
		d[k] = typed(k, vs[len(vs)-1])
	}
	return d
}

func typed(k, v string) any {
	if rawKeys[k] {
		return v
	}
	t := strings.TrimSpace(v)
	if t == "" {
		return v
	}
	dec := json.NewDecoder(strings.NewReader(t))
	dec.UseNumber()
	var x any
	if dec.Decode(&x) != nil || dec.More() {
		return v
	}
	return x
}

// params reads the body (bounded by max: TooLarge past it) and merges the
// query string under it, as restify's mapParams did.
func params(r *http.Request, max int64) (device.Device, error) {
	const op = "skynet.params"
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, max))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errs.E(op, errs.TooLarge, "request body too large")
		}
		return nil, errs.E(op, errs.Invalid, "could not read the request body", err)
	}
	p, err := ParseBody(r.Header.Get("Content-Type"), body)
	if err != nil {
		return nil, err
	}
	for k, v := range formFields(r.URL.Query()) {
		if _, set := p[k]; !set {
			p[k] = v
		}
	}
	return p, nil
}

// queryFilter is the query string as a registry filter (auth fields out).
func queryFilter(r *http.Request) map[string]string {
	f := map[string]string{}
	for k, vs := range r.URL.Query() {
		if k == "token" || len(vs) == 0 {
			continue
		}
		f[k] = vs[len(vs)-1]
	}
	return f
}
