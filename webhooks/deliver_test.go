package webhooks_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/webhooks"
	"github.com/herald-cms/herald/webhooks/webhookstest"
)

func TestRecordFansOutByEventAndContentType(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		e := newEnvOn(t, open(t))
		all := webhookstest.NewReceiver(t, nil)
		pages := webhookstest.NewReceiver(t, nil)
		updates := webhookstest.NewReceiver(t, nil)
		media := webhookstest.NewReceiver(t, nil)
		off := webhookstest.NewReceiver(t, nil)

		e.hook(all.URL, []string{content.EventCreate, content.EventPublish})
		e.hook(pages.URL, []string{content.EventCreate}, withTypes("api::page.page"))
		e.hook(updates.URL, []string{content.EventUpdate})
		// Content types filter entry events only.
		e.hook(media.URL, []string{content.EventMediaCreate}, withTypes("api::page.page"))
		disabled := false
		e.hook(off.URL, []string{content.EventCreate}, func(in *webhooks.WebhookInput) {
			in.IsEnabled = &disabled
		})

		e.record(e.s,
			entry(content.EventCreate),
			entry(content.EventCreate, "api::page.page"),
			entry(content.EventUpdate),
			entry(content.EventDelete),
			content.Event{ID: "msg_media1", Name: content.EventMediaCreate, CreatedAt: t0,
				Media: json.RawMessage(`{"id":7,"name":"cat.png"}`)},
		)
		if got := e.runDue(); got != 5 {
			t.Fatalf("attempts = %d, want 5", got)
		}

		events := func(rc *webhookstest.Receiver) []string {
			var out []string
			for _, r := range rc.Requests() {
				var body struct{ Event, UID string }
				json.Unmarshal(r.Body, &body)
				out = append(out, body.Event+" "+body.UID)
			}
			slices.Sort(out)
			return out
		}
		tests := []struct {
			name string
			rc   *webhookstest.Receiver
			want []string
		}{
			{"all types", all,
				[]string{"entry.create api::article.article", "entry.create api::page.page"}},
			{"pages only", pages, []string{"entry.create api::page.page"}},
			{"updates", updates, []string{"entry.update api::article.article"}},
			{"media ignores types", media, []string{"media.create "}},
			{"disabled", off, nil},
		}
		for _, tt := range tests {
			if got := events(tt.rc); !slices.Equal(got, tt.want) {
				t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
			}
		}
		if n := e.count("webhook_events"); n != 5 {
			t.Errorf("events stored = %d, want 5 (every event, matched or not)", n)
		}
	})
}

func TestRequestCarriesStrapiPayloadAndStandardWebhooksHeaders(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		e := newEnvOn(t, open(t))
		rc := webhookstest.NewReceiver(t, nil)
		w := e.hook(rc.URL, []string{content.EventPublish},
			withHeaders(map[string]string{"X-Team": "blue"}))

		ev := entry(content.EventPublish)
		e.record(e.s, ev)
		e.runDue()

		reqs := rc.Requests()
		if len(reqs) != 1 {
			t.Fatalf("requests = %d, want 1", len(reqs))
		}
		r := reqs[0]
		wantHeaders := map[string]string{
			"Content-Type":      "application/json",
			"User-Agent":        "Herald/1.2.3",
			"X-Strapi-Event":    "entry.publish",
			"X-Team":            "blue",
			"Webhook-Id":        ev.ID,
			"Webhook-Timestamp": strconv.FormatInt(t0.Unix(), 10),
		}
		for k, v := range wantHeaders {
			if got := r.Header.Get(k); got != v {
				t.Errorf("header %s = %q, want %q", k, got, v)
			}
		}
		if err := e.verify(r, w.Secret); err != nil {
			t.Errorf("signature does not verify: %v", err)
		}
		want := `{"event":"entry.publish","createdAt":"2025-03-01T12:00:00.000Z","model":"article",` +
			`"uid":"api::article.article","entry":{"id":1,"documentId":"doc","title":"Hello"}}`
		if string(r.Body) != want {
			t.Errorf("body =\n%s\nwant\n%s", r.Body, want)
		}

		d := e.only(w.ID)
		if d.Status != webhooks.StatusSucceeded || d.EventID != ev.ID || d.NextAttemptAt != nil {
			t.Errorf("delivery = %+v, want succeeded with event id %s and no next attempt", d, ev.ID)
		}
		if string(d.Payload) != want {
			t.Errorf("stored payload = %s", d.Payload)
		}
	})
}

