package content

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"

	"github.com/herald-cms/herald/content/schema"
)

// Type is a content type: its uid and its schema.
type Type struct {
	UID       string         `json:"uid"`
	Schema    *schema.Schema `json:"schema"`
	CreatedAt time.Time      `json:"createdAt"`
	UpdatedAt time.Time      `json:"updatedAt"`
}

// IsSingle reports whether the type is a single type.
func (t *Type) IsSingle() bool { return t.Schema.Kind == schema.KindSingle }

// DraftAndPublish reports whether the type keeps drafts beside published
// versions.
func (t *Type) DraftAndPublish() bool { return t.Schema.Options.DraftAndPublish }

type typeRow struct {
	UID       string `gorm:"primaryKey"`
	Schema    string
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (typeRow) TableName() string { return "content_types" }

// typeSet is an immutable snapshot of every content type, swapped whole on
// change so readers never lock.
type typeSet struct {
	byUID   map[string]*Type
	byRoute map[string]*Type
	list    []*Type
}

func newTypeSet(types []*Type) *typeSet {
	ts := &typeSet{byUID: map[string]*Type{}, byRoute: map[string]*Type{}}
	for _, t := range types {
		ts.byUID[t.UID] = t
		if t.IsSingle() {
			ts.byRoute[t.Schema.Info.SingularName] = t
		} else {
			ts.byRoute[t.Schema.Info.PluralName] = t
		}
	}
	ts.list = append([]*Type(nil), types...)
	sort.Slice(ts.list, func(i, j int) bool { return ts.list[i].UID < ts.list[j].UID })
	return ts
}

// typeCache serialises reloads of the content types, so an older read
// never replaces a newer one, and coalesces the reloads that notices ask
// for.
type typeCache struct {
	mu      sync.Mutex
	pending atomic.Bool
}

// watchTypes reloads the content types whenever any instance, this one
// included, says they changed (or, with an empty payload, that anything
// may have).
func (s *Service) watchTypes() {
	s.db.Bus.Subscribe(TopicContentTypes, func(string) {
		// A reload already waiting to start will read this change too.
		if !s.typeCache.pending.CompareAndSwap(false, true) {
			return
		}
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := s.reloadTypes(ctx); err != nil {
				s.log.ErrorContext(ctx, "reload content types after a change notice", "error", err)
			}
		}()
	})
}

// typesChanged reloads the cache after a committed change made here, so
// the caller's next request sees it, then tells the other instances.
func (s *Service) typesChanged(ctx context.Context, uid string) error {
	err := s.reloadTypes(ctx)
	s.db.Bus.Publish(ctx, TopicContentTypes, uid)
	return err
}

// reloadTypes reads every content type from the database into the cache.
func (s *Service) reloadTypes(ctx context.Context) error {
	s.typeCache.mu.Lock()
	defer s.typeCache.mu.Unlock()
	// Cleared before reading: a notice arriving from now on schedules
	// another reload, which will see its change.
	s.typeCache.pending.Store(false)
	var rows []typeRow
	if err := s.db.Read.WithContext(ctx).Order("uid").Find(&rows).Error; err != nil {
		return fmt.Errorf("load content types: %w", err)
	}
	types := make([]*Type, 0, len(rows))
	for _, r := range rows {
		sc := &schema.Schema{}
		if err := json.Unmarshal([]byte(r.Schema), sc); err != nil {
			return fmt.Errorf("load content type %s: %w", r.UID, err)
		}
		// Milliseconds, as documents keep them: SQLite would keep the
		// nanoseconds of older rows and PostgreSQL the microseconds, and
		// both must answer alike.
		types = append(types, &Type{UID: r.UID, Schema: sc,
			CreatedAt: r.CreatedAt.UTC().Truncate(time.Millisecond),
			UpdatedAt: r.UpdatedAt.UTC().Truncate(time.Millisecond)})
	}
	s.types.Store(newTypeSet(types))
	return nil
}

// Types returns every content type, ordered by uid.
func (s *Service) Types() []*Type {
	return s.types.Load().list
}

// TypeByUID returns the content type with the given uid, or an ENOTFOUND
// error.
func (s *Service) TypeByUID(uid string) (*Type, error) {
	if t, ok := s.types.Load().byUID[uid]; ok {
		return t, nil
	}
	return nil, Errorf(ENOTFOUND, "Content type %s not found", uid)
}

