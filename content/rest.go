package content

import (
	"bytes"
	"encoding/binary"
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
	return strings.Clone(paramView(c, name))
}

// paramView is param without the copy: valid only until the handler
// returns, for lookups and keys.
func paramView(c *fiber.Ctx, name string) string {
	v := c.Params(name)
	if strings.IndexByte(v, '%') < 0 {
		return v
	}
	if d, err := url.PathUnescape(v); err == nil {
		v = d
	}
	return v
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

// restType resolves /api/:name.
func (h *Handlers) restType(c *fiber.Ctx) (*Type, error) {
	return h.svc.TypeByRoute(paramView(c, "name"))
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
		kind := byte('l')
		if t.IsSingle() {
			kind = 's'
		}
		var kb [256]byte
		key := readKey(kb[:0], kind, "", c.Request().URI().QueryString())
		if done, err := h.fromCache(c, t, admin, ActionFind, key); done {
			return err
		}
		st := h.svc.reads().cache.stamp(t.UID)
		ctx, actor := c.UserContext(), ActorFrom(c.UserContext())
		opts := ReadOptions{Admin: admin}
		var body []byte
		var shared bool
		if t.IsSingle() {
			o, err := h.svc.findOne(ctx, actor, t, "", rawQuery(c), opts, true)
			if err != nil {
				return err
			}
			body, shared = o.body, o.shared
		} else {
			pg, err := h.svc.findPage(ctx, actor, t, rawQuery(c), opts)
			if err != nil {
				return err
			}
			body, shared = pg.body, pg.shared
		}
		return h.answer(c, t, admin, key, st, body, shared)
	}
}

// Get answers GET /api/:name/:documentId and its editors' twin.
func (h *Handlers) Get(admin bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		t, err := h.typeFor(c, admin)
		if err != nil {
			return err
		}
		var kb [256]byte
		key := readKey(kb[:0], 'o', paramView(c, "documentId"), c.Request().URI().QueryString())
		if done, err := h.fromCache(c, t, admin, ActionFindOne, key); done {
			return err
		}
		st := h.svc.reads().cache.stamp(t.UID)
		o, err := h.svc.findOne(c.UserContext(), ActorFrom(c.UserContext()), t,
			param(c, "documentId"), rawQuery(c), ReadOptions{Admin: admin}, false)
		if err != nil {
			return err
		}
		return h.answer(c, t, admin, key, st, o.body, o.shared)
	}
}

// readKey appends a read's key in the response cache, within its content
// type, to buf: what is read (l a list, o one document, s a single type's
// document), the documentId after its length (so that no documentId and
// query string can be mistaken for another pair), and the query string
// exactly as sent.
func readKey(buf []byte, kind byte, documentID string, rawQuery []byte) []byte {
	buf = append(buf, kind)
	buf = binary.AppendUvarint(buf, uint64(len(documentID)))
	buf = append(buf, documentID...)
	return append(buf, rawQuery...)
}

// fromCache answers a read from the response cache when it may, and
// reports whether it answered (or refused). A kept answer is only used
// after the actor has been authorized for the action, and never for the
// editors' routes or an own-entries grant; a request with Cache-Control:
// no-cache skips it and reads the database.
func (h *Handlers) fromCache(c *fiber.Ctx, t *Type, admin bool, action Action,
	key []byte) (bool, error) {
	if admin || noCache(c) {
		return false, nil
	}
	ctx := c.UserContext()
	g := ActorFrom(ctx).Can(ctx, action, t.UID)
	if !g.Allowed {
		return true, Errorf(EFORBIDDEN, "Forbidden")
	}
	if g.OwnOnly {
		return false, nil
	}
	r := h.svc.reads().cache.get(t, key)
	if r == nil {
		return false, nil
	}
	return true, sendResponse(c, r, true)
}

// answer sends a body just read from the database, and keeps it in the
// response cache when it is the same for every actor allowed to read it
// (published documents, no private attributes, not limited to the actor's
// own entries) and nothing changed the type since st was read, before the
// database was.
func (h *Handlers) answer(c *fiber.Ctx, t *Type, admin bool, key []byte, st stamp, body []byte,
	shared bool) error {
	shared = shared && !admin
	r := NewResponse(body)
	if shared {
		h.svc.reads().cache.put(st, t, key, r)
	}
	return sendResponse(c, r, shared)
}

