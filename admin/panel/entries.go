package panel

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/herald-cms/herald/admin/views"
	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/content/schema"
)

// listPageSize is how many entries a list page shows.
const listPageSize = 20

// Dashboard answers GET /admin/content-manager: the content types the
// administrator may read.
func (p *Panel) Dashboard(c *fiber.Ctx) error {
	pg := p.frame(c, "Content manager", "content")
	d := views.Dashboard{Page: pg, Types: pg.Nav.Types, CanBuild: pg.Nav.Builder}
	return p.render(c, fiber.StatusOK, views.DashboardPage(d))
}

// managerType resolves the :uid of a content manager route.
func (p *Panel) managerType(c *fiber.Ctx) (*content.Type, error) {
	return p.content.TypeByUID(param(c, "uid"))
}

// managerURL is the content manager's page of a type.
func managerURL(t *content.Type) string { return "/admin/content-manager/" + t.UID }

// entryURL is the edit page of a document; a single type's is the type's.
func entryURL(t *content.Type, documentID string) string {
	if t.IsSingle() {
		return managerURL(t)
	}
	return managerURL(t) + "/" + documentID
}

// listQuery is what a list page asks for.
type listQuery struct {
	q      string
	status string
	sort   string
	page   int
}

// Entries answers GET /admin/content-manager/:uid?q=&status=&sort=&page=:
// a page of a collection type's entries with their publication state, or
// a single type's form. With picker=1 it answers the search of a relation
// picker instead, as JSON (see pickEntries).
func (p *Panel) Entries(c *fiber.Ctx) error {
	t, err := p.managerType(c)
	if err != nil {
		return err
	}
	if c.Query("picker") != "" {
		return p.pickEntries(c, t)
	}
	if t.IsSingle() {
		return p.singleForm(c, t)
	}
	cols := listColumns(t)
	lq := listQuery{
		q:      strings.TrimSpace(c.Query("q")),
		status: c.Query("status"),
		sort:   sortParam(c.Query("sort"), cols),
		page:   queryInt(c, "page", 1),
	}
	if !t.DraftAndPublish() {
		lq.status = ""
	}

	rows, total, err := p.listEntries(c, t, lq)
	if content.IsCode(err, content.EINVALID) || content.IsCode(err, content.EPAGINATION) {
		l := p.entryList(c, t, cols, lq, nil, 0)
		_, l.Error = errorStatus(err)
		return p.render(c, fiber.StatusBadRequest, views.EntryListPage(l))
	}
	if err != nil {
		return err
	}
	l := p.entryList(c, t, cols, lq, rows, total)
	return p.render(c, fiber.StatusOK, views.EntryListPage(l))
}

// listedEntry is a document of a list with its publication state.
type listedEntry struct {
	doc   map[string]any
	state string
}

// listEntries finds the page of entries lq asks for. The content service
// pages the list, filtered by publication state when lq has one (an
// unknown state is EINVALID); without one, one more query reads the
// page's published versions to tell each entry's state.
func (p *Panel) listEntries(c *fiber.Ctx, t *content.Type,
	lq listQuery) ([]listedEntry, int64, error) {
	ctx, a := c.UserContext(), actor(c)
	q := baseQuery(lq)
	q.Set("pagination[page]", strconv.Itoa(lq.page))
	q.Set("pagination[pageSize]", strconv.Itoa(listPageSize))
	list, err := p.content.Find(ctx, a, t, q.Encode(),
		content.ReadOptions{Admin: true, State: lq.status})
	if err != nil {
		return nil, 0, err
	}
	docs, err := decodeDocs(list.Data)
	if err != nil {
		return nil, 0, err
	}
	total, _ := list.Pagination["total"].(int64)

	out := make([]listedEntry, len(docs))
	var versions map[string]version
	if lq.status != "" {
		for i, d := range docs {
			out[i] = listedEntry{doc: d, state: lq.status}
		}
		return out, total, nil
	}
	if t.DraftAndPublish() && len(docs) > 0 {
		ids := make([]string, len(docs))
		for i, d := range docs {
			ids[i] = str(d["documentId"])
		}
		if versions, err = p.publishedVersions(c, t, ids); err != nil {
			return nil, 0, err
		}
	}
	for i, d := range docs {
		out[i] = listedEntry{doc: d, state: stateOf(d, versions)}
	}
	return out, total, nil
}

// baseQuery is the content API query of a list's search and sort.
func baseQuery(lq listQuery) url.Values {
	q := url.Values{}
	if lq.q != "" {
		q.Set("_q", lq.q)
	}
	q.Set("sort", lq.sort)
	return q
}

