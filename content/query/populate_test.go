package query_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/herald-cms/herald/content/query"
)

// renderPopulate writes a populate tree compactly:
// author{fields:name sort:name:desc populate:(company)} tags.
func renderPopulate(s *query.PopulateSet) string {
	if s == nil {
		return ""
	}
	var parts []string
	if s.All {
		parts = append(parts, "*")
	}
	for _, it := range s.Items {
		x := it.Name
		if it.Off {
			x += "=false"
		}
		var opts []string
		if it.Fields != nil {
			opts = append(opts, "fields:"+strings.Join(it.Fields, ","))
		}
		if it.Filters != nil {
			opts = append(opts, "filters:"+render(it.Filters))
		}
		if it.Sort != nil {
			keys := make([]string, len(it.Sort))
			for i, k := range it.Sort {
				keys[i] = k.Field
				if k.Desc {
					keys[i] += ":desc"
				}
			}
			opts = append(opts, "sort:"+strings.Join(keys, ","))
		}
		if it.Populate != nil {
			opts = append(opts, "populate:("+renderPopulate(it.Populate)+")")
		}
		if len(opts) > 0 {
			x += "{" + strings.Join(opts, " ") + "}"
		}
		parts = append(parts, x)
	}
	return strings.Join(parts, " ")
}

func TestParseReadsEveryPopulateForm(t *testing.T) {
	cases := []struct{ q, want string }{
		{"", ""},
		{"populate=*", "*"},
		{"populate[0]=*", "*"},
		{"populate=author,tags", "author tags"},
		{"populate=%20author%20,,tags,author", "author tags"},
		{"populate[0]=author&populate[1]=tags", "author tags"},
		{"populate[1]=tags&populate[0]=author", "author tags"},
		{"populate[]=author&populate[]=tags", "author tags"},
		{"populate=author&populate=tags", "author tags"},
		{"populate[0]=*&populate[1]=author", "* author"},
		{"populate=author.company,author.articles,tags",
			"author{populate:(company articles)} tags"},
		{"populate=author,author.company", "author{populate:(company)}"},
		{"populate=author.*", "author{populate:(*)}"},
		{"populate=a.b.c.d.e", "a{populate:(b{populate:(c{populate:(d{populate:(e)})})})}"},
		{"populate[author]=true", "author"},
		{"populate[author]=*", "author"},
		{"populate[author]=false", "author=false"},
		{"populate[author]=true&populate[tags]=false", "author tags=false"},
		{"populate[author][populate]=*", "author{populate:(*)}"},
		{"populate[author][populate]=company,articles", "author{populate:(company articles)}"},
		{"populate[author][populate][0]=company", "author{populate:(company)}"},
		{"populate[author][populate]=articles.tags",
			"author{populate:(articles{populate:(tags)})}"},
		{"populate[author][populate][company]=true", "author{populate:(company)}"},
		{"populate[author][populate][company][fields][0]=name",
			"author{populate:(company{fields:name})}"},
		{"populate[author][fields]=name,email", "author{fields:name,email}"},
		{"populate[author][fields][0]=name&populate[author][fields][1]=email",
			"author{fields:name,email}"},
		{"populate[author][fields]=*", "author"},
		{"populate[author][filters][name][$eq]=x", `author{filters:$eq(name "x")}`},
		{"populate[author][filters][company][name]=x",
			`author{filters:$related(company $eq(name "x"))}`},
		{"populate[author][sort]=name:desc", "author{sort:name:desc}"},
		{"populate[author][sort][0]=name:asc&populate[author][sort][1]=id:desc",
			"author{sort:name,id:desc}"},
		{"populate[author][sort][name]=desc", "author{sort:name:desc}"},
		{"populate[a][populate][b][populate][c][populate][d][populate][e]=true",
			"a{populate:(b{populate:(c{populate:(d{populate:(e)})})})}"},
		{"populate[a][populate][b][populate][c][populate][d][populate]=*",
			"a{populate:(b{populate:(c{populate:(d{populate:(*)})})})}"},
	}
	for _, tc := range cases {
		p, err := query.Parse(tc.q)
		if err != nil {
			t.Errorf("%s: %v", tc.q, err)
			continue
		}
		if got := renderPopulate(p.Populate); got != tc.want {
			t.Errorf("%s:\n got  %s\n want %s", tc.q, got, tc.want)
		}
	}
}

