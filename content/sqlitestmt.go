package content

import (
	"container/list"
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/mattn/go-sqlite3"
)

// Compiling a statement (sqlite3_prepare_v2) costs more than running most
// of Herald's, and database/sql compiles every statement it runs without a
// *sql.Stmt, then finalizes it: GORM pays for it on every statement, in
// transactions too (where its PrepareStmt mode compiles again). The
// driver below keeps, on each SQLite connection, the statements it compiled,
// by their SQL, and runs them again. It sits under GORM and database/sql, so
// transactions, the read pool and the writer all benefit.

// sqliteDriverName is the database/sql name of Herald's SQLite driver: the
// go-sqlite3 driver with a statement cache on each connection.
const sqliteDriverName = "herald-sqlite3"

// sqliteStmtLimit is how many statements each connection keeps. Herald's
// hot paths use a few dozen shapes; a client can invent filter shapes, and
// each kept statement holds its compiled program and last bound values.
const sqliteStmtLimit = 64

// init registers Herald's SQLite driver with database/sql.
func init() {
	sql.Register(sqliteDriverName, &sqliteDriver{})
}

// sqliteDriver opens go-sqlite3 connections and wraps each in a sqliteConn.
type sqliteDriver struct {
	base sqlite3.SQLiteDriver
}

// Open opens a connection as go-sqlite3 does for the same DSN.
func (d *sqliteDriver) Open(dsn string) (driver.Conn, error) {
	c, err := d.base.Open(dsn)
	if err != nil {
		return nil, err
	}
	return newSQLiteConn(c.(*sqlite3.SQLiteConn), sqliteStmtLimit), nil
}

// sqliteConn is a go-sqlite3 connection that keeps up to limit compiled
// statements, the least recently used dropped first. A kept statement is
// lent to one user at a time: while it is busy (its rows are open, or
// database/sql holds it as a prepared statement), the same SQL on the same
// connection gets a statement of its own, finalized after use.
//
// Only single statements that read or write rows, or control transactions,
// are kept (see cacheable); anything else goes straight to go-sqlite3.
// Errors from go-sqlite3 are returned as they are, so that GORM still
// recognises them.
type sqliteConn struct {
	conn  *sqlite3.SQLiteConn
	limit int

	// mu guards the fields below. database/sql already runs one call at
	// a time on a connection; the lock makes that assumption harmless.
	mu     sync.Mutex
	stmts  map[string]*sqliteStmt
	recent list.List // of *sqliteStmt, the most recently used first
	closed bool
	// version reads the schema version (see checkSchema), prepared on
	// first need and kept outside the limit.
	version *sqlite3.SQLiteStmt
	// schema is the schema version the kept statements that expand
	// columns were compiled under; -1 before the first of them.
	schema int64
	// prepared and live count the statements compiled through this
	// connection and those not yet finalized; tests read them.
	prepared int
	live     int
}

// sqliteStmt is a statement compiled on a sqliteConn, kept or not.
type sqliteStmt struct {
	query string
	st    *sqlite3.SQLiteStmt
	// elem is the statement's place in the connection's recent list;
	// nil when it is not kept (never was, or was evicted).
	elem *list.Element
	busy bool
	// star is set when the statement's columns depend on the schema
	// (see expandsColumns).
	star bool
	// columns is how many columns the statement returns, -1 until
	// needed (see exec).
	columns   int
	finalized bool
}

// newSQLiteConn wraps c with a cache of limit statements.
func newSQLiteConn(c *sqlite3.SQLiteConn, limit int) *sqliteConn {
	return &sqliteConn{conn: c, limit: limit, stmts: map[string]*sqliteStmt{}, schema: -1}
}

// The interfaces of go-sqlite3's connection that database/sql uses.
var (
	_ driver.Conn               = (*sqliteConn)(nil)
	_ driver.ConnPrepareContext = (*sqliteConn)(nil)
	_ driver.ConnBeginTx        = (*sqliteConn)(nil)
	_ driver.ExecerContext      = (*sqliteConn)(nil)
	_ driver.QueryerContext     = (*sqliteConn)(nil)
	_ driver.Pinger             = (*sqliteConn)(nil)
)

// cacheable reports whether query is worth keeping compiled: one statement
// (no ';', which multi-statement scripts such as migrations need) that
// reads or writes rows or controls a transaction. Schema changes and
// pragmas run rarely, and some pragmas compute their answer when compiled.
func cacheable(query string) bool {
	if strings.IndexByte(query, ';') >= 0 {
		return false
	}
	q := strings.TrimLeft(query, " \t\r\n(")
	end := strings.IndexFunc(q, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	})
	if end >= 0 {
		q = q[:end]
	}
	switch strings.ToUpper(q) {
	case "SELECT", "INSERT", "UPDATE", "DELETE", "REPLACE", "WITH", "VALUES",
		"BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE":
		return true
	}
	return false
}

