package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/herald-cms/herald/content"
)

// UserInput is an administrator created through the users API.
type UserInput struct {
	Firstname string `json:"firstname"`
	Lastname  string `json:"lastname"`
	Email     string `json:"email"`
	Password  string `json:"password"`
	// Roles holds exactly one role id (Strapi's shape; Herald gives each
	// administrator one role).
	Roles []int64 `json:"roles"`
	// IsActive defaults to true.
	IsActive *bool `json:"isActive"`
}

// LogValue keeps the password out of any log line the input reaches.
func (in UserInput) LogValue() slog.Value {
	return slog.GroupValue(slog.String("email", in.Email))
}

// String keeps the password out of formatted output.
func (in UserInput) String() string {
	return fmt.Sprintf("{%s %s %s %v}", in.Firstname, in.Lastname, in.Email, in.Roles)
}

// GoString keeps the password out of %#v output.
func (in UserInput) GoString() string { return in.String() }

// UserPatch changes an administrator: only the fields present change.
type UserPatch struct {
	Firstname *string  `json:"firstname"`
	Lastname  *string  `json:"lastname"`
	Email     *string  `json:"email"`
	Password  *string  `json:"password"`
	Roles     *[]int64 `json:"roles"`
	IsActive  *bool    `json:"isActive"`
}

// LogValue keeps the password out of any log line the patch reaches.
func (p UserPatch) LogValue() slog.Value {
	return slog.GroupValue(slog.Bool("password_changed", p.Password != nil))
}

// String keeps the password out of formatted output.
func (p UserPatch) String() string {
	return fmt.Sprintf("{password changed: %t}", p.Password != nil)
}

// GoString keeps the password out of %#v output.
func (p UserPatch) GoString() string { return p.String() }

func errUserNotFound() *content.Error {
	return content.Errorf(content.ENOTFOUND, "User not found")
}

func errNotSuperAdmin() *content.Error {
	return content.Errorf(content.EFORBIDDEN,
		"Only a Super Admin may grant the Super Admin role or change a Super Admin")
}

func errLastSuperAdmin() *content.Error {
	return content.Errorf(content.EINVALID,
		"There must remain at least one active Super Admin")
}

// isSuperAdmin reports whether actor is Herald itself or an administrator
// whose role is Super Admin.
func (s *Service) isSuperAdmin(ctx context.Context, actor content.Actor) (bool, error) {
	switch actor.Kind {
	case content.ActorSystem:
		return true, nil
	case content.ActorAdmin:
	default:
		return false, nil
	}
	var row userRow
	err := s.db.Read.WithContext(ctx).Select("role_id").Where("id = ?", actor.ID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("load acting administrator: %w", err)
	}
	role, _, err := s.role(ctx, row.RoleID)
	if err != nil {
		return false, err
	}
	return role.Code == RoleSuperAdmin, nil
}

// oneRole reads the single role id of a roles list inside tx. A list
// without exactly one id, or an id naming no role, is EINVALID.
func oneRole(tx *gorm.DB, roles []int64) (roleRow, error) {
	if len(roles) != 1 {
		return roleRow{}, content.InvalidField([]string{"roles"},
			"roles must hold exactly one role id")
	}
	row, err := findRole(tx, roles[0])
	if content.IsCode(err, content.ENOTFOUND) {
		return roleRow{}, content.InvalidField([]string{"roles", "0"},
			fmt.Sprintf("role %d does not exist", roles[0]))
	}
	return row, err
}

// ListUsers returns every administrator, oldest first.
func (s *Service) ListUsers(ctx context.Context) ([]User, error) {
	var rows []userRow
	if err := s.db.Read.WithContext(ctx).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list administrators: %w", err)
	}
	users := make([]User, 0, len(rows))
	for _, row := range rows {
		role, _, err := s.role(ctx, row.RoleID)
		if err != nil {
			return nil, err
		}
		users = append(users, userFromRow(row, role))
	}
	return users, nil
}

// GetUser returns one administrator, or ENOTFOUND.
func (s *Service) GetUser(ctx context.Context, id int64) (User, error) {
	row, err := findUser(s.db.Read.WithContext(ctx), id)
	if err != nil {
		return User{}, err
	}
	role, _, err := s.role(ctx, row.RoleID)
	if err != nil {
		return User{}, err
	}
	return userFromRow(row, role), nil
}

// findUser loads an administrator.
func findUser(db *gorm.DB, id int64) (userRow, error) {
	return takeOne[userRow](db, errUserNotFound(), fmt.Sprintf("administrator %d", id),
		"id = ?", id)
}

