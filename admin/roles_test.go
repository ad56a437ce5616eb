package admin

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/herald-cms/herald/content"
)

// fieldsOf returns the joined paths of an EINVALID error's field errors.
func fieldsOf(t *testing.T, err error) []string {
	t.Helper()
	var ce *content.Error
	if !errors.As(err, &ce) || ce.Code != content.EINVALID {
		t.Fatalf("err = %v, want invalid", err)
	}
	d, _ := ce.Details.(content.ValidationDetails)
	var out []string
	for _, e := range d.Errors {
		out = append(out, strings.Join(e.Path, "."))
	}
	return out
}

func TestCustomRoleLifecycle(t *testing.T) {
	eachDialect(t, testCustomRoleLifecycle)
}

func testCustomRoleLifecycle(t *testing.T, h *harness) {
	ctx := context.Background()
	h.registerFirst()
	article := "api::article.article"
	r, err := h.svc.CreateRole(ctx, RoleInput{Name: " Reviewers ", Description: "Read and fix",
		Permissions: []Permission{
			{Action: PermContentRead},
			{Action: PermContentUpdate, Subject: &article, OwnOnly: true},
			{Action: string(PermWebhooksRead)},
		}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Name != "Reviewers" || !strings.HasPrefix(r.Code, "reviewers-") || len(r.Permissions) != 3 ||
		r.UsersCount != 0 {
		t.Errorf("created role = %+v", r)
	}
	if _, err := h.svc.CreateRole(ctx, RoleInput{Name: "Reviewers"}); !slices.Equal(
		fieldsOf(t, err), []string{"name"}) {
		t.Errorf("taken name: %v", err)
	}

	_, token := h.createAdmin("reviewer@example.com", r.Code)
	can := func(a content.Action, uid string) content.Grant {
		return h.actorOf(token).Can(ctx, a, uid)
	}
	if g := can(content.ActionUpdate, article); !g.Allowed || !g.OwnOnly {
		t.Errorf("update on articles: %+v, want own entries", g)
	}
	if can(content.ActionPublish, article).Allowed || can(PermWebhooksManage, "").Allowed {
		t.Error("role grants more than its list")
	}

	// Changes apply to its administrators' next request.
	upd, err := h.svc.UpdateRole(ctx, r.ID, RolePatch{Permissions: &[]Permission{
		{Action: PermContentPublish, Subject: &article}}})
	if err != nil {
		t.Fatal(err)
	}
	if upd.Name != "Reviewers" || upd.Description != "Read and fix" || upd.UsersCount != 1 {
		t.Errorf("updated role = %+v", upd)
	}
	if !can(content.ActionPublish, article).Allowed || can(content.ActionFind, article).Allowed {
		t.Error("new permissions not applied at once")
	}

	// A role with administrators cannot be deleted; an empty one can.
	if _, err := h.svc.DeleteRole(ctx, r.ID); !content.IsCode(err, content.EINVALID) {
		t.Errorf("delete a role in use: %v", err)
	}
	empty, _ := h.svc.CreateRole(ctx, RoleInput{Name: "Empty"})
	if _, err := h.svc.DeleteRole(ctx, empty.ID); err != nil {
		t.Errorf("delete an empty role: %v", err)
	}
	if _, err := h.svc.GetRole(ctx, empty.ID); !content.IsCode(err, content.ENOTFOUND) {
		t.Errorf("deleted role: %v", err)
	}

	roles, err := h.svc.ListRoles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(roles) != 4 || roles[0].Code != RoleSuperAdmin || roles[0].UsersCount != 1 ||
		len(roles[0].Permissions) != len(permissionNames()) {
		t.Errorf("roles = %+v", roles)
	}
}

func TestSuperAdminRoleIsImmutable(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	id := roleID(t, h, RoleSuperAdmin)
	_, err := h.svc.UpdateRole(ctx, id, RolePatch{Name: ptr("Root")})
	if !content.IsCode(err, content.EFORBIDDEN) {
		t.Errorf("update Super Admin: %v", err)
	}
	if _, err := h.svc.DeleteRole(ctx, id); !content.IsCode(err, content.EFORBIDDEN) {
		t.Errorf("delete Super Admin: %v", err)
	}
	// Editor and Author are editable permission lists.
	editor := roleID(t, h, RoleEditor)
	r, err := h.svc.UpdateRole(ctx, editor, RolePatch{Description: ptr("Edits")})
	if err != nil || len(r.Permissions) != 5 {
		t.Errorf("update Editor: %+v %v", r, err)
	}
}

func TestRolePermissionsAreChecked(t *testing.T) {
	h := newHarness(t)
	h.svc.typeExists = func(uid string) bool { return uid == "api::article.article" }
	ctx := context.Background()
	missing, malformed := "api::page.page", "article"
	_, err := h.svc.CreateRole(ctx, RoleInput{Name: "Bad", Permissions: []Permission{
		{Action: "content.read"},
		{Action: "content.destroy"},
		{Action: PermContentRead, Subject: &missing},
		{Action: PermContentRead, Subject: &malformed},
		{Action: PermContentCreate, OwnOnly: true},
		{Action: string(PermUsersManage), Subject: &missing},
		{Action: string(PermTokensManage), OwnOnly: true},
		{Action: "content.read"},
	}})
	want := []string{"permissions.1.action", "permissions.2.subject", "permissions.3.subject",
		"permissions.4.ownOnly", "permissions.5.subject", "permissions.6.ownOnly",
		"permissions.7.action"}
	if got := fieldsOf(t, err); !slices.Equal(got, want) {
		t.Errorf("errors on %v, want %v", got, want)
	}
	if _, err := h.svc.CreateRole(ctx, RoleInput{}); !slices.Equal(fieldsOf(t, err), []string{"name"}) {
		t.Errorf("no name: %v", err)
	}
}

func TestEndUserRolePermissions(t *testing.T) {
	eachDialect(t, testEndUserRolePermissions)
}

func testEndUserRolePermissions(t *testing.T, h *harness) {
	ctx := context.Background()
	h.svc.typeExists = func(uid string) bool { return uid == "api::article.article" }
	article := "api::article.article"
	public := func() content.Actor {
		a, err := h.svc.AuthenticateAPI(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	if public().Can(ctx, content.ActionFind, article).Allowed {
		t.Fatal("the Public role grants something by default")
	}

	_, err := h.svc.SetEndUserPermissions(ctx, RolePublic, []string{
		"api::article.article.find", "api::article.article.create", "api::page.page.find",
		"api::article.article.publish", "nonsense"})
	want := []string{"permissions.1", "permissions.2", "permissions.3", "permissions.4"}
	if got := fieldsOf(t, err); !slices.Equal(got, want) {
		t.Errorf("errors on %v, want %v", got, want)
	}

	got, err := h.svc.SetEndUserPermissions(ctx, RolePublic, []string{
		"api::article.article.findOne", "api::article.article.find", "api::article.article.find"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string{"api::article.article.find", "api::article.article.findOne"}) {
		t.Errorf("stored %v", got)
	}
	a := public()
	if !a.Can(ctx, content.ActionFind, article).Allowed ||
		!a.Can(ctx, content.ActionFindOne, article).Allowed {
		t.Error("granted reads not applied at once")
	}
	// Drafts are never public.
	if a.Can(ctx, content.ActionReadDrafts, article).Allowed {
		t.Error("the Public role reads drafts")
	}
	// Even a grant written behind the service's back stays find and findOne.
	h.db.Write.Exec("UPDATE end_user_roles SET permissions = ? WHERE type = 'public'",
		`["api::article.article.delete"]`)
	h.svc.InvalidateRoles()
	if public().Can(ctx, content.ActionDelete, article).Allowed {
		t.Error("the Public role deletes")
	}

	got, err = h.svc.SetEndUserPermissions(ctx, RoleAuthenticated, []string{
		"api::article.article.create", "api::article.article.find"})
	if err != nil || len(got) != 2 {
		t.Fatalf("authenticated: %v %v", got, err)
	}
	if perms, _ := h.svc.EndUserPermissions(ctx, RoleAuthenticated); len(perms) != 2 {
		t.Errorf("read back %v", perms)
	}
	if _, err := h.svc.SetEndUserPermissions(ctx, "admin", nil); !content.IsCode(err, content.ENOTFOUND) {
		t.Errorf("unknown role: %v", err)
	}
}
