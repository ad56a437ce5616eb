package admin

import (
	"github.com/gofiber/fiber/v2"

	"github.com/herald-cms/herald/content"
)

// The users-permissions routes answer in Strapi's shape: {"jwt", "user"}
// and the bare user, without a "data" wrapper.

// RegisterEndUserHandler handles POST /api/auth/local/register {username,
// email, password}: 200 {"jwt", "user"}; 403 while public registration is
// off; 429 with Retry-After after too many registrations from the client
// address.
func (s *Service) RegisterEndUserHandler(c *fiber.Ctx) error {
	var in EndUserInput
	if err := content.DecodeJSON(c.Body(), &in); err != nil {
		return err
	}

	sess, err := s.RegisterEndUser(c.UserContext(), c.IP(), in)
	if err != nil {
		return withRetryAfter(c, err)
	}
	return c.JSON(sess)
}

type endUserLoginBody struct {
	Identifier string `json:"identifier"`
	Password   string `json:"password"`
}

// SignInEndUserHandler handles POST /api/auth/local {identifier, password}:
// 200 {"jwt", "user"}, 400 "Invalid identifier or password", or 429 with
// Retry-After.
func (s *Service) SignInEndUserHandler(c *fiber.Ctx) error {
	var in endUserLoginBody
	if err := content.DecodeJSON(c.Body(), &in); err != nil {
		return err
	}
	var errs []content.FieldError
	if in.Identifier == "" {
		errs = append(errs, fieldError("identifier", "identifier is required"))
	}
	if in.Password == "" {
		errs = append(errs, fieldError("password", "password is required"))
	}
	if err := validation(errs); err != nil {
		return err
	}

	sess, err := s.SignInEndUser(c.UserContext(), c.IP(), in.Identifier, in.Password)
	if err != nil {
		return withRetryAfter(c, err)
	}
	return c.JSON(sess)
}

// MeHandler handles GET /api/users/me: the signed-in end user, bare.
func (s *Service) MeHandler(c *fiber.Ctx) error {
	actor := content.ActorFrom(c.UserContext())
	if actor.Kind != content.ActorUser {
		return unauthorized()
	}

	u, err := s.GetEndUser(c.UserContext(), actor.ID)
	if err != nil {
		return err
	}
	return c.JSON(u)
}
