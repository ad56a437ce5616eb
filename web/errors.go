package web

import (
	"errors"
	"log/slog"

	"github.com/gofiber/fiber/v2"

	"github.com/herald-cms/herald/content"
)

// errorKind is how one error code is shown: its status and Strapi's name.
type errorKind struct {
	status int
	name   string
}

var errorKinds = map[content.ErrorCode]errorKind{
	content.ENOTFOUND:     {fiber.StatusNotFound, "NotFoundError"},
	content.EINVALID:      {fiber.StatusBadRequest, "ValidationError"},
	content.EPAGINATION:   {fiber.StatusBadRequest, "PaginationError"},
	content.ECONFLICT:     {fiber.StatusConflict, "ConflictError"},
	content.EUNAUTHORIZED: {fiber.StatusUnauthorized, "UnauthorizedError"},
	content.EFORBIDDEN:    {fiber.StatusForbidden, "ForbiddenError"},
	content.ETOOLARGE:     {fiber.StatusRequestEntityTooLarge, "PayloadTooLargeError"},
	content.ERATELIMITED:  {fiber.StatusTooManyRequests, "RateLimitError"},
}

// fiberErrorNames names the errors Fiber itself raises.
var fiberErrorNames = map[int]string{
	fiber.StatusBadRequest:            "BadRequestError",
	fiber.StatusNotFound:              "NotFoundError",
	fiber.StatusMethodNotAllowed:      "MethodNotAllowedError",
	fiber.StatusRequestEntityTooLarge: "PayloadTooLargeError",
	fiber.StatusRequestTimeout:        "RequestTimeoutError",
	fiber.StatusUnsupportedMediaType:  "UnsupportedMediaTypeError",
	fiber.StatusTooManyRequests:       "RateLimitError",
	fiber.StatusServiceUnavailable:    "ServiceUnavailableError",
}

// errorBody is Strapi's error envelope.
type errorBody struct {
	Data  any         `json:"data"`
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Status  int    `json:"status"`
	Name    string `json:"name"`
	Message string `json:"message"`
	Details any    `json:"details"`
}

// errorHandler turns every error a handler returns into Strapi's envelope.
// Only *content.Error messages reach the client; anything else is a 500
// with a generic message, logged with its cause.
func errorHandler(log *slog.Logger) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		d := describe(err)
		if d.Status >= 500 {
			log.ErrorContext(c.UserContext(), "internal error",
				"method", c.Method(), "path", c.Path(), "error", err.Error())
		}
		c.Locals(localError, d.Message)
		return c.Status(d.Status).JSON(errorBody{Data: nil, Error: d})
	}
}

func describe(err error) errorDetail {
	var ce *content.Error
	if errors.As(err, &ce) {
		if k, ok := errorKinds[ce.Code]; ok {
			details := ce.Details
			if details == nil {
				details = struct{}{}
			}
			return errorDetail{Status: k.status, Name: k.name, Message: ce.Message, Details: details}
		}
	}
	var fe *fiber.Error
	if errors.As(err, &fe) && fe.Code < 500 {
		name, ok := fiberErrorNames[fe.Code]
		if !ok {
			name = "ApplicationError"
		}
		return errorDetail{Status: fe.Code, Name: name, Message: fe.Message, Details: struct{}{}}
	}
	return errorDetail{Status: fiber.StatusInternalServerError, Name: "InternalServerError",
		Message: "Internal Server Error", Details: struct{}{}}
}
