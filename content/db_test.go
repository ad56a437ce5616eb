package content_test

import (
	"context"
	"testing"

	"github.com/herald-cms/herald/content/contenttest"
)

func TestOpenDBMigratesAndSeedsRoles(t *testing.T) {
	db := contenttest.OpenDB(t)
	var n int64
	if err := db.Read.WithContext(context.Background()).Table("admin_roles").Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Fatalf("admin_roles has %d rows, want 3", n)
	}
}
