package query

import (
	"slices"
	"strconv"
	"strings"

	"github.com/herald-cms/herald/content/schema"
)

// Limits on populate.
const (
	// MaxPopulateDepth is how many levels populate may nest:
	// populate[a][populate][b] is two.
	MaxPopulateDepth = 5
	// MaxPopulate is the most attributes one query may populate, counted
	// over every level after populate=* is expanded.
	MaxPopulate = 100
)

// PopulateSet is what one level of populate asks for: populate=...,
// or populate[a][populate]=... for the level inside a.
type PopulateSet struct {
	// All is set by "*": every relation and media attribute of this level
	// the caller may see, without nesting.
	All bool
	// Items are the attributes named, in the order they first appear.
	Items []*PopulateItem
}

// PopulateItem is one attribute named in populate, with its options.
type PopulateItem struct {
	Name string
	// Off is set by populate[name]=false: the name is checked but the
	// attribute is not populated.
	Off bool
	// Fields lists the target's attributes asked for; nil means all.
	Fields []string
	// Filters keeps only the linked documents that match, nil for all.
	Filters *Filter
	// Sort orders the linked documents; empty keeps the stored order.
	Sort []SortField
	// Populate is the level inside this one, nil when none is asked for.
	Populate *PopulateSet
	// Path locates the item in the query, as qs keys: ["populate",
	// "author"] (for populate=author too).
	Path []string
}

// item returns the item called name, adding it when it is new.
func (s *PopulateSet) item(name string, setPath []string) *PopulateItem {
	for _, it := range s.Items {
		if it.Name == name {
			return it
		}
	}
	it := &PopulateItem{Name: name, Path: extend(setPath, name)}
	s.Items = append(s.Items, it)
	return it
}

// nested returns the level inside it, adding it when it is new.
func (it *PopulateItem) nested() *PopulateSet {
	if it.Populate == nil {
		it.Populate = &PopulateSet{}
	}
	return it.Populate
}

// populateParser reads populate. It shares the query's filter parser, so
// that MaxConditions counts the conditions of every filters tree.
type populateParser struct {
	fp *filterParser
}

