package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/herald-cms/herald/content"
)

// Password length limits. bcrypt reads at most 72 bytes, so a longer
// password is refused rather than silently cut.
const (
	MinPasswordLen   = 8
	MaxPasswordBytes = 72
)

// maxNameLen bounds names and emails, in characters.
const maxNameLen = 255

// firstAdminKey is the settings row whose primary key lets only one first
// registration commit.
const firstAdminKey = "first_admin"

// User is an administrator as the API shows it. It never carries the
// password hash.
type User struct {
	ID        int64
	Firstname string
	Lastname  string
	Email     string
	IsActive  bool
	Role      Role
	CreatedAt time.Time
	UpdatedAt time.Time
}

// MarshalJSON writes the user in Strapi's shape, with its role in "roles".
func (u User) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ID        int64  `json:"id"`
		Firstname string `json:"firstname"`
		Lastname  string `json:"lastname"`
		Email     string `json:"email"`
		IsActive  bool   `json:"isActive"`
		Roles     []Role `json:"roles"`
		CreatedAt string `json:"createdAt"`
		UpdatedAt string `json:"updatedAt"`
	}{u.ID, u.Firstname, u.Lastname, u.Email, u.IsActive, []Role{u.Role},
		timeJSON(u.CreatedAt), timeJSON(u.UpdatedAt)})
}

// RegisterInput is a new administrator's details.
type RegisterInput struct {
	Firstname string `json:"firstname"`
	Lastname  string `json:"lastname"`
	Email     string `json:"email"`
	Password  string `json:"password"`
}

// LogValue keeps the password out of any log line the input reaches.
func (in RegisterInput) LogValue() slog.Value {
	return slog.GroupValue(slog.String("email", in.Email))
}

// String keeps the password out of formatted output.
func (in RegisterInput) String() string {
	return fmt.Sprintf("{%s %s %s}", in.Firstname, in.Lastname, in.Email)
}

// GoString keeps the password out of %#v output.
func (in RegisterInput) GoString() string { return in.String() }

// Session is a successful sign-in: the bearer token and its administrator.
type Session struct {
	Token     string    `json:"token"`
	User      User      `json:"user"`
	ExpiresAt time.Time `json:"-"`
}

type userRow struct {
	ID           int64 `gorm:"primaryKey"`
	Firstname    string
	Lastname     string
	Email        string
	PasswordHash string
	RoleID       int64
	IsActive     bool
	CreatedAt    time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt    time.Time `gorm:"autoUpdateTime:false"`
}

func (userRow) TableName() string { return "admin_users" }

// normalize trims the names and lowercases the email, then checks every
// field. It returns the normalized input or an EINVALID error naming each
// bad field.
func (in RegisterInput) normalize() (RegisterInput, error) {
	in.Firstname = strings.TrimSpace(in.Firstname)
	in.Lastname = strings.TrimSpace(in.Lastname)
	in.Email = strings.ToLower(strings.TrimSpace(in.Email))

	var errs []content.FieldError
	switch {
	case in.Firstname == "":
		errs = append(errs, fieldError("firstname", "firstname is required"))
	case utf8.RuneCountInString(in.Firstname) > maxNameLen:
		errs = append(errs, fieldError("firstname",
			fmt.Sprintf("firstname must be at most %d characters", maxNameLen)))
	}
	if utf8.RuneCountInString(in.Lastname) > maxNameLen {
		errs = append(errs, fieldError("lastname",
			fmt.Sprintf("lastname must be at most %d characters", maxNameLen)))
	}
	switch {
	case in.Email == "":
		errs = append(errs, fieldError("email", "email is required"))
	case !validEmail(in.Email):
		errs = append(errs, fieldError("email", "email must be a valid email address"))
	}
	switch {
	case utf8.RuneCountInString(in.Password) < MinPasswordLen:
		errs = append(errs, fieldError("password",
			fmt.Sprintf("password must be at least %d characters", MinPasswordLen)))
	case len(in.Password) > MaxPasswordBytes:
		errs = append(errs, fieldError("password",
			fmt.Sprintf("password must be at most %d bytes", MaxPasswordBytes)))
	}
	return in, validation(errs)
}

// validEmail accepts a bare address (no display name) with a domain.
func validEmail(s string) bool {
	if utf8.RuneCountInString(s) > maxNameLen {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	return at > 0 && at < len(s)-1
}

// HasAdmin reports whether any administrator exists.
func (s *Service) HasAdmin(ctx context.Context) (bool, error) {
	var n int64
	if err := s.db.Read.WithContext(ctx).Model(&userRow{}).Count(&n).Error; err != nil {
		return false, fmt.Errorf("count administrators: %w", err)
	}
	return n > 0, nil
}

// RegisterFirstAdmin creates the first administrator, a Super Admin, and
// signs it in. Once any administrator exists it returns EFORBIDDEN; invalid
// input is EINVALID naming the field. Of concurrent calls exactly one
// succeeds.
func (s *Service) RegisterFirstAdmin(ctx context.Context, in RegisterInput) (Session, error) {
	exists, err := s.HasAdmin(ctx)
	if err != nil {
		return Session{}, err
	}
	if exists {
		return Session{}, errRegistrationClosed()
	}
	return s.registerFirst(ctx, in)
}

func errRegistrationClosed() *content.Error {
	return content.Errorf(content.EFORBIDDEN,
		"Registration is closed: an administrator already exists")
}

// registerFirst does RegisterFirstAdmin's work without its early check. The
// settings row and the empty-table check, in one transaction, are what make
// a second registration fail: the row's primary key on PostgreSQL, the
// write lock on SQLite.
func (s *Service) registerFirst(ctx context.Context, in RegisterInput) (Session, error) {
	in, err := in.normalize()
	if err != nil {
		return Session{}, err
	}
	role, err := s.roleByCode(ctx, RoleSuperAdmin)
	if err != nil {
		return Session{}, err
	}
	hash, err := s.hashPassword(in.Password)
	if err != nil {
		return Session{}, err
	}

	var sess Session
	err = s.db.Write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := s.clock()
		res := tx.Exec(
			"INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
			firstAdminKey, timeJSON(now))
		if res.Error != nil {
			return fmt.Errorf("mark first administrator: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return errRegistrationClosed()
		}
		var n int64
		if err := tx.Model(&userRow{}).Count(&n).Error; err != nil {
			return fmt.Errorf("count administrators: %w", err)
		}
		if n > 0 {
			return errRegistrationClosed()
		}
		u, err := insertUser(tx, in, hash, role, true, now)
		if err != nil {
			return err
		}
		sess, err = s.startSession(tx, u, now)
		return err
	})
	if err != nil {
		return Session{}, err
	}
	s.log.InfoContext(ctx, "first administrator registered", "user_id", sess.User.ID)
	return sess, nil
}

