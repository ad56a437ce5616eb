package admin

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/herald-cms/herald/content"
)

// RateLimit allows Attempts in any Window. Attempts are spread out, not
// counted in fixed windows: once the allowance is spent, one more attempt
// becomes possible every Window/Attempts.
type RateLimit struct {
	Attempts int
	Window   time.Duration
}

func (l RateLimit) valid() bool { return l.Attempts > 0 && l.Window > 0 }

// interval is the time one attempt takes to be forgiven.
func (l RateLimit) interval() time.Duration { return l.Window / time.Duration(l.Attempts) }

// Limits bounds sign-in and registration. Zero fields take the defaults.
// The counts live in this process's memory: with several Herald processes
// behind a load balancer each one counts on its own.
type Limits struct {
	// SignInPerAddress counts every sign-in attempt (administrators and end
	// users apart) from one client address; default 20 per 5 minutes.
	SignInPerAddress RateLimit
	// SignInPerAccount counts failed sign-ins to one account, whatever the
	// address; default 5 per 15 minutes. Once spent, even the right
	// password is refused until the wait is over.
	SignInPerAccount RateLimit
	// RegisterPerAddress counts end-user registrations from one client
	// address; default 10 per hour.
	RegisterPerAddress RateLimit
}

// DefaultLimits are the limits used for zero fields of Limits.
var DefaultLimits = Limits{
	SignInPerAddress:   RateLimit{Attempts: 20, Window: 5 * time.Minute},
	SignInPerAccount:   RateLimit{Attempts: 5, Window: 15 * time.Minute},
	RegisterPerAddress: RateLimit{Attempts: 10, Window: time.Hour},
}

// withDefaults fills zero limits and checks the others.
func (l Limits) withDefaults() (Limits, error) {
	fields := []struct {
		name string
		l    *RateLimit
		def  RateLimit
	}{
		{"SignInPerAddress", &l.SignInPerAddress, DefaultLimits.SignInPerAddress},
		{"SignInPerAccount", &l.SignInPerAccount, DefaultLimits.SignInPerAccount},
		{"RegisterPerAddress", &l.RegisterPerAddress, DefaultLimits.RegisterPerAddress},
	}
	for _, f := range fields {
		if *f.l == (RateLimit{}) {
			*f.l = f.def
			continue
		}
		if !f.l.valid() {
			return Limits{}, fmt.Errorf(
				"admin: rate limit %s needs positive attempts and window, got %d per %s",
				f.name, f.l.Attempts, f.l.Window)
		}
	}
	return l, nil
}

// RateLimitError is the error of an attempt over a limit. It wraps a
// content.Error with code ERATELIMITED, so the web layer answers 429
// RateLimitError; handlers set Retry-After from RetryAfter.
type RateLimitError struct {
	RetryAfter time.Duration
	err        *content.Error
}

func newRateLimitError(wait time.Duration) *RateLimitError {
	return &RateLimitError{RetryAfter: wait,
		err: content.Errorf(content.ERATELIMITED, "Too many attempts, please try again later")}
}

// Error implements error.
func (e *RateLimitError) Error() string { return e.err.Error() }

// Unwrap returns the content.Error inside.
func (e *RateLimitError) Unwrap() error { return e.err }

// RetryAfterSeconds returns the whole seconds a client should wait before
// retrying when err is a RateLimitError (at least 1), or false.
func RetryAfterSeconds(err error) (int, bool) {
	var rl *RateLimitError
	if !errors.As(err, &rl) {
		return 0, false
	}
	return max(1, int(math.Ceil(rl.RetryAfter.Seconds()))), true
}

// limiter counts attempts per key with the generic cell rate algorithm:
// each key keeps the time at which its allowance is whole again.
type limiter struct {
	mu        sync.Mutex
	now       func() time.Time
	due       map[string]time.Time
	lastSweep time.Time
}

func newLimiter(now func() time.Time) *limiter {
	return &limiter{now: now, due: map[string]time.Time{}}
}

// wait returns how long key must wait before one more attempt under l, or 0
// when it may go ahead now.
func (lm *limiter) wait(key string, l RateLimit, now time.Time) time.Duration {
	due := lm.due[key]
	if due.Before(now) {
		due = now
	}
	over := due.Add(l.interval()).Sub(now) - l.Window
	return max(over, 0)
}

// take counts an attempt for key under l. It returns 0 when the attempt may
// go ahead, else how long to wait, and then does not count it.
func (lm *limiter) take(key string, l RateLimit) time.Duration {
	lm.mu.Lock()
	defer lm.mu.Unlock()
	now := lm.now()
	lm.sweep(now)
	if w := lm.wait(key, l, now); w > 0 {
		return w
	}
	lm.count(key, l, now)
	return 0
}

// check is take without counting.
func (lm *limiter) check(key string, l RateLimit) time.Duration {
	lm.mu.Lock()
	defer lm.mu.Unlock()
	return lm.wait(key, l, lm.now())
}

// add counts an attempt for key whether or not it was over the limit.
func (lm *limiter) add(key string, l RateLimit) {
	lm.mu.Lock()
	defer lm.mu.Unlock()
	lm.count(key, l, lm.now())
}

func (lm *limiter) count(key string, l RateLimit, now time.Time) {
	due := lm.due[key]
	if due.Before(now) {
		due = now
	}
	lm.due[key] = due.Add(l.interval())
}

// sweep forgets, at most once a minute, keys whose allowance is whole again,
// so memory follows the number of recent clients.
func (lm *limiter) sweep(now time.Time) {
	if now.Sub(lm.lastSweep) < time.Minute {
		return
	}
	lm.lastSweep = now
	for k, due := range lm.due {
		if !due.After(now) {
			delete(lm.due, k)
		}
	}
}

// The namespaces of limiter keys.
const (
	keyAdminAddr   = "admin-sign-in-address:"
	keyAdminAcct   = "admin-sign-in-account:"
	keyUserAddr    = "user-sign-in-address:"
	keyUserAcct    = "user-sign-in-account:"
	keyRegisterAdr = "register-address:"
)

// beginSignIn counts a sign-in attempt from addr to account and refuses it
// when either is over its limit.
func (s *Service) beginSignIn(addrKey, acctKey string) error {
	if w := s.limiter.take(addrKey, s.limits.SignInPerAddress); w > 0 {
		return newRateLimitError(w)
	}
	if w := s.limiter.check(acctKey, s.limits.SignInPerAccount); w > 0 {
		return newRateLimitError(w)
	}
	return nil
}

// failedSignIn counts a failed sign-in to an account.
func (s *Service) failedSignIn(acctKey string) {
	s.limiter.add(acctKey, s.limits.SignInPerAccount)
}
