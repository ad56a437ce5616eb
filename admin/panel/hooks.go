package panel

import (
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/herald-cms/herald/admin"
	"github.com/herald-cms/herald/admin/views"
	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/webhooks"
)

// maxHeaderRows bounds the header rows one webhook form may post.
const maxHeaderRows = 50

// subscribable are the events a webhook may choose, in the panel's order.
func subscribable() []string {
	return append(slices.Clone(content.EntryEvents), content.MediaEvents...)
}

func hookURL(id int64) string { return "/admin/settings/webhooks/" + strconv.FormatInt(id, 10) }

// Webhooks answers GET /admin/settings/webhooks: every webhook with its
// state and its latest delivery.
func (p *Panel) Webhooks(c *fiber.Ctx) error {
	ctx := c.UserContext()
	hooks, err := p.webhooks.Webhooks(ctx)
	if err != nil {
		return err
	}
	l := views.WebhookList{
		Page:      p.frame(c, "Webhooks", "webhooks"),
		CanManage: can(c, admin.PermWebhooksManage),
	}
	latest := webhooks.Page{Page: 1, PageSize: 1}
	for _, w := range hooks {
		row := views.WebhookRow{Hook: w}
		ds, _, err := p.webhooks.Deliveries(ctx, w.ID, webhooks.DeliveryFilter{}, latest)
		if err != nil {
			return err
		}
		if len(ds) > 0 {
			row.Latest = &ds[0]
		}
		l.Rows = append(l.Rows, row)
	}
	return p.render(c, fiber.StatusOK, views.WebhookListPage(l))
}

// NewWebhook answers GET /admin/settings/webhooks/new: the form, with the
// entry events chosen and every content type.
func (p *Panel) NewWebhook(c *fiber.Ctx) error {
	f := views.WebhookForm{
		Headers:  []views.Header{{}},
		Events:   map[string]bool{},
		AllTypes: true,
		Enabled:  true,
	}
	for _, ev := range content.EntryEvents {
		f.Events[ev] = true
	}
	return p.renderWebhook(c, fiber.StatusOK, f)
}

// Webhook answers GET /admin/settings/webhooks/:id: the webhook's form,
// secret and test button.
func (p *Panel) Webhook(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	w, err := p.webhooks.Webhook(c.UserContext(), id)
	if err != nil {
		return err
	}
	return p.renderWebhook(c, fiber.StatusOK, webhookForm(w))
}

func (p *Panel) renderWebhook(c *fiber.Ctx, status int, f views.WebhookForm) error {
	title := "New webhook"
	if f.Hook != nil {
		title = f.Hook.Name
	}
	f.Page = p.frame(c, title, "webhooks")
	f.AllEvents = subscribable()
	f.CanManage = can(c, admin.PermWebhooksManage)
	for _, t := range p.content.Types() {
		f.Types = append(f.Types, typeRef(t))
	}
	if f.Errors == nil {
		f.Errors = views.Errors{}
	}
	return p.render(c, status, views.WebhookFormPage(f))
}

// webhookForm shows a stored webhook in the form.
func webhookForm(w *webhooks.Webhook) views.WebhookForm {
	f := views.WebhookForm{
		Hook: w, Name: w.Name, URL: w.URL, Events: map[string]bool{},
		AllTypes: len(w.ContentTypes) == 0, ContentTypes: map[string]bool{},
		Enabled: w.IsEnabled(),
	}
	keys := make([]string, 0, len(w.Headers))
	for k := range w.Headers {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		f.Headers = append(f.Headers, views.Header{Key: k, Value: w.Headers[k]})
	}
	f.Headers = append(f.Headers, views.Header{})
	for _, ev := range w.Events {
		f.Events[ev] = true
	}
	for _, uid := range w.ContentTypes {
		f.ContentTypes[uid] = true
	}
	return f
}