// set reads one level found at path: a list (a,b.c or [0]=a) or an
// object of attribute names. level is 1 at the top.
func (pp *populateParser) set(n *qnode, path []string, level int) (*PopulateSet, *Error) {
	s := &PopulateSet{}
	switch {
	case n.leaf:
		if err := pp.list(s, n.val, path, level); err != nil {
			return nil, err
		}
	case n.isArray():
		for i, e := range n.elems() {
			if !e.leaf {
				ep := extend(path, strconv.Itoa(i))
				return nil, invalidf(ep, "Invalid value for %s: expected an attribute name",
					keyString(ep))
			}
			if err := pp.list(s, e.val, path, level); err != nil {
				return nil, err
			}
		}
	default:
		for _, kid := range n.kids {
			if err := checkLevel(extend(path, kid.key), level); err != nil {
				return nil, err
			}
			if kid.key == "" {
				return nil, invalidf(path, "Invalid key in %s: empty attribute name",
					keyString(path))
			}
			it := s.item(kid.key, path)
			if err := pp.item(it, kid.node, level); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}

// list reads "a,b.c,*": comma-separated names, each a dot path whose
// parts nest (a.b is b inside a) and whose last part may be "*".
func (pp *populateParser) list(s *PopulateSet, v string, path []string, level int) *Error {
	for {
		term, rest, more := strings.Cut(v, ",")
		if term = strings.TrimSpace(term); term != "" {
			if err := pp.dotPath(s, term, path, level); err != nil {
				return err
			}
		}
		if !more {
			return nil
		}
		v = rest
	}
}

func (pp *populateParser) dotPath(s *PopulateSet, term string, path []string, level int) *Error {
	whole, at := term, path
	for {
		name, rest, more := strings.Cut(term, ".")
		if name == "*" && !more {
			s.All = true
			return nil
		}
		if name == "" || name == "*" {
			return invalidf(at, "Invalid value %s for %s: expected attribute names such as "+
				"a,b or a.b", quote(whole), keyString(at))
		}
		if err := checkLevel(extend(path, name), level); err != nil {
			return err
		}
		it := s.item(name, path)
		if !more {
			return nil
		}
		s, path, term, level = it.nested(), extend(it.Path, "populate"), rest, level+1
	}
}

func checkLevel(path []string, level int) *Error {
	if level > MaxPopulateDepth {
		return invalidf(path, "Invalid populate at %s: nested more than %d levels",
			keyString(path), MaxPopulateDepth)
	}
	return nil
}

// item reads the value given for populate[name]: true, *, false, or an
// object of fields, filters, sort and populate.
func (pp *populateParser) item(it *PopulateItem, n *qnode, level int) *Error {
	if n.leaf {
		if n.val == "*" {
			return nil
		}
		on, ok := parseBool(n.val)
		if !ok {
			return invalidf(it.Path, "Invalid value %s for %s: expected true, false, * or "+
				"options such as %s[fields]", quote(n.val), keyString(it.Path), keyString(it.Path))
		}
		it.Off = !on
		return nil
	}
	if n.isArray() {
		return invalidf(it.Path, "Invalid value for %s: expected true, false, * or "+
			"options such as %s[fields]", keyString(it.Path), keyString(it.Path))
	}
	for _, kid := range n.kids {
		kp := extend(it.Path, kid.key)
		var err *Error
		switch kid.key {
		case "fields":
			it.Fields, err = parseFields(kid.node, kp)
		case "filters":
			it.Filters, err = pp.fp.filters(kid.node, kp)
		case "sort":
			err = parseSort(kid.node, kp, &it.Sort)
		case "populate":
			it.Populate, err = pp.set(kid.node, kp, level+1)
		default:
			err = invalidf(kp, "Invalid key %s in %s: expected fields, filters, sort or "+
				"populate", kid.key, keyString(it.Path))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Populate is one attribute to populate, checked against the schemas and
// compiled: the plan a read follows to load linked documents and files.
type Populate struct {
	// Attribute is the relation or media attribute of the parent type.
	Attribute *schema.Attribute
	// Target is the type of the linked documents (the owning type, for the
	// mappedBy side of a relation); nil for media.
	Target *schema.Schema
	// Where is a condition on the target rows with '?' placeholders for
	// Args, "" when there is none. It follows Compiled.Where's conventions:
	// it reads the target row from a table named entries (unaliased; a
	// join to entry_relations is fine, since no column names clash).
	Where string
	Args  []any
	// OrderBy is an ORDER BY list like Compiled.OrderBy, "" when no sort
	// was asked for (the stored link order then applies).
	OrderBy string
	// Fields lists the target's attributes (for media, the file object's
	// keys) asked for; nil means all.
	Fields []string
	// Populate is the level inside this one (relations only).
	Populate []*Populate
}

// fileFields are the keys of a media file object that fields may name.
var fileFields = []string{
	"id", "documentId", "name", "alternativeText", "caption", "width", "height", "formats",
	"hash", "ext", "mime", "size", "url", "previewUrl", "provider", "provider_metadata",
	"createdAt", "updatedAt", "publishedAt",
}

// populate checks one level of populate against c's schema and compiles
// it. path is the level's place in the query.
func (c *compiler) populate(set *PopulateSet, path []string, level int) ([]*Populate, *Error) {
	if level > MaxPopulateDepth {
		return nil, invalidf(path, "Invalid populate at %s: nested more than %d levels",
			keyString(path), MaxPopulateDepth)
	}
	var out []*Populate
	for _, it := range set.Items {
		a, err := c.linkToPopulate(it.Name, path)
		if err != nil {
			return nil, err
		}
		if it.Off {
			continue
		}
		p, err := c.populateOne(a, it, level, false)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if !set.All {
		return out, nil
	}
	for _, a := range c.s.Attributes {
		if !a.IsLink() || (a.Private && !c.allowPrivate) || named(set, a.Name) {
			continue
		}
		p, err := c.populateOne(a, &PopulateItem{Name: a.Name, Path: extend(path, a.Name)},
			level, true)
		if err != nil {
			return nil, err
		}
		if p != nil {
			out = append(out, p)
		}
	}
	return out, nil
}

func named(set *PopulateSet, name string) bool {
	for _, it := range set.Items {
		if it.Name == name {
			return true
		}
	}
	return false
}

// linkToPopulate finds the relation or media attribute a populate names.
func (c *compiler) linkToPopulate(name string, path []string) (*schema.Attribute, *Error) {
	a := c.s.Attributes.Get(name)
	if a == nil || (a.Private && !c.allowPrivate) {
		return nil, invalidf(extend(path, name), "Invalid key %s in %s: %s has no such attribute",
			name, keyString(path), typeName(c.s))
	}
	if !a.IsLink() {
		return nil, invalidf(extend(path, name), "Invalid key %s in %s: %s (%s) cannot be "+
			"populated; only relation and media attributes can", name, keyString(path), name,
			a.Type)
	}
	return a, nil
}

// populateOne compiles the plan for attribute a. A relation whose target
// type is missing is an error when named, and left out (nil) under "*".
func (c *compiler) populateOne(a *schema.Attribute, it *PopulateItem, level int,
	star bool) (*Populate, *Error) {
	c.populated++
	if c.populated > MaxPopulate {
		return nil, invalidf(it.Path, "Invalid populate: more than %d attributes to populate",
			MaxPopulate)
	}
	if a.Type == schema.TypeMedia {
		return c.populateMedia(a, it)
	}
	target, err := c.target(a, it.Path)
	if err != nil {
		if star && c.mistake == nil {
			return nil, nil
		}
		return nil, err
	}
	p := &Populate{Attribute: a, Target: target}
	sub := &compiler{d: c.d, s: target, allowPrivate: c.allowPrivate, schemas: c.schemas,
		row: outerRow, populated: c.populated}
	defer func() {
		c.populated = sub.populated
		if sub.mistake != nil {
			c.mistake = sub.mistake
		}
	}()
	if it.Filters != nil {
		if err := sub.filter(it.Filters); err != nil {
			return nil, err
		}
		p.Where, p.Args = sub.w.String(), sub.args
	}
	if len(it.Sort) > 0 {
		if p.OrderBy, err = sub.orderBy(it.Sort, extend(it.Path, "sort")); err != nil {
			return nil, err
		}
	}
	if p.Fields, err = sub.fields(it.Fields, extend(it.Path, "fields")); err != nil {
		return nil, err
	}
	if it.Populate != nil {
		nested, err := sub.populate(it.Populate, extend(it.Path, "populate"), level+1)
		if err != nil {
			return nil, err
		}
		p.Populate = nested
	}
	return p, nil
}

// populateMedia checks the options of a media populate: only fields, and
// only the file object's keys.
func (c *compiler) populateMedia(a *schema.Attribute, it *PopulateItem) (*Populate, *Error) {
	var key string
	switch {
	case it.Filters != nil:
		key = "filters"
	case len(it.Sort) > 0:
		key = "sort"
	case it.Populate != nil:
		key = "populate"
	}
	if key != "" {
		return nil, invalidf(extend(it.Path, key), "Invalid key %s in %s: %s is a media "+
			"attribute and takes only fields", key, keyString(it.Path), a.Name)
	}
	for _, f := range it.Fields {
		if !slices.Contains(fileFields, f) {
			return nil, invalidf(extend(it.Path, "fields"), "Invalid key %s in %s: a media "+
				"file has no such field", f, keyString(extend(it.Path, "fields")))
		}
	}
	return &Populate{Attribute: a, Fields: it.Fields}, nil
}
