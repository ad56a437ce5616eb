package content

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/herald-cms/herald/content/query"
)

// ReadOptions says how a read request is interpreted.
type ReadOptions struct {
	// Admin marks the editors' routes: private attributes are visible and the
	// default status is draft, since every document has a draft.
	Admin bool
	// State keeps, in a draft read of a draft-and-publish type, only the
	// documents in one publication state: StateDraft, StatePublished or
	// StateModified; "" keeps all. Other reads ignore it. Any other value
	// is rejected as invalid.
	State string
}

// The publication states of a document of a draft-and-publish type, as
// ReadOptions.State takes them. Publishing copies the draft's updatedAt
// to the published version, so equal updatedAt values mean an unchanged
// draft.
const (
	// StateDraft is a document never published (or unpublished).
	StateDraft = "draft"
	// StatePublished is a published document whose draft is unchanged.
	StatePublished = "published"
	// StateModified is a published document whose draft changed since.
	StateModified = "modified"
)

// List is one page of documents and its pagination meta.
type List struct {
	Data []json.RawMessage
	// Pagination is Strapi's meta.pagination object.
	Pagination map[string]any
}

// compile parses and compiles a raw query string for type t. The schema
// was parsed once, when the type was loaded; only the query string is
// parsed per request.
func (s *Service) compile(t *Type, rawQuery string, opts ReadOptions, single bool) (*query.Params,
	*query.Compiled, error) {
	p, err := query.Parse(rawQuery)
	if err != nil {
		return nil, nil, queryError(err)
	}
	c, err := query.Compile(p, t.Schema, query.Options{
		Dialect:      query.Dialect(s.db.Dialect),
		AllowPrivate: opts.Admin,
		Single:       single,
		Schemas:      s.schemaOf,
	})
	if err != nil {
		return nil, nil, queryError(err)
	}
	if opts.Admin && p.Status == "" {
		c.Status = query.StatusDraft
	}
	switch opts.State {
	case "", StateDraft, StatePublished, StateModified:
	default:
		return nil, nil, InvalidField([]string{"state"}, "state must be one of draft, "+
			"published or modified")
	}
	return p, c, nil
}

// queryError turns the query package's errors into *Error.
func queryError(err error) error {
	var qe *query.Error
	if !errors.As(err, &qe) {
		return fmt.Errorf("compile query: %w", err)
	}
	code := EINVALID
	if qe.Kind == query.KindPagination {
		code = EPAGINATION
	}
	e := &Error{Code: code, Message: qe.Message}
	if len(qe.Path) > 0 {
		e.Details = ValidationDetails{Errors: []FieldError{{
			Path: qe.Path, Message: qe.Message, Name: "ValidationError"}}}
	}
	return e
}

// readScope is the WHERE clause of one read, after authorization.
type readScope struct {
	// base selects the type's rows in the read's state, and the actor's
	// own when its grant says so.
	base string
	args []any
	// filter is the compiled filters, "" when there are none.
	filter     string
	filterArgs []any
	// published is set when only published rows are read.
	published bool
	// shared is set when the answer is the same for every actor allowed
	// the action, so it may be kept in the shared response cache.
	shared bool
	// columns is the select list (see Service.columns).
	columns string
}

// where returns the whole condition and its arguments. With walk, no
// index may serve the filter (see walkSortIndex).
func (sc *readScope) where(walk bool) (string, []any) {
	if sc.filter == "" {
		return sc.base, sc.args
	}
	args := make([]any, 0, len(sc.args)+len(sc.filterArgs)+2)
	args = append(append(args, sc.args...), sc.filterArgs...)
	if walk {
		return sc.base + " AND +(" + sc.filter + ")", args
	}
	return sc.base + " AND (" + sc.filter + ")", args
}

// countSQL counts the rows in scope.
func (sc *readScope) countSQL() (string, []any) {
	where, args := sc.where(false)
	return "SELECT count(*) FROM entries WHERE " + where, args
}

// countUpToSQL counts the rows in scope, stopping at limit.
func (sc *readScope) countUpToSQL(limit int64) (string, []any) {
	where, args := sc.where(false)
	return "SELECT count(*) FROM (SELECT 1 FROM entries WHERE " + where + " LIMIT ?)",
		append(args, limit)
}

// listSQL reads one page of the rows in scope, in c's order.
func (sc *readScope) listSQL(c *query.Compiled, walk bool) (string, []any) {
	where, args := sc.where(walk)
	return "SELECT " + sc.columns + " FROM entries WHERE " + where + " ORDER BY " + c.OrderBy +
		" LIMIT ? OFFSET ?", append(args, c.Limit, c.Offset)
}

