package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/herald-cms/herald/content/contenttest"
	"github.com/herald-cms/herald/web/webtest"
)

const articleType = `{
  "kind": "collectionType", "collectionName": "articles",
  "info": {"singularName": "article", "pluralName": "articles", "displayName": "Article"},
  "options": {"draftAndPublish": true},
  "attributes": {
    "title": {"type": "string", "required": true},
    "slug": {"type": "uid", "targetField": "title", "unique": true},
    "views": {"type": "integer"},
    "score": {"type": "decimal"},
    "live": {"type": "boolean"},
    "day": {"type": "date"},
    "at": {"type": "datetime"},
    "meta": {"type": "json"}
  }}`

// seedInstallation fills a Herald with a bit of everything an export
// carries, and returns the admin token and an API key.
func seedInstallation(t *testing.T, s *webtest.Server) (adminToken, key string) {
	t.Helper()
	adminToken = s.RegisterAdmin()
	s.CreateType(adminToken, articleType)
	key = s.CreateToken(adminToken, "site", "full-access")
	docs := []map[string]any{
		{"title": "Zebra crossing", "views": 10, "score": 1.5, "live": true, "day": "2024-02-29",
			"at": "2024-03-01T10:00:00.123Z", "meta": map[string]any{"b": 1, "a": []any{1, "x"}}},
		{"title": "apple", "views": -3, "live": false},
		{"title": "Émile", "views": 2147483647},
	}
	for _, d := range docs {
		s.Must(201, "POST", "/api/articles", map[string]any{"data": d}, key)
	}
	// A document with a published version and a newer draft, and one that
	// is only a draft.
	var first struct {
		Data []struct {
			DocumentID string `json:"documentId"`
		} `json:"data"`
	}
	s.Must(200, "GET", "/api/articles?sort=title", nil, key).JSON(t, &first)
	s.Must(200, "PUT", "/api/articles/"+first.Data[0].DocumentID+"?status=draft",
		map[string]any{"data": map[string]any{"title": "Zebra (draft)"}}, key)
	s.Must(201, "POST", "/api/articles?status=draft",
		map[string]any{"data": map[string]any{"title": "Unpublished"}}, key)
	s.Must(201, "POST", "/admin/webhooks", map[string]any{
		"name": "rebuild", "url": "http://127.0.0.1:9/hook", "events": []string{"entry.create"},
	}, adminToken)
	return adminToken, key
}

// answers reads what a frontend and an administrator see.
func answers(t *testing.T, s *webtest.Server, adminToken, key string) map[string]string {
	t.Helper()
	paths := []struct{ path, token string }{
		{"/api/articles?sort=title", key},
		{"/api/articles?status=draft&sort=id:desc", key},
		{"/api/articles?filters[views][$gt]=0&sort=views:desc&fields[0]=title", key},
		{"/api/articles?filters[title][$containsi]=E&sort=title", key},
		{"/admin/webhooks", adminToken},
		{"/admin/content-types", adminToken},
		{"/admin/api-tokens", adminToken},
	}
	out := map[string]string{}
	for _, p := range paths {
		out[p.path] = string(s.Must(200, "GET", p.path, nil, p.token).Body)
	}
	return out
}

func TestExportFromSQLiteImportIntoPostgresAnswersTheSame(t *testing.T) {
	pgURL := contenttest.PostgresSchema(t)
	ctx := context.Background()
	lite := contenttest.OpenSQLite(t)
	src := webtest.Start(t, webtest.Options{DB: lite, NoStart: true})
	adminToken, key := seedInstallation(t, src)
	before := answers(t, src, adminToken, key)

	file := filepath.Join(t.TempDir(), "herald.jsonl")
	var out bytes.Buffer
	err := run(ctx, []string{"export", "--database-url", lite.URL, "--output", file},
		envOf(nil), &out, &out)
	if err != nil {
		t.Fatalf("export: %v\n%s", err, out.String())
	}
	out.Reset()
	err = run(ctx, []string{"import", "--database-url", pgURL, "--input", file},
		envOf(nil), &out, &out)
	if err != nil {
		t.Fatalf("import: %v\n%s", err, out.String())
	}
	t.Log(strings.TrimSpace(out.String()))

	pg := contenttest.Open(t, pgURL)
	dst := webtest.Start(t, webtest.Options{DB: pg, NoStart: true})
	// Sessions stay behind: the administrator signs in again, with the old
	// password. The API key works as it is.
	var login struct {
		Data struct {
			Token string `json:"token"`
		} `json:"data"`
	}
	dst.Must(200, "POST", "/admin/login", map[string]any{
		"email": "ada@example.com", "password": "correct horse battery"}, "").JSON(t, &login)
	after := answers(t, dst, login.Data.Token, key)
	for path, want := range before {
		if got := after[path]; got != want {
			t.Errorf("%s differs after the move\nsqlite:   %s\npostgres: %s", path, want, got)
		}
	}

	// New rows get fresh ids, and unique attributes stay unique.
	r := dst.Must(201, "POST", "/api/articles", map[string]any{"data": map[string]any{
		"title": "New on PostgreSQL"}}, key)
	if !strings.Contains(string(r.Body), `"id":`) {
		t.Fatalf("create after import: %s", r.Body)
	}
	var idx int64
	pg.Read.Raw("SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema() " +
		"AND indexname LIKE 'entries_ux_%'").Scan(&idx)
	if idx != 1 {
		t.Errorf("%d unique indexes after import, want the slug's 1", idx)
	}

	// A second import into the same database is refused.
	err = run(ctx, []string{"import", "--database-url", pgURL, "--input", file},
		envOf(nil), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "empty database") {
		t.Errorf("import into a used database: %v", err)
	}
}