func TestParseKeepsPopulatePaths(t *testing.T) {
	p, err := query.Parse("populate=author.company&populate[1]=tags")
	if err != nil {
		t.Fatal(err)
	}
	author := p.Populate.Items[0]
	want := [][]string{{"populate", "author"}, {"populate", "author", "populate", "company"},
		{"populate", "tags"}}
	got := [][]string{author.Path, author.Populate.Items[0].Path, p.Populate.Items[1].Path}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("paths %q, want %q", got, want)
	}
}

func TestParseReadsFiltersAcrossRelations(t *testing.T) {
	cases := []struct{ q, want string }{
		{"filters[author][name][$eq]=x", `$related(author $eq(name "x"))`},
		{"filters[author][name]=x", `$related(author $eq(name "x"))`},
		{"filters[author][company][name][$eq]=y",
			`$related(author $related(company $eq(name "y")))`},
		{"filters[tags][slug][$in][0]=a&filters[tags][slug][$in][1]=b",
			`$related(tags $in(slug "a" "b"))`},
		{"filters[author][name]=x&filters[author][email]=y",
			`$related(author $and($eq(name "x") $eq(email "y")))`},
		{"filters[author][$null]=true", `$null(author "true")`},
		{"filters[author][$notNull]=true&filters[author][name]=x",
			`$and($notNull(author "true") $related(author $eq(name "x")))`},
		{"filters[author][name]=x&filters[author][$null]=false&filters[author][id]=1",
			`$and($related(author $and($eq(name "x") $eq(id "1"))) $null(author "false"))`},
		{"filters[$or][0][author][name]=x&filters[$or][1][tags][slug]=a",
			`$or($related(author $eq(name "x")) $related(tags $eq(slug "a")))`},
		{"filters[author][$or][0][name]=x&filters[author][$or][1][name]=y",
			`$or($related(author $eq(name "x")) $related(author $eq(name "y")))`},
		{"filters[author][$not][name]=x", `$not($related(author $eq(name "x")))`},
		{"filters[author][name][$not][$eq]=x", `$related(author $not($eq(name "x")))`},
		{"filters[author][documentId]=abc", `$related(author $eq(documentId "abc"))`},
		{"filters[author][$and][0][name]=x", `$and($related(author $eq(name "x")))`},
	}
	for _, tc := range cases {
		p, err := query.Parse(tc.q)
		if err != nil {
			t.Errorf("%s: %v", tc.q, err)
			continue
		}
		if got := render(p.Filters); got != tc.want {
			t.Errorf("%s:\n got  %s\n want %s", tc.q, got, tc.want)
		}
	}
}

func TestParseRefusesBadPopulate(t *testing.T) {
	var conds strings.Builder
	for i := 0; i < 60; i++ {
		fmt.Fprintf(&conds, "&filters[$and][%d][title]=x", i)
	}
	for i := 0; i < 41; i++ {
		fmt.Fprintf(&conds, "&populate[author][filters][$and][%d][name]=x", i)
	}
	cases := []struct {
		q, message string
		path       []string
	}{
		{"populate[a][populate][b][populate][c][populate][d][populate][e][populate][f]=true",
			"Invalid populate at populate[a][populate][b][populate][c][populate][d][populate]" +
				"[e][populate][f]: nested more than 5 levels", nil},
		{"populate[a][populate][b][populate][c][populate][d][populate][e][populate]=*", "", nil},
		{"populate=a.b.c.d.e.f", "nested more than 5 levels", nil},
		{"populate[a][populate]=b.c.d.e.f", "nested more than 5 levels", nil},
		{"populate[author][on][x]=1",
			"Invalid key on in populate[author]: expected fields, filters, sort or populate",
			[]string{"populate", "author", "on"}},
		{"populate[author][count]=true", "Invalid key count in populate[author]",
			[]string{"populate", "author", "count"}},
		{"populate[author]=maybe", `Invalid value "maybe" for populate[author]`,
			[]string{"populate", "author"}},
		{"populate[author][0]=x", "Invalid value for populate[author]: expected true, false, *",
			nil},
		{"populate[0][author]=x", "Invalid value for populate[0]: expected an attribute name",
			[]string{"populate", "0"}},
		{"populate=a..b", `Invalid value "a..b" for populate`, []string{"populate"}},
		{"populate=*.a", `Invalid value "*.a" for populate`, nil},
		{"populate=a.", `Invalid value "a." for populate`, nil},
		{"populate[author][filters]=x", "Invalid value for populate[author][filters]: " +
			"expected populate[author][filters][attribute]=value", nil},
		{"populate[author][fields][a]=b", "Invalid value for populate[author][fields]", nil},
		{"populate[author][sort]=name:up", "Invalid sort direction", nil},
		{"populate[author][filters][name][$like]=x", "Invalid operator $like",
			[]string{"populate", "author", "filters", "name", "$like"}},
		{conds.String()[1:], "more than 100 conditions", nil},
		{"filters" + strings.Repeat("[a]", 11) + "=1", "", nil},
		{"filters" + strings.Repeat("[a]", 12) + "=1", "nested more than 10 levels", nil},
	}
	for _, tc := range cases {
		_, err := query.Parse(tc.q)
		if tc.message == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.q, err)
			}
			continue
		}
		var qe *query.Error
		if !errors.As(err, &qe) || qe.Kind != query.KindValidation {
			t.Errorf("%s: got %v, want a validation error", tc.q, err)
			continue
		}
		if !strings.Contains(qe.Message, tc.message) {
			t.Errorf("%s:\n got  %s\n want %s", tc.q, qe.Message, tc.message)
		}
		if tc.path != nil && !reflect.DeepEqual(qe.Path, tc.path) {
			t.Errorf("%s: path %q, want %q", tc.q, qe.Path, tc.path)
		}
	}
}

