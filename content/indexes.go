package content

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"gorm.io/gorm"
)

// uniqueIndexName names the partial unique index of one attribute. A hash
// keeps the name short and free of characters PostgreSQL would fold.
func uniqueIndexName(uid, attr string) string {
	sum := sha256.Sum256([]byte(uid + "." + attr))
	return "entries_ux_" + hex.EncodeToString(sum[:8])
}

// jsonTextExpr is the SQL expression reading attribute attr of the data
// column as a value unique indexes compare. Attribute names are validated
// identifiers, so they are safe to inline.
func (s *Service) jsonTextExpr(attr string) string {
	if s.db.Dialect == Postgres {
		return fmt.Sprintf("(data->>'%s')", attr)
	}
	return fmt.Sprintf("json_extract(data, '$.%s')", attr)
}

// syncIndexes creates the unique indexes the new type asks for and drops
// those the old one had and the new one no longer wants. Either may be nil.
// Creating an index over data that already repeats a value is ECONFLICT.
func (s *Service) syncIndexes(ctx context.Context, tx *gorm.DB, old, t *Type) error {
	want := map[string]bool{}
	if t != nil {
		for _, a := range t.Schema.Attributes {
			if a.Unique {
				want[a.Name] = true
			}
		}
	}
	if old != nil {
		for _, a := range old.Schema.Attributes {
			if a.Unique && !want[a.Name] {
				stmt := fmt.Sprintf(`DROP INDEX IF EXISTS "%s"`, uniqueIndexName(old.UID, a.Name))
				if err := tx.WithContext(ctx).Exec(stmt).Error; err != nil {
					return fmt.Errorf("drop unique index of %s: %w", a.Name, err)
				}
			}
		}
	}
	if t == nil {
		return nil
	}
	for _, a := range t.Schema.Attributes {
		if !a.Unique {
			continue
		}
		// The uid is validated ("api::" and kebab-case names), so it is safe
		// to inline; PostgreSQL cannot bind parameters in DDL.
		stmt := fmt.Sprintf(
			`CREATE UNIQUE INDEX IF NOT EXISTS "%s" ON entries ((published_at IS NULL), %s) `+
				`WHERE content_type = '%s'`,
			uniqueIndexName(t.UID, a.Name), s.jsonTextExpr(a.Name), t.UID)
		if err := tx.WithContext(ctx).Exec(stmt).Error; err != nil {
			if isUniqueViolation(err) {
				return Errorf(ECONFLICT,
					"Cannot make %s unique: existing entries share a value", a.Name)
			}
			return fmt.Errorf("create unique index of %s: %w", a.Name, err)
		}
	}
	return nil
}

// isUniqueViolation reports whether err is a unique constraint failure on
// either database.
func isUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") ||
		strings.Contains(msg, "SQLSTATE 23505") ||
		strings.Contains(msg, "duplicate key value")
}