func TestMediaEventBody(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		e := newEnvOn(t, open(t))
		rc := webhookstest.NewReceiver(t, nil)
		e.hook(rc.URL, []string{content.EventMediaDelete})
		e.record(e.s, content.Event{ID: "msg_m", Name: content.EventMediaDelete, CreatedAt: t0,
			Media: json.RawMessage(`{"id":3}`)})
		e.runDue()

		want := `{"event":"media.delete","createdAt":"2025-03-01T12:00:00.000Z","media":{"id":3}}`
		if got := string(rc.Requests()[0].Body); got != want {
			t.Errorf("body = %s, want %s", got, want)
		}
	})
}

func TestFailingTwiceThenSucceedingLogsThreeAttemptsWithOneID(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		e := newEnvOn(t, open(t))
		rc := webhookstest.NewReceiver(t, func(w http.ResponseWriter, _ *http.Request, n int) {
			if n < 3 {
				w.WriteHeader(http.StatusInternalServerError)
				w.Write([]byte("try later " + strconv.Itoa(n)))
				return
			}
			w.Write([]byte("thanks"))
		})
		w := e.hook(rc.URL, []string{content.EventCreate})
		e.record(e.s, entry(content.EventCreate))

		e.runDue()
		e.clock.Advance(4 * time.Second)
		if n := e.runDue(); n != 0 {
			t.Fatalf("retry sent %d attempts before its 5s delay", n)
		}
		e.clock.Advance(time.Second)
		e.runDue()
		e.clock.Advance(5 * time.Minute)
		e.runDue()

		reqs := rc.Requests()
		if len(reqs) != 3 {
			t.Fatalf("requests = %d, want 3", len(reqs))
		}
		ids := map[string]bool{}
		for i, r := range reqs {
			ids[r.Header.Get("webhook-id")] = true
			if err := e.verify(r, w.Secret); err != nil {
				t.Errorf("request %d: %v", i+1, err)
			}
		}
		if len(ids) != 1 {
			t.Errorf("webhook-id changed between attempts: %v", ids)
		}

		d := e.only(w.ID)
		if d.Status != webhooks.StatusSucceeded || d.AttemptCount != 3 ||
			d.LastResponseStatus == nil || *d.LastResponseStatus != 200 {
			t.Fatalf("delivery = %+v, want succeeded after 3 attempts", d)
		}
		wantStatus := []int{500, 500, 200}
		wantBody := []string{"try later 1", "try later 2", "thanks"}
		wantAt := []time.Time{t0, t0.Add(5 * time.Second), t0.Add(5*time.Second + 5*time.Minute)}
		for i, a := range d.Attempts {
			if a.Number != i+1 || a.Trigger != webhooks.TriggerScheduled ||
				*a.ResponseStatus != wantStatus[i] || a.ResponseBody != wantBody[i] ||
				!a.CreatedAt.Equal(wantAt[i]) {
				t.Errorf("attempt %d = %+v", i+1, a)
			}
			if a.RequestHeaders["Webhook-Id"] != d.EventID {
				t.Errorf("attempt %d request headers = %v", i+1, a.RequestHeaders)
			}
		}
	})
}

