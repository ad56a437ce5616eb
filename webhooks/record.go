package webhooks

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"

	"github.com/herald-cms/herald/content"
)

// eventRow is the webhook_events table: the outbox.
type eventRow struct {
	ID         string    `gorm:"column:id;primaryKey"`
	Name       string    `gorm:"column:name"`
	UID        string    `gorm:"column:uid"`
	DocumentID string    `gorm:"column:document_id"`
	Payload    string    `gorm:"column:payload"`
	CreatedAt  time.Time `gorm:"column:created_at;autoCreateTime:false"`
}

func (eventRow) TableName() string { return "webhook_events" }

// Record writes events to the outbox using tx, the content change's own
// transaction: each event with the exact body its deliveries will send,
// and one pending delivery for every enabled webhook that lists the event
// and, for entry events, whose content types are empty or contain the
// event's. The webhooks come from memory, so Record adds no query beyond
// its inserts, and a usual change (one or two events, any number of
// webhooks) takes two statements: one multi-row insert of the events and
// one of their deliveries. An error rolls the change back.
func (s *Service) Record(ctx context.Context, tx *gorm.DB, events []content.Event) error {
	if len(events) == 0 {
		return nil
	}
	now := s.now()
	hooks := s.hooks.get()

	rows := make([]eventRow, len(events))
	for i, ev := range events {
		row, err := newEventRow(ev, now)
		if err != nil {
			return err
		}
		rows[i] = row
	}
	for rest := rows; len(rest) > 0; {
		n := insertChunk(len(rest))
		if err := s.insertEvents(ctx, tx, rest[:n]); err != nil {
			return fmt.Errorf("record webhook events: %w", err)
		}
		rest = rest[n:]
	}

	var pairs []any
	for i, ev := range events {
		for _, id := range hooks.match(ev.Name, ev.UID) {
			pairs = append(pairs, rows[i].ID, id)
		}
	}
	err := padChunks(len(pairs)/2, func(from, to, size int) error {
		return s.insertDeliveries(ctx, tx, pairs[2*from:2*to], size, now)
	})
	if err != nil {
		return fmt.Errorf("record webhook deliveries: %w", err)
	}
	return nil
}

// insertEvents inserts outbox rows with one statement.
func (s *Service) insertEvents(ctx context.Context, tx *gorm.DB, rows []eventRow) error {
	q := `INSERT INTO webhook_events (id, name, uid, document_id, payload, created_at)
		VALUES ` + repeatRow("(?, ?, ?, ?, ?, ?)", len(rows))
	args := make([]any, 0, 6*len(rows))
	for _, r := range rows {
		args = append(args, r.ID, r.Name, r.UID, r.DocumentID, r.Payload, r.CreatedAt)
	}
	_, err := s.exec(ctx, tx, q, args...)
	return err
}

// insertDeliveries inserts a pending delivery for each (event id, webhook
// id) pair with one statement of size rows. Joining webhooks inside the
// transaction skips a webhook disabled or deleted since the cache was
// loaded.
func (s *Service) insertDeliveries(ctx context.Context, tx *gorm.DB, pairs []any, size int,
	now time.Time) error {
	var b strings.Builder
	b.WriteString(`INSERT INTO webhook_deliveries
		(webhook_id, event_id, event, uid, document_id, status, attempt_count, retry_base,
		 next_trigger, next_attempt_at, created_at, updated_at)
		SELECT w.id, e.id, e.name, e.uid, e.document_id, ?, 0, 0, ?, ?, ?, ?
		FROM (VALUES `)
	valueRows(s.db.Dialect, &b, size, "text", "bigint")
	b.WriteString(`) AS p
		JOIN webhook_events e ON e.id = p.column1
		JOIN webhooks w ON w.id = p.column2 AND w.state = ?`)
	args := make([]any, 0, 2*size+6)
	args = append(args, StatusPending, TriggerScheduled, now, now, now)
	args = pad(append(args, pairs...), 2*size-len(pairs))
	args = append(args, StateEnabled)
	_, err := s.exec(ctx, tx, b.String(), args...)
	return err
}

