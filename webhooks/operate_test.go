package webhooks_test

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/webhooks"
	"github.com/herald-cms/herald/webhooks/ssrf"
	"github.com/herald-cms/herald/webhooks/webhookstest"
)

func TestRedeliveryKeepsTheWebhookIDWithAFreshSignature(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		e := newEnvOn(t, open(t))
		rc := webhookstest.NewReceiver(t, nil)
		w := e.hook(rc.URL, []string{content.EventCreate})
		e.record(e.s, entry(content.EventCreate))
		e.runDue()
		d := e.only(w.ID)

		e.clock.Advance(3 * time.Hour)
		if _, err := e.s.RetryDelivery(e.ctx, d.ID); err != nil {
			t.Fatal(err)
		}
		if n := e.runDue(); n != 1 {
			t.Fatalf("redelivery made %d attempts", n)
		}

		reqs := rc.Requests()
		first, again := reqs[0], reqs[1]
		if first.Header.Get("webhook-id") != again.Header.Get("webhook-id") {
			t.Error("redelivery changed webhook-id")
		}
		want := fmt.Sprint(e.clock.Now().Unix())
		if got := again.Header.Get("webhook-timestamp"); got != want {
			t.Errorf("redelivery timestamp = %s, want the current time %s", got, want)
		}
		if first.Header.Get("webhook-signature") == again.Header.Get("webhook-signature") {
			t.Error("redelivery reused the old signature")
		}
		if err := e.verify(again, w.Secret); err != nil {
			t.Error(err)
		}
		d = e.delivery(d.ID)
		if len(d.Attempts) != 2 || d.Attempts[1].Trigger != webhooks.TriggerManual ||
			d.Attempts[1].Number != 2 || d.Status != webhooks.StatusSucceeded {
			t.Errorf("after redelivery: %+v", d)
		}
	})
}

func TestRecoverRequeuesFailedDeliveriesSince(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		e := newEnvOn(t, open(t), func(c *webhooks.Config) {
			c.RetrySchedule = []time.Duration{time.Second}
		})
		up := false
		rc := webhookstest.NewReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
			if !up {
				w.WriteHeader(http.StatusInternalServerError)
			}
		})
		w := e.hook(rc.URL, []string{content.EventCreate})
		for i := 0; i < 3; i++ {
			e.record(e.s, entry(content.EventCreate))
			e.runDue()
			e.clock.Advance(time.Second)
			e.runDue()
			e.clock.Advance(time.Hour)
		}
		for _, d := range e.deliveries(w.ID) {
			if d.Status != webhooks.StatusFailed {
				t.Fatalf("delivery %d is %s, want failed", d.ID, d.Status)
			}
		}

		up = true
		n, err := e.s.Recover(e.ctx, w.ID, t0.Add(30*time.Minute))
		if err != nil || n != 2 {
			t.Fatalf("recover = %d, %v; want the 2 deliveries after the first", n, err)
		}
		if got := e.runDue(); got != 2 {
			t.Fatalf("recovery sent %d attempts, want 2", got)
		}
		for i, d := range e.deliveries(w.ID) { // newest first
			want := webhooks.StatusSucceeded
			if i == 2 {
				want = webhooks.StatusFailed
			}
			if d.Status != want {
				t.Errorf("delivery %d: %s, want %s", d.ID, d.Status, want)
			}
		}
	})
}

func TestRotatedSecretsBothSignForADay(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		e := newEnvOn(t, open(t))
		rc := webhookstest.NewReceiver(t, nil)
		w := e.hook(rc.URL, []string{content.EventCreate})
		old := w.Secret

		rotated, err := e.s.RotateSecret(e.ctx, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		if rotated.Secret == old || !strings.HasPrefix(rotated.Secret, "whsec_") {
			t.Fatalf("new secret = %q", rotated.Secret)
		}

		e.clock.Advance(23 * time.Hour)
		e.record(e.s, entry(content.EventCreate))
		e.runDue()
		e.clock.Advance(2 * time.Hour)
		e.record(e.s, entry(content.EventCreate))
		e.runDue()

		reqs := rc.Requests()
		tests := []struct {
			name    string
			req     int
			secret  string
			wantErr bool
		}{
			{"within a day, new secret", 0, rotated.Secret, false},
			{"within a day, old secret", 0, old, false},
			{"after a day, new secret", 1, rotated.Secret, false},
			{"after a day, old secret", 1, old, true},
		}
		for _, tt := range tests {
			err := e.verify(reqs[tt.req], tt.secret)
			if (err != nil) != tt.wantErr {
				t.Errorf("%s: verify error = %v, want error %v", tt.name, err, tt.wantErr)
			}
		}
		if n := len(strings.Fields(reqs[0].Header.Get("webhook-signature"))); n != 2 {
			t.Errorf("signatures during the overlap = %d, want 2", n)
		}
		if n := len(strings.Fields(reqs[1].Header.Get("webhook-signature"))); n != 1 {
			t.Errorf("signatures after the overlap = %d, want 1", n)
		}
	})
}

