package panel

import (
	"bytes"
	"encoding/json"
	"net/url"
	"regexp"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/herald-cms/herald/admin/views"
	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/content/schema"
)

// entryState is what an entry form shows besides its fields.
type entryState struct {
	documentID string
	doc        map[string]any
	state      string
	// publishedAt is when the published version was published, or "".
	publishedAt string
}

// NewEntry answers GET /admin/content-manager/:uid/create: an empty form
// with the attributes' defaults.
func (p *Panel) NewEntry(c *fiber.Ctx) error {
	t, err := p.managerType(c)
	if err != nil {
		return err
	}
	if t.IsSingle() {
		return redirect(c, managerURL(t))
	}
	if !actor(c).Can(c.UserContext(), content.ActionCreate, t.UID).Allowed {
		return content.Errorf(content.EFORBIDDEN, "Forbidden")
	}
	return p.renderEntry(c, fiber.StatusOK, t, entryState{}, defaultValues(t), nil, "")
}

// entryValues are what the fields of an entry form show: each attribute's
// text and, for relation and media attributes, the chosen targets.
type entryValues struct {
	text  map[string]string
	picks map[string][]views.Pick
}

// singleForm shows a single type's document, or an empty form before its
// first save.
func (p *Panel) singleForm(c *fiber.Ctx, t *content.Type) error {
	id, err := p.content.SingleDocumentID(c.UserContext(), t)
	if content.IsCode(err, content.ENOTFOUND) {
		return p.renderEntry(c, fiber.StatusOK, t, entryState{}, defaultValues(t), nil, "")
	}
	if err != nil {
		return err
	}
	return p.showEntry(c, t, id)
}

// EditEntry answers GET /admin/content-manager/:uid/:documentId: the form
// of the document's draft (its only version without draft and publish).
func (p *Panel) EditEntry(c *fiber.Ctx) error {
	t, err := p.managerType(c)
	if err != nil {
		return err
	}
	return p.showEntry(c, t, param(c, "documentId"))
}

func (p *Panel) showEntry(c *fiber.Ctx, t *content.Type, documentID string) error {
	st, err := p.loadEntry(c, t, documentID)
	if err != nil {
		return err
	}
	return p.renderEntry(c, fiber.StatusOK, t, st, p.storedValues(t, st.doc), nil, "")
}

// loadEntry reads a document's draft, with its relations and media, and
// its publication state.
func (p *Panel) loadEntry(c *fiber.Ctx, t *content.Type, documentID string) (entryState, error) {
	raw, err := p.content.FindOne(c.UserContext(), actor(c), t, documentID, "populate=*",
		content.ReadOptions{Admin: true})
	if err != nil {
		return entryState{}, err
	}
	doc, err := decodeDoc(raw)
	if err != nil {
		return entryState{}, err
	}
	st := entryState{documentID: documentID, doc: doc, state: statePublished}
	if !t.DraftAndPublish() {
		st.publishedAt = str(doc["publishedAt"])
		return st, nil
	}
	versions, err := p.publishedVersions(c, t, []string{documentID})
	if err != nil {
		return entryState{}, err
	}
	st.state = stateOf(doc, versions)
	st.publishedAt = versions[documentID].publishedAt
	return st, nil
}

// renderEntry renders the entry form with the given field values and
// errors.
func (p *Panel) renderEntry(c *fiber.Ctx, status int, t *content.Type, st entryState,
	values entryValues, errs views.Errors, formErr string) error {
	ref := typeRef(t)
	title := "New " + ref.Name
	if st.documentID != "" || t.IsSingle() {
		title = ref.Name
	}
	ctx, a := c.UserContext(), actor(c)
	f := views.EntryForm{
		Page:       p.frame(c, title, "type:"+t.UID),
		Type:       ref,
		DocumentID: st.documentID,
		Status:     st.state,
		Action:     managerURL(t),
		CanPublish: a.Can(ctx, content.ActionPublish, t.UID).Allowed,
		CanDelete:  a.Can(ctx, content.ActionDelete, t.UID).Allowed,
		FormError:  formErr,
		PreviewURL: "/admin/content-manager/preview",
	}
	if st.documentID != "" {
		f.Base = managerURL(t) + "/" + st.documentID
		f.Action = entryURL(t, st.documentID)
		if t.IsSingle() {
			f.Action = managerURL(t)
		}
		f.CreatedAt = cellText(nil, st.doc["createdAt"])
		f.UpdatedAt = cellText(nil, st.doc["updatedAt"])
		f.PublishedAt = cellText(nil, st.publishedAt)
	}
	for _, attr := range t.Schema.Attributes {
		fl := views.EntryField{
			Attr: attr, Value: values.text[attr.Name], Error: errs.Under(attr.Name),
		}
		if attr.IsLink() {
			fl.Picks, fl.Picker = values.picks[attr.Name], p.pickerOf(c, attr)
		} else {
			fl.Error = errs.Of(attr.Name)
		}
		f.Fields = append(f.Fields, fl)
	}
	return p.render(c, status, views.EntryFormPage(f))
}

