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
)

// SupportedTypes lists the attribute types in the order the panel offers them.
var SupportedTypes = []string{
	TypeString, TypeText, TypeRichText, TypeEmail, TypeUID, TypeInteger, TypeBigInteger,
	TypeFloat, TypeDecimal, TypeBoolean, TypeDate, TypeTime, TypeDateTime, TypeEnumeration,
	TypeJSON,
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
