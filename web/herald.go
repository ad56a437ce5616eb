package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/herald-cms/herald/admin"
	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/content/media"
	"github.com/herald-cms/herald/webhooks"
	"github.com/herald-cms/herald/webhooks/ssrf"
)

// The default body limits, as HERALD_BODY_LIMIT and HERALD_UPLOAD_LIMIT.
const (
	DefaultBodyLimit   = 1 << 20
	DefaultUploadLimit = 50 << 20
)

// Options configures a whole Herald on an open, migrated database.
type Options struct {
	Logger      *slog.Logger
	Version     string
	JWTSecret   []byte
	TokenSalt   []byte
	SessionTTL  time.Duration
	BodyLimit   int64
	UploadLimit int64
	// UploadDir holds the media library's files (<data>/uploads); several
	// instances must share it. "data/uploads" when empty.
	UploadDir string

	MetricsToken   string
	TrustedProxies []netip.Prefix
	// CORSOrigins may call the content API from a browser (HERALD_CORS_ORIGINS).
	CORSOrigins []string
	// PublicRegistration lets anyone sign up as an end user
	// (HERALD_PUBLIC_REGISTRATION).
	PublicRegistration bool
	// UserTokenTTL is how long an end user's JWT lasts; 30 days when zero.
	UserTokenTTL time.Duration
	// Limits bounds sign-in and registration attempts; zero fields take
	// admin.DefaultLimits.
	Limits admin.Limits

	Webhooks webhooks.Config
	// AllowedNetworks opens address ranges to webhooks (SSRF rule).
	AllowedNetworks []netip.Prefix
	// Resolver overrides DNS for webhook URLs (tests).
	Resolver ssrf.Resolver
	// Now is the clock shared by every part; time.Now when nil.
	Now func() time.Time
	// BcryptCost overrides the password hashing cost (tests use the minimum).
	BcryptCost int
}

// Herald is every part of a running Herald, wired together.
type Herald struct {
	DB       *content.DB
	Content  *content.Service
	Admin    *admin.Service
	Webhooks *webhooks.Service
	Media    *media.Service
	App      *fiber.App
	Registry *prometheus.Registry
}

// Assemble builds Herald's services and HTTP app on db. Call Start to begin
// delivering webhooks and Shutdown to stop.
func Assemble(ctx context.Context, db *content.DB, o Options) (*Herald, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	// The server's own body limit is the larger of the two: with the upload
	// limit unset it would cut JSON bodies off at the socket instead of
	// answering 413 from the JSON limit.
	if o.BodyLimit <= 0 {
		o.BodyLimit = DefaultBodyLimit
	}
	if o.UploadLimit <= 0 {
		o.UploadLimit = DefaultUploadLimit
	}
	wcfg := o.Webhooks
	wcfg.Guard = &ssrf.Guard{Allowed: o.AllowedNetworks, Resolver: o.Resolver}
	wcfg.Logger = o.Logger
	wcfg.Version = o.Version
	if wcfg.Now == nil {
		wcfg.Now = o.Now
	}
	hooks, err := webhooks.New(db, wcfg)
	if err != nil {
		return nil, fmt.Errorf("webhooks: %w", err)
	}
	cs, err := content.NewService(ctx, db, content.Config{Events: hooks, Now: o.Now, Logger: o.Logger})
	if err != nil {
		return nil, fmt.Errorf("content: %w", err)
	}
	as, err := admin.New(db, admin.Config{
		JWTSecret: o.JWTSecret, TokenSalt: o.TokenSalt, SessionTTL: o.SessionTTL,
		UserTokenTTL: o.UserTokenTTL, PublicRegistration: o.PublicRegistration,
		Limits: o.Limits, Now: o.Now, Logger: o.Logger, BcryptCost: o.BcryptCost,
		TypeExists: func(uid string) bool {
			_, err := cs.TypeByUID(uid)
			return err == nil
		},
	})
	if err != nil {
		return nil, fmt.Errorf("admin: %w", err)
	}
	if o.UploadDir == "" {
		o.UploadDir = filepath.Join("data", "uploads")
	}
	ms, err := media.New(db, media.Config{Storage: media.Dir{Path: o.UploadDir}, Events: hooks,
		Limit: o.UploadLimit, Now: o.Now, Logger: o.Logger})
	if err != nil {
		return nil, fmt.Errorf("media: %w", err)
	}
	reg := prometheus.NewRegistry()
	for _, c := range hooks.Collectors() {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	app := New(Deps{
		Content: cs, Admin: as, Webhooks: hooks, Media: ms, Logger: o.Logger,
		BodyLimit: o.BodyLimit, UploadLimit: o.UploadLimit,
		MetricsToken: o.MetricsToken, Registry: reg, TrustedProxies: o.TrustedProxies,
		CORSOrigins: o.CORSOrigins,
	})
	return &Herald{DB: db, Content: cs, Admin: as, Webhooks: hooks, Media: ms, App: app,
		Registry: reg}, nil
}

// Start begins webhook delivery.
func (h *Herald) Start(ctx context.Context) error {
	return h.Webhooks.Start(ctx)
}

// Shutdown stops accepting requests, finishes or releases in-flight
// deliveries within ctx, and leaves the database open for the caller.
func (h *Herald) Shutdown(ctx context.Context) error {
	err := h.App.ShutdownWithContext(ctx)
	return errors.Join(err, h.Webhooks.Stop(ctx))
}
