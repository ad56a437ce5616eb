package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/herald-cms/herald/content"
)

// RoleDetails is an administrator role as the roles API shows it.
type RoleDetails struct {
	ID          int64
	Code        string
	Name        string
	Description string
	// Permissions are the role's grants. The Super Admin role shows every
	// permission, on every content type.
	Permissions []Permission
	// UsersCount is the number of administrators with the role.
	UsersCount int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// MarshalJSON writes the role in Strapi's shape.
func (r RoleDetails) MarshalJSON() ([]byte, error) {
	perms := r.Permissions
	if perms == nil {
		perms = []Permission{}
	}
	return json.Marshal(struct {
		ID          int64        `json:"id"`
		Code        string       `json:"code"`
		Name        string       `json:"name"`
		Description string       `json:"description"`
		Permissions []Permission `json:"permissions"`
		UsersCount  int64        `json:"usersCount"`
		CreatedAt   string       `json:"createdAt"`
		UpdatedAt   string       `json:"updatedAt"`
	}{r.ID, r.Code, r.Name, r.Description, perms, r.UsersCount,
		timeJSON(r.CreatedAt), timeJSON(r.UpdatedAt)})
}

// RoleInput is a new administrator role.
type RoleInput struct {
	Name        string       `json:"name"`
	Description string       `json:"description"`
	Permissions []Permission `json:"permissions"`
}

// RolePatch changes a role: only the fields present change; permissions are
// replaced whole.
type RolePatch struct {
	Name        *string       `json:"name"`
	Description *string       `json:"description"`
	Permissions *[]Permission `json:"permissions"`
}

// superAdminPermissions is what the Super Admin role shows: everything.
func superAdminPermissions() []Permission {
	var perms []Permission
	for _, a := range permissionNames() {
		perms = append(perms, Permission{Action: a})
	}
	return perms
}

func errRoleNotFound() *content.Error {
	return content.Errorf(content.ENOTFOUND, "Role not found")
}

func errSuperAdminRole() *content.Error {
	return content.Errorf(content.EFORBIDDEN, "The Super Admin role cannot be changed or deleted")
}

// checkRole checks a role's name, description and permissions, normalizing
// them. Errors are field errors naming each bad field.
func (s *Service) checkRole(in *RoleInput) []content.FieldError {
	in.Name = strings.TrimSpace(in.Name)
	in.Description = strings.TrimSpace(in.Description)
	var errs []content.FieldError
	switch {
	case in.Name == "":
		errs = append(errs, fieldError("name", "name is required"))
	case utf8.RuneCountInString(in.Name) > maxNameLen:
		errs = append(errs, fieldError("name",
			fmt.Sprintf("name must be at most %d characters", maxNameLen)))
	}
	if utf8.RuneCountInString(in.Description) > maxDescriptionLen {
		errs = append(errs, fieldError("description",
			fmt.Sprintf("description must be at most %d characters", maxDescriptionLen)))
	}
	perms, perr := s.normalizePermissions(in.Permissions)
	in.Permissions = perms
	return append(errs, perr...)
}

// roleDetails turns a row into the API's role.
func roleDetails(row roleRow, users int64) (RoleDetails, error) {
	r := RoleDetails{ID: row.ID, Code: row.Code, Name: row.Name, Description: row.Description,
		UsersCount: users, CreatedAt: row.CreatedAt, UpdatedAt: row.UpdatedAt}
	if row.Code == RoleSuperAdmin {
		r.Permissions = superAdminPermissions()
		return r, nil
	}
	perms, err := decodePermissions(row.Permissions)
	if err != nil {
		return RoleDetails{}, fmt.Errorf("role %d: %w", row.ID, err)
	}
	r.Permissions = perms
	return r, nil
}

// usersPerRole counts administrators by role id.
func usersPerRole(db *gorm.DB) (map[int64]int64, error) {
	var counts []struct {
		RoleID int64
		N      int64
	}
	err := db.Model(&userRow{}).Select("role_id, count(*) AS n").Group("role_id").
		Scan(&counts).Error
	if err != nil {
		return nil, fmt.Errorf("count administrators per role: %w", err)
	}
	m := make(map[int64]int64, len(counts))
	for _, c := range counts {
		m[c.RoleID] = c.N
	}
	return m, nil
}

// ListRoles returns every administrator role, oldest first, with its number
// of administrators.
func (s *Service) ListRoles(ctx context.Context) ([]RoleDetails, error) {
	db := s.db.Read.WithContext(ctx)
	var rows []roleRow
	if err := db.Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list roles: %w", err)
	}
	counts, err := usersPerRole(db)
	if err != nil {
		return nil, err
	}
	roles := make([]RoleDetails, 0, len(rows))
	for _, row := range rows {
		r, err := roleDetails(row, counts[row.ID])
		if err != nil {
			return nil, err
		}
		roles = append(roles, r)
	}
	return roles, nil
}

