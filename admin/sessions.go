package admin

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"gorm.io/gorm"

	"github.com/herald-cms/herald/content"
)

// The claims Herald's JWTs carry. The audience is what keeps an
// administrator's token and an end user's apart: each is refused where the
// other is expected.
const (
	jwtIssuer       = "herald"
	jwtAudience     = "herald-admin"
	jwtUserAudience = "herald-user"
)

type sessionRow struct {
	ID        string `gorm:"primaryKey"`
	UserID    int64
	CreatedAt time.Time `gorm:"autoCreateTime:false"`
	ExpiresAt time.Time
	RevokedAt *time.Time
}

func (sessionRow) TableName() string { return "admin_sessions" }

// startSession records a session for u inside tx and signs its token. The
// token expires with the session.
func (s *Service) startSession(tx *gorm.DB, u User, now time.Time) (Session, error) {
	// JWT times have second precision; the session row matches it exactly.
	expires := now.Add(s.sessionTTL).Truncate(time.Second)
	row := sessionRow{
		ID:        randomHex(24),
		UserID:    u.ID,
		CreatedAt: now,
		ExpiresAt: expires,
	}
	if err := tx.Create(&row).Error; err != nil {
		return Session{}, fmt.Errorf("insert session: %w", err)
	}

	claims := jwt.RegisteredClaims{
		Issuer:    jwtIssuer,
		Subject:   strconv.FormatInt(u.ID, 10),
		Audience:  jwt.ClaimStrings{jwtAudience},
		ExpiresAt: jwt.NewNumericDate(expires),
		IssuedAt:  jwt.NewNumericDate(now),
		ID:        row.ID,
	}
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.jwtSecret)
	if err != nil {
		return Session{}, fmt.Errorf("sign session token: %w", err)
	}
	return Session{Token: token, User: u, ExpiresAt: expires}, nil
}

// bearer returns the credential of an "Authorization: Bearer <x>" header,
// or false when the header has another shape.
func bearer(authorization string) (string, bool) {
	scheme, cred, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	cred = strings.TrimSpace(cred)
	return cred, cred != ""
}

// verify checks an administrator's bearer token and returns its session id
// and its user, in one query. Every failure is EUNAUTHORIZED. The session's
// expiry is the token's, which parseJWT checks: startSession signs both
// from one time.
func (s *Service) verify(ctx context.Context, authorization string) (string, userRow, error) {
	raw, ok := bearer(authorization)
	if !ok {
		return "", userRow{}, unauthorized()
	}
	claims, err := s.parseJWT(raw, jwtAudience)
	if err != nil || claims.ID == "" {
		return "", userRow{}, unauthorized()
	}

	var u userRow
	err = s.db.Read.WithContext(ctx).
		Joins("JOIN admin_sessions ON admin_sessions.user_id = admin_users.id").
		Where("admin_sessions.id = ? AND admin_sessions.revoked_at IS NULL", claims.ID).
		Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return "", userRow{}, unauthorized()
	}
	if err != nil {
		return "", userRow{}, fmt.Errorf("load session: %w", err)
	}
	if !u.IsActive || claims.Subject != strconv.FormatInt(u.ID, 10) {
		return "", userRow{}, unauthorized()
	}
	return claims.ID, u, nil
}

// parseJWT checks a JWT's signature (HS256 with the JWT secret, nothing
// else), issuer, audience and expiry, which is required, and returns its
// claims.
func (s *Service) parseJWT(raw, audience string) (jwt.RegisteredClaims, error) {
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(jwtIssuer),
		jwt.WithAudience(audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(s.now),
	)
	var claims jwt.RegisteredClaims
	_, err := parser.ParseWithClaims(raw, &claims, func(*jwt.Token) (any, error) {
		return s.jwtSecret, nil
	})
	return claims, err
}

// AuthenticateAdmin checks the Authorization header of an admin API request
// ("Bearer <jwt>") and returns the administrator acting, with its role's
// policy. A missing, malformed, forged, expired or revoked token, or an
// inactive administrator, is EUNAUTHORIZED.
func (s *Service) AuthenticateAdmin(
	ctx context.Context, authorization string,
) (content.Actor, error) {
	_, u, err := s.verify(ctx, authorization)
	if err != nil {
		return content.Actor{}, err
	}
	_, policy, err := s.role(ctx, u.RoleID)
	if err != nil {
		return content.Actor{}, err
	}
	return content.Actor{
		Kind:   content.ActorAdmin,
		ID:     u.ID,
		Name:   u.Email,
		Policy: policy,
	}, nil
}

// CurrentUser returns the administrator behind an Authorization header, as
// AuthenticateAdmin checks it.
func (s *Service) CurrentUser(ctx context.Context, authorization string) (User, error) {
	_, u, err := s.verify(ctx, authorization)
	if err != nil {
		return User{}, err
	}
	role, _, err := s.role(ctx, u.RoleID)
	if err != nil {
		return User{}, err
	}
	return userFromRow(u, role), nil
}

// SignOut revokes the session of an Authorization header, so its token is
// refused from then on. A token that does not authenticate is EUNAUTHORIZED.
func (s *Service) SignOut(ctx context.Context, authorization string) error {
	sessionID, _, err := s.verify(ctx, authorization)
	if err != nil {
		return err
	}
	err = s.db.Write.WithContext(ctx).Model(&sessionRow{}).
		Where("id = ? AND revoked_at IS NULL", sessionID).
		Update("revoked_at", s.clock()).Error
	if err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	return nil
}
