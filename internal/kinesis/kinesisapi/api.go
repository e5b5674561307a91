// Package kinesisapi is the Kinesis Data Streams wire protocol (AWS JSON 1.1
// and CBOR 1.1, X-Amz-Target "Kinesis_20131202.<Op>") over the kinesis
// domain service, including SubscribeToShard as an HTTP/2 event stream.
package kinesisapi

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"skyhub/internal/aws/awsproto"
	"skyhub/internal/errs"
	"skyhub/internal/kinesis"
)

// TargetPrefix is the X-Amz-Target prefix the edge routes here.
const TargetPrefix = "Kinesis_20131202"

// MaxBody bounds a request body (PutRecords may carry 10 MiB of data, in
// base64 in JSON).
const MaxBody = 16 << 20

// Config configures the handler.
type Config struct {
	Service *kinesis.Service
	Log     *slog.Logger
}

// Handler serves the Kinesis API.
type Handler struct {
	svc *kinesis.Service
	log *slog.Logger
}

// New returns a handler.
func New(cfg Config) *Handler {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Handler{svc: cfg.Service, log: cfg.Log}
}

func apiErr(code, msg string) error { return awsproto.NewError(400, code, msg) }

// kindMap maps error kinds to Kinesis's codes.
var kindMap = awsproto.KindMap{
	errs.NotFound:    awsproto.NewError(400, "ResourceNotFoundException", ""),
	errs.Exists:      awsproto.NewError(400, "ResourceInUseException", ""),
	errs.Conflict:    awsproto.NewError(400, "ResourceInUseException", ""),
	errs.Invalid:     awsproto.NewError(400, "InvalidArgumentException", ""),
	errs.TooLarge:    awsproto.NewError(400, "InvalidArgumentException", ""),
	errs.RateLimited: awsproto.NewError(400, "ProvisionedThroughputExceededException", ""),
	errs.Unavailable: awsproto.NewError(503, "ServiceUnavailable", "Service is unavailable."),
	errs.Internal:    {Code: "InternalFailure", Status: 500, Message: "The server encountered an internal error.", Fault: "Receiver"},
}

// toAWS maps an error to the AWS error a Kinesis client expects.
func toAWS(err error) *awsproto.Error {
	var ae *awsproto.Error
	if errors.As(err, &ae) {
		return ae
	}
	msg := errs.Message(err, "")
	for _, c := range []struct {
		sentinel error
		code     string
	}{{kinesis.ErrExpiredIterator, "ExpiredIteratorException"}, {kinesis.ErrLimitExceeded, "LimitExceededException"},
		{kinesis.ErrExpiredNextToken, "ExpiredNextTokenException"}, {kinesis.ErrValidation, "ValidationException"}} {
		if errors.Is(err, c.sentinel) {
			return awsproto.NewError(400, c.code, msg)
		}
	}
	return awsproto.As(err, kindMap)
}

// awsCode maps an error to (HTTP status, AWS code, message).
func awsCode(err error) (int, string, string) {
	e := toAWS(err)
	return e.HTTPStatus(), e.Code, e.Message
}

