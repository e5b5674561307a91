package awsproto

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"

	"github.com/fxamacker/cbor/v2"
)

// JSONContentType returns the Content-Type of a JSON protocol.
func JSONContentType(p Protocol) string {
	if p == JSON11 {
		return "application/x-amz-json-1.1"
	}
	return "application/x-amz-json-1.0"
}

func copyHeader(w http.ResponseWriter, e *Error) {
	for k, vs := range e.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
}

// WriteJSONError renders e in the awsJson envelope:
// {"__type":"<namespace>#<Code>","message":"..."}; namespace may be empty
// (Kinesis uses bare codes). When the request asked for query compatibility
// (x-amzn-query-mode: true) or e has a QueryCode, x-amzn-query-error carries
// "<legacy code>;<Sender|Receiver>".
func WriteJSONError(w http.ResponseWriter, r *http.Request, p Protocol, namespace string, e *Error) {
	typ := e.Code
	if namespace != "" {
		typ = namespace + "#" + e.Code
	}
	h := w.Header()
	SetRequestIDHeaders(h, RequestID(r.Context()))
	h.Set("Content-Type", JSONContentType(p))
	if e.QueryCode != "" || strings.EqualFold(r.Header.Get("x-amzn-query-mode"), "true") {
		qc := e.QueryCode
		if qc == "" {
			qc = e.Code
		}
		h.Set("x-amzn-query-error", qc+";"+e.FaultType())
	}
	copyHeader(w, e)
	body, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{typ, e.Message})
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.HTTPStatus())
	w.Write(body)
}

// WriteJSON writes a successful awsJson response. v is marshalled with
// encoding/json unless it is already []byte or json.RawMessage.
func WriteJSON(w http.ResponseWriter, r *http.Request, p Protocol, v any) error {
	var body []byte
	switch b := v.(type) {
	case []byte:
		body = b
	case json.RawMessage:
		body = b
	default:
		var err error
		if body, err = json.Marshal(v); err != nil {
			return err
		}
	}
	h := w.Header()
	SetRequestIDHeaders(h, RequestID(r.Context()))
	h.Set("Content-Type", JSONContentType(p))
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(body)
	return err
}

// XMLHeader is the declaration every AWS XML body starts with.
const XMLHeader = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"

func escapeXML(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// WriteQueryError renders e in the query envelope:
// <ErrorResponse xmlns="ns"><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>.
func WriteQueryError(w http.ResponseWriter, r *http.Request, xmlns string, e *Error) {
	id := RequestID(r.Context())
	var b strings.Builder
	b.WriteString(XMLHeader)
	b.WriteString(`<ErrorResponse`)
	if xmlns != "" {
		b.WriteString(` xmlns="` + escapeXML(xmlns) + `"`)
	}
	b.WriteString(`><Error><Type>` + e.FaultType() + `</Type><Code>` + escapeXML(e.Code) +
		`</Code><Message>` + escapeXML(e.Message) + `</Message>`)
	b.WriteString(`<Detail/></Error><RequestId>` + id + `</RequestId></ErrorResponse>`)
	h := w.Header()
	SetRequestIDHeaders(h, id)
	h.Set("Content-Type", "text/xml")
	h.Set("Content-Length", strconv.Itoa(b.Len()))
	copyHeader(w, e)
	w.WriteHeader(e.HTTPStatus())
	w.Write([]byte(b.String()))
}

// WriteQueryResponse writes a successful query-protocol response:
// <{Action}Response xmlns=ns><{Action}Result>inner</{Action}Result>
// <ResponseMetadata><RequestId/></ResponseMetadata></{Action}Response>.
// inner is raw XML (already escaped); an empty inner omits the Result element
// when noResult is true.
func WriteQueryResponse(w http.ResponseWriter, r *http.Request, xmlns, action, inner string, noResult bool) {
	id := RequestID(r.Context())
	var b strings.Builder
	b.WriteString(XMLHeader)
	b.WriteString(`<` + action + `Response`)
	if xmlns != "" {
		b.WriteString(` xmlns="` + escapeXML(xmlns) + `"`)
	}
	b.WriteString(`>`)
	if !noResult {
		b.WriteString(`<` + action + `Result>` + inner + `</` + action + `Result>`)
	}
	b.WriteString(`<ResponseMetadata><RequestId>` + id + `</RequestId></ResponseMetadata></` + action + `Response>`)
	h := w.Header()
	SetRequestIDHeaders(h, id)
	h.Set("Content-Type", "text/xml")
	h.Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(b.String()))
}

