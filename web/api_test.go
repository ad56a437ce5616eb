package web_test

import (
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/herald-cms/herald/web/webtest"
)

const articleSchema = `{
  "kind": "collectionType",
  "collectionName": "articles",
  "info": {"singularName": "article", "pluralName": "articles", "displayName": "Article"},
  "options": {"draftAndPublish": true},
  "attributes": {
    "title":    {"type": "string", "required": true, "maxLength": 80},
    "slug":     {"type": "uid", "targetField": "title"},
    "body":     {"type": "richtext"},
    "views":    {"type": "integer", "default": 0},
    "code":     {"type": "string", "unique": true},
    "secret":   {"type": "string", "private": true},
    "category": {"type": "enumeration", "enum": ["news", "tech"]}
  }
}`

const homepageSchema = `{
  "kind": "singleType",
  "collectionName": "homepages",
  "info": {"singularName": "homepage", "pluralName": "homepages", "displayName": "Homepage"},
  "options": {"draftAndPublish": false},
  "attributes": {"headline": {"type": "string"}}
}`

// setup starts Herald with an administrator, the article type and a
// full-access and a read-only token.
func setup(t *testing.T) (s *webtest.Server, adminToken, full, readOnly string) {
	t.Helper()
	s = webtest.Start(t, webtest.Options{})
	adminToken = s.RegisterAdmin()
	s.CreateType(adminToken, articleSchema)
	full = s.CreateToken(adminToken, "full", "full-access")
	readOnly = s.CreateToken(adminToken, "reader", "read-only")
	return s, adminToken, full, readOnly
}

func dataOf(t *testing.T, r *webtest.Response) map[string]any {
	t.Helper()
	d, ok := r.Map(t)["data"].(map[string]any)
	if !ok {
		t.Fatalf("no data object in %s", r.Body)
	}
	return d
}

func listOf(t *testing.T, r *webtest.Response) []any {
	t.Helper()
	d, ok := r.Map(t)["data"].([]any)
	if !ok {
		t.Fatalf("no data list in %s", r.Body)
	}
	return d
}

func errorName(t *testing.T, r *webtest.Response) string {
	t.Helper()
	e, ok := r.Map(t)["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error object in %s", r.Body)
	}
	return fmt.Sprint(e["name"])
}

func TestHealthAndUnknownRoutes(t *testing.T) {
	s := webtest.Start(t, webtest.Options{})
	s.Must(204, "GET", "/_health", nil, "")
	r := s.Must(404, "GET", "/nope", nil, "")
	if errorName(t, r) != "NotFoundError" {
		t.Fatalf("unknown route: %s", r.Body)
	}
	if r.Map(t)["data"] != nil {
		t.Fatalf("error envelope must carry data null: %s", r.Body)
	}
	if got := r.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Fatalf("X-Content-Type-Options = %q", got)
	}
}

func TestFirstAdministratorRegistersOnce(t *testing.T) {
	s := webtest.Start(t, webtest.Options{})
	var wg sync.WaitGroup
	statuses := make(chan int, 6)
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := s.Do("POST", "/admin/register-admin", map[string]any{
				"firstname": "A", "lastname": "B", "email": fmt.Sprintf("a%d@example.com", i),
				"password": "long enough password",
			}, "")
			statuses <- r.Status
		}(i)
	}
	wg.Wait()
	close(statuses)
	created := 0
	for st := range statuses {
		switch st {
		case 201:
			created++
		case 403:
		default:
			t.Fatalf("unexpected status %d", st)
		}
	}
	if created != 1 {
		t.Fatalf("%d registrations succeeded, want exactly 1", created)
	}
	logins := 0
	for i := 0; i < 6; i++ {
		email := fmt.Sprintf("a%d@example.com", i)
		s.Must(401, "POST", "/admin/login", map[string]any{"email": email, "password": "wrong password!"}, "")
		r := s.Do("POST", "/admin/login", map[string]any{"email": email, "password": "long enough password"}, "")
		if r.Status == 200 {
			logins++
		}
	}
	if logins != 1 {
		t.Fatalf("%d administrators can sign in, want 1", logins)
	}
}

