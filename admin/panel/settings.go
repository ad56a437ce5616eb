package panel

import (
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/herald-cms/herald/admin"
	"github.com/herald-cms/herald/admin/views"
	"github.com/herald-cms/herald/content"
)

func userURL(id int64) string { return "/admin/settings/users/" + strconv.FormatInt(id, 10) }

func roleURL(id int64) string { return "/admin/settings/roles/" + strconv.FormatInt(id, 10) }

func tokenURL(id int64) string {
	return "/admin/settings/api-tokens/" + strconv.FormatInt(id, 10)
}

// notSaved is the message above a form whose fields have errors.
const notSaved = "Not saved: please correct the fields below."

// Users answers GET /admin/settings/users.
func (p *Panel) Users(c *fiber.Ctx) error {
	users, err := p.admin.ListUsers(c.UserContext())
	if err != nil {
		return err
	}
	l := views.UserList{Page: p.frame(c, "Users", "users")}
	for _, u := range users {
		l.Users = append(l.Users, views.UserRow{
			ID: u.ID, Name: strings.TrimSpace(u.Firstname + " " + u.Lastname), Email: u.Email,
			Role: u.Role.Name, Active: u.IsActive,
		})
	}
	return p.render(c, fiber.StatusOK, views.UserListPage(l))
}

// NewUser answers GET /admin/settings/users/new.
func (p *Panel) NewUser(c *fiber.Ctx) error {
	return p.renderUser(c, fiber.StatusOK, views.UserForm{Active: true})
}

// User answers GET /admin/settings/users/:id.
func (p *Panel) User(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	u, err := p.admin.GetUser(c.UserContext(), id)
	if err != nil {
		return err
	}
	f := views.UserForm{ID: u.ID, Firstname: u.Firstname, Lastname: u.Lastname, Email: u.Email,
		Role: strconv.FormatInt(u.Role.ID, 10), Active: u.IsActive}
	return p.renderUser(c, fiber.StatusOK, f)
}

func (p *Panel) renderUser(c *fiber.Ctx, status int, f views.UserForm) error {
	roles, err := p.admin.ListRoles(c.UserContext())
	if err != nil {
		return err
	}
	for _, r := range roles {
		f.Roles = append(f.Roles, views.Option{Value: strconv.FormatInt(r.ID, 10), Label: r.Name})
	}
	if f.Role == "" && len(roles) > 0 {
		f.Role = strconv.FormatInt(roles[len(roles)-1].ID, 10)
		for _, r := range roles {
			if r.Code == admin.RoleEditor {
				f.Role = strconv.FormatInt(r.ID, 10)
			}
		}
	}
	title := "Invite an administrator"
	if f.ID != 0 {
		title = f.Email
	}
	f.Page = p.frame(c, title, "users")
	if f.Errors == nil {
		f.Errors = views.Errors{}
	}
	return p.render(c, status, views.UserFormPage(f))
}

// SaveUser answers POST /admin/settings/users and POST
// /admin/settings/users/:id {firstname, lastname, email, password, role,
// active}. An empty password keeps the current one.
func (p *Panel) SaveUser(c *fiber.Ctx) error {
	var id int64
	if c.Params("id") != "" {
		var err error
		if id, err = idParam(c, "id"); err != nil {
			return err
		}
	}
	form := formValues(c)
	f := views.UserForm{
		ID: id, Firstname: strings.TrimSpace(form.Get("firstname")),
		Lastname: strings.TrimSpace(form.Get("lastname")),
		Email:    strings.TrimSpace(form.Get("email")),
		Role:     form.Get("role"), Active: checked(form, "active"),
	}
	password := form.Get("password")
	roleID, _ := strconv.ParseInt(f.Role, 10, 64)
	roles := []int64{roleID}

	ctx, a := c.UserContext(), actor(c)
	var u admin.User
	var err error
	if id == 0 {
		u, err = p.admin.CreateUser(ctx, a, admin.UserInput{Firstname: f.Firstname,
			Lastname: f.Lastname, Email: f.Email, Password: password, Roles: roles})
	} else {
		patch := admin.UserPatch{Firstname: &f.Firstname, Lastname: &f.Lastname, Email: &f.Email,
			Roles: &roles, IsActive: &f.Active}
		if password != "" {
			patch.Password = &password
		}
		u, err = p.admin.UpdateUser(ctx, a, id, patch)
	}
	if content.IsCode(err, content.EINVALID) {
		f.Errors, f.FormError = fieldErrors(err), invalidMessage(err)
		return p.renderUser(c, fiber.StatusUnprocessableEntity, f)
	}
	if err != nil {
		return err
	}
	setFlash(c, "ok", "Administrator "+u.Email+" saved.")
	return redirect(c, userURL(u.ID))
}

