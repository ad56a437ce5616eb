package web_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/herald-cms/herald/web/webtest"
)

// cacheSetup starts Herald with the article type readable by the Public
// role, and returns the server, the administrator's token and a
// full-access token.
func cacheSetup(t *testing.T) (*webtest.Server, string, string) {
	t.Helper()
	s, adminToken, full, _ := setup(t)
	s.Must(200, "PUT", "/admin/roles/public/permissions", map[string]any{"permissions": []string{
		"api::article.article.find", "api::article.article.findOne"}}, adminToken)
	return s, adminToken, full
}

// get sends a public GET with the given headers (name, value pairs).
func get(s *webtest.Server, path string, headers ...string) *webtest.Response {
	h := http.Header{}
	for i := 0; i+1 < len(headers); i += 2 {
		h.Set(headers[i], headers[i+1])
	}
	return s.Send("GET", path, nil, h)
}

// titles returns the titles of a list answer, in order.
func titles(t *testing.T, r *webtest.Response) []string {
	t.Helper()
	if r.Status != 200 {
		t.Fatalf("list: status %d: %s", r.Status, r.Body)
	}
	var out []string
	for _, d := range listOf(t, r) {
		out = append(out, fmt.Sprint(d.(map[string]any)["title"]))
	}
	return out
}

func wantTitles(t *testing.T, step string, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("%s: titles %q, want %q", step, got, want)
	}
}

// TestCachedReadsAreNeverStale reads through the cache after every kind of
// change and expects to see the change at once.
func TestCachedReadsAreNeverStale(t *testing.T) {
	s, adminToken, full := cacheSetup(t)
	const list = "/api/articles?sort=title"
	wantTitles(t, "empty", titles(t, get(s, list)))

	r := s.Must(201, "POST", "/api/articles", map[string]any{"data": map[string]any{
		"title": "One"}}, full)
	id := fmt.Sprint(dataOf(t, r)["documentId"])
	one := "/api/articles/" + id
	// Twice: the second answer comes from the cache.
	wantTitles(t, "after create", titles(t, get(s, list)), "One")
	wantTitles(t, "after create, again", titles(t, get(s, list)), "One")
	s.Must(200, "GET", one, nil, "")

	s.Must(200, "PUT", one, map[string]any{"data": map[string]any{"title": "Two"}}, full)
	wantTitles(t, "after update and publish", titles(t, get(s, list)), "Two")
	if got := dataOf(t, s.Must(200, "GET", one, nil, ""))["title"]; got != "Two" {
		t.Fatalf("one after update: title %v, want Two", got)
	}

	// A draft change leaves the published version, and so the answer, as
	// it was.
	s.Must(200, "PUT", one+"?status=draft", map[string]any{"data": map[string]any{
		"title": "Three"}}, full)
	wantTitles(t, "after a draft update", titles(t, get(s, list)), "Two")

	admin := "/admin/content/api::article.article/" + id
	s.Must(200, "POST", admin+"/publish", nil, adminToken)
	wantTitles(t, "after publish", titles(t, get(s, list)), "Three")

	s.Must(200, "POST", admin+"/unpublish", nil, adminToken)
	wantTitles(t, "after unpublish", titles(t, get(s, list)))
	s.Must(404, "GET", one, nil, "")

	s.Must(200, "POST", admin+"/publish", nil, adminToken)
	wantTitles(t, "after publishing again", titles(t, get(s, list)), "Three")
	s.Must(200, "GET", one, nil, "")

	s.Must(204, "DELETE", one, nil, full)
	wantTitles(t, "after delete", titles(t, get(s, list)))
	s.Must(404, "GET", one, nil, "")
}

