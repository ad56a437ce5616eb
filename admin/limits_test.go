package admin

import (
	"context"
	"testing"
	"time"

	"github.com/herald-cms/herald/content"
)

func TestLimiterSpreadsAttemptsOverTheWindow(t *testing.T) {
	clk := &testClock{t: time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)}
	lm := newLimiter(clk.Now)
	l := RateLimit{Attempts: 3, Window: 30 * time.Second}

	for i := 0; i < 3; i++ {
		if w := lm.take("k", l); w != 0 {
			t.Fatalf("attempt %d refused, wait %s", i+1, w)
		}
	}
	if w := lm.take("k", l); w != 10*time.Second {
		t.Errorf("fourth attempt: wait %s, want 10s", w)
	}
	if w := lm.take("other", l); w != 0 {
		t.Errorf("another key waits %s", w)
	}
	// A refused attempt does not count: one interval later, one more fits.
	clk.Add(10 * time.Second)
	if w := lm.take("k", l); w != 0 {
		t.Errorf("after the wait: %s", w)
	}
	if w := lm.take("k", l); w != 10*time.Second {
		t.Errorf("and then: %s", w)
	}
	// check does not count; add counts even over the limit.
	clk.Add(30 * time.Second)
	if w := lm.check("k", l); w != 0 {
		t.Errorf("check after a whole window: %s", w)
	}
	for i := 0; i < 4; i++ {
		lm.add("k", l)
	}
	if w := lm.check("k", l); w != 20*time.Second {
		t.Errorf("check after four failures: %s, want 20s", w)
	}

	// Keys whose allowance is whole again are forgotten.
	clk.Add(2 * time.Minute)
	lm.take("fresh", l)
	if _, ok := lm.due["k"]; ok || len(lm.due) != 1 {
		t.Errorf("keys after a sweep: %v", lm.due)
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	for _, tc := range []struct {
		wait time.Duration
		want int
	}{{time.Millisecond, 1}, {10 * time.Second, 10}, {10*time.Second + 1, 11}} {
		got, ok := RetryAfterSeconds(newRateLimitError(tc.wait))
		if !ok || got != tc.want {
			t.Errorf("%s: %d %v, want %d", tc.wait, got, ok, tc.want)
		}
	}
	if _, ok := RetryAfterSeconds(content.Errorf(content.EINVALID, "x")); ok {
		t.Error("a validation error has a Retry-After")
	}
	if !content.IsCode(newRateLimitError(time.Second), content.ERATELIMITED) {
		t.Error("RateLimitError is not ERATELIMITED")
	}
}

func TestSignInIsLimitedPerAddressAndPerAccount(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	svc := h.serviceWith(func(c *Config) {
		c.Limits = Limits{
			SignInPerAddress: RateLimit{Attempts: 4, Window: time.Minute},
			SignInPerAccount: RateLimit{Attempts: 2, Window: time.Minute},
		}
	})
	h.createAdmin("victim@example.com", RoleEditor)
	h.createAdmin("other@example.com", RoleEditor)
	limited := func(err error) bool {
		_, ok := RetryAfterSeconds(err)
		return ok
	}

	// Two failures from two addresses spend the account's allowance: even
	// the right password is refused, from anywhere.
	for _, addr := range []string{"10.0.0.1", "10.0.0.2"} {
		_, err := svc.SignInFrom(ctx, addr, "victim@example.com", "wrong")
		if !content.IsCode(err, content.EUNAUTHORIZED) {
			t.Fatalf("failure from %s: %v", addr, err)
		}
	}
	_, err := svc.SignInFrom(ctx, "10.0.0.3", "Victim@Example.com", "password-victim@example.com")
	if !limited(err) {
		t.Fatalf("right password after the account's allowance: %v", err)
	}
	// Other accounts are not affected; successes do not count against one.
	for i := 0; i < 3; i++ {
		_, err := svc.SignInFrom(ctx, "10.0.0.4", "other@example.com", "password-other@example.com")
		if err != nil {
			t.Fatalf("other account, attempt %d: %v", i+1, err)
		}
	}
	// But every attempt counts against the address: its fifth is refused.
	if _, err := svc.SignInFrom(ctx, "10.0.0.4", "other@example.com",
		"password-other@example.com"); err != nil {
		t.Fatalf("fourth attempt from the address: %v", err)
	}
	if _, err := svc.SignInFrom(ctx, "10.0.0.4", "other@example.com",
		"password-other@example.com"); !limited(err) {
		t.Fatalf("fifth attempt from the address: %v", err)
	}

	// Once the wait is over, the victim signs in.
	h.clock.Add(30 * time.Second)
	_, err = svc.SignInFrom(ctx, "10.0.0.3", "victim@example.com", "password-victim@example.com")
	if err != nil {
		t.Errorf("after the wait: %v", err)
	}
}

