package query

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/herald-cms/herald/content/schema"
)

// Dialect names the SQL dialect to compile for; the strings are those of
// content.SQLite and content.Postgres.
type Dialect string

// The supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Options says how to compile a query.
type Options struct {
	Dialect Dialect
	// AllowPrivate lets admin routes filter, sort and select private
	// attributes; the REST API may not.
	AllowPrivate bool
	// Single is set for single types, which refuse filters, _q, sort and
	// pagination.
	Single bool
	// Schemas returns the content type a relation targets, by uid, or nil
	// when no such type exists. Compile calls it only for queries that
	// filter across or populate relations; it must not parse schemas per
	// call.
	Schemas func(uid string) *schema.Schema
}

// Compiled is a query ready to run against the entries table.
type Compiled struct {
	// Where is a boolean SQL expression with '?' placeholders for Args, ""
	// when there is no condition. The caller adds the content type and
	// draft/published conditions around it. It names the entries table's
	// columns unqualified, and its subqueries (filters across relations
	// and media) refer to the filtered row as entries.id,
	// entries.document_id and entries.published_at: the caller's query must
	// read the entries table under that name, unaliased. The subqueries'
	// own aliases are rN, tN and fN (N a number), so no other table of
	// the caller's query may be called so.
	Where string
	Args  []any
	// OrderBy is an ORDER BY list without the keyword; it always ends with
	// the id tie-break.
	OrderBy    string
	Limit      int
	Offset     int
	Pagination Pagination
	// Fields lists the names asked for with fields; nil means all.
	Fields []string
	// Status is "draft" or "published".
	Status string
	// Search is the _q value, already folded into Where.
	Search string
	// Populate is the populate plan, nil when nothing is populated.
	Populate []*Populate
}

// Pagination is the page a list asked for, in the style it asked.
type Pagination struct {
	// Style is "page" (page and pageSize) or "offset" (start and limit).
	Style     string
	Page      int
	PageSize  int
	Start     int
	Limit     int
	WithCount bool
}

// Meta returns Strapi's meta.pagination for a list of total entries:
// {page, pageSize, pageCount, total} or {start, limit, total}. total and
// pageCount are left out when the query asked for withCount=false.
func (p Pagination) Meta(total int64) map[string]any {
	if p.Style == "offset" {
		m := map[string]any{"start": p.Start, "limit": p.Limit}
		if p.WithCount {
			m["total"] = total
		}
		return m
	}
	m := map[string]any{"page": p.Page, "pageSize": p.PageSize}
	if p.WithCount {
		pageCount := int64(0)
		if p.PageSize > 0 {
			pageCount = (total + int64(p.PageSize) - 1) / int64(p.PageSize)
		}
		m["pageCount"] = pageCount
		m["total"] = total
	}
	return m
}

// Compile checks p against the content type's schema s and turns it into
// SQL for opts.Dialect. Unknown, private (unless opts.AllowPrivate) and
// unqueryable attributes, operators that do not fit an attribute's type,
// malformed values, relations whose target type does not exist, populate
// on attributes that are not relations or media, and filters, sort or
// pagination on a single type are *Error values; any other error is a
// programming mistake (a nil schema, an unknown dialect, or a relation to
// resolve without opts.Schemas).
//
// Filters across relations (filters[author][name]=x) become correlated
// EXISTS subqueries that read the outer row from a table named entries, so
// the caller's query must name the entries table entries, unaliased (see
// Compiled.Where).
func Compile(p *Params, s *schema.Schema, opts Options) (*Compiled, error) {
	if p == nil || s == nil {
		return nil, errors.New("query: compile needs params and a schema")
	}
	if opts.Dialect != SQLite && opts.Dialect != Postgres {
		return nil, fmt.Errorf("query: unknown dialect %q", opts.Dialect)
	}
	if opts.Single {
		if err := refuseForSingle(p); err != nil {
			return nil, err
		}
	}
	c := &compiler{d: opts.Dialect, s: s, allowPrivate: opts.AllowPrivate,
		schemas: opts.Schemas, row: outerRow}
	out := &Compiled{
		Pagination: p.Pagination,
		Status:     p.Status,
		Search:     p.Search,
	}
	if out.Status == "" {
		out.Status = StatusPublished
	}
	if p.Filters != nil {
		if err := c.filter(p.Filters); err != nil {
			return nil, c.failure(err)
		}
	}
	if p.Search != "" {
		c.search(p.Search, p.Filters != nil)
	}
	out.Where = c.w.String()
	out.Args = c.args
	// The paths are built only when needed: an error keeps them, so they
	// would cost an allocation on every query.
	var err *Error
	out.OrderBy = "id ASC"
	if len(p.Sort) > 0 {
		if out.OrderBy, err = c.orderBy(p.Sort, []string{"sort"}); err != nil {
			return nil, err
		}
	}
	if len(p.Fields) > 0 {
		if out.Fields, err = c.fields(p.Fields, []string{"fields"}); err != nil {
			return nil, err
		}
	}
	if p.Populate != nil {
		if out.Populate, err = c.populate(p.Populate, []string{"populate"}, 1); err != nil {
			return nil, c.failure(err)
		}
	}
	out.Offset, out.Limit = p.Pagination.Start, p.Pagination.Limit
	if opts.Single {
		out.Offset, out.Limit = 0, 1
	}
	return out, nil
}