// compileLinked compiles raw against type uid of linkSchemas.
func compileLinked(t *testing.T, uid, raw string, opts query.Options) (*query.Compiled, error) {
	t.Helper()
	p, err := query.Parse(raw)
	if err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	schemas := linkSchemas()
	if opts.Schemas == nil {
		opts.Schemas = linkOptions(schemas).Schemas
	}
	if opts.Dialect == "" {
		opts.Dialect = query.SQLite
	}
	return query.Compile(p, schemas[uid], opts)
}

// renderPlan writes a populate plan compactly: author>author(fields:name)[company>company].
func renderPlan(ps []*query.Populate) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		x := p.Attribute.Name + ">"
		if p.Target != nil {
			x += p.Target.Info.SingularName
		} else {
			x += "media"
		}
		if p.Fields != nil {
			x += "(fields:" + strings.Join(p.Fields, ",") + ")"
		}
		if p.Populate != nil {
			x += "[" + renderPlan(p.Populate) + "]"
		}
		parts[i] = x
	}
	return strings.Join(parts, " ")
}

func TestCompileBuildsThePopulatePlan(t *testing.T) {
	private := query.Options{AllowPrivate: true}
	cases := []struct {
		uid, q string
		opts   query.Options
		want   string
	}{
		{articleUID, "", query.Options{}, ""},
		{articleUID, "populate=*", query.Options{}, "author>author tags>tag cover>media " +
			"gallery>media"},
		{articleUID, "populate=*", private, "author>author tags>tag cover>media gallery>media " +
			"reviewer>author"},
		{articleUID, "populate[0]=*&populate[1]=cover&populate[2]=author.company", query.Options{},
			"cover>media author>author[company>company] tags>tag gallery>media"},
		{articleUID, "populate[author]=false&populate[tags]=true", query.Options{}, "tags>tag"},
		{companyUID, "populate=*", query.Options{}, ""},
		{authorUID, "populate=articles.tags,company", query.Options{},
			"articles>article[tags>tag] company>company"},
		{authorUID, "populate[articles][populate]=*", query.Options{},
			"articles>article[author>author tags>tag cover>media gallery>media]"},
		{articleUID, "populate[author][fields]=name,id&populate[author][populate][company]" +
			"[fields][0]=name", query.Options{},
			"author>author(fields:name,id)[company>company(fields:name)]"},
		{articleUID, "populate[author][fields]=secret", private, "author>author(fields:secret)"},
		{articleUID, "populate[cover][fields]=url,alternativeText,formats", query.Options{},
			"cover>media(fields:url,alternativeText,formats)"},
		{articleUID, "populate=a", query.Options{}, "error"},
	}
	for _, tc := range cases {
		c, err := compileLinked(t, tc.uid, tc.q, tc.opts)
		if tc.want == "error" {
			if err == nil {
				t.Errorf("%s: no error", tc.q)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.q, err)
			continue
		}
		if got := renderPlan(c.Populate); got != tc.want {
			t.Errorf("%s:\n got  %s\n want %s", tc.q, got, tc.want)
		}
	}
}

