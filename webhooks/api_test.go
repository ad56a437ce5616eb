package webhooks_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/webhooks/webhookstest"
)

func TestAdminAPIRefusesInvalidWebhooks(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		e := newEnvOn(t, open(t))
		app := e.app()
		valid := func(change map[string]any) map[string]any {
			body := map[string]any{
				"name": "Rebuild", "url": "http://127.0.0.1:9/hook", "events": []string{"entry.publish"},
			}
			for k, v := range change {
				if v == nil {
					delete(body, k)
					continue
				}
				body[k] = v
			}
			return body
		}
		tests := []struct {
			name     string
			body     any
			wantPath string
			wantMsg  string
		}{
			{"missing name", valid(map[string]any{"name": nil}), "name", "required"},
			{"blank name", valid(map[string]any{"name": "  "}), "name", "required"},
			{"missing url", valid(map[string]any{"url": nil}), "url", "required"},
			{"relative url", valid(map[string]any{"url": "/hook"}), "url", "absolute"},
			{"ftp url", valid(map[string]any{"url": "ftp://127.0.0.1/x"}), "url", "scheme"},
			{"private url", valid(map[string]any{"url": "http://192.168.1.1/x"}), "url",
				"HERALD_WEBHOOK_ALLOWED_NETWORKS"},
			{"metadata url", valid(map[string]any{"url": "http://169.254.169.254/latest"}), "url",
				"HERALD_WEBHOOK_ALLOWED_NETWORKS"},
			{"no events", valid(map[string]any{"events": []string{}}), "events", "at least one"},
			{"missing events", valid(map[string]any{"events": nil}), "events", "at least one"},
			{"unknown event", valid(map[string]any{"events": []string{"entry.explode"}}), "events",
				"unknown event"},
			{"trigger-test", valid(map[string]any{"events": []string{"trigger-test"}}), "events",
				"cannot be subscribed"},
			{"events not a list", valid(map[string]any{"events": "entry.create"}), "events",
				"list of strings"},
			{"header name with space", valid(map[string]any{"headers": map[string]string{"X Bad": "1"}}),
				"headers", "not a valid HTTP header name"},
			{"header value with newline",
				valid(map[string]any{"headers": map[string]string{"X-Ok": "a\r\nX-Evil: 1"}}),
				"headers", "control characters"},
			{"reserved webhook header",
				valid(map[string]any{"headers": map[string]string{"Webhook-Id": "1"}}),
				"headers", "cannot be overridden"},
			{"reserved content type",
				valid(map[string]any{"headers": map[string]string{"content-type": "text/plain"}}),
				"headers", "cannot be overridden"},
			{"reserved strapi event",
				valid(map[string]any{"headers": map[string]string{"X-Strapi-Event": "x"}}),
				"headers", "cannot be overridden"},
			{"header value not a string", valid(map[string]any{"headers": map[string]any{"X-N": 1}}),
				"headers", "must be"},
			{"bad content type uid", valid(map[string]any{"contentTypes": []string{"Article"}}),
				"contentTypes", "uid"},
			{"unknown field", valid(map[string]any{"color": "red"}), "color", "Unknown field"},
			{"read-only secret", valid(map[string]any{"secret": "whsec_AAAA"}), "secret",
				"rotate-secret"},
			{"malformed JSON", `{"name": `, "", "Malformed JSON"},
			{"empty body", ``, "", "Missing request body"},
			{"not an object", `[1]`, "", "JSON object"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				status, body := e.call(app, "POST", "/admin/webhooks", tt.body)
				if status != 400 {
					t.Fatalf("status %d, want 400: %v", status, body)
				}
				got := fmt.Sprint(body["error"])
				if !strings.Contains(got, tt.wantMsg) {
					t.Errorf("error %s does not mention %q", got, tt.wantMsg)
				}
				if tt.wantPath != "" && !strings.Contains(got, "path:["+tt.wantPath) {
					t.Errorf("error %s does not name %s", got, tt.wantPath)
				}
			})
		}
		if n := e.count("webhooks"); n != 0 {
			t.Errorf("%d invalid webhooks were stored", n)
		}
	})
}

