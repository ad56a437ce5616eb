package schema

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// articleJSON is a schema.json as Strapi writes it, keys Herald ignores
// included; it must import as it is.
const articleJSON = `{
  "kind": "collectionType",
  "collectionName": "articles",
  "info": {
    "singularName": "article",
    "pluralName": "articles",
    "displayName": "Article",
    "description": "News and opinion"
  },
  "options": {"draftAndPublish": true, "comment": ""},
  "pluginOptions": {"i18n": {"localized": false}},
  "attributes": {
    "title": {"type": "string", "required": true, "maxLength": 80, "pluginOptions": {}},
    "slug": {"type": "uid", "targetField": "title"},
    "body": {"type": "richtext"},
    "views": {"type": "integer", "min": 0, "default": 0},
    "published": {"type": "date"},
    "category": {"type": "enumeration", "enum": ["news", "opinion", "review"],
                 "default": "news"},
    "meta": {"type": "json"},
    "secret": {"type": "string", "private": true, "configurable": false}
  }
}`

// mustParse parses, normalises and validates a schema, failing the test on
// any problem.
func mustParse(t *testing.T, raw string) *Schema {
	t.Helper()
	s, err := Parse([]byte(raw))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	s.Normalize()
	if errs := s.Validate(); errs != nil {
		t.Fatalf("Validate: %v", errs)
	}
	return s
}

func TestStrapiArticleSchemaImportsAsItIs(t *testing.T) {
	s := mustParse(t, articleJSON)

	var names []string
	for _, a := range s.Attributes {
		names = append(names, a.Name)
	}
	wantNames := []string{"title", "slug", "body", "views", "published", "category", "meta",
		"secret"}
	if !slices.Equal(names, wantNames) {
		t.Fatalf("attribute order = %v, want %v", names, wantNames)
	}
	if s.UID() != "api::article.article" || !s.Options.DraftAndPublish {
		t.Fatalf("uid %q, draftAndPublish %v", s.UID(), s.Options.DraftAndPublish)
	}
	title := s.Attributes.Get("title")
	if !title.Required || title.MaxLength == nil || *title.MaxLength != 80 {
		t.Fatalf("title = %+v", title)
	}
	if s.Attributes.Get("slug").TargetField != "title" || !s.Attributes.Get("secret").Private {
		t.Fatal("slug target field or secret privacy lost")
	}
	if string(s.Attributes.Get("category").Default) != `"news"` {
		t.Fatalf("category default = %s", s.Attributes.Get("category").Default)
	}

	// What Herald stores reads back the same, through Parse and through
	// encoding/json.
	out, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	again := mustParse(t, string(out))
	var viaUnmarshal Schema
	if err := json.Unmarshal(out, &viaUnmarshal); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s, again) || !reflect.DeepEqual(*s, viaUnmarshal) {
		t.Fatalf("round trip changed the schema:\n%s", out)
	}
}

func TestEverySupportedTypeValidates(t *testing.T) {
	mustParse(t, `{"info": {"singularName": "thing", "pluralName": "things"},
	  "attributes": {
	    "s": {"type": "string", "minLength": 1, "maxLength": 10, "regex": "^[a-z]*$",
	          "unique": true, "default": "abc"},
	    "t": {"type": "text", "maxLength": 1000},
	    "r": {"type": "richtext"},
	    "e": {"type": "email", "unique": true, "default": "a@example.com"},
	    "u": {"type": "uid", "targetField": "t", "maxLength": 40},
	    "i": {"type": "integer", "min": -5, "max": 5, "default": 3},
	    "b": {"type": "biginteger", "min": "0", "max": "9223372036854775807",
	          "default": "12"},
	    "f": {"type": "float", "min": 0.5, "max": 1.5, "default": 1},
	    "d": {"type": "decimal", "default": 2.5},
	    "bo": {"type": "boolean", "default": true},
	    "da": {"type": "date", "default": "2024-01-01"},
	    "ti": {"type": "time", "default": "09:30"},
	    "dt": {"type": "datetime", "default": "2024-01-01T00:00:00Z"},
	    "en": {"type": "enumeration", "enum": ["Option 1", "in-progress", "_x", "été", "4K"]},
	    "j": {"type": "json", "default": {"a": [1, 2]}}
	  }}`)
}

