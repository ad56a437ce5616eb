package content

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/mattn/go-sqlite3"
)

// limitConnector opens connections of Herald's SQLite driver that keep at
// most limit statements.
type limitConnector struct {
	dsn   string
	limit int
}

// Connect opens a connection.
func (l limitConnector) Connect(context.Context) (driver.Conn, error) {
	c, err := (&sqlite3.SQLiteDriver{}).Open(l.dsn)
	if err != nil {
		return nil, err
	}
	return newSQLiteConn(c.(*sqlite3.SQLiteConn), l.limit), nil
}

// Driver returns Herald's SQLite driver.
func (l limitConnector) Driver() driver.Driver { return &sqliteDriver{} }

// openCachedSQLite opens a pool of conns connections on a fresh SQLite
// file, each keeping at most limit statements, and a table t (v INTEGER).
func openCachedSQLite(tb testing.TB, limit, conns int) *sql.DB {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "stmt.db")
	dsn := "file:" + path + "?_busy_timeout=200&_journal_mode=WAL"
	db := sql.OpenDB(limitConnector{dsn: dsn, limit: limit})
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	tb.Cleanup(func() { db.Close() })
	if _, err := db.Exec("CREATE TABLE t (v INTEGER)"); err != nil {
		tb.Fatal(err)
	}
	return db
}

