package panel

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/herald-cms/herald/admin/views"
	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/content/schema"
)

// maxAttributeRows bounds the attribute rows one builder form may post.
const maxAttributeRows = 200

// Types answers GET /admin/content-type-builder: every content type.
func (p *Panel) Types(c *fiber.Ctx) error {
	l := views.TypeList{Page: p.frame(c, "Content-type builder", "builder")}
	for _, t := range p.content.Types() {
		l.Types = append(l.Types, views.TypeSummary{
			TypeRef: typeRef(t), Attributes: len(t.Schema.Attributes),
		})
	}
	return p.render(c, fiber.StatusOK, views.TypeListPage(l))
}

// NewType answers GET /admin/content-type-builder/new: an empty form with
// one attribute row.
func (p *Panel) NewType(c *fiber.Ctx) error {
	f := views.TypeForm{
		Kind:            schema.KindCollection,
		DraftAndPublish: true,
		Attributes:      []views.AttributeRow{{Type: schema.TypeString}},
	}
	return p.renderType(c, fiber.StatusOK, f)
}

// EditType answers GET /admin/content-type-builder/:uid.
func (p *Panel) EditType(c *fiber.Ctx) error {
	t, err := p.content.TypeByUID(param(c, "uid"))
	if err != nil {
		return err
	}
	return p.renderType(c, fiber.StatusOK, typeForm(t))
}

func (p *Panel) renderType(c *fiber.Ctx, status int, f views.TypeForm) error {
	title := "New content type"
	if f.UID != "" {
		title = f.DisplayName
	}
	f.Page = p.frame(c, title, "builder")
	for _, t := range p.content.Types() {
		f.Targets = append(f.Targets, typeRef(t))
	}
	if f.Errors == nil {
		f.Errors = views.Errors{}
	}
	return p.render(c, status, views.TypeFormPage(f))
}

// SaveType answers POST /admin/content-type-builder and POST
// /admin/content-type-builder/:uid. The op field says what to do: "add"
// adds an attribute row, "remove:<n>" removes row n, and "save" (the
// default) creates or updates the type. Rows change without saving, so
// the form works without JavaScript.
func (p *Panel) SaveType(c *fiber.Ctx) error {
	uid := param(c, "uid")
	if uid != "" {
		if _, err := p.content.TypeByUID(uid); err != nil {
			return err
		}
	}
	form := formValues(c)
	f := parseTypeForm(form)
	f.UID = uid

	op := form.Get("op")
	switch {
	case op == "add":
		f.Attributes = append(f.Attributes, views.AttributeRow{Type: schema.TypeString})
		return p.renderType(c, fiber.StatusOK, f)
	case strings.HasPrefix(op, "remove:"):
		i, err := strconv.Atoi(strings.TrimPrefix(op, "remove:"))
		if err == nil && i >= 0 && i < len(f.Attributes) {
			f.Attributes = append(f.Attributes[:i], f.Attributes[i+1:]...)
		}
		return p.renderType(c, fiber.StatusOK, f)
	}

	sc, errs := schemaOf(f)
	if len(errs) > 0 {
		f.Errors, f.FormError = errs, "Not saved: please correct the fields below."
		return p.renderType(c, fiber.StatusUnprocessableEntity, f)
	}
	var t *content.Type
	var err error
	if uid == "" {
		t, err = p.content.CreateType(c.UserContext(), sc)
	} else {
		t, err = p.content.UpdateType(c.UserContext(), uid, sc)
	}
	if content.IsCode(err, content.EINVALID) || content.IsCode(err, content.ECONFLICT) {
		f.Errors, f.FormError = fieldErrors(err), invalidMessage(err)
		return p.renderType(c, fiber.StatusUnprocessableEntity, f)
	}
	if err != nil {
		return err
	}
	setFlash(c, "ok", "Content type "+t.Schema.Info.DisplayName+" saved. Its API is "+
		apiPath(t)+".")
	return redirect(c, "/admin/content-type-builder/"+t.UID)
}