// newEventRow builds an event's outbox row with Strapi's payload: event,
// createdAt, model, uid and entry for entry events; event, createdAt and
// media for media events.
func newEventRow(ev content.Event, now time.Time) (eventRow, error) {
	id := ev.ID
	if id == "" {
		id = content.NewEventID()
	}
	created := ev.CreatedAt
	if created.IsZero() {
		created = now
	}
	created = created.UTC()

	var payload any
	if strings.HasPrefix(ev.Name, "media.") {
		payload = struct {
			Event     string          `json:"event"`
			CreatedAt string          `json:"createdAt"`
			Media     json.RawMessage `json:"media"`
		}{ev.Name, formatTime(created), rawOrNull(ev.Media)}
	} else {
		payload = struct {
			Event     string          `json:"event"`
			CreatedAt string          `json:"createdAt"`
			Model     string          `json:"model"`
			UID       string          `json:"uid"`
			Entry     json.RawMessage `json:"entry"`
		}{ev.Name, formatTime(created), ev.Model, ev.UID, rawOrNull(ev.Entry)}
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return eventRow{}, fmt.Errorf("webhook payload of event %s: %w", id, err)
	}
	return eventRow{
		ID: id, Name: ev.Name, UID: ev.UID, DocumentID: ev.DocumentID, Payload: string(body),
		CreatedAt: created,
	}, nil
}

func rawOrNull(m json.RawMessage) json.RawMessage {
	if len(m) == 0 {
		return json.RawMessage("null")
	}
	return m
}

// hookFilter is what Record needs to know about an enabled webhook.
type hookFilter struct {
	id     int64
	events []string
	types  []string
}

// hookList is a snapshot of the enabled webhooks.
type hookList []hookFilter

// match returns the webhooks that want an event of content type uid.
// Content types filter entry events only.
func (l hookList) match(event, uid string) []int64 {
	var ids []int64
	entry := !strings.HasPrefix(event, "media.")
	for _, h := range l {
		if !slices.Contains(h.events, event) {
			continue
		}
		if entry && len(h.types) > 0 && !slices.Contains(h.types, uid) {
			continue
		}
		ids = append(ids, h.id)
	}
	return ids
}

// hookCache keeps the enabled webhooks in memory for Record. It is reloaded
// after every change made here and, through refresh, when another instance
// changed the table.
type hookCache struct {
	list atomic.Pointer[hookList]
	// mu serialises loads, so an older snapshot never replaces a newer one.
	mu          sync.Mutex
	fingerprint string
	// pending is set while a reload asked for by a change notice waits to
	// start.
	pending atomic.Bool
}

func (c *hookCache) get() hookList {
	if l := c.list.Load(); l != nil {
		return *l
	}
	return nil
}

// reload reads the enabled webhooks.
func (c *hookCache) reload(ctx context.Context, db *gorm.DB) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	// A notice arriving from now on asks for another reload, which will
	// see its change.
	c.pending.Store(false)
	return c.load(ctx, db)
}

// refresh reloads when the webhooks table changed since the last load.
func (c *hookCache) refresh(ctx context.Context, db *gorm.DB) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	fp, err := fingerprint(ctx, db)
	if err != nil {
		return err
	}
	if fp == c.fingerprint {
		return nil
	}
	return c.load(ctx, db)
}

func (c *hookCache) load(ctx context.Context, db *gorm.DB) error {
	// The fingerprint is read first: a change landing between the two
	// reads makes the next refresh load again, never miss it.
	fp, err := fingerprint(ctx, db)
	if err != nil {
		return err
	}
	var rows []webhookRow
	err = db.WithContext(ctx).Select("id", "events", "content_types").
		Where("state = ?", StateEnabled).Order("id").Find(&rows).Error
	if err != nil {
		return fmt.Errorf("load webhooks: %w", err)
	}
	list := make(hookList, 0, len(rows))
	for _, r := range rows {
		h := hookFilter{id: r.ID}
		if err := json.Unmarshal([]byte(r.Events), &h.events); err != nil {
			return fmt.Errorf("load webhook %d events: %w", r.ID, err)
		}
		if err := json.Unmarshal([]byte(r.ContentTypes), &h.types); err != nil {
			return fmt.Errorf("load webhook %d content types: %w", r.ID, err)
		}
		list = append(list, h)
	}
	c.list.Store(&list)
	c.fingerprint = fp
	return nil
}

// fingerprint changes whenever a webhook is created, deleted or changes
// state: every such write sets updated_at.
func fingerprint(ctx context.Context, db *gorm.DB) (string, error) {
	var n int64
	var latest sql.NullString
	row := db.WithContext(ctx).Raw("SELECT COUNT(*), MAX(updated_at) FROM webhooks").Row()
	if err := row.Scan(&n, &latest); err != nil {
		return "", fmt.Errorf("fingerprint webhooks: %w", err)
	}
	return fmt.Sprintf("%d/%s", n, latest.String), nil
}
