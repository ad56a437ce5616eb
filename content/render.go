package content

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
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
	return t.UTC().Format(apiTime)
}

// renderOptions says which attributes a rendered document shows.
type renderOptions struct {
	private bool
	// fields limits the output to these names (plus id and documentId);
	// nil shows everything.
	fields []string
	// links holds the rendered values of the populated relation and media
	// attributes; the others are left out, as Strapi leaves them.
	links map[string][]byte
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

// docRow is what rendering a document needs of its row. data may point
// into a database driver's buffer: it is only read while rendering.
type docRow struct {
	id          int64
	documentID  string
	publishedAt *time.Time
	data        []byte
	createdAt   time.Time
	updatedAt   time.Time
	// raw holds the timestamps as SQLite stores them (created, updated,
	// published; published nil when NULL) when they were read as text,
	// in which case the time fields are unset.
	raw *[3][]byte
}

// render writes a row as the content API returns it: id, documentId, the
// attributes in schema order, then the timestamps. Stored values of
// attributes the schema no longer has are not shown.
func render(t *Type, r *entryRow, opts renderOptions) (json.RawMessage, error) {
	d := docRow{id: r.ID, documentID: r.DocumentID, publishedAt: r.PublishedAt,
		data: []byte(r.Data), createdAt: r.CreatedAt, updatedAt: r.UpdatedAt}
	return appendDoc(make([]byte, 0, len(r.Data)+160), t, &d, opts)
}

// apiTime is the layout of timestamps in answers: UTC, milliseconds.
const apiTime = "2006-01-02T15:04:05.000Z"

// appendDoc appends a rendered document to buf (see render). The stored
// data is split into its top-level members without decoding the values,
// which are copied through as stored.
func appendDoc(buf []byte, t *Type, r *docRow, opts renderOptions) ([]byte, error) {
	var members [16]member
	data, ok := splitObject(r.data, members[:0])
	if !ok {
		// Not an object Herald wrote: let the JSON decoder say why.
		var m map[string]json.RawMessage
		if err := json.Unmarshal(r.data, &m); err != nil {
			return buf, fmt.Errorf("decode entry %d: %w", r.id, err)
		}
		data = data[:0]
		for k, v := range m {
			data = append(data, member{key: []byte(k), value: v})
		}
	}
	buf = append(buf, `{"id":`...)
	buf = strconv.AppendInt(buf, r.id, 10)
	buf = append(buf, `,"documentId":`...)
	buf = appendJSONString(buf, r.documentID)
	for _, a := range t.Schema.Attributes {
		if a.IsLink() {
			if v, ok := opts.links[a.Name]; ok && (!a.Private || opts.private) {
				buf = append(buf, ',')
				buf = appendJSONString(buf, a.Name)
				buf = append(buf, ':')
				buf = append(buf, v...)
			}
			continue
		}
		if (a.Private && !opts.private) || !opts.wants(a.Name) {
			continue
		}
		buf = append(buf, ',')
		buf = appendJSONString(buf, a.Name)
		buf = append(buf, ':')
		if v := lookupMember(data, a.Name); v != nil {
			buf = appendValue(buf, v)
		} else {
			buf = append(buf, "null"...)
		}
	}
	if opts.wants("createdAt") {
		buf = append(buf, `,"createdAt":"`...)
		if r.raw != nil {
			buf = append(appendStoredTime(buf, r.raw[0]), '"')
		} else {
			buf = append(r.createdAt.UTC().AppendFormat(buf, apiTime), '"')
		}
	}
	if opts.wants("updatedAt") {
		buf = append(buf, `,"updatedAt":"`...)
		if r.raw != nil {
			buf = append(appendStoredTime(buf, r.raw[1]), '"')
		} else {
			buf = append(r.updatedAt.UTC().AppendFormat(buf, apiTime), '"')
		}
	}
	if opts.wants("publishedAt") {
		switch {
		case r.raw != nil && r.raw[2] != nil:
			buf = append(buf, `,"publishedAt":"`...)
			buf = append(appendStoredTime(buf, r.raw[2]), '"')
		case r.raw == nil && r.publishedAt != nil:
			buf = append(buf, `,"publishedAt":"`...)
			buf = append(r.publishedAt.UTC().AppendFormat(buf, apiTime), '"')
		default:
			buf = append(buf, `,"publishedAt":null`...)
		}
	}
	return append(buf, '}'), nil
}

// storedTimeLayouts are the layouts SQLite timestamps are read with, those
// of the SQLite driver, in its order; times without a zone are UTC.
var storedTimeLayouts = []string{
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02T15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04",
	"2006-01-02T15:04",
	"2006-01-02",
}

// appendStoredTime appends a timestamp stored by SQLite in the API's
// layout, exactly as parsing it the driver's way and formatting it would.
// The driver writes UTC times as "2006-01-02 15:04:05.999999999+00:00";
// those are rewritten without parsing. Anything else is parsed; what does
// not parse shows as the zero time, as the driver reads it.
func appendStoredTime(buf, s []byte) []byte {
	if out, ok := appendUTCText(buf, s); ok {
		return out
	}
	v := strings.TrimSuffix(string(s), "Z")
	var t time.Time
	for _, layout := range storedTimeLayouts {
		if p, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			t = p
			break
		}
	}
	return t.UTC().AppendFormat(buf, apiTime)
}