func TestCompilePopulateOptionsUseTheTargetSchema(t *testing.T) {
	for _, d := range []query.Dialect{query.SQLite, query.Postgres} {
		c, err := compileLinked(t, articleUID, "populate[author][filters][name][$eq]=x"+
			"&populate[author][sort]=name:desc&populate[tags]=true", query.Options{Dialect: d})
		if err != nil {
			t.Fatal(err)
		}
		author, tags := c.Populate[0], c.Populate[1]
		ref := "json_extract(data, '$.name')"
		if d == query.Postgres {
			ref = "data->>'name'"
		}
		if !strings.Contains(author.Where, ref) || strings.Contains(author.Where, "t1.") ||
			!reflect.DeepEqual(author.Args, []any{"x"}) {
			t.Errorf("%s: where %s args %v", d, author.Where, author.Args)
		}
		if !strings.Contains(author.OrderBy, "CASE") ||
			!strings.HasSuffix(author.OrderBy, " DESC NULLS LAST, id ASC") {
			t.Errorf("%s: order by %s", d, author.OrderBy)
		}
		if tags.Where != "" || tags.Args != nil || tags.OrderBy != "" || tags.Fields != nil {
			t.Errorf("%s: tags %+v, want no options", d, tags)
		}
		if c.Where != "" || c.OrderBy != "id ASC" {
			t.Errorf("%s: top level where %q order by %q", d, c.Where, c.OrderBy)
		}
	}
}

