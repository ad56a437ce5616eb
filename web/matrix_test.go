package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/herald-cms/herald/admin"
	"github.com/herald-cms/herald/web"
	"github.com/herald-cms/herald/web/webtest"
	"github.com/herald-cms/herald/webhooks/webhookstest"
)

// The principals of the access matrix, in the order of its columns.
const (
	pAnon        = iota // no credentials, the Public role granting nothing
	pPublic             // no credentials, the Public role granting find and findOne on articles
	pUser               // an end user; Authenticated grants find, findOne, create on articles
	pReadOnly           // a read-only API token
	pCustom             // a custom API token: find and create on articles
	pFull               // a full-access API token
	pExpired            // a full-access API token past its expiry
	pAuthor             // the Author role
	pEditor             // the Editor role
	pRole               // a custom role: read, update own articles, webhooks.read, tokens.manage
	pSuper              // the Super Admin
	pDeactivated        // an Editor deactivated after signing in
	nPrincipals
)

var principalNames = [nPrincipals]string{"anonymous", "public grant", "end user",
	"read-only token", "custom token", "full-access token", "expired token", "author", "editor",
	"custom role", "super admin", "deactivated admin"}

// want is the status each principal gets, in the order of the columns.
type want [nPrincipals]int

// call is what one request of a route sends. A url.Values body is sent as
// a form; header adds to or replaces the principal's headers.
type call struct {
	path   string
	body   any
	header http.Header
}

// expectation is one row of the matrix: how to call the route (prep may
// create what the call changes, so that every principal finds the same
// state) and the status every principal gets.
type expectation struct {
	prep func() call
	want want
	// fresh sends a token no other request uses: logout revokes it.
	fresh bool
}

// fixtures builds what the matrix's calls need, as the Super Admin.
type fixtures struct {
	t     *testing.T
	s     *webtest.Server
	super string
	n     int
}

func (f *fixtures) seq() int {
	f.n++
	return f.n
}

// id returns data.id of an answer.
func (f *fixtures) id(r *webtest.Response) int {
	f.t.Helper()
	return int(dataOf(f.t, r)["id"].(float64))
}

const articles = "/admin/content/api::article.article"

// doc creates an article as the Super Admin, published when publish is set,
// and returns its documentId.
func (f *fixtures) doc(publish bool) string {
	f.t.Helper()
	r := f.s.Must(201, "POST", articles, `{"data":{"title":"Fixture"}}`, f.super)
	id := dataOf(f.t, r)["documentId"].(string)
	if publish {
		f.s.Must(200, "POST", articles+"/"+id+"/publish", nil, f.super)
	}
	return id
}

// homepage makes sure the homepage single type has its document.
func (f *fixtures) homepage() {
	f.t.Helper()
	f.s.Must(200, "PUT", "/admin/content/api::homepage.homepage", `{"data":{"headline":"H"}}`,
		f.super)
}

// typeSchema is a content type schema with a fresh name.
func (f *fixtures) typeSchema() (uid, schema string) {
	name := fmt.Sprintf("kind%d", f.seq())
	return "api::" + name + "." + name, `{"kind":"collectionType","info":{"singularName":"` +
		name + `","pluralName":"` + name + `s","displayName":"` + name + `"},` +
		`"options":{"draftAndPublish":false},"attributes":{"label":{"type":"string"}}}`
}

func (f *fixtures) contentType() string {
	f.t.Helper()
	uid, schema := f.typeSchema()
	f.s.Must(201, "POST", "/admin/content-types", schema, f.super)
	return uid
}

func (f *fixtures) token(typ string, extra map[string]any) int {
	f.t.Helper()
	body := map[string]any{"name": fmt.Sprintf("token%d", f.seq()), "type": typ}
	for k, v := range extra {
		body[k] = v
	}
	return f.id(f.s.Must(201, "POST", "/admin/api-tokens", body, f.super))
}

// user creates an administrator with a role and returns its id and email;
// its password is "password-" + email.
func (f *fixtures) user(roleID int) (int, string) {
	f.t.Helper()
	email := fmt.Sprintf("user%d@example.com", f.seq())
	r := f.s.Must(201, "POST", "/admin/users", map[string]any{"firstname": "U", "email": email,
		"password": "password-" + email, "roles": []int{roleID}}, f.super)
	return f.id(r), email
}

// signIn signs an administrator made by user in and returns its token.
func (f *fixtures) signIn(email string) string {
	f.t.Helper()
	return f.signInWith(email, "password-"+email)
}

func (f *fixtures) signInWith(email, password string) string {
	f.t.Helper()
	r := f.s.Must(200, "POST", "/admin/login",
		map[string]any{"email": email, "password": password}, "")
	return dataOf(f.t, r)["token"].(string)
}

func (f *fixtures) role() int {
	f.t.Helper()
	r := f.s.Must(201, "POST", "/admin/roles",
		map[string]any{"name": fmt.Sprintf("Role %d", f.seq())}, f.super)
	return f.id(r)
}

