package query

import (
	"slices"
	"strconv"
	"strings"
)

// Limits on what one query may ask for.
const (
	// MaxDepth is how deeply $and, $or and $not may nest.
	MaxDepth = 10
	// MaxConditions is the most comparisons one filters tree may hold.
	MaxConditions = 100
	// MaxValues is the most values one $in or $notIn may list.
	MaxValues = 100
	// MaxSort is the most sort keys.
	MaxSort = 16
	// MaxFields is the most names fields may list.
	MaxFields = 100
	// DefaultPageSize is the page size when none is asked for.
	DefaultPageSize = 25
	// MaxPageSize is the largest page size and limit; larger ones are
	// clamped to it.
	MaxPageSize = 100
	// maxPageNumber bounds page, pageSize, start and limit before clamping,
	// so that offsets cannot overflow.
	maxPageNumber = 1_000_000_000
)

// Status values.
const (
	StatusPublished = "published"
	StatusDraft     = "draft"
)

// Params is a parsed query string, before it is checked against a schema.
type Params struct {
	// Filters is the filters tree, nil when there is none.
	Filters *Filter
	// Sort lists the sort keys in order.
	Sort []SortField
	// Pagination is the page asked for, with defaults filled in.
	Pagination Pagination
	// PaginationGiven reports whether the query had a pagination parameter.
	PaginationGiven bool
	// Fields lists the names asked for with fields; nil means all.
	Fields []string
	// Status is "draft" or "published" ("" when the query did not say).
	Status string
	// Search is the _q value.
	Search string
	// Populate is what populate asks for, nil when it is absent.
	Populate *PopulateSet
	// Locale is the locale parameter, accepted and ignored since Herald has
	// no internationalisation.
	Locale string
}

// SortField is one sort key.
type SortField struct {
	Field string
	Desc  bool
}

// Filter is one node of a filters tree. Logical nodes ($and, $or, $not) have
// Children; comparison nodes name a Field and carry Values, the raw strings
// from the query; OpRelated nodes name a relation or media Field and hold
// one child, a condition on the attributes of what it links to.
type Filter struct {
	Op       string
	Field    string
	Values   []string
	Children []*Filter
	// Path locates the node in the query, for error messages.
	Path []string
}

// Operators.
const (
	OpAnd          = "$and"
	OpOr           = "$or"
	OpNot          = "$not"
	OpEq           = "$eq"
	OpEqi          = "$eqi"
	OpNe           = "$ne"
	OpNei          = "$nei"
	OpLt           = "$lt"
	OpLte          = "$lte"
	OpGt           = "$gt"
	OpGte          = "$gte"
	OpIn           = "$in"
	OpNotIn        = "$notIn"
	OpContains     = "$contains"
	OpNotContains  = "$notContains"
	OpContainsi    = "$containsi"
	OpNotContainsi = "$notContainsi"
	OpNull         = "$null"
	OpNotNull      = "$notNull"
	OpBetween      = "$between"
	OpStartsWith   = "$startsWith"
	OpStartsWithi  = "$startsWithi"
	OpEndsWith     = "$endsWith"
	OpEndsWithi    = "$endsWithi"
	// OpRelated is not an operator of the query language: Parse builds it
	// for filters[author][name]=x, a condition (name = x) that a document
	// linked through the attribute (author) must meet.
	OpRelated = "$related"
)

// arity says how many values a comparison operator takes.
type arity uint8

const (
	arityOne arity = iota + 1
	arityList
	arityTwo
)

// comparisonArity returns the arity of a comparison operator, or 0 when op
// is not one.
func comparisonArity(op string) arity {
	switch op {
	case OpEq, OpEqi, OpNe, OpNei, OpLt, OpLte, OpGt, OpGte, OpContains, OpNotContains,
		OpContainsi, OpNotContainsi, OpNull, OpNotNull, OpStartsWith, OpStartsWithi,
		OpEndsWith, OpEndsWithi:
		return arityOne
	case OpIn, OpNotIn:
		return arityList
	case OpBetween:
		return arityTwo
	}
	return 0
}

