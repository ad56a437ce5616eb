package panel

import (
	"bytes"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/herald-cms/herald/admin"
	"github.com/herald-cms/herald/admin/views"
	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/webhooks"
)

// logPageSize is how many deliveries a log page shows.
const logPageSize = 25

// localLayout is the value format of a datetime-local input.
const localLayout = "2006-01-02T15:04"

var deliveryStatuses = []string{
	webhooks.StatusPending, webhooks.StatusSucceeded, webhooks.StatusFailed,
}

// Deliveries answers GET /admin/settings/webhooks/:id/deliveries?status=
// &event=&page=: the webhook's deliveries, newest first. While one on the
// page is pending, the page's script refreshes the table.
func (p *Panel) Deliveries(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	w, err := p.webhooks.Webhook(ctx, id)
	if err != nil {
		return err
	}
	f := webhooks.DeliveryFilter{Status: c.Query("status"), Event: c.Query("event")}
	if !slices.Contains(deliveryStatuses, f.Status) {
		f.Status = ""
	}
	page := queryInt(c, "page", 1)

	rows, total, err := p.webhooks.Deliveries(ctx, id, f,
		webhooks.Page{Page: page, PageSize: logPageSize, WithCount: true})
	if err != nil {
		return err
	}
	l := views.DeliveryLog{
		Page:      p.frame(c, "Delivery log · "+w.Name, "webhooks"),
		Hook:      w,
		Status:    f.Status,
		Event:     f.Event,
		Events:    append(subscribable(), webhooks.EventTriggerTest),
		Rows:      rows,
		CanManage: can(c, admin.PermWebhooksManage),
		Since:     p.now().UTC().Add(-24 * time.Hour).Format(localLayout),
	}
	for _, d := range rows {
		if d.Status == webhooks.StatusPending {
			l.Pending = true
		}
	}
	l.Pager = logPager(hookURL(id)+"/deliveries", f, page, total)
	return p.render(c, fiber.StatusOK, views.DeliveryLogPage(l))
}

func logPager(base string, f webhooks.DeliveryFilter, page int, total int64) views.Pager {
	pages := int((total + logPageSize - 1) / logPageSize)
	pg := views.Pager{Page: page, PageCount: pages, Total: total}
	link := func(n int) string {
		v := url.Values{}
		if f.Status != "" {
			v.Set("status", f.Status)
		}
		if f.Event != "" {
			v.Set("event", f.Event)
		}
		v.Set("page", strconv.Itoa(n))
		return base + "?" + v.Encode()
	}
	if page > 1 {
		pg.Prev = link(page - 1)
	}
	if page < pages {
		pg.Next = link(page + 1)
	}
	return pg
}

// Delivery answers GET /admin/settings/deliveries/:id: the payload and
// every attempt.
func (p *Panel) Delivery(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	d, err := p.webhooks.Delivery(ctx, id)
	if err != nil {
		return err
	}
	w, err := p.webhooks.Webhook(ctx, d.WebhookID)
	if err != nil {
		return err
	}
	// Bodies are cut so that a delivery of a large entry still makes a
	// light page; the whole payload stays available from the admin API.
	attempts := slices.Clone(d.Attempts)
	for i := range attempts {
		attempts[i].ResponseBody = shown(attempts[i].ResponseBody, maxResponseShown)
	}
	d.Attempts = attempts
	pg := views.DeliveryPage{
		Page:      p.frame(c, d.Event+" delivery", "webhooks"),
		Hook:      w,
		Delivery:  d,
		Payload:   shown(prettyJSON(d.Payload), maxPayloadShown),
		CanManage: can(c, admin.PermWebhooksManage),
	}
	return p.render(c, fiber.StatusOK, views.DeliveryDetailPage(pg))
}

// How much of a payload and of each response body a delivery page shows.
const (
	maxPayloadShown  = 48 << 10
	maxResponseShown = 4 << 10
)

// shown cuts text to at most n bytes, saying how much was left out.
func shown(text string, n int) string {
	if len(text) <= n {
		return text
	}
	cut := truncate(text, n)
	return cut + "\n\n(" + strconv.Itoa(len(text)-len(cut)+len("…")) + " more bytes not shown)"
}

// prettyJSON indents JSON for reading; anything else is shown as it is.
func prettyJSON(raw []byte) string {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return string(raw)
	}
	return buf.String()
}

// Redeliver answers POST /admin/settings/deliveries/:id/retry: it sends the
// delivery again and shows it. A delivery in flight is a message, not an
// error page.
func (p *Panel) Redeliver(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	_, err = p.webhooks.RetryDelivery(c.UserContext(), id)
	if content.IsCode(err, content.ECONFLICT) {
		_, msg := errorStatus(err)
		setFlash(c, "error", msg)
		return redirect(c, "/admin/settings/deliveries/"+strconv.FormatInt(id, 10))
	}
	if err != nil {
		return err
	}
	setFlash(c, "ok", "Redelivery queued: it is sent with the same webhook-id.")
	return redirect(c, "/admin/settings/deliveries/"+strconv.FormatInt(id, 10))
}

// Recover answers POST /admin/settings/webhooks/:id/recover {since}: every
// failed delivery created since then is sent again. since is a
// datetime-local value in UTC.
func (p *Panel) Recover(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	text := strings.TrimSpace(c.FormValue("since"))
	if len(text) > len(localLayout) {
		text = text[:len(localLayout)] // seconds, when the browser sends them
	}
	since, err := time.Parse(localLayout, text)
	if err != nil {
		setFlash(c, "error", "Enter the date and time to recover from.")
		return redirect(c, hookURL(id)+"/deliveries")
	}

	n, err := p.webhooks.Recover(c.UserContext(), id, since)
	if err != nil {
		return err
	}
	setFlash(c, "ok", "Requeued "+strconv.FormatInt(n, 10)+" failed deliveries since "+
		views.When(since)+".")
	return redirect(c, hookURL(id)+"/deliveries")
}