// CreateAdmin creates an active administrator with the role whose code is
// roleCode, whether or not others exist (the command line uses it). Invalid
// input, a taken email or an unknown role is EINVALID naming the field.
func (s *Service) CreateAdmin(
	ctx context.Context, in RegisterInput, roleCode string,
) (User, error) {
	in, err := in.normalize()
	if err != nil {
		return User{}, err
	}
	role, err := s.roleByCode(ctx, roleCode)
	if err != nil {
		return User{}, err
	}
	hash, err := s.hashPassword(in.Password)
	if err != nil {
		return User{}, err
	}

	var u User
	err = s.db.Write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		u, err = insertUser(tx, in, hash, role, true, s.clock())
		return err
	})
	if err != nil {
		return User{}, err
	}
	s.log.InfoContext(ctx, "administrator created", "user_id", u.ID, "role", role.Code)
	return u, nil
}

// insertUser inserts an administrator; a taken email is EINVALID.
func insertUser(
	tx *gorm.DB, in RegisterInput, hash []byte, role Role, active bool, now time.Time,
) (User, error) {
	row := userRow{
		Firstname:    in.Firstname,
		Lastname:     in.Lastname,
		Email:        in.Email,
		PasswordHash: string(hash),
		RoleID:       role.ID,
		IsActive:     active,
		CreatedAt:    now,
		UpdatedAt:    now,
	}
	// DO NOTHING instead of a unique-violation error, which each driver
	// words differently.
	res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
	if res.Error != nil {
		return User{}, fmt.Errorf("insert administrator: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return User{}, content.InvalidField([]string{"email"}, "email already taken")
	}
	return userFromRow(row, role), nil
}

func userFromRow(row userRow, role Role) User {
	return User{
		ID:        row.ID,
		Firstname: row.Firstname,
		Lastname:  row.Lastname,
		Email:     row.Email,
		IsActive:  row.IsActive,
		Role:      role,
		CreatedAt: row.CreatedAt,
		UpdatedAt: row.UpdatedAt,
	}
}

func (s *Service) hashPassword(password string) ([]byte, error) {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.cost)
	if err != nil {
		// The error names no part of the password.
		return nil, fmt.Errorf("hash password: %w", err)
	}
	return hash, nil
}

// SignIn checks an administrator's email and password and starts a
// session. An unknown email, a wrong password and an inactive account are
// all the same EUNAUTHORIZED "Invalid credentials", and take the same time.
func (s *Service) SignIn(ctx context.Context, email, password string) (Session, error) {
	email = strings.ToLower(strings.TrimSpace(email))

	var row userRow
	err := s.db.Read.WithContext(ctx).Where("email = ?", email).Take(&row).Error
	found := err == nil
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return Session{}, fmt.Errorf("load administrator: %w", err)
	}
	hash := s.unknownAccountHash()
	if found {
		hash = []byte(row.PasswordHash)
	}
	match := bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
	if !found || !match || !row.IsActive {
		s.log.DebugContext(ctx, "sign-in refused",
			"known_email", found, "password_ok", found && match)
		return Session{}, content.Errorf(content.EUNAUTHORIZED, "Invalid credentials")
	}

	role, _, err := s.role(ctx, row.RoleID)
	if err != nil {
		return Session{}, err
	}
	var sess Session
	err = s.db.Write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := s.clock()
		// Expired sessions are useless: sweep the user's old ones.
		err := tx.Where("user_id = ? AND expires_at < ?", row.ID, now).
			Delete(&sessionRow{}).Error
		if err != nil {
			return fmt.Errorf("delete expired sessions: %w", err)
		}
		sess, err = s.startSession(tx, userFromRow(row, role), now)
		return err
	})
	if err != nil {
		return Session{}, err
	}
	return sess, nil
}

// SignInFrom is SignIn for a request from the client address addr, limited
// per address and per account (see Limits). An attempt over a limit is a
// *RateLimitError, whatever the password.
func (s *Service) SignInFrom(ctx context.Context, addr, email, password string) (Session, error) {
	acct := keyAdminAcct + strings.ToLower(strings.TrimSpace(email))
	if err := s.beginSignIn(keyAdminAddr+addr, acct); err != nil {
		s.log.WarnContext(ctx, "administrator sign-in rate-limited", "ip", addr)
		return Session{}, err
	}
	sess, err := s.SignIn(ctx, email, password)
	if content.IsCode(err, content.EUNAUTHORIZED) {
		s.failedSignIn(acct)
	}
	return sess, err
}
