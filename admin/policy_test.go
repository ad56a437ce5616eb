package admin

import (
	"context"
	"testing"

	"github.com/herald-cms/herald/content"
)

func TestPolicies(t *testing.T) {
	var (
		yes = content.Grant{Allowed: true}
		own = content.Grant{Allowed: true, OwnOnly: true}
		no  = content.Grant{}
	)
	actions := []content.Action{
		content.ActionFind, content.ActionFindOne, content.ActionCreate, content.ActionUpdate,
		content.ActionDelete, content.ActionPublish, content.ActionReadDrafts,
		PermContentTypesManage, PermWebhooksRead, PermWebhooksManage, PermUsersManage,
		PermTokensManage,
	}
	cases := []struct {
		name   string
		policy content.Policy
		// want lists one grant per entry of actions.
		want []content.Grant
	}{
		{"super admin", RolePolicy(RoleSuperAdmin),
			[]content.Grant{yes, yes, yes, yes, yes, yes, yes, yes, yes, yes, yes, yes}},
		{"editor", RolePolicy(RoleEditor),
			[]content.Grant{yes, yes, yes, yes, yes, yes, yes, no, no, no, no, no}},
		{"author", RolePolicy(RoleAuthor),
			[]content.Grant{own, own, yes, own, own, no, own, no, no, no, no, no}},
		{"unknown role", RolePolicy("custom-role"),
			[]content.Grant{no, no, no, no, no, no, no, no, no, no, no, no}},
		{"read-only token", TokenPolicy(TokenReadOnly),
			[]content.Grant{yes, yes, no, no, no, no, yes, no, no, no, no, no}},
		{"full-access token", TokenPolicy(TokenFullAccess),
			[]content.Grant{yes, yes, yes, yes, yes, yes, yes, no, no, no, no, no}},
		{"custom token", TokenPolicy(TokenCustom),
			[]content.Grant{no, no, no, no, no, no, no, no, no, no, no, no}},
		{"public", PublicPolicy,
			[]content.Grant{no, no, no, no, no, no, no, no, no, no, no, no}},
	}
	ctx := context.Background()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for i, a := range actions {
				uid := "api::article.article"
				if i >= 7 {
					uid = ""
				}
				if got := tc.policy.Allow(ctx, a, uid); got != tc.want[i] {
					t.Errorf("%s: %+v, want %+v", a, got, tc.want[i])
				}
			}
			if got := tc.policy.Allow(ctx, "something.else", ""); got.Allowed &&
				tc.name != "super admin" {
				t.Errorf("unknown action allowed")
			}
		})
	}
}

func TestRoleCacheIsInvalidated(t *testing.T) {
	eachDialect(t, testRoleCacheIsInvalidated)
}

func testRoleCacheIsInvalidated(t *testing.T, h *harness) {
	ctx := context.Background()
	_, token := h.createAdmin("author@example.com", RoleAuthor)
	a, err := h.svc.AuthenticateAdmin(ctx, "Bearer "+token)
	if err != nil {
		t.Fatal(err)
	}
	if a.Can(ctx, content.ActionPublish, "api::a.a").Allowed {
		t.Fatal("author may publish")
	}

	// Swap the seeded roles' codes: the cached role survives until
	// InvalidateRoles.
	h.db.Write.Exec("UPDATE admin_roles SET code = 'tmp' WHERE id = 2")
	h.db.Write.Exec("UPDATE admin_roles SET code = 'strapi-editor' WHERE id = 3")
	a, _ = h.svc.AuthenticateAdmin(ctx, "Bearer "+token)
	if a.Can(ctx, content.ActionPublish, "api::a.a").Allowed {
		t.Fatal("role change seen before invalidation")
	}
	h.svc.InvalidateRoles()
	a, _ = h.svc.AuthenticateAdmin(ctx, "Bearer "+token)
	if !a.Can(ctx, content.ActionPublish, "api::a.a").Allowed {
		t.Error("role change not seen after invalidation")
	}
}