func TestFullScheduleEndsFailedWithJitterWithinTwentyPercent(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		jitters := []float64{-1, 0.999, -0.5, 0.5, 0, -0.25, 0.75}
		calls := 0
		e := newEnvOn(t, open(t), func(c *webhooks.Config) {
			c.Jitter = func() float64 {
				j := jitters[calls%len(jitters)]
				calls++
				return j
			}
		})
		rc := webhookstest.NewReceiver(t, webhookstest.Status(http.StatusBadGateway))
		w := e.hook(rc.URL, []string{content.EventCreate})
		e.record(e.s, entry(content.EventCreate))

		var delays []time.Duration
		for attempt := 1; attempt <= 8; attempt++ {
			at := e.clock.Now()
			if n := e.runDue(); n != 1 {
				t.Fatalf("attempt %d: runDue made %d attempts", attempt, n)
			}
			d := e.only(w.ID)
			if attempt == 8 {
				if d.Status != webhooks.StatusFailed || d.NextAttemptAt != nil {
					t.Fatalf("after 8 attempts: %+v, want failed", d)
				}
				break
			}
			if d.Status != webhooks.StatusPending || d.NextAttemptAt == nil {
				t.Fatalf("after attempt %d: %+v, want pending", attempt, d)
			}
			delays = append(delays, d.NextAttemptAt.Sub(at))
			e.clock.Set(*d.NextAttemptAt)
		}

		for i, got := range delays {
			base := webhooks.DefaultRetrySchedule[i]
			want := time.Duration(float64(base) * (1 + 0.2*jitters[i]))
			if diff := got - want; diff < -time.Millisecond || diff > time.Millisecond {
				t.Errorf("delay %d = %s, want %s", i+1, got, want)
			}
			if float64(got) < 0.8*float64(base)-1e6 || float64(got) > 1.2*float64(base) {
				t.Errorf("delay %d = %s outside ±20%% of %s", i+1, got, base)
			}
		}
		if rc.Count() != 8 {
			t.Errorf("receiver got %d requests, want 8", rc.Count())
		}
		e.clock.Advance(48 * time.Hour)
		if n := e.runDue(); n != 0 {
			t.Errorf("a failed delivery was sent again (%d attempts)", n)
		}
	})
}

func TestRetryAfterMovesTheNextAttemptLaterUpToADay(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		tests := []struct {
			name       string
			status     int
			retryAfter string
			want       time.Duration
		}{
			{"429 seconds", 429, "120", 120 * time.Second},
			{"503 seconds", 503, "600", 600 * time.Second},
			{"capped at a day", 503, "259200", 24 * time.Hour},
			{"never earlier than the schedule", 429, "1", 5 * time.Second},
			{"HTTP date", 429, t0.Add(time.Hour).Format(http.TimeFormat), time.Hour},
			{"ignored on 500", 500, "120", 5 * time.Second},
			{"garbage ignored", 429, "soon", 5 * time.Second},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e := newEnvOn(t, open(t))
				rc := webhookstest.NewReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
					w.Header().Set("Retry-After", tt.retryAfter)
					w.WriteHeader(tt.status)
				})
				w := e.hook(rc.URL, []string{content.EventCreate})
				e.record(e.s, entry(content.EventCreate))
				e.runDue()

				d := e.only(w.ID)
				if d.NextAttemptAt == nil {
					t.Fatalf("no next attempt: %+v", d)
				}
				if got := d.NextAttemptAt.Sub(t0); got != tt.want {
					t.Errorf("next attempt after %s, want %s", got, tt.want)
				}
			})
		}
	})
}

func TestGoneFailsTheDeliveryAndAutoDisablesTheWebhook(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		e := newEnvOn(t, open(t))
		rc := webhookstest.NewReceiver(t, webhookstest.Status(http.StatusGone))
		w := e.hook(rc.URL, []string{content.EventCreate})
		e.record(e.s, entry(content.EventCreate))
		e.runDue()

		d := e.only(w.ID)
		if d.Status != webhooks.StatusFailed {
			t.Errorf("delivery status = %s, want failed", d.Status)
		}
		got, err := e.s.Webhook(e.ctx, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != webhooks.StateAutoDisabled || got.IsEnabled() ||
			!strings.Contains(got.DisabledReason, "410") {
			t.Errorf("webhook = state %s, reason %q; want auto-disabled naming 410",
				got.State, got.DisabledReason)
		}

		e.record(e.s, entry(content.EventCreate))
		if n := len(e.deliveries(w.ID)); n != 1 {
			t.Errorf("an auto-disabled webhook got a new delivery (%d in all)", n)
		}
	})
}

