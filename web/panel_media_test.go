package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/herald-cms/herald/web/webtest"
)

func TestPanelMediaLibraryUploadsEditsAndDeletes(t *testing.T) {
	s, _, super, full, _ := mediaSetup(t, webtest.Options{})

	// An upload without the session's CSRF token is refused.
	body, h := multipartBody(t, "", []part{{"cover.png", "image/png", pngImage(t, 3, 2)}})
	h.Set("Cookie", "herald_session="+super)
	if r := s.Send("POST", "/admin/media", body, h); r.Status != 403 {
		t.Fatalf("upload without CSRF: %d", r.Status)
	}
	r := send(s, "POST", call{path: "/admin/media", body: body,
		header: http.Header{"Content-Type": h["Content-Type"]}}, super)
	if r.Status != 303 || r.Header.Get("Location") != "/admin/media" {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}

	files := filesOf(t, s.Must(200, "GET", "/api/upload/files", nil, full))
	if len(files) != 1 {
		t.Fatalf("files: %v", files)
	}
	id, src := files[0]["id"], files[0]["url"].(string)
	page := send(s, "GET", call{path: "/admin/media"}, super)
	if page.Status != 200 || !strings.Contains(string(page.Body), `src="`+src+`"`) ||
		!strings.Contains(string(page.Body), "data-upload") {
		t.Fatalf("library page: %d %s", page.Status, page.Body)
	}
	detail := fmt.Sprintf("/admin/media/%v", id)
	page = send(s, "GET", call{path: detail}, super)
	if page.Status != 200 || !strings.Contains(string(page.Body), "3 × 2") {
		t.Fatalf("detail page: %d %s", page.Status, page.Body)
	}

	r = send(s, "POST", call{path: detail, body: url.Values{"name": {"../x"},
		"alternativeText": {"A cover"}, "caption": {""}}}, super)
	if r.Status != 422 || !strings.Contains(string(r.Body), "slashes") {
		t.Fatalf("bad name: %d %s", r.Status, r.Body)
	}
	r = send(s, "POST", call{path: detail, body: url.Values{"name": {"cover.png"},
		"alternativeText": {"A cover"}, "caption": {"Front"}}}, super)
	if r.Status != 303 {
		t.Fatalf("save: %d %s", r.Status, r.Body)
	}
	got := s.Must(200, "GET", fmt.Sprintf("/api/upload/files/%v", id), nil, full).Map(t)
	if got["alternativeText"] != "A cover" || got["caption"] != "Front" {
		t.Fatalf("after save: %v", got)
	}

	r = send(s, "POST", call{path: detail + "/delete", body: url.Values{}}, super)
	if r.Status != 303 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	s.Must(404, "GET", src, nil, "")
	if files := filesOf(t, s.Must(200, "GET", "/api/upload/files", nil, full)); len(files) != 0 {
		t.Fatalf("files after delete: %v", files)
	}
}