// GetRole returns one administrator role, or ENOTFOUND.
func (s *Service) GetRole(ctx context.Context, id int64) (RoleDetails, error) {
	db := s.db.Read.WithContext(ctx)
	row, err := findRole(db, id)
	if err != nil {
		return RoleDetails{}, err
	}
	n, err := countRoleUsers(db, id)
	if err != nil {
		return RoleDetails{}, err
	}
	return roleDetails(row, n)
}

func findRole(db *gorm.DB, id int64) (roleRow, error) {
	return takeOne[roleRow](db, errRoleNotFound(), fmt.Sprintf("role %d", id), "id = ?", id)
}

func countRoleUsers(db *gorm.DB, id int64) (int64, error) {
	var n int64
	if err := db.Model(&userRow{}).Where("role_id = ?", id).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count administrators of role %d: %w", id, err)
	}
	return n, nil
}

// CreateRole creates an administrator role with a permission list. Invalid
// input or a taken name is EINVALID naming the field.
func (s *Service) CreateRole(ctx context.Context, in RoleInput) (RoleDetails, error) {
	if err := validation(s.checkRole(&in)); err != nil {
		return RoleDetails{}, err
	}
	perms, err := encodeJSON(in.Permissions)
	if err != nil {
		return RoleDetails{}, err
	}

	now := s.clock()
	row := roleRow{Code: roleCode(in.Name), Name: in.Name, Description: in.Description,
		Permissions: perms, CreatedAt: now, UpdatedAt: now}
	// The code is random, so a conflict can only be the name.
	res := s.db.Write.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
	if res.Error != nil {
		return RoleDetails{}, fmt.Errorf("insert role: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return RoleDetails{}, content.InvalidField([]string{"name"}, "name already taken")
	}
	s.log.InfoContext(ctx, "role created", "role_id", row.ID, "role", row.Code)
	return roleDetails(row, 0)
}

// roleCode makes a custom role's code from its name: its letters and digits
// in kebab case, and a random suffix.
func roleCode(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
			if b.Len() >= 40 {
				break
			}
			continue
		}
		dash = true
	}
	if b.Len() == 0 {
		b.WriteString("role")
	}
	return b.String() + "-" + randomHex(4)
}

// UpdateRole changes a role's name, description or permissions; its
// administrators have the new grants from their next request. The Super
// Admin role is EFORBIDDEN; a missing role ENOTFOUND; invalid input or a
// taken name EINVALID naming the field.
func (s *Service) UpdateRole(ctx context.Context, id int64, p RolePatch) (RoleDetails, error) {
	var out RoleDetails
	err := s.db.Write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		row, err := findRole(tx, id)
		if err != nil {
			return err
		}
		if row.Code == RoleSuperAdmin {
			return errSuperAdminRole()
		}
		cur, err := roleDetails(row, 0)
		if err != nil {
			return err
		}
		in := RoleInput{Name: cur.Name, Description: cur.Description, Permissions: cur.Permissions}
		if p.Name != nil {
			in.Name = *p.Name
		}
		if p.Description != nil {
			in.Description = *p.Description
		}
		if p.Permissions != nil {
			in.Permissions = *p.Permissions
		}
		if err := validation(s.checkRole(&in)); err != nil {
			return err
		}
		var taken int64
		err = tx.Model(&roleRow{}).Where("name = ? AND id <> ?", in.Name, id).Count(&taken).Error
		if err != nil {
			return fmt.Errorf("check role name: %w", err)
		}
		if taken > 0 {
			return content.InvalidField([]string{"name"}, "name already taken")
		}
		perms, err := encodeJSON(in.Permissions)
		if err != nil {
			return err
		}
		row.Name, row.Description, row.Permissions = in.Name, in.Description, perms
		row.UpdatedAt = s.clock()
		err = tx.Model(&roleRow{}).Where("id = ?", id).Updates(map[string]any{
			"name": row.Name, "description": row.Description, "permissions": row.Permissions,
			"updated_at": row.UpdatedAt,
		}).Error
		if err != nil {
			return fmt.Errorf("update role %d: %w", id, err)
		}
		n, err := countRoleUsers(tx, id)
		if err != nil {
			return err
		}
		out, err = roleDetails(row, n)
		return err
	})
	if err != nil {
		return RoleDetails{}, err
	}
	s.InvalidateRoles()
	s.log.InfoContext(ctx, "role updated", "role_id", id)
	return out, nil
}

