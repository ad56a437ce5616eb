package content

import (
	"encoding/json"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// Handlers serves the REST content API (/api/...) and the editors' content
// routes (/admin/content/...). Both speak the same dialect; the editors'
// routes address types by uid, see private attributes and default to drafts.
type Handlers struct {
	svc *Service
}

// NewHandlers returns the content API's handlers.
func NewHandlers(svc *Service) *Handlers { return &Handlers{svc: svc} }

// param returns a path parameter, percent-decoded and copied out of Fiber's
// reused buffers.
func param(c *fiber.Ctx, name string) string {
	v := c.Params(name)
	if d, err := url.PathUnescape(v); err == nil {
		v = d
	}
	return strings.Clone(v)
}

func rawQuery(c *fiber.Ctx) string {
	return string(c.Request().URI().QueryString())
}

// readBody decodes {"data": {...}} and returns the data object.
func readBody(c *fiber.Ctx) (map[string]any, error) {
	var body map[string]any
	if err := DecodeJSON(c.Body(), &body); err != nil {
		return nil, err
	}
	raw, ok := body["data"]
	if !ok || raw == nil {
		return nil, InvalidField([]string{"data"}, `Missing "data" payload in the request body`)
	}
	data, ok := raw.(map[string]any)
	if !ok {
		return nil, InvalidField([]string{"data"}, `"data" must be an object`)
	}
	return data, nil
}

// writeOptions reads ?status= on a write: REST writes publish unless
// status=draft; the editors' routes never publish implicitly.
func writeOptions(c *fiber.Ctx, admin bool) (WriteOptions, error) {
	status := c.Query("status")
	switch status {
	case "", "published", "draft":
	default:
		return WriteOptions{}, InvalidField([]string{"status"},
			"status must be draft or published, not "+status)
	}
	if admin {
		return WriteOptions{Publish: status == "published", Private: true}, nil
	}
	return WriteOptions{Publish: status != "draft"}, nil
}

func sendOne(c *fiber.Ctx, status int, doc json.RawMessage) error {
	c.Status(status)
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	buf := make([]byte, 0, len(doc)+24)
	buf = append(buf, `{"data":`...)
	buf = append(buf, doc...)
	buf = append(buf, `,"meta":{}}`...)
	return c.Send(buf)
}

func sendList(c *fiber.Ctx, list *List) error {
	meta, err := json.Marshal(map[string]any{"pagination": list.Pagination})
	if err != nil {
		return err
	}
	size := len(meta) + 32
	for _, d := range list.Data {
		size += len(d) + 1
	}
	buf := make([]byte, 0, size)
	buf = append(buf, `{"data":[`...)
	for i, d := range list.Data {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, d...)
	}
	buf = append(buf, `],"meta":`...)
	buf = append(buf, meta...)
	buf = append(buf, '}')
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(buf)
}

// restType resolves /api/:name.
func (h *Handlers) restType(c *fiber.Ctx) (*Type, error) {
	return h.svc.TypeByRoute(param(c, "name"))
}

// adminType resolves /admin/content/:uid.
func (h *Handlers) adminType(c *fiber.Ctx) (*Type, error) {
	return h.svc.TypeByUID(param(c, "uid"))
}

func (h *Handlers) typeFor(c *fiber.Ctx, admin bool) (*Type, error) {
	if admin {
		return h.adminType(c)
	}
	return h.restType(c)
}

// List answers GET /api/:name and GET /admin/content/:uid: a page of a
// collection type, or a single type's document.
func (h *Handlers) List(admin bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		t, err := h.typeFor(c, admin)
		if err != nil {
			return err
		}
		ctx, actor := c.UserContext(), ActorFrom(c.UserContext())
		opts := ReadOptions{Admin: admin}
		if t.IsSingle() {
			doc, err := h.svc.FindSingle(ctx, actor, t, rawQuery(c), opts)
			if err != nil {
				return err
			}
			return sendOne(c, fiber.StatusOK, doc)
		}
		list, err := h.svc.Find(ctx, actor, t, rawQuery(c), opts)
		if err != nil {
			return err
		}
		return sendList(c, list)
	}
}

