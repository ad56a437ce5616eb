package web_test

import (
	"bytes"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/herald-cms/herald/web/webtest"
)

// panelBrowser is a cookie-keeping HTTP client for the panel's pages. It does
// not follow redirects, so tests see each 303, and it remembers the CSRF
// token of the last page it read.
type panelBrowser struct {
	t    testing.TB
	s    *webtest.Server
	c    *http.Client
	csrf string
}

func newPanelBrowser(t testing.TB, s *webtest.Server) *panelBrowser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &panelBrowser{t: t, s: s, c: &http.Client{
		Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
}

// page is an answer of the panel.
type panelPage struct {
	status   int
	location string
	header   http.Header
	body     string
}

// has reports whether the page's HTML contains s.
func (p *panelPage) has(s string) bool { return strings.Contains(p.body, s) }

var panelCSRFInput = regexp.MustCompile(`name="_csrf" value="([^"]*)"`)

func (b *panelBrowser) do(req *http.Request) *panelPage {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatalf("read %s: %v", req.URL, err)
	}
	p := &panelPage{status: resp.StatusCode, location: resp.Header.Get("Location"),
		header: resp.Header, body: string(body)}
	if m := panelCSRFInput.FindStringSubmatch(p.body); m != nil {
		b.csrf = html.UnescapeString(m[1])
	}
	return p
}

// get fetches a page.
func (b *panelBrowser) get(path string) *panelPage {
	b.t.Helper()
	req, err := http.NewRequest("GET", b.s.URL+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// post submits a form with the last CSRF token seen (unless the form sets
// _csrf itself).
func (b *panelBrowser) post(path string, form url.Values) *panelPage {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["_csrf"]; !ok {
		form.Set("_csrf", b.csrf)
	}
	req, err := http.NewRequest("POST", b.s.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// postMultipart submits a multipart form with one file field.
func (b *panelBrowser) postMultipart(path string, form url.Values,
	field, filename, data string) *panelPage {
	b.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	form.Set("_csrf", b.csrf)
	for k, vs := range form {
		for _, v := range vs {
			if err := w.WriteField(k, v); err != nil {
				b.t.Fatal(err)
			}
		}
	}
	fw, err := w.CreateFormFile(field, filename)
	if err != nil {
		b.t.Fatal(err)
	}
	io.WriteString(fw, data)
	w.Close()
	req, err := http.NewRequest("POST", b.s.URL+path, &buf)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	return b.do(req)
}

// must fails the test unless the page has the status (and, for a
// redirect, goes to a location starting with to).
func (p *panelPage) must(t testing.TB, status int, to string) *panelPage {
	t.Helper()
	if p.status != status || (to != "" && !strings.HasPrefix(p.location, to)) {
		t.Fatalf("status %d to %q, want %d to %q; body:\n%s", p.status, p.location, status, to,
			panelExcerpt(p.body))
	}
	return p
}

// panelExcerpt is the start of the main element, for failure messages.
func panelExcerpt(body string) string {
	if i := strings.Index(body, "<main"); i >= 0 {
		body = body[i:]
	}
	if len(body) > 3000 {
		body = body[:3000]
	}
	return body
}

// follow fetches a redirect's target.
func (b *panelBrowser) follow(p *panelPage) *panelPage {
	b.t.Helper()
	if p.location == "" {
		b.t.Fatalf("no redirect to follow (status %d)", p.status)
	}
	return b.get(p.location)
}

// panelRegister runs the first-run registration and returns the browser,
// signed in as the Super Admin ada@example.com.
func panelRegister(t testing.TB, s *webtest.Server) *panelBrowser {
	t.Helper()
	b := newPanelBrowser(t, s)
	b.get("/admin/auth/register").must(t, 200, "")
	b.post("/admin/auth/register", url.Values{
		"firstname": {"Ada"}, "lastname": {"Admin"}, "email": {"ada@example.com"},
		"password": {"correct horse battery"},
	}).must(t, 303, "/admin/content-type-builder/new")
	return b
}

// panelSignIn signs a fresh browser in.
func panelSignIn(t testing.TB, s *webtest.Server, email, password string) *panelBrowser {
	t.Helper()
	b := newPanelBrowser(t, s)
	b.get("/admin/auth/sign-in").must(t, 200, "")
	b.post("/admin/auth/sign-in", url.Values{"email": {email}, "password": {password}}).
		must(t, 303, "/admin/content-manager")
	return b
}