func TestNormalizeFillsDefaults(t *testing.T) {
	s, err := Parse([]byte(`{"info": {"singularName": "blog-post", "pluralName": "blog-posts"},
	  "attributes": {"a": {"type": "string", "default": null}}}`))
	if err != nil {
		t.Fatal(err)
	}
	s.Normalize()
	if s.Kind != KindCollection || s.CollectionName != "blog_posts" ||
		s.Info.DisplayName != "Blog Post" || s.Attributes[0].Default != nil {
		t.Fatalf("Normalize gave %+v, %+v", s, s.Attributes[0])
	}
	if errs := s.Validate(); errs != nil {
		t.Fatal(errs)
	}

	kept := &Schema{Kind: KindSingle, CollectionName: "home",
		Info: Info{SingularName: "homepage", PluralName: "homepages", DisplayName: "Home"}}
	kept.Normalize()
	if kept.Kind != KindSingle || kept.CollectionName != "home" || kept.Info.DisplayName != "Home" {
		t.Fatalf("Normalize overwrote values: %+v", kept)
	}
}

// fieldErrorWant is an expected problem: its path and a fragment of its
// message.
type fieldErrorWant struct {
	path []string
	msg  string
}

// expectErrors checks that errs holds each wanted problem.
func expectErrors(t *testing.T, errs Errors, wants ...fieldErrorWant) {
	t.Helper()
	if len(errs) == 0 {
		t.Fatalf("no errors, want %v", wants)
	}
	for _, w := range wants {
		found := false
		for _, e := range errs {
			if slices.Equal(e.Path, w.path) && strings.Contains(e.Message, w.msg) {
				found = true
			}
		}
		if !found {
			t.Errorf("missing error at %v containing %q; got %#v", w.path, w.msg, errs)
		}
	}
}

func TestParseRefusesWrongJSONTypes(t *testing.T) {
	cases := []struct {
		name string
		raw  string
		want []fieldErrorWant
	}{
		{"malformed", `{"kind": `, []fieldErrorWant{{[]string{}, "Malformed JSON"}}},
		{"empty", ``, []fieldErrorWant{{[]string{}, "Malformed JSON"}}},
		{"trailing data", `{} {}`, []fieldErrorWant{{[]string{}, "Malformed JSON"}}},
		{"array", `[]`, []fieldErrorWant{{[]string{}, "must be a JSON object"}}},
		{"null", `null`, []fieldErrorWant{{[]string{}, "must be a JSON object"}}},
		{"kind number", `{"kind": 5}`,
			[]fieldErrorWant{{[]string{"kind"}, "kind must be a string"}}},
		{"info string", `{"info": "x"}`,
			[]fieldErrorWant{{[]string{"info"}, "info must be an object"}}},
		{"singular number", `{"info": {"singularName": 1, "pluralName": true}}`, []fieldErrorWant{
			{[]string{"info", "singularName"}, "info.singularName must be a string"},
			{[]string{"info", "pluralName"}, "info.pluralName must be a string"},
		}},
		{"draftAndPublish string", `{"options": {"draftAndPublish": "true"}}`, []fieldErrorWant{
			{[]string{"options", "draftAndPublish"}, "options.draftAndPublish must be a boolean"},
		}},
		{"attributes array", `{"attributes": []}`,
			[]fieldErrorWant{{[]string{"attributes"}, "attributes must be an object"}}},
		{"attribute string", `{"attributes": {"title": "string"}}`,
			[]fieldErrorWant{{[]string{"attributes", "title"},
				"attribute title must be an object"}}},
		{"required yes", `{"attributes": {"title": {"type": "string", "required": "yes"}}}`,
			[]fieldErrorWant{{[]string{"attributes", "title", "required"},
				"attribute title: required must be a boolean"}}},
		{"several at once", `{"attributes": {
		   "a": {"type": 5, "unique": 1, "private": "no"},
		   "b": {"type": "string", "minLength": 1.5, "maxLength": "3", "regex": 4},
		   "c": {"type": "integer", "min": "abc", "max": [1]},
		   "d": {"type": "enumeration", "enum": [1, 2]},
		   "e": {"type": "enumeration", "enum": "a,b", "targetField": 1}}}`, []fieldErrorWant{
			{[]string{"attributes", "a", "type"}, "attribute a: type must be a string"},
			{[]string{"attributes", "a", "unique"}, "unique must be a boolean"},
			{[]string{"attributes", "a", "private"}, "private must be a boolean"},
			{[]string{"attributes", "b", "minLength"}, "minLength must be a whole number"},
			{[]string{"attributes", "b", "maxLength"}, "maxLength must be a whole number"},
			{[]string{"attributes", "b", "regex"}, "regex must be a string"},
			{[]string{"attributes", "c", "min"}, "min must be a number"},
			{[]string{"attributes", "c", "max"}, "max must be a number"},
			{[]string{"attributes", "d", "enum"}, "enum must be a list of strings"},
			{[]string{"attributes", "e", "enum"}, "enum must be a list of strings"},
			{[]string{"attributes", "e", "targetField"}, "targetField must be a string"},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := Parse([]byte(c.raw))
			errs, ok := err.(Errors)
			if s != nil || !ok {
				t.Fatalf("Parse = %v, %v; want Errors", s, err)
			}
			expectErrors(t, errs, c.want...)
		})
	}
}