// TestCachedReadsFollowContentTypeChanges changes the schema under a
// cached answer: an attribute added shows, one made private disappears.
func TestCachedReadsFollowContentTypeChanges(t *testing.T) {
	s, adminToken, full := cacheSetup(t)
	s.Must(201, "POST", "/api/articles", map[string]any{"data": map[string]any{
		"title": "Kept", "secret": "hidden", "views": 3}}, full)
	first := listOf(t, s.Must(200, "GET", "/api/articles", nil, ""))[0].(map[string]any)
	if _, ok := first["views"]; !ok {
		t.Fatalf("views missing before the change: %v", first)
	}

	changed := strings.Replace(articleSchema, `"views":    {"type": "integer", "default": 0},`,
		`"views": {"type": "integer", "default": 0, "private": true},
		 "subtitle": {"type": "string"},`, 1)
	s.Must(200, "PUT", "/admin/content-types/api::article.article", changed, adminToken)

	after := listOf(t, s.Must(200, "GET", "/api/articles", nil, ""))[0].(map[string]any)
	if _, ok := after["views"]; ok {
		t.Fatalf("views still shown after it became private: %v", after)
	}
	if v, ok := after["subtitle"]; !ok || v != nil {
		t.Fatalf("subtitle = %v (present %v), want null after it was added", v, ok)
	}
}

// TestNotModifiedOnlyForIdenticalBodies checks the entity tags: 304 when
// the tag sent is the current body's, and 200 with the new body and a new
// tag as soon as the body differs.
func TestNotModifiedOnlyForIdenticalBodies(t *testing.T) {
	s, _, full := cacheSetup(t)
	r := s.Must(201, "POST", "/api/articles", map[string]any{"data": map[string]any{
		"title": "Tagged"}}, full)
	one := "/api/articles/" + fmt.Sprint(dataOf(t, r)["documentId"])

	for _, path := range []string{"/api/articles", one} {
		first := get(s, path)
		tag := first.Header.Get("ETag")
		if first.Status != 200 || tag == "" {
			t.Fatalf("%s: status %d, ETag %q", path, first.Status, tag)
		}
		second := get(s, path)
		if second.Header.Get("ETag") != tag || !bytes.Equal(second.Body, first.Body) {
			t.Fatalf("%s: same body twice but tags %q and %q", path, tag, second.Header.Get("ETag"))
		}
		for _, inm := range []string{tag, `W/` + tag, `"other", ` + tag, "*"} {
			nm := get(s, path, "If-None-Match", inm)
			if nm.Status != 304 || len(nm.Body) != 0 || nm.Header.Get("ETag") != tag {
				t.Fatalf("%s with If-None-Match %s: status %d, body %q, ETag %q", path, inm,
					nm.Status, nm.Body, nm.Header.Get("ETag"))
			}
		}
		if r := get(s, path, "If-None-Match", `"not-it"`); r.Status != 200 {
			t.Fatalf("%s with another tag: status %d, want 200", path, r.Status)
		}
	}

	before := get(s, one)
	s.Must(200, "PUT", one, map[string]any{"data": map[string]any{"title": "Retagged"}}, full)
	after := get(s, one, "If-None-Match", before.Header.Get("ETag"))
	if after.Status != 200 || bytes.Equal(after.Body, before.Body) {
		t.Fatalf("after an update the old tag answered %d with body %s", after.Status, after.Body)
	}
	if after.Header.Get("ETag") == before.Header.Get("ETag") {
		t.Fatalf("the body changed but the tag stayed %s", after.Header.Get("ETag"))
	}
}