// DeleteUser answers POST /admin/settings/users/:id/delete.
func (p *Panel) DeleteUser(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	u, err := p.admin.DeleteUser(c.UserContext(), actor(c), id)
	if content.IsCode(err, content.EINVALID) {
		_, msg := errorStatus(err)
		setFlash(c, "error", msg)
		return redirect(c, userURL(id))
	}
	if err != nil {
		return err
	}
	setFlash(c, "ok", "Administrator "+u.Email+" deleted.")
	return redirect(c, "/admin/settings/users")
}

// Roles answers GET /admin/settings/roles.
func (p *Panel) Roles(c *fiber.Ctx) error {
	roles, err := p.admin.ListRoles(c.UserContext())
	if err != nil {
		return err
	}
	l := views.RoleList{Page: p.frame(c, "Roles", "roles")}
	for _, r := range roles {
		l.Roles = append(l.Roles, views.RoleRow{ID: r.ID, Name: r.Name,
			Description: r.Description, Users: r.UsersCount})
	}
	return p.render(c, fiber.StatusOK, views.RoleListPage(l))
}

// contentPermissions and settingsPermissions are the grid's columns and
// the settings checkboxes.
var (
	contentPermissions = []string{admin.PermContentRead, admin.PermContentCreate,
		admin.PermContentUpdate, admin.PermContentDelete, admin.PermContentPublish}
	settingsPermissions = []string{string(admin.PermContentTypesManage),
		string(admin.PermWebhooksRead), string(admin.PermWebhooksManage),
		string(admin.PermUsersManage), string(admin.PermTokensManage)}
)

// NewRole answers GET /admin/settings/roles/new.
func (p *Panel) NewRole(c *fiber.Ctx) error {
	return p.renderRole(c, fiber.StatusOK, views.RoleForm{}, nil)
}

// Role answers GET /admin/settings/roles/:id.
func (p *Panel) Role(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	r, err := p.admin.GetRole(c.UserContext(), id)
	if err != nil {
		return err
	}
	f := views.RoleForm{ID: r.ID, Name: r.Name, Description: r.Description,
		ReadOnly: r.Code == admin.RoleSuperAdmin}
	return p.renderRole(c, fiber.StatusOK, f, r.Permissions)
}

func (p *Panel) renderRole(c *fiber.Ctx, status int, f views.RoleForm,
	perms []admin.Permission) error {
	g := &f.Grid
	g.Actions, g.Settings = contentPermissions, settingsPermissions
	if g.Checked == nil {
		g.Checked, g.Own = map[string]bool{}, map[string]bool{}
		g.SettingsChecked = map[string]bool{}
		for _, perm := range perms {
			subject := "*"
			if perm.Subject != nil {
				subject = *perm.Subject
			}
			if slices.Contains(settingsPermissions, perm.Action) {
				g.SettingsChecked[perm.Action] = true
				continue
			}
			g.Checked[views.GridKey(perm.Action, subject)] = true
			if perm.OwnOnly {
				g.Own[subject] = true
			}
		}
	}
	for _, t := range p.content.Types() {
		g.Types = append(g.Types, typeRef(t))
	}
	title := "New role"
	if f.ID != 0 {
		title = f.Name
	}
	f.Page = p.frame(c, title, "roles")
	if f.Errors == nil {
		f.Errors = views.Errors{}
	}
	return p.render(c, status, views.RoleFormPage(f))
}

