package webhooks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"gorm.io/gorm"

	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/content/contenttest"
	"github.com/herald-cms/herald/webhooks"
	"github.com/herald-cms/herald/webhooks/signature"
	"github.com/herald-cms/herald/webhooks/webhookstest"
)

// t0 is where every test's clock starts.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

var admin = content.Actor{
	Kind: content.ActorAdmin, ID: 1, Name: "admin@example.com", Policy: content.AllowAll,
}

// opener opens a fresh, migrated database for a test.
type opener func(testing.TB) *content.DB

// forEachDB runs a test on SQLite and, when HERALD_TEST_POSTGRES_URL is
// set, on PostgreSQL.
func forEachDB(t *testing.T, run func(t *testing.T, open opener)) {
	t.Run("sqlite", func(t *testing.T) { run(t, contenttest.OpenSQLite) })
	t.Run("postgres", func(t *testing.T) { run(t, contenttest.OpenPostgres) })
}

// env is a webhook service on a real database with a hand-moved clock.
type env struct {
	tb    testing.TB
	ctx   context.Context
	db    *content.DB
	clock *webhookstest.Clock
	logs  *syncBuffer
	s     *webhooks.Service
	opts  []func(*webhooks.Config)
}

// newEnv opens a fresh SQLite database and a service on it. The options
// change the config after the test defaults: fake clock, no jitter,
// loopback allowed, logs captured.
func newEnv(tb testing.TB, opts ...func(*webhooks.Config)) *env {
	tb.Helper()
	return newEnvOn(tb, contenttest.OpenDB(tb), opts...)
}

func newEnvOn(tb testing.TB, db *content.DB, opts ...func(*webhooks.Config)) *env {
	tb.Helper()
	e := &env{
		tb: tb, ctx: content.WithActor(context.Background(), admin), db: db,
		clock: webhookstest.NewClock(t0), logs: &syncBuffer{}, opts: opts,
	}
	e.s = e.service(db, "instance-a")
	return e
}

// service returns a new service on db sharing the env's clock, logs and
// options.
func (e *env) service(db *content.DB, instance string) *webhooks.Service {
	e.tb.Helper()
	cfg := webhooks.Config{
		Guard:      webhookstest.LoopbackGuard(),
		Now:        e.clock.Now,
		Jitter:     func() float64 { return 0 },
		Logger:     slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Version:    "1.2.3",
		InstanceID: instance,
		Timeout:    5 * time.Second,
	}
	for _, o := range e.opts {
		o(&cfg)
	}
	s, err := webhooks.New(db, cfg)
	if err != nil {
		e.tb.Fatalf("new webhook service: %v", err)
	}
	return s
}

// start starts the dispatcher and stops it when the test ends.
func (e *env) start(s *webhooks.Service) {
	e.tb.Helper()
	if err := s.Start(e.ctx); err != nil {
		e.tb.Fatal(err)
	}
	e.tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		s.Stop(ctx)
	})
}

// hook creates a webhook sending events to url.
func (e *env) hook(url string, events []string, mods ...func(*webhooks.WebhookInput)) *webhooks.Webhook {
	e.tb.Helper()
	name := "hook"
	in := webhooks.WebhookInput{Name: &name, URL: &url, Events: &events}
	for _, m := range mods {
		m(&in)
	}
	w, err := e.s.CreateWebhook(e.ctx, in)
	if err != nil {
		e.tb.Fatalf("create webhook: %v", err)
	}
	return w
}

func withTypes(uids ...string) func(*webhooks.WebhookInput) {
	return func(in *webhooks.WebhookInput) { in.ContentTypes = &uids }
}

func withHeaders(h map[string]string) func(*webhooks.WebhookInput) {
	return func(in *webhooks.WebhookInput) { in.Headers = &h }
}

// record writes events the way the content service does: inside a
// committed transaction, then Committed.
func (e *env) record(s *webhooks.Service, events ...content.Event) {
	e.tb.Helper()
	err := e.db.Write.WithContext(e.ctx).Transaction(func(tx *gorm.DB) error {
		return s.Record(e.ctx, tx, events)
	})
	if err != nil {
		e.tb.Fatalf("record: %v", err)
	}
	s.Committed(e.ctx)
}

// runDue sends everything due at the clock's time and returns how many
// attempts were made.
func (e *env) runDue() int {
	e.tb.Helper()
	n, err := e.s.RunDue(e.ctx)
	if err != nil {
		e.tb.Fatalf("run due deliveries: %v", err)
	}
	return n
}

