package web_test

import (
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/herald-cms/herald/admin"
	"github.com/herald-cms/herald/web/webtest"
	"github.com/herald-cms/herald/webhooks/webhookstest"
)

func forge(t *testing.T, method jwt.SigningMethod, key any, claims jwt.Claims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func claimsOf(t *testing.T, token string) jwt.RegisteredClaims {
	t.Helper()
	var c jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(token, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestTamperedJWTsAreRefused forges administrators' and end users' tokens
// that are right in all but one way, and uses each kind where the other
// belongs.
func TestTamperedJWTsAreRefused(t *testing.T) {
	clk := webhookstest.NewClock(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC))
	s := webtest.Start(t, webtest.Options{Now: clk.Now, PublicRegistration: true})
	adminToken := s.RegisterAdmin()
	s.CreateType(adminToken, articleSchema)
	s.Must(200, "PUT", "/admin/roles/authenticated/permissions",
		map[string]any{"permissions": []string{"api::article.article.find"}}, adminToken)
	r := s.Must(200, "POST", "/api/auth/local/register", map[string]any{
		"username": "reader", "email": "reader@example.com", "password": "reader password"}, "")
	userToken := r.Map(t)["jwt"].(string)

	// Both work where they belong.
	s.Must(200, "GET", "/admin/content-types", nil, adminToken)
	s.Must(200, "GET", "/api/articles", nil, userToken)
	s.Must(200, "GET", "/api/users/me", nil, userToken)

	type use struct{ method, path string }
	type forged struct {
		name  string
		token string
		uses  []use
	}
	adminUses := []use{{"GET", "/admin/content-types"}, {"GET", "/admin/users"}}
	userUses := []use{{"GET", "/api/articles"}, {"GET", "/api/users/me"}}
	cases := []forged{
		{"admin token on the content API", adminToken, userUses},
		{"end-user token on the admin API", userToken, adminUses},
	}
	other := []byte("another-secret-another-secret-another-secret")
	for _, kind := range []forged{{"admin", adminToken, adminUses}, {"end-user", userToken, userUses}} {
		good := claimsOf(t, kind.token)
		hs256 := func(f func(*jwt.RegisteredClaims)) string {
			c := good
			f(&c)
			return forge(t, jwt.SigningMethodHS256, webtest.JWTSecret, c)
		}
		cases = append(cases,
			forged{kind.name + " alg none",
				forge(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, good), kind.uses},
			forged{kind.name + " HS512",
				forge(t, jwt.SigningMethodHS512, webtest.JWTSecret, good), kind.uses},
			forged{kind.name + " wrong key", forge(t, jwt.SigningMethodHS256, other, good), kind.uses},
			forged{kind.name + " no expiry",
				hs256(func(c *jwt.RegisteredClaims) { c.ExpiresAt = nil }), kind.uses},
			forged{kind.name + " wrong issuer",
				hs256(func(c *jwt.RegisteredClaims) { c.Issuer = "strapi" }), kind.uses},
			forged{kind.name + " wrong audience",
				hs256(func(c *jwt.RegisteredClaims) { c.Audience = jwt.ClaimStrings{"herald-api"} }),
				kind.uses},
		)
	}
	for _, tc := range cases {
		for _, u := range tc.uses {
			r := s.Do(u.method, u.path, nil, tc.token)
			if r.Status != 401 || errorName(t, r) != "UnauthorizedError" {
				t.Errorf("%s, %s %s: %d %s, want 401", tc.name, u.method, u.path, r.Status, r.Body)
			}
		}
	}

	// Expiry: the admin session after its TTL, the end user's after 30 days.
	clk.Advance(admin.DefaultSessionTTL)
	s.Must(401, "GET", "/admin/content-types", nil, adminToken)
	s.Must(200, "GET", "/api/users/me", nil, userToken)
	clk.Advance(admin.DefaultUserTokenTTL)
	s.Must(401, "GET", "/api/users/me", nil, userToken)
}

func TestEndUsersSignUpSignInAndReadTheirGrants(t *testing.T) {
	s := webtest.Start(t, webtest.Options{})
	adminToken := s.RegisterAdmin()
	s.CreateType(adminToken, articleSchema)
	register := map[string]any{"username": "reader", "email": "reader@example.com",
		"password": "reader password"}

	// Registration is off unless switched on.
	r := s.Must(403, "POST", "/api/auth/local/register", register, "")
	if errorName(t, r) != "ForbiddenError" {
		t.Fatalf("registration off: %s", r.Body)
	}

	s = webtest.Start(t, webtest.Options{PublicRegistration: true})
	adminToken = s.RegisterAdmin()
	s.CreateType(adminToken, articleSchema)
	r = s.Must(200, "POST", "/api/auth/local/register", register, "")
	out := r.Map(t)
	user := out["user"].(map[string]any)
	if out["jwt"] == "" || user["username"] != "reader" || user["email"] != "reader@example.com" ||
		user["provider"] != "local" || user["password"] != nil || user["passwordHash"] != nil {
		t.Fatalf("register answer: %s", r.Body)
	}
	r = s.Must(400, "POST", "/api/auth/local/register", register, "")
	if !strings.Contains(string(r.Body), "already taken") {
		t.Errorf("second registration: %s", r.Body)
	}

	r = s.Must(200, "POST", "/api/auth/local",
		map[string]any{"identifier": "reader", "password": "reader password"}, "")
	jwtToken := r.Map(t)["jwt"].(string)
	r = s.Must(400, "POST", "/api/auth/local",
		map[string]any{"identifier": "reader", "password": "wrong password"}, "")
	if errorName(t, r) != "ValidationError" ||
		!strings.Contains(string(r.Body), "Invalid identifier or password") {
		t.Errorf("wrong password: %s", r.Body)
	}
	s.Must(400, "POST", "/api/auth/local", map[string]any{"identifier": "reader"}, "")

	me := s.Must(200, "GET", "/api/users/me", nil, jwtToken).Map(t)
	if me["username"] != "reader" || me["id"] == nil || me["data"] != nil {
		t.Errorf("/me = %v", me)
	}

	// Nothing is granted until the Authenticated role says so.
	s.Must(403, "GET", "/api/articles", nil, jwtToken)
	s.Must(200, "PUT", "/admin/roles/authenticated/permissions", map[string]any{"permissions": []string{
		"api::article.article.find", "api::article.article.create"}}, adminToken)
	s.Must(201, "POST", "/api/articles", `{"data":{"title":"By a reader"}}`, jwtToken)
	if n := len(listOf(t, s.Must(200, "GET", "/api/articles", nil, jwtToken))); n != 1 {
		t.Errorf("%d articles listed", n)
	}
	// End users never read drafts.
	s.Must(403, "GET", "/api/articles?status=draft", nil, jwtToken)
	s.Must(403, "DELETE", "/api/articles/x", nil, jwtToken)
}

func TestPublicRoleReadsGrantedTypesButNeverDrafts(t *testing.T) {
	s, adminToken, full, _ := setup(t)
	s.CreateType(adminToken, homepageSchema)
	r := s.Must(201, "POST", "/api/articles", `{"data":{"title":"Hello"}}`, full)
	id := dataOf(t, r)["documentId"].(string)

	s.Must(403, "GET", "/api/articles", nil, "")
	r = s.Must(200, "PUT", "/admin/roles/public/permissions", map[string]any{"permissions": []string{
		"api::article.article.find", "api::article.article.findOne"}}, adminToken)
	if got := dataOf(t, r)["permissions"]; fmt.Sprint(got) !=
		"[api::article.article.find api::article.article.findOne]" {
		t.Errorf("answer: %s", r.Body)
	}
	got := dataOf(t, s.Must(200, "GET", "/admin/roles/public/permissions", nil, adminToken))
	if len(got["permissions"].([]any)) != 2 {
		t.Errorf("read back: %v", got)
	}

	s.Must(200, "GET", "/api/articles", nil, "")
	s.Must(200, "GET", "/api/articles/"+id, nil, "")
	s.Must(403, "GET", "/api/articles?status=draft", nil, "")
	s.Must(403, "GET", "/api/articles/"+id+"?status=draft", nil, "")
	s.Must(403, "GET", "/api/homepage", nil, "")
	s.Must(403, "POST", "/api/articles", `{"data":{"title":"x"}}`, "")

	// The Public role may only read, and only existing types.
	for _, perms := range [][]string{{"api::article.article.create"}, {"api::nope.nope.find"},
		{"articles"}} {
		s.Must(400, "PUT", "/admin/roles/public/permissions", map[string]any{"permissions": perms},
			adminToken)
	}
	s.Must(400, "PUT", "/admin/roles/public/permissions", map[string]any{}, adminToken)

	// Revoking applies at once.
	s.Must(200, "PUT", "/admin/roles/public/permissions", map[string]any{"permissions": []string{}},
		adminToken)
	s.Must(403, "GET", "/api/articles", nil, "")
}

func TestCustomTokensAndRegeneration(t *testing.T) {
	s, adminToken, full, _ := setup(t)
	r := s.Must(201, "POST", "/api/articles", `{"data":{"title":"Hello"}}`, full)
	id := dataOf(t, r)["documentId"].(string)
	s.Must(201, "POST", "/api/articles?status=draft", `{"data":{"title":"Draft"}}`, full)

	r = s.Must(201, "POST", "/admin/api-tokens", map[string]any{"name": "lister", "type": "custom",
		"permissions": []string{"api::article.article.find"}}, adminToken)
	tok := dataOf(t, r)
	key, tokID := tok["accessKey"].(string), int(tok["id"].(float64))
	s.Must(400, "POST", "/admin/api-tokens", map[string]any{"name": "bad", "type": "custom",
		"permissions": []string{"api::missing.missing.find"}}, adminToken)

	s.Must(200, "GET", "/api/articles", nil, key)
	// A token that may find may also ask for drafts.
	if n := len(listOf(t, s.Must(200, "GET", "/api/articles?status=draft", nil, key))); n != 2 {
		t.Errorf("%d drafts", n)
	}
	s.Must(403, "GET", "/api/articles/"+id, nil, key)
	s.Must(403, "POST", "/api/articles", `{"data":{"title":"x"}}`, key)

	// Regenerating keeps the grants and kills the old key.
	r = s.Must(200, "POST", fmt.Sprintf("/admin/api-tokens/%d/regenerate", tokID), nil, adminToken)
	newKey := dataOf(t, r)["accessKey"].(string)
	s.Must(401, "GET", "/api/articles", nil, key)
	s.Must(200, "GET", "/api/articles", nil, newKey)
	s.Must(403, "GET", "/api/articles/"+id, nil, newKey)

	// Changing its permissions applies at once; lastUsedAt is kept.
	s.Must(200, "PUT", fmt.Sprintf("/admin/api-tokens/%d", tokID), map[string]any{
		"permissions": []string{"api::article.article.findOne"}}, adminToken)
	s.Must(403, "GET", "/api/articles", nil, newKey)
	s.Must(200, "GET", "/api/articles/"+id, nil, newKey)
	got := dataOf(t, s.Must(200, "GET", fmt.Sprintf("/admin/api-tokens/%d", tokID), nil, adminToken))
	if got["lastUsedAt"] == nil || got["accessKey"] != nil {
		t.Errorf("token after use: %v", got)
	}
}

func TestUsersAndRolesOverHTTP(t *testing.T) {
	s := webtest.Start(t, webtest.Options{})
	super := s.RegisterAdmin()

	// The Super Admin role is immutable, and the last Super Admin stays.
	r := s.Must(403, "PUT", "/admin/roles/1", map[string]any{"name": "Root"}, super)
	if errorName(t, r) != "ForbiddenError" {
		t.Errorf("edit Super Admin role: %s", r.Body)
	}
	s.Must(403, "DELETE", "/admin/roles/1", nil, super)
	if n := len(listOf(t, s.Must(200, "GET", "/admin/users", nil, super))); n != 1 {
		t.Fatalf("%d administrators listed", n)
	}
	s.Must(400, "PUT", "/admin/users/1", map[string]any{"roles": []int{2}}, super)
	s.Must(400, "PUT", "/admin/users/1", map[string]any{"isActive": false}, super)
	s.Must(400, "DELETE", "/admin/users/1", nil, super)
	s.Must(404, "GET", "/admin/users/99", nil, super)
	s.Must(404, "GET", "/admin/roles/abc", nil, super)

	// A custom role applies at once; a role in use cannot go.
	r = s.Must(201, "POST", "/admin/roles", map[string]any{"name": "Hooks",
		"permissions": []any{map[string]any{"action": "webhooks.read"}}}, super)
	roleID := int(dataOf(t, r)["id"].(float64))
	r = s.Must(201, "POST", "/admin/users", map[string]any{"firstname": "H",
		"email": "hooks@example.com", "password": "hooks password", "roles": []int{roleID}}, super)
	user := dataOf(t, r)
	if user["password"] != nil || user["isActive"] != true {
		t.Errorf("created user: %s", r.Body)
	}
	userID := int(user["id"].(float64))
	token := dataOf(t, s.Must(200, "POST", "/admin/login",
		map[string]any{"email": "hooks@example.com", "password": "hooks password"}, ""))["token"].(string)
	s.Must(200, "GET", "/admin/webhooks", nil, token)
	s.Must(403, "GET", "/admin/api-tokens", nil, token)
	s.Must(200, "PUT", fmt.Sprintf("/admin/roles/%d", roleID), map[string]any{
		"permissions": []any{map[string]any{"action": "tokens.manage"}}}, super)
	s.Must(403, "GET", "/admin/webhooks", nil, token)
	s.Must(200, "GET", "/admin/api-tokens", nil, token)
	s.Must(400, "DELETE", fmt.Sprintf("/admin/roles/%d", roleID), nil, super)

	// Deactivation ends the sessions at once; deletion too.
	s.Must(200, "PUT", fmt.Sprintf("/admin/users/%d", userID), map[string]any{"isActive": false}, super)
	s.Must(401, "GET", "/admin/api-tokens", nil, token)
	s.Must(401, "POST", "/admin/login",
		map[string]any{"email": "hooks@example.com", "password": "hooks password"}, "")
	s.Must(200, "DELETE", fmt.Sprintf("/admin/users/%d", userID), nil, super)
	s.Must(200, "DELETE", fmt.Sprintf("/admin/roles/%d", roleID), nil, super)
}

// limited returns the Retry-After of a 429 answer, failing the test if it
// is anything else.
func limited(t *testing.T, r *webtest.Response) int {
	t.Helper()
	if r.Status != 429 || errorName(t, r) != "RateLimitError" {
		t.Fatalf("status %d %s, want 429 RateLimitError", r.Status, r.Body)
	}
	secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || secs < 1 {
		t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	return secs
}

func TestSignInAndRegistrationAreRateLimited(t *testing.T) {
	clk := webhookstest.NewClock(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC))
	s := webtest.Start(t, webtest.Options{Now: clk.Now, PublicRegistration: true,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		Limits: admin.Limits{
			SignInPerAddress:   admin.RateLimit{Attempts: 5, Window: time.Minute},
			SignInPerAccount:   admin.RateLimit{Attempts: 3, Window: 15 * time.Minute},
			RegisterPerAddress: admin.RateLimit{Attempts: 2, Window: time.Hour},
		}})
	s.RegisterAdmin()
	from := func(addr string) http.Header {
		return http.Header{"X-Forwarded-For": {addr}}
	}
	login := func(addr, password string) *webtest.Response {
		return s.Send("POST", "/admin/login", map[string]any{"email": "ada@example.com",
			"password": password}, from(addr))
	}

	// Per account: three failures from three addresses, then even the right
	// password is refused until the wait is over.
	for _, addr := range []string{"198.51.100.1", "198.51.100.2", "198.51.100.3"} {
		if r := login(addr, "wrong password"); r.Status != 401 {
			t.Fatalf("failure from %s: %d", addr, r.Status)
		}
	}
	wait := limited(t, login("198.51.100.4", "correct horse battery"))
	if wait != 300 {
		t.Errorf("Retry-After %d, want 300 (15 minutes over 3 attempts)", wait)
	}
	clk.Advance(time.Duration(wait) * time.Second)
	if r := login("198.51.100.4", "correct horse battery"); r.Status != 200 {
		t.Fatalf("after Retry-After: %d %s", r.Status, r.Body)
	}

	// Per address: the client is the rightmost address a trusted proxy
	// names, so writing another one in front changes nothing.
	for i := 0; i < 5; i++ {
		r := s.Send("POST", "/api/auth/local", map[string]any{"identifier": fmt.Sprintf("u%d", i),
			"password": "whatever"}, from(fmt.Sprintf("10.9.9.%d, 203.0.113.7", i)))
		if r.Status != 400 {
			t.Fatalf("attempt %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	limited(t, s.Send("POST", "/api/auth/local", map[string]any{"identifier": "u9",
		"password": "whatever"}, from("10.9.9.9, 203.0.113.7")))
	// Another client is not affected.
	if r := s.Send("POST", "/api/auth/local", map[string]any{"identifier": "u9",
		"password": "whatever"}, from("203.0.113.8")); r.Status != 400 {
		t.Errorf("another client: %d", r.Status)
	}

	// Registration: two per hour from one address.
	for i := 0; i < 2; i++ {
		s.Send("POST", "/api/auth/local/register", map[string]any{"username": fmt.Sprintf("new%d", i),
			"email": fmt.Sprintf("new%d@example.com", i), "password": "a long password"},
			from("203.0.113.9"))
	}
	limited(t, s.Send("POST", "/api/auth/local/register", map[string]any{"username": "new3",
		"email": "new3@example.com", "password": "a long password"}, from("203.0.113.9")))
}

func TestUntrustedForwardedForIsIgnored(t *testing.T) {
	s := webtest.Start(t, webtest.Options{Limits: admin.Limits{
		SignInPerAddress: admin.RateLimit{Attempts: 2, Window: time.Minute}}})
	for i := 0; i < 2; i++ {
		s.Send("POST", "/admin/login", map[string]any{"email": "x@example.com", "password": "p"},
			http.Header{"X-Forwarded-For": {fmt.Sprintf("192.0.2.%d", i)}})
	}
	limited(t, s.Send("POST", "/admin/login", map[string]any{"email": "x@example.com",
		"password": "p"}, http.Header{"X-Forwarded-For": {"192.0.2.99"}}))
}

func TestCORSOnTheContentAPI(t *testing.T) {
	s := webtest.Start(t, webtest.Options{CORSOrigins: []string{"https://site.example"}})
	adminToken := s.RegisterAdmin()
	s.CreateType(adminToken, articleSchema)
	preflight := func(origin string) *webtest.Response {
		return s.Send("OPTIONS", "/api/articles", nil, http.Header{"Origin": {origin},
			"Access-Control-Request-Method":  {"GET"},
			"Access-Control-Request-Headers": {"authorization"}})
	}

	r := preflight("https://site.example")
	if r.Status != 204 || r.Header.Get("Access-Control-Allow-Origin") != "https://site.example" ||
		!strings.Contains(r.Header.Get("Access-Control-Allow-Headers"), "Authorization") ||
		!strings.Contains(r.Header.Get("Access-Control-Allow-Methods"), "PUT") ||
		!strings.Contains(r.Header.Get("Vary"), "Origin") {
		t.Errorf("allowed preflight: %d %v", r.Status, r.Header)
	}
	r = preflight("https://evil.example")
	if r.Status != 204 || r.Header.Get("Access-Control-Allow-Origin") != "" ||
		r.Header.Get("Access-Control-Allow-Methods") != "" {
		t.Errorf("refused preflight: %d %v", r.Status, r.Header)
	}

	r = s.Send("GET", "/api/articles", nil, http.Header{"Origin": {"https://site.example"}})
	if r.Status != 403 || r.Header.Get("Access-Control-Allow-Origin") != "https://site.example" ||
		!strings.Contains(r.Header.Get("Vary"), "Origin") {
		t.Errorf("simple request: %d %v", r.Status, r.Header)
	}
	r = s.Send("GET", "/api/articles", nil, http.Header{"Origin": {"https://evil.example"}})
	if r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("other origin allowed: %v", r.Header)
	}
	// The admin API is never cross-origin.
	r = s.Send("GET", "/admin/content-types", nil, http.Header{"Origin": {"https://site.example"},
		"Authorization": {"Bearer " + adminToken}})
	if r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("admin API answered cross-origin: %v", r.Header)
	}

	// By default no origin is allowed.
	s = webtest.Start(t, webtest.Options{})
	r = s.Send("OPTIONS", "/api/articles", nil, http.Header{"Origin": {"https://site.example"},
		"Access-Control-Request-Method": {"GET"}})
	if r.Status != 204 || r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("default preflight: %d %v", r.Status, r.Header)
	}
	s = webtest.Start(t, webtest.Options{CORSOrigins: []string{"*"}})
	r = s.Send("GET", "/api/articles", nil, http.Header{"Origin": {"https://any.example"}})
	if r.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("wildcard: %v", r.Header)
	}
}

func TestSecurityHeadersOnEveryAnswer(t *testing.T) {
	s := webtest.Start(t, webtest.Options{})
	s.RegisterAdmin()
	// Panel pages get a policy that lets them load Herald's own files only.
	r := s.Do("GET", "/admin/auth/sign-in", nil, "")
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("sign-in page: %d %v", r.Status, r.Header)
	}
	csp := r.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self'",
		"frame-ancestors 'none'", "object-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("panel CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || r.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("panel headers: %v", r.Header)
	}

	// Everything else may load nothing at all.
	for _, path := range []string{"/_health", "/api/articles", "/admin/users", "/nope"} {
		r := s.Do("GET", path, nil, "")
		for h, want := range map[string]string{
			"X-Content-Type-Options":  "nosniff",
			"X-Frame-Options":         "DENY",
			"Referrer-Policy":         "no-referrer",
			"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
		} {
			if got := r.Header.Get(h); got != want {
				t.Errorf("%s: %s = %q, want %q", path, h, got, want)
			}
		}
	}
}