func TestAdminAPIWebhookLifecycle(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		e := newEnvOn(t, open(t))
		app := e.app()

		status, body := e.call(app, "POST", "/admin/webhooks", map[string]any{
			"name": "Rebuild", "url": "http://127.0.0.1:9/hook",
			"headers":      map[string]string{"Authorization": "Bearer x"},
			"events":       []string{"entry.publish", "entry.unpublish"},
			"contentTypes": []string{"api::article.article"},
		})
		if status != 201 {
			t.Fatalf("create: %d %v", status, body)
		}
		created := body["data"].(map[string]any)
		wantKeys := []string{"contentTypes", "createdAt", "disabledReason", "events", "headers", "id",
			"isEnabled", "name", "secret", "state", "updatedAt", "url"}
		var keys []string
		for k := range created {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, wantKeys) {
			t.Errorf("webhook fields = %v, want %v", keys, wantKeys)
		}
		if created["isEnabled"] != true || created["state"] != "enabled" ||
			created["disabledReason"] != nil ||
			!strings.HasPrefix(created["secret"].(string), "whsec_") ||
			created["createdAt"] != "2025-03-01T12:00:00.000Z" {
			t.Errorf("created = %v", created)
		}
		path := fmt.Sprintf("/admin/webhooks/%v", created["id"])

		status, body = e.call(app, "GET", "/admin/webhooks", nil)
		if list := body["data"].([]any); status != 200 || len(list) != 1 {
			t.Errorf("list: %d %v", status, body)
		}

		e.clock.Advance(time.Minute)
		status, body = e.call(app, "PUT", path, map[string]any{"isEnabled": false, "name": "Renamed"})
		updated := body["data"].(map[string]any)
		if status != 200 || updated["state"] != "disabled" || updated["isEnabled"] != false ||
			updated["name"] != "Renamed" || updated["url"] != created["url"] ||
			!strings.Contains(fmt.Sprint(updated["disabledReason"]), "admin@example.com") ||
			updated["updatedAt"] != "2025-03-01T12:01:00.000Z" {
			t.Errorf("update: %d %v", status, updated)
		}
		status, body = e.call(app, "PUT", path, map[string]any{"isEnabled": true})
		if updated := body["data"].(map[string]any); status != 200 || updated["state"] != "enabled" ||
			updated["disabledReason"] != nil {
			t.Errorf("re-enable: %d %v", status, updated)
		}
		status, body = e.call(app, "PUT", path, map[string]any{"url": "http://10.0.0.1/"})
		if status != 400 {
			t.Errorf("update to a private url: %d %v", status, body)
		}

		status, body = e.call(app, "POST", path+"/rotate-secret", nil)
		rotated := body["data"].(map[string]any)
		if status != 200 || rotated["secret"] == created["secret"] {
			t.Errorf("rotate: %d %v", status, body)
		}

		status, body = e.call(app, "DELETE", path, nil)
		if status != 200 || body["data"].(map[string]any)["name"] != "Renamed" {
			t.Errorf("delete: %d %v", status, body)
		}
		status, _ = e.call(app, "GET", path, nil)
		if status != 404 {
			t.Errorf("get after delete: %d, want 404", status)
		}
	})
}

func TestAdminAPIAnswersNotFound(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		e := newEnvOn(t, open(t))
		app := e.app()
		tests := []struct{ method, path string }{
			{"GET", "/admin/webhooks/42"},
			{"GET", "/admin/webhooks/abc"},
			{"PUT", "/admin/webhooks/42"},
			{"DELETE", "/admin/webhooks/42"},
			{"POST", "/admin/webhooks/42/trigger"},
			{"POST", "/admin/webhooks/42/rotate-secret"},
			{"GET", "/admin/webhooks/42/deliveries"},
			{"GET", "/admin/deliveries/42"},
			{"POST", "/admin/deliveries/42/retry"},
		}
		for _, tt := range tests {
			var body any
			if tt.method == "PUT" {
				body = map[string]any{"name": "x"}
			}
			status, answer := e.call(app, tt.method, tt.path, body)
			if status != 404 || answer["data"] != nil {
				t.Errorf("%s %s: %d %v, want 404", tt.method, tt.path, status, answer)
			}
		}
		status, _ := e.call(app, "POST", "/admin/webhooks/42/recover", map[string]any{
			"since": "2025-01-01T00:00:00Z"})
		if status != 404 {
			t.Errorf("recover unknown webhook: %d", status)
		}
	})
}

