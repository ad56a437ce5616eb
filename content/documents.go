package content

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/herald-cms/herald/content/query"
	"github.com/herald-cms/herald/content/schema"
)

// WriteOptions says how a write treats draft and publish.
type WriteOptions struct {
	// Publish publishes the document after the write (draft-and-publish
	// types only; other types are always published).
	Publish bool
	// Private lets the caller see private attributes in the answer (admin
	// routes).
	Private bool
}

// change collects what one write transaction does, for its events.
type change struct {
	s      *Service
	ctx    context.Context
	tx     *gorm.DB
	events []Event
}

// add records an event carrying r as the API shows it, with its relations
// and media populated one level deep, as they are in the transaction.
func (ch *change) add(t *Type, name string, r *entryRow) error {
	doc, err := ch.s.renderRow(ch.ctx, ch.tx, t, r, false)
	if err != nil {
		return err
	}
	ch.events = append(ch.events, Event{
		ID:         NewEventID(),
		Name:       name,
		UID:        t.UID,
		Model:      t.Schema.Info.SingularName,
		DocumentID: r.DocumentID,
		Entry:      doc,
	})
	return nil
}

// write runs fn in a transaction (shared with concurrent writes on
// SQLite: see DB.Transact), records the events it collected inside that
// transaction, and wakes the event recorder after commit.
func (s *Service) write(ctx context.Context, op string, fn func(tx *gorm.DB, ch *change) error) error {
	ch := &change{s: s}
	err := s.db.Transact(ctx, func(tx *gorm.DB) error {
		ch.ctx, ch.tx, ch.events = tx.Statement.Context, tx, nil
		if err := fn(tx, ch); err != nil {
			return err
		}
		if len(ch.events) == 0 {
			return nil
		}
		now := s.now().UTC()
		for i := range ch.events {
			ch.events[i].CreatedAt = now
		}
		return s.events.Record(ch.ctx, tx, ch.events)
	})
	if err != nil {
		if isUniqueViolation(err) {
			return Invalid("This attribute must be unique", FieldError{
				Path: []string{}, Message: "A unique attribute repeats another entry's value",
				Name: "ValidationError"})
		}
		return wrapOp(op, err)
	}
	if len(ch.events) > 0 {
		s.events.Committed(ctx)
		s.entriesChanged(ctx, ch.events)
	}
	return nil
}

// entriesChanged tells every instance, this one first and at once, that
// the content types of the committed events changed, so that no cache
// answers with what was there before.
func (s *Service) entriesChanged(ctx context.Context, events []Event) {
	if s.db.Bus == nil {
		return
	}
	for i, e := range events {
		if i > 0 && events[i-1].UID == e.UID {
			continue
		}
		s.db.Bus.Publish(ctx, TopicEntries, e.UID)
	}
}

// authorize asks the actor's policy and turns a refusal into EFORBIDDEN.
func authorize(ctx context.Context, actor Actor, action Action, uid string) (Grant, error) {
	g := actor.Can(ctx, action, uid)
	if !g.Allowed {
		return g, Errorf(EFORBIDDEN, "Forbidden")
	}
	return g, nil
}

// ownerFilter restricts a query to the actor's own entries when the grant
// says so.
func ownerFilter(q *gorm.DB, g Grant, actor Actor) *gorm.DB {
	if g.OwnOnly {
		return q.Where("created_by = ?", actor.ID)
	}
	return q
}

// loadRow reads one version of a document inside tx, locking it on
// PostgreSQL. published picks the published row, otherwise the draft. For
// types without draft and publish the only row is the published one.
func (s *Service) loadRow(tx *gorm.DB, t *Type, documentID string, published bool) (*entryRow, error) {
	q := tx.Where(s.docTerm(), documentID, t.UID).
		Where(s.stateTerm(published || !t.DraftAndPublish()))
	if s.db.Dialect == Postgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var r entryRow
	err := q.Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, Errorf(ENOTFOUND, "Not Found")
	}
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// docTerm selects one document's rows; its arguments are the documentId
// and the uid. On SQLite the type is compared as +content_type: without
// statistics the planner would otherwise pick the per-type index and read
// every row of the type, instead of the (document_id, state) one.
func (s *Service) docTerm() string {
	if s.db.Dialect == SQLite {
		return "document_id = ? AND +content_type = ?"
	}
	return "document_id = ? AND content_type = ?"
}

// checkOwner refuses an own-entries-only grant on someone else's entry.
func checkOwner(g Grant, actor Actor, r *entryRow) error {
	if g.OwnOnly && (r.CreatedBy == nil || *r.CreatedBy != actor.ID) {
		return Errorf(ENOTFOUND, "Not Found")
	}
	return nil
}

