package webhooks_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/webhooks"
	"github.com/herald-cms/herald/webhooks/webhookstest"
)

// The dispatcher records a whole batch of attempts with a few multi-row
// statements and claims for every webhook with one query; these tests
// check that batching changes nothing a delivery or a webhook shows.

func TestOneBatchRecordsEveryOutcome(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		e := newEnvOn(t, open(t))
		ok := webhookstest.NewReceiver(t, webhookstest.Status(http.StatusOK))
		failing := webhookstest.NewReceiver(t, webhookstest.Status(http.StatusInternalServerError))
		gone := webhookstest.NewReceiver(t, webhookstest.Status(http.StatusGone))
		okHook := e.hook(ok.URL, []string{content.EventCreate})
		failingHook := e.hook(failing.URL, []string{content.EventCreate})
		goneHook := e.hook(gone.URL, []string{content.EventCreate})
		e.record(e.s, entry(content.EventCreate), entry(content.EventCreate))

		// One claim of six deliveries, one batch of six results.
		if n := e.runDue(); n != 6 {
			t.Fatalf("attempts = %d, want 6", n)
		}

		tests := []struct {
			name   string
			hook   int64
			status string
			code   int
			next   bool
		}{
			{"ok", okHook.ID, webhooks.StatusSucceeded, 200, false},
			{"failing", failingHook.ID, webhooks.StatusPending, 500, true},
			{"gone", goneHook.ID, webhooks.StatusFailed, 410, false},
		}
		for _, tt := range tests {
			list := e.deliveries(tt.hook)
			if len(list) != 2 {
				t.Fatalf("%s: %d deliveries, want 2", tt.name, len(list))
			}
			for _, d := range list {
				d := e.delivery(d.ID)
				if d.Status != tt.status || d.AttemptCount != 1 || len(d.Attempts) != 1 ||
					d.LastResponseStatus == nil || *d.LastResponseStatus != tt.code {
					t.Errorf("%s: delivery = %s, %d attempts (%d logged), last status %v",
						tt.name, d.Status, d.AttemptCount, len(d.Attempts), d.LastResponseStatus)
					continue
				}
				if a := d.Attempts[0]; a.ResponseStatus == nil || *a.ResponseStatus != tt.code ||
					a.RequestHeaders["Webhook-Id"] != d.EventID {
					t.Errorf("%s: attempt = %+v", tt.name, a)
				}
				if want := t0.Add(5 * time.Second); tt.next &&
					(d.NextAttemptAt == nil || !d.NextAttemptAt.Equal(want)) {
					t.Errorf("%s: next attempt %v, want %v", tt.name, d.NextAttemptAt, want)
				}
				if !tt.next && d.NextAttemptAt != nil {
					t.Errorf("%s: next attempt %v, want none", tt.name, d.NextAttemptAt)
				}
			}
		}

		w, _ := e.s.Webhook(e.ctx, okHook.ID)
		if w.State != webhooks.StateEnabled || w.LastSuccessAt == nil ||
			!w.LastSuccessAt.Equal(t0) || w.FirstFailureAt != nil {
			t.Errorf("ok webhook = %s, last success %v, first failure %v",
				w.State, w.LastSuccessAt, w.FirstFailureAt)
		}
		w, _ = e.s.Webhook(e.ctx, failingHook.ID)
		if w.State != webhooks.StateEnabled || w.FirstFailureAt == nil ||
			!w.FirstFailureAt.Equal(t0) || w.LastSuccessAt != nil {
			t.Errorf("failing webhook = %s, last success %v, first failure %v",
				w.State, w.LastSuccessAt, w.FirstFailureAt)
		}
		w, _ = e.s.Webhook(e.ctx, goneHook.ID)
		if w.State != webhooks.StateAutoDisabled || !strings.Contains(w.DisabledReason, "410") {
			t.Errorf("gone webhook = %s (%q), want auto-disabled", w.State, w.DisabledReason)
		}
		var leased int64
		e.db.Read.Table("webhook_deliveries").Where("lease_owner IS NOT NULL").Count(&leased)
		if leased != 0 {
			t.Errorf("%d leases left after the batch was recorded", leased)
		}
	})
}

