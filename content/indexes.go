package content

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"gorm.io/gorm"

	"github.com/herald-cms/herald/content/query"
	"github.com/herald-cms/herald/content/schema"
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

// attributeIndexName names the filter-and-sort index of one attribute. The
// attribute's type is part of the hash because the indexed expression
// depends on it: a type change replaces the index.
func attributeIndexName(uid string, a *schema.Attribute) string {
	sum := sha256.Sum256([]byte(uid + "." + a.Name + ":" + a.Type))
	return "entries_ix_" + hex.EncodeToString(sum[:8])
}

// indexedForQueries reports whether an attribute gets a filter-and-sort
// index: every attribute the content API can filter and sort on with an
// ordered comparison (string, uid, email, enumeration, the numbers,
// boolean, date, time, datetime), unless it is private. Long text (text,
// richtext) is left out: it is matched with $contains, which no B-tree
// serves, and rarely sorted on; json cannot be compared at all. Each index
// costs every write of the type a little, which is why private attributes,
// which only the editors' routes may query, get none.
func indexedForQueries(a *schema.Attribute) bool {
	if a.Private {
		return false
	}
	switch a.Type {
	case schema.TypeString, schema.TypeUID, schema.TypeEmail, schema.TypeEnumeration,
		schema.TypeInteger, schema.TypeBigInteger, schema.TypeFloat, schema.TypeDecimal,
		schema.TypeBoolean, schema.TypeDate, schema.TypeTime, schema.TypeDateTime:
		return true
	}
	return false
}

// sqlLiteral quotes s as an SQL string literal. Content type uids are
// validated ("api::" and kebab-case names), so this is belt and braces.
func sqlLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// indexDef is one index a content type needs.
type indexDef struct {
	stmt string
	// unique names the attribute of a unique index.
	unique string
}

// typeIndexes returns the indexes type t needs, by name: a partial unique
// index for each unique attribute, and a partial index for each attribute
// indexedForQueries.
//
// A query index covers ((published_at IS NULL), <typed value>, id) over the
// type's rows only (WHERE content_type = '<uid>'). The typed value is
// query.AttributeExpr, the exact text the compiled filters and sorts use,
// so the planner matches it; reads name the content type as the same
// literal and state the publication state as (published_at IS NULL) = 0
// or 1, so the partial index applies, the first column is an equality,
// and a sort on the attribute is read from the index in order, ties by id
// included. On PostgreSQL the value is indexed ASC NULLS FIRST, the order
// Herald sorts in (a backward scan gives DESC NULLS LAST).
func (s *Service) typeIndexes(t *Type) map[string]indexDef {
	out := map[string]indexDef{}
	if t == nil {
		return out
	}
	// The uid is validated ("api::" and kebab-case names); PostgreSQL
	// cannot bind parameters in DDL, so it is inlined as a literal.
	where := "WHERE content_type = " + sqlLiteral(t.UID)
	for _, a := range t.Schema.Attributes {
		if a.Unique {
			name := uniqueIndexName(t.UID, a.Name)
			out[name] = indexDef{unique: a.Name, stmt: fmt.Sprintf(
				`CREATE UNIQUE INDEX IF NOT EXISTS "%s" ON entries ((published_at IS NULL), %s) %s`,
				name, s.jsonTextExpr(a.Name), where)}
		}
		if !indexedForQueries(a) {
			continue
		}
		expr := query.AttributeExpr(query.Dialect(s.db.Dialect), a)
		if expr == "" {
			continue
		}
		if s.db.Dialect == Postgres {
			expr = "(" + expr + ") ASC NULLS FIRST"
		} else {
			expr = "(" + expr + ")"
		}
		name := attributeIndexName(t.UID, a)
		out[name] = indexDef{stmt: fmt.Sprintf(
			`CREATE INDEX IF NOT EXISTS "%s" ON entries ((published_at IS NULL), %s, id) %s`,
			name, expr, where)}
	}
	return out
}

// syncIndexes creates the indexes the new type asks for (see typeIndexes)
// and drops those the old one had and the new one no longer wants. Either
// may be nil. Creating a unique index over data that already repeats a
// value is ECONFLICT.
func (s *Service) syncIndexes(ctx context.Context, tx *gorm.DB, old, t *Type) error {
	want := s.typeIndexes(t)
	for name := range s.typeIndexes(old) {
		if _, ok := want[name]; ok {
			continue
		}
		err := tx.WithContext(ctx).Exec(`DROP INDEX IF EXISTS "` + name + `"`).Error
		if err != nil {
			return fmt.Errorf("drop index %s: %w", name, err)
		}
	}
	names := make([]string, 0, len(want))
	for name := range want {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		def := want[name]
		if err := tx.WithContext(ctx).Exec(def.stmt).Error; err != nil {
			if def.unique != "" && isUniqueViolation(err) {
				return Errorf(ECONFLICT,
					"Cannot make %s unique: existing entries share a value", def.unique)
			}
			return fmt.Errorf("create index %s: %w", name, err)
		}
	}
	return nil
}

// EnsureIndexes creates the indexes of every content type that are missing,
// for databases whose types were created before Herald indexed them. It
// reads the index names first, so when nothing is missing (the usual case)
// it costs one query and takes no write lock.
func (s *Service) EnsureIndexes(ctx context.Context) error {
	var have []string
	q := "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'entries'"
	if s.db.Dialect == Postgres {
		q = "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() " +
			"AND tablename = 'entries'"
	}
	if err := s.db.Read.WithContext(ctx).Raw(q).Scan(&have).Error; err != nil {
		return fmt.Errorf("list indexes: %w", err)
	}
	exists := map[string]bool{}
	for _, n := range have {
		exists[n] = true
	}
	for _, t := range s.Types() {
		for name, def := range s.typeIndexes(t) {
			if exists[name] {
				continue
			}
			if err := s.db.Write.WithContext(ctx).Exec(def.stmt).Error; err != nil {
				return fmt.Errorf("create index %s of %s: %w", name, t.UID, err)
			}
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
