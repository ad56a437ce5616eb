package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-cms/herald/admin"
	"github.com/herald-cms/herald/web/webtest"
	"github.com/herald-cms/herald/webhooks"
)

// hookReceiver is a webhook endpoint that records what it is sent and answers
// with status.
type hookReceiver struct {
	*httptest.Server
	mu     sync.Mutex
	status int
	ids    []string
	events []string
}

func newHookReceiver(t testing.TB, status int) *hookReceiver {
	t.Helper()
	r := &hookReceiver{status: status}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.ids = append(r.ids, req.Header.Get("webhook-id"))
		r.events = append(r.events, req.Header.Get("X-Strapi-Event"))
		status := r.status
		r.mu.Unlock()
		w.WriteHeader(status)
		w.Write([]byte("received"))
	}))
	t.Cleanup(r.Close)
	return r
}

// received returns the webhook-id of each request of an event.
func (r *hookReceiver) received(event string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for i, ev := range r.events {
		if ev == event {
			out = append(out, r.ids[i])
		}
	}
	return out
}

// eventually polls a page until it contains every string, or fails.
func (b *panelBrowser) eventually(path string, wants ...string) *panelPage {
	b.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		p := b.get(path)
		ok := p.status == 200
		for _, w := range wants {
			ok = ok && p.has(w)
		}
		if ok {
			return p
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s never showed %q: %s", path, wants, panelExcerpt(p.body))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var panelSecret = regexp.MustCompile(`id="secret" value="(whsec_[^"]+)"`)

func panelHookForm(name, target string, events ...string) url.Values {
	return url.Values{
		"op": {"save"}, "name": {name}, "url": {target}, "enabled": {"true"},
		"header-count": {"1"}, "h0.key": {"X-Team"}, "h0.value": {"docs"},
		"events": events, "scope": {"chosen"}, "contentTypes": {"api::article.article"},
	}
}

func TestPanelWebhooksDeliverAndLog(t *testing.T) {
	s := webtest.Start(t, webtest.Options{})
	b := panelRegister(t, s)
	b.get("/admin/content-type-builder/new").must(t, 200, "")
	b.post("/admin/content-type-builder", panelArticleType()).must(t, 303, "")
	rcv := newHookReceiver(t, http.StatusOK)

	if p := b.get("/admin/settings/webhooks").must(t, 200, ""); !p.has("No webhooks yet.") {
		t.Fatalf("empty list: %s", panelExcerpt(p.body))
	}
	p := b.get("/admin/settings/webhooks/new").must(t, 200, "")
	if !p.has(`value="entry.publish" checked`) || p.has(`value="media.create" checked`) {
		t.Errorf("a new webhook does not start with the entry events: %s", panelExcerpt(p.body))
	}
	more := panelHookForm("Rebuild", rcv.URL, "entry.publish")
	more.Set("op", "add-header")
	if p := b.post("/admin/settings/webhooks", more).must(t, 200, ""); !p.has(`name="h1.key"`) ||
		!p.has(`value="X-Team"`) {
		t.Errorf("add a header row: %s", panelExcerpt(p.body))
	}
	bad := panelHookForm("Rebuild", "ftp://example.com/hook", "entry.publish")
	if p := b.post("/admin/settings/webhooks", bad).must(t, 422, ""); !p.has(`id="url-error"`) {
		t.Errorf("a bad URL is not shown beside its field: %s", panelExcerpt(p.body))
	}
	none := panelHookForm("Rebuild", rcv.URL, "entry.publish")
	none.Del("contentTypes")
	b.post("/admin/settings/webhooks", none).must(t, 422, "")

	created := b.post("/admin/settings/webhooks", panelHookForm("Rebuild", rcv.URL, "entry.publish")).
		must(t, 303, "/admin/settings/webhooks/")
	hook := created.location
	p = b.get(hook).must(t, 200, "")
	m := panelSecret.FindStringSubmatch(p.body)
	if m == nil || !p.has("badge-enabled") || !p.has(`data-copy="secret"`) {
		t.Fatalf("webhook page: %s", panelExcerpt(p.body))
	}
	b.post(hook+"/rotate-secret", nil).must(t, 303, hook)
	if p := b.get(hook); strings.Contains(p.body, m[1]) || panelSecret.FindString(p.body) == "" {
		t.Errorf("rotating kept the secret or lost it")
	}

	b.post(hook+"/trigger", nil).must(t, 303, hook)
	if p := b.get(hook); !p.has("Test event sent. Result: HTTP 200 — received") {
		t.Errorf("test result is not shown: %s", panelExcerpt(p.body))
	}

	id := panelCreateEntry(t, b, url.Values{"f.title": {"Hooked"}}, "publish")
	_ = id
	log := b.eventually(hook+"/deliveries?event=entry.publish", "badge-succeeded", ">200<")
	if log.has("trigger-test</a>") {
		t.Errorf("event filter shows other events: %s", panelExcerpt(log.body))
	}
	if p := b.get(hook + "/deliveries?status=failed"); !p.has("No deliveries.") {
		t.Errorf("status filter: %s", panelExcerpt(p.body))
	}
	if p := b.get("/admin/settings/webhooks"); !p.has("badge-succeeded") {
		t.Errorf("list lacks the latest outcome: %s", panelExcerpt(p.body))
	}

	delivery := regexp.MustCompile(`href="(/admin/settings/deliveries/\d+)">entry.publish`).
		FindStringSubmatch(log.body)
	if delivery == nil {
		t.Fatalf("no delivery link in %s", panelExcerpt(log.body))
	}
	p = b.get(delivery[1]).must(t, 200, "")
	for _, want := range []string{`&#34;event&#34;: &#34;entry.publish&#34;`, "Attempt 1", "HTTP 200",
		"X-Team", "received", "Redeliver"} {
		if !p.has(want) {
			t.Errorf("delivery page lacks %s", want)
		}
	}
	b.post(delivery[1]+"/retry", nil).must(t, 303, delivery[1])
	b.eventually(delivery[1], "Attempt 2", "badge-succeeded")
	ids := rcv.received("entry.publish")
	if len(ids) != 2 || ids[0] != ids[1] {
		t.Errorf("redelivery webhook-ids %q: want the same id twice", ids)
	}

	off := panelHookForm("Rebuild", rcv.URL, "entry.publish")
	off.Del("enabled")
	b.post(hook, off).must(t, 303, hook)
	if p := b.get(hook); !p.has("badge-disabled") || !p.has("Disabled by ada@example.com") {
		t.Errorf("disabled webhook: %s", panelExcerpt(p.body))
	}
	b.post(hook+"/delete", nil).must(t, 303, "/admin/settings/webhooks")
	b.get(hook).must(t, 404, "")
}

func TestPanelFailingReceiverShowsRetriesAndRecovers(t *testing.T) {
	s := webtest.Start(t, webtest.Options{Webhooks: webhooks.Config{
		RetrySchedule: []time.Duration{20 * time.Millisecond, 20 * time.Millisecond},
		Jitter:        func() float64 { return 0 },
	}})
	b := panelRegister(t, s)
	b.get("/admin/content-type-builder/new").must(t, 200, "")
	b.post("/admin/content-type-builder", panelArticleType()).must(t, 303, "")
	rcv := newHookReceiver(t, http.StatusInternalServerError)
	b.get("/admin/settings/webhooks/new").must(t, 200, "")
	hook := b.post("/admin/settings/webhooks", panelHookForm("Search", rcv.URL, "entry.create")).
		must(t, 303, "").location

	panelCreateEntry(t, b, url.Values{"f.title": {"Doomed"}}, "save")
	log := b.eventually(hook+"/deliveries", "badge-failed", "<td>3</td>", "<td>500</td>")
	if log.has(`data-pending="true"`) {
		t.Errorf("a finished log still refreshes itself")
	}

	rcv.mu.Lock()
	rcv.status = http.StatusOK
	rcv.mu.Unlock()
	since := time.Now().UTC().Add(-time.Hour).Format("2006-01-02T15:04")
	b.post(hook+"/recover", url.Values{"since": {since}}).must(t, 303, hook+"/deliveries")
	if p := b.get(hook + "/deliveries"); !p.has("Requeued 1 failed deliveries") {
		t.Errorf("recover: %s", panelExcerpt(p.body))
	}
	b.eventually(hook+"/deliveries", "badge-succeeded", "<td>4</td>")
}

func TestPanelRolesDecideWhatIsShown(t *testing.T) {
	s := webtest.Start(t, webtest.Options{})
	super := panelRegister(t, s)
	super.get("/admin/content-type-builder/new").must(t, 200, "")
	super.post("/admin/content-type-builder", panelArticleType()).must(t, 303, "")
	panelCreateEntry(t, super, url.Values{"f.title": {"By the admin"}}, "publish")
	for _, u := range []struct{ email, role string }{
		{"ed@example.com", admin.RoleEditor}, {"au@example.com", admin.RoleAuthor},
	} {
		_, err := s.Admin.CreateAdmin(context.Background(), admin.RegisterInput{
			Firstname: "U", Email: u.email, Password: "a long password"}, u.role)
		if err != nil {
			t.Fatal(err)
		}
	}

	editor := panelSignIn(t, s, "ed@example.com", "a long password")
	home := editor.get("/admin/content-manager").must(t, 200, "")
	if home.has("/admin/settings/webhooks") || home.has("/admin/content-type-builder\"") {
		t.Errorf("an editor sees settings in the navigation")
	}
	for _, path := range []string{"/admin/settings/webhooks", "/admin/content-type-builder",
		"/admin/content-type-builder/new"} {
		if p := editor.get(path).must(t, 403, ""); !p.has("Not allowed") {
			t.Errorf("%s as an editor: %s", path, panelExcerpt(p.body))
		}
	}
	editor.post("/admin/settings/webhooks", panelHookForm("x", "http://127.0.0.1:1/", "entry.create")).
		must(t, 403, "")
	if p := editor.get(articlesPage + "/create"); !p.has(`value="publish"`) {
		t.Errorf("an editor cannot publish")
	}

	author := panelSignIn(t, s, "au@example.com", "a long password")
	if p := author.get(articlesPage).must(t, 200, ""); p.has("By the admin") {
		t.Errorf("an author sees someone else's entry")
	}
	form := author.get(articlesPage+"/create").must(t, 200, "")
	if form.has(`value="publish"`) {
		t.Errorf("an author is offered Publish")
	}
	author.post(articlesPage, url.Values{"f.title": {"Mine"}, "action": {"publish"}}).must(t, 403, "")
	id := panelCreateEntry(t, author, url.Values{"f.title": {"Mine"}}, "save")
	if p := author.get(articlesPage + "/" + id); p.has(`value="publish"`) || p.has("Unpublish") {
		t.Errorf("an author's entry offers publishing")
	}
	author.post(articlesPage+"/"+id, url.Values{"f.title": {"Mine"}, "action": {"publish"}}).
		must(t, 403, "")
	if p := author.get(articlesPage); !p.has(">Mine<") || p.has("By the admin") {
		t.Errorf("an author's list: %s", panelExcerpt(p.body))
	}
}
