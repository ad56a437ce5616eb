package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/herald-cms/herald/admin"
)

// panelSections are the first path segments under /admin the panel may
// use; the admin API uses none of them.
var panelSections = map[string]bool{
	"": true, "auth": true, "assets": true, "content-manager": true,
	"content-type-builder": true, "settings": true, "media": true,
}

func section(path string) string {
	rest := strings.TrimPrefix(path, "/admin")
	rest = strings.TrimPrefix(rest, "/")
	s, _, _ := strings.Cut(rest, "/")
	return s
}

// TestPanelRoutesDoNotCollideWithTheAdminAPI checks that panel pages and
// the admin API live under different sections of /admin.
func TestPanelRoutesDoNotCollideWithTheAdminAPI(t *testing.T) {
	d := testDeps(t)
	panel := map[string]bool{}
	for _, r := range panelRoutes(d) {
		panel[r.method+" "+r.path] = true
		if !strings.HasPrefix(r.path, "/admin") || !panelSections[section(r.path)] {
			t.Errorf("panel route %s %s is outside the panel's sections", r.method, r.path)
		}
		if r.access != open && r.access != panelAccess {
			t.Errorf("panel route %s %s has access %d", r.method, r.path, r.access)
		}
	}
	for _, r := range routes(d) {
		if panel[r.method+" "+r.path] {
			continue
		}
		if strings.HasPrefix(r.path, "/admin") && panelSections[section(r.path)] {
			t.Errorf("admin API route %s %s is in a panel section", r.method, r.path)
		}
	}
}

// TestPanelRoutesFollowTheirRules walks every guarded panel route: without
// a session it leads to sign-in (and back), a POST without the session's
// CSRF token is refused, and a route that names a permission refuses an
// Editor, whose role holds none.
func TestPanelRoutesFollowTheirRules(t *testing.T) {
	d := testDeps(t)
	app := New(d)
	ctx := t.Context()
	if _, err := d.Admin.RegisterFirstAdmin(ctx, admin.RegisterInput{
		Firstname: "Ada", Email: "ada@example.com", Password: "correct horse battery",
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Admin.CreateAdmin(ctx, admin.RegisterInput{
		Firstname: "Ed", Email: "ed@example.com", Password: "a long password",
	}, admin.RoleEditor); err != nil {
		t.Fatal(err)
	}
	sess, err := d.Admin.SignIn(ctx, "ed@example.com", "a long password")
	if err != nil {
		t.Fatal(err)
	}
	cookie := "herald_session=" + sess.Token
	token := d.Admin.CSRFToken(sess.Token)

	send := func(method, path, cookie string, form url.Values) *http.Response {
		t.Helper()
		req := httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		resp, err := app.Test(req, -1)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		resp.Body.Close()
		return resp
	}

	for _, r := range panelRoutes(d) {
		if r.access != panelAccess {
			continue
		}
		path := strings.NewReplacer(":uid", "api::x.x", ":documentId", "abc", ":id", "1").
			Replace(r.path)
		key := r.method + " " + r.path

		resp := send(r.method, path, "", nil)
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/admin/auth/sign-in") {
			t.Errorf("%s without a session: %d to %q, want 303 to sign-in", key, resp.StatusCode, loc)
		}
		if r.method == http.MethodGet && loc != "/admin/auth/sign-in?next="+url.QueryEscape(path) {
			t.Errorf("%s without a session goes to %q, which does not return to it", key, loc)
		}

		if r.method == http.MethodPost {
			resp = send(r.method, path, cookie, url.Values{"_csrf": {"forged"}})
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s with a forged CSRF token: %d, want 403", key, resp.StatusCode)
			}
		}
		if r.perm != "" {
			resp = send(r.method, path, cookie, url.Values{"_csrf": {token}})
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s as an editor: %d, want 403", key, resp.StatusCode)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("%s refusal is %s, want an HTML page", key, ct)
			}
		}
	}
}
