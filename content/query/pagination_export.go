package query

import (
	"net/url"
	"slices"
	"strings"
)

// ParsePagination reads only the pagination[...] parameters of values, with
// the same defaults, clamping and checks as Parse, so that lists outside the
// content API (the webhook delivery log, for one) page exactly like it.
// Other keys are ignored. Every error it returns is an *Error.
func ParsePagination(values url.Values) (Pagination, error) {
	p, err := Parse("")
	if err != nil {
		return Pagination{}, err
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		if k == "pagination" || strings.HasPrefix(k, "pagination[") {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return p.Pagination, nil
	}
	// Sorted, so that the first error reported does not depend on map order.
	slices.Sort(keys)
	t := &qtree{}
	root := t.node()
	var segs []string
	for _, k := range keys {
		var qe *Error
		if segs, qe = splitKey(k, segs[:0]); qe != nil {
			return Pagination{}, qe
		}
		for _, v := range values[k] {
			if qe := root.insert(t, segs, v); qe != nil {
				return Pagination{}, qe
			}
		}
	}
	if qe := p.parsePagination(root.child("pagination")); qe != nil {
		return Pagination{}, qe
	}
	return p.Pagination, nil
}