// parseRoleForm reads the role form: its grid cells become permissions,
// own entries only where the row says so.
func parseRoleForm(form url.Values) (views.RoleForm, []admin.Permission) {
	f := views.RoleForm{Name: strings.TrimSpace(form.Get("name")),
		Description: strings.TrimSpace(form.Get("description"))}
	g := &f.Grid
	g.Checked, g.Own, g.SettingsChecked = map[string]bool{}, map[string]bool{}, map[string]bool{}
	perms := []admin.Permission{}
	for key := range form {
		if subject, ok := strings.CutPrefix(key, "own:"); ok && checked(form, key) {
			g.Own[subject] = true
		}
	}
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, key := range keys {
		if !checked(form, key) {
			continue
		}
		if s, ok := strings.CutPrefix(key, "s:"); ok {
			g.SettingsChecked[s] = true
			perms = append(perms, admin.Permission{Action: s})
			continue
		}
		rest, ok := strings.CutPrefix(key, "c:")
		if !ok {
			continue
		}
		action, subject, ok := strings.Cut(rest, ":")
		if !ok {
			continue
		}
		g.Checked[key] = true
		perm := admin.Permission{Action: action, OwnOnly: g.Own[subject]}
		if subject != "*" {
			perm.Subject = &subject
		}
		perms = append(perms, perm)
	}
	return f, perms
}

// SaveRole answers POST /admin/settings/roles and POST
// /admin/settings/roles/:id with the role's name, description and grid.
func (p *Panel) SaveRole(c *fiber.Ctx) error {
	var id int64
	if c.Params("id") != "" {
		var err error
		if id, err = idParam(c, "id"); err != nil {
			return err
		}
	}
	f, perms := parseRoleForm(formValues(c))
	f.ID = id

	var r admin.RoleDetails
	var err error
	if id == 0 {
		r, err = p.admin.CreateRole(c.UserContext(), admin.RoleInput{Name: f.Name,
			Description: f.Description, Permissions: perms})
	} else {
		r, err = p.admin.UpdateRole(c.UserContext(), id, admin.RolePatch{Name: &f.Name,
			Description: &f.Description, Permissions: &perms})
	}
	if content.IsCode(err, content.EINVALID) {
		f.Errors, f.FormError = fieldErrors(err), invalidMessage(err)
		return p.renderRole(c, fiber.StatusUnprocessableEntity, f, nil)
	}
	if err != nil {
		return err
	}
	setFlash(c, "ok", "Role "+r.Name+" saved.")
	return redirect(c, roleURL(r.ID))
}

// DeleteRole answers POST /admin/settings/roles/:id/delete.
func (p *Panel) DeleteRole(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	r, err := p.admin.DeleteRole(c.UserContext(), id)
	if content.IsCode(err, content.EINVALID) || content.IsCode(err, content.ECONFLICT) {
		_, msg := errorStatus(err)
		setFlash(c, "error", msg)
		return redirect(c, roleURL(id))
	}
	if err != nil {
		return err
	}
	setFlash(c, "ok", "Role "+r.Name+" deleted.")
	return redirect(c, "/admin/settings/roles")
}

// Tokens answers GET /admin/settings/api-tokens.
func (p *Panel) Tokens(c *fiber.Ctx) error {
	tokens, err := p.admin.ListAPITokens(c.UserContext())
	if err != nil {
		return err
	}
	l := views.TokenList{Page: p.frame(c, "API tokens", "tokens")}
	for _, t := range tokens {
		row := views.TokenRow{ID: t.ID, Name: t.Name, Description: t.Description, Type: t.Type,
			Expires: "Never", LastUsed: views.WhenPtr(t.LastUsedAt)}
		if t.ExpiresAt != nil {
			row.Expires = views.When(*t.ExpiresAt)
		}
		l.Tokens = append(l.Tokens, row)
	}
	return p.render(c, fiber.StatusOK, views.TokenListPage(l))
}

