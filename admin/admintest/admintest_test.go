package admintest_test

import (
	"context"
	"testing"

	"github.com/herald-cms/herald/admin"
	"github.com/herald-cms/herald/admin/admintest"
	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/content/contenttest"
)

func TestSignInAndCreateTokenAuthenticate(t *testing.T) {
	svc := admintest.NewService(t, contenttest.OpenDB(t), nil)
	ctx := context.Background()

	u, token := admintest.SignIn(t, svc, admin.RoleAuthor)
	a, err := svc.AuthenticateAdmin(ctx, "Bearer "+token)
	if err != nil || a.ID != u.ID || a.Kind != content.ActorAdmin {
		t.Fatalf("admin actor %+v, %v", a, err)
	}
	if g := a.Can(ctx, content.ActionUpdate, "api::a.a"); !g.OwnOnly {
		t.Errorf("author update grant %+v, want own only", g)
	}

	tok := admintest.CreateToken(t, svc, admin.TokenReadOnly)
	a, err = svc.AuthenticateAPI(ctx, "Bearer "+tok.AccessKey)
	if err != nil || a.ID != tok.ID || a.Kind != content.ActorToken {
		t.Fatalf("token actor %+v, %v", a, err)
	}
}
