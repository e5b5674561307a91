// Package ddbapi is DynamoDB's wire: the JSON 1.0 protocol of the 2012-08-10
// API (X-Amz-Target DynamoDB_20120810.*), DynamoDB Streams
// (DynamoDBStreams_20120810.*) and the legacy 2011-12-05 API that boto 2's
// boto.dynamodb speaks (DynamoDB_20111205.*), all onto the same tables.
// Every response carries x-amz-crc32; errors use DynamoDB's namespaced
// __type codes and messages.
package ddbapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"hash/crc32"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"skyhub/internal/aws/awsproto"
	"skyhub/internal/dynamo"
	"skyhub/internal/dynamo/attr"
	"skyhub/internal/dynamo/expr"
	"skyhub/internal/errs"
)

// Target prefixes this package serves.
const (
	TargetPrefix        = "DynamoDB_20120810"
	LegacyTargetPrefix  = "DynamoDB_20111205"
	StreamsTargetPrefix = "DynamoDBStreams_20120810"
)

const (
	nsV2       = "com.amazonaws.dynamodb.v20120810"
	nsLegacy   = "com.amazonaws.dynamodb.v20111205"
	nsValidate = "com.amazon.coral.validate"
	nsService  = "com.amazon.coral.service"
)

// Config configures the handler.
type Config struct {
	Service *dynamo.Service
	Log     *slog.Logger
	// MaxBody bounds a request body (default 16 MiB + slack).
	MaxBody int64
}

// Handler serves the three target prefixes.
type Handler struct {
	svc  *dynamo.Service
	log  *slog.Logger
	max  int64
	ops  map[string]opFunc
	lops map[string]opFunc
	sops map[string]opFunc
}

type opFunc func(ctx context.Context, body []byte) (any, error)

// New returns the handler.
func New(cfg Config) *Handler {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 17 << 20
	}
	h := &Handler{svc: cfg.Service, log: cfg.Log, max: cfg.MaxBody}
	h.ops = map[string]opFunc{
		"CreateTable": h.createTable, "DescribeTable": h.describeTable, "ListTables": h.listTables,
		"DeleteTable": h.deleteTable, "UpdateTable": h.updateTable,
		"PutItem": h.putItem, "GetItem": h.getItem, "DeleteItem": h.deleteItem, "UpdateItem": h.updateItem,
		"Query": h.query, "Scan": h.scan, "BatchGetItem": h.batchGet, "BatchWriteItem": h.batchWrite,
		"TransactWriteItems": h.transactWrite, "TransactGetItems": h.transactGet,
		"UpdateTimeToLive": h.updateTTL, "DescribeTimeToLive": h.describeTTL,
		"TagResource": h.tagResource, "UntagResource": h.untagResource, "ListTagsOfResource": h.listTags,
		"DescribeLimits": h.describeLimits, "DescribeEndpoints": h.describeEndpoints,
		"DescribeContinuousBackups": h.describeBackups,
		"ExecuteStatement":          h.executeStatement, "BatchExecuteStatement": h.batchExecuteStatement,
		"ExecuteTransaction": h.executeTransaction,
	}
	h.lops = map[string]opFunc{
		"CreateTable": h.lCreateTable, "DescribeTable": h.lDescribeTable, "ListTables": h.lListTables,
		"DeleteTable": h.lDeleteTable, "UpdateTable": h.lUpdateTable,
		"PutItem": h.lPutItem, "GetItem": h.lGetItem, "DeleteItem": h.lDeleteItem, "UpdateItem": h.lUpdateItem,
		"Query": h.lQuery, "Scan": h.lScan, "BatchGetItem": h.lBatchGet, "BatchWriteItem": h.lBatchWrite,
	}
	h.sops = map[string]opFunc{
		"ListStreams": h.listStreams, "DescribeStream": h.describeStream,
		"GetShardIterator": h.getShardIterator, "GetRecords": h.getRecords,
	}
	return h
}

// crcWriter buffers a response so that x-amz-crc32 can be set for its body.
type crcWriter struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (c *crcWriter) WriteHeader(s int) {
	if c.status == 0 {
		c.status = s
	}
}

func (c *crcWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return c.buf.Write(b)
}

func (c *crcWriter) flush() {
	awsproto.SetCRC32(c.ResponseWriter.Header(), c.buf.Bytes())
	c.ResponseWriter.Header().Set("Content-Length", strconv.Itoa(c.buf.Len()))
	if c.status == 0 {
		c.status = http.StatusOK
	}
	c.ResponseWriter.WriteHeader(c.status)
	c.ResponseWriter.Write(c.buf.Bytes())
}

