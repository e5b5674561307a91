// Package kinesisapi is the Kinesis Data Streams wire protocol (AWS JSON 1.1
// and CBOR 1.1, X-Amz-Target "Kinesis_20131202.<Op>") over the kinesis
// domain service, including SubscribeToShard as an HTTP/2 event stream.
package kinesisapi

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"

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

// apiError is an error with its AWS code.
type apiError struct {
	code    string
	msg     string
	status  int
	capital bool // the body says "Message" (AWS's serialization errors do)
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func apiErr(code, msg string) error { return &apiError{code: code, msg: msg, status: 400} }

// awsCode maps an error to (HTTP status, AWS code, message).
func awsCode(err error) (int, string, string) {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.status, ae.code, ae.msg
	}
	if errors.Is(err, errSerialization) {
		return 400, "SerializationException", ""
	}
	msg := errs.Message(err, "")
	switch {
	case errors.Is(err, kinesis.ErrExpiredIterator):
		return 400, "ExpiredIteratorException", msg
	case errors.Is(err, kinesis.ErrLimitExceeded):
		return 400, "LimitExceededException", msg
	case errors.Is(err, kinesis.ErrExpiredNextToken):
		return 400, "ExpiredNextTokenException", msg
	case errors.Is(err, kinesis.ErrValidation):
		return 400, "ValidationException", msg
	}
	switch errs.KindOf(err) {
	case errs.NotFound:
		return 400, "ResourceNotFoundException", msg
	case errs.Exists, errs.Conflict:
		return 400, "ResourceInUseException", msg
	case errs.Invalid, errs.TooLarge:
		return 400, "InvalidArgumentException", msg
	case errs.RateLimited:
		return 400, "ProvisionedThroughputExceededException", msg
	case errs.Unavailable:
		return 503, "ServiceUnavailable", "Service is unavailable."
	}
	return 500, "InternalFailure", "The server encountered an internal error."
}

// writeError renders an error in the request's protocol (kept in one place
// so the shared awsproto renderer can replace it).
func writeError(w http.ResponseWriter, cbor bool, err error) {
	status, code, msg := awsCode(err)
	key := "message"
	var ae *apiError
	if errors.As(err, &ae) && ae.capital {
		key = "Message"
	}
	body, _ := json.Marshal(map[string]string{"__type": code, key: msg})
	ct := ctJSON
	if cbor {
		if b, e := jsonToCBOR(body); e == nil {
			body, ct = b, ctCBOR
		}
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("x-amzn-ErrorType", code)
	w.WriteHeader(status)
	w.Write(body)
}

func requestID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("x-amzn-RequestId", requestID())
	isCBOR := strings.HasPrefix(r.Header.Get("Content-Type"), ctCBOR)
	_, op, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
	if r.Method != http.MethodPost {
		writeError(w, isCBOR, apiErr("UnknownOperationException", ""))
		return
	}
	body, err := readBody(r)
	if err != nil {
		writeError(w, isCBOR, apiErr("SerializationException", "could not read request body"))
		return
	}
	if len(body) > MaxBody {
		writeError(w, isCBOR, &apiError{code: "SerializationException", msg: "request body too large", status: 413})
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
		writeError(w, isCBOR, err)
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
	b, err := json.Marshal(out)
	if err != nil {
		writeError(w, isCBOR, errs.E("kinesisapi", errs.Internal, err))
		return
	}
	ct := ctJSON
	if isCBOR {
		if b, err = jsonToCBOR(b); err != nil {
			writeError(w, false, errs.E("kinesisapi", errs.Internal, err))
			return
		}
		ct = ctCBOR
	}
	w.Header().Set("Content-Type", ct)
	w.Write(b)
}

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
	if len(body) == 0 {
		body = []byte("{}")
	}
	body, err := typecheck(op, body)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return apiErr("SerializationException", fmt.Sprintf("Unexpected value type in payload for field %s", te.Field))
		}
		return apiErr("SerializationException", "")
	}
	return nil
}

// validator collects validation failures as AWS words them.
type validator struct{ msgs []string }

var namePattern = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)

func (v *validator) add(val any, field, constraint string) {
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
		if required {
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

func (v *validator) required(field, val string) {
	if val == "" {
		v.add(nil, field, "not be null")
	}
}

func (v *validator) length(field, val string, lo, hi int) {
	if val == "" && lo == 0 {
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
	if val == "" {
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
		if required {
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
