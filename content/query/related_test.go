package query_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/content/contenttest"
	"github.com/herald-cms/herald/content/query"
	"github.com/herald-cms/herald/content/schema"
)

const (
	authorUID  = "api::author.author"
	companyUID = "api::company.company"
	tagUID     = "api::tag.tag"
)

// linkSchemas are four types linked every way the contract allows:
//
//	article (draft and publish): author manyToOne author inversedBy
//	  articles, tags manyToMany tag (one-way), cover and gallery media,
//	  reviewer a private relation, ghost a relation to a missing type;
//	author (draft and publish): articles oneToMany mappedBy author,
//	  company manyToOne company (one-way), avatar media, a private secret;
//	company, tag: no draft and publish.
func linkSchemas() map[string]*schema.Schema {
	attr := func(name, typ string) *schema.Attribute {
		return &schema.Attribute{Name: name, Type: typ}
	}
	rel := func(name, kind, target string) *schema.Attribute {
		return &schema.Attribute{Name: name, Type: schema.TypeRelation, Relation: kind,
			Target: target}
	}
	typ := func(singular string, dp bool, attrs ...*schema.Attribute) *schema.Schema {
		return &schema.Schema{
			Kind:    schema.KindCollection,
			Info:    schema.Info{SingularName: singular, PluralName: singular + "s"},
			Options: schema.Options{DraftAndPublish: dp}, Attributes: attrs,
		}
	}
	author := rel("author", schema.ManyToOne, authorUID)
	author.InversedBy = "articles"
	reviewer := rel("reviewer", schema.ManyToOne, authorUID)
	reviewer.Private = true
	gallery := attr("gallery", schema.TypeMedia)
	gallery.Multiple = true
	articles := rel("articles", schema.OneToMany, articleUID)
	articles.MappedBy = "author"
	secret := attr("secret", schema.TypeString)
	secret.Private = true
	out := map[string]*schema.Schema{}
	for _, s := range []*schema.Schema{
		typ("article", true, attr("title", schema.TypeString), attr("views", schema.TypeInteger),
			author, rel("tags", schema.ManyToMany, tagUID), attr("cover", schema.TypeMedia),
			gallery, reviewer, rel("ghost", schema.ManyToOne, "api::ghost.ghost")),
		typ("author", true, attr("name", schema.TypeString), attr("email", schema.TypeEmail),
			secret, articles, rel("company", schema.ManyToOne, companyUID),
			attr("avatar", schema.TypeMedia)),
		typ("company", false, attr("name", schema.TypeString), attr("city", schema.TypeString)),
		typ("tag", false, attr("slug", schema.TypeUID), attr("name", schema.TypeString)),
	} {
		out[s.UID()] = s
	}
	return out
}

// linkOptions resolves targets among linkSchemas.
func linkOptions(schemas map[string]*schema.Schema) query.Options {
	return query.Options{Schemas: func(uid string) *schema.Schema { return schemas[uid] }}
}

// linkRow is one row of entries with its links. Rows with a draft and a
// published version are two linkRows.
type linkRow struct {
	uid, name string
	published bool
	data      string
	// links maps an owning attribute to the names of its target documents.
	links map[string][]string
	// files maps a media attribute to upload_files ids.
	files map[string][]int64
}

