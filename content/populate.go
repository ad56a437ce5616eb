package content

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm"

	"github.com/herald-cms/herald/content/query"
	"github.com/herald-cms/herald/content/schema"
)

// populatePlan is one populated attribute: which links to read and how to
// show their targets.
type populatePlan struct {
	attr *schema.Attribute
	// target is the relation's target type, nil for media.
	target *Type
	// where and args filter the targets ("" for none); orderBy sorts them
	// ("" keeps the links' order). Both use the entries table's columns.
	where   string
	args    []any
	orderBy string
	// fields limits the targets' attributes (nil shows all).
	fields   []string
	children []*populatePlan
}

// linkValues holds, per row id, the rendered JSON value of each populated
// attribute.
type linkValues map[int64]map[string][]byte

// querier runs a query with '?' placeholders on a connection pool or in a
// transaction.
type querier func(q string, args ...any) (*sql.Rows, error)

// poolQuerier runs queries on pool (the read pool, or a transaction's
// connection), rewriting placeholders for PostgreSQL.
func (s *Service) poolQuerier(ctx context.Context, pool gorm.ConnPool) querier {
	pg := s.db.Dialect == Postgres
	return func(q string, args ...any) (*sql.Rows, error) {
		if hook := s.queryHook.Load(); hook != nil {
			(*hook)(q)
		}
		if pg {
			q = rebind(q)
		}
		return pool.QueryContext(ctx, q, args...)
	}
}

// plans turns the query package's populate tree into plans.
func (s *Service) plans(ps []*query.Populate) ([]*populatePlan, error) {
	out := make([]*populatePlan, 0, len(ps))
	for _, p := range ps {
		pl := &populatePlan{attr: p.Attribute, where: p.Where, args: p.Args, orderBy: p.OrderBy,
			fields: p.Fields}
		if p.Attribute.Type == schema.TypeRelation {
			t, err := s.TypeByUID(p.Attribute.Target)
			if err != nil {
				return nil, err
			}
			pl.target = t
		}
		kids, err := s.plans(p.Populate)
		if err != nil {
			return nil, err
		}
		pl.children = kids
		out = append(out, pl)
	}
	return out, nil
}

// eventPlans populates every link attribute of t one level deep, as
// entry events carry them. Private attributes are left out.
func (s *Service) eventPlans(t *Type) []*populatePlan {
	var out []*populatePlan
	for _, a := range t.Schema.Attributes {
		if !a.IsLink() || a.Private {
			continue
		}
		pl := &populatePlan{attr: a}
		if a.Type == schema.TypeRelation {
			target, err := s.TypeByUID(a.Target)
			if err != nil {
				continue
			}
			pl.target = target
		}
		out = append(out, pl)
	}
	return out
}

// docColumnsOf are the document columns of the entries table, qualified,
// for a query joining it to the link tables.
func (s *Service) docColumnsOf() string {
	if s.db.Dialect == SQLite {
		return "entries.id, entries.document_id, +entries.published_at, entries.data, " +
			"+entries.created_at, +entries.updated_at"
	}
	return "entries.id, entries.document_id, entries.published_at, entries.data, " +
		"entries.created_at, entries.updated_at"
}

// keyedRow is a document read with the key of the row it was read for.
type keyedRow struct {
	key string
	doc docRow
}

// scanDocs reads rows of (key, document columns), copying what the driver
// lends.
func (s *Service) scanDocs(rows *sql.Rows) ([]keyedRow, error) {
	defer rows.Close()
	text := s.db.Dialect == SQLite
	var out []keyedRow
	for rows.Next() {
		var (
			kr                      keyedRow
			pub                     sql.NullTime
			data                    []byte
			created, updated, pubAt []byte
		)
		var err error
		if text {
			err = rows.Scan(&kr.key, &kr.doc.id, &kr.doc.documentID, &pubAt, &data, &created, &updated)
			kr.doc.raw = &[3][]byte{created, updated, pubAt}
		} else {
			err = rows.Scan(&kr.key, &kr.doc.id, &kr.doc.documentID, &pub, &data, &kr.doc.createdAt,
				&kr.doc.updatedAt)
			if pub.Valid {
				kr.doc.publishedAt = &pub.Time
			}
		}
		if err != nil {
			return nil, fmt.Errorf("scan populated entry: %w", err)
		}
		kr.doc.data = data
		out = append(out, kr)
	}
	return out, rows.Err()
}

// placeholders returns n comma-separated '?'.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// populate reads the linked targets of rows, all in one state (published
// or drafts), for each plan, with one query per plan and level however
// many rows there are, and renders them. private shows private
// attributes of the targets.
func (s *Service) populate(q querier, rows []docRow, published, private bool,
	plans []*populatePlan) (linkValues, error) {
	out := linkValues{}
	if len(rows) == 0 || len(plans) == 0 {
		return out, nil
	}
	for _, pl := range plans {
		var (
			vals map[string][][]byte
			err  error
		)
		switch {
		case pl.attr.Type == schema.TypeMedia:
			vals, err = s.populateFiles(q, rows, pl)
		default:
			vals, err = s.populateRelation(q, rows, published, private, pl)
		}
		if err != nil {
			return nil, fmt.Errorf("populate %s: %w", pl.attr.Name, err)
		}
		inverse := pl.attr.IsInverse()
		for _, r := range rows {
			key := r.documentID
			if !inverse {
				key = fmt.Sprint(r.id)
			}
			m := out[r.id]
			if m == nil {
				m = map[string][]byte{}
				out[r.id] = m
			}
			m[pl.attr.Name] = joinValues(vals[key], pl.attr.IsMany())
		}
	}
	return out, nil
}

