package panel

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"unicode"

	"github.com/gofiber/fiber/v2"

	"github.com/herald-cms/herald/admin/views"
	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/content/media"
	"github.com/herald-cms/herald/content/schema"
)

// pickerPageSize is how many choices a picker's search answers at once.
const pickerPageSize = 10

// mediaPickerPageSize is how many files a media picker shows at once.
const mediaPickerPageSize = 24

// maxResolved bounds the posted targets a form shown again looks up to
// label; the rest show their ids.
const maxResolved = 100

// linkValue converts the posted values of a relation or media field to the
// write's input, in the shapes the content service takes: a single target
// is its id or nil, a list is a []any of ids without repeats. Each value
// may hold several ids separated by commas or spaces (the text input used
// without the script). File ids that are numbers travel as JSON numbers.
// A non-empty message says the values cannot be written at all.
func linkValue(a *schema.Attribute, texts []string) (any, string) {
	ids := splitIDs(texts)
	conv := func(id string) any {
		if a.Type == schema.TypeMedia && isDigits(id) {
			return json.Number(id)
		}
		return id
	}
	if !a.IsMany() {
		switch len(ids) {
		case 0:
			return nil, ""
		case 1:
			return conv(ids[0]), ""
		}
		if a.Type == schema.TypeMedia {
			return nil, "Choose one file only."
		}
		return nil, "Choose one entry only."
	}
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = conv(id)
	}
	return out, ""
}