// ServeHTTP implements http.Handler. Successful answers are written
// straight from the operation's output with x-amz-crc32 computed over it;
// errors go through crcWriter.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	prefix, op, _ := strings.Cut(target, ".")
	legacy := prefix == LegacyTargetPrefix
	var table map[string]opFunc
	switch prefix {
	case TargetPrefix:
		table = h.ops
	case LegacyTargetPrefix:
		table = h.lops
	case StreamsTargetPrefix:
		table = h.sops
	}
	fn := table[op]
	if r.Method != http.MethodPost || fn == nil {
		h.fail(w, r, legacy, &apiError{aws: &awsproto.Error{Code: "UnknownOperationException", Status: 400}, ns: nsService})
		return
	}
	bp := bufPool.Get().(*[]byte)
	defer putBuf(bp)
	body, err := readBody(r, (*bp)[:0], h.max)
	if err != nil {
		h.fail(w, r, legacy, &apiError{aws: &awsproto.Error{Code: "SerializationException", Message: "failed to read the request body"}, ns: nsService})
		return
	}
	*bp = body
	if int64(len(body)) > h.max {
		h.fail(w, r, legacy, &apiError{aws: &awsproto.Error{Code: "ValidationException", Message: "Request size exceeded limit"}, ns: nsValidate})
		return
	}
	out, err := fn(r.Context(), body)
	if err != nil {
		h.fail(w, r, legacy, err)
		return
	}
	var b []byte
	switch v := out.(type) {
	case *outBuf:
		b = v.b
		defer v.release()
	case []byte:
		b = v
	default:
		b, err = json.Marshal(v)
		if err != nil {
			h.fail(w, r, legacy, err)
			return
		}
	}
	hd := w.Header()
	if _, ok := hd["X-Amzn-Requestid"]; !ok {
		awsproto.SetRequestIDHeaders(hd, awsproto.RequestID(r.Context()))
	}
	// Canonical keys set directly: Header.Set would canonicalise (and
	// allocate) on every response.
	vals := make([]string, 2)
	vals[0] = strconv.FormatUint(uint64(crc32.ChecksumIEEE(b)), 10)
	vals[1] = strconv.Itoa(len(b))
	hd["X-Amz-Crc32"] = vals[0:1:1]
	hd["Content-Type"] = contentTypeJSON10
	hd["Content-Length"] = vals[1:2:2]
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

var contentTypeJSON10 = []string{awsproto.JSONContentType(awsproto.JSON10)}

// fail renders an error answer (buffered, so x-amz-crc32 covers it).
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, legacy bool, err error) {
	cw := &crcWriter{ResponseWriter: w}
	h.renderError(cw, r, legacy, err)
	cw.flush()
}

// Request bodies are read into pooled buffers: no operation keeps a
// reference to its body (every decoder copies what it keeps).
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

func putBuf(bp *[]byte) {
	if cap(*bp) <= 64<<10 {
		*bp = (*bp)[:0]
		bufPool.Put(bp)
	}
}

