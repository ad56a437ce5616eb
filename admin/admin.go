// Package admin holds Herald's access model: administrators, their roles,
// sign-in and sessions; API tokens for frontends; the users-permissions
// Public and Authenticated roles and the end users who sign in to the
// content API; and the policies that decide what each principal may do.
// Sign-in is rate-limited here; the route table in package web decides which
// permission each route needs.
package admin

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"github.com/herald-cms/herald/content"
)

// DefaultSessionTTL is how long an administrator's sign-in lasts when
// Config.SessionTTL is zero.
const DefaultSessionTTL = 8 * time.Hour

// DefaultUserTokenTTL is how long an end user's JWT lasts when
// Config.UserTokenTTL is zero: Strapi's default.
const DefaultUserTokenTTL = 30 * 24 * time.Hour

// DefaultBcryptCost is the bcrypt cost used when Config.BcryptCost is zero.
const DefaultBcryptCost = 11

// Minimum secret lengths accepted by New.
const (
	MinJWTSecretLen = 32
	MinTokenSaltLen = 16
)

// Config configures a Service. Zero values take the documented defaults.
type Config struct {
	// JWTSecret signs administrators' tokens (HS256); at least 32 bytes.
	JWTSecret []byte
	// TokenSalt keys the HMAC under which API token keys are stored; at
	// least 16 bytes.
	TokenSalt []byte
	// SessionTTL is how long an administrator's sign-in lasts; default 8h.
	SessionTTL time.Duration
	// UserTokenTTL is how long an end user's JWT lasts; default 30 days.
	UserTokenTTL time.Duration
	// PublicRegistration lets anyone sign up as an end user through
	// POST /api/auth/local/register; off by default.
	PublicRegistration bool
	// Limits bounds sign-in and registration attempts; zero fields take
	// DefaultLimits.
	Limits Limits
	// TypeExists reports whether a content type uid exists: permissions that
	// name another type are refused. Nil accepts every well-formed uid.
	TypeExists func(uid string) bool
	// BcryptCost is the cost of password hashes; default 11. Tests use
	// bcrypt.MinCost to stay fast.
	BcryptCost int
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger receives the service's own log lines; default discards them.
	Logger *slog.Logger
}

// Service manages administrators, roles, sessions, API tokens and end
// users, and authenticates requests. Roles and grant lists are cached in
// memory: changes made through the Service apply at once, on every
// instance sharing the database (see watchAccess).
type Service struct {
	db         *content.DB
	jwtSecret  []byte
	tokenSalt  []byte
	sessionTTL time.Duration
	userTTL    time.Duration
	openSignUp bool
	typeExists func(uid string) bool
	cost       int
	now        func() time.Time
	log        *slog.Logger
	// dummy is compared against when an email is unknown, so that a failed
	// sign-in takes as long whether or not the account exists. It is made
	// on first use: one bcrypt hash would otherwise slow every start-up.
	dummy     sync.Once
	dummyHash []byte
	cache     accessCache
	limits    Limits
	limiter   *limiter
	// csrfKey keys the CSRF tokens of panel sessions.
	csrfKey []byte
}

