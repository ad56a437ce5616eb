package admin

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/herald-cms/herald/content"
)

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
// "user"}}, or 401 "Invalid credentials".
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

	sess, err := s.SignIn(c.UserContext(), in.Email, in.Password)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"data": sess})
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
// lifespan}: 201 with the token and its accessKey, shown this once.
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
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errTokenNotFound()
	}
	return id, nil
}
