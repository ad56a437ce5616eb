package schema

import (
	"strings"
	"testing"
)

func TestValidateLinkAttributes(t *testing.T) {
	tests := []struct {
		name, attr string
		// want is a fragment of the one expected message, "" for none.
		want string
	}{
		{"many to one", `{"type":"relation","relation":"manyToOne","target":"api::author.author",` +
			`"inversedBy":"articles"}`, ""},
		{"mapped", `{"type":"relation","relation":"oneToMany","target":"api::author.author",` +
			`"mappedBy":"article"}`, ""},
		{"one way", `{"type":"relation","relation":"oneWay","target":"api::author.author"}`, ""},
		{"media", `{"type":"media","multiple":true,"allowedTypes":["images","files"]}`, ""},
		{"no kind", `{"type":"relation","target":"api::author.author"}`, "relation is required"},
		{"morph", `{"type":"relation","relation":"morphToMany","target":"api::a.a"}`,
			`relation "morphToMany" is not supported`},
		{"no target", `{"type":"relation","relation":"oneToOne"}`, "target is required"},
		{"bad target", `{"type":"relation","relation":"oneToOne","target":"author"}`,
			"must be a content type uid"},
		{"both sides", `{"type":"relation","relation":"oneToOne","target":"api::a.a",` +
			`"inversedBy":"x","mappedBy":"y"}`, "not both"},
		{"one-sided inverse", `{"type":"relation","relation":"oneWay","target":"api::a.a",` +
			`"inversedBy":"x"}`, "one-sided"},
		{"unique relation", `{"type":"relation","relation":"oneWay","target":"api::a.a",` +
			`"unique":true}`, "unique is not allowed"},
		{"media kind", `{"type":"media","allowedTypes":["pictures"]}`, "allowedTypes must list"},
		{"media target", `{"type":"media","target":"api::a.a"}`, "target is not allowed"},
		{"string target", `{"type":"string","target":"api::a.a"}`, "target is not allowed"},
		{"relation multiple", `{"type":"relation","relation":"oneWay","target":"api::a.a",` +
			`"multiple":true}`, "multiple is not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse([]byte(withAttributes(`"field": ` + tt.attr)))
			if err != nil {
				t.Fatal(err)
			}
			s.Normalize()
			errs := s.Validate()
			if tt.want == "" {
				if errs != nil {
					t.Fatalf("unexpected errors: %v", errs)
				}
				return
			}
			if len(errs) != 1 || !strings.Contains(errs[0].Message, tt.want) {
				t.Fatalf("errors %v, want one containing %q", errs, tt.want)
			}
		})
	}
}

func TestPrepareLeavesLinksOut(t *testing.T) {
	s, err := Parse([]byte(withAttributes(`"title": {"type": "string"},
		"author": {"type":"relation","relation":"manyToOne","target":"api::author.author"},
		"cover": {"type":"media"}`)))
	if err != nil {
		t.Fatal(err)
	}
	s.Normalize()
	if errs := s.Validate(); errs != nil {
		t.Fatal(errs)
	}
	in := map[string]any{"title": "x", "author": "abc", "cover": 3}
	out, errs := s.Prepare(in, nil, true, ModePublish, false)
	if errs != nil {
		t.Fatal(errs)
	}
	if _, ok := out["author"]; ok {
		t.Errorf("relation stored in data: %v", out)
	}
	if _, ok := out["cover"]; ok {
		t.Errorf("media stored in data: %v", out)
	}
	if out["title"] != "x" {
		t.Errorf("title = %v", out["title"])
	}
}
