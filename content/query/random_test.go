package query_test

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/content/query"
)

// extraRows add values at the edges of each type for the random test.
var extraRows = []fixtureRow{
	{"m", 2 * time.Hour, `{"title":"%_%","body":"Ω","views":9007199254740993,"rating":1e300,
		"price":-0.0001,"big":"9223372036854775807","active":false,"day":"0001-01-01",
		"at":"00:00:00.001","when":"9999-12-31T23:59:59.999Z","meta":0}`},
	{"n", 2*time.Hour + time.Second, `{"title":" ","views":-9007199254740993,"rating":-0.0,"big":"-0",
		"day":"2024-02-29T00:00:00Z","at":"9:30:00.000","when":"2024-01-15T09:30:00Z",
		"email":"UPPER@EXAMPLE.COM","category":"blog"}`},
	{"o", 2*time.Hour + 2*time.Second, `{"title":"a\u0001b","body":"x","views":1.5e-10,"big":"00012",
		"day":"2024-13-45","when":"2024-01-15T09:30:00.000+01:00"}`},
}

// randomValues are the values the random test draws from: well-formed and
// malformed ones of every type.
var randomValues = []string{
	"", " ", "%", "_", "%_%", "a", "A", "é", "É", "Ω", "ab", "Zebra", "hello world",
	"Hello World", "a_b", "50% off", "0", "-0", "1", "-1", "1.5", "10", "100", "3.5",
	"1e3", "-3", "9007199254740993", "9223372036854775807", "-9223372036854775808",
	"9223372036854775808", "1e300", "1e-10", "abc", "true", "false", "t", "yes",
	"2024-01-01", "2024-02-29", "2023-02-29", "2024-1-2", "0001-01-01", "9999-12-31",
	"00:00", "09:30", "09:30:00.000", "23:59:59.999", "24:00", "2024-01-15T09:30:00Z",
	"2024-01-15T09:30:00.0005+01:00", "2024-03-01T10:00:00Z", "2024-03-01T10:00:01.5Z",
	"9999-12-31T23:59:59.999Z", "c00000000000000000000000", "k", "L0", "null",
}

var randomFields = []string{
	"title", "body", "slug", "email", "category", "views", "rating", "price", "big",
	"active", "day", "at", "when", "meta", "notes", "secret", "nope", "id", "documentId",
	"createdAt", "updatedAt", "publishedAt",
}

var randomOps = []string{
	"$eq", "$eqi", "$ne", "$nei", "$lt", "$lte", "$gt", "$gte", "$in", "$notIn",
	"$contains", "$notContains", "$containsi", "$notContainsi", "$null", "$notNull",
	"$between", "$startsWith", "$startsWithi", "$endsWith", "$endsWithi",
}

// queryGen writes random well-structured queries.
type queryGen struct {
	r *rand.Rand
	b strings.Builder
}

func (g *queryGen) pick(list []string) string { return list[g.r.IntN(len(list))] }

func (g *queryGen) param(key, val string) {
	if g.b.Len() > 0 {
		g.b.WriteByte('&')
	}
	g.b.WriteString(key)
	g.b.WriteByte('=')
	g.b.WriteString(url.QueryEscape(val))
}

// condition writes one random condition under prefix.
func (g *queryGen) condition(prefix string, depth int) {
	switch n := g.r.IntN(10); {
	case n < 2 && depth < 3:
		op := "$and"
		if n == 1 {
			op = "$or"
		}
		for i := range 1 + g.r.IntN(3) {
			g.condition(fmt.Sprintf("%s[%s][%d]", prefix, op, i), depth+1)
		}
	case n == 2 && depth < 3:
		g.condition(prefix+"[$not]", depth+1)
	default:
		field := prefix + "[" + g.pick(randomFields) + "]"
		op := g.pick(randomOps)
		switch op {
		case "$in", "$notIn":
			for range 1 + g.r.IntN(3) {
				g.param(field+"["+op+"][]", g.pick(randomValues))
			}
		case "$between":
			g.param(field+"["+op+"][0]", g.pick(randomValues))
			g.param(field+"["+op+"][1]", g.pick(randomValues))
		case "$null", "$notNull":
			g.param(field+"["+op+"]", g.pick([]string{"true", "false", "1", "x"}))
		default:
			if g.r.IntN(8) == 0 {
				g.param(field+"[$not]["+op+"]", g.pick(randomValues))
			} else {
				g.param(field+"["+op+"]", g.pick(randomValues))
			}
		}
	}
}

func (g *queryGen) query() string {
	g.b.Reset()
	for range g.r.IntN(3) {
		g.condition("filters", 0)
	}
	for i := range g.r.IntN(3) {
		dir := g.pick([]string{"", ":asc", ":desc"})
		g.param(fmt.Sprintf("sort[%d]", i), g.pick(randomFields)+dir)
	}
	if g.r.IntN(4) == 0 {
		g.param("_q", g.pick(randomValues))
	}
	if g.r.IntN(3) == 0 {
		g.param("pagination[start]", fmt.Sprint(g.r.IntN(6)))
		g.param("pagination[limit]", fmt.Sprint(1+g.r.IntN(6)))
	}
	return g.b.String()
}

// TestRandomQueriesAgreeAcrossDialects runs thousands of generated queries:
// none may make SQL fail, and with PostgreSQL available both databases must
// return the same rows in the same order (or the same error).
func TestRandomQueriesAgreeAcrossDialects(t *testing.T) {
	dbs := openDBs(t)
	defer skipPostgres(t, dbs)
	for _, tdb := range dbs {
		seedRows(t, tdb.db, extraRows)
	}
	s := articleSchema()
	g := &queryGen{r: rand.New(rand.NewPCG(1, 2))}
	n := 3000
	if testing.Short() {
		n = 300
	}
	for range n {
		raw := g.query()
		opts := query.Options{AllowPrivate: g.r.IntN(2) == 0}
		var first string
		for i, tdb := range dbs {
			rows, err := run(t, tdb.db, s, raw, opts)
			got := strings.Join(rows, " ")
			if err != nil {
				mustBeQueryError(t, raw, err)
				got = "error: " + err.Error()
			}
			if i == 0 {
				first = got
			} else if got != first {
				t.Errorf("%s\n sqlite   %s\n %-8s %s", raw, first, tdb.name, got)
			}
		}
	}
}

// seedRows inserts more published articles after the fixture.
func seedRows(tb testing.TB, db *content.DB, rows []fixtureRow) {
	tb.Helper()
	ins := "INSERT INTO entries (document_id, content_type, published_at, data, " +
		"created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)"
	if db.Dialect == content.Postgres {
		ins = strings.Replace(ins, "?, ?, ?)", "CAST(CAST(? AS text) AS jsonb), ?, ?)", 1)
	}
	for _, r := range rows {
		at := fixtureT0.Add(r.created)
		err := db.Write.Exec(ins, docID(r.name), articleUID, fixtureT0, r.data, at, at).Error
		if err != nil {
			tb.Fatalf("insert %s: %v", r.name, err)
		}
	}
}
