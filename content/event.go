package content

import (
	"context"
	"encoding/json"
	"time"

	"gorm.io/gorm"
)

// The content events. A delete emits one EventDelete per document.
const (
	EventCreate       = "entry.create"
	EventUpdate       = "entry.update"
	EventDelete       = "entry.delete"
	EventPublish      = "entry.publish"
	EventUnpublish    = "entry.unpublish"
	EventDraftDiscard = "entry.draft-discard"
	EventMediaCreate  = "media.create"
	EventMediaUpdate  = "media.update"
	EventMediaDelete  = "media.delete"
)

// EntryEvents lists the entry events in the order the admin panel shows them.
var EntryEvents = []string{
	EventCreate, EventUpdate, EventDelete, EventPublish, EventUnpublish, EventDraftDiscard,
}

// MediaEvents lists the media library's events.
var MediaEvents = []string{EventMediaCreate, EventMediaUpdate, EventMediaDelete}

// Event is one content change, as webhooks deliver it.
type Event struct {
	// ID identifies the event everywhere (it is the webhook-id header).
	ID        string
	Name      string
	CreatedAt time.Time
	// UID is the content type ("api::article.article"); Model its singular
	// name ("article"). Both are empty for media events.
	UID        string
	Model      string
	DocumentID string
	// Entry is the document as the content API returns it; Media the file
	// for media events.
	Entry json.RawMessage
	Media json.RawMessage
}

// EventRecorder receives the events of a change inside the change's own
// transaction, so an event exists if and only if its change committed.
type EventRecorder interface {
	// Record stores events using tx, the change's transaction. An error
	// rolls the change back.
	Record(ctx context.Context, tx *gorm.DB, events []Event) error
	// Committed is called after a transaction that recorded events has
	// committed, so deliveries can start at once.
	Committed(ctx context.Context)
}

// NopRecorder drops every event.
type NopRecorder struct{}

// Record does nothing.
func (NopRecorder) Record(context.Context, *gorm.DB, []Event) error { return nil }

// Committed does nothing.
func (NopRecorder) Committed(context.Context) {}