// entryList assembles the list page.
func (p *Panel) entryList(c *fiber.Ctx, t *content.Type, cols []string, lq listQuery,
	rows []listedEntry, total int64) views.EntryList {
	ref := typeRef(t)
	l := views.EntryList{
		Page:      p.frame(c, ref.Name, "type:"+t.UID),
		Type:      ref,
		Query:     lq.q,
		Status:    lq.status,
		Sort:      lq.sort,
		CanCreate: actor(c).Can(c.UserContext(), content.ActionCreate, t.UID).Allowed,
	}
	link := func(mod func(q url.Values)) string {
		v := url.Values{}
		if lq.q != "" {
			v.Set("q", lq.q)
		}
		if lq.status != "" {
			v.Set("status", lq.status)
		}
		v.Set("sort", lq.sort)
		mod(v)
		return managerURL(t) + "?" + v.Encode()
	}
	for _, name := range append(cols, "updatedAt") {
		col := views.Column{Label: columnLabel(t, name)}
		dir := "asc"
		switch lq.sort {
		case name + ":asc":
			col.Sorted, dir = "ascending", "desc"
		case name + ":desc":
			col.Sorted = "descending"
		}
		col.SortURL = link(func(v url.Values) { v.Set("sort", name+":"+dir); v.Del("page") })
		l.Columns = append(l.Columns, col)
	}
	for _, r := range rows {
		id := str(r.doc["documentId"])
		row := views.EntryRow{DocumentID: id, URL: entryURL(t, id), Status: r.state}
		for _, name := range cols {
			row.Cells = append(row.Cells, cellText(t.Schema.Attributes.Get(name), r.doc[name]))
		}
		if len(cols) == 0 {
			row.Cells = append(row.Cells, id)
		}
		row.Cells = append(row.Cells, cellText(nil, r.doc["updatedAt"]))
		l.Rows = append(l.Rows, row)
	}
	pages := int((total + listPageSize - 1) / listPageSize)
	l.Pager = views.Pager{Page: lq.page, PageCount: pages, Total: total}
	if lq.page > 1 {
		l.Pager.Prev = link(func(v url.Values) { v.Set("page", strconv.Itoa(lq.page-1)) })
	}
	if lq.page < pages {
		l.Pager.Next = link(func(v url.Values) { v.Set("page", strconv.Itoa(lq.page+1)) })
	}
	return l
}

// listColumns picks up to three attributes a list shows beside the date:
// short values, text types first, in schema order.
func listColumns(t *content.Type) []string {
	var first, rest []string
	for _, a := range t.Schema.Attributes {
		switch a.Type {
		case schema.TypeText, schema.TypeRichText, schema.TypeJSON:
			continue
		case schema.TypeString, schema.TypeUID, schema.TypeEmail:
			first = append(first, a.Name)
		default:
			rest = append(rest, a.Name)
		}
	}
	cols := append(first, rest...)
	if len(cols) > 3 {
		cols = cols[:3]
	}
	return cols
}

func columnLabel(t *content.Type, name string) string {
	switch name {
	case "updatedAt":
		return "Last saved"
	case "createdAt":
		return "Created"
	}
	return name
}

// sortParam keeps a sort on a listed column or timestamp, ascending or
// descending; anything else is the newest first.
func sortParam(s string, cols []string) string {
	name, dir, ok := strings.Cut(s, ":")
	if !ok || (dir != "asc" && dir != "desc") {
		return "updatedAt:desc"
	}
	if name == "updatedAt" || name == "createdAt" {
		return s
	}
	for _, c := range cols {
		if c == name {
			return s
		}
	}
	return "updatedAt:desc"
}

// cellText shows a value in a list cell.
func cellText(a *schema.Attribute, v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case bool:
		if x {
			return "Yes"
		}
		return "No"
	case string:
		if a == nil || a.Type == schema.TypeDateTime {
			if t, err := schema.ParseDateTime(x); err == nil {
				return views.When(t)
			}
		}
		return truncate(x, 80)
	case json.Number:
		return x.String()
	}
	b, _ := json.Marshal(v)
	return truncate(string(b), 80)
}

// decodeDocs decodes documents as the content service renders them.
func decodeDocs(raw []json.RawMessage) ([]map[string]any, error) {
	out := make([]map[string]any, 0, len(raw))
	for _, r := range raw {
		d, err := decodeDoc(r)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func decodeDoc(raw json.RawMessage) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var d map[string]any
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("decode document: %w", err)
	}
	return d, nil
}

// str returns a string value, or "".
func str(v any) string {
	s, _ := v.(string)
	return s
}

// Preview answers POST /admin/content-manager/preview {text}: the Markdown
// rendered as an HTML fragment, for the editor's preview.
func (p *Panel) Preview(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.SendString(views.RenderMarkdown(c.FormValue("text")))
}
