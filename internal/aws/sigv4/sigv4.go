// Package sigv4 checks AWS request signatures on the server side: SigV4 in
// the Authorization header and in presigned query strings (with
// UNSIGNED-PAYLOAD and the aws-chunked streaming modes, signed chunks
// verified one by one), and the legacy SigV2 (S3's "AWS AKID:sig" header,
// S3 presigned URLs, and query-protocol SignatureVersion=2). It never decides
// which keys exist: the caller looks the secret up and passes it in.
package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Scheme is how a request was signed.
type Scheme uint8

// The signing schemes.
const (
	Anonymous Scheme = iota
	V4Header
	V4Query
	V2Header
	V2Query  // S3 presigned: AWSAccessKeyId, Expires, Signature
	V2Params // query protocol: SignatureVersion=2 in the parameters
)

// Payload hash values that are not a hex SHA-256.
const (
	UnsignedPayload        = "UNSIGNED-PAYLOAD"
	StreamingSigned        = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	StreamingSignedTrailer = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	StreamingUnsignedTrail = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
	EmptySHA256            = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

// Reason classifies a signature failure; the edge renders it in the
// service's own error code.
type Reason uint8

// The failure reasons.
const (
	Malformed       Reason = iota + 1 // the Authorization header or presign parameters are broken
	Mismatch                          // the signature does not match
	Expired                           // presigned URL past its expiry, or request time skewed
	PayloadMismatch                   // x-amz-content-sha256 does not match the body
	BadChunk                          // an aws-chunked frame is broken or its signature is wrong
)

// Error is a signature failure.
type Error struct {
	Reason Reason
	Msg    string
}

func (e *Error) Error() string { return e.Msg }

func fail(r Reason, msg string) *Error { return &Error{Reason: r, Msg: msg} }

// Auth is what a request's signature says about itself, before any check.
type Auth struct {
	Scheme    Scheme
	AccessKey string
	Signature string
	// SigV4 only.
	AmzDate       string // yyyymmddThhmmssZ
	Scope         string // date/region/service/aws4_request
	Region        string
	Service       string
	SignedHeaders []string
	PayloadHash   string // x-amz-content-sha256 (or UNSIGNED-PAYLOAD when presigned)
	// Expires is the presigned URL's end (zero when not presigned).
	Expires time.Time
}

// Parse reads the signature parameters of r (params are the query-protocol
// parameters, from the URL or the form body, for SignatureVersion=2; may be
// nil). An unsigned request yields Scheme Anonymous and no error.
func Parse(r *http.Request, params url.Values) (*Auth, error) {
	authz := r.Header.Get("Authorization")
	q := r.URL.Query()
	switch {
	case strings.HasPrefix(authz, "AWS4-HMAC-SHA256"):
		return parseV4Header(r, authz)
	case strings.HasPrefix(authz, "AWS "):
		ak, sig, ok := strings.Cut(strings.TrimPrefix(authz, "AWS "), ":")
		if !ok || ak == "" || sig == "" {
			return nil, fail(Malformed, "The authorization header is malformed.")
		}
		return &Auth{Scheme: V2Header, AccessKey: ak, Signature: sig}, nil
	case authz != "":
		return nil, fail(Malformed, "Unsupported Authorization Type")
	case q.Get("X-Amz-Algorithm") != "" || q.Get("X-Amz-Credential") != "":
		return parseV4Query(q)
	case q.Get("AWSAccessKeyId") != "" && q.Get("Signature") != "" && q.Get("SignatureVersion") == "":
		exp, err := strconv.ParseInt(q.Get("Expires"), 10, 64)
		if err != nil {
			return nil, fail(Malformed, "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters")
		}
		return &Auth{Scheme: V2Query, AccessKey: q.Get("AWSAccessKeyId"), Signature: q.Get("Signature"), Expires: time.Unix(exp, 0)}, nil
	case params != nil && params.Get("SignatureVersion") == "2" && params.Get("AWSAccessKeyId") != "":
		return &Auth{Scheme: V2Params, AccessKey: params.Get("AWSAccessKeyId"), Signature: params.Get("Signature")}, nil
	}
	return &Auth{Scheme: Anonymous}, nil
}

func parseCredential(a *Auth, cred string) error {
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[0] == "" || parts[4] != "aws4_request" || len(parts[1]) != 8 {
		return fail(Malformed, "The authorization header is malformed; the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".")
	}
	a.AccessKey, a.Region, a.Service = parts[0], parts[2], parts[3]
	a.Scope = strings.Join(parts[1:], "/")
	return nil
}

func parseV4Header(r *http.Request, authz string) (*Auth, error) {
	a := &Auth{Scheme: V4Header}
	rest := strings.TrimSpace(strings.TrimPrefix(authz, "AWS4-HMAC-SHA256"))
	var haveCred, haveSH, haveSig bool
	for _, f := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(f), "=")
		if !ok {
			return nil, fail(Malformed, "The authorization header is malformed.")
		}
		switch k {
		case "Credential":
			if err := parseCredential(a, v); err != nil {
				return nil, err
			}
			haveCred = true
		case "SignedHeaders":
			a.SignedHeaders = strings.Split(v, ";")
			haveSH = v != ""
		case "Signature":
			a.Signature = v
			haveSig = v != ""
		}
	}
	if !haveCred || !haveSH || !haveSig {
		return nil, fail(Malformed, "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters.")
	}
	a.AmzDate = r.Header.Get("X-Amz-Date")
	if a.AmzDate == "" {
		// The Date header in ISO basic form is also allowed.
		a.AmzDate = r.Header.Get("Date")
	}
	if _, err := time.Parse("20060102T150405Z", a.AmzDate); err != nil {
		return nil, fail(Malformed, "AWS authentication requires a valid Date or x-amz-date header")
	}
	a.PayloadHash = r.Header.Get("X-Amz-Content-Sha256")
	return a, nil
}