// linkRows: see the comments beside each document for what it tests.
var linkRows = []linkRow{
	// companies and tags have published rows only
	{uid: companyUID, name: "acme", published: true, data: `{"name":"Acme","city":"Paris"}`},
	{uid: companyUID, name: "globex", published: true, data: `{"name":"Globex"}`},
	{uid: tagUID, name: "go", published: true, data: `{"slug":"go","name":"Go"}`},
	{uid: tagUID, name: "sql", published: true, data: `{"slug":"sql","name":"SQL"}`},
	{uid: tagUID, name: "web", published: true, data: `{"slug":"web","name":"Web"}`},
	// ann's draft was renamed since publication
	{uid: authorUID, name: "ann", published: true, data: `{"name":"Ann","secret":"s"}`,
		links: map[string][]string{"company": {"acme"}}},
	{uid: authorUID, name: "ann", data: `{"name":"Ann (draft)","secret":"s"}`,
		links: map[string][]string{"company": {"acme"}}},
	{uid: authorUID, name: "bob", published: true, data: `{"name":"Bob"}`,
		links: map[string][]string{"company": {"globex"}}},
	{uid: authorUID, name: "bob", data: `{"name":"Bob"}`,
		links: map[string][]string{"company": {"globex"}}},
	// cid was never published
	{uid: authorUID, name: "cid", data: `{"name":"Cid"}`},
	// dee has no company; eve writes nothing
	{uid: authorUID, name: "dee", published: true, data: `{"name":"Dee"}`},
	{uid: authorUID, name: "dee", data: `{"name":"Dee"}`},
	{uid: authorUID, name: "eve", published: true, data: `{"name":"Eve"}`},
	{uid: authorUID, name: "eve", data: `{"name":"Eve"}`},
	{uid: articleUID, name: "aa", published: true, data: `{"title":"Go tips","views":5}`,
		links: map[string][]string{"author": {"ann"}, "tags": {"go", "sql"}},
		files: map[string][]int64{"cover": {1}}},
	{uid: articleUID, name: "aa", data: `{"title":"Go tips","views":5}`,
		links: map[string][]string{"author": {"ann"}, "tags": {"go", "sql"}},
		files: map[string][]int64{"cover": {1}}},
	// ab's draft moved from bob to ann
	{uid: articleUID, name: "ab", published: true, data: `{"title":"SQL","views":7}`,
		links: map[string][]string{"author": {"bob"}, "tags": {"sql"}}},
	{uid: articleUID, name: "ab", data: `{"title":"SQL","views":7}`,
		links: map[string][]string{"author": {"ann"}, "tags": {"sql"}}},
	// ac's author has no published version
	{uid: articleUID, name: "ac", published: true, data: `{"title":"Draft author"}`,
		links: map[string][]string{"author": {"cid"}}},
	{uid: articleUID, name: "ac", data: `{"title":"Draft author"}`,
		links: map[string][]string{"author": {"cid"}}},
	{uid: articleUID, name: "ad", published: true, data: `{"title":"Loner"}`,
		links: map[string][]string{"author": {"dee"}}},
	{uid: articleUID, name: "ad", data: `{"title":"Loner"}`,
		links: map[string][]string{"author": {"dee"}}},
	// ae was never published
	{uid: articleUID, name: "ae", data: `{"title":"Unpublished"}`,
		links: map[string][]string{"author": {"bob"}, "tags": {"web"}}},
}

// seedLinks inserts linkRows, their links, and one file; it returns the
// ids of the rows by name and state ("ann" and "ann draft").
func seedLinks(tb testing.TB, db *content.DB) map[string]int64 {
	tb.Helper()
	err := db.Write.Exec("INSERT INTO upload_files (document_id, name, hash, ext, mime, size, "+
		"created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", docID("file"), "a.png",
		"h1", ".png", "image/png", 10, fixtureT0, fixtureT0).Error
	if err != nil {
		tb.Fatalf("insert file: %v", err)
	}
	ins := "INSERT INTO entries (document_id, content_type, published_at, data, " +
		"created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id"
	if db.Dialect == content.Postgres {
		ins = strings.Replace(ins, "?, ?, ?) RETURNING", "CAST(CAST(? AS text) AS jsonb), ?, ?) "+
			"RETURNING", 1)
	}
	ids := map[string]int64{}
	for _, r := range linkRows {
		var published any
		key := r.name + " draft"
		if r.published {
			published, key = fixtureT0, r.name
		}
		var id int64
		err := db.Write.Raw(ins, docID(r.name), r.uid, published, r.data, fixtureT0,
			fixtureT0).Scan(&id).Error
		if err != nil || id == 0 {
			tb.Fatalf("insert %s: %v", key, err)
		}
		ids[key] = id
		for field, targets := range r.links {
			for i, target := range targets {
				err := db.Write.Exec("INSERT INTO entry_relations (entry_id, field, "+
					"target_document_id, position) VALUES (?, ?, ?, ?)", id, field,
					docID(target), i).Error
				if err != nil {
					tb.Fatalf("link %s.%s: %v", key, field, err)
				}
			}
		}
		for field, files := range r.files {
			for i, file := range files {
				err := db.Write.Exec("INSERT INTO entry_files (entry_id, field, file_id, "+
					"position) VALUES (?, ?, ?, ?)", id, field, file, i).Error
				if err != nil {
					tb.Fatalf("file %s.%s: %v", key, field, err)
				}
			}
		}
	}
	return ids
}

