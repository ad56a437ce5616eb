package content

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"

	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Dialect names a database engine.
type Dialect string

// The supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// sqliteWriteParams are the writer connection's settings. _txlock=immediate
// makes BEGIN take the write lock at once, so concurrent writers queue on
// busy_timeout instead of failing with "database is locked".
const sqliteWriteParams = "_busy_timeout=5000&_journal_mode=WAL&_foreign_keys=on" +
	"&_synchronous=NORMAL&_txlock=immediate"

// sqliteReadParams are the read pool's settings: no write lock, read only.
const sqliteReadParams = "_busy_timeout=5000&_journal_mode=WAL&_foreign_keys=on" +
	"&_synchronous=NORMAL&_query_only=1"

// sqliteReaders is the size of the SQLite read pool.
const sqliteReaders = 8

// DB is Herald's database: one writer and a pool of readers on SQLite, one
// pool for both on PostgreSQL.
type DB struct {
	Dialect Dialect
	// Write runs every transaction and every write.
	Write *gorm.DB
	// Read runs reads that need no transaction.
	Read *gorm.DB
	// URL is the PostgreSQL URL or the SQLite file path.
	URL string
	// Bus carries change notices between instances (local on SQLite).
	Bus Bus
	// group lets concurrent write transactions share a commit on SQLite
	// (see Transact).
	group group
}

// IsPostgresURL reports whether a database URL names PostgreSQL.
func IsPostgresURL(u string) bool {
	return strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://")
}

// SQLitePath turns a database setting into a SQLite file path: empty means
// herald.db in dataDir; "sqlite://" and "file:" prefixes are removed.
func SQLitePath(dbURL, dataDir string) string {
	if dbURL == "" {
		return filepath.Join(dataDir, "herald.db")
	}
	p := strings.TrimPrefix(dbURL, "sqlite://")
	p = strings.TrimPrefix(p, "file:")
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	return p
}

// OpenDB opens the database named by dbURL (a postgres:// URL, or a SQLite
// path; empty means herald.db in dataDir). It does not migrate. On
// PostgreSQL, Bus is a PGBus, already listening when OpenDB returns; on
// SQLite it is a LocalBus.
func OpenDB(ctx context.Context, dbURL, dataDir string) (*DB, error) {
	cfg := &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
	}
	if IsPostgresURL(dbURL) {
		g, err := gorm.Open(postgres.Open(dbURL), cfg)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		sqlDB, err := g.DB()
		if err != nil {
			return nil, err
		}
		sqlDB.SetMaxOpenConns(20)
		sqlDB.SetMaxIdleConns(20)
		if err := sqlDB.PingContext(ctx); err != nil {
			sqlDB.Close()
			return nil, fmt.Errorf("connect to postgres: %w", err)
		}
		bus, err := startPGBus(ctx, dbURL, sqlDB)
		if err != nil {
			sqlDB.Close()
			return nil, err
		}
		return &DB{Dialect: Postgres, Write: g, Read: g, URL: dbURL, Bus: bus}, nil
	}

	path := SQLitePath(dbURL, dataDir)
	w, err := openSQLite(path, sqliteWriteParams, cfg)
	if err != nil {
		return nil, err
	}
	wdb, _ := w.DB()
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	if err := wdb.PingContext(ctx); err != nil {
		wdb.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	r, err := openSQLite(path, sqliteReadParams, cfg)
	if err != nil {
		wdb.Close()
		return nil, err
	}
	rdb, _ := r.DB()
	rdb.SetMaxOpenConns(sqliteReaders)
	rdb.SetMaxIdleConns(sqliteReaders)
	rdb.SetConnMaxLifetime(0)
	return &DB{Dialect: SQLite, Write: w, Read: r, URL: path, Bus: NewLocalBus()}, nil
}

func openSQLite(path, params string, shared *gorm.Config) (*gorm.DB, error) {
	// gorm keeps per-connection state (prepared statements) in its config:
	// each pool gets a copy, or the writer's statements land on the readers.
	c := *shared
	cfg := &c
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + params
	// Herald's driver keeps each connection's compiled statements.
	d := sqlite.New(sqlite.Config{DriverName: sqliteDriverName, DSN: dsn})
	g, err := gorm.Open(d, cfg)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return g, nil
}

// ReleaseMemory hands back what idle SQLite connections hold: the idle
// readers are closed (the pool opens new ones when reads come back) and the
// writer finalizes its kept statements and frees its page cache, once it
// is free or ctx ends. On PostgreSQL it does nothing.
func (db *DB) ReleaseMemory(ctx context.Context) error {
	if db.Dialect != SQLite {
		return nil
	}
	rdb, err := db.Read.DB()
	if err != nil {
		return err
	}
	// Lowering the idle limit closes the idle connections beyond it at
	// once; raising it again keeps the pool's size under load.
	rdb.SetMaxIdleConns(0)
	rdb.SetMaxIdleConns(sqliteReaders)

	wdb, err := db.Write.DB()
	if err != nil {
		return err
	}
	c, err := wdb.Conn(ctx)
	if err != nil {
		return fmt.Errorf("release sqlite memory: %w", err)
	}
	defer c.Close()
	if err := c.Raw(dropIdleStatements); err != nil {
		return fmt.Errorf("release sqlite memory: %w", err)
	}
	if _, err := c.ExecContext(ctx, "PRAGMA shrink_memory"); err != nil {
		return fmt.Errorf("release sqlite memory: %w", err)
	}
	return nil
}

// SQL returns the writer's *sql.DB, for migrations.
func (db *DB) SQL() *sql.DB {
	s, _ := db.Write.DB()
	return s
}

// SetLogger sets where the database's background work (the PostgreSQL
// bus) reports problems.
func (db *DB) SetLogger(l *slog.Logger) {
	if b, ok := db.Bus.(*PGBus); ok {
		b.SetLogger(l)
	}
}

// Close stops the bus and closes every connection.
func (db *DB) Close() error {
	var first error
	if c, ok := db.Bus.(io.Closer); ok {
		first = c.Close()
	}
	for _, g := range []*gorm.DB{db.Write, db.Read} {
		s, err := g.DB()
		if err == nil {
			err = s.Close()
		}
		if err != nil && first == nil {
			first = err
		}
		if db.Write == db.Read {
			break
		}
	}
	return first
}