// joinValues renders one attribute's targets: the first or null for a
// single link, an array for a list.
func joinValues(docs [][]byte, many bool) []byte {
	if !many {
		if len(docs) == 0 {
			return []byte("null")
		}
		return docs[0]
	}
	n := 2
	for _, d := range docs {
		n += len(d) + 1
	}
	buf := make([]byte, 0, n)
	buf = append(buf, '[')
	for i, d := range docs {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, d...)
	}
	return append(buf, ']')
}

// populateRelation reads one relation's targets for rows and renders them
// with their own populated attributes, keyed by the row id (owning side)
// or the documentId (other side) they belong to.
func (s *Service) populateRelation(q querier, rows []docRow, published, private bool,
	pl *populatePlan) (map[string][][]byte, error) {
	tgt := pl.target
	targetPublished := published || !tgt.DraftAndPublish()
	var (
		b    strings.Builder
		args []any
	)
	if pl.attr.IsInverse() {
		// The targets are the owning rows linking these documents.
		keys := uniqueDocIDs(rows)
		b.WriteString("SELECT r.target_document_id, " + s.docColumnsOf() + " FROM entries " +
			"JOIN entry_relations r ON r.entry_id = entries.id WHERE r.target_document_id IN (" +
			placeholders(len(keys)) + ") AND r.field = ? AND " + s.linkedTypeTerm() + " AND " +
			s.stateTerm(targetPublished))
		args = append(keys, pl.attr.MappedBy, tgt.UID)
	} else {
		keys := make([]any, 0, len(rows))
		for _, r := range rows {
			keys = append(keys, r.id)
		}
		b.WriteString("SELECT " + s.castKey("r.entry_id") + ", " + s.docColumnsOf() +
			" FROM entry_relations r JOIN entries ON entries.document_id = r.target_document_id " +
			"WHERE r.entry_id IN (" + placeholders(len(keys)) + ") AND r.field = ? AND " +
			s.linkedTypeTerm() + " AND " + s.stateTerm(targetPublished))
		args = append(keys, pl.attr.Name, tgt.UID)
	}
	if pl.where != "" {
		b.WriteString(" AND (" + pl.where + ")")
		args = append(args, pl.args...)
	}
	b.WriteString(" ORDER BY 1, ")
	switch {
	case pl.orderBy != "":
		b.WriteString(pl.orderBy)
	case pl.attr.IsInverse():
		b.WriteString("entries.id")
	default:
		b.WriteString("r.position")
	}
	rs, err := q(b.String(), args...)
	if err != nil {
		return nil, err
	}
	found, err := s.scanDocs(rs)
	if err != nil {
		return nil, err
	}
	docs := make([]docRow, len(found))
	for i := range found {
		docs[i] = found[i].doc
	}
	nested, err := s.populate(q, uniqueRows(docs), targetPublished, private, pl.children)
	if err != nil {
		return nil, err
	}
	out := map[string][][]byte{}
	for _, f := range found {
		doc, err := appendDoc(nil, tgt, &f.doc, renderOptions{private: private, fields: pl.fields,
			links: nested[f.doc.id]})
		if err != nil {
			return nil, err
		}
		out[f.key] = append(out[f.key], doc)
	}
	return out, nil
}

// linkedTypeTerm restricts the linked rows to the target type; its
// argument is the uid. On SQLite the type is compared as +content_type:
// without statistics the planner would otherwise read every row of the
// type through the per-type index, instead of starting from the links.
func (s *Service) linkedTypeTerm() string {
	if s.db.Dialect == SQLite {
		return "+entries.content_type = ?"
	}
	return "entries.content_type = ?"
}

// castKey makes an integer key column read as text.
func (s *Service) castKey(col string) string {
	return "CAST(" + col + " AS TEXT)"
}

// uniqueDocIDs lists the rows' documentIds once each.
func uniqueDocIDs(rows []docRow) []any {
	seen := map[string]bool{}
	out := make([]any, 0, len(rows))
	for _, r := range rows {
		if !seen[r.documentID] {
			seen[r.documentID] = true
			out = append(out, r.documentID)
		}
	}
	return out
}

// uniqueRows drops repeated rows (a target linked from several rows).
func uniqueRows(rows []docRow) []docRow {
	seen := map[int64]bool{}
	out := make([]docRow, 0, len(rows))
	for _, r := range rows {
		if !seen[r.id] {
			seen[r.id] = true
			out = append(out, r)
		}
	}
	return out
}

