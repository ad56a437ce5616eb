// Package contenttest opens real, migrated databases for tests.
//
// OpenDB is the database most tests use: a fresh SQLite file, or with
// HERALD_TEST_DB=postgres a fresh PostgreSQL schema, so that the same suite
// runs on both (`make test` runs it twice). OpenSQLite and OpenPostgres
// pick a dialect whatever the variable says; PostgresSchema gives a URL
// that several instances can share.
package contenttest

import (
	"context"
	"os"
	"testing"

	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/migrations"
)

// OnPostgres reports whether HERALD_TEST_DB=postgres asks OpenDB for
// PostgreSQL.
func OnPostgres() bool {
	return os.Getenv("HERALD_TEST_DB") == "postgres"
}

// OpenDB opens a fresh, migrated database that is closed when the test
// ends: a SQLite file in a temporary directory, or a PostgreSQL schema of
// its own when HERALD_TEST_DB=postgres (skipped or failed as PostgresURL
// says when HERALD_TEST_POSTGRES_URL is unset).
func OpenDB(tb testing.TB) *content.DB {
	tb.Helper()
	if OnPostgres() {
		return OpenPostgres(tb)
	}
	return OpenSQLite(tb)
}

// OpenSQLite opens a fresh SQLite file in a temporary directory, applies
// every migration, and closes it when the test ends.
func OpenSQLite(tb testing.TB) *content.DB {
	tb.Helper()
	ctx := context.Background()
	db, err := content.OpenDB(ctx, "", tb.TempDir())
	if err != nil {
		tb.Fatalf("open database: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	if err := migrations.Up(ctx, db.SQL(), string(db.Dialect)); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	return db
}
