package content

import (
	"encoding/json"
	"time"
)

// MediaUID is the pseudo content type of the media library's files: media
// attributes link to them, and the bus names it when files change.
const MediaUID = "plugin::upload.file"

// File is a file of the media library in Strapi v5's shape, as the upload
// API and populated media attributes show it. Size is in kilobytes with
// two decimals, as Strapi reports it; URL is relative to the server.
type File struct {
	ID               int64           `json:"id"`
	DocumentID       string          `json:"documentId"`
	Name             string          `json:"name"`
	AlternativeText  *string         `json:"alternativeText"`
	Caption          *string         `json:"caption"`
	Width            *int            `json:"width"`
	Height           *int            `json:"height"`
	Formats          json.RawMessage `json:"formats"`
	Hash             string          `json:"hash"`
	Ext              string          `json:"ext"`
	Mime             string          `json:"mime"`
	Size             float64         `json:"size"`
	URL              string          `json:"url"`
	PreviewURL       *string         `json:"previewUrl"`
	Provider         string          `json:"provider"`
	ProviderMetadata json.RawMessage `json:"provider_metadata"`
	CreatedAt        string          `json:"createdAt"`
	UpdatedAt        string          `json:"updatedAt"`
	PublishedAt      string          `json:"publishedAt"`

	// Bytes is the exact size, for the panel.
	Bytes int64 `json:"-"`
}

// IsImage reports whether the file is an image the browser can show.
func (f File) IsImage() bool { return InlineImage(f.Mime) }

// InlineImage reports whether a MIME type is an image type browsers show
// inline (raster images).
func InlineImage(mimeType string) bool {
	switch mimeType {
	case "image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "image/x-icon",
		"image/vnd.microsoft.icon":
		return true
	}
	return false
}

// FileRow is a row of the upload_files table.
type FileRow struct {
	ID              int64     `gorm:"column:id;primaryKey"`
	DocumentID      string    `gorm:"column:document_id"`
	Name            string    `gorm:"column:name"`
	AlternativeText *string   `gorm:"column:alternative_text"`
	Caption         *string   `gorm:"column:caption"`
	Width           *int      `gorm:"column:width"`
	Height          *int      `gorm:"column:height"`
	Hash            string    `gorm:"column:hash"`
	Ext             string    `gorm:"column:ext"`
	Mime            string    `gorm:"column:mime"`
	Size            int64     `gorm:"column:size"`
	CreatedByKind   string    `gorm:"column:created_by_kind"`
	CreatedByID     int64     `gorm:"column:created_by_id"`
	CreatedAt       time.Time `gorm:"column:created_at;autoCreateTime:false"`
	UpdatedAt       time.Time `gorm:"column:updated_at;autoUpdateTime:false"`
}

// TableName names the table for GORM.
func (FileRow) TableName() string { return "upload_files" }

// StorageName is the file's name in the upload storage and under
// /uploads/.
func (r FileRow) StorageName() string { return r.Hash + r.Ext }

// File returns the row as the API shows it.
func (r FileRow) File() File {
	created := FormatTime(r.CreatedAt)
	return File{
		ID: r.ID, DocumentID: r.DocumentID, Name: r.Name,
		AlternativeText: r.AlternativeText, Caption: r.Caption,
		Width: r.Width, Height: r.Height, Formats: json.RawMessage("null"),
		Hash: r.Hash, Ext: r.Ext, Mime: r.Mime,
		Size:     float64(int64(float64(r.Size)/1024*100+0.5)) / 100,
		URL:      "/uploads/" + r.StorageName(),
		Provider: "local", ProviderMetadata: json.RawMessage("null"),
		CreatedAt: created, UpdatedAt: FormatTime(r.UpdatedAt), PublishedAt: created,
		Bytes: r.Size,
	}
}