func TestFailingForDisableAfterAutoDisablesAndReEnablingResumes(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		e := newEnvOn(t, open(t), func(c *webhooks.Config) {
			c.DisableAfter = time.Hour
			c.RetrySchedule = []time.Duration{40 * time.Minute, 40 * time.Minute, 40 * time.Minute}
		})
		up := false
		rc := webhookstest.NewReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
			if !up {
				w.WriteHeader(http.StatusInternalServerError)
			}
		})
		w := e.hook(rc.URL, []string{content.EventCreate})
		e.record(e.s, entry(content.EventCreate))

		e.runDue() // t0: first failure opens the window
		e.clock.Advance(40 * time.Minute)
		e.runDue() // 40 min: still within an hour
		if got, _ := e.s.Webhook(e.ctx, w.ID); got.State != webhooks.StateEnabled {
			t.Fatalf("disabled after 40 minutes of failures: %s", got.State)
		}
		e.clock.Advance(40 * time.Minute)
		e.runDue() // 80 min: over the hour
		got, _ := e.s.Webhook(e.ctx, w.ID)
		if got.State != webhooks.StateAutoDisabled || !strings.Contains(got.DisabledReason, "1h0m0s") {
			t.Fatalf("webhook = %s (%q), want auto-disabled after an hour",
				got.State, got.DisabledReason)
		}

		// The pending delivery waits while the webhook is disabled.
		e.clock.Advance(2 * time.Hour)
		if n := e.runDue(); n != 0 {
			t.Fatalf("an auto-disabled webhook's delivery was sent (%d)", n)
		}
		if d := e.only(w.ID); d.Status != webhooks.StatusPending {
			t.Fatalf("delivery = %s, want pending while disabled", d.Status)
		}

		up = true
		enable := true
		got, err := e.s.UpdateWebhook(e.ctx, w.ID, webhooks.WebhookInput{IsEnabled: &enable})
		if err != nil {
			t.Fatal(err)
		}
		if got.State != webhooks.StateEnabled || got.DisabledReason != "" || got.FirstFailureAt != nil {
			t.Fatalf("re-enabled webhook = %+v", got)
		}
		if n := e.runDue(); n != 1 {
			t.Fatalf("re-enabling sent %d attempts, want 1", n)
		}
		if d := e.only(w.ID); d.Status != webhooks.StatusSucceeded || d.AttemptCount != 4 {
			t.Errorf("delivery = %+v, want succeeded on attempt 4", d)
		}
		got, _ = e.s.Webhook(e.ctx, w.ID)
		if got.LastSuccessAt == nil || !got.LastSuccessAt.Equal(e.clock.Now()) {
			t.Errorf("last success = %v", got.LastSuccessAt)
		}
	})
}

func TestASuccessResetsTheFailureWindow(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		e := newEnvOn(t, open(t), func(c *webhooks.Config) { c.DisableAfter = time.Hour })
		fail := true
		rc := webhookstest.NewReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
			if fail {
				w.WriteHeader(http.StatusInternalServerError)
			}
		})
		w := e.hook(rc.URL, []string{content.EventCreate})

		e.record(e.s, entry(content.EventCreate))
		e.runDue()
		e.clock.Advance(50 * time.Minute)
		fail = false
		e.record(e.s, entry(content.EventCreate))
		e.runDue()
		fail = true
		e.clock.Advance(20 * time.Minute)
		e.record(e.s, entry(content.EventCreate))
		e.runDue()

		got, _ := e.s.Webhook(e.ctx, w.ID)
		if got.State != webhooks.StateEnabled {
			t.Errorf("webhook %s, want enabled: the success restarted the hour", got.State)
		}
		if got.FirstFailureAt == nil || !got.FirstFailureAt.Equal(e.clock.Now()) {
			t.Errorf("first failure = %v, want %v", got.FirstFailureAt, e.clock.Now())
		}
	})
}

