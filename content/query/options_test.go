package query_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/herald-cms/herald/content/contenttest"
	"github.com/herald-cms/herald/content/query"
	"github.com/herald-cms/herald/content/schema"
)

func compile(t *testing.T, raw string, opts query.Options) (*query.Compiled, error) {
	t.Helper()
	p, err := query.Parse(raw)
	if err != nil {
		return nil, err
	}
	if opts.Dialect == "" {
		opts.Dialect = query.SQLite
	}
	return query.Compile(p, articleSchema(), opts)
}

func TestCompileFillsDefaults(t *testing.T) {
	for _, d := range []query.Dialect{query.SQLite, query.Postgres} {
		c, err := compile(t, "", query.Options{Dialect: d})
		if err != nil {
			t.Fatal(err)
		}
		want := &query.Compiled{
			OrderBy: "id ASC", Limit: 25, Status: "published",
			Pagination: query.Pagination{Style: "page", Page: 1, PageSize: 25, Limit: 25,
				WithCount: true},
		}
		if !reflect.DeepEqual(c, want) {
			t.Errorf("%s: got %+v, want %+v", d, c, want)
		}
	}
}

func TestCompileChecksFieldsStatusAndPopulate(t *testing.T) {
	cases := []struct {
		q       string
		opts    query.Options
		fields  []string
		status  string
		message string
	}{
		{q: "fields=title,createdAt,id", fields: []string{"title", "createdAt", "id"},
			status: "published"},
		{q: "fields=secret", message: "Invalid key secret in fields"},
		{q: "fields=secret", opts: query.Options{AllowPrivate: true}, fields: []string{"secret"},
			status: "published"},
		{q: "fields[0]=title&fields[1]=nope", message: "Invalid key nope in fields"},
		{q: "status=draft", status: "draft"},
		{q: "populate=*", status: "published"},
		{q: "populate[0]=*&populate[1]=*", status: "published"},
		{q: "populate=title", message: "Invalid key title in populate: title (string) cannot " +
			"be populated"},
		{q: "populate=author", message: "Invalid key author in populate: article has no such " +
			"attribute"},
		{q: "populate[tags][populate]=*", message: "Invalid key tags in populate"},
		{q: "status=draft&fields=title", opts: query.Options{Single: true},
			fields: []string{"title"}, status: "draft"},
		{q: "filters[title]=x", opts: query.Options{Single: true}, message: "Invalid key filters"},
		{q: "sort=title", opts: query.Options{Single: true}, message: "Invalid key sort"},
		{q: "pagination[page]=1", opts: query.Options{Single: true},
			message: "Invalid key pagination"},
		{q: "_q=x", opts: query.Options{Single: true}, message: "Invalid key _q"},
	}
	for _, tc := range cases {
		c, err := compile(t, tc.q, tc.opts)
		if tc.message != "" {
			var qe *query.Error
			if !errors.As(err, &qe) || qe.Kind != query.KindValidation ||
				!strings.Contains(qe.Message, tc.message) {
				t.Errorf("%s: got %v, want a validation error containing %q", tc.q, err, tc.message)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.q, err)
			continue
		}
		if !reflect.DeepEqual(c.Fields, tc.fields) || c.Status != tc.status {
			t.Errorf("%s: fields %q status %q, want %q %q", tc.q, c.Fields, c.Status,
				tc.fields, tc.status)
		}
	}
}

func TestSingleTypesReadOneEntry(t *testing.T) {
	c, err := compile(t, "", query.Options{Single: true})
	if err != nil {
		t.Fatal(err)
	}
	if c.Limit != 1 || c.Offset != 0 || c.Where != "" {
		t.Errorf("got limit %d offset %d where %q", c.Limit, c.Offset, c.Where)
	}
}

