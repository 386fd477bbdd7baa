package sidecar

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/sidecar-dev/sidecar/clients/go/sidecarpb"
)

// Code is a gRPC status code, as the daemon sends it in a REPLY or GOAWAY.
// The constants have gRPC-Go's names (codes.Unavailable is Unavailable);
// String gives the canonical names the daemon's documentation and the other
// clients use ("UNAVAILABLE").
type Code uint32

// The gRPC status codes. proto/sidecar/v1/README.md says which the daemon
// uses for what.
const (
	OK                 Code = 0  // not an error
	Canceled           Code = 1  // the call was cancelled (CANCELLED)
	Unknown            Code = 2  // an error that fits no other code
	InvalidArgument    Code = 3  // a malformed request, bad reference or path
	DeadlineExceeded   Code = 4  // the call's deadline passed
	NotFound           Code = 5  // an unknown image, key or lease
	AlreadyExists      Code = 6  // not used by the daemon
	PermissionDenied   Code = 7  // an admin method, a path outside the roots
	ResourceExhausted  Code = 8  // too many calls or connections, a message over the limit
	FailedPrecondition Code = 9  // an image backing off; a protocol revision mismatch
	Aborted            Code = 10 // an image job failed
	OutOfRange         Code = 11 // not used by the daemon
	Unimplemented      Code = 12 // an unknown method, a backend not built in
	Internal           Code = 13 // a bug in the daemon
	Unavailable        Code = 14 // the daemon cannot be reached, is draining, or a backend is down
	DataLoss           Code = 15 // not used by the daemon
	Unauthenticated    Code = 16 // not used by the daemon
)

var codeNames = [...]string{
	"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
	"ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
	"OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
}

// String returns the code's canonical gRPC name, e.g. "DEADLINE_EXCEEDED",
// or "Code(N)" for a number outside the gRPC set.
func (c Code) String() string {
	if int(c) < len(codeNames) {
		return codeNames[c]
	}
	return fmt.Sprintf("Code(%d)", uint32(c))
}

// ErrorDetail is what a failed answer says beside its code: the daemon
// sends one for image jobs that failed, images backing off, paths outside
// the database roots and the like (ErrorDetail in wire.proto).
type ErrorDetail struct {
	// Category is a short stable word, e.g. "build_failed", "backing_off",
	// "outside_roots".
	Category string
	// Permanent is true when asking again will not help until something
	// changes (the config, the image source).
	Permanent bool
	// Remedy is one line for a human: what to do about it.
	Remedy string
	// RetryAfter is when asking again makes sense, from the moment the
	// answer was read; 0 when the daemon gave no advice.
	RetryAfter time.Duration
}

// Error is the error of every call that did not end OK: the daemon's
// status code and message, and its ErrorDetail when it sent one. The
// client's own failures are Errors too: Unavailable when the daemon cannot
// be reached or the connection was lost (the message names the socket),
// Canceled or DeadlineExceeded when the call's context ended, and
// ResourceExhausted for a request over the daemon's size limit. An Error
// with code Canceled or DeadlineExceeded, the daemon's or the client's, is
// also context.Canceled or context.DeadlineExceeded to errors.Is.
type Error struct {
	// Code is the gRPC status code.
	Code Code
	// Message is the daemon's reason (for a failed image build, the last
	// 64 KiB of its output), or the client's.
	Message string
	// Detail is the daemon's ErrorDetail, nil when it sent none.
	Detail *ErrorDetail

	cause error
}

// Error returns "sidecar: CODE: message".
func (e *Error) Error() string {
	if e.Message == "" {
		return "sidecar: " + e.Code.String()
	}
	return "sidecar: " + e.Code.String() + ": " + e.Message
}

// Unwrap returns the error underneath, when there is one: the context's
// error for a call whose context ended, ErrClosed after Close, or the
// system error a connection failed with.
func (e *Error) Unwrap() error { return e.cause }

// ErrClosed is what calls on a closed Client fail with (as the cause of an
// *Error with code Canceled): errors.Is(err, sidecar.ErrClosed).
var ErrClosed = errors.New("sidecar: the client is closed")

// CodeOf returns the status code of err: OK for nil, the Code of an *Error
// anywhere in its chain, Canceled or DeadlineExceeded for the context
// errors, and Unknown for anything else.
func CodeOf(err error) Code {
	if err == nil {
		return OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	switch {
	case errors.Is(err, context.Canceled):
		return Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return DeadlineExceeded
	}
	return Unknown
}

// IsPermanent reports whether asking again will not help until something
// changes. When the daemon sent an ErrorDetail, it decides (its Permanent
// field); otherwise the codes that no retry can fix are permanent:
// InvalidArgument, PermissionDenied, Unimplemented and Unauthenticated.
// A nil error, Unavailable, DeadlineExceeded, ResourceExhausted and the
// other codes are not.
func IsPermanent(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	if e.Detail != nil {
		return e.Detail.Permanent
	}
	switch e.Code {
	case InvalidArgument, PermissionDenied, Unimplemented, Unauthenticated:
		return true
	}
	return false
}

// replyError is the *Error of a REPLY whose status is not OK; payload is
// its ErrorDetail, or empty.
func replyError(status uint32, message string, payload []byte) *Error {
	e := &Error{Code: Code(status), Message: message}
	// The daemon enforces the context's deadline and carries out its
	// cancellation: its answers then are the context's errors too.
	switch e.Code {
	case DeadlineExceeded:
		e.cause = context.DeadlineExceeded
	case Canceled:
		e.cause = context.Canceled
	}
	if len(payload) > 0 {
		var d sidecarpb.ErrorDetail
		// A payload that is not an ErrorDetail says nothing more.
		if proto.Unmarshal(payload, &d) == nil {
			e.Detail = &ErrorDetail{
				Category:   d.GetCategory(),
				Permanent:  d.GetPermanent(),
				Remedy:     d.GetRemedy(),
				RetryAfter: time.Duration(d.GetRetryAfterSeconds() * float64(time.Second)),
			}
		}
	}
	return e
}

// contextError is the *Error of a call whose context ended.
func contextError(err error, what string) *Error {
	code := Canceled
	if errors.Is(err, context.DeadlineExceeded) {
		code = DeadlineExceeded
	}
	return &Error{Code: code, Message: what + ": " + err.Error(), cause: err}
}