// TestCacheNeverServesWhatTheAskerMayNotSee: drafts, private attributes
// and revoked grants.
func TestCacheNeverServesWhatTheAskerMayNotSee(t *testing.T) {
	s, adminToken, full := cacheSetup(t)
	r := s.Must(201, "POST", "/api/articles", map[string]any{"data": map[string]any{
		"title": "Public", "secret": "s3cret"}}, full)
	id := fmt.Sprint(dataOf(t, r)["documentId"])
	s.Must(200, "PUT", "/api/articles/"+id+"?status=draft", map[string]any{"data": map[string]any{
		"title": "Draft only"}}, full)

	// The token may read drafts; the Public role may not, whatever was
	// read before.
	drafts := s.Must(200, "GET", "/api/articles?status=draft", nil, full)
	wantTitles(t, "drafts for the token", titles(t, drafts), "Draft only")
	s.Must(403, "GET", "/api/articles?status=draft", nil, "")
	s.Must(403, "GET", "/api/articles?status=draft", nil, "")

	// Editors see private attributes; a public answer never does, even
	// right after an editor's read of the same document.
	ed := s.Must(200, "GET", "/admin/content/api::article.article/"+id+"?status=published", nil,
		adminToken)
	if dataOf(t, ed)["secret"] != "s3cret" {
		t.Fatalf("the editor does not see the private attribute: %s", ed.Body)
	}
	if cc := ed.Header.Get("Cache-Control"); !strings.Contains(cc, "private") {
		t.Fatalf("editors' answer Cache-Control %q, want private", cc)
	}
	for range 2 {
		pub := s.Must(200, "GET", "/api/articles/"+id, nil, "")
		if bytes.Contains(pub.Body, []byte("secret")) {
			t.Fatalf("public answer shows the private attribute: %s", pub.Body)
		}
	}

	// Revoking the Public role's grants stops cached answers too.
	s.Must(200, "GET", "/api/articles", nil, "")
	s.Must(200, "PUT", "/admin/roles/public/permissions", map[string]any{
		"permissions": []string{}}, adminToken)
	s.Must(403, "GET", "/api/articles", nil, "")
	s.Must(403, "GET", "/api/articles/"+id, nil, "")
}

// TestCachedAnswersAreCompressed negotiates brotli and gzip and checks the
// gzip body decompresses to the identity body.
func TestCachedAnswersAreCompressed(t *testing.T) {
	s, _, full := cacheSetup(t)
	for i := range 10 {
		s.Must(201, "POST", "/api/articles", map[string]any{"data": map[string]any{
			"title": fmt.Sprintf("Article %d", i), "body": strings.Repeat("lorem ipsum ", 50),
		}}, full)
	}
	plain := get(s, "/api/articles", "Accept-Encoding", "identity")
	if plain.Header.Get("Content-Encoding") != "" {
		t.Fatalf("identity asked, got %q", plain.Header.Get("Content-Encoding"))
	}
	gz := get(s, "/api/articles", "Accept-Encoding", "gzip, br;q=0")
	if gz.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(gz.Header.Get("Vary"),
		"Accept-Encoding") {
		t.Fatalf("gzip: Content-Encoding %q, Vary %q", gz.Header.Get("Content-Encoding"),
			gz.Header.Get("Vary"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz.Body))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(body, plain.Body) {
		t.Fatalf("gzip body decompresses to %d bytes (%v), want the %d identity bytes", len(body),
			err, len(plain.Body))
	}
	if gz.Header.Get("ETag") != plain.Header.Get("ETag") {
		t.Fatalf("one body, two tags: %q and %q", gz.Header.Get("ETag"), plain.Header.Get("ETag"))
	}
	br := get(s, "/api/articles", "Accept-Encoding", "gzip, br")
	if br.Header.Get("Content-Encoding") != "br" || len(br.Body) >= len(plain.Body) {
		t.Fatalf("br: Content-Encoding %q, %d bytes for %d", br.Header.Get("Content-Encoding"),
			len(br.Body), len(plain.Body))
	}
}

// TestNoStaleReadUnderConcurrentReads updates a document again and again
// while readers keep the cache busy, and after every update expects the
// next read to show it: an answer read before a commit must never be kept
// after it.
func TestNoStaleReadUnderConcurrentReads(t *testing.T) {
	s, _, full := cacheSetup(t)
	r := s.Must(201, "POST", "/api/articles", map[string]any{"data": map[string]any{
		"title": "v0"}}, full)
	one := "/api/articles/" + fmt.Sprint(dataOf(t, r)["documentId"])

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				get(s, one)
				get(s, "/api/articles")
			}
		}()
	}
	defer func() {
		close(stop)
		wg.Wait()
	}()
	for i := 1; i <= 40; i++ {
		want := fmt.Sprintf("v%d", i)
		s.Must(200, "PUT", one, map[string]any{"data": map[string]any{"title": want}}, full)
		if got := dataOf(t, s.Must(200, "GET", one, nil, ""))["title"]; got != want {
			t.Fatalf("after update %d: one document shows %v", i, got)
		}
		wantTitles(t, "list after update "+want, titles(t, get(s, "/api/articles")), want)
	}
}