// NewToken answers GET /admin/settings/api-tokens/new.
func (p *Panel) NewToken(c *fiber.Ctx) error {
	return p.renderToken(c, fiber.StatusOK, views.TokenForm{Type: admin.TokenReadOnly,
		Duration: "30", Checked: map[string]bool{}})
}

// Token answers GET /admin/settings/api-tokens/:id.
func (p *Panel) Token(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	t, err := p.admin.GetAPIToken(c.UserContext(), id)
	if err != nil {
		return err
	}
	f := views.TokenForm{ID: t.ID, Name: t.Name, Description: t.Description, Type: t.Type,
		Expires: "never", Checked: map[string]bool{}}
	if t.ExpiresAt != nil {
		f.Expires = views.When(*t.ExpiresAt)
	}
	for _, perm := range t.Permissions {
		f.Checked[perm] = true
	}
	return p.renderToken(c, fiber.StatusOK, f)
}

func (p *Panel) renderToken(c *fiber.Ctx, status int, f views.TokenForm) error {
	for _, t := range p.content.Types() {
		f.Types = append(f.Types, typeRef(t))
	}
	title := "New API token"
	if f.ID != 0 {
		title = f.Name
	}
	f.Page = p.frame(c, title, "tokens")
	if f.Errors == nil {
		f.Errors = views.Errors{}
	}
	return p.render(c, status, views.TokenFormPage(f))
}

// lifespans are the durations the panel offers, in milliseconds; unlimited
// is null.
var lifespans = map[string]string{
	"7":         strconv.FormatInt((7 * 24 * time.Hour).Milliseconds(), 10),
	"30":        strconv.FormatInt((30 * 24 * time.Hour).Milliseconds(), 10),
	"90":        strconv.FormatInt((90 * 24 * time.Hour).Milliseconds(), 10),
	"unlimited": "null",
}

// SaveToken answers POST /admin/settings/api-tokens and POST
// /admin/settings/api-tokens/:id. A new token's key is shown on the answer
// itself, once: it is never stored, so there is nothing to redirect to.
func (p *Panel) SaveToken(c *fiber.Ctx) error {
	var id int64
	if c.Params("id") != "" {
		var err error
		if id, err = idParam(c, "id"); err != nil {
			return err
		}
	}
	form := formValues(c)
	f := views.TokenForm{ID: id, Name: strings.TrimSpace(form.Get("name")),
		Description: strings.TrimSpace(form.Get("description")), Type: form.Get("type"),
		Duration: form.Get("duration"), Checked: map[string]bool{}}
	perms := []string{}
	if f.Type == admin.TokenCustom {
		for _, perm := range form["perm"] {
			f.Checked[perm] = true
			perms = append(perms, perm)
		}
	}

	ctx := c.UserContext()
	var t admin.Token
	var err error
	if id == 0 {
		lifespan, ok := lifespans[f.Duration]
		if !ok {
			lifespan = lifespans["30"]
		}
		t, err = p.admin.CreateAPIToken(ctx, admin.TokenInput{Name: f.Name,
			Description: f.Description, Type: f.Type, Permissions: perms,
			Lifespan: json.RawMessage(lifespan)})
	} else {
		t, err = p.admin.UpdateAPIToken(ctx, id, admin.TokenPatch{Name: &f.Name,
			Description: &f.Description, Type: &f.Type, Permissions: &perms})
	}
	if content.IsCode(err, content.EINVALID) {
		f.Errors, f.FormError = fieldErrors(err), invalidMessage(err)
		if f.ID != 0 {
			stored, gerr := p.admin.GetAPIToken(ctx, id)
			if gerr == nil && stored.ExpiresAt != nil {
				f.Expires = views.When(*stored.ExpiresAt)
			}
		}
		return p.renderToken(c, fiber.StatusUnprocessableEntity, f)
	}
	if err != nil {
		return err
	}
	if id == 0 {
		return p.showKey(c, t)
	}
	setFlash(c, "ok", "API token "+t.Name+" saved.")
	return redirect(c, tokenURL(t.ID))
}

