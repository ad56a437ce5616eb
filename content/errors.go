// Package content is Herald's core: content types, documents with draft and
// publish, the REST content API's services, content events, and the
// vocabulary every other part shares (the error type and the acting
// principal).
package content

import (
	"errors"
	"fmt"
)

// ErrorCode classifies an Error. The web layer maps each code to an HTTP
// status and to Strapi's error name.
type ErrorCode string

// The error codes Herald uses. Anything that is not an *Error is internal.
const (
	ENOTFOUND     ErrorCode = "not_found"
	EINVALID      ErrorCode = "invalid"
	EPAGINATION   ErrorCode = "pagination"
	ECONFLICT     ErrorCode = "conflict"
	EUNAUTHORIZED ErrorCode = "unauthorized"
	EFORBIDDEN    ErrorCode = "forbidden"
	ETOOLARGE     ErrorCode = "too_large"
	ERATELIMITED  ErrorCode = "rate_limited"
	EINTERNAL     ErrorCode = "internal"
)

// Error is an error whose message is safe to show to the caller.
type Error struct {
	Code    ErrorCode
	Message string
	// Details is serialised as the envelope's "details"; nil means {}.
	Details any
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError names one invalid value by its path inside the request body or
// query, in Strapi's validation details shape.
type FieldError struct {
	Path    []string `json:"path"`
	Message string   `json:"message"`
	Name    string   `json:"name"`
}

// ValidationDetails is the "details" of a validation error.
type ValidationDetails struct {
	Errors []FieldError `json:"errors"`
}

// Invalid returns an EINVALID error whose details list the given field errors.
// With no field errors the details are empty.
func Invalid(message string, fields ...FieldError) *Error {
	e := &Error{Code: EINVALID, Message: message}
	if len(fields) > 0 {
		e.Details = ValidationDetails{Errors: fields}
	}
	return e
}

// InvalidField returns an EINVALID error about one value at path.
func InvalidField(path []string, message string) *Error {
	return Invalid(message, FieldError{Path: path, Message: message, Name: "ValidationError"})
}

// ErrorCodeOf returns the code of the first *Error in err's chain, or
// EINTERNAL when there is none.
func ErrorCodeOf(err error) ErrorCode {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// IsCode reports whether err carries the given code.
func IsCode(err error, code ErrorCode) bool {
	return err != nil && ErrorCodeOf(err) == code
}