func TestSecretBearingHeadersAreRedactedInTheLog(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		e := newEnvOn(t, open(t))
		rc := webhookstest.NewReceiver(t, nil)
		w := e.hook(rc.URL, []string{content.EventCreate}, withHeaders(map[string]string{
			"Authorization": "Bearer sekrit-1", "X-Api-Key": "sekrit-2",
			"X-Auth-Token": "sekrit-3", "X-Team": "blue",
		}))
		e.record(e.s, entry(content.EventCreate))
		e.runDue()

		if got := rc.Requests()[0].Header.Get("Authorization"); got != "Bearer sekrit-1" {
			t.Errorf("receiver got Authorization %q", got)
		}
		a := e.only(w.ID).Attempts[0]
		for _, h := range []string{"Authorization", "X-Api-Key", "X-Auth-Token"} {
			if a.RequestHeaders[h] != "[redacted]" {
				t.Errorf("logged %s = %q, want [redacted]", h, a.RequestHeaders[h])
			}
		}
		if a.RequestHeaders["X-Team"] != "blue" || a.RequestHeaders["Webhook-Signature"] == "" {
			t.Errorf("logged headers = %v", a.RequestHeaders)
		}
		raw, _ := json.Marshal(e.only(w.ID))
		for _, secret := range []string{"sekrit", w.Secret} {
			if strings.Contains(string(raw), secret) {
				t.Errorf("delivery log contains %q", secret)
			}
			if strings.Contains(e.logs.String(), secret) {
				t.Errorf("log lines contain %q", secret)
			}
		}
	})
}

func TestResponseBodyIsTruncated(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		e := newEnvOn(t, open(t))
		rc := webhookstest.NewReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
			w.Write([]byte(strings.Repeat("x", 100<<10)))
		})
		w := e.hook(rc.URL, []string{content.EventCreate})
		e.record(e.s, entry(content.EventCreate))
		e.runDue()

		a := e.only(w.ID).Attempts[0]
		if len(a.ResponseBody) != 8<<10 {
			t.Errorf("stored body is %d bytes, want 8 KiB", len(a.ResponseBody))
		}
	})
}

func TestTimeoutIsAFailedAttempt(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		e := newEnvOn(t, open(t), func(c *webhooks.Config) { c.Timeout = 100 * time.Millisecond })
		rc := webhookstest.NewReceiver(t, func(w http.ResponseWriter, r *http.Request, _ int) {
			<-r.Context().Done()
		})
		w := e.hook(rc.URL, []string{content.EventCreate})
		e.record(e.s, entry(content.EventCreate))
		e.runDue()

		d := e.only(w.ID)
		a := d.Attempts[0]
		if d.Status != webhooks.StatusPending || a.ResponseStatus != nil ||
			!strings.Contains(a.Error, "timed out after 100ms") {
			t.Errorf("delivery %s, attempt %+v; want a timed-out attempt and a retry", d.Status, a)
		}
	})
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		e := newEnvOn(t, open(t))
		target := webhookstest.NewReceiver(t, nil)
		rc := webhookstest.NewReceiver(t, func(w http.ResponseWriter, r *http.Request, _ int) {
			http.Redirect(w, r, target.URL, http.StatusTemporaryRedirect)
		})
		w := e.hook(rc.URL, []string{content.EventCreate})
		e.record(e.s, entry(content.EventCreate))
		e.runDue()

		if target.Count() != 0 {
			t.Error("the redirect was followed")
		}
		if d := e.only(w.ID); *d.LastResponseStatus != 307 || d.Status != webhooks.StatusPending {
			t.Errorf("delivery = %+v, want a 307 failure", d)
		}
	})
}