// linkDBs returns a seeded SQLite database and, when HERALD_TEST_POSTGRES_URL
// is set, a seeded PostgreSQL one, with the row ids of each.
func linkDBs(t *testing.T) ([]testDB, []map[string]int64) {
	t.Helper()
	lite := contenttest.OpenSQLite(t)
	dbs := []testDB{{"sqlite", lite}}
	ids := []map[string]int64{seedLinks(t, lite)}
	if pg := openPostgres(t); pg != nil {
		dbs = append(dbs, testDB{"postgres", pg})
		ids = append(ids, seedLinks(t, pg))
	}
	return dbs, ids
}

// runLinked compiles raw against type uid and returns the names of the
// documents whose rows in status (published or draft) match, in order.
func runLinked(tb testing.TB, db *content.DB, uid, raw string, draft bool,
	opts query.Options) ([]string, error) {
	tb.Helper()
	schemas := linkSchemas()
	p, err := query.Parse(raw)
	if err != nil {
		return nil, err
	}
	opts.Dialect = query.Dialect(db.Dialect)
	c, err := query.Compile(p, schemas[uid], opts)
	if err != nil {
		return nil, err
	}
	state := "published_at IS NOT NULL"
	if draft {
		state = "published_at IS NULL"
	}
	sql := "SELECT document_id FROM entries WHERE content_type = ? AND " + state
	if c.Where != "" {
		sql += " AND (" + c.Where + ")"
	}
	sql += " ORDER BY " + c.OrderBy
	return names(tb, db, sql, append([]any{uid}, c.Args...), raw, c)
}

// names runs a query returning document ids and turns them into names.
func names(tb testing.TB, db *content.DB, sql string, args []any, raw string,
	c any) ([]string, error) {
	tb.Helper()
	rows, err := db.Read.Raw(sql, args...).Rows()
	if err != nil {
		tb.Fatalf("%s: SQL failed: %v\n%s\nargs %#v\ncompiled %+v", raw, err, sql, args, c)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			tb.Fatal(err)
		}
		out = append(out, rowName(id))
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return out, nil
}