func TestErrorsNameTheAttributeAndPlace(t *testing.T) {
	cases := []struct {
		q, message string
		path       []string
	}{
		{"filters[views][$gt]=abc",
			`Invalid value "abc" for views (integer) at filters[views][$gt]`,
			[]string{"filters", "views", "$gt"}},
		{"filters[day]=2024-1-2", `Invalid value "2024-1-2" for day (date) at filters[day]`,
			[]string{"filters", "day"}},
		{"filters[active][$in][0]=true&filters[active][$in][1]=nope",
			`Invalid value "nope" for active`, []string{"filters", "active", "$in"}},
		{"filters[nope][$eq]=1",
			"Invalid key nope at filters[nope][$eq]: article has no such attribute",
			[]string{"filters", "nope", "$eq"}},
		{"filters[secret]=1",
			"Invalid key secret at filters[secret]: article has no such attribute",
			[]string{"filters", "secret"}},
		{"filters[meta][$eq]=1",
			"Invalid operator $eq at filters[meta][$eq]: not allowed on meta (json)", nil},
		{"filters[$or][0][views][$containsi]=1",
			"Invalid operator $containsi at filters[$or][0][views]", nil},
		{"sort=meta:desc", "Invalid sort on meta: json attributes cannot be sorted", nil},
		{"sort=nope", "Invalid key nope at sort", []string{"sort"}},
	}
	for _, tc := range cases {
		_, err := compile(t, tc.q, query.Options{})
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

func TestValuesAreNormalisedToTheStoredFormat(t *testing.T) {
	cases := []struct {
		q    string
		d    query.Dialect
		want []any
	}{
		{"filters[when]=2024-01-02T03:04:05%2B02:00", query.SQLite,
			[]any{"2024-01-02T01:04:05.000Z"}},
		{"filters[when]=2024-01-02", query.SQLite, []any{"2024-01-02T00:00:00.000Z"}},
		{"filters[when]=2024-01-02T03:04:05.123456Z", query.SQLite,
			[]any{"2024-01-02T03:04:05.123Z"}},
		{"filters[at]=7:05", query.SQLite, nil},
		{"filters[at]=07:05", query.SQLite, []any{"07:05:00.000"}},
		{"filters[views]=10", query.SQLite, []any{int64(10)}},
		{"filters[views]=10", query.Postgres, []any{"10"}},
		{"filters[views]=2.50", query.SQLite, []any{2.5}},
		{"filters[views]=2.50", query.Postgres, []any{"2.5"}},
		{"filters[big]=-12", query.Postgres, []any{"-12"}},
		{"filters[active]=TRUE", query.SQLite, []any{int64(1)}},
		{"filters[active]=0", query.Postgres, []any{false}},
		{"filters[title][$eqi]=MiXeD", query.SQLite, []any{"mixed"}},
		{"filters[title][$containsi]=ÀB", query.Postgres, []any{"Àb"}},
	}
	for _, tc := range cases {
		c, err := compile(t, tc.q, query.Options{Dialect: tc.d})
		if tc.want == nil {
			if err == nil {
				t.Errorf("%s: no error", tc.q)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.q, err)
			continue
		}
		if !reflect.DeepEqual(c.Args, tc.want) {
			t.Errorf("%s (%s): args %#v, want %#v", tc.q, tc.d, c.Args, tc.want)
		}
	}
}

func TestOrderByEndsWithTheIDTieBreak(t *testing.T) {
	for _, q := range []string{"", "sort=title", "sort=views:desc,createdAt", "sort=id:desc"} {
		for _, d := range []query.Dialect{query.SQLite, query.Postgres} {
			c, err := compile(t, q, query.Options{Dialect: d})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(c.OrderBy, "id ASC") && !strings.HasSuffix(c.OrderBy, "id DESC") {
				t.Errorf("%s (%s): ORDER BY %s", q, d, c.OrderBy)
			}
		}
	}
}

func TestPaginationMeta(t *testing.T) {
	cases := []struct {
		q     string
		total int64
		want  map[string]any
	}{
		{"", 0, map[string]any{"page": 1, "pageSize": 25, "pageCount": int64(0),
			"total": int64(0)}},
		{"pagination[page]=2&pagination[pageSize]=10", 31, map[string]any{"page": 2,
			"pageSize": 10, "pageCount": int64(4), "total": int64(31)}},
		{"pagination[pageSize]=10&pagination[withCount]=false", 31,
			map[string]any{"page": 1, "pageSize": 10}},
		{"pagination[start]=5&pagination[limit]=10", 31,
			map[string]any{"start": 5, "limit": 10, "total": int64(31)}},
		{"pagination[start]=5&pagination[withCount]=false", 31,
			map[string]any{"start": 5, "limit": 25}},
	}
	for _, tc := range cases {
		c, err := compile(t, tc.q, query.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Pagination.Meta(tc.total); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.q, got, tc.want)
		}
	}
}

func TestAttributeExprMatchesTheFilterExpression(t *testing.T) {
	s := articleSchema()
	for _, d := range []query.Dialect{query.SQLite, query.Postgres} {
		for _, a := range s.Attributes {
			expr := query.AttributeExpr(d, a)
			if a.Type == schema.TypeJSON {
				if expr != "" {
					t.Errorf("%s %s: %q, want none", d, a.Name, expr)
				}
				continue
			}
			c, err := compile(t, "sort="+a.Name, query.Options{Dialect: d, AllowPrivate: true})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(c.OrderBy, expr+" ASC") {
				t.Errorf("%s %s: ORDER BY %s does not start with %s", d, a.Name, c.OrderBy, expr)
			}
		}
	}
	odd := &schema.Attribute{Name: "odd name?", Type: schema.TypeString}
	if expr := query.AttributeExpr(query.SQLite, odd); expr != "" {
		t.Errorf("odd name: %q, want none", expr)
	}
}

func TestUnqueryableNamesAreRefusedNotInjected(t *testing.T) {
	s := articleSchema()
	s.Attributes = append(s.Attributes,
		&schema.Attribute{Name: "it's", Type: schema.TypeString},
		&schema.Attribute{Name: "why?", Type: schema.TypeText})
	for _, q := range []string{"filters[it's]=x", "sort=why?", "filters[why%3F]=x"} {
		p, err := query.Parse(q)
		if err != nil {
			t.Fatal(err)
		}
		_, err = query.Compile(p, s, query.Options{Dialect: query.SQLite})
		var qe *query.Error
		if !errors.As(err, &qe) || !strings.Contains(qe.Message, "cannot be queried") {
			t.Errorf("%s: got %v", q, err)
		}
	}
	// _q skips them; fields may still name them.
	p, _ := query.Parse("_q=x&fields=why?")
	c, err := query.Compile(p, s, query.Options{Dialect: query.SQLite})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(c.Where, "why") || strings.Contains(c.Where, "it's") {
		t.Errorf("_q used an unqueryable name: %s", c.Where)
	}
}

func TestCompileRefusesProgrammingMistakes(t *testing.T) {
	p, _ := query.Parse("")
	if _, err := query.Compile(p, articleSchema(), query.Options{Dialect: "oracle"}); err == nil {
		t.Error("unknown dialect accepted")
	}
	if _, err := query.Compile(p, nil, query.Options{Dialect: query.SQLite}); err == nil {
		t.Error("nil schema accepted")
	}
}

func TestCompileRefusesHandBuiltNonsense(t *testing.T) {
	bad := []*query.Filter{
		{Op: "$eq", Field: "title"},
		{Op: "$between", Field: "views", Values: []string{"1"}},
		{Op: "$like", Field: "title", Values: []string{"x"}},
		{Op: "$eq", Values: []string{"x"}},
		{Op: "$or", Children: []*query.Filter{{Op: "$in", Field: "title"}}},
	}
	for _, f := range bad {
		p := &query.Params{Filters: f}
		_, err := query.Compile(p, articleSchema(), query.Options{Dialect: query.SQLite})
		var qe *query.Error
		if !errors.As(err, &qe) {
			t.Errorf("%s: got %v, want a *query.Error", render(f), err)
		}
	}
	db := contenttest.OpenDB(t)
	seed(t, db)
	for op, want := range map[string]int{"$not": 0, "$and": len(fixtureRows), "$or": 0} {
		p, _ := query.Parse("")
		p.Filters = &query.Filter{Op: op}
		c, err := query.Compile(p, articleSchema(), query.Options{Dialect: query.SQLite})
		if err != nil {
			t.Fatal(err)
		}
		if ids, err := execute(db, c); err != nil || len(ids) != want {
			t.Errorf("empty %s: %v %v, want %d rows", op, ids, err, want)
		}
	}
}
