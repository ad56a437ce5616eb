package contenttest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"sync"
	"testing"

	// The pgx driver for database/sql, used to create and drop schemas.
	_ "github.com/jackc/pgx/v5/stdlib"

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
		tb.Skip("PostgreSQL tests skipped: set " +
			"HERALD_TEST_POSTGRES_URL=postgres://user:pass@host/db to run them (.ci/run does)")
	}
	return u
}

// schemaAdmin is one connection pool per test binary that creates and drops
// the test schemas.
var schemaAdmin struct {
	once sync.Once
	db   *sql.DB
	err  error
}

func adminDB(base string) (*sql.DB, error) {
	schemaAdmin.once.Do(func() {
		schemaAdmin.db, schemaAdmin.err = sql.Open("pgx", base)
		if schemaAdmin.err == nil {
			schemaAdmin.db.SetMaxOpenConns(2)
		}
	})
	return schemaAdmin.db, schemaAdmin.err
}

// PostgresSchema creates a fresh schema in the database named by
// HERALD_TEST_POSTGRES_URL, migrates it, drops it when the test ends, and
// returns a URL whose search_path selects it. Everything opened on that
// URL (several content.DBs, several herald processes) shares the schema,
// as instances share a database; tests never share tables with each other.
// Without the variable the test is skipped or failed as PostgresURL says.
func PostgresSchema(tb testing.TB) string {
	tb.Helper()
	base := PostgresURL(tb)
	ctx := context.Background()
	admin, err := adminDB(base)
	if err != nil {
		tb.Fatalf("open postgres: %v", err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schemaName := "t_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schemaName); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+schemaName+" CASCADE"); err != nil {
			tb.Logf("drop schema %s: %v", schemaName, err)
		}
	})

	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("parse HERALD_TEST_POSTGRES_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schemaName)
	u.RawQuery = q.Encode()
	schemaURL := u.String()

	db, err := sql.Open("pgx", schemaURL)
	if err != nil {
		tb.Fatalf("open postgres schema: %v", err)
	}
	defer db.Close()
	if err := migrations.Up(ctx, db, string(content.Postgres)); err != nil {
		tb.Fatalf("migrate postgres: %v", err)
	}
	return schemaURL
}

// Open opens dbURL (a URL from PostgresSchema, say) without migrating it,
// and closes it when the test ends.
func Open(tb testing.TB, dbURL string) *content.DB {
	tb.Helper()
	db, err := content.OpenDB(context.Background(), dbURL, tb.TempDir())
	if err != nil {
		tb.Fatalf("open database: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// OpenPostgres opens a fresh, migrated schema of its own (see
// PostgresSchema) and closes it when the test ends.
func OpenPostgres(tb testing.TB) *content.DB {
	tb.Helper()
	return Open(tb, PostgresSchema(tb))
}

// Dialects runs fn once on a fresh SQLite database and once on a fresh
// PostgreSQL schema (skipped or failed as PostgresURL says).
func Dialects(t *testing.T, fn func(t *testing.T, db *content.DB)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, OpenSQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, OpenPostgres(t)) })
}