func parseV4Query(q url.Values) (*Auth, error) {
	if q.Get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" {
		return nil, fail(Malformed, "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"")
	}
	a := &Auth{Scheme: V4Query, PayloadHash: UnsignedPayload}
	for _, k := range []string{"X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Expires"} {
		if q.Get(k) == "" {
			return nil, fail(Malformed, "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.")
		}
	}
	if err := parseCredential(a, q.Get("X-Amz-Credential")); err != nil {
		return nil, err
	}
	a.Signature = q.Get("X-Amz-Signature")
	a.AmzDate = q.Get("X-Amz-Date")
	a.SignedHeaders = strings.Split(q.Get("X-Amz-SignedHeaders"), ";")
	t, err := time.Parse("20060102T150405Z", a.AmzDate)
	if err != nil {
		return nil, fail(Malformed, "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
	}
	exp, err := strconv.Atoi(q.Get("X-Amz-Expires"))
	if err != nil || exp < 0 {
		return nil, fail(Malformed, "X-Amz-Expires should be a number")
	}
	if exp > 604800 {
		return nil, fail(Malformed, "X-Amz-Expires must be less than a week (in seconds) that is 604800")
	}
	a.Expires = t.Add(time.Duration(exp) * time.Second)
	if h := q.Get("X-Amz-Content-Sha256"); h != "" {
		a.PayloadHash = h
	}
	return a, nil
}

// Options are the inputs of Verify beyond the request.
type Options struct {
	// Now is the time to check expiry against (time.Now when zero).
	Now time.Time
	// Body is the request body when the caller already read it; used for
	// the payload hash of SigV4 requests without x-amz-content-sha256.
	Body []byte
	// VHostBucket is the bucket named by a virtual-host-style Host (SigV2
	// resources start with "/bucket").
	VHostBucket string
	// Params are the query-protocol parameters (SigV2 SignatureVersion=2).
	Params url.Values
	// MaxSkew bounds |now - request time| for header signatures (15 min when zero).
	MaxSkew time.Duration
}

// Verify checks a's signature over r with secret.
func (a *Auth) Verify(r *http.Request, secret string, o Options) error {
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	if !a.Expires.IsZero() && now.After(a.Expires) {
		return fail(Expired, "Request has expired")
	}
	switch a.Scheme {
	case V4Header, V4Query:
		if a.Scheme == V4Header {
			t, _ := time.Parse("20060102T150405Z", a.AmzDate)
			skew := o.MaxSkew
			if skew == 0 {
				skew = 15 * time.Minute
			}
			if d := now.Sub(t); d > skew || d < -skew {
				return fail(Expired, "The difference between the request time and the current time is too large.")
			}
		}
		return a.verifyV4(r, secret, o)
	case V2Header, V2Query:
		return a.verifyV2S3(r, secret, o)
	case V2Params:
		return a.verifyV2Params(r, secret, o)
	}
	return nil
}

// SigningKey derives the SigV4 signing key for a scope.
func SigningKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, "aws4_request")
}

