package admin

import (
	"context"
	"testing"
	"time"

	"github.com/herald-cms/herald/content"
)

var (
	yes = content.Grant{Allowed: true}
	own = content.Grant{Allowed: true, OwnOnly: true}
	no  = content.Grant{}
)

// policyActions are the actions the policy tables list a grant for, in
// order; the first seven are asked on api::article.article, the others
// with no uid.
var policyActions = []content.Action{
	content.ActionFind, content.ActionFindOne, content.ActionCreate, content.ActionUpdate,
	content.ActionDelete, content.ActionPublish, content.ActionReadDrafts,
	PermContentTypesManage, PermWebhooksRead, PermWebhooksManage, PermUsersManage,
	PermTokensManage,
}

// checkGrants asks policy every action of policyActions and compares.
func checkGrants(t *testing.T, policy content.Policy, want []content.Grant) {
	t.Helper()
	ctx := context.Background()
	for i, a := range policyActions {
		uid := "api::article.article"
		if i >= 7 {
			uid = ""
		}
		if got := policy.Allow(ctx, a, uid); got != want[i] {
			t.Errorf("%s: %+v, want %+v", a, got, want[i])
		}
	}
}

func TestTokenPolicies(t *testing.T) {
	cases := []struct {
		name   string
		policy content.Policy
		want   []content.Grant
	}{
		{"read-only", TokenPolicy(TokenReadOnly, nil),
			[]content.Grant{yes, yes, no, no, no, no, yes, no, no, no, no, no}},
		{"full-access", TokenPolicy(TokenFullAccess, nil),
			[]content.Grant{yes, yes, yes, yes, yes, yes, yes, no, no, no, no, no}},
		{"custom without permissions", TokenPolicy(TokenCustom, nil),
			[]content.Grant{no, no, no, no, no, no, no, no, no, no, no, no}},
		{"custom reader", TokenPolicy(TokenCustom, []string{"api::article.article.find"}),
			[]content.Grant{yes, no, no, no, no, no, yes, no, no, no, no, no}},
		{"custom writer", TokenPolicy(TokenCustom, []string{"api::article.article.create",
			"api::article.article.delete"}),
			[]content.Grant{no, no, yes, no, yes, yes, no, no, no, no, no, no}},
		{"custom on another type", TokenPolicy(TokenCustom, []string{"api::page.page.find",
			"api::page.page.update"}),
			[]content.Grant{no, no, no, no, no, no, no, no, no, no, no, no}},
		{"unknown type", TokenPolicy("admin", []string{"api::article.article.find"}),
			[]content.Grant{no, no, no, no, no, no, no, no, no, no, no, no}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { checkGrants(t, tc.policy, tc.want) })
	}
}

func TestRolePermissionsCompile(t *testing.T) {
	article := "api::article.article"
	cases := []struct {
		name  string
		perms []Permission
		want  []content.Grant
	}{
		{"nothing", nil,
			[]content.Grant{no, no, no, no, no, no, no, no, no, no, no, no}},
		{"read one type", []Permission{{Action: PermContentRead, Subject: &article}},
			[]content.Grant{yes, yes, no, no, no, no, yes, no, no, no, no, no}},
		{"own everywhere, all on the type",
			[]Permission{{Action: PermContentUpdate, OwnOnly: true},
				{Action: PermContentUpdate, Subject: &article}},
			[]content.Grant{no, no, no, yes, no, no, no, no, no, no, no, no}},
		{"own entries", []Permission{{Action: PermContentRead, OwnOnly: true},
			{Action: PermContentPublish, OwnOnly: true}},
			[]content.Grant{own, own, no, no, no, own, own, no, no, no, no, no}},
		{"settings", []Permission{{Action: string(PermWebhooksRead)},
			{Action: string(PermUsersManage)}},
			[]content.Grant{no, no, no, no, no, no, no, no, yes, no, yes, no}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { checkGrants(t, rolePolicy(tc.perms), tc.want) })
	}
}

func TestBuiltInRolesGrantTheirDefaults(t *testing.T) {
	eachDialect(t, testBuiltInRolesGrantTheirDefaults)
}

func testBuiltInRolesGrantTheirDefaults(t *testing.T, h *harness) {
	ctx := context.Background()
	cases := []struct {
		code string
		want []content.Grant
	}{
		{RoleSuperAdmin, []content.Grant{yes, yes, yes, yes, yes, yes, yes, yes, yes, yes, yes, yes}},
		{RoleEditor, []content.Grant{yes, yes, yes, yes, yes, yes, yes, no, no, no, no, no}},
		{RoleAuthor, []content.Grant{own, own, yes, own, own, no, own, no, no, no, no, no}},
	}
	for _, tc := range cases {
		t.Run(tc.code, func(t *testing.T) {
			u, token := h.createAdmin(tc.code+"@example.com", tc.code)
			a, err := h.svc.AuthenticateAdmin(ctx, "Bearer "+token)
			if err != nil {
				t.Fatal(err)
			}
			if a.ID != u.ID || a.Kind != content.ActorAdmin {
				t.Errorf("actor = %+v", a)
			}
			checkGrants(t, a.Policy, tc.want)
		})
	}
}

func TestRoleCacheIsInvalidated(t *testing.T) {
	eachDialect(t, testRoleCacheIsInvalidated)
}

func testRoleCacheIsInvalidated(t *testing.T, h *harness) {
	ctx := context.Background()
	_, token := h.createAdmin("author@example.com", RoleAuthor)
	canPublish := func() bool {
		t.Helper()
		a, err := h.svc.AuthenticateAdmin(ctx, "Bearer "+token)
		if err != nil {
			t.Fatal(err)
		}
		return a.Can(ctx, content.ActionPublish, "api::a.a").Allowed
	}
	if canPublish() {
		t.Fatal("author may publish")
	}

	// A change behind the service's back: the cached grants survive until
	// InvalidateRoles, or until the cache's TTL passes.
	grant := `[{"action":"content.publish","subject":null,"ownOnly":false}]`
	h.db.Write.Exec("UPDATE admin_roles SET permissions = ? WHERE code = ?", grant, RoleAuthor)
	if canPublish() {
		t.Fatal("role change seen before invalidation")
	}
	h.svc.InvalidateRoles()
	if !canPublish() {
		t.Error("role change not seen after invalidation")
	}

	h.db.Write.Exec("UPDATE admin_roles SET permissions = '[]' WHERE code = ?", RoleAuthor)
	h.clock.Add(cacheTTL - time.Millisecond)
	if !canPublish() {
		t.Error("cache dropped before its TTL")
	}
	h.clock.Add(time.Millisecond)
	if canPublish() {
		t.Error("role change not seen once the cache's TTL passed")
	}
}
