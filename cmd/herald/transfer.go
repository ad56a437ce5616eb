package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/migrations"
)

// An export is JSON lines: a header, one line per row, and a trailer that
// proves the file is whole.
//
//	{"herald":"export","version":1,"migration":4,"dialect":"sqlite",...}
//	{"table":"admin_roles","row":{"id":1,"code":"strapi-super-admin",...}}
//	...
//	{"end":true,"rows":1234}
//
// Times are RFC 3339 strings in UTC, booleans JSON booleans, JSON columns
// (a document's data) strings holding the JSON text.
const exportFormat = "export"

// exportVersion is the version of the file format.
const exportVersion = 1

// dataTables are the tables every export carries, parents before children:
// content types, documents (draft and published rows), administrators with
// their password hashes, roles, API tokens (as HMACs), end users and their
// roles, webhooks with their secrets, settings, and the media library's
// file records (the files themselves stay in the uploads directory: copy it),
// and the links of relation and media attributes.
var dataTables = []string{
	"settings", "admin_roles", "admin_users", "api_tokens",
	"end_user_roles", "end_users", "content_types", "entries", "webhooks", "upload_files",
	"entry_relations", "entry_files",
}

// logTables are the webhook outbox and delivery log, carried as
// --deliveries says.
var logTables = []string{"webhook_events", "webhook_deliveries", "webhook_attempts"}

// skippedTables are never exported: sessions (administrators sign in again
// on the new database) and the migration tool's bookkeeping.
var skippedTables = []string{"admin_sessions", "goose_db_version"}

// tablesThatMustBeEmpty are checked before an import: it never merges into
// a database that is already in use.
var tablesThatMustBeEmpty = []string{
	"admin_users", "api_tokens", "end_users", "content_types", "entries", "webhooks",
	"upload_files", "webhook_events",
}

// The values of --deliveries.
const (
	deliveriesNone    = "none"
	deliveriesPending = "pending"
	deliveriesAll     = "all"
)

// exportHeader is an export's first line.
type exportHeader struct {
	Herald     string    `json:"herald"`
	Version    int       `json:"version"`
	Migration  int64     `json:"migration"`
	Dialect    string    `json:"dialect"`
	ExportedAt time.Time `json:"exportedAt"`
	Deliveries string    `json:"deliveries"`
	Tables     []string  `json:"tables"`
}

// exportLine is any line after the header: a row, or the trailer.
type exportLine struct {
	Table string                     `json:"table,omitempty"`
	Row   map[string]json.RawMessage `json:"row,omitempty"`
	End   bool                       `json:"end,omitempty"`
	Rows  int64                      `json:"rows,omitempty"`
}

// transferFlags parses the flags export and import share, and returns the
// configuration they select (HERALD_DATABASE_URL and HERALD_DATA_DIR when
// the flags are absent).
func transferFlags(name string, args []string, getenv func(string) string, out io.Writer,
	extra func(fs *flag.FlagSet)) (Config, error) {
	fs := flag.NewFlagSet("herald "+name, flag.ContinueOnError)
	fs.SetOutput(out)
	dataDir := fs.String("data-dir", "", "data directory (HERALD_DATA_DIR)")
	dbURL := fs.String("database-url", "", "database URL (HERALD_DATABASE_URL)")
	extra(fs)
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("herald %s: unexpected argument %q", name, fs.Arg(0))
	}
	var cfgArgs []string
	if *dataDir != "" {
		cfgArgs = append(cfgArgs, "--data-dir", *dataDir)
	}
	if *dbURL != "" {
		cfgArgs = append(cfgArgs, "--database-url", *dbURL)
	}
	return LoadConfig(cfgArgs, getenv)
}