func (f *fixtures) webhook(url string) int {
	f.t.Helper()
	r := f.s.Must(201, "POST", "/admin/webhooks", map[string]any{
		"name": fmt.Sprintf("hook%d", f.seq()), "url": url, "events": []string{"entry.create"},
	}, f.super)
	return f.id(r)
}

// file uploads a PNG as the Super Admin and returns its id and URL.
func (f *fixtures) file() (int, string) {
	f.t.Helper()
	r := upload(f.t, f.s, "/admin/upload", f.super, []part{{"fixture.png", "image/png",
		pngImage(f.t, 1, 1)}})
	if r.Status != 201 {
		f.t.Fatalf("upload fixture: %d %s", r.Status, r.Body)
	}
	file := filesOf(f.t, r)[0]
	return int(file["id"].(float64)), file["url"].(string)
}

// uploadCall is a call posting a fresh PNG to path.
func (f *fixtures) uploadCall(path string) func() call {
	return func() call {
		body, h := multipartBody(f.t, "", []part{{"new.png", "image/png", pngImage(f.t, 1, 1)}})
		return call{path: path, body: body, header: h}
	}
}

// fileCall is a call on a freshly uploaded file under prefix.
func (f *fixtures) fileCall(prefix string, body any) func() call {
	return func() call {
		id, _ := f.file()
		return call{path: fmt.Sprintf("%s/%d", prefix, id), body: body}
	}
}

// fixed is a prep for a call that needs nothing created.
func fixed(path string, body any) func() call {
	return func() call { return call{path: path, body: body} }
}

// toSignIn is the outcome of a panel request sent to the sign-in page: the
// panel's answer to a missing or invalid session.
const toSignIn = 1

// outcome is the status of an answer, or toSignIn for a redirect to the
// sign-in page.
func outcome(r *webtest.Response) int {
	if r.Status/100 == 3 && strings.HasPrefix(r.Header.Get("Location"), "/admin/auth/sign-in") {
		return toSignIn
	}
	return r.Status
}

// send makes one call with a principal's credential: as a bearer token for
// the APIs, and as the panel's session cookie with its CSRF token for the
// panel (each side ignores the other's).
func send(s *webtest.Server, method string, c call, token string) *webtest.Response {
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
		h.Set("Cookie", "herald_session="+token)
		h.Set("X-CSRF-Token", s.Admin.CSRFToken(token))
	}
	body := c.body
	if form, ok := body.(url.Values); ok {
		body = form.Encode()
		h.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range c.header {
		h[k] = v
	}
	return s.Send(method, c.path, body, h)
}

// preSession returns the headers of a form posted before sign-in: the
// pre-session cookie and the CSRF token it seeds.
func preSession(s *webtest.Server) http.Header {
	seed := strings.Repeat("5eed", 16)
	return http.Header{"Cookie": {"herald_presession=" + seed},
		"X-CSRF-Token": {s.Admin.CSRFToken(seed)}}
}

const (
	roleEditor = 2
	roleAuthor = 3
)

