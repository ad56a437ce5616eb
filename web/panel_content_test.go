package web_test

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/herald-cms/herald/web/webtest"
)

// panelTypeForm is the builder's form for a type with the given attribute
// rows (name, type, and options as form fields without the row prefix).
func panelTypeForm(singular, plural, display string, attrs ...map[string]string) url.Values {
	form := url.Values{
		"op": {"save"}, "kind": {"collectionType"}, "singularName": {singular},
		"pluralName": {plural}, "displayName": {display}, "draftAndPublish": {"true"},
		"attr-count": {panelItoa(len(attrs))},
	}
	for i, a := range attrs {
		for k, v := range a {
			form.Set("a"+panelItoa(i)+"."+k, v)
		}
	}
	return form
}

func panelItoa(n int) string { return strconv.Itoa(n) }

// panelArticleType is the article type of the panel tests, one attribute of
// each kind of input.
func panelArticleType() url.Values {
	return panelTypeForm("article", "articles", "Article",
		map[string]string{"name": "title", "type": "string", "required": "true", "maxLength": "80"},
		map[string]string{"name": "slug", "type": "uid", "targetField": "title"},
		map[string]string{"name": "body", "type": "richtext"},
		map[string]string{"name": "views", "type": "integer", "min": "0"},
		map[string]string{"name": "featured", "type": "boolean"},
		map[string]string{"name": "day", "type": "date"},
		map[string]string{"name": "at", "type": "time"},
		map[string]string{"name": "when", "type": "datetime"},
		map[string]string{"name": "category", "type": "enumeration", "enum": "news\ntech"},
		map[string]string{"name": "meta", "type": "json"},
	)
}

const articlesPage = "/admin/content-manager/api::article.article"

// panelEntry is a complete, valid article.
func panelEntry(title string) url.Values {
	return url.Values{
		"f.title": {title}, "f.slug": {""}, "f.body": {"# Hello\n\n**bold**"},
		"f.views": {"12"}, "f.featured": {"false", "true"}, "f.day": {"2025-01-31"},
		"f.at": {"09:30"}, "f.when": {"2025-01-31T12:30"}, "f.category": {"tech"},
		"f.meta": {`{"tags": ["a"]}`},
	}
}

var panelDocPath = regexp.MustCompile(`/api::article\.article/([a-z0-9]{24})$`)

// panelCreateEntry posts the create form and returns the new document's id.
func panelCreateEntry(t *testing.T, b *panelBrowser, fields url.Values, action string) string {
	t.Helper()
	b.get(articlesPage+"/create").must(t, 200, "")
	fields.Set("action", action)
	p := b.post(articlesPage, fields).must(t, 303, articlesPage+"/")
	m := panelDocPath.FindStringSubmatch(p.location)
	if m == nil {
		t.Fatalf("created entry at %q", p.location)
	}
	return m[1]
}

