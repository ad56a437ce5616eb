package panel

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/herald-cms/herald/admin"
	"github.com/herald-cms/herald/admin/views"
	"github.com/herald-cms/herald/content"
)

// The panel's cookies. The session cookie holds the administrator's token
// from admin.Service and expires with the session; the pre-session cookie
// seeds the CSRF token of the sign-in and registration forms; the flash
// cookie carries one message to the next page.
const (
	sessionCookie = "herald_session"
	preCookie     = "herald_presession"
	flashCookie   = "herald_flash"
)

// csrfField and csrfHeader carry a CSRF token in a form and in a script's
// request.
const (
	csrfField  = "_csrf"
	csrfHeader = "X-CSRF-Token"
)

// setCookie sets one of the panel's cookies: HttpOnly, SameSite=Lax,
// scoped to /admin, and Secure when the request came over https (as the
// trusted proxies report it).
// A zero expires with a positive maxAge (seconds) sets a relative
// lifetime instead, so that no clock on this side is involved.
func setCookie(c *fiber.Ctx, name, value string, expires time.Time, maxAge int) {
	c.Cookie(&fiber.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/admin",
		Expires:  expires,
		MaxAge:   maxAge,
		HTTPOnly: true,
		Secure:   c.Protocol() == "https",
		SameSite: fiber.CookieSameSiteLaxMode,
	})
}

// clearCookie removes one of the panel's cookies.
func clearCookie(c *fiber.Ctx, name string) {
	setCookie(c, name, "", time.Time{}, -1)
}

// startSession keeps a signed-in administrator's token in the session
// cookie.
func startSession(c *fiber.Ctx, s admin.Session) {
	setCookie(c, sessionCookie, s.Token, s.ExpiresAt, 0)
	clearCookie(c, preCookie)
}

// SessionToken returns the token in the request's session cookie, or "".
func SessionToken(c *fiber.Ctx) string {
	return strings.Clone(c.Cookies(sessionCookie))
}

// Authenticate returns the administrator whose session cookie the request
// carries. A missing, expired or revoked session is EUNAUTHORIZED.
func (p *Panel) Authenticate(c *fiber.Ctx) (content.Actor, error) {
	token := SessionToken(c)
	if token == "" {
		return content.Actor{}, content.Errorf(content.EUNAUTHORIZED,
			"Missing or invalid credentials")
	}
	return p.admin.AuthenticateAdmin(c.UserContext(), "Bearer "+token)
}

// CSRF tokens come from admin.Service: an HMAC, under a key derived from
// the JWT secret, of a secret the browser keeps in an HttpOnly cookie (the
// session token once signed in, the pre-session value before). Another
// site can neither read the cookie nor compute the token, and every Herald
// instance sharing the secrets accepts it.

// sessionCSRF is the CSRF token of a signed-in administrator's forms.
func (p *Panel) sessionCSRF(c *fiber.Ctx) string {
	seed := c.Cookies(sessionCookie)
	if seed == "" {
		return ""
	}
	return p.admin.CSRFToken(seed)
}

// checkCSRF compares the token a form or script sent with the one the
// seed gives. A missing or wrong token is EFORBIDDEN.
func (p *Panel) checkCSRF(c *fiber.Ctx, seed string) error {
	sent := c.FormValue(csrfField)
	if sent == "" {
		sent = c.Get(csrfHeader)
	}
	if err := p.admin.CheckCSRF(seed, sent); err != nil {
		return content.Errorf(content.EFORBIDDEN,
			"This form has expired or did not come from Herald. Reload the page and try again.")
	}
	return nil
}

// CheckCSRF refuses a signed-in administrator's POST whose CSRF token does
// not match the session, with EFORBIDDEN. Other methods pass.
func (p *Panel) CheckCSRF(c *fiber.Ctx) error {
	if c.Method() != fiber.MethodPost {
		return nil
	}
	return p.checkCSRF(c, c.Cookies(sessionCookie))
}

// preSessionCSRF returns the CSRF token of a form shown before sign-in,
// setting the pre-session cookie when the browser has none.
func (p *Panel) preSessionCSRF(c *fiber.Ctx) string {
	seed := c.Cookies(preCookie)
	if len(seed) < 32 {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		seed = hex.EncodeToString(b)
		setCookie(c, preCookie, seed, time.Time{}, 24*60*60)
	}
	return p.admin.CSRFToken(seed)
}

// setFlash leaves a message for the next page the browser shows.
func setFlash(c *fiber.Ctx, kind, message string) {
	message = truncate(message, 600)
	v := base64.RawURLEncoding.EncodeToString([]byte(kind + "\n" + message))
	setCookie(c, flashCookie, v, time.Time{}, 60)
}

// takeFlash returns the pending flash message, if any, and removes it.
func takeFlash(c *fiber.Ctx) *views.Flash {
	raw := c.Cookies(flashCookie)
	if raw == "" {
		return nil
	}
	clearCookie(c, flashCookie)
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		return nil
	}
	kind, msg, ok := strings.Cut(string(b), "\n")
	if !ok || (kind != "ok" && kind != "error" && kind != "info") {
		return nil
	}
	return &views.Flash{Kind: kind, Message: msg}
}

// truncate cuts s to at most n bytes on a character boundary, marking the
// cut with an ellipsis.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