func refuseForSingle(p *Params) *Error {
	var key string
	switch {
	case p.Filters != nil:
		key = "filters"
	case p.Search != "":
		key = "_q"
	case len(p.Sort) > 0:
		key = "sort"
	case p.PaginationGiven:
		key = "pagination"
	default:
		return nil
	}
	return invalidf([]string{key}, "Invalid key %s: a single type has one entry and takes no %s",
		key, key)
}

func typeName(s *schema.Schema) string {
	if s.Info.SingularName != "" {
		return s.Info.SingularName
	}
	return "this content type"
}

// kind is how a field's values are stored and compared.
type kind uint8

const (
	kText     kind = iota + 1 // JSON string
	kNumber                   // JSON number
	kBigInt                   // JSON string of decimal digits
	kBool                     // JSON true/false
	kDate                     // "YYYY-MM-DD"
	kTime                     // "HH:MM:SS.mmm"
	kDateTime                 // "YYYY-MM-DDTHH:MM:SS.mmmZ"
	kJSON                     // any JSON: only $null and $notNull
	kID                       // the id column
	kDocID                    // the document_id column
	kStamp                    // a timestamp column
	kLink                     // a relation or media attribute: only $null and $notNull
)

func kindOf(typ string) kind {
	switch typ {
	case schema.TypeString, schema.TypeText, schema.TypeRichText, schema.TypeEmail,
		schema.TypeUID, schema.TypeEnumeration:
		return kText
	case schema.TypeInteger, schema.TypeFloat, schema.TypeDecimal:
		return kNumber
	case schema.TypeBigInteger:
		return kBigInt
	case schema.TypeBoolean:
		return kBool
	case schema.TypeDate:
		return kDate
	case schema.TypeTime:
		return kTime
	case schema.TypeDateTime:
		return kDateTime
	}
	return kJSON
}

// field is an attribute or a column resolved for a query.
type field struct {
	name string
	typ  string
	kind kind
	// col is the column of a system field, "" for an attribute in data.
	col string
	// link is the attribute of a kLink field.
	link *schema.Attribute
}

// systemField resolves the API names of the entries table's own columns.
func systemField(name string) (field, bool) {
	switch name {
	case "id":
		return field{name: name, typ: "integer", kind: kID, col: "id"}, true
	case "documentId":
		return field{name: name, typ: "string", kind: kDocID, col: "document_id"}, true
	case "createdAt":
		return field{name: name, typ: "datetime", kind: kStamp, col: "created_at"}, true
	case "updatedAt":
		return field{name: name, typ: "datetime", kind: kStamp, col: "updated_at"}, true
	case "publishedAt":
		return field{name: name, typ: "datetime", kind: kStamp, col: "published_at"}, true
	}
	return field{}, false
}

// outerRow is the name the caller's query gives the entries table.
const outerRow = "entries"

