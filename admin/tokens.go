package admin

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/herald-cms/herald/content"
)

// accessKeyBytes is the number of random bytes in an API token's key.
const accessKeyBytes = 32

// maxLifespan bounds a token's lifespan (about 100 years) so that expiry
// arithmetic cannot overflow.
const maxLifespan = 100 * 365 * 24 * time.Hour

// maxDescriptionLen bounds descriptions, in characters.
const maxDescriptionLen = 1000

// lastUsedEvery is how stale a token's lastUsedAt may become: using a token
// writes to the database at most this often.
const lastUsedEvery = time.Minute

// Token is an API token as the admin API shows it. AccessKey is set only in
// the answers to its creation and regeneration.
type Token struct {
	ID          int64
	Name        string
	Description string
	Type        string
	AccessKey   string
	// Permissions are a custom token's grants, such as
	// "api::article.article.find"; empty for the other types.
	Permissions []string
	// Lifespan is in milliseconds; nil means the token never expires.
	Lifespan   *int64
	ExpiresAt  *time.Time
	LastUsedAt *time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// MarshalJSON writes the token in Strapi's shape; accessKey appears only
// when the token carries its key.
func (t Token) MarshalJSON() ([]byte, error) {
	perms := t.Permissions
	if perms == nil {
		perms = []string{}
	}
	return json.Marshal(struct {
		ID          int64    `json:"id"`
		Name        string   `json:"name"`
		Description string   `json:"description"`
		Type        string   `json:"type"`
		AccessKey   string   `json:"accessKey,omitempty"`
		Permissions []string `json:"permissions"`
		Lifespan    *int64   `json:"lifespan"`
		ExpiresAt   *string  `json:"expiresAt"`
		LastUsedAt  *string  `json:"lastUsedAt"`
		CreatedAt   string   `json:"createdAt"`
		UpdatedAt   string   `json:"updatedAt"`
	}{t.ID, t.Name, t.Description, t.Type, t.AccessKey, perms, t.Lifespan,
		timePtrJSON(t.ExpiresAt), timePtrJSON(t.LastUsedAt),
		timeJSON(t.CreatedAt), timeJSON(t.UpdatedAt)})
}

// TokenInput is a new API token's settings.
type TokenInput struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Type        string `json:"type"`
	// Permissions are a custom token's grants; other types take none.
	Permissions []string `json:"permissions"`
	// Lifespan is milliseconds or null, kept raw so that its type can be
	// checked and named in the error.
	Lifespan json.RawMessage `json:"lifespan"`
}

// TokenPatch changes an API token: only the fields present change. A
// token's lifespan cannot change; sending the current one is accepted.
type TokenPatch struct {
	Name        *string         `json:"name"`
	Description *string         `json:"description"`
	Type        *string         `json:"type"`
	Permissions *[]string       `json:"permissions"`
	Lifespan    json.RawMessage `json:"lifespan"`
}

type tokenRow struct {
	ID            int64 `gorm:"primaryKey"`
	Name          string
	Description   string
	Type          string
	AccessKeyHash string
	Permissions   string
	Lifespan      *int64
	ExpiresAt     *time.Time
	LastUsedAt    *time.Time
	CreatedAt     time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt     time.Time `gorm:"autoUpdateTime:false"`
}

func (tokenRow) TableName() string { return "api_tokens" }

func tokenFromRow(r tokenRow) Token {
	perms, err := decodeAPIPermissions(r.Permissions)
	if err != nil {
		perms = []string{}
	}
	return Token{
		Permissions: perms,
		ID:          r.ID,
		Name:        r.Name,
		Description: r.Description,
		Type:        r.Type,
		Lifespan:    r.Lifespan,
		ExpiresAt:   r.ExpiresAt,
		LastUsedAt:  r.LastUsedAt,
		CreatedAt:   r.CreatedAt,
		UpdatedAt:   r.UpdatedAt,
	}
}

// hashKey is how an access key is stored and looked up: an HMAC keyed with
// the token salt. Looking up the hash leaks nothing useful about the key,
// so no constant-time comparison is needed.
func (s *Service) hashKey(key string) string {
	m := hmac.New(sha256.New, s.tokenSalt)
	m.Write([]byte(key))
	return hex.EncodeToString(m.Sum(nil))
}

// checkToken checks a token's name, type and permissions, and returns the
// permissions normalized. Errors are field errors naming each bad field.
func (s *Service) checkToken(in *TokenInput) []content.FieldError {
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
	switch in.Type {
	case TokenReadOnly, TokenFullAccess:
		if len(in.Permissions) > 0 {
			errs = append(errs, fieldError("permissions",
				"permissions apply only to custom tokens"))
		}
		in.Permissions = []string{}
	case TokenCustom:
		perms, perr := s.normalizeAPIPermissions("permissions", in.Permissions, nil)
		errs = append(errs, perr...)
		in.Permissions = perms
	default:
		errs = append(errs, fieldError("type", "type must be read-only, full-access or custom"))
	}
	return errs
}

