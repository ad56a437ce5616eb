package webhooks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/herald-cms/herald/content"
)

// The permissions the webhook routes need.
const (
	PermissionRead   = "webhooks.read"
	PermissionManage = "webhooks.manage"
)

// API serves the webhooks admin API. Its handlers parse the request, call
// the Service and answer {"data": ...}; errors are *content.Error values
// for the web layer's error handler. They check no permission: the route
// table does (see Routes).
type API struct {
	s *Service
}

// API returns the service's admin API handlers.
func (s *Service) API() *API { return &API{s: s} }

// Route is one admin route: its method, its path under the admin prefix's
// root (it starts with /admin), the permission it needs and its handler.
type Route struct {
	Method     string
	Path       string
	Permission string
	Handler    fiber.Handler
}

// Routes lists every webhooks admin route with its permission: reads need
// webhooks.read, everything else webhooks.manage.
func (a *API) Routes() []Route {
	return []Route{
		{fiber.MethodGet, "/admin/webhooks", PermissionRead, a.List},
		{fiber.MethodPost, "/admin/webhooks", PermissionManage, a.Create},
		{fiber.MethodGet, "/admin/webhooks/:id", PermissionRead, a.Get},
		{fiber.MethodPut, "/admin/webhooks/:id", PermissionManage, a.Update},
		{fiber.MethodDelete, "/admin/webhooks/:id", PermissionManage, a.Delete},
		{fiber.MethodPost, "/admin/webhooks/:id/trigger", PermissionManage, a.Trigger},
		{fiber.MethodPost, "/admin/webhooks/:id/rotate-secret", PermissionManage, a.RotateSecret},
		{fiber.MethodPost, "/admin/webhooks/:id/recover", PermissionManage, a.Recover},
		{fiber.MethodGet, "/admin/webhooks/:id/deliveries", PermissionRead, a.Deliveries},
		{fiber.MethodGet, "/admin/deliveries/:id", PermissionRead, a.Delivery},
		{fiber.MethodPost, "/admin/deliveries/:id/retry", PermissionManage, a.Retry},
	}
}

// List answers GET /admin/webhooks with every webhook.
func (a *API) List(c *fiber.Ctx) error {
	hooks, err := a.s.Webhooks(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"data": hooks})
}

// Create answers POST /admin/webhooks: 201 with the new webhook.
func (a *API) Create(c *fiber.Ctx) error {
	var in WebhookInput
	if err := decodeStrict(c.Body(), &in, webhookReadOnly); err != nil {
		return err
	}

	w, err := a.s.CreateWebhook(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"data": w})
}

// Get answers GET /admin/webhooks/:id.
func (a *API) Get(c *fiber.Ctx) error {
	id, err := webhookID(c)
	if err != nil {
		return err
	}

	w, err := a.s.Webhook(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"data": w})
}

// Update answers PUT /admin/webhooks/:id with the changed webhook; fields
// left out of the body keep their values.
func (a *API) Update(c *fiber.Ctx) error {
	id, err := webhookID(c)
	if err != nil {
		return err
	}
	var in WebhookInput
	if err := decodeStrict(c.Body(), &in, webhookReadOnly); err != nil {
		return err
	}

	w, err := a.s.UpdateWebhook(c.UserContext(), id, in)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"data": w})
}

// Delete answers DELETE /admin/webhooks/:id with the deleted webhook.
func (a *API) Delete(c *fiber.Ctx) error {
	id, err := webhookID(c)
	if err != nil {
		return err
	}

	w, err := a.s.DeleteWebhook(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"data": w})
}

// Trigger answers POST /admin/webhooks/:id/trigger: it sends a test event
// and answers {"data": {"statusCode", "message"}}.
func (a *API) Trigger(c *fiber.Ctx) error {
	id, err := webhookID(c)
	if err != nil {
		return err
	}

	res, err := a.s.TriggerTest(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"data": res})
}

// RotateSecret answers POST /admin/webhooks/:id/rotate-secret with the
// webhook and its new secret.
func (a *API) RotateSecret(c *fiber.Ctx) error {
	id, err := webhookID(c)
	if err != nil {
		return err
	}

	w, err := a.s.RotateSecret(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"data": w})
}

// Recover answers POST /admin/webhooks/:id/recover, body {"since": RFC
// 3339}: 202 {"data": {"requeued": N}}.
func (a *API) Recover(c *fiber.Ctx) error {
	id, err := webhookID(c)
	if err != nil {
		return err
	}
	var in struct {
		Since *string `json:"since"`
	}
	if err := decodeStrict(c.Body(), &in, nil); err != nil {
		return err
	}
	if in.Since == nil {
		return content.InvalidField([]string{"since"}, "since is required (RFC 3339 time)")
	}
	since, err := parseTime("since", *in.Since)
	if err != nil {
		return err
	}

	n, err := a.s.Recover(c.UserContext(), id, since)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"data": fiber.Map{"requeued": n}})
}

// deliveryParams are the query parameters of the delivery list besides
// pagination.
var deliveryParams = []string{"status", "event", "since"}

