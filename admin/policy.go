package admin

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/herald-cms/herald/content"
)

// Settings permissions. They are asked through content.Policy like content
// actions, with an empty content type uid.
const (
	PermContentTypesManage content.Action = "content-types.manage"
	PermWebhooksRead       content.Action = "webhooks.read"
	PermWebhooksManage     content.Action = "webhooks.manage"
	PermUsersManage        content.Action = "users.manage"
	PermTokensManage       content.Action = "tokens.manage"
)

// The built-in administrator roles' codes. Super Admin may do everything and
// cannot be changed; Editor and Author are seeded permission lists.
const (
	RoleSuperAdmin = "strapi-super-admin"
	RoleEditor     = "strapi-editor"
	RoleAuthor     = "strapi-author"
)

// The API token types.
const (
	TokenReadOnly   = "read-only"
	TokenFullAccess = "full-access"
	TokenCustom     = "custom"
)

// cacheTTL bounds how long a cached role or grant list is used. Changes made
// by any instance invalidate the caches of all at once, through the
// database's bus; the TTL bounds the staleness a lost notice could cause.
const cacheTTL = 10 * time.Second

// contentActions are every action on content, as opposed to settings.
var contentActions = map[content.Action]bool{
	content.ActionFind:       true,
	content.ActionFindOne:    true,
	content.ActionCreate:     true,
	content.ActionUpdate:     true,
	content.ActionDelete:     true,
	content.ActionPublish:    true,
	content.ActionReadDrafts: true,
}

// denyAll grants nothing.
var denyAll = content.PolicyFunc(func(context.Context, content.Action, string) content.Grant {
	return content.Grant{}
})

// superAdminPolicy grants every content action and every settings permission.
var superAdminPolicy = content.AllowAll

// fullAccessPolicy grants every content action on every type, and no
// settings.
var fullAccessPolicy = content.PolicyFunc(
	func(_ context.Context, a content.Action, _ string) content.Grant {
		return content.Grant{Allowed: contentActions[a]}
	})

// readOnlyPolicy lets a read-only token read documents, drafts included.
var readOnlyPolicy = content.PolicyFunc(
	func(_ context.Context, a content.Action, _ string) content.Grant {
		switch a {
		case content.ActionFind, content.ActionFindOne, content.ActionReadDrafts:
			return content.Grant{Allowed: true}
		}
		return content.Grant{}
	})

// TokenPolicy returns the policy of an API token of the given type. A
// full-access token may do every content action but holds no settings
// permission; a read-only token reads, drafts included; a custom token has
// exactly its permissions ("api::article.article.find", ...), where find or
// findOne also reads drafts and create or update also publishes (a REST
// write publishes unless it asks for a draft). An unknown type grants
// nothing.
func TokenPolicy(tokenType string, permissions []string) content.Policy {
	switch tokenType {
	case TokenReadOnly:
		return readOnlyPolicy
	case TokenFullAccess:
		return fullAccessPolicy
	case TokenCustom:
		return apiPolicy(permissions, true)
	}
	return denyAll
}

// Role is an administrator role as the API shows it inside a user.
type Role struct {
	ID   int64  `json:"id"`
	Code string `json:"code"`
	Name string `json:"name"`
}

type roleRow struct {
	ID          int64 `gorm:"primaryKey"`
	Code        string
	Name        string
	Description string
	Permissions string
	CreatedAt   time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt   time.Time `gorm:"autoUpdateTime:false"`
}

func (roleRow) TableName() string { return "admin_roles" }

// cachedRole is a role with its compiled policy.
type cachedRole struct {
	role     Role
	policy   content.Policy
	loadedAt time.Time
}

// cachedGrants is a users-permissions role's compiled policy.
type cachedGrants struct {
	policy   content.Policy
	loadedAt time.Time
}

// accessCache keeps roles and grant lists in memory: every authenticated
// request needs one, and they rarely change.
type accessCache struct {
	mu       sync.Mutex
	roles    map[int64]cachedRole
	endUsers map[string]cachedGrants
	// gen counts invalidations: a load that began before one is not
	// stored, since it may have read the old grants.
	gen uint64
}

// InvalidateRoles forgets every cached role and grant list, here and on
// every other instance sharing the database. The service calls it after
// each change it makes; call it after changing roles in the database by
// other means.
func (s *Service) InvalidateRoles() {
	s.forgetAccess()
	s.db.Bus.Publish(context.Background(), content.TopicAccess, "")
}

// forgetAccess empties this instance's role and grant caches.
func (s *Service) forgetAccess() {
	s.cache.mu.Lock()
	s.cache.roles = nil
	s.cache.endUsers = nil
	s.cache.gen++
	s.cache.mu.Unlock()
}

// fresh reports whether something loaded at t may still be used.
func (s *Service) fresh(t time.Time) bool {
	age := s.now().Sub(t)
	return age >= 0 && age < cacheTTL
}

// role returns the role with the given id and its policy, from the cache
// when it can.
func (s *Service) role(ctx context.Context, id int64) (Role, content.Policy, error) {
	s.cache.mu.Lock()
	c, ok := s.cache.roles[id]
	gen := s.cache.gen
	s.cache.mu.Unlock()
	if ok && s.fresh(c.loadedAt) {
		return c.role, c.policy, nil
	}

	loadedAt := s.now()
	var row roleRow
	err := s.db.Read.WithContext(ctx).Where("id = ?", id).Take(&row).Error
	if err != nil {
		return Role{}, nil, fmt.Errorf("load role %d: %w", id, err)
	}
	c = cachedRole{role: roleOf(row), policy: denyAll, loadedAt: loadedAt}
	if row.Code == RoleSuperAdmin {
		c.policy = superAdminPolicy
	} else if perms, err := decodePermissions(row.Permissions); err != nil {
		// A corrupt list grants nothing rather than failing every request.
		s.log.ErrorContext(ctx, "role permissions unreadable", "role_id", id, "error", err)
	} else {
		c.policy = rolePolicy(perms)
	}

	s.cache.mu.Lock()
	if s.cache.gen == gen {
		if s.cache.roles == nil {
			s.cache.roles = make(map[int64]cachedRole)
		}
		s.cache.roles[id] = c
	}
	s.cache.mu.Unlock()
	return c.role, c.policy, nil
}

func roleOf(row roleRow) Role {
	return Role{ID: row.ID, Code: row.Code, Name: row.Name}
}

// roleByCode looks a role up by code; an unknown code is EINVALID naming
// "role".
func (s *Service) roleByCode(ctx context.Context, code string) (Role, error) {
	var row roleRow
	err := s.db.Read.WithContext(ctx).Where("code = ?", code).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Role{}, content.InvalidField([]string{"role"},
			fmt.Sprintf("role %q does not exist", code))
	}
	if err != nil {
		return Role{}, fmt.Errorf("load role %s: %w", code, err)
	}
	return roleOf(row), nil
}
