package web_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/herald-cms/herald/admin"
	"github.com/herald-cms/herald/web/webtest"
)

// panelSettings starts Herald with the article type and a signed-in Super
// Admin.
func panelSettings(t *testing.T) (*webtest.Server, *panelBrowser) {
	t.Helper()
	s := webtest.Start(t, webtest.Options{})
	b := panelRegister(t, s)
	b.get("/admin/content-type-builder/new").must(t, 200, "")
	b.post("/admin/content-type-builder", panelArticleType()).must(t, 303, "")
	return s, b
}

func TestPanelManagesUsers(t *testing.T) {
	s, b := panelSettings(t)

	p := b.get("/admin/settings/users/new").must(t, 200, "")
	editorRole := regexp.MustCompile(`<option value="(\d+)"[^>]*>Editor</option>`).
		FindStringSubmatch(p.body)
	if editorRole == nil {
		t.Fatalf("no Editor role to choose: %s", panelExcerpt(p.body))
	}
	bad := b.post("/admin/settings/users", url.Values{"firstname": {"Ed"}, "email": {"nope"},
		"password": {"a long password"}, "role": {editorRole[1]}}).must(t, 422, "")
	if !bad.has(`id="email-error"`) {
		t.Errorf("a bad email is not shown beside its field: %s", panelExcerpt(bad.body))
	}
	created := b.post("/admin/settings/users", url.Values{"firstname": {"Ed"}, "lastname": {"Itor"},
		"email": {"ed@example.com"}, "password": {"a long password"}, "role": {editorRole[1]}}).
		must(t, 303, "/admin/settings/users/")
	if p := b.get("/admin/settings/users"); !p.has("ed@example.com") || !p.has("Editor") {
		t.Errorf("users list: %s", panelExcerpt(p.body))
	}

	ed := panelSignIn(t, s, "ed@example.com", "a long password")
	b.get(created.location).must(t, 200, "")
	b.post(created.location, url.Values{"firstname": {"Ed"}, "lastname": {"Itor"},
		"email": {"ed@example.com"}, "role": {editorRole[1]}}).must(t, 303, created.location)
	if p := b.get(created.location); p.has(`name="active" value="true" checked`) {
		t.Errorf("the deactivated user shows as active: %s", panelExcerpt(p.body))
	}
	ed.get("/admin/content-manager").must(t, 303, "/admin/auth/sign-in")
	again := newPanelBrowser(t, s)
	again.get("/admin/auth/sign-in").must(t, 200, "")
	again.post("/admin/auth/sign-in", url.Values{"email": {"ed@example.com"},
		"password": {"a long password"}}).must(t, 401, "")

	b.post(created.location+"/delete", nil).must(t, 303, "/admin/settings/users")
	b.get(created.location).must(t, 404, "")
}