// compiler accumulates the WHERE expression and its arguments.
type compiler struct {
	d            Dialect
	s            *schema.Schema
	allowPrivate bool
	schemas      func(uid string) *schema.Schema
	w            strings.Builder
	args         []any
	// q qualifies the columns of the row being filtered: "" for the
	// caller's row, "tN." inside a subquery over a related type.
	q string
	// row names the row being filtered, for subqueries correlated to it:
	// outerRow, or tN.
	row string
	// subqueries numbers the subqueries, so that their aliases never clash.
	subqueries int
	// populated counts the attributes a populate plan holds.
	populated int
	// mistake is a programming error met while compiling, reported instead
	// of the *Error that stopped compilation.
	mistake error
}

// failure returns the error Compile reports for err.
func (c *compiler) failure(err *Error) error {
	if c.mistake != nil {
		return c.mistake
	}
	return err
}

func (c *compiler) pg() bool { return c.d == Postgres }

// lookup finds a queryable attribute or column. A private attribute the
// caller may not see is reported exactly like a missing one.
func (c *compiler) lookup(name string, path []string) (field, *Error) {
	if f, ok := systemField(name); ok {
		return f, nil
	}
	a := c.s.Attributes.Get(name)
	if a == nil || (a.Private && !c.allowPrivate) {
		return field{}, invalidf(path, "Invalid key %s at %s: %s has no such attribute",
			name, keyString(path), typeName(c.s))
	}
	if a.IsLink() {
		return field{name: name, typ: a.Type, kind: kLink, link: a}, nil
	}
	if !simpleName(name) {
		return field{}, invalidf(path,
			"Invalid key %s at %s: this attribute name cannot be queried", name, keyString(path))
	}
	return field{name: name, typ: a.Type, kind: kindOf(a.Type)}, nil
}

// simpleName reports whether an attribute name can be written into SQL as
// it is (inside a JSON path literal): letters, digits and underscores.
func simpleName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || i > 0 && isDigit(c)) {
			return false
		}
	}
	return true
}

// opAllowed reports whether an operator applies to a kind of field.
func opAllowed(k kind, op string) bool {
	switch op {
	case OpNull, OpNotNull:
		return true
	}
	switch k {
	case kText, kDocID:
		return true
	case kJSON, kLink:
		return false
	case kBool:
		switch op {
		case OpEq, OpNe, OpIn, OpNotIn:
			return true
		}
		return false
	}
	switch op {
	case OpEq, OpNe, OpLt, OpLte, OpGt, OpGte, OpIn, OpNotIn, OpBetween:
		return true
	}
	return false
}

func (c *compiler) filter(f *Filter) *Error {
	switch f.Op {
	case OpAnd, OpOr:
		if len(f.Children) == 0 {
			if f.Op == OpAnd {
				c.w.WriteString("1 = 1")
			} else {
				c.w.WriteString("1 = 0")
			}
			return nil
		}
		sep := " AND "
		if f.Op == OpOr {
			sep = " OR "
		}
		c.w.WriteByte('(')
		for i, ch := range f.Children {
			if i > 0 {
				c.w.WriteString(sep)
			}
			if err := c.filter(ch); err != nil {
				return err
			}
		}
		c.w.WriteByte(')')
		return nil
	case OpNot:
		c.w.WriteString("NOT (")
		if len(f.Children) == 0 {
			c.w.WriteString("1 = 1")
		}
		for i, ch := range f.Children {
			if i > 0 {
				c.w.WriteString(" AND ")
			}
			if err := c.filter(ch); err != nil {
				return err
			}
		}
		c.w.WriteByte(')')
		return nil
	case OpRelated:
		return c.related(f)
	}
	return c.comparison(f)
}