func decodeData(raw string) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("decode entry data: %w", err)
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

// prepare validates input against the type and returns the full new data,
// and the uid attributes it generated (already checked to be free in both
// states, in this transaction, so checkUnique may skip them).
func (s *Service) prepare(tx *gorm.DB, t *Type, documentID string, input, existing map[string]any,
	create, publish bool) (map[string]any, map[string]bool, error) {
	mode := schema.ModeDraft
	switch {
	case !t.DraftAndPublish():
		mode = schema.ModeNoDraftAndPublish
	case publish:
		mode = schema.ModePublish
	}
	data, errs := t.Schema.Prepare(input, existing, create, mode, true)
	if len(errs) > 0 {
		return nil, nil, schemaError(errs)
	}
	filled, err := s.fillUIDs(tx, t, documentID, input, existing, data)
	if err != nil {
		return nil, nil, err
	}
	return data, filled, nil
}

// fillUIDs makes generated uid values unique: a uid the caller did not set
// and the document did not have gets a numeric suffix until it is free. It
// returns the names of the attributes it filled.
func (s *Service) fillUIDs(tx *gorm.DB, t *Type, documentID string, input, existing,
	data map[string]any) (map[string]bool, error) {
	var filled map[string]bool
	for _, a := range t.Schema.Attributes {
		if a.Type != schema.TypeUID || a.TargetField == "" {
			continue
		}
		if v, _ := input[a.Name].(string); v != "" {
			continue
		}
		if v, _ := existing[a.Name].(string); v != "" {
			continue
		}
		base, _ := data[a.Name].(string)
		if base == "" {
			src, _ := data[a.TargetField].(string)
			base = schema.Slugify(src)
		}
		if base == "" {
			continue
		}
		candidate := base
		for n := 1; ; n++ {
			taken, err := s.valueTaken(tx, t, a, documentID, candidate, nil)
			if err != nil {
				return nil, err
			}
			if !taken {
				break
			}
			candidate = base + "-" + strconv.Itoa(n)
		}
		data[a.Name] = candidate
		if filled == nil {
			filled = map[string]bool{}
		}
		filled[a.Name] = true
	}
	return filled, nil
}

// isUnique reports whether an attribute's values must be unique; uid
// attributes always are.
func isUnique(a *schema.Attribute) bool {
	return a.Unique || a.Type == schema.TypeUID
}

// valueTaken reports whether another document of the type holds value for
// attribute a. published nil means either state.
func (s *Service) valueTaken(tx *gorm.DB, t *Type, a *schema.Attribute, documentID string,
	value any, published *bool) (bool, error) {
	if !t.DraftAndPublish() {
		// Every row of such a type is published.
		return s.valueTakenIn(tx, t, a, documentID, value, true)
	}
	if published != nil {
		return s.valueTakenIn(tx, t, a, documentID, value, *published)
	}
	taken, err := s.valueTakenIn(tx, t, a, documentID, value, true)
	if err != nil || taken {
		return taken, err
	}
	return s.valueTakenIn(tx, t, a, documentID, value, false)
}

// valueTakenIn is valueTaken in one state. The condition is written for
// the type's indexes (see typeIndexes): the uid as a literal, the state as
// an equality on (published_at IS NULL), and the value through the unique
// index's expression for unique attributes or, for other text attributes
// (uid attributes are unique without saying so), through the query
// index's expression, which for a string value matches exactly the same
// rows.
func (s *Service) valueTakenIn(tx *gorm.DB, t *Type, a *schema.Attribute, documentID string,
	value any, published bool) (bool, error) {
	q := tx.Table("entries").Where(typeTerm(t.UID)+" AND "+s.stateTerm(published)).
		Where("document_id <> ?", documentID)
	str, isString := value.(string)
	expr := ""
	if !a.Unique && isString && a.IsText() && indexedForQueries(a) {
		expr = query.AttributeExpr(query.Dialect(s.db.Dialect), a)
	}
	switch {
	case expr != "":
		q = q.Where(expr+" = ?", str)
	case s.db.Dialect == Postgres:
		q = q.Where(s.jsonTextExpr(a.Name)+" = ?", fmt.Sprint(value))
	default:
		q = q.Where(s.jsonTextExpr(a.Name)+" = ?", sqliteValue(value))
	}
	var n int64
	if err := q.Limit(1).Count(&n).Error; err != nil {
		return false, fmt.Errorf("check unique %s: %w", a.Name, err)
	}
	return n > 0, nil
}

