package media

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/herald-cms/herald/content"
)

// Handlers serve Strapi's upload API. Like Strapi's, its answers are the
// bare file or list of files, not wrapped in {"data": ...}; errors keep the
// usual envelope.
type Handlers struct {
	s *Service
}

// NewHandlers returns the upload API's handlers for s.
func NewHandlers(s *Service) *Handlers { return &Handlers{s: s} }

// Upload is POST /api/upload: multipart field files (one or several) and an
// optional fileInfo (a JSON object, one per file, or a JSON list). With
// ?id=N it updates file N's fileInfo instead, as Strapi v5 does. Answers
// 201 with the list of created files, or 200 with the updated file.
func (h *Handlers) Upload(c *fiber.Ctx) error {
	// Asked before the body is parsed, so that a caller without the grant
	// learns nothing about its request.
	action := content.ActionCreate
	if c.Query("id") != "" {
		action = content.ActionUpdate
	}
	if _, _, err := authorize(c.UserContext(), action); err != nil {
		return err
	}

	form, err := c.MultipartForm()
	if err != nil {
		return content.Invalid("Expected a multipart/form-data body with files")
	}
	infos, err := fileInfos(form.Value["fileInfo"])
	if err != nil {
		return err
	}

	if raw := c.Query("id"); raw != "" {
		id, err := parseID(raw)
		if err != nil {
			return err
		}
		if len(form.File["files"]) > 0 {
			return content.Invalid("Replacing a file's content is not supported: " +
				"upload a new file and delete the old one")
		}
		info := Info{}
		if len(infos) > 0 {
			info = infos[0]
		}
		f, err := h.s.Update(c.UserContext(), id, info)
		if err != nil {
			return err
		}
		return c.JSON(f)
	}

	files := form.File["files"]
	if len(files) == 0 {
		return content.InvalidField([]string{"files"}, "Files are empty")
	}
	if len(infos) > 1 && len(infos) != len(files) {
		return content.InvalidField([]string{"fileInfo"}, "Expected one fileInfo per file")
	}
	ups := make([]Upload, 0, len(files))
	for i, fh := range files {
		info := Info{}
		if len(infos) == 1 && len(files) == 1 || len(infos) > 1 {
			info = infos[i]
		}
		if fh.Size > h.s.Limit() {
			return h.s.tooLarge()
		}
		r, err := fh.Open()
		if err != nil {
			return fmt.Errorf("open uploaded part: %w", err)
		}
		defer r.Close()
		// The part's file name is copied: Fiber reuses its buffers.
		ups = append(ups, Upload{Name: strings.Clone(fh.Filename), Size: fh.Size, Body: r,
			Info: info})
	}
	out, err := h.s.CreateMany(c.UserContext(), ups)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(out)
}

// fileInfos decodes the fileInfo values: each a JSON object, or a single
// JSON list of objects.
func fileInfos(values []string) ([]Info, error) {
	bad := content.InvalidField([]string{"fileInfo"}, "fileInfo must be a JSON object")
	if len(values) == 1 && strings.HasPrefix(strings.TrimSpace(values[0]), "[") {
		var list []Info
		if err := json.Unmarshal([]byte(values[0]), &list); err != nil {
			return nil, bad
		}
		return list, nil
	}
	out := make([]Info, len(values))
	for i, v := range values {
		if err := json.Unmarshal([]byte(v), &out[i]); err != nil {
			return nil, bad
		}
	}
	return out, nil
}

func parseID(raw string) (int64, error) {
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, content.Errorf(content.ENOTFOUND, "File not found")
	}
	return id, nil
}

// Update is PUT /api/upload/files/:id with a JSON fileInfo body (or
// {"fileInfo": {...}}); it answers the updated file.
func (h *Handlers) Update(c *fiber.Ctx) error {
	id, err := parseID(c.Params("id"))
	if err != nil {
		return err
	}
	var body struct {
		Info
		FileInfo *Info `json:"fileInfo"`
	}
	if err := json.Unmarshal(c.Body(), &body); err != nil {
		return content.Invalid("Expected a JSON object with name, alternativeText or caption")
	}
	info := body.Info
	if body.FileInfo != nil {
		info = *body.FileInfo
	}
	f, err := h.s.Update(c.UserContext(), id, info)
	if err != nil {
		return err
	}
	return c.JSON(f)
}

