package admin

import (
	"context"
	"errors"
	"fmt"
	"sync"

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

// The built-in administrator roles' codes.
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

// editorPolicy grants every content action on every type, and no settings.
var editorPolicy = content.PolicyFunc(
	func(_ context.Context, a content.Action, _ string) content.Grant {
		return content.Grant{Allowed: contentActions[a]}
	})

// authorPolicy lets an author create entries and read, change and delete
// only the entries it created. Authors may not publish.
var authorPolicy = content.PolicyFunc(
	func(_ context.Context, a content.Action, _ string) content.Grant {
		switch a {
		case content.ActionCreate:
			return content.Grant{Allowed: true}
		case content.ActionFind, content.ActionFindOne, content.ActionUpdate,
			content.ActionDelete, content.ActionReadDrafts:
			return content.Grant{Allowed: true, OwnOnly: true}
		}
		return content.Grant{}
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

// RolePolicy returns the policy of an administrator role, by its code. A
// role Herald does not know grants nothing.
func RolePolicy(code string) content.Policy {
	switch code {
	case RoleSuperAdmin:
		return superAdminPolicy
	case RoleEditor:
		return editorPolicy
	case RoleAuthor:
		return authorPolicy
	}
	return denyAll
}

// TokenPolicy returns the policy of an API token type. A full-access token
// may do every content action but holds no settings permission; an unknown
// type grants nothing.
func TokenPolicy(tokenType string) content.Policy {
	switch tokenType {
	case TokenReadOnly:
		return readOnlyPolicy
	case TokenFullAccess:
		return editorPolicy
	}
	return denyAll
}

// PublicPolicy is the policy of requests without credentials. It grants
// nothing until the public role can be configured.
var PublicPolicy content.Policy = denyAll

// Role is an administrator role as the API shows it inside a user.
type Role struct {
	ID   int64  `json:"id"`
	Code string `json:"code"`
	Name string `json:"name"`
}

type roleRow struct {
	ID   int64
	Code string
	Name string
}

func (roleRow) TableName() string { return "admin_roles" }

// roleCache keeps roles and their policies in memory: every authenticated
// request needs its role, and roles rarely change.
type roleCache struct {
	mu   sync.RWMutex
	byID map[int64]Role
}

// InvalidateRoles forgets every cached role. Call it after changing a role.
func (s *Service) InvalidateRoles() {
	s.roles.mu.Lock()
	s.roles.byID = nil
	s.roles.mu.Unlock()
}

// role returns the role with the given id, from the cache when it can.
func (s *Service) role(ctx context.Context, id int64) (Role, error) {
	s.roles.mu.RLock()
	r, ok := s.roles.byID[id]
	s.roles.mu.RUnlock()
	if ok {
		return r, nil
	}

	var row roleRow
	err := s.db.Read.WithContext(ctx).Where("id = ?", id).Take(&row).Error
	if err != nil {
		return Role{}, fmt.Errorf("load role %d: %w", id, err)
	}
	r = Role(row)

	s.roles.mu.Lock()
	if s.roles.byID == nil {
		s.roles.byID = make(map[int64]Role)
	}
	s.roles.byID[id] = r
	s.roles.mu.Unlock()
	return r, nil
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
	return Role(row), nil
}
