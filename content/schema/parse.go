package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Parse decodes a schema.json document, as Strapi writes it, into a Schema.
// Keys Herald does not use (pluginOptions, configurable, comment, ...) are
// ignored, so a Strapi file imports as it is. Malformed JSON, and a known key
// holding the wrong JSON type ("required": "yes"), are returned as Errors
// naming the key's path. Parse neither fills defaults nor checks the rules:
// call Normalize, then Validate.
func Parse(raw []byte) (*Schema, error) {
	top, errs := decodeTop(raw)
	if errs != nil {
		return nil, errs
	}
	s := &Schema{}
	f := fieldReader{raw: top, errs: &errs}
	f.str("kind", &s.Kind)
	f.str("collectionName", &s.CollectionName)
	if info, ok := f.object("info"); ok {
		fi := fieldReader{raw: info, path: []string{"info"}, prefix: "info.", errs: &errs}
		fi.str("singularName", &s.Info.SingularName)
		fi.str("pluralName", &s.Info.PluralName)
		fi.str("displayName", &s.Info.DisplayName)
		fi.str("description", &s.Info.Description)
	}
	if opts, ok := f.object("options"); ok {
		fo := fieldReader{raw: opts, path: []string{"options"}, prefix: "options.", errs: &errs}
		fo.boolean("draftAndPublish", &s.Options.DraftAndPublish)
	}
	if attrs, ok := top["attributes"]; ok {
		s.Attributes = decodeAttributes(attrs, &errs)
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return s, nil
}

// decodeTop decodes the document's top-level object, or explains why the
// document is not one.
func decodeTop(raw []byte) (map[string]json.RawMessage, Errors) {
	if !json.Valid(raw) {
		return nil, Errors{{Path: []string{}, Message: malformed(raw)}}
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil || top == nil {
		return nil, Errors{{Path: []string{}, Message: "A schema must be a JSON object"}}
	}
	return top, nil
}

// malformed describes what is wrong with a document json.Valid refused.
func malformed(raw []byte) string {
	if len(bytes.TrimSpace(raw)) == 0 {
		return "Malformed JSON: the schema is empty"
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	var v any
	err := dec.Decode(&v)
	if err == nil {
		if _, err = dec.Token(); err == io.EOF {
			err = nil
		}
	}
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("Malformed JSON at byte %d: %s", syn.Offset, syn.Error())
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "Malformed JSON: unexpected end of input"
	case err != nil:
		return "Malformed JSON: " + err.Error()
	}
	return "Malformed JSON: unexpected data after the schema"
}

// decodeAttributes reads the "attributes" object, keeping the declared
// order. Problems are appended to errs; attributes that decoded are kept.
func decodeAttributes(raw json.RawMessage, errs *Errors) Attributes {
	path := []string{"attributes"}
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil || tok == nil {
		// null, or a syntax error json.Valid would have caught: no attributes.
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		errs.add(path, "attributes must be an object")
		return nil
	}
	var out Attributes
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			errs.add(path, "attributes: %v", err)
			return out
		}
		name, _ := tok.(string)
		var body json.RawMessage
		if err := dec.Decode(&body); err != nil {
			errs.add(append(path, name), "attribute %s: %v", name, err)
			return out
		}
		if a := decodeAttribute(name, body, errs); a != nil {
			out = append(out, a)
		}
	}
	return out
}

// decodeAttribute reads one attribute. It returns nil when the attribute is
// not a JSON object.
func decodeAttribute(name string, raw json.RawMessage, errs *Errors) *Attribute {
	path := []string{"attributes", name}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		errs.add(path, "attribute %s must be an object", name)
		return nil
	}
	a := &Attribute{Name: name}
	f := fieldReader{raw: fields, path: path, prefix: "attribute " + name + ": ", errs: errs}
	f.str("type", &a.Type)
	f.boolean("required", &a.Required)
	f.boolean("unique", &a.Unique)
	f.boolean("private", &a.Private)
	if d, ok := fields["default"]; ok && !isNull(d) {
		a.Default = append(json.RawMessage(nil), d...)
	}
	f.integer("minLength", &a.MinLength)
	f.integer("maxLength", &a.MaxLength)
	f.number("min", &a.Min)
	f.number("max", &a.Max)
	f.str("regex", &a.Regex)
	f.strings("enum", &a.Enum)
	f.str("targetField", &a.TargetField)
	f.str("relation", &a.Relation)
	f.str("target", &a.Target)
	f.str("inversedBy", &a.InversedBy)
	f.str("mappedBy", &a.MappedBy)
	f.boolean("multiple", &a.Multiple)
	f.strings("allowedTypes", &a.AllowedTypes)
	return a
}

// fieldReader decodes the known keys of one JSON object into typed fields,
// recording a FieldError for each key that holds the wrong JSON type. A key
// that is absent or null leaves its field at its zero value.
type fieldReader struct {
	raw    map[string]json.RawMessage
	path   []string // the object's path
	prefix string   // put before the key in messages: "info.", "attribute title: "
	errs   *Errors
}

// get returns the key's raw value, or false when it is absent or null.
func (f *fieldReader) get(key string) (json.RawMessage, bool) {
	v, ok := f.raw[key]
	if !ok || isNull(v) {
		return nil, false
	}
	return v, true
}

// fail records that key does not hold a value of the wanted kind.
func (f *fieldReader) fail(key, want string) {
	f.errs.add(append(f.path, key), "%s%s must be %s", f.prefix, key, want)
}

// str reads a string.
func (f *fieldReader) str(key string, dst *string) {
	if v, ok := f.get(key); ok && json.Unmarshal(v, dst) != nil {
		f.fail(key, "a string")
	}
}

// boolean reads true or false.
func (f *fieldReader) boolean(key string, dst *bool) {
	if v, ok := f.get(key); ok && json.Unmarshal(v, dst) != nil {
		f.fail(key, "a boolean (true or false)")
	}
}

// integer reads a whole JSON number (not a string).
func (f *fieldReader) integer(key string, dst **int) {
	v, ok := f.get(key)
	if !ok {
		return
	}
	n, err := strconv.Atoi(string(v))
	if err != nil {
		f.fail(key, "a whole number")
		return
	}
	*dst = &n
}

// number reads a JSON number, or a string holding one: Strapi's builder
// writes the bounds of a biginteger as strings.
func (f *fieldReader) number(key string, dst **json.Number) {
	v, ok := f.get(key)
	if !ok {
		return
	}
	text := string(v)
	if v[0] == '"' && json.Unmarshal(v, &text) != nil {
		text = ""
	}
	if !numberPattern.MatchString(text) {
		f.fail(key, "a number")
		return
	}
	n := json.Number(text)
	*dst = &n
}

// strings reads a list of strings.
func (f *fieldReader) strings(key string, dst *[]string) {
	if v, ok := f.get(key); ok && json.Unmarshal(v, dst) != nil {
		f.fail(key, "a list of strings")
	}
}

// object reads a nested object.
func (f *fieldReader) object(key string) (map[string]json.RawMessage, bool) {
	v, ok := f.get(key)
	if !ok {
		return nil, false
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(v, &m) != nil {
		f.fail(key, "an object")
		return nil, false
	}
	return m, true
}

// isNull reports whether a raw JSON value is null.
func isNull(v json.RawMessage) bool {
	return string(bytes.TrimSpace(v)) == "null"
}
