// Package awsproto holds what every AWS service on the edge shares: the AWS
// error type (code, message, HTTP status), one renderer per error envelope
// (rest-xml for S3, query XML, JSON 1.0/1.1 with __type and
// x-amzn-query-error, Smithy RPC v2 CBOR), request IDs, and the checksums
// clients send and verify (CRC32, CRC32C, CRC64NVME, SHA1, SHA256, MD5,
// DynamoDB's x-amz-crc32).
package awsproto

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"skyhub/internal/errs"
)

// Error is an AWS error as the wire shows it.
type Error struct {
	// Code is the AWS error code: "NoSuchKey", "QueueDoesNotExist",
	// "ResourceNotFoundException".
	Code string
	// Message is the client-facing message.
	Message string
	// Status is the HTTP status (400 when zero).
	Status int
	// Fault is "Sender" (client error, the default) or "Receiver".
	Fault string
	// QueryCode, when set, is the legacy query-protocol code sent in
	// x-amzn-query-error by JSON services that are "awsQueryCompatible"
	// (SQS: "AWS.SimpleQueueService.NonExistentQueue"); empty means Code.
	QueryCode string
	// Fields are extra elements of an S3 error (Key, BucketName, Resource...).
	Fields [][2]string
	// Header are extra response headers (e.g. x-amz-delete-marker).
	Header http.Header
}

// Errorf returns an *Error with a formatted message.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Code: code, Status: status, Message: fmt.Sprintf(format, args...)}
}

// NewError returns an *Error.
func NewError(status int, code, msg string) *Error {
	return &Error{Code: code, Status: status, Message: msg}
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// With returns a copy of e with an extra S3 error field.
func (e *Error) With(name, value string) *Error {
	c := *e
	c.Fields = append(append([][2]string(nil), e.Fields...), [2]string{name, value})
	return &c
}

// HTTPStatus returns the status, 400 when unset.
func (e *Error) HTTPStatus() int {
	if e.Status == 0 {
		return http.StatusBadRequest
	}
	return e.Status
}

// FaultType returns "Sender" or "Receiver".
func (e *Error) FaultType() string {
	if e.Fault != "" {
		return e.Fault
	}
	if e.HTTPStatus() >= 500 {
		return "Receiver"
	}
	return "Sender"
}

// KindMap maps an errs.Kind to an AWS error of a service.
type KindMap map[errs.Kind]*Error

// As converts err to an *Error: an *Error in the chain is returned as is;
// otherwise the kind is looked up in m (message from errs.Message), and
// anything unmapped becomes a 500 "InternalError" (or m[errs.Internal]).
func As(err error, m KindMap) *Error {
	if err == nil {
		return nil
	}
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	k := errs.KindOf(err)
	if base, ok := m[k]; ok && k != errs.Other && k != errs.Internal {
		c := *base
		c.Message = errs.Message(err, base.Message)
		return &c
	}
	if base, ok := m[errs.Internal]; ok {
		c := *base
		return &c
	}
	return &Error{Code: "InternalError", Status: 500, Message: "We encountered an internal error. Please try again.", Fault: "Receiver"}
}

// Protocol is an AWS wire protocol.
type Protocol uint8

// The protocols the edge recognises.
const (
	RestXML   Protocol = iota // S3
	Query                     // Action=...&Version=... with XML responses
	JSON10                    // awsJson1_0 (SQS, DynamoDB)
	JSON11                    // awsJson1_1 (Kinesis)
	RPCv2CBOR                 // smithy-rpc-v2-cbor
)

func (p Protocol) String() string {
	switch p {
	case RestXML:
		return "rest-xml"
	case Query:
		return "query"
	case JSON10:
		return "json1.0"
	case JSON11:
		return "json1.1"
	case RPCv2CBOR:
		return "rpc-v2-cbor"
	}
	return "unknown"
}

type requestIDKey struct{}

// NewRequestID returns a fresh request ID (32 upper-case hex digits in
// the UUID layout AWS services use).
func NewRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	h := strings.ToUpper(hex.EncodeToString(b[:]))
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// WithRequestID returns ctx carrying the request ID.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request's ID; a new one when the edge set none.
func RequestID(ctx context.Context) string {
	if id, ok := ctx.Value(requestIDKey{}).(string); ok && id != "" {
		return id
	}
	return NewRequestID()
}

// SetRequestIDHeaders sets the request-ID headers every AWS client reads:
// x-amzn-RequestId (JSON and query services), x-amz-request-id and
// x-amz-id-2 (S3).
func SetRequestIDHeaders(h http.Header, id string) {
	h.Set("x-amzn-RequestId", id)
	h.Set("x-amz-request-id", id)
	h.Set("x-amz-id-2", id)
}
