package webhooks_test

import (
	"slices"
	"testing"
	"time"

	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/content/contenttest"
	"github.com/herald-cms/herald/webhooks"
	"github.com/herald-cms/herald/webhooks/webhookstest"
)

// percentile returns the p-th percentile (0 to 100) of ds, which it sorts.
func percentile(ds []time.Duration, p int) time.Duration {
	slices.Sort(ds)
	return ds[(len(ds)-1)*p/100]
}

// TestDeliveryCreatedOnOneInstanceStartsOnAnotherAtOnce records events on
// an instance whose dispatcher does not run, so another instance must send
// them; with only its one-second poll, half of them would wait 500 ms or
// more.
func TestDeliveryCreatedOnOneInstanceStartsOnAnotherAtOnce(t *testing.T) {
	e := newEnvOn(t, contenttest.OpenPostgres(t), realClock)
	other := e.service(e.reopen(), "instance-b")
	e.start(other)
	rc := webhookstest.NewReceiver(t, nil)
	e.hook(rc.URL, []string{content.EventCreate})

	const n = 100
	waits := make([]time.Duration, 0, n)
	for i := range n {
		committed := time.Now()
		e.record(e.s, entry(content.EventCreate))
		rc.WaitCount(t, i+1, 5*time.Second)
		waits = append(waits, rc.Requests()[i].Received.Sub(committed))
	}
	p50, p99 := percentile(waits, 50), percentile(waits, 99)
	t.Logf("created on A, started on B: p50 %s, p99 %s, max %s", p50, p99, waits[n-1])
	if p50 > 100*time.Millisecond {
		t.Errorf("p50 wake-up %s, want under 100ms", p50)
	}
}

// TestWebhookChangesReachOtherInstancesAtOnce checks that an instance's
// webhook cache follows another instance's changes through the bus, with
// no dispatcher (and so no poll) running.
func TestWebhookChangesReachOtherInstancesAtOnce(t *testing.T) {
	e := newEnvOn(t, contenttest.OpenPostgres(t), realClock)
	other := e.service(e.reopen(), "instance-b")
	rc := webhookstest.NewReceiver(t, nil)

	w := e.hook(rc.URL, []string{content.EventCreate})
	waitUntil(t, time.Second, func() bool { return slices.Contains(other.CachedWebhooks(), w.ID) })
	e.record(other, entry(content.EventCreate))
	if n := len(e.deliveries(w.ID)); n != 1 {
		t.Fatalf("B recorded %d deliveries for A's new webhook, want 1", n)
	}

	off := false
	_, err := e.s.UpdateWebhook(e.ctx, w.ID, webhooks.WebhookInput{IsEnabled: &off})
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, time.Second, func() bool { return len(other.CachedWebhooks()) == 0 })
}
