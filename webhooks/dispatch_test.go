package webhooks_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/content/contenttest"
	"github.com/herald-cms/herald/webhooks"
	"github.com/herald-cms/herald/webhooks/webhookstest"
)

// realClock makes the env use the system clock, for tests of the running
// dispatcher.
func realClock(c *webhooks.Config) { c.Now = time.Now }

// reopen opens a second handle on the env's database, as a new process
// would.
func (e *env) reopen() *content.DB {
	e.tb.Helper()
	db, err := content.OpenDB(context.Background(), e.db.URL, "")
	if err != nil {
		e.tb.Fatal(err)
	}
	e.tb.Cleanup(func() { db.Close() })
	return db
}

func TestRolledBackChangeLeavesNoEventAndNoDelivery(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		e := newEnvOn(t, open(t))
		rc := webhookstest.NewReceiver(t, nil)
		e.hook(rc.URL, []string{content.EventCreate})

		errChange := errors.New("the change failed")
		err := e.db.Write.WithContext(e.ctx).Transaction(func(tx *gorm.DB) error {
			if err := e.s.Record(e.ctx, tx, []content.Event{entry(content.EventCreate)}); err != nil {
				return err
			}
			return errChange
		})
		if !errors.Is(err, errChange) {
			t.Fatalf("transaction error = %v", err)
		}
		e.runDue()

		if n := e.count("webhook_events"); n != 0 {
			t.Errorf("events = %d after rollback, want 0", n)
		}
		if n := e.count("webhook_deliveries"); n != 0 {
			t.Errorf("deliveries = %d after rollback, want 0", n)
		}
		if rc.Count() != 0 {
			t.Errorf("receiver got %d requests for a rolled-back change", rc.Count())
		}
	})
}

func TestCommittedChangeIsDeliveredAfterARestart(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		e := newEnvOn(t, open(t), realClock)
		rc := webhookstest.NewReceiver(t, nil)
		e.hook(rc.URL, []string{content.EventCreate})

		// The process records and commits, then dies before any attempt: its
		// dispatcher never ran.
		ev := entry(content.EventCreate)
		e.record(e.s, ev)
		e.db.Close()
		if rc.Count() != 0 {
			t.Fatal("delivered before the restart")
		}

		next := e.service(e.reopen(), "instance-b")
		e.start(next)
		rc.WaitCount(t, 1, 5*time.Second)
		if got := rc.Requests()[0].Header.Get("webhook-id"); got != ev.ID {
			t.Errorf("webhook-id = %q, want %q", got, ev.ID)
		}
	})
}

func TestCommittedWakesTheDispatcherAtOnce(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		e := newEnvOn(t, open(t), realClock)
		rc := webhookstest.NewReceiver(t, nil)
		e.hook(rc.URL, []string{content.EventCreate})
		e.start(e.s)
		time.Sleep(50 * time.Millisecond) // let the first poll pass

		start := time.Now()
		e.record(e.s, entry(content.EventCreate))
		rc.WaitCount(t, 1, 5*time.Second)
		// The safety poll runs every second; a wake-up is much faster.
		if took := time.Since(start); took > 500*time.Millisecond {
			t.Errorf("delivery took %s after commit, want no polling delay", took)
		}
	})
}

func TestSlowReceiverDoesNotDelayOtherWebhooks(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		e := newEnvOn(t, open(t), realClock, func(c *webhooks.Config) {
			c.Timeout = 3 * time.Second
			c.PerEndpoint = 2
		})
		slow := webhookstest.NewReceiver(t, func(w http.ResponseWriter, r *http.Request, _ int) {
			<-r.Context().Done()
		})
		fast := webhookstest.NewReceiver(t, nil)
		e.hook(slow.URL, []string{content.EventCreate})
		fastHook := e.hook(fast.URL, []string{content.EventCreate})

		const n = 20
		for i := 0; i < n; i++ {
			e.record(e.s, entry(content.EventCreate))
		}
		start := time.Now()
		e.start(e.s)
		fast.WaitCount(t, n, 5*time.Second)
		if took := time.Since(start); took > 1500*time.Millisecond {
			t.Errorf("fast receiver got its %d deliveries after %s, behind the slow one", n, took)
		}
		if slow.Peak() > 2 {
			t.Errorf("slow receiver had %d requests at once, limit 2", slow.Peak())
		}
		waitUntil(t, 2*time.Second, func() bool {
			for _, d := range e.deliveries(fastHook.ID) {
				if d.Status != webhooks.StatusSucceeded {
					return false
				}
			}
			return true
		})

		// Stopping with a short deadline aborts the slow attempts and releases
		// their leases without logging them.
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if err := e.s.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		var leased int64
		e.db.Read.Table("webhook_deliveries").Where("lease_owner IS NOT NULL").Count(&leased)
		if leased != 0 {
			t.Errorf("%d leases left after Stop", leased)
		}
		if n := e.count("webhook_attempts"); n != 20 {
			t.Errorf("attempts logged = %d, want only the fast receiver's 20", n)
		}
	})
}

