package content_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/content/contenttest"
	"github.com/herald-cms/herald/content/schema"
)

const (
	companySchema = `{"info":{"singularName":"company","pluralName":"companies"},
		"options":{"draftAndPublish":false},"attributes":{"name":{"type":"string"}}}`
	authorSchema = `{"info":{"singularName":"author","pluralName":"authors"},
		"options":{"draftAndPublish":true},"attributes":{"name":{"type":"string"},
		"company":{"type":"relation","relation":"manyToOne","target":"api::company.company"}}}`
	tagSchema = `{"info":{"singularName":"tag","pluralName":"tags"},
		"options":{"draftAndPublish":true},"attributes":{"slug":{"type":"string"}}}`
	// blogArticleSchema owns both relations: author (many articles to one
	// author, seen from the author as articles) and tags (one-way).
	blogArticleSchema = `{"info":{"singularName":"article","pluralName":"articles"},
		"options":{"draftAndPublish":true},"attributes":{"title":{"type":"string"},
		"author":{"type":"relation","relation":"manyToOne","target":"api::author.author",
			"inversedBy":"articles"},
		"tags":{"type":"relation","relation":"manyWay","target":"api::tag.tag"},
		"cover":{"type":"media","allowedTypes":["images"]},
		"gallery":{"type":"media","multiple":true}}}`
)

// blog is a service with companies, authors, tags and articles.
type blog struct {
	svc                           *content.Service
	rec                           *sink
	db                            *content.DB
	company, author, tag, article *content.Type
	actor                         content.Actor
	ctx                           context.Context
}

func newBlog(t testing.TB, db *content.DB) *blog {
	t.Helper()
	svc, rec := newService(t, db)
	b := &blog{svc: svc, rec: rec, db: db, ctx: context.Background(),
		actor: content.Actor{Kind: content.ActorAdmin, ID: 1, Policy: content.AllowAll}}
	b.company = mustType(t, svc, companySchema)
	b.author = mustType(t, svc, authorSchema)
	b.tag = mustType(t, svc, tagSchema)
	b.article = mustType(t, svc, blogArticleSchema)
	// The article's inversedBy added the other side to the author.
	b.author, _ = svc.TypeByUID("api::author.author")
	return b
}

// create makes a document and returns its documentId.
func (b *blog) create(t testing.TB, typ *content.Type, in map[string]any, publish bool) string {
	t.Helper()
	doc, err := b.svc.Create(b.ctx, b.actor, typ, in, content.WriteOptions{Publish: publish})
	if err != nil {
		t.Fatalf("create %s %v: %v", typ.UID, in, err)
	}
	var d struct{ DocumentID string }
	json.Unmarshal(doc, &d)
	return d.DocumentID
}

func (b *blog) update(t *testing.T, typ *content.Type, id string, in map[string]any,
	publish bool) {
	t.Helper()
	_, err := b.svc.Update(b.ctx, b.actor, typ, id, in, content.WriteOptions{Publish: publish})
	if err != nil {
		t.Fatalf("update %s %v: %v", typ.UID, in, err)
	}
}

