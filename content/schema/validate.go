package schema

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

var (
	// namePattern is the kebab-case of singular and plural names.
	namePattern = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
	// collectionNamePattern is the snake_case of collection names.
	collectionNamePattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	// attributeNamePattern is what an attribute may be called.
	attributeNamePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
	// enumValuePattern is what an enumeration value may be: it starts with a
	// letter, digit or underscore (any script), and goes on with those,
	// spaces, dots and hyphens. Values travel in query strings and
	// filters, so punctuation that needs quoting is kept out.
	enumValuePattern = regexp.MustCompile(`^[\p{L}\p{N}_][\p{L}\p{N}_ .-]*$`)
)

// maxEnumValueLength bounds an enumeration value, in characters.
const maxEnumValueLength = 255

// reservedTypeNames are singular and plural names that would collide with
// Herald's routes, or with Strapi's, which clients may also call.
var reservedTypeNames = setOf(
	"upload", "uploads", "auth", "users", "user", "users-permissions",
	"content-types", "content-type", "admin", "api", "i18n", "roles", "role",
	"webhooks", "webhook", "_health", "metrics", "connect", "file", "files",
	"permissions", "me",
)

// reservedAttributeNames are the fields every document has, the query
// parameters that sit beside them, and "data". They are compared ignoring
// case. "meta" is allowed: it only names the envelope's sibling of "data",
// never a key inside a document, and a json attribute called meta is
// common in Strapi schemas.
var reservedAttributeNames = setOf(
	"id", "documentid", "document_id", "createdat", "updatedat", "publishedat",
	"createdby", "updatedby", "created_at", "updated_at", "published_at",
	"locale", "localizations", "status", "data",
)

// unsupportedTypes are Strapi attribute types Herald knows but does not
// (yet) store.
var unsupportedTypes = setOf(
	"blocks", "component", "dynamiczone", "password", "customField",
)

// setOf builds a set of strings.
func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// IsReservedTypeName reports whether a content type may not be called name
// (as its singular or plural name) because a route already uses it.
func IsReservedTypeName(name string) bool {
	return reservedTypeNames[name]
}

// IsReservedAttributeName reports whether an attribute may not be called
// name, ignoring case, because documents or responses already use it.
func IsReservedAttributeName(name string) bool {
	return reservedAttributeNames[strings.ToLower(name)]
}

// Normalize fills what a schema may leave out: the kind (collectionType),
// the collection name (the plural name with dashes turned into underscores)
// and the display name (the singular name in words: "blog-post" becomes
// "Blog Post"). It also drops a null default. It never overwrites a value.
func (s *Schema) Normalize() {
	if s.Kind == "" {
		s.Kind = KindCollection
	}
	if s.CollectionName == "" && namePattern.MatchString(s.Info.PluralName) {
		s.CollectionName = strings.ReplaceAll(s.Info.PluralName, "-", "_")
	}
	s.Info.DisplayName = strings.TrimSpace(s.Info.DisplayName)
	if s.Info.DisplayName == "" {
		s.Info.DisplayName = displayNameFrom(s.Info.SingularName)
	}
	for _, a := range s.Attributes {
		if a != nil && isNull(a.Default) {
			a.Default = nil
		}
	}
}

// displayNameFrom turns a kebab-case name into words with capitals.
func displayNameFrom(name string) string {
	words := strings.FieldsFunc(name, func(r rune) bool { return r == '-' || r == '_' })
	for i, w := range words {
		r, size := utf8.DecodeRuneInString(w)
		words[i] = string(unicode.ToUpper(r)) + w[size:]
	}
	return strings.Join(words, " ")
}