// TypeByRoute returns the type served at /api/<name>: a collection type by
// its plural name or a single type by its singular name.
func (s *Service) TypeByRoute(name string) (*Type, error) {
	if t, ok := s.types.Load().byRoute[name]; ok {
		return t, nil
	}
	return nil, Errorf(ENOTFOUND, "Not Found")
}

// CreateType validates a schema and stores it as a new content type. It
// returns EINVALID for a bad schema and ECONFLICT when the uid or a route
// name is taken.
func (s *Service) CreateType(ctx context.Context, sc *schema.Schema) (*Type, error) {
	if err := prepareSchema(sc); err != nil {
		return nil, err
	}
	t := &Type{UID: sc.UID(), Schema: sc}
	if err := s.checkNames(t, ""); err != nil {
		return nil, err
	}
	others, err := s.linkTypes(t, nil)
	if err != nil {
		return nil, err
	}
	now := s.nowMillis()
	t.CreatedAt, t.UpdatedAt = now, now
	body, err := json.Marshal(sc)
	if err != nil {
		return nil, fmt.Errorf("encode schema: %w", err)
	}
	err = s.db.Write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		row := typeRow{UID: t.UID, Schema: string(body), CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&row).Error; err != nil {
			if isUniqueViolation(err) {
				return Errorf(ECONFLICT, "Content type %s already exists", t.UID)
			}
			return err
		}
		if err := saveSchemas(tx, others); err != nil {
			return err
		}
		return s.syncIndexes(ctx, tx, nil, t)
	})
	if err != nil {
		return nil, wrapOp("create content type "+t.UID, err)
	}
	return t, s.typesChanged(ctx, t.UID)
}

// UpdateType replaces the schema of an existing content type. Entries keep
// their data: values of removed attributes stay stored but are no longer
// returned, and values of a changed type are skipped by typed filters.
func (s *Service) UpdateType(ctx context.Context, uid string, sc *schema.Schema) (*Type, error) {
	old, err := s.TypeByUID(uid)
	if err != nil {
		return nil, err
	}
	if err := prepareSchema(sc); err != nil {
		return nil, err
	}
	if sc.UID() != uid {
		return nil, InvalidField([]string{"info", "singularName"},
			"info.singularName cannot change: it is part of the uid "+uid)
	}
	if sc.Kind != old.Schema.Kind {
		return nil, InvalidField([]string{"kind"}, "kind cannot change from "+old.Schema.Kind)
	}
	t := &Type{UID: uid, Schema: sc, CreatedAt: old.CreatedAt, UpdatedAt: s.nowMillis()}
	if err := s.checkNames(t, uid); err != nil {
		return nil, err
	}
	others, err := s.linkTypes(t, old)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(sc)
	if err != nil {
		return nil, fmt.Errorf("encode schema: %w", err)
	}
	err = s.db.Write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&typeRow{}).Where("uid = ?", uid).
			Updates(map[string]any{"schema": string(body), "updated_at": t.UpdatedAt})
		if res.Error != nil {
			return res.Error
		}
		if err := saveSchemas(tx, others); err != nil {
			return err
		}
		if old.DraftAndPublish() != t.DraftAndPublish() {
			if err := s.convertDraftAndPublish(ctx, tx, t); err != nil {
				return err
			}
		}
		return s.syncIndexes(ctx, tx, old, t)
	})
	if err != nil {
		return nil, wrapOp("update content type "+uid, err)
	}
	return t, s.typesChanged(ctx, uid)
}

// DeleteType removes a content type. A type that still has entries answers
// ECONFLICT unless deleteEntries is true, in which case the entries go too
// (without events: the type itself is gone).
func (s *Service) DeleteType(ctx context.Context, uid string, deleteEntries bool) (*Type, error) {
	t, err := s.TypeByUID(uid)
	if err != nil {
		return nil, err
	}
	if err := s.checkNotTargeted(uid); err != nil {
		return nil, err
	}
	err = s.db.Write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Table("entries").Where("content_type = ?", uid).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 && !deleteEntries {
			return Errorf(ECONFLICT,
				"Content type %s still has %d entries: delete them first or pass deleteEntries=true",
				uid, n)
		}
		if err := tx.Exec("DELETE FROM entries WHERE content_type = ?", uid).Error; err != nil {
			return err
		}
		if err := s.syncIndexes(ctx, tx, t, nil); err != nil {
			return err
		}
		return tx.Delete(&typeRow{}, "uid = ?", uid).Error
	})
	if err != nil {
		return nil, wrapOp("delete content type "+uid, err)
	}
	return t, s.typesChanged(ctx, uid)
}

