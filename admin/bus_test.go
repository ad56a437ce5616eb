package admin

import (
	"context"
	"testing"
	"time"

	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/content/contenttest"
)

// TestPermissionChangesReachOtherInstancesAtOnce changes the Public role's
// grants on one instance; another instance, whose clock never lets its
// cache expire, must follow within the second rather than never.
func TestPermissionChangesReachOtherInstancesAtOnce(t *testing.T) {
	ctx := context.Background()
	u := contenttest.PostgresSchema(t)
	a := newHarnessOn(t, contenttest.Open(t, u))
	b := newHarnessOn(t, contenttest.Open(t, u))
	const uid = "api::article.article"

	canFind := func(h *harness) bool {
		actor, err := h.svc.AuthenticateAPI(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		return actor.Can(ctx, content.ActionFind, uid).Allowed
	}
	if canFind(b) {
		t.Fatal("public may find before any grant")
	}

	if _, err := a.svc.SetEndUserPermissions(ctx, RolePublic, []string{uid + ".find"}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for !canFind(b) {
		if time.Since(start) > time.Second {
			t.Fatal("the other instance still refuses after a second: its cache was not dropped")
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("the other instance follows after %s", time.Since(start))

	if _, err := b.svc.SetEndUserPermissions(ctx, RolePublic, nil); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	for canFind(a) {
		if time.Since(start) > time.Second {
			t.Fatal("the first instance still grants after a second")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