// Parse reads the part of a URL after '?' in qs syntax (filters[title][$eq]=x,
// sort[0]=title:desc, arrays written [0] or [], percent-encoding, '+' for a
// space). It checks everything that does not depend on a schema: known
// parameters and operators, value counts, pagination numbers, status. Every
// error it returns is an *Error.
func Parse(rawQuery string) (*Params, error) {
	root, err := parseTree(rawQuery)
	if err != nil {
		return nil, err
	}
	p := &Params{Pagination: Pagination{
		Style: "page", Page: 1, PageSize: DefaultPageSize, Limit: DefaultPageSize,
		WithCount: true,
	}}
	// One filter parser counts the conditions of every filters tree,
	// populate's included.
	var fp filterParser
	for _, kid := range root.kids {
		key, n := kid.key, kid.node
		var err *Error
		switch key {
		case "filters":
			p.Filters, err = fp.filters(n, []string{key})
		case "sort":
			err = parseSort(n, []string{key}, &p.Sort)
		case "pagination":
			err = p.parsePagination(n)
		case "fields":
			p.Fields, err = parseFields(n, []string{key})
		case "status":
			p.Status, err = single(n, key)
			if err == nil && p.Status != StatusDraft && p.Status != StatusPublished {
				err = invalidf([]string{key},
					"Invalid status %s: expected draft or published", quote(p.Status))
			}
		case "_q":
			p.Search, err = single(n, key)
		case "populate":
			pp := populateParser{fp: &fp}
			p.Populate, err = pp.set(n, []string{key}, 1)
		case "locale":
			p.Locale, err = single(n, key)
		default:
			err = invalidf([]string{key}, "Invalid key %s: unknown query parameter", key)
		}
		if err != nil {
			return nil, err
		}
	}
	return p, nil
}

// single returns the value of a parameter that takes one string.
func single(n *qnode, key string) (string, *Error) {
	if !n.leaf {
		return "", invalidf([]string{key}, "Invalid value for %s: expected a single value", key)
	}
	return n.val, nil
}

// filters reads a filters tree found at path.
func (fp *filterParser) filters(n *qnode, path []string) (*Filter, *Error) {
	if n.leaf {
		k := keyString(path)
		return nil, invalidf(path, "Invalid value for %s: expected %s[attribute]=value", k, k)
	}
	return fp.object(n, "", path, 0)
}

// filterParser turns the filters part of the tree into Filter nodes.
type filterParser struct {
	conditions int
}

// object reads a container of attribute names and operators, joined by AND.
// field is the attribute the container applies to, "" at the top.
func (fp *filterParser) object(n *qnode, field string, path []string, depth int) (*Filter, *Error) {
	if depth > MaxDepth {
		return nil, invalidf(path, "Invalid filters: nested more than %d levels at %s",
			MaxDepth, keyString(path))
	}
	kids := make([]*Filter, 0, len(n.kids))
	var nested []qchild
	relAt := 0
	for _, kid := range n.kids {
		if field != "" && !strings.HasPrefix(kid.key, "$") {
			// An attribute of the documents field links to: grouped, so
			// that one linked document must meet all of them.
			if nested == nil {
				relAt = len(kids)
			}
			nested = append(nested, kid)
			continue
		}
		f, err := fp.entry(kid.key, kid.node, field, extend(path, kid.key), depth)
		if err != nil {
			return nil, err
		}
		kids = append(kids, f)
	}
	if nested != nil {
		f, err := fp.related(nested, field, path, depth+1)
		if err != nil {
			return nil, err
		}
		kids = slices.Insert(kids, relAt, f)
	}
	if len(kids) == 1 {
		return kids[0], nil
	}
	return &Filter{Op: OpAnd, Field: field, Children: kids, Path: path}, nil
}