func TestImportRefusesATruncatedFileAndChangesNothing(t *testing.T) {
	ctx := context.Background()
	lite := contenttest.OpenSQLite(t)
	src := webtest.Start(t, webtest.Options{DB: lite, NoStart: true})
	seedInstallation(t, src)
	var buf bytes.Buffer
	if _, err := exportData(ctx, lite, &buf, deliveriesPending); err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(strings.TrimSpace(buf.String()), "\n")
	truncated := strings.Join(lines[:len(lines)-1], "")

	dst := contenttest.OpenDB(t)
	_, err := importData(ctx, dst, strings.NewReader(truncated))
	if err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("truncated import: %v", err)
	}
	var n int64
	dst.Read.Table("content_types").Count(&n)
	if n != 0 {
		t.Fatalf("a failed import left %d content types", n)
	}
	dst.Read.Table("admin_roles").Count(&n)
	if n != 3 {
		t.Fatalf("a failed import left %d roles, want the 3 seeded", n)
	}
	if _, err := importData(ctx, dst, strings.NewReader("{}\n")); err == nil {
		t.Fatal("a file that is not an export was accepted")
	}
}

func TestExportRoundTripsBetweenDialects(t *testing.T) {
	// PostgreSQL to SQLite, then back to a second PostgreSQL schema: the
	// two PostgreSQL exports carry the same rows.
	ctx := context.Background()
	pg := contenttest.OpenPostgres(t)
	src := webtest.Start(t, webtest.Options{DB: pg, NoStart: true})
	seedInstallation(t, src)

	var first bytes.Buffer
	if _, err := exportData(ctx, pg, &first, deliveriesAll); err != nil {
		t.Fatal(err)
	}
	lite := contenttest.OpenSQLite(t)
	if _, err := importData(ctx, lite, bytes.NewReader(first.Bytes())); err != nil {
		t.Fatalf("import into sqlite: %v", err)
	}
	var middle bytes.Buffer
	if _, err := exportData(ctx, lite, &middle, deliveriesAll); err != nil {
		t.Fatal(err)
	}
	pg2 := contenttest.OpenPostgres(t)
	if _, err := importData(ctx, pg2, bytes.NewReader(middle.Bytes())); err != nil {
		t.Fatalf("import into postgres: %v", err)
	}
	var last bytes.Buffer
	if _, err := exportData(ctx, pg2, &last, deliveriesAll); err != nil {
		t.Fatal(err)
	}
	if a, b := exportRows(t, first.String()), exportRows(t, last.String()); a != b {
		t.Errorf("rows changed on the way\nfirst:\n%s\nlast:\n%s", a, b)
	}
}

// exportRows returns an export's row lines, without its header and
// trailer, with each document's data in a canonical form.
func exportRows(t *testing.T, export string) string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(export), "\n")
	rows := lines[1 : len(lines)-1]
	for i, l := range rows {
		var line exportLine
		if err := json.Unmarshal([]byte(l), &line); err != nil {
			t.Fatal(err)
		}
		if line.Table == "entries" {
			var data string
			json.Unmarshal(line.Row["data"], &data)
			var v any
			json.Unmarshal([]byte(data), &v)
			canon, _ := json.Marshal(v)
			line.Row["data"], _ = json.Marshal(string(canon))
		}
		b, _ := json.Marshal(line)
		rows[i] = string(b)
	}
	return strings.Join(rows, "\n")
}

func TestExportCoversEveryTable(t *testing.T) {
	db := contenttest.OpenSQLite(t)
	var tables []string
	err := db.Read.Raw(`SELECT name FROM sqlite_master WHERE type = 'table'
		AND name NOT LIKE 'sqlite_%'`).Scan(&tables).Error
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(tables)
	known := slices.Concat(dataTables, logTables, skippedTables)
	for _, table := range tables {
		if !slices.Contains(known, table) {
			t.Errorf("table %s is neither exported nor skipped: add it to dataTables "+
				"(parents first) or skippedTables in transfer.go", table)
		}
	}
	for _, table := range known {
		if !slices.Contains(tables, table) {
			t.Errorf("transfer.go names table %s, which the migrations do not create", table)
		}
	}
}

func TestExportFileIsPrivate(t *testing.T) {
	lite := contenttest.OpenSQLite(t)
	file := filepath.Join(t.TempDir(), "x.jsonl")
	err := run(context.Background(), []string{"export", "--database-url", lite.URL,
		"--output", file, "--deliveries", "none"}, envOf(nil), io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("export file mode %v, want 0600", st.Mode().Perm())
	}
	// An existing file is never overwritten.
	err = run(context.Background(), []string{"export", "--database-url", lite.URL,
		"--output", file}, envOf(nil), io.Discard, io.Discard)
	if err == nil {
		t.Error("export overwrote an existing file")
	}
}