// parseLifespan reads a lifespan: absent or null is nil, otherwise a
// positive integer of milliseconds no longer than maxLifespan.
func parseLifespan(raw json.RawMessage) (*int64, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, true
	}
	ms, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil || ms <= 0 || ms > maxLifespan.Milliseconds() {
		return nil, false
	}
	return &ms, true
}

// CreateAPIToken creates an API token and returns it with its access key,
// which is never shown again. Invalid settings or a taken name are EINVALID
// naming the field.
func (s *Service) CreateAPIToken(ctx context.Context, in TokenInput) (Token, error) {
	errs := s.checkToken(&in)
	lifespan, ok := parseLifespan(in.Lifespan)
	if !ok {
		errs = append(errs, fieldError("lifespan",
			"lifespan must be null or a positive integer number of milliseconds"))
	}
	if err := validation(errs); err != nil {
		return Token{}, err
	}
	perms, err := encodeJSON(in.Permissions)
	if err != nil {
		return Token{}, err
	}

	now := s.clock()
	key := randomHex(accessKeyBytes)
	row := tokenRow{
		Name:          in.Name,
		Description:   in.Description,
		Type:          in.Type,
		AccessKeyHash: s.hashKey(key),
		Permissions:   perms,
		Lifespan:      lifespan,
		CreatedAt:     now,
		UpdatedAt:     now,
	}
	if lifespan != nil {
		exp := now.Add(time.Duration(*lifespan) * time.Millisecond)
		row.ExpiresAt = &exp
	}
	// The hash is random, so a conflict can only be the name.
	res := s.db.Write.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
	if res.Error != nil {
		return Token{}, fmt.Errorf("insert API token: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return Token{}, content.InvalidField([]string{"name"}, "name already taken")
	}

	t := tokenFromRow(row)
	t.AccessKey = key
	return t, nil
}

// UpdateAPIToken changes a token's name, description, type or permissions
// and returns it; its key keeps working with the new grants at once.
// Changing the type away from custom drops the permissions. A missing token
// is ENOTFOUND; invalid settings, a taken name or a changed lifespan are
// EINVALID naming the field.
func (s *Service) UpdateAPIToken(ctx context.Context, id int64, p TokenPatch) (Token, error) {
	var out tokenRow
	err := s.db.Write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		row, err := findToken(tx, id)
		if err != nil {
			return err
		}
		cur := tokenFromRow(row)
		in := TokenInput{Name: cur.Name, Description: cur.Description, Type: cur.Type,
			Permissions: cur.Permissions}
		if p.Name != nil {
			in.Name = *p.Name
		}
		if p.Description != nil {
			in.Description = *p.Description
		}
		if p.Type != nil {
			in.Type = *p.Type
			if in.Type != TokenCustom && p.Permissions == nil {
				in.Permissions = nil
			}
		}
		if p.Permissions != nil {
			in.Permissions = *p.Permissions
		}
		errs := s.checkToken(&in)
		if len(bytes.TrimSpace(p.Lifespan)) > 0 {
			lifespan, ok := parseLifespan(p.Lifespan)
			if !ok || !sameLifespan(lifespan, row.Lifespan) {
				errs = append(errs, fieldError("lifespan",
					"lifespan cannot change: create a new token instead"))
			}
		}
		if err := validation(errs); err != nil {
			return err
		}
		var taken int64
		err = tx.Model(&tokenRow{}).Where("name = ? AND id <> ?", in.Name, id).Count(&taken).Error
		if err != nil {
			return fmt.Errorf("check API token name: %w", err)
		}
		if taken > 0 {
			return content.InvalidField([]string{"name"}, "name already taken")
		}
		perms, err := encodeJSON(in.Permissions)
		if err != nil {
			return err
		}
		row.Name, row.Description, row.Type = in.Name, in.Description, in.Type
		row.Permissions, row.UpdatedAt = perms, s.clock()
		err = tx.Model(&tokenRow{}).Where("id = ?", id).Updates(map[string]any{
			"name": row.Name, "description": row.Description, "type": row.Type,
			"permissions": row.Permissions, "updated_at": row.UpdatedAt,
		}).Error
		if err != nil {
			return fmt.Errorf("update API token %d: %w", id, err)
		}
		out = row
		return nil
	})
	if err != nil {
		return Token{}, err
	}
	return tokenFromRow(out), nil
}

