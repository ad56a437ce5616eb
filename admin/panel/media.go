package panel

import (
	"fmt"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/herald-cms/herald/admin/views"
	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/content/media"
)

// mediaPageSize is how many files the media library shows per page.
const mediaPageSize = 48

// mayMedia reports whether the administrator may do action on the media
// library (an own-files grant counts: the service checks the file).
func mayMedia(c *fiber.Ctx, action content.Action) bool {
	return actor(c).Can(c.UserContext(), action, media.UID).Allowed
}

func mediaItem(f media.File) views.MediaItem {
	m := views.MediaItem{
		ID: f.ID, Name: f.Name, URL: f.URL, Mime: f.Mime, Size: humanSize(f.Bytes),
		Image: f.IsImage(), CreatedAt: f.CreatedAt,
	}
	if f.Width != nil && f.Height != nil {
		m.Width, m.Height = *f.Width, *f.Height
	}
	if f.AlternativeText != nil {
		m.Alt = *f.AlternativeText
	}
	if f.Caption != nil {
		m.Caption = *f.Caption
	}
	return m
}

// humanSize writes a byte count for people.
func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// Media answers GET /admin/media: the files, newest first, as a grid, and
// the upload form. With picker=1 it answers the search of a media picker
// instead, as JSON (see pickMedia).
func (p *Panel) Media(c *fiber.Ctx) error {
	if c.Query("picker") != "" {
		return p.pickMedia(c)
	}
	page, _ := strconv.Atoi(c.Query("page"))
	page = max(page, 1)
	files, total, err := p.media.List(c.UserContext(), media.List{
		Offset: (page - 1) * mediaPageSize, Limit: mediaPageSize})
	if err != nil {
		return err
	}
	pages := int((total + mediaPageSize - 1) / mediaPageSize)
	l := views.MediaList{
		Page:      p.frame(c, "Media library", "media"),
		CanUpload: mayMedia(c, content.ActionCreate),
		Limit:     humanSize(p.media.Limit()),
		Pager:     views.Pager{Page: page, PageCount: pages, Total: total},
	}
	if page > 1 {
		l.Pager.Prev = "/admin/media?page=" + strconv.Itoa(page-1)
	}
	if page < pages {
		l.Pager.Next = "/admin/media?page=" + strconv.Itoa(page+1)
	}
	for _, f := range files {
		l.Files = append(l.Files, mediaItem(f))
	}
	return p.render(c, fiber.StatusOK, views.MediaListPage(l))
}

// uploadScriptHeader marks an upload sent by the panel's script, which
// follows it with a progress bar and then loads the library itself.
const uploadScriptHeader = "X-Herald-Upload"

// UploadMedia answers POST /admin/media, a multipart form with one or more
// files. The panel's script sends it with a progress bar; without the
// script it is an ordinary form post. The answer is a redirect to the
// library (204 to the script, see uploadDone), or an error page with the
// reason.
func (p *Panel) UploadMedia(c *fiber.Ctx) error {
	form, err := c.MultipartForm()
	if err != nil || len(form.File["files"]) == 0 {
		setFlash(c, "error", "Choose at least one file to upload.")
		return uploadDone(c)
	}
	for _, fh := range form.File["files"] {
		if fh.Size > p.media.Limit() {
			return content.Errorf(content.ETOOLARGE, "%s is larger than the limit of %s",
				fh.Filename, humanSize(p.media.Limit()))
		}
		r, err := fh.Open()
		if err != nil {
			return fmt.Errorf("open uploaded part: %w", err)
		}
		_, err = p.media.Create(c.UserContext(), media.Upload{
			Name: fh.Filename, Size: fh.Size, Body: r})
		r.Close()
		if err != nil {
			return err
		}
	}
	n := len(form.File["files"])
	setFlash(c, "ok", plural(n, "file uploaded.", "files uploaded."))
	return uploadDone(c)
}

// uploadDone ends an upload: a redirect to the library for a form post,
// 204 for the script. XMLHttpRequest would follow a redirect itself and
// take the flash message meant for the page the script loads next.
func uploadDone(c *fiber.Ctx) error {
	if c.Get(uploadScriptHeader) != "" {
		return c.SendStatus(fiber.StatusNoContent)
	}
	return redirect(c, "/admin/media")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// MediaFile answers GET /admin/media/:id: the file's preview, facts and
// the forms to change its texts or delete it.
func (p *Panel) MediaFile(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	f, err := p.media.Get(c.UserContext(), id)
	if err != nil {
		return err
	}
	return p.renderMedia(c, fiber.StatusOK, mediaItem(f), views.Errors{})
}

func (p *Panel) renderMedia(c *fiber.Ctx, status int, m views.MediaItem, errs views.Errors) error {
	d := views.MediaDetail{
		Page: p.frame(c, m.Name, "media"), File: m, Errors: errs,
		CanEdit:   mayMedia(c, content.ActionUpdate),
		CanDelete: mayMedia(c, content.ActionDelete),
	}
	return p.render(c, status, views.MediaDetailPage(d))
}

// SaveMedia answers POST /admin/media/:id: new name, alternative text and
// caption. Invalid values are shown on the form (422).
func (p *Panel) SaveMedia(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	name, alt, caption := c.FormValue("name"), c.FormValue("alternativeText"), c.FormValue("caption")
	f, err := p.media.Update(c.UserContext(), id, media.Info{
		Name: &name, AlternativeText: &alt, Caption: &caption})
	if content.IsCode(err, content.EINVALID) {
		cur, gerr := p.media.Get(c.UserContext(), id)
		if gerr != nil {
			return gerr
		}
		m := mediaItem(cur)
		m.Name, m.Alt, m.Caption = name, alt, caption
		return p.renderMedia(c, fiber.StatusUnprocessableEntity, m, fieldErrors(err))
	}
	if err != nil {
		return err
	}
	setFlash(c, "ok", "Saved "+f.Name+".")
	return redirect(c, mediaItem(f).MediaURL())
}

// DeleteMedia answers POST /admin/media/:id/delete.
func (p *Panel) DeleteMedia(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	f, err := p.media.Delete(c.UserContext(), id)
	if err != nil {
		return err
	}
	setFlash(c, "ok", "Deleted "+f.Name+".")
	return redirect(c, "/admin/media")
}