func TestPerEndpointLimitHoldsAcrossInstances(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		e := newEnvOn(t, open(t), realClock, func(c *webhooks.Config) { c.PerEndpoint = 3 })
		rc := webhookstest.NewReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
			time.Sleep(20 * time.Millisecond)
		})
		e.hook(rc.URL, []string{content.EventCreate})
		const n = 40
		for i := 0; i < n; i++ {
			e.record(e.s, entry(content.EventCreate))
		}

		// Two instances, each with its own database handle, share the work.
		e.start(e.s)
		e.start(e.service(e.reopen(), "instance-b"))
		rc.WaitCount(t, n, 10*time.Second)

		if peak := rc.Peak(); peak != 3 {
			t.Errorf("peak concurrency = %d, want exactly the limit 3", peak)
		}
	})
}

func TestRestartInTheMiddleOfAThousandEventFanOutLosesNone(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		if testing.Short() {
			t.Skip("slow")
		}
		e := newEnvOn(t, open(t), realClock, func(c *webhooks.Config) { c.PerEndpoint = 16 })
		var mu sync.Mutex
		seen := map[string]int{}
		rc := webhookstest.NewReceiver(t, func(w http.ResponseWriter, r *http.Request, _ int) {
			mu.Lock()
			seen[r.Header.Get("webhook-id")]++
			mu.Unlock()
			time.Sleep(time.Millisecond)
		})
		e.hook(rc.URL, []string{content.EventCreate})

		const n = 1000
		for i := 0; i < n; i += 50 {
			batch := make([]content.Event, 50)
			for j := range batch {
				batch[j] = entry(content.EventCreate)
			}
			e.record(e.s, batch...)
		}

		e.start(e.s)
		rc.WaitCount(t, 300, 20*time.Second)
		stopped, cancel := context.WithCancel(context.Background())
		cancel() // no grace: abort what is in flight
		if err := e.s.Stop(stopped); err != nil {
			t.Fatal(err)
		}
		t.Logf("%d requests before the stop", rc.Count())
		if got := rc.Count(); got >= n {
			t.Fatalf("all %d delivered before the stop; the test proves nothing", got)
		}

		next := e.service(e.reopen(), "instance-b")
		e.start(next)
		rc.WaitFor(t, 30*time.Second, func([]webhookstest.Request) bool {
			mu.Lock()
			defer mu.Unlock()
			return len(seen) == n
		})

		dupes := rc.Count() - n
		t.Logf("%d requests, %d duplicates", rc.Count(), dupes)
		if dupes > 16 {
			t.Errorf("%d duplicates; only the %d attempts in flight at the stop may repeat", dupes, 16)
		}
		var pending int64
		waitUntil(t, 5*time.Second, func() bool {
			e.db.Read.Table("webhook_deliveries").Where("status <> ?", webhooks.StatusSucceeded).
				Count(&pending)
			return pending == 0
		})
	})
}

func waitUntil(tb testing.TB, timeout time.Duration, ok func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			tb.Fatalf("condition not met after %s", timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestExpiredLeaseOfACrashedInstanceIsClaimedAgain(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		e := newEnvOn(t, open(t))
		rc := webhookstest.NewReceiver(t, nil)
		e.hook(rc.URL, []string{content.EventCreate})
		e.record(e.s, entry(content.EventCreate))

		crashed := e.service(e.db, "crashed")
		if n, err := crashed.ClaimCount(e.ctx, 10); err != nil || n != 1 {
			t.Fatalf("claim = %d, %v", n, err)
		}
		if n := e.runDue(); n != 0 {
			t.Fatalf("a live lease was claimed again (%d)", n)
		}
		e.clock.Advance(5*time.Second + 30*time.Second)
		if n := e.runDue(); n != 1 || rc.Count() != 1 {
			t.Fatalf("expired lease: %d attempts, %d requests; want 1", n, rc.Count())
		}
	})
}

func TestStartTwiceFailsAndStopWithoutStartIsHarmless(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		e := newEnvOn(t, open(t), realClock)
		if err := e.s.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		e.start(e.s)
		if err := e.s.Start(e.ctx); err == nil {
			t.Error("second Start succeeded")
		}
	})
}

// TestWebhookChangesReachOtherInstancesOnTheirNextPoll checks the poll
// that backs up change notices: two SQLite handles have separate local
// buses, like instances whose notices were lost. (On PostgreSQL notices
// arrive at once: see TestWebhookChangesReachOtherInstancesAtOnce.)
func TestWebhookChangesReachOtherInstancesOnTheirNextPoll(t *testing.T) {
	e := newEnvOn(t, contenttest.OpenSQLite(t))
	other := e.service(e.reopen(), "instance-b")
	rc := webhookstest.NewReceiver(t, nil)

	// Instance A creates a webhook; instance B records a change.
	w := e.hook(rc.URL, []string{content.EventCreate})
	e.record(other, entry(content.EventCreate))
	if n := len(e.deliveries(w.ID)); n != 0 {
		t.Fatalf("B used a webhook it had not loaded yet (%d deliveries)", n)
	}
	if err := other.RefreshWebhooks(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.record(other, entry(content.EventCreate))
	if n := len(e.deliveries(w.ID)); n != 1 {
		t.Fatalf("after B's refresh: %d deliveries, want 1", n)
	}

	// A disables it; B's stale cache cannot create deliveries for it.
	off := false
	if _, err := e.s.UpdateWebhook(e.ctx, w.ID, webhooks.WebhookInput{IsEnabled: &off}); err != nil {
		t.Fatal(err)
	}
	e.record(other, entry(content.EventCreate))
	if n := len(e.deliveries(w.ID)); n != 1 {
		t.Errorf("a disabled webhook got a delivery from a stale cache (%d)", n)
	}
}
