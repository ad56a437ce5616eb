package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/herald-cms/herald/admin"
	"github.com/herald-cms/herald/web/webtest"
)

const (
	peoplePage = "/admin/content-manager/api::person.person"
	tagsPage   = "/admin/content-manager/api::tag.tag"
)

// relationFixture is a Herald with people, tags and articles built in the
// panel's content-type builder, an administrator signed in to the panel,
// and the same administrator's admin API token.
type relationFixture struct {
	s     *webtest.Server
	b     *panelBrowser
	token string
}

// relationTypes builds the types of the relation tests through the
// builder: an article has one author (a person, who sees the articles as
// articles), many tags (one-way), a cover image and a gallery of any files.
func relationTypes(t *testing.T) *relationFixture {
	t.Helper()
	s := webtest.Start(t, webtest.Options{})
	b := panelRegister(t, s)
	for _, form := range []url.Values{
		panelTypeForm("person", "people", "Person",
			map[string]string{"name": "name", "type": "string"}),
		panelTypeForm("tag", "tags", "Tag", map[string]string{"name": "name", "type": "string"}),
		panelTypeForm("article", "articles", "Article",
			map[string]string{"name": "title", "type": "string"},
			map[string]string{"name": "author", "type": "relation", "relation": "manyToOne",
				"target": "api::person.person", "inversedBy": "articles"},
			map[string]string{"name": "tags", "type": "relation", "relation": "manyWay",
				"target": "api::tag.tag", "inversedBy": ""},
			map[string]string{"name": "cover", "type": "media", "allowedTypes": "images"},
			map[string]string{"name": "gallery", "type": "media", "multiple": "true"}),
	} {
		b.get("/admin/content-type-builder/new").must(t, 200, "")
		b.post("/admin/content-type-builder", form).must(t, 303, "/admin/content-type-builder/")
	}
	r := s.Must(200, "POST", "/admin/login", map[string]any{
		"email": "ada@example.com", "password": "correct horse battery"}, "")
	token, _ := dataOf(t, r)["token"].(string)
	return &relationFixture{s: s, b: b, token: token}
}

// create makes a draft through the admin API and returns its documentId.
func (f *relationFixture) create(t *testing.T, uid string, data map[string]any) string {
	t.Helper()
	r := f.s.Must(201, "POST", "/admin/content/"+uid, map[string]any{"data": data}, f.token)
	return dataOf(t, r)["documentId"].(string)
}

// upload puts a file into the media library and returns its id.
func (f *relationFixture) upload(t *testing.T, name string, body []byte) string {
	t.Helper()
	r := upload(t, f.s, "/admin/upload", f.token, []part{{name, "", body}})
	if r.Status != 201 {
		t.Fatalf("upload %s: %d %s", name, r.Status, r.Body)
	}
	return fmt.Sprint(filesOf(t, r)[0]["id"])
}

// article reads an article through the admin API with its relations and
// media populated.
func (f *relationFixture) article(t *testing.T, id string) map[string]any {
	t.Helper()
	return dataOf(t, f.s.Must(200, "GET",
		"/admin/content/api::article.article/"+id+"?populate=*", nil, f.token))
}

// idsIn lists the documentIds (or, with key "id", the file ids) of a
// populated value: one object, a list, or null.
func idsIn(v any, key string) []string {
	var items []any
	switch x := v.(type) {
	case []any:
		items = x
	case map[string]any:
		items = []any{x}
	}
	out := []string{}
	for _, it := range items {
		if m, ok := it.(map[string]any); ok {
			out = append(out, fmt.Sprint(m[key]))
		}
	}
	return out
}

// pickerChoices asks a picker's search and returns its choices and the
// parameters of more.
func pickerChoices(t *testing.T, b *panelBrowser, path string) ([]map[string]string, string) {
	t.Helper()
	p := b.get(path).must(t, 200, "")
	if ct := p.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s answered %s: %s", path, ct, panelExcerpt(p.body))
	}
	var out struct {
		Data []map[string]string `json:"data"`
		More string              `json:"more"`
	}
	if err := json.Unmarshal([]byte(p.body), &out); err != nil {
		t.Fatalf("%s: %v in %s", path, err, p.body)
	}
	return out.Data, out.More
}

func labels(choices []map[string]string) []string {
	out := []string{}
	for _, c := range choices {
		out = append(out, c["label"])
	}
	return out
}

