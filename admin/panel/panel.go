// Package panel serves the admin panel: server-rendered pages for signing
// in, managing content, building content types, configuring webhooks and
// reading their delivery logs, and the settings. Its handlers parse the
// form, call the content, admin and webhooks services with the signed-in
// administrator as the actor, and render admin/views components. The route
// table in package web declares each handler with its access rule.
package panel

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"github.com/herald-cms/herald/admin"
	"github.com/herald-cms/herald/admin/assets"
	"github.com/herald-cms/herald/admin/views"
	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/content/media"
	"github.com/herald-cms/herald/webhooks"
)

// Config is what the panel serves.
type Config struct {
	Content  *content.Service
	Admin    *admin.Service
	Webhooks *webhooks.Service
	// Media is the media library.
	Media *media.Service
	// Logger receives internal errors behind a 500 page; discarded when
	// nil.
	Logger *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Panel holds the admin panel's handlers. It keeps no state of its own
// between requests: sessions live in admin.Service, and CSRF tokens are
// derived from the session, so any number of Herald instances can serve
// the same panel.
type Panel struct {
	content  *content.Service
	admin    *admin.Service
	webhooks *webhooks.Service
	media    *media.Service
	log      *slog.Logger
	now      func() time.Time
}

// New returns the panel's handlers.
func New(cfg Config) *Panel {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Panel{content: cfg.Content, admin: cfg.Admin, webhooks: cfg.Webhooks,
		media: cfg.Media, log: cfg.Logger, now: cfg.Now}
}

// render writes a component as the response, with status. The component is
// rendered into a buffer first, so a failure never sends half a page.
func (p *Panel) render(c *fiber.Ctx, status int, comp templ.Component) error {
	var buf bytes.Buffer
	if err := comp.Render(c.UserContext(), &buf); err != nil {
		return fmt.Errorf("render %s: %w", c.Path(), err)
	}
	c.Status(status)
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(buf.Bytes())
}

// redirect answers 303 See Other, the answer to a form post.
func redirect(c *fiber.Ctx, to string) error {
	return c.Redirect(to, fiber.StatusSeeOther)
}

// actor is the signed-in administrator of the request.
func actor(c *fiber.Ctx) content.Actor {
	return content.ActorFrom(c.UserContext())
}

// can reports whether the request's administrator holds a settings
// permission.
func can(c *fiber.Ctx, perm content.Action) bool {
	return actor(c).Can(c.UserContext(), perm, "").Allowed
}

// frame builds the page frame for the signed-in administrator: title,
// navigation, CSRF token and the pending flash message.
func (p *Panel) frame(c *fiber.Ctx, title, section string) views.Page {
	a := actor(c)
	pg := views.Page{
		Title:   title,
		Section: section,
		User:    a.Name,
		CSRF:    p.sessionCSRF(c),
		Flash:   takeFlash(c),
		Assets:  assetURLs(),
	}
	if a.Kind != content.ActorAdmin {
		pg.User = ""
		return pg
	}
	pg.Nav = views.Nav{
		Types:    p.readableTypes(c),
		Media:    p.media != nil && mayMedia(c, content.ActionFind),
		Builder:  can(c, admin.PermContentTypesManage),
		Webhooks: can(c, admin.PermWebhooksRead),
		Users:    can(c, admin.PermUsersManage),
		Roles:    can(c, admin.PermUsersManage),
		Tokens:   can(c, admin.PermTokensManage),
		Public:   can(c, admin.PermUsersManage),
	}
	return pg
}

// anonymousFrame builds the frame of a page shown before sign-in.
func anonymousFrame(c *fiber.Ctx, title, csrf string) views.Page {
	return views.Page{Title: title, CSRF: csrf, Flash: takeFlash(c), Assets: assetURLs()}
}

func assetURLs() views.Assets {
	return views.Assets{CSS: assets.Stylesheet().URL(), JS: assets.Script().URL()}
}

// readableTypes lists the content types the administrator may read.
func (p *Panel) readableTypes(c *fiber.Ctx) []views.TypeRef {
	a := actor(c)
	var out []views.TypeRef
	for _, t := range p.content.Types() {
		if a.Can(c.UserContext(), content.ActionFind, t.UID).Allowed {
			out = append(out, typeRef(t))
		}
	}
	return out
}

func typeRef(t *content.Type) views.TypeRef {
	return views.TypeRef{
		UID:             t.UID,
		Name:            t.Schema.Info.DisplayName,
		Single:          t.IsSingle(),
		DraftAndPublish: t.DraftAndPublish(),
	}
}

// errorStatus maps an error to the status and message a page shows. Only
// *content.Error and Fiber's own client errors carry a message that is
// safe to show.
func errorStatus(err error) (int, string) {
	var ce *content.Error
	if errors.As(err, &ce) {
		switch ce.Code {
		case content.ENOTFOUND:
			return fiber.StatusNotFound, ce.Message
		case content.EINVALID, content.EPAGINATION:
			return fiber.StatusBadRequest, ce.Message
		case content.ECONFLICT:
			return fiber.StatusConflict, ce.Message
		case content.EUNAUTHORIZED:
			return fiber.StatusUnauthorized, ce.Message
		case content.EFORBIDDEN:
			return fiber.StatusForbidden, "Your role does not allow this."
		case content.ETOOLARGE:
			return fiber.StatusRequestEntityTooLarge, ce.Message
		case content.ERATELIMITED:
			return fiber.StatusTooManyRequests, ce.Message
		}
	}
	var fe *fiber.Error
	if errors.As(err, &fe) && fe.Code < 500 {
		return fe.Code, fe.Message
	}
	return fiber.StatusInternalServerError,
		"Herald could not finish this request. The error has been logged."
}

// RenderError answers a failed panel request with an HTML page: the
// status of err and its safe message. A request without a valid session
// goes to the sign-in page instead. Internal errors are logged with their
// cause. A nil err renders nothing.
func (p *Panel) RenderError(c *fiber.Ctx, err error) error {
	if err == nil {
		return nil
	}
	status, msg := errorStatus(err)
	if status == fiber.StatusUnauthorized {
		return p.SignInRedirect(c)
	}
	if status >= 500 {
		p.log.ErrorContext(c.UserContext(), "panel error",
			"method", c.Method(), "path", c.Path(), "error", err.Error())
	}
	pg := p.frame(c, "Error", "")
	if rerr := p.render(c, status, views.ErrorPage(pg, status, msg)); rerr != nil {
		p.log.ErrorContext(c.UserContext(), "render error page", "error", rerr.Error())
		return c.Status(status).SendString(msg)
	}
	return nil
}

// SignInRedirect sends a request without a valid session to the sign-in
// page, which returns to the page wanted: the URL of a GET, or the page a
// form was posted from.
func (p *Panel) SignInRedirect(c *fiber.Ctx) error {
	if c.Cookies(sessionCookie) != "" {
		clearCookie(c, sessionCookie)
	}
	next := ""
	if c.Method() == fiber.MethodGet {
		next = c.OriginalURL()
	} else {
		ref, err := url.Parse(c.Get(fiber.HeaderReferer))
		if err == nil && ref.Host == c.Hostname() {
			next = ref.RequestURI()
		}
	}
	to := "/admin/auth/sign-in"
	if next = safeNext(next); next != "/admin" {
		to += "?next=" + url.QueryEscape(next)
	}
	return redirect(c, to)
}

// safeNext keeps a return address only when it is a panel page on this
// server, so that sign-in cannot be turned into an open redirect.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil ||
		strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") ||
		!(u.Path == "/admin" || strings.HasPrefix(u.Path, "/admin/")) ||
		strings.HasPrefix(u.Path, "/admin/auth/") || strings.HasPrefix(u.Path, "/admin/assets/") {
		return "/admin"
	}
	return u.RequestURI()
}

// Asset serves the panel's stylesheet and script. A versioned URL is
// cached for a year; the version changes with the file.
func (p *Panel) Asset(c *fiber.Ctx) error {
	a, ok := assets.Lookup(c.Params("name"))
	if !ok {
		return content.Errorf(content.ENOTFOUND, "Not Found")
	}
	c.Set(fiber.HeaderContentType, a.ContentType)
	if c.Query("v") == a.Version {
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	} else {
		c.Set(fiber.HeaderCacheControl, "no-cache")
	}
	return c.Send(a.Body)
}