// Get is GET /api/upload/files/:id.
func (h *Handlers) Get(c *fiber.Ctx) error {
	id, err := parseID(c.Params("id"))
	if err != nil {
		return err
	}
	f, err := h.s.Get(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(f)
}

// Delete is DELETE /api/upload/files/:id; it answers the deleted file.
func (h *Handlers) Delete(c *fiber.Ctx) error {
	id, err := parseID(c.Params("id"))
	if err != nil {
		return err
	}
	f, err := h.s.Delete(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(f)
}

// List is GET /api/upload/files: filters[field][$op]=value (all must
// hold; see Filter), sort (id, name, createdAt, updatedAt, size, with :asc
// or :desc) and pagination[page]/[pageSize] or pagination[start]/[limit].
// Other parameters answer 400.
func (h *Handlers) List(c *fiber.Ctx) error {
	l, err := parseList(c.Context().QueryArgs())
	if err != nil {
		return err
	}
	files, _, err := h.s.List(c.UserContext(), l)
	if err != nil {
		return err
	}
	return c.JSON(files)
}

func parseList(args *fasthttp.Args) (List, error) {
	var l List
	var page, pageSize, start, limit string
	var bad error
	args.VisitAll(func(k, v []byte) {
		val := string(v)
		switch string(k) {
		case "sort":
			field, dir, _ := strings.Cut(val, ":")
			l.Sort, l.Asc = field, strings.EqualFold(dir, "asc")
			if dir != "" && !l.Asc && !strings.EqualFold(dir, "desc") {
				bad = content.InvalidField([]string{"sort"}, "sort direction must be asc or desc")
			}
		case "pagination[page]":
			page = val
		case "pagination[pageSize]":
			pageSize = val
		case "pagination[start]":
			start = val
		case "pagination[limit]":
			limit = val
		default:
			if strings.HasPrefix(string(k), "filters[") {
				f, err := parseFilter(string(k), val)
				if err != nil {
					bad = err
				}
				l.Filters = append(l.Filters, f)
				return
			}
			bad = content.InvalidField([]string{string(k)},
				fmt.Sprintf("Invalid query parameter: %s", k))
		}
	})
	if bad != nil {
		return List{}, bad
	}
	if (page != "" || pageSize != "") && (start != "" || limit != "") {
		return List{}, content.Errorf(content.EPAGINATION,
			"Cannot use both page & offset pagination in the same query")
	}
	num := func(name, s string, def, least int) (int, error) {
		if s == "" {
			return def, nil
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < least {
			return 0, content.InvalidField([]string{"pagination", name},
				fmt.Sprintf("pagination[%s] must be an integer of at least %d", name, least))
		}
		return n, nil
	}
	p, err := num("page", page, 1, 1)
	if err != nil {
		return List{}, err
	}
	ps, err := num("pageSize", pageSize, 25, 1)
	if err != nil {
		return List{}, err
	}
	st, err := num("start", start, 0, 0)
	if err != nil {
		return List{}, err
	}
	li, err := num("limit", limit, 25, 1)
	if err != nil {
		return List{}, err
	}
	if start != "" || limit != "" {
		l.Offset, l.Limit = st, li
	} else {
		l.Offset, l.Limit = (p-1)*min(ps, 100), ps
	}
	return l, nil
}

// Serve is GET /uploads/:name, open to everyone like Strapi's. Files are
// served with their sniffed type and nosniff; anything but raster images,
// audio, video, PDF and plain text is an attachment, so no upload can run
// as a page of this origin. Names are immutable, so answers are cached.
func (h *Handlers) Serve(c *fiber.Ctx) error {
	f, rc, size, err := h.s.Open(c.UserContext(), c.Params("name"))
	if err != nil {
		return err
	}
	ct := f.Mime
	if strings.HasPrefix(ct, "text/") {
		ct += "; charset=utf-8"
	}
	disposition := "attachment"
	if Inline(f.Mime) {
		disposition = "inline"
	}
	if v := mime.FormatMediaType(disposition, map[string]string{"filename": f.Name}); v != "" {
		disposition = v
	}
	c.Set(fiber.HeaderContentType, ct)
	c.Set(fiber.HeaderContentDisposition, disposition)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	// A sandboxed answer runs nothing; Chrome's PDF viewer refuses it.
	csp := "default-src 'none'; sandbox"
	if f.Mime == "application/pdf" {
		csp = "default-src 'none'"
	}
	c.Set(fiber.HeaderContentSecurityPolicy, csp)
	c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	c.Set(fiber.HeaderAcceptRanges, "bytes")
	// If-Range names a validator; the files have none to compare, so such
	// a request gets the whole file.
	if c.Get(fiber.HeaderIfRange) != "" {
		return c.SendStream(rc, int(size))
	}
	r, ok, err := parseRange(c.Get(fiber.HeaderRange), size)
	switch {
	case !ok:
		return c.SendStream(rc, int(size))
	case err != nil:
		rc.Close()
		c.Set(fiber.HeaderContentRange, fmt.Sprintf("bytes */%d", size))
		return c.SendStatus(fiber.StatusRequestedRangeNotSatisfiable)
	}
	if err := skipTo(rc, r.start); err != nil {
		rc.Close()
		return fmt.Errorf("serve upload range: %w", err)
	}
	c.Status(fiber.StatusPartialContent)
	c.Set(fiber.HeaderContentRange, r.contentRange(size))
	return c.SendStream(readCloser{io.LimitReader(rc, r.length), rc}, int(r.length))
}

// readCloser reads from one reader and closes another: a part of a file
// that closes the file.
type readCloser struct {
	io.Reader
	io.Closer
}
