package media

import (
	"bytes"
	"context"
	"fmt"
	"image"
	// The decoders image.DecodeConfig needs for width and height.
	_ "image/gif"
	_ "image/jpeg"
	_ "image/png"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/herald-cms/herald/content"
)

// Info is what a client may say about a file: Strapi's fileInfo. A nil
// field is left as it is (on upload: the file's own name, no alternative
// text, no caption).
type Info struct {
	Name            *string `json:"name"`
	AlternativeText *string `json:"alternativeText"`
	Caption         *string `json:"caption"`
}

// Upload is one file to store.
type Upload struct {
	// Name is the client's file name; only its characters are checked, it
	// never becomes a path.
	Name string
	// Size is the length the client announced; Body is read up to the
	// limit whatever it says.
	Size int64
	Body io.Reader
	Info Info
}

// Inline reports whether a file of this MIME type may be shown by the
// browser rather than downloaded: raster images, audio, video, PDF and
// plain text. Everything else is served as an attachment.
func Inline(mimeType string) bool {
	switch {
	case content.InlineImage(mimeType), mimeType == "application/pdf", mimeType == "text/plain":
		return true
	case strings.HasPrefix(mimeType, "audio/"), strings.HasPrefix(mimeType, "video/"):
		return true
	}
	return false
}

// refusedTypes are sniffed types a browser would run: markup and scripts.
var refusedTypes = map[string]bool{
	"text/html": true, "text/xml": true, "application/xml": true, "image/svg+xml": true,
	"application/javascript": true, "text/javascript": true,
}

// refusedExts are extensions a browser or a server would treat as
// executable markup or script, whatever the content sniffs as.
var refusedExts = map[string]bool{
	".html": true, ".htm": true, ".xhtml": true, ".shtml": true, ".svg": true, ".svgz": true,
	".xml": true, ".xsl": true, ".js": true, ".mjs": true, ".php": true, ".phtml": true,
}