func TestFailureWindowFollowsTheOrderOfAttemptsInABatch(t *testing.T) {
	tests := []struct {
		name string
		// first and second answer the older and the newer delivery, sent
		// in the same batch at the same time.
		first, second int
		wantOpen      bool
	}{
		{"failure then success closes the window", 500, 200, false},
		{"success then failure opens it", 200, 500, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forEachDB(t, func(t *testing.T, open opener) {
				e := newEnvOn(t, open(t))
				older, newer := entry(content.EventCreate), entry(content.EventCreate)
				rc := webhookstest.NewReceiver(t, func(w http.ResponseWriter, r *http.Request, _ int) {
					if r.Header.Get("webhook-id") == older.ID {
						w.WriteHeader(tt.first)
						return
					}
					w.WriteHeader(tt.second)
				})
				hook := e.hook(rc.URL, []string{content.EventCreate})
				e.record(e.s, older)
				e.record(e.s, newer)
				if n := e.runDue(); n != 2 {
					t.Fatalf("attempts = %d, want 2", n)
				}

				w, _ := e.s.Webhook(e.ctx, hook.ID)
				if open := w.FirstFailureAt != nil; open != tt.wantOpen {
					t.Errorf("first failure = %v, want a window open: %t", w.FirstFailureAt,
						tt.wantOpen)
				}
				if w.LastSuccessAt == nil || !w.LastSuccessAt.Equal(t0) {
					t.Errorf("last success = %v, want %v", w.LastSuccessAt, t0)
				}
			})
		})
	}
}

func TestLastSuccessIsRefreshedAtMostOnceASecond(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		e := newEnvOn(t, open(t))
		rc := webhookstest.NewReceiver(t, nil)
		hook := e.hook(rc.URL, []string{content.EventCreate})

		steps := []struct {
			advance time.Duration
			want    time.Time
		}{
			{0, t0},
			{500 * time.Millisecond, t0},
			{time.Second, t0.Add(1500 * time.Millisecond)},
		}
		for i, st := range steps {
			e.clock.Advance(st.advance)
			e.record(e.s, entry(content.EventCreate))
			if n := e.runDue(); n != 1 {
				t.Fatalf("step %d: attempts = %d, want 1", i, n)
			}
			w, _ := e.s.Webhook(e.ctx, hook.ID)
			if w.LastSuccessAt == nil || !w.LastSuccessAt.Equal(st.want) {
				t.Errorf("step %d: last success = %v, want %v", i, w.LastSuccessAt, st.want)
			}
		}
	})
}

func TestRecordWritesEveryDeliveryOfALargeChange(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		e := newEnvOn(t, open(t))
		var hooks []int64
		for range 3 {
			hooks = append(hooks, e.hook("http://127.0.0.1:9/hook",
				[]string{content.EventCreate}).ID)
		}
		// More events and more deliveries than one statement takes.
		const n = 130
		events := make([]content.Event, n)
		for i := range events {
			events[i] = entry(content.EventCreate)
		}
		e.record(e.s, events...)

		if got := e.count("webhook_events"); got != n {
			t.Errorf("events = %d, want %d", got, n)
		}
		for _, id := range hooks {
			var rows []struct{ EventID, Event, DocumentID string }
			err := e.db.Read.Table("webhook_deliveries").Select("event_id, event, document_id").
				Where("webhook_id = ?", id).Order("id").Scan(&rows).Error
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != n {
				t.Fatalf("webhook %d: %d deliveries, want %d", id, len(rows), n)
			}
			for i, r := range rows {
				ev := events[i]
				if r.EventID != ev.ID || r.Event != ev.Name || r.DocumentID != ev.DocumentID {
					t.Fatalf("webhook %d delivery %d = %+v, want event %s", id, i, r, ev.ID)
				}
			}
		}
	})
}

func TestOneClaimCoversEveryWebhookWithinItsLimit(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		e := newEnvOn(t, open(t), func(c *webhooks.Config) { c.PerEndpoint = 2 })
		for range 5 {
			e.hook("http://127.0.0.1:9/hook", []string{content.EventCreate})
		}
		for range 4 {
			e.record(e.s, entry(content.EventCreate))
		}

		steps := []struct {
			name  string
			limit int
			want  int
		}{
			{"two of each of five webhooks", 100, 10},
			{"none while those are in flight", 100, 0},
		}
		for _, st := range steps {
			if got, err := e.s.ClaimCount(e.ctx, st.limit); err != nil || got != st.want {
				t.Fatalf("%s: claimed %d (%v), want %d", st.name, got, err, st.want)
			}
		}
		// Expired leases free the slots again; a claim stops at its limit.
		e.clock.Advance(time.Hour)
		if got, err := e.s.ClaimCount(e.ctx, 7); err != nil || got != 7 {
			t.Fatalf("claimed %d (%v) after the leases expired, want the limit 7", got, err)
		}
		if got, err := e.s.ClaimCount(e.ctx, 100); err != nil || got != 3 {
			t.Fatalf("claimed %d (%v), want the 3 slots left", got, err)
		}
	})
}