// Validate checks the schema against Herald's rules (Strapi's, minus the
// types Herald does not support) and returns every problem found, or nil.
// Call Normalize first: Validate does not fill defaults. Names are checked
// within the schema only; that no other content type already uses them is
// the caller's check.
func (s *Schema) Validate() Errors {
	var errs Errors
	if s.Kind != KindCollection && s.Kind != KindSingle {
		errs.add([]string{"kind"}, "kind must be %q or %q", KindCollection, KindSingle)
	}
	s.validateNames(&errs)
	seen := map[string]string{}
	for _, a := range s.Attributes {
		if a == nil {
			errs.add([]string{"attributes"}, "attributes must be objects")
			continue
		}
		s.validateAttribute(a, seen, &errs)
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// validateNames checks the info names and the collection name.
func (s *Schema) validateNames(errs *Errors) {
	singular, plural := s.Info.SingularName, s.Info.PluralName
	validateTypeName(singular, "singularName", errs)
	validateTypeName(plural, "pluralName", errs)
	if singular != "" && singular == plural {
		errs.add([]string{"info", "pluralName"},
			"info.pluralName must differ from info.singularName (both are %q)", plural)
	}
	if strings.TrimSpace(s.Info.DisplayName) == "" {
		errs.add([]string{"info", "displayName"}, "info.displayName is required")
	}
	switch {
	case s.CollectionName == "":
		if namePattern.MatchString(plural) {
			errs.add([]string{"collectionName"}, "collectionName is required")
		}
	case !collectionNamePattern.MatchString(s.CollectionName):
		errs.add([]string{"collectionName"}, "collectionName %q must be snake_case: "+
			"a lowercase letter, then lowercase letters, digits and underscores", s.CollectionName)
	}
}

// validateTypeName checks a singular or plural name.
func validateTypeName(name, key string, errs *Errors) {
	path := []string{"info", key}
	switch {
	case name == "":
		errs.add(path, "info.%s is required", key)
	case !namePattern.MatchString(name):
		errs.add(path, "info.%s %q must be kebab-case: "+
			"a lowercase letter, then lowercase letters, digits and dashes", key, name)
	case IsReservedTypeName(name):
		errs.add(path, "info.%s %q is reserved: a route already uses it", key, name)
	}
}

// validateAttribute checks one attribute: its name, its type, and the
// options its type allows. seen maps lowercased names to the first
// attribute that used them.
func (s *Schema) validateAttribute(a *Attribute, seen map[string]string, errs *Errors) {
	path := []string{"attributes", a.Name}
	lower := strings.ToLower(a.Name)
	switch {
	case !attributeNamePattern.MatchString(a.Name):
		errs.add(path, "attribute %q: a name must start with a letter and contain only "+
			"letters, digits and underscores", a.Name)
	case IsReservedAttributeName(a.Name):
		errs.add(path, "attribute %s: the name is reserved", a.Name)
	case seen[lower] != "":
		errs.add(path, "attribute %s: the name is already used by attribute %s "+
			"(names are compared ignoring case)", a.Name, seen[lower])
	default:
		seen[lower] = a.Name
	}
	if !validateType(a, errs) {
		return
	}
	if !validateLink(a, errs) {
		return
	}
	sound := validateEnum(a, errs)
	sound = validateLengths(a, errs) && sound
	sound = validateBounds(a, errs) && sound
	sound = validateRegex(a, errs) && sound
	s.validateTargetField(a, errs)
	if a.Unique && (a.Type == TypeJSON || a.Type == TypeBoolean) {
		errs.add(append(path, "unique"), "attribute %s: unique is not allowed on type %s",
			a.Name, a.Type)
	}
	if sound {
		validateDefault(a, errs)
	}
}

// validateType reports whether a's type is one Herald supports, recording
// why not.
func validateType(a *Attribute, errs *Errors) bool {
	path := []string{"attributes", a.Name, "type"}
	switch {
	case a.Type == "":
		errs.add(path, "attribute %s: type is required", a.Name)
	case unsupportedTypes[a.Type]:
		errs.add(path, "attribute %s: type %s is not supported", a.Name, a.Type)
	case !slices.Contains(SupportedTypes, a.Type):
		errs.add(path, "attribute %s: unknown type %s", a.Name, a.Type)
	default:
		return true
	}
	return false
}

// optionNotAllowed records an option used on a type that does not take it.
func optionNotAllowed(a *Attribute, option string, errs *Errors) {
	errs.add([]string{"attributes", a.Name, option},
		"attribute %s: %s is not allowed on type %s", a.Name, option, a.Type)
}

// validateEnum checks that enumerations, and only they, list their values:
// at least one, each unique and of enumValuePattern's shape, at most
// maxEnumValueLength characters. It reports whether the list is usable.
func validateEnum(a *Attribute, errs *Errors) bool {
	path := []string{"attributes", a.Name, "enum"}
	if a.Type != TypeEnumeration {
		if len(a.Enum) > 0 {
			optionNotAllowed(a, "enum", errs)
			return false
		}
		return true
	}
	if len(a.Enum) == 0 {
		errs.add(path, "attribute %s: enum must list at least one value", a.Name)
		return false
	}
	ok := true
	for i, v := range a.Enum {
		switch {
		case !enumValuePattern.MatchString(v) || strings.HasSuffix(v, " "):
			errs.add(path, "attribute %s: enum value %q must start with a letter, digit or "+
				"underscore and contain only those, spaces, dots and dashes", a.Name, v)
		case utf8.RuneCountInString(v) > maxEnumValueLength:
			errs.add(path, "attribute %s: enum value %q is longer than %d characters",
				a.Name, v, maxEnumValueLength)
		case slices.Contains(a.Enum[:i], v):
			errs.add(path, "attribute %s: enum value %q is listed twice", a.Name, v)
		default:
			continue
		}
		ok = false
	}
	return ok
}

// validateLengths checks minLength and maxLength: text types only, not
// negative, min <= max.
func validateLengths(a *Attribute, errs *Errors) bool {
	if a.MinLength == nil && a.MaxLength == nil {
		return true
	}
	if !isLengthType(a.Type) {
		if a.MinLength != nil {
			optionNotAllowed(a, "minLength", errs)
		}
		if a.MaxLength != nil {
			optionNotAllowed(a, "maxLength", errs)
		}
		return false
	}
	ok := true
	for _, l := range []struct {
		key string
		n   *int
	}{{"minLength", a.MinLength}, {"maxLength", a.MaxLength}} {
		if l.n != nil && *l.n < 0 {
			errs.add([]string{"attributes", a.Name, l.key},
				"attribute %s: %s must not be negative", a.Name, l.key)
			ok = false
		}
	}
	if ok && a.MinLength != nil && a.MaxLength != nil && *a.MinLength > *a.MaxLength {
		errs.add([]string{"attributes", a.Name, "minLength"},
			"attribute %s: minLength must not exceed maxLength", a.Name)
		ok = false
	}
	return ok
}

// validateBounds checks min and max: numeric types only, each a valid value
// of the type, min <= max.
func validateBounds(a *Attribute, errs *Errors) bool {
	if a.Min == nil && a.Max == nil {
		return true
	}
	if !a.IsNumeric() {
		if a.Min != nil {
			optionNotAllowed(a, "min", errs)
		}
		if a.Max != nil {
			optionNotAllowed(a, "max", errs)
		}
		return false
	}
	bare := &Attribute{Type: a.Type}
	var lo, hi any
	ok := true
	for _, b := range []struct {
		key   string
		bound *json.Number
		dst   *any
	}{{"min", a.Min, &lo}, {"max", a.Max, &hi}} {
		if b.bound == nil {
			continue
		}
		v, err := NormalizeValue(bare, *b.bound)
		if err != nil {
			errs.add([]string{"attributes", a.Name, b.key},
				"attribute %s: %s %s", a.Name, b.key, problemText(err))
			ok = false
		}
		*b.dst = v
	}
	if ok && lo != nil && hi != nil && a.compare(lo, *a.Max) > 0 {
		errs.add([]string{"attributes", a.Name, "min"},
			"attribute %s: min must not exceed max", a.Name)
		ok = false
	}
	return ok
}

// validateRegex checks that a pattern compiles with Go's regexp and sits on
// a text type.
func validateRegex(a *Attribute, errs *Errors) bool {
	if a.Regex == "" {
		return true
	}
	if !isLengthType(a.Type) {
		optionNotAllowed(a, "regex", errs)
		return false
	}
	if _, err := compileRegex(a.Regex); err != nil {
		errs.add([]string{"attributes", a.Name, "regex"},
			"attribute %s: regex does not compile (Go RE2 syntax, without look-around "+
				"or back-references): %v", a.Name, err)
		return false
	}
	return true
}

// validateTargetField checks that only a uid names a target field, and
// that the target is a string or text attribute of the same schema.
func (s *Schema) validateTargetField(a *Attribute, errs *Errors) {
	if a.TargetField == "" {
		return
	}
	if a.Type != TypeUID {
		optionNotAllowed(a, "targetField", errs)
		return
	}
	t := s.Attributes.Get(a.TargetField)
	if t == nil || (t.Type != TypeString && t.Type != TypeText) {
		errs.add([]string{"attributes", a.Name, "targetField"},
			"attribute %s: targetField must name a string or text attribute, not %q",
			a.Name, a.TargetField)
	}
}

// validateDefault checks that a default is a valid value of the attribute.
func validateDefault(a *Attribute, errs *Errors) {
	if a.Default == nil || isNull(a.Default) {
		return
	}
	v, err := decodeValue(a.Default)
	if err == nil {
		err = a.ValidValue(v)
	}
	if err != nil {
		errs.add([]string{"attributes", a.Name, "default"},
			"attribute %s: default %s", a.Name, problemText(err))
	}
}

// decodeValue decodes raw JSON the way request bodies are decoded, numbers
// as json.Number.
func decodeValue(raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, problem("is not valid JSON")
	}
	return v, nil
}

// typeUIDPattern is a content type uid, api::<singular>.<singular>.
var typeUIDPattern = regexp.MustCompile(`^api::([a-z][a-z0-9-]*)\.([a-z][a-z0-9-]*)$`)

// validateLink checks the options of relation and media attributes, and
// that other types do not use them. It reports whether the attribute needs
// the checks of ordinary attributes (false for relation and media ones,
// which take none of their options).
func validateLink(a *Attribute, errs *Errors) bool {
	path := []string{"attributes", a.Name}
	if !a.IsLink() {
		for _, o := range []struct {
			key string
			set bool
		}{{"relation", a.Relation != ""}, {"target", a.Target != ""},
			{"inversedBy", a.InversedBy != ""}, {"mappedBy", a.MappedBy != ""},
			{"multiple", a.Multiple}, {"allowedTypes", len(a.AllowedTypes) > 0}} {
			if o.set {
				optionNotAllowed(a, o.key, errs)
			}
		}
		return true
	}
	for _, o := range []struct {
		key string
		set bool
	}{{"unique", a.Unique}, {"default", a.Default != nil}, {"minLength", a.MinLength != nil},
		{"maxLength", a.MaxLength != nil}, {"min", a.Min != nil}, {"max", a.Max != nil},
		{"regex", a.Regex != ""}, {"enum", len(a.Enum) > 0}, {"targetField", a.TargetField != ""}} {
		if o.set {
			optionNotAllowed(a, o.key, errs)
		}
	}
	if a.Type == TypeMedia {
		for _, o := range []struct {
			key string
			set bool
		}{{"relation", a.Relation != ""}, {"target", a.Target != ""},
			{"inversedBy", a.InversedBy != ""}, {"mappedBy", a.MappedBy != ""}} {
			if o.set {
				optionNotAllowed(a, o.key, errs)
			}
		}
		for i, k := range a.AllowedTypes {
			if !slices.Contains(MediaKinds, k) || slices.Contains(a.AllowedTypes[:i], k) {
				errs.add(append(path, "allowedTypes"), "attribute %s: allowedTypes must list "+
					"distinct values among %s, not %q", a.Name, strings.Join(MediaKinds, ", "), k)
			}
		}
		return false
	}
	if a.Multiple {
		optionNotAllowed(a, "multiple", errs)
	}
	if len(a.AllowedTypes) > 0 {
		optionNotAllowed(a, "allowedTypes", errs)
	}
	switch {
	case a.Relation == "":
		errs.add(append(path, "relation"), "attribute %s: relation is required (one of %s)",
			a.Name, strings.Join(RelationKinds, ", "))
	case !slices.Contains(RelationKinds, a.Relation):
		errs.add(append(path, "relation"), "attribute %s: relation %q is not supported "+
			"(use one of %s)", a.Name, a.Relation, strings.Join(RelationKinds, ", "))
	}
	if a.Target == "" {
		errs.add(append(path, "target"), "attribute %s: target is required "+
			"(the uid of a content type, api::name.name)", a.Name)
	} else if m := typeUIDPattern.FindStringSubmatch(a.Target); m == nil || m[1] != m[2] {
		errs.add(append(path, "target"), "attribute %s: target %q must be a content type "+
			"uid, api::name.name", a.Name, a.Target)
	}
	switch {
	case a.InversedBy != "" && a.MappedBy != "":
		errs.add(append(path, "mappedBy"), "attribute %s: a relation has inversedBy (the "+
			"owning side) or mappedBy (the other side), not both", a.Name)
	case (a.InversedBy != "" || a.MappedBy != "") && MirrorRelation(a.Relation) == "" &&
		slices.Contains(RelationKinds, a.Relation):
		errs.add(append(path, "relation"), "attribute %s: relation %s is one-sided and takes "+
			"no inversedBy or mappedBy", a.Name, a.Relation)
	}
	for _, o := range []struct{ key, v string }{{"inversedBy", a.InversedBy},
		{"mappedBy", a.MappedBy}} {
		if o.v != "" && !attributeNamePattern.MatchString(o.v) {
			errs.add(append(path, o.key), "attribute %s: %s %q is not an attribute name",
				a.Name, o.key, o.v)
		}
	}
	return false
}
