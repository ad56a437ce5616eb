package webhooks

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/herald-cms/herald/content"
)

// The dispatcher's hot statements (Record's inserts, claims, result writes)
// bypass GORM's statement builder: they run straight on the transaction's
// connection, with hand-written SQL whose placeholders are ?, rewritten to
// $n on PostgreSQL. On SQLite they are prepared once: parsing and planning
// a statement costs about as much as running it. Multi-row statements come
// in few shapes so that they stay prepared: row counts are powers of two,
// IN lists and VALUES lists padded with NULLs (which match nothing).

// maxRows is the most rows one multi-row statement takes, keeping it under
// every database's limit on parameters.
const maxRows = 64

// maxPrepared bounds the statements kept prepared.
const maxPrepared = 128

// conn is the database/sql side of a GORM transaction.
func conn(tx *gorm.DB) gorm.ConnPool { return tx.Statement.ConnPool }

// dialectSQL adapts hand-written SQL to a dialect: ? placeholders become
// $1, $2, ... on PostgreSQL. The package's SQL has no ? in literals.
func dialectSQL(d content.Dialect, q string) string {
	if d != content.Postgres {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] != '?' {
			b.WriteByte(q[i])
			continue
		}
		n++
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

// exec runs a statement in tx.
func (s *Service) exec(ctx context.Context, tx *gorm.DB, q string,
	args ...any) (sql.Result, error) {
	q = dialectSQL(s.db.Dialect, q)
	if st := s.prepared(ctx, tx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return conn(tx).ExecContext(ctx, q, args...)
}

// query runs a query in tx.
func (s *Service) query(ctx context.Context, tx *gorm.DB, q string,
	args ...any) (*sql.Rows, error) {
	q = dialectSQL(s.db.Dialect, q)
	if st := s.prepared(ctx, tx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return conn(tx).QueryContext(ctx, q, args...)
}

// prepared returns q prepared for tx, or nil when it is not prepared (yet).
func (s *Service) prepared(ctx context.Context, tx *gorm.DB, q string) *sql.Stmt {
	if s.stmts == nil {
		return nil
	}
	// Record may be handed a transaction of another handle on the same
	// database, whose connection has none of these statements.
	sqlTx, ok := conn(tx).(*sql.Tx)
	if !ok || tx.Config.ConnPool != gorm.ConnPool(s.stmts.db) {
		return nil
	}
	st := s.stmts.get(q)
	if st == nil {
		return nil
	}
	return sqlTx.StmtContext(ctx, st)
}

// stmtCache keeps statements prepared on SQLite's writer connection.
// PostgreSQL's driver keeps its own cache of prepared statements.
type stmtCache struct {
	db *sql.DB
	mu sync.Mutex
	// m holds nil while a statement is being prepared, or when preparing
	// it failed.
	m map[string]*sql.Stmt
}

func newStmtCache(db *content.DB) *stmtCache {
	if db.Dialect != content.SQLite {
		return nil
	}
	w, err := db.Write.DB()
	if err != nil {
		return nil
	}
	return &stmtCache{db: w, m: map[string]*sql.Stmt{}}
}

// get returns q's prepared statement, or nil the first times, while it is
// prepared in the background: the caller may hold the only writer
// connection in a transaction, so preparing cannot wait for it.
func (c *stmtCache) get(q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[q]; ok || len(c.m) >= maxPrepared {
		return st
	}
	c.m[q] = nil
	go c.prepare(q)
	return nil
}

func (c *stmtCache) prepare(q string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := c.db.PrepareContext(ctx, q)
	if err != nil {
		// The statement keeps running unprepared.
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[q] = st
}

// sizeClass rounds n up to a power of two.
func sizeClass(n int) int {
	c := 1
	for c < n {
		c *= 2
	}
	return c
}

// insertChunk is the size of the next multi-row insert of n remaining
// rows: the largest power of two not above n and maxRows. Inserts cannot
// be padded, so n rows take one statement per bit of n.
func insertChunk(n int) int {
	c := 1
	for c*2 <= min(n, maxRows) {
		c *= 2
	}
	return c
}

// padChunks splits n rows into statements of at most maxRows rows, each
// padded to its size class; fn receives the rows' range and the size.
func padChunks(n int, fn func(from, to, size int) error) error {
	for from := 0; from < n; from += maxRows {
		to := min(from+maxRows, n)
		if err := fn(from, to, sizeClass(to-from)); err != nil {
			return err
		}
	}
	return nil
}

// valueRows writes n rows of a VALUES list, each of the given column
// types. PostgreSQL cannot infer the type of a parameter in a VALUES list,
// so each is cast there; SQLite takes them as they are (its CAST would
// turn a time into a number).
func valueRows(d content.Dialect, b *strings.Builder, n int, types ...string) {
	row := make([]string, len(types))
	for i, t := range types {
		row[i] = "?"
		if d == content.Postgres {
			row[i] = "CAST(? AS " + t + ")"
		}
	}
	one := "(" + strings.Join(row, ", ") + ")"
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(one)
	}
}

// repeatRow returns n copies of row separated by commas.
func repeatRow(row string, n int) string {
	return strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
}

// pad appends n nils to args: the values of padding rows.
func pad(args []any, n int) []any {
	for range n {
		args = append(args, nil)
	}
	return args
}

// inIDs returns an IN list for ids and its arguments, padded to a size
// class.
func inIDs(ids []int64) (string, []any) {
	n := sizeClass(len(ids))
	args := make([]any, 0, n)
	for _, id := range ids {
		args = append(args, id)
	}
	return "(" + repeatRow("?", n) + ")", pad(args, n-len(ids))
}