// apiPath is where the content API serves a type.
func apiPath(t *content.Type) string {
	if t.IsSingle() {
		return "/api/" + t.Schema.Info.SingularName
	}
	return "/api/" + t.Schema.Info.PluralName
}

// DeleteType answers POST /admin/content-type-builder/:uid/delete
// {deleteEntries}: it deletes the type, and its entries when asked.
func (p *Panel) DeleteType(c *fiber.Ctx) error {
	uid := param(c, "uid")
	_, err := p.content.DeleteType(c.UserContext(), uid, c.FormValue("deleteEntries") == "true")
	if content.IsCode(err, content.ECONFLICT) {
		_, msg := errorStatus(err)
		setFlash(c, "error", msg)
		return redirect(c, "/admin/content-type-builder/"+uid)
	}
	if err != nil {
		return err
	}
	setFlash(c, "ok", "Content type "+uid+" deleted.")
	return redirect(c, "/admin/content-type-builder")
}

// ImportPage answers GET /admin/content-type-builder/import.
func (p *Panel) ImportPage(c *fiber.Ctx) error {
	f := views.ImportForm{Page: p.frame(c, "Import a schema.json", "builder")}
	return p.render(c, fiber.StatusOK, views.ImportPage(f))
}

// maxSchemaBytes bounds an imported schema file.
const maxSchemaBytes = 1 << 20

// Import answers POST /admin/content-type-builder/import, a multipart form
// with the schema pasted (schema) or uploaded (file). The document may be
// wrapped as {"schema": ...} or {"contentType": ...}, as the admin API
// accepts it. Problems are listed on the form.
func (p *Panel) Import(c *fiber.Ctx) error {
	text := c.FormValue("schema")
	if fh, err := c.FormFile("file"); err == nil && fh.Size > 0 {
		if fh.Size > maxSchemaBytes {
			return content.Errorf(content.ETOOLARGE, "The schema file is larger than 1 MiB")
		}
		f, err := fh.Open()
		if err != nil {
			return fmt.Errorf("open uploaded schema: %w", err)
		}
		b, err := io.ReadAll(io.LimitReader(f, maxSchemaBytes))
		f.Close()
		if err != nil {
			return fmt.Errorf("read uploaded schema: %w", err)
		}
		text = string(b)
	}

	sc, err := schema.Parse(unwrapSchema([]byte(text)))
	var t *content.Type
	if err == nil {
		t, err = p.content.CreateType(c.UserContext(), sc)
	}
	if err != nil {
		msgs := problems(err)
		if msgs == nil {
			return err
		}
		f := views.ImportForm{Page: p.frame(c, "Import a schema.json", "builder"),
			Schema: text, Errors: msgs}
		return p.render(c, fiber.StatusUnprocessableEntity, views.ImportPage(f))
	}
	setFlash(c, "ok", "Imported "+t.Schema.Info.DisplayName+". Its API is "+apiPath(t)+".")
	return redirect(c, "/admin/content-type-builder/"+t.UID)
}

// unwrapSchema takes the schema out of {"schema": ...} or
// {"contentType": ...}.
func unwrapSchema(raw []byte) []byte {
	var probe map[string]json.RawMessage
	if json.Unmarshal(raw, &probe) != nil || len(probe) != 1 {
		return raw
	}
	for _, key := range []string{"schema", "contentType"} {
		if inner, ok := probe[key]; ok {
			return inner
		}
	}
	return raw
}

// problems lists what is wrong with a schema: the messages of the schema
// package's errors or of a validation error. It returns nil for any other
// error, which is not the user's to fix.
func problems(err error) []string {
	var errs schema.Errors
	if errors.As(err, &errs) {
		out := make([]string, len(errs))
		for i, e := range errs {
			out[i] = e.Message
		}
		return out
	}
	if !content.IsCode(err, content.EINVALID) && !content.IsCode(err, content.ECONFLICT) {
		return nil
	}
	details := validationDetails(err)
	if len(details) == 0 {
		_, msg := errorStatus(err)
		return []string{msg}
	}
	out := make([]string, len(details))
	for i, d := range details {
		out[i] = d.Message
	}
	return out
}