// WriteRestXMLError renders e as S3 does: <Error><Code/><Message/>fields
// <RequestId/><HostId/></Error> with Content-Type application/xml; HEAD
// responses carry the status and headers only.
func WriteRestXMLError(w http.ResponseWriter, r *http.Request, e *Error) {
	id := RequestID(r.Context())
	h := w.Header()
	SetRequestIDHeaders(h, id)
	copyHeader(w, e)
	if r.Method == http.MethodHead {
		w.WriteHeader(e.HTTPStatus())
		return
	}
	var b strings.Builder
	b.WriteString(XMLHeader)
	b.WriteString(`<Error><Code>` + escapeXML(e.Code) + `</Code><Message>` + escapeXML(e.Message) + `</Message>`)
	for _, f := range e.Fields {
		b.WriteString(`<` + f[0] + `>` + escapeXML(f[1]) + `</` + f[0] + `>`)
	}
	b.WriteString(`<RequestId>` + id + `</RequestId><HostId>` + id + `</HostId></Error>`)
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(e.HTTPStatus())
	w.Write([]byte(b.String()))
}

// WriteXML writes status and v marshalled with encoding/xml after the XML
// declaration, Content-Type application/xml.
func WriteXML(w http.ResponseWriter, r *http.Request, status int, v any) error {
	body, err := xml.Marshal(v)
	if err != nil {
		return err
	}
	h := w.Header()
	SetRequestIDHeaders(h, RequestID(r.Context()))
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", strconv.Itoa(len(XMLHeader)+len(body)))
	w.WriteHeader(status)
	w.Write([]byte(XMLHeader))
	_, err = w.Write(body)
	return err
}

// WriteCBORError renders e for Smithy RPC v2 CBOR: a map with __type and
// message, Smithy-Protocol: rpc-v2-cbor.
func WriteCBORError(w http.ResponseWriter, r *http.Request, namespace string, e *Error) {
	typ := e.Code
	if namespace != "" {
		typ = namespace + "#" + e.Code
	}
	body, _ := cbor.Marshal(map[string]string{"__type": typ, "message": e.Message})
	h := w.Header()
	SetRequestIDHeaders(h, RequestID(r.Context()))
	h.Set("Smithy-Protocol", "rpc-v2-cbor")
	h.Set("Content-Type", "application/cbor")
	if e.QueryCode != "" || strings.EqualFold(r.Header.Get("x-amzn-query-mode"), "true") {
		qc := e.QueryCode
		if qc == "" {
			qc = e.Code
		}
		h.Set("x-amzn-query-error", qc+";"+e.FaultType())
	}
	copyHeader(w, e)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.HTTPStatus())
	w.Write(body)
}

// ErrorWriter renders an *Error in one protocol's envelope; services
// register one with the edge so edge-level failures (bad signatures) come
// out in the service's own envelope.
type ErrorWriter func(w http.ResponseWriter, r *http.Request, e *Error)

// WriteError renders e in protocol p's envelope with a service's namespace
// (JSON __type prefix or query xmlns; ignored for rest-xml).
func WriteError(w http.ResponseWriter, r *http.Request, p Protocol, namespace string, e *Error) {
	switch p {
	case Query:
		WriteQueryError(w, r, namespace, e)
	case JSON10, JSON11:
		WriteJSONError(w, r, p, namespace, e)
	case RPCv2CBOR:
		WriteCBORError(w, r, namespace, e)
	default:
		WriteRestXMLError(w, r, e)
	}
}
