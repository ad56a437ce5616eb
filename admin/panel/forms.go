package panel

import (
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/herald-cms/herald/admin/views"
	"github.com/herald-cms/herald/content"
)

// formValues returns every field of a posted form, URL-encoded or
// multipart, copied out of Fiber's reused buffers.
func formValues(c *fiber.Ctx) url.Values {
	v := url.Values{}
	if form, err := c.MultipartForm(); err == nil {
		for k, vs := range form.Value {
			for _, s := range vs {
				v.Add(strings.Clone(k), strings.Clone(s))
			}
		}
		return v
	}
	c.Request().PostArgs().VisitAll(func(k, val []byte) {
		v.Add(string(k), string(val))
	})
	return v
}

// last returns the last value of a field: a checkbox posts after the hidden
// input that stands for it unchecked.
func last(v url.Values, key string) string {
	vs := v[key]
	if len(vs) == 0 {
		return ""
	}
	return vs[len(vs)-1]
}

// checked reports whether a checkbox posting "true" was ticked.
func checked(v url.Values, key string) bool {
	return last(v, key) == "true"
}

// param returns a path parameter, percent-decoded and copied.
func param(c *fiber.Ctx, name string) string {
	v := c.Params(name)
	if d, err := url.PathUnescape(v); err == nil {
		v = d
	}
	return strings.Clone(v)
}

// idParam reads a positive integer path parameter; anything else names no
// object, so it is ENOTFOUND.
func idParam(c *fiber.Ctx, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Params(name), 10, 64)
	if err != nil || id < 1 {
		return 0, content.Errorf(content.ENOTFOUND, "Not Found")
	}
	return id, nil
}

// queryInt reads a positive integer query parameter, or def.
func queryInt(c *fiber.Ctx, name string, def int) int {
	n, err := strconv.Atoi(c.Query(name))
	if err != nil || n < 1 {
		return def
	}
	return n
}

// fieldErrors maps the field errors of a validation error to form keys, the
// error's path joined with dots. Errors without a path are left to the
// form's message.
func fieldErrors(err error) views.Errors {
	out := views.Errors{}
	for _, fe := range validationDetails(err) {
		key := strings.Join(fe.Path, ".")
		if key == "" {
			continue
		}
		if prev, ok := out[key]; ok {
			out[key] = prev + " " + fe.Message
		} else {
			out[key] = fe.Message
		}
	}
	return out
}

// validationDetails returns the field errors an EINVALID error carries.
func validationDetails(err error) []content.FieldError {
	var ce *content.Error
	if !errors.As(err, &ce) {
		return nil
	}
	switch d := ce.Details.(type) {
	case content.ValidationDetails:
		return d.Errors
	case *content.ValidationDetails:
		if d != nil {
			return d.Errors
		}
	}
	return nil
}

// invalidMessage is what a form says above its fields when a save was
// refused: the service's message, which names the problem.
func invalidMessage(err error) string {
	_, msg := errorStatus(err)
	return "Not saved: " + msg
}