// DeleteRole deletes a role that no administrator has and returns it. The
// Super Admin role is EFORBIDDEN, a role still held EINVALID, a missing
// role ENOTFOUND.
func (s *Service) DeleteRole(ctx context.Context, id int64) (RoleDetails, error) {
	var out RoleDetails
	err := s.db.Write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		row, err := findRole(tx, id)
		if err != nil {
			return err
		}
		if row.Code == RoleSuperAdmin {
			return errSuperAdminRole()
		}
		n, err := countRoleUsers(tx, id)
		if err != nil {
			return err
		}
		if n > 0 {
			return content.Errorf(content.EINVALID,
				"The role still has %d administrator(s): give them another role first", n)
		}
		if err := tx.Delete(&roleRow{}, id).Error; err != nil {
			return fmt.Errorf("delete role %d: %w", id, err)
		}
		out, err = roleDetails(row, 0)
		return err
	})
	if err != nil {
		return RoleDetails{}, err
	}
	s.InvalidateRoles()
	s.log.InfoContext(ctx, "role deleted", "role_id", id)
	return out, nil
}

// The users-permissions roles of the content API.
const (
	// RolePublic answers requests without credentials. It may only be
	// granted find and findOne, and never reads drafts.
	RolePublic = "public"
	// RoleAuthenticated is every signed-in end user. It may be granted every
	// content API action; it never reads drafts either.
	RoleAuthenticated = "authenticated"
)

// publicActions are the only actions the Public role may be granted.
var publicActions = map[string]bool{"find": true, "findOne": true}

type endUserRoleRow struct {
	Type        string `gorm:"primaryKey"`
	Name        string
	Description string
	Permissions string
	CreatedAt   time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt   time.Time `gorm:"autoUpdateTime:false"`
}

func (endUserRoleRow) TableName() string { return "end_user_roles" }

func findEndUserRole(db *gorm.DB, roleType string) (endUserRoleRow, error) {
	return takeOne[endUserRoleRow](db, errRoleNotFound(), roleType+" role",
		"type = ?", roleType)
}

// EndUserPermissions returns the grants of the Public or Authenticated role
// (RolePublic, RoleAuthenticated), such as "api::article.article.find". Any
// other role is ENOTFOUND.
func (s *Service) EndUserPermissions(ctx context.Context, roleType string) ([]string, error) {
	row, err := findEndUserRole(s.db.Read.WithContext(ctx), roleType)
	if err != nil {
		return nil, err
	}
	return decodeAPIPermissions(row.Permissions)
}

// SetEndUserPermissions replaces the grants of the Public or Authenticated
// role and returns them, sorted; they apply from the next request. A
// permission that is malformed, names a missing content type, or (for the
// Public role) is not find or findOne is EINVALID; any other role is
// ENOTFOUND.
func (s *Service) SetEndUserPermissions(
	ctx context.Context, roleType string, perms []string,
) ([]string, error) {
	var allowed map[string]bool
	switch roleType {
	case RolePublic:
		allowed = publicActions
	case RoleAuthenticated:
	default:
		return nil, errRoleNotFound()
	}
	perms, errs := s.normalizeAPIPermissions("permissions", perms, allowed)
	if err := validation(errs); err != nil {
		return nil, err
	}
	raw, err := encodeJSON(perms)
	if err != nil {
		return nil, err
	}
	res := s.db.Write.WithContext(ctx).Model(&endUserRoleRow{}).Where("type = ?", roleType).
		Updates(map[string]any{"permissions": raw, "updated_at": s.clock()})
	if res.Error != nil {
		return nil, fmt.Errorf("update %s role: %w", roleType, res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, errRoleNotFound()
	}
	s.InvalidateRoles()
	s.log.InfoContext(ctx, "role permissions updated", "role", roleType, "permissions", len(perms))
	return perms, nil
}

// endUserPolicy returns the compiled grants of a users-permissions role,
// from the cache when it can. Neither role reads drafts, and the Public
// role's find and findOne are all it can hold, even if the database says
// more.
func (s *Service) endUserPolicy(ctx context.Context, roleType string) (content.Policy, error) {
	s.cache.mu.Lock()
	c, ok := s.cache.endUsers[roleType]
	gen := s.cache.gen
	s.cache.mu.Unlock()
	if ok && s.fresh(c.loadedAt) {
		return c.policy, nil
	}

	loadedAt := s.now()
	perms, err := s.EndUserPermissions(ctx, roleType)
	if err != nil {
		return nil, err
	}
	if roleType == RolePublic {
		perms = onlyActions(perms, publicActions)
	}
	c = cachedGrants{policy: apiPolicy(perms, false), loadedAt: loadedAt}

	s.cache.mu.Lock()
	if s.cache.gen == gen {
		if s.cache.endUsers == nil {
			s.cache.endUsers = make(map[string]cachedGrants)
		}
		s.cache.endUsers[roleType] = c
	}
	s.cache.mu.Unlock()
	return c.policy, nil
}

// onlyActions keeps the permissions whose action is in allowed.
func onlyActions(perms []string, allowed map[string]bool) []string {
	var out []string
	for _, p := range perms {
		if _, action, ok := splitAPIPermission(p); ok && allowed[action] {
			out = append(out, p)
		}
	}
	return out
}
