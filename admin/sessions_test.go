package admin

import (
	"context"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/herald-cms/herald/content"
)

// claimsOf reads a token's claims without checking it.
func claimsOf(t *testing.T, token string) jwt.RegisteredClaims {
	t.Helper()
	var c jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(token, &c); err != nil {
		t.Fatalf("parse token: %v", err)
	}
	return c
}

func sign(t *testing.T, method jwt.SigningMethod, key any, claims jwt.Claims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return s
}

func TestAuthenticateAdminRefusesTamperedTokens(t *testing.T) {
	eachDialect(t, testAuthenticateAdminRefusesTamperedTokens)
}

func testAuthenticateAdminRefusesTamperedTokens(t *testing.T, h *harness) {
	token := h.registerFirst()
	good := claimsOf(t, token)
	ctx := context.Background()

	a, err := h.svc.AuthenticateAdmin(ctx, "Bearer "+token)
	if err != nil {
		t.Fatalf("valid token refused: %v", err)
	}
	if a.Kind != content.ActorAdmin || a.Name != "ada@example.com" || a.ID == 0 {
		t.Errorf("actor = %+v", a)
	}
	if !a.Can(ctx, PermWebhooksManage, "").Allowed {
		t.Error("super admin actor lacks a settings permission")
	}

	change := func(f func(c *jwt.RegisteredClaims)) jwt.RegisteredClaims {
		c := good
		f(&c)
		return c
	}
	cases := []struct {
		name   string
		header string
	}{
		{"alg none", "Bearer " + sign(t, jwt.SigningMethodNone,
			jwt.UnsafeAllowNoneSignatureType, good)},
		{"HS512 with the right key", "Bearer " + sign(t, jwt.SigningMethodHS512,
			testJWTSecret, good)},
		{"wrong key", "Bearer " + sign(t, jwt.SigningMethodHS256,
			[]byte("another-secret-another-secret-another"), good)},
		{"wrong audience", "Bearer " + sign(t, jwt.SigningMethodHS256, testJWTSecret,
			change(func(c *jwt.RegisteredClaims) { c.Audience = jwt.ClaimStrings{"herald-api"} }))},
		{"wrong issuer", "Bearer " + sign(t, jwt.SigningMethodHS256, testJWTSecret,
			change(func(c *jwt.RegisteredClaims) { c.Issuer = "strapi" }))},
		{"no expiry", "Bearer " + sign(t, jwt.SigningMethodHS256, testJWTSecret,
			change(func(c *jwt.RegisteredClaims) { c.ExpiresAt = nil }))},
		{"unknown session", "Bearer " + sign(t, jwt.SigningMethodHS256, testJWTSecret,
			change(func(c *jwt.RegisteredClaims) { c.ID = "not-a-session" }))},
		{"no session id", "Bearer " + sign(t, jwt.SigningMethodHS256, testJWTSecret,
			change(func(c *jwt.RegisteredClaims) { c.ID = "" }))},
		{"other subject", "Bearer " + sign(t, jwt.SigningMethodHS256, testJWTSecret,
			change(func(c *jwt.RegisteredClaims) { c.Subject = "999" }))},
		{"modified signature", "Bearer " + token[:len(token)-3] + "AAA"},
		{"empty header", ""},
		{"bearer without token", "Bearer "},
		{"other scheme", "Basic " + token},
		{"garbage", "Bearer not.a.jwt"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.svc.AuthenticateAdmin(ctx, tc.header)
			if !content.IsCode(err, content.EUNAUTHORIZED) {
				t.Errorf("err = %v, want unauthorized", err)
			}
		})
	}
}

func TestAdminTokenExpiresWithItsSession(t *testing.T) {
	eachDialect(t, testAdminTokenExpiresWithItsSession)
}

func testAdminTokenExpiresWithItsSession(t *testing.T, h *harness) {
	token := h.registerFirst()
	ctx := context.Background()

	h.clock.Add(DefaultSessionTTL - time.Second)
	if _, err := h.svc.AuthenticateAdmin(ctx, "Bearer "+token); err != nil {
		t.Fatalf("token refused before expiry: %v", err)
	}
	h.clock.Add(time.Second)
	_, err := h.svc.AuthenticateAdmin(ctx, "Bearer "+token)
	if !content.IsCode(err, content.EUNAUTHORIZED) {
		t.Errorf("at expiry: err = %v, want unauthorized", err)
	}

	c := claimsOf(t, token)
	if got := c.ExpiresAt.Sub(c.IssuedAt.Time); got != DefaultSessionTTL {
		t.Errorf("token lifetime %s, want %s", got, DefaultSessionTTL)
	}
}