// exportCommand runs `herald export [--output FILE] [--deliveries MODE]`.
func exportCommand(ctx context.Context, args []string, getenv func(string) string,
	stdout, stderr io.Writer) error {
	var output, deliveries string
	cfg, err := transferFlags("export", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&output, "output", "-", "file to write, - for standard output")
		fs.StringVar(&deliveries, "deliveries", deliveriesPending,
			"webhook deliveries to carry: none, pending (those still to send) "+
				"or all (the whole log)")
	})
	if err != nil {
		return err
	}
	if !slices.Contains([]string{deliveriesNone, deliveriesPending, deliveriesAll}, deliveries) {
		return fmt.Errorf("--deliveries: want none, pending or all, got %q", deliveries)
	}
	db, err := openDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()

	w := stdout
	if output != "-" {
		f, err := os.OpenFile(output, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		defer f.Close()
		w = f
	}
	n, err := exportData(ctx, db, w, deliveries)
	if err != nil {
		return err
	}
	if f, ok := w.(*os.File); ok && output != "-" {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("export: %w", err)
		}
	}
	fmt.Fprintf(stderr, "exported %d rows from %s\n", n, db.Dialect)
	fmt.Fprintln(stderr, "The file holds password hashes, API token hashes and webhook secrets: "+
		"keep it private. API tokens keep working only where HERALD_TOKEN_SALT is this "+
		"installation's token salt (the file token-salt in its data directory when it "+
		"was generated).")
	return nil
}

