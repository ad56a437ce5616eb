package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-cms/herald/web/webtest"
)

func TestPanelFirstRunRegistersTheFirstAdministrator(t *testing.T) {
	s := webtest.Start(t, webtest.Options{})
	b := newPanelBrowser(t, s)

	b.get("/admin").must(t, 303, "/admin/auth/register")
	b.get("/admin/auth/sign-in").must(t, 303, "/admin/auth/register")
	reg := b.get("/admin/auth/register").must(t, 200, "")
	if !reg.has("Create the first administrator") {
		t.Fatalf("register panelPage: %s", panelExcerpt(reg.body))
	}

	bad := b.post("/admin/auth/register", url.Values{
		"firstname": {"Ada"}, "email": {"not-an-email"}, "password": {"short"},
	}).must(t, 422, "")
	for _, want := range []string{
		`id="email-error"`, "email must be a valid email address",
		`id="password-error"`, `aria-invalid="true"`, `value="Ada"`,
	} {
		if !bad.has(want) {
			t.Errorf("invalid registration panelPage lacks %q", want)
		}
	}

	done := b.post("/admin/auth/register", url.Values{
		"firstname": {"Ada"}, "lastname": {"Admin"}, "email": {"ada@example.com"},
		"password": {"correct horse battery"},
	}).must(t, 303, "/admin/content-type-builder/new")
	cookie := panelSessionCookie(t, done)
	if !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/admin" ||
		cookie.Secure {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Lax, Path=/admin, not Secure", cookie)
	}
	if cookie.Expires.IsZero() {
		t.Errorf("session cookie %+v does not expire with the session", cookie)
	}

	b.get("/admin").must(t, 303, "/admin/content-manager")
	b.get("/admin/auth/register").must(t, 303, "/admin/auth/sign-in")
	other := newPanelBrowser(t, s)
	other.get("/admin").must(t, 303, "/admin/auth/sign-in")
}

func panelSessionCookie(t *testing.T, p *panelPage) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: p.header}).Cookies() {
		if c.Name == "herald_session" && c.Value != "" {
			return c
		}
	}
	t.Fatalf("no session cookie in %v", p.header["Set-Cookie"])
	return nil
}

func TestPanelSignInAndOut(t *testing.T) {
	s := webtest.Start(t, webtest.Options{})
	panelRegister(t, s)
	b := newPanelBrowser(t, s)

	b.get("/admin/content-manager").must(t, 303, "/admin/auth/sign-in?next=%2Fadmin%2Fcontent-manager")
	b.get("/admin/auth/sign-in?next=/admin/content-manager").must(t, 200, "")
	wrong := b.post("/admin/auth/sign-in", url.Values{
		"email": {"ada@example.com"}, "password": {"wrong password"}, "next": {"/admin/content-manager"},
	}).must(t, 401, "")
	if !wrong.has("The email or password is not right.") || !wrong.has(`value="ada@example.com"`) {
		t.Fatalf("wrong password panelPage: %s", panelExcerpt(wrong.body))
	}
	b.post("/admin/auth/sign-in", url.Values{
		"email": {"ada@example.com"}, "password": {"correct horse battery"},
		"next": {"/admin/settings/webhooks"},
	}).must(t, 303, "/admin/settings/webhooks")
	home := b.get("/admin/content-manager").must(t, 200, "")
	if !home.has("Signed in as ada@example.com") {
		t.Fatalf("dashboard: %s", panelExcerpt(home.body))
	}

	b.post("/admin/auth/sign-out", nil).must(t, 303, "/admin/auth/sign-in")
	b.get("/admin/content-manager").must(t, 303, "/admin/auth/sign-in")
}

func TestPanelSignInReturnsOnlyToPanelPages(t *testing.T) {
	s := webtest.Start(t, webtest.Options{})
	panelRegister(t, s)
	for _, next := range []string{
		"https://evil.example/", "//evil.example/admin", "/api/articles", "/admin/auth/sign-out",
		`/\evil.example`, "javascript:alert(1)",
	} {
		b := newPanelBrowser(t, s)
		b.get("/admin/auth/sign-in").must(t, 200, "")
		b.post("/admin/auth/sign-in", url.Values{
			"email": {"ada@example.com"}, "password": {"correct horse battery"}, "next": {next},
		}).must(t, 303, "/admin/content-manager")
	}
}

func TestPanelExpiredSessionReturnsToTheWantedPage(t *testing.T) {
	var mu sync.Mutex
	now := time.Now() // the cookie jar drops cookies that expired by its own clock
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	s := webtest.Start(t, webtest.Options{Now: clock})
	b := panelRegister(t, s)
	b.get("/admin/settings/webhooks").must(t, 200, "")

	mu.Lock()
	now = now.Add(9 * time.Hour)
	mu.Unlock()

	back := b.get("/admin/settings/webhooks?x=1").
		must(t, 303, "/admin/auth/sign-in?next=%2Fadmin%2Fsettings%2Fwebhooks%3Fx%3D1")
	form := b.follow(back).must(t, 200, "")
	if !form.has(`name="next" value="/admin/settings/webhooks?x=1"`) {
		t.Fatalf("sign-in form does not carry the wanted panelPage: %s", panelExcerpt(form.body))
	}
	b.post("/admin/auth/sign-in", url.Values{
		"email": {"ada@example.com"}, "password": {"correct horse battery"},
		"next": {"/admin/settings/webhooks?x=1"},
	}).must(t, 303, "/admin/settings/webhooks?x=1")
	b.get("/admin/settings/webhooks?x=1").must(t, 200, "")
}

func TestPanelCookieIsSecureBehindHTTPS(t *testing.T) {
	s := webtest.Start(t, webtest.Options{})
	b := newPanelBrowser(t, s)
	b.get("/admin/auth/register").must(t, 200, "")
	form := url.Values{
		"firstname": {"Ada"}, "email": {"ada@example.com"}, "password": {"correct horse battery"},
		"_csrf": {b.csrf},
	}
	req, err := http.NewRequest("POST", s.URL+"/admin/auth/register", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-Proto", "https")
	p := b.do(req).must(t, 303, "")
	if c := panelSessionCookie(t, p); !c.Secure {
		t.Errorf("session cookie over https is not Secure: %+v", c)
	}
}

func TestPanelFormsNeedTheirCSRFToken(t *testing.T) {
	s := webtest.Start(t, webtest.Options{})

	anon := newPanelBrowser(t, s)
	anon.get("/admin/auth/register").must(t, 200, "")
	anon.post("/admin/auth/register", url.Values{
		"firstname": {"Ada"}, "email": {"ada@example.com"}, "password": {"correct horse battery"},
		"_csrf": {"forged"},
	}).must(t, 403, "")

	b := panelRegister(t, s)
	for _, path := range []string{
		"/admin/auth/sign-out", "/admin/content-type-builder", "/admin/settings/webhooks",
		"/admin/content-manager/preview",
	} {
		b.post(path, url.Values{"_csrf": {""}}).must(t, 403, "")
		b.post(path, url.Values{"_csrf": {"forged"}}).must(t, 403, "")
	}
	other := panelSignIn(t, s, "ada@example.com", "correct horse battery")
	b.post("/admin/auth/sign-out", url.Values{"_csrf": {other.csrf}}).must(t, 403, "")
	b.post("/admin/auth/sign-out", nil).must(t, 303, "/admin/auth/sign-in")
}