// CheckName returns the reason a client's file name is refused, or "":
// names may not be empty, longer than 255 bytes, contain slashes, NUL or
// other control characters, or '..', even percent-encoded. Names are only
// shown, never used as paths, but refusing these keeps them harmless in
// every place they may be pasted.
func CheckName(name string) string {
	if name == "" || strings.TrimSpace(name) == "" {
		return "file name is empty"
	}
	if len(name) > 255 || !utf8.ValidString(name) {
		return "file name is too long or not UTF-8"
	}
	for _, n := range []string{name, unescaped(name)} {
		if strings.ContainsAny(n, `/\`) || strings.Contains(n, "..") {
			return "file name may not contain slashes or '..'"
		}
		if strings.ContainsFunc(n, unicode.IsControl) {
			return "file name may not contain control characters"
		}
	}
	return ""
}

// unescaped percent-decodes name until it no longer changes.
func unescaped(name string) string {
	for range 3 {
		u, err := url.PathUnescape(name)
		if err != nil || u == name {
			break
		}
		name = u
	}
	return name
}

// extOf returns the name's extension, lowercased, when it is short and
// alphanumeric; otherwise the extension the MIME type is known by.
func extOf(name, mimeType string) string {
	ext := strings.ToLower(path.Ext(name))
	if len(ext) >= 2 && len(ext) <= 10 && validStorageName("x"+ext) {
		return ext
	}
	if exts, _ := mime.ExtensionsByType(mimeType); len(exts) > 0 {
		return exts[0]
	}
	return ""
}

// sniff returns the content's MIME type without parameters.
func sniff(head []byte) string {
	mt, _, err := mime.ParseMediaType(http.DetectContentType(head))
	if err != nil {
		return "application/octet-stream"
	}
	return mt
}

// looksLikeSVG reports whether text content is SVG markup, which
// http.DetectContentType reports as plain text.
func looksLikeSVG(head []byte) bool {
	return bytes.Contains(bytes.ToLower(head), []byte("<svg"))
}

func fieldError(field, msg string) *content.Error {
	return content.InvalidField([]string{field}, msg)
}

// checkInfo validates the texts of an Info.
func checkInfo(in Info) error {
	if in.Name != nil {
		if why := CheckName(*in.Name); why != "" {
			return fieldError("name", why)
		}
	}
	for field, v := range map[string]*string{"alternativeText": in.AlternativeText,
		"caption": in.Caption} {
		if v != nil && len(*v) > 2000 {
			return fieldError(field, field+" is longer than 2000 bytes")
		}
	}
	return nil
}

// Create stores a file and records media.create. The MIME type is sniffed
// from the content (the client's is never used); HTML, XML, SVG and
// scripts, by content or by extension, are refused with EINVALID, as are
// bad names (see CheckName). A file over the limit is ETOOLARGE. The
// actor needs create on UID.
func (s *Service) Create(ctx context.Context, up Upload) (File, error) {
	files, err := s.CreateMany(ctx, []Upload{up})
	if err != nil {
		return File{}, err
	}
	return files[0], nil
}

// CreateMany stores several files as Create does, all or none: a file
// refused (or failing) leaves none of the others stored or recorded. The
// media.create events are recorded in one transaction.
func (s *Service) CreateMany(ctx context.Context, ups []Upload) ([]File, error) {
	actor, _, err := authorize(ctx, content.ActionCreate)
	if err != nil {
		return nil, err
	}
	rows := make([]fileRow, 0, len(ups))
	unstage := func() {
		for _, r := range rows {
			s.removeStored(ctx, r.StorageName())
		}
	}
	for _, up := range ups {
		row, err := s.stage(ctx, actor, up)
		if err != nil {
			unstage()
			return nil, err
		}
		rows = append(rows, row)
	}
	now := s.now().UTC()
	err = s.write(ctx, "upload", func(tx *gorm.DB) ([]content.Event, error) {
		events := make([]content.Event, 0, len(rows))
		for i := range rows {
			rows[i].CreatedAt, rows[i].UpdatedAt = now, now
			if err := tx.Create(&rows[i]).Error; err != nil {
				return nil, fmt.Errorf("insert file: %w", err)
			}
			ev, err := event(content.EventMediaCreate, rows[i].File(), now)
			if err != nil {
				return nil, err
			}
			events = append(events, ev)
		}
		return events, nil
	})
	if err != nil {
		unstage()
		return nil, err
	}
	files := make([]File, len(rows))
	for i, r := range rows {
		files[i] = r.File()
	}
	return files, nil
}

// stage checks one upload and writes its bytes to the storage, returning
// the row to insert.
func (s *Service) stage(ctx context.Context, actor content.Actor, up Upload) (fileRow, error) {
	if why := CheckName(up.Name); why != "" {
		return fileRow{}, fieldError("files", why)
	}
	if err := checkInfo(up.Info); err != nil {
		return fileRow{}, err
	}
	if up.Size > s.limit {
		return fileRow{}, s.tooLarge()
	}

	head := make([]byte, 512)
	n, err := io.ReadFull(up.Body, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return fileRow{}, fmt.Errorf("read upload: %w", err)
	}
	head = head[:n]
	mt := sniff(head)
	ext := extOf(up.Name, mt)
	svg := strings.HasPrefix(mt, "text/") && looksLikeSVG(head)
	if refusedTypes[mt] || refusedExts[ext] || svg {
		return fileRow{}, fieldError("files",
			"HTML, XML, SVG and script files are not accepted")
	}

	// The whole file is counted as it is stored, whatever Size said.
	counter := &countingReader{r: io.MultiReader(bytes.NewReader(head), up.Body), max: s.limit}
	var buf bytes.Buffer
	body := io.Reader(counter)
	if strings.HasPrefix(mt, "image/") {
		body = io.TeeReader(counter, &limitedBuffer{b: &buf, max: 1 << 20})
	}
	row := fileRow{
		DocumentID: content.NewDocumentID(), Name: up.Name, AlternativeText: up.Info.AlternativeText,
		Caption: up.Info.Caption, Hash: newHash(), Ext: ext, Mime: mt,
		CreatedByKind: string(actor.Kind), CreatedByID: actor.ID,
	}
	if up.Info.Name != nil {
		row.Name = *up.Info.Name
	}
	if err := s.store.Put(ctx, row.StorageName(), body); err != nil {
		if counter.over {
			return fileRow{}, s.tooLarge()
		}
		return fileRow{}, fmt.Errorf("upload %s: %w", row.StorageName(), err)
	}
	if counter.over {
		s.removeStored(ctx, row.StorageName())
		return fileRow{}, s.tooLarge()
	}
	row.Size = counter.n
	if buf.Len() > 0 {
		if cfg, _, err := image.DecodeConfig(bytes.NewReader(buf.Bytes())); err == nil {
			row.Width, row.Height = &cfg.Width, &cfg.Height
		}
	}
	return row, nil
}

func (s *Service) tooLarge() error {
	return content.Errorf(content.ETOOLARGE, "File is larger than the limit of %d bytes", s.limit)
}

// removeStored deletes a stored file whose row does not exist.
func (s *Service) removeStored(ctx context.Context, name string) {
	if err := s.store.Delete(ctx, name); err != nil {
		s.log.ErrorContext(ctx, "remove orphan upload", "name", name, "error", err)
	}
}

// Update changes a file's name, alternative text and caption and records
// media.update. The actor needs update on UID (and, when limited to its
// own entries, to have uploaded the file). A missing file is ENOTFOUND.
func (s *Service) Update(ctx context.Context, id int64, in Info) (File, error) {
	actor, g, err := authorize(ctx, content.ActionUpdate)
	if err != nil {
		return File{}, err
	}
	if err := checkInfo(in); err != nil {
		return File{}, err
	}
	var out File
	err = s.write(ctx, "update file", func(tx *gorm.DB) ([]content.Event, error) {
		row, err := load(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		if err := mayChange(actor, g, row); err != nil {
			return nil, err
		}
		if in.Name != nil {
			row.Name = *in.Name
		}
		if in.AlternativeText != nil {
			row.AlternativeText = in.AlternativeText
		}
		if in.Caption != nil {
			row.Caption = in.Caption
		}
		now := s.now().UTC()
		row.UpdatedAt = now
		err = tx.Model(&fileRow{}).Where("id = ?", id).Updates(map[string]any{
			"name": row.Name, "alternative_text": row.AlternativeText, "caption": row.Caption,
			"updated_at": now,
		}).Error
		if err != nil {
			return nil, fmt.Errorf("update file %d: %w", id, err)
		}
		out = row.File()
		ev, err := event(content.EventMediaUpdate, out, now)
		return []content.Event{ev}, err
	})
	return out, err
}

// Delete removes a file's row, records media.delete, and after commit
// removes the stored bytes. The actor needs delete on UID (and, when
// limited to its own entries, to have uploaded the file). A missing file
// is ENOTFOUND.
func (s *Service) Delete(ctx context.Context, id int64) (File, error) {
	actor, g, err := authorize(ctx, content.ActionDelete)
	if err != nil {
		return File{}, err
	}
	var row fileRow
	err = s.write(ctx, "delete file", func(tx *gorm.DB) ([]content.Event, error) {
		if row, err = load(ctx, tx, id); err != nil {
			return nil, err
		}
		if err := mayChange(actor, g, row); err != nil {
			return nil, err
		}
		if err := tx.Where("id = ?", id).Delete(&fileRow{}).Error; err != nil {
			return nil, fmt.Errorf("delete file %d: %w", id, err)
		}
		ev, err := event(content.EventMediaDelete, row.File(), s.now())
		return []content.Event{ev}, err
	})
	if err != nil {
		return File{}, err
	}
	s.removeStored(ctx, row.StorageName())
	return row.File(), nil
}

// Get returns one file. The actor needs findOne on UID.
func (s *Service) Get(ctx context.Context, id int64) (File, error) {
	if _, _, err := authorize(ctx, content.ActionFindOne); err != nil {
		return File{}, err
	}
	row, err := load(ctx, s.db.Read, id)
	if err != nil {
		return File{}, err
	}
	return row.File(), nil
}

// countingReader counts what it reads and stops with an error past max.
type countingReader struct {
	r    io.Reader
	n    int64
	max  int64
	over bool
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.max {
		c.over = true
		return n, errTooLarge
	}
	return n, err
}

var errTooLarge = fmt.Errorf("upload over the size limit")

// limitedBuffer keeps the first max bytes written to it and drops the rest.
type limitedBuffer struct {
	b   *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.b.Len(); room > 0 {
		l.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}
