package admin

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/herald-cms/herald/content"
)

func TestRegisterFirstAdminThenRegistrationIsClosed(t *testing.T) {
	eachDialect(t, testRegisterFirstAdminThenRegistrationIsClosed)
}

func testRegisterFirstAdminThenRegistrationIsClosed(t *testing.T, h *harness) {

	r := h.do("POST", "/admin/register-admin", "", map[string]string{
		"firstname": "Ada", "lastname": "Lovelace",
		"email": " Ada@Example.COM ", "password": firstPassword,
	})
	mustStatus(t, r, 201)
	var out struct {
		Data struct {
			Token string         `json:"token"`
			User  map[string]any `json:"user"`
		} `json:"data"`
	}
	r.decode(t, &out)
	if out.Data.Token == "" {
		t.Fatal("no token in answer")
	}
	u := out.Data.User
	if u["email"] != "ada@example.com" || u["firstname"] != "Ada" || u["isActive"] != true {
		t.Errorf("user = %v", u)
	}
	roles, _ := u["roles"].([]any)
	if len(roles) != 1 || roles[0].(map[string]any)["code"] != RoleSuperAdmin {
		t.Errorf("roles = %v, want one Super Admin", u["roles"])
	}
	for _, key := range []string{"id", "lastname", "createdAt", "updatedAt"} {
		if _, ok := u[key]; !ok {
			t.Errorf("user has no %q: %v", key, u)
		}
	}
	if strings.Contains(r.Body, firstPassword) || strings.Contains(strings.ToLower(r.Body), "hash") {
		t.Errorf("answer leaks the password or its hash: %s", r.Body)
	}

	me := h.do("GET", "/admin/whoami", out.Data.Token, nil)
	mustStatus(t, me, 200)

	again := h.do("POST", "/admin/register-admin", "", map[string]string{
		"firstname": "Eve", "email": "eve@example.com", "password": "password123",
	})
	mustStatus(t, again, 403)
	// Once an admin exists even an incomplete body is forbidden, not invalid.
	mustStatus(t, h.do("POST", "/admin/register-admin", "", "{}"), 403)
}

func TestConcurrentFirstRegistrationsOnlyOneSucceeds(t *testing.T) {
	eachDialect(t, testConcurrentFirstRegistrationsOnlyOneSucceeds)
}

func testConcurrentFirstRegistrationsOnlyOneSucceeds(t *testing.T, h *harness) {
	ctx := context.Background()

	const n = 8
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			// registerFirst skips the early HasAdmin check, so every
			// goroutine reaches the transaction.
			_, errs[i] = h.svc.registerFirst(ctx, RegisterInput{
				Firstname: "Racer",
				Email:     "racer" + string(rune('a'+i)) + "@example.com",
				Password:  "password123",
			})
		}()
	}
	close(start)
	wg.Wait()

	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !content.IsCode(err, content.EFORBIDDEN):
			t.Errorf("registration %d: %v, want forbidden", i, err)
		}
	}
	if ok != 1 {
		t.Errorf("%d registrations succeeded, want exactly 1", ok)
	}
	var users int64
	h.db.Read.Model(&userRow{}).Count(&users)
	if users != 1 {
		t.Errorf("%d administrators exist, want 1", users)
	}
}

func TestConcurrentRegisterAdminRequestsOnlyOneIsCreated(t *testing.T) {
	eachDialect(t, testConcurrentRegisterAdminRequestsOnlyOneIsCreated)
}

func testConcurrentRegisterAdminRequestsOnlyOneIsCreated(t *testing.T, h *harness) {

	const n = 8
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := h.do("POST", "/admin/register-admin", "", map[string]string{
				"firstname": "Racer",
				"email":     "racer" + string(rune('a'+i)) + "@example.com",
				"password":  "password123",
			})
			statuses[i] = r.Status
		}()
	}
	wg.Wait()

	created := 0
	for _, s := range statuses {
		switch s {
		case 201:
			created++
		case 403:
		default:
			t.Errorf("status %d, want 201 or 403", s)
		}
	}
	if created != 1 {
		t.Errorf("%d answers were 201, want exactly 1 (%v)", created, statuses)
	}
}

func TestRegisterIsClosedByTheFirstAdminMarkOrAnExistingAdmin(t *testing.T) {
	in := RegisterInput{Firstname: "Eve", Email: "eve@example.com", Password: "password123"}

	t.Run("mark without admin", func(t *testing.T) {
		h := newHarness(t)
		h.db.Write.Exec("INSERT INTO settings (key, value) VALUES ('first_admin', 'x')")
		_, err := h.svc.registerFirst(context.Background(), in)
		if !content.IsCode(err, content.EFORBIDDEN) {
			t.Errorf("err = %v, want forbidden", err)
		}
	})
	t.Run("admin created on the command line", func(t *testing.T) {
		h := newHarness(t)
		h.createAdmin("cli@example.com", RoleEditor)
		_, err := h.svc.registerFirst(context.Background(), in)
		if !content.IsCode(err, content.EFORBIDDEN) {
			t.Errorf("err = %v, want forbidden", err)
		}
	})
}

