package web

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/herald-cms/herald/admin"
	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/content/contenttest"
	"github.com/herald-cms/herald/content/media"
	"github.com/herald-cms/herald/webhooks"
)

func testDeps(t *testing.T) Deps {
	t.Helper()
	db := contenttest.OpenDB(t)
	hooks, err := webhooks.New(db, webhooks.Config{})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := content.NewService(t.Context(), db, content.Config{Events: hooks})
	if err != nil {
		t.Fatal(err)
	}
	as, err := admin.New(db, admin.Config{
		JWTSecret: []byte(strings.Repeat("j", 32)), TokenSalt: []byte(strings.Repeat("s", 32)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ms, err := media.New(db, media.Config{Storage: media.Dir{Path: t.TempDir()}, Events: hooks})
	if err != nil {
		t.Fatal(err)
	}
	return Deps{Content: cs, Admin: as, Webhooks: hooks, Media: ms}
}

// TestEveryRouteHasARule checks that the app serves exactly the route table,
// so a handler registered anywhere else fails here.
func TestEveryRouteHasARule(t *testing.T) {
	d := testDeps(t)
	declared := map[string]bool{}
	for _, r := range routes(d) {
		declared[r.method+" "+r.path] = true
	}
	app := New(d)
	for _, r := range app.GetRoutes(true) {
		if r.Path == "/" && r.Method != "GET" {
			continue // the catch-all not-found middleware
		}
		if !declared[r.Method+" "+r.Path] && !(r.Method == "HEAD" && declared["GET "+r.Path]) {
			t.Errorf("route %s %s is not in the route table", r.Method, r.Path)
		}
	}
}

// TestGuardedRoutesRefuseAnonymousCallers walks the route table: admin
// routes answer 401 without a token, content routes 403 (or 404 for a type
// that does not exist), and only the open routes let anyone through.
func TestGuardedRoutesRefuseAnonymousCallers(t *testing.T) {
	d := testDeps(t)
	app := New(d)
	for _, r := range routes(d) {
		path := strings.NewReplacer(":uid", "api::x.x", ":documentId", "abc", ":id", "1",
			":name", "things").Replace(r.path)
		req := httptest.NewRequest(r.method, path, strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/json")
		resp, err := app.Test(req, -1)
		if err != nil {
			t.Fatalf("%s %s: %v", r.method, path, err)
		}
		resp.Body.Close()
		switch r.access {
		case adminAccess:
			if resp.StatusCode != 401 {
				t.Errorf("%s %s without credentials: %d, want 401", r.method, r.path, resp.StatusCode)
			}
		case apiAccess:
			if resp.StatusCode != 403 && resp.StatusCode != 404 {
				t.Errorf("%s %s without credentials: %d, want 403 or 404", r.method, r.path, resp.StatusCode)
			}
		case userAccess:
			if resp.StatusCode != 401 {
				t.Errorf("%s %s without credentials: %d, want 401", r.method, r.path, resp.StatusCode)
			}
		case metricsAccess:
			if resp.StatusCode != 404 {
				t.Errorf("%s %s with metrics off: %d, want 404", r.method, r.path, resp.StatusCode)
			}
		}
	}
}