func (c *compiler) comparison(f *Filter) *Error {
	// Parse guarantees these; a Filter built by hand may not.
	ar := comparisonArity(f.Op)
	switch {
	case ar == 0:
		return invalidf(f.Path, "Invalid operator %s at %s", f.Op, keyString(f.Path))
	case len(f.Values) == 0, ar == arityOne && len(f.Values) != 1,
		ar == arityTwo && len(f.Values) != 2:
		return invalidf(f.Path, "Invalid value for %s at %s: wrong number of values",
			f.Op, keyString(f.Path))
	}
	fl, err := c.lookup(f.Field, f.Path)
	if err != nil {
		return err
	}
	if !opAllowed(fl.kind, f.Op) {
		if fl.kind == kLink {
			return invalidf(f.Path, "Invalid operator %s at %s: not allowed on %s (%s); "+
				"use $null, $notNull, or a condition on its attributes such as "+
				"filters[%s][documentId][$eq]", f.Op, keyString(f.Path), fl.name, fl.typ, fl.name)
		}
		return invalidf(f.Path, "Invalid operator %s at %s: not allowed on %s (%s)",
			f.Op, keyString(f.Path), fl.name, fl.typ)
	}
	switch f.Op {
	case OpNull, OpNotNull:
		b, ok := parseBool(f.Values[0])
		if !ok {
			return c.badValue(f, fl, f.Values[0], "true or false")
		}
		if fl.kind == kLink {
			return c.linked(fl.link, f.Path, b == (f.Op == OpNull), nil)
		}
		c.nullCheck(fl, b == (f.Op == OpNull))
		return nil
	case OpEqi, OpNei:
		c.lower(fl)
		if f.Op == OpEqi {
			c.w.WriteString(" = ?")
		} else {
			c.w.WriteString(" <> ?")
		}
		c.args = append(c.args, asciiLower(f.Values[0]))
		return nil
	case OpContains, OpNotContains, OpContainsi, OpNotContainsi, OpStartsWith,
		OpStartsWithi, OpEndsWith, OpEndsWithi:
		c.textMatch(fl, f.Op, f.Values[0])
		return nil
	}
	ordered := f.Op != OpEq && f.Op != OpNe && f.Op != OpIn && f.Op != OpNotIn
	c.expr(fl, ordered)
	switch f.Op {
	case OpIn, OpNotIn:
		if f.Op == OpIn {
			c.w.WriteString(" IN (")
		} else {
			c.w.WriteString(" NOT IN (")
		}
		for i, v := range f.Values {
			if i > 0 {
				c.w.WriteString(", ")
			}
			if err := c.value(f, fl, v); err != nil {
				return err
			}
		}
		c.w.WriteByte(')')
		return nil
	case OpBetween:
		c.w.WriteString(" BETWEEN ")
		if err := c.value(f, fl, f.Values[0]); err != nil {
			return err
		}
		c.w.WriteString(" AND ")
		return c.value(f, fl, f.Values[1])
	}
	c.w.WriteString(comparisonSQL(f.Op))
	return c.value(f, fl, f.Values[0])
}

func comparisonSQL(op string) string {
	switch op {
	case OpEq:
		return " = "
	case OpNe:
		return " <> "
	case OpLt:
		return " < "
	case OpLte:
		return " <= "
	case OpGt:
		return " > "
	}
	return " >= "
}

func (c *compiler) badValue(f *Filter, fl field, v, want string) *Error {
	return invalidf(f.Path, "Invalid value %s for %s (%s) at %s: expected %s",
		quote(v), fl.name, fl.typ, keyString(f.Path), want)
}