// Key returns the signing key of a's scope.
func (a *Auth) Key(secret string) []byte {
	parts := strings.Split(a.Scope, "/")
	return SigningKey(secret, parts[0], parts[1], parts[2])
}

func hmacSHA256(key []byte, s string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(s))
	return m.Sum(nil)
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func (a *Auth) verifyV4(r *http.Request, secret string, o Options) error {
	payload := a.PayloadHash
	if payload == "" {
		payload = sha256Hex(o.Body)
	}
	key := a.Key(secret)
	// S3 encodes the path once, every other service twice, and clients
	// differ in whether they normalise the path they sent first: try the
	// service's rule first, then the other spellings.
	raw := rawPath(r)
	cands := []string{canonicalURI(raw, a.Service != "s3"), canonicalURI(raw, a.Service == "s3"), raw, Encode(raw, true)}
	for i, uri := range cands {
		if i > 0 && slices.Contains(cands[:i], uri) {
			continue
		}
		cr := canonicalRequest(r, uri, a.SignedHeaders, payload, a.Scheme == V4Query)
		sts := "AWS4-HMAC-SHA256\n" + a.AmzDate + "\n" + a.Scope + "\n" + sha256Hex([]byte(cr))
		if hmac.Equal([]byte(hex.EncodeToString(hmacSHA256(key, sts))), []byte(a.Signature)) {
			return nil
		}
	}
	return fail(Mismatch, "The request signature we calculated does not match the signature you provided. Check your key and signing method.")
}

// CanonicalRequest builds the SigV4 canonical request of r.
func CanonicalRequest(r *http.Request, signed []string, payload string, doubleEncode, presigned bool) string {
	return canonicalRequest(r, canonicalURI(rawPath(r), doubleEncode), signed, payload, presigned)
}

func canonicalRequest(r *http.Request, uri string, signed []string, payload string, presigned bool) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(uri)
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL.RawQuery, presigned))
	b.WriteByte('\n')
	for _, h := range signed {
		b.WriteString(h)
		b.WriteByte(':')
		b.WriteString(headerValue(r, h))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signed, ";"))
	b.WriteByte('\n')
	b.WriteString(payload)
	return b.String()
}

func rawPath(r *http.Request) string {
	p := r.URL.EscapedPath()
	if p == "" {
		p = "/"
	}
	return p
}

func headerValue(r *http.Request, name string) string {
	var vals []string
	switch name {
	case "host":
		vals = []string{r.Host}
	case "content-length":
		if v := r.Header.Get("Content-Length"); v != "" {
			vals = []string{v}
		} else if r.ContentLength >= 0 {
			vals = []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	case "transfer-encoding":
		vals = r.TransferEncoding
		if len(vals) == 0 {
			vals = r.Header.Values("Transfer-Encoding")
		}
	default:
		vals = r.Header.Values(name)
	}
	for i, v := range vals {
		vals[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(vals, ",")
}

// Encode is the SigV4 URI encoding: unreserved characters kept, everything
// else %XX upper-case; '/' kept when keepSlash.
func Encode(s string, keepSlash bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' || (keepSlash && c == '/') {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte("0123456789ABCDEF"[c>>4])
		b.WriteByte("0123456789ABCDEF"[c&15])
	}
	return b.String()
}

func canonicalURI(escaped string, double bool) string {
	segs := strings.Split(escaped, "/")
	for i, seg := range segs {
		p, err := url.PathUnescape(seg)
		if err != nil {
			p = seg
		}
		enc := Encode(p, false)
		if double {
			enc = Encode(enc, false)
		}
		segs[i] = enc
	}
	return strings.Join(segs, "/")
}

func canonicalQuery(raw string, presigned bool) string {
	if raw == "" {
		return ""
	}
	type kv struct{ k, v string }
	var pairs []kv
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		uk, err := url.QueryUnescape(k)
		if err != nil {
			uk = k
		}
		uv, err := url.QueryUnescape(v)
		if err != nil {
			uv = v
		}
		if presigned && uk == "X-Amz-Signature" {
			continue
		}
		pairs = append(pairs, kv{Encode(uk, false), Encode(uv, false)})
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}
