package schema

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// data decodes a JSON object the way request bodies are decoded.
func data(t *testing.T, raw string) map[string]any {
	t.Helper()
	if raw == "" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return m
}

// strictArticle adds length and pattern options to the article schema.
const strictArticle = `{
  "info": {"singularName": "article", "pluralName": "articles"},
  "attributes": {
    "title": {"type": "string", "required": true, "minLength": 3, "maxLength": 10},
    "slug": {"type": "uid", "targetField": "title", "maxLength": 8},
    "code": {"type": "string", "regex": "^[A-Z]+$"},
    "views": {"type": "integer", "min": 0, "max": 100},
    "contact": {"type": "email", "required": true}
  }
}`

func TestPrepare(t *testing.T) {
	article := mustParse(t, articleJSON)
	strict := mustParse(t, strictArticle)
	cases := []struct {
		name     string
		schema   *Schema
		input    string
		existing string
		create   bool
		mode     WriteMode
		private  bool
		want     map[string]any
		errs     []fieldErrorWant
	}{
		{
			name:   "create normalises every type and applies defaults",
			schema: article, create: true,
			input: `{"title": "Hello World", "body": "# Hi", "views": "12",
			         "published": "2024-05-01", "meta": {"tags": ["a"], "n": 1.5}}`,
			want: map[string]any{"title": "Hello World", "slug": "hello-world", "body": "# Hi",
				"views": int64(12), "published": "2024-05-01", "category": "news",
				"meta": map[string]any{"tags": []any{"a"}, "n": json.Number("1.5")}},
		},
		{
			name:   "echoed document fields are ignored",
			schema: article, create: true,
			input: `{"title": "T1", "id": 4, "documentId": "abc", "createdAt": "x",
			         "updatedAt": "y", "publishedAt": null, "locale": "en"}`,
			want: map[string]any{"title": "T1", "slug": "t1", "views": int64(0),
				"category": "news"},
		},
		{
			name:   "unknown keys are refused in sorted order",
			schema: article, create: true,
			input: `{"title": "T", "zeta": 1, "alpha": 2, "Title": "x"}`,
			errs: []fieldErrorWant{{[]string{"Title"}, "Invalid key Title"},
				{[]string{"alpha"}, "Invalid key alpha"}, {[]string{"zeta"}, "Invalid key zeta"}},
		},
		{
			name:   "private attribute is an unknown key to the content API",
			schema: article, create: true,
			input: `{"title": "T", "secret": "s"}`,
			errs:  []fieldErrorWant{{[]string{"secret"}, "Invalid key secret"}},
		},
		{
			name:   "private attribute is written by a privileged caller",
			schema: article, create: true, private: true,
			input: `{"title": "T", "secret": "s"}`,
			want: map[string]any{"title": "T", "slug": "t", "views": int64(0),
				"category": "news", "secret": "s"},
		},
		{
			name:     "update keeps stored private values",
			schema:   article,
			existing: `{"title": "Old", "slug": "old", "secret": "s", "views": 3}`,
			input:    `{"title": "New"}`,
			want: map[string]any{"title": "New", "slug": "old", "secret": "s",
				"views": int64(3)},
		},
		{
			name:   "required attribute missing on publish",
			schema: article, create: true,
			input: `{"body": "x"}`,
			errs:  []fieldErrorWant{{[]string{"title"}, "title is required"}},
		},
		{
			name:   "required attribute empty on publish",
			schema: article, create: true, mode: ModeNoDraftAndPublish,
			input: `{"title": ""}`,
			errs:  []fieldErrorWant{{[]string{"title"}, "title is required"}},
		},
		{
			name:   "draft may leave required attributes out",
			schema: article, create: true, mode: ModeDraft,
			input: `{"body": "x"}`,
			want:  map[string]any{"body": "x", "views": int64(0), "category": "news"},
		},
		{
			name:   "draft still checks types",
			schema: article, create: true, mode: ModeDraft,
			input: `{"views": "abc", "published": "2024-02-30", "category": "gossip"}`,
			errs: []fieldErrorWant{{[]string{"views"}, "views must be an integer"},
				{[]string{"published"}, "published must be a date"},
				{[]string{"category"}, "category must be one of: news, opinion, review"}},
		},
		{
			name:   "null clears a value and skips the default",
			schema: article, create: true,
			input: `{"title": "T", "views": null, "category": null, "meta": null}`,
			want:  map[string]any{"title": "T", "slug": "t"},
		},
		{
			name:     "null clears a stored value",
			schema:   article,
			existing: `{"title": "T", "body": "old", "slug": "t"}`,
			input:    `{"body": null}`,
			want:     map[string]any{"title": "T", "slug": "t"},
		},
		{
			name:     "null on a required attribute fails on publish",
			schema:   article,
			existing: `{"title": "T", "slug": "t"}`,
			input:    `{"title": null}`,
			errs:     []fieldErrorWant{{[]string{"title"}, "title is required"}},
		},
		{
			name:   "a sent uid is not generated",
			schema: article, create: true,
			input: `{"title": "Hello", "slug": "custom"}`,
			want: map[string]any{"title": "Hello", "slug": "custom", "views": int64(0),
				"category": "news"},
		},
		{
			name:   "a uid cleared on purpose stays empty",
			schema: article, create: true,
			input: `{"title": "Hello", "slug": null}`,
			want:  map[string]any{"title": "Hello", "views": int64(0), "category": "news"},
		},
		{
			name:     "a missing uid is generated on update",
			schema:   article,
			existing: `{"body": "x"}`, mode: ModeDraft,
			input: `{"title": "Later Title"}`,
			want:  map[string]any{"title": "Later Title", "slug": "later-title", "body": "x"},
		},
		{
			name:   "generated uid is cut to maxLength",
			schema: strict, create: true,
			input: `{"title": "Abcdefg h", "contact": "a@b.co"}`,
			want:  map[string]any{"title": "Abcdefg h", "slug": "abcdefg", "contact": "a@b.co"},
		},
		{
			name:   "constraints on publish",
			schema: strict, create: true,
			input: `{"title": "Hi", "code": "abc", "views": 101, "contact": "nope"}`,
			errs: []fieldErrorWant{{[]string{"title"}, "title must be at least 3 characters"},
				{[]string{"code"}, "code must match the pattern ^[A-Z]+$"},
				{[]string{"views"}, "views must be at most 100"},
				{[]string{"contact"}, "contact must be a valid email address"}},
		},
		{
			name:   "draft skips minLength but not maxLength",
			schema: strict, create: true, mode: ModeDraft,
			input: `{"title": "Hi"}`,
			want:  map[string]any{"title": "Hi", "slug": "hi"},
		},
		{
			name:   "draft enforces maxLength, pattern and bounds",
			schema: strict, create: true, mode: ModeDraft,
			input: `{"title": "Much too long", "code": "x", "views": -1}`,
			errs: []fieldErrorWant{{[]string{"title"}, "title must be at most 10 characters"},
				{[]string{"code"}, "must match the pattern"},
				{[]string{"views"}, "views must be at least 0"}},
		},
		{
			name:     "publish checks stored values against the schema",
			schema:   strict,
			existing: `{"title": "Fine title", "views": "lots", "code": "lower"}`,
			input:    `{"contact": "a@b.co"}`,
			errs: []fieldErrorWant{{[]string{"views"}, "views must be an integer"},
				{[]string{"code"}, "must match the pattern"}},
		},
		{
			name:     "draft keeps stored values the schema no longer accepts",
			schema:   strict,
			existing: `{"title": "Fine title", "views": "lots", "code": "lower", "gone": 1}`,
			input:    `{"contact": "a@b.co"}`, mode: ModeDraft,
			want: map[string]any{"title": "Fine title", "views": "lots", "code": "lower",
				"contact": "a@b.co", "slug": "fine-tit"},
		},
		{
			name:     "stored values are normalised",
			schema:   article,
			existing: `{"title": "T", "slug": "t", "views": 7, "published": "2024-05-01"}`,
			input:    `{}`,
			want: map[string]any{"title": "T", "slug": "t", "views": int64(7),
				"published": "2024-05-01"},
		},
		{
			name:   "empty optional email passes",
			schema: strict, create: true,
			input: `{"title": "Title", "contact": "x@y.z", "code": ""}`,
			want: map[string]any{"title": "Title", "slug": "title", "contact": "x@y.z",
				"code": ""},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, errs := c.schema.Prepare(data(t, c.input), data(t, c.existing), c.create,
				c.mode, c.private)
			if c.errs != nil {
				if got != nil {
					t.Fatalf("got data %v alongside errors", got)
				}
				expectErrors(t, errs, c.errs...)
				if len(errs) != len(c.errs) {
					t.Fatalf("got %d errors, want %d: %v", len(errs), len(c.errs), errs)
				}
				return
			}
			if errs != nil {
				t.Fatalf("unexpected errors: %v", errs)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got  %#v\nwant %#v", got, c.want)
			}
		})
	}
}

func TestPrepareErrorsFollowSchemaOrder(t *testing.T) {
	s := mustParse(t, strictArticle)
	_, errs := s.Prepare(data(t, `{"views": "x", "title": 5, "extra": 1}`), nil, true,
		ModePublish, false)
	var paths []string
	for _, e := range errs {
		paths = append(paths, e.Path[0])
	}
	want := []string{"extra", "title", "views", "contact"}
	if !reflect.DeepEqual(paths, want) {
		t.Fatalf("error paths = %v, want %v (%v)", paths, want, errs)
	}
}

func TestWriteModeString(t *testing.T) {
	for m, want := range map[WriteMode]string{ModePublish: "publish", ModeDraft: "draft",
		ModeNoDraftAndPublish: "no-draft-and-publish", WriteMode(9): "unknown"} {
		if m.String() != want {
			t.Errorf("%d.String() = %q, want %q", int(m), m.String(), want)
		}
	}
}
