package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/crypto/bcrypt"

	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/content/contenttest"
)

var (
	testJWTSecret = []byte("0123456789abcdef0123456789abcdef-test-jwt")
	testTokenSalt = []byte("test-token-salt-0123456789")
)

// testClock is a clock the tests move by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
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

type harness struct {
	t     testing.TB
	db    *content.DB
	svc   *Service
	clock *testClock
	logs  *syncBuffer
	app   *fiber.App
}

// newHarness is newHarnessOn a fresh SQLite database.
func newHarness(t testing.TB) *harness {
	t.Helper()
	return newHarnessOn(t, contenttest.OpenDB(t))
}

// eachDialect runs fn with a harness on SQLite, then on PostgreSQL (which
// contenttest skips unless HERALD_TEST_POSTGRES_URL is set).
func eachDialect(t *testing.T, fn func(t *testing.T, h *harness)) {
	contenttest.Dialects(t, func(t *testing.T, db *content.DB) {
		fn(t, newHarnessOn(t, db))
	})
}

// newHarnessOn returns a Service on db with a hand-moved clock, logging at
// debug level into a buffer, and a Fiber app with the routes the web layer
// will register.
func newHarnessOn(t testing.TB, db *content.DB) *harness {
	t.Helper()
	h := &harness{
		t:     t,
		db:    db,
		clock: &testClock{t: time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)},
		logs:  &syncBuffer{},
	}
	logger := slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	svc, err := New(h.db, Config{
		JWTSecret:  testJWTSecret,
		TokenSalt:  testTokenSalt,
		BcryptCost: bcrypt.MinCost,
		Now:        h.clock.Now,
		Logger:     logger,
	})
	if err != nil {
		t.Fatalf("new service: %v", err)
	}
	h.svc = svc
	h.app = newTestApp(svc, logger)
	return h
}

// statusOf maps error codes to statuses as the web layer does.
var statusOf = map[content.ErrorCode]int{
	content.ENOTFOUND:     404,
	content.EINVALID:      400,
	content.EPAGINATION:   400,
	content.ECONFLICT:     409,
	content.EUNAUTHORIZED: 401,
	content.EFORBIDDEN:    403,
	content.ETOOLARGE:     413,
	content.ERATELIMITED:  429,
}

func newTestApp(svc *Service, logger *slog.Logger) *fiber.App {
	app := fiber.New(fiber.Config{ErrorHandler: func(c *fiber.Ctx, err error) error {
		var e *content.Error
		if !errors.As(err, &e) {
			logger.Error("internal error", "error", err)
			return c.Status(500).JSON(fiber.Map{"data": nil,
				"error": fiber.Map{"status": 500, "message": "Internal Server Error"}})
		}
		status := statusOf[e.Code]
		return c.Status(status).JSON(fiber.Map{"data": nil, "error": fiber.Map{
			"status": status, "message": e.Message, "details": e.Details}})
	}})

	adminAuth := func(c *fiber.Ctx) error {
		a, err := svc.AuthenticateAdmin(c.UserContext(), c.Get(fiber.HeaderAuthorization))
		if err != nil {
			return err
		}
		c.SetUserContext(content.WithActor(c.UserContext(), a))
		return c.Next()
	}
	apiAuth := func(c *fiber.Ctx) error {
		a, err := svc.AuthenticateAPI(c.UserContext(), c.Get(fiber.HeaderAuthorization))
		if err != nil {
			return err
		}
		c.SetUserContext(content.WithActor(c.UserContext(), a))
		return c.Next()
	}

	app.Post("/admin/register-admin", svc.RegisterAdmin)
	app.Post("/admin/login", svc.Login)
	app.Post("/admin/logout", adminAuth, svc.Logout)
	app.Get("/admin/whoami", adminAuth, whoami)
	app.Get("/admin/api-tokens", adminAuth, svc.ListTokens)
	app.Post("/admin/api-tokens", adminAuth, svc.CreateToken)
	app.Get("/admin/api-tokens/:id", adminAuth, svc.GetToken)
	app.Put("/admin/api-tokens/:id", adminAuth, svc.UpdateToken)
	app.Post("/admin/api-tokens/:id/regenerate", adminAuth, svc.RegenerateToken)
	app.Delete("/admin/api-tokens/:id", adminAuth, svc.DeleteToken)
	app.Get("/api/whoami", apiAuth, whoami)
	return app
}

func whoami(c *fiber.Ctx) error {
	a := content.ActorFrom(c.UserContext())
	return c.JSON(fiber.Map{"data": fiber.Map{"kind": a.Kind, "id": a.ID, "name": a.Name}})
}

type response struct {
	Status int
	Body   string
}

// decode unmarshals the body into v.
func (r response) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.Body), v); err != nil {
		t.Fatalf("decode %q: %v", r.Body, err)
	}
}

// errorMessage returns the envelope's error message.
func (r response) errorMessage(t testing.TB) string {
	t.Helper()
	var env struct {
		Error struct{ Message string } `json:"error"`
	}
	r.decode(t, &env)
	return env.Error.Message
}

// do sends a request with an optional JSON body and bearer token.
func (h *harness) do(method, path, token string, body any) response {
	h.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			h.t.Fatalf("encode body: %v", err)
		}
		r = bytes.NewReader(data)
	}
	req := httptest.NewRequest(method, path, r)
	if r != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := h.app.Test(req, -1)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		h.t.Fatalf("read body: %v", err)
	}
	return response{Status: res.StatusCode, Body: string(data)}
}

// mustStatus fails the test unless r has the wanted status.
func mustStatus(t testing.TB, r response, want int) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d; body %s", r.Status, want, r.Body)
	}
}

const firstPassword = "correct horse battery"

// registerFirst registers the first administrator over HTTP and returns
// its token.
func (h *harness) registerFirst() string {
	h.t.Helper()
	r := h.do("POST", "/admin/register-admin", "", map[string]string{
		"firstname": "Ada", "lastname": "Lovelace",
		"email": "Ada@Example.com", "password": firstPassword,
	})
	mustStatus(h.t, r, 201)
	var out struct {
		Data struct{ Token string } `json:"data"`
	}
	r.decode(h.t, &out)
	return out.Data.Token
}

// createAdmin creates an administrator with a role and signs it in.
func (h *harness) createAdmin(email, roleCode string) (User, string) {
	h.t.Helper()
	ctx := context.Background()
	u, err := h.svc.CreateAdmin(ctx, RegisterInput{
		Firstname: "Test", Email: email, Password: "password-" + email,
	}, roleCode)
	if err != nil {
		h.t.Fatalf("create admin %s: %v", email, err)
	}
	sess, err := h.svc.SignIn(ctx, email, "password-"+email)
	if err != nil {
		h.t.Fatalf("sign in %s: %v", email, err)
	}
	return u, sess.Token
}
