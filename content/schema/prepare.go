package schema

import (
	"slices"
	"strings"
)

// WriteMode says how complete a write must be.
type WriteMode int

// The write modes. The zero value enforces everything.
const (
	// ModePublish enforces every rule: required attributes and minLength
	// included, on every value of the merged document.
	ModePublish WriteMode = iota
	// ModeDraft allows an incomplete draft: required attributes may be
	// missing and minLength is not enforced. Only the values being written
	// are checked; stored values that no longer fit the schema are kept.
	ModeDraft
	// ModeNoDraftAndPublish is a write to a content type without draft and
	// publish. It behaves like ModePublish.
	ModeNoDraftAndPublish
)

// String names the mode.
func (m WriteMode) String() string {
	switch m {
	case ModePublish:
		return "publish"
	case ModeDraft:
		return "draft"
	case ModeNoDraftAndPublish:
		return "no-draft-and-publish"
	}
	return "unknown"
}

// echoedKeys are document fields clients send back with their data; a
// write ignores them instead of refusing them.
var echoedKeys = setOf("id", "documentId", "createdAt", "updatedAt", "publishedAt", "locale")

// Prepare validates a write and returns the document's complete new data.
//
// input is the request's "data" object (decoded with UseNumber); existing
// is the stored data (nil on create). The result holds existing's values
// for attributes of the schema (other stored keys are dropped), replaced by
// input's, each normalised as NormalizeValue describes. On create, an
// attribute absent from both input and existing gets its default. A uid
// attribute with a targetField that is still absent, and that input does
// not set, is generated from its target with Slugify (cut to its
// maxLength); making it unique among entries is the caller's job.
//
// A null in input clears the value: the key is left out of the result,
// which therefore never holds nil; a required attribute cleared this way
// fails on publish.
//
// The keys id, documentId, createdAt, updatedAt, publishedAt and locale are
// ignored; any other key that is not an attribute is an error "Invalid key
// X", and so is a private attribute when private is false (the content API
// neither shows nor accepts them). Stored values of private attributes are
// kept either way.
//
// In the publish modes every value of the result is checked against its
// attribute's options and every required attribute must hold a value other
// than "". In ModeDraft only the written values are checked, without
// minLength. Errors name each attribute by its path (["title"]); on error
// the returned map is nil.
func (s *Schema) Prepare(input, existing map[string]any, create bool, mode WriteMode,
	private bool) (map[string]any, Errors) {
	w := &write{
		schema: s, input: input, existing: existing, create: create,
		draft: mode == ModeDraft, private: private,
		out: make(map[string]any, len(s.Attributes)), written: map[string]bool{},
	}
	w.errs = w.unknownKeys()
	for _, a := range s.Attributes {
		if a.IsLink() {
			// Links live outside data; the content service writes them.
			continue
		}
		if err := w.take(a); err != nil {
			w.errs.add([]string{a.Name}, "%s", err.Error())
		}
	}
	w.generateUIDs()
	for _, a := range s.Attributes {
		if !a.IsLink() && (!w.draft || w.written[a.Name]) {
			w.check(a)
		}
	}
	if len(w.errs) > 0 {
		return nil, w.errs
	}
	return w.out, nil
}

// write is one Prepare call in progress.
type write struct {
	schema          *Schema
	input, existing map[string]any
	create, draft   bool
	private         bool // the caller may see and write private attributes
	out             map[string]any
	written         map[string]bool // set from input, a default or generation
	errs            Errors
}

// unknownKeys reports input keys that are neither attributes the caller
// may write nor echoed document fields, in sorted order.
func (w *write) unknownKeys() Errors {
	var keys []string
	for key := range w.input {
		if !echoedKeys[key] && !w.writable(w.schema.Attributes.Get(key)) {
			keys = append(keys, key)
		}
	}
	slices.Sort(keys)
	var errs Errors
	for _, key := range keys {
		errs.add([]string{key}, "Invalid key %s", key)
	}
	return errs
}

// writable reports whether the caller may write a (nil: no such attribute).
func (w *write) writable(a *Attribute) bool {
	return a != nil && (w.private || !a.Private)
}

// take puts a's new value, if it has one, into out: input's, else the
// stored one, else on create the default. The error is a *ValueError.
func (w *write) take(a *Attribute) error {
	v, sent := w.input[a.Name]
	if sent && w.writable(a) {
		w.written[a.Name] = true
		return w.set(a, v)
	}
	if old, ok := w.existing[a.Name]; ok && old != nil {
		return w.keep(a, old)
	}
	if w.create && !sent && a.Default != nil && !isNull(a.Default) {
		w.written[a.Name] = true
		d, err := decodeValue(a.Default)
		if err != nil {
			return &ValueError{Attribute: a.Name, Problem: "has an invalid default"}
		}
		return w.set(a, d)
	}
	return nil
}

// set normalises v into out; nil clears the value.
func (w *write) set(a *Attribute, v any) error {
	n, err := NormalizeValue(a, v)
	if err != nil || n == nil {
		delete(w.out, a.Name)
		return err
	}
	w.out[a.Name] = n
	return nil
}

// keep carries a stored value over, normalised. A draft keeps a stored
// value the schema no longer accepts as it is: the editor fixes it before
// publishing, when it is an error.
func (w *write) keep(a *Attribute, old any) error {
	n, err := NormalizeValue(a, old)
	if err != nil && w.draft {
		w.out[a.Name] = old
		return nil
	}
	w.out[a.Name] = n
	return err
}

// generateUIDs fills absent uid attributes from their target fields.
func (w *write) generateUIDs() {
	for _, a := range w.schema.Attributes {
		if a.Type != TypeUID || a.TargetField == "" {
			continue
		}
		_, set := w.out[a.Name]
		_, sent := w.input[a.Name]
		if set || sent {
			continue
		}
		target, _ := w.out[a.TargetField].(string)
		slug := Slugify(target)
		if a.MaxLength != nil && len(slug) > *a.MaxLength {
			slug = strings.TrimRight(slug[:*a.MaxLength], "-")
		}
		if slug != "" {
			w.out[a.Name] = slug
			w.written[a.Name] = true
		}
	}
}

// check checks a's value in out against its options and, outside drafts,
// its requiredness. An attribute already reported is skipped.
func (w *write) check(a *Attribute) {
	if w.errs.has(a.Name) {
		return
	}
	v, ok := w.out[a.Name]
	if (!ok || v == "") && a.Required && !w.draft {
		w.errs.add([]string{a.Name}, "%s is required", a.Name)
		return
	}
	if !ok {
		return
	}
	if err := a.checkConstraints(v, w.draft); err != nil {
		ve := &ValueError{Attribute: a.Name, Problem: err.Error()}
		w.errs.add([]string{a.Name}, "%s", ve.Error())
	}
}

// has reports whether a problem is already recorded at the one-element
// path [name].
func (es Errors) has(name string) bool {
	for _, e := range es {
		if len(e.Path) == 1 && e.Path[0] == name {
			return true
		}
	}
	return false
}
