package bot

import (
	"errors"
	"fmt"
)

// Error codes: what kind of failure an operation had, independent of transport.
// Handlers map them to HTTP statuses and ephemeral replies in exactly one place.
const (
	EInvalid     = "invalid"     // bad input from the caller
	ENotFound    = "not_found"   // the thing asked for does not exist
	EConflict    = "conflict"    // the request conflicts with current state
	EForbidden   = "forbidden"   // the caller may not do this
	EUnavailable = "unavailable" // a transient local failure: try again
	EInternal    = "internal"    // a bug or an unexpected failure
)

// Error is the one error type of the core. Message is safe to show to a user.
type Error struct {
	Code    string
	Message string
	Err     error // optional cause, never shown to users
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted, user-safe message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WrapError returns an *Error with code and message around cause.
func WrapError(code string, cause error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: cause}
}

// ErrorCode returns the code of the first *Error in err's chain, EInternal for
// other non-nil errors, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// ErrorMessage returns the user-safe message of err: the *Error's Message, or a
// generic text for other errors (whose text may carry internals).
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