// CreateEntry answers POST /admin/content-manager/:uid {f.<attribute>...,
// action}: it creates a document, published when action is "publish", and
// opens it. A single type that has its document already is updated.
func (p *Panel) CreateEntry(c *fiber.Ctx) error {
	t, err := p.managerType(c)
	if err != nil {
		return err
	}
	form := formValues(c)
	input, raw, errs := parseEntryForm(t, form)
	publish := form.Get("action") == "publish"
	existing := ""
	if t.IsSingle() {
		existing, err = p.content.SingleDocumentID(c.UserContext(), t)
		if err != nil && !content.IsCode(err, content.ENOTFOUND) {
			return err
		}
	}
	if existing != "" {
		return p.saveEntry(c, t, existing, input, raw, errs, publish)
	}
	if len(errs) > 0 {
		return p.renderEntry(c, fiber.StatusUnprocessableEntity, t, entryState{},
			p.postedValues(c, t, raw, input), errs, "Not saved: please correct the fields below.")
	}

	opts := content.WriteOptions{Publish: publish, Private: true}
	doc, err := p.content.Create(c.UserContext(), actor(c), t, input, opts)
	if content.IsCode(err, content.EINVALID) {
		return p.renderEntry(c, fiber.StatusUnprocessableEntity, t, entryState{},
			p.postedValues(c, t, raw, input), fieldErrors(err), invalidMessage(err))
	}
	if err != nil {
		return err
	}
	d, err := decodeDoc(doc)
	if err != nil {
		return err
	}
	setFlash(c, "ok", savedMessage(t, publish))
	return redirect(c, entryURL(t, str(d["documentId"])))
}

// UpdateEntry answers POST /admin/content-manager/:uid/:documentId
// {f.<attribute>..., action}: it saves the draft and, when action is
// "publish", publishes it.
func (p *Panel) UpdateEntry(c *fiber.Ctx) error {
	t, err := p.managerType(c)
	if err != nil {
		return err
	}
	form := formValues(c)
	input, raw, errs := parseEntryForm(t, form)
	return p.saveEntry(c, t, param(c, "documentId"), input, raw, errs,
		form.Get("action") == "publish")
}

func (p *Panel) saveEntry(c *fiber.Ctx, t *content.Type, documentID string,
	input map[string]any, raw map[string]string, errs views.Errors, publish bool) error {
	if len(errs) > 0 {
		st, err := p.loadEntry(c, t, documentID)
		if err != nil {
			return err
		}
		return p.renderEntry(c, fiber.StatusUnprocessableEntity, t, st,
			p.postedValues(c, t, raw, input), errs, "Not saved: please correct the fields below.")
	}

	opts := content.WriteOptions{Publish: publish, Private: true}
	_, err := p.content.Update(c.UserContext(), actor(c), t, documentID, input, opts)
	if content.IsCode(err, content.EINVALID) {
		st, lerr := p.loadEntry(c, t, documentID)
		if lerr != nil {
			return lerr
		}
		return p.renderEntry(c, fiber.StatusUnprocessableEntity, t, st,
			p.postedValues(c, t, raw, input), fieldErrors(err), invalidMessage(err))
	}
	if err != nil {
		return err
	}
	setFlash(c, "ok", savedMessage(t, publish))
	return redirect(c, entryURL(t, documentID))
}

func savedMessage(t *content.Type, publish bool) string {
	switch {
	case !t.DraftAndPublish():
		return "Saved."
	case publish:
		return "Published."
	}
	return "Draft saved."
}

// EntryAction answers POST /admin/content-manager/:uid/:documentId/<name>
// for the actions unpublish, discard and delete, then returns to the entry
// (or, after a delete, to the list). A refusal shows as a message.
func (p *Panel) EntryAction(name string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		t, err := p.managerType(c)
		if err != nil {
			return err
		}
		ctx, a, id := c.UserContext(), actor(c), param(c, "documentId")
		opts := content.WriteOptions{Private: true}
		var msg string
		switch name {
		case "unpublish":
			_, err = p.content.Unpublish(ctx, a, t, id, opts)
			msg = "Unpublished: the entry is a draft again."
		case "discard":
			_, err = p.content.DiscardDraft(ctx, a, t, id, opts)
			msg = "Changes discarded: the draft is the published version again."
		case "delete":
			err = p.content.Delete(ctx, a, t, id)
			msg = "Entry deleted."
		default:
			return content.Errorf(content.ENOTFOUND, "Not Found")
		}
		if content.IsCode(err, content.EINVALID) {
			_, m := errorStatus(err)
			setFlash(c, "error", m)
			return redirect(c, entryURL(t, id))
		}
		if err != nil {
			return err
		}
		setFlash(c, "ok", msg)
		if name == "delete" {
			return redirect(c, managerURL(t))
		}
		return redirect(c, entryURL(t, id))
	}
}