// showKey renders a token's new key, the one time it is shown.
func (p *Panel) showKey(c *fiber.Ctx, t admin.Token) error {
	k := views.TokenKey{Page: p.frame(c, t.Name, "tokens"), ID: t.ID, Name: t.Name,
		Key: t.AccessKey}
	return p.render(c, fiber.StatusOK, views.TokenKeyPage(k))
}

// TokenAction answers POST /admin/settings/api-tokens/:id/regenerate (the
// new key is shown once) and .../delete (the token is revoked).
func (p *Panel) TokenAction(name string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := idParam(c, "id")
		if err != nil {
			return err
		}
		switch name {
		case "regenerate":
			t, err := p.admin.RegenerateAPIToken(c.UserContext(), id)
			if err != nil {
				return err
			}
			return p.showKey(c, t)
		case "delete":
			t, err := p.admin.DeleteAPIToken(c.UserContext(), id)
			if err != nil {
				return err
			}
			setFlash(c, "ok", "API token "+t.Name+" revoked.")
			return redirect(c, "/admin/settings/api-tokens")
		}
		return content.Errorf(content.ENOTFOUND, "Not Found")
	}
}

// EndUserRoles answers GET /admin/settings/public: the Public and
// Authenticated roles' grants.
func (p *Panel) EndUserRoles(c *fiber.Ctx) error {
	return p.renderEndUserRoles(c, fiber.StatusOK, views.Errors{}, nil)
}

func (p *Panel) renderEndUserRoles(c *fiber.Ctx, status int, errs views.Errors,
	posted map[string]map[string]bool) error {
	r := views.EndUserRoles{Page: p.frame(c, "Public & Authenticated roles", "public"),
		Errors: errs}
	grants := map[string]map[string]bool{}
	for _, role := range []string{admin.RolePublic, admin.RoleAuthenticated} {
		if posted[role] != nil {
			grants[role] = posted[role]
			continue
		}
		perms, err := p.admin.EndUserPermissions(c.UserContext(), role)
		if err != nil {
			return err
		}
		grants[role] = map[string]bool{}
		for _, perm := range perms {
			grants[role][perm] = true
		}
	}
	r.Public, r.Authenticated = grants[admin.RolePublic], grants[admin.RoleAuthenticated]
	for _, t := range p.content.Types() {
		r.Types = append(r.Types, typeRef(t))
	}
	return p.render(c, status, views.EndUserRolesPage(r))
}

// SaveEndUserRole answers POST /admin/settings/public/:role {perm...} for
// the public and authenticated roles.
func (p *Panel) SaveEndUserRole(c *fiber.Ctx) error {
	role := c.Params("role")
	if role != admin.RolePublic && role != admin.RoleAuthenticated {
		return content.Errorf(content.ENOTFOUND, "Not Found")
	}
	form := formValues(c)
	perms := append([]string{}, form["perm"]...)

	_, err := p.admin.SetEndUserPermissions(c.UserContext(), role, perms)
	if content.IsCode(err, content.EINVALID) {
		posted := map[string]bool{}
		for _, perm := range perms {
			posted[perm] = true
		}
		_, msg := errorStatus(err)
		return p.renderEndUserRoles(c, fiber.StatusUnprocessableEntity,
			views.Errors{role: "Not saved: " + msg}, map[string]map[string]bool{role: posted})
	}
	if err != nil {
		return err
	}
	name := "Public"
	if role == admin.RoleAuthenticated {
		name = "Authenticated"
	}
	setFlash(c, "ok", "The "+name+" role's permissions are saved.")
	return redirect(c, "/admin/settings/public")
}