// oneSQL reads one document by documentId or, with single, a single
// type's document.
func (sc *readScope) oneSQL(documentID string, single bool) (string, []any) {
	where, args := sc.where(false)
	q := "SELECT " + sc.columns + " FROM entries WHERE " + where
	if single {
		return q + " ORDER BY id LIMIT 1", args
	}
	return q + " AND document_id = ? LIMIT 1", append(args, documentID)
}

// scope authorizes a read of type t in the compiled status and builds its
// condition, applying the own-entries restriction.
func (s *Service) scope(ctx context.Context, actor Actor, t *Type, c *query.Compiled,
	action Action, admin bool) (*readScope, error) {
	g, err := authorize(ctx, actor, action, t.UID)
	if err != nil {
		return nil, err
	}
	drafts := c.Status == query.StatusDraft && t.DraftAndPublish()
	if drafts {
		if _, err := authorize(ctx, actor, ActionReadDrafts, t.UID); err != nil {
			return nil, err
		}
	}
	sc := &readScope{
		base:       typeTerm(t.UID) + " AND " + s.stateTerm(!drafts),
		filter:     c.Where,
		filterArgs: c.Args,
		published:  !drafts,
		shared:     !drafts && !admin && !g.OwnOnly,
		columns:    s.columns(),
	}
	if g.OwnOnly {
		sc.base += " AND created_by = ?"
		sc.args = []any{actor.ID}
	}
	return sc, nil
}

// stateScope authorizes a read like scope and restricts a draft read to
// opts.State.
func (s *Service) stateScope(ctx context.Context, actor Actor, t *Type, c *query.Compiled,
	action Action, opts ReadOptions) (*readScope, error) {
	sc, err := s.scope(ctx, actor, t, c, action, opts.Admin)
	if err != nil || sc.published || opts.State == "" {
		return sc, err
	}
	sc.base += " AND " + s.publicationTerm(opts.State)
	return sc, nil
}

// publicationTerm is the condition keeping the drafts of documents in
// state (see ReadOptions.State). It looks up the document's published
// version through the unique (document_id, published_at IS NULL) index.
func (s *Service) publicationTerm(state string) string {
	published := "(p.published_at IS NULL) = 0"
	if s.db.Dialect == Postgres {
		published = "(p.published_at IS NULL) IS FALSE"
	}
	sub := "SELECT 1 FROM entries p WHERE p.document_id = entries.document_id AND " + published
	switch state {
	case StateDraft:
		return "NOT EXISTS (" + sub + ")"
	case StatePublished:
		return "EXISTS (" + sub + " AND p.updated_at = entries.updated_at)"
	}
	return "EXISTS (" + sub + " AND p.updated_at <> entries.updated_at)"
}

// page is one rendered page of a list: the whole answer body, with the
// bounds of each document in it.
type page struct {
	body []byte
	docs [][2]int
	meta map[string]any
	// shared: see readScope.
	shared bool
}

// findPage reads and renders one page of a collection type into the
// answer {"data": [...], "meta": {"pagination": ...}}.
func (s *Service) findPage(ctx context.Context, actor Actor, t *Type, rawQuery string,
	opts ReadOptions) (*page, error) {
	p, c, err := s.compile(t, rawQuery, opts, false)
	if err != nil {
		return nil, err
	}
	sc, err := s.stateScope(ctx, actor, t, c, ActionFind, opts)
	if err != nil {
		return nil, err
	}
	var total int64
	if c.Pagination.WithCount {
		q, args := sc.countSQL()
		if total, err = s.count(ctx, q, args...); err != nil {
			return nil, fmt.Errorf("count %s: %w", t.UID, err)
		}
	}
	pg := &page{meta: c.Pagination.Meta(total), shared: sc.shared}
	buf := make([]byte, 0, 512+c.Limit*1400)
	buf = append(buf, `{"data":[`...)
	// With the count known, a page past the end needs no query.
	if c.Limit > 0 && (!c.Pagination.WithCount || int64(c.Offset) < total) {
		q, args := sc.listSQL(c, s.walkSortIndex(ctx, t, p, c, sc, total))
		ro := renderOptions{private: opts.Admin, fields: c.Fields}
		buf, pg.docs, err = s.renderRead(ctx, t, ro, buf, ',', q, args, c, sc.published)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", t.UID, err)
		}
	}
	meta, err := json.Marshal(map[string]any{"pagination": pg.meta})
	if err != nil {
		return nil, err
	}
	buf = append(buf, `],"meta":`...)
	buf = append(buf, meta...)
	pg.body = append(buf, '}')
	return pg, nil
}