func TestLogoutRevokesOnlyThatSession(t *testing.T) {
	eachDialect(t, testLogoutRevokesOnlyThatSession)
}

func testLogoutRevokesOnlyThatSession(t *testing.T, h *harness) {
	first := h.registerFirst()
	r := h.do("POST", "/admin/login", "", map[string]string{
		"email": "ada@example.com", "password": firstPassword,
	})
	mustStatus(t, r, 200)
	var out struct{ Data struct{ Token string } }
	r.decode(t, &out)
	second := out.Data.Token

	lo := h.do("POST", "/admin/logout", first, nil)
	mustStatus(t, lo, 200)
	if lo.Body != `{"data":{}}` {
		t.Errorf("logout body %s", lo.Body)
	}
	mustStatus(t, h.do("GET", "/admin/whoami", first, nil), 401)
	mustStatus(t, h.do("POST", "/admin/logout", first, nil), 401)
	mustStatus(t, h.do("GET", "/admin/whoami", second, nil), 200)
}

func TestDeactivatedOrDeletedAdminIsRefusedAtOnce(t *testing.T) {
	eachDialect(t, testDeactivatedOrDeletedAdminIsRefusedAtOnce)
}

func testDeactivatedOrDeletedAdminIsRefusedAtOnce(t *testing.T, h *harness) {
	u, token := h.createAdmin("editor@example.com", RoleEditor)
	mustStatus(t, h.do("GET", "/admin/whoami", token, nil), 200)

	h.db.Write.Model(&userRow{}).Where("id = ?", u.ID).Update("is_active", false)
	mustStatus(t, h.do("GET", "/admin/whoami", token, nil), 401)

	h.db.Write.Model(&userRow{}).Where("id = ?", u.ID).Update("is_active", true)
	mustStatus(t, h.do("GET", "/admin/whoami", token, nil), 200)

	if err := h.db.Write.Delete(&userRow{}, u.ID).Error; err != nil {
		t.Fatal(err)
	}
	mustStatus(t, h.do("GET", "/admin/whoami", token, nil), 401)
	var sessions int64
	h.db.Read.Model(&sessionRow{}).Where("user_id = ?", u.ID).Count(&sessions)
	if sessions != 0 {
		t.Errorf("%d sessions outlived their administrator", sessions)
	}
}

func TestNewValidatesConfig(t *testing.T) {
	h := newHarness(t)
	cases := []struct {
		name string
		cfg  Config
	}{
		{"short JWT secret", Config{JWTSecret: []byte("short"), TokenSalt: testTokenSalt}},
		{"short token salt", Config{JWTSecret: testJWTSecret, TokenSalt: []byte("salt")}},
		{"negative TTL", Config{JWTSecret: testJWTSecret, TokenSalt: testTokenSalt,
			SessionTTL: -time.Hour}},
		{"bcrypt cost too high", Config{JWTSecret: testJWTSecret, TokenSalt: testTokenSalt,
			BcryptCost: 40}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(h.db, tc.cfg); err == nil {
				t.Error("New accepted a bad config")
			}
		})
	}
}

func TestSignInSweepsTheUsersExpiredSessions(t *testing.T) {
	eachDialect(t, testSignInSweepsTheUsersExpiredSessions)
}

func testSignInSweepsTheUsersExpiredSessions(t *testing.T, h *harness) {
	ctx := context.Background()
	u, _ := h.createAdmin("sweep@example.com", RoleEditor)
	count := func() int64 {
		var n int64
		h.db.Read.Model(&sessionRow{}).Where("user_id = ?", u.ID).Count(&n)
		return n
	}

	h.clock.Add(time.Hour)
	if _, err := h.svc.SignIn(ctx, "sweep@example.com", "password-sweep@example.com"); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 2 {
		t.Fatalf("%d sessions, want 2 live ones", n)
	}
	// 500ms past the first session's expiry: only it is swept.
	h.clock.Add(DefaultSessionTTL - time.Hour + 500*time.Millisecond)
	if _, err := h.svc.SignIn(ctx, "sweep@example.com", "password-sweep@example.com"); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 2 {
		t.Errorf("%d sessions, want 2 (one swept, one added)", n)
	}
}