// sqliteValue converts a normalised value to what json_extract returns.
func sqliteValue(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case bool:
		if x {
			return 1
		}
		return 0
	}
	return v
}

// checkUnique refuses data whose unique attributes repeat another
// document's value in the same publication state. Attributes in checked
// were verified in this transaction already.
func (s *Service) checkUnique(tx *gorm.DB, t *Type, documentID string, data map[string]any,
	published bool, checked map[string]bool) error {
	var fields []FieldError
	for _, a := range t.Schema.Attributes {
		v, ok := data[a.Name]
		if !isUnique(a) || !ok || v == nil || v == "" || checked[a.Name] {
			continue
		}
		taken, err := s.valueTaken(tx, t, a, documentID, v, &published)
		if err != nil {
			return err
		}
		if taken {
			fields = append(fields, FieldError{Path: []string{a.Name},
				Message: "This attribute must be unique", Name: "ValidationError"})
		}
	}
	if len(fields) > 0 {
		return Invalid("This attribute must be unique", fields...)
	}
	return nil
}

func encodeData(data map[string]any) (string, error) {
	b, err := json.Marshal(data)
	if err != nil {
		return "", fmt.Errorf("encode entry data: %w", err)
	}
	return string(b), nil
}

func actorRef(actor Actor) *int64 {
	if actor.Kind != ActorAdmin {
		return nil
	}
	id := actor.ID
	return &id
}

// nowMillis is the service clock in UTC, truncated to what the API shows.
func (s *Service) nowMillis() time.Time {
	return s.now().UTC().Truncate(time.Millisecond)
}