// get reads one document with a query and decodes it.
func (b *blog) get(t *testing.T, typ *content.Type, id, q string) map[string]any {
	t.Helper()
	raw, err := b.svc.FindOne(b.ctx, b.actor, typ, id, q, content.ReadOptions{})
	if err != nil {
		t.Fatalf("get %s %s?%s: %v", typ.UID, id, q, err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// list reads documents with a query and returns them decoded.
func (b *blog) list(t *testing.T, typ *content.Type, q string) []map[string]any {
	t.Helper()
	l, err := b.svc.Find(b.ctx, b.actor, typ, q, content.ReadOptions{})
	if err != nil {
		t.Fatalf("find %s?%s: %v", typ.UID, q, err)
	}
	out := make([]map[string]any, len(l.Data))
	for i, d := range l.Data {
		json.Unmarshal(d, &out[i])
	}
	return out
}

// field returns the values of key in each of a list of objects.
func field(v any, key string) []string {
	list, ok := v.([]any)
	if !ok {
		if m, ok := v.(map[string]any); ok {
			list = []any{m}
		}
	}
	out := []string{}
	for _, it := range list {
		if m, ok := it.(map[string]any); ok {
			out = append(out, fmt.Sprint(m[key]))
		}
	}
	return out
}

func wantField(t *testing.T, what string, v any, key string, want ...string) {
	t.Helper()
	got := field(v, key)
	if !slices.Equal(got, want) {
		t.Fatalf("%s: %s = %v, want %v", what, key, got, want)
	}
}

func TestRelationTypesKeepBothSides(t *testing.T) {
	contenttest.Dialects(t, func(t *testing.T, db *content.DB) {
		b := newBlog(t, db)
		other := b.author.Schema.Attributes.Get("articles")
		if other == nil || other.Relation != schema.OneToMany || other.MappedBy != "author" ||
			other.Target != b.article.UID {
			t.Fatalf("the other side was not added to author: %+v", other)
		}
		bad := []struct{ name, raw, want string }{
			{"missing target", `{"info":{"singularName":"x","pluralName":"xs"},"attributes":{
				"y":{"type":"relation","relation":"oneWay","target":"api::nope.nope"}}}`,
				"does not exist"},
			{"wrong other side", `{"info":{"singularName":"x","pluralName":"xs"},"attributes":{
				"y":{"type":"relation","relation":"oneToMany","target":"api::tag.tag",
				"mappedBy":"slug"}}}`, "must be its other side"},
			{"no other side", `{"info":{"singularName":"x","pluralName":"xs"},"attributes":{
				"y":{"type":"relation","relation":"oneToMany","target":"api::tag.tag",
				"mappedBy":"nothing"}}}`, "no attribute nothing"},
		}
		for _, tt := range bad {
			sc, err := schema.Parse([]byte(tt.raw))
			if err != nil {
				t.Fatal(err)
			}
			_, err = b.svc.CreateType(b.ctx, sc)
			if content.ErrorCodeOf(err) != content.EINVALID || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("%s: %v, want EINVALID containing %q", tt.name, err, tt.want)
			}
		}
		if _, err := b.svc.DeleteType(b.ctx, b.tag.UID, true); content.ErrorCodeOf(err) != content.ECONFLICT {
			t.Fatalf("deleting a relation's target: %v, want ECONFLICT", err)
		}
		// Dropping the owning side while the other side remains is refused.
		sc, _ := schema.Parse([]byte(strings.Replace(blogArticleSchema, `"inversedBy":"articles"`, `"private":false`, 1)))
		if _, err := b.svc.UpdateType(b.ctx, b.article.UID, sc); content.ErrorCodeOf(err) != content.EINVALID {
			t.Fatalf("dropping inversedBy under a mappedBy: %v", err)
		}
	})
}

func TestRelationWritesFromBothSides(t *testing.T) {
	contenttest.Dialects(t, func(t *testing.T, db *content.DB) {
		b := newBlog(t, db)
		ann := b.create(t, b.author, map[string]any{"name": "Ann"}, true)
		bob := b.create(t, b.author, map[string]any{"name": "Bob"}, true)
		go1 := b.create(t, b.tag, map[string]any{"slug": "go"}, true)
		db1 := b.create(t, b.tag, map[string]any{"slug": "db"}, true)

		a1 := b.create(t, b.article, map[string]any{"title": "one", "author": ann,
			"tags": []any{go1, map[string]any{"documentId": db1}}}, true)
		a2 := b.create(t, b.article, map[string]any{"title": "two",
			"author": map[string]any{"documentId": ann}}, true)

		got := b.get(t, b.article, a1, "populate=*")
		wantField(t, "article one author", got["author"], "name", "Ann")
		wantField(t, "article one tags", got["tags"], "slug", "go", "db")
		wantField(t, "Ann's articles", b.get(t, b.author, ann, "populate=articles")["articles"],
			"title", "one", "two")
		if _, ok := b.get(t, b.article, a1, "")["author"]; ok {
			t.Fatal("an unpopulated relation is shown")
		}

		// connect / disconnect on a list keep the order.
		b.update(t, b.article, a1, map[string]any{"tags": map[string]any{
			"disconnect": []any{go1}, "connect": []any{go1}}}, true)
		wantField(t, "tags after reconnect", b.get(t, b.article, a1, "populate=tags")["tags"],
			"slug", "db", "go")
		b.update(t, b.article, a1, map[string]any{"tags": map[string]any{"connect": []any{
			map[string]any{"documentId": db1, "position": map[string]any{"after": go1}}}}}, true)
		wantField(t, "tags after a positioned connect", b.get(t, b.article, a1,
			"populate=tags")["tags"], "slug", "go", "db")
		b.update(t, b.article, a1, map[string]any{"tags": map[string]any{"connect": []any{
			map[string]any{"documentId": db1, "position": map[string]any{"start": true}}}}}, true)
		wantField(t, "tags after connect at the start", b.get(t, b.article, a1,
			"populate=tags")["tags"], "slug", "db", "go")
		b.update(t, b.article, a1, map[string]any{"tags": map[string]any{"set": []any{}}}, true)
		wantField(t, "tags after set []", b.get(t, b.article, a1, "populate=tags")["tags"], "slug")

		// From the other side: Bob takes article two; Ann keeps one.
		b.update(t, b.author, bob, map[string]any{"articles": map[string]any{
			"connect": []any{a2}}}, true)
		wantField(t, "Bob's articles", b.get(t, b.author, bob, "populate=articles")["articles"],
			"title", "two")
		wantField(t, "Ann's articles", b.get(t, b.author, ann, "populate=articles")["articles"],
			"title", "one")
		wantField(t, "article two's author", b.get(t, b.article, a2, "populate=author")["author"],
			"name", "Bob")
		// set from the other side replaces the whole list.
		b.update(t, b.author, ann, map[string]any{"articles": []any{a2}}, true)
		wantField(t, "Ann after set", b.get(t, b.author, ann, "populate=articles")["articles"],
			"title", "two")
		if a := b.get(t, b.article, a1, "populate=author")["author"]; a != nil {
			t.Fatalf("article one still has author %v", a)
		}
		// Deleting an author removes the links to it.
		if err := b.svc.Delete(b.ctx, b.actor, b.author, ann); err != nil {
			t.Fatal(err)
		}
		if a := b.get(t, b.article, a2, "populate=author")["author"]; a != nil {
			t.Fatalf("a deleted author is still linked: %v", a)
		}

		// Bad targets are 400s naming the attribute, and store nothing.
		for _, in := range []map[string]any{
			{"author": "nosuchdocumentid"},
			{"author": []any{bob, ann}},
			{"author": 12},
			{"tags": map[string]any{"add": []any{go1}}},
		} {
			_, err := b.svc.Update(b.ctx, b.actor, b.article, a2, in, content.WriteOptions{Publish: true})
			var e *content.Error
			if content.ErrorCodeOf(err) != content.EINVALID || !asError(err, &e) ||
				!strings.Contains(e.Message, strings.Join(keys(in), "")) {
				t.Fatalf("%v: %v, want EINVALID naming the attribute", in, err)
			}
		}
	})
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func asError(err error, e **content.Error) bool {
	x, ok := err.(*content.Error)
	*e = x
	return ok
}

func TestRelationsFollowDraftAndPublish(t *testing.T) {
	contenttest.Dialects(t, func(t *testing.T, db *content.DB) {
		b := newBlog(t, db)
		ann := b.create(t, b.author, map[string]any{"name": "Ann"}, true)
		draftOnly := b.create(t, b.author, map[string]any{"name": "Draft"}, false)
		a1 := b.create(t, b.article, map[string]any{"title": "one", "author": ann}, true)

		// A draft change of the relation is not published until published.
		b.update(t, b.article, a1, map[string]any{"author": draftOnly}, false)
		wantField(t, "published", b.get(t, b.article, a1, "populate=author")["author"], "name", "Ann")
		wantField(t, "draft", b.get(t, b.article, a1, "status=draft&populate=author")["author"],
			"name", "Draft")
		// Published, it links an author that has no published version:
		// the published article shows none, the draft shows it.
		if _, err := b.svc.Publish(b.ctx, b.actor, b.article, a1, content.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		if a := b.get(t, b.article, a1, "populate=author")["author"]; a != nil {
			t.Fatalf("published article shows a draft author: %v", a)
		}
		if _, err := b.svc.Publish(b.ctx, b.actor, b.author, draftOnly, content.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		wantField(t, "after the author is published",
			b.get(t, b.article, a1, "populate=author")["author"], "name", "Draft")
		// Discarding returns the draft's links to the published ones.
		b.update(t, b.article, a1, map[string]any{"author": ann}, false)
		if _, err := b.svc.DiscardDraft(b.ctx, b.actor, b.article, a1, content.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		wantField(t, "discarded", b.get(t, b.article, a1, "status=draft&populate=author")["author"],
			"name", "Draft")
		// Unpublishing the article hides it from the author's published side.
		if _, err := b.svc.Unpublish(b.ctx, b.actor, b.article, a1, content.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		wantField(t, "unpublished", b.get(t, b.author, draftOnly, "populate=articles")["articles"],
			"title")
		wantField(t, "its draft", b.get(t, b.author, draftOnly, "status=draft&populate=articles")["articles"],
			"title", "one")
	})
}

func TestOneToOneTakesTheTargetFromItsOtherOwner(t *testing.T) {
	contenttest.Dialects(t, func(t *testing.T, db *content.DB) {
		svc, _ := newService(t, db)
		ctx := context.Background()
		actor := content.Actor{Kind: content.ActorSystem}
		mustType(t, svc, `{"info":{"singularName":"seat","pluralName":"seats"},
			"options":{"draftAndPublish":false},"attributes":{"label":{"type":"string"}}}`)
		person := mustType(t, svc, `{"info":{"singularName":"person","pluralName":"people"},
			"options":{"draftAndPublish":false},"attributes":{"name":{"type":"string"},
			"seat":{"type":"relation","relation":"oneToOne","target":"api::seat.seat",
			"inversedBy":"holder"}}}`)
		seatType, _ := svc.TypeByUID("api::seat.seat")
		b := &blog{svc: svc, ctx: ctx, actor: actor}
		s1 := b.create(t, seatType, map[string]any{"label": "1A"}, false)
		p1 := b.create(t, person, map[string]any{"name": "P1", "seat": s1}, false)
		p2 := b.create(t, person, map[string]any{"name": "P2", "seat": s1}, false)
		if s := b.get(t, person, p1, "populate=seat")["seat"]; s != nil {
			t.Fatalf("P1 keeps the seat P2 took: %v", s)
		}
		wantField(t, "P2's seat", b.get(t, person, p2, "populate=seat")["seat"], "label", "1A")
		wantField(t, "seat holder", b.get(t, seatType, s1, "populate=holder")["holder"], "name", "P2")
		// From the seat's side.
		b.update(t, seatType, s1, map[string]any{"holder": p1}, false)
		wantField(t, "P1's seat", b.get(t, person, p1, "populate=seat")["seat"], "label", "1A")
		if s := b.get(t, person, p2, "populate=seat")["seat"]; s != nil {
			t.Fatalf("P2 keeps the seat given to P1: %v", s)
		}
	})
}

func TestPopulateShapesAndFiltersAcrossRelations(t *testing.T) {
	contenttest.Dialects(t, func(t *testing.T, db *content.DB) {
		b := newBlog(t, db)
		acme := b.create(t, b.company, map[string]any{"name": "Acme"}, false)
		ann := b.create(t, b.author, map[string]any{"name": "Ann", "company": acme}, true)
		bob := b.create(t, b.author, map[string]any{"name": "Bob"}, true)
		tags := map[string]string{}
		for _, s := range []string{"go", "db", "web"} {
			tags[s] = b.create(t, b.tag, map[string]any{"slug": s}, true)
		}
		b.create(t, b.article, map[string]any{"title": "one", "author": ann,
			"tags": []any{tags["go"], tags["db"]}}, true)
		b.create(t, b.article, map[string]any{"title": "two", "author": bob,
			"tags": []any{tags["web"]}}, true)
		b.create(t, b.article, map[string]any{"title": "three"}, true)

		titles := func(q string) []string {
			var out []string
			for _, d := range b.list(t, b.article, q+"&sort=title") {
				out = append(out, d["title"].(string))
			}
			return out
		}
		for _, tt := range []struct {
			q    string
			want []string
		}{
			{"filters[author][name][$eq]=Ann", []string{"one"}},
			{"filters[author][company][name][$eq]=Acme", []string{"one"}},
			{"filters[tags][slug][$in][0]=web&filters[tags][slug][$in][1]=db", []string{"one", "two"}},
			{"filters[author][$null]=true", []string{"three"}},
			{"filters[$or][0][author][name][$eq]=Bob&filters[$or][1][tags][slug][$eq]=go",
				[]string{"one", "two"}},
		} {
			if got := titles(tt.q); !slices.Equal(got, tt.want) {
				t.Fatalf("%s: %v, want %v", tt.q, got, tt.want)
			}
		}
		// From the other side.
		var names []string
		for _, d := range b.list(t, b.author, "filters[articles][title][$eq]=two") {
			names = append(names, d["name"].(string))
		}
		if !slices.Equal(names, []string{"Bob"}) {
			t.Fatalf("authors of two: %v", names)
		}

		// Nested populate with fields, sort and filters inside.
		docs := b.list(t, b.article, "sort=title&populate[author][fields][0]=name"+
			"&populate[author][populate][company]=true"+
			"&populate[tags][sort]=slug:desc&populate[tags][filters][slug][$ne]=db")
		one := docs[0]
		author := one["author"].(map[string]any)
		if _, ok := author["createdAt"]; ok || author["name"] != "Ann" {
			t.Fatalf("author with fields=name: %v", author)
		}
		wantField(t, "nested company", author["company"], "name", "Acme")
		wantField(t, "filtered, sorted tags", one["tags"], "slug", "go")
		wantField(t, "three's tags", docs[1]["tags"], "slug")
		if docs[1]["author"] != nil {
			t.Fatalf("three's author: %v", docs[1]["author"])
		}
		for _, q := range []string{"populate=nothing", "populate=title",
			"populate[author][fields][0]=nothing", "filters[author][nothing][$eq]=x"} {
			if _, err := b.svc.Find(b.ctx, b.actor, b.article, q, content.ReadOptions{}); content.ErrorCodeOf(err) != content.EINVALID {
				t.Fatalf("%s: %v, want EINVALID", q, err)
			}
		}
	})
}

func TestPopulateCostsAFixedNumberOfQueries(t *testing.T) {
	contenttest.Dialects(t, func(t *testing.T, db *content.DB) {
		b := newBlog(t, db)
		authors := make([]string, 5)
		for i := range authors {
			authors[i] = b.create(t, b.author, map[string]any{"name": fmt.Sprint("a", i)}, true)
		}
		tag := b.create(t, b.tag, map[string]any{"slug": "t"}, true)
		count := func(n int) int {
			var queries int
			content.SetQueryHook(b.svc, func(string) { queries++ })
			defer content.SetQueryHook(b.svc, nil)
			q := fmt.Sprintf("pagination[pageSize]=%d&pagination[withCount]=false"+
				"&populate[author][populate]=articles&populate[tags]=true", n)
			if got := len(b.list(t, b.article, q)); got != n {
				t.Fatalf("listed %d, want %d", got, n)
			}
			return queries
		}
		for i := 0; i < 25; i++ {
			b.create(t, b.article, map[string]any{"title": fmt.Sprint("t", i),
				"author": authors[i%5], "tags": []any{tag}}, true)
		}
		few, many := count(2), count(25)
		// One for the page, one per populated attribute and level.
		if few != 4 || many != 4 {
			t.Fatalf("queries for 2 documents: %d, for 25: %d; want 4 each", few, many)
		}
	})
}

func TestMediaAttributes(t *testing.T) {
	contenttest.Dialects(t, func(t *testing.T, db *content.DB) {
		b := newBlog(t, db)
		png := insertFile(t, db, "cover.png", "image/png")
		pdf := insertFile(t, db, "doc.pdf", "application/pdf")
		a := b.create(t, b.article, map[string]any{"title": "m", "cover": png,
			"gallery": []any{pdf, map[string]any{"id": png}}}, true)
		got := b.get(t, b.article, a, "populate=*")
		wantField(t, "cover", got["cover"], "name", "cover.png")
		wantField(t, "gallery", got["gallery"], "mime", "application/pdf", "image/png")
		if u, _ := got["cover"].(map[string]any)["url"].(string); !strings.HasPrefix(u, "/uploads/") {
			t.Fatalf("cover url %q", u)
		}
		fields := b.get(t, b.article, a, "populate[cover][fields][0]=url")["cover"].(map[string]any)
		if _, ok := fields["name"]; ok || fields["url"] == nil {
			t.Fatalf("cover with fields=url: %v", fields)
		}
		_, err := b.svc.Update(b.ctx, b.actor, b.article, a, map[string]any{"cover": pdf},
			content.WriteOptions{Publish: true})
		if content.ErrorCodeOf(err) != content.EINVALID || !strings.Contains(err.Error(), "images") {
			t.Fatalf("a PDF as an image-only cover: %v", err)
		}
		_, err = b.svc.Update(b.ctx, b.actor, b.article, a, map[string]any{"cover": 99999},
			content.WriteOptions{Publish: true})
		if content.ErrorCodeOf(err) != content.EINVALID {
			t.Fatalf("a missing file: %v", err)
		}
		b.update(t, b.article, a, map[string]any{"cover": nil}, true)
		if c := b.get(t, b.article, a, "populate=cover")["cover"]; c != nil {
			t.Fatalf("cleared cover: %v", c)
		}
		// Deleting a file removes it from the entries that show it.
		if err := db.Write.Exec("DELETE FROM upload_files WHERE id = ?", pdf).Error; err != nil {
			t.Fatal(err)
		}
		wantField(t, "gallery after delete", b.get(t, b.article, a, "populate=gallery")["gallery"],
			"name", "cover.png")
	})
}

// insertFile adds a media library record (no bytes) and returns its id.
func insertFile(t *testing.T, db *content.DB, name, mime string) int64 {
	t.Helper()
	now := time.Now().UTC()
	row := content.FileRow{DocumentID: content.NewDocumentID(), Name: name, Hash: content.NewDocumentID(),
		Ext: name[strings.LastIndexByte(name, '.'):], Mime: mime, Size: 1000, CreatedAt: now,
		UpdatedAt: now}
	if err := db.Write.Create(&row).Error; err != nil {
		t.Fatal(err)
	}
	return row.ID
}

func TestEntryEventsCarryLinksOneLevelDeep(t *testing.T) {
	contenttest.Dialects(t, func(t *testing.T, db *content.DB) {
		b := newBlog(t, db)
		acme := b.create(t, b.company, map[string]any{"name": "Acme"}, false)
		ann := b.create(t, b.author, map[string]any{"name": "Ann", "company": acme}, true)
		png := insertFile(t, db, "c.png", "image/png")
		b.rec.take()
		b.create(t, b.article, map[string]any{"title": "e", "author": ann, "cover": png}, true)
		evs := b.rec.take()
		sameNames(t, evs, content.EventCreate, content.EventPublish)
		for _, e := range evs {
			entry := entryOf(t, e)
			author, _ := entry["author"].(map[string]any)
			if author["name"] != "Ann" {
				t.Fatalf("%s carries author %v", e.Name, entry["author"])
			}
			if _, deeper := author["company"]; deeper {
				t.Fatalf("%s goes deeper than one level: %v", e.Name, author)
			}
			wantField(t, e.Name+" cover", entry["cover"], "name", "c.png")
			if tags, ok := entry["tags"].([]any); !ok || len(tags) != 0 {
				t.Fatalf("%s tags %v, want []", e.Name, entry["tags"])
			}
		}
	})
}