func TestPanelManagesRolesWithAGrid(t *testing.T) {
	s, b := panelSettings(t)

	b.get("/admin/settings/roles/new").must(t, 200, "")
	created := b.post("/admin/settings/roles", url.Values{
		"name": {"Reviewer"}, "description": {"Reads everything"},
		"c:content.read:*":                      {"true"},
		"c:content.update:api::article.article": {"true"},
		"own:api::article.article":              {"true"},
		"s:webhooks.read":                       {"true"},
	}).must(t, 303, "/admin/settings/roles/")
	p := b.get(created.location).must(t, 200, "")
	for _, want := range []string{
		`id="c:content.read:*" name="c:content.read:*" value="true" ` +
			`aria-label="Read All content types" checked`,
		`name="own:api::article.article" value="true" aria-label="Own entries only: Article" checked`,
		`name="s:webhooks.read" value="true" checked`,
	} {
		if !p.has(want) {
			t.Errorf("role page lacks %s", want)
		}
	}
	roles, err := s.Admin.ListRoles(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, r := range roles {
		if r.Name != "Reviewer" {
			continue
		}
		found = true
		for _, perm := range r.Permissions {
			if perm.Action == admin.PermContentUpdate && (!perm.OwnOnly || perm.Subject == nil) {
				t.Errorf("update permission %+v: want own entries of articles", perm)
			}
		}
	}
	if !found {
		t.Fatal("the role was not created")
	}

	superPage := b.get("/admin/settings/roles/1").must(t, 200, "")
	if !superPage.has("cannot change") || superPage.has("Save role") {
		t.Errorf("the Super Admin role is editable: %s", panelExcerpt(superPage.body))
	}
	b.post(created.location+"/delete", nil).must(t, 303, "/admin/settings/roles")
}

var panelKey = regexp.MustCompile(`id="key" value="([0-9a-f]+)"`)

func TestPanelManagesAPITokens(t *testing.T) {
	s, b := panelSettings(t)
	b.get("/admin/settings/api-tokens/new").must(t, 200, "")
	p := b.post("/admin/settings/api-tokens", url.Values{
		"name": {"Site"}, "type": {"custom"}, "duration": {"7"},
		"perm": {"api::article.article.find"},
	}).must(t, 200, "")
	m := panelKey.FindStringSubmatch(p.body)
	if m == nil || !p.has(`data-copy="key"`) {
		t.Fatalf("the new key is not shown: %s", panelExcerpt(p.body))
	}
	key := m[1]
	s.Must(200, "GET", "/api/articles", nil, key)
	s.Must(403, "POST", "/api/articles", `{"data":{"title":"x"}}`, key)

	list := b.get("/admin/settings/api-tokens").must(t, 200, "")
	if !list.has(">Site<") || list.has(key) {
		t.Errorf("token list: %s", panelExcerpt(list.body))
	}
	link := regexp.MustCompile(`href="(/admin/settings/api-tokens/\d+)">Site<`).
		FindStringSubmatch(list.body)
	if link == nil {
		t.Fatal("no link to the token")
	}
	b.get(link[1]).must(t, 200, "")
	b.post(link[1], url.Values{"name": {"Site"}, "type": {"custom"},
		"perm": {"api::article.article.find", "api::article.article.create"}}).must(t, 303, link[1])
	s.Must(400, "POST", "/api/articles", `{"data":{}}`, key) // allowed now: the title is missing

	b.get(link[1]).must(t, 200, "")
	p = b.post(link[1]+"/regenerate", nil).must(t, 200, "")
	fresh := panelKey.FindStringSubmatch(p.body)
	if fresh == nil || fresh[1] == key {
		t.Fatalf("regenerating showed no new key: %s", panelExcerpt(p.body))
	}
	s.Must(401, "GET", "/api/articles", nil, key)
	s.Must(200, "GET", "/api/articles", nil, fresh[1])

	b.post(link[1]+"/delete", nil).must(t, 303, "/admin/settings/api-tokens")
	s.Must(401, "GET", "/api/articles", nil, fresh[1])
}

func TestPanelGrantsThePublicRole(t *testing.T) {
	s, b := panelSettings(t)
	s.Must(403, "GET", "/api/articles", nil, "")
	p := b.get("/admin/settings/public").must(t, 200, "")
	if !p.has(`value="api::article.article.findOne"`) {
		t.Fatalf("public page: %s", panelExcerpt(p.body))
	}
	b.post("/admin/settings/public/public", url.Values{"perm": {"api::article.article.find"}}).
		must(t, 303, "/admin/settings/public")
	s.Must(200, "GET", "/api/articles", nil, "")
	p = b.get("/admin/settings/public")
	if !p.has(`value="api::article.article.find" aria-label="find Article" checked`) {
		t.Errorf("the grant is not shown: %s", panelExcerpt(p.body))
	}
	bad := b.post("/admin/settings/public/public", url.Values{"perm": {"api::article.article.delete"}}).
		must(t, 422, "")
	if !bad.has("Not saved") {
		t.Errorf("a refused grant: %s", panelExcerpt(bad.body))
	}
	b.post("/admin/settings/public/authenticated",
		url.Values{"perm": {"api::article.article.create"}}).must(t, 303, "/admin/settings/public")
}

var (
	panelFieldTag = regexp.MustCompile(`<(input|select|textarea)\b[^>]*>`)
	panelIDAttr   = regexp.MustCompile(`\bid="([^"]+)"`)
	panelTypeAttr = regexp.MustCompile(`\btype="(hidden|submit|button)"`)
)

// TestPanelPagesAreLightAndLabelled visits every kind of page with data in
// it: each is HTML well under 100 KB, and each field has a label.
func TestPanelPagesAreLightAndLabelled(t *testing.T) {
	s, b := panelSettings(t)
	rcv := newHookReceiver(t, 200)
	for i := 0; i < 25; i++ {
		panelCreateEntry(t, b, panelEntry("Entry "+panelItoa(i)), "publish")
	}
	b.get("/admin/settings/webhooks/new").must(t, 200, "")
	hook := b.post("/admin/settings/webhooks", panelHookForm("Rebuild", rcv.URL, "entry.create")).
		must(t, 303, "").location
	id := panelCreateEntry(t, b, panelEntry("Last"), "save")
	b.eventually(hook+"/deliveries", "badge-succeeded")
	_ = s

	for _, path := range []string{
		"/admin/content-manager", articlesPage, articlesPage + "/create", articlesPage + "/" + id,
		"/admin/content-type-builder", "/admin/content-type-builder/api::article.article",
		"/admin/content-type-builder/import", "/admin/settings/webhooks", hook,
		hook + "/deliveries", "/admin/settings/deliveries/1", "/admin/settings/users",
		"/admin/settings/users/1", "/admin/settings/roles", "/admin/settings/roles/2",
		"/admin/settings/api-tokens", "/admin/settings/api-tokens/new", "/admin/settings/public",
	} {
		p := b.get(path).must(t, 200, "")
		if ct := p.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("%s is %s", path, ct)
		}
		if len(p.body) > 100<<10 {
			t.Errorf("%s weighs %d bytes", path, len(p.body))
		}
		for _, tag := range panelFieldTag.FindAllString(p.body, -1) {
			if panelTypeAttr.MatchString(tag) || strings.Contains(tag, "aria-label=") {
				continue
			}
			m := panelIDAttr.FindStringSubmatch(tag)
			if m == nil || !strings.Contains(p.body, `for="`+m[1]+`"`) {
				t.Errorf("%s: %s has no label", path, tag)
			}
		}
	}
}