func sameLifespan(a, b *int64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// RegenerateAPIToken gives a token a new access key and returns it with the
// key, shown this once. The old key stops working at once; the name, type,
// permissions and expiry stay. A missing token is ENOTFOUND.
func (s *Service) RegenerateAPIToken(ctx context.Context, id int64) (Token, error) {
	key := randomHex(accessKeyBytes)
	var out tokenRow
	err := s.db.Write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		row, err := findToken(tx, id)
		if err != nil {
			return err
		}
		row.AccessKeyHash, row.UpdatedAt = s.hashKey(key), s.clock()
		err = tx.Model(&tokenRow{}).Where("id = ?", id).Updates(map[string]any{
			"access_key_hash": row.AccessKeyHash, "updated_at": row.UpdatedAt,
		}).Error
		if err != nil {
			return fmt.Errorf("regenerate API token %d: %w", id, err)
		}
		out = row
		return nil
	})
	if err != nil {
		return Token{}, err
	}
	t := tokenFromRow(out)
	t.AccessKey = key
	return t, nil
}

// ListAPITokens returns every API token, oldest first, without keys.
func (s *Service) ListAPITokens(ctx context.Context) ([]Token, error) {
	var rows []tokenRow
	if err := s.db.Read.WithContext(ctx).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list API tokens: %w", err)
	}
	tokens := make([]Token, len(rows))
	for i, r := range rows {
		tokens[i] = tokenFromRow(r)
	}
	return tokens, nil
}

// GetAPIToken returns one API token without its key, or ENOTFOUND.
func (s *Service) GetAPIToken(ctx context.Context, id int64) (Token, error) {
	row, err := findToken(s.db.Read.WithContext(ctx), id)
	if err != nil {
		return Token{}, err
	}
	return tokenFromRow(row), nil
}

// DeleteAPIToken deletes an API token and returns it; its key stops
// working at once. A missing token is ENOTFOUND.
func (s *Service) DeleteAPIToken(ctx context.Context, id int64) (Token, error) {
	var row tokenRow
	err := s.db.Write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if row, err = findToken(tx, id); err != nil {
			return err
		}
		if err := tx.Delete(&tokenRow{}, id).Error; err != nil {
			return fmt.Errorf("delete API token %d: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return Token{}, err
	}
	return tokenFromRow(row), nil
}

func findToken(db *gorm.DB, id int64) (tokenRow, error) {
	return takeOne[tokenRow](db, errTokenNotFound(), fmt.Sprintf("API token %d", id),
		"id = ?", id)
}

func errTokenNotFound() *content.Error {
	return content.Errorf(content.ENOTFOUND, "API token not found")
}

// AuthenticateAPI checks the Authorization header of a content API request.
// No header is the public actor, with the Public role's grants. "Bearer
// <jwt>" is an end user, with the Authenticated role's grants; "Bearer
// <accessKey>" is the API token with that key. A forged, expired or unknown
// credential, an administrator's token included, is EUNAUTHORIZED.
func (s *Service) AuthenticateAPI(
	ctx context.Context, authorization string,
) (content.Actor, error) {
	if strings.TrimSpace(authorization) == "" {
		policy, err := s.endUserPolicy(ctx, RolePublic)
		if err != nil {
			return content.Actor{}, err
		}
		return content.Actor{Kind: content.ActorPublic, Name: "public", Policy: policy}, nil
	}
	key, ok := bearer(authorization)
	if !ok {
		return content.Actor{}, unauthorized()
	}
	if looksLikeJWT(key) {
		return s.authenticateEndUser(ctx, key)
	}

	row, err := takeOne[tokenRow](s.db.Read.WithContext(ctx), unauthorized(), "API token",
		"access_key_hash = ?", s.hashKey(key))
	if err != nil {
		return content.Actor{}, err
	}
	now := s.clock()
	if row.ExpiresAt != nil && !now.Before(*row.ExpiresAt) {
		return content.Actor{}, unauthorized()
	}
	if row.LastUsedAt == nil || now.Sub(*row.LastUsedAt) >= lastUsedEvery {
		s.touchToken(ctx, row.ID, now)
	}

	var perms []string
	if row.Type == TokenCustom {
		if perms, err = decodeAPIPermissions(row.Permissions); err != nil {
			return content.Actor{}, fmt.Errorf("API token %d: %w", row.ID, err)
		}
	}
	return content.Actor{
		Kind:   content.ActorToken,
		ID:     row.ID,
		Name:   row.Name,
		Policy: TokenPolicy(row.Type, perms),
	}, nil
}

// looksLikeJWT tells a JWT (three dot-separated parts) from an access key,
// which is hex.
func looksLikeJWT(cred string) bool {
	return strings.Count(cred, ".") == 2
}

// touchToken records that a token was used. Failing to is logged, not
// returned: it must not refuse a valid request.
func (s *Service) touchToken(ctx context.Context, id int64, now time.Time) {
	err := s.db.Write.WithContext(ctx).Model(&tokenRow{}).Where("id = ?", id).
		UpdateColumn("last_used_at", now).Error
	if err != nil {
		s.log.WarnContext(ctx, "record API token use", "token_id", id, "error", err)
	}
}
