package query_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/content/contenttest"
	"github.com/herald-cms/herald/content/query"
	"github.com/herald-cms/herald/content/schema"
	"github.com/herald-cms/herald/migrations"
)

const articleUID = "api::article.article"

// articleSchema has one attribute of every type, and a private one.
func articleSchema() *schema.Schema {
	attr := func(name, typ string) *schema.Attribute {
		return &schema.Attribute{Name: name, Type: typ}
	}
	cat := attr("category", schema.TypeEnumeration)
	cat.Enum = []string{"news", "blog"}
	secret := attr("secret", schema.TypeString)
	secret.Private = true
	return &schema.Schema{
		Kind:           schema.KindCollection,
		CollectionName: "articles",
		Info:           schema.Info{SingularName: "article", PluralName: "articles"},
		Attributes: schema.Attributes{
			attr("title", schema.TypeString),
			attr("body", schema.TypeText),
			attr("slug", schema.TypeUID),
			attr("email", schema.TypeEmail),
			cat,
			attr("views", schema.TypeInteger),
			attr("rating", schema.TypeFloat),
			attr("price", schema.TypeDecimal),
			attr("big", schema.TypeBigInteger),
			attr("active", schema.TypeBoolean),
			attr("day", schema.TypeDate),
			attr("at", schema.TypeTime),
			attr("when", schema.TypeDateTime),
			attr("meta", schema.TypeJSON),
			secret,
			attr("notes", schema.TypeRichText),
		},
	}
}

// fixtureRow is one published article. Rows are inserted in order, so their
// ids are 1, 2, 3, ... and a query's default order is the table's order.
type fixtureRow struct {
	name string
	// created is the offset of created_at from fixtureT0.
	created time.Duration
	data    string
}

var fixtureT0 = time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)

// fixtureRows hold every attribute type with well-typed, missing, null and
// wrongly typed (left over from an earlier type) values.
var fixtureRows = []fixtureRow{
	{"a", 0, `{"title":"Hello World","body":"the 100% sign","slug":"hello-world",
		"email":"Ann@Example.com","category":"news","views":10,"rating":4.5,"price":9.99,
		"big":"9007199254740993","active":true,"day":"2024-01-15","at":"09:30:00.000",
		"when":"2024-01-15T09:30:00.000Z","meta":{"k":1},"secret":"s1"}`},
	{"b", 0, `{"title":"hello world","body":"under_score","slug":"b","category":"blog",
		"views":2,"rating":3,"price":10,"big":"-5","active":false,"day":"2023-12-31",
		"at":"23:59:59.999","when":"2023-12-31T23:59:59.999Z","meta":null,"secret":"s2"}`},
	{"c", 1500 * time.Millisecond, `{"title":"Zebra","body":"100 percent","views":100,
		"rating":-1.5,"price":0.1,"big":"123","active":true,"day":"2024-02-29",
		"at":"00:00:00.000","when":"2024-02-29T12:00:00.000Z","meta":[1,2]}`},
	{"d", time.Second, `{"title":"éclair","body":"underscore","views":10,"big":"20",
		"active":false,"when":"2024-01-15T09:30:00.001Z"}`},
	{"e", time.Hour, `{"title":42,"body":true,"views":"12","rating":"high","price":"9.99",
		"big":77,"active":"yes","day":"not-a-date","at":930,"when":"yesterday","meta":"str"}`},
	{"f", time.Hour + time.Minute, `{"title":null,"views":null,"big":null,"active":null,
		"day":null,"meta":null}`},
	{"g", time.Hour + 2*time.Minute, `{}`},
	{"h", time.Hour + 3*time.Minute, `{"title":"50% off","body":"a_b","views":-3,
		"rating":1e3,"big":"-9223372036854775808","day":"2024-01-01"}`},
	{"i", time.Hour + 4*time.Minute, `{"title":"a_b","body":"axb","views":0,"rating":0.5,
		"big":"0","active":true}`},
	{"j", time.Hour + 5*time.Minute, `{"title":"ÉCLAIR","views":3.5,"category":"news"}`},
	{"k", time.Hour + 6*time.Minute, `{"title":"Zebra","views":100}`},
	{"l", time.Hour + 7*time.Minute, `{"title":"","body":"","big":"99999999999999999999"}`},
}

// docID turns a row name into a 24-character lowercase alphanumeric id.
func docID(name string) string {
	return name + strings.Repeat("0", 24-len(name))
}

func rowName(id string) string {
	return strings.TrimRight(id, "0")
}