func TestPanelBuilderAddsRelationAndMediaAttributes(t *testing.T) {
	f := relationTypes(t)
	attrs := func(uid string) map[string]any {
		r := f.s.Must(200, "GET", "/admin/content-types/"+uid, nil, f.token)
		sc, _ := dataOf(t, r)["schema"].(map[string]any)
		as, _ := sc["attributes"].(map[string]any)
		return as
	}
	art := attrs("api::article.article")
	for name, want := range map[string]map[string]any{
		"author": {"type": "relation", "relation": "manyToOne", "target": "api::person.person",
			"inversedBy": "articles"},
		"tags":    {"type": "relation", "relation": "manyWay", "target": "api::tag.tag"},
		"cover":   {"type": "media", "allowedTypes": []any{"images"}},
		"gallery": {"type": "media", "multiple": true},
	} {
		got, _ := art[name].(map[string]any)
		for k, v := range want {
			if fmt.Sprint(got[k]) != fmt.Sprint(v) {
				t.Errorf("article.%s.%s = %v, want %v (%v)", name, k, got[k], v, got)
			}
		}
	}
	other, _ := attrs("api::person.person")["articles"].(map[string]any)
	if other["mappedBy"] != "author" || other["relation"] != "oneToMany" {
		t.Errorf("the person's side of author: %v", other)
	}

	p := f.b.get("/admin/content-type-builder/api::article.article").must(t, 200, "")
	for _, want := range []string{`<option value="manyToOne" selected>`,
		`<option value="api::person.person" selected>`, `value="articles"`,
		`id="a4-multiple" name="a4.multiple" value="true" checked`,
		`name="a3.allowedTypes" value="images" checked`} {
		if !p.has(want) {
			t.Errorf("the builder does not show %s", want)
		}
	}
	p = f.b.get("/admin/content-type-builder/api::person.person").must(t, 200, "")
	if !p.has(`name="a1.mappedBy" value="author"`) {
		t.Errorf("the other side's mappedBy is not kept by the builder form: %s",
			panelExcerpt(p.body))
	}
}

func TestPanelRelationAndMediaPickersSaveWhatWasChosen(t *testing.T) {
	f := relationTypes(t)
	ada := f.create(t, "api::person.person", map[string]any{"name": "Ada Lovelace"})
	grace := f.create(t, "api::person.person", map[string]any{"name": "Grace Hopper"})
	tagGo := f.create(t, "api::tag.tag", map[string]any{"name": "Go"})
	tagRust := f.create(t, "api::tag.tag", map[string]any{"name": "Rust"})
	tagZig := f.create(t, "api::tag.tag", map[string]any{"name": "Zig"})
	png := f.upload(t, "cover.png", pngImage(t, 3, 2))
	txt := f.upload(t, "notes.txt", []byte("just words"))
	b := f.b

	// The relation search: the target's documents matching q, newest first.
	got, more := pickerChoices(t, b, peoplePage+"?picker=1&q=grace")
	if len(got) != 1 || got[0]["id"] != grace || got[0]["label"] != "Grace Hopper" || more != "" {
		t.Errorf("search for grace: %v more %q", got, more)
	}
	got, _ = pickerChoices(t, b, peoplePage+"?picker=1")
	if !slices.Equal(labels(got), []string{"Grace Hopper", "Ada Lovelace"}) {
		t.Errorf("search without text: %v", got)
	}
	// The media search keeps the allowed kinds and names.
	got, _ = pickerChoices(t, b, "/admin/media?picker=1&types=images")
	if len(got) != 1 || got[0]["id"] != png || !strings.HasPrefix(got[0]["thumb"], "/uploads/") {
		t.Errorf("images only: %v", got)
	}
	got, _ = pickerChoices(t, b, "/admin/media?picker=1&types=files,audios")
	if len(got) != 1 || got[0]["id"] != txt || got[0]["thumb"] != "" {
		t.Errorf("other files only: %v", got)
	}
	got, _ = pickerChoices(t, b, "/admin/media?picker=1&q=NOTES")
	if !slices.Equal(labels(got), []string{"notes.txt"}) {
		t.Errorf("files named like notes: %v", got)
	}

	form := b.get(articlesPage+"/create").must(t, 200, "")
	for _, want := range []string{
		`data-search="/admin/content-manager/api::person.person?picker=1"`,
		`data-search="/admin/media?picker=1&amp;types=images"`,
		`name="f.author"`, `name="f.gallery"`,
	} {
		if !form.has(want) {
			t.Errorf("the entry form lacks %s", want)
		}
	}

	// Posted as the script does: an empty value, then each chosen id.
	id := panelCreateEntry(t, b, url.Values{
		"f.title": {"Hello"}, "f.author": {"", ada}, "f.tags": {"", tagGo, tagRust},
		"f.cover": {"", png}, "f.gallery": {"", txt, png},
	}, "save")
	doc := f.article(t, id)
	if a := idsIn(doc["author"], "documentId"); !slices.Equal(a, []string{ada}) {
		t.Errorf("author %v, want %s", doc["author"], ada)
	}
	if tags := idsIn(doc["tags"], "documentId"); !slices.Equal(tags, []string{tagGo, tagRust}) {
		t.Errorf("tags %v", tags)
	}
	if c := idsIn(doc["cover"], "id"); !slices.Equal(c, []string{png}) {
		t.Errorf("cover %v", doc["cover"])
	}
	if g := idsIn(doc["gallery"], "id"); !slices.Equal(g, []string{txt, png}) {
		t.Errorf("gallery %v", g)
	}
	person := dataOf(t, f.s.Must(200, "GET",
		"/admin/content/api::person.person/"+ada+"?populate=articles", nil, f.token))
	if a := idsIn(person["articles"], "documentId"); !slices.Equal(a, []string{id}) {
		t.Errorf("Ada's articles %v, want the new one", person["articles"])
	}

	// The form shows what is chosen, with names and previews.
	p := b.get(articlesPage+"/"+id).must(t, 200, "")
	for _, want := range []string{`data-label="Ada Lovelace"`,
		`id="f-author" name="f.author" value="` + ada,
		`data-label="Go"`, `data-label="Rust"`, `name="f.tags" value="` + tagRust + `" checked`,
		`data-label="cover.png"`, `<img class="pick-thumb" src="/uploads/`,
		`data-label="notes.txt"`} {
		if !p.has(want) {
			t.Errorf("the entry page lacks %s", want)
		}
	}

	// Without the script: ids typed, boxes unticked.
	b.post(articlesPage+"/"+id, url.Values{"action": {"save"}, "f.author": {grace},
		"f.tags": {tagRust, tagZig + ", " + tagGo}, "f.cover": {" "}, "f.gallery": {""}}).
		must(t, 303, articlesPage+"/"+id)
	doc = f.article(t, id)
	if a := idsIn(doc["author"], "documentId"); !slices.Equal(a, []string{grace}) {
		t.Errorf("author after change %v", doc["author"])
	}
	tags := idsIn(doc["tags"], "documentId")
	if !slices.Equal(tags, []string{tagRust, tagZig, tagGo}) {
		t.Errorf("tags after change %v", tags)
	}
	if doc["cover"] != nil || len(idsIn(doc["gallery"], "id")) != 0 {
		t.Errorf("cover %v and gallery %v after removal", doc["cover"], doc["gallery"])
	}

	// Everything removed.
	b.post(articlesPage+"/"+id, url.Values{"action": {"save"}, "f.author": {""}, "f.tags": {""}}).
		must(t, 303, "")
	doc = f.article(t, id)
	if doc["author"] != nil || len(idsIn(doc["tags"], "documentId")) != 0 {
		t.Errorf("author %v and tags %v after removal", doc["author"], doc["tags"])
	}

	// A target that does not exist is refused beside its field.
	p = b.post(articlesPage+"/"+id, url.Values{"action": {"save"},
		"f.tags": {"", tagGo, "nope00000000000000000000"}}).must(t, 422, "")
	if !p.has(`id="f-tags-error"`) || !p.has(`data-label="Go"`) || !p.has("Not found") {
		t.Errorf("an unknown tag: %s", panelExcerpt(p.body))
	}

	// A form that cannot be saved comes back with its choices named.
	p = b.post(articlesPage+"/"+id, url.Values{"action": {"save"}, "f.author": {ada, grace},
		"f.tags": {"", tagZig}}).must(t, 422, "")
	for _, want := range []string{"Choose one entry only.", `data-label="Zig"`,
		`value="` + ada + ", " + grace + `"`} {
		if !p.has(want) {
			t.Errorf("the refused form lacks %s: %s", want, panelExcerpt(p.body))
		}
	}
}