// saveSchemas stores the schemas of types changed along with another
// (see linkTypes).
func saveSchemas(tx *gorm.DB, types []*Type) error {
	for _, o := range types {
		body, err := json.Marshal(o.Schema)
		if err != nil {
			return fmt.Errorf("encode schema: %w", err)
		}
		err = tx.Model(&typeRow{}).Where("uid = ?", o.UID).
			Updates(map[string]any{"schema": string(body), "updated_at": o.UpdatedAt}).Error
		if err != nil {
			return err
		}
	}
	return nil
}

// prepareSchema fills a schema's defaults and validates it.
func prepareSchema(sc *schema.Schema) error {
	sc.Normalize()
	if errs := sc.Validate(); len(errs) > 0 {
		return schemaError(errs)
	}
	return nil
}

// schemaError turns the schema package's errors into an EINVALID error.
func schemaError(errs schema.Errors) error {
	fields := make([]FieldError, 0, len(errs))
	for _, e := range errs {
		fields = append(fields, FieldError{Path: e.Path, Message: e.Message, Name: "ValidationError"})
	}
	msg := errs[0].Message
	if len(errs) > 1 {
		msg = fmt.Sprintf("%s (and %d more errors)", msg, len(errs)-1)
	}
	return Invalid(msg, fields...)
}

// checkNames refuses a type whose uid or route name another type uses.
// except is the uid being updated.
func (s *Service) checkNames(t *Type, except string) error {
	info := t.Schema.Info
	for _, other := range s.Types() {
		if other.UID == except {
			continue
		}
		if other.UID == t.UID {
			return Errorf(ECONFLICT, "Content type %s already exists", t.UID)
		}
		o := other.Schema.Info
		names := map[string]bool{o.SingularName: true, o.PluralName: true}
		if names[info.PluralName] || names[info.SingularName] {
			return InvalidField([]string{"info", "pluralName"}, fmt.Sprintf(
				"info.singularName and info.pluralName must not reuse the names of %s", other.UID))
		}
		if o.DisplayName != "" && strings.EqualFold(o.DisplayName, info.DisplayName) {
			return InvalidField([]string{"info", "displayName"},
				"info.displayName is already used by "+other.UID)
		}
		if other.Schema.CollectionName == t.Schema.CollectionName {
			return InvalidField([]string{"collectionName"},
				"collectionName is already used by "+other.UID)
		}
	}
	return nil
}

// convertDraftAndPublish keeps a type's documents readable when draft and
// publish is switched. Turning it on gives every published row a draft copy;
// turning it off keeps each document's published row (or publishes its
// draft) and drops the drafts.
func (s *Service) convertDraftAndPublish(ctx context.Context, tx *gorm.DB, t *Type) error {
	now := s.now().UTC()
	if t.DraftAndPublish() {
		err := tx.Exec(`INSERT INTO entries (document_id, content_type, published_at, data,
			created_at, updated_at, created_by, updated_by)
			SELECT document_id, content_type, NULL, data, created_at, updated_at, created_by, updated_by
			FROM entries e WHERE content_type = ? AND published_at IS NOT NULL`, t.UID).Error
		if err != nil {
			return err
		}
		return copyLinksToDrafts(tx, t.UID)
	}
	err := tx.Exec(`DELETE FROM entries WHERE content_type = ? AND published_at IS NULL
		AND document_id IN (SELECT document_id FROM entries
			WHERE content_type = ? AND published_at IS NOT NULL)`, t.UID, t.UID).Error
	if err != nil {
		return err
	}
	return tx.Exec(`UPDATE entries SET published_at = ? WHERE content_type = ? AND published_at IS NULL`,
		now, t.UID).Error
}

// wrapOp names the failed operation unless err is already a safe *Error.
func wrapOp(op string, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}
