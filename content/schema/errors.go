package schema

import (
	"errors"
	"fmt"
	"strings"
)

// FieldError is one problem with a schema or with a value, found at Path:
// ["info", "singularName"] or ["attributes", "title", "maxLength"] inside a
// schema, the attribute's name (["title"]) inside a document's data.
type FieldError struct {
	Path    []string `json:"path"`
	Message string   `json:"message"`
}

// Errors lists the problems found by Parse, Validate and Prepare. A non-empty
// Errors is an error; callers turn it into a 400 ValidationError whose
// details list each FieldError.
type Errors []FieldError

// Error joins the messages with "; ".
func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Message
	}
	return strings.Join(msgs, "; ")
}

// add appends a problem at path. The path is copied, so callers may reuse
// the slice they build it in.
func (es *Errors) add(path []string, format string, args ...any) {
	p := make([]string, len(path))
	copy(p, path)
	*es = append(*es, FieldError{Path: p, Message: fmt.Sprintf(format, args...)})
}

// err returns es as an error, or a nil error (not a nil Errors inside an
// error interface) when es is empty.
func (es Errors) err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// ValueError says why a value does not fit an attribute. Its message is the
// attribute's name followed by the problem: "views must be an integer".
type ValueError struct {
	// Attribute is the attribute's name; empty for a bare attribute.
	Attribute string
	// Problem completes the sentence: "must be an integer".
	Problem string
}

// Error returns "<attribute> <problem>", or "value <problem>" when the
// attribute has no name.
func (e *ValueError) Error() string {
	name := e.Attribute
	if name == "" {
		name = "value"
	}
	return name + " " + e.Problem
}

// problem is an unexported error whose text completes a sentence about a
// value ("must be an integer"); NormalizeValue and ValidValue wrap it into a
// ValueError naming the attribute.
type problem string

func (p problem) Error() string { return string(p) }

// problemf formats a problem.
func problemf(format string, args ...any) problem {
	return problem(fmt.Sprintf(format, args...))
}

// problemText returns the problem of a *ValueError in err's chain, or err's
// message.
func problemText(err error) string {
	var ve *ValueError
	if errors.As(err, &ve) {
		return ve.Problem
	}
	return err.Error()
}
