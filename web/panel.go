package web

import (
	"github.com/gofiber/fiber/v2"

	"github.com/herald-cms/herald/admin"
	"github.com/herald-cms/herald/admin/panel"
	"github.com/herald-cms/herald/content"
)

// newPanel returns the admin panel's handlers on the server's services.
// The panel keeps no state, so each caller may have its own.
func newPanel(d Deps) *panel.Panel {
	return panel.New(panel.Config{
		Content: d.Content, Admin: d.Admin, Webhooks: d.Webhooks, Media: d.Media,
		Logger: d.Logger,
	})
}

// panelRoutes lists the admin panel's pages and form posts. Pages for
// signing in are open; everything else needs a signed-in administrator
// (panelAccess) and, where it names one, the permission the matching admin
// API route needs. Literal segments come before parameters that could
// match them (".../preview" before ".../:uid").
func panelRoutes(d Deps) []route {
	p := newPanel(d)
	const get, post = fiber.MethodGet, fiber.MethodPost
	const (
		types  = admin.PermContentTypesManage
		read   = admin.PermWebhooksRead
		manage = admin.PermWebhooksManage
		users  = admin.PermUsersManage
		tokens = admin.PermTokensManage
	)
	html := func(h fiber.Handler) fiber.Handler {
		return func(c *fiber.Ctx) error { return panelFailure(p, c, h(c)) }
	}
	return []route{
		{get, "/admin", open, "", false, html(p.Home)},
		{get, "/admin/assets/:name", open, "", false, html(p.Asset)},
		{get, "/admin/auth/sign-in", open, "", false, html(p.SignInPage)},
		{post, "/admin/auth/sign-in", open, "", false, html(p.SignIn)},
		{get, "/admin/auth/register", open, "", false, html(p.RegisterPage)},
		{post, "/admin/auth/register", open, "", false, html(p.Register)},
		{post, "/admin/auth/sign-out", panelAccess, "", false, p.SignOut},

		{get, "/admin/content-manager", panelAccess, "", false, p.Dashboard},
		{post, "/admin/content-manager/preview", panelAccess, "", false, p.Preview},
		{get, "/admin/content-manager/:uid", panelAccess, "", false, p.Entries},
		{post, "/admin/content-manager/:uid", panelAccess, "", false, p.CreateEntry},
		{get, "/admin/content-manager/:uid/create", panelAccess, "", false, p.NewEntry},
		{get, "/admin/content-manager/:uid/:documentId", panelAccess, "", false, p.EditEntry},
		{post, "/admin/content-manager/:uid/:documentId", panelAccess, "", false, p.UpdateEntry},
		{post, "/admin/content-manager/:uid/:documentId/unpublish", panelAccess, "", false,
			p.EntryAction("unpublish")},
		{post, "/admin/content-manager/:uid/:documentId/discard", panelAccess, "", false,
			p.EntryAction("discard")},
		{post, "/admin/content-manager/:uid/:documentId/delete", panelAccess, "", false,
			p.EntryAction("delete")},

		// The media library; the media service asks the role.
		{get, "/admin/media", panelAccess, "", false, p.Media},
		{post, "/admin/media", panelAccess, "", false, p.UploadMedia},
		{get, "/admin/media/:id", panelAccess, "", false, p.MediaFile},
		{post, "/admin/media/:id", panelAccess, "", false, p.SaveMedia},
		{post, "/admin/media/:id/delete", panelAccess, "", false, p.DeleteMedia},

		{get, "/admin/content-type-builder", panelAccess, types, false, p.Types},
		{post, "/admin/content-type-builder", panelAccess, types, false, p.SaveType},
		{get, "/admin/content-type-builder/new", panelAccess, types, false, p.NewType},
		{get, "/admin/content-type-builder/import", panelAccess, types, false, p.ImportPage},
		{post, "/admin/content-type-builder/import", panelAccess, types, false, p.Import},
		{get, "/admin/content-type-builder/:uid", panelAccess, types, false, p.EditType},
		{post, "/admin/content-type-builder/:uid", panelAccess, types, false, p.SaveType},
		{post, "/admin/content-type-builder/:uid/delete", panelAccess, types, false, p.DeleteType},

		{get, "/admin/settings/webhooks", panelAccess, read, false, p.Webhooks},
		{post, "/admin/settings/webhooks", panelAccess, manage, false, p.SaveWebhook},
		{get, "/admin/settings/webhooks/new", panelAccess, manage, false, p.NewWebhook},
		{get, "/admin/settings/webhooks/:id", panelAccess, read, false, p.Webhook},
		{post, "/admin/settings/webhooks/:id", panelAccess, manage, false, p.SaveWebhook},
		{post, "/admin/settings/webhooks/:id/trigger", panelAccess, manage, false,
			p.WebhookAction("trigger")},
		{post, "/admin/settings/webhooks/:id/rotate-secret", panelAccess, manage, false,
			p.WebhookAction("rotate-secret")},
		{post, "/admin/settings/webhooks/:id/delete", panelAccess, manage, false,
			p.WebhookAction("delete")},
		{get, "/admin/settings/webhooks/:id/deliveries", panelAccess, read, false, p.Deliveries},
		{post, "/admin/settings/webhooks/:id/recover", panelAccess, manage, false, p.Recover},
		{get, "/admin/settings/deliveries/:id", panelAccess, read, false, p.Delivery},
		{post, "/admin/settings/deliveries/:id/retry", panelAccess, manage, false, p.Redeliver},

		{get, "/admin/settings/users", panelAccess, users, false, p.Users},
		{post, "/admin/settings/users", panelAccess, users, false, p.SaveUser},
		{get, "/admin/settings/users/new", panelAccess, users, false, p.NewUser},
		{get, "/admin/settings/users/:id", panelAccess, users, false, p.User},
		{post, "/admin/settings/users/:id", panelAccess, users, false, p.SaveUser},
		{post, "/admin/settings/users/:id/delete", panelAccess, users, false, p.DeleteUser},

		{get, "/admin/settings/roles", panelAccess, users, false, p.Roles},
		{post, "/admin/settings/roles", panelAccess, users, false, p.SaveRole},
		{get, "/admin/settings/roles/new", panelAccess, users, false, p.NewRole},
		{get, "/admin/settings/roles/:id", panelAccess, users, false, p.Role},
		{post, "/admin/settings/roles/:id", panelAccess, users, false, p.SaveRole},
		{post, "/admin/settings/roles/:id/delete", panelAccess, users, false, p.DeleteRole},

		{get, "/admin/settings/api-tokens", panelAccess, tokens, false, p.Tokens},
		{post, "/admin/settings/api-tokens", panelAccess, tokens, false, p.SaveToken},
		{get, "/admin/settings/api-tokens/new", panelAccess, tokens, false, p.NewToken},
		{get, "/admin/settings/api-tokens/:id", panelAccess, tokens, false, p.Token},
		{post, "/admin/settings/api-tokens/:id", panelAccess, tokens, false, p.SaveToken},
		{post, "/admin/settings/api-tokens/:id/regenerate", panelAccess, tokens, false,
			p.TokenAction("regenerate")},
		{post, "/admin/settings/api-tokens/:id/delete", panelAccess, tokens, false,
			p.TokenAction("delete")},

		{get, "/admin/settings/public", panelAccess, users, false, p.EndUserRoles},
		{post, "/admin/settings/public/:role", panelAccess, users, false, p.SaveEndUserRole},
	}
}

// panelAuthenticate resolves the panel's session cookie into the acting
// administrator. Without a valid session the browser goes to the sign-in
// page, which returns to the page wanted. Every POST must carry the
// session's CSRF token. Errors of the rest of the chain (a missing
// permission, a handler's failure) are answered with an HTML page instead
// of the API's JSON envelope.
func panelAuthenticate(d Deps) fiber.Handler {
	p := newPanel(d)
	return func(c *fiber.Ctx) error {
		actor, err := p.Authenticate(c)
		if content.IsCode(err, content.EUNAUTHORIZED) {
			return p.SignInRedirect(c)
		}
		if err != nil {
			return p.RenderError(c, err)
		}
		c.Locals(localActor, actor)
		c.SetUserContext(content.WithActor(c.UserContext(), actor))
		if err := p.CheckCSRF(c); err != nil {
			return panelFailure(p, c, err)
		}
		return panelFailure(p, c, c.Next())
	}
}

// panelFailure notes err for the request log and answers it with a page.
func panelFailure(p *panel.Panel, c *fiber.Ctx, err error) error {
	if err == nil {
		return nil
	}
	c.Locals(localError, describe(err).Message)
	return p.RenderError(c, err)
}
