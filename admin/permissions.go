package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/herald-cms/herald/content"
)

// The content permissions of administrator roles. Each applies to one
// content type (Permission.Subject) or to every type, optionally to the
// role's own entries only. Read covers listing, reading one entry and
// reading drafts; publish covers publish, unpublish and discarding a draft.
const (
	PermContentRead    = "content.read"
	PermContentCreate  = "content.create"
	PermContentUpdate  = "content.update"
	PermContentDelete  = "content.delete"
	PermContentPublish = "content.publish"
)

// contentPermActions maps each content permission to the content actions it
// grants.
var contentPermActions = map[string][]content.Action{
	PermContentRead:    {content.ActionFind, content.ActionFindOne, content.ActionReadDrafts},
	PermContentCreate:  {content.ActionCreate},
	PermContentUpdate:  {content.ActionUpdate},
	PermContentDelete:  {content.ActionDelete},
	PermContentPublish: {content.ActionPublish},
}

// settingsPerms are the permissions that concern no content type.
var settingsPerms = map[content.Action]bool{
	PermContentTypesManage: true,
	PermWebhooksRead:       true,
	PermWebhooksManage:     true,
	PermUsersManage:        true,
	PermTokensManage:       true,
}

// Permission is one grant of an administrator role: a content permission
// (content.read, ...) on one content type or, with a nil Subject, on every
// type, optionally on the role's own entries only; or a settings permission
// (webhooks.read, webhooks.manage, users.manage, tokens.manage,
// content-types.manage), which takes no subject.
type Permission struct {
	Action  string  `json:"action"`
	Subject *string `json:"subject"`
	OwnOnly bool    `json:"ownOnly"`
}

// subject returns the permission's content type uid, "" for every type.
func (p Permission) subject() string {
	if p.Subject == nil {
		return ""
	}
	return *p.Subject
}

// uidPattern is the shape of a content type uid.
var uidPattern = regexp.MustCompile(`^api::[a-z][a-z0-9-]*\.[a-z][a-z0-9-]*$`)

// checkUID refuses a content type uid that is malformed or, when the
// service knows its content types, names none of them. The media
// library's pseudo type (content.MediaUID) is accepted, so that roles and
// tokens may be granted the upload API.
func (s *Service) checkUID(uid string) string {
	if uid == content.MediaUID {
		// The media library's files, governed like a content type.
		return ""
	}
	if !uidPattern.MatchString(uid) {
		return fmt.Sprintf("%q is not a content type uid such as api::article.article", uid)
	}
	if s.typeExists != nil && !s.typeExists(uid) {
		return fmt.Sprintf("content type %s does not exist", uid)
	}
	return ""
}

// normalizePermissions checks a role's permission list. Every problem is a
// field error under "permissions"; duplicates are refused.
func (s *Service) normalizePermissions(perms []Permission) ([]Permission, []content.FieldError) {
	var errs []content.FieldError
	out := make([]Permission, 0, len(perms))
	seen := map[string]bool{}
	for i, p := range perms {
		path := []string{"permissions", strconv.Itoa(i)}
		bad := func(field, msg string) {
			errs = append(errs, content.FieldError{
				Path: append(append([]string(nil), path...), field), Message: msg,
				Name: "ValidationError"})
		}
		p.Action = strings.TrimSpace(p.Action)
		_, isContent := contentPermActions[p.Action]
		isSettings := settingsPerms[content.Action(p.Action)]
		switch {
		case isContent:
			if p.Subject != nil {
				uid := strings.TrimSpace(*p.Subject)
				if msg := s.checkUID(uid); msg != "" {
					bad("subject", msg)
					continue
				}
				p.Subject = &uid
			}
			if p.OwnOnly && p.Action == PermContentCreate {
				bad("ownOnly", "ownOnly does not apply to content.create")
				continue
			}
		case isSettings:
			if p.Subject != nil {
				bad("subject", p.Action+" takes no subject")
				continue
			}
			if p.OwnOnly {
				bad("ownOnly", "ownOnly does not apply to "+p.Action)
				continue
			}
		default:
			bad("action", fmt.Sprintf("unknown action %q: want one of %s", p.Action,
				strings.Join(permissionNames(), ", ")))
			continue
		}
		key := p.Action + " " + p.subject()
		if seen[key] {
			bad("action", fmt.Sprintf("%s is listed twice for the same subject", p.Action))
			continue
		}
		seen[key] = true
		out = append(out, p)
	}
	return out, errs
}

// permissionNames lists every role permission's action, for messages.
func permissionNames() []string {
	return []string{PermContentRead, PermContentCreate, PermContentUpdate, PermContentDelete,
		PermContentPublish, string(PermWebhooksRead), string(PermWebhooksManage),
		string(PermUsersManage), string(PermTokensManage), string(PermContentTypesManage)}
}

// grants is a compiled permission list: the grant of each content action per
// content type uid, "" standing for every type, and the settings
// permissions held.
type grants struct {
	content  map[content.Action]map[string]content.Grant
	settings map[content.Action]bool
}

func newGrants() *grants {
	return &grants{
		content:  map[content.Action]map[string]content.Grant{},
		settings: map[content.Action]bool{},
	}
}