// Get answers GET /api/:name/:documentId and its editors' twin.
func (h *Handlers) Get(admin bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		t, err := h.typeFor(c, admin)
		if err != nil {
			return err
		}
		doc, err := h.svc.FindOne(c.UserContext(), ActorFrom(c.UserContext()), t,
			param(c, "documentId"), rawQuery(c), ReadOptions{Admin: admin})
		if err != nil {
			return err
		}
		return sendOne(c, fiber.StatusOK, doc)
	}
}

// Create answers POST /api/:name (201). Single types are written with PUT.
func (h *Handlers) Create(admin bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		t, err := h.typeFor(c, admin)
		if err != nil {
			return err
		}
		if t.IsSingle() && !admin {
			return Errorf(EINVALID, "%s is a single type: write it with PUT", t.UID)
		}
		opts, err := writeOptions(c, admin)
		if err != nil {
			return err
		}
		data, err := readBody(c)
		if err != nil {
			return err
		}
		doc, err := h.svc.Create(c.UserContext(), ActorFrom(c.UserContext()), t, data, opts)
		if err != nil {
			return err
		}
		return sendOne(c, fiber.StatusCreated, doc)
	}
}

// Update answers PUT /api/:name/:documentId, and PUT /api/:name for single
// types (creating their document on first write).
func (h *Handlers) Update(admin bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		t, err := h.typeFor(c, admin)
		if err != nil {
			return err
		}
		opts, err := writeOptions(c, admin)
		if err != nil {
			return err
		}
		data, err := readBody(c)
		if err != nil {
			return err
		}
		ctx, actor := c.UserContext(), ActorFrom(c.UserContext())
		docID := param(c, "documentId")
		if docID == "" {
			if !t.IsSingle() {
				return Errorf(ENOTFOUND, "Not Found")
			}
			docID, err = h.svc.SingleDocumentID(ctx, t)
			if IsCode(err, ENOTFOUND) {
				doc, err := h.svc.Create(ctx, actor, t, data, opts)
				if err != nil {
					return err
				}
				return sendOne(c, fiber.StatusOK, doc)
			}
			if err != nil {
				return err
			}
		}
		doc, err := h.svc.Update(ctx, actor, t, docID, data, opts)
		if err != nil {
			return err
		}
		return sendOne(c, fiber.StatusOK, doc)
	}
}

// Delete answers DELETE /api/:name/:documentId (and /api/:name for single
// types) with 204.
func (h *Handlers) Delete(admin bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		t, err := h.typeFor(c, admin)
		if err != nil {
			return err
		}
		ctx, actor := c.UserContext(), ActorFrom(c.UserContext())
		docID := param(c, "documentId")
		if docID == "" {
			if !t.IsSingle() {
				return Errorf(ENOTFOUND, "Not Found")
			}
			if docID, err = h.svc.SingleDocumentID(ctx, t); err != nil {
				return err
			}
		}
		if err := h.svc.Delete(ctx, actor, t, docID); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	}
}

// Action answers the editors' POST /admin/content/:uid/:documentId/<action>
// for publish, unpublish and discard.
func (h *Handlers) Action(name string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		t, err := h.adminType(c)
		if err != nil {
			return err
		}
		ctx, actor := c.UserContext(), ActorFrom(c.UserContext())
		docID := param(c, "documentId")
		opts := WriteOptions{Private: true}
		var doc json.RawMessage
		switch name {
		case "publish":
			doc, err = h.svc.Publish(ctx, actor, t, docID, opts)
		case "unpublish":
			doc, err = h.svc.Unpublish(ctx, actor, t, docID, opts)
		case "discard":
			doc, err = h.svc.DiscardDraft(ctx, actor, t, docID, opts)
		default:
			return Errorf(ENOTFOUND, "Not Found")
		}
		if err != nil {
			return err
		}
		return sendOne(c, fiber.StatusOK, doc)
	}
}
