package panel

import (
	"encoding/json"
	"net/url"
	"reflect"
	"testing"

	"github.com/herald-cms/herald/admin/views"
	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/content/schema"
)

// linkType is a type with one attribute of each link shape.
func linkType() *content.Type {
	return &content.Type{UID: "api::article.article", Schema: &schema.Schema{
		Kind: schema.KindCollection, Attributes: schema.Attributes{
			{Name: "title", Type: schema.TypeString},
			{Name: "author", Type: schema.TypeRelation, Relation: schema.ManyToOne,
				Target: "api::person.person", InversedBy: "articles"},
			{Name: "tags", Type: schema.TypeRelation, Relation: schema.ManyWay,
				Target: "api::tag.tag"},
			{Name: "cover", Type: schema.TypeMedia, AllowedTypes: []string{"images"}},
			{Name: "gallery", Type: schema.TypeMedia, Multiple: true},
		}}}
}

func TestParseEntryFormPostsRelationsAndMediaInTheServiceShapes(t *testing.T) {
	tests := []struct {
		name string
		form url.Values
		want map[string]any
		bad  []string
	}{
		{"chosen with the script", url.Values{
			"f.author":  {"", "p1"},
			"f.tags":    {"", "t1", "t2"},
			"f.cover":   {"", "12"},
			"f.gallery": {"", "3", "4"},
		}, map[string]any{
			"author": "p1", "tags": []any{"t1", "t2"}, "cover": json.Number("12"),
			"gallery": []any{json.Number("3"), json.Number("4")},
		}, nil},
		{"typed without the script", url.Values{
			"f.author":  {" p1 "},
			"f.tags":    {"t1", "t3", " t2, t3 t4"},
			"f.cover":   {"cover-document-id"},
			"f.gallery": {"4", "3,4"},
		}, map[string]any{
			"author": "p1", "tags": []any{"t1", "t3", "t2", "t4"},
			"cover": "cover-document-id", "gallery": []any{json.Number("4"), json.Number("3")},
		}, nil},
		{"everything removed", url.Values{
			"f.author": {""}, "f.tags": {""}, "f.cover": {" "}, "f.gallery": {""},
		}, map[string]any{"author": nil, "tags": []any{}, "cover": nil, "gallery": []any{}}, nil},
		{"fields left out are not written", url.Values{"f.title": {"Hi"}},
			map[string]any{"title": "Hi"}, nil},
		{"two targets for one", url.Values{"f.author": {"p1", "p2"}, "f.cover": {"1, 2"}},
			map[string]any{}, []string{"author", "cover"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			input, _, errs := parseEntryForm(linkType(), tt.form)
			if !reflect.DeepEqual(input, tt.want) {
				t.Errorf("input %#v, want %#v", input, tt.want)
			}
			for _, name := range tt.bad {
				if errs[name] == "" {
					t.Errorf("no error for %s in %v", name, errs)
				}
			}
			if len(errs) != len(tt.bad) {
				t.Errorf("errors %v, want only %v", errs, tt.bad)
			}
		})
	}
}

func TestPicksShowPopulatedTargets(t *testing.T) {
	doc := map[string]any{
		"tags": []any{
			map[string]any{"documentId": "t1", "name": "Go"},
			map[string]any{"documentId": "t2"},
		},
		"cover": map[string]any{"id": json.Number("12"), "name": "a.png", "mime": "image/png",
			"url": "/uploads/a.png", "alternativeText": "A", "width": json.Number("3"),
			"height": json.Number("2")},
		"gallery": []any{map[string]any{"id": json.Number("4"), "name": "n.pdf",
			"mime": "application/pdf", "url": "/uploads/n.pdf"}},
		"author": nil,
	}
	var got []views.Pick
	for _, item := range linkedItems(doc["tags"]) {
		got = append(got, documentPick("name", item))
	}
	want := []views.Pick{{ID: "t1", Label: "Go", Hint: "t1"}, {ID: "t2", Label: "t2", Hint: "t2"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tags %+v, want %+v", got, want)
	}
	cover := filePick(linkedItems(doc["cover"])[0])
	if cover != (views.Pick{ID: "12", Label: "a.png", Hint: "image/png · 3 × 2",
		Thumb: "/uploads/a.png", Alt: "A"}) {
		t.Errorf("cover %+v", cover)
	}
	if pdf := filePick(linkedItems(doc["gallery"])[0]); pdf.Thumb != "" || pdf.ID != "4" {
		t.Errorf("a PDF gets a thumbnail or loses its id: %+v", pdf)
	}
	if items := linkedItems(doc["author"]); len(items) != 0 {
		t.Errorf("null relation has items %v", items)
	}
}

func TestMediaKindFollowsStrapisAllowedTypes(t *testing.T) {
	for mime, want := range map[string]string{
		"image/png": "images", "video/mp4": "videos", "audio/mpeg": "audios",
		"application/pdf": "files", "text/plain": "files",
	} {
		if got := content.MediaKind(mime); got != want {
			t.Errorf("MediaKind(%s) = %s, want %s", mime, got, want)
		}
	}
}

func TestSchemaOfBuildsRelationAndMediaAttributes(t *testing.T) {
	f := views.TypeForm{Kind: "collectionType", SingularName: "item", PluralName: "items",
		DisplayName: "Item", Attributes: []views.AttributeRow{
			{Name: "owner", Type: "relation", Relation: "manyToOne", Target: "api::person.person",
				InversedBy: "items", Unique: true, Default: "x", Multiple: true,
				AllowedTypes: []string{"images"}},
			{Name: "parent", Type: "relation", Relation: "oneWay", Target: "self"},
			{Name: "cover", Type: "media", AllowedTypes: []string{"images", "", "videos"},
				Relation: "oneWay", Target: "api::x.x", Unique: true},
			{Name: "title", Type: "string", Relation: "oneWay", Target: "api::x.x",
				Multiple: true, AllowedTypes: []string{"files"}},
		}}
	sc, errs := schemaOf(f)
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	as := sc.Attributes
	want := []*schema.Attribute{
		{Name: "owner", Type: "relation", Relation: "manyToOne", Target: "api::person.person",
			InversedBy: "items"},
		{Name: "parent", Type: "relation", Relation: "oneWay", Target: "api::item.item"},
		{Name: "cover", Type: "media", AllowedTypes: []string{"images", "videos"}},
		{Name: "title", Type: "string"},
	}
	for i := range want {
		if !reflect.DeepEqual(as[i], want[i]) {
			t.Errorf("attribute %d: %+v, want %+v", i, as[i], want[i])
		}
	}

	form := url.Values{"attr-count": {"1"}, "a0.name": {"cover"}, "a0.type": {"media"},
		"a0.multiple": {"true"}, "a0.allowedTypes": {"images", "audios"}}
	row := parseTypeForm(form).Attributes[0]
	if !row.Multiple || !reflect.DeepEqual(row.AllowedTypes, []string{"images", "audios"}) {
		t.Errorf("media row read back as %+v", row)
	}
}