// exportData writes every row an export carries to w, from one consistent
// snapshot of db, and returns how many rows it wrote.
func exportData(ctx context.Context, db *content.DB, w io.Writer,
	deliveries string) (int64, error) {
	version, err := migrations.Version(ctx, db.SQL(), string(db.Dialect))
	if err != nil {
		return 0, err
	}
	tables := append([]string(nil), dataTables...)
	if deliveries != deliveriesNone {
		tables = append(tables, logTables...)
	}

	// On SQLite the read pool reads a snapshot without taking the write
	// lock, so a running Herald keeps writing.
	src, opts := db.SQL(), &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	if db.Dialect == content.SQLite {
		src, opts = sqlOf(db.Read), nil
	}
	tx, err := src.BeginTx(ctx, opts)
	if err != nil {
		return 0, fmt.Errorf("export: %w", err)
	}
	defer tx.Rollback()

	bw := bufio.NewWriterSize(w, 1<<16)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	header := exportHeader{
		Herald: exportFormat, Version: exportVersion, Migration: version,
		Dialect: string(db.Dialect), ExportedAt: time.Now().UTC(), Deliveries: deliveries,
		Tables: tables,
	}
	if err := enc.Encode(header); err != nil {
		return 0, fmt.Errorf("export: %w", err)
	}
	var total int64
	for _, table := range tables {
		n, err := exportTable(ctx, tx, enc, table, deliveries)
		if err != nil {
			return total, fmt.Errorf("export %s: %w", table, err)
		}
		total += n
	}
	if err := enc.Encode(exportLine{End: true, Rows: total}); err != nil {
		return total, fmt.Errorf("export: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return total, fmt.Errorf("export: %w", err)
	}
	return total, nil
}

// sqlOf returns the connection pool under a GORM handle.
func sqlOf(g *gorm.DB) *sql.DB {
	s, _ := g.DB()
	return s
}

// exportQueries select the rows of the delivery log that --deliveries
// pending carries: deliveries still to send, their events and attempts.
var exportQueries = map[string]string{
	"webhook_events": `SELECT * FROM webhook_events WHERE id IN
		(SELECT event_id FROM webhook_deliveries WHERE status = 'pending') ORDER BY 1`,
	"webhook_deliveries": `SELECT * FROM webhook_deliveries WHERE status = 'pending' ORDER BY 1`,
	"webhook_attempts": `SELECT * FROM webhook_attempts WHERE delivery_id IN
		(SELECT id FROM webhook_deliveries WHERE status = 'pending') ORDER BY 1`,
}

// exportTable writes one table's rows, ordered by its first column (the
// primary key of every Herald table).
func exportTable(ctx context.Context, tx *sql.Tx, enc *json.Encoder, table,
	deliveries string) (int64, error) {
	query := `SELECT * FROM "` + table + `" ORDER BY 1`
	if q, ok := exportQueries[table]; ok && deliveries == deliveriesPending {
		query = q
	}
	rows, err := tx.QueryContext(ctx, query)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	values := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range values {
		ptrs[i] = &values[i]
	}
	var n int64
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		line := exportLine{Table: table, Row: make(map[string]json.RawMessage, len(cols))}
		for i, c := range cols {
			raw, err := exportValue(values[i])
			if err != nil {
				return n, fmt.Errorf("column %s: %w", c, err)
			}
			line.Row[c] = raw
		}
		if err := enc.Encode(line); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// exportValue turns a value read from either database into its JSON form.
func exportValue(v any) (json.RawMessage, error) {
	switch x := v.(type) {
	case time.Time:
		v = x.UTC().Format(time.RFC3339Nano)
	case []byte:
		v = string(x)
	case map[string]any, []any:
		// A JSON column the driver decoded: keep its text.
		b, err := json.Marshal(x)
		if err != nil {
			return nil, err
		}
		v = string(b)
	}
	return json.Marshal(v)
}

// importCommand runs `herald import --input FILE`.
func importCommand(ctx context.Context, args []string, getenv func(string) string,
	stdout io.Writer) error {
	var input string
	cfg, err := transferFlags("import", args, getenv, stdout, func(fs *flag.FlagSet) {
		fs.StringVar(&input, "input", "", "export file to read, - for standard input (required)")
	})
	if err != nil {
		return err
	}
	if input == "" {
		return errors.New("herald import: --input is required (a file written by herald export)")
	}
	r := io.Reader(os.Stdin)
	if input != "-" {
		f, err := os.Open(input)
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		defer f.Close()
		r = f
	}
	db, err := openDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	n, err := importData(ctx, db, r)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "imported %d rows into %s\n", n, db.Dialect)
	return nil
}

// importData copies an export into db, a migrated database that holds no
// content, users, tokens or webhooks yet, in one transaction: a failure or
// a truncated file leaves db as it was. The roles the migrations seeded
// are replaced by the exported ones. It then creates the indexes the
// content types ask for and tells running instances to reload. It returns
// how many rows it wrote.
func importData(ctx context.Context, db *content.DB, r io.Reader) (int64, error) {
	dec := json.NewDecoder(bufio.NewReaderSize(r, 1<<16))
	dec.UseNumber()
	var header exportHeader
	if err := dec.Decode(&header); err != nil || header.Herald != exportFormat {
		return 0, errors.New("import: not a herald export (the first line is not its header)")
	}
	if header.Version != exportVersion {
		return 0, fmt.Errorf("import: export format %d, this Herald reads %d",
			header.Version, exportVersion)
	}
	version, err := migrations.Version(ctx, db.SQL(), string(db.Dialect))
	if err != nil {
		return 0, err
	}
	if header.Migration != version {
		return 0, fmt.Errorf("import: the export is at migration %d and this database at %d: "+
			"export and import with the same Herald version", header.Migration, version)
	}
	if err := checkEmpty(ctx, db); err != nil {
		return 0, err
	}
	kinds, err := columnKinds(ctx, db, header.Tables)
	if err != nil {
		return 0, err
	}

	tx, err := db.SQL().BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("import: %w", err)
	}
	defer tx.Rollback()
	for i := len(header.Tables) - 1; i >= 0; i-- {
		if _, err := tx.ExecContext(ctx, `DELETE FROM "`+header.Tables[i]+`"`); err != nil {
			return 0, fmt.Errorf("import: empty %s: %w", header.Tables[i], err)
		}
	}
	ins := &inserter{tx: tx, dialect: db.Dialect, kinds: kinds, stmts: map[string]*sql.Stmt{}}
	defer ins.close()
	var n int64
	for {
		var line exportLine
		if err := dec.Decode(&line); err != nil {
			if errors.Is(err, io.EOF) {
				return 0, errors.New("import: the file ends before its last line: " +
					"it is truncated, nothing was imported")
			}
			return 0, fmt.Errorf("import: line %d: %w", n+2, err)
		}
		if line.End {
			if line.Rows != n {
				return 0, fmt.Errorf("import: the file has %d rows but says %d", n, line.Rows)
			}
			break
		}
		if !slices.Contains(header.Tables, line.Table) {
			return 0, fmt.Errorf("import: line %d: table %q is not in the header", n+2, line.Table)
		}
		if err := ins.insert(ctx, line.Table, line.Row); err != nil {
			return 0, fmt.Errorf("import: line %d (%s): %w", n+2, line.Table, err)
		}
		n++
	}
	if db.Dialect == content.Postgres {
		if err := resetSequences(ctx, tx, header.Tables, kinds); err != nil {
			return 0, err
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("import: %w", err)
	}

	svc, err := content.NewService(ctx, db, content.Config{})
	if err != nil {
		return n, err
	}
	if err := svc.SyncIndexes(ctx); err != nil {
		return n, fmt.Errorf("import: %w", err)
	}
	for _, topic := range []string{content.TopicContentTypes, content.TopicWebhooks,
		content.TopicAccess, content.TopicEntries, content.TopicDeliveries} {
		db.Bus.Publish(ctx, topic, "")
	}
	return n, nil
}

// checkEmpty refuses a database that is already in use.
func checkEmpty(ctx context.Context, db *content.DB) error {
	for _, table := range tablesThatMustBeEmpty {
		var n int64
		err := db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM "`+table+`"`).Scan(&n)
		if err != nil {
			return fmt.Errorf("import: count %s: %w", table, err)
		}
		if n > 0 {
			return fmt.Errorf("import: the database already has %d rows in %s: "+
				"import only into a new, empty database", n, table)
		}
	}
	return nil
}

// A column's kind decides how an exported value is written to it.
type columnKind int

const (
	kindText columnKind = iota
	kindInt
	kindFloat
	kindBool
	kindTime
	kindJSON
)

// columnKinds reads the kind of every column of tables in db.
func columnKinds(ctx context.Context, db *content.DB,
	tables []string) (map[string]map[string]columnKind, error) {
	out := map[string]map[string]columnKind{}
	for _, table := range tables {
		q := `SELECT name, type FROM pragma_table_info(?)`
		if db.Dialect == content.Postgres {
			q = `SELECT column_name, data_type FROM information_schema.columns
				WHERE table_schema = current_schema() AND table_name = $1`
		}
		rows, err := db.SQL().QueryContext(ctx, q, table)
		if err != nil {
			return nil, fmt.Errorf("import: columns of %s: %w", table, err)
		}
		cols := map[string]columnKind{}
		for rows.Next() {
			var name, typ string
			if err := rows.Scan(&name, &typ); err != nil {
				rows.Close()
				return nil, err
			}
			cols[name] = kindOf(typ)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		if len(cols) == 0 {
			return nil, fmt.Errorf("import: this database has no table %s", table)
		}
		out[table] = cols
	}
	return out, nil
}

// kindOf maps a declared SQLite type or a PostgreSQL data_type to a kind.
func kindOf(typ string) columnKind {
	t := strings.ToLower(typ)
	switch {
	case strings.Contains(t, "timestamp"), strings.Contains(t, "date"):
		return kindTime
	case strings.Contains(t, "bool"):
		return kindBool
	case strings.Contains(t, "int"):
		return kindInt
	case strings.Contains(t, "double"), strings.Contains(t, "real"),
		strings.Contains(t, "numeric"), strings.Contains(t, "float"):
		return kindFloat
	case strings.Contains(t, "json"):
		return kindJSON
	}
	return kindText
}

// inserter writes exported rows with prepared statements, one per table
// and set of columns.
type inserter struct {
	tx      *sql.Tx
	dialect content.Dialect
	kinds   map[string]map[string]columnKind
	stmts   map[string]*sql.Stmt
}

func (ins *inserter) close() {
	for _, s := range ins.stmts {
		s.Close()
	}
}

func (ins *inserter) insert(ctx context.Context, table string,
	row map[string]json.RawMessage) error {
	cols := make([]string, 0, len(row))
	for c := range row {
		cols = append(cols, c)
	}
	sort.Strings(cols)
	kinds := ins.kinds[table]
	args := make([]any, len(cols))
	for i, c := range cols {
		kind, ok := kinds[c]
		if !ok {
			return fmt.Errorf("this database has no column %s.%s", table, c)
		}
		v := row[c]
		if table == "webhook_deliveries" && (c == "lease_owner" || c == "lease_until") {
			// Leases belong to the old installation's processes.
			v = json.RawMessage("null")
		}
		arg, err := importValue(v, kind)
		if err != nil {
			return fmt.Errorf("column %s: %w", c, err)
		}
		args[i] = arg
	}
	key := table + "\x00" + strings.Join(cols, ",")
	stmt, ok := ins.stmts[key]
	if !ok {
		var err error
		stmt, err = ins.tx.PrepareContext(ctx, ins.insertSQL(table, cols))
		if err != nil {
			return err
		}
		ins.stmts[key] = stmt
	}
	_, err := stmt.ExecContext(ctx, args...)
	return err
}

func (ins *inserter) insertSQL(table string, cols []string) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO "` + table + `" (`)
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(`"` + c + `"`)
	}
	b.WriteString(") VALUES (")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		p := "?"
		if ins.dialect == content.Postgres {
			p = fmt.Sprintf("$%d", i+1)
			if ins.kinds[table][c] == kindJSON {
				p = "CAST(CAST(" + p + " AS text) AS jsonb)"
			}
		}
		b.WriteString(p)
	}
	b.WriteString(")")
	return b.String()
}

