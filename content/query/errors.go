package query

import (
	"fmt"
	"strings"
)

// ErrorKind classifies an Error: the content package maps KindValidation to
// a 400 ValidationError and KindPagination to a 400 PaginationError.
type ErrorKind int

// The kinds of query error.
const (
	KindValidation ErrorKind = iota + 1
	KindPagination
)

// String names the kind.
func (k ErrorKind) String() string {
	switch k {
	case KindValidation:
		return "validation"
	case KindPagination:
		return "pagination"
	}
	return "unknown"
}

// Error is a problem with a query string that the caller must fix. Its
// message is safe to show: it says what was wrong and where, and never
// reveals private attributes.
type Error struct {
	Kind    ErrorKind
	Message string
	// Path locates the offending value in the query, as qs keys:
	// ["filters", "views", "$gt"] for filters[views][$gt].
	Path []string
}

// Error implements the error interface.
func (e *Error) Error() string {
	return e.Message
}

func invalidf(path []string, format string, args ...any) *Error {
	return &Error{Kind: KindValidation, Message: fmt.Sprintf(format, args...), Path: path}
}

func paginationf(path []string, format string, args ...any) *Error {
	return &Error{Kind: KindPagination, Message: fmt.Sprintf(format, args...), Path: path}
}

// keyString writes a path the way it appears in a query string:
// filters[title][$eq].
func keyString(path []string) string {
	if len(path) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(path[0])
	for _, p := range path[1:] {
		b.WriteByte('[')
		b.WriteString(p)
		b.WriteByte(']')
	}
	return b.String()
}

// quote shows a user-supplied value in a message, shortened so that a huge
// value cannot make a huge error.
func quote(s string) string {
	const max = 40
	if len(s) > max {
		cut := max
		for cut > 0 && s[cut]&0xC0 == 0x80 {
			cut--
		}
		s = s[:cut] + "..."
	}
	return fmt.Sprintf("%q", s)
}

// extend returns path with more elements appended, never sharing path's
// backing array.
func extend(path []string, more ...string) []string {
	out := make([]string, len(path), len(path)+len(more))
	copy(out, path)
	return append(out, more...)
}
