package listen_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-cms/herald/webhooks/listen"
	"github.com/herald-cms/herald/webhooks/signature"
)

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

var clock = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// syncBuffer is an io.Writer safe to read while the server writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type delivery struct {
	method    string
	id        string
	event     string
	signedAt  time.Time
	body      string
	secret    string // signing secret; empty means the receiver's
	signature string // overrides the computed signature when set
	omit      string // a header to leave out
}

func (d delivery) send(tb testing.TB, url string) (int, string) {
	tb.Helper()
	method := d.method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequest(method, url, strings.NewReader(d.body))
	if err != nil {
		tb.Fatal(err)
	}
	key := d.secret
	if key == "" {
		key = secret
	}
	sig := d.signature
	if sig == "" {
		sig, err = signature.Sign(key, d.id, d.signedAt, []byte(d.body))
		if err != nil {
			tb.Fatal(err)
		}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(listen.HeaderEvent, d.event)
	req.Header.Set(signature.HeaderID, d.id)
	req.Header.Set(signature.HeaderTimestamp, strconv.FormatInt(d.signedAt.Unix(), 10))
	req.Header.Set(signature.HeaderSignature, sig)
	if d.omit != "" {
		req.Header.Del(d.omit)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func TestValidDeliveryIsAcceptedAndPrinted(t *testing.T) {
	var out syncBuffer
	srv := httptest.NewServer(listen.Handler(secret, &out, func() time.Time { return clock }))
	defer srv.Close()

	d := delivery{
		id:       "evt_0123",
		event:    "entry.publish",
		signedAt: clock.Add(-10 * time.Second),
		body:     `{"event":"entry.publish","model":"article","entry":{"title":"Hello"}}`,
	}
	status, _ := d.send(t, srv.URL)
	if status != http.StatusOK {
		t.Fatalf("status %d, want 200", status)
	}
	want := "2025-03-01T12:00:00Z  entry.publish  webhook-id=evt_0123\n" +
		"{\n" +
		"  \"event\": \"entry.publish\",\n" +
		"  \"model\": \"article\",\n" +
		"  \"entry\": {\n" +
		"    \"title\": \"Hello\"\n" +
		"  }\n" +
		"}\n\n"
	if got := out.String(); got != want {
		t.Fatalf("printed:\n%s\nwant:\n%s", got, want)
	}
}

func TestNonJSONBodyIsPrintedAsIs(t *testing.T) {
	var out syncBuffer
	srv := httptest.NewServer(listen.Handler(secret, &out, func() time.Time { return clock }))
	defer srv.Close()

	d := delivery{id: "evt_1", event: "trigger-test", signedAt: clock, body: "plain text"}
	if status, _ := d.send(t, srv.URL); status != http.StatusOK {
		t.Fatalf("status %d, want 200", status)
	}
	if got := out.String(); !strings.Contains(got, "(body is not JSON)\nplain text\n") {
		t.Fatalf("printed %q", got)
	}
}

func TestInvalidDeliveriesAreRefused(t *testing.T) {
	other, err := signature.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	valid := delivery{id: "evt_2", event: "entry.update", signedAt: clock, body: `{"a":1}`}
	with := func(change func(*delivery)) delivery {
		d := valid
		change(&d)
		return d
	}

	tests := []struct {
		name    string
		d       delivery
		status  int
		reason  string // in the response body
		printed string // in the printed line
	}{
		{
			name:    "wrong secret",
			d:       with(func(d *delivery) { d.secret = other }),
			status:  http.StatusUnauthorized,
			reason:  "signature does not match",
			printed: "REJECTED 401  webhook-id=evt_2",
		},
		{
			name:    "tampered signature",
			d:       with(func(d *delivery) { d.signature = "v1,AAAA" }),
			status:  http.StatusUnauthorized,
			reason:  "signature does not match",
			printed: "signature does not match",
		},
		{
			name:    "stale",
			d:       with(func(d *delivery) { d.signedAt = clock.Add(-time.Hour) }),
			status:  http.StatusUnauthorized,
			reason:  "timestamp",
			printed: "signed 1h0m0s ago",
		},
		{
			name:    "missing signature",
			d:       with(func(d *delivery) { d.omit = signature.HeaderSignature }),
			status:  http.StatusUnauthorized,
			reason:  "missing webhook-id, webhook-timestamp or webhook-signature",
			printed: "REJECTED 401",
		},
		{
			name:    "missing id",
			d:       with(func(d *delivery) { d.omit = signature.HeaderID }),
			status:  http.StatusUnauthorized,
			reason:  "missing",
			printed: "webhook-id=(none)",
		},
		{
			name:   "GET",
			d:      with(func(d *delivery) { d.method = http.MethodGet }),
			status: http.StatusMethodNotAllowed,
			reason: "method not allowed",
		},
		{
			name:    "too large",
			d:       with(func(d *delivery) { d.body = strings.Repeat("x", listen.MaxBody+1) }),
			status:  http.StatusRequestEntityTooLarge,
			reason:  "body larger than",
			printed: "REJECTED 413",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out syncBuffer
			h := listen.Handler(secret, &out, func() time.Time { return clock })
			srv := httptest.NewServer(h)
			defer srv.Close()

			status, body := tt.d.send(t, srv.URL)
			if status != tt.status {
				t.Fatalf("status %d, want %d (body %q)", status, tt.status, body)
			}
			if !strings.Contains(body, tt.reason) {
				t.Errorf("body %q does not contain %q", body, tt.reason)
			}
			printed := out.String()
			if tt.printed == "" {
				if printed != "" {
					t.Errorf("printed %q, want nothing", printed)
				}
				return
			}
			if !strings.Contains(printed, tt.printed) {
				t.Errorf("printed %q, want it to contain %q", printed, tt.printed)
			}
			if strings.Count(printed, "\n") != 1 {
				t.Errorf("printed %q, want exactly one line", printed)
			}
			if strings.Contains(printed, "\x1b") {
				t.Errorf("printed an escape character: %q", printed)
			}
		})
	}
}

func TestBodyAtLimitIsAccepted(t *testing.T) {
	var out syncBuffer
	srv := httptest.NewServer(listen.Handler(secret, &out, func() time.Time { return clock }))
	defer srv.Close()

	body := `"` + strings.Repeat("x", listen.MaxBody-2) + `"`
	d := delivery{id: "evt_3", event: "entry.create", signedAt: clock, body: body}
	if status, _ := d.send(t, srv.URL); status != http.StatusOK {
		t.Fatalf("status %d for a body of exactly %d bytes, want 200", status, len(body))
	}
}

func TestInvalidSecretIsAServerError(t *testing.T) {
	var out syncBuffer
	srv := httptest.NewServer(listen.Handler("whsec_???", &out, func() time.Time { return clock }))
	defer srv.Close()

	d := delivery{id: "evt_4", event: "entry.create", signedAt: clock, body: "{}"}
	status, body := d.send(t, srv.URL)
	if status != http.StatusInternalServerError || !strings.Contains(body, "secret") {
		t.Fatalf("status %d body %q, want 500 about the secret", status, body)
	}
	if strings.Contains(out.String(), "???") {
		t.Errorf("printed the secret: %q", out.String())
	}
}

func TestUnverifiedHeadersCannotControlTheTerminal(t *testing.T) {
	var out syncBuffer
	h := listen.Handler(secret, &out, func() time.Time { return clock })

	// Go's client refuses to send control characters, other senders do not.
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("{}"))
	req.Header.Set(signature.HeaderID, "evt\x1b[2J"+strings.Repeat("y", 500))
	req.Header.Set(signature.HeaderTimestamp, strconv.FormatInt(clock.Unix(), 10))
	req.Header.Set(signature.HeaderSignature, "v1,AAAA")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)

	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", rec.Code)
	}
	printed := out.String()
	if strings.Contains(printed, "\x1b") || !strings.Contains(printed, "webhook-id=evt?[2J") {
		t.Errorf("printed %q", printed)
	}
	if len(printed) > 300 {
		t.Errorf("printed %d bytes for a long id, want it cut short", len(printed))
	}
}
