package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-cms/herald/web/webtest"
	"github.com/herald-cms/herald/webhooks/signature"
	"github.com/herald-cms/herald/webhooks/webhookstest"
)

func TestContentChangesReachWebhooksSigned(t *testing.T) {
	s, admin, full, _ := setup(t)
	rcv := webhookstest.NewReceiver(t, webhookstest.Status(http.StatusNoContent))
	other := webhookstest.NewReceiver(t, webhookstest.Status(http.StatusNoContent))

	r := s.Must(201, "POST", "/admin/webhooks", map[string]any{
		"name": "site rebuild", "url": rcv.URL + "/hook",
		"headers": map[string]string{"X-Site": "blog"},
		"events":  []string{"entry.create", "entry.publish"},
	}, admin)
	hook := dataOf(t, r)
	secret := hook["secret"].(string)
	if !strings.HasPrefix(secret, "whsec_") || hook["state"] != "enabled" {
		t.Fatalf("webhook: %s", r.Body)
	}
	// This one only wants another content type: it must get nothing.
	otherHook := dataOf(t, s.Must(201, "POST", "/admin/webhooks", map[string]any{
		"name": "other", "url": other.URL, "events": []string{"entry.create"},
		"contentTypes": []string{"api::page.page"},
	}, admin))

	doc := dataOf(t, s.Must(201, "POST", "/api/articles", `{"data":{"title":"Signed"}}`, full))
	rcv.WaitCount(t, 2, 10*time.Second)
	got := rcv.Requests()

	events := map[string]map[string]any{}
	for _, d := range got {
		v := signature.Verifier{Secrets: []string{secret}}
		if err := v.Verify(d.Header, d.Body); err != nil {
			t.Fatalf("signature does not verify: %v", err)
		}
		if d.Header.Get("X-Site") != "blog" || d.Header.Get("Content-Type") != "application/json" ||
			!strings.HasPrefix(d.Header.Get("User-Agent"), "Herald/") {
			t.Fatalf("request headers: %v", d.Header)
		}
		var payload map[string]any
		if err := json.Unmarshal(d.Body, &payload); err != nil {
			t.Fatal(err)
		}
		if payload["event"] != d.Header.Get("X-Strapi-Event") {
			t.Fatalf("X-Strapi-Event %q for %v", d.Header.Get("X-Strapi-Event"), payload["event"])
		}
		events[payload["event"].(string)] = payload
	}
	pub := events["entry.publish"]
	if pub == nil || events["entry.create"] == nil {
		t.Fatalf("events: %v", events)
	}
	if pub["model"] != "article" || pub["uid"] != "api::article.article" || pub["createdAt"] == nil {
		t.Fatalf("payload shape: %v", pub)
	}
	entry := pub["entry"].(map[string]any)
	if entry["documentId"] != doc["documentId"] || entry["title"] != "Signed" {
		t.Fatalf("entry in payload: %v", entry)
	}

	// The delivery log shows both, succeeded.
	var log struct {
		Data []map[string]any `json:"data"`
		Meta map[string]any   `json:"meta"`
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.Must(200, "GET", fmt.Sprintf("/admin/webhooks/%v/deliveries", hook["id"]), nil, admin).JSON(t, &log)
		done := len(log.Data) == 2
		for _, d := range log.Data {
			done = done && d["status"] == "succeeded"
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery log: %v", log.Data)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Deliveries are chosen when the change commits, so the other webhook's
	// log is already final: it must hold nothing.
	var otherLog struct {
		Data []map[string]any `json:"data"`
	}
	s.Must(200, "GET", fmt.Sprintf("/admin/webhooks/%v/deliveries", otherHook["id"]), nil, admin).
		JSON(t, &otherLog)
	if len(otherLog.Data) != 0 || other.Count() != 0 {
		t.Fatalf("webhook for another content type got deliveries: %v", otherLog.Data)
	}
}

func TestOneLogLinePerRequestNamesThePrincipal(t *testing.T) {
	var buf lockedBuffer
	s := webtest.Start(t, webtest.Options{Log: &buf})
	admin := s.RegisterAdmin()
	s.Must(200, "GET", "/admin/content-types", nil, admin)
	s.Must(404, "GET", "/nowhere", nil, "")
	lines := buf.lines("msg=request")
	if len(lines) != 3 {
		t.Fatalf("%d request lines for 3 requests:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	if !strings.Contains(lines[1], "principal=admin:ada@example.com") ||
		!strings.Contains(lines[1], "status=200") || !strings.Contains(lines[1], "duration_ms=") {
		t.Fatalf("admin request line: %s", lines[1])
	}
	if !strings.Contains(lines[2], "level=WARN") || !strings.Contains(lines[2], "status=404") {
		t.Fatalf("404 line: %s", lines[2])
	}
	if strings.Contains(buf.String(), "correct horse battery") || strings.Contains(buf.String(), admin) {
		t.Fatal("a password or token reached the log")
	}
}

// lockedBuffer is a log sink safe for the server's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *lockedBuffer) lines(containing string) []string {
	var out []string
	for _, l := range strings.Split(b.String(), "\n") {
		if strings.Contains(l, containing) {
			out = append(out, l)
		}
	}
	return out
}