func TestAdminRoutesNeedAnAdministrator(t *testing.T) {
	s, _, full, _ := setup(t)
	for _, path := range []string{"/admin/content-types", "/admin/api-tokens",
		"/admin/content/api::article.article", "/admin/webhooks"} {
		if r := s.Do("GET", path, nil, ""); r.Status != 401 {
			t.Errorf("GET %s without token: %d, want 401", path, r.Status)
		}
		if r := s.Do("GET", path, nil, full); r.Status != 401 {
			t.Errorf("GET %s with an API token: %d, want 401", path, r.Status)
		}
	}
}

func TestContentTypeLifecycle(t *testing.T) {
	s := webtest.Start(t, webtest.Options{})
	admin := s.RegisterAdmin()
	r := s.Must(201, "POST", "/admin/content-types", articleSchema, admin)
	d := dataOf(t, r)
	if d["uid"] != "api::article.article" {
		t.Fatalf("uid = %v", d["uid"])
	}
	attrs := d["schema"].(map[string]any)["attributes"].(map[string]any)
	if attrs["title"].(map[string]any)["type"] != "string" {
		t.Fatalf("schema not echoed: %s", r.Body)
	}
	s.Must(409, "POST", "/admin/content-types", articleSchema, admin)

	list := listOf(t, s.Must(200, "GET", "/admin/content-types", nil, admin))
	if len(list) != 1 {
		t.Fatalf("%d types listed", len(list))
	}
	s.Must(200, "GET", "/admin/content-types/"+url.PathEscape("api::article.article"), nil, admin)
	s.Must(200, "GET", "/admin/content-types/api::article.article", nil, admin)
	s.Must(404, "GET", "/admin/content-types/api::nope.nope", nil, admin)

	key := s.CreateToken(admin, "k", "full-access")
	s.Must(201, "POST", "/api/articles", `{"data":{"title":"Kept","views":3}}`, key)

	// Changing the type keeps existing entries' data.
	changed := strings.Replace(articleSchema, `"category"`, `"summary": {"type": "text"}, "category"`, 1)
	s.Must(200, "PUT", "/admin/content-types/api::article.article", changed, admin)
	docs := listOf(t, s.Must(200, "GET", "/api/articles", nil, key))
	if len(docs) != 1 || docs[0].(map[string]any)["title"] != "Kept" {
		t.Fatalf("entries after update: %v", docs)
	}
	if _, ok := docs[0].(map[string]any)["summary"]; !ok {
		t.Fatalf("new attribute missing from documents: %v", docs[0])
	}

	r = s.Must(409, "DELETE", "/admin/content-types/api::article.article", nil, admin)
	if errorName(t, r) != "ConflictError" {
		t.Fatalf("delete with entries: %s", r.Body)
	}
	s.Must(200, "DELETE", "/admin/content-types/api::article.article?deleteEntries=true", nil, admin)
	s.Must(404, "GET", "/api/articles", nil, key)
}

func TestInvalidSchemasNameTheProblem(t *testing.T) {
	s := webtest.Start(t, webtest.Options{})
	admin := s.RegisterAdmin()
	base := func(attrs string) string {
		return `{"kind":"collectionType","info":{"singularName":"post","pluralName":"posts",` +
			`"displayName":"Post"},"options":{"draftAndPublish":true},"attributes":` + attrs + `}`
	}
	cases := []struct {
		name, body, want string
	}{
		{"unsupported type", base(`{"content":{"type":"blocks"}}`), "blocks"},
		{"unknown type", base(`{"x":{"type":"wat"}}`), "wat"},
		{"enumeration without values", base(`{"c":{"type":"enumeration"}}`), "c"},
		{"reserved route name", strings.NewReplacer("post", "upload", "posts", "uploads").
			Replace(base(`{}`)), "upload"},
		{"reserved attribute", base(`{"documentId":{"type":"string"}}`), "documentId"},
		{"malformed json", `{"kind":`, "JSON"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := s.Must(400, "POST", "/admin/content-types", tc.body, admin)
			if errorName(t, r) != "ValidationError" || !strings.Contains(string(r.Body), tc.want) {
				t.Fatalf("want ValidationError naming %q, got %s", tc.want, r.Body)
			}
		})
	}
}