// parseEntryForm turns the posted fields into the write's input, keeping
// the raw text of each field to show the form again. Values the form can
// check itself (JSON that does not parse) are field errors; the rest is
// the content service's to validate. Relation and media fields post ids,
// possibly several values of the field (see linkValue).
func parseEntryForm(t *content.Type,
	form url.Values) (map[string]any, map[string]string, views.Errors) {
	input := map[string]any{}
	raw := map[string]string{}
	errs := views.Errors{}
	for _, a := range t.Schema.Attributes {
		key := "f." + a.Name
		if _, ok := form[key]; !ok {
			continue
		}
		if a.IsLink() {
			v, msg := linkValue(a, form[key])
			if !a.IsMany() {
				raw[a.Name] = strings.Join(splitIDs(form[key]), ", ")
			}
			if msg != "" {
				errs[a.Name] = msg
				continue
			}
			input[a.Name] = v
			continue
		}
		text := last(form, key)
		raw[a.Name] = text
		v, msg := formValue(a, text)
		if msg != "" {
			errs[a.Name] = msg
			continue
		}
		input[a.Name] = v
	}
	return input, raw, errs
}

// jsonNumber is the syntax of a JSON number.
var jsonNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// formValue converts a field's text to the value written: empty text
// clears the attribute (null), numbers travel as JSON numbers, a datetime
// typed in UTC gets its zone, JSON is decoded. A non-empty message says the
// text cannot be a value at all.
func formValue(a *schema.Attribute, text string) (any, string) {
	if a.Type == schema.TypeBoolean {
		return text == "true", ""
	}
	if strings.TrimSpace(text) == "" && a.Type != schema.TypeJSON {
		return nil, ""
	}
	switch a.Type {
	case schema.TypeInteger, schema.TypeBigInteger, schema.TypeFloat, schema.TypeDecimal:
		s := strings.TrimSpace(text)
		if jsonNumber.MatchString(s) {
			return json.Number(s), ""
		}
		return s, ""
	case schema.TypeDateTime:
		s := strings.TrimSpace(text)
		if len(s) == len("2006-01-02T15:04") {
			s += ":00"
		}
		if !strings.HasSuffix(s, "Z") && !strings.ContainsAny(s[min(len(s), 19):], "+-") {
			s += "Z"
		}
		return s, ""
	case schema.TypeJSON:
		if strings.TrimSpace(text) == "" {
			return nil, ""
		}
		dec := json.NewDecoder(strings.NewReader(text))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, "This is not valid JSON: " + err.Error()
		}
		if _, err := dec.Token(); err == nil {
			return nil, "This is not valid JSON: there is more after the first value"
		}
		return v, ""
	}
	return text, ""
}

// defaultValues are a new entry's fields: each attribute's default.
func defaultValues(t *content.Type) entryValues {
	return entryValues{text: defaultTexts(t)}
}

// storedValues are the fields showing a stored document read with
// populate=*.
func (p *Panel) storedValues(t *content.Type, doc map[string]any) entryValues {
	v := entryValues{text: formValuesOf(t, doc), picks: p.picksOf(t, doc)}
	for _, a := range t.Schema.Attributes {
		if a.IsLink() && !a.IsMany() && len(v.picks[a.Name]) == 1 {
			v.text[a.Name] = v.picks[a.Name][0].ID
		}
	}
	return v
}

// postedValues are the fields showing a posted form again: its texts and
// the targets it chose.
func (p *Panel) postedValues(c *fiber.Ctx, t *content.Type, raw map[string]string,
	input map[string]any) entryValues {
	return entryValues{text: raw, picks: p.postedPicks(c, t, input)}
}

// defaultTexts are the texts of the attributes' defaults.
func defaultTexts(t *content.Type) map[string]string {
	out := map[string]string{}
	for _, a := range t.Schema.Attributes {
		if len(a.Default) == 0 {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(a.Default))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) == nil {
			out[a.Name] = fieldText(a, v)
		}
	}
	return out
}

// formValuesOf are the fields showing a stored document.
func formValuesOf(t *content.Type, doc map[string]any) map[string]string {
	out := map[string]string{}
	for _, a := range t.Schema.Attributes {
		if v, ok := doc[a.Name]; ok && v != nil && !a.IsLink() {
			out[a.Name] = fieldText(a, v)
		}
	}
	return out
}

// fieldText is the text of a value in its input: times in the inputs'
// formats (datetimes in UTC), JSON indented, the rest as it is.
func fieldText(a *schema.Attribute, v any) string {
	switch a.Type {
	case schema.TypeJSON:
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return ""
		}
		return string(b)
	case schema.TypeDateTime:
		if t, err := schema.ParseDateTime(str(v)); err == nil {
			return t.UTC().Format("2006-01-02T15:04:05")
		}
	case schema.TypeTime:
		if s := str(v); len(s) >= 8 {
			return s[:8]
		}
	case schema.TypeBoolean:
		if b, ok := v.(bool); ok && b {
			return "true"
		}
		return "false"
	}
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	}
	b, _ := json.Marshal(v)
	return string(b)
}