// pin returns one connection of db, closed when the test ends.
func pin(tb testing.TB, db *sql.DB) *sql.Conn {
	tb.Helper()
	c, err := db.Conn(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// stmtStats is what a sqliteConn counts: statements compiled through it,
// those not yet finalized, and those kept.
type stmtStats struct {
	prepared, live, kept int
}

// statsOf reads c's counts; c must be a connection of Herald's driver.
func statsOf(tb testing.TB, c *sql.Conn) stmtStats {
	tb.Helper()
	var st stmtStats
	err := c.Raw(func(dc any) error {
		sc, ok := dc.(*sqliteConn)
		if !ok {
			return fmt.Errorf("driver connection is a %T", dc)
		}
		sc.mu.Lock()
		defer sc.mu.Unlock()
		st = stmtStats{prepared: sc.prepared, live: sc.live, kept: len(sc.stmts)}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return st
}

// mustExec runs a statement on c or fails the test.
func mustExec(tb testing.TB, c *sql.Conn, query string, args ...any) {
	tb.Helper()
	if _, err := c.ExecContext(context.Background(), query, args...); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
}

// ints runs a query of one integer column on q and returns its values.
func ints(tb testing.TB, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query string, args ...any) []int64 {
	tb.Helper()
	rows, err := q.QueryContext(context.Background(), query, args...)
	if err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			tb.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

func TestSQLiteConnReusesStatements(t *testing.T) {
	ctx := context.Background()
	c := pin(t, openCachedSQLite(t, 8, 1))
	before := statsOf(t, c)

	for i := range 10 {
		mustExec(t, c, "INSERT INTO t (v) VALUES (?)", i)
		got := ints(t, c, "SELECT v FROM t WHERE v = ?", i)
		if !slices.Equal(got, []int64{int64(i)}) {
			t.Fatalf("row %d: got %v", i, got)
		}
	}
	// Inside a transaction too, where GORM's PrepareStmt compiles again.
	tx, err := c.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO t (v) VALUES (?)", 10); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}

	after := statsOf(t, c)
	if n := after.prepared - before.prepared; n != 2 {
		t.Errorf("compiled %d statements for 2 distinct ones", n)
	}
	if after.kept != 2 || after.live != 2 {
		t.Errorf("kept %d, live %d; want 2 and 2", after.kept, after.live)
	}
	if got := ints(t, c, "SELECT count(*) FROM t"); got[0] != 11 {
		t.Errorf("count = %d, want 11", got[0])
	}
}

func TestSQLiteConnNestedSameQueryGetsItsOwnStatement(t *testing.T) {
	c := pin(t, openCachedSQLite(t, 8, 1))
	for v := 1; v <= 5; v++ {
		mustExec(t, c, "INSERT INTO t (v) VALUES (?)", v)
	}
	const q = "SELECT v FROM t WHERE v >= ? ORDER BY v"
	ints(t, c, q, 0) // keep q
	before := statsOf(t, c)

	rows, err := c.QueryContext(context.Background(), q, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close() // a failure below must not leave the connection busy
	var outer []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		outer = append(outer, v)
		if len(outer) > 5 {
			t.Fatalf("the inner query restarted the outer one: %v", outer)
		}
		inner := ints(t, c, q, v)
		if want := []int64{1, 2, 3, 4, 5}[v-1:]; !slices.Equal(inner, want) {
			t.Errorf("inner query from %d: got %v, want %v", v, inner, want)
		}
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(outer, []int64{1, 2, 3, 4, 5}) {
		t.Errorf("outer query: got %v", outer)
	}

	after := statsOf(t, c)
	if n := after.prepared - before.prepared; n != 5 {
		t.Errorf("compiled %d statements, want one per inner query (5)", n)
	}
	if after.kept != before.kept || after.live != after.kept {
		t.Errorf("kept %d (was %d), live %d: inner statements were not finalized",
			after.kept, before.kept, after.live)
	}
	ints(t, c, q, 3)
	if got := statsOf(t, c).prepared; got != after.prepared {
		t.Errorf("the kept statement was not reused after its rows closed")
	}
}

func TestSQLiteConnRunsScriptsWithoutCaching(t *testing.T) {
	c := pin(t, openCachedSQLite(t, 8, 1))
	mustExec(t, c, `CREATE TABLE a (x INTEGER);
		INSERT INTO a VALUES (1);
		INSERT INTO a VALUES (2);`)
	if got := ints(t, c, "SELECT x FROM a ORDER BY x"); !slices.Equal(got, []int64{1, 2}) {
		t.Errorf("script wrote %v, want [1 2]", got)
	}
	var s string
	err := c.QueryRowContext(context.Background(), "SELECT 'a;b'").Scan(&s)
	if err != nil || s != "a;b" {
		t.Errorf("SELECT 'a;b' = %q, %v", s, err)
	}
	mustExec(t, c, "PRAGMA user_version = 3")
	if st := statsOf(t, c); st.kept != 1 || st.live != 1 {
		t.Errorf("kept %d, live %d; want only the SELECT kept", st.kept, st.live)
	}
}

func TestSQLiteConnSurvivesSchemaChanges(t *testing.T) {
	db := openCachedSQLite(t, 8, 2)
	writer, reader := pin(t, db), pin(t, db)
	mustExec(t, writer, "ALTER TABLE t ADD COLUMN b INTEGER")
	for v := 1; v <= 3; v++ {
		mustExec(t, writer, "INSERT INTO t (v, b) VALUES (?, ?)", v, v*10)
	}
	const byB = "SELECT v FROM t WHERE b = ?"
	const star = "SELECT * FROM t WHERE v = ?"
	ints(t, reader, byB, 20)
	columnsOf(t, reader, star, 2)

	mustExec(t, writer, "CREATE INDEX t_b ON t (b)")
	if got := ints(t, reader, byB, 20); !slices.Equal(got, []int64{2}) {
		t.Errorf("after CREATE INDEX: got %v", got)
	}

	// Another connection adds a column: the kept SELECT * shows it.
	mustExec(t, writer, "ALTER TABLE t ADD COLUMN c INTEGER DEFAULT 7")
	if got := columnsOf(t, reader, star, 2); !slices.Equal(got, []string{"v", "b", "c"}) {
		t.Errorf("after ADD COLUMN: columns %v", got)
	}
	if got := ints(t, reader, "SELECT c FROM t WHERE v = ?", 2); !slices.Equal(got, []int64{7}) {
		t.Errorf("new column: got %v", got)
	}

	// The connection itself drops one.
	mustExec(t, reader, "DROP INDEX t_b")
	mustExec(t, reader, "ALTER TABLE t DROP COLUMN b")
	if got := columnsOf(t, reader, star, 2); !slices.Equal(got, []string{"v", "c"}) {
		t.Errorf("after DROP COLUMN: columns %v", got)
	}
	before := statsOf(t, reader)
	rows, err := reader.QueryContext(context.Background(), byB, 20)
	if err == nil {
		for rows.Next() {
		}
		err = rows.Err()
		rows.Close()
	}
	if err == nil {
		t.Error("a kept statement on a dropped column still ran")
	}
	if after := statsOf(t, reader); after.kept != before.kept-1 || after.live != after.kept {
		t.Errorf("the failed statement was kept: kept %d, live %d", after.kept, after.live)
	}
}

// columnsOf runs a query on c, checks it returns one row, and returns the
// row's column names.
func columnsOf(tb testing.TB, c *sql.Conn, query string, args ...any) []string {
	tb.Helper()
	rows, err := c.QueryContext(context.Background(), query, args...)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		tb.Fatal(err)
	}
	values := make([]any, len(cols))
	for i := range values {
		values[i] = new(any)
	}
	n := 0
	for rows.Next() {
		if err := rows.Scan(values...); err != nil {
			tb.Fatal(err)
		}
		n++
	}
	if err := rows.Err(); err != nil || n != 1 {
		tb.Fatalf("%s: %d rows, %v", query, n, err)
	}
	return cols
}

func TestSQLiteConnEvictsLeastRecentlyUsed(t *testing.T) {
	c := pin(t, openCachedSQLite(t, 4, 1))
	for v := 1; v <= 3; v++ {
		mustExec(t, c, "INSERT INTO t (v) VALUES (?)", v)
	}
	query := func(i int) string { return fmt.Sprintf("SELECT v + %d FROM t WHERE v = 1", i) }
	for i := range 6 {
		ints(t, c, query(i))
	}
	st := statsOf(t, c)
	if st.kept != 4 || st.live != 4 {
		t.Fatalf("kept %d, live %d after 7 distinct statements; want the limit, 4",
			st.kept, st.live)
	}
	ints(t, c, query(5))
	if got := statsOf(t, c).prepared; got != st.prepared {
		t.Errorf("a recent statement was compiled again")
	}
	ints(t, c, query(0))
	if got := statsOf(t, c).prepared; got != st.prepared+1 {
		t.Errorf("the oldest statement was still kept")
	}

	// A statement evicted while its rows are open finishes, then goes.
	rows, err := c.QueryContext(context.Background(), "SELECT v FROM t ORDER BY v")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
		if v == 1 {
			for i := 10; i < 15; i++ {
				ints(t, c, query(i))
			}
			if st := statsOf(t, c); st.kept != 4 || st.live != 5 {
				t.Errorf("while evicted and busy: kept %d, live %d; want 4 and 5", st.kept, st.live)
			}
		}
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []int64{1, 2, 3}) {
		t.Errorf("evicted statement's rows: %v", got)
	}
	if st := statsOf(t, c); st.kept != 4 || st.live != 4 {
		t.Errorf("after its rows closed: kept %d, live %d; want 4 and 4", st.kept, st.live)
	}
}

func TestSQLiteConnDoesNotKeepFailures(t *testing.T) {
	c := pin(t, openCachedSQLite(t, 8, 1))
	mustExec(t, c, "CREATE UNIQUE INDEX t_v ON t (v)")
	before := statsOf(t, c)

	for range 2 {
		_, err := c.ExecContext(context.Background(), "SELECT nothing FROM t")
		if err == nil {
			t.Fatal("bad SQL ran")
		}
		var serr sqlite3.Error
		if !errors.As(err, &serr) {
			t.Errorf("error %T is not go-sqlite3's: GORM would not translate it", err)
		}
	}
	if st := statsOf(t, c); st != before {
		t.Errorf("bad SQL changed the cache: %+v, was %+v", st, before)
	}

	const insert = "INSERT INTO t (v) VALUES (?)"
	mustExec(t, c, insert, 1)
	_, err := c.ExecContext(context.Background(), insert, 1)
	var serr sqlite3.Error
	if !errors.As(err, &serr) || serr.ExtendedCode != sqlite3.ErrConstraintUnique {
		t.Fatalf("duplicate insert: %v", err)
	}
	if st := statsOf(t, c); st.kept != 0 || st.live != 0 {
		t.Errorf("failed statement kept: kept %d, live %d", st.kept, st.live)
	}
	mustExec(t, c, insert, 2)
	if got := ints(t, c, "SELECT v FROM t ORDER BY v"); !slices.Equal(got, []int64{1, 2}) {
		t.Errorf("rows %v, want [1 2]", got)
	}
}

func TestSQLiteConnLendsPreparedStatements(t *testing.T) {
	ctx := context.Background()
	c := pin(t, openCachedSQLite(t, 8, 1))
	const insert = "INSERT INTO t (v) VALUES (?)"
	st, err := c.PrepareContext(ctx, insert)
	if err != nil {
		t.Fatal(err)
	}
	for v := 1; v <= 3; v++ {
		if _, err := st.ExecContext(ctx, v); err != nil {
			t.Fatal(err)
		}
		// Lent: the same SQL gets a statement of its own.
		mustExec(t, c, insert, 10*v)
	}
	lent := statsOf(t, c)
	if lent.kept != 1 || lent.live != 1 {
		t.Errorf("while lent: kept %d, live %d; want 1 and 1", lent.kept, lent.live)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	mustExec(t, c, insert, 4)
	if got := statsOf(t, c); got.prepared != lent.prepared || got.live != 1 {
		t.Errorf("the returned statement was not reused: %+v, was %+v", got, lent)
	}
	want := []int64{1, 2, 3, 4, 10, 20, 30}
	if got := ints(t, c, "SELECT v FROM t ORDER BY v"); !slices.Equal(got, want) {
		t.Errorf("rows %v, want %v", got, want)
	}
}

func TestSQLiteConnExecOfRowsEndsItsStatement(t *testing.T) {
	ctx := context.Background()
	db := openCachedSQLite(t, 8, 2)
	a, b := pin(t, db), pin(t, db)
	for i := range 2 {
		// INSERT ... RETURNING run as Exec stops at its first row: left
		// active, it would hold a's write transaction open, and b's
		// write would fail with "database is locked".
		mustExec(t, a, "INSERT INTO t (v) VALUES (?), (?) RETURNING v", i, i)
		mustExec(t, a, "SELECT v FROM t")
		tx, err := b.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO t (v) VALUES (?)", 100+i); err != nil {
			tx.Rollback()
			t.Fatalf("round %d: b's write: %v", i, err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatalf("round %d: b's commit: %v", i, err)
		}
	}
	if got := ints(t, a, "SELECT count(*) FROM t"); got[0] != 6 {
		t.Errorf("count = %d, want 6", got[0])
	}
}

func TestReleaseMemoryDropsIdleStatements(t *testing.T) {
	ctx := context.Background()
	db, err := OpenDB(ctx, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Write.Exec("CREATE TABLE t (v INTEGER)").Error; err != nil {
		t.Fatal(err)
	}
	for v := range 3 {
		if err := db.Write.Exec("INSERT INTO t (v) VALUES (?)", v).Error; err != nil {
			t.Fatal(err)
		}
	}
	var n int64
	if err := db.Write.Raw("SELECT count(*) FROM t").Scan(&n).Error; err != nil || n != 3 {
		t.Fatalf("count = %d, %v", n, err)
	}
	writer := func() stmtStats {
		wdb, _ := db.Write.DB()
		c, err := wdb.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return statsOf(t, c)
	}
	if st := writer(); st.kept < 2 {
		t.Fatalf("writer keeps %d statements before ReleaseMemory, want 2 or more", st.kept)
	}

	if err := db.ReleaseMemory(ctx); err != nil {
		t.Fatal(err)
	}
	if st := writer(); st.kept != 0 || st.live != 0 {
		t.Errorf("after ReleaseMemory: kept %d, live %d; want none", st.kept, st.live)
	}
	if err := db.Write.Exec("INSERT INTO t (v) VALUES (?)", 4).Error; err != nil {
		t.Errorf("write after ReleaseMemory: %v", err)
	}
}