// fileColumns are the upload_files columns a populated file shows.
const fileColumns = "f.id, f.document_id, f.name, f.alternative_text, f.caption, f.width, " +
	"f.height, f.hash, f.ext, f.mime, f.size, f.created_at, f.updated_at"

// populateFiles reads one media attribute's files for rows, keyed by row
// id.
func (s *Service) populateFiles(q querier, rows []docRow, pl *populatePlan) (map[string][][]byte,
	error) {
	keys := make([]any, 0, len(rows)+1)
	for _, r := range rows {
		keys = append(keys, r.id)
	}
	rs, err := q("SELECT "+s.castKey("l.entry_id")+", "+fileColumns+" FROM entry_files l "+
		"JOIN upload_files f ON f.id = l.file_id WHERE l.entry_id IN ("+placeholders(len(keys))+
		") AND l.field = ? ORDER BY 1, l.position", append(keys, pl.attr.Name)...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out := map[string][][]byte{}
	for rs.Next() {
		var (
			key string
			r   FileRow
		)
		err := rs.Scan(&key, &r.ID, &r.DocumentID, &r.Name, &r.AlternativeText, &r.Caption,
			&r.Width, &r.Height, &r.Hash, &r.Ext, &r.Mime, &r.Size, &r.CreatedAt, &r.UpdatedAt)
		if err != nil {
			return nil, fmt.Errorf("scan file: %w", err)
		}
		body, err := fileJSON(r.File(), pl.fields)
		if err != nil {
			return nil, err
		}
		out[key] = append(out[key], body)
	}
	return out, rs.Err()
}

// fileJSON renders a file, limited to fields (plus id and documentId)
// when fields is not nil.
func fileJSON(f File, fields []string) ([]byte, error) {
	body, err := json.Marshal(f)
	if err != nil || fields == nil {
		return body, err
	}
	ms, ok := splitObject(body, nil)
	if !ok {
		return nil, fmt.Errorf("render file %d", f.ID)
	}
	out := make([]byte, 0, len(body))
	out = append(out, '{')
	first := true
	for _, m := range ms {
		k := string(m.key)
		if k != "id" && k != "documentId" && !slices.Contains(fields, k) {
			continue
		}
		if !first {
			out = append(out, ',')
		}
		first = false
		out = appendJSONString(out, k)
		out = append(out, ':')
		out = append(out, m.value...)
	}
	return append(out, '}'), nil
}

// renderRow renders one row read in transaction tx with its relations and
// media populated one level deep (as entry events carry it).
func (s *Service) renderRow(ctx context.Context, tx *gorm.DB, t *Type, r *entryRow,
	private bool) (json.RawMessage, error) {
	opts := renderOptions{private: private}
	if !t.hasLinks() {
		return render(t, r, opts)
	}
	d := docRow{id: r.ID, documentID: r.DocumentID, publishedAt: r.PublishedAt,
		data: []byte(r.Data), createdAt: r.CreatedAt, updatedAt: r.UpdatedAt}
	vals, err := s.populate(s.poolQuerier(ctx, tx.Statement.ConnPool), []docRow{d},
		r.PublishedAt != nil, private, s.eventPlans(t))
	if err != nil {
		return nil, err
	}
	opts.links = vals[d.id]
	return appendDoc(make([]byte, 0, len(r.Data)+256), t, &d, opts)
}

// schemaOf resolves a relation's target for the query compiler.
func (s *Service) schemaOf(uid string) *schema.Schema {
	t, err := s.TypeByUID(uid)
	if err != nil {
		return nil
	}
	return t.Schema
}

// renderRead renders the rows of q like renderRows, populating what c
// asks for. published says which version the rows are.
func (s *Service) renderRead(ctx context.Context, t *Type, opts renderOptions, buf []byte,
	sep byte, q string, args []any, c *query.Compiled, published bool) ([]byte, [][2]int, error) {
	if len(c.Populate) == 0 {
		return s.renderRows(ctx, t, opts, buf, sep, q, args)
	}
	plans, err := s.plans(c.Populate)
	if err != nil {
		return buf, nil, err
	}
	pool := s.db.Read.Statement.ConnPool
	qf := s.poolQuerier(ctx, pool)
	rs, err := qf("SELECT '', "+strings.TrimPrefix(q, "SELECT "), args...)
	if err != nil {
		return buf, nil, err
	}
	found, err := s.scanDocs(rs)
	if err != nil {
		return buf, nil, err
	}
	rows := make([]docRow, len(found))
	for i := range found {
		rows[i] = found[i].doc
	}
	vals, err := s.populate(qf, rows, published, opts.private, plans)
	if err != nil {
		return buf, nil, err
	}
	docs := make([][2]int, 0, len(rows))
	for i := range rows {
		if sep != 0 && i > 0 {
			buf = append(buf, sep)
		}
		start := len(buf)
		opts.links = vals[rows[i].id]
		if buf, err = appendDoc(buf, t, &rows[i], opts); err != nil {
			return buf, nil, err
		}
		docs = append(docs, [2]int{start, len(buf)})
	}
	return buf, docs, nil
}
