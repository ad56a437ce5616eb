package admin

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/herald-cms/herald/content"
)

// The handlers below parse the request, call the service and answer
// {"data": ...}. They check no permission: the web layer's route table
// does, before they run.

// RegisterAdmin handles POST /admin/register-admin {firstname, lastname,
// email, password}: 201 {"data": {"token", "user"}} while no administrator
// exists, 403 afterwards.
func (s *Service) RegisterAdmin(c *fiber.Ctx) error {
	var in RegisterInput
	if err := content.DecodeJSON(c.Body(), &in); err != nil {
		return err
	}

	sess, err := s.RegisterFirstAdmin(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"data": sess})
}

type loginBody struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// Login handles POST /admin/login {email, password}: 200 {"data": {"token",
// "user"}}, 401 "Invalid credentials", or 429 with Retry-After when the
// client address or the account made too many attempts.
func (s *Service) Login(c *fiber.Ctx) error {
	var in loginBody
	if err := content.DecodeJSON(c.Body(), &in); err != nil {
		return err
	}
	var errs []content.FieldError
	if in.Email == "" {
		errs = append(errs, fieldError("email", "email is required"))
	}
	if in.Password == "" {
		errs = append(errs, fieldError("password", "password is required"))
	}
	if err := validation(errs); err != nil {
		return err
	}

	sess, err := s.SignInFrom(c.UserContext(), c.IP(), in.Email, in.Password)
	if err != nil {
		return withRetryAfter(c, err)
	}
	return c.JSON(fiber.Map{"data": sess})
}

// withRetryAfter sets the Retry-After header when err is a RateLimitError,
// and returns err for the error handler.
func withRetryAfter(c *fiber.Ctx, err error) error {
	if secs, ok := RetryAfterSeconds(err); ok {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(secs))
	}
	return err
}

// Logout handles POST /admin/logout: it revokes the session of the request's
// token and answers {"data": {}}.
func (s *Service) Logout(c *fiber.Ctx) error {
	if err := s.SignOut(c.UserContext(), c.Get(fiber.HeaderAuthorization)); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"data": fiber.Map{}})
}

// ListTokens handles GET /admin/api-tokens.
func (s *Service) ListTokens(c *fiber.Ctx) error {
	tokens, err := s.ListAPITokens(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"data": tokens})
}

// CreateToken handles POST /admin/api-tokens {name, description, type,
// permissions, lifespan}: 201 with the token and its accessKey, shown this
// once.
func (s *Service) CreateToken(c *fiber.Ctx) error {
	var in TokenInput
	if err := content.DecodeJSON(c.Body(), &in); err != nil {
		return err
	}

	t, err := s.CreateAPIToken(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"data": t})
}

// GetToken handles GET /admin/api-tokens/:id.
func (s *Service) GetToken(c *fiber.Ctx) error {
	id, err := tokenID(c)
	if err != nil {
		return err
	}

	t, err := s.GetAPIToken(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"data": t})
}

// UpdateToken handles PUT /admin/api-tokens/:id {name, description, type,
// permissions}: 200 with the token, without its key.
func (s *Service) UpdateToken(c *fiber.Ctx) error {
	id, err := tokenID(c)
	if err != nil {
		return err
	}
	var p TokenPatch
	if err := content.DecodeJSON(c.Body(), &p); err != nil {
		return err
	}

	t, err := s.UpdateAPIToken(c.UserContext(), id, p)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"data": t})
}

// RegenerateToken handles POST /admin/api-tokens/:id/regenerate: 200 with
// the token and its new accessKey, shown this once.
func (s *Service) RegenerateToken(c *fiber.Ctx) error {
	id, err := tokenID(c)
	if err != nil {
		return err
	}

	t, err := s.RegenerateAPIToken(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"data": t})
}

// DeleteToken handles DELETE /admin/api-tokens/:id: 200 with the deleted
// token.
func (s *Service) DeleteToken(c *fiber.Ctx) error {
	id, err := tokenID(c)
	if err != nil {
		return err
	}

	t, err := s.DeleteAPIToken(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"data": t})
}

// tokenID reads the :id parameter; an id that is not a positive integer
// names no token, so it is ENOTFOUND.
func tokenID(c *fiber.Ctx) (int64, error) {
	return pathID(c.Params("id"), errTokenNotFound)
}