// typeForm shows a stored type in the builder's form.
func typeForm(t *content.Type) views.TypeForm {
	sc := t.Schema
	f := views.TypeForm{
		UID:             t.UID,
		Kind:            sc.Kind,
		SingularName:    sc.Info.SingularName,
		PluralName:      sc.Info.PluralName,
		DisplayName:     sc.Info.DisplayName,
		Description:     sc.Info.Description,
		CollectionName:  sc.CollectionName,
		DraftAndPublish: sc.Options.DraftAndPublish,
	}
	for _, a := range sc.Attributes {
		row := views.AttributeRow{
			Name: a.Name, Type: a.Type, Required: a.Required, Unique: a.Unique,
			Private: a.Private, Regex: a.Regex, TargetField: a.TargetField,
			Enum: strings.Join(a.Enum, "\n"), Relation: a.Relation, Target: a.Target,
			InversedBy: a.InversedBy, MappedBy: a.MappedBy, Multiple: a.Multiple,
			AllowedTypes: a.AllowedTypes,
		}
		if a.MinLength != nil {
			row.MinLength = strconv.Itoa(*a.MinLength)
		}
		if a.MaxLength != nil {
			row.MaxLength = strconv.Itoa(*a.MaxLength)
		}
		if a.Min != nil {
			row.Min = a.Min.String()
		}
		if a.Max != nil {
			row.Max = a.Max.String()
		}
		if len(a.Default) > 0 {
			row.Default = defaultText(a)
		}
		f.Attributes = append(f.Attributes, row)
	}
	return f
}

// defaultText shows a default as typed: strings bare, anything else as
// JSON.
func defaultText(a *schema.Attribute) string {
	var s string
	if a.Type != schema.TypeJSON && json.Unmarshal(a.Default, &s) == nil {
		return s
	}
	return string(a.Default)
}

// parseTypeForm reads the builder's form back into its rows.
func parseTypeForm(form url.Values) views.TypeForm {
	f := views.TypeForm{
		Kind:            form.Get("kind"),
		SingularName:    strings.TrimSpace(form.Get("singularName")),
		PluralName:      strings.TrimSpace(form.Get("pluralName")),
		DisplayName:     strings.TrimSpace(form.Get("displayName")),
		Description:     strings.TrimSpace(form.Get("description")),
		CollectionName:  strings.TrimSpace(form.Get("collectionName")),
		DraftAndPublish: checked(form, "draftAndPublish"),
	}
	n, _ := strconv.Atoi(form.Get("attr-count"))
	for i := 0; i < min(n, maxAttributeRows); i++ {
		prefix := "a" + strconv.Itoa(i) + "."
		get := func(field string) string {
			return strings.TrimSpace(form.Get(prefix + field))
		}
		f.Attributes = append(f.Attributes, views.AttributeRow{
			Name: get("name"), Type: get("type"),
			Required: get("required") == "true", Unique: get("unique") == "true",
			Private: get("private") == "true", Default: get("default"),
			MinLength: get("minLength"), MaxLength: get("maxLength"),
			Min: get("min"), Max: get("max"), Regex: get("regex"),
			Enum: get("enum"), TargetField: get("targetField"),
			Relation: get("relation"), Target: get("target"),
			InversedBy: get("inversedBy"), MappedBy: get("mappedBy"),
			Multiple: get("multiple") == "true", AllowedTypes: form[prefix+"allowedTypes"],
		})
	}
	return f
}