func TestFiltersAcrossRelationsFollowLinksAndStates(t *testing.T) {
	cases := []struct {
		uid, q string
		draft  bool
		want   string
	}{
		// owning side, published rows see published targets
		{uid: articleUID, q: "filters[author][name]=Ann", want: "aa"},
		{uid: articleUID, q: "filters[author][name][$eq]=Bob", want: "ab"},
		{uid: articleUID, q: "filters[author][name][$startsWith]=Ann", want: "aa"},
		{uid: articleUID, q: "filters[author][name][$ne]=Ann", want: "ab ad"},
		{uid: articleUID, q: "filters[author][$null]=true", want: "ac"},
		{uid: articleUID, q: "filters[author][$null]=false", want: "aa ab ad"},
		{uid: articleUID, q: "filters[author][$notNull]=true", want: "aa ab ad"},
		{uid: articleUID, q: "filters[author][$notNull]=false", want: "ac"},
		{uid: articleUID, q: "filters[author][documentId]=" + docID("bob"), want: "ab"},
		{uid: articleUID, q: "filters[author][documentId][$in][0]=" + docID("bob") +
			"&filters[author][documentId][$in][1]=" + docID("dee"), want: "ab ad"},
		// two levels, the second to a type without draft and publish
		{uid: articleUID, q: "filters[author][company][name]=Acme", want: "aa"},
		{uid: articleUID, q: "filters[author][company][name][$eq]=Globex", want: "ab"},
		{uid: articleUID, q: "filters[author][company][$null]=true", want: "ad"},
		{uid: articleUID, q: "filters[author][company][city][$null]=true", want: "ab"},
		// many: some linked document matches; keys under one relation must
		// hold for the same linked document
		{uid: articleUID, q: "filters[tags][slug]=sql", want: "aa ab"},
		{uid: articleUID, q: "filters[tags][slug][$in][0]=go&filters[tags][slug][$in][1]=web",
			want: "aa"},
		{uid: articleUID, q: "filters[tags][slug]=go&filters[tags][name]=SQL", want: ""},
		{uid: articleUID, q: "filters[tags][slug]=go&filters[tags][name]=Go", want: "aa"},
		{uid: articleUID, q: "filters[$and][0][tags][slug]=go&filters[$and][1][tags][slug]=sql",
			want: "aa"},
		{uid: articleUID, q: "filters[tags][$null]=true", want: "ac ad"},
		// logic around relations
		{uid: articleUID, q: "filters[$or][0][author][name]=Bob&filters[$or][1][tags][slug]=go",
			want: "aa ab"},
		{uid: articleUID, q: "filters[$not][author][name]=Ann", want: "ab ac ad"},
		{uid: articleUID, q: "filters[author][$not][name]=Ann", want: "ab ac ad"},
		{uid: articleUID, q: "filters[author][name][$not][$eq]=Ann", want: "ab ad"},
		{uid: articleUID, q: "filters[author][$or][0][name]=Ann&filters[author][$or][1][name]=Dee",
			want: "aa ad"},
		{uid: articleUID, q: "filters[author][name]=Ann&filters[views][$gt]=1", want: "aa"},
		// media
		{uid: articleUID, q: "filters[cover][$notNull]=true", want: "aa"},
		{uid: articleUID, q: "filters[cover][$null]=true", want: "ab ac ad"},
		{uid: articleUID, q: "filters[gallery][$null]=true", want: "aa ab ac ad"},
		// drafts see drafts; types without draft and publish are published
		{uid: articleUID, q: "filters[author][name]=Ann", draft: true, want: ""},
		{uid: articleUID, q: "filters[author][name]=Ann%20(draft)", draft: true, want: "aa ab"},
		{uid: articleUID, q: "filters[author][name]=Cid", draft: true, want: "ac"},
		{uid: articleUID, q: "filters[author][$null]=true", draft: true, want: ""},
		{uid: articleUID, q: "filters[author][company][name]=Acme", draft: true, want: "aa ab"},
		{uid: articleUID, q: "filters[tags][slug]=web", draft: true, want: "ae"},
		// the mappedBy side, from authors
		{uid: authorUID, q: "filters[articles][title]=Go%20tips", want: "ann"},
		{uid: authorUID, q: "filters[articles][title]=SQL", want: "bob"},
		{uid: authorUID, q: "filters[articles][$null]=true", want: "eve"},
		{uid: authorUID, q: "filters[articles][$notNull]=true", want: "ann bob dee"},
		{uid: authorUID, q: "filters[articles][tags][slug]=go", want: "ann"},
		{uid: authorUID, q: "filters[articles][tags][slug]=sql", want: "ann bob"},
		{uid: authorUID, q: "filters[articles][title]=SQL", draft: true, want: "ann"},
		{uid: authorUID, q: "filters[articles][title]=Unpublished", draft: true, want: "bob"},
		{uid: authorUID, q: "filters[articles][title]=Draft%20author", draft: true, want: "cid"},
		{uid: authorUID, q: "filters[articles][$null]=true", draft: true, want: "eve"},
		// round trips: articles by an author of an article titled SQL
		{uid: articleUID, q: "filters[author][articles][title]=SQL", want: "ab"},
		{uid: articleUID, q: "filters[author][articles][title]=SQL", draft: true, want: "aa ab"},
		{uid: authorUID, q: "filters[articles][author][company][name]=Globex", want: "bob"},
		{uid: authorUID, q: "filters[company][name]=Acme", draft: true, want: "ann"},
	}
	dbs, _ := linkDBs(t)
	defer skipPostgres(t, dbs)
	for _, tdb := range dbs {
		t.Run(tdb.name, func(t *testing.T) {
			for _, tc := range cases {
				got, err := runLinked(t, tdb.db, tc.uid, tc.q, tc.draft,
					linkOptions(linkSchemas()))
				if err != nil {
					t.Errorf("%s %s: %v", tc.uid, tc.q, err)
					continue
				}
				if g := strings.Join(got, " "); g != tc.want {
					t.Errorf("%s %s (draft %v):\n got  %q\n want %q", tc.uid, tc.q, tc.draft, g,
						tc.want)
				}
			}
		})
	}
}