// walkSortIndex decides, on SQLite, whether a filtered list should read
// an index in the list's order (the sort attribute's, or the per-type
// index for the default order by id) and test the filter on each row,
// instead of letting the filter's own index find every match to sort
// them. SQLite's planner, without statistics on how many rows a range
// matches, prefers the filter's index, which for a broad filter (views >
// 500 matches half the rows) means sorting half the type to return ten.
// Walking visits about need*rows/matches rows, the filter's index about
// matches rows, so walking wins when matches >= sqrt(need*rows). The
// type's rows are estimated (approxTotal); the matches are the count when
// the list has one (withCount), and otherwise counted through the
// filter's index up to that threshold, which costs at most as much as
// the walk. When walking wins, the filter is wrapped in a unary + so that
// no index serves it. PostgreSQL keeps statistics and chooses well on its
// own.
func (s *Service) walkSortIndex(ctx context.Context, t *Type, p *query.Params, c *query.Compiled,
	sc *readScope, matches int64) bool {
	if s.db.Dialect != SQLite || sc.filter == "" || c.Pagination.WithCount && matches == 0 {
		return false
	}
	if len(p.Sort) > 0 && p.Sort[0].Field != "id" {
		a := t.Schema.Attributes.Get(p.Sort[0].Field)
		if a == nil || !indexedForQueries(a) || query.AttributeExpr(query.SQLite, a) == "" {
			return false
		}
	}
	rows, err := s.approxTotal(ctx, t.UID, sc.published)
	if err != nil {
		return false
	}
	need := int64(c.Offset + c.Limit)
	if !c.Pagination.WithCount {
		threshold := int64(math.Sqrt(float64(need*rows))) + 1
		q, args := sc.countUpToSQL(threshold)
		if matches, err = s.count(ctx, q, args...); err != nil {
			return false
		}
	}
	return need*rows <= matches*matches
}

// Find lists documents of a collection type, filtered, sorted and paginated
// by the raw query string.
func (s *Service) Find(ctx context.Context, actor Actor, t *Type, rawQuery string,
	opts ReadOptions) (*List, error) {
	pg, err := s.findPage(ctx, actor, t, rawQuery, opts)
	if err != nil {
		return nil, err
	}
	list := &List{Data: make([]json.RawMessage, len(pg.docs)), Pagination: pg.meta}
	for i, d := range pg.docs {
		list.Data[i] = pg.body[d[0]:d[1]:d[1]]
	}
	return list, nil
}

// one is a rendered single document: the whole answer body, {"data": doc,
// "meta": {}}, and the document's bounds in it.
type one struct {
	body   []byte
	doc    [2]int
	shared bool
}

// findOne reads and renders one document of t by documentId, or, with
// single, the document of a single type.
func (s *Service) findOne(ctx context.Context, actor Actor, t *Type, documentID, rawQuery string,
	opts ReadOptions, single bool) (*one, error) {
	_, c, err := s.compile(t, rawQuery, opts, true)
	if err != nil {
		return nil, err
	}
	action := ActionFindOne
	if single {
		action = ActionFind
	}
	sc, err := s.stateScope(ctx, actor, t, c, action, opts)
	if err != nil {
		return nil, err
	}
	q, args := sc.oneSQL(documentID, single)
	buf := make([]byte, 0, 2048)
	buf = append(buf, `{"data":`...)
	ro := renderOptions{private: opts.Admin, fields: c.Fields}
	buf, docs, err := s.renderRead(ctx, t, ro, buf, 0, q, args, c, sc.published)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", t.UID, err)
	}
	if len(docs) == 0 {
		return nil, Errorf(ENOTFOUND, "Not Found")
	}
	return &one{body: append(buf, `,"meta":{}}`...), doc: docs[0], shared: sc.shared}, nil
}

// FindOne returns one document by documentId, or ENOTFOUND.
func (s *Service) FindOne(ctx context.Context, actor Actor, t *Type, documentID, rawQuery string,
	opts ReadOptions) (json.RawMessage, error) {
	o, err := s.findOne(ctx, actor, t, documentID, rawQuery, opts, false)
	if err != nil {
		return nil, err
	}
	return o.body[o.doc[0]:o.doc[1]:o.doc[1]], nil
}

// FindSingle returns the document of a single type, or ENOTFOUND while it
// has none.
func (s *Service) FindSingle(ctx context.Context, actor Actor, t *Type, rawQuery string,
	opts ReadOptions) (json.RawMessage, error) {
	o, err := s.findOne(ctx, actor, t, "", rawQuery, opts, true)
	if err != nil {
		return nil, err
	}
	return o.body[o.doc[0]:o.doc[1]:o.doc[1]], nil
}

// SingleDocumentID returns the documentId of a single type's document, or
// ENOTFOUND while it has none.
func (s *Service) SingleDocumentID(ctx context.Context, t *Type) (string, error) {
	var ids []string
	err := s.db.Read.WithContext(ctx).Table("entries").Where("content_type = ?", t.UID).
		Order("id").Limit(1).Pluck("document_id", &ids).Error
	if err != nil {
		return "", fmt.Errorf("find single %s: %w", t.UID, err)
	}
	if len(ids) == 0 {
		return "", Errorf(ENOTFOUND, "Not Found")
	}
	return ids[0], nil
}