// appendUTCText rewrites "YYYY-MM-DD hh:mm:ss[.fraction][+00:00|Z]" (or
// with a T) as "YYYY-MM-DDThh:mm:ss.mmmZ", and reports false for any other
// text.
func appendUTCText(buf, s []byte) ([]byte, bool) {
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') ||
		s[13] != ':' || s[16] != ':' {
		return buf, false
	}
	for _, i := range [...]int{0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18} {
		if s[i] < '0' || s[i] > '9' {
			return buf, false
		}
	}
	frac := s[19:19]
	rest := s[19:]
	if len(rest) > 0 && rest[0] == '.' {
		n := 1
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		frac, rest = rest[1:n], rest[n:]
	}
	switch string(rest) {
	case "", "Z", "+00:00", "-00:00":
	default:
		return buf, false
	}
	buf = append(buf, s[:10]...)
	buf = append(buf, 'T')
	buf = append(buf, s[11:19]...)
	buf = append(buf, '.')
	for i := range 3 {
		if i < len(frac) {
			buf = append(buf, frac[i])
		} else {
			buf = append(buf, '0')
		}
	}
	return append(buf, 'Z'), true
}

// member is one member of a JSON object: its key as written (escapes
// included) and its raw value.
type member struct {
	key, value []byte
}

// lookupMember returns the value of the member named name; the last one
// wins, as with encoding/json.
func lookupMember(ms []member, name string) []byte {
	for i := len(ms) - 1; i >= 0; i-- {
		k := ms[i].key
		if string(k) == name {
			return ms[i].value
		}
		if bytes.IndexByte(k, '\\') >= 0 {
			var dec string
			if json.Unmarshal(append(append([]byte{'"'}, k...), '"'), &dec) == nil && dec == name {
				return ms[i].value
			}
		}
	}
	return nil
}

// splitObject splits a JSON object into its members, appending them to ms.
// It checks the structure it walks (strings, nesting) but not every detail
// of numbers and literals: Herald wrote the data, and the values are only
// copied. It reports false for anything that is not one object.
func splitObject(b []byte, ms []member) ([]member, bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return ms, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return ms, skipSpace(b, i+1) == len(b)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return ms, false
		}
		end, ok := skipString(b, i)
		if !ok {
			return ms, false
		}
		key := b[i+1 : end-1]
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return ms, false
		}
		i = skipSpace(b, i+1)
		end, ok = skipValue(b, i)
		if !ok {
			return ms, false
		}
		ms = append(ms, member{key: key, value: b[i:end]})
		i = skipSpace(b, end)
		if i >= len(b) {
			return ms, false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return ms, skipSpace(b, i+1) == len(b)
		default:
			return ms, false
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] == '"'.
func skipString(b []byte, i int) (int, bool) {
	j := i + 1
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return 0, false
		}
		j += k
		// The quote ends the string unless an odd number of backslashes
		// escapes it.
		n := 0
		for n < j-i-1 && b[j-1-n] == '\\' {
			n++
		}
		if n%2 == 0 {
			return j + 1, true
		}
		j++
	}
}

// skipValue returns the index after the value starting at b[i].
func skipValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, ok := skipString(b, j)
				if !ok {
					return 0, false
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, true
				}
			}
		}
		return 0, false
	}
	j := i
	for j < len(b) {
		c := b[j]
		if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			break
		}
		j++
	}
	return j, j > i
}

// appendJSONString appends s as a JSON string, escaped as encoding/json
// escapes it.
func appendJSONString(buf []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c >= 0x80 {
			b, _ := json.Marshal(s)
			return append(buf, b...)
		}
	}
	buf = append(buf, '"')
	buf = append(buf, s...)
	return append(buf, '"')
}

// appendValue appends a stored attribute value. Objects and arrays (json
// attributes) are written in one canonical form, compact with sorted keys,
// because PostgreSQL's jsonb hands them back with its own spacing and key
// order while SQLite returns what Herald stored.
func appendValue(buf, v []byte) []byte {
	if len(v) == 0 || (v[0] != '{' && v[0] != '[') {
		return append(buf, v...)
	}
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return append(buf, v...)
	}
	out, err := json.Marshal(x)
	if err != nil {
		return append(buf, v...)
	}
	return append(buf, out...)
}