func TestTriggerSendsATestEventAndLogsIt(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		e := newEnvOn(t, open(t))
		rc := webhookstest.NewReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
			w.WriteHeader(http.StatusAccepted)
			w.Write([]byte("got it"))
		})
		disabled := false
		w := e.hook(rc.URL, []string{content.EventCreate}, func(in *webhooks.WebhookInput) {
			in.IsEnabled = &disabled
		})
		app := e.app()

		status, body := e.call(app, "POST", fmt.Sprintf("/admin/webhooks/%d/trigger", w.ID), nil)
		if status != 200 {
			t.Fatalf("status %d: %v", status, body)
		}
		want := map[string]any{"statusCode": float64(202), "message": "got it"}
		if fmt.Sprint(body["data"]) != fmt.Sprint(want) {
			t.Errorf("data = %v, want %v", body["data"], want)
		}

		req := rc.Requests()[0]
		if req.Header.Get("X-Strapi-Event") != "trigger-test" || e.verify(req, w.Secret) != nil {
			t.Errorf("test request headers = %v", req.Header)
		}
		if got, want := string(req.Body),
			`{"event":"trigger-test","createdAt":"2025-03-01T12:00:00.000Z"}`; got != want {
			t.Errorf("body = %s, want %s", got, want)
		}
		d := e.only(w.ID)
		if d.Event != "trigger-test" || d.Status != webhooks.StatusSucceeded ||
			len(d.Attempts) != 1 || d.Attempts[0].Trigger != webhooks.TriggerTest {
			t.Errorf("logged test delivery = %+v", d)
		}

		rc.Close()
		_, body = e.call(app, "POST", fmt.Sprintf("/admin/webhooks/%d/trigger", w.ID), nil)
		data := body["data"].(map[string]any)
		if data["statusCode"] != float64(500) || data["message"] == "" {
			t.Errorf("unreachable receiver: data = %v, want statusCode 500 and why", data)
		}
		got, _ := e.s.Webhook(e.ctx, w.ID)
		if got.FirstFailureAt != nil {
			t.Error("a failed test counted towards auto-disabling")
		}
	})
}

// switchResolver answers with whatever address it currently holds.
type switchResolver struct {
	mu   sync.Mutex
	addr netip.Addr
}

func (r *switchResolver) set(a string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.addr = netip.MustParseAddr(a)
}

func (r *switchResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return []netip.Addr{r.addr}, nil
}

func TestSSRFRefusedWhenSavedAndWhenSent(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		res := &switchResolver{}
		res.set("93.184.216.34")
		e := newEnvOn(t, open(t), func(c *webhooks.Config) {
			c.Guard = &ssrf.Guard{
				Allowed:  []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
				Resolver: res,
			}
		})
		app := e.app()

		for _, url := range []string{"http://10.1.2.3/hook", "http://[::ffff:169.254.169.254]/"} {
			status, body := e.call(app, "POST", "/admin/webhooks", map[string]any{
				"name": "x", "url": url, "events": []string{"entry.create"}})
			msg := fmt.Sprint(body["error"])
			if status != 400 || !strings.Contains(msg, "HERALD_WEBHOOK_ALLOWED_NETWORKS") {
				t.Errorf("%s: %d %s; want 400 explaining HERALD_WEBHOOK_ALLOWED_NETWORKS",
					url, status, msg)
			}
		}

		// A name that resolves to a public address is saved; when it resolves
		// to a private one at send time, the connection is refused.
		w := e.hook("http://hooks.example.com/in", []string{content.EventCreate})
		res.set("10.0.0.7")
		e.record(e.s, entry(content.EventCreate))
		e.runDue()
		d := e.only(w.ID)
		a := d.Attempts[0]
		if d.Status != webhooks.StatusPending || a.ResponseStatus != nil ||
			!strings.Contains(a.Error, "10.0.0.7") ||
			!strings.Contains(a.Error, "HERALD_WEBHOOK_ALLOWED_NETWORKS") {
			t.Errorf("send-time refusal: delivery %s, attempt error %q", d.Status, a.Error)
		}
	})
}

