package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"gorm.io/gorm"

	"github.com/herald-cms/herald/content"
)

// List says which files to list and in which order.
type List struct {
	// Sort is id, name, createdAt, updatedAt or size; createdAt when empty.
	Sort string
	// Asc sorts ascending; the default is newest first.
	Asc bool
	// Offset and Limit page the list; Limit is clamped to 1..100, 25 when
	// zero.
	Offset, Limit int
	// Filters must all hold.
	Filters []Filter
}

var sortColumns = map[string]string{
	"id": "id", "name": "name", "createdAt": "created_at", "updatedAt": "updated_at",
	"size": "size",
}

// List returns a page of files and the number of files. The actor needs
// find on UID. An unknown sort is EINVALID.
func (s *Service) List(ctx context.Context, l List) ([]File, int64, error) {
	if _, _, err := authorize(ctx, content.ActionFind); err != nil {
		return nil, 0, err
	}
	if l.Sort == "" {
		l.Sort = "createdAt"
	}
	col, ok := sortColumns[l.Sort]
	if !ok {
		return nil, 0, content.InvalidField([]string{"sort"},
			fmt.Sprintf("cannot sort files by %q", l.Sort))
	}
	switch {
	case l.Limit <= 0:
		l.Limit = 25
	case l.Limit > 100:
		l.Limit = 100
	}
	dir := " DESC"
	if l.Asc {
		dir = " ASC"
	}

	var conds []string
	var args []any
	for _, f := range l.Filters {
		cond, a, err := f.where(s.db.Dialect == content.Postgres)
		if err != nil {
			return nil, 0, err
		}
		conds, args = append(conds, "("+cond+")"), append(args, a...)
	}
	db := func() *gorm.DB {
		q := s.db.Read.WithContext(ctx)
		if len(conds) > 0 {
			q = q.Where(strings.Join(conds, " AND "), args...)
		}
		return q
	}
	var total int64
	if err := db().Model(&fileRow{}).Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("count files: %w", err)
	}
	var rows []fileRow
	err := db().Order(col + dir).Order("id" + dir).Offset(max(l.Offset, 0)).Limit(l.Limit).
		Find(&rows).Error
	if err != nil {
		return nil, 0, fmt.Errorf("list files: %w", err)
	}
	files := make([]File, len(rows))
	for i, r := range rows {
		files[i] = r.File()
	}
	return files, total, nil
}

// Open returns the stored file named as in its URL (hash and extension),
// with its description, for serving. It asks no permission: like Strapi's,
// uploads are public to whoever knows their URL. An unknown name is
// ENOTFOUND. The caller closes the reader.
func (s *Service) Open(ctx context.Context, name string) (File, io.ReadCloser, int64, error) {
	notFound := content.Errorf(content.ENOTFOUND, "Not Found")
	if !validStorageName(name) {
		return File{}, nil, 0, notFound
	}
	hash, ext, _ := strings.Cut(name, ".")
	if ext != "" {
		ext = "." + ext
	}
	var row fileRow
	err := s.db.Read.WithContext(ctx).Where("hash = ? AND ext = ?", hash, ext).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return File{}, nil, 0, notFound
	}
	if err != nil {
		return File{}, nil, 0, fmt.Errorf("find upload %s: %w", name, err)
	}
	rc, size, err := s.store.Open(ctx, row.StorageName())
	if err != nil {
		return File{}, nil, 0, fmt.Errorf("open upload %s: %w", name, err)
	}
	return row.File(), rc, size, nil
}