// Deliveries answers GET /admin/webhooks/:id/deliveries: newest first,
// filtered by ?status=, ?event= and ?since= (RFC 3339), paginated like the
// content API, with meta.pagination.
func (a *API) Deliveries(c *fiber.Ctx) error {
	id, err := webhookID(c)
	if err != nil {
		return err
	}
	values, err := queryValues(c)
	if err != nil {
		return err
	}
	f, err := parseDeliveryFilter(values)
	if err != nil {
		return err
	}
	page, err := parsePage(values)
	if err != nil {
		return err
	}

	list, total, err := a.s.Deliveries(c.UserContext(), id, f, page)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"data": list, "meta": fiber.Map{"pagination": page.Meta(total)}})
}

// Delivery answers GET /admin/deliveries/:id with the payload and the
// attempts, oldest first.
func (a *API) Delivery(c *fiber.Ctx) error {
	id, err := pathID(c, deliveryNotFound)
	if err != nil {
		return err
	}

	d, err := a.s.Delivery(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"data": d})
}

// Retry answers POST /admin/deliveries/:id/retry: 202 with the requeued
// delivery.
func (a *API) Retry(c *fiber.Ctx) error {
	id, err := pathID(c, deliveryNotFound)
	if err != nil {
		return err
	}

	d, err := a.s.RetryDelivery(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"data": d})
}

func webhookID(c *fiber.Ctx) (int64, error) {
	return pathID(c, webhookNotFound)
}

// pathID reads the :id parameter; anything but a positive integer names no
// object.
func pathID(c *fiber.Ctx, notFound func(any) error) (int64, error) {
	raw := c.Params("id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id < 1 {
		return 0, notFound(strings.Clone(raw))
	}
	return id, nil
}

// queryValues returns the decoded query parameters.
func queryValues(c *fiber.Ctx) (url.Values, error) {
	values, err := url.ParseQuery(string(c.Request().URI().QueryString()))
	if err != nil {
		return nil, content.Invalid("Malformed query string: " + err.Error())
	}
	return values, nil
}

func parseDeliveryFilter(values url.Values) (DeliveryFilter, error) {
	var f DeliveryFilter
	// Sorted, so that the first error reported does not depend on map order.
	for _, key := range slices.Sorted(maps.Keys(values)) {
		if key == "pagination" || strings.HasPrefix(key, "pagination[") {
			continue
		}
		for _, value := range values[key] {
			switch key {
			case "status":
				if !slices.Contains([]string{StatusPending, StatusSucceeded, StatusFailed},
					value) {
					return f, content.InvalidField([]string{"status"},
						"status must be pending, succeeded or failed")
				}
				f.Status = value
			case "event":
				f.Event = value
			case "since":
				t, err := parseTime("since", value)
				if err != nil {
					return f, err
				}
				f.Since = t
			default:
				return f, content.InvalidField([]string{key}, fmt.Sprintf(
					"Invalid parameter %s; use %s or pagination", key,
					strings.Join(deliveryParams, ", ")))
			}
		}
	}
	return f, nil
}

func parseTime(field, value string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, value)
	if err != nil {
		return t, content.InvalidField([]string{field},
			fmt.Sprintf("%s must be an RFC 3339 time such as 2025-01-31T12:00:00Z", field))
	}
	return t, nil
}

// webhookReadOnly are the webhook's fields a body may not set.
var webhookReadOnly = map[string]string{
	"id":             "id is assigned by Herald",
	"state":          "state follows isEnabled and automatic disabling; set isEnabled",
	"disabledReason": "disabledReason is set by Herald",
	"secret":         "secret is generated; use POST /admin/webhooks/:id/rotate-secret",
	"createdAt":      "createdAt is set by Herald",
	"updatedAt":      "updatedAt is set by Herald",
}

// decodeStrict decodes a JSON object into v, refusing unknown fields; the
// fields in readOnly are refused with their own message.
func decodeStrict(body []byte, v any, readOnly map[string]string) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return content.Invalid("Missing request body: send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, err := dec.Token(); err != io.EOF {
			return content.Invalid("Malformed JSON: unexpected data after the top-level value")
		}
		return nil
	}

	var typ *json.UnmarshalTypeError
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &typ):
		if typ.Field == "" {
			return content.Invalid("The body must be a JSON object")
		}
		return content.InvalidField(strings.Split(typ.Field, "."),
			fmt.Sprintf("%s must be %s, not %s", typ.Field, jsonKind(typ.Type.String()), typ.Value))
	case errors.As(err, &syn):
		return content.Invalid(fmt.Sprintf("Malformed JSON at byte %d: %s", syn.Offset, syn))
	}
	if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		field, _ = strconv.Unquote(field)
		if msg, ok := readOnly[field]; ok {
			return content.InvalidField([]string{field}, msg)
		}
		return content.InvalidField([]string{field}, fmt.Sprintf("Unknown field %s", field))
	}
	return content.Invalid("Malformed JSON: " + err.Error())
}

// jsonKind names a Go type the way a JSON author thinks of it.
func jsonKind(goType string) string {
	switch {
	case strings.HasPrefix(goType, "map["):
		return "an object of strings"
	case strings.HasPrefix(goType, "[]"):
		return "a list of strings"
	case goType == "string":
		return "a string"
	case goType == "bool":
		return "true or false"
	}
	return goType
}
