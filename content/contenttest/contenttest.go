// Package contenttest opens real, migrated databases for tests.
package contenttest

import (
	"context"
	"testing"

	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/migrations"
)

// OpenDB opens a fresh SQLite file in a temporary directory, applies every
// migration, and closes it when the test ends.
func OpenDB(tb testing.TB) *content.DB {
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
