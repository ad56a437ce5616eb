package panel

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/herald-cms/herald/admin"
	"github.com/herald-cms/herald/admin/views"
	"github.com/herald-cms/herald/content"
)

// home is where a signed-in administrator lands.
const home = "/admin/content-manager"

// Home answers GET /admin: the first-run registration while no
// administrator exists, the dashboard for a signed-in administrator, the
// sign-in page otherwise.
func (p *Panel) Home(c *fiber.Ctx) error {
	exists, err := p.admin.HasAdmin(c.UserContext())
	if err != nil {
		return err
	}
	if !exists {
		return redirect(c, "/admin/auth/register")
	}
	if _, err := p.Authenticate(c); err == nil {
		return redirect(c, home)
	}
	return redirect(c, "/admin/auth/sign-in")
}

// SignInPage answers GET /admin/auth/sign-in?next=: the sign-in form, or
// the wanted page for an administrator already signed in.
func (p *Panel) SignInPage(c *fiber.Ctx) error {
	next := safeNext(c.Query("next"))
	if _, err := p.Authenticate(c); err == nil {
		return redirect(c, landing(next))
	}
	exists, err := p.admin.HasAdmin(c.UserContext())
	if err != nil {
		return err
	}
	if !exists {
		return redirect(c, "/admin/auth/register")
	}

	f := views.SignInForm{Page: anonymousFrame(c, "Sign in", p.preSessionCSRF(c)), Next: next}
	return p.render(c, fiber.StatusOK, views.SignIn(f))
}

// landing turns the default return address into the dashboard.
func landing(next string) string {
	if next == "/admin" {
		return home
	}
	return next
}

// SignIn answers POST /admin/auth/sign-in {email, password, next}: it
// starts a session in the cookie and goes to the page wanted. Wrong
// credentials show the form again with one message for every cause; too
// many attempts answer 429 with Retry-After.
func (p *Panel) SignIn(c *fiber.Ctx) error {
	if err := p.checkCSRF(c, c.Cookies(preCookie)); err != nil {
		return err
	}
	email, password := c.FormValue("email"), c.FormValue("password")
	next := safeNext(c.FormValue("next"))

	sess, err := p.admin.SignInFrom(c.UserContext(), c.IP(), email, password)
	if err != nil {
		status, msg := errorStatus(err)
		switch {
		case status == fiber.StatusUnauthorized:
			msg = "The email or password is not right."
		case status == fiber.StatusTooManyRequests:
			if secs, ok := admin.RetryAfterSeconds(err); ok {
				c.Set(fiber.HeaderRetryAfter, strconv.Itoa(secs))
			}
		case status >= 500:
			return err
		}
		f := views.SignInForm{
			Page:  anonymousFrame(c, "Sign in", p.preSessionCSRF(c)),
			Email: email, Next: next, Error: msg,
		}
		return p.render(c, status, views.SignIn(f))
	}
	startSession(c, sess)
	return redirect(c, landing(next))
}

// RegisterPage answers GET /admin/auth/register: the first-run form while
// no administrator exists, the sign-in page afterwards.
func (p *Panel) RegisterPage(c *fiber.Ctx) error {
	exists, err := p.admin.HasAdmin(c.UserContext())
	if err != nil {
		return err
	}
	if exists {
		return redirect(c, "/admin/auth/sign-in")
	}

	f := views.RegisterForm{Page: anonymousFrame(c, "Welcome", p.preSessionCSRF(c))}
	return p.render(c, fiber.StatusOK, views.Register(f))
}

// Register answers POST /admin/auth/register: it creates the first
// administrator, a Super Admin, signs it in and opens the dashboard.
// Invalid details show the form again with each error beside its field.
func (p *Panel) Register(c *fiber.Ctx) error {
	if err := p.checkCSRF(c, c.Cookies(preCookie)); err != nil {
		return err
	}
	in := admin.RegisterInput{
		Firstname: c.FormValue("firstname"),
		Lastname:  c.FormValue("lastname"),
		Email:     c.FormValue("email"),
		Password:  c.FormValue("password"),
	}

	sess, err := p.admin.RegisterFirstAdmin(c.UserContext(), in)
	if content.IsCode(err, content.EFORBIDDEN) {
		setFlash(c, "info", "An administrator already exists: sign in.")
		return redirect(c, "/admin/auth/sign-in")
	}
	if content.IsCode(err, content.EINVALID) {
		f := views.RegisterForm{
			Page:      anonymousFrame(c, "Welcome", p.preSessionCSRF(c)),
			Firstname: in.Firstname, Lastname: in.Lastname, Email: in.Email,
			Errors: fieldErrors(err), Error: "Please correct the fields below.",
		}
		return p.render(c, fiber.StatusUnprocessableEntity, views.Register(f))
	}
	if err != nil {
		return err
	}
	startSession(c, sess)
	setFlash(c, "ok", "Welcome to Herald. Start by creating a content type.")
	return redirect(c, "/admin/content-type-builder/new")
}

// SignOut answers POST /admin/auth/sign-out: it revokes the session and
// returns to the sign-in page.
func (p *Panel) SignOut(c *fiber.Ctx) error {
	err := p.admin.SignOut(c.UserContext(), "Bearer "+SessionToken(c))
	if err != nil && !content.IsCode(err, content.EUNAUTHORIZED) {
		return err
	}
	clearCookie(c, sessionCookie)
	setFlash(c, "info", "You are signed out.")
	return redirect(c, "/admin/auth/sign-in")
}