// expandsColumns reports whether query may hold a '*' that stands for
// columns (SELECT *, t.*), rather than count(*) or a product: such a
// statement's columns depend on the schema (see checkSchema).
func expandsColumns(query string) bool {
	for i := 0; i < len(query); i++ {
		if query[i] != '*' {
			continue
		}
		if !strings.HasSuffix(strings.TrimRight(query[:i], " \t\r\n"), "(") {
			return true
		}
	}
	return false
}

// Prepare is PrepareContext without a context.
func (c *sqliteConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

// PrepareContext lends a kept statement for query until database/sql
// closes it, or compiles a new one as go-sqlite3 does.
func (c *sqliteConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if !cacheable(query) {
		return c.conn.PrepareContext(ctx, query)
	}
	s, err := c.acquire(ctx, query)
	if err != nil {
		return nil, err
	}
	return &sqlitePrepared{conn: c, stmt: s}, nil
}

// ExecContext runs query through a kept statement when it is cacheable.
func (c *sqliteConn) ExecContext(ctx context.Context, query string,
	args []driver.NamedValue) (driver.Result, error) {
	if !cacheable(query) {
		return c.conn.ExecContext(ctx, query, args)
	}
	s, bound, err := c.acquireBound(ctx, query, args)
	if err != nil {
		return nil, err
	}
	res, err := c.exec(ctx, s, bound)
	c.release(s, err)
	return res, err
}

// QueryContext runs query through a kept statement when it is cacheable;
// the statement stays busy until the rows are closed.
func (c *sqliteConn) QueryContext(ctx context.Context, query string,
	args []driver.NamedValue) (driver.Rows, error) {
	if !cacheable(query) {
		return c.conn.QueryContext(ctx, query, args)
	}
	s, bound, err := c.acquireBound(ctx, query, args)
	if err != nil {
		return nil, err
	}
	rows, err := s.st.QueryContext(ctx, bound)
	if err != nil {
		c.release(s, err)
		return nil, err
	}
	return &sqliteRows{SQLiteRows: rows.(*sqlite3.SQLiteRows), conn: c, stmt: s}, nil
}

// acquireBound acquires a statement for query and picks its arguments
// out of args; on failure nothing stays acquired.
func (c *sqliteConn) acquireBound(ctx context.Context, query string,
	args []driver.NamedValue) (*sqliteStmt, []driver.NamedValue, error) {
	s, err := c.acquire(ctx, query)
	if err != nil {
		return nil, nil, err
	}
	bound, err := bindable(args, s.st.NumInput())
	if err != nil {
		c.release(s, err)
		return nil, nil, err
	}
	return s, bound, nil
}

// bindable picks the arguments of a statement with n parameters out of
// args as go-sqlite3's own Exec and Query do: the first n, then any named
// argument after them, numbered again. Too few arguments is an error.
func bindable(args []driver.NamedValue, n int) ([]driver.NamedValue, error) {
	if len(args) < n {
		return nil, fmt.Errorf("not enough args to execute query: want %d got %d", n, len(args))
	}
	if len(args) == n {
		return args, nil
	}
	out := append([]driver.NamedValue(nil), args[:n]...)
	for _, a := range args[n:] {
		if a.Name != "" {
			out = append(out, a)
		}
	}
	for i := range out {
		out[i].Ordinal = i + 1
	}
	return out, nil
}

// exec runs s once with args. go-sqlite3 steps a statement once to execute
// it; one that returns rows (INSERT ... RETURNING, a SELECT run as Exec)
// would stay active after its first row, holding its transaction open, so
// exec resets it.
func (c *sqliteConn) exec(ctx context.Context, s *sqliteStmt,
	args []driver.NamedValue) (driver.Result, error) {
	if s.columns < 0 {
		s.columns = resetStmt(s.st)
	}
	res, err := s.st.ExecContext(ctx, args)
	if s.columns > 0 {
		resetStmt(s.st)
	}
	return res, err
}

// resetStmt makes st inactive, as closing its rows does, and returns how
// many columns its rows have; it runs nothing. Binding resets a
// statement; the error, if any, is the last run's, already reported.
func resetStmt(st *sqlite3.SQLiteStmt) int {
	rows, err := st.QueryContext(context.Background(), nil)
	if err != nil {
		return 0
	}
	defer rows.Close()
	return len(rows.Columns())
}

// acquire returns a statement for query, marked busy: the kept one if it
// is free, otherwise a newly compiled one, kept when no other is.
func (c *sqliteConn) acquire(ctx context.Context, query string) (*sqliteStmt, error) {
	star := expandsColumns(query)
	if star {
		if err := c.checkSchema(); err != nil {
			return nil, err
		}
	}
	if s := c.take(query); s != nil {
		return s, nil
	}
	st, err := c.conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	s := &sqliteStmt{query: query, st: st.(*sqlite3.SQLiteStmt), busy: true,
		star: star, columns: -1}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.prepared++
	c.live++
	if c.stmts[query] == nil && !c.closed {
		c.keep(s)
	}
	return s, nil
}

// take returns the kept statement for query, marked busy, or nil when
// there is none or it is busy.
func (c *sqliteConn) take(query string) *sqliteStmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stmts[query]
	if s == nil || s.busy {
		return nil
	}
	s.busy = true
	c.recent.MoveToFront(s.elem)
	return s
}

