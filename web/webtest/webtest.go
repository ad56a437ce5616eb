// Package webtest starts a whole Herald on a temporary database for tests and
// talks to it over HTTP.
package webtest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-cms/herald/admin"
	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/content/contenttest"
	"github.com/herald-cms/herald/web"
	"github.com/herald-cms/herald/webhooks"
)

// Options adjusts the Herald a test starts.
type Options struct {
	// DB is the database to use; a fresh SQLite file when nil.
	DB *content.DB
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Webhooks overrides webhook settings (retry schedule, timeouts).
	Webhooks webhooks.Config
	// BodyLimit overrides the JSON body limit.
	BodyLimit int64
	// UploadLimit overrides the media library's file size limit.
	UploadLimit int64
	// UploadDir holds uploaded files; a temporary directory when empty.
	UploadDir string
	// Log receives the server's log lines; discarded when nil.
	Log io.Writer
	// NoStart leaves the webhook dispatcher stopped.
	NoStart bool
	// PublicRegistration lets anyone sign up as an end user.
	PublicRegistration bool
	// CORSOrigins may call the content API from a browser.
	CORSOrigins []string
	// TrustedProxies are believed about X-Forwarded-For.
	TrustedProxies []netip.Prefix
	// Limits overrides the sign-in and registration rate limits.
	Limits admin.Limits
}

// JWTSecret signs the JWTs of the Herald Start starts; tests use it to forge
// tokens that are right in every way but one.
var JWTSecret = []byte("test-jwt-secret-0123456789abcdef0123456789")

// Server is a running Herald under test.
type Server struct {
	*web.Herald
	tb testing.TB
	// URL is the base URL of a real HTTP listener serving the app.
	URL string
}

// Start assembles Herald on a migrated database, with loopback open to
// webhooks, and shuts it down when the test ends.
func Start(tb testing.TB, o Options) *Server {
	tb.Helper()
	db := o.DB
	if db == nil {
		db = contenttest.OpenDB(tb)
	}
	logOut := o.Log
	if logOut == nil {
		logOut = io.Discard
	}
	uploads := o.UploadDir
	if uploads == "" {
		uploads = tb.TempDir()
	}
	opts := web.Options{
		Logger:          slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Version:         "test",
		JWTSecret:       JWTSecret,
		TokenSalt:       []byte("test-token-salt-0123456789abcdef0123456789"),
		BodyLimit:       o.BodyLimit,
		UploadLimit:     o.UploadLimit,
		UploadDir:       uploads,
		AllowedNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		Webhooks:        o.Webhooks,
		Now:             o.Now,
		BcryptCost:      4,

		PublicRegistration: o.PublicRegistration,
		CORSOrigins:        o.CORSOrigins,
		TrustedProxies:     o.TrustedProxies,
		Limits:             o.Limits,
	}
	h, err := web.Assemble(context.Background(), db, opts)
	if err != nil {
		tb.Fatalf("assemble herald: %v", err)
	}
	if !o.NoStart {
		if err := h.Start(context.Background()); err != nil {
			tb.Fatalf("start herald: %v", err)
		}
	}
	srv := &Server{Herald: h, tb: tb}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	srv.URL = "http://" + l.Addr().String()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		h.App.Listener(l)
	}()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.Shutdown(ctx); err != nil {
			tb.Logf("shutdown: %v", err)
		}
		wg.Wait()
	})
	return srv
}

// Response is an HTTP answer read whole.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test when it is not JSON.
func (r *Response) JSON(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		tb.Fatalf("decode response %d %q: %v", r.Status, r.Body, err)
	}
}

// Map decodes the body as a JSON object.
func (r *Response) Map(tb testing.TB) map[string]any {
	tb.Helper()
	var m map[string]any
	r.JSON(tb, &m)
	return m
}

// Do sends a request with an optional JSON body (a string or []byte is sent
// as it is; anything else is marshalled) and bearer token.
func (s *Server) Do(method, path string, body any, token string) *Response {
	s.tb.Helper()
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	return s.Send(method, path, body, h)
}

// client sends the requests of Do and Send. It follows no redirect: a
// test sees the redirect itself.
var client = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// Send is Do with the request's headers given whole.
func (s *Server) Send(method, path string, body any, header http.Header) *Response {
	s.tb.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			s.tb.Fatalf("marshal body: %v", err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		s.tb.Fatalf("new request: %v", err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		s.tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		s.tb.Fatalf("read %s %s: %v", method, path, err)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: data}
}

// Must sends a request and fails the test unless the status is want.
func (s *Server) Must(want int, method, path string, body any, token string) *Response {
	s.tb.Helper()
	r := s.Do(method, path, body, token)
	if r.Status != want {
		s.tb.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, r.Body)
	}
	return r
}

// RegisterAdmin registers the first administrator and returns its token.
func (s *Server) RegisterAdmin() string {
	s.tb.Helper()
	r := s.Must(201, "POST", "/admin/register-admin", map[string]any{
		"firstname": "Ada", "lastname": "Admin", "email": "ada@example.com",
		"password": "correct horse battery",
	}, "")
	var out struct {
		Data struct {
			Token string `json:"token"`
		} `json:"data"`
	}
	r.JSON(s.tb, &out)
	return out.Data.Token
}

// CreateToken creates an API token of the given type and returns its key.
func (s *Server) CreateToken(adminToken, name, typ string) string {
	s.tb.Helper()
	r := s.Must(201, "POST", "/admin/api-tokens", map[string]any{
		"name": name, "type": typ, "lifespan": nil,
	}, adminToken)
	var out struct {
		Data struct {
			AccessKey string `json:"accessKey"`
		} `json:"data"`
	}
	r.JSON(s.tb, &out)
	return out.Data.AccessKey
}

// CreateType creates a content type from a schema.json document.
func (s *Server) CreateType(adminToken string, schemaJSON string) {
	s.tb.Helper()
	s.Must(201, "POST", "/admin/content-types", schemaJSON, adminToken)
}
