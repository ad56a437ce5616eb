// Package web is Herald's HTTP server: the Fiber app, its middleware, the
// error envelope, the route table with each route's permission, health and
// metrics.
package web

import (
	"crypto/subtle"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"

	"github.com/herald-cms/herald/admin"
	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/content/media"
	"github.com/herald-cms/herald/webhooks"
)

// Deps is everything the server serves.
type Deps struct {
	Content  *content.Service
	Admin    *admin.Service
	Webhooks *webhooks.Service
	// Media is the media library (the upload API and /uploads).
	Media  *media.Service
	Logger *slog.Logger
	// BodyLimit caps JSON bodies; UploadLimit caps uploads (the server's
	// global limit is the larger of the two).
	BodyLimit   int64
	UploadLimit int64
	// MetricsToken turns /metrics on, guarded by it as a bearer token.
	MetricsToken string
	// Registry holds the metrics /metrics serves.
	Registry *prometheus.Registry
	// TrustedProxies are the proxies whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// CORSOrigins may call the content API from a browser; "*" is any
	// origin; none by default.
	CORSOrigins []string
}

// Local keys set on each request.
const (
	localActor = "herald.actor"
	localError = "herald.error"
)

// New builds the Fiber app serving Herald.
func New(d Deps) *fiber.App {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.BodyLimit <= 0 {
		d.BodyLimit = DefaultBodyLimit
	}
	limit := d.BodyLimit
	if d.UploadLimit > limit {
		limit = d.UploadLimit
	}
	cfg := fiber.Config{
		AppName:               "Herald",
		ErrorHandler:          errorHandler(d.Logger),
		BodyLimit:             int(limit),
		UnescapePath:          true,
		DisableStartupMessage: true,
		ReadTimeout:           60 * time.Second,
		IdleTimeout:           120 * time.Second,
	}
	if len(d.TrustedProxies) > 0 {
		cfg.EnableTrustedProxyCheck = true
		cfg.ProxyHeader = fiber.HeaderXForwardedFor
		for _, p := range d.TrustedProxies {
			cfg.TrustedProxies = append(cfg.TrustedProxies, p.String())
		}
	}
	app := fiber.New(cfg)
	app.Use(clientAddress(d.TrustedProxies), requestLog(d.Logger), securityHeaders, compression())
	app.Use("/api", cors(d.CORSOrigins))
	for _, r := range routes(d) {
		app.Add(r.method, r.path, r.chain(d)...)
	}
	app.Use(func(c *fiber.Ctx) error {
		return content.Errorf(content.ENOTFOUND, "Not Found")
	})
	return app
}

// requestLog writes exactly one line per request: 5xx at Error, 4xx at Warn.
func requestLog(log *slog.Logger) fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		err := c.Next()
		if err != nil {
			if herr := c.App().ErrorHandler(c, err); herr != nil {
				c.Status(fiber.StatusInternalServerError)
			}
		}
		status := c.Response().StatusCode()
		level := slog.LevelInfo
		switch {
		case status >= 500:
			level = slog.LevelError
		case status >= 400:
			level = slog.LevelWarn
		}
		principal := "anonymous"
		if a, ok := c.Locals(localActor).(content.Actor); ok {
			principal = string(a.Kind) + ":" + a.Name
		}
		attrs := []slog.Attr{
			slog.String("method", c.Method()),
			slog.String("path", c.Path()),
			slog.Int("status", status),
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			slog.String("principal", principal),
			slog.String("ip", c.IP()),
		}
		if msg, ok := c.Locals(localError).(string); ok && status >= 400 {
			attrs = append(attrs, slog.String("error", msg))
		}
		log.LogAttrs(c.UserContext(), level, "request", attrs...)
		return nil
	}
}

// jsonBodyLimit refuses JSON bodies over limit with 413.
func jsonBodyLimit(limit int64) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if int64(len(c.Body())) > limit || int64(c.Request().Header.ContentLength()) > limit {
			return content.Errorf(content.ETOOLARGE,
				"Request body is larger than the limit of %d bytes", limit)
		}
		return c.Next()
	}
}

func health(c *fiber.Ctx) error {
	return c.SendStatus(fiber.StatusNoContent)
}

// metrics serves Prometheus metrics to holders of the metrics token.
func metrics(d Deps) fiber.Handler {
	h := fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(d.Registry, promhttp.HandlerOpts{}))
	return func(c *fiber.Ctx) error {
		if d.MetricsToken == "" || d.Registry == nil {
			return content.Errorf(content.ENOTFOUND, "Not Found")
		}
		got := strings.TrimPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
		if subtle.ConstantTimeCompare([]byte(got), []byte(d.MetricsToken)) != 1 {
			return content.Errorf(content.EUNAUTHORIZED, "Missing or invalid credentials")
		}
		h(c.Context())
		return nil
	}
}