func TestParseAcceptsStrapiSpellings(t *testing.T) {
	s, err := Parse([]byte(`{"attributes": {
	  "b": {"type": "biginteger", "min": "-10", "max": "10", "default": null, "regex": null},
	  "n": {"type": "integer", "min": -1.5e1}}}`))
	if err != nil {
		t.Fatal(err)
	}
	b := s.Attributes.Get("b")
	if b.Min.String() != "-10" || b.Max.String() != "10" || b.Default != nil || b.Regex != "" {
		t.Fatalf("b = %+v", b)
	}
	if s.Attributes.Get("n").Min.String() != "-1.5e1" {
		t.Fatalf("n.min = %v", s.Attributes.Get("n").Min)
	}
}

// withAttributes returns a valid schema holding the given attributes JSON.
func withAttributes(attrs string) string {
	return `{"info": {"singularName": "thing", "pluralName": "things"}, "attributes": {` +
		attrs + `}}`
}

func TestValidateRefusesBadSchemas(t *testing.T) {
	a := func(name, key string) []string {
		if key == "" {
			return []string{"attributes", name}
		}
		return []string{"attributes", name, key}
	}
	cases := []struct {
		name string
		raw  string
		want []fieldErrorWant
	}{
		{"bad kind", `{"kind": "component", "info": {"singularName": "a", "pluralName": "as"}}`,
			[]fieldErrorWant{{[]string{"kind"}, `kind must be "collectionType" or "singleType"`}}},
		{"missing names", `{"info": {}}`, []fieldErrorWant{
			{[]string{"info", "singularName"}, "info.singularName is required"},
			{[]string{"info", "pluralName"}, "info.pluralName is required"},
			{[]string{"info", "displayName"}, "info.displayName is required"},
		}},
		{"not kebab", `{"info": {"singularName": "Article", "pluralName": "news_items"}}`,
			[]fieldErrorWant{
				{[]string{"info", "singularName"},
					`info.singularName "Article" must be kebab-case`},
				{[]string{"info", "pluralName"}, "must be kebab-case"},
			}},
		{"starts with digit", `{"info": {"singularName": "1a", "pluralName": "as"}}`,
			[]fieldErrorWant{{[]string{"info", "singularName"}, "kebab-case"}}},
		{"same names", `{"info": {"singularName": "news", "pluralName": "news"}}`,
			[]fieldErrorWant{{[]string{"info", "pluralName"},
				"must differ from info.singularName"}}},
		{"bad collection name", `{"collectionName": "Bad-Name",
		   "info": {"singularName": "a", "pluralName": "as"}}`,
			[]fieldErrorWant{{[]string{"collectionName"}, "must be snake_case"}}},
		{"blank display name", `{"info": {"singularName": "a", "pluralName": "as",
		   "displayName": "   "}}`, nil},
		{"attribute names", withAttributes(`"1st": {"type": "string"},
		   "has-dash": {"type": "string"}, "id": {"type": "string"},
		   "documentId": {"type": "string"}, "Status": {"type": "string"},
		   "title": {"type": "string"}, "Title": {"type": "text"}`), []fieldErrorWant{
			{a("1st", ""), "must start with a letter"},
			{a("has-dash", ""), "must start with a letter"},
			{a("id", ""), "attribute id: the name is reserved"},
			{a("documentId", ""), "reserved"},
			{a("Status", ""), "reserved"},
			{a("Title", ""), "already used by attribute title"},
		}},
		{"unknown type", withAttributes(`"x": {"type": "colour"}, "y": {}`), []fieldErrorWant{
			{a("x", "type"), "attribute x: unknown type colour"},
			{a("y", "type"), "attribute y: type is required"},
		}},
		{"enumeration", withAttributes(`"none": {"type": "enumeration"},
		   "empty": {"type": "enumeration", "enum": []},
		   "dup": {"type": "enumeration", "enum": ["a", "b", "a"]},
		   "odd": {"type": "enumeration", "enum": ["ok", "bad!", " lead", "trail ", ""]},
		   "long": {"type": "enumeration", "enum": ["` + strings.Repeat("x", 256) + `"]},
		   "str": {"type": "string", "enum": ["a"]}`), []fieldErrorWant{
			{a("none", "enum"), "attribute none: enum must list at least one value"},
			{a("empty", "enum"), "must list at least one value"},
			{a("dup", "enum"), `enum value "a" is listed twice`},
			{a("odd", "enum"), `enum value "bad!" must start with a letter`},
			{a("odd", "enum"), `enum value " lead"`},
			{a("odd", "enum"), `enum value "trail "`},
			{a("odd", "enum"), `enum value ""`},
			{a("long", "enum"), "longer than 255 characters"},
			{a("str", "enum"), "attribute str: enum is not allowed on type string"},
		}},
		{"lengths", withAttributes(`"n": {"type": "integer", "minLength": 1, "maxLength": 2},
		   "neg": {"type": "string", "minLength": -1},
		   "swap": {"type": "text", "minLength": 5, "maxLength": 2},
		   "en": {"type": "enumeration", "enum": ["a"], "maxLength": 3}`), []fieldErrorWant{
			{a("n", "minLength"), "attribute n: minLength is not allowed on type integer"},
			{a("n", "maxLength"), "maxLength is not allowed on type integer"},
			{a("neg", "minLength"), "minLength must not be negative"},
			{a("swap", "minLength"), "minLength must not exceed maxLength"},
			{a("en", "maxLength"), "not allowed on type enumeration"},
		}},
		{"bounds", withAttributes(`"s": {"type": "string", "min": 1},
		   "d": {"type": "date", "max": 3},
		   "frac": {"type": "integer", "min": 1.5},
		   "wide": {"type": "integer", "max": 2147483648},
		   "swap": {"type": "float", "min": 2, "max": 1},
		   "big": {"type": "biginteger", "min": "10", "max": "9"}`), []fieldErrorWant{
			{a("s", "min"), "attribute s: min is not allowed on type string"},
			{a("d", "max"), "max is not allowed on type date"},
			{a("frac", "min"), "attribute frac: min must be an integer"},
			{a("wide", "max"), "max must be an integer between"},
			{a("swap", "min"), "min must not exceed max"},
			{a("big", "min"), "min must not exceed max"},
		}},
		{"regex", withAttributes(`"n": {"type": "integer", "regex": "^1$"},
		   "look": {"type": "string", "regex": "^(?=a)"}`), []fieldErrorWant{
			{a("n", "regex"), "attribute n: regex is not allowed on type integer"},
			{a("look", "regex"), "attribute look: regex does not compile"},
		}},
		{"targetField", withAttributes(`"title": {"type": "string"},
		   "n": {"type": "integer"},
		   "s": {"type": "string", "targetField": "title"},
		   "missing": {"type": "uid", "targetField": "nope"},
		   "numeric": {"type": "uid", "targetField": "n"}`), []fieldErrorWant{
			{a("s", "targetField"), "attribute s: targetField is not allowed on type string"},
			{a("missing", "targetField"), `must name a string or text attribute, not "nope"`},
			{a("numeric", "targetField"), `not "n"`},
		}},
		{"unique", withAttributes(`"j": {"type": "json", "unique": true},
		   "b": {"type": "boolean", "unique": true}`), []fieldErrorWant{
			{a("j", "unique"), "attribute j: unique is not allowed on type json"},
			{a("b", "unique"), "unique is not allowed on type boolean"},
		}},
		{"defaults", withAttributes(`"n": {"type": "integer", "default": "abc"},
		   "e": {"type": "enumeration", "enum": ["a"], "default": "b"},
		   "s": {"type": "string", "maxLength": 2, "default": "abc"},
		   "m": {"type": "integer", "min": 5, "default": 4},
		   "b": {"type": "boolean", "default": 1},
		   "d": {"type": "date", "default": "tomorrow"},
		   "x": {"type": "string", "maxLength": -1, "default": "abc"}`), []fieldErrorWant{
			{a("n", "default"), "attribute n: default must be an integer"},
			{a("e", "default"), "attribute e: default must be one of: a"},
			{a("s", "default"), "default must be at most 2 characters"},
			{a("m", "default"), "default must be at least 5"},
			{a("b", "default"), "default must be a boolean"},
			{a("d", "default"), "default must be a date"},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := Parse([]byte(c.raw))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			s.Normalize()
			errs := s.Validate()
			if c.want == nil {
				c.want = []fieldErrorWant{{[]string{"info", "displayName"}, ""}}
				s.Info.DisplayName = ""
				errs = s.Validate()
			}
			expectErrors(t, errs, c.want...)
			if errs.Error() == "" {
				t.Fatal("Errors.Error() is empty")
			}
		})
	}
}

