package admin

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/herald-cms/herald/content"
)

// serviceWith returns another Service on the harness's database and clock,
// with cfg changed by change.
func (h *harness) serviceWith(change func(*Config)) *Service {
	h.t.Helper()
	cfg := Config{JWTSecret: testJWTSecret, TokenSalt: testTokenSalt,
		BcryptCost: bcrypt.MinCost, Now: h.clock.Now}
	change(&cfg)
	svc, err := New(h.db, cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	return svc
}

func TestRegistrationIsOffByDefault(t *testing.T) {
	h := newHarness(t)
	_, err := h.svc.RegisterEndUser(context.Background(), "10.0.0.1", EndUserInput{
		Username: "reader", Email: "reader@example.com", Password: "reader password"})
	if !content.IsCode(err, content.EFORBIDDEN) {
		t.Errorf("register: %v, want forbidden", err)
	}
}

func TestEndUsersRegisterSignInAndAuthenticate(t *testing.T) {
	eachDialect(t, testEndUsersRegisterSignInAndAuthenticate)
}

func testEndUsersRegisterSignInAndAuthenticate(t *testing.T, h *harness) {
	ctx := context.Background()
	svc := h.serviceWith(func(c *Config) { c.PublicRegistration = true })
	sess, err := svc.RegisterEndUser(ctx, "10.0.0.1", EndUserInput{
		Username: " Reader ", Email: "Reader@Example.com", Password: "reader password"})
	if err != nil {
		t.Fatal(err)
	}
	u := sess.User
	if u.Username != "Reader" || u.Email != "reader@example.com" || len(u.DocumentID) != 24 ||
		u.Provider != "local" || !u.Confirmed || u.Blocked {
		t.Errorf("user = %+v", u)
	}

	// Taken, whatever the case of the username or email.
	for _, in := range []EndUserInput{
		{Username: "READER", Email: "other@example.com", Password: "reader password"},
		{Username: "other", Email: "READER@example.com", Password: "reader password"},
	} {
		if _, err := svc.RegisterEndUser(ctx, "10.0.0.1", in); !content.IsCode(err, content.EINVALID) {
			t.Errorf("register %v again: %v", in, err)
		}
	}
	bad := []struct {
		in    EndUserInput
		field string
	}{
		{EndUserInput{Username: "ab", Email: "a@example.com", Password: "long password"}, "username"},
		{EndUserInput{Username: "a@b", Email: "a@example.com", Password: "long password"}, "username"},
		{EndUserInput{Username: "abc", Email: "nope", Password: "long password"}, "email"},
		{EndUserInput{Username: "abc", Email: "a@example.com", Password: "short"}, "password"},
	}
	for _, tc := range bad {
		_, err := svc.RegisterEndUser(ctx, "10.0.0.1", tc.in)
		if f := fieldsOf(t, err); len(f) != 1 || f[0] != tc.field {
			t.Errorf("register %v: errors on %v, want %s", tc.in, f, tc.field)
		}
	}

	// Sign in by email or username, any case.
	for _, id := range []string{"reader@example.com", "READER@EXAMPLE.COM", "reader", "Reader"} {
		if _, err := svc.SignInEndUser(ctx, "10.0.0.2", id, "reader password"); err != nil {
			t.Errorf("sign in as %q: %v", id, err)
		}
	}
	for _, c := range [][2]string{{"reader", "wrong password"}, {"nobody", "reader password"}} {
		_, err := svc.SignInEndUser(ctx, "10.0.0.3", c[0], c[1])
		if !content.IsCode(err, content.EINVALID) || err.Error() != errInvalidIdentifier().Error() {
			t.Errorf("sign in %v: %v", c, err)
		}
	}

	// The JWT authenticates on the content API and for /me, as a user.
	a, err := svc.AuthenticateAPI(ctx, "Bearer "+sess.JWT)
	if err != nil {
		t.Fatal(err)
	}
	if a.Kind != content.ActorUser || a.ID != u.ID || a.Name != "Reader" {
		t.Errorf("actor = %+v", a)
	}
	if _, err := svc.AuthenticateEndUser(ctx, "Bearer "+sess.JWT); err != nil {
		t.Errorf("AuthenticateEndUser: %v", err)
	}
	if got, err := svc.GetEndUser(ctx, u.ID); err != nil || got.Email != u.Email {
		t.Errorf("GetEndUser = %+v, %v", got, err)
	}

	// A blocked user is refused at once.
	h.db.Write.Exec("UPDATE end_users SET blocked = ? WHERE id = ?", true, u.ID)
	if _, err := svc.AuthenticateAPI(ctx, "Bearer "+sess.JWT); !content.IsCode(err, content.EUNAUTHORIZED) {
		t.Errorf("blocked user's token: %v", err)
	}
	if _, err := svc.SignInEndUser(ctx, "10.0.0.4", "reader", "reader password"); err == nil {
		t.Error("blocked user signed in")
	}
}

func TestEndUserAndAdminTokensAreNotInterchangeable(t *testing.T) {
	eachDialect(t, testEndUserAndAdminTokensAreNotInterchangeable)
}

func testEndUserAndAdminTokensAreNotInterchangeable(t *testing.T, h *harness) {
	ctx := context.Background()
	svc := h.serviceWith(func(c *Config) { c.PublicRegistration = true })
	adminToken := h.registerFirst()
	sess, err := svc.RegisterEndUser(ctx, "10.0.0.1", EndUserInput{
		Username: "reader", Email: "reader@example.com", Password: "reader password"})
	if err != nil {
		t.Fatal(err)
	}
	key := h.createToken(adminToken, map[string]any{"name": "k", "type": "read-only"}).AccessKey

	if _, err := svc.AuthenticateAdmin(ctx, "Bearer "+sess.JWT); !content.IsCode(err, content.EUNAUTHORIZED) {
		t.Errorf("end-user token as administrator: %v", err)
	}
	for name, cred := range map[string]string{"admin token": adminToken, "API token": key, "none": ""} {
		if _, err := svc.AuthenticateEndUser(ctx, "Bearer "+cred); !content.IsCode(err, content.EUNAUTHORIZED) {
			t.Errorf("%s as end user: %v", name, err)
		}
	}
	if _, err := svc.AuthenticateAPI(ctx, "Bearer "+adminToken); !content.IsCode(err, content.EUNAUTHORIZED) {
		t.Errorf("admin token on the content API: %v", err)
	}

	good := claimsOf(t, sess.JWT)
	change := func(f func(c *jwt.RegisteredClaims)) jwt.RegisteredClaims {
		c := good
		f(&c)
		return c
	}
	forged := map[string]string{
		"alg none": sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, good),
		"HS384":    sign(t, jwt.SigningMethodHS384, testJWTSecret, good),
		"wrong key": sign(t, jwt.SigningMethodHS256,
			[]byte("another-secret-another-secret-another"), good),
		"admin audience": sign(t, jwt.SigningMethodHS256, testJWTSecret,
			change(func(c *jwt.RegisteredClaims) { c.Audience = jwt.ClaimStrings{jwtAudience} })),
		"other issuer": sign(t, jwt.SigningMethodHS256, testJWTSecret,
			change(func(c *jwt.RegisteredClaims) { c.Issuer = "strapi" })),
		"no expiry": sign(t, jwt.SigningMethodHS256, testJWTSecret,
			change(func(c *jwt.RegisteredClaims) { c.ExpiresAt = nil })),
		"issued in the future": sign(t, jwt.SigningMethodHS256, testJWTSecret,
			change(func(c *jwt.RegisteredClaims) {
				c.IssuedAt = jwt.NewNumericDate(h.clock.Now().Add(time.Hour))
			})),
		"unknown user": sign(t, jwt.SigningMethodHS256, testJWTSecret,
			change(func(c *jwt.RegisteredClaims) { c.Subject = "999" })),
		"bad subject": sign(t, jwt.SigningMethodHS256, testJWTSecret,
			change(func(c *jwt.RegisteredClaims) { c.Subject = "reader" })),
	}
	for name, token := range forged {
		if _, err := svc.AuthenticateAPI(ctx, "Bearer "+token); !content.IsCode(err, content.EUNAUTHORIZED) {
			t.Errorf("%s: %v, want unauthorized", name, err)
		}
	}

	// The token expires after the end-user TTL.
	if got := claimsOf(t, sess.JWT); got.ExpiresAt.Sub(got.IssuedAt.Time) != DefaultUserTokenTTL {
		t.Errorf("end-user token lifetime %s", got.ExpiresAt.Sub(got.IssuedAt.Time))
	}
	h.clock.Add(DefaultUserTokenTTL)
	if _, err := svc.AuthenticateAPI(ctx, "Bearer "+sess.JWT); !content.IsCode(err, content.EUNAUTHORIZED) {
		t.Errorf("expired end-user token: %v", err)
	}
	if strconv.FormatInt(sess.User.ID, 10) != good.Subject {
		t.Errorf("subject %q for user %d", good.Subject, sess.User.ID)
	}
}