func TestPruneDeletesOldFinishedDeliveriesOnly(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		e := newEnvOn(t, open(t), func(c *webhooks.Config) { c.Retention = 24 * time.Hour })
		ok := webhookstest.NewReceiver(t, nil)
		down := webhookstest.NewReceiver(t, webhookstest.Status(500))
		okHook := e.hook(ok.URL, []string{content.EventCreate})
		downHook := e.hook(down.URL, []string{content.EventCreate})
		e.record(e.s, entry(content.EventCreate))
		e.runDue()

		e.clock.Advance(25 * time.Hour)
		if _, err := e.s.Prune(e.ctx); err != nil {
			t.Fatal(err)
		}
		if n := len(e.deliveries(okHook.ID)); n != 0 {
			t.Errorf("old succeeded delivery kept (%d)", n)
		}
		if n := len(e.deliveries(downHook.ID)); n != 1 {
			t.Errorf("pending delivery pruned (%d left)", n)
		}
		if n := e.count("webhook_events"); n != 1 {
			t.Errorf("events = %d, want the pending delivery's event kept", n)
		}
		if n := e.count("webhook_attempts"); n != 1 {
			t.Errorf("attempts = %d, want only the pending delivery's", n)
		}
	})
}

func TestDeletingAWebhookDeletesItsDeliveries(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		e := newEnvOn(t, open(t))
		rc := webhookstest.NewReceiver(t, webhookstest.Status(500))
		w := e.hook(rc.URL, []string{content.EventCreate})
		e.record(e.s, entry(content.EventCreate))
		e.runDue()

		if _, err := e.s.DeleteWebhook(e.ctx, w.ID); err != nil {
			t.Fatal(err)
		}
		if n := e.count("webhook_deliveries") + e.count("webhook_attempts"); n != 0 {
			t.Errorf("%d deliveries and attempts left", n)
		}
		e.record(e.s, entry(content.EventCreate))
		if n := e.count("webhook_deliveries"); n != 0 {
			t.Errorf("a deleted webhook got a delivery")
		}
	})
}

func TestMetricsCountOutcomesDurationsAndDueDeliveries(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		e := newEnvOn(t, open(t))
		ok := webhookstest.NewReceiver(t, nil)
		down := webhookstest.NewReceiver(t, webhookstest.Status(500))
		e.hook(ok.URL, []string{content.EventCreate})
		e.hook(down.URL, []string{content.EventCreate})
		reg := prometheus.NewRegistry()
		reg.MustRegister(e.s.Collectors()...)

		e.record(e.s, entry(content.EventCreate))
		e.record(e.s, entry(content.EventCreate))
		values := gather(t, reg)
		if values["herald_webhook_deliveries_due"] != 4 {
			t.Errorf("due before sending = %v, want 4", values["herald_webhook_deliveries_due"])
		}
		e.runDue()

		values = gather(t, reg)
		want := map[string]float64{
			`herald_webhook_deliveries_total{outcome="succeeded"}`:       2,
			`herald_webhook_deliveries_total{outcome="retry_scheduled"}`: 2,
			`herald_webhook_deliveries_total{outcome="failed"}`:          0,
			"herald_webhook_attempt_duration_seconds_count":              4,
			"herald_webhook_deliveries_due":                              0,
		}
		for k, v := range want {
			if values[k] != v {
				t.Errorf("%s = %v, want %v", k, values[k], v)
			}
		}
	})
}

// gather flattens a registry's metrics to name{labels} -> value.
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			name := f.GetName()
			for _, l := range m.GetLabel() {
				name += fmt.Sprintf(`{%s=%q}`, l.GetName(), l.GetValue())
			}
			switch {
			case m.GetCounter() != nil:
				out[name] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[name] = m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				out[name+"_count"] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}
