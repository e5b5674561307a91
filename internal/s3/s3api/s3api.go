// Package s3api is S3's rest-xml wire: path-style and virtual-host-style
// addressing, every operation of the S3 service it serves, exact S3 error
// codes and statuses, CORS preflight, and browser form uploads (PostObject).
// It sits behind the AWS edge, which has already authenticated the request
// and decoded aws-chunked bodies.
package s3api

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"skyhub/internal/aws/awsproto"
	"skyhub/internal/aws/edge"
	"skyhub/internal/aws/sigv4"
	"skyhub/internal/errs"
	"skyhub/internal/s3"
)

// NS is the S3 XML namespace.
const NS = "http://s3.amazonaws.com/doc/2006-03-01/"

// Config configures the handler.
type Config struct {
	Service *s3.Service
	Log     *slog.Logger
	// Strict and Credentials verify PostObject form signatures (the edge
	// verifies everything else).
	Strict      bool
	Credentials map[string]string
	// MaxXMLBytes bounds configuration bodies (1 MiB when zero).
	MaxXMLBytes int64
}

// Handler serves S3.
type Handler struct {
	cfg Config
	s   *s3.Service
	log *slog.Logger
}

// New returns the S3 handler.
func New(cfg Config) *Handler {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxXMLBytes == 0 {
		cfg.MaxXMLBytes = 1 << 20
	}
	return &Handler{cfg: cfg, s: cfg.Service, log: cfg.Log}
}

type errEntry struct {
	cause  error
	code   string
	status int
}

var errTable = []errEntry{
	{s3.ErrNoSuchBucket, "NoSuchBucket", 404},
	{s3.ErrDeleteMarker, "NoSuchKey", 404},
	{s3.ErrNoSuchKey, "NoSuchKey", 404},
	{s3.ErrNoSuchVersion, "NoSuchVersion", 404},
	{s3.ErrNoSuchUpload, "NoSuchUpload", 404},
	{s3.ErrBucketExists, "BucketAlreadyOwnedByYou", 409},
	{s3.ErrBucketNotEmpty, "BucketNotEmpty", 409},
	{s3.ErrInvalidBucketName, "InvalidBucketName", 400},
	{s3.ErrBadDigest, "BadDigest", 400},
	{s3.ErrInvalidDigest, "InvalidDigest", 400},
	{s3.ErrInvalidPart, "InvalidPart", 400},
	{s3.ErrInvalidPartOrder, "InvalidPartOrder", 400},
	{s3.ErrEntityTooSmall, "EntityTooSmall", 400},
	{s3.ErrEntityTooLarge, "EntityTooLarge", 400},
	{s3.ErrPreconditionFailed, "PreconditionFailed", 412},
	{s3.ErrInvalidArgument, "InvalidArgument", 400},
	{s3.ErrIncompleteBody, "IncompleteBody", 400},
	{s3.ErrNoSuchTagSet, "NoSuchTagSet", 404},
	{s3.ErrNoSuchCORS, "NoSuchCORSConfiguration", 404},
	{s3.ErrNoSuchLifecycle, "NoSuchLifecycleConfiguration", 404},
	{s3.ErrNoSuchPolicy, "NoSuchBucketPolicy", 404},
	{s3.ErrNoSuchEncryption, "ServerSideEncryptionConfigurationNotFoundError", 404},
	{s3.ErrNoSuchOwnership, "OwnershipControlsNotFoundError", 404},
	{s3.ErrNoSuchPublicAccess, "NoSuchPublicAccessBlockConfiguration", 404},
	{s3.ErrNoSuchWebsite, "NoSuchWebsiteConfiguration", 404},
	{s3.ErrInvalidRange, "InvalidRange", 416},
	{s3.ErrMethodNotAllowed, "MethodNotAllowed", 405},
	{s3.ErrInvalidTag, "InvalidTag", 400},
	{s3.ErrKeyTooLong, "KeyTooLongError", 400},
	{s3.ErrMalformedXML, "MalformedXML", 400},
	{s3.ErrInvalidLocation, "InvalidLocationConstraint", 400},
	{s3.ErrNotImplemented, "NotImplemented", 501},
	{s3.ErrInvalidRequest, "InvalidRequest", 400},
	{s3.ErrMissingContentLength, "MissingContentLength", 411},
	{s3.ErrInvalidStorageClass, "InvalidStorageClass", 400},
}