// schemaOf builds the schema the form describes. Options that only some
// types take are dropped for the others, since the form shows them all
// when scripts are off. Text that cannot be an option's value is a field
// error; everything else is the content service's to validate.
func schemaOf(f views.TypeForm) (*schema.Schema, views.Errors) {
	sc := &schema.Schema{
		Kind:           f.Kind,
		CollectionName: f.CollectionName,
		Info: schema.Info{SingularName: f.SingularName, PluralName: f.PluralName,
			DisplayName: f.DisplayName, Description: f.Description},
		Options: schema.Options{DraftAndPublish: f.DraftAndPublish},
	}
	errs := views.Errors{}
	for _, row := range f.Attributes {
		a := &schema.Attribute{
			Name: row.Name, Type: row.Type, Required: row.Required, Private: row.Private,
		}
		key := "attributes." + row.Name + "."
		if takes(row.Type, lengthTypes) {
			a.MinLength = intOption(row.MinLength, key+"minLength", errs)
			a.MaxLength = intOption(row.MaxLength, key+"maxLength", errs)
			a.Regex = row.Regex
		}
		if takes(row.Type, numericTypes) {
			a.Min = numberOption(row.Min, key+"min", errs)
			a.Max = numberOption(row.Max, key+"max", errs)
		}
		link := row.Type == schema.TypeRelation || row.Type == schema.TypeMedia
		if row.Type != schema.TypeJSON && row.Type != schema.TypeBoolean && !link {
			a.Unique = row.Unique
		}
		switch row.Type {
		case schema.TypeRelation:
			a.Relation, a.Target = row.Relation, row.Target
			if a.Target == "self" {
				a.Target = "api::" + f.SingularName + "." + f.SingularName
			}
			a.InversedBy, a.MappedBy = row.InversedBy, row.MappedBy
		case schema.TypeMedia:
			a.Multiple = row.Multiple
			for _, k := range row.AllowedTypes {
				if k = strings.TrimSpace(k); k != "" {
					a.AllowedTypes = append(a.AllowedTypes, k)
				}
			}
		}
		if row.Type == schema.TypeEnumeration {
			for _, v := range strings.Split(row.Enum, "\n") {
				if v = strings.TrimSpace(v); v != "" {
					a.Enum = append(a.Enum, v)
				}
			}
		}
		if row.Type == schema.TypeUID {
			a.TargetField = row.TargetField
		}
		if !link {
			a.Default = defaultOption(row, key+"default", errs)
		}
		sc.Attributes = append(sc.Attributes, a)
	}
	return sc, errs
}

// The attribute types that take length and pattern options, and bounds.
var (
	lengthTypes = []string{schema.TypeString, schema.TypeText, schema.TypeRichText,
		schema.TypeEmail, schema.TypeUID}
	numericTypes = []string{schema.TypeInteger, schema.TypeBigInteger, schema.TypeFloat,
		schema.TypeDecimal}
)

func takes(typ string, types []string) bool {
	for _, t := range types {
		if t == typ {
			return true
		}
	}
	return false
}

func intOption(text, key string, errs views.Errors) *int {
	if text == "" {
		return nil
	}
	n, err := strconv.Atoi(text)
	if err != nil {
		errs[key] = "Enter a whole number."
		return nil
	}
	return &n
}

func numberOption(text, key string, errs views.Errors) *json.Number {
	if text == "" {
		return nil
	}
	if !jsonNumber.MatchString(text) {
		errs[key] = "Enter a number."
		return nil
	}
	n := json.Number(text)
	return &n
}

// defaultOption turns a typed default into JSON: numbers and booleans as
// themselves, JSON attributes' text as JSON, anything else as a string.
func defaultOption(row views.AttributeRow, key string, errs views.Errors) json.RawMessage {
	text := row.Default
	if text == "" {
		return nil
	}
	switch {
	case row.Type == schema.TypeJSON:
		if !json.Valid([]byte(text)) {
			errs[key] = "Enter a JSON value, such as {\"a\": 1} or \"text\"."
			return nil
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, []byte(text)); err != nil {
			errs[key] = "Enter a JSON value."
			return nil
		}
		return buf.Bytes()
	case takes(row.Type, numericTypes) && row.Type != schema.TypeBigInteger &&
		jsonNumber.MatchString(text):
		return json.RawMessage(text)
	case row.Type == schema.TypeBoolean:
		if text != "true" && text != "false" {
			errs[key] = "Enter true or false."
			return nil
		}
		return json.RawMessage(text)
	}
	b, _ := json.Marshal(text)
	return b
}
