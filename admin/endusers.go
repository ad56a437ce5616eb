package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/herald-cms/herald/content"
)

// Username length limits, in characters.
const (
	MinUsernameLen = 3
	maxUsernameLen = 100
)

// EndUser is an end user of the content API (Strapi's users-permissions
// user). It never carries the password hash.
type EndUser struct {
	ID         int64
	DocumentID string
	Username   string
	Email      string
	Provider   string
	Confirmed  bool
	Blocked    bool
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// MarshalJSON writes the user in Strapi v5's shape.
func (u EndUser) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ID          int64  `json:"id"`
		DocumentID  string `json:"documentId"`
		Username    string `json:"username"`
		Email       string `json:"email"`
		Provider    string `json:"provider"`
		Confirmed   bool   `json:"confirmed"`
		Blocked     bool   `json:"blocked"`
		CreatedAt   string `json:"createdAt"`
		UpdatedAt   string `json:"updatedAt"`
		PublishedAt string `json:"publishedAt"`
	}{u.ID, u.DocumentID, u.Username, u.Email, u.Provider, u.Confirmed, u.Blocked,
		timeJSON(u.CreatedAt), timeJSON(u.UpdatedAt), timeJSON(u.CreatedAt)})
}

// EndUserInput is a registration: POST /api/auth/local/register.
type EndUserInput struct {
	Username string `json:"username"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

// LogValue keeps the password out of any log line the input reaches.
func (in EndUserInput) LogValue() slog.Value {
	return slog.GroupValue(slog.String("username", in.Username))
}

// String keeps the password out of formatted output.
func (in EndUserInput) String() string { return fmt.Sprintf("{%s %s}", in.Username, in.Email) }

// GoString keeps the password out of %#v output.
func (in EndUserInput) GoString() string { return in.String() }

// EndUserSession is a successful end-user sign-in, in Strapi's shape.
type EndUserSession struct {
	JWT  string  `json:"jwt"`
	User EndUser `json:"user"`
}

type endUserRow struct {
	ID           int64 `gorm:"primaryKey"`
	DocumentID   string
	Username     string
	Email        string
	PasswordHash string
	Provider     string
	Confirmed    bool
	Blocked      bool
	CreatedAt    time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt    time.Time `gorm:"autoUpdateTime:false"`
}

func (endUserRow) TableName() string { return "end_users" }

func endUserFromRow(r endUserRow) EndUser {
	return EndUser{ID: r.ID, DocumentID: r.DocumentID, Username: r.Username, Email: r.Email,
		Provider: r.Provider, Confirmed: r.Confirmed, Blocked: r.Blocked,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// normalize trims the username, lowercases the email and checks every
// field. Usernames hold no "@", so that a sign-in identifier is either an
// email or a username, never both.
func (in EndUserInput) normalize() (EndUserInput, error) {
	in.Username = strings.TrimSpace(in.Username)
	in.Email = strings.ToLower(strings.TrimSpace(in.Email))

	var errs []content.FieldError
	n := utf8.RuneCountInString(in.Username)
	switch {
	case n < MinUsernameLen:
		errs = append(errs, fieldError("username",
			fmt.Sprintf("username must be at least %d characters", MinUsernameLen)))
	case n > maxUsernameLen:
		errs = append(errs, fieldError("username",
			fmt.Sprintf("username must be at most %d characters", maxUsernameLen)))
	case strings.ContainsAny(in.Username, "@\x00"):
		errs = append(errs, fieldError("username", "username must not contain @"))
	}
	switch {
	case in.Email == "":
		errs = append(errs, fieldError("email", "email is required"))
	case !validEmail(in.Email):
		errs = append(errs, fieldError("email", "email must be a valid email address"))
	}
	if err := checkPassword(in.Password); err != nil {
		var ce *content.Error
		if errors.As(err, &ce) {
			if d, ok := ce.Details.(content.ValidationDetails); ok {
				errs = append(errs, d.Errors...)
			}
		}
	}
	return in, validation(errs)
}

func errRegistrationDisabled() *content.Error {
	return content.Errorf(content.EFORBIDDEN, "Register action is currently disabled")
}

func errInvalidIdentifier() *content.Error {
	return content.Errorf(content.EINVALID, "Invalid identifier or password")
}

// RegisterEndUser creates an end user from the client address addr and
// signs it in. While public registration is off it is EFORBIDDEN; too many
// registrations from addr are a *RateLimitError; invalid input is EINVALID
// naming the field, and a taken username or email EINVALID.
func (s *Service) RegisterEndUser(
	ctx context.Context, addr string, in EndUserInput,
) (EndUserSession, error) {
	if !s.openSignUp {
		return EndUserSession{}, errRegistrationDisabled()
	}
	if w := s.limiter.take(keyRegisterAdr+addr, s.limits.RegisterPerAddress); w > 0 {
		s.log.WarnContext(ctx, "registration rate-limited", "ip", addr)
		return EndUserSession{}, newRateLimitError(w)
	}
	in, err := in.normalize()
	if err != nil {
		return EndUserSession{}, err
	}
	hash, err := s.hashPassword(in.Password)
	if err != nil {
		return EndUserSession{}, err
	}

	now := s.clock()
	row := endUserRow{DocumentID: content.NewDocumentID(), Username: in.Username, Email: in.Email,
		PasswordHash: string(hash), Provider: "local", Confirmed: true,
		CreatedAt: now, UpdatedAt: now}
	// DO NOTHING covers both the email's and the username's unique index.
	res := s.db.Write.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
	if res.Error != nil {
		return EndUserSession{}, fmt.Errorf("insert end user: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return EndUserSession{}, content.Errorf(content.EINVALID,
			"Email or Username are already taken")
	}
	s.log.InfoContext(ctx, "end user registered", "end_user_id", row.ID)
	return s.endUserSession(row, now)
}

// SignInEndUser checks an end user's identifier (email or username) and
// password, from the client address addr, and returns a JWT. A wrong
// identifier or password, or a blocked user, is EINVALID "Invalid
// identifier or password" (Strapi's answer), taking the same time; too many
// attempts are a *RateLimitError.
func (s *Service) SignInEndUser(
	ctx context.Context, addr, identifier, password string,
) (EndUserSession, error) {
	identifier = strings.TrimSpace(identifier)
	acct := keyUserAcct + strings.ToLower(identifier)
	if err := s.beginSignIn(keyUserAddr+addr, acct); err != nil {
		s.log.WarnContext(ctx, "end-user sign-in rate-limited", "ip", addr)
		return EndUserSession{}, err
	}

	var row endUserRow
	q := s.db.Read.WithContext(ctx)
	if strings.Contains(identifier, "@") {
		q = q.Where("email = ?", strings.ToLower(identifier))
	} else {
		q = q.Where("lower(username) = ?", strings.ToLower(identifier))
	}
	err := q.Take(&row).Error
	found := err == nil
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return EndUserSession{}, fmt.Errorf("load end user: %w", err)
	}
	// The account is named by email or by username: failures count against
	// the identifier used and against the user, whichever name it used.
	accts := []string{acct}
	hash := s.unknownAccountHash()
	if found {
		byID := keyUserAcct + "#" + strconv.FormatInt(row.ID, 10)
		if w := s.limiter.check(byID, s.limits.SignInPerAccount); w > 0 {
			return EndUserSession{}, newRateLimitError(w)
		}
		accts = append(accts, byID)
		hash = []byte(row.PasswordHash)
	}
	match := bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
	if !found || !match || row.Blocked {
		for _, k := range accts {
			s.failedSignIn(k)
		}
		return EndUserSession{}, errInvalidIdentifier()
	}
	return s.endUserSession(row, s.clock())
}

// endUserSession signs an end user's JWT.
func (s *Service) endUserSession(row endUserRow, now time.Time) (EndUserSession, error) {
	claims := jwt.RegisteredClaims{
		Issuer:    jwtIssuer,
		Subject:   strconv.FormatInt(row.ID, 10),
		Audience:  jwt.ClaimStrings{jwtUserAudience},
		ExpiresAt: jwt.NewNumericDate(now.Add(s.userTTL)),
		IssuedAt:  jwt.NewNumericDate(now),
	}
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.jwtSecret)
	if err != nil {
		return EndUserSession{}, fmt.Errorf("sign end-user token: %w", err)
	}
	return EndUserSession{JWT: token, User: endUserFromRow(row)}, nil
}

// verifyEndUser checks an end user's JWT and returns its user, who must
// exist and not be blocked. Every failure is EUNAUTHORIZED.
func (s *Service) verifyEndUser(ctx context.Context, raw string) (endUserRow, error) {
	claims, err := s.parseJWT(raw, jwtUserAudience)
	if err != nil {
		return endUserRow{}, unauthorized()
	}
	id, err := strconv.ParseInt(claims.Subject, 10, 64)
	if err != nil || id <= 0 {
		return endUserRow{}, unauthorized()
	}
	row, err := takeOne[endUserRow](s.db.Read.WithContext(ctx), unauthorized(), "end user",
		"id = ?", id)
	if err != nil {
		return endUserRow{}, err
	}
	if row.Blocked {
		return endUserRow{}, unauthorized()
	}
	return row, nil
}

// authenticateEndUser is the actor of an end user's JWT, with the
// Authenticated role's grants.
func (s *Service) authenticateEndUser(ctx context.Context, raw string) (content.Actor, error) {
	row, err := s.verifyEndUser(ctx, raw)
	if err != nil {
		return content.Actor{}, err
	}
	policy, err := s.endUserPolicy(ctx, RoleAuthenticated)
	if err != nil {
		return content.Actor{}, err
	}
	return content.Actor{Kind: content.ActorUser, ID: row.ID, Name: row.Username,
		Policy: policy}, nil
}

// AuthenticateEndUser checks the Authorization header of a request that
// needs a signed-in end user ("Bearer <jwt>", GET /api/users/me). Anything
// else, an API token or an administrator's token included, is
// EUNAUTHORIZED.
func (s *Service) AuthenticateEndUser(
	ctx context.Context, authorization string,
) (content.Actor, error) {
	raw, ok := bearer(authorization)
	if !ok || !looksLikeJWT(raw) {
		return content.Actor{}, unauthorized()
	}
	return s.authenticateEndUser(ctx, raw)
}

// GetEndUser returns one end user, or ENOTFOUND.
func (s *Service) GetEndUser(ctx context.Context, id int64) (EndUser, error) {
	row, err := takeOne[endUserRow](s.db.Read.WithContext(ctx),
		content.Errorf(content.ENOTFOUND, "User not found"), fmt.Sprintf("end user %d", id),
		"id = ?", id)
	if err != nil {
		return EndUser{}, err
	}
	return endUserFromRow(row), nil
}