func TestFiltersOnLinkedIDsUseTheTargetRow(t *testing.T) {
	dbs, ids := linkDBs(t)
	defer skipPostgres(t, dbs)
	for i, tdb := range dbs {
		t.Run(tdb.name, func(t *testing.T) {
			for _, tc := range []struct {
				id    int64
				draft bool
				want  string
			}{
				{ids[i]["ann"], false, "aa"},
				{ids[i]["ann draft"], false, ""},
				{ids[i]["ann draft"], true, "aa ab"},
			} {
				q := "filters[author][id]=" + strconv.FormatInt(tc.id, 10)
				opts := linkOptions(linkSchemas())
				got, err := runLinked(t, tdb.db, articleUID, q, tc.draft, opts)
				if err != nil {
					t.Fatal(err)
				}
				if g := strings.Join(got, " "); g != tc.want {
					t.Errorf("%s (draft %v): got %q, want %q", q, tc.draft, g, tc.want)
				}
			}
		})
	}
}

// TestPopulatePlanRunsInTheReadersQuery runs the plan's Where and OrderBy
// the way the content service loads populated documents: the target table
// named entries, joined to entry_relations r.
func TestPopulatePlanRunsInTheReadersQuery(t *testing.T) {
	owning := "SELECT entries.document_id FROM entry_relations r JOIN entries " +
		"ON entries.document_id = r.target_document_id WHERE r.entry_id = ? AND r.field = ? " +
		"AND entries.content_type = ? AND entries.published_at IS NOT NULL"
	inverse := "SELECT entries.document_id FROM entries JOIN entry_relations r " +
		"ON r.entry_id = entries.id WHERE r.target_document_id = ? AND r.field = ? " +
		"AND entries.content_type = ? AND entries.published_at IS NOT NULL"
	cases := []struct {
		uid, q, row string
		want        string
	}{
		{articleUID, "populate[author][filters][company][name]=Acme", "aa", "ann"},
		{articleUID, "populate[author][filters][company][name]=Acme", "ab", ""},
		{articleUID, "populate[author][filters][articles][tags][slug]=go", "aa", "ann"},
		{articleUID, "populate[tags][sort]=slug:desc", "aa", "sql go"},
		{articleUID, "populate[tags][sort]=slug", "aa", "go sql"},
		{articleUID, "populate[tags][filters][name][$ne]=Go&populate[tags][sort]=slug", "aa",
			"sql"},
		{authorUID, "populate[articles][filters][tags][slug]=sql", "bob", "ab"},
		{authorUID, "populate[articles][filters][tags][slug]=go", "bob", ""},
		{authorUID, "populate[articles][sort]=views:desc", "ann", "aa"},
	}
	dbs, ids := linkDBs(t)
	defer skipPostgres(t, dbs)
	schemas := linkSchemas()
	for i, tdb := range dbs {
		t.Run(tdb.name, func(t *testing.T) {
			for _, tc := range cases {
				p, err := query.Parse(tc.q)
				if err != nil {
					t.Fatal(err)
				}
				opts := linkOptions(schemas)
				opts.Dialect = query.Dialect(tdb.db.Dialect)
				c, err := query.Compile(p, schemas[tc.uid], opts)
				if err != nil {
					t.Fatalf("%s: %v", tc.q, err)
				}
				pl := c.Populate[0]
				sql, args := owning, []any{ids[i][tc.row], pl.Attribute.Name, pl.Target.UID()}
				if pl.Attribute.MappedBy != "" {
					sql = inverse
					args = []any{docID(tc.row), pl.Attribute.MappedBy, pl.Target.UID()}
				}
				if pl.Where != "" {
					sql += " AND (" + pl.Where + ")"
					args = append(args, pl.Args...)
				}
				if pl.OrderBy != "" {
					sql += " ORDER BY " + pl.OrderBy
				} else {
					sql += " ORDER BY r.position"
				}
				got, _ := names(t, tdb.db, sql, args, tc.q, pl)
				if g := strings.Join(got, " "); g != tc.want {
					t.Errorf("%s from %s: got %q, want %q", tc.q, tc.row, g, tc.want)
				}
			}
		})
	}
}