// Create creates a document of type t from input. It publishes the new
// document when the type has no draft and publish, or when opts.Publish is
// set, and returns the version it wrote last. Events: entry.create, then
// entry.publish when published.
func (s *Service) Create(ctx context.Context, actor Actor, t *Type, input map[string]any,
	opts WriteOptions) (json.RawMessage, error) {
	if _, err := authorize(ctx, actor, ActionCreate, t.UID); err != nil {
		return nil, err
	}
	publish := opts.Publish && t.DraftAndPublish()
	if publish {
		if _, err := authorize(ctx, actor, ActionPublish, t.UID); err != nil {
			return nil, err
		}
	}
	var out *entryRow
	err := s.write(ctx, "create "+t.UID, func(tx *gorm.DB, ch *change) error {
		if t.IsSingle() {
			var n int64
			if err := tx.Table("entries").Where("content_type = ?", t.UID).Count(&n).Error; err != nil {
				return err
			}
			if n > 0 {
				return Errorf(ECONFLICT, "Single type %s already has its document", t.UID)
			}
		}
		docID := NewDocumentID()
		data, filled, err := s.prepare(tx, t, docID, input, nil, true, publish)
		if err != nil {
			return err
		}
		links, err := s.parseLinks(tx, t, input)
		if err != nil {
			return err
		}
		now := s.nowMillis()
		row := &entryRow{DocumentID: docID, ContentType: t.UID, CreatedAt: now, UpdatedAt: now,
			CreatedBy: actorRef(actor), UpdatedBy: actorRef(actor)}
		if !t.DraftAndPublish() {
			row.PublishedAt = &now
		}
		if err := s.checkUnique(tx, t, docID, data, row.PublishedAt != nil, filled); err != nil {
			return err
		}
		if row.Data, err = encodeData(data); err != nil {
			return err
		}
		if err := tx.Create(row).Error; err != nil {
			return err
		}
		if err := s.saveLinks(tx, t, row, links, publish); err != nil {
			return err
		}
		out = row
		if err := ch.add(t, EventCreate, row); err != nil {
			return err
		}
		if publish {
			out, err = s.publishNew(tx, t, row, data, filled, ch)
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return render(t, out, renderOptions{private: opts.Private})
}

// publishNew publishes a draft created in this transaction from data,
// which prepare validated for publishing: it has no published version yet,
// and the uid attributes in filled are known to be free in both states.
// It records entry.publish.
func (s *Service) publishNew(tx *gorm.DB, t *Type, draft *entryRow, data map[string]any,
	filled map[string]bool, ch *change) (*entryRow, error) {
	if err := s.checkUnique(tx, t, draft.DocumentID, data, true, filled); err != nil {
		return nil, err
	}
	now := s.nowMillis()
	pub := &entryRow{DocumentID: draft.DocumentID, ContentType: t.UID, Data: draft.Data,
		CreatedAt: draft.CreatedAt, UpdatedAt: draft.UpdatedAt, PublishedAt: &now,
		CreatedBy: draft.CreatedBy, UpdatedBy: draft.UpdatedBy}
	if err := tx.Create(pub).Error; err != nil {
		return nil, err
	}
	if err := s.copyLinks(tx, t, draft, pub); err != nil {
		return nil, err
	}
	return pub, ch.add(t, EventPublish, pub)
}

// publishRow writes draft's data as the published version, replacing any
// earlier one in place, and records entry.publish.
func (s *Service) publishRow(tx *gorm.DB, t *Type, draft *entryRow, ch *change) (*entryRow, error) {
	data, err := decodeData(draft.Data)
	if err != nil {
		return nil, err
	}
	if _, errs := t.Schema.Prepare(map[string]any{}, data, false, schema.ModePublish, true); len(errs) > 0 {
		return nil, schemaError(errs)
	}
	if err := s.checkUnique(tx, t, draft.DocumentID, data, true, nil); err != nil {
		return nil, err
	}
	if t.hasLinks() {
		if err := s.checkRequiredLinks(tx, t, draft); err != nil {
			return nil, err
		}
	}
	now := s.nowMillis()
	pub, err := s.loadRow(tx, t, draft.DocumentID, true)
	switch {
	case IsCode(err, ENOTFOUND):
		pub = &entryRow{DocumentID: draft.DocumentID, ContentType: t.UID, Data: draft.Data,
			CreatedAt: draft.CreatedAt, UpdatedAt: draft.UpdatedAt, PublishedAt: &now,
			CreatedBy: draft.CreatedBy, UpdatedBy: draft.UpdatedBy}
		if err := tx.Create(pub).Error; err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	default:
		pub.Data, pub.UpdatedAt, pub.PublishedAt, pub.UpdatedBy = draft.Data, draft.UpdatedAt, &now, draft.UpdatedBy
		err := tx.Model(&entryRow{}).Where("id = ?", pub.ID).Updates(map[string]any{
			"data": pub.Data, "updated_at": pub.UpdatedAt, "published_at": now, "updated_by": pub.UpdatedBy,
		}).Error
		if err != nil {
			return nil, err
		}
	}
	if err := s.copyLinks(tx, t, draft, pub); err != nil {
		return nil, err
	}
	return pub, ch.add(t, EventPublish, pub)
}

// Update changes a document with input (a partial set of attributes). For
// draft-and-publish types it changes the draft and, with opts.Publish, then
// publishes it. Events: entry.update, then entry.publish when published.
func (s *Service) Update(ctx context.Context, actor Actor, t *Type, documentID string,
	input map[string]any, opts WriteOptions) (json.RawMessage, error) {
	g, err := authorize(ctx, actor, ActionUpdate, t.UID)
	if err != nil {
		return nil, err
	}
	publish := opts.Publish && t.DraftAndPublish()
	if publish {
		if _, err := authorize(ctx, actor, ActionPublish, t.UID); err != nil {
			return nil, err
		}
	}
	var out *entryRow
	err = s.write(ctx, "update "+documentID, func(tx *gorm.DB, ch *change) error {
		row, err := s.loadRow(tx, t, documentID, false)
		if err != nil {
			return err
		}
		if err := checkOwner(g, actor, row); err != nil {
			return err
		}
		existing, err := decodeData(row.Data)
		if err != nil {
			return err
		}
		data, filled, err := s.prepare(tx, t, documentID, input, existing, false, publish)
		if err != nil {
			return err
		}
		links, err := s.parseLinks(tx, t, input)
		if err != nil {
			return err
		}
		err = s.checkUnique(tx, t, documentID, data, row.PublishedAt != nil, filled)
		if err != nil {
			return err
		}
		if row.Data, err = encodeData(data); err != nil {
			return err
		}
		row.UpdatedAt, row.UpdatedBy = s.nowMillis(), actorRef(actor)
		err = tx.Model(&entryRow{}).Where("id = ?", row.ID).Updates(map[string]any{
			"data": row.Data, "updated_at": row.UpdatedAt, "updated_by": row.UpdatedBy,
		}).Error
		if err != nil {
			return err
		}
		if err := s.saveLinks(tx, t, row, links, publish); err != nil {
			return err
		}
		out = row
		if err := ch.add(t, EventUpdate, row); err != nil {
			return err
		}
		if publish {
			out, err = s.publishRow(tx, t, row, ch)
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return render(t, out, renderOptions{private: opts.Private})
}

// requireDraftAndPublish refuses publish actions on types without drafts.
func requireDraftAndPublish(t *Type) error {
	if !t.DraftAndPublish() {
		return Errorf(EINVALID, "%s does not use draft and publish", t.UID)
	}
	return nil
}

// Publish publishes a document's draft, validating it completely. Event:
// entry.publish.
func (s *Service) Publish(ctx context.Context, actor Actor, t *Type, documentID string,
	opts WriteOptions) (json.RawMessage, error) {
	return s.publishAction(ctx, actor, t, documentID, opts, func(tx *gorm.DB, ch *change,
		draft *entryRow) (*entryRow, error) {
		return s.publishRow(tx, t, draft, ch)
	})
}

// Unpublish removes a document's published version and returns its draft.
// Event: entry.unpublish, carrying the version that was published.
func (s *Service) Unpublish(ctx context.Context, actor Actor, t *Type, documentID string,
	opts WriteOptions) (json.RawMessage, error) {
	return s.publishAction(ctx, actor, t, documentID, opts, func(tx *gorm.DB, ch *change,
		draft *entryRow) (*entryRow, error) {
		pub, err := s.loadRow(tx, t, documentID, true)
		if IsCode(err, ENOTFOUND) {
			return nil, Errorf(EINVALID, "Document %s is not published", documentID)
		}
		if err != nil {
			return nil, err
		}
		// The event shows the published version with its links, which
		// go with the row.
		if err := ch.add(t, EventUnpublish, pub); err != nil {
			return nil, err
		}
		return draft, tx.Delete(&entryRow{}, pub.ID).Error
	})
}

// DiscardDraft replaces a document's draft with its published version.
// Event: entry.draft-discard, carrying the restored draft.
func (s *Service) DiscardDraft(ctx context.Context, actor Actor, t *Type, documentID string,
	opts WriteOptions) (json.RawMessage, error) {
	return s.publishAction(ctx, actor, t, documentID, opts, func(tx *gorm.DB, ch *change,
		draft *entryRow) (*entryRow, error) {
		pub, err := s.loadRow(tx, t, documentID, true)
		if IsCode(err, ENOTFOUND) {
			return nil, Errorf(EINVALID, "Document %s has no published version to return to",
				documentID)
		}
		if err != nil {
			return nil, err
		}
		draft.Data, draft.UpdatedAt = pub.Data, pub.UpdatedAt
		err = tx.Model(&entryRow{}).Where("id = ?", draft.ID).Updates(map[string]any{
			"data": draft.Data, "updated_at": draft.UpdatedAt, "updated_by": pub.UpdatedBy,
		}).Error
		if err != nil {
			return nil, err
		}
		if err := s.copyLinks(tx, t, pub, draft); err != nil {
			return nil, err
		}
		return draft, ch.add(t, EventDraftDiscard, draft)
	})
}

type publishFunc func(tx *gorm.DB, ch *change, draft *entryRow) (*entryRow, error)

// publishAction runs one of the publish actions on a document's draft after
// the common checks.
func (s *Service) publishAction(ctx context.Context, actor Actor, t *Type, documentID string,
	opts WriteOptions, fn publishFunc) (json.RawMessage, error) {
	if err := requireDraftAndPublish(t); err != nil {
		return nil, err
	}
	g, err := authorize(ctx, actor, ActionPublish, t.UID)
	if err != nil {
		return nil, err
	}
	var out *entryRow
	err = s.write(ctx, "publish action on "+documentID, func(tx *gorm.DB, ch *change) error {
		draft, err := s.loadRow(tx, t, documentID, false)
		if err != nil {
			return err
		}
		if err := checkOwner(g, actor, draft); err != nil {
			return err
		}
		out, err = fn(tx, ch, draft)
		return err
	})
	if err != nil {
		return nil, err
	}
	return render(t, out, renderOptions{private: opts.Private})
}

// Delete removes every version of a document. Event: one entry.delete,
// carrying the published version when there is one, else the draft.
func (s *Service) Delete(ctx context.Context, actor Actor, t *Type, documentID string) error {
	g, err := authorize(ctx, actor, ActionDelete, t.UID)
	if err != nil {
		return err
	}
	return s.write(ctx, "delete "+documentID, func(tx *gorm.DB, ch *change) error {
		var rows []entryRow
		q := tx.Where(s.docTerm(), documentID, t.UID).
			Order("published_at IS NULL, id")
		if err := q.Find(&rows).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			return Errorf(ENOTFOUND, "Not Found")
		}
		if err := checkOwner(g, actor, &rows[0]); err != nil {
			return err
		}
		// The event shows the document with its links, which go with it.
		if err := ch.add(t, EventDelete, &rows[0]); err != nil {
			return err
		}
		err := tx.Where(s.docTerm(), documentID, t.UID).
			Delete(&entryRow{}).Error
		if err != nil {
			return err
		}
		return dropLinksTo(tx, documentID)
	})
}