func TestRESTWritesPublishAndTokensAreEnforced(t *testing.T) {
	s, admin, full, readOnly := setup(t)

	s.Must(403, "GET", "/api/articles", nil, "")
	r := s.Must(401, "GET", "/api/articles", nil, "not-a-token")
	if errorName(t, r) != "UnauthorizedError" {
		t.Fatalf("bad token: %s", r.Body)
	}
	s.Must(401, "GET", "/api/articles", nil, admin)
	s.Must(403, "POST", "/api/articles", `{"data":{"title":"x"}}`, readOnly)

	r = s.Must(201, "POST", "/api/articles", `{"data":{"title":"Hello World","secret":"s3"}}`, full)
	doc := dataOf(t, r)
	if len(fmt.Sprint(doc["documentId"])) != 24 || doc["publishedAt"] == nil {
		t.Fatalf("created document: %s", r.Body)
	}
	if doc["slug"] != "hello-world" || doc["views"] != float64(0) {
		t.Fatalf("uid or default not applied: %s", r.Body)
	}
	if _, ok := doc["secret"]; ok {
		t.Fatalf("private attribute returned: %s", r.Body)
	}
	id := doc["documentId"].(string)

	got := dataOf(t, s.Must(200, "GET", "/api/articles/"+id, nil, readOnly))
	if got["title"] != "Hello World" {
		t.Fatalf("findOne: %v", got)
	}
	r = s.Must(200, "GET", "/api/articles", nil, readOnly)
	meta := r.Map(t)["meta"].(map[string]any)["pagination"].(map[string]any)
	if meta["total"] != float64(1) || meta["pageSize"] != float64(25) || meta["page"] != float64(1) {
		t.Fatalf("pagination meta: %v", meta)
	}

	// A second document with the same title gets a free slug.
	r = s.Must(201, "POST", "/api/articles", `{"data":{"title":"Hello World"}}`, full)
	if dataOf(t, r)["slug"] != "hello-world-1" {
		t.Fatalf("uid not unique: %s", r.Body)
	}

	s.Must(200, "PUT", "/api/articles/"+id, `{"data":{"views":7}}`, full)
	if v := dataOf(t, s.Must(200, "GET", "/api/articles/"+id, nil, full))["views"]; v != float64(7) {
		t.Fatalf("views after PUT = %v", v)
	}
	s.Must(403, "DELETE", "/api/articles/"+id, nil, readOnly)
	s.Must(204, "DELETE", "/api/articles/"+id, nil, full)
	s.Must(404, "GET", "/api/articles/"+id, nil, full)
	s.Must(404, "DELETE", "/api/articles/"+id, nil, full)

	// Deleted tokens stop working at once.
	var tokens struct {
		Data []struct {
			ID   float64 `json:"id"`
			Name string  `json:"name"`
		} `json:"data"`
	}
	s.Must(200, "GET", "/admin/api-tokens", nil, admin).JSON(t, &tokens)
	for _, tk := range tokens.Data {
		if tk.Name == "reader" {
			s.Must(200, "DELETE", fmt.Sprintf("/admin/api-tokens/%d", int(tk.ID)), nil, admin)
		}
	}
	s.Must(401, "GET", "/api/articles", nil, readOnly)
}