// New validates cfg, fills in its defaults and returns a Service. It fails
// when a secret is too short or a setting is out of range.
func New(db *content.DB, cfg Config) (*Service, error) {
	if db == nil {
		return nil, errors.New("admin: database is required")
	}
	if len(cfg.JWTSecret) < MinJWTSecretLen {
		return nil, fmt.Errorf(
			"admin: JWT secret (HERALD_JWT_SECRET) must be at least %d bytes, got %d",
			MinJWTSecretLen, len(cfg.JWTSecret))
	}
	if len(cfg.TokenSalt) < MinTokenSaltLen {
		return nil, fmt.Errorf(
			"admin: token salt (HERALD_TOKEN_SALT) must be at least %d bytes, got %d",
			MinTokenSaltLen, len(cfg.TokenSalt))
	}
	if cfg.SessionTTL < 0 {
		return nil, fmt.Errorf("admin: session TTL (HERALD_SESSION_TTL) must be positive, got %s",
			cfg.SessionTTL)
	}
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.UserTokenTTL < 0 {
		return nil, fmt.Errorf("admin: end-user token TTL must be positive, got %s",
			cfg.UserTokenTTL)
	}
	if cfg.UserTokenTTL == 0 {
		cfg.UserTokenTTL = DefaultUserTokenTTL
	}
	limits, err := cfg.Limits.withDefaults()
	if err != nil {
		return nil, err
	}
	if cfg.BcryptCost == 0 {
		cfg.BcryptCost = DefaultBcryptCost
	}
	if cfg.BcryptCost < bcrypt.MinCost || cfg.BcryptCost > bcrypt.MaxCost {
		return nil, fmt.Errorf("admin: bcrypt cost must be between %d and %d, got %d",
			bcrypt.MinCost, bcrypt.MaxCost, cfg.BcryptCost)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}

	s := &Service{
		db:         db,
		jwtSecret:  append([]byte(nil), cfg.JWTSecret...),
		tokenSalt:  append([]byte(nil), cfg.TokenSalt...),
		sessionTTL: cfg.SessionTTL,
		userTTL:    cfg.UserTokenTTL,
		openSignUp: cfg.PublicRegistration,
		typeExists: cfg.TypeExists,
		cost:       cfg.BcryptCost,
		now:        cfg.Now,
		log:        cfg.Logger,
		limits:     limits,
		limiter:    newLimiter(cfg.Now),
	}
	s.csrfKey = derivedKey(s.jwtSecret, "herald csrf")
	s.watchAccess()
	return s, nil
}

// clock returns the current time in UTC at millisecond precision, the
// precision every timestamp is stored and shown with.
func (s *Service) clock() time.Time {
	return s.now().UTC().Truncate(time.Millisecond)
}

// randomHex returns n random bytes, hex-encoded.
func randomHex(n int) string {
	b := make([]byte, n)
	// crypto/rand.Read never fails on supported platforms; it panics
	// instead of returning a short read.
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// unauthorized is the one answer to every failed authentication, so the
// reason never leaks to the caller.
func unauthorized() *content.Error {
	return content.Errorf(content.EUNAUTHORIZED, "Missing or invalid credentials")
}

// validation turns field errors into one EINVALID error: its message is the
// only field's message, or a count when there are several.
func validation(fields []content.FieldError) error {
	if len(fields) == 0 {
		return nil
	}
	msg := fields[0].Message
	if len(fields) > 1 {
		msg = fmt.Sprintf("%d errors occurred", len(fields))
	}
	return content.Invalid(msg, fields...)
}

func fieldError(field, message string) content.FieldError {
	return content.FieldError{Path: []string{field}, Message: message, Name: "ValidationError"}
}

// timeJSON formats t as Strapi does: ISO 8601 in UTC with milliseconds.
func timeJSON(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// timePtrJSON is timeJSON for an optional time; nil stays null.
func timePtrJSON(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := timeJSON(*t)
	return &s
}

// takeOne loads the one row of a T matching the condition. No such row is
// notFound; another failure is wrapped, naming what was loaded.
func takeOne[T any](
	db *gorm.DB, notFound *content.Error, what string, cond string, args ...any,
) (T, error) {
	var row T
	err := db.Where(cond, args...).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return row, notFound
	}
	if err != nil {
		return row, fmt.Errorf("load %s: %w", what, err)
	}
	return row, nil
}

// unknownAccountHash returns the hash compared against when no account
// matches, made once on first use.
func (s *Service) unknownAccountHash() []byte {
	s.dummy.Do(func() {
		h, err := bcrypt.GenerateFromPassword([]byte(randomHex(16)), s.cost)
		if err != nil {
			// Only an impossible cost fails; any non-matching hash will do.
			h = []byte("$2a$10$" + randomHex(26))
		}
		s.dummyHash = h
	})
	return s.dummyHash
}