// seed inserts the fixture, plus a draft and an entry of another type that
// no query of published articles may return.
func seed(tb testing.TB, db *content.DB) {
	tb.Helper()
	seedRows(tb, db, fixtureRows)
	ins := "INSERT INTO entries (document_id, content_type, published_at, data, " +
		"created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)"
	if db.Dialect == content.Postgres {
		ins = strings.Replace(ins, "?, ?, ?)", "CAST(CAST(? AS text) AS jsonb), ?, ?)", 1)
	}
	data := `{"title":"Hello World","views":10}`
	for _, e := range []struct {
		id, uid   string
		published any
	}{{docID("draft"), articleUID, nil}, {docID("other"), "api::other.other", fixtureT0}} {
		err := db.Write.Exec(ins, e.id, e.uid, e.published, data, fixtureT0, fixtureT0).Error
		if err != nil {
			tb.Fatalf("insert %s: %v", e.id, err)
		}
	}
}

// testDB is a seeded database of one dialect.
type testDB struct {
	name string
	db   *content.DB
}

// openDBs returns a seeded SQLite database and, when HERALD_TEST_POSTGRES_URL
// is set, a seeded PostgreSQL one.
func openDBs(t *testing.T) []testDB {
	t.Helper()
	lite := contenttest.OpenSQLite(t)
	seed(t, lite)
	dbs := []testDB{{"sqlite", lite}}
	if pg := openPostgres(t); pg != nil {
		seed(t, pg)
		dbs = append(dbs, testDB{"postgres", pg})
	}
	return dbs
}

const pgSkipMessage = "set HERALD_TEST_POSTGRES_URL=postgres://... to run the PostgreSQL half"

// skipPostgres records, as a skipped subtest, that the PostgreSQL half of a
// test did not run.
func skipPostgres(t *testing.T, dbs []testDB) {
	if len(dbs) == 1 {
		t.Run("postgres", func(t *testing.T) { t.Skip(pgSkipMessage) })
	}
}

// openPostgres opens a fresh, migrated schema in the database named by
// HERALD_TEST_POSTGRES_URL and drops it when the test ends. Without the
// variable it returns nil, or fails the test when
// HERALD_TEST_REQUIRE_POSTGRES=1.
func openPostgres(tb testing.TB) *content.DB {
	tb.Helper()
	base := os.Getenv("HERALD_TEST_POSTGRES_URL")
	if base == "" {
		if os.Getenv("HERALD_TEST_REQUIRE_POSTGRES") == "1" {
			tb.Fatal(pgSkipMessage + " (HERALD_TEST_REQUIRE_POSTGRES=1 is set)")
		}
		return nil
	}
	ctx := context.Background()
	admin, err := content.OpenDB(ctx, base, "")
	if err != nil {
		tb.Fatalf("open postgres: %v", err)
	}
	schemaName := fmt.Sprintf("query_test_%d_%d", os.Getpid(), time.Now().UnixNano())
	if err := admin.Write.Exec("CREATE SCHEMA " + schemaName).Error; err != nil {
		admin.Close()
		tb.Fatalf("create schema: %v", err)
	}
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("parse HERALD_TEST_POSTGRES_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schemaName)
	u.RawQuery = q.Encode()
	db, err := content.OpenDB(ctx, u.String(), "")
	if err != nil {
		tb.Fatalf("open postgres schema: %v", err)
	}
	tb.Cleanup(func() {
		db.Close()
		admin.Write.Exec("DROP SCHEMA " + schemaName + " CASCADE")
		admin.Close()
	})
	if err := migrations.Up(ctx, db.SQL(), string(db.Dialect)); err != nil {
		tb.Fatalf("migrate postgres: %v", err)
	}
	return db
}

// run parses and compiles raw for db's dialect, runs it the way the content
// service will, and returns the names of the rows found, in order.
func run(tb testing.TB, db *content.DB, s *schema.Schema, raw string,
	opts query.Options) ([]string, error) {
	tb.Helper()
	p, err := query.Parse(raw)
	if err != nil {
		return nil, err
	}
	opts.Dialect = query.Dialect(db.Dialect)
	c, err := query.Compile(p, s, opts)
	if err != nil {
		return nil, err
	}
	ids, err := execute(db, c)
	if err != nil {
		tb.Fatalf("%s: SQL failed: %v\nWHERE %s\nORDER BY %s\nargs %#v",
			raw, err, c.Where, c.OrderBy, c.Args)
	}
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = rowName(id)
	}
	return names, nil
}

// execute runs a compiled query over the published articles.
func execute(db *content.DB, c *query.Compiled) ([]string, error) {
	sql := "SELECT document_id FROM entries WHERE content_type = ? AND published_at IS NOT NULL"
	if c.Where != "" {
		sql += " AND (" + c.Where + ")"
	}
	sql += " ORDER BY " + c.OrderBy + " LIMIT ? OFFSET ?"
	args := make([]any, 0, len(c.Args)+3)
	args = append(args, articleUID)
	args = append(args, c.Args...)
	args = append(args, c.Limit, c.Offset)
	rows, err := db.Read.Raw(sql, args...).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
