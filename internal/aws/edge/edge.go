// Package edge is the AWS edge: one HTTP endpoint for every AWS service.
// It gives every request an ID, accepts absolute-form request targets and
// *.amazonaws.com Host headers as if Skyhub were the origin (so boto 2 runs
// unchanged through a proxy setting), decodes aws-chunked bodies,
// authenticates the request (SigV2/SigV4, header or presigned; any key by
// default, every signature verified in strict mode), then dispatches on the
// request's content, never on the credential scope alone: X-Amz-Target
// (JSON 1.0/1.1 services), the Smithy RPC v2 path
// (/service/<Service>/operation/<Op>), Action + Version in the query string
// or form body (query protocol), and everything else to S3.
//
// Services register their handlers at start; they read the caller's identity
// from the request context with IdentityFrom, the protocol with ProtocolFrom,
// and aws-chunked trailers with Trailers.
package edge

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"skyhub/internal/aws/awsproto"
	"skyhub/internal/aws/sigv4"
)

// Config configures the edge.
type Config struct {
	Region    string
	AccountID string
	// Strict verifies every signature against Credentials.
	Strict      bool
	Credentials map[string]string
	// MaxFormBytes bounds how much of a form-encoded POST body the edge reads
	// to find Action and Version (2 MiB when zero).
	MaxFormBytes int64
	// Now is the clock for signature expiry (time.Now when nil).
	Now func() time.Time
	// BodyIdleTimeout fails a body read that waits longer than this for the
	// next bytes (a client that sent less than its Content-Length); 20 s
	// when zero, as S3's RequestTimeout.
	BodyIdleTimeout time.Duration
}

// Edge is the dispatching handler.
type Edge struct {
	cfg Config

	mu      sync.RWMutex
	targets map[string]http.Handler // X-Amz-Target prefix before the '.'
	queries map[string]http.Handler // query-protocol API Version
	rpcv2   map[string]http.Handler // Smithy RPC v2 service name
	s3      http.Handler
	errw    map[string]awsproto.ErrorWriter // route key -> error writer
}

