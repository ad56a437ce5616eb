package webhooks

import (
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"time"

	"github.com/herald-cms/herald/webhooks/ssrf"
)

// DefaultRetrySchedule is the delay before each retry when
// Config.RetrySchedule is empty: eight attempts over about 27.6 hours.
var DefaultRetrySchedule = []time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute,
	2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour,
}

// The defaults of Config.
const (
	DefaultTimeout      = 15 * time.Second
	DefaultWorkers      = 32
	DefaultPerEndpoint  = 4
	DefaultDisableAfter = 5 * 24 * time.Hour
	DefaultRetention    = 30 * 24 * time.Hour
)

// MaxRetryAfter caps how far a receiver's Retry-After header can push the
// next attempt.
const MaxRetryAfter = 24 * time.Hour

// jitterFraction is the largest share of a retry delay added or removed at
// random.
const jitterFraction = 0.2

// Config tunes the webhook service. The zero value of every field selects
// its default; New validates the result once.
type Config struct {
	// RetrySchedule is the delay before each retry; the first attempt is
	// immediate, so a delivery gets len(RetrySchedule)+1 attempts. Each delay
	// varies by up to ±20% (see Jitter). Default DefaultRetrySchedule.
	RetrySchedule []time.Duration
	// Timeout bounds a whole attempt: connection, request and reading the
	// response. Default 15s.
	Timeout time.Duration
	// Workers is how many attempts this instance runs at once. Default 32.
	Workers int
	// PerEndpoint is how many attempts to one webhook may be in flight at
	// once, counted in the database over every instance. Default 4.
	PerEndpoint int
	// DisableAfter is how long a webhook's attempts may all fail, counted
	// from its first failure after its last success, before it is
	// auto-disabled. Default 5 days.
	DisableAfter time.Duration
	// Retention is how long finished deliveries, their attempts and their
	// events are kept. Default 30 days.
	Retention time.Duration
	// LeaseDuration is how long a claimed delivery stays reserved for this
	// instance; after it a crashed instance's work is claimed again. It must
	// exceed Timeout. Default Timeout + 30s.
	LeaseDuration time.Duration
	// Guard checks webhook URLs when they are saved and every connection
	// when they are sent. Default: a Guard that refuses every private range.
	Guard *ssrf.Guard
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Jitter returns a number in [-1, 1); each retry delay is multiplied by
	// 1 + 0.2*Jitter(). Default: uniformly random.
	Jitter func() float64
	// Logger receives the service's log lines. Default slog.Default().
	Logger *slog.Logger
	// Version is sent in the User-Agent header as Herald/<Version>.
	// Default "dev".
	Version string
	// InstanceID names this process as the owner of its leases. Default:
	// the host name, the process id and a random suffix.
	InstanceID string
}

// withDefaults returns cfg with every zero field set to its default, or an
// error naming the first setting that is out of range.
func (cfg Config) withDefaults() (Config, error) {
	if len(cfg.RetrySchedule) == 0 {
		cfg.RetrySchedule = DefaultRetrySchedule
	}
	cfg.RetrySchedule = append([]time.Duration(nil), cfg.RetrySchedule...)
	for _, d := range cfg.RetrySchedule {
		if d <= 0 {
			return cfg, fmt.Errorf("webhook retry schedule: delay %s must be positive", d)
		}
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Workers == 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.PerEndpoint == 0 {
		cfg.PerEndpoint = DefaultPerEndpoint
	}
	if cfg.DisableAfter == 0 {
		cfg.DisableAfter = DefaultDisableAfter
	}
	if cfg.Retention == 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.LeaseDuration == 0 {
		cfg.LeaseDuration = cfg.Timeout + 30*time.Second
	}
	if err := cfg.check(); err != nil {
		return cfg, err
	}

	if cfg.Guard == nil {
		cfg.Guard = &ssrf.Guard{}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Jitter == nil {
		cfg.Jitter = func() float64 { return rand.Float64()*2 - 1 }
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	if cfg.InstanceID == "" {
		cfg.InstanceID = defaultInstanceID()
	}
	return cfg, nil
}

func (cfg Config) check() error {
	switch {
	case cfg.Timeout < 0:
		return fmt.Errorf("webhook timeout %s: must be positive", cfg.Timeout)
	case cfg.Workers < 0:
		return fmt.Errorf("webhook workers %d: must be at least 1", cfg.Workers)
	case cfg.PerEndpoint < 0:
		return fmt.Errorf("webhook per-endpoint limit %d: must be at least 1", cfg.PerEndpoint)
	case cfg.DisableAfter < 0:
		return fmt.Errorf("webhook disable-after %s: must be positive", cfg.DisableAfter)
	case cfg.Retention < 0:
		return fmt.Errorf("webhook retention %s: must be positive", cfg.Retention)
	case cfg.LeaseDuration <= cfg.Timeout:
		return fmt.Errorf("webhook lease duration %s: must be longer than the timeout %s",
			cfg.LeaseDuration, cfg.Timeout)
	}
	return nil
}

func defaultInstanceID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "herald"
	}
	var b [4]byte
	_, _ = crand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}
