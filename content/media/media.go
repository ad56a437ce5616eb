// Package media is Herald's media library: files uploaded through Strapi's
// upload API, kept by a Storage, described in the upload_files table, and
// announced by media.create, media.update and media.delete events recorded
// in the same transaction as the change.
package media

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"github.com/herald-cms/herald/content"
)

// UID is the pseudo content type whose actions govern the media library:
// find and findOne read files, create uploads, update changes a file's
// name, alternative text and caption, delete removes it.
const UID = content.MediaUID

// DefaultLimit is the largest upload when Config.Limit is zero (50 MiB).
const DefaultLimit = 50 << 20

// File is an uploaded file in Strapi v5's shape (see content.File).
type File = content.File

// fileRow is the upload_files table.
type fileRow = content.FileRow

// Config configures the media service.
type Config struct {
	Storage Storage
	// Events records the media events; content.NopRecorder when nil.
	Events content.EventRecorder
	// Limit is the largest file in bytes (HERALD_UPLOAD_LIMIT); DefaultLimit
	// when zero.
	Limit  int64
	Now    func() time.Time
	Logger *slog.Logger
}

// Service is the media library.
type Service struct {
	db     *content.DB
	store  Storage
	events content.EventRecorder
	limit  int64
	now    func() time.Time
	log    *slog.Logger
}

// New returns the media library on db. Config.Storage is required.
func New(db *content.DB, cfg Config) (*Service, error) {
	if cfg.Storage == nil {
		return nil, errors.New("media: no storage")
	}
	if cfg.Events == nil {
		cfg.Events = content.NopRecorder{}
	}
	if cfg.Limit <= 0 {
		cfg.Limit = DefaultLimit
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, store: cfg.Storage, events: cfg.Events, limit: cfg.Limit,
		now: cfg.Now, log: cfg.Logger}, nil
}

// Limit returns the largest file the service accepts, in bytes.
func (s *Service) Limit() int64 { return s.limit }

// authorize asks the actor in ctx for action on the media library.
func authorize(ctx context.Context, action content.Action) (content.Actor, content.Grant, error) {
	actor := content.ActorFrom(ctx)
	g := actor.Can(ctx, action, UID)
	if !g.Allowed {
		return actor, g, content.Errorf(content.EFORBIDDEN, "Forbidden")
	}
	return actor, g, nil
}

// mayChange refuses a change to another principal's file when the grant is
// limited to the actor's own entries.
func mayChange(actor content.Actor, g content.Grant, r fileRow) error {
	if g.OwnOnly && (r.CreatedByKind != string(actor.Kind) || r.CreatedByID != actor.ID) {
		return content.Errorf(content.EFORBIDDEN, "Forbidden")
	}
	return nil
}

// newHash returns a random storage name stem.
func newHash() string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return "f_" + hex.EncodeToString(b)
}

// event builds a media event carrying the file.
func event(name string, f File, now time.Time) (content.Event, error) {
	body, err := json.Marshal(f)
	if err != nil {
		return content.Event{}, fmt.Errorf("encode media event: %w", err)
	}
	return content.Event{ID: content.NewEventID(), Name: name, CreatedAt: now.UTC(),
		DocumentID: f.DocumentID, Media: body}, nil
}

// write runs fn in a transaction and records the events it returns inside
// it, then wakes the recorder after commit.
func (s *Service) write(ctx context.Context, op string,
	fn func(tx *gorm.DB) ([]content.Event, error)) error {
	var events []content.Event
	err := s.db.Transact(ctx, func(tx *gorm.DB) error {
		var err error
		if events, err = fn(tx); err != nil {
			return err
		}
		return s.events.Record(tx.Statement.Context, tx, events)
	})
	if err != nil {
		if content.ErrorCodeOf(err) != content.EINTERNAL {
			return err
		}
		return fmt.Errorf("%s: %w", op, err)
	}
	if len(events) > 0 {
		s.events.Committed(ctx)
		if s.db.Bus != nil {
			// Populated media attributes show files: cached answers that
			// may hold this one go.
			s.db.Bus.Publish(ctx, content.TopicEntries, content.MediaUID)
		}
	}
	return nil
}

// load reads one file row; a missing one is ENOTFOUND.
func load(ctx context.Context, db *gorm.DB, id int64) (fileRow, error) {
	var r fileRow
	err := db.WithContext(ctx).Where("id = ?", id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return fileRow{}, content.Errorf(content.ENOTFOUND, "File not found")
	}
	if err != nil {
		return fileRow{}, fmt.Errorf("load file %d: %w", id, err)
	}
	return r, nil
}
