package sqs

import (
	"errors"
	"fmt"

	"skyhub/internal/errs"
)

// Code is an SQS error code. It travels as the cause of an *errs.Error so
// the wire layer can render the exact AWS code for both protocols; the
// errs.Kind carries the protocol-independent class.
type Code struct {
	// Type is the JSON protocol's error type (the name in the current model).
	Type string
	// Query is the legacy query-protocol code (also the x-amzn-query-error code).
	Query string
	// Status is the HTTP status AWS answers with.
	Status int
}

func (c *Code) Error() string { return c.Query }

// The SQS error codes (JSON type, legacy query code, status), from the AWS
// SQS API model and the query-compatibility table.
var (
	CodeQueueDoesNotExist      = &Code{"QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", 400}
	CodeQueueNameExists        = &Code{"QueueNameExists", "QueueAlreadyExists", 400}
	CodeQueueDeletedRecently   = &Code{"QueueDeletedRecently", "AWS.SimpleQueueService.QueueDeletedRecently", 400}
	CodePurgeQueueInProgress   = &Code{"PurgeQueueInProgress", "AWS.SimpleQueueService.PurgeQueueInProgress", 403}
	CodeMessageNotInflight     = &Code{"MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight", 400}
	CodeOverLimit              = &Code{"OverLimit", "OverLimit", 403}
	CodeUnsupportedOperation   = &Code{"UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation", 400}
	CodeEmptyBatchRequest      = &Code{"EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest", 400}
	CodeTooManyEntries         = &Code{"TooManyEntriesInBatchRequest", "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", 400}
	CodeBatchEntryIdsNotDist   = &Code{"BatchEntryIdsNotDistinct", "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", 400}
	CodeBatchRequestTooLong    = &Code{"BatchRequestTooLong", "AWS.SimpleQueueService.BatchRequestTooLong", 400}
	CodeInvalidBatchEntryID    = &Code{"InvalidBatchEntryId", "AWS.SimpleQueueService.InvalidBatchEntryId", 400}
	CodeReceiptHandleIsInvalid = &Code{"ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid", 400}
	CodeInvalidAttributeName   = &Code{"InvalidAttributeName", "InvalidAttributeName", 400}
	CodeInvalidAttributeValue  = &Code{"InvalidAttributeValue", "InvalidAttributeValue", 400}
	CodeInvalidMessageContents = &Code{"InvalidMessageContents", "InvalidMessageContents", 400}
	CodeInvalidIDFormat        = &Code{"InvalidIdFormat", "InvalidIdFormat", 400}
	CodeInvalidParameterValue  = &Code{"InvalidParameterValue", "InvalidParameterValue", 400}
	CodeMissingParameter       = &Code{"MissingParameter", "MissingParameter", 400}
	CodeResourceNotFound       = &Code{"ResourceNotFoundException", "ResourceNotFoundException", 404}
	CodeInvalidAction          = &Code{"InvalidAction", "InvalidAction", 400}
	CodeUnknownOperation       = &Code{"UnknownOperationException", "InvalidAction", 400}
	CodeInvalidAddress         = &Code{"InvalidAddress", "InvalidAddress", 404}
	CodeSerialization          = &Code{"SerializationException", "MalformedQueryString", 400}
	CodeInvalidSecurity        = &Code{"InvalidSecurity", "InvalidSecurity", 403}
	CodeInternalError          = &Code{"InternalError", "InternalError", 500}
	CodeRequestThrottled       = &Code{"RequestThrottled", "RequestThrottled", 403}
)

// kindOf is the errs.Kind each code travels with.
func kindOf(c *Code) errs.Kind {
	switch c {
	case CodeQueueDoesNotExist, CodeResourceNotFound, CodeInvalidAddress:
		return errs.NotFound
	case CodeQueueNameExists:
		return errs.Exists
	case CodeQueueDeletedRecently, CodePurgeQueueInProgress, CodeMessageNotInflight:
		return errs.Conflict
	case CodeOverLimit, CodeBatchRequestTooLong:
		return errs.TooLarge
	case CodeInternalError:
		return errs.Internal
	case CodeRequestThrottled:
		return errs.RateLimited
	case CodeInvalidSecurity:
		return errs.Forbidden
	}
	return errs.Invalid
}

// Fail returns an error carrying code and a client-safe message.
func Fail(op string, code *Code, format string, args ...any) error {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return errs.E(op, kindOf(code), msg, code)
}

// CodeOf returns the SQS code carried by err, or a code derived from its
// kind (InternalError for anything unclassified).
func CodeOf(err error) *Code {
	var c *Code
	if errors.As(err, &c) {
		return c
	}
	switch errs.KindOf(err) {
	case errs.Invalid:
		return CodeInvalidParameterValue
	case errs.NotFound:
		return CodeQueueDoesNotExist
	case errs.Exists:
		return CodeQueueNameExists
	case errs.TooLarge:
		return CodeInvalidParameterValue
	case errs.Forbidden, errs.Unauthorized:
		return CodeInvalidSecurity
	case errs.RateLimited:
		return CodeRequestThrottled
	}
	return CodeInternalError
}

func noQueue(op string) error {
	return Fail(op, CodeQueueDoesNotExist, "The specified queue does not exist.")
}

func invalidParam(op, format string, args ...any) error {
	return Fail(op, CodeInvalidParameterValue, format, args...)
}

func internalErr(op string, err error) error {
	return errs.E(op, errs.Internal, "We encountered an internal error. Please try again.", err)
}
