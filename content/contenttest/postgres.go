package contenttest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/migrations"
)

// PostgresURL returns HERALD_TEST_POSTGRES_URL. When it is unset the test is
// skipped with a message saying how to enable it, or failed when
// HERALD_TEST_REQUIRE_POSTGRES=1 (as CI sets it).
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("HERALD_TEST_POSTGRES_URL")
	if u == "" {
		if os.Getenv("HERALD_TEST_REQUIRE_POSTGRES") == "1" {
			tb.Fatal("HERALD_TEST_POSTGRES_URL is unset but HERALD_TEST_REQUIRE_POSTGRES=1")
		}
		tb.Skip("PostgreSQL tests skipped: set HERALD_TEST_POSTGRES_URL=postgres://user:pass@host/db " +
			"to run them (.ci/run does)")
	}
	return u
}

// OpenPostgres opens HERALD_TEST_POSTGRES_URL in a fresh schema of its own
// (so tests and packages running at once never share tables), migrates it,
// and drops the schema when the test ends.
func OpenPostgres(tb testing.TB) *content.DB {
	tb.Helper()
	base := PostgresURL(tb)
	ctx := context.Background()
	b := make([]byte, 6)
	rand.Read(b)
	schemaName := "t_" + hex.EncodeToString(b)

	admin, err := content.OpenDB(ctx, base, "")
	if err != nil {
		tb.Fatalf("open postgres: %v", err)
	}
	if err := admin.Write.Exec("CREATE SCHEMA " + schemaName).Error; err != nil {
		admin.Close()
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		admin.Write.Exec("DROP SCHEMA " + schemaName + " CASCADE")
		admin.Close()
	})

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
	tb.Cleanup(func() { db.Close() })
	if err := migrations.Up(ctx, db.SQL(), string(db.Dialect)); err != nil {
		tb.Fatalf("migrate postgres: %v", err)
	}
	return db
}

// Dialects runs fn once on a fresh SQLite database and once on a fresh
// PostgreSQL schema (skipped or failed as PostgresURL says).
func Dialects(t *testing.T, fn func(t *testing.T, db *content.DB)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, OpenDB(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, OpenPostgres(t)) })
}