func TestAdminAPIDeliveryLog(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		e := newEnvOn(t, open(t))
		rc := webhookstest.NewReceiver(t, func(w http.ResponseWriter, _ *http.Request, n int) {
			if n%2 == 0 {
				w.WriteHeader(500)
			}
		})
		w := e.hook(rc.URL, []string{content.EventCreate, content.EventUpdate})
		for i := 0; i < 6; i++ {
			name := content.EventCreate
			if i >= 4 {
				name = content.EventUpdate
			}
			e.record(e.s, entry(name))
			e.runDue()
			e.clock.Advance(time.Second)
		}
		app := e.app()
		base := fmt.Sprintf("/admin/webhooks/%d/deliveries", w.ID)

		tests := []struct {
			query    string
			wantIDs  int
			wantMeta string
		}{
			{"", 6, "map[page:1 pageCount:1 pageSize:25 total:6]"},
			{"?status=pending", 3, "map[page:1 pageCount:1 pageSize:25 total:3]"},
			{"?status=succeeded&event=entry.update", 1, "map[page:1 pageCount:1 pageSize:25 total:1]"},
			{"?since=2025-03-01T12:00:03Z", 3, "map[page:1 pageCount:1 pageSize:25 total:3]"},
			{"?pagination[page]=2&pagination[pageSize]=4", 2,
				"map[page:2 pageCount:2 pageSize:4 total:6]"},
			{"?pagination[start]=1&pagination[limit]=2", 2, "map[limit:2 start:1 total:6]"},
			{"?pagination[pageSize]=1000", 6, "map[page:1 pageCount:1 pageSize:100 total:6]"},
			{"?pagination[withCount]=false", 6, "map[page:1 pageSize:25]"},
		}
		for _, tt := range tests {
			status, body := e.call(app, "GET", base+tt.query, nil)
			if status != 200 {
				t.Errorf("%s: %d %v", tt.query, status, body)
				continue
			}
			data := body["data"].([]any)
			meta := fmt.Sprint(body["meta"].(map[string]any)["pagination"])
			if len(data) != tt.wantIDs || meta != tt.wantMeta {
				t.Errorf("%s: %d deliveries, meta %s; want %d, %s", tt.query, len(data), meta,
					tt.wantIDs, tt.wantMeta)
			}
		}

		bad := []struct{ query, code string }{
			{"?status=lost", "invalid"}, {"?since=yesterday", "invalid"},
			{"?color=red", "invalid"},
			{"?pagination[page]=1&pagination[limit]=2", "pagination"},
			{"?pagination[page]=0", "pagination"}, {"?pagination[pageSize]=x", "pagination"},
			{"?pagination[page]=1&pagination[page]=2", "pagination"},
			{"?pagination[color]=red", "invalid"},
		}
		for _, tt := range bad {
			status, body := e.call(app, "GET", base+tt.query, nil)
			if status != 400 {
				t.Errorf("%s: %d %v, want 400", tt.query, status, body)
				continue
			}
			if code := body["error"].(map[string]any)["name"]; code != tt.code {
				t.Errorf("%s: error %v, want %s", tt.query, code, tt.code)
			}
		}

		_, body := e.call(app, "GET", base+"?status=pending", nil)
		summary := body["data"].([]any)[0].(map[string]any)
		wantKeys := []string{"attemptCount", "createdAt", "documentId", "event", "eventId", "id",
			"lastResponseStatus", "nextAttemptAt", "status", "uid", "updatedAt", "webhookId"}
		var keys []string
		for k := range summary {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, wantKeys) {
			t.Errorf("delivery fields = %v, want %v", keys, wantKeys)
		}
		if summary["lastResponseStatus"] != float64(500) || summary["nextAttemptAt"] == nil {
			t.Errorf("pending delivery = %v", summary)
		}

		path := fmt.Sprintf("/admin/deliveries/%v", summary["id"])
		status, body := e.call(app, "GET", path, nil)
		detail := body["data"].(map[string]any)
		attempts, _ := detail["attempts"].([]any)
		if status != 200 || detail["payload"].(map[string]any)["event"] == nil || len(attempts) != 1 {
			t.Fatalf("detail: %d %v", status, detail)
		}
		attempt := attempts[0].(map[string]any)
		var akeys []string
		for k := range attempt {
			akeys = append(akeys, k)
		}
		slices.Sort(akeys)
		wantAttempt := []string{"createdAt", "durationMs", "error", "number", "requestHeaders",
			"responseBody", "responseHeaders", "responseStatus", "trigger"}
		if !slices.Equal(akeys, wantAttempt) || attempt["trigger"] != "scheduled" {
			t.Errorf("attempt = %v", attempt)
		}

		status, body = e.call(app, "POST", path+"/retry", nil)
		next := body["data"].(map[string]any)["nextAttemptAt"]
		if status != 202 || next != "2025-03-01T12:00:06.000Z" {
			t.Errorf("retry: %d %v", status, body)
		}
		e.runDue()
		_, body = e.call(app, "GET", path, nil)
		attempts = body["data"].(map[string]any)["attempts"].([]any)
		if len(attempts) != 2 || attempts[1].(map[string]any)["trigger"] != "manual" {
			t.Errorf("attempts after retry = %v", attempts)
		}
	})
}

func TestAdminAPIRecover(t *testing.T) {
	forEachDB(t, func(t *testing.T, open opener) {
		e := newEnvOn(t, open(t))
		rc := webhookstest.NewReceiver(t, webhookstest.Status(410))
		w := e.hook(rc.URL, []string{content.EventCreate})
		e.record(e.s, entry(content.EventCreate))
		e.runDue()
		app := e.app()
		path := fmt.Sprintf("/admin/webhooks/%d/recover", w.ID)

		tests := []struct {
			body       any
			wantStatus int
			want       string
		}{
			{map[string]any{}, 400, "since is required"},
			{map[string]any{"since": "last week"}, 400, "RFC 3339"},
			{map[string]any{"since": "2025-03-01T12:00:00Z", "all": true}, 400, "Unknown field all"},
			{map[string]any{"since": "2025-03-01T13:00:00Z"}, 202, "map[requeued:0]"},
			{map[string]any{"since": "2025-03-01T11:00:00Z"}, 202, "map[requeued:1]"},
		}
		for _, tt := range tests {
			status, body := e.call(app, "POST", path, tt.body)
			got := fmt.Sprint(body)
			if status != tt.wantStatus || !strings.Contains(got, tt.want) {
				t.Errorf("recover %v: %d %s; want %d %s", tt.body, status, got, tt.wantStatus, tt.want)
			}
		}
	})
}