// readBody reads the body into buf, up to max+1 bytes.
func readBody(r *http.Request, buf []byte, max int64) ([]byte, error) {
	if r.Body == nil {
		return buf, nil
	}
	if n := r.ContentLength; n >= 0 && n <= max {
		if int64(cap(buf)) < n {
			buf = make([]byte, 0, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(r.Body, buf); err != nil {
			return nil, err
		}
		// anything past Content-Length is not part of this request; a
		// length that lies short is the server's concern
		return buf, nil
	}
	lr := io.LimitReader(r.Body, max+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// outBuf is an operation's rendered answer in a pooled buffer; ServeHTTP
// returns it to the pool once written.
type outBuf struct{ b []byte }

var outPool = sync.Pool{New: func() any { return &outBuf{b: make([]byte, 0, 1024)} }}

func newOut() *outBuf {
	o := outPool.Get().(*outBuf)
	o.b = o.b[:0]
	return o
}

func (o *outBuf) release() {
	if cap(o.b) <= 256<<10 {
		outPool.Put(o)
	}
}

// apiError carries extra body fields (CancellationReasons, Item).
type apiError struct {
	aws    *awsproto.Error
	ns     string
	fields map[string]any
}

func (e *apiError) Error() string { return e.aws.Error() }

func validation(msg string) error {
	return &apiError{aws: &awsproto.Error{Code: "ValidationException", Message: msg}, ns: nsValidate}
}

func serialization(msg string) error {
	return &apiError{aws: &awsproto.Error{Code: "SerializationException", Message: msg}, ns: nsService}
}

func (h *Handler) renderError(w http.ResponseWriter, r *http.Request, legacy bool, err error) {
	ae := h.toAPIError(err, legacy)
	if len(ae.fields) > 0 {
		writeErrFields(w, r, ae)
		return
	}
	writeErr(w, r, legacy, ae.aws, ae.ns)
}

func (h *Handler) toAPIError(err error, legacy bool) *apiError {
	nsApp := nsV2
	if legacy {
		nsApp = nsLegacy
	}
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var te *dynamo.TxCanceledError
	if errors.As(err, &te) {
		reasons := make([]map[string]any, len(te.Reasons))
		for i, r := range te.Reasons {
			m := map[string]any{"Code": r.Code}
			if r.Message != "" {
				m["Message"] = r.Message
			}
			if r.Item != nil {
				m["Item"] = r.Item
			}
			reasons[i] = m
		}
		return &apiError{aws: &awsproto.Error{Code: "TransactionCanceledException", Message: te.Error()}, ns: nsApp,
			fields: map[string]any{"CancellationReasons": reasons}}
	}
	var ce *dynamo.CondFailedError
	if errors.As(err, &ce) {
		a := &apiError{aws: &awsproto.Error{Code: "ConditionalCheckFailedException", Message: ce.Error()}, ns: nsApp}
		if ce.Item != nil {
			a.fields = map[string]any{"Item": ce.Item}
		}
		return a
	}
	var ie dynamo.IdempotencyError
	if errors.As(err, &ie) {
		return &apiError{aws: &awsproto.Error{Code: "IdempotentParameterMismatchException", Message: ie.Error()}, ns: nsApp}
	}
	var xe *expr.Error
	if errors.As(err, &xe) {
		return &apiError{aws: &awsproto.Error{Code: "ValidationException", Message: xe.Msg}, ns: nsValidate}
	}
	var ve attr.ValidationError
	if errors.As(err, &ve) {
		return &apiError{aws: &awsproto.Error{Code: "ValidationException", Message: string(ve)}, ns: nsValidate}
	}
	msg := errs.Message(err, "")
	switch errs.KindOf(err) {
	case errs.Invalid, errs.TooLarge:
		return &apiError{aws: &awsproto.Error{Code: "ValidationException", Message: msg}, ns: nsValidate}
	case errs.NotFound:
		return &apiError{aws: &awsproto.Error{Code: "ResourceNotFoundException", Message: msg}, ns: nsApp}
	case errs.Exists, errs.Conflict:
		return &apiError{aws: &awsproto.Error{Code: "ResourceInUseException", Message: msg}, ns: nsApp}
	case errs.RateLimited:
		return &apiError{aws: &awsproto.Error{Code: "LimitExceededException", Message: msg}, ns: nsApp}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &apiError{aws: &awsproto.Error{Code: "RequestCanceledException", Message: "The request was cancelled"}, ns: nsApp}
	}
	h.log.Error("dynamodb internal error", "err", err)
	return &apiError{aws: &awsproto.Error{Code: "InternalServerError", Status: 500, Message: "Internal server error"}, ns: nsApp}
}

func writeErr(w http.ResponseWriter, r *http.Request, legacy bool, e *awsproto.Error, ns string) {
	awsproto.WriteJSONError(w, r, awsproto.JSON10, ns, e)
}

// writeErrFields renders DynamoDB's error envelope with extra members
// (TransactionCanceledException's CancellationReasons, the Item of
// ConditionalCheckFailedException), which the generic envelope lacks.
func writeErrFields(w http.ResponseWriter, r *http.Request, ae *apiError) {
	m := map[string]any{"__type": ae.ns + "#" + ae.aws.Code, "message": ae.aws.Message}
	for k, v := range ae.fields {
		m[k] = v
	}
	if ae.aws.Code == "TransactionCanceledException" {
		m["Message"] = ae.aws.Message
	}
	body, _ := json.Marshal(m)
	hd := w.Header()
	awsproto.SetRequestIDHeaders(hd, awsproto.RequestID(r.Context()))
	hd.Set("Content-Type", awsproto.JSONContentType(awsproto.JSON10))
	w.WriteHeader(ae.aws.HTTPStatus())
	w.Write(body)
}

// decode parses a request body into v, mapping errors to DynamoDB's.
func decode(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	err := json.Unmarshal(body, v)
	if err == nil {
		return nil
	}
	var ve attr.ValidationError
	if errors.As(err, &ve) {
		return validation(string(ve))
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return serialization(typeErrMsg(te))
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return serialization("Start of structure or map found where not expected.")
	}
	return serialization("Unexpected request body.")
}

func typeErrMsg(te *json.UnmarshalTypeError) string {
	src := map[string]string{"number": "NUMBER_VALUE", "string": "STRING_VALUE", "bool": "TRUE_VALUE",
		"array": "Start of list found where not expected", "object": "Start of structure or map found where not expected."}[te.Value]
	if te.Value == "array" || te.Value == "object" {
		return src
	}
	want := "String"
	switch te.Type.Kind().String() {
	case "int", "int64", "int32":
		want = "Integer"
	case "bool":
		want = "Boolean"
	case "slice":
		return "Unexpected field type"
	case "map", "struct":
		return "Unexpected value type in payload"
	}
	if src == "" {
		src = "Value"
	}
	return src + " cannot be converted to " + want
}

func required(name string) error {
	return validation("1 validation error detected: Value null at '" + name + "' failed to satisfy constraint: Member must not be null")
}