func TestPanelBuildsATypeAndEditsItsEntries(t *testing.T) {
	s := webtest.Start(t, webtest.Options{})
	b := panelRegister(t, s)

	b.get("/admin/content-type-builder/new").must(t, 200, "")
	b.post("/admin/content-type-builder", panelArticleType()).
		must(t, 303, "/admin/content-type-builder/api::article.article")
	edit := b.get("/admin/content-type-builder/api::article.article").must(t, 200, "")
	if !edit.has("Its API is /api/articles") || !edit.has(`value="title"`) {
		t.Fatalf("builder page after save: %s", panelExcerpt(edit.body))
	}

	form := b.get(articlesPage+"/create").must(t, 200, "")
	for _, want := range []string{
		`type="number"`, `type="checkbox"`, `type="date"`, `type="time"`,
		`type="datetime-local"`, `<select id="f-category"`, `<textarea id="f-body"`,
		`<textarea id="f-meta"`, `value="publish"`, "Preview",
	} {
		if !form.has(want) {
			t.Errorf("entry form lacks %s", want)
		}
	}

	bad := panelEntry("Broken")
	bad.Set("f.meta", "{not json")
	bad.Set("action", "save")
	p := b.post(articlesPage, bad).must(t, 422, "")
	if !p.has(`id="f-meta-error"`) || !p.has("This is not valid JSON") || !p.has("{not json") {
		t.Errorf("bad JSON is not shown beside its field: %s", panelExcerpt(p.body))
	}
	bad = panelEntry("Broken")
	bad.Set("f.views", "-3")
	bad.Set("action", "save")
	p = b.post(articlesPage, bad).must(t, 422, "")
	if !p.has(`id="f-views-error"`) {
		t.Errorf("a value under min is not shown beside its field: %s", panelExcerpt(p.body))
	}
	missing := panelEntry("")
	missing.Set("action", "publish")
	p = b.post(articlesPage, missing).must(t, 422, "")
	if !p.has(`id="f-title-error"`) {
		t.Errorf("publishing without the required title: %s", panelExcerpt(p.body))
	}

	id := panelCreateEntry(t, b, panelEntry("Hello world"), "save")
	p = b.get(articlesPage+"/"+id).must(t, 200, "")
	for _, want := range []string{
		"Draft saved.", `badge-draft`, `value="Hello world"`, `value="hello-world"`,
		`value="2025-01-31T12:30:00"`, `value="09:30:00"`, `<option value="tech" selected>`,
		`<strong>bold</strong>`, "&#34;tags&#34;",
	} {
		if !p.has(want) {
			t.Errorf("entry page lacks %s", want)
		}
	}

	publish := panelEntry("Hello world")
	publish.Set("action", "publish")
	b.post(articlesPage+"/"+id, publish).must(t, 303, articlesPage+"/"+id)
	if p := b.get(articlesPage + "/" + id); !p.has("badge-published") || !p.has("Unpublish") {
		t.Fatalf("after publish: %s", panelExcerpt(p.body))
	}

	change := panelEntry("Hello again")
	change.Set("action", "save")
	b.post(articlesPage+"/"+id, change).must(t, 303, "")
	if p := b.get(articlesPage + "/" + id); !p.has("badge-modified") || !p.has("Discard changes") {
		t.Fatalf("after a change: %s", panelExcerpt(p.body))
	}
	if p := b.get(articlesPage + "?status=modified"); !p.has("Hello again") {
		t.Errorf("modified filter misses the entry: %s", panelExcerpt(p.body))
	}
	if p := b.get(articlesPage + "?status=published"); p.has("Hello again") {
		t.Errorf("published filter shows a modified entry")
	}

	b.post(articlesPage+"/"+id+"/discard", nil).must(t, 303, articlesPage+"/"+id)
	if p := b.get(articlesPage + "/" + id); !p.has("badge-published") || !p.has(`value="Hello world"`) {
		t.Fatalf("after discard: %s", panelExcerpt(p.body))
	}
	b.post(articlesPage+"/"+id+"/unpublish", nil).must(t, 303, articlesPage+"/"+id)
	if p := b.get(articlesPage + "/" + id); !p.has("badge-draft") {
		t.Fatalf("after unpublish: %s", panelExcerpt(p.body))
	}
	b.post(articlesPage+"/"+id+"/unpublish", nil).must(t, 303, articlesPage+"/"+id)
	if p := b.get(articlesPage + "/" + id); !p.has("flash-error") || !p.has("is not published") {
		t.Fatalf("unpublishing a draft: %s", panelExcerpt(p.body))
	}

	b.post(articlesPage+"/"+id+"/delete", nil).must(t, 303, articlesPage)
	if p := b.get(articlesPage); !p.has("Entry deleted.") || !p.has("No entries found.") {
		t.Fatalf("after delete: %s", panelExcerpt(p.body))
	}
	b.get(articlesPage+"/"+id).must(t, 404, "")
}

