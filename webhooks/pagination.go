package webhooks

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/content/query"
)

// Page is a request for one page of a list, in either of the content API's
// two styles; the delivery log pages exactly like the content API. A Page
// built by hand with Style "" is in the page style.
type Page = query.Pagination

// DefaultPage is the first page of 25, with the total.
var DefaultPage = Page{
	Style: "page", Page: 1, PageSize: query.DefaultPageSize, Limit: query.DefaultPageSize,
	WithCount: true,
}

// pageWindow returns the OFFSET and LIMIT of page, clamped to the content
// API's bounds so that a Page built by hand cannot ask for everything.
func pageWindow(page Page) (offset, limit int) {
	if page.Style == "offset" {
		return max(page.Start, 0), min(max(page.Limit, 1), query.MaxPageSize)
	}
	size := min(max(page.PageSize, 1), query.MaxPageSize)
	return (max(page.Page, 1) - 1) * size, size
}

// parsePage reads the pagination[...] parameters with the content API's
// parser and turns its errors into *content.Error the way the content API
// does: EPAGINATION for a bad page, EINVALID naming the parameter otherwise.
func parsePage(values url.Values) (Page, error) {
	p, err := query.ParsePagination(values)
	if err == nil {
		return p, nil
	}
	var qe *query.Error
	if !errors.As(err, &qe) {
		return p, fmt.Errorf("parse pagination: %w", err)
	}
	if qe.Kind != query.KindPagination {
		return p, content.InvalidField(qe.Path, qe.Message)
	}
	e := &content.Error{Code: content.EPAGINATION, Message: qe.Message}
	if len(qe.Path) > 0 {
		e.Details = content.ValidationDetails{Errors: []content.FieldError{{
			Path: qe.Path, Message: qe.Message, Name: "ValidationError"}}}
	}
	return p, e
}