// findUserAndRole loads an administrator and its role.
func findUserAndRole(db *gorm.DB, id int64) (userRow, roleRow, error) {
	row, err := findUser(db, id)
	if err != nil {
		return userRow{}, roleRow{}, err
	}
	role, err := findRole(db, row.RoleID)
	if err != nil {
		return userRow{}, roleRow{}, err
	}
	return row, role, nil
}

// CreateUser creates an administrator with a role, on behalf of actor. Only
// a Super Admin may create a Super Admin (EFORBIDDEN otherwise). Invalid
// input, a taken email or an unknown role is EINVALID naming the field.
func (s *Service) CreateUser(ctx context.Context, actor content.Actor, in UserInput) (User, error) {
	reg, err := RegisterInput{Firstname: in.Firstname, Lastname: in.Lastname, Email: in.Email,
		Password: in.Password}.normalize()
	if err != nil {
		return User{}, err
	}
	super, err := s.isSuperAdmin(ctx, actor)
	if err != nil {
		return User{}, err
	}
	hash, err := s.hashPassword(reg.Password)
	if err != nil {
		return User{}, err
	}
	active := in.IsActive == nil || *in.IsActive

	var u User
	err = s.db.Write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		row, err := oneRole(tx, in.Roles)
		if err != nil {
			return err
		}
		if row.Code == RoleSuperAdmin && !super {
			return errNotSuperAdmin()
		}
		u, err = insertUser(tx, reg, hash, roleOf(row), active, s.clock())
		return err
	})
	if err != nil {
		return User{}, err
	}
	s.log.InfoContext(ctx, "administrator created", "user_id", u.ID, "role", u.Role.Code,
		"by", actor.ID)
	return u, nil
}

// UpdateUser changes an administrator on behalf of actor and returns it.
// Deactivating an administrator or changing its password ends its sessions
// at once; a new role applies from its next request. Only a Super Admin may
// change a Super Admin or grant that role (EFORBIDDEN otherwise). Demoting
// or deactivating the last active Super Admin is EINVALID, as is invalid
// input or a taken email; a missing administrator is ENOTFOUND.
func (s *Service) UpdateUser(
	ctx context.Context, actor content.Actor, id int64, p UserPatch,
) (User, error) {
	super, err := s.isSuperAdmin(ctx, actor)
	if err != nil {
		return User{}, err
	}
	var hash []byte
	if p.Password != nil {
		if err := checkPassword(*p.Password); err != nil {
			return User{}, err
		}
		if hash, err = s.hashPassword(*p.Password); err != nil {
			return User{}, err
		}
	}

	var u User
	err = s.db.Write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.lockSuperAdmins(tx); err != nil {
			return err
		}
		row, role, err := findUserAndRole(tx, id)
		if err != nil {
			return err
		}
		wasSuper := role.Code == RoleSuperAdmin && row.IsActive
		if role.Code == RoleSuperAdmin && !super {
			return errNotSuperAdmin()
		}
		if err := applyUserPatch(&row, p); err != nil {
			return err
		}
		if p.Roles != nil {
			if role, err = oneRole(tx, *p.Roles); err != nil {
				return err
			}
			if role.Code == RoleSuperAdmin && !super {
				return errNotSuperAdmin()
			}
			row.RoleID = role.ID
		}
		if wasSuper && (role.Code != RoleSuperAdmin || !row.IsActive) {
			if err := s.keepOneSuperAdmin(tx, id); err != nil {
				return err
			}
		}
		if err := emailFree(tx, row.Email, id); err != nil {
			return err
		}
		now := s.clock()
		row.UpdatedAt = now
		changes := map[string]any{
			"firstname": row.Firstname, "lastname": row.Lastname, "email": row.Email,
			"role_id": row.RoleID, "is_active": row.IsActive, "updated_at": now,
		}
		if hash != nil {
			changes["password_hash"] = string(hash)
		}
		if err := tx.Model(&userRow{}).Where("id = ?", id).Updates(changes).Error; err != nil {
			return fmt.Errorf("update administrator %d: %w", id, err)
		}
		if !row.IsActive || hash != nil {
			if err := revokeSessions(tx, id, now); err != nil {
				return err
			}
		}
		u = userFromRow(row, roleOf(role))
		return nil
	})
	if err != nil {
		return User{}, err
	}
	s.log.InfoContext(ctx, "administrator updated", "user_id", id, "by", actor.ID,
		"active", u.IsActive, "role", u.Role.Code, "password_changed", hash != nil)
	return u, nil
}