// splitIDs returns the ids in texts, in order and without repeats.
func splitIDs(texts []string) []string {
	var ids []string
	seen := map[string]bool{}
	for _, t := range texts {
		for _, id := range strings.FieldsFunc(t, func(r rune) bool {
			return r == ',' || unicode.IsSpace(r)
		}) {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	return ids
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// idsOf lists the ids of a link field's input value, as the form posts
// them.
func idsOf(v any) []string {
	var vs []any
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		vs = x
	default:
		vs = []any{x}
	}
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		switch x := v.(type) {
		case string:
			out = append(out, x)
		case json.Number:
			out = append(out, x.String())
		}
	}
	return out
}

// mainField is the attribute that names a type's documents in pickers:
// its first string attribute, or "" when it has none (the documentId
// names them then).
func mainField(t *content.Type) string {
	for _, a := range t.Schema.Attributes {
		if a.Type == schema.TypeString {
			return a.Name
		}
	}
	return ""
}

// documentPick shows a document of a relation.
func documentPick(main string, doc map[string]any) views.Pick {
	id := str(doc["documentId"])
	label := ""
	if main != "" {
		label = truncate(strings.TrimSpace(str(doc[main])), 80)
	}
	if label == "" {
		label = id
	}
	return views.Pick{ID: id, Label: label, Hint: id}
}

// previewable are the image types a picker shows as thumbnails: those the
// media library serves inline.
var previewable = map[string]bool{
	"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true,
	"image/avif": true,
}

// filePick shows a file of a media field from its Strapi shape.
func filePick(f map[string]any) views.Pick {
	id := ""
	switch x := f["id"].(type) {
	case json.Number:
		id = x.String()
	case string:
		id = x
	}
	name, mime := str(f["name"]), str(f["mime"])
	pk := views.Pick{ID: id, Label: name, Hint: fileHint(mime, f["width"], f["height"])}
	if pk.Label == "" {
		pk.Label = "File " + id
	}
	if previewable[mime] {
		pk.Thumb, pk.Alt = str(f["url"]), str(f["alternativeText"])
	}
	return pk
}

// fileHint is a file's type and, for images, dimensions.
func fileHint(mime string, width, height any) string {
	w, wok := width.(json.Number)
	h, hok := height.(json.Number)
	if wok && hok {
		return mime + " · " + w.String() + " × " + h.String()
	}
	return mime
}

// mediaPick shows a file of the media library.
func mediaPick(f media.File) views.Pick {
	pk := views.Pick{ID: strconv.FormatInt(f.ID, 10), Label: f.Name, Hint: f.Mime}
	if f.Width != nil && f.Height != nil {
		pk.Hint += " · " + strconv.Itoa(*f.Width) + " × " + strconv.Itoa(*f.Height)
	}
	if previewable[f.Mime] {
		pk.Thumb = f.URL
		if f.AlternativeText != nil {
			pk.Alt = *f.AlternativeText
		}
	}
	return pk
}

// linkedItems returns the objects of a populated relation or media value:
// one object, a list of them, or none.
func linkedItems(v any) []map[string]any {
	switch x := v.(type) {
	case map[string]any:
		return []map[string]any{x}
	case []any:
		out := make([]map[string]any, 0, len(x))
		for _, e := range x {
			if m, ok := e.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	}
	return nil
}

// picksOf shows the targets of a document read with populate=*.
func (p *Panel) picksOf(t *content.Type, doc map[string]any) map[string][]views.Pick {
	out := map[string][]views.Pick{}
	for _, a := range t.Schema.Attributes {
		if !a.IsLink() {
			continue
		}
		main := ""
		if a.Type == schema.TypeRelation {
			if target, err := p.content.TypeByUID(a.Target); err == nil {
				main = mainField(target)
			}
		}
		for _, item := range linkedItems(doc[a.Name]) {
			if a.Type == schema.TypeMedia {
				out[a.Name] = append(out[a.Name], filePick(item))
			} else {
				out[a.Name] = append(out[a.Name], documentPick(main, item))
			}
		}
	}
	return out
}

// postedPicks shows the targets a form posted, to show the form again:
// documents and files are looked up (as the administrator) for their
// labels; those that cannot be show their ids.
func (p *Panel) postedPicks(c *fiber.Ctx, t *content.Type,
	input map[string]any) map[string][]views.Pick {
	out := map[string][]views.Pick{}
	for _, a := range t.Schema.Attributes {
		if !a.IsLink() {
			continue
		}
		ids := idsOf(input[a.Name])
		if len(ids) == 0 {
			continue
		}
		if a.Type == schema.TypeMedia {
			out[a.Name] = p.filePicks(c, ids)
		} else {
			out[a.Name] = p.documentPicks(c, a, ids)
		}
	}
	return out
}

// documentPicks labels the documents of a relation by documentId.
func (p *Panel) documentPicks(c *fiber.Ctx, a *schema.Attribute, ids []string) []views.Pick {
	found := map[string]views.Pick{}
	if target, err := p.content.TypeByUID(a.Target); err == nil {
		q := url.Values{}
		for i, id := range ids[:min(len(ids), maxResolved)] {
			q.Set("filters[documentId][$in]["+strconv.Itoa(i)+"]", id)
		}
		q.Set("pagination[pageSize]", strconv.Itoa(maxResolved))
		list, err := p.content.Find(c.UserContext(), actor(c), target, q.Encode(),
			content.ReadOptions{Admin: true})
		if err == nil {
			docs, _ := decodeDocs(list.Data)
			main := mainField(target)
			for _, d := range docs {
				pk := documentPick(main, d)
				found[pk.ID] = pk
			}
		}
	}
	out := make([]views.Pick, len(ids))
	for i, id := range ids {
		pk, ok := found[id]
		if !ok {
			pk = views.Pick{ID: id, Label: id, Hint: "Not found"}
		}
		out[i] = pk
	}
	return out
}

// filePicks labels the files of a media field by id.
func (p *Panel) filePicks(c *fiber.Ctx, ids []string) []views.Pick {
	out := make([]views.Pick, len(ids))
	for i, id := range ids {
		out[i] = views.Pick{ID: id, Label: "File " + id, Hint: "Not found"}
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil || i >= maxResolved || p.media == nil {
			continue
		}
		if f, err := p.media.Get(c.UserContext(), n); err == nil {
			out[i] = mediaPick(f)
		}
	}
	return out
}

// pickerOf says where the picker of a link attribute searches.
func (p *Panel) pickerOf(c *fiber.Ctx, a *schema.Attribute) views.Picker {
	if a.Type == schema.TypeMedia {
		pk := views.Picker{Target: "file"}
		if p.media == nil || !mayMedia(c, content.ActionFind) {
			return pk
		}
		pk.Search = "/admin/media?picker=1"
		if len(a.AllowedTypes) > 0 {
			pk.Search += "&types=" + url.QueryEscape(strings.Join(a.AllowedTypes, ","))
		}
		pk.Browse = "/admin/media"
		return pk
	}
	target, err := p.content.TypeByUID(a.Target)
	if err != nil {
		return views.Picker{Target: a.Target}
	}
	pk := views.Picker{Target: target.Schema.Info.DisplayName}
	if actor(c).Can(c.UserContext(), content.ActionFind, target.UID).Allowed {
		pk.Search = managerURL(target) + "?picker=1"
		pk.Browse = managerURL(target)
	}
	return pk
}

// pickerItem is one choice of a picker's search, as JSON.
type pickerItem struct {
	ID    string `json:"id"`
	Label string `json:"label"`
	Hint  string `json:"hint,omitempty"`
	Thumb string `json:"thumb,omitempty"`
	Alt   string `json:"alt,omitempty"`
}

// pickerAnswer is a picker's search answer: the choices and, when there
// are more, the query parameters that ask for them (such as "page=2").
type pickerAnswer struct {
	Data []pickerItem `json:"data"`
	More string       `json:"more"`
}

func itemOf(pk views.Pick) pickerItem {
	return pickerItem{ID: pk.ID, Label: pk.Label, Hint: pk.Hint, Thumb: pk.Thumb, Alt: pk.Alt}
}

func sendPicker(c *fiber.Ctx, a pickerAnswer) error {
	if a.Data == nil {
		a.Data = []pickerItem{}
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(a)
}

// pickEntries answers GET /admin/content-manager/:uid?picker=1&q=&page=,
// the search of a relation picker: a page of the type's documents
// matching q, newest first, as JSON. The content service reads them as
// the administrator, so an Author finds only its own entries, and a role
// that may not read the type is refused.
func (p *Panel) pickEntries(c *fiber.Ctx, t *content.Type) error {
	page := queryInt(c, "page", 1)
	q := url.Values{}
	if s := strings.TrimSpace(c.Query("q")); s != "" {
		q.Set("_q", s)
	}
	// Documents saved in the same millisecond come newest first too.
	q.Set("sort[0]", "updatedAt:desc")
	q.Set("sort[1]", "id:desc")
	q.Set("pagination[page]", strconv.Itoa(page))
	q.Set("pagination[pageSize]", strconv.Itoa(pickerPageSize))
	list, err := p.content.Find(c.UserContext(), actor(c), t, q.Encode(),
		content.ReadOptions{Admin: true})
	if err != nil {
		return err
	}
	docs, err := decodeDocs(list.Data)
	if err != nil {
		return err
	}

	var ans pickerAnswer
	main := mainField(t)
	for _, d := range docs {
		ans.Data = append(ans.Data, itemOf(documentPick(main, d)))
	}
	if total, _ := list.Pagination["total"].(int64); int64(page*pickerPageSize) < total {
		ans.More = "page=" + strconv.Itoa(page+1)
	}
	return sendPicker(c, ans)
}

// mediaScanLimit bounds the files one media picker search reads through
// to find matches.
const mediaScanLimit = 1000

// pickMedia answers GET /admin/media?picker=1&types=&q=&offset=, the
// search of a media picker: files of the allowed kinds (images, videos,
// audios, files; every kind when types is empty) whose name contains q,
// newest first, as JSON. It reads the library from offset in pages and
// filters them, so More carries the offset to go on from. The name is
// matched by the list's query; kinds, which may be several, are kept
// here, so one search reads at most mediaScanLimit files.
func (p *Panel) pickMedia(c *fiber.Ctx) error {
	kinds := map[string]bool{}
	for _, k := range strings.Split(c.Query("types"), ",") {
		if k = strings.TrimSpace(k); k != "" {
			kinds[k] = true
		}
	}
	name := strings.ToLower(strings.TrimSpace(c.Query("q")))
	offset, _ := strconv.Atoi(c.Query("offset"))
	offset = max(offset, 0)

	var ans pickerAnswer
	scanned, done := 0, false
	for !done && scanned < mediaScanLimit && len(ans.Data) < mediaPickerPageSize {
		l := media.List{Offset: offset, Limit: 100}
		if name != "" {
			l.Filters = []media.Filter{{Field: "name", Op: "$containsi", Value: name}}
		}
		files, total, err := p.media.List(c.UserContext(), l)
		if err != nil {
			return err
		}
		for i, f := range files {
			if len(ans.Data) == mediaPickerPageSize {
				files = files[:i]
				break
			}
			if len(kinds) == 0 || kinds[content.MediaKind(f.Mime)] {
				ans.Data = append(ans.Data, itemOf(mediaPick(f)))
			}
		}
		offset += len(files)
		scanned += len(files)
		done = len(files) == 0 || int64(offset) >= total
	}
	if !done {
		ans.More = "offset=" + strconv.Itoa(offset)
	}
	return sendPicker(c, ans)
}