func TestPanelListSearchesSortsFiltersAndPages(t *testing.T) {
	s := webtest.Start(t, webtest.Options{})
	b := panelRegister(t, s)
	b.get("/admin/content-type-builder/new").must(t, 200, "")
	b.post("/admin/content-type-builder", panelArticleType()).must(t, 303, "")

	titles := []string{"Banana", "Apple", "Cherry"}
	for i, title := range titles {
		action := "save"
		if i == 1 {
			action = "publish"
		}
		panelCreateEntry(t, b, url.Values{"f.title": {title}}, action)
	}
	for i := 0; i < 21; i++ {
		panelCreateEntry(t, b, url.Values{"f.title": {"Filler " + panelItoa(i)}}, "save")
	}

	order := func(p *panelPage, words ...string) bool {
		last := -1
		for _, w := range words {
			i := strings.Index(p.body, ">"+w+"<")
			if i < last || i < 0 {
				return false
			}
			last = i
		}
		return true
	}
	p := b.get(articlesPage+"?sort=title:asc").must(t, 200, "")
	if !order(p, "Apple", "Banana", "Cherry") || !p.has(`aria-sort="ascending"`) {
		t.Errorf("ascending sort: %s", panelExcerpt(p.body))
	}
	p = b.get(articlesPage+"?sort=title:desc&page=2").must(t, 200, "")
	if !order(p, "Cherry", "Banana", "Apple") || !p.has("24 entries") {
		t.Errorf("descending sort, page 2: %s", panelExcerpt(p.body))
	}
	p = b.get(articlesPage+"?q=an").must(t, 200, "")
	if !p.has(">Banana<") || p.has(">Apple<") {
		t.Errorf("search: %s", panelExcerpt(p.body))
	}
	p = b.get(articlesPage+"?status=published").must(t, 200, "")
	if !p.has(">Apple<") || p.has(">Banana<") || !p.has("badge-published") {
		t.Errorf("published filter: %s", panelExcerpt(p.body))
	}
	p = b.get(articlesPage+"?status=draft&page=2").must(t, 200, "")
	if !p.has("23 entries · page 2 of 2") {
		t.Errorf("draft filter, page 2: %s", panelExcerpt(p.body))
	}
	p = b.get(articlesPage).must(t, 200, "")
	if !p.has(`rel="next"`) || !p.has("page 1 of 2") {
		t.Errorf("first page has no way to the next: %s", panelExcerpt(p.body))
	}
}

func TestPanelSingleTypeOpensOnItsForm(t *testing.T) {
	s := webtest.Start(t, webtest.Options{})
	b := panelRegister(t, s)
	b.get("/admin/content-type-builder/new").must(t, 200, "")
	form := panelTypeForm("homepage", "homepages", "Homepage",
		map[string]string{"name": "headline", "type": "string"})
	form.Set("kind", "singleType")
	form.Del("draftAndPublish")
	b.post("/admin/content-type-builder", form).must(t, 303, "")

	const home = "/admin/content-manager/api::homepage.homepage"
	p := b.get(home).must(t, 200, "")
	if !p.has(`name="f.headline"`) || p.has("Create new entry") {
		t.Fatalf("single type page: %s", panelExcerpt(p.body))
	}
	b.post(home, url.Values{"f.headline": {"Welcome"}, "action": {"save"}}).must(t, 303, home)
	b.get(home).must(t, 200, "")
	b.post(home, url.Values{"f.headline": {"Welcome back"}, "action": {"save"}}).must(t, 303, home)
	if p := b.get(home); !p.has(`value="Welcome back"`) || !p.has("Saved.") {
		t.Fatalf("single type after two saves: %s", panelExcerpt(p.body))
	}
}

func TestPanelImportsAStrapiSchema(t *testing.T) {
	s := webtest.Start(t, webtest.Options{})
	b := panelRegister(t, s)
	const strapi = `{"kind": "collectionType", "collectionName": "posts",
		"info": {"singularName": "post", "pluralName": "posts", "displayName": "Post"},
		"options": {"draftAndPublish": true}, "pluginOptions": {},
		"attributes": {"title": {"type": "string", "configurable": false}}}`

	b.get("/admin/content-type-builder/import").must(t, 200, "")
	bad := b.postMultipart("/admin/content-type-builder/import", url.Values{}, "file", "schema.json",
		`{"kind": "collectionType", "info": {"singularName": "photo", "pluralName": "photos"},
		"attributes": {"cover": {"type": "dynamiczone"}}}`).must(t, 422, "")
	if !bad.has("type dynamiczone is not supported") {
		t.Errorf("an unsupported type is not named: %s", panelExcerpt(bad.body))
	}
	b.postMultipart("/admin/content-type-builder/import", url.Values{}, "file", "schema.json", strapi).
		must(t, 303, "/admin/content-type-builder/api::post.post")
	if p := b.get("/admin/content-type-builder/api::post.post"); !p.has("Imported Post") {
		t.Errorf("after import: %s", panelExcerpt(p.body))
	}

	wrapped := `{"schema": ` + strings.Replace(strapi, `"post"`, `"note"`, 1) + `}`
	wrapped = strings.Replace(wrapped, `"posts"`, `"notes"`, 2)
	wrapped = strings.Replace(wrapped, `"Post"`, `"Note"`, 1)
	b.get("/admin/content-type-builder/import").must(t, 200, "")
	b.postMultipart("/admin/content-type-builder/import", url.Values{"schema": {wrapped}},
		"file", "empty.json", "").must(t, 303, "/admin/content-type-builder/api::note.note")
}