func TestBadInputGetsClear4xx(t *testing.T) {
	s, _, full, _ := setup(t)
	cases := []struct {
		name, method, path, body string
		status                   int
		errName, mention         string
	}{
		{"malformed json", "POST", "/api/articles", `{"data":`, 400, "ValidationError", "JSON"},
		{"missing data", "POST", "/api/articles", `{"title":"x"}`, 400, "ValidationError", "data"},
		{"data not object", "POST", "/api/articles", `{"data":[1]}`, 400, "ValidationError", "data"},
		{"unknown attribute", "POST", "/api/articles", `{"data":{"title":"x","nope":1}}`, 400,
			"ValidationError", "nope"},
		{"wrong type", "POST", "/api/articles", `{"data":{"title":"x","views":"many"}}`, 400,
			"ValidationError", "views"},
		{"too long", "POST", "/api/articles",
			`{"data":{"title":"` + strings.Repeat("x", 81) + `"}}`, 400, "ValidationError", "title"},
		{"bad enum", "POST", "/api/articles", `{"data":{"title":"x","category":"sport"}}`, 400,
			"ValidationError", "category"},
		{"required on publish", "POST", "/api/articles", `{"data":{"views":1}}`, 400,
			"ValidationError", "title"},
		{"unknown type", "GET", "/api/nothings", "", 404, "NotFoundError", ""},
		{"unknown query parameter", "GET", "/api/articles?foo=1", "", 400, "ValidationError", "foo"},
		{"unknown filter attribute", "GET", "/api/articles?filters[nope][$eq]=1", "", 400,
			"ValidationError", "nope"},
		{"malformed filter value", "GET", "/api/articles?filters[views][$gt]=abc", "", 400,
			"ValidationError", "views"},
		{"private filter", "GET", "/api/articles?filters[secret][$eq]=s", "", 400,
			"ValidationError", "secret"},
		{"mixed pagination", "GET", "/api/articles?pagination[page]=1&pagination[start]=0", "", 400,
			"PaginationError", ""},
		{"bad status", "GET", "/api/articles?status=maybe", "", 400, "ValidationError", "status"},
		{"too large", "POST", "/api/articles",
			`{"data":{"body":"` + strings.Repeat("x", 1<<20) + `"}}`, 413, "PayloadTooLargeError", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body any
			if tc.body != "" {
				body = tc.body
			}
			r := s.Do(tc.method, tc.path, body, full)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
			}
			if errorName(t, r) != tc.errName || !strings.Contains(string(r.Body), tc.mention) {
				t.Fatalf("want %s mentioning %q, got %s", tc.errName, tc.mention, r.Body)
			}
		})
	}
	// Nothing was stored by any of the refused writes.
	if n := len(listOf(t, s.Must(200, "GET", "/api/articles?status=draft", nil, full))); n != 0 {
		t.Fatalf("%d documents stored by refused writes", n)
	}
}