func TestPanelPickerShowsAnAuthorOnlyItsOwnEntries(t *testing.T) {
	f := relationTypes(t)
	f.create(t, "api::tag.tag", map[string]any{"name": "Editors' tag"})
	_, err := f.s.Admin.CreateAdmin(context.Background(), admin.RegisterInput{
		Firstname: "Aude", Email: "author@example.com", Password: "an author password",
	}, admin.RoleAuthor)
	if err != nil {
		t.Fatal(err)
	}
	author := panelSignIn(t, f.s, "author@example.com", "an author password")
	author.get(tagsPage+"/create").must(t, 200, "")
	author.post(tagsPage, url.Values{"f.name": {"Author's tag"}, "action": {"save"}}).
		must(t, 303, tagsPage+"/")

	got, _ := pickerChoices(t, author, tagsPage+"?picker=1")
	if !slices.Equal(labels(got), []string{"Author's tag"}) {
		t.Errorf("an Author's tag picker offers %v", labels(got))
	}
	got, _ = pickerChoices(t, f.b, tagsPage+"?picker=1")
	if len(got) != 2 {
		t.Errorf("the Super Admin's tag picker offers %v", labels(got))
	}

	// Without a session the search is the sign-in page, not data.
	anon := newPanelBrowser(t, f.s)
	anon.get(tagsPage+"?picker=1").must(t, 303, "/admin/auth/sign-in")
	anon.get("/admin/media?picker=1").must(t, 303, "/admin/auth/sign-in")
}

func TestPanelRelationPickerPagesItsSearch(t *testing.T) {
	f := relationTypes(t)
	for i := range 12 {
		f.create(t, "api::tag.tag", map[string]any{"name": fmt.Sprintf("Tag %02d", i)})
	}
	first, more := pickerChoices(t, f.b, tagsPage+"?picker=1&q=tag")
	if len(first) != 10 || more != "page=2" {
		t.Fatalf("first page: %d choices, more %q", len(first), more)
	}
	second, more := pickerChoices(t, f.b, tagsPage+"?picker=1&q=tag&"+"page=2")
	if !slices.Equal(labels(second), []string{"Tag 01", "Tag 00"}) || more != "" {
		t.Errorf("second page: %v, more %q", labels(second), more)
	}
}