// writeError renders an error: JSON 1.1 through awsproto; two Kinesis
// variants awsproto has no renderer for stay here: CBOR 1.1
// (application/x-amz-cbor-1.1, what the Java SDK/KCL parse) and
// SerializationException, whose message member AWS spells "Message".
func writeError(w http.ResponseWriter, r *http.Request, isCBOR bool, err error) {
	e := toAWS(err)
	if !isCBOR && e.Code != "SerializationException" {
		awsproto.WriteJSONError(w, r, awsproto.JSON11, "", e)
		return
	}
	key := "message"
	if e.Code == "SerializationException" {
		key = "Message"
	}
	fields := map[string]string{"__type": e.Code}
	if e.Message != "" {
		fields[key] = e.Message // AWS leaves an empty message out
	}
	body, _ := json.Marshal(fields)
	ct := ctJSON
	if isCBOR {
		if b, cerr := jsonToCBOR(body); cerr == nil {
			body, ct = b, ctCBOR
		}
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("x-amzn-ErrorType", e.Code)
	w.WriteHeader(e.HTTPStatus())
	w.Write(body)
}

// amzID2 returns a fresh x-amz-id-2 value: 72 random bytes in base64.
func amzID2() string {
	var b [72]byte
	for i := 0; i < len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], rand.Uint64())
	}
	return base64.StdEncoding.EncodeToString(b[:])
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Kinesis writes request IDs as lower-case UUIDs (the edge's ID, case
	// folded) and x-amz-id-2 as an opaque base64 token of 72 bytes.
	awsproto.SetRequestIDHeaders(w.Header(), strings.ToLower(awsproto.RequestID(r.Context())))
	w.Header()["X-Amz-Id-2"] = []string{amzID2()}
	isCBOR := strings.HasPrefix(r.Header.Get("Content-Type"), ctCBOR)
	_, op, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
	if r.Method != http.MethodPost {
		writeError(w, r, isCBOR, apiErr("UnknownOperationException", ""))
		return
	}
	body, err := readBody(r)
	if err != nil {
		writeError(w, r, isCBOR, apiErr("SerializationException", "could not read request body"))
		return
	}
	if len(body) > MaxBody {
		writeError(w, r, isCBOR, awsproto.NewError(413, "SerializationException", "request body too large"))
		return
	}
	if len(body) == 0 && !isCBOR {
		// AWS JSON 1.1 wants a JSON document, "{}" at least.
		writeError(w, r, isCBOR, apiErr("SerializationException", ""))
		return
	}
	if op == "SubscribeToShard" {
		h.subscribe(w, r, isCBOR, body)
		return
	}
	out, err := h.Dispatch(r.Context(), op, isCBOR, body)
	if err != nil {
		if st, _, _ := awsCode(err); st >= 500 {
			h.log.Error("kinesis request failed", "op", op, "err", err)
		}
		writeError(w, r, isCBOR, err)
		return
	}
	if _, ok := out.(empty); ok {
		// Operations without output answer with an empty body, as AWS does.
		w.Header().Set("Content-Type", ctJSON)
		if isCBOR {
			w.Header().Set("Content-Type", ctCBOR)
		}
		return
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	b, ok := render((*bp)[:0], out)
	if ok {
		if cap(b) <= maxPooledBuf {
			*bp = b
		}
	} else if b, err = json.Marshal(out); err != nil {
		writeError(w, r, isCBOR, errs.E("kinesisapi", errs.Internal, err))
		return
	}
	ct := ctJSON
	if isCBOR {
		if b, err = jsonToCBOR(b); err != nil {
			writeError(w, r, false, errs.E("kinesisapi", errs.Internal, err))
			return
		}
		ct = ctCBOR
	}
	w.Header().Set("Content-Type", ct)
	w.Write(b)
}

// bufPool holds answer buffers for the rendered answers; buffers above
// maxPooledBuf (a 10 MiB GetRecords) are left to the collector.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

const maxPooledBuf = 1 << 20

// DecodeRequest decodes a JSON or CBOR body into v (exported for fuzzing via
// Dispatch).
func decode(op string, isCBOR bool, body []byte, v any) error {
	if isCBOR {
		j, err := cborToJSON(body)
		if err != nil {
			return apiErr("SerializationException", "")
		}
		body = j
	}
	_, err := decodeTop(op, body, v)
	return err
}

// decodeTop decodes a JSON body into v and returns its top-level members.
func decodeTop(op string, body []byte, v any) (map[string]any, error) {
	if len(body) == 0 {
		body = []byte("{}")
	}
	body, top, err := typecheck(op, body)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, apiErr("SerializationException", fmt.Sprintf("Unexpected value type in payload for field %s", te.Field))
		}
		return nil, apiErr("SerializationException", "")
	}
	return top, nil
}

// validator collects validation failures as AWS words them. top holds the
// request's top-level members, so that an empty string is told apart from
// a missing (or null) member: AWS reports "" against the length and pattern
// constraints, a missing member as null.
type validator struct {
	msgs []string
	top  map[string]any // the request's top-level members (from typecheck)
	body []byte         // the request as JSON (CBOR converted), for nested presence
}

// maxValidationMsgs is how many failures AWS lists (the count says the same).
const maxValidationMsgs = 10

