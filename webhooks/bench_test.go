package webhooks_test

import (
	"testing"
	"time"

	"github.com/herald-cms/herald/content"
)

// BenchmarkRecordFanOutToTenWebhooks measures a content change's cost of
// webhooks: one transaction recording one event for ten webhooks.
func BenchmarkRecordFanOutToTenWebhooks(b *testing.B) {
	e := newEnv(b)
	for i := 0; i < 10; i++ {
		e.hook("http://127.0.0.1:9/hook", []string{content.EventUpdate})
	}
	ev := entry(content.EventUpdate)

	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		ev.ID = "msg_bench" + time.Duration(i).String()
		e.record(e.s, ev)
	}
}

// BenchmarkClaim measures one claim of up to 32 deliveries from a backlog
// of 10,000 spread over ten webhooks.
func BenchmarkClaim(b *testing.B) {
	e := newEnv(b)
	for i := 0; i < 10; i++ {
		e.hook("http://127.0.0.1:9/hook", []string{content.EventUpdate})
	}
	batch := make([]content.Event, 100)
	for i := 0; i < 10; i++ {
		for j := range batch {
			batch[j] = entry(content.EventUpdate)
		}
		e.record(e.s, batch...)
	}

	b.ReportAllocs()
	for b.Loop() {
		n, err := e.s.ClaimCount(e.ctx, 32)
		if err != nil || n == 0 {
			b.Fatalf("claim = %d, %v", n, err)
		}
		// Let the leases expire instead of sending.
		e.clock.Advance(time.Minute)
	}
}