// TestAccessMatrix walks every route of the route table with every kind of
// principal and checks each status. A route without a row fails the test,
// so a new route cannot go unguarded unnoticed.
func TestAccessMatrix(t *testing.T) {
	clk := webhookstest.NewClock(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC))
	generous := admin.RateLimit{Attempts: 10000, Window: time.Minute}
	s := webtest.Start(t, webtest.Options{Now: clk.Now, NoStart: true, PublicRegistration: true,
		Limits: admin.Limits{SignInPerAddress: generous, SignInPerAccount: generous,
			RegisterPerAddress: generous}})
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(receiver.Close)

	f := &fixtures{t: t, s: s, super: s.RegisterAdmin()}
	super := f.super
	s.CreateType(super, articleSchema)
	s.CreateType(super, homepageSchema)
	noteUID := f.contentType()
	f.homepage()
	hookID := f.webhook(receiver.URL)
	docID := f.doc(true)

	var deliveries struct {
		Data []struct {
			ID int `json:"id"`
		} `json:"data"`
	}
	s.Must(200, "GET", fmt.Sprintf("/admin/webhooks/%d/deliveries", hookID), nil, super).
		JSON(t, &deliveries)
	if len(deliveries.Data) == 0 {
		t.Fatal("creating an article made no delivery")
	}
	deliveryID := deliveries.Data[0].ID
	fixtureToken := f.token(admin.TokenReadOnly, nil)
	fileID, fileURL := f.file()
	fileAt := func(prefix string) string { return fmt.Sprintf("%s/%d", prefix, fileID) }

	// The principals.
	authGrants := map[string]any{"permissions": []string{"api::article.article.find",
		"api::article.article.findOne", "api::article.article.create"}}
	s.Must(200, "PUT", "/admin/roles/authenticated/permissions", authGrants, super)
	r := s.Must(200, "POST", "/api/auth/local/register", map[string]any{
		"username": "reader", "email": "reader@example.com", "password": "reader password"}, "")
	userJWT := r.Map(t)["jwt"].(string)

	readOnly := s.CreateToken(super, "matrix read-only", admin.TokenReadOnly)
	full := s.CreateToken(super, "matrix full-access", admin.TokenFullAccess)
	r = s.Must(201, "POST", "/admin/api-tokens", map[string]any{"name": "matrix custom",
		"type": "custom", "permissions": []string{"api::article.article.find",
			"api::article.article.create"}}, super)
	custom := dataOf(t, r)["accessKey"].(string)
	r = s.Must(201, "POST", "/admin/api-tokens", map[string]any{"name": "matrix expiring",
		"type": "full-access", "lifespan": 1000}, super)
	expired := dataOf(t, r)["accessKey"].(string)

	authorID, authorEmail := f.user(roleAuthor)
	_, editorEmail := f.user(roleEditor)
	r = s.Must(201, "POST", "/admin/roles", map[string]any{"name": "Reviewer", "permissions": []any{
		map[string]any{"action": "content.read"},
		map[string]any{"action": "content.update", "subject": "api::article.article",
			"ownOnly": true},
		map[string]any{"action": "webhooks.read"},
		map[string]any{"action": "tokens.manage"},
	}}, super)
	_, reviewerEmail := f.user(f.id(r))
	deactivatedID, deactivatedEmail := f.user(roleEditor)
	deactivated := f.signIn(deactivatedEmail)
	s.Must(200, "PUT", fmt.Sprintf("/admin/users/%d", deactivatedID),
		map[string]any{"isActive": false}, super)
	clk.Advance(2 * time.Second) // past the expiring token's lifespan

	admins := map[int]string{pAuthor: authorEmail, pEditor: editorEmail, pRole: reviewerEmail}
	tokens := [nPrincipals]string{pUser: userJWT, pReadOnly: readOnly, pCustom: custom,
		pFull: full, pExpired: expired, pSuper: super, pDeactivated: deactivated}
	for p, email := range admins {
		tokens[p] = f.signIn(email)
	}
	fresh := func(p int) string {
		switch p {
		case pSuper:
			return f.signInWith("ada@example.com", "correct horse battery")
		case pAuthor, pEditor, pRole:
			return f.signIn(admins[p])
		}
		return tokens[p]
	}

	// Shorthands for rows where only the administrators differ.
	const x = 401 // any credential that is not an administrator's on /admin
	adminRow := func(author, editor, role, super int) want {
		return want{x, x, x, x, x, x, x, author, editor, role, super, x}
	}
	settings := func(role int, ok int) want { return adminRow(403, 403, role, ok) }
	// apiRow is a content API row: an expired token and administrators'
	// tokens are refused before any grant is asked.
	apiRow := func(anon, public, user, readOnly, custom, full int) want {
		return want{anon, public, user, readOnly, custom, full, x, x, x, x, x, x}
	}
	const y = toSignIn // anything but a live administrator's session, on the panel
	panelRow := func(author, editor, role, super int) want {
		return want{y, y, y, y, y, y, y, author, editor, role, super, y}
	}
	hook := func(format string) string { return fmt.Sprintf(format, hookID) }
	newDoc := func(publish bool) func() call {
		return func() call { return call{path: articles + "/" + f.doc(publish)} }
	}
	open := func(status int) want {
		var w want
		for i := range w {
			w[i] = status
		}
		return w
	}

	const (
		manager = "/admin/content-manager/api::article.article"
		builder = "/admin/content-type-builder"
		hooks   = "/admin/settings/webhooks"
	)
	matrix := map[string]expectation{
		"GET /_health": {want: open(204),
			prep: fixed("/_health", nil)},
		"GET /metrics": {want: open(404),
			prep: fixed("/metrics", nil)},
		"POST /admin/register-admin": {want: open(403),
			prep: fixed("/admin/register-admin", map[string]any{
				"firstname": "B", "email": "b@example.com", "password": "long enough password"})},
		"POST /admin/login": {want: open(200),
			prep: fixed("/admin/login", map[string]any{
				"email": "ada@example.com", "password": "correct horse battery"})},
		"POST /admin/logout": {want: adminRow(200, 200, 200, 200), fresh: true,
			prep: fixed("/admin/logout", nil)},

		"GET /admin/content-types": {want: adminRow(200, 200, 200, 200),
			prep: fixed("/admin/content-types", nil)},
		"GET /admin/content-types/:uid": {want: adminRow(200, 200, 200, 200),
			prep: fixed("/admin/content-types/api::article.article", nil)},
		"POST /admin/content-types": {want: settings(403, 201), prep: func() call {
			_, schema := f.typeSchema()
			return call{path: "/admin/content-types", body: schema}
		}},
		"PUT /admin/content-types/:uid": {want: settings(403, 200), prep: func() call {
			name := strings.TrimPrefix(noteUID, "api::")
			name = name[:strings.IndexByte(name, '.')]
			schema := `{"kind":"collectionType","info":{"singularName":"` + name +
				`","pluralName":"` + name + `s","displayName":"N"},"options":` +
				`{"draftAndPublish":false},"attributes":{"label":{"type":"text"}}}`
			return call{path: "/admin/content-types/" + noteUID, body: schema}
		}},
		"DELETE /admin/content-types/:uid": {want: settings(403, 200), prep: func() call {
			return call{path: "/admin/content-types/" + f.contentType()}
		}},

		// The editors' content routes: the role decides, and an Author sees
		// only its own entries (the fixtures are the Super Admin's).
		"GET /admin/content/:uid": {want: adminRow(200, 200, 200, 200),
			prep: fixed(articles, nil)},
		"POST /admin/content/:uid": {want: adminRow(201, 201, 403, 201),
			prep: fixed(articles, `{"data":{"title":"New"}}`)},
		"PUT /admin/content/:uid": {want: adminRow(404, 200, 403, 200),
			prep: fixed("/admin/content/api::homepage.homepage",
				`{"data":{"headline":"Changed"}}`)},
		"DELETE /admin/content/:uid": {want: adminRow(404, 204, 403, 204), prep: func() call {
			f.homepage()
			return call{path: "/admin/content/api::homepage.homepage"}
		}},
		"GET /admin/content/:uid/:documentId": {want: adminRow(404, 200, 200, 200),
			prep: fixed(articles+"/"+docID, nil)},
		"PUT /admin/content/:uid/:documentId": {want: adminRow(404, 200, 404, 200),
			prep: fixed(articles+"/"+docID, `{"data":{"views":3}}`)},
		"DELETE /admin/content/:uid/:documentId": {want: adminRow(404, 204, 403, 204),
			prep: newDoc(true)},
		"POST /admin/content/:uid/:documentId/publish": {want: adminRow(403, 200, 403, 200),
			prep: func() call {
				return call{path: articles + "/" + f.doc(false) + "/publish"}
			}},
		"POST /admin/content/:uid/:documentId/unpublish": {want: adminRow(403, 200, 403, 200),
			prep: func() call {
				return call{path: articles + "/" + f.doc(true) + "/unpublish"}
			}},
		"POST /admin/content/:uid/:documentId/discard": {want: adminRow(403, 200, 403, 200),
			prep: func() call {
				return call{path: articles + "/" + f.doc(true) + "/discard"}
			}},

		"GET /admin/api-tokens": {want: settings(200, 200),
			prep: fixed("/admin/api-tokens", nil)},
		"POST /admin/api-tokens": {want: settings(201, 201), prep: func() call {
			return call{path: "/admin/api-tokens",
				body: map[string]any{"name": fmt.Sprintf("t%d", f.seq()), "type": "read-only"}}
		}},
		"GET /admin/api-tokens/:id": {want: settings(200, 200),
			prep: fixed(fmt.Sprintf("/admin/api-tokens/%d", fixtureToken), nil)},
		"PUT /admin/api-tokens/:id": {want: settings(200, 200),
			prep: fixed(fmt.Sprintf("/admin/api-tokens/%d", fixtureToken),
				map[string]any{"description": "changed"})},
		"DELETE /admin/api-tokens/:id": {want: settings(200, 200), prep: func() call {
			return call{path: fmt.Sprintf("/admin/api-tokens/%d", f.token("read-only", nil))}
		}},
		"POST /admin/api-tokens/:id/regenerate": {want: settings(200, 200), prep: func() call {
			id := f.token("read-only", nil)
			return call{path: fmt.Sprintf("/admin/api-tokens/%d/regenerate", id)}
		}},

		"GET /admin/users": {want: settings(403, 200),
			prep: fixed("/admin/users", nil)},
		"POST /admin/users": {want: settings(403, 201), prep: func() call {
			email := fmt.Sprintf("new%d@example.com", f.seq())
			return call{path: "/admin/users", body: map[string]any{"firstname": "N", "email": email,
				"password": "a long password", "roles": []int{roleEditor}}}
		}},
		"GET /admin/users/:id": {want: settings(403, 200),
			prep: fixed(fmt.Sprintf("/admin/users/%d", authorID), nil)},
		"PUT /admin/users/:id": {want: settings(403, 200), prep: func() call {
			id, _ := f.user(roleEditor)
			return call{path: fmt.Sprintf("/admin/users/%d", id),
				body: map[string]any{"lastname": "L"}}
		}},
		"DELETE /admin/users/:id": {want: settings(403, 200), prep: func() call {
			id, _ := f.user(roleAuthor)
			return call{path: fmt.Sprintf("/admin/users/%d", id)}
		}},

		"GET /admin/roles/public/permissions": {want: settings(403, 200),
			prep: fixed("/admin/roles/public/permissions", nil)},
		"PUT /admin/roles/public/permissions": {want: settings(403, 200),
			prep: fixed("/admin/roles/public/permissions",
				map[string]any{"permissions": []string{}})},
		"GET /admin/roles/authenticated/permissions": {want: settings(403, 200),
			prep: fixed("/admin/roles/authenticated/permissions", nil)},
		"PUT /admin/roles/authenticated/permissions": {want: settings(403, 200),
			prep: fixed("/admin/roles/authenticated/permissions",
				authGrants)},
		"GET /admin/roles": {want: settings(403, 200),
			prep: fixed("/admin/roles", nil)},
		"POST /admin/roles": {want: settings(403, 201), prep: func() call {
			return call{path: "/admin/roles",
				body: map[string]any{"name": fmt.Sprintf("New role %d", f.seq())}}
		}},
		"GET /admin/roles/:id": {want: settings(403, 200),
			prep: fixed(fmt.Sprintf("/admin/roles/%d", roleEditor), nil)},
		"PUT /admin/roles/:id": {want: settings(403, 200), prep: func() call {
			return call{path: fmt.Sprintf("/admin/roles/%d", f.role()),
				body: map[string]any{"description": "d"}}
		}},
		"DELETE /admin/roles/:id": {want: settings(403, 200), prep: func() call {
			return call{path: fmt.Sprintf("/admin/roles/%d", f.role())}
		}},

		"GET /admin/webhooks": {want: settings(200, 200),
			prep: fixed("/admin/webhooks", nil)},
		"POST /admin/webhooks": {want: settings(403, 201),
			prep: fixed("/admin/webhooks", map[string]any{"name": "w",
				"url": receiver.URL, "events": []string{"entry.update"}})},
		"GET /admin/webhooks/:id": {want: settings(200, 200),
			prep: fixed(hook("/admin/webhooks/%d"), nil)},
		"PUT /admin/webhooks/:id": {want: settings(403, 200),
			prep: fixed(hook("/admin/webhooks/%d"), map[string]any{"name": "renamed"})},
		"DELETE /admin/webhooks/:id": {want: settings(403, 200), prep: func() call {
			return call{path: fmt.Sprintf("/admin/webhooks/%d", f.webhook(receiver.URL))}
		}},
		"POST /admin/webhooks/:id/trigger": {want: settings(403, 200),
			prep: fixed(hook("/admin/webhooks/%d/trigger"), nil)},
		"POST /admin/webhooks/:id/rotate-secret": {want: settings(403, 200),
			prep: fixed(hook("/admin/webhooks/%d/rotate-secret"), nil)},
		"POST /admin/webhooks/:id/recover": {want: settings(403, 202),
			prep: fixed(hook("/admin/webhooks/%d/recover"),
				map[string]any{"since": "2025-01-01T00:00:00Z"})},
		"GET /admin/webhooks/:id/deliveries": {want: settings(200, 200),
			prep: fixed(hook("/admin/webhooks/%d/deliveries"), nil)},
		"GET /admin/deliveries/:id": {want: settings(200, 200),
			prep: fixed(fmt.Sprintf("/admin/deliveries/%d", deliveryID), nil)},
		"POST /admin/deliveries/:id/retry": {want: settings(403, 202),
			prep: fixed(fmt.Sprintf("/admin/deliveries/%d/retry", deliveryID), nil)},

		// The admin panel. Its pages sign a browser without a valid
		// session in (toSignIn); a form needs the session's CSRF token, which
		// send adds.
		"GET /admin": {want: panelRow(303, 303, 303, 303),
			prep: fixed("/admin", nil)},
		"GET /admin/assets/:name": {want: open(200),
			prep: fixed("/admin/assets/panel.css", nil)},
		"GET /admin/auth/sign-in": {
			want: want{200, 200, 200, 200, 200, 200, 200, 303, 303, 303, 303, 200},
			prep: fixed("/admin/auth/sign-in", nil)},
		"POST /admin/auth/sign-in": {want: open(303), prep: func() call {
			return call{path: "/admin/auth/sign-in", body: url.Values{"email": {"ada@example.com"},
				"password": {"correct horse battery"}}, header: preSession(s)}
		}},
		"GET /admin/auth/register": {want: panelRow(y, y, y, y),
			prep: fixed("/admin/auth/register", nil)},
		"POST /admin/auth/register": {want: panelRow(y, y, y, y), prep: func() call {
			return call{path: "/admin/auth/register", body: url.Values{"firstname": {"B"},
				"email": {"b@example.com"}, "password": {"long enough password"}},
				header: preSession(s)}
		}},
		"POST /admin/auth/sign-out": {want: panelRow(y, y, y, y), fresh: true,
			prep: fixed("/admin/auth/sign-out", url.Values{})},

		"GET /admin/content-manager": {want: panelRow(200, 200, 200, 200),
			prep: fixed("/admin/content-manager", nil)},
		"POST /admin/content-manager/preview": {want: panelRow(200, 200, 200, 200),
			prep: fixed("/admin/content-manager/preview",
				url.Values{"text": {"**bold**"}})},
		"GET /admin/content-manager/:uid": {want: panelRow(200, 200, 200, 200),
			prep: fixed(manager, nil)},
		"POST /admin/content-manager/:uid": {want: panelRow(303, 303, 403, 303),
			prep: fixed(manager, url.Values{"title": {"From the panel"}})},
		"GET /admin/content-manager/:uid/create": {want: panelRow(200, 200, 403, 200),
			prep: fixed(manager+"/create", nil)},
		"GET /admin/content-manager/:uid/:documentId": {want: panelRow(404, 200, 200, 200),
			prep: fixed(manager+"/"+docID, nil)},
		"POST /admin/content-manager/:uid/:documentId": {want: panelRow(404, 303, 404, 303),
			prep: fixed(manager+"/"+docID,
				url.Values{"title": {"Changed in the panel"}})},
		"POST /admin/content-manager/:uid/:documentId/unpublish": {
			want: panelRow(403, 303, 403, 303),
			prep: func() call {
				return call{path: manager + "/" + f.doc(true) + "/unpublish", body: url.Values{}}
			}},
		"POST /admin/content-manager/:uid/:documentId/discard": {want: panelRow(403, 303, 403, 303),
			prep: func() call {
				return call{path: manager + "/" + f.doc(true) + "/discard", body: url.Values{}}
			}},
		"POST /admin/content-manager/:uid/:documentId/delete": {want: panelRow(404, 303, 403, 303),
			prep: func() call {
				return call{path: manager + "/" + f.doc(true) + "/delete", body: url.Values{}}
			}},

		"GET /admin/media": {want: panelRow(200, 200, 200, 200),
			prep: fixed("/admin/media", nil)},
		"POST /admin/media": {want: panelRow(303, 303, 403, 303),
			prep: f.uploadCall("/admin/media")},
		"GET /admin/media/:id": {want: panelRow(200, 200, 200, 200),
			prep: fixed(fileAt("/admin/media"), nil)},
		"POST /admin/media/:id": {want: panelRow(403, 303, 403, 303),
			prep: fixed(fileAt("/admin/media"), url.Values{"name": {"renamed.png"},
				"alternativeText": {"Alt"}, "caption": {""}})},
		"POST /admin/media/:id/delete": {want: panelRow(403, 303, 403, 303),
			prep: func() call {
				id, _ := f.file()
				return call{path: fmt.Sprintf("/admin/media/%d/delete", id), body: url.Values{}}
			}},

		"GET /admin/content-type-builder": {want: panelRow(403, 403, 403, 200),
			prep: fixed(builder, nil)},
		"POST /admin/content-type-builder": {want: panelRow(403, 403, 403, 422),
			prep: fixed(builder, url.Values{})},
		"GET /admin/content-type-builder/new": {want: panelRow(403, 403, 403, 200),
			prep: fixed(builder+"/new", nil)},
		"GET /admin/content-type-builder/import": {want: panelRow(403, 403, 403, 200),
			prep: fixed(builder+"/import", nil)},
		"POST /admin/content-type-builder/import": {want: panelRow(403, 403, 403, 422),
			prep: fixed(builder+"/import", url.Values{})},
		"GET /admin/content-type-builder/:uid": {want: panelRow(403, 403, 403, 200),
			prep: fixed(builder+"/"+noteUID, nil)},
		"POST /admin/content-type-builder/:uid": {want: panelRow(403, 403, 403, 422),
			prep: fixed(builder+"/"+noteUID, url.Values{})},
		"POST /admin/content-type-builder/:uid/delete": {want: panelRow(403, 403, 403, 303),
			prep: func() call {
				return call{path: builder + "/" + f.contentType() + "/delete", body: url.Values{}}
			}},

		"GET /admin/settings/webhooks": {want: panelRow(403, 403, 200, 200),
			prep: fixed(hooks, nil)},
		"POST /admin/settings/webhooks": {want: panelRow(403, 403, 403, 422),
			prep: fixed(hooks, url.Values{})},
		"GET /admin/settings/webhooks/new": {want: panelRow(403, 403, 403, 200),
			prep: fixed(hooks+"/new", nil)},
		"GET /admin/settings/webhooks/:id": {want: panelRow(403, 403, 200, 200),
			prep: fixed(hook(hooks+"/%d"), nil)},
		"POST /admin/settings/webhooks/:id": {want: panelRow(403, 403, 403, 422),
			prep: fixed(hook(hooks+"/%d"), url.Values{})},
		"POST /admin/settings/webhooks/:id/trigger": {want: panelRow(403, 403, 403, 303),
			prep: fixed(hook(hooks+"/%d/trigger"), url.Values{})},
		"POST /admin/settings/webhooks/:id/rotate-secret": {want: panelRow(403, 403, 403, 303),
			prep: fixed(hook(hooks+"/%d/rotate-secret"),
				url.Values{})},
		"POST /admin/settings/webhooks/:id/delete": {want: panelRow(403, 403, 403, 303),
			prep: func() call {
				id := f.webhook(receiver.URL)
				return call{path: fmt.Sprintf(hooks+"/%d/delete", id), body: url.Values{}}
			}},
		"GET /admin/settings/webhooks/:id/deliveries": {want: panelRow(403, 403, 200, 200),
			prep: fixed(hook(hooks+"/%d/deliveries"), nil)},
		"POST /admin/settings/webhooks/:id/recover": {want: panelRow(403, 403, 403, 303),
			prep: fixed(hook(hooks+"/%d/recover"),
				url.Values{"since": {"2025-01-01T00:00"}})},
		"GET /admin/settings/deliveries/:id": {want: panelRow(403, 403, 200, 200),
			prep: fixed(fmt.Sprintf("/admin/settings/deliveries/%d",
				deliveryID), nil)},
		"POST /admin/settings/deliveries/:id/retry": {want: panelRow(403, 403, 403, 303),
			prep: fixed(fmt.Sprintf(
				"/admin/settings/deliveries/%d/retry", deliveryID), url.Values{})},

		// Panel settings: users, roles and the users-permissions roles need
		// users.manage; API tokens need tokens.manage.
		"GET /admin/settings/users": {want: panelRow(403, 403, 403, 200),
			prep: fixed("/admin/settings/users", nil)},
		"POST /admin/settings/users": {want: panelRow(403, 403, 403, 422),
			prep: fixed("/admin/settings/users", url.Values{})},
		"GET /admin/settings/users/new": {want: panelRow(403, 403, 403, 200),
			prep: fixed("/admin/settings/users/new", nil)},
		"GET /admin/settings/users/:id": {want: panelRow(403, 403, 403, 200),
			prep: fixed(fmt.Sprintf("/admin/settings/users/%d", authorID), nil)},
		"POST /admin/settings/users/:id": {want: panelRow(403, 403, 403, 422), prep: func() call {
			id, _ := f.user(roleEditor)
			return call{path: fmt.Sprintf("/admin/settings/users/%d", id), body: url.Values{}}
		}},
		"POST /admin/settings/users/:id/delete": {want: panelRow(403, 403, 403, 303),
			prep: func() call {
				id, _ := f.user(roleAuthor)
				return call{path: fmt.Sprintf("/admin/settings/users/%d/delete", id), body: url.Values{}}
			}},
		"GET /admin/settings/roles": {want: panelRow(403, 403, 403, 200),
			prep: fixed("/admin/settings/roles", nil)},
		"POST /admin/settings/roles": {want: panelRow(403, 403, 403, 422),
			prep: fixed("/admin/settings/roles", url.Values{})},
		"GET /admin/settings/roles/new": {want: panelRow(403, 403, 403, 200),
			prep: fixed("/admin/settings/roles/new", nil)},
		"GET /admin/settings/roles/:id": {want: panelRow(403, 403, 403, 200),
			prep: fixed(fmt.Sprintf("/admin/settings/roles/%d", roleEditor), nil)},
		"POST /admin/settings/roles/:id": {want: panelRow(403, 403, 403, 422), prep: func() call {
			return call{path: fmt.Sprintf("/admin/settings/roles/%d", f.role()), body: url.Values{}}
		}},
		"POST /admin/settings/roles/:id/delete": {want: panelRow(403, 403, 403, 303),
			prep: func() call {
				return call{path: fmt.Sprintf("/admin/settings/roles/%d/delete", f.role()),
					body: url.Values{}}
			}},
		"GET /admin/settings/api-tokens": {want: panelRow(403, 403, 200, 200),
			prep: fixed("/admin/settings/api-tokens", nil)},
		"POST /admin/settings/api-tokens": {want: panelRow(403, 403, 422, 422),
			prep: fixed("/admin/settings/api-tokens", url.Values{})},
		"GET /admin/settings/api-tokens/new": {want: panelRow(403, 403, 200, 200),
			prep: fixed("/admin/settings/api-tokens/new", nil)},
		"GET /admin/settings/api-tokens/:id": {want: panelRow(403, 403, 200, 200),
			prep: fixed(fmt.Sprintf("/admin/settings/api-tokens/%d", fixtureToken), nil)},
		"POST /admin/settings/api-tokens/:id": {want: panelRow(403, 403, 422, 422),
			prep: fixed(fmt.Sprintf("/admin/settings/api-tokens/%d", fixtureToken), url.Values{})},
		"POST /admin/settings/api-tokens/:id/regenerate": {want: panelRow(403, 403, 200, 200),
			prep: func() call {
				id := f.token("read-only", nil)
				return call{path: fmt.Sprintf("/admin/settings/api-tokens/%d/regenerate", id),
					body: url.Values{}}
			}},
		"POST /admin/settings/api-tokens/:id/delete": {want: panelRow(403, 403, 303, 303),
			prep: func() call {
				id := f.token("read-only", nil)
				return call{path: fmt.Sprintf("/admin/settings/api-tokens/%d/delete", id),
					body: url.Values{}}
			}},
		"GET /admin/settings/public": {want: panelRow(403, 403, 403, 200),
			prep: fixed("/admin/settings/public", nil)},
		"POST /admin/settings/public/:role": {want: panelRow(403, 403, 403, 303),
			prep: fixed("/admin/settings/public/public", url.Values{})},

		// The media library. Administrators' roles decide through their
		// every-type grants (an Author changes only its own files; the
		// fixtures are the Super Admin's); uploaded files are open.
		"POST /admin/upload": {want: adminRow(201, 201, 403, 201),
			prep: f.uploadCall("/admin/upload")},
		"GET /admin/upload/files": {want: adminRow(200, 200, 200, 200),
			prep: fixed("/admin/upload/files", nil)},
		"GET /admin/upload/files/:id": {want: adminRow(200, 200, 200, 200),
			prep: fixed(fileAt("/admin/upload/files"), nil)},
		"PUT /admin/upload/files/:id": {want: adminRow(403, 200, 403, 200),
			prep: fixed(fileAt("/admin/upload/files"), map[string]any{"caption": "c"})},
		"DELETE /admin/upload/files/:id": {want: adminRow(403, 200, 403, 200),
			prep: f.fileCall("/admin/upload/files", nil)},
		"GET /uploads/:name": {want: open(200),
			prep: fixed(fileURL, nil)},
		"POST /api/upload": {want: apiRow(403, 403, 403, 403, 403, 201),
			prep: f.uploadCall("/api/upload")},
		"GET /api/upload/files": {want: apiRow(403, 403, 403, 200, 403, 200),
			prep: fixed("/api/upload/files", nil)},
		"GET /api/upload/files/:id": {want: apiRow(403, 403, 403, 200, 403, 200),
			prep: fixed(fileAt("/api/upload/files"), nil)},
		"PUT /api/upload/files/:id": {want: apiRow(403, 403, 403, 403, 403, 200),
			prep: fixed(fileAt("/api/upload/files"), map[string]any{"caption": "c"})},
		"DELETE /api/upload/files/:id": {want: apiRow(403, 403, 403, 403, 403, 200),
			prep: f.fileCall("/api/upload/files", nil)},

		// End users. Sign-in and registration are open; /me needs an end
		// user's token and nothing else.
		"POST /api/auth/local/register": {want: open(200), prep: func() call {
			n := f.seq()
			return call{path: "/api/auth/local/register", body: map[string]any{
				"username": fmt.Sprintf("u%d", n), "email": fmt.Sprintf("u%d@example.com", n),
				"password": "a long password"}}
		}},
		"POST /api/auth/local": {want: open(200),
			prep: fixed("/api/auth/local", map[string]any{
				"identifier": "reader@example.com", "password": "reader password"})},
		"GET /api/users/me": {want: apiRow(401, 401, 200, 401, 401, 401),
			prep: fixed("/api/users/me", nil)},

		// The content API: administrators' tokens are refused (401), tokens
		// and roles get what they were granted (403 otherwise).
		"GET /api/:name": {want: apiRow(403, 200, 200, 200, 200, 200),
			prep: fixed("/api/articles", nil)},
		"POST /api/:name": {want: apiRow(403, 403, 201, 403, 201, 201),
			prep: fixed("/api/articles", `{"data":{"title":"From the API"}}`)},
		"PUT /api/:name": {want: apiRow(403, 403, 403, 403, 403, 200),
			prep: fixed("/api/homepage", `{"data":{"headline":"API"}}`)},
		"DELETE /api/:name": {want: apiRow(403, 403, 403, 403, 403, 204),
			prep: func() call {
				f.homepage()
				return call{path: "/api/homepage"}
			}},
		"GET /api/:name/:documentId": {want: apiRow(403, 200, 200, 200, 403, 200),
			prep: fixed("/api/articles/"+docID, nil)},
		"PUT /api/:name/:documentId": {want: apiRow(403, 403, 403, 403, 403, 200),
			prep: fixed("/api/articles/"+docID, `{"data":{"views":4}}`)},
		"DELETE /api/:name/:documentId": {want: apiRow(403, 403, 403, 403, 403, 204),
			prep: func() call {
				return call{path: "/api/articles/" + f.doc(true)}
			}},
	}

	table := web.RouteTable(s.Herald)
	covered := map[string]bool{}
	for _, key := range table {
		covered[key] = true
		if _, ok := matrix[key]; !ok {
			t.Errorf("route %s has no row in the access matrix: add one", key)
		}
	}
	for key := range matrix {
		if !covered[key] {
			t.Errorf("the access matrix has a row for %s, which the route table lacks", key)
		}
	}

	publicGrants := map[string]any{"permissions": []string{"api::article.article.find",
		"api::article.article.findOne"}}
	for p := 0; p < nPrincipals; p++ {
		if p == pPublic {
			s.Must(200, "PUT", "/admin/roles/public/permissions", publicGrants, super)
		}
		for _, key := range table {
			e, ok := matrix[key]
			if !ok {
				continue
			}
			method, _, _ := strings.Cut(key, " ")
			c := e.prep()
			token := tokens[p]
			if e.fresh {
				token = fresh(p)
			}
			got := send(s, method, c, token)
			if status := outcome(got); status != e.want[p] {
				t.Errorf("%s as %s: %d, want %d: %.200s", key, principalNames[p], status,
					e.want[p], got.Body)
			}
		}
		if p == pPublic {
			s.Must(200, "PUT", "/admin/roles/public/permissions",
				map[string]any{"permissions": []string{}}, super)
		}
	}
}