func TestRegisterValidationNamesTheField(t *testing.T) {
	valid := map[string]any{
		"firstname": "Ada", "lastname": "L", "email": "ada@example.com", "password": "password123",
	}
	with := func(key string, v any) map[string]any {
		m := make(map[string]any, len(valid))
		for k, val := range valid {
			m[k] = val
		}
		m[key] = v
		return m
	}
	cases := []struct {
		name  string
		body  any
		field string
	}{
		{"short password", with("password", "1234567"), "password"},
		{"password over 72 bytes", with("password", strings.Repeat("é", 37)), "password"},
		{"missing email", with("email", ""), "email"},
		{"invalid email", with("email", "not-an-email"), "email"},
		{"display name email", with("email", "Ada <ada@example.com>"), "email"},
		{"missing firstname", with("firstname", "  "), "firstname"},
		{"long lastname", with("lastname", strings.Repeat("x", 256)), "lastname"},
		{"wrong type", with("email", 42), "email"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			r := h.do("POST", "/admin/register-admin", "", tc.body)
			mustStatus(t, r, 400)
			var env struct {
				Error struct {
					Details struct {
						Errors []struct{ Path []string } `json:"errors"`
					} `json:"details"`
				} `json:"error"`
			}
			r.decode(t, &env)
			errs := env.Error.Details.Errors
			if len(errs) != 1 || len(errs[0].Path) != 1 || errs[0].Path[0] != tc.field {
				t.Errorf("details = %s, want one error naming %q", r.Body, tc.field)
			}
		})
	}
}

func TestCreateAdminRefusesDuplicateEmailAndUnknownRole(t *testing.T) {
	eachDialect(t, testCreateAdminRefusesDuplicateEmailAndUnknownRole)
}

func testCreateAdminRefusesDuplicateEmailAndUnknownRole(t *testing.T, h *harness) {
	ctx := context.Background()
	in := RegisterInput{Firstname: "A", Email: "dup@example.com", Password: "password123"}
	if _, err := h.svc.CreateAdmin(ctx, in, RoleAuthor); err != nil {
		t.Fatal(err)
	}

	in.Email = "DUP@example.com"
	_, err := h.svc.CreateAdmin(ctx, in, RoleAuthor)
	if !content.IsCode(err, content.EINVALID) || !strings.Contains(err.Error(), "email") {
		t.Errorf("duplicate email: err = %v, want invalid naming email", err)
	}

	in.Email = "other@example.com"
	_, err = h.svc.CreateAdmin(ctx, in, "no-such-role")
	if !content.IsCode(err, content.EINVALID) {
		t.Errorf("unknown role: err = %v, want invalid", err)
	}
}

func TestLogin(t *testing.T) {
	eachDialect(t, testLogin)
}

func testLogin(t *testing.T, h *harness) {
	h.registerFirst()
	h.createAdmin("gone@example.com", RoleEditor)
	h.db.Write.Model(&userRow{}).Where("email = ?", "gone@example.com").Update("is_active", false)

	cases := []struct {
		name     string
		email    string
		password string
		want     int
	}{
		{"right password", "ada@example.com", firstPassword, 200},
		{"email in other case", "ADA@example.com", firstPassword, 200},
		{"wrong password", "ada@example.com", firstPassword + "!", 401},
		{"unknown email", "nobody@example.com", firstPassword, 401},
		{"inactive user", "gone@example.com", "password-gone@example.com", 401},
		{"missing password", "ada@example.com", "", 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do("POST", "/admin/login", "", map[string]string{
				"email": tc.email, "password": tc.password,
			})
			mustStatus(t, r, tc.want)
			switch tc.want {
			case 401:
				if msg := r.errorMessage(t); msg != "Invalid credentials" {
					t.Errorf("message %q, want %q", msg, "Invalid credentials")
				}
			case 200:
				var out struct {
					Data struct {
						Token string
						User  struct{ Email string }
					}
				}
				r.decode(t, &out)
				if out.Data.User.Email != "ada@example.com" {
					t.Errorf("user email %q", out.Data.User.Email)
				}
				mustStatus(t, h.do("GET", "/admin/whoami", out.Data.Token, nil), 200)
			}
		})
	}
}