func TestFiltersAcrossRelationsCompileToCorrelatedSubqueries(t *testing.T) {
	c, err := compileLinked(t, articleUID, "filters[author][company][name]=x"+
		"&filters[title]=t&filters[cover][$null]=true", query.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := "(EXISTS (SELECT 1 FROM entry_relations r1 JOIN entries t1 " +
		"ON t1.document_id = r1.target_document_id WHERE r1.entry_id = entries.id " +
		"AND r1.field = ? AND t1.content_type = ? " +
		"AND (t1.published_at IS NULL) = (entries.published_at IS NULL) " +
		"AND (EXISTS (SELECT 1 FROM entry_relations r2 JOIN entries t2 " +
		"ON t2.document_id = r2.target_document_id WHERE r2.entry_id = t1.id " +
		"AND r2.field = ? AND t2.content_type = ? AND t2.published_at IS NOT NULL " +
		"AND (CASE WHEN json_type(t2.data, '$.name') = 'text' " +
		"THEN json_extract(t2.data, '$.name') END = ?)))) " +
		"AND CASE WHEN json_type(data, '$.title') = 'text' THEN json_extract(data, '$.title') " +
		"END = ? AND NOT EXISTS (SELECT 1 FROM entry_files f3 WHERE f3.entry_id = entries.id " +
		"AND f3.field = ?))"
	if c.Where != want {
		t.Errorf("where\n got  %s\n want %s", c.Where, want)
	}
	args := []any{"author", authorUID, "company", companyUID, "x", "t", "cover"}
	if !reflect.DeepEqual(c.Args, args) {
		t.Errorf("args %#v, want %#v", c.Args, args)
	}
	c, err = compileLinked(t, authorUID, "filters[articles][title]=x", query.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want = "EXISTS (SELECT 1 FROM entries t1 JOIN entry_relations r1 ON r1.entry_id = t1.id " +
		"WHERE r1.target_document_id = entries.document_id AND r1.field = ? " +
		"AND t1.content_type = ? AND (t1.published_at IS NULL) = (entries.published_at IS NULL) " +
		"AND (CASE WHEN json_type(t1.data, '$.title') = 'text' " +
		"THEN json_extract(t1.data, '$.title') END = ?))"
	if c.Where != want || !reflect.DeepEqual(c.Args, []any{"author", articleUID, "x"}) {
		t.Errorf("inverse side: where %s args %v", c.Where, c.Args)
	}
}

func TestCompileRefusesBadRelationQueries(t *testing.T) {
	cases := []struct {
		uid, q  string
		private bool
		message string
		path    []string
	}{
		{articleUID, "populate=nope", false,
			"Invalid key nope in populate: article has no such attribute",
			[]string{"populate", "nope"}},
		{articleUID, "populate=title", false,
			"Invalid key title in populate: title (string) cannot be populated", nil},
		{articleUID, "populate=reviewer", false, "Invalid key reviewer in populate: article " +
			"has no such attribute", nil},
		{articleUID, "populate[reviewer]=false", false, "Invalid key reviewer in populate", nil},
		{articleUID, "populate=ghost", false, "Invalid relation ghost at populate[ghost]: " +
			"its target type api::ghost.ghost does not exist", []string{"populate", "ghost"}},
		{articleUID, "populate[author][fields]=nope", false, "Invalid key nope in " +
			"populate[author][fields]: author has no such attribute",
			[]string{"populate", "author", "fields"}},
		{articleUID, "populate[author][fields]=secret", false, "Invalid key secret in " +
			"populate[author][fields]", nil},
		{articleUID, "populate[author][fields]=articles", false, "Invalid key articles in " +
			"populate[author][fields]: articles (relation) is chosen with populate", nil},
		{articleUID, "populate[author][sort]=secret", false, "Invalid key secret at " +
			"populate[author][sort]: author has no such attribute",
			[]string{"populate", "author", "sort"}},
		{articleUID, "populate[author][sort]=company", false, "Invalid sort on company: " +
			"relation attributes cannot be sorted", nil},
		{articleUID, "populate[author][filters][secret]=x", false, "Invalid key secret at " +
			"populate[author][filters][secret]: author has no such attribute",
			[]string{"populate", "author", "filters", "secret"}},
		{articleUID, "populate[author][filters][views][$gt]=abc", false, "Invalid key views", nil},
		{articleUID, "populate[author][populate]=nope", false, "Invalid key nope in " +
			"populate[author][populate]: author has no such attribute",
			[]string{"populate", "author", "populate", "nope"}},
		{articleUID, "populate=author.articles.nope", false, "Invalid key nope in " +
			"populate[author][populate][articles][populate]: article has no such attribute", nil},
		{articleUID, "populate[cover][filters][name]=x", false, "Invalid key filters in " +
			"populate[cover]: cover is a media attribute and takes only fields",
			[]string{"populate", "cover", "filters"}},
		{articleUID, "populate[cover][sort]=name", false, "Invalid key sort in populate[cover]",
			nil},
		{articleUID, "populate[cover][populate]=*", false, "Invalid key populate in " +
			"populate[cover]", nil},
		{articleUID, "populate=cover.x", false, "Invalid key populate in populate[cover]", nil},
		{articleUID, "populate[cover][fields]=nope", false, "Invalid key nope in " +
			"populate[cover][fields]: a media file has no such field", nil},
		{articleUID, "fields=author", false, "Invalid key author in fields: author (relation) " +
			"is chosen with populate, not fields", []string{"fields"}},
		{articleUID, "fields=cover", false, "Invalid key cover in fields: cover (media)", nil},
		{articleUID, "sort=author", false, "Invalid sort on author: relation attributes " +
			"cannot be sorted", nil},
		{articleUID, "filters[author]=x", false, "Invalid operator $eq at filters[author]: " +
			"not allowed on author (relation); use $null, $notNull, or a condition on its " +
			"attributes such as filters[author][documentId][$eq]", nil},
		{articleUID, "filters[tags][$in][0]=x", false, "Invalid operator $in", nil},
		{articleUID, "filters[cover][url]=x", false, "Invalid key url at filters[cover][url]: " +
			"filters on the files of media attribute cover are not supported; use $null or " +
			"$notNull", []string{"filters", "cover", "url"}},
		{articleUID, "filters[title][x]=1", false, "Invalid key x at filters[title][x]: " +
			"title (string) has no nested attributes", []string{"filters", "title", "x"}},
		{articleUID, "filters[id][x]=1", false, "Invalid key x at filters[id][x]: id (integer) " +
			"has no nested attributes", nil},
		{articleUID, "filters[nope][x]=1", false, "Invalid key nope at filters[nope][x]: " +
			"article has no such attribute", nil},
		{articleUID, "filters[ghost][name]=x", false, "Invalid relation ghost at " +
			"filters[ghost][name]: its target type api::ghost.ghost does not exist", nil},
		{articleUID, "filters[ghost][$null]=true", false, "Invalid relation ghost", nil},
		{articleUID, "filters[reviewer][name]=x", false, "Invalid key reviewer at " +
			"filters[reviewer][name]: article has no such attribute", nil},
		{articleUID, "filters[author][nope]=x", false, "Invalid key nope at " +
			"filters[author][nope]: author has no such attribute", nil},
		{articleUID, "filters[author][secret]=x", false, "Invalid key secret at " +
			"filters[author][secret]: author has no such attribute", nil},
		{articleUID, "filters[author][name][$gt]=1&filters[author][company][name][$eqi]", false,
			"", nil},
		{articleUID, "filters[author][secret]=x", true, "", nil},
		{articleUID, "filters[author][company][nope]=x", false, "Invalid key nope at " +
			"filters[author][company][nope]: company has no such attribute", nil},
		{authorUID, "filters[articles][views][$gt]=abc", false, `Invalid value "abc" for ` +
			"views (integer) at filters[articles][views][$gt]", nil},
		{authorUID, "filters[articles][$null]=maybe", false, `Invalid value "maybe" for ` +
			"articles (relation)", nil},
	}
	for _, tc := range cases {
		_, err := compileLinked(t, tc.uid, tc.q, query.Options{AllowPrivate: tc.private})
		if tc.message == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.q, err)
			}
			continue
		}
		var qe *query.Error
		if !errors.As(err, &qe) || qe.Kind != query.KindValidation {
			t.Errorf("%s: got %v, want a validation error", tc.q, err)
			continue
		}
		if !strings.HasPrefix(qe.Message, tc.message) {
			t.Errorf("%s:\n got  %s\n want %s...", tc.q, qe.Message, tc.message)
		}
		if tc.path != nil && !reflect.DeepEqual(qe.Path, tc.path) {
			t.Errorf("%s: path %q, want %q", tc.q, qe.Path, tc.path)
		}
	}
}