// FuzzLinkedFilters checks, over the linked types, that any query either
// fails with a *query.Error or runs, that each populate plan's Where runs
// in the reader's query, and that SQLite and PostgreSQL agree.
func FuzzLinkedFilters(f *testing.F) {
	for _, s := range []string{
		"filters[author][name]=Ann",
		"filters[author][company][name][$eq]=Acme&filters[tags][$null]=true",
		"filters[$or][0][author][name]=Bob&filters[$or][1][tags][slug]=go",
		"filters[author][name][$not][$eq]=Ann&filters[cover][$notNull]=true",
		"filters[author][articles][title][$containsi]=s&filters[author][id][$gt]=1",
		"populate[author][filters][company][name]=Acme&populate[tags][sort]=slug:desc",
		"populate=*&filters[author][documentId][$in][0]=x&status=draft",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	lite := contenttest.OpenSQLite(f)
	seedLinks(f, lite)
	pg := openPostgres(f)
	if pg != nil {
		seedLinks(f, pg)
	}
	f.Fuzz(func(t *testing.T, raw string, draft bool) {
		if _, err := query.Parse(raw); err != nil {
			mustBeQueryError(t, raw, err)
			return
		}
		for _, uid := range []string{articleUID, authorUID} {
			got := fuzzLinked(t, lite, uid, raw, draft)
			if pg == nil {
				continue
			}
			if want := fuzzLinked(t, pg, uid, raw, draft); got != want {
				t.Fatalf("%s %q: SQLite returned %q, PostgreSQL %q", uid, raw, got, want)
			}
		}
	})
}

// fuzzLinked runs raw against type uid and each populate plan's Where
// against every row, and returns what it found.
func fuzzLinked(t *testing.T, db *content.DB, uid, raw string, draft bool) string {
	schemas := linkSchemas()
	got, err := runLinked(t, db, uid, raw, draft, linkOptions(schemas))
	if err != nil {
		mustBeQueryError(t, raw, err)
		return "error: " + err.Error()
	}
	p, _ := query.Parse(raw)
	opts := linkOptions(schemas)
	opts.Dialect = query.Dialect(db.Dialect)
	c, err := query.Compile(p, schemas[uid], opts)
	if err != nil {
		t.Fatalf("%q: compiled once, not twice: %v", raw, err)
	}
	out := strings.Join(got, " ")
	for _, pl := range c.Populate {
		if pl.Target == nil || pl.Where == "" {
			continue
		}
		if n := strings.Count(pl.Where, "?"); n != len(pl.Args) {
			t.Fatalf("%q: populate WHERE has %d placeholders for %d args", raw, n, len(pl.Args))
		}
		order := pl.OrderBy
		if order == "" {
			order = "r.position, entries.id"
		}
		sql := "SELECT entries.document_id FROM entries JOIN entry_relations r " +
			"ON r.entry_id = entries.id WHERE entries.content_type = ? AND (" + pl.Where +
			") ORDER BY " + order
		found, _ := names(t, db, sql, append([]any{pl.Target.UID()}, pl.Args...), raw, pl)
		out += " | " + strings.Join(found, " ")
	}
	return out
}
