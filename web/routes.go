package web

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"github.com/herald-cms/herald/admin"
	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/content/media"
)

// access says who may reach a route before its handler runs.
type access int

const (
	// open routes need no credentials (health, first registration, login).
	open access = iota
	// apiAccess routes take an API token or act as the public role; the
	// content service decides per action and content type.
	apiAccess
	// adminAccess routes need a signed-in administrator; when the route
	// names a permission the administrator's role must grant it, otherwise
	// the service decides (the editors' content routes).
	adminAccess
	// metricsAccess is /metrics, guarded by its own token.
	metricsAccess
	// panelAccess routes are the admin panel's pages and forms: a signed-in
	// administrator by session cookie (sign-in page otherwise), with the
	// route's permission when it names one. The panel's handlers check the
	// CSRF token of forms (admin.Service.CheckCSRF).
	panelAccess
	// userAccess routes need a signed-in end user (an end-user JWT); API
	// tokens and administrators' tokens are refused.
	userAccess
)

// route is one entry of the route table: every route Herald serves is
// declared here with the rule that guards it.
type route struct {
	method  string
	path    string
	access  access
	perm    content.Action // required admin permission; "" when the service decides
	json    bool           // a JSON body is read: the JSON body limit applies
	handler fiber.Handler
}

// routes is Herald's route table.
func routes(d Deps) []route {
	ch := content.NewHandlers(d.Content)
	a, w := d.Admin, d.Webhooks.API()
	mh := media.NewHandlers(d.Media)
	const (
		get, post, put, del = fiber.MethodGet, fiber.MethodPost, fiber.MethodPut, fiber.MethodDelete
	)
	rs := []route{
		{get, "/_health", open, "", false, health},
		{get, "/metrics", metricsAccess, "", false, metrics(d)},

		{post, "/admin/register-admin", open, "", true, a.RegisterAdmin},
		{post, "/admin/login", open, "", true, a.Login},
		{post, "/admin/logout", adminAccess, "", false, a.Logout},

		{get, "/admin/content-types", adminAccess, "", false, ch.ListTypes},
		{get, "/admin/content-types/:uid", adminAccess, "", false, ch.GetType},
		{post, "/admin/content-types", adminAccess, admin.PermContentTypesManage, true, ch.CreateType},
		{put, "/admin/content-types/:uid", adminAccess, admin.PermContentTypesManage, true, ch.UpdateType},
		{del, "/admin/content-types/:uid", adminAccess, admin.PermContentTypesManage, false, ch.DeleteType},

		{get, "/admin/content/:uid", adminAccess, "", false, ch.List(true)},
		{post, "/admin/content/:uid", adminAccess, "", true, ch.Create(true)},
		{put, "/admin/content/:uid", adminAccess, "", true, ch.Update(true)},
		{del, "/admin/content/:uid", adminAccess, "", false, ch.Delete(true)},
		{get, "/admin/content/:uid/:documentId", adminAccess, "", false, ch.Get(true)},
		{put, "/admin/content/:uid/:documentId", adminAccess, "", true, ch.Update(true)},
		{del, "/admin/content/:uid/:documentId", adminAccess, "", false, ch.Delete(true)},
		{post, "/admin/content/:uid/:documentId/publish", adminAccess, "", false, ch.Action("publish")},
		{post, "/admin/content/:uid/:documentId/unpublish", adminAccess, "", false, ch.Action("unpublish")},
		{post, "/admin/content/:uid/:documentId/discard", adminAccess, "", false, ch.Action("discard")},

		{get, "/admin/api-tokens", adminAccess, admin.PermTokensManage, false, a.ListTokens},
		{post, "/admin/api-tokens", adminAccess, admin.PermTokensManage, true, a.CreateToken},
		{get, "/admin/api-tokens/:id", adminAccess, admin.PermTokensManage, false, a.GetToken},
		{put, "/admin/api-tokens/:id", adminAccess, admin.PermTokensManage, true, a.UpdateToken},
		{del, "/admin/api-tokens/:id", adminAccess, admin.PermTokensManage, false, a.DeleteToken},
		{post, "/admin/api-tokens/:id/regenerate", adminAccess, admin.PermTokensManage, false,
			a.RegenerateToken},

		{get, "/admin/users", adminAccess, admin.PermUsersManage, false, a.ListUsersHandler},
		{post, "/admin/users", adminAccess, admin.PermUsersManage, true, a.CreateUserHandler},
		{get, "/admin/users/:id", adminAccess, admin.PermUsersManage, false, a.GetUserHandler},
		{put, "/admin/users/:id", adminAccess, admin.PermUsersManage, true, a.UpdateUserHandler},
		{del, "/admin/users/:id", adminAccess, admin.PermUsersManage, false, a.DeleteUserHandler},

		// Roles, administrators' and end users' alike, are part of user
		// management. The two users-permissions roles come before /:id.
		{get, "/admin/roles/public/permissions", adminAccess, admin.PermUsersManage, false,
			a.GetEndUserPermissions(admin.RolePublic)},
		{put, "/admin/roles/public/permissions", adminAccess, admin.PermUsersManage, true,
			a.PutEndUserPermissions(admin.RolePublic)},
		{get, "/admin/roles/authenticated/permissions", adminAccess, admin.PermUsersManage, false,
			a.GetEndUserPermissions(admin.RoleAuthenticated)},
		{put, "/admin/roles/authenticated/permissions", adminAccess, admin.PermUsersManage, true,
			a.PutEndUserPermissions(admin.RoleAuthenticated)},
		{get, "/admin/roles", adminAccess, admin.PermUsersManage, false, a.ListRolesHandler},
		{post, "/admin/roles", adminAccess, admin.PermUsersManage, true, a.CreateRoleHandler},
		{get, "/admin/roles/:id", adminAccess, admin.PermUsersManage, false, a.GetRoleHandler},
		{put, "/admin/roles/:id", adminAccess, admin.PermUsersManage, true, a.UpdateRoleHandler},
		{del, "/admin/roles/:id", adminAccess, admin.PermUsersManage, false, a.DeleteRoleHandler},

		{get, "/admin/webhooks", adminAccess, admin.PermWebhooksRead, false, w.List},
		{post, "/admin/webhooks", adminAccess, admin.PermWebhooksManage, true, w.Create},
		{get, "/admin/webhooks/:id", adminAccess, admin.PermWebhooksRead, false, w.Get},
		{put, "/admin/webhooks/:id", adminAccess, admin.PermWebhooksManage, true, w.Update},
		{del, "/admin/webhooks/:id", adminAccess, admin.PermWebhooksManage, false, w.Delete},
		{post, "/admin/webhooks/:id/trigger", adminAccess, admin.PermWebhooksManage, false, w.Trigger},
		{post, "/admin/webhooks/:id/rotate-secret", adminAccess, admin.PermWebhooksManage, false, w.RotateSecret},
		{post, "/admin/webhooks/:id/recover", adminAccess, admin.PermWebhooksManage, true, w.Recover},
		{get, "/admin/webhooks/:id/deliveries", adminAccess, admin.PermWebhooksRead, false, w.Deliveries},
		{get, "/admin/deliveries/:id", adminAccess, admin.PermWebhooksRead, false, w.Delivery},
		{post, "/admin/deliveries/:id/retry", adminAccess, admin.PermWebhooksManage, false, w.Retry},

		// The media library, for administrators. Uploads are multipart,
		// bounded by the upload limit, not the JSON one.
		{post, "/admin/upload", adminAccess, "", false, mh.Upload},
		{get, "/admin/upload/files", adminAccess, "", false, mh.List},
		{get, "/admin/upload/files/:id", adminAccess, "", false, mh.Get},
		{put, "/admin/upload/files/:id", adminAccess, "", true, mh.Update},
		{del, "/admin/upload/files/:id", adminAccess, "", false, mh.Delete},

		// Uploaded files are open to whoever knows their URL, as Strapi's.
		{get, "/uploads/:name", open, "", false, mh.Serve},

		// End users (users-permissions) before the content routes they
		// would otherwise match. Sign-in and registration are rate-limited
		// by their handlers.
		{post, "/api/auth/local/register", open, "", true, a.RegisterEndUserHandler},
		{post, "/api/auth/local", open, "", true, a.SignInEndUserHandler},
		{get, "/api/users/me", userAccess, "", false, a.MeHandler},

		// Strapi's upload API, before the content routes it would match.
		// The media service asks the actor for actions on media.UID.
		{post, "/api/upload", apiAccess, "", false, mh.Upload},
		{get, "/api/upload/files", apiAccess, "", false, mh.List},
		{get, "/api/upload/files/:id", apiAccess, "", false, mh.Get},
		{put, "/api/upload/files/:id", apiAccess, "", true, mh.Update},
		{del, "/api/upload/files/:id", apiAccess, "", false, mh.Delete},

		{get, "/api/:name", apiAccess, "", false, ch.List(false)},
		{post, "/api/:name", apiAccess, "", true, ch.Create(false)},
		{put, "/api/:name", apiAccess, "", true, ch.Update(false)},
		{del, "/api/:name", apiAccess, "", false, ch.Delete(false)},
		{get, "/api/:name/:documentId", apiAccess, "", false, ch.Get(false)},
		{put, "/api/:name/:documentId", apiAccess, "", true, ch.Update(false)},
		{del, "/api/:name/:documentId", apiAccess, "", false, ch.Delete(false)},
	}
	return append(rs, panelRoutes(d)...)
}

