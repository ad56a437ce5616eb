package content

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"

	"gorm.io/gorm"

	"github.com/herald-cms/herald/content/query"
)

// ReadOptions says how a read request is interpreted.
type ReadOptions struct {
	// Admin marks the editors' routes: private attributes are visible and the
	// default status is draft, since every document has a draft.
	Admin bool
}

// List is one page of documents and its pagination meta.
type List struct {
	Data []json.RawMessage
	// Pagination is Strapi's meta.pagination object.
	Pagination map[string]any
}

// compile parses and compiles a raw query string for type t.
func (s *Service) compile(t *Type, rawQuery string, opts ReadOptions, single bool) (*query.Compiled, error) {
	p, err := query.Parse(rawQuery)
	if err != nil {
		return nil, queryError(err)
	}
	c, err := query.Compile(p, t.Schema, query.Options{
		Dialect:      query.Dialect(s.db.Dialect),
		AllowPrivate: opts.Admin,
		Single:       single,
	})
	if err != nil {
		return nil, queryError(err)
	}
	if opts.Admin && !queryHasStatus(rawQuery) {
		c.Status = "draft"
	}
	return c, nil
}

// queryHasStatus reports whether the raw query names a status.
func queryHasStatus(raw string) bool {
	v, err := url.ParseQuery(raw)
	return err == nil && v.Has("status")
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

// readScope builds the base query for reads of type t in the compiled
// status, applying the own-entries restriction.
func (s *Service) readScope(ctx context.Context, actor Actor, t *Type, c *query.Compiled,
	action Action) (*gorm.DB, error) {
	g, err := authorize(ctx, actor, action, t.UID)
	if err != nil {
		return nil, err
	}
	drafts := c.Status == "draft" && t.DraftAndPublish()
	if drafts {
		if _, err := authorize(ctx, actor, ActionReadDrafts, t.UID); err != nil {
			return nil, err
		}
	}
	q := s.db.Read.WithContext(ctx).Table("entries").Where("content_type = ?", t.UID)
	if drafts {
		q = q.Where("published_at IS NULL")
	} else {
		q = q.Where("published_at IS NOT NULL")
	}
	q = ownerFilter(q, g, actor)
	if c.Where != "" {
		q = q.Where("("+c.Where+")", c.Args...)
	}
	return q, nil
}

// Find lists documents of a collection type, filtered, sorted and paginated
// by the raw query string.
func (s *Service) Find(ctx context.Context, actor Actor, t *Type, rawQuery string,
	opts ReadOptions) (*List, error) {
	c, err := s.compile(t, rawQuery, opts, false)
	if err != nil {
		return nil, err
	}
	q, err := s.readScope(ctx, actor, t, c, ActionFind)
	if err != nil {
		return nil, err
	}
	var total int64
	if c.Pagination.WithCount {
		if err := q.Session(&gorm.Session{}).Count(&total).Error; err != nil {
			return nil, fmt.Errorf("count %s: %w", t.UID, err)
		}
	}
	var rows []entryRow
	err = q.Select(entryColumns).Order(c.OrderBy).Limit(c.Limit).Offset(c.Offset).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", t.UID, err)
	}
	list := &List{Data: make([]json.RawMessage, 0, len(rows)), Pagination: c.Pagination.Meta(total)}
	ro := renderOptions{private: opts.Admin, fields: c.Fields}
	for i := range rows {
		doc, err := render(t, &rows[i], ro)
		if err != nil {
			return nil, err
		}
		list.Data = append(list.Data, doc)
	}
	return list, nil
}

// FindOne returns one document by documentId, or ENOTFOUND.
func (s *Service) FindOne(ctx context.Context, actor Actor, t *Type, documentID, rawQuery string,
	opts ReadOptions) (json.RawMessage, error) {
	c, err := s.compile(t, rawQuery, opts, true)
	if err != nil {
		return nil, err
	}
	q, err := s.readScope(ctx, actor, t, c, ActionFindOne)
	if err != nil {
		return nil, err
	}
	return s.takeOne(q.Where("document_id = ?", documentID), t, c, opts)
}

// FindSingle returns the document of a single type, or ENOTFOUND while it
// has none.
func (s *Service) FindSingle(ctx context.Context, actor Actor, t *Type, rawQuery string,
	opts ReadOptions) (json.RawMessage, error) {
	c, err := s.compile(t, rawQuery, opts, true)
	if err != nil {
		return nil, err
	}
	q, err := s.readScope(ctx, actor, t, c, ActionFind)
	if err != nil {
		return nil, err
	}
	return s.takeOne(q.Order("id"), t, c, opts)
}

func (s *Service) takeOne(q *gorm.DB, t *Type, c *query.Compiled, opts ReadOptions) (json.RawMessage, error) {
	var row entryRow
	err := q.Select(entryColumns).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, Errorf(ENOTFOUND, "Not Found")
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", t.UID, err)
	}
	return render(t, &row, renderOptions{private: opts.Admin, fields: c.Fields})
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
