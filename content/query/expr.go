package query

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/herald-cms/herald/content/schema"
)

// jsonRef writes the literal that addresses an attribute inside data.
// simpleName has already vetted name.
func (c *compiler) jsonRef(b *strings.Builder, name string, text bool) {
	if c.pg() {
		b.WriteString(c.q)
		b.WriteString("data->")
		if text {
			b.WriteByte('>')
		}
		b.WriteByte('\'')
		b.WriteString(name)
		b.WriteByte('\'')
		return
	}
	if text {
		b.WriteString("json_extract(")
	} else {
		b.WriteString("json_type(")
	}
	b.WriteString(c.q)
	b.WriteString("data, '$.")
	b.WriteString(name)
	b.WriteString("')")
}

// typeRef writes the expression giving the stored value's JSON type.
func (c *compiler) typeRef(b *strings.Builder, name string) {
	if c.pg() {
		b.WriteString("jsonb_typeof(")
		c.jsonRef(b, name, false)
		b.WriteByte(')')
		return
	}
	c.jsonRef(b, name, false)
}

// Stored-format patterns, as SQLite GLOB and PostgreSQL regular expressions
// that accept exactly the same strings.
const (
	globDate     = "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'"
	globTime     = "'[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]'"
	globDateTime = "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T" +
		"[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z'"
	reDate     = "'^[0-9]{4}-[0-9]{2}-[0-9]{2}$'"
	reTime     = "'^[0-9]{2}:[0-9]{2}:[0-9]{2}[.][0-9]{3}$'"
	reDateTime = "'^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[.][0-9]{3}Z$'"
)

// valueExpr writes the typed value of a data attribute: the stored value
// when its JSON type (and, for dates and times, its format) fits the
// attribute's type, and NULL otherwise, so that a value left over from an
// earlier type is skipped by comparisons instead of failing them. A CASE is
// used because PostgreSQL does not promise to evaluate AND in order.
func (c *compiler) valueExpr(b *strings.Builder, fl field) {
	name := fl.name
	if c.pg() {
		c.pgValueExpr(b, fl)
		return
	}
	switch fl.kind {
	case kText:
		b.WriteString("CASE WHEN ")
		c.typeRef(b, name)
		b.WriteString(" = 'text' THEN ")
		c.jsonRef(b, name, true)
		b.WriteString(" END")
	case kNumber:
		b.WriteString("CASE WHEN ")
		c.typeRef(b, name)
		b.WriteString(" IN ('integer', 'real') THEN ")
		c.jsonRef(b, name, true)
		b.WriteString(" END")
	case kBigInt:
		x := "json_extract(" + c.q + "data, '$." + name + "')"
		b.WriteString("CASE WHEN ")
		c.typeRef(b, name)
		b.WriteString(" = 'text' AND (" +
			x + " GLOB '[0-9]*' AND NOT " + x + " GLOB '*[^0-9]*' AND length(" + x + ") <= 19" +
			" OR " + x + " GLOB '-[0-9]*' AND NOT substr(" + x + ", 2) GLOB '*[^0-9]*'" +
			" AND length(" + x + ") <= 20) THEN CAST(" + x + " AS INTEGER) END")
	case kBool:
		b.WriteString("CASE ")
		c.typeRef(b, name)
		b.WriteString(" WHEN 'true' THEN 1 WHEN 'false' THEN 0 END")
	case kDate, kTime, kDateTime:
		glob := globDate
		if fl.kind == kTime {
			glob = globTime
		} else if fl.kind == kDateTime {
			glob = globDateTime
		}
		b.WriteString("CASE WHEN ")
		c.typeRef(b, name)
		b.WriteString(" = 'text' AND ")
		c.jsonRef(b, name, true)
		b.WriteString(" GLOB " + glob + " THEN ")
		c.jsonRef(b, name, true)
		b.WriteString(" END")
	}
}

func (c *compiler) pgValueExpr(b *strings.Builder, fl field) {
	name := fl.name
	switch fl.kind {
	case kText:
		b.WriteString("(CASE WHEN ")
		c.typeRef(b, name)
		b.WriteString(" = 'string' THEN ")
		c.jsonRef(b, name, true)
		b.WriteString(` END) COLLATE "C"`)
	case kNumber:
		b.WriteString("CASE WHEN ")
		c.typeRef(b, name)
		b.WriteString(" = 'number' THEN CAST(")
		c.jsonRef(b, name, true)
		b.WriteString(" AS numeric) END")
	case kBigInt:
		b.WriteString("CASE WHEN ")
		c.typeRef(b, name)
		b.WriteString(" = 'string' AND ")
		c.jsonRef(b, name, true)
		// SQLite's CAST saturates at the 64-bit limits; clamp the same way.
		b.WriteString(" ~ '^-{0,1}[0-9]{1,19}$' THEN LEAST(GREATEST(CAST(")
		c.jsonRef(b, name, true)
		b.WriteString(" AS numeric), -9223372036854775808), 9223372036854775807) END")
	case kBool:
		b.WriteString("CASE WHEN ")
		c.typeRef(b, name)
		b.WriteString(" = 'boolean' THEN CAST(")
		c.jsonRef(b, name, true)
		b.WriteString(" AS boolean) END")
	case kDate, kTime, kDateTime:
		re := reDate
		if fl.kind == kTime {
			re = reTime
		} else if fl.kind == kDateTime {
			re = reDateTime
		}
		b.WriteString("(CASE WHEN ")
		c.typeRef(b, name)
		b.WriteString(" = 'string' AND ")
		c.jsonRef(b, name, true)
		b.WriteString(" ~ " + re + " THEN ")
		c.jsonRef(b, name, true)
		b.WriteString(` END) COLLATE "C"`)
	}
}