// value checks a raw value against the field's type, normalises it to the
// stored format, and writes its placeholder.
func (c *compiler) value(f *Filter, fl field, v string) *Error {
	var arg any
	numeric := false
	switch fl.kind {
	case kText, kDocID:
		arg = v
	case kNumber:
		n, text, ok := parseNumber(v)
		if !ok {
			return c.badValue(f, fl, v, "a number")
		}
		arg, numeric = n, true
		if c.pg() {
			arg = text
		}
	case kBigInt:
		n, ok := parseBigInt(v)
		if !ok {
			return c.badValue(f, fl, v, "a whole number between -9223372036854775808 "+
				"and 9223372036854775807")
		}
		arg, numeric = n, true
		if c.pg() {
			arg = strconv.FormatInt(n, 10)
		}
	case kBool:
		b, ok := parseBool(v)
		if !ok {
			return c.badValue(f, fl, v, "true or false")
		}
		switch {
		case c.pg():
			arg = b
		case b:
			arg = int64(1)
		default:
			arg = int64(0)
		}
	case kDate:
		if _, _, _, ok := parseDate(v); !ok {
			return c.badValue(f, fl, v, "a date such as 2024-01-31")
		}
		arg = v
	case kTime:
		t, ok := normTime(v)
		if !ok {
			return c.badValue(f, fl, v, "a time such as 13:45:00.000")
		}
		arg = t
	case kDateTime, kStamp:
		t, ok := parseDateTime(v)
		if !ok {
			return c.badValue(f, fl, v, "a date-time such as 2024-01-31T13:45:00.000Z")
		}
		if fl.kind == kStamp {
			// PostgreSQL keeps microseconds; SQLite compares the driver's
			// text, so both must see the same truncated instant.
			arg = t.Truncate(time.Microsecond)
		} else {
			arg = t.Format(DateTimeLayout)
		}
	case kID:
		n, ok := parseBigInt(v)
		if !ok {
			return c.badValue(f, fl, v, "a whole number")
		}
		arg = n
	}
	if numeric && c.pg() {
		// The parameter arrives as text so that no driver has to encode a Go
		// value as numeric; PostgreSQL converts it exactly.
		c.w.WriteString("CAST(CAST(? AS text) AS numeric)")
	} else {
		c.w.WriteByte('?')
	}
	c.args = append(c.args, arg)
	return nil
}

// search writes _q: a case-insensitive substring match on every text
// attribute the REST API may see.
func (c *compiler) search(q string, and bool) {
	if and {
		c.w.WriteString(" AND ")
	}
	needle := asciiLower(q)
	c.w.WriteByte('(')
	n := 0
	for _, a := range c.s.Attributes {
		if a.Private || !a.IsText() || !simpleName(a.Name) {
			continue
		}
		if n > 0 {
			c.w.WriteString(" OR ")
		}
		n++
		fl := field{name: a.Name, typ: a.Type, kind: kText}
		if c.pg() {
			c.w.WriteString("strpos(")
		} else {
			c.w.WriteString("instr(")
		}
		c.lower(fl)
		c.w.WriteString(", ?) > 0")
		c.args = append(c.args, needle)
	}
	if n == 0 {
		c.w.WriteString("1 = 0")
	}
	c.w.WriteByte(')')
}

// orderBy writes the ORDER BY list: the asked keys with nulls first
// ascending and last descending, then id.
func (c *compiler) orderBy(keys []SortField, path []string) (string, *Error) {
	if len(keys) == 0 {
		return "id ASC", nil
	}
	var b strings.Builder
	sawID := false
	for i, k := range keys {
		fl, err := c.lookup(k.Field, path)
		if err != nil {
			return "", err
		}
		if fl.kind == kJSON || fl.kind == kLink {
			return "", invalidf(path, "Invalid sort on %s: %s attributes cannot be sorted",
				fl.name, fl.typ)
		}
		if i > 0 {
			b.WriteString(", ")
		}
		c.fieldExpr(&b, fl, true)
		nullable := fl.col == "" || fl.col == "published_at"
		switch {
		case k.Desc && nullable:
			b.WriteString(" DESC NULLS LAST")
		case k.Desc:
			b.WriteString(" DESC")
		case nullable:
			b.WriteString(" ASC NULLS FIRST")
		default:
			b.WriteString(" ASC")
		}
		sawID = sawID || fl.kind == kID
	}
	if !sawID {
		b.WriteString(", id ASC")
	}
	return b.String(), nil
}

// fields checks the names asked for with fields, found at path. Relations
// and media are chosen with populate, not fields.
func (c *compiler) fields(names []string, path []string) ([]string, *Error) {
	for _, name := range names {
		if _, ok := systemField(name); ok {
			continue
		}
		a := c.s.Attributes.Get(name)
		if a == nil || (a.Private && !c.allowPrivate) {
			return nil, invalidf(path, "Invalid key %s in %s: %s has no such attribute",
				name, keyString(path), typeName(c.s))
		}
		if a.IsLink() {
			return nil, invalidf(path, "Invalid key %s in %s: %s (%s) is chosen with "+
				"populate, not fields", name, keyString(path), name, a.Type)
		}
	}
	return names, nil
}
