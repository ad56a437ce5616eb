package content

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/herald-cms/herald/content/schema"
	"github.com/herald-cms/herald/migrations"
)

// sqlLog is a gorm logger that keeps every statement run, with its values
// written in, so the test can ask SQLite how it would run them.
type sqlLog struct {
	mu    sync.Mutex
	stmts []string
}

func (l *sqlLog) LogMode(logger.LogLevel) logger.Interface      { return l }
func (l *sqlLog) Info(context.Context, string, ...interface{})  {}
func (l *sqlLog) Warn(context.Context, string, ...interface{})  {}
func (l *sqlLog) Error(context.Context, string, ...interface{}) {}
func (l *sqlLog) Trace(_ context.Context, _ time.Time, fc func() (string, int64), _ error) {
	q, _ := fc()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stmts = append(l.stmts, q)
}

// plan returns SQLite's query plan for q, one line per step.
func plan(t *testing.T, db *DB, q string, args ...any) string {
	t.Helper()
	rows, err := db.Read.Raw("EXPLAIN QUERY PLAN "+q, args...).Rows()
	if err != nil {
		t.Fatalf("explain %s: %v", q, err)
	}
	defer rows.Close()
	var steps []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		steps = append(steps, detail)
	}
	return strings.Join(steps, "; ")
}

// TestQueriesUseTheTypeIndexes asks SQLite how it runs the content API's
// queries on a type with indexed attributes: reads and the write path's
// lookups must seek in an index, never scan the table or sort a whole
// result set.
func TestQueriesUseTheTypeIndexes(t *testing.T) {
	ctx := context.Background()
	db, err := OpenDB(ctx, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := migrations.Up(ctx, db.SQL(), string(db.Dialect)); err != nil {
		t.Fatal(err)
	}
	log := &sqlLog{}
	db.Write = db.Write.Session(&gorm.Session{Logger: log})
	s, err := NewService(ctx, db, Config{})
	if err != nil {
		t.Fatal(err)
	}
	sc, err := schema.Parse([]byte(`{"kind":"collectionType","info":{"singularName":"article",
		"pluralName":"articles","displayName":"Article"},"options":{"draftAndPublish":true},
		"attributes":{"title":{"type":"string"},"slug":{"type":"uid","targetField":"title"},
		"code":{"type":"string","unique":true},"views":{"type":"integer"},
		"body":{"type":"richtext"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	typ, err := s.CreateType(ctx, sc)
	if err != nil {
		t.Fatal(err)
	}
	var docID string
	for i := range 50 {
		raw, err := s.Create(ctx, SystemActor, typ, map[string]any{
			"title": fmt.Sprintf("Title %d", i), "code": fmt.Sprint(i), "views": i},
			WriteOptions{Publish: true})
		if err != nil {
			t.Fatal(err)
		}
		docID = string(raw[strings.Index(string(raw), `"documentId":"`)+14:][:24])
	}
	if _, err := s.Update(ctx, SystemActor, typ, docID, map[string]any{"title": "Changed"},
		WriteOptions{Publish: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Unpublish(ctx, SystemActor, typ, docID, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, SystemActor, typ, docID); err != nil {
		t.Fatal(err)
	}

	// The write path: every lookup of entries must use an index.
	n := 0
	for _, q := range log.stmts {
		if !strings.HasPrefix(q, "SELECT") || !strings.Contains(q, "FROM `entries`") &&
			!strings.Contains(q, "FROM entries") {
			continue
		}
		n++
		p := plan(t, db, q)
		if strings.Contains(p, "SCAN entries") || strings.Contains(p, "entries_type_state") {
			t.Errorf("write path query reads the whole type:\n  %s\n  plan: %s", q, p)
		}
	}
	if n == 0 {
		t.Fatal("no write path query was captured")
	}

	// The read path, as findPage and findOne build it.
	reads := []struct {
		name, query string
		walk        bool
		want        string // the index the plan must use, by attribute
		sorts       bool   // the plan may sort the matches
	}{
		{"list", "", false, "", false},
		{"sorted", "sort=title", false, "title", false},
		{"sorted descending", "sort=title:desc", false, "title", false},
		{"filtered", "filters[views][$gt]=10", false, "views", true},
		{"filtered, walking id order", "filters[views][$gt]=10", true, "", false},
		{"filtered and sorted", "filters[views][$gt]=10&sort=title", false, "views", true},
		{"filtered and sorted, walking the sort index", "filters[views][$gt]=10&sort=title", true,
			"title", false},
		{"filtered by a text attribute", "filters[slug][$eq]=title-3", false, "slug", true},
	}
	for _, r := range reads {
		p, c, err := s.compile(typ, r.query, ReadOptions{}, false)
		if err != nil {
			t.Fatal(err)
		}
		_ = p
		scope, err := s.scope(ctx, SystemActor, typ, c, ActionFind, false)
		if err != nil {
			t.Fatal(err)
		}
		q, args := scope.listSQL(c, r.walk)
		got := plan(t, db, q, args...)
		if strings.Contains(got, "SCAN entries") ||
			!r.sorts && strings.Contains(got, "TEMP B-TREE FOR ORDER BY") {
			t.Errorf("%s: plan %s", r.name, got)
		}
		if r.want != "" {
			idx := attributeIndexName(typ.UID, typ.Schema.Attributes.Get(r.want))
			if !strings.Contains(got, idx) {
				t.Errorf("%s: plan %s does not use the %s index %s", r.name, got, r.want, idx)
			}
		}
		q, args = scope.countSQL()
		if got := plan(t, db, q, args...); strings.Contains(got, "SCAN entries") {
			t.Errorf("%s: count plan %s", r.name, got)
		}
	}
	_, c, err := s.compile(typ, "", ReadOptions{}, true)
	if err != nil {
		t.Fatal(err)
	}
	scope, err := s.scope(ctx, SystemActor, typ, c, ActionFindOne, false)
	if err != nil {
		t.Fatal(err)
	}
	q, args := scope.oneSQL("abc", false)
	if got := plan(t, db, q, args...); !strings.Contains(got, "entries_document_state") {
		t.Errorf("one document: plan %s, want entries_document_state", got)
	}
}