// entry reads one key of a filters container and its value.
func (fp *filterParser) entry(key string, n *qnode, field string, path []string,
	depth int) (*Filter, *Error) {
	if !strings.HasPrefix(key, "$") {
		if key == "" {
			return nil, invalidf(path, "Invalid key in %s: empty attribute name", keyString(path))
		}
		return fp.attribute(n, key, path, depth)
	}
	switch key {
	case OpAnd, OpOr:
		if n.leaf || !n.isArray() {
			return nil, invalidf(path,
				"Invalid value for %s at %s: expected a list such as %s[0][attribute]=value",
				key, keyString(path), key)
		}
		elems := n.elems()
		kids := make([]*Filter, 0, len(elems))
		for i, e := range elems {
			ep := extend(path, strconv.Itoa(i))
			var f *Filter
			var err *Error
			if field != "" {
				f, err = fp.attribute(e, field, ep, depth+1)
			} else if e.leaf {
				err = invalidf(ep, "Invalid value at %s: expected conditions on attributes",
					keyString(ep))
			} else {
				f, err = fp.object(e, "", ep, depth+1)
			}
			if err != nil {
				return nil, err
			}
			kids = append(kids, f)
		}
		return &Filter{Op: key, Field: field, Children: kids, Path: path}, nil
	case OpNot:
		var inner *Filter
		var err *Error
		if field != "" {
			inner, err = fp.attribute(n, field, path, depth+1)
		} else if n.leaf {
			err = invalidf(path, "Invalid value for $not at %s: expected conditions on attributes",
				keyString(path))
		} else {
			inner, err = fp.object(n, "", path, depth+1)
		}
		if err != nil {
			return nil, err
		}
		return &Filter{Op: OpNot, Field: field, Children: []*Filter{inner}, Path: path}, nil
	}
	ar := comparisonArity(key)
	if ar == 0 {
		return nil, invalidf(path, "Invalid operator %s at %s", key, keyString(path))
	}
	if field == "" {
		return nil, invalidf(path,
			"Invalid operator %s at %s: an operator must follow an attribute name",
			key, keyString(path))
	}
	var vals []string
	switch {
	case n.leaf:
		vals = []string{n.val}
	case n.isArray():
		elems := n.elems()
		vals = make([]string, len(elems))
		for i, e := range elems {
			if !e.leaf {
				return nil, invalidf(path, "Invalid value for %s at %s: expected plain values",
					key, keyString(path))
			}
			vals[i] = e.val
		}
	default:
		return nil, invalidf(path, "Invalid value for %s at %s: expected a value, not keys",
			key, keyString(path))
	}
	return fp.comparison(key, ar, field, vals, path)
}

// related reads the attribute keys found under field (filters[author][name]
// and its siblings) into an OpRelated node. Its Path is the first key's, so
// that an error names it.
func (fp *filterParser) related(kids []qchild, field string, path []string,
	depth int) (*Filter, *Error) {
	first := extend(path, kids[0].key)
	if depth > MaxDepth {
		return nil, invalidf(first, "Invalid filters: nested more than %d levels at %s",
			MaxDepth, keyString(first))
	}
	if err := fp.count(first); err != nil {
		return nil, err
	}
	conds := make([]*Filter, 0, len(kids))
	for _, kid := range kids {
		f, err := fp.entry(kid.key, kid.node, "", extend(path, kid.key), depth)
		if err != nil {
			return nil, err
		}
		conds = append(conds, f)
	}
	inner := conds[0]
	if len(conds) > 1 {
		inner = &Filter{Op: OpAnd, Children: conds, Path: path}
	}
	return &Filter{Op: OpRelated, Field: field, Children: []*Filter{inner}, Path: first}, nil
}

// count counts one more condition against MaxConditions.
func (fp *filterParser) count(path []string) *Error {
	fp.conditions++
	if fp.conditions > MaxConditions {
		return invalidf(path, "Invalid filters: more than %d conditions", MaxConditions)
	}
	return nil
}

