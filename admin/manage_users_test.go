package admin

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/herald-cms/herald/content"
)

// actorOf authenticates a token as the web layer does.
func (h *harness) actorOf(token string) content.Actor {
	h.t.Helper()
	a, err := h.svc.AuthenticateAdmin(context.Background(), "Bearer "+token)
	if err != nil {
		h.t.Fatalf("authenticate: %v", err)
	}
	return a
}

func roleID(t *testing.T, h *harness, code string) int64 {
	t.Helper()
	r, err := h.svc.roleByCode(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	return r.ID
}

func ptr[T any](v T) *T { return &v }

func TestLastActiveSuperAdminStays(t *testing.T) {
	eachDialect(t, testLastActiveSuperAdminStays)
}

func testLastActiveSuperAdminStays(t *testing.T, h *harness) {
	ctx := context.Background()
	first := h.registerFirst()
	me := h.actorOf(first)
	editor := roleID(t, h, RoleEditor)
	super := roleID(t, h, RoleSuperAdmin)

	refusals := []struct {
		name  string
		patch UserPatch
	}{
		{"demote", UserPatch{Roles: &[]int64{editor}}},
		{"deactivate", UserPatch{IsActive: ptr(false)}},
	}
	for _, tc := range refusals {
		_, err := h.svc.UpdateUser(ctx, me, me.ID, tc.patch)
		if !content.IsCode(err, content.EINVALID) {
			t.Errorf("%s the last Super Admin: %v, want invalid", tc.name, err)
		}
	}
	if _, err := h.svc.DeleteUser(ctx, me, me.ID); !content.IsCode(err, content.EINVALID) {
		t.Errorf("delete the last Super Admin: %v, want invalid", err)
	}
	// A change that keeps it an active Super Admin is fine.
	if _, err := h.svc.UpdateUser(ctx, me, me.ID, UserPatch{Lastname: ptr("L"),
		Roles: &[]int64{super}, IsActive: ptr(true)}); err != nil {
		t.Errorf("harmless change: %v", err)
	}

	// With a second one, the first may step down; then the second is the
	// last and stays.
	second, err := h.svc.CreateUser(ctx, me, UserInput{Firstname: "S", Email: "s@example.com",
		Password: "second password", Roles: []int64{super}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.UpdateUser(ctx, me, me.ID, UserPatch{Roles: &[]int64{editor}}); err != nil {
		t.Fatalf("demote with another Super Admin left: %v", err)
	}
	system := content.SystemActor
	_, err = h.svc.UpdateUser(ctx, system, second.ID, UserPatch{IsActive: ptr(false)})
	if !content.IsCode(err, content.EINVALID) {
		t.Errorf("deactivate the remaining Super Admin: %v, want invalid", err)
	}
	// An inactive Super Admin does not count.
	third, err := h.svc.CreateUser(ctx, system, UserInput{Firstname: "T", Email: "t@example.com",
		Password: "third password", Roles: []int64{super}, IsActive: ptr(false)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.DeleteUser(ctx, system, second.ID); !content.IsCode(err, content.EINVALID) {
		t.Errorf("delete the only active Super Admin: %v, want invalid", err)
	}
	if _, err := h.svc.DeleteUser(ctx, system, third.ID); err != nil {
		t.Errorf("delete an inactive Super Admin: %v", err)
	}
}

func TestOnlySuperAdminsMakeOrChangeSuperAdmins(t *testing.T) {
	eachDialect(t, testOnlySuperAdminsMakeOrChangeSuperAdmins)
}

func testOnlySuperAdminsMakeOrChangeSuperAdmins(t *testing.T, h *harness) {
	ctx := context.Background()
	first := h.registerFirst()
	superID := h.actorOf(first).ID
	super := roleID(t, h, RoleSuperAdmin)
	manager, err := h.svc.CreateRole(ctx, RoleInput{Name: "Managers",
		Permissions: []Permission{{Action: string(PermUsersManage)}}})
	if err != nil {
		t.Fatal(err)
	}
	mgr, token := h.createAdmin("manager@example.com", manager.Code)
	actor := h.actorOf(token)
	if !actor.Can(ctx, PermUsersManage, "").Allowed {
		t.Fatal("the manager role does not grant users.manage")
	}

	_, err = h.svc.CreateUser(ctx, actor, UserInput{Firstname: "X", Email: "x@example.com",
		Password: "x password!", Roles: []int64{super}})
	if !content.IsCode(err, content.EFORBIDDEN) {
		t.Errorf("manager creates a Super Admin: %v, want forbidden", err)
	}
	_, err = h.svc.UpdateUser(ctx, actor, mgr.ID, UserPatch{Roles: &[]int64{super}})
	if !content.IsCode(err, content.EFORBIDDEN) {
		t.Errorf("manager promotes itself: %v, want forbidden", err)
	}
	_, err = h.svc.UpdateUser(ctx, actor, superID, UserPatch{Lastname: ptr("changed")})
	if !content.IsCode(err, content.EFORBIDDEN) {
		t.Errorf("manager changes a Super Admin: %v, want forbidden", err)
	}
	_, err = h.svc.DeleteUser(ctx, actor, superID)
	if !content.IsCode(err, content.EFORBIDDEN) {
		t.Errorf("manager deletes a Super Admin: %v, want forbidden", err)
	}
	// Other administrators are the manager's to manage.
	u, err := h.svc.CreateUser(ctx, actor, UserInput{Firstname: "E", Email: "e@example.com",
		Password: "e password!", Roles: []int64{roleID(t, h, RoleEditor)}})
	if err != nil {
		t.Fatalf("manager creates an Editor: %v", err)
	}
	if _, err := h.svc.DeleteUser(ctx, actor, u.ID); err != nil {
		t.Errorf("manager deletes an Editor: %v", err)
	}
}

func TestDeactivationAndPasswordChangeEndSessions(t *testing.T) {
	eachDialect(t, testDeactivationAndPasswordChangeEndSessions)
}

func testDeactivationAndPasswordChangeEndSessions(t *testing.T, h *harness) {
	ctx := context.Background()
	first := h.registerFirst()
	me := h.actorOf(first)
	u, token := h.createAdmin("editor@example.com", RoleEditor)

	if _, err := h.svc.UpdateUser(ctx, me, u.ID, UserPatch{IsActive: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	mustStatus(t, h.do("GET", "/admin/whoami", token, nil), 401)
	if _, err := h.svc.SignIn(ctx, "editor@example.com", "password-editor@example.com"); err == nil {
		t.Error("a deactivated administrator signed in")
	}
	// Reactivation does not bring the old session back.
	if _, err := h.svc.UpdateUser(ctx, me, u.ID, UserPatch{IsActive: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	mustStatus(t, h.do("GET", "/admin/whoami", token, nil), 401)

	sess, err := h.svc.SignIn(ctx, "editor@example.com", "password-editor@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.UpdateUser(ctx, me, u.ID, UserPatch{Password: ptr("a new password")}); err != nil {
		t.Fatal(err)
	}
	mustStatus(t, h.do("GET", "/admin/whoami", sess.Token, nil), 401)
	if _, err := h.svc.SignIn(ctx, "editor@example.com", "a new password"); err != nil {
		t.Errorf("new password refused: %v", err)
	}
	// The acting administrator's own session is untouched.
	mustStatus(t, h.do("GET", "/admin/whoami", first, nil), 200)
}

func TestUserInputIsChecked(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	me := h.actorOf(h.registerFirst())
	editor := roleID(t, h, RoleEditor)
	cases := []struct {
		name  string
		in    UserInput
		field string
	}{
		{"no role", UserInput{Firstname: "A", Email: "a@example.com", Password: "long password"},
			"roles"},
		{"two roles", UserInput{Firstname: "A", Email: "a@example.com", Password: "long password",
			Roles: []int64{editor, editor}}, "roles"},
		{"unknown role", UserInput{Firstname: "A", Email: "a@example.com",
			Password: "long password", Roles: []int64{99}}, "roles"},
		{"taken email", UserInput{Firstname: "A", Email: "ADA@example.com",
			Password: "long password", Roles: []int64{editor}}, "email"},
		{"short password", UserInput{Firstname: "A", Email: "b@example.com", Password: "short",
			Roles: []int64{editor}}, "password"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.svc.CreateUser(ctx, me, tc.in)
			var ce *content.Error
			if !errors.As(err, &ce) || ce.Code != content.EINVALID {
				t.Fatalf("err = %v, want invalid", err)
			}
			d, ok := ce.Details.(content.ValidationDetails)
			if !ok || d.Errors[0].Path[0] != tc.field {
				t.Errorf("details %+v, want an error on %s", ce.Details, tc.field)
			}
		})
	}

	other, err := h.svc.CreateUser(ctx, me, UserInput{Firstname: "O", Email: "o@example.com",
		Password: "long password", Roles: []int64{editor}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.svc.UpdateUser(ctx, me, other.ID, UserPatch{Email: ptr("ada@example.com")})
	if !content.IsCode(err, content.EINVALID) {
		t.Errorf("update to a taken email: %v", err)
	}
	if _, err := h.svc.GetUser(ctx, 999); !content.IsCode(err, content.ENOTFOUND) {
		t.Errorf("missing user: %v", err)
	}
}

func TestConcurrentDemotionsLeaveOneSuperAdmin(t *testing.T) {
	eachDialect(t, testConcurrentDemotionsLeaveOneSuperAdmin)
}

func testConcurrentDemotionsLeaveOneSuperAdmin(t *testing.T, h *harness) {
	ctx := context.Background()
	super := roleID(t, h, RoleSuperAdmin)
	editor := roleID(t, h, RoleEditor)
	var ids []int64
	for _, email := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		u, err := h.svc.CreateUser(ctx, content.SystemActor, UserInput{Firstname: "S",
			Email: email, Password: "long password", Roles: []int64{super}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	errs := make(chan error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if i%2 == 0 {
				_, err = h.svc.UpdateUser(ctx, content.SystemActor, id, UserPatch{Roles: &[]int64{editor}})
			} else {
				_, err = h.svc.DeleteUser(ctx, content.SystemActor, id)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	refused := 0
	for err := range errs {
		switch {
		case err == nil:
		case content.IsCode(err, content.EINVALID):
			refused++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	var left int64
	h.db.Read.Model(&userRow{}).Where("role_id = ? AND is_active", super).Count(&left)
	if left != 1 || refused != 1 {
		t.Errorf("%d active Super Admins left, %d refusals; want 1 and 1", left, refused)
	}
}