// noCache reports whether the request asks for an answer fresh from the
// database (Cache-Control: no-cache, or Pragma: no-cache).
func noCache(c *fiber.Ctx) bool {
	cc := c.Request().Header.Peek(fiber.HeaderCacheControl)
	if len(cc) > 0 && bytes.Contains(bytes.ToLower(cc), []byte("no-cache")) {
		return true
	}
	return bytes.EqualFold(c.Request().Header.Peek(fiber.HeaderPragma), []byte("no-cache"))
}

// sendResponse writes an answer with its entity tag, or 304 Not Modified
// when If-None-Match names it. Shared answers (the same for everyone who
// may read them) may be stored by any cache that revalidates them; the
// others are private. A shared answer is sent compressed with brotli or
// gzip when the client accepts it, the compressed body kept with the
// answer; the others are left to the server's compression middleware.
func sendResponse(c *fiber.Ctx, r *Response, shared bool) error {
	h := &c.Response().Header
	// The names are canonical already: SetCanonical skips normalising them.
	h.SetCanonical(headerETag, []byte(r.ETag))
	if shared {
		h.SetCanonical(headerCacheControl, cacheShared)
	} else {
		h.SetCanonical(headerCacheControl, cachePrivate)
	}
	c.Vary(fiber.HeaderAcceptEncoding)
	if r.MatchesETag(c.Request().Header.Peek(fiber.HeaderIfNoneMatch)) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	h.SetContentTypeBytes(mimeJSON)
	body := r.Body
	if enc := acceptedEncoding(c.Request().Header.Peek(fiber.HeaderAcceptEncoding)); shared &&
		enc != "" && len(body) >= minCompress {
		body = r.compressed(enc)
		h.SetCanonical(headerContentEncoding, []byte(enc))
	}
	// The answer is immutable, so the response may point at it.
	c.Response().SetBodyRaw(body)
	return nil
}

var (
	headerETag            = []byte(fiber.HeaderETag)
	headerCacheControl    = []byte(fiber.HeaderCacheControl)
	headerContentEncoding = []byte(fiber.HeaderContentEncoding)
	cacheShared           = []byte("no-cache")
	cachePrivate          = []byte("private, no-cache")
	mimeJSON              = []byte(fiber.MIMEApplicationJSON)
)

// minCompress is the smallest body worth compressing.
const minCompress = 512

// acceptedEncoding picks "br" or "gzip" (preferred in that order) from an
// Accept-Encoding header, honouring q=0, or "" for neither.
func acceptedEncoding(h []byte) string {
	br, gz := false, false
	for len(h) > 0 {
		var part []byte
		part, h, _ = bytes.Cut(h, []byte(","))
		name, params, _ := bytes.Cut(part, []byte(";"))
		name = bytes.TrimSpace(name)
		if q, ok := bytes.CutPrefix(bytes.TrimSpace(params), []byte("q=")); ok &&
			strings.Trim(string(q), "0.") == "" {
			continue // q=0: not acceptable
		}
		switch {
		case bytes.EqualFold(name, []byte("br")):
			br = true
		case bytes.EqualFold(name, []byte("gzip")):
			gz = true
		}
	}
	switch {
	case br:
		return "br"
	case gz:
		return "gzip"
	}
	return ""
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
		docID, err := h.documentID(c, t)
		if IsCode(err, ENOTFOUND) && t.IsSingle() {
			// A single type's first write creates its document.
			doc, err := h.svc.Create(ctx, actor, t, data, opts)
			if err != nil {
				return err
			}
			return sendOne(c, fiber.StatusOK, doc)
		}
		if err != nil {
			return err
		}
		doc, err := h.svc.Update(ctx, actor, t, docID, data, opts)
		if err != nil {
			return err
		}
		return sendOne(c, fiber.StatusOK, doc)
	}
}

// documentID returns the document a write addresses: the :documentId
// parameter, or a single type's only document. ENOTFOUND when there is none.
func (h *Handlers) documentID(c *fiber.Ctx, t *Type) (string, error) {
	if id := param(c, "documentId"); id != "" {
		return id, nil
	}
	if !t.IsSingle() {
		return "", Errorf(ENOTFOUND, "Not Found")
	}
	return h.svc.SingleDocumentID(c.UserContext(), t)
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
		docID, err := h.documentID(c, t)
		if err != nil {
			return err
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