// attribute reads the value given for an attribute: a plain value ($eq), a
// list of plain values ($in), or a container of operators.
func (fp *filterParser) attribute(n *qnode, field string, path []string,
	depth int) (*Filter, *Error) {
	if n.leaf {
		return fp.comparison(OpEq, arityOne, field, []string{n.val}, path)
	}
	if n.isArray() {
		elems := n.elems()
		vals := make([]string, 0, len(elems))
		for _, e := range elems {
			if !e.leaf {
				vals = nil
				break
			}
			vals = append(vals, e.val)
		}
		if vals != nil {
			return fp.comparison(OpIn, arityList, field, vals, path)
		}
	}
	return fp.object(n, field, path, depth)
}

func (fp *filterParser) comparison(op string, ar arity, field string, vals []string,
	path []string) (*Filter, *Error) {
	if err := fp.count(path); err != nil {
		return nil, err
	}
	switch ar {
	case arityOne:
		if len(vals) != 1 {
			return nil, invalidf(path, "Invalid value for %s at %s: expected one value, got %d",
				op, keyString(path), len(vals))
		}
	case arityTwo:
		if len(vals) != 2 {
			return nil, invalidf(path, "Invalid value for %s at %s: expected two values, got %d",
				op, keyString(path), len(vals))
		}
	case arityList:
		if len(vals) > MaxValues {
			return nil, invalidf(path, "Invalid value for %s at %s: more than %d values",
				op, keyString(path), MaxValues)
		}
	}
	return &Filter{Op: op, Field: field, Values: vals, Path: path}, nil
}

