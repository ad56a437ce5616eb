package content

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// readState is what the read path keeps between requests: prepared
// statements, the planner's row counts and the response cache. Its zero
// value is ready; the parts are made on first use.
type readState struct {
	once   sync.Once
	stmts  *stmtCache
	cache  *responseCache
	totals sync.Map // totalKey -> totalCount
}

// reads returns the service's read state, making it on first use. The
// response cache starts listening to the bus then, before anything can be
// kept in it.
func (s *Service) reads() *readState {
	rs := &s.readState
	rs.once.Do(func() {
		pool, _ := s.db.Read.DB()
		rs.stmts = &stmtCache{db: pool, stmts: map[string]*sql.Stmt{}}
		rs.cache = newResponseCache(DefaultCacheBytes)
		if s.db.Bus != nil {
			s.db.Bus.Subscribe(TopicEntries, func(uid string) {
				// Populated answers of other types may show uid's
				// documents (or, for MediaUID, files): they go too.
				for _, dep := range s.dependents(uid) {
					rs.cache.invalidate(dep)
				}
			})
			s.db.Bus.Subscribe(TopicContentTypes, func(string) { rs.cache.purge() })
		}
	})
	return rs
}

// maxStmts bounds the prepared statements kept: each distinct filter shape
// is a statement, and a client can invent shapes.
const maxStmts = 256

// stmtCache keeps prepared statements of the read pool by their SQL, so a
// hot query is parsed and planned once per connection instead of once per
// request.
type stmtCache struct {
	db    *sql.DB
	mu    sync.RWMutex
	stmts map[string]*sql.Stmt
}

// query runs q with args through a prepared statement.
func (c *stmtCache) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := c.prepare(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (c *stmtCache) prepare(ctx context.Context, q string) (*sql.Stmt, error) {
	c.mu.RLock()
	st := c.stmts[q]
	c.mu.RUnlock()
	if st != nil {
		return st, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.stmts[q]; st != nil {
		return st, nil
	}
	st, err := c.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if len(c.stmts) >= maxStmts {
		// Drop one at random (map order). database/sql closes it once the
		// queries still using it are done.
		for k, old := range c.stmts {
			old.Close()
			delete(c.stmts, k)
			break
		}
	}
	c.stmts[q] = st
	return st, nil
}

// rebind turns '?' placeholders into PostgreSQL's $1, $2, ..., leaving
// quoted literals and identifiers alone.
func rebind(q string) string {
	if strings.IndexByte(q, '?') < 0 {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	var quote byte
	for i := 0; i < len(q); i++ {
		ch := q[i]
		switch {
		case quote != 0:
			if ch == quote {
				quote = 0
			}
		case ch == '\'' || ch == '"':
			quote = ch
		case ch == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(ch)
	}
	return b.String()
}

// stateTerm is the condition selecting published rows or drafts, written
// so that every entries index, whose first column is (published_at IS
// NULL), serves it as an equality. PostgreSQL rewrites "(x IS NULL) =
// false" into "x IS NOT NULL", which no longer matches the indexed
// expression, but keeps IS FALSE, which it matches as one.
func (s *Service) stateTerm(published bool) string {
	switch {
	case s.db.Dialect == Postgres && published:
		return "(published_at IS NULL) IS FALSE"
	case s.db.Dialect == Postgres:
		return "(published_at IS NULL) IS TRUE"
	case published:
		return "(published_at IS NULL) = 0"
	}
	return "(published_at IS NULL) = 1"
}

// typeTerm selects a content type's rows with the uid as a literal, which
// the partial indexes' WHERE content_type = '<uid>' needs to apply (a bound
// parameter would hide the value from the planner).
func typeTerm(uid string) string {
	return "content_type = " + sqlLiteral(uid)
}

// totalKey and totalCount are the planner's estimate of how many rows a
// type has in one state.
type totalKey struct {
	uid       string
	published bool
}

type totalCount struct {
	n  int64
	at time.Time
}

// totalsMaxAge is how old an estimate may be. It only steers a plan choice,
// never an answer, so it need not follow every commit.
const totalsMaxAge = 10 * time.Second

// approxTotal returns about how many rows type uid has in the state.
func (s *Service) approxTotal(ctx context.Context, uid string, published bool) (int64, error) {
	rs := s.reads()
	k := totalKey{uid, published}
	now := s.now()
	if v, ok := rs.totals.Load(k); ok {
		tc := v.(totalCount)
		if age := now.Sub(tc.at); age >= 0 && age < totalsMaxAge {
			return tc.n, nil
		}
	}
	q := "SELECT count(*) FROM entries WHERE " + typeTerm(uid) + " AND " + s.stateTerm(published)
	n, err := s.count(ctx, q)
	if err != nil {
		return 0, err
	}
	rs.totals.Store(k, totalCount{n: n, at: now})
	return n, nil
}

// count runs a SELECT count(*) through the statement cache.
func (s *Service) count(ctx context.Context, q string, args ...any) (int64, error) {
	if s.db.Dialect == Postgres {
		q = rebind(q)
	}
	rows, err := s.reads().stmts.query(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var n int64
	if rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return 0, err
		}
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	return n, nil
}

// docColumns are the columns a rendered document needs, in scan order.
const docColumns = "id, document_id, published_at, data, created_at, updated_at"

// sqliteDocColumns are docColumns with the timestamps read as their stored
// text (a unary + drops the declared type, which would make the driver
// parse them): rendering rewrites that text faster than it could parse and
// format times (see appendStoredTime).
const sqliteDocColumns = "id, document_id, +published_at, data, +created_at, +updated_at"

// columns returns the document columns for the dialect.
func (s *Service) columns() string {
	if s.db.Dialect == SQLite {
		return sqliteDocColumns
	}
	return docColumns
}

// renderRows runs q (which selects s.columns()) and renders each row into
// buf, separated by sep when it is not 0, returning each document's bounds.
func (s *Service) renderRows(ctx context.Context, t *Type, opts renderOptions, buf []byte,
	sep byte, q string, args []any) ([]byte, [][2]int, error) {
	text := s.db.Dialect == SQLite
	if !text {
		q = rebind(q)
	}
	rows, err := s.reads().stmts.query(ctx, q, args...)
	if err != nil {
		return buf, nil, err
	}
	defer rows.Close()
	var (
		docs                    [][2]int
		r                       docRow
		pub                     sql.NullTime
		data                    sql.RawBytes
		created, updated, pubAt sql.RawBytes
		raw                     [3][]byte
	)
	for rows.Next() {
		if text {
			err = rows.Scan(&r.id, &r.documentID, &pubAt, &data, &created, &updated)
			raw = [3][]byte{created, updated, pubAt}
			r.raw = &raw
		} else {
			err = rows.Scan(&r.id, &r.documentID, &pub, &data, &r.createdAt, &r.updatedAt)
			r.publishedAt = nil
			if pub.Valid {
				r.publishedAt = &pub.Time
			}
		}
		if err != nil {
			return buf, nil, fmt.Errorf("scan entry: %w", err)
		}
		r.data = data
		if sep != 0 && len(docs) > 0 {
			buf = append(buf, sep)
		}
		start := len(buf)
		if buf, err = appendDoc(buf, t, &r, opts); err != nil {
			return buf, nil, err
		}
		docs = append(docs, [2]int{start, len(buf)})
	}
	return buf, docs, rows.Err()
}
