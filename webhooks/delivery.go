package webhooks

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/herald-cms/herald/content"
)

// The states of a delivery. Pending covers both waiting for the next attempt
// and in flight.
const (
	StatusPending   = "pending"
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
)

// What caused an attempt: the retry schedule, an administrator's redelivery
// or recovery, or the trigger action's test event.
const (
	TriggerScheduled = "scheduled"
	TriggerManual    = "manual"
	TriggerTest      = "test"
)

// Delivery is one event on its way to one webhook.
type Delivery struct {
	ID        int64
	WebhookID int64
	// EventID is the webhook-id header, the same on every attempt.
	EventID            string
	Event              string
	UID                string
	DocumentID         string
	Status             string
	AttemptCount       int
	LastResponseStatus *int
	// NextAttemptAt is when a pending delivery is tried next; nil once it
	// finished.
	NextAttemptAt *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
	// Payload and Attempts are filled by Service.Delivery only.
	Payload  json.RawMessage
	Attempts []Attempt
}

// Attempt is one try to send a delivery.
type Attempt struct {
	Number  int
	Trigger string
	// RequestHeaders are the headers sent, secret-bearing ones redacted.
	RequestHeaders map[string]string
	// ResponseStatus is nil when no response arrived.
	ResponseStatus  *int
	ResponseHeaders map[string]string
	// ResponseBody holds the first bytes of the response body.
	ResponseBody string
	Duration     time.Duration
	// Error says why no response arrived (timeout, refused connection).
	Error     string
	CreatedAt time.Time
}

type deliveryJSON struct {
	ID                 int64   `json:"id"`
	WebhookID          int64   `json:"webhookId"`
	EventID            string  `json:"eventId"`
	Event              string  `json:"event"`
	UID                *string `json:"uid"`
	DocumentID         *string `json:"documentId"`
	Status             string  `json:"status"`
	AttemptCount       int     `json:"attemptCount"`
	LastResponseStatus *int    `json:"lastResponseStatus"`
	NextAttemptAt      *string `json:"nextAttemptAt"`
	CreatedAt          string  `json:"createdAt"`
	UpdatedAt          string  `json:"updatedAt"`
}

func (d Delivery) summary() deliveryJSON {
	var next *string
	if d.NextAttemptAt != nil {
		s := formatTime(*d.NextAttemptAt)
		next = &s
	}
	return deliveryJSON{
		ID: d.ID, WebhookID: d.WebhookID, EventID: d.EventID, Event: d.Event,
		UID: emptyNull(d.UID), DocumentID: emptyNull(d.DocumentID), Status: d.Status,
		AttemptCount: d.AttemptCount, LastResponseStatus: d.LastResponseStatus,
		NextAttemptAt: next, CreatedAt: formatTime(d.CreatedAt), UpdatedAt: formatTime(d.UpdatedAt),
	}
}

// MarshalJSON writes the delivery as the admin API shows it; payload and
// attempts appear when Payload is set.
func (d Delivery) MarshalJSON() ([]byte, error) {
	if d.Payload == nil {
		return json.Marshal(d.summary())
	}
	attempts := make([]attemptJSON, len(d.Attempts))
	for i := range d.Attempts {
		attempts[i] = d.Attempts[i].json()
	}
	return json.Marshal(struct {
		deliveryJSON
		Payload  json.RawMessage `json:"payload"`
		Attempts []attemptJSON   `json:"attempts"`
	}{d.summary(), d.Payload, attempts})
}

type attemptJSON struct {
	Number          int               `json:"number"`
	Trigger         string            `json:"trigger"`
	RequestHeaders  map[string]string `json:"requestHeaders"`
	ResponseStatus  *int              `json:"responseStatus"`
	ResponseHeaders map[string]string `json:"responseHeaders"`
	ResponseBody    string            `json:"responseBody"`
	DurationMs      int64             `json:"durationMs"`
	Error           *string           `json:"error"`
	CreatedAt       string            `json:"createdAt"`
}

func (a Attempt) json() attemptJSON {
	return attemptJSON{
		Number: a.Number, Trigger: a.Trigger, RequestHeaders: nonNilMap(a.RequestHeaders),
		ResponseStatus: a.ResponseStatus, ResponseHeaders: nonNilMap(a.ResponseHeaders),
		ResponseBody: a.ResponseBody, DurationMs: a.Duration.Milliseconds(),
		Error: emptyNull(a.Error), CreatedAt: formatTime(a.CreatedAt),
	}
}

func emptyNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// deliveryRow is the webhook_deliveries table.
type deliveryRow struct {
	ID                 int64      `gorm:"column:id;primaryKey"`
	WebhookID          int64      `gorm:"column:webhook_id"`
	EventID            string     `gorm:"column:event_id"`
	Event              string     `gorm:"column:event"`
	UID                string     `gorm:"column:uid"`
	DocumentID         string     `gorm:"column:document_id"`
	Status             string     `gorm:"column:status"`
	AttemptCount       int        `gorm:"column:attempt_count"`
	RetryBase          int        `gorm:"column:retry_base"`
	NextTrigger        string     `gorm:"column:next_trigger"`
	LastResponseStatus *int       `gorm:"column:last_response_status"`
	NextAttemptAt      *time.Time `gorm:"column:next_attempt_at"`
	LeaseOwner         *string    `gorm:"column:lease_owner"`
	LeaseUntil         *time.Time `gorm:"column:lease_until"`
	CreatedAt          time.Time  `gorm:"column:created_at;autoCreateTime:false"`
	UpdatedAt          time.Time  `gorm:"column:updated_at;autoUpdateTime:false"`
}

func (deliveryRow) TableName() string { return "webhook_deliveries" }

func (r *deliveryRow) delivery() Delivery {
	return Delivery{
		ID: r.ID, WebhookID: r.WebhookID, EventID: r.EventID, Event: r.Event, UID: r.UID,
		DocumentID: r.DocumentID, Status: r.Status, AttemptCount: r.AttemptCount,
		LastResponseStatus: r.LastResponseStatus, NextAttemptAt: utcPtr(r.NextAttemptAt),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

// attemptRow is the webhook_attempts table.
type attemptRow struct {
	ID              int64     `gorm:"column:id;primaryKey"`
	DeliveryID      int64     `gorm:"column:delivery_id"`
	Number          int       `gorm:"column:number"`
	TriggeredBy     string    `gorm:"column:triggered_by"`
	RequestHeaders  string    `gorm:"column:request_headers"`
	ResponseStatus  *int      `gorm:"column:response_status"`
	ResponseHeaders string    `gorm:"column:response_headers"`
	ResponseBody    string    `gorm:"column:response_body"`
	DurationMs      int64     `gorm:"column:duration_ms"`
	Error           string    `gorm:"column:error"`
	CreatedAt       time.Time `gorm:"column:created_at;autoCreateTime:false"`
}

func (attemptRow) TableName() string { return "webhook_attempts" }

func (r *attemptRow) attempt() (Attempt, error) {
	a := Attempt{
		Number: r.Number, Trigger: r.TriggeredBy, ResponseStatus: r.ResponseStatus,
		ResponseBody: r.ResponseBody, Duration: time.Duration(r.DurationMs) * time.Millisecond,
		Error: r.Error, CreatedAt: r.CreatedAt.UTC(),
	}
	if err := json.Unmarshal([]byte(r.RequestHeaders), &a.RequestHeaders); err != nil {
		return a, fmt.Errorf("attempt %d request headers: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(r.ResponseHeaders), &a.ResponseHeaders); err != nil {
		return a, fmt.Errorf("attempt %d response headers: %w", r.ID, err)
	}
	return a, nil
}

// DeliveryFilter selects a webhook's deliveries. Zero fields select all.
type DeliveryFilter struct {
	Status string
	Event  string
	// Since keeps deliveries created at or after it.
	Since time.Time
}

// Deliveries returns a page of a webhook's deliveries, newest first, and
// their total when page asks for it. It returns ENOTFOUND for an unknown
// webhook.
func (s *Service) Deliveries(ctx context.Context, webhookID int64, f DeliveryFilter,
	page Page) ([]Delivery, int64, error) {
	db := s.db.Read.WithContext(ctx)
	if _, err := findWebhook(db, webhookID); err != nil {
		return nil, 0, err
	}

	q := db.Model(&deliveryRow{}).Where("webhook_id = ?", webhookID)
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.Event != "" {
		q = q.Where("event = ?", f.Event)
	}
	if !f.Since.IsZero() {
		q = q.Where("created_at >= ?", f.Since.UTC())
	}
	var total int64
	if page.WithCount {
		if err := q.Session(&gorm.Session{}).Count(&total).Error; err != nil {
			return nil, 0, fmt.Errorf("count deliveries of webhook %d: %w", webhookID, err)
		}
	}
	var rows []deliveryRow
	offset, limit := pageWindow(page)
	err := q.Order("id DESC").Offset(offset).Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, 0, fmt.Errorf("list deliveries of webhook %d: %w", webhookID, err)
	}
	out := make([]Delivery, len(rows))
	for i := range rows {
		out[i] = rows[i].delivery()
	}
	return out, total, nil
}

// Delivery returns one delivery with its payload and its attempts, oldest
// first. It returns ENOTFOUND for an unknown id.
func (s *Service) Delivery(ctx context.Context, id int64) (*Delivery, error) {
	db := s.db.Read.WithContext(ctx)
	var rows []deliveryRow
	if err := db.Where("id = ?", id).Limit(1).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("find delivery %d: %w", id, err)
	}
	if len(rows) == 0 {
		return nil, deliveryNotFound(id)
	}
	d := rows[0].delivery()

	var payload string
	err := db.Raw("SELECT payload FROM webhook_events WHERE id = ?", d.EventID).Row().Scan(&payload)
	if err != nil {
		return nil, fmt.Errorf("find payload of delivery %d: %w", id, err)
	}
	d.Payload = json.RawMessage(payload)

	var attempts []attemptRow
	err = db.Where("delivery_id = ?", id).Order("number, id").Find(&attempts).Error
	if err != nil {
		return nil, fmt.Errorf("find attempts of delivery %d: %w", id, err)
	}
	d.Attempts = make([]Attempt, 0, len(attempts))
	for i := range attempts {
		a, err := attempts[i].attempt()
		if err != nil {
			return nil, err
		}
		d.Attempts = append(d.Attempts, a)
	}
	return &d, nil
}

func deliveryNotFound(id any) error {
	return content.Errorf(content.ENOTFOUND, "Delivery %v not found", id)
}

// requeue is the change that sends a finished delivery again: at once, with
// the manual trigger and a fresh retry schedule.
func requeue(now time.Time) map[string]any {
	return map[string]any{
		"status":          StatusPending,
		"next_attempt_at": now,
		"next_trigger":    TriggerManual,
		"retry_base":      gorm.Expr("attempt_count"),
		"updated_at":      now,
	}
}

// RetryDelivery sends a delivery again, whatever its state, with the same
// webhook-id and a fresh timestamp and signature. The delivery goes back to
// pending with a fresh retry schedule; a disabled webhook's delivery waits
// until the webhook is enabled. It returns ENOTFOUND for an unknown id and
// ECONFLICT while an attempt is in flight.
func (s *Service) RetryDelivery(ctx context.Context, id int64) (*Delivery, error) {
	now := s.now()
	res := s.db.Write.WithContext(ctx).Model(&deliveryRow{}).
		Where("id = ? AND (lease_until IS NULL OR lease_until <= ?)", id, now).
		Updates(requeue(now))
	if res.Error != nil {
		return nil, fmt.Errorf("retry delivery %d: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		if _, err := s.Delivery(ctx, id); err != nil {
			return nil, err
		}
		return nil, content.Errorf(content.ECONFLICT,
			"Delivery %d is being sent right now; retry it once this attempt is recorded", id)
	}

	s.Committed(ctx)
	s.log.InfoContext(ctx, "webhook delivery requeued", "delivery_id", id,
		"actor", content.ActorFrom(ctx).Name)
	d, err := s.Delivery(ctx, id)
	if err != nil {
		return nil, err
	}
	d.Payload, d.Attempts = nil, nil
	return d, nil
}

// Recover sends again every failed delivery of a webhook created at or
// after since, as RetryDelivery does, and returns how many were requeued.
// It returns ENOTFOUND for an unknown webhook.
func (s *Service) Recover(ctx context.Context, webhookID int64, since time.Time) (int64, error) {
	if _, err := s.Webhook(ctx, webhookID); err != nil {
		return 0, err
	}
	now := s.now()
	res := s.db.Write.WithContext(ctx).Model(&deliveryRow{}).
		Where("webhook_id = ? AND status = ? AND created_at >= ?",
			webhookID, StatusFailed, since.UTC()).
		Updates(requeue(now))
	if res.Error != nil {
		return 0, fmt.Errorf("recover deliveries of webhook %d: %w", webhookID, res.Error)
	}

	s.Committed(ctx)
	s.log.InfoContext(ctx, "webhook deliveries recovered", "webhook_id", webhookID,
		"count", res.RowsAffected, "since", since, "actor", content.ActorFrom(ctx).Name)
	return res.RowsAffected, nil
}
