package content

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// entryRow is one row of the entries table: a document's draft or its
// published version.
type entryRow struct {
	ID          int64 `gorm:"primaryKey"`
	DocumentID  string
	ContentType string
	PublishedAt *time.Time
	Data        string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	CreatedBy   *int64
	UpdatedBy   *int64
}

func (entryRow) TableName() string { return "entries" }

// entryColumns is the column list every document query selects.
const entryColumns = "id, document_id, content_type, published_at, data, created_at, updated_at, " +
	"created_by, updated_by"

// FormatTime writes a timestamp as the API shows it: UTC, milliseconds.
func FormatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// renderOptions says which attributes a rendered document shows.
type renderOptions struct {
	private bool
	// fields limits the output to these names (plus id and documentId);
	// nil shows everything.
	fields []string
}

func (o renderOptions) wants(name string) bool {
	if o.fields == nil {
		return true
	}
	for _, f := range o.fields {
		if f == name {
			return true
		}
	}
	return false
}

// render writes a row as the content API returns it: id, documentId, the
// attributes in schema order, then the timestamps. Stored values of
// attributes the schema no longer has are not shown.
func render(t *Type, r *entryRow, opts renderOptions) (json.RawMessage, error) {
	var data map[string]json.RawMessage
	if err := json.Unmarshal([]byte(r.Data), &data); err != nil {
		return nil, fmt.Errorf("decode entry %d: %w", r.ID, err)
	}
	var buf bytes.Buffer
	buf.Grow(len(r.Data) + 160)
	buf.WriteString(`{"id":`)
	buf.WriteString(strconv.FormatInt(r.ID, 10))
	buf.WriteString(`,"documentId":`)
	writeJSONString(&buf, r.DocumentID)
	for _, a := range t.Schema.Attributes {
		if (a.Private && !opts.private) || !opts.wants(a.Name) {
			continue
		}
		buf.WriteByte(',')
		writeJSONString(&buf, a.Name)
		buf.WriteByte(':')
		if v, ok := data[a.Name]; ok {
			buf.Write(v)
		} else {
			buf.WriteString("null")
		}
	}
	if opts.wants("createdAt") {
		buf.WriteString(`,"createdAt":"` + FormatTime(r.CreatedAt) + `"`)
	}
	if opts.wants("updatedAt") {
		buf.WriteString(`,"updatedAt":"` + FormatTime(r.UpdatedAt) + `"`)
	}
	if opts.wants("publishedAt") {
		if r.PublishedAt != nil {
			buf.WriteString(`,"publishedAt":"` + FormatTime(*r.PublishedAt) + `"`)
		} else {
			buf.WriteString(`,"publishedAt":null`)
		}
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

func writeJSONString(buf *bytes.Buffer, s string) {
	b, _ := json.Marshal(s)
	buf.Write(b)
}