func TestCompileWithoutSchemasIsAProgrammingMistake(t *testing.T) {
	schemas := linkSchemas()
	for _, raw := range []string{"populate=author", "filters[author][name]=x",
		"filters[author][$null]=true", "populate[tags][filters][name]=x", "populate=*"} {
		p, err := query.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		_, err = query.Compile(p, schemas[articleUID], query.Options{Dialect: query.SQLite})
		var qe *query.Error
		if err == nil || errors.As(err, &qe) {
			t.Errorf("%s: got %v, want an error that is not a *query.Error", raw, err)
		}
	}
	// Media, and types without relations, need no resolver.
	for _, tc := range []struct{ uid, q string }{
		{articleUID, "populate=cover"}, {articleUID, "filters[cover][$null]=true"},
		{companyUID, "populate=*"},
	} {
		p, _ := query.Parse(tc.q)
		opts := query.Options{Dialect: query.SQLite}
		if _, err := query.Compile(p, schemas[tc.uid], opts); err != nil {
			t.Errorf("%s: %v", tc.q, err)
		}
	}
}

func TestCompileLimitsThePopulatePlan(t *testing.T) {
	set := &query.PopulateSet{}
	for i := 0; i <= query.MaxPopulate; i++ {
		set.Items = append(set.Items, &query.PopulateItem{Name: "tags",
			Path: []string{"populate", "tags"}})
	}
	deep := &query.PopulateSet{Items: []*query.PopulateItem{{Name: "author"}}}
	for i := 0; i < query.MaxPopulateDepth; i++ {
		deep = &query.PopulateSet{Items: []*query.PopulateItem{{Name: "author",
			Populate: &query.PopulateSet{Items: []*query.PopulateItem{{Name: "articles",
				Populate: deep}}}}}}
	}
	schemas := linkSchemas()
	opts := linkOptions(schemas)
	opts.Dialect = query.SQLite
	for name, set := range map[string]*query.PopulateSet{"many": set, "deep": deep} {
		p, _ := query.Parse("")
		p.Populate = set
		_, err := query.Compile(p, schemas[articleUID], opts)
		var qe *query.Error
		if !errors.As(err, &qe) {
			t.Errorf("%s: got %v, want a *query.Error", name, err)
		}
	}
	for _, f := range []*query.Filter{
		{Op: query.OpRelated, Field: "author"},
		{Op: query.OpRelated, Field: "author", Children: []*query.Filter{{Op: "$eq",
			Field: "name", Values: []string{"x"}}, {Op: "$eq", Field: "name"}}},
	} {
		p, _ := query.Parse("")
		p.Filters = f
		_, err := query.Compile(p, schemas[articleUID], opts)
		var qe *query.Error
		if !errors.As(err, &qe) {
			t.Errorf("%s: got %v, want a *query.Error", render(f), err)
		}
	}
}