func TestDraftAndPublishThroughEditorRoutes(t *testing.T) {
	s, admin, full, _ := setup(t)
	base := "/admin/content/" + url.PathEscape("api::article.article")

	// Drafts may be incomplete.
	r := s.Must(201, "POST", base, `{"data":{"views":5,"secret":"hidden"}}`, admin)
	draft := dataOf(t, r)
	if draft["publishedAt"] != nil || draft["secret"] != "hidden" {
		t.Fatalf("editor draft: %s", r.Body)
	}
	id := draft["documentId"].(string)
	if n := len(listOf(t, s.Must(200, "GET", "/api/articles", nil, full))); n != 0 {
		t.Fatalf("draft visible as published (%d)", n)
	}
	// Publishing validates everything.
	r = s.Must(400, "POST", base+"/"+id+"/publish", nil, admin)
	if !strings.Contains(string(r.Body), "title") {
		t.Fatalf("publish of incomplete draft: %s", r.Body)
	}
	s.Must(200, "PUT", base+"/"+id, `{"data":{"title":"First"}}`, admin)
	s.Must(200, "POST", base+"/"+id+"/publish", nil, admin)
	pub := dataOf(t, s.Must(200, "GET", "/api/articles/"+id, nil, full))
	if pub["title"] != "First" || pub["publishedAt"] == nil {
		t.Fatalf("published: %v", pub)
	}

	// Editing the draft leaves the published version alone until publish.
	s.Must(200, "PUT", base+"/"+id, `{"data":{"title":"Second"}}`, admin)
	if got := dataOf(t, s.Must(200, "GET", "/api/articles/"+id, nil, full))["title"]; got != "First" {
		t.Fatalf("published changed by a draft edit: %v", got)
	}
	if got := dataOf(t, s.Must(200, "GET", "/api/articles/"+id+"?status=draft", nil, full))["title"]; got != "Second" {
		t.Fatalf("draft = %v", got)
	}
	// Discard returns the draft to the published version.
	d := dataOf(t, s.Must(200, "POST", base+"/"+id+"/discard", nil, admin))
	if d["title"] != "First" {
		t.Fatalf("discard: %v", d)
	}
	// Unpublish removes the published version, keeps the draft.
	s.Must(200, "POST", base+"/"+id+"/unpublish", nil, admin)
	s.Must(404, "GET", "/api/articles/"+id, nil, full)
	s.Must(200, "GET", base+"/"+id, nil, admin)
	s.Must(400, "POST", base+"/"+id+"/unpublish", nil, admin)
	s.Must(400, "POST", base+"/"+id+"/discard", nil, admin)
}

func TestUniqueHoldsPerPublicationState(t *testing.T) {
	s, _, full, _ := setup(t)
	r := s.Must(201, "POST", "/api/articles", `{"data":{"title":"A","code":"X1"}}`, full)
	a := dataOf(t, r)["documentId"].(string)
	r = s.Must(400, "POST", "/api/articles", `{"data":{"title":"B","code":"X1"}}`, full)
	if !strings.Contains(string(r.Body), "unique") {
		t.Fatalf("duplicate code: %s", r.Body)
	}
	// A's draft moves on to X3 while its published version keeps X1.
	s.Must(200, "PUT", "/api/articles/"+a+"?status=draft", `{"data":{"code":"X3"}}`, full)
	// So another draft may take X1...
	r = s.Must(201, "POST", "/api/articles?status=draft", `{"data":{"title":"C","code":"X1"}}`, full)
	c := dataOf(t, r)["documentId"].(string)
	// ...but not X3, which A's draft holds,
	s.Must(400, "POST", "/api/articles?status=draft", `{"data":{"title":"D","code":"X3"}}`, full)
	// and publishing it would repeat A's published X1.
	r = s.Must(400, "PUT", "/api/articles/"+c, `{"data":{}}`, full)
	if !strings.Contains(string(r.Body), "code") {
		t.Fatalf("publish of a duplicate: %s", r.Body)
	}
}

func TestSingleTypes(t *testing.T) {
	s := webtest.Start(t, webtest.Options{})
	admin := s.RegisterAdmin()
	s.CreateType(admin, homepageSchema)
	key := s.CreateToken(admin, "k", "full-access")

	s.Must(404, "GET", "/api/homepage", nil, key)
	s.Must(400, "POST", "/api/homepage", `{"data":{"headline":"x"}}`, key)
	r := s.Must(200, "PUT", "/api/homepage", `{"data":{"headline":"Welcome"}}`, key)
	id := dataOf(t, r)["documentId"]
	r = s.Must(200, "PUT", "/api/homepage", `{"data":{"headline":"Hello"}}`, key)
	if d := dataOf(t, r); d["documentId"] != id || d["headline"] != "Hello" {
		t.Fatalf("single type update: %s", r.Body)
	}
	if got := dataOf(t, s.Must(200, "GET", "/api/homepage", nil, key))["headline"]; got != "Hello" {
		t.Fatalf("single type read: %v", got)
	}
	s.Must(204, "DELETE", "/api/homepage", nil, key)
	s.Must(404, "GET", "/api/homepage", nil, key)
}
