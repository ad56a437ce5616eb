package content

import (
	"encoding/json"
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/herald-cms/herald/content/schema"
)

// readSchema decodes a schema.json document from the body. The document may
// also come wrapped as {"schema": {...}} or {"contentType": {...}}.
func readSchema(c *fiber.Ctx) (*schema.Schema, error) {
	var probe map[string]json.RawMessage
	if err := DecodeJSON(c.Body(), &probe); err != nil {
		return nil, err
	}
	raw := c.Body()
	if len(probe) == 1 {
		for _, key := range []string{"schema", "contentType"} {
			if inner, ok := probe[key]; ok {
				raw = inner
			}
		}
	}
	sc, err := schema.Parse(raw)
	if err != nil {
		var errs schema.Errors
		if errors.As(err, &errs) && len(errs) > 0 {
			return nil, schemaError(errs)
		}
		return nil, Invalid("Invalid schema: " + err.Error())
	}
	return sc, nil
}

// ListTypes answers GET /admin/content-types.
func (h *Handlers) ListTypes(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"data": h.svc.Types()})
}

// GetType answers GET /admin/content-types/:uid.
func (h *Handlers) GetType(c *fiber.Ctx) error {
	t, err := h.svc.TypeByUID(param(c, "uid"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"data": t})
}

// CreateType answers POST /admin/content-types with 201.
func (h *Handlers) CreateType(c *fiber.Ctx) error {
	sc, err := readSchema(c)
	if err != nil {
		return err
	}
	t, err := h.svc.CreateType(c.UserContext(), sc)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"data": t})
}

// UpdateType answers PUT /admin/content-types/:uid.
func (h *Handlers) UpdateType(c *fiber.Ctx) error {
	sc, err := readSchema(c)
	if err != nil {
		return err
	}
	t, err := h.svc.UpdateType(c.UserContext(), param(c, "uid"), sc)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"data": t})
}

// DeleteType answers DELETE /admin/content-types/:uid, with
// ?deleteEntries=true to delete a type that still has entries.
func (h *Handlers) DeleteType(c *fiber.Ctx) error {
	deleteEntries := false
	switch v := c.Query("deleteEntries"); v {
	case "", "false":
	case "true":
		deleteEntries = true
	default:
		return InvalidField([]string{"deleteEntries"}, "deleteEntries must be true or false, not "+v)
	}
	t, err := h.svc.DeleteType(c.UserContext(), param(c, "uid"), deleteEntries)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"data": t})
}