// req is one request's addressing.
type req struct {
	w      http.ResponseWriter
	r      *http.Request
	bucket string
	key    string
	q      url.Values
}

func (c *req) fail(err error) {
	ae := toAWS(err)
	if c.bucket != "" && ae.Code == "NoSuchBucket" || ae.Code == "BucketNotEmpty" || ae.Code == "BucketAlreadyOwnedByYou" || ae.Code == "InvalidBucketName" {
		ae = ae.With("BucketName", c.bucket)
	}
	if c.key != "" && (ae.Code == "NoSuchKey" || ae.Code == "NoSuchVersion") {
		ae = ae.With("Key", c.key)
	}
	if ae.Code == "NoSuchUpload" {
		ae = ae.With("UploadId", c.q.Get("uploadId"))
	}
	if errors.Is(err, s3.ErrDeleteMarker) || (ae.Code == "MethodNotAllowed" && c.key != "") {
		if ae.Header == nil {
			ae.Header = http.Header{}
		}
		ae.Header.Set("x-amz-delete-marker", "true")
		if ae.Code == "MethodNotAllowed" {
			ae.Header.Set("Allow", "DELETE")
			ae = ae.With("Method", c.r.Method).With("ResourceType", "DeleteMarker")
		}
	}
	awsproto.WriteRestXMLError(c.w, c.r, ae)
}