func TestLimitsAreChecked(t *testing.T) {
	h := newHarness(t)
	_, err := New(h.db, Config{JWTSecret: testJWTSecret, TokenSalt: testTokenSalt,
		Limits: Limits{SignInPerAddress: RateLimit{Attempts: 0, Window: time.Minute}}})
	if err == nil {
		t.Error("a limit of zero attempts was accepted")
	}
	l, err := Limits{}.withDefaults()
	if err != nil || l != DefaultLimits {
		t.Errorf("defaults = %+v, %v", l, err)
	}
}

func TestCSRFTokensAreBoundToTheSession(t *testing.T) {
	h := newHarness(t)
	a := h.svc.CSRFToken("session-one")
	if a == "" || a == h.svc.CSRFToken("session-two") {
		t.Fatal("CSRF tokens do not depend on the session")
	}
	if a != h.svc.CSRFToken("session-one") {
		t.Error("CSRF token changes within a session")
	}
	if err := h.svc.CheckCSRF("session-one", a); err != nil {
		t.Errorf("right token refused: %v", err)
	}
	other := h.serviceWith(func(c *Config) {
		c.JWTSecret = []byte("another-jwt-secret-0123456789abcdef")
	})
	for name, tc := range map[string][2]string{
		"other session":  {"session-two", a},
		"empty token":    {"session-one", ""},
		"no session":     {"", h.svc.CSRFToken("")},
		"tampered token": {"session-one", tamper(a)},
	} {
		if err := h.svc.CheckCSRF(tc[0], tc[1]); !content.IsCode(err, content.EFORBIDDEN) {
			t.Errorf("%s: %v, want forbidden", name, err)
		}
	}
	if err := other.CheckCSRF("session-one", a); err == nil {
		t.Error("a token made under another JWT secret was accepted")
	}
}

// tamper changes the last character of s.
func tamper(s string) string {
	last := byte('A')
	if s[len(s)-1] == last {
		last = 'B'
	}
	return s[:len(s)-1] + string(last)
}

func TestEndUserFailuresCountWhateverNameTheAccountIsGiven(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	svc := h.serviceWith(func(c *Config) {
		c.PublicRegistration = true
		c.Limits = Limits{SignInPerAccount: RateLimit{Attempts: 2, Window: time.Minute}}
	})
	_, err := svc.RegisterEndUser(ctx, "10.0.0.1", EndUserInput{Username: "reader",
		Email: "reader@example.com", Password: "reader password"})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"reader", "reader@example.com"} {
		_, err := svc.SignInEndUser(ctx, "10.0.0.2", id, "wrong password")
		if !content.IsCode(err, content.EINVALID) {
			t.Fatalf("failure as %s: %v", id, err)
		}
	}
	_, err = svc.SignInEndUser(ctx, "10.0.0.3", "Reader", "reader password")
	if _, ok := RetryAfterSeconds(err); !ok {
		t.Errorf("third attempt, by another name: %v, want rate-limited", err)
	}
}
