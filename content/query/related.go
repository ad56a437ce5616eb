package query

import (
	"fmt"
	"strconv"

	"github.com/herald-cms/herald/content/schema"
)

// related writes an OpRelated node: some document linked through f.Field,
// in the state the reading row sees, meets the node's condition.
func (c *compiler) related(f *Filter) *Error {
	key := f.Field
	if len(f.Path) > 0 {
		key = f.Path[len(f.Path)-1]
	}
	if len(f.Children) != 1 {
		return invalidf(f.Path, "Invalid filters at %s: expected one condition on %s",
			keyString(f.Path), f.Field)
	}
	if sf, ok := systemField(f.Field); ok {
		return invalidf(f.Path, "Invalid key %s at %s: %s (%s) has no nested attributes",
			key, keyString(f.Path), sf.name, sf.typ)
	}
	a := c.s.Attributes.Get(f.Field)
	switch {
	case a == nil || (a.Private && !c.allowPrivate):
		return invalidf(f.Path, "Invalid key %s at %s: %s has no such attribute",
			f.Field, keyString(f.Path), typeName(c.s))
	case a.Type == schema.TypeMedia:
		return invalidf(f.Path, "Invalid key %s at %s: filters on the files of media "+
			"attribute %s are not supported; use $null or $notNull", key, keyString(f.Path),
			f.Field)
	case !a.IsLink():
		return invalidf(f.Path, "Invalid key %s at %s: %s (%s) has no nested attributes",
			key, keyString(f.Path), a.Name, a.Type)
	}
	return c.linked(a, f.Path, false, f.Children[0])
}

// target resolves the type a relation links to; path locates the
// relation in the query for the error.
func (c *compiler) target(a *schema.Attribute, path []string) (*schema.Schema, *Error) {
	if c.schemas == nil {
		c.mistake = fmt.Errorf("query: relation %s of %s needs Options.Schemas", a.Name,
			typeName(c.s))
		return nil, invalidf(path, "Internal error")
	}
	t := c.schemas(a.Target)
	if t == nil {
		return nil, invalidf(path, "Invalid relation %s at %s: its target type %s does not exist",
			a.Name, keyString(path), a.Target)
	}
	return t, nil
}

// linked writes EXISTS (or with none, NOT EXISTS) over what attribute a of
// the row being filtered links to, with the condition inner on each
// linked document (nil for none). The subquery is correlated to that row
// by name: outerRow at the top, tN inside another subquery.
//
// A relation's owning side (no mappedBy) stores its links on the reading
// row; the mappedBy side reads the owning type's rows that link to the
// reading row's document. The linked version is the one in the reading
// row's state when the target type has draft and publish, else the
// published one.
func (c *compiler) linked(a *schema.Attribute, path []string, none bool, inner *Filter) *Error {
	c.subqueries++
	n := strconv.Itoa(c.subqueries)
	w := &c.w
	if none {
		w.WriteString("NOT ")
	}
	if a.Type == schema.TypeMedia {
		f := "f" + n
		w.WriteString("EXISTS (SELECT 1 FROM entry_files " + f + " WHERE " + f + ".entry_id = " +
			c.row + ".id AND " + f + ".field = ?)")
		c.args = append(c.args, a.Name)
		return nil
	}
	target, err := c.target(a, path)
	if err != nil {
		return err
	}
	t, r := "t"+n, "r"+n
	if a.MappedBy == "" {
		w.WriteString("EXISTS (SELECT 1 FROM entry_relations " + r + " JOIN entries " + t +
			" ON " + t + ".document_id = " + r + ".target_document_id WHERE " + r +
			".entry_id = " + c.row + ".id AND " + r + ".field = ? AND " + t +
			".content_type = ? AND ")
		c.args = append(c.args, a.Name, a.Target)
	} else {
		w.WriteString("EXISTS (SELECT 1 FROM entries " + t + " JOIN entry_relations " + r +
			" ON " + r + ".entry_id = " + t + ".id WHERE " + r + ".target_document_id = " +
			c.row + ".document_id AND " + r + ".field = ? AND " + t + ".content_type = ? AND ")
		c.args = append(c.args, a.MappedBy, a.Target)
	}
	if target.Options.DraftAndPublish {
		w.WriteString("(" + t + ".published_at IS NULL) = (" + c.row + ".published_at IS NULL)")
	} else {
		w.WriteString(t + ".published_at IS NOT NULL")
	}
	if inner != nil {
		w.WriteString(" AND (")
		s, q, row := c.s, c.q, c.row
		c.s, c.q, c.row = target, t+".", t
		err := c.filter(inner)
		c.s, c.q, c.row = s, q, row
		if err != nil {
			return err
		}
		w.WriteByte(')')
	}
	w.WriteByte(')')
	return nil
}