// keep adds s to the kept statements and evicts the least recently used
// beyond the limit: finalized now if free, when released if busy. The
// caller holds mu.
func (c *sqliteConn) keep(s *sqliteStmt) {
	s.elem = c.recent.PushFront(s)
	c.stmts[s.query] = s
	for c.recent.Len() > c.limit {
		c.drop(c.recent.Back().Value.(*sqliteStmt))
	}
}

// drop forgets a kept statement, finalizing it unless it is busy. The
// caller holds mu.
func (c *sqliteConn) drop(s *sqliteStmt) {
	c.recent.Remove(s.elem)
	delete(c.stmts, s.query)
	s.elem = nil
	if !s.busy {
		c.finalize(s)
	}
}

// finalize frees s. sqlite3_finalize's error only repeats the last run's,
// already reported. The caller holds mu.
func (c *sqliteConn) finalize(s *sqliteStmt) {
	if s.finalized {
		return
	}
	s.finalized = true
	s.st.Close()
	c.live--
}

// release gives back a statement from acquire. It stays kept unless it
// was evicted meanwhile, the connection closed, or its last run failed:
// a failed statement is finalized rather than trusted again.
func (c *sqliteConn) release(s *sqliteStmt, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s.busy = false
	switch {
	case s.elem == nil:
		c.finalize(s)
	case err != nil || c.closed:
		c.drop(s)
	}
}

// checkSchema readies the connection for a statement that expands columns.
// When a column is added or dropped, SQLite compiles a statement again on
// its first step, but go-sqlite3 counts the columns before that step, so
// the first run after the change would answer with the old ones. Worse, a
// connection compiles against the schema it last read, and only reads it
// again when a statement steps into the change. So when the schema version
// moved since the kept statements that expand columns were compiled,
// checkSchema makes the connection read the schema and drops them.
//
// A change committed by another connection between this check and the
// statement's first step still shows the old columns once, as it does
// without the cache; Herald changes columns only in migrations.
func (c *sqliteConn) checkSchema() error {
	v, err := c.schemaVersion()
	if err != nil {
		return err
	}
	c.mu.Lock()
	known := c.schema
	c.mu.Unlock()
	if v == known {
		return nil
	}
	// Reading sqlite_master steps into the schema check.
	_, err = c.conn.ExecContext(context.Background(), "SELECT 1 FROM sqlite_master WHERE 0", nil)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for e := c.recent.Front(); e != nil; {
		s := e.Value.(*sqliteStmt)
		e = e.Next()
		if s.star {
			c.drop(s)
		}
	}
	c.schema = v
	return nil
}

// schemaVersion reads the database's schema version, which every change of
// schema increments.
func (c *sqliteConn) schemaVersion() (int64, error) {
	c.mu.Lock()
	st := c.version
	c.mu.Unlock()
	if st == nil {
		ps, err := c.conn.PrepareContext(context.Background(), "PRAGMA schema_version")
		if err != nil {
			return 0, err
		}
		st = ps.(*sqlite3.SQLiteStmt)
		c.mu.Lock()
		c.version = st
		c.mu.Unlock()
	}
	rows, err := st.QueryContext(context.Background(), nil)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	v := make([]driver.Value, 1)
	if err := rows.Next(v); err != nil {
		return 0, err
	}
	n, _ := v[0].(int64)
	return n, nil
}

// dropIdle finalizes every kept statement that is not busy.
func (c *sqliteConn) dropIdle() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for e := c.recent.Front(); e != nil; {
		s := e.Value.(*sqliteStmt)
		e = e.Next()
		if !s.busy {
			c.drop(s)
		}
	}
	if c.version != nil {
		c.version.Close()
		c.version = nil
	}
}