// applyUserPatch sets the patch's name, email and active fields on row,
// checking them. Errors are EINVALID naming each bad field.
func applyUserPatch(row *userRow, p UserPatch) error {
	in := RegisterInput{Firstname: row.Firstname, Lastname: row.Lastname, Email: row.Email,
		Password: strings.Repeat("x", MinPasswordLen)}
	if p.Firstname != nil {
		in.Firstname = *p.Firstname
	}
	if p.Lastname != nil {
		in.Lastname = *p.Lastname
	}
	if p.Email != nil {
		in.Email = *p.Email
	}
	in, err := in.normalize()
	if err != nil {
		return err
	}
	row.Firstname, row.Lastname, row.Email = in.Firstname, in.Lastname, in.Email
	if p.IsActive != nil {
		row.IsActive = *p.IsActive
	}
	return nil
}

// checkPassword applies the password rules of RegisterInput alone.
func checkPassword(password string) error {
	_, err := RegisterInput{Firstname: "x", Email: "x@example.com", Password: password}.normalize()
	return err
}

// emailFree refuses an email another administrator has.
func emailFree(tx *gorm.DB, email string, id int64) error {
	var n int64
	err := tx.Model(&userRow{}).Where("email = ? AND id <> ?", email, id).Count(&n).Error
	if err != nil {
		return fmt.Errorf("check email: %w", err)
	}
	if n > 0 {
		return content.InvalidField([]string{"email"}, "email already taken")
	}
	return nil
}

// lockSuperAdmins serializes the transactions that change administrators:
// on PostgreSQL it locks the Super Admin role's row, so that two concurrent
// demotions of the last two Super Admins cannot both pass. On SQLite the
// write transaction already excludes every other.
func (s *Service) lockSuperAdmins(tx *gorm.DB) error {
	if s.db.Dialect != content.Postgres {
		return nil
	}
	var ids []int64
	err := tx.Model(&roleRow{}).Where("code = ?", RoleSuperAdmin).
		Clauses(clause.Locking{Strength: "UPDATE"}).Pluck("id", &ids).Error
	if err != nil {
		return fmt.Errorf("lock the Super Admin role: %w", err)
	}
	return nil
}

// keepOneSuperAdmin refuses to let administrator id stop being an active
// Super Admin when no other is. Call lockSuperAdmins first.
func (s *Service) keepOneSuperAdmin(tx *gorm.DB, id int64) error {
	q := tx.Model(&userRow{}).
		Where("is_active AND id <> ? AND role_id IN (?)", id,
			tx.Model(&roleRow{}).Select("id").Where("code = ?", RoleSuperAdmin))
	var others []int64
	if err := q.Pluck("id", &others).Error; err != nil {
		return fmt.Errorf("count Super Admins: %w", err)
	}
	if len(others) == 0 {
		return errLastSuperAdmin()
	}
	return nil
}

// revokeSessions ends every live session of an administrator.
func revokeSessions(tx *gorm.DB, userID int64, now time.Time) error {
	err := tx.Model(&sessionRow{}).Where("user_id = ? AND revoked_at IS NULL", userID).
		Update("revoked_at", now).Error
	if err != nil {
		return fmt.Errorf("revoke sessions of administrator %d: %w", userID, err)
	}
	return nil
}

// DeleteUser deletes an administrator on behalf of actor and returns it; its
// sessions end with it. Only a Super Admin may delete a Super Admin
// (EFORBIDDEN), the last active one not at all (EINVALID). A missing
// administrator is ENOTFOUND.
func (s *Service) DeleteUser(ctx context.Context, actor content.Actor, id int64) (User, error) {
	super, err := s.isSuperAdmin(ctx, actor)
	if err != nil {
		return User{}, err
	}
	var u User
	err = s.db.Write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.lockSuperAdmins(tx); err != nil {
			return err
		}
		row, role, err := findUserAndRole(tx, id)
		if err != nil {
			return err
		}
		if role.Code == RoleSuperAdmin {
			if !super {
				return errNotSuperAdmin()
			}
			if row.IsActive {
				if err := s.keepOneSuperAdmin(tx, id); err != nil {
					return err
				}
			}
		}
		if err := tx.Delete(&userRow{}, id).Error; err != nil {
			return fmt.Errorf("delete administrator %d: %w", id, err)
		}
		u = userFromRow(row, roleOf(role))
		return nil
	})
	if err != nil {
		return User{}, err
	}
	s.log.InfoContext(ctx, "administrator deleted", "user_id", id, "by", actor.ID)
	return u, nil
}

// pathID reads a positive integer path parameter; anything else names
// nothing, so it is notFound.
func pathID(raw string, notFound func() *content.Error) (int64, error) {
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, notFound()
	}
	return id, nil
}