// decode decodes the body into v and records which members were present.
func (v *validator) decode(op string, isCBOR bool, body []byte, dst any) error {
	if isCBOR {
		j, err := cborToJSON(body)
		if err != nil {
			return apiErr("SerializationException", "")
		}
		body, isCBOR = j, false
	}
	v.body = body
	top, err := decodeTop(op, body, dst)
	v.top = top
	return err
}

// has reports whether a member was sent (non-null); field is named as in
// messages ("streamName" for StreamName).
func (v *validator) has(field string) bool {
	if field == "" || v.top == nil {
		return false
	}
	return v.top[strings.ToUpper(field[:1])+field[1:]] != nil
}

var namePattern = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)

func (v *validator) add(val any, field, constraint string) {
	if len(v.msgs) >= maxValidationMsgs {
		return
	}
	var s string
	switch x := val.(type) {
	case nil:
		s = "null"
	case *int:
		if x == nil {
			s = "null"
		} else {
			s = fmt.Sprintf("'%d'", *x)
		}
	default:
		s = fmt.Sprintf("'%v'", x)
	}
	v.msgs = append(v.msgs, fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: Member must %s", s, field, constraint))
}

func (v *validator) name(field, val string, required bool, max int) {
	if val == "" {
		if v.has(field) {
			v.add(val, field, "satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
			v.add(val, field, "have length greater than or equal to 1")
		} else if required {
			v.add(nil, field, "not be null")
		}
		return
	}
	if !namePattern.MatchString(val) {
		v.add(val, field, "satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
	}
	if len(val) > max {
		v.add(val, field, fmt.Sprintf("have length less than or equal to %d", max))
	}
}

// pattern checks an optional (or required) string against a pattern; an
// empty string fails the pattern only.
func (v *validator) pattern(field, val string, required bool, re *regexp.Regexp, desc string) {
	if val == "" && !v.has(field) {
		if required {
			v.add(nil, field, "not be null")
		}
		return
	}
	if !re.MatchString(val) {
		v.add(val, field, "satisfy regular expression pattern: "+desc)
	}
}

// length checks an optional string's length (a missing member passes; a
// required one is checked with notNull first).
func (v *validator) length(field, val string, lo, hi int) {
	if val == "" && !v.has(field) {
		return
	}
	if len(val) < lo {
		v.add(val, field, fmt.Sprintf("have length greater than or equal to %d", lo))
	}
	if len(val) > hi {
		v.add(val, field, fmt.Sprintf("have length less than or equal to %d", hi))
	}
}

func (v *validator) intRange(field string, val *int, lo, hi int, required bool) {
	if val == nil {
		if required {
			v.add(nil, field, "not be null")
		}
		return
	}
	if *val < lo {
		v.add(val, field, fmt.Sprintf("have value greater than or equal to %d", lo))
	}
	if *val > hi {
		v.add(val, field, fmt.Sprintf("have value less than or equal to %d", hi))
	}
}

func (v *validator) oneOf(field, val string, required bool, set ...string) {
	if val == "" && !v.has(field) {
		if required {
			v.add(nil, field, "not be null")
		}
		return
	}
	for _, s := range set {
		if s == val {
			return
		}
	}
	v.add(val, field, "satisfy enum value set: ["+strings.Join(set, ", ")+"]")
}

func (v *validator) arn(field, val string, required bool) {
	if val == "" {
		if v.has(field) {
			v.add(val, field, "have length greater than or equal to 1")
		} else if required {
			v.add(nil, field, "not be null")
		}
		return
	}
	if !strings.HasPrefix(val, "arn:") || len(val) > 2048 {
		v.add(val, field, "satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:.+")
	}
}

func (v *validator) err() error {
	if len(v.msgs) == 0 {
		return nil
	}
	word := "error"
	if len(v.msgs) > 1 {
		word = "errors"
	}
	return apiErr("ValidationException", fmt.Sprintf("%d validation %s detected: %s", len(v.msgs), word, strings.Join(v.msgs, "; ")))
}

// readBody reads at most MaxBody+1 bytes, sized by Content-Length when known.
func readBody(r *http.Request) ([]byte, error) {
	if n := r.ContentLength; n > 0 && n <= MaxBody {
		b := make([]byte, n)
		if _, err := io.ReadFull(r.Body, b); err != nil {
			return nil, err
		}
		return b, nil
	}
	return io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
}