// dropIdleStatements finalizes the idle kept statements of dc, a driver
// connection from sql.Conn.Raw; connections of other drivers are left
// alone.
func dropIdleStatements(dc any) error {
	if c, ok := dc.(*sqliteConn); ok {
		c.dropIdle()
	}
	return nil
}

// Close finalizes every kept statement, busy or not, and closes the
// connection. database/sql closes its prepared statements and rows first.
func (c *sqliteConn) Close() error {
	c.mu.Lock()
	c.closed = true
	for e := c.recent.Front(); e != nil; e = e.Next() {
		s := e.Value.(*sqliteStmt)
		s.elem = nil
		c.finalize(s)
	}
	c.recent.Init()
	clear(c.stmts)
	if c.version != nil {
		c.version.Close()
		c.version = nil
	}
	c.mu.Unlock()
	return c.conn.Close()
}

// Begin is BeginTx with default options.
func (c *sqliteConn) Begin() (driver.Tx, error) {
	return c.conn.BeginTx(context.Background(), driver.TxOptions{})
}

// BeginTx starts a transaction as go-sqlite3 does (with the DSN's
// _txlock).
func (c *sqliteConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.conn.BeginTx(ctx, opts)
}

// Ping reports whether the connection is still open.
func (c *sqliteConn) Ping(ctx context.Context) error {
	return c.conn.Ping(ctx)
}

// sqliteRows are the rows of a kept statement: closing them releases it.
// Everything else is go-sqlite3's, column types included.
type sqliteRows struct {
	*sqlite3.SQLiteRows
	conn *sqliteConn
	stmt *sqliteStmt
	err  error
}

// The interfaces of go-sqlite3's rows that database/sql uses, passed on.
var (
	_ driver.Rows                           = (*sqliteRows)(nil)
	_ driver.RowsColumnTypeDatabaseTypeName = (*sqliteRows)(nil)
	_ driver.RowsColumnTypeNullable         = (*sqliteRows)(nil)
	_ driver.RowsColumnTypeScanType         = (*sqliteRows)(nil)
)

// Next reads the next row, remembering a failure for Close.
func (r *sqliteRows) Next(dest []driver.Value) error {
	err := r.SQLiteRows.Next(dest)
	if err != nil && err != io.EOF {
		r.err = err
	}
	return err
}

// Close resets the statement and gives it back to the connection.
func (r *sqliteRows) Close() error {
	if r.conn == nil {
		return nil
	}
	err := r.SQLiteRows.Close()
	failed := r.err
	if failed == nil {
		failed = err
	}
	r.conn.release(r.stmt, failed)
	r.conn = nil
	return err
}

// sqlitePrepared is a kept statement lent to database/sql by
// PrepareContext: closing it gives the statement back.
type sqlitePrepared struct {
	conn *sqliteConn
	stmt *sqliteStmt
	err  error
}

// The interfaces of go-sqlite3's statement that database/sql uses.
var (
	_ driver.Stmt             = (*sqlitePrepared)(nil)
	_ driver.StmtExecContext  = (*sqlitePrepared)(nil)
	_ driver.StmtQueryContext = (*sqlitePrepared)(nil)
)

// Close gives the statement back to its connection.
func (p *sqlitePrepared) Close() error {
	if p.conn != nil {
		p.conn.release(p.stmt, p.err)
		p.conn = nil
	}
	return nil
}

// NumInput returns the number of the statement's parameters.
func (p *sqlitePrepared) NumInput() int {
	return p.stmt.st.NumInput()
}

// Exec runs the statement; database/sql calls ExecContext instead.
func (p *sqlitePrepared) Exec(args []driver.Value) (driver.Result, error) {
	return p.ExecContext(context.Background(), named(args))
}

// Query runs the statement; database/sql calls QueryContext instead.
func (p *sqlitePrepared) Query(args []driver.Value) (driver.Rows, error) {
	return p.QueryContext(context.Background(), named(args))
}

// ExecContext runs the statement with args.
func (p *sqlitePrepared) ExecContext(ctx context.Context,
	args []driver.NamedValue) (driver.Result, error) {
	res, err := p.conn.exec(ctx, p.stmt, args)
	if err != nil {
		p.err = err
	}
	return res, err
}

// QueryContext runs the statement with args. As with go-sqlite3's own
// statements, running it again resets the rows of the previous run.
func (p *sqlitePrepared) QueryContext(ctx context.Context,
	args []driver.NamedValue) (driver.Rows, error) {
	rows, err := p.stmt.st.QueryContext(ctx, args)
	if err != nil {
		p.err = err
	}
	return rows, err
}

// named numbers positional values as database/sql does.
func named(args []driver.Value) []driver.NamedValue {
	out := make([]driver.NamedValue, len(args))
	for i, v := range args {
		out[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return out
}