// timeLayouts are the layouts an exported time may have: RFC 3339, and
// SQLite's text forms for values its driver did not parse.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

// importValue turns an exported JSON value into an argument for a column
// of the given kind.
func importValue(raw json.RawMessage, kind columnKind) (any, error) {
	var v any
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if v == nil {
		return nil, nil
	}
	switch kind {
	case kindTime:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("want a time, got %s", raw)
		}
		for _, layout := range timeLayouts {
			if t, err := time.Parse(layout, s); err == nil {
				return t.UTC(), nil
			}
		}
		return nil, fmt.Errorf("want an RFC 3339 time, got %q", s)
	case kindBool:
		switch x := v.(type) {
		case bool:
			return x, nil
		case json.Number:
			return x.String() != "0", nil
		}
		return nil, fmt.Errorf("want a boolean, got %s", raw)
	case kindInt:
		if x, ok := v.(json.Number); ok {
			return x.Int64()
		}
		return nil, fmt.Errorf("want an integer, got %s", raw)
	case kindFloat:
		if x, ok := v.(json.Number); ok {
			return x.Float64()
		}
		return nil, fmt.Errorf("want a number, got %s", raw)
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		return fmt.Sprint(x), nil
	}
	// A JSON column exported as a value rather than as its text.
	return string(raw), nil
}

// resetSequences moves each table's id sequence past the imported ids, so
// that new rows do not collide with them.
func resetSequences(ctx context.Context, tx *sql.Tx, tables []string,
	kinds map[string]map[string]columnKind) error {
	for _, table := range tables {
		if kinds[table]["id"] != kindInt {
			continue
		}
		_, err := tx.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence($1, 'id'),
			COALESCE((SELECT MAX(id) FROM "`+table+`"), 0) + 1, false)
			WHERE pg_get_serial_sequence($1, 'id') IS NOT NULL`, table)
		if err != nil {
			return fmt.Errorf("import: reset the id sequence of %s: %w", table, err)
		}
	}
	return nil
}
