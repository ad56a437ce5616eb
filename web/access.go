package web

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// Content security policies. Panel pages may load scripts, styles, images
// and fonts from Herald itself only, with no inline script or style, and
// may not be framed. Every other answer (JSON, errors) may load nothing.
const (
	panelCSP = "default-src 'self'; script-src 'self'; style-src 'self'; " +
		"img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; " +
		"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
	apiCSP = "default-src 'none'; frame-ancestors 'none'"
)

// clientAddress makes c.IP() the real client address behind trusted
// proxies. Fiber's own c.IP() takes the leftmost X-Forwarded-For entry,
// which any client can write; the real client is the rightmost address that
// is not a trusted proxy. The middleware finds it and leaves only it in
// X-Forwarded-For, so that every later c.IP() (the request log, sign-in
// rate limits) sees it. Requests from untrusted peers are left alone: Fiber
// ignores their header.
func clientAddress(trusted []netip.Prefix) fiber.Handler {
	isTrusted := func(a netip.Addr) bool {
		a = a.Unmap()
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	return func(c *fiber.Ctx) error {
		if len(trusted) == 0 {
			return c.Next()
		}
		peer, ok := netip.AddrFromSlice(c.Context().RemoteIP())
		if !ok || !isTrusted(peer) {
			return c.Next()
		}
		client := peer.Unmap()
		hops := strings.Split(c.Get(fiber.HeaderXForwardedFor), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				// What a trusted proxy passes on unparsed was written by
				// the client: the hop to its right is the last one known.
				break
			}
			client = a.Unmap()
			if !isTrusted(client) {
				break
			}
		}
		c.Request().Header.Set(fiber.HeaderXForwardedFor, client.String())
		return c.Next()
	}
}

// securityHeaders sets the headers every response carries, and the panel's
// content security policy on HTML pages.
func securityHeaders(c *fiber.Ctx) error {
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderXFrameOptions, "DENY")
	c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
	c.Set(fiber.HeaderContentSecurityPolicy, apiCSP)
	c.Set("Cross-Origin-Opener-Policy", "same-origin")
	err := c.Next()
	ct := string(c.Response().Header.ContentType())
	if err == nil && strings.HasPrefix(strings.ToLower(ct), fiber.MIMETextHTML) {
		c.Set(fiber.HeaderContentSecurityPolicy, panelCSP)
	}
	return err
}

// cors answers cross-origin requests to the content API (/api) from the
// configured origins ("*" for any). Preflight requests (OPTIONS) are
// answered here with 204; other requests get Access-Control-Allow-Origin
// when their origin is allowed. No cookies are involved (the content API
// takes bearer tokens), so credentials are never allowed. Every answer
// carries Vary: Origin, since it depends on it.
func cors(origins []string) fiber.Handler {
	anyOrigin := slices.Contains(origins, "*")
	allowed := func(origin string) bool {
		return origin != "" && (anyOrigin || slices.Contains(origins, strings.ToLower(origin)))
	}
	return func(c *fiber.Ctx) error {
		c.Vary(fiber.HeaderOrigin)
		origin := c.Get(fiber.HeaderOrigin)
		ok := allowed(origin)
		if ok {
			if anyOrigin {
				c.Set(fiber.HeaderAccessControlAllowOrigin, "*")
			} else {
				c.Set(fiber.HeaderAccessControlAllowOrigin, origin)
			}
		}
		preflight := c.Method() == fiber.MethodOptions &&
			c.Get(fiber.HeaderAccessControlRequestMethod) != ""
		if !preflight {
			if ok {
				c.Set(fiber.HeaderAccessControlExposeHeaders, fiber.HeaderRetryAfter)
			}
			return c.Next()
		}
		c.Vary(fiber.HeaderAccessControlRequestMethod, fiber.HeaderAccessControlRequestHeaders)
		if ok {
			c.Set(fiber.HeaderAccessControlAllowMethods, "GET, POST, PUT, DELETE, OPTIONS")
			c.Set(fiber.HeaderAccessControlAllowHeaders,
				"Authorization, Content-Type, Accept, X-Requested-With")
			c.Set(fiber.HeaderAccessControlMaxAge, "600")
		}
		return c.SendStatus(fiber.StatusNoContent)
	}
}
