// Package sqsapi is the Amazon SQS wire: all 23 actions of API version
// 2012-11-05 in the query protocol (GET or form POST, queue-URL paths such
// as /000000000000/name as boto 2 sends them, XML responses) and in JSON
// 1.0 (X-Amz-Target: AmazonSQS.<Action>, errors with x-amzn-query-error for
// query-compatible clients). One handler serves both; it is registered on
// the AWS edge for the query version and the JSON target prefix.
package sqsapi

import (
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"skyhub/internal/aws/awsproto"
	"skyhub/internal/aws/edge"
	"skyhub/internal/errs"
	"skyhub/internal/sqs"
)

// XMLNS is the namespace of every query-protocol response.
const XMLNS = "http://queue.amazonaws.com/doc/2012-11-05/"

// Version is the query API version SQS registers on the edge.
const Version = "2012-11-05"

// TargetPrefix is the JSON protocol's X-Amz-Target prefix.
const TargetPrefix = "AmazonSQS"

const jsonNamespace = "com.amazonaws.sqs"

// Config configures the API.
type Config struct {
	Service *sqs.Service
	Log     *slog.Logger
	// MaxBodyBytes bounds a request body; default 16 MiB (a 10-entry batch
	// of 1 MiB messages, form-encoded).
	MaxBodyBytes int64
	// Metrics, when set, receives skyhub_sqs_requests_total and
	// skyhub_sqs_messages_total.
	Metrics prometheus.Registerer
}

// API is the SQS wire handler.
type API struct {
	svc      *sqs.Service
	log      *slog.Logger
	max      int64
	handlers map[string]handler
	metrics  *metrics
}

// New returns the handler.
func New(cfg Config) *API {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 16 << 20
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	a := &API{svc: cfg.Service, log: cfg.Log, max: cfg.MaxBodyBytes, metrics: newMetrics(cfg.Metrics)}
	a.handlers = a.actions()
	return a
}

// call is one request being served.
type call struct {
	w      http.ResponseWriter
	r      *http.Request
	json   bool
	action string
	in     *input
}

// ServeHTTP serves both protocols: JSON when X-Amz-Target is present,
// query otherwise.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &call{w: w, r: r}
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		c.json = true
		prefix, action, _ := strings.Cut(t, ".")
		c.action = action
		if prefix != TargetPrefix {
			a.fail(c, sqs.Fail("sqsapi", sqs.CodeUnknownOperation, "Unknown operation %s", t))
			return
		}
	}
	body, err := readBody(http.MaxBytesReader(w, r.Body, a.max), r.ContentLength, a.max)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			a.fail(c, sqs.Fail("sqsapi", sqs.CodeInvalidParameterValue, "Request body larger than %d bytes.", a.max))
			return
		}
		a.fail(c, sqs.Fail("sqsapi", sqs.CodeSerialization, "Could not read the request body."))
		return
	}
	if c.json {
		c.in, err = decodeJSON(body)
	} else {
		var v url.Values
		v, err = queryParams(r, body)
		if err == nil {
			c.action = v.Get("Action")
			c.in, err = decodeQuery(v)
		}
	}
	if err != nil {
		a.fail(c, err)
		return
	}
	h := a.handlers[c.action]
	if h == nil {
		if c.json {
			a.fail(c, sqs.Fail("sqsapi", sqs.CodeUnknownOperation, "Unknown operation %s", c.action))
		} else {
			a.fail(c, sqs.Fail("sqsapi", sqs.CodeInvalidAction, "The action %s is not valid for this endpoint.", c.action))
		}
		return
	}
	if err := h(c); err != nil {
		a.fail(c, err)
		return
	}
	a.metrics.request(c.action, "ok")
}

// queryParams merges the URL query with a form body (POST).
func queryParams(r *http.Request, body []byte) (url.Values, error) {
	v, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, sqs.Fail("sqsapi", sqs.CodeSerialization, "The query string is malformed.")
	}
	ct := r.Header.Get("Content-Type")
	if len(body) > 0 && (ct == "" || strings.HasPrefix(ct, "application/x-www-form-urlencoded")) {
		b, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, sqs.Fail("sqsapi", sqs.CodeSerialization, "The request body is not a valid form.")
		}
		for k, vs := range b {
			v[k] = append(vs, v[k]...)
		}
	}
	return v, nil
}

// fail renders err in the request's protocol.
func (a *API) fail(c *call, err error) {
	code := sqs.CodeOf(err)
	action := c.action
	if _, ok := a.handlers[action]; !ok {
		action = "unknown"
	}
	a.metrics.request(action, code.Type)
	msg := errs.Message(err, "")
	if code == sqs.CodeInternalError || errs.KindOf(err) == errs.Internal {
		a.log.Error("sqs request failed", "action", c.action, "err", err)
		code = sqs.CodeInternalError
		msg = "We encountered an internal error. Please try again."
	}
	if msg == "" {
		msg = code.Type
	}
	if c.json {
		e := &awsproto.Error{Code: code.Type, Message: msg, Status: code.Status, QueryCode: code.Query}
		awsproto.WriteJSONError(c.w, c.r, awsproto.JSON10, jsonNamespace, e)
		return
	}
	e := &awsproto.Error{Code: code.Query, Message: msg, Status: code.Status}
	awsproto.WriteQueryError(c.w, c.r, XMLNS, e)
}

// queueName resolves the queue a request names: QueueUrl (any host,
// /<account>/<name> path) or, for boto 2, the request path itself.
func (c *call) queueName() (string, error) {
	const op = "sqsapi.queue"
	u := c.in.QueueURL
	if u == "" && !c.json {
		u = c.r.URL.Path
	}
	if u == "" || u == "/" {
		return "", sqs.Fail(op, sqs.CodeMissingParameter, "The request must contain the parameter QueueUrl.")
	}
	path := u
	if strings.Contains(u, "://") {
		pu, err := url.Parse(u)
		if err != nil {
			return "", sqs.Fail(op, sqs.CodeInvalidAddress, "The address %s is not valid for this endpoint.", u)
		}
		path = pu.Path
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if len(parts) != 2 || parts[1] == "" {
		return "", sqs.Fail(op, sqs.CodeInvalidAddress, "The address %s is not valid for this endpoint.", u)
	}
	return parts[1], nil
}

// queueURL builds a queue URL on the host the client used, so that it
// can follow it back here.
func (c *call) queueURL(svc *sqs.Service, name string) string {
	scheme := "http"
	if c.r.TLS != nil || strings.EqualFold(c.r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	host := c.r.Host
	if host == "" {
		host = "localhost"
	}
	return scheme + "://" + host + "/" + svc.AccountID() + "/" + name
}

func (c *call) senderID() string {
	if id := edge.IdentityFrom(c.r.Context()).AccessKey; id != "" {
		return id
	}
	return ""
}

func encodeToken(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func decodeToken(op, t string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(t)
	if err != nil {
		return "", sqs.Fail(op, sqs.CodeInvalidParameterValue, "Invalid NextToken value.")
	}
	return string(b), nil
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// readBody reads a request body: with a declared length into one exact
// buffer (then whatever follows, which the limit still bounds), else growing.
func readBody(r io.Reader, declared, max int64) ([]byte, error) {
	if declared < 0 || declared > max {
		return io.ReadAll(r)
	}
	buf := make([]byte, declared)
	if _, err := io.ReadFull(r, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	var probe [1]byte
	if n, err := io.ReadFull(r, probe[:]); n == 0 {
		if err == io.EOF {
			return buf, nil
		}
		return nil, err
	}
	rest, err := io.ReadAll(r)
	return append(append(buf, probe[0]), rest...), err
}