// expr writes the field's typed value. ordered asks for the form that
// compares by byte order (only document_id on PostgreSQL differs).
func (c *compiler) expr(fl field, ordered bool) {
	c.fieldExpr(&c.w, fl, ordered)
}

func (c *compiler) fieldExpr(b *strings.Builder, fl field, ordered bool) {
	if fl.col == "" {
		c.valueExpr(b, fl)
		return
	}
	b.WriteString(c.q)
	b.WriteString(fl.col)
	if fl.kind == kDocID && ordered && c.pg() {
		b.WriteString(` COLLATE "C"`)
	}
}

// lower writes the field's value with ASCII letters lowered. PostgreSQL's
// lower() follows the database locale, so translate() is used there to
// match SQLite's ASCII-only lower().
func (c *compiler) lower(fl field) {
	if c.pg() {
		c.w.WriteString("translate(")
		c.expr(fl, false)
		c.w.WriteString(", 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')")
		return
	}
	c.w.WriteString("lower(")
	c.expr(fl, false)
	c.w.WriteByte(')')
}

// nullCheck writes a two-valued test for a missing or JSON null value.
func (c *compiler) nullCheck(fl field, isNull bool) {
	if fl.col != "" {
		c.w.WriteString(c.q)
		c.w.WriteString(fl.col)
		if isNull {
			c.w.WriteString(" IS NULL")
		} else {
			c.w.WriteString(" IS NOT NULL")
		}
		return
	}
	c.w.WriteString("COALESCE(")
	c.typeRef(&c.w, fl.name)
	if isNull {
		c.w.WriteString(", 'null') = 'null'")
	} else {
		c.w.WriteString(", 'null') <> 'null'")
	}
}

// textMatch writes $contains, $startsWith, $endsWith and their variants
// without LIKE, so that case is respected and % and _ match themselves.
func (c *compiler) textMatch(fl field, op, needle string) {
	fold := op == OpContainsi || op == OpNotContainsi || op == OpStartsWithi || op == OpEndsWithi
	negate := op == OpNotContains || op == OpNotContainsi
	if needle == "" {
		// Every string contains the empty string; the comparison keeps
		// NULL for a missing value, as the other operators do.
		c.expr(fl, false)
		if negate {
			c.w.WriteString(" <> ")
		} else {
			c.w.WriteString(" = ")
		}
		c.expr(fl, false)
		return
	}
	if fold {
		needle = asciiLower(needle)
	}
	subject := func() {
		if fold {
			c.lower(fl)
		} else {
			c.expr(fl, false)
		}
	}
	n := strconv.Itoa(utf8.RuneCountInString(needle))
	switch op {
	case OpContains, OpContainsi, OpNotContains, OpNotContainsi:
		if c.pg() {
			c.w.WriteString("strpos(")
		} else {
			c.w.WriteString("instr(")
		}
		subject()
		if negate {
			c.w.WriteString(", ?) = 0")
		} else {
			c.w.WriteString(", ?) > 0")
		}
	case OpStartsWith, OpStartsWithi:
		if c.pg() {
			c.w.WriteString("left(")
			subject()
			c.w.WriteString(", " + n + ") = ?")
		} else {
			c.w.WriteString("substr(")
			subject()
			c.w.WriteString(", 1, " + n + ") = ?")
		}
	default:
		if c.pg() {
			c.w.WriteString("right(")
			subject()
			c.w.WriteString(", " + n + ") = ?")
		} else {
			c.w.WriteString("substr(")
			subject()
			c.w.WriteString(", -" + n + ") = ?")
		}
	}
	c.args = append(c.args, needle)
}

// AttributeExpr returns the SQL expression Compile uses for an attribute's
// typed value in filters and sorts, so that an expression index on exactly
// this text can serve them. It returns "" for attributes that cannot be
// filtered or sorted by value (json, and names that are not plain
// identifiers).
func AttributeExpr(d Dialect, a *schema.Attribute) string {
	k := kindOf(a.Type)
	if k == kJSON || !simpleName(a.Name) {
		return ""
	}
	c := compiler{d: d}
	var b strings.Builder
	c.valueExpr(&b, field{name: a.Name, typ: a.Type, kind: k})
	return b.String()
}