// parseSort reads, at path, sort=a,b:desc, sort[0]=a&sort[1]=b:asc,
// sort[a]=desc and sort[0][a]=desc, appending to keys.
func parseSort(n *qnode, path []string, keys *[]SortField) *Error {
	if n.leaf {
		return sortList(n.val, path, keys)
	}
	if n.isArray() {
		for i, e := range n.elems() {
			ep := extend(path, strconv.Itoa(i))
			var err *Error
			if e.leaf {
				err = sortList(e.val, ep, keys)
			} else {
				err = sortObject(e, ep, keys)
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
	return sortObject(n, path, keys)
}

func sortList(s string, path []string, keys *[]SortField) *Error {
	for {
		term, rest, more := strings.Cut(s, ",")
		term = strings.TrimSpace(term)
		if term == "" {
			return invalidf(path, "Invalid sort at %s: empty sort key", keyString(path))
		}
		field, dir, _ := strings.Cut(term, ":")
		err := addSort(strings.TrimSpace(field), strings.TrimSpace(dir), path, keys)
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
		s = rest
	}
}

func sortObject(n *qnode, path []string, keys *[]SortField) *Error {
	for _, kid := range n.kids {
		key, c := kid.key, kid.node
		if !c.leaf {
			kp := extend(path, key)
			return invalidf(kp, "Invalid sort at %s: expected asc or desc", keyString(kp))
		}
		if err := addSort(key, c.val, extend(path, key), keys); err != nil {
			return err
		}
	}
	return nil
}

func addSort(field, dir string, path []string, keys *[]SortField) *Error {
	if field == "" {
		return invalidf(path, "Invalid sort at %s: empty attribute name", keyString(path))
	}
	desc := false
	switch {
	case dir == "" || strings.EqualFold(dir, "asc"):
	case strings.EqualFold(dir, "desc"):
		desc = true
	default:
		return invalidf(path, "Invalid sort direction %s for %s: expected asc or desc",
			quote(dir), field)
	}
	if len(*keys) >= MaxSort {
		return invalidf(path, "Invalid sort: more than %d sort keys", MaxSort)
	}
	*keys = append(*keys, SortField{Field: field, Desc: desc})
	return nil
}

// parseFields reads, at path, fields[0]=a&fields[1]=b and fields=a,b; "*"
// means all, returned as nil.
func parseFields(n *qnode, path []string) ([]string, *Error) {
	var all bool
	var names []string
	add := func(s string, path []string) *Error {
		for {
			name, rest, more := strings.Cut(s, ",")
			name = strings.TrimSpace(name)
			switch {
			case name == "":
				return invalidf(path, "Invalid value for %s: empty field name", keyString(path))
			case name == "*":
				all = true
			case !slices.Contains(names, name):
				if len(names) >= MaxFields {
					return invalidf(path, "Invalid fields: more than %d names", MaxFields)
				}
				names = append(names, name)
			}
			if !more {
				return nil
			}
			s = rest
		}
	}
	switch {
	case n.leaf:
		if err := add(n.val, path); err != nil {
			return nil, err
		}
	case n.isArray():
		for i, e := range n.elems() {
			ep := extend(path, strconv.Itoa(i))
			if !e.leaf {
				return nil, invalidf(ep, "Invalid value for %s: expected a field name",
					keyString(ep))
			}
			if err := add(e.val, ep); err != nil {
				return nil, err
			}
		}
	default:
		return nil, invalidf(path, "Invalid value for %s: expected a list of field names",
			keyString(path))
	}
	if all {
		return nil, nil
	}
	return names, nil
}

// parsePagination reads pagination[page], [pageSize], [start], [limit] and
// [withCount]. Page and offset styles may not be mixed.
func (p *Params) parsePagination(n *qnode) *Error {
	path := []string{"pagination"}
	if n.leaf || n.isArray() {
		return invalidf(path, "Invalid value for pagination: expected pagination[page]=1 "+
			"or pagination[start]=0")
	}
	p.PaginationGiven = true
	pg := &p.Pagination
	var pageKeys, offsetKeys bool
	for _, kid := range n.kids {
		key, c := kid.key, kid.node
		kp := extend(path, key)
		if !c.leaf {
			return paginationf(kp, "Invalid value for %s: expected a single value", keyString(kp))
		}
		var err *Error
		switch key {
		case "page":
			pageKeys = true
			pg.Page, err = pageNumber(c.val, kp, 1)
		case "pageSize":
			pageKeys = true
			pg.PageSize, err = pageNumber(c.val, kp, 1)
		case "start":
			offsetKeys = true
			pg.Start, err = pageNumber(c.val, kp, 0)
		case "limit":
			offsetKeys = true
			if c.val == "-1" {
				// Strapi's "no limit", which the maximum page size caps.
				pg.Limit = MaxPageSize
				break
			}
			pg.Limit, err = pageNumber(c.val, kp, 1)
		case "withCount":
			switch strings.ToLower(c.val) {
			case "true", "1", "t":
				pg.WithCount = true
			case "false", "0", "f":
				pg.WithCount = false
			default:
				err = paginationf(kp, "Invalid value %s for %s: expected true or false",
					quote(c.val), keyString(kp))
			}
		default:
			err = invalidf(kp, "Invalid key %s: unknown pagination parameter", keyString(kp))
		}
		if err != nil {
			return err
		}
	}
	if pageKeys && offsetKeys {
		return paginationf(path, "Invalid pagination: page and pageSize cannot be mixed "+
			"with start and limit")
	}
	if offsetKeys {
		pg.Style = "offset"
		pg.Limit = min(pg.Limit, MaxPageSize)
		pg.Page, pg.PageSize = 0, 0
		return nil
	}
	pg.PageSize = min(pg.PageSize, MaxPageSize)
	pg.Start = (pg.Page - 1) * pg.PageSize
	pg.Limit = pg.PageSize
	return nil
}

// pageNumber reads a decimal integer no smaller than least.
func pageNumber(s string, path []string, least int) (int, *Error) {
	neg := strings.HasPrefix(s, "-")
	digits := strings.TrimPrefix(s, "-")
	if digits == "" || len(digits) > 10 || strings.Trim(digits, "0123456789") != "" {
		return 0, paginationf(path, "Invalid value %s for %s: expected a whole number",
			quote(s), keyString(path))
	}
	v, _ := strconv.Atoi(digits)
	if neg {
		v = -v
	}
	if v < least {
		return 0, paginationf(path, "Invalid value %s for %s: must be at least %d",
			quote(s), keyString(path), least)
	}
	if v > maxPageNumber {
		return 0, paginationf(path, "Invalid value %s for %s: must be at most %d",
			quote(s), keyString(path), maxPageNumber)
	}
	return v, nil
}
