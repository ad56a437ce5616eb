package content

import (
	"context"
	"crypto/rand"
	"log/slog"
	"sync/atomic"
	"time"
)

// Config configures a Service.
type Config struct {
	// Events receives every change's events inside its transaction;
	// NopRecorder when nil.
	Events EventRecorder
	// Now is the clock; time.Now when nil.
	Now    func() time.Time
	Logger *slog.Logger
}

// Service manages content types and documents.
type Service struct {
	db     *DB
	events EventRecorder
	now    func() time.Time
	log    *slog.Logger
	types  atomic.Pointer[typeSet]
	// typeCache keeps types fresh across instances (see watchTypes).
	typeCache typeCache
	// readState holds the read path's statements and caches (sqlread.go).
	readState readState
	// queryHook, when set (by tests), sees each query of a populated read.
	queryHook atomic.Pointer[func(string)]
}

// NewService loads the content types from db and returns a ready Service.
func NewService(ctx context.Context, db *DB, cfg Config) (*Service, error) {
	s := &Service{db: db, events: cfg.Events, now: cfg.Now, log: cfg.Logger}
	if s.events == nil {
		s.events = NopRecorder{}
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if err := s.reloadTypes(ctx); err != nil {
		return nil, err
	}
	if err := s.EnsureIndexes(ctx); err != nil {
		s.log.WarnContext(ctx, "create missing content type indexes", "error", err)
	}
	s.watchTypes()
	return s, nil
}

// DB returns the service's database.
func (s *Service) DB() *DB { return s.db }

// SetEvents replaces the event recorder. Call it before serving requests.
func (s *Service) SetEvents(r EventRecorder) { s.events = r }

const idAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// randomID returns n characters from idAlphabet, drawn without modulo bias.
func randomID(n int) string {
	out := make([]byte, 0, n)
	buf := make([]byte, n+8)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			panic("crypto/rand failed: " + err.Error())
		}
		for _, b := range buf {
			// 252 is the largest multiple of 36 below 256.
			if b < 252 && len(out) < n {
				out = append(out, idAlphabet[b%36])
			}
		}
	}
	return string(out)
}

// NewDocumentID returns a Strapi v5 style documentId: 24 lowercase
// alphanumeric characters.
func NewDocumentID() string { return randomID(24) }

// NewEventID returns a fresh event id, used as the webhook-id header.
func NewEventID() string { return "msg_" + randomID(26) }