// New returns an edge with no services.
func New(cfg Config) *Edge {
	if cfg.MaxFormBytes == 0 {
		cfg.MaxFormBytes = 2 << 20
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.BodyIdleTimeout == 0 {
		cfg.BodyIdleTimeout = 20 * time.Second
	}
	return &Edge{cfg: cfg, targets: map[string]http.Handler{}, queries: map[string]http.Handler{},
		rpcv2: map[string]http.Handler{}, errw: map[string]awsproto.ErrorWriter{}}
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

// HandleErrors sets how edge-level failures (signatures) of one route are
// rendered: key is a target prefix, a query Version, an RPC v2 service name,
// or "s3". Without one, the edge renders the protocol's envelope with the
// built-in namespace of the well-known services.
func (e *Edge) HandleErrors(key string, w awsproto.ErrorWriter) {
	e.mu.Lock()
	e.errw[key] = w
	e.mu.Unlock()
}

// Identity is who signed a request.
type Identity struct {
	AccessKey string
	Region    string // from the credential scope, if any
	Service   string // from the credential scope, if any
}

type identityKey struct{}
type protocolKey struct{}
type trailerKey struct{}

// IdentityFrom returns the request's signer (zero when unsigned).
func IdentityFrom(ctx context.Context) Identity {
	switch id := ctx.Value(identityKey{}).(type) {
	case Identity:
		return id
	case *Identity:
		return *id
	}
	return Identity{}
}

// WithIdentity returns ctx carrying id (the edge sets it; tests may too).
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// ProtocolFrom returns the protocol the edge recognised (RestXML when the
// request did not pass through the edge).
func ProtocolFrom(ctx context.Context) awsproto.Protocol {
	p, _ := ctx.Value(protocolKey{}).(awsproto.Protocol)
	return p
}

// Trailers returns the trailing headers of an aws-chunked body once the body
// has been read to its end (nil when the body was not aws-chunked).
func Trailers(r *http.Request) http.Header {
	c, _ := r.Context().Value(trailerKey{}).(*sigv4.ChunkedReader)
	if c == nil {
		return nil
	}
	return c.Trailers()
}

// reqCtx is the context the edge gives a request: one allocation carrying
// the protocol, the identity and the aws-chunked decoder (filled in before
// the service sees the request), over a parent holding the request ID.
type reqCtx struct {
	context.Context
	proto    awsproto.Protocol
	hasProto bool
	ident    Identity
	hasIdent bool
	chunked  *sigv4.ChunkedReader
}

func (c *reqCtx) Value(key any) any {
	switch key.(type) {
	case protocolKey:
		if c.hasProto {
			return c.proto
		}
	case identityKey:
		if c.hasIdent {
			return &c.ident // a pointer: no allocation per lookup
		}
	case trailerKey:
		if c.chunked != nil {
			return c.chunked
		}
	}
	return c.Context.Value(key)
}

// requestID returns a fresh request ID in the layout of
// awsproto.NewRequestID (32 upper-case hex digits, UUID-grouped) from the
// runtime's fast random source: IDs need to be unique, not secret.
func requestID() string {
	const hexd = "0123456789ABCDEF"
	var b [36]byte
	x, y := rand.Uint64(), rand.Uint64()
	j := 0
	for i := 0; i < 32; i++ {
		if i == 8 || i == 12 || i == 16 || i == 20 {
			b[j] = '-'
			j++
		}
		v := &x
		if i >= 16 {
			v = &y
		}
		b[j] = hexd[*v>>60]
		*v <<= 4
		j++
	}
	return string(b[:])
}

// setRequestIDHeaders is awsproto.SetRequestIDHeaders with one allocation
// (the value slice is shared; Set and Add never write into it).
func setRequestIDHeaders(h http.Header, id string) {
	v := []string{id}
	h["X-Amzn-Requestid"] = v
	h["X-Amz-Request-Id"] = v
	h["X-Amz-Id-2"] = v
}

// route is the outcome of dispatch.
type route struct {
	h     http.Handler
	proto awsproto.Protocol
	key   string // target prefix, query version, rpc service, or "s3"
	form  url.Values
	// unknown is the error code for a request in a known protocol for a
	// service (API version, target prefix) nothing serves.
	unknown string
}

// hasS3Signature: S3 presigned URLs may carry any query parameter, so an
// Action there does not make a request a query-protocol one.
func hasS3Signature(q url.Values) bool {
	return q.Get("X-Amz-Signature") != "" || q.Get("Signature") != "" && q.Get("SignatureVersion") == ""
}

// ServeHTTP implements http.Handler: normalise, route, authenticate, dispatch.
func (e *Edge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := requestID()
	rc := &reqCtx{Context: awsproto.WithRequestID(r.Context(), id)}
	setRequestIDHeaders(w.Header(), id)
	r = r.WithContext(rc)
	originForm(r)
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = &idleBody{rc: r.Body, ctl: http.NewResponseController(w), d: e.cfg.BodyIdleTimeout}
	}

	rt, err := e.route(r)
	if err != nil {
		awsproto.WriteRestXMLError(w, r, awsproto.NewError(400, "InvalidRequest", "The request body could not be read."))
		return
	}
	rc.proto, rc.hasProto = rt.proto, true
	if rt.h == nil {
		switch rt.unknown {
		case "UnknownOperationException":
			e.writeError(w, r, rt, awsproto.NewError(400, rt.unknown, "No service on this endpoint handles X-Amz-Target "+r.Header.Get("X-Amz-Target")+"."))
		case "InvalidAction":
			e.writeError(w, r, rt, awsproto.NewError(400, rt.unknown, "The action "+rt.form.Get("Action")+" is not valid for this web service (API version "+rt.key+")."))
		default:
			e.writeError(w, r, rt, awsproto.NewError(400, "InvalidAction", "No AWS service on this endpoint handles this request."))
		}
		return
	}
	if aerr := e.authenticate(r, rt, rc); aerr != nil {
		e.writeError(w, r, rt, aerr)
		return
	}
	rt.h.ServeHTTP(w, r)
}

// originForm turns an absolute-form request target (a client that uses
// Skyhub as its HTTP proxy) into origin form; r.Host already names the
// origin (Go sets it from the absolute URL).
func originForm(r *http.Request) {
	if r.URL.Scheme != "" || r.URL.Host != "" {
		if r.Host == "" {
			r.Host = r.URL.Host
		}
		r.URL.Scheme, r.URL.Host = "", ""
		r.RequestURI = r.URL.RequestURI()
	}
}

func (e *Edge) route(r *http.Request) (route, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		if prefix, _, ok := strings.Cut(t, "."); ok {
			if h := e.targets[prefix]; h != nil {
				p := awsproto.JSON10
				if strings.Contains(r.Header.Get("Content-Type"), "1.1") {
					p = awsproto.JSON11
				}
				return route{h: h, proto: p, key: prefix}, nil
			}
			// A JSON request for a service this edge does not serve.
			p := awsproto.JSON10
			if strings.Contains(r.Header.Get("Content-Type"), "1.1") {
				p = awsproto.JSON11
			}
			return route{proto: p, key: prefix, unknown: "UnknownOperationException"}, nil
		}
	}
	if rest, ok := strings.CutPrefix(r.URL.Path, "/service/"); ok {
		if svc, _, ok := strings.Cut(rest, "/operation/"); ok {
			if h := e.rpcv2[svc]; h != nil {
				return route{h: h, proto: awsproto.RPCv2CBOR, key: svc}, nil
			}
		}
	}
	var q url.Values
	if r.URL.RawQuery != "" {
		q = r.URL.Query()
	}
	if v := q.Get("Version"); v != "" && q.Get("Action") != "" {
		if h := e.queries[v]; h != nil {
			return route{h: h, proto: awsproto.Query, key: v, form: q}, nil
		}
		if !hasS3Signature(q) {
			return route{proto: awsproto.Query, key: v, form: q, unknown: "InvalidAction"}, nil
		}
	}
	if r.Method == http.MethodPost && isForm(r) {
		form, err := e.sniffForm(r)
		if err != nil {
			return route{}, err
		}
		if v := form.Get("Version"); v != "" && form.Get("Action") != "" {
			if h := e.queries[v]; h != nil {
				return route{h: h, proto: awsproto.Query, key: v, form: form}, nil
			}
			return route{proto: awsproto.Query, key: v, form: form, unknown: "InvalidAction"}, nil
		}
	}
	return route{h: e.s3, proto: awsproto.RestXML, key: "s3"}, nil
}

