package content

import (
	"context"
	"sync"
)

// Topics every instance listens to. Payloads are short strings (a uid, an
// id) or empty.
const (
	// TopicContentTypes: a content type was created, changed or deleted.
	TopicContentTypes = "content-types"
	// TopicEntries: documents of the content type named by the payload (a
	// uid) changed.
	TopicEntries = "entries"
	// TopicWebhooks: a webhook was created, changed or deleted.
	TopicWebhooks = "webhooks"
	// TopicDeliveries: deliveries became due; dispatchers should look.
	TopicDeliveries = "deliveries"
	// TopicAccess: roles, permissions, users or tokens changed.
	TopicAccess = "access"
)

// Bus carries small change notices between Herald instances sharing a
// database, so caches stay correct and idle dispatchers wake at once. On
// SQLite there is one instance and the bus is local; on PostgreSQL it rides
// on LISTEN/NOTIFY.
type Bus interface {
	// Publish tells every instance, this one included, that topic changed.
	// Call it after the change has committed. Delivery is best effort: a
	// subscriber that may miss a notice also reloads on its own from time
	// to time.
	Publish(ctx context.Context, topic, payload string)
	// Subscribe calls fn for every notice on topic, from any instance. fn
	// must not block for long. An empty payload means "anything on this
	// topic may have changed": the PostgreSQL bus sends one on every topic
	// after it reconnects, since notices may have been lost meanwhile.
	Subscribe(topic string, fn func(payload string))
}

// LocalBus is a Bus within one process.
type LocalBus struct {
	mu   sync.RWMutex
	subs map[string][]func(string)
}

// NewLocalBus returns an empty in-process bus.
func NewLocalBus() *LocalBus {
	return &LocalBus{subs: map[string][]func(string){}}
}

// Publish calls every subscriber of topic synchronously.
func (b *LocalBus) Publish(_ context.Context, topic, payload string) {
	b.Deliver(topic, payload)
}

// Deliver calls topic's subscribers; a networked bus uses it for notices
// that arrive from other instances.
func (b *LocalBus) Deliver(topic, payload string) {
	b.mu.RLock()
	fns := b.subs[topic]
	b.mu.RUnlock()
	for _, fn := range fns {
		fn(payload)
	}
}

// Subscribe adds fn to topic's subscribers.
func (b *LocalBus) Subscribe(topic string, fn func(payload string)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.subs[topic] = append(b.subs[topic], fn)
}