// parseWebhookForm reads the form back, and the input it asks for.
func parseWebhookForm(form url.Values) (views.WebhookForm, webhooks.WebhookInput) {
	f := views.WebhookForm{
		Name:         strings.TrimSpace(form.Get("name")),
		URL:          strings.TrimSpace(form.Get("url")),
		Events:       map[string]bool{},
		AllTypes:     form.Get("scope") != "chosen",
		ContentTypes: map[string]bool{},
		Enabled:      checked(form, "enabled"),
	}
	headers := map[string]string{}
	n, _ := strconv.Atoi(form.Get("header-count"))
	for i := 0; i < min(n, maxHeaderRows); i++ {
		k := strings.TrimSpace(form.Get("h" + strconv.Itoa(i) + ".key"))
		v := form.Get("h" + strconv.Itoa(i) + ".value")
		f.Headers = append(f.Headers, views.Header{Key: k, Value: v})
		if k != "" {
			headers[k] = v
		}
	}
	events := []string{}
	for _, ev := range form["events"] {
		f.Events[ev] = true
		events = append(events, ev)
	}
	types := []string{}
	if !f.AllTypes {
		for _, uid := range form["contentTypes"] {
			f.ContentTypes[uid] = true
			types = append(types, uid)
		}
	}
	in := webhooks.WebhookInput{
		Name: &f.Name, URL: &f.URL, Headers: &headers, Events: &events,
		ContentTypes: &types, IsEnabled: &f.Enabled,
	}
	return f, in
}

// SaveWebhook answers POST /admin/settings/webhooks and POST
// /admin/settings/webhooks/:id. op "add-header" adds a header row without
// saving; anything else creates or updates the webhook and opens it.
func (p *Panel) SaveWebhook(c *fiber.Ctx) error {
	ctx := c.UserContext()
	var stored *webhooks.Webhook
	if c.Params("id") != "" {
		id, err := idParam(c, "id")
		if err != nil {
			return err
		}
		if stored, err = p.webhooks.Webhook(ctx, id); err != nil {
			return err
		}
	}
	form := formValues(c)
	f, in := parseWebhookForm(form)
	f.Hook = stored
	if form.Get("op") == "add-header" {
		f.Headers = append(f.Headers, views.Header{})
		return p.renderWebhook(c, fiber.StatusOK, f)
	}
	if !f.AllTypes && len(*in.ContentTypes) == 0 {
		f.Errors = views.Errors{"contentTypes": "Choose at least one content type, or all of them."}
		f.FormError = "Not saved: please correct the fields below."
		return p.renderWebhook(c, fiber.StatusUnprocessableEntity, f)
	}

	var w *webhooks.Webhook
	var err error
	if stored == nil {
		w, err = p.webhooks.CreateWebhook(ctx, in)
	} else {
		w, err = p.webhooks.UpdateWebhook(ctx, stored.ID, in)
	}
	if content.IsCode(err, content.EINVALID) {
		f.Errors, f.FormError = fieldErrors(err), invalidMessage(err)
		return p.renderWebhook(c, fiber.StatusUnprocessableEntity, f)
	}
	if err != nil {
		return err
	}
	setFlash(c, "ok", "Webhook "+w.Name+" saved.")
	return redirect(c, hookURL(w.ID))
}

// WebhookAction answers POST /admin/settings/webhooks/:id/<name> for the
// actions trigger (send a test event and show the answer), rotate-secret
// and delete.
func (p *Panel) WebhookAction(name string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := idParam(c, "id")
		if err != nil {
			return err
		}
		ctx := c.UserContext()
		switch name {
		case "trigger":
			res, err := p.webhooks.TriggerTest(ctx, id)
			if err != nil {
				return err
			}
			kind := "ok"
			if res.StatusCode < 200 || res.StatusCode > 299 {
				kind = "error"
			}
			setFlash(c, kind, views.TestResultMessage(res))
		case "rotate-secret":
			if _, err := p.webhooks.RotateSecret(ctx, id); err != nil {
				return err
			}
			setFlash(c, "ok", "New secret made. The old one keeps signing beside it for 24 hours.")
		case "delete":
			w, err := p.webhooks.DeleteWebhook(ctx, id)
			if err != nil {
				return err
			}
			setFlash(c, "ok", "Webhook "+w.Name+" deleted.")
			return redirect(c, "/admin/settings/webhooks")
		default:
			return content.Errorf(content.ENOTFOUND, "Not Found")
		}
		return redirect(c, hookURL(id))
	}
}
