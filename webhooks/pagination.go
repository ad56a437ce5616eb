package webhooks

import (
	"strconv"
	"strings"

	"github.com/herald-cms/herald/content"
)

// The content API's page sizes.
const (
	defaultPageSize = 25
	maxPageSize     = 100
)

// Page is a request for one page of a list, in either of the content API's
// two styles: pagination[page] and [pageSize], or pagination[start] and
// [limit].
type Page struct {
	// Offset is true for the start/limit style.
	Offset   bool
	Page     int
	PageSize int
	Start    int
	Limit    int
	// WithCount asks for the total (default true).
	WithCount bool
}

// DefaultPage is the first page of 25.
var DefaultPage = Page{Page: 1, PageSize: defaultPageSize, WithCount: true}

func (p Page) offset() int {
	if p.Offset {
		return p.Start
	}
	return (p.Page - 1) * p.PageSize
}

func (p Page) limit() int {
	if p.Offset {
		return p.Limit
	}
	return p.PageSize
}

// Meta returns the response's meta.pagination for a page with total
// matches: page, pageSize, pageCount and total, or start, limit and total.
// Without WithCount, total and pageCount are left out.
func (p Page) Meta(total int64) map[string]any {
	m := map[string]any{}
	if p.Offset {
		m["start"], m["limit"] = p.Start, p.Limit
	} else {
		m["page"], m["pageSize"] = p.Page, p.PageSize
		if p.WithCount {
			m["pageCount"] = (total + int64(p.PageSize) - 1) / int64(p.PageSize)
		}
	}
	if p.WithCount {
		m["total"] = total
	}
	return m
}

// ParsePage reads the pagination[...] parameters from a query, given as
// key and value pairs. It ignores other keys. Page sizes default to 25 and
// are clamped to 100; a limit of -1 means 100. Mixing the two styles, or a
// value that is not a number in range, is an EPAGINATION error naming the
// parameter.
//
// TODO: move to the content package's query parser once it exists, so
// every list speaks exactly the same pagination.
func ParsePage(query [][2]string) (Page, error) {
	p := DefaultPage
	var byPage, byOffset bool
	for _, kv := range query {
		key, value := kv[0], kv[1]
		name, ok := strings.CutPrefix(key, "pagination[")
		if !ok {
			continue
		}
		name = strings.TrimSuffix(name, "]")
		var err error
		switch name {
		case "page":
			byPage = true
			p.Page, err = pageInt(key, value, 1)
		case "pageSize":
			byPage = true
			p.PageSize, err = pageInt(key, value, 1)
			p.PageSize = min(p.PageSize, maxPageSize)
		case "start":
			byOffset = true
			p.Start, err = pageInt(key, value, 0)
		case "limit":
			byOffset = true
			if value == "-1" {
				p.Limit = maxPageSize
				continue
			}
			p.Limit, err = pageInt(key, value, 1)
			p.Limit = min(p.Limit, maxPageSize)
		case "withCount":
			p.WithCount, err = strconv.ParseBool(value)
			if err != nil {
				err = content.Errorf(content.EPAGINATION, "%s must be true or false", key)
			}
		default:
			return p, content.Errorf(content.EPAGINATION, "Unknown pagination parameter %s", key)
		}
		if err != nil {
			return p, err
		}
	}
	if byPage && byOffset {
		return p, content.Errorf(content.EPAGINATION,
			"Use either page and pageSize or start and limit, not both")
	}
	if byOffset {
		p.Offset = true
		if p.Limit == 0 {
			p.Limit = defaultPageSize
		}
	}
	return p, nil
}

func pageInt(key, value string, least int) (int, error) {
	n, err := strconv.Atoi(value)
	if err != nil || n < least {
		return 0, content.Errorf(content.EPAGINATION,
			"%s must be a whole number of at least %d", key, least)
	}
	return n, nil
}