// chain returns the route's handlers: body limit, authentication,
// permission, then the handler itself.
func (r route) chain(d Deps) []fiber.Handler {
	var hs []fiber.Handler
	if r.json {
		hs = append(hs, jsonBodyLimit(d.BodyLimit))
	}
	switch r.access {
	case apiAccess:
		hs = append(hs, authenticate(d.Admin.AuthenticateAPI))
	case adminAccess:
		hs = append(hs, authenticate(d.Admin.AuthenticateAdmin))
		if r.perm != "" {
			hs = append(hs, requirePermission(r.perm))
		}
	case panelAccess:
		hs = append(hs, panelAuthenticate(d))
		if r.perm != "" {
			hs = append(hs, requirePermission(r.perm))
		}
	case userAccess:
		hs = append(hs, authenticate(d.Admin.AuthenticateEndUser))
	}
	return append(hs, r.handler)
}

type authFunc func(ctx context.Context, authorization string) (content.Actor, error)

// authenticate resolves the request's actor and puts it into the user
// context for the services.
func authenticate(auth authFunc) fiber.Handler {
	return func(c *fiber.Ctx) error {
		actor, err := auth(c.UserContext(), c.Get(fiber.HeaderAuthorization))
		if err != nil {
			return err
		}
		c.Locals(localActor, actor)
		c.SetUserContext(content.WithActor(c.UserContext(), actor))
		return c.Next()
	}
}

// requirePermission refuses administrators whose role lacks perm.
func requirePermission(perm content.Action) fiber.Handler {
	return func(c *fiber.Ctx) error {
		actor := content.ActorFrom(c.UserContext())
		if !actor.Can(c.UserContext(), perm, "").Allowed {
			return content.Errorf(content.EFORBIDDEN, "Forbidden")
		}
		return c.Next()
	}
}
