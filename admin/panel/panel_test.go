package panel

import (
	"encoding/json"
	"net/url"
	"reflect"
	"testing"

	"github.com/herald-cms/herald/admin"
	"github.com/herald-cms/herald/admin/views"
	"github.com/herald-cms/herald/content/schema"
)

func TestSafeNextKeepsOnlyPanelPages(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/admin/settings/webhooks?status=failed", "/admin/settings/webhooks?status=failed"},
		{"/admin/content-manager/api::article.article", "/admin/content-manager/api::article.article"},
		{"/admin", "/admin"},
		{"", "/admin"},
		{"https://evil.example/admin", "/admin"},
		{"//evil.example/admin", "/admin"},
		{"/\\evil.example", "/admin"},
		{"/administrator", "/admin"},
		{"/api/articles", "/admin"},
		{"/admin/auth/sign-out", "/admin"},
		{"/admin/assets/panel.js", "/admin"},
		{"javascript:alert(1)", "/admin"},
		{"/admin/x\r\nSet-Cookie: a=b", "/admin"},
	}
	for _, tt := range tests {
		if got := safeNext(tt.in); got != tt.want {
			t.Errorf("safeNext(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFormValueConvertsFieldsForTheService(t *testing.T) {
	attr := func(typ string) *schema.Attribute { return &schema.Attribute{Name: "x", Type: typ} }
	tests := []struct {
		name string
		typ  string
		text string
		want any
		bad  bool
	}{
		{"empty clears", schema.TypeString, "  ", nil, false},
		{"text as typed", schema.TypeText, " a b ", " a b ", false},
		{"integer", schema.TypeInteger, " 42 ", json.Number("42"), false},
		{"not a number stays text", schema.TypeInteger, "4x", "4x", false},
		{"float", schema.TypeFloat, "-1.5e3", json.Number("-1.5e3"), false},
		{"checked box", schema.TypeBoolean, "true", true, false},
		{"unchecked box", schema.TypeBoolean, "false", false, false},
		{"datetime in minutes", schema.TypeDateTime, "2025-01-31T12:30", "2025-01-31T12:30:00Z", false},
		{"datetime in seconds", schema.TypeDateTime, "2025-01-31T12:30:05", "2025-01-31T12:30:05Z", false},
		{"datetime with a zone", schema.TypeDateTime, "2025-01-31T12:30:05+02:00",
			"2025-01-31T12:30:05+02:00", false},
		{"json object", schema.TypeJSON, `{"a": [1]}`, map[string]any{"a": []any{json.Number("1")}}, false},
		{"json cleared", schema.TypeJSON, "", nil, false},
		{"bad json", schema.TypeJSON, `{"a":`, nil, true},
		{"two json values", schema.TypeJSON, `1 2`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, msg := formValue(attr(tt.typ), tt.text)
			if (msg != "") != tt.bad {
				t.Fatalf("message %q, want bad=%v", msg, tt.bad)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("formValue(%s, %q) = %#v, want %#v", tt.typ, tt.text, got, tt.want)
			}
		})
	}
}

func TestFieldTextShowsValuesInTheirInputs(t *testing.T) {
	tests := []struct {
		typ  string
		v    any
		want string
	}{
		{schema.TypeDateTime, "2025-01-31T12:30:05.000Z", "2025-01-31T12:30:05"},
		{schema.TypeTime, "09:30:00.000", "09:30:00"},
		{schema.TypeBoolean, true, "true"},
		{schema.TypeBoolean, nil, "false"},
		{schema.TypeInteger, json.Number("7"), "7"},
		{schema.TypeJSON, map[string]any{"a": json.Number("1")}, "{\n  \"a\": 1\n}"},
	}
	for _, tt := range tests {
		a := &schema.Attribute{Name: "x", Type: tt.typ}
		if got := fieldText(a, tt.v); got != tt.want {
			t.Errorf("fieldText(%s, %v) = %q, want %q", tt.typ, tt.v, got, tt.want)
		}
	}
}

func TestSchemaOfKeepsOnlyTheOptionsATypeTakes(t *testing.T) {
	f := views.TypeForm{Kind: "collectionType", SingularName: "item", PluralName: "items",
		DisplayName: "Item", Attributes: []views.AttributeRow{
			{Name: "title", Type: "string", Required: true, MaxLength: "80", Min: "3", Default: "x"},
			{Name: "count", Type: "integer", Min: "0", Max: "9", MaxLength: "3", Default: "5"},
			{Name: "kind", Type: "enumeration", Enum: "a\n b \n\n", Unique: true},
			{Name: "data", Type: "json", Unique: true, Default: `{"a": 1}`},
			{Name: "flag", Type: "boolean", Default: "true"},
		}}
	sc, errs := schemaOf(f)
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	as := sc.Attributes
	if as[0].MaxLength == nil || *as[0].MaxLength != 80 || as[0].Min != nil ||
		string(as[0].Default) != `"x"` {
		t.Errorf("string attribute: %+v", as[0])
	}
	if as[1].Min == nil || as[1].Min.String() != "0" || as[1].MaxLength != nil ||
		string(as[1].Default) != "5" {
		t.Errorf("integer attribute: %+v", as[1])
	}
	if !reflect.DeepEqual(as[2].Enum, []string{"a", "b"}) || !as[2].Unique {
		t.Errorf("enumeration: %+v", as[2])
	}
	if as[3].Unique || string(as[3].Default) != `{"a":1}` {
		t.Errorf("json attribute: %+v", as[3])
	}
	if string(as[4].Default) != "true" {
		t.Errorf("boolean default %s", as[4].Default)
	}

	f.Attributes = []views.AttributeRow{{Name: "n", Type: "integer", Min: "zero", MinLength: "x"},
		{Name: "j", Type: "json", Default: "{oops"}, {Name: "b", Type: "boolean", Default: "yes"}}
	_, errs = schemaOf(f)
	for _, key := range []string{"attributes.n.min", "attributes.j.default", "attributes.b.default"} {
		if errs[key] == "" {
			t.Errorf("no error for %s in %v", key, errs)
		}
	}
}

func TestParseRoleFormBuildsPermissions(t *testing.T) {
	form := url.Values{
		"name":                                  {" Reviewer "},
		"c:content.read:*":                      {"true"},
		"c:content.update:api::article.article": {"true"},
		"c:content.delete:api::article.article": {""},
		"own:api::article.article":              {"true"},
		"s:webhooks.read":                       {"true"},
	}
	f, perms := parseRoleForm(form)
	if f.Name != "Reviewer" {
		t.Errorf("name %q", f.Name)
	}
	uid := "api::article.article"
	want := []admin.Permission{
		{Action: "content.read"},
		{Action: "content.update", Subject: &uid, OwnOnly: true},
		{Action: "webhooks.read"},
	}
	if !reflect.DeepEqual(perms, want) {
		t.Errorf("permissions %+v, want %+v", perms, want)
	}
	if !f.Grid.Checked["c:content.read:*"] || !f.Grid.Own[uid] || !f.Grid.SettingsChecked["webhooks.read"] {
		t.Errorf("the grid does not show what was posted: %+v", f.Grid)
	}
}

func TestStateOfComparesDraftAndPublishedVersions(t *testing.T) {
	published := map[string]version{
		"a": {updatedAt: "2025-01-01T00:00:00.000Z"},
		"b": {updatedAt: "2025-01-01T00:00:00.000Z"},
	}
	tests := []struct{ id, updated, want string }{
		{"a", "2025-01-01T00:00:00.000Z", statePublished},
		{"b", "2025-01-02T00:00:00.000Z", stateModified},
		{"c", "2025-01-01T00:00:00.000Z", stateDraft},
	}
	for _, tt := range tests {
		draft := map[string]any{"documentId": tt.id, "updatedAt": tt.updated}
		if got := stateOf(draft, published); got != tt.want {
			t.Errorf("stateOf(%s) = %s, want %s", tt.id, got, tt.want)
		}
	}
}

func TestSortParamAcceptsListedColumnsOnly(t *testing.T) {
	cols := []string{"title", "views"}
	for in, want := range map[string]string{
		"title:asc": "title:asc", "views:desc": "views:desc", "createdAt:asc": "createdAt:asc",
		"secret:asc": "updatedAt:desc", "title": "updatedAt:desc", "title:up": "updatedAt:desc",
		"": "updatedAt:desc",
	} {
		if got := sortParam(in, cols); got != want {
			t.Errorf("sortParam(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTruncateCutsOnCharacters(t *testing.T) {
	if got := truncate("héllo", 2); got != "h…" {
		t.Errorf("truncate = %q", got)
	}
	if got := truncate("short", 10); got != "short" {
		t.Errorf("truncate = %q", got)
	}
	if got := shown("abcdef", 3); got != "abc…\n\n(3 more bytes not shown)" {
		t.Errorf("shown = %q", got)
	}
}
