// Package schema describes content types the way Strapi's schema.json does,
// validates schemas, and validates and normalises attribute values.
package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Kinds of content type.
const (
	KindCollection = "collectionType"
	KindSingle     = "singleType"
)

// Attribute types Herald supports.
const (
	TypeString      = "string"
	TypeText        = "text"
	TypeRichText    = "richtext"
	TypeEmail       = "email"
	TypeUID         = "uid"
	TypeInteger     = "integer"
	TypeBigInteger  = "biginteger"
	TypeFloat       = "float"
	TypeDecimal     = "decimal"
	TypeBoolean     = "boolean"
	TypeDate        = "date"
	TypeTime        = "time"
	TypeDateTime    = "datetime"
	TypeEnumeration = "enumeration"
	TypeJSON        = "json"
	// TypeRelation links documents of content types (see Attribute.Relation).
	TypeRelation = "relation"
	// TypeMedia links files of the media library.
	TypeMedia = "media"
)

// Relation kinds, as Strapi names them. The owning side of a two-sided
// relation names the other side with inversedBy; the other side answers
// with mappedBy.
const (
	OneToOne   = "oneToOne"
	OneToMany  = "oneToMany"
	ManyToOne  = "manyToOne"
	ManyToMany = "manyToMany"
	// OneWay and ManyWay are one-sided: the target does not see them.
	OneWay  = "oneWay"
	ManyWay = "manyWay"
)

// RelationKinds lists the relation kinds Herald supports.
var RelationKinds = []string{OneToOne, OneToMany, ManyToOne, ManyToMany, OneWay, ManyWay}

// MediaKinds are the allowedTypes values of a media attribute.
var MediaKinds = []string{"images", "videos", "audios", "files"}

// SupportedTypes lists the attribute types in the order the panel offers them.
var SupportedTypes = []string{
	TypeString, TypeText, TypeRichText, TypeEmail, TypeUID, TypeInteger, TypeBigInteger,
	TypeFloat, TypeDecimal, TypeBoolean, TypeDate, TypeTime, TypeDateTime, TypeEnumeration,
	TypeJSON, TypeRelation, TypeMedia,
}

// Schema is a content type's definition, in Strapi's schema.json shape.
type Schema struct {
	Kind           string     `json:"kind"`
	CollectionName string     `json:"collectionName"`
	Info           Info       `json:"info"`
	Options        Options    `json:"options"`
	Attributes     Attributes `json:"attributes"`
}

// Info names a content type.
type Info struct {
	SingularName string `json:"singularName"`
	PluralName   string `json:"pluralName"`
	DisplayName  string `json:"displayName"`
	Description  string `json:"description,omitempty"`
}

// Options holds a content type's options.
type Options struct {
	DraftAndPublish bool `json:"draftAndPublish"`
}

// Attribute is one field of a content type.
type Attribute struct {
	Name      string          `json:"-"`
	Type      string          `json:"type"`
	Required  bool            `json:"required,omitempty"`
	Unique    bool            `json:"unique,omitempty"`
	Private   bool            `json:"private,omitempty"`
	Default   json.RawMessage `json:"default,omitempty"`
	MinLength *int            `json:"minLength,omitempty"`
	MaxLength *int            `json:"maxLength,omitempty"`
	Min       *json.Number    `json:"min,omitempty"`
	Max       *json.Number    `json:"max,omitempty"`
	Regex     string          `json:"regex,omitempty"`
	Enum      []string        `json:"enum,omitempty"`
	// TargetField is the attribute a uid is generated from.
	TargetField string `json:"targetField,omitempty"`
	// Relation is a relation attribute's kind (see RelationKinds).
	Relation string `json:"relation,omitempty"`
	// Target is the uid of a relation's target content type.
	Target string `json:"target,omitempty"`
	// InversedBy names, on the owning side, the target's attribute that
	// shows the relation from the other side.
	InversedBy string `json:"inversedBy,omitempty"`
	// MappedBy names, on the other side, the owning attribute.
	MappedBy string `json:"mappedBy,omitempty"`
	// Multiple makes a media attribute hold a list of files.
	Multiple bool `json:"multiple,omitempty"`
	// AllowedTypes limits a media attribute to these kinds of file
	// (MediaKinds); empty allows every kind.
	AllowedTypes []string `json:"allowedTypes,omitempty"`
}

// IsLink reports whether the attribute's values are links to other
// documents or files, kept outside the entry's data.
func (a *Attribute) IsLink() bool {
	return a.Type == TypeRelation || a.Type == TypeMedia
}

// IsMany reports whether a relation or media attribute holds a list.
func (a *Attribute) IsMany() bool {
	switch a.Type {
	case TypeMedia:
		return a.Multiple
	case TypeRelation:
		switch a.Relation {
		case OneToMany, ManyToMany, ManyWay:
			return true
		}
	}
	return false
}

// IsInverse reports whether a relation attribute is the other side of a
// relation another type owns (mappedBy).
func (a *Attribute) IsInverse() bool {
	return a.Type == TypeRelation && a.MappedBy != ""
}

// MirrorRelation returns the kind the other side of a two-sided relation of
// kind k has: oneToMany answers manyToOne and the reverse; oneToOne and
// manyToMany answer themselves. One-sided kinds have no mirror ("").
func MirrorRelation(k string) string {
	switch k {
	case OneToMany:
		return ManyToOne
	case ManyToOne:
		return OneToMany
	case OneToOne, ManyToMany:
		return k
	}
	return ""
}

// IsText reports whether the attribute holds free text (searched by _q).
func (a *Attribute) IsText() bool {
	switch a.Type {
	case TypeString, TypeText, TypeRichText, TypeEmail, TypeUID, TypeEnumeration:
		return true
	}
	return false
}

// IsNumeric reports whether values compare as numbers.
func (a *Attribute) IsNumeric() bool {
	switch a.Type {
	case TypeInteger, TypeBigInteger, TypeFloat, TypeDecimal:
		return true
	}
	return false
}

// Attributes keeps a schema's attributes in their declared order.
type Attributes []*Attribute

// Get returns the attribute called name, or nil.
func (as Attributes) Get(name string) *Attribute {
	for _, a := range as {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// MarshalJSON writes the attributes as an object, in order.
func (as Attributes) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, a := range as {
		if i > 0 {
			buf.WriteByte(',')
		}
		name, err := json.Marshal(a.Name)
		if err != nil {
			return nil, err
		}
		body, err := json.Marshal(a)
		if err != nil {
			return nil, err
		}
		buf.Write(name)
		buf.WriteByte(':')
		buf.Write(body)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// UnmarshalJSON reads an object of attributes, keeping their order. Keys an
// attribute does not use are ignored; a known key holding the wrong JSON
// type is an Errors naming it, as in Parse.
func (as *Attributes) UnmarshalJSON(data []byte) error {
	if !json.Valid(data) {
		return fmt.Errorf("attributes: malformed JSON")
	}
	var errs Errors
	out := decodeAttributes(data, &errs)
	if err := errs.err(); err != nil {
		return err
	}
	*as = out
	return nil
}

// UID returns the content type's uid, "api::<singular>.<singular>".
func (s *Schema) UID() string {
	return "api::" + s.Info.SingularName + "." + s.Info.SingularName
}