// add grants action on uid, keeping the wider of two grants.
func (g *grants) add(action content.Action, uid string, ownOnly bool) {
	byUID := g.content[action]
	if byUID == nil {
		byUID = map[string]content.Grant{}
		g.content[action] = byUID
	}
	byUID[uid] = wider(byUID[uid], content.Grant{Allowed: true, OwnOnly: ownOnly})
}

// Allow implements content.Policy. A settings permission is granted whatever
// the uid; a content action on a type is the wider of the type's grant and
// the every-type grant.
func (g *grants) Allow(_ context.Context, action content.Action, uid string) content.Grant {
	if g.settings[action] {
		return content.Grant{Allowed: true}
	}
	byUID := g.content[action]
	if byUID == nil {
		return content.Grant{}
	}
	if uid == "" {
		return byUID[""]
	}
	return wider(byUID[uid], byUID[""])
}

// wider returns the grant that allows more: an unrestricted grant beats an
// own-entries grant, which beats a refusal.
func wider(a, b content.Grant) content.Grant {
	switch {
	case a.Allowed && !a.OwnOnly:
		return a
	case b.Allowed && !b.OwnOnly:
		return b
	case a.Allowed:
		return a
	}
	return b
}

// rolePolicy compiles an administrator role's permission list.
func rolePolicy(perms []Permission) *grants {
	g := newGrants()
	for _, p := range perms {
		if actions, ok := contentPermActions[p.Action]; ok {
			for _, a := range actions {
				g.add(a, p.subject(), p.OwnOnly)
			}
			continue
		}
		if settingsPerms[content.Action(p.Action)] {
			g.settings[content.Action(p.Action)] = true
		}
	}
	return g
}

// decodePermissions reads a role's stored permission list.
func decodePermissions(raw string) ([]Permission, error) {
	var perms []Permission
	if strings.TrimSpace(raw) == "" {
		return []Permission{}, nil
	}
	if err := json.Unmarshal([]byte(raw), &perms); err != nil {
		return nil, fmt.Errorf("decode role permissions: %w", err)
	}
	if perms == nil {
		perms = []Permission{}
	}
	return perms, nil
}

// The content API actions an API token or a users-permissions role may be
// granted, as the last part of "api::article.article.find".
var apiActions = map[string]content.Action{
	"find":    content.ActionFind,
	"findOne": content.ActionFindOne,
	"create":  content.ActionCreate,
	"update":  content.ActionUpdate,
	"delete":  content.ActionDelete,
}

// splitAPIPermission splits "api::article.article.find" into its content
// type uid and action; ok is false for any other shape.
func splitAPIPermission(p string) (uid, action string, ok bool) {
	dot := strings.LastIndexByte(p, '.')
	if dot < 0 {
		return "", "", false
	}
	uid, action = p[:dot], p[dot+1:]
	if _, known := apiActions[action]; !known ||
		(!uidPattern.MatchString(uid) && uid != content.MediaUID) {
		return "", "", false
	}
	return uid, action, true
}

// normalizeAPIPermissions checks a list of content API permissions under
// field. allowed restricts the actions; nil allows every one. The list comes
// back sorted, without duplicates.
func (s *Service) normalizeAPIPermissions(field string, perms []string,
	allowed map[string]bool) ([]string, []content.FieldError) {
	var errs []content.FieldError
	seen := map[string]bool{}
	out := make([]string, 0, len(perms))
	for i, p := range perms {
		p = strings.TrimSpace(p)
		bad := func(msg string) {
			errs = append(errs, content.FieldError{Path: []string{field, strconv.Itoa(i)},
				Message: msg, Name: "ValidationError"})
		}
		uid, action, ok := splitAPIPermission(p)
		if !ok {
			bad(fmt.Sprintf("%q is not a permission such as api::article.article.find "+
				"(actions: find, findOne, create, update, delete)", p))
			continue
		}
		if allowed != nil && !allowed[action] {
			names := strings.Join(slices.Sorted(maps.Keys(allowed)), ", ")
			bad(fmt.Sprintf("%s: this role may only be granted %s", p, names))
			continue
		}
		if msg := s.checkUID(uid); msg != "" {
			bad(msg)
			continue
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out, errs
}

// apiPolicy compiles content API permissions. A create or update grant also
// grants publish, since a REST write publishes unless it asks for a draft;
// drafts are readable only when drafts is set and find or findOne is
// granted.
func apiPolicy(perms []string, drafts bool) *grants {
	g := newGrants()
	for _, p := range perms {
		uid, action, ok := splitAPIPermission(p)
		if !ok {
			continue
		}
		a := apiActions[action]
		g.add(a, uid, false)
		switch a {
		case content.ActionCreate, content.ActionUpdate:
			g.add(content.ActionPublish, uid, false)
		case content.ActionFind, content.ActionFindOne:
			if drafts {
				g.add(content.ActionReadDrafts, uid, false)
			}
		}
	}
	return g
}

// decodeAPIPermissions reads a stored list of content API permissions.
func decodeAPIPermissions(raw string) ([]string, error) {
	var perms []string
	if strings.TrimSpace(raw) == "" {
		return []string{}, nil
	}
	if err := json.Unmarshal([]byte(raw), &perms); err != nil {
		return nil, fmt.Errorf("decode permissions: %w", err)
	}
	if perms == nil {
		perms = []string{}
	}
	return perms, nil
}

func encodeJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode permissions: %w", err)
	}
	return string(b), nil
}