func TestValidateNamesEachUnsupportedType(t *testing.T) {
	for _, typ := range []string{"blocks", "component", "dynamiczone", "password",
		"customField"} {
		s, err := Parse([]byte(withAttributes(`"field": {"type": "` + typ + `"}`)))
		if err != nil {
			t.Fatal(err)
		}
		s.Normalize()
		want := "attribute field: type " + typ + " is not supported"
		expectErrors(t, s.Validate(), fieldErrorWant{[]string{"attributes", "field", "type"}, want})
	}
}

func TestValidateRefusesReservedNames(t *testing.T) {
	for name := range reservedTypeNames {
		for _, key := range []string{"singularName", "pluralName"} {
			s := &Schema{Info: Info{SingularName: "thing", PluralName: "things"}}
			if key == "singularName" {
				s.Info.SingularName = name
			} else {
				s.Info.PluralName = name
			}
			s.Normalize()
			errs := s.Validate()
			if name == "_health" {
				expectErrors(t, errs, fieldErrorWant{[]string{"info", key}, "kebab-case"})
				continue
			}
			expectErrors(t, errs, fieldErrorWant{[]string{"info", key}, "is reserved"})
		}
	}
	for name := range reservedAttributeNames {
		s := &Schema{Info: Info{SingularName: "thing", PluralName: "things"},
			Attributes: Attributes{{Name: strings.ToUpper(name[:1]) + name[1:], Type: TypeString}}}
		s.Normalize()
		expectErrors(t, s.Validate(), fieldErrorWant{
			[]string{"attributes", s.Attributes[0].Name}, "the name is reserved"})
	}
}

func TestUnmarshalJSONReportsAttributeErrors(t *testing.T) {
	var s Schema
	err := json.Unmarshal([]byte(`{"attributes": {"title": {"required": "yes"}}}`), &s)
	errs, ok := err.(Errors)
	if !ok {
		t.Fatalf("err = %v (%T), want Errors", err, err)
	}
	expectErrors(t, errs, fieldErrorWant{[]string{"attributes", "title", "required"}, "boolean"})
}