func toAWS(err error) *awsproto.Error {
	var ae *awsproto.Error
	if errors.As(err, &ae) {
		return ae
	}
	var se *sigv4.Error
	if errors.As(err, &se) {
		return edge.AuthError(awsproto.RestXML, err)
	}
	for _, e := range errTable {
		if errors.Is(err, e.cause) {
			return awsproto.NewError(e.status, e.code, errs.Message(err, e.code))
		}
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return awsproto.NewError(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
	}
	switch errs.KindOf(err) {
	case errs.Invalid:
		return awsproto.NewError(400, "InvalidArgument", errs.Message(err, "Invalid Argument"))
	case errs.NotFound:
		return awsproto.NewError(404, "NoSuchKey", errs.Message(err, "The specified key does not exist."))
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return awsproto.NewError(400, "RequestTimeout", "Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed.")
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, io.ErrUnexpectedEOF) {
		return awsproto.NewError(400, "IncompleteBody", "The request body terminated unexpectedly")
	}
	return &awsproto.Error{Status: 500, Code: "InternalError", Message: "We encountered an internal error. Please try again."}
}

func s3err(status int, code, msg string) *awsproto.Error { return awsproto.NewError(status, code, msg) }

// address splits a request into bucket and key: virtual-host style when the
// Host names a bucket, path style otherwise.
func address(r *http.Request) (bucket, key string) {
	p := r.URL.Path
	if vb := edge.VirtualBucket(r.Host); vb != "" {
		return vb, strings.TrimPrefix(p, "/")
	}
	p = strings.TrimPrefix(p, "/")
	bucket, key, _ = strings.Cut(p, "/")
	return bucket, key
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &req{w: w, r: r, q: r.URL.Query()}
	c.bucket, c.key = address(r)
	w.Header().Set("Server", "Skyhub")
	if c.bucket != "" && r.Method == http.MethodOptions {
		if r.Header.Get("Origin") == "" {
			c.fail(s3err(400, "BadRequest", "Insufficient information. Origin request header needed."))
			return
		}
		h.preflight(c)
		return
	}
	if c.bucket != "" && r.Header.Get("Origin") != "" {
		h.corsHeaders(c)
	}
	var err error
	switch {
	case c.bucket == "":
		if r.Method == http.MethodGet {
			err = h.listBuckets(c)
		} else {
			err = s3err(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")
		}
	case c.key == "":
		err = h.bucketOp(c)
	default:
		err = h.objectOp(c)
	}
	if err != nil {
		if errs.KindOf(err) == errs.Internal || errs.KindOf(err) == errs.Other {
			var ae *awsproto.Error
			if !errors.As(err, &ae) {
				h.log.Error("s3 request failed", "method", r.Method, "bucket", c.bucket, "key", c.key, "err", err)
			}
		}
		c.fail(err)
	}
}

func has(q url.Values, k string) bool { _, ok := q[k]; return ok }

func (h *Handler) bucketOp(c *req) error {
	q := c.q
	switch c.r.Method {
	case http.MethodPut:
		switch {
		case has(q, "versioning"):
			return h.putVersioning(c)
		case has(q, "tagging"):
			return h.putBucketTagging(c)
		case has(q, "cors"):
			return h.putCORS(c)
		case has(q, "lifecycle"):
			return h.putLifecycle(c)
		case has(q, "notification"):
			return h.putNotification(c)
		case has(q, "policy"):
			return h.putRawConfig(c, "policy", false)
		case has(q, "acl"):
			return h.putACL(c)
		}
		for _, k := range rawConfigs {
			if has(q, k.param) {
				return h.putRawConfig(c, k.param, true)
			}
		}
		return h.createBucket(c)
	case http.MethodGet:
		switch {
		case has(q, "location"):
			return h.getLocation(c)
		case has(q, "versioning"):
			return h.getVersioning(c)
		case has(q, "tagging"):
			return h.getBucketTagging(c)
		case has(q, "cors"):
			return h.getCORS(c)
		case has(q, "lifecycle"):
			return h.getLifecycle(c)
		case has(q, "notification"):
			return h.getNotification(c)
		case has(q, "policy"):
			return h.getRawConfig(c, "policy")
		case has(q, "acl"):
			return h.getACL(c)
		case has(q, "uploads"):
			return h.listUploads(c)
		case has(q, "versions"):
			return h.listVersions(c)
		case has(q, "logging"):
			return h.getLogging(c)
		}
		for _, k := range rawConfigs {
			if has(q, k.param) {
				return h.getRawConfig(c, k.param)
			}
		}
		if q.Get("list-type") == "2" {
			return h.listObjects(c, true)
		}
		return h.listObjects(c, false)
	case http.MethodHead:
		b, err := h.s.GetBucket(c.r.Context(), c.bucket)
		if err != nil {
			return err
		}
		c.w.Header().Set("x-amz-bucket-region", b.Region)
		c.w.WriteHeader(200)
		return nil
	case http.MethodDelete:
		switch {
		case has(q, "tagging"):
			return h.updateBucket(c, 204, func(b *s3.Bucket) error { b.Tags, b.HasTags = nil, false; return nil })
		case has(q, "cors"):
			return h.updateBucket(c, 204, func(b *s3.Bucket) error { b.CORS = nil; return nil })
		case has(q, "lifecycle"):
			return h.updateBucket(c, 204, func(b *s3.Bucket) error { b.Lifecycle = nil; return nil })
		case has(q, "policy"):
			return h.updateBucket(c, 204, func(b *s3.Bucket) error { delete(b.Configs, "policy"); return nil })
		}
		for _, k := range rawConfigs {
			if has(q, k.param) {
				return h.updateBucket(c, 204, func(b *s3.Bucket) error { delete(b.Configs, k.param); return nil })
			}
		}
		if err := h.s.DeleteBucket(c.r.Context(), c.bucket); err != nil {
			return err
		}
		c.w.WriteHeader(204)
		return nil
	case http.MethodPost:
		if has(q, "delete") {
			return h.deleteObjects(c)
		}
		if strings.HasPrefix(c.r.Header.Get("Content-Type"), "multipart/form-data") {
			return h.postObject(c)
		}
	}
	return s3err(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")
}

func (h *Handler) objectOp(c *req) error {
	q := c.q
	switch c.r.Method {
	case http.MethodPut:
		switch {
		case has(q, "uploadId") && has(q, "partNumber"):
			if c.r.Header.Get("x-amz-copy-source") != "" {
				return h.uploadPartCopy(c)
			}
			return h.uploadPart(c)
		case has(q, "tagging"):
			return h.putObjectTagging(c)
		case has(q, "acl"):
			if _, err := h.s.Head(c.r.Context(), c.bucket, c.key, q.Get("versionId")); err != nil {
				return err
			}
			c.w.WriteHeader(200)
			return nil
		case has(q, "retention"), has(q, "legal-hold"):
			return s3err(400, "InvalidRequest", "Bucket is missing Object Lock Configuration")
		}
		if c.r.Header.Get("x-amz-copy-source") != "" {
			return h.copyObject(c)
		}
		return h.putObject(c)
	case http.MethodGet, http.MethodHead:
		switch {
		case has(q, "uploadId") && c.r.Method == http.MethodGet:
			return h.listParts(c)
		case has(q, "tagging") && c.r.Method == http.MethodGet:
			return h.getObjectTagging(c)
		case has(q, "acl") && c.r.Method == http.MethodGet:
			if _, err := h.s.Head(c.r.Context(), c.bucket, c.key, q.Get("versionId")); err != nil {
				return err
			}
			return h.getACL(c)
		case has(q, "attributes") && c.r.Method == http.MethodGet:
			return h.getObjectAttributes(c)
		}
		return h.getObject(c)
	case http.MethodDelete:
		switch {
		case has(q, "uploadId"):
			if err := h.s.AbortUpload(c.r.Context(), c.bucket, c.key, q.Get("uploadId")); err != nil {
				return err
			}
			c.w.WriteHeader(204)
			return nil
		case has(q, "tagging"):
			o, err := h.s.SetObjectTags(c.r.Context(), c.bucket, c.key, q.Get("versionId"), nil)
			if err != nil {
				return err
			}
			setVersionHeader(c.w, o)
			c.w.WriteHeader(204)
			return nil
		}
		return h.deleteObject(c)
	case http.MethodPost:
		switch {
		case has(q, "uploads"):
			return h.createUpload(c)
		case has(q, "uploadId"):
			return h.completeUpload(c)
		}
	}
	return s3err(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")
}

// --- helpers ---

func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func setVersionHeader(w http.ResponseWriter, o *s3.Object) {
	if o != nil && o.VersionID != "" && o.VersionID != "null" {
		w.Header().Set("x-amz-version-id", o.VersionID)
	}
}

// readXML decodes a bounded XML body into v; broken or empty XML is MalformedXML.
func (h *Handler) readXML(c *req, v any) error {
	body, err := io.ReadAll(io.LimitReader(c.r.Body, h.cfg.MaxXMLBytes+1))
	if err != nil {
		return err
	}
	if int64(len(body)) > h.cfg.MaxXMLBytes {
		return s3err(400, "MalformedXML", "The XML you provided was too large.")
	}
	if err := xml.Unmarshal(body, v); err != nil {
		return s3err(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
	}
	return nil
}

func writeXML(c *req, status int, v any) error {
	return awsproto.WriteXML(c.w, c.r, status, v)
}

func intParam(q url.Values, name string, def, max int) (int, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, s3err(400, "InvalidArgument", "Provided "+name+" not an integer or within integer range")
	}
	if n > max {
		n = max
	}
	return n, nil
}
