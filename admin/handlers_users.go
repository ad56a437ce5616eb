package admin

import (
	"github.com/gofiber/fiber/v2"

	"github.com/herald-cms/herald/content"
)

// ListUsersHandler handles GET /admin/users: every administrator.
func (s *Service) ListUsersHandler(c *fiber.Ctx) error {
	users, err := s.ListUsers(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"data": users})
}

// CreateUserHandler handles POST /admin/users {firstname, lastname, email,
// password, roles: [id], isActive}: 201 with the administrator.
func (s *Service) CreateUserHandler(c *fiber.Ctx) error {
	var in UserInput
	if err := content.DecodeJSON(c.Body(), &in); err != nil {
		return err
	}

	u, err := s.CreateUser(c.UserContext(), content.ActorFrom(c.UserContext()), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"data": u})
}

// GetUserHandler handles GET /admin/users/:id.
func (s *Service) GetUserHandler(c *fiber.Ctx) error {
	id, err := pathID(c.Params("id"), errUserNotFound)
	if err != nil {
		return err
	}

	u, err := s.GetUser(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"data": u})
}

// UpdateUserHandler handles PUT /admin/users/:id with any of firstname,
// lastname, email, password, roles and isActive.
func (s *Service) UpdateUserHandler(c *fiber.Ctx) error {
	id, err := pathID(c.Params("id"), errUserNotFound)
	if err != nil {
		return err
	}
	var p UserPatch
	if err := content.DecodeJSON(c.Body(), &p); err != nil {
		return err
	}

	u, err := s.UpdateUser(c.UserContext(), content.ActorFrom(c.UserContext()), id, p)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"data": u})
}

// DeleteUserHandler handles DELETE /admin/users/:id: 200 with the deleted
// administrator.
func (s *Service) DeleteUserHandler(c *fiber.Ctx) error {
	id, err := pathID(c.Params("id"), errUserNotFound)
	if err != nil {
		return err
	}

	u, err := s.DeleteUser(c.UserContext(), content.ActorFrom(c.UserContext()), id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"data": u})
}

// ListRolesHandler handles GET /admin/roles.
func (s *Service) ListRolesHandler(c *fiber.Ctx) error {
	roles, err := s.ListRoles(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"data": roles})
}

// CreateRoleHandler handles POST /admin/roles {name, description,
// permissions}: 201 with the role.
func (s *Service) CreateRoleHandler(c *fiber.Ctx) error {
	var in RoleInput
	if err := content.DecodeJSON(c.Body(), &in); err != nil {
		return err
	}

	r, err := s.CreateRole(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"data": r})
}

// GetRoleHandler handles GET /admin/roles/:id.
func (s *Service) GetRoleHandler(c *fiber.Ctx) error {
	id, err := pathID(c.Params("id"), errRoleNotFound)
	if err != nil {
		return err
	}

	r, err := s.GetRole(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"data": r})
}

// UpdateRoleHandler handles PUT /admin/roles/:id with any of name,
// description and permissions (replaced whole).
func (s *Service) UpdateRoleHandler(c *fiber.Ctx) error {
	id, err := pathID(c.Params("id"), errRoleNotFound)
	if err != nil {
		return err
	}
	var p RolePatch
	if err := content.DecodeJSON(c.Body(), &p); err != nil {
		return err
	}

	r, err := s.UpdateRole(c.UserContext(), id, p)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"data": r})
}

// DeleteRoleHandler handles DELETE /admin/roles/:id: 200 with the deleted
// role.
func (s *Service) DeleteRoleHandler(c *fiber.Ctx) error {
	id, err := pathID(c.Params("id"), errRoleNotFound)
	if err != nil {
		return err
	}

	r, err := s.DeleteRole(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"data": r})
}

type permissionsBody struct {
	Permissions []string `json:"permissions"`
}

// GetEndUserPermissions returns the handler of GET
// /admin/roles/public/permissions and .../authenticated/permissions:
// {"data": {"permissions": [...]}}.
func (s *Service) GetEndUserPermissions(roleType string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		perms, err := s.EndUserPermissions(c.UserContext(), roleType)
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"data": permissionsBody{Permissions: perms}})
	}
}

// PutEndUserPermissions returns the handler of PUT
// /admin/roles/public/permissions and .../authenticated/permissions
// {"permissions": [...]}: the grants are replaced whole.
func (s *Service) PutEndUserPermissions(roleType string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var in struct {
			Permissions *[]string `json:"permissions"`
		}
		if err := content.DecodeJSON(c.Body(), &in); err != nil {
			return err
		}
		if in.Permissions == nil {
			return content.InvalidField([]string{"permissions"},
				"permissions is required: a list such as [\"api::article.article.find\"]")
		}

		perms, err := s.SetEndUserPermissions(c.UserContext(), roleType, *in.Permissions)
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"data": permissionsBody{Permissions: perms}})
	}
}