func isForm(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/x-www-form-urlencoded"
}

// sniffForm reads up to MaxFormBytes of the body, parses it as a form, and
// puts the body back (followed by whatever was not read).
func (e *Edge) sniffForm(r *http.Request) (url.Values, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return url.Values{}, nil
	}
	buf, err := io.ReadAll(io.LimitReader(r.Body, e.cfg.MaxFormBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(buf)) > e.cfg.MaxFormBytes {
		r.Body = readCloser{io.MultiReader(bytes.NewReader(buf), r.Body), r.Body}
		return url.Values{}, nil
	}
	r.Body = io.NopCloser(bytes.NewReader(buf))
	form, err := url.ParseQuery(string(buf))
	if err != nil {
		return url.Values{}, nil
	}
	return form, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// VirtualBucket returns the bucket a virtual-hosted-style Host names
// ("b.s3.amazonaws.com", "b.s3.us-east-1.amazonaws.com",
// "b.s3-us-west-2.amazonaws.com", "b.localhost"), or "".
func VirtualBucket(host string) string {
	if h, _, ok := strings.Cut(host, ":"); ok && !strings.Contains(h, "]") {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if b, ok := strings.CutSuffix(host, ".localhost"); ok {
		if !strings.HasPrefix(b, "s3.") && b != "s3" {
			return strings.TrimSuffix(b, ".s3")
		}
		return ""
	}
	rest, ok := strings.CutSuffix(host, ".amazonaws.com")
	if !ok {
		return ""
	}
	// rest: "b.s3", "b.s3.us-east-1", "b.s3-us-west-2", "b.s3.dualstack.us-east-1"
	i := strings.LastIndex(rest, ".s3.")
	if j := strings.LastIndex(rest, ".s3-"); j > i {
		i = j
	}
	if strings.HasSuffix(rest, ".s3") {
		i = len(rest) - 3
	}
	if i <= 0 {
		return ""
	}
	return rest[:i]
}

// authenticate decodes the signature, verifies it in strict mode, installs
// the aws-chunked decoder, and puts the identity in r's context.
func (e *Edge) authenticate(r *http.Request, rt route, rc *reqCtx) *awsproto.Error {
	if rt.proto == awsproto.RestXML && r.Method == http.MethodOptions {
		// CORS preflights are never authenticated, whatever they carry.
		return nil
	}
	if !e.cfg.Strict {
		// Only the identity is needed: a well-formed SigV4 header gives it
		// without sigv4.Parse's allocations; anything else goes through
		// Parse as before.
		id, ok := quickV4Identity(r)
		if !ok {
			a, err := sigv4.Parse(r, rt.form)
			if err != nil {
				a = &sigv4.Auth{}
			}
			id = Identity{AccessKey: a.AccessKey, Region: a.Region, Service: a.Service}
		}
		if err := e.dechunk(r, nil, "", rc); err != nil {
			return AuthError(rt.proto, err)
		}
		rc.ident, rc.hasIdent = id, true
		return nil
	}
	a, err := sigv4.Parse(r, rt.form)
	if err != nil {
		if e.cfg.Strict {
			return AuthError(rt.proto, err)
		}
		a = &sigv4.Auth{}
	}
	var secret string
	if e.cfg.Strict {
		if a.Scheme == sigv4.Anonymous {
			if !(rt.proto == awsproto.RestXML && anonymousAllowed(r)) {
				return missingAuth(rt.proto)
			}
		} else {
			s, ok := e.cfg.Credentials[a.AccessKey]
			if !ok {
				return unknownKey(rt.proto)
			}
			secret = s
			var body []byte
			if (a.Scheme == sigv4.V4Header && a.PayloadHash == "") && r.Body != nil {
				// JSON/query clients that send no x-amz-content-sha256: the
				// signature covers the body's hash.
				b, rerr := io.ReadAll(io.LimitReader(r.Body, e.cfg.MaxFormBytes*8))
				if rerr != nil {
					return awsproto.NewError(400, "IncompleteBody", "The request body could not be read.")
				}
				body = b
				r.Body = io.NopCloser(bytes.NewReader(b))
			}
			o := sigv4.Options{Now: e.cfg.Now(), Body: body, VHostBucket: VirtualBucket(r.Host), Params: rt.form}
			if verr := a.Verify(r, secret, o); verr != nil {
				return AuthError(rt.proto, verr)
			}
			if a.Scheme == sigv4.V4Header && isHexSHA256(a.PayloadHash) && body == nil && r.Body != nil {
				r.Body = &hashCheck{rc: r.Body, want: a.PayloadHash, h: newSHA256()}
			}
		}
	}
	if err := e.dechunk(r, a, secret, rc); err != nil {
		return AuthError(rt.proto, err)
	}
	rc.ident, rc.hasIdent = Identity{AccessKey: a.AccessKey, Region: a.Region, Service: a.Service}, true
	return nil
}

// anonymousAllowed: S3 browser-form uploads (PostObject) carry their
// signature in the form, which S3 checks itself; preflight requests carry none.
func anonymousAllowed(r *http.Request) bool {
	if r.Method == http.MethodOptions {
		return true
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return r.Method == http.MethodPost && mt == "multipart/form-data"
}

// quickV4Identity reads the identity of a well-formed SigV4 Authorization
// header ("AWS4-HMAC-SHA256 Credential=AK/YYYYMMDD/region/service/aws4_request,
// SignedHeaders=..., Signature=...", with a valid X-Amz-Date or Date) without
// allocating; ok is false for anything sigv4.Parse might judge otherwise.
func quickV4Identity(r *http.Request) (id Identity, ok bool) {
	authz := r.Header.Get("Authorization")
	rest, found := strings.CutPrefix(authz, "AWS4-HMAC-SHA256")
	if !found {
		return id, false
	}
	var haveCred, haveSH, haveSig bool
	for rest != "" {
		var f string
		f, rest, _ = strings.Cut(rest, ",")
		k, v, ok := strings.Cut(strings.TrimSpace(f), "=")
		if !ok {
			return id, false
		}
		switch k {
		case "Credential":
			ak, r1, _ := strings.Cut(v, "/")
			date, r2, _ := strings.Cut(r1, "/")
			region, r3, _ := strings.Cut(r2, "/")
			service, term, _ := strings.Cut(r3, "/")
			if ak == "" || len(date) != 8 || term != "aws4_request" {
				return id, false
			}
			id = Identity{AccessKey: ak, Region: region, Service: service}
			haveCred = true
		case "SignedHeaders":
			haveSH = v != ""
		case "Signature":
			haveSig = v != ""
		}
	}
	if !haveCred || !haveSH || !haveSig {
		return Identity{}, false
	}
	d := r.Header.Get("X-Amz-Date")
	if d == "" {
		d = r.Header.Get("Date")
	}
	if _, err := time.Parse("20060102T150405Z", d); err != nil {
		return Identity{}, false
	}
	return id, true
}

// dechunk replaces an aws-chunked body with its decoded payload.
func (e *Edge) dechunk(r *http.Request, a *sigv4.Auth, secret string, rc *reqCtx) error {
	ph := r.Header.Get("X-Amz-Content-Sha256")
	enc := r.Header.Get("Content-Encoding")
	// The body is aws-chunked when the payload hash says so, or when
	// Content-Encoding says so and the decoded length is given; a bare
	// "Content-Encoding: aws-chunked" on a plain body is only a label.
	if !strings.HasPrefix(ph, "STREAMING-") && !(hasToken(enc, "aws-chunked") && r.Header.Get("X-Amz-Decoded-Content-Length") != "") {
		return nil
	}
	o := sigv4.ChunkOptions{}
	if e.cfg.Strict && (ph == sigv4.StreamingSigned || ph == sigv4.StreamingSignedTrailer) && a.Scheme == sigv4.V4Header {
		o = sigv4.ChunkOptions{Signed: true, Key: a.Key(secret), AmzDate: a.AmzDate, Scope: a.Scope, Seed: a.Signature}
	}
	dl := r.Header.Get("X-Amz-Decoded-Content-Length")
	var n int64
	if dl != "" {
		var err error
		n, err = strconv.ParseInt(dl, 10, 64)
		if err != nil || n < 0 {
			return &sigv4.Error{Reason: sigv4.BadChunk, Msg: "x-amz-decoded-content-length is not a number"}
		}
		o.Decoded = n
	}
	c := sigv4.NewChunkedReader(r.Body, o)
	r.Body = readCloser{c, r.Body}
	if dl != "" {
		r.ContentLength = n
		r.Header.Set("Content-Length", dl)
	} else {
		r.ContentLength = -1
		r.Header.Del("Content-Length")
	}
	// aws-chunked is a transport detail: the stored Content-Encoding is what remains.
	var rest []string
	for _, t := range strings.Split(enc, ",") {
		if t = strings.TrimSpace(t); t != "" && !strings.EqualFold(t, "aws-chunked") {
			rest = append(rest, t)
		}
	}
	if len(rest) == 0 {
		r.Header.Del("Content-Encoding")
	} else {
		r.Header.Set("Content-Encoding", strings.Join(rest, ","))
	}
	rc.chunked = c
	return nil
}

func hasToken(v, tok string) bool {
	for _, t := range strings.Split(v, ",") {
		if strings.EqualFold(strings.TrimSpace(t), tok) {
			return true
		}
	}
	return false
}

// writeError renders an edge-level error in the route's envelope.
func (e *Edge) writeError(w http.ResponseWriter, r *http.Request, rt route, ae *awsproto.Error) {
	e.mu.RLock()
	fn := e.errw[rt.key]
	e.mu.RUnlock()
	if fn != nil {
		fn(w, r, ae)
		return
	}
	ns := ""
	switch rt.proto {
	case awsproto.Query:
		ns = queryNamespaces[rt.key]
	case awsproto.JSON10, awsproto.JSON11, awsproto.RPCv2CBOR:
		ns = jsonNamespaces[rt.key]
	}
	awsproto.WriteError(w, r, rt.proto, ns, ae)
}

var queryNamespaces = map[string]string{
	"2012-11-05": "http://queue.amazonaws.com/doc/2012-11-05/",
	"2010-08-01": "http://monitoring.amazonaws.com/doc/2010-08-01/",
	"2011-01-01": "http://autoscaling.amazonaws.com/doc/2011-01-01/",
}

var jsonNamespaces = map[string]string{
	"AmazonSQS":         "com.amazonaws.sqs",
	"DynamoDB_20120810": "com.amazonaws.dynamodb.v20120810",
	"DynamoDB_20111205": "com.amazonaws.dynamodb.v20111205",
}

// AuthError maps a signature or body-framing failure (a *sigv4.Error, also
// returned by body reads: payload hash mismatch, broken aws-chunked frame) to
// protocol p's own error code.
func AuthError(p awsproto.Protocol, err error) *awsproto.Error {
	var se *sigv4.Error
	if !errors.As(err, &se) {
		return awsproto.NewError(400, "InvalidRequest", "The request could not be read.")
	}
	switch p {
	case awsproto.RestXML:
		switch se.Reason {
		case sigv4.Mismatch:
			return awsproto.NewError(403, "SignatureDoesNotMatch", se.Msg)
		case sigv4.Expired:
			if strings.Contains(se.Msg, "difference") {
				return awsproto.NewError(403, "RequestTimeTooSkewed", se.Msg)
			}
			return awsproto.NewError(403, "AccessDenied", se.Msg)
		case sigv4.PayloadMismatch:
			return awsproto.NewError(400, "XAmzContentSHA256Mismatch", se.Msg)
		case sigv4.BadChunk:
			return awsproto.NewError(400, "IncompleteBody", se.Msg)
		}
		return awsproto.NewError(400, "AuthorizationHeaderMalformed", se.Msg)
	case awsproto.Query:
		switch se.Reason {
		case sigv4.Mismatch:
			return awsproto.NewError(403, "SignatureDoesNotMatch", se.Msg)
		case sigv4.Expired:
			return awsproto.NewError(400, "RequestExpired", se.Msg)
		}
		return awsproto.NewError(400, "IncompleteSignature", se.Msg)
	}
	// JSON and CBOR services.
	switch se.Reason {
	case sigv4.Mismatch:
		return &awsproto.Error{Status: 400, Code: "InvalidSignatureException", Message: se.Msg, QueryCode: "SignatureDoesNotMatch"}
	case sigv4.Expired:
		return &awsproto.Error{Status: 400, Code: "InvalidSignatureException", Message: "Signature expired: " + se.Msg, QueryCode: "RequestExpired"}
	}
	return &awsproto.Error{Status: 400, Code: "IncompleteSignatureException", Message: se.Msg, QueryCode: "IncompleteSignature"}
}

func unknownKey(p awsproto.Protocol) *awsproto.Error {
	switch p {
	case awsproto.RestXML:
		return awsproto.NewError(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
	case awsproto.Query:
		return awsproto.NewError(403, "InvalidClientTokenId", "The security token included in the request is invalid.")
	}
	return &awsproto.Error{Status: 400, Code: "UnrecognizedClientException", Message: "The security token included in the request is invalid.", QueryCode: "InvalidClientTokenId"}
}

func missingAuth(p awsproto.Protocol) *awsproto.Error {
	switch p {
	case awsproto.RestXML:
		return awsproto.NewError(403, "AccessDenied", "Access Denied")
	case awsproto.Query:
		return awsproto.NewError(403, "MissingAuthenticationToken", "Request is missing Authentication Token")
	}
	return &awsproto.Error{Status: 400, Code: "MissingAuthenticationTokenException", Message: "Request is missing Authentication Token", QueryCode: "MissingAuthenticationToken"}
}

// idleBody bounds the wait for each read of a request body, so a client
// that sends fewer bytes than it announced gets an error (RequestTimeout)
// instead of holding the request open forever.
type idleBody struct {
	rc  io.ReadCloser
	ctl *http.ResponseController
	d   time.Duration
}

func (b *idleBody) Read(p []byte) (int, error) {
	b.ctl.SetReadDeadline(time.Now().Add(b.d))
	return b.rc.Read(p)
}

func (b *idleBody) Close() error {
	b.ctl.SetReadDeadline(time.Time{})
	return b.rc.Close()
}
