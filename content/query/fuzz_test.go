package query_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/content/contenttest"
	"github.com/herald-cms/herald/content/query"
)

// fuzzSeeds are realistic queries, beside every query of the behaviour tests.
var fuzzSeeds = []string{
	"filters[title][$containsi]=hello&sort=createdAt:desc&pagination[page]=2" +
		"&pagination[pageSize]=10&fields[0]=title&fields[1]=slug&populate=*",
	"filters%5Btitle%5D%5B%24eq%5D=Hello&sort%5B0%5D=title%3Aasc&pagination%5Bpage%5D=1",
	"filters[$or][0][views][$gt]=10&filters[$or][1][active]=true&sort=views:desc",
	"filters[when][$between][0]=2024-01-01&filters[when][$between][1]=2024-12-31T23:59:59Z",
	"filters[big][$in][]=1&filters[big][$in][]=-2&sort[big]=desc",
	"filters[$not][$and][0][day][$null]=true&filters[$not][$and][1][at][$gte]=10:00",
	"_q=%25_&status=draft&pagination[start]=3&pagination[limit]=-1",
	"filters[documentId][$startsWithi]=A&filters[createdAt][$lt]=2030-01-01T00:00:00+01:00",
	"filters[meta][$notNull]=true&filters[price][$lte]=9.99&filters[rating][$gt]=-1e2",
	"filters[title][$endsWith]=%C3%A9&filters[body][$notContainsi]=X&locale=en",
	"populate[author][fields][0]=name&populate[author][populate][company]=true",
	"populate=author.company,tags&filters[author][name][$eq]=x&filters[title][x]=1",
	"filters[tags][slug][$in][0]=a&filters[$or][0][author][$null]=true&populate=*",
	"populate[author][filters][name][$eq]=x&populate[author][sort]=name:desc",
}

func FuzzParseCompile(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	for _, tc := range filterCases {
		f.Add(tc.q)
	}
	for _, tc := range sortCases {
		f.Add(tc.q)
	}
	lite := contenttest.OpenSQLite(f)
	seed(f, lite)
	pg := openPostgres(f)
	if pg != nil {
		seed(f, pg)
	} else {
		f.Log(pgSkipMessage + ", and compare it with SQLite")
	}
	s := articleSchema()
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := query.Parse(raw)
		if err != nil {
			mustBeQueryError(t, raw, err)
			return
		}
		for _, private := range []bool{false, true} {
			opts := query.Options{AllowPrivate: private}
			got := fuzzRun(t, raw, p, lite, opts)
			if pg == nil {
				continue
			}
			want := fuzzRun(t, raw, p, pg, opts)
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("%q: SQLite returned %q, PostgreSQL %q", raw, got, want)
			}
		}
		opts := query.Options{Dialect: query.Postgres, Single: true}
		if _, err := query.Compile(p, s, opts); err != nil {
			mustBeQueryError(t, raw, err)
		}
	})
}

// fuzzRun compiles p for db and runs it; a compile error must be a
// *query.Error and the SQL must never fail.
func fuzzRun(t *testing.T, raw string, p *query.Params, db *content.DB,
	opts query.Options) []string {
	opts.Dialect = query.Dialect(db.Dialect)
	c, err := query.Compile(p, articleSchema(), opts)
	if err != nil {
		mustBeQueryError(t, raw, err)
		return []string{"error: " + err.Error()}
	}
	if n := strings.Count(c.Where, "?"); n != len(c.Args) {
		t.Fatalf("%q: WHERE has %d placeholders for %d args: %s", raw, n, len(c.Args), c.Where)
	}
	if strings.Contains(c.OrderBy, "?") || !strings.Contains(c.OrderBy, "id ") {
		t.Fatalf("%q: bad ORDER BY %s", raw, c.OrderBy)
	}
	if c.Limit < 1 || c.Limit > query.MaxPageSize || c.Offset < 0 {
		t.Fatalf("%q: limit %d offset %d", raw, c.Limit, c.Offset)
	}
	ids, err := execute(db, c)
	if err != nil {
		t.Fatalf("%q on %s: SQL failed: %v\nWHERE %s\nORDER BY %s\nargs %#v",
			raw, db.Dialect, err, c.Where, c.OrderBy, c.Args)
	}
	return ids
}

func mustBeQueryError(t *testing.T, raw string, err error) {
	t.Helper()
	var qe *query.Error
	if !errors.As(err, &qe) {
		t.Fatalf("%q: error %v (%T) is not a *query.Error", raw, err, err)
	}
	if qe.Kind != query.KindValidation && qe.Kind != query.KindPagination {
		t.Fatalf("%q: error kind %v", raw, qe.Kind)
	}
	if qe.Message == "" {
		t.Fatalf("%q: empty error message", raw)
	}
}

func BenchmarkParseCompile(b *testing.B) {
	raw := "filters[title][$containsi]=hello&filters[views][$gte]=10" +
		"&filters[$or][0][category]=news&filters[$or][1][active]=true" +
		"&sort[0]=createdAt:desc&sort[1]=title&pagination[page]=2&pagination[pageSize]=10" +
		"&fields[0]=title&fields[1]=slug&populate=*"
	s := articleSchema()
	for _, d := range []query.Dialect{query.SQLite, query.Postgres} {
		b.Run(string(d), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p, err := query.Parse(raw)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := query.Compile(p, s, query.Options{Dialect: d}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