func (e *env) deliveries(hookID int64) []webhooks.Delivery {
	e.tb.Helper()
	page := webhooks.DefaultPage
	page.PageSize = 100
	list, _, err := e.s.Deliveries(e.ctx, hookID, webhooks.DeliveryFilter{}, page)
	if err != nil {
		e.tb.Fatal(err)
	}
	return list
}

func (e *env) delivery(id int64) *webhooks.Delivery {
	e.tb.Helper()
	d, err := e.s.Delivery(e.ctx, id)
	if err != nil {
		e.tb.Fatal(err)
	}
	return d
}

// only returns the single delivery of a webhook.
func (e *env) only(hookID int64) *webhooks.Delivery {
	e.tb.Helper()
	list := e.deliveries(hookID)
	if len(list) != 1 {
		e.tb.Fatalf("webhook %d has %d deliveries, want 1", hookID, len(list))
	}
	return e.delivery(list[0].ID)
}

func (e *env) count(table string) int64 {
	e.tb.Helper()
	var n int64
	if err := e.db.Read.Table(table).Count(&n).Error; err != nil {
		e.tb.Fatal(err)
	}
	return n
}

var eventSeq atomic.Int64

// entry returns an entry event of an article (or of uid when given).
func entry(name string, uid ...string) content.Event {
	seq := eventSeq.Add(1)
	ev := content.Event{
		ID:         fmt.Sprintf("msg_test%06d", seq),
		Name:       name,
		CreatedAt:  t0,
		UID:        "api::article.article",
		Model:      "article",
		DocumentID: fmt.Sprintf("doc%06d", seq),
		Entry:      json.RawMessage(`{"id":1,"documentId":"doc","title":"Hello"}`),
	}
	if len(uid) > 0 {
		ev.UID = uid[0]
		ev.Model = uid[0][strings.LastIndex(uid[0], ".")+1:]
	}
	return ev
}

// verify checks a request's signature against secrets as a receiver would
// have when it arrived: at the time of its own webhook-timestamp, which
// tests check separately.
func (e *env) verify(r webhookstest.Request, secrets ...string) error {
	sent, err := strconv.ParseInt(r.Header.Get("webhook-timestamp"), 10, 64)
	if err != nil {
		return err
	}
	v := signature.Verifier{Secrets: secrets, Now: func() time.Time { return time.Unix(sent, 0) }}
	return v.Verify(r.Header, r.Body)
}

// syncBuffer is a log sink safe for concurrent writes.
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

// app is a Fiber app serving the webhooks admin API as the web layer
// would: an administrator in the user context and Strapi's error envelope.
func (e *env) app() *fiber.App {
	app := fiber.New(fiber.Config{ErrorHandler: errorEnvelope})
	app.Use(func(c *fiber.Ctx) error {
		c.SetUserContext(content.WithActor(c.UserContext(), admin))
		return c.Next()
	})
	for _, r := range e.s.API().Routes() {
		app.Add(r.Method, r.Path, r.Handler)
	}
	return app
}

var errorStatus = map[content.ErrorCode]int{
	content.ENOTFOUND: 404, content.EINVALID: 400, content.EPAGINATION: 400,
	content.ECONFLICT: 409, content.EUNAUTHORIZED: 401, content.EFORBIDDEN: 403,
}

func errorEnvelope(c *fiber.Ctx, err error) error {
	var ce *content.Error
	if !errors.As(err, &ce) {
		return c.Status(500).JSON(fiber.Map{"data": nil, "error": fiber.Map{
			"status": 500, "name": "InternalServerError", "message": err.Error()}})
	}
	status := errorStatus[ce.Code]
	details := ce.Details
	if details == nil {
		details = fiber.Map{}
	}
	return c.Status(status).JSON(fiber.Map{"data": nil, "error": fiber.Map{
		"status": status, "name": string(ce.Code), "message": ce.Message, "details": details}})
}

// call sends a request to the admin API and decodes the JSON answer.
func (e *env) call(app *fiber.App, method, path string, body any) (int, map[string]any) {
	e.tb.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.tb.Fatal(err)
		}
		r = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, r)
	req.Header.Set("Content-Type", "application/json")
	resp, err := app.Test(req, -1)
	if err != nil {
		e.tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			e.tb.Fatalf("%s %s: answer is not JSON: %s", method, path, raw)
		}
	}
	return resp.StatusCode, out
}

// respondSequence answers the n-th request with codes[n-1], and the last
// code after that.
func respondSequence(codes ...int) webhookstest.Responder {
	return func(w http.ResponseWriter, _ *http.Request, n int) {
		w.WriteHeader(codes[min(n, len(codes))-1])
	}
}
