package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herald-cms/herald/admin"
	"github.com/herald-cms/herald/web/webtest"
	"github.com/herald-cms/herald/webhooks/signature"
	"github.com/herald-cms/herald/webhooks/webhookstest"
)

// part is one file of a multipart upload.
type part struct {
	name, contentType string
	body              []byte
}

// multipartBody builds an upload request body with the files and optional
// fileInfo values, and its headers.
func multipartBody(t *testing.T, token string, files []part, infos ...string) ([]byte, http.Header) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition",
			fmt.Sprintf(`form-data; name="files"; filename=%q`, p.name))
		h.Set("Content-Type", p.contentType)
		pw, err := w.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		pw.Write(p.body)
	}
	for _, info := range infos {
		w.WriteField("fileInfo", info)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	h := http.Header{"Content-Type": {w.FormDataContentType()}}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	return buf.Bytes(), h
}

// upload posts files to path and returns the answer.
func upload(t *testing.T, s *webtest.Server, path, token string, files []part,
	infos ...string) *webtest.Response {
	t.Helper()
	body, h := multipartBody(t, token, files, infos...)
	return s.Send("POST", path, body, h)
}

// pngImage encodes a w×h PNG.
func pngImage(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	img.Set(0, 0, color.RGBA{R: 255, A: 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// filesOf decodes the upload API's bare list of files.
func filesOf(t *testing.T, r *webtest.Response) []map[string]any {
	t.Helper()
	var out []map[string]any
	r.JSON(t, &out)
	return out
}

// mediaSetup starts Herald with its uploads in a directory of its own
// inside root, so a test can see whether anything was written beside it.
func mediaSetup(t *testing.T, o webtest.Options) (s *webtest.Server, root, adminToken, full,
	readOnly string) {
	t.Helper()
	root = t.TempDir()
	o.UploadDir = filepath.Join(root, "uploads")
	s = webtest.Start(t, o)
	adminToken = s.RegisterAdmin()
	full = s.CreateToken(adminToken, "full", admin.TokenFullAccess)
	readOnly = s.CreateToken(adminToken, "reader", admin.TokenReadOnly)
	return s, root, adminToken, full, readOnly
}

func TestUploadPNGRecordsSniffedTypeAndSize(t *testing.T) {
	s, _, _, full, readOnly := mediaSetup(t, webtest.Options{})
	img := pngImage(t, 3, 2)

	// The client's type is a lie; the content decides.
	r := upload(t, s, "/api/upload", full, []part{{"cover.png", "text/html", img}},
		`{"alternativeText":"A red dot","caption":"Cover"}`)
	if r.Status != 201 {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	files := filesOf(t, r)
	if len(files) != 1 {
		t.Fatalf("files: %s", r.Body)
	}
	f := files[0]
	if f["mime"] != "image/png" || f["width"] != 3.0 || f["height"] != 2.0 || f["ext"] != ".png" ||
		f["name"] != "cover.png" || f["alternativeText"] != "A red dot" || f["caption"] != "Cover" {
		t.Fatalf("file: %v", f)
	}
	url := f["url"].(string)
	if url != "/uploads/"+f["hash"].(string)+".png" || len(f["documentId"].(string)) != 24 {
		t.Fatalf("url %q, documentId %v", url, f["documentId"])
	}

	got := s.Do("GET", url, nil, "")
	if got.Status != 200 || !bytes.Equal(got.Body, img) ||
		got.Header.Get("Content-Type") != "image/png" ||
		got.Header.Get("X-Content-Type-Options") != "nosniff" ||
		!strings.HasPrefix(got.Header.Get("Content-Disposition"), "inline") {
		t.Fatalf("serve: %d %v", got.Status, got.Header)
	}

	// A read-only token reads the library; the list and one file agree.
	list := filesOf(t, s.Must(200, "GET", "/api/upload/files", nil, readOnly))
	if len(list) != 1 || list[0]["id"] != f["id"] {
		t.Fatalf("list: %v", list)
	}
	one := s.Must(200, "GET", fmt.Sprintf("/api/upload/files/%v", f["id"]), nil, readOnly).Map(t)
	if one["hash"] != f["hash"] || one["size"] != f["size"] {
		t.Fatalf("one: %v", one)
	}
	s.Must(404, "GET", "/api/upload/files/999", nil, readOnly)
	s.Must(400, "GET", "/api/upload/files?filters[x]=1", nil, readOnly)
}

func TestUploadRefusesMarkupAndServesOthersSafely(t *testing.T) {
	s, _, _, full, _ := mediaSetup(t, webtest.Options{})
	for _, c := range []struct {
		name, file string
		body       string
		status     int
		mime       string
		inline     bool
	}{
		{"HTML named .png", "photo.png", "<!DOCTYPE html><script>alert(1)</script>", 400, "", false},
		{"SVG named .png", "photo.png", `<svg xmlns="http://www.w3.org/2000/svg"></svg>`, 400, "", false},
		{"XML prolog", "data.txt", `<?xml version="1.0"?><svg/>`, 400, "", false},
		{"text named .html", "page.html", "just words", 400, "", false},
		{"text named .js", "app.js", "just words", 400, "", false},
		{"plain text", "notes.txt", "just words", 201, "text/plain", true},
		{"binary", "blob.bin", "\x00\x01\x02\x03binary", 201, "application/octet-stream", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := upload(t, s, "/api/upload", full, []part{{c.file, "image/png", []byte(c.body)}})
			if r.Status != c.status {
				t.Fatalf("status %d, want %d: %s", r.Status, c.status, r.Body)
			}
			if c.status != 201 {
				return
			}
			f := filesOf(t, r)[0]
			if f["mime"] != c.mime {
				t.Fatalf("mime %v, want %s", f["mime"], c.mime)
			}
			got := s.Must(200, "GET", f["url"].(string), nil, "")
			cd := got.Header.Get("Content-Disposition")
			if strings.HasPrefix(cd, "inline") != c.inline ||
				got.Header.Get("X-Content-Type-Options") != "nosniff" ||
				!strings.HasPrefix(got.Header.Get("Content-Type"), c.mime) {
				t.Fatalf("served with %v", got.Header)
			}
		})
	}
}

func TestUploadOverTheLimitIs413(t *testing.T) {
	s, root, _, full, _ := mediaSetup(t, webtest.Options{UploadLimit: 1000})
	r := upload(t, s, "/api/upload", full, []part{{"big.bin", "", bytes.Repeat([]byte{1}, 2000)}})
	if r.Status != 413 || errorName(t, r) != "PayloadTooLargeError" {
		t.Fatalf("status %d: %s", r.Status, r.Body)
	}
	if n := countFiles(t, root); n != 0 {
		t.Fatalf("%d files left behind", n)
	}
	upload(t, s, "/api/upload", full, []part{{"small.bin", "", bytes.Repeat([]byte{1}, 900)}})
	if n := countFiles(t, root); n != 1 {
		t.Fatalf("%d files after a small upload", n)
	}
}

// countFiles counts the regular files anywhere under root.
func countFiles(t *testing.T, root string) int {
	t.Helper()
	n := 0
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return nil
	})
	return n
}

func TestUploadNamesCannotTraverse(t *testing.T) {
	s, root, _, full, _ := mediaSetup(t, webtest.Options{})
	img := pngImage(t, 1, 1)
	for _, name := range []string{"../../etc/passwd", "a/b.png", `..\..\x.png`, "%2e%2e",
		"%2e%2e%2fx.png", ".."} {
		r := upload(t, s, "/api/upload", full, []part{{name, "image/png", img}})
		switch r.Status {
		case 400:
		case 201:
			// Go's multipart reader keeps only the last path element; what
			// is left must be harmless.
			f := filesOf(t, r)[0]
			stored := f["name"].(string)
			if strings.ContainsAny(stored, `/\`) || strings.Contains(stored, "..") {
				t.Errorf("%q stored as %q", name, stored)
			}
		default:
			t.Errorf("%q: status %d %s", name, r.Status, r.Body)
		}
	}
	// Names given in fileInfo are refused outright.
	for _, name := range []string{"../../etc/passwd", "a/b.png", "%2e%2e", "a\x00b", "a\nb"} {
		info, _ := json.Marshal(map[string]string{"name": name})
		r := upload(t, s, "/api/upload", full, []part{{"ok.png", "image/png", img}}, string(info))
		if r.Status != 400 {
			t.Errorf("fileInfo name %q: status %d %s", name, r.Status, r.Body)
		}
	}
	// Everything written is directly inside the uploads directory.
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && filepath.Dir(p) != filepath.Join(root, "uploads") {
			t.Errorf("file written outside the uploads directory: %s", p)
		}
		return nil
	})
	s.Must(404, "GET", "/uploads/..%2f..%2fetc%2fpasswd", nil, "")
	s.Must(404, "GET", "/uploads/%2e%2e", nil, "")
}

func TestMediaAccessByPrincipal(t *testing.T) {
	s, _, adminToken, full, readOnly := mediaSetup(t, webtest.Options{})
	img := pngImage(t, 1, 1)
	if r := upload(t, s, "/api/upload", readOnly, []part{{"a.png", "", img}}); r.Status != 403 {
		t.Fatalf("read-only upload: %d %s", r.Status, r.Body)
	}
	if r := upload(t, s, "/api/upload", "", []part{{"a.png", "", img}}); r.Status != 403 {
		t.Fatalf("public upload: %d %s", r.Status, r.Body)
	}
	s.Must(403, "GET", "/api/upload/files", nil, "")
	if r := upload(t, s, "/api/upload", adminToken, []part{{"a.png", "", img}}); r.Status != 401 {
		t.Fatalf("admin token on the content API: %d %s", r.Status, r.Body)
	}
	r := upload(t, s, "/admin/upload", adminToken, []part{{"a.png", "", img}})
	if r.Status != 201 {
		t.Fatalf("admin upload: %d %s", r.Status, r.Body)
	}
	id := filesOf(t, r)[0]["id"]
	path := fmt.Sprintf("/api/upload/files/%v", id)
	s.Must(403, "DELETE", path, nil, readOnly)
	s.Must(403, "PUT", path, `{"caption":"x"}`, readOnly)
	s.Must(200, "PUT", path, `{"caption":"x"}`, full)
	s.Must(200, "DELETE", path, nil, full)
}

func TestMediaEventsAreDeliveredSignedAndDeleteRemovesTheFile(t *testing.T) {
	s, root, adminToken, full, _ := mediaSetup(t, webtest.Options{})
	rcv := webhookstest.NewReceiver(t, webhookstest.Status(http.StatusNoContent))
	r := s.Must(201, "POST", "/admin/webhooks", map[string]any{
		"name": "media", "url": rcv.URL,
		"events": []string{"media.create", "media.update", "media.delete"},
	}, adminToken)
	secret := dataOf(t, r)["secret"].(string)

	up := upload(t, s, "/api/upload", full, []part{{"dot.png", "", pngImage(t, 4, 5)}})
	if up.Status != 201 {
		t.Fatalf("upload: %d %s", up.Status, up.Body)
	}
	f := filesOf(t, up)[0]
	id := f["id"]

	// Strapi v5's update: POST /api/upload?id= with fileInfo.
	body, h := multipartBody(t, full, nil, `{"name":"renamed.png","alternativeText":"Dot"}`)
	r = s.Send("POST", fmt.Sprintf("/api/upload?id=%v", id), body, h)
	if r.Status != 200 || r.Map(t)["name"] != "renamed.png" || r.Map(t)["alternativeText"] != "Dot" {
		t.Fatalf("update: %d %s", r.Status, r.Body)
	}
	if n := countFiles(t, root); n != 1 {
		t.Fatalf("%d stored files", n)
	}
	s.Must(200, "DELETE", fmt.Sprintf("/api/upload/files/%v", id), nil, full)
	if n := countFiles(t, root); n != 0 {
		t.Fatalf("%d stored files after delete", n)
	}
	s.Must(404, "GET", f["url"].(string), nil, "")
	s.Must(404, "GET", fmt.Sprintf("/api/upload/files/%v", id), nil, full)

	rcv.WaitCount(t, 3, 10*time.Second)
	got := rcv.Requests()
	seen := map[string]map[string]any{}
	for _, d := range got {
		v := signature.Verifier{Secrets: []string{secret}}
		if err := v.Verify(d.Header, d.Body); err != nil {
			t.Fatalf("signature: %v", err)
		}
		var payload map[string]any
		if err := json.Unmarshal(d.Body, &payload); err != nil {
			t.Fatal(err)
		}
		if _, ok := payload["createdAt"].(string); !ok || len(payload) != 3 {
			t.Fatalf("payload shape: %s", d.Body)
		}
		seen[payload["event"].(string)] = payload["media"].(map[string]any)
	}
	for _, ev := range []string{"media.create", "media.update", "media.delete"} {
		m := seen[ev]
		if m == nil || m["id"] != id || m["hash"] != f["hash"] || m["mime"] != "image/png" {
			t.Fatalf("%s: %v", ev, m)
		}
	}
	if seen["media.update"]["name"] != "renamed.png" || seen["media.create"]["width"] != 4.0 {
		t.Fatalf("media in events: %v", seen)
	}
}

// TestMultiFileUploadIsAllOrNothing sends a good file with a refused one:
// neither is stored, recorded or announced.
func TestMultiFileUploadIsAllOrNothing(t *testing.T) {
	s, root, _, full, _ := mediaSetup(t, webtest.Options{})
	r := upload(t, s, "/api/upload", full, []part{
		{"ok.png", "", pngImage(t, 2, 2)},
		{"page.html", "", []byte("<!doctype html><html><script>alert(1)</script></html>")},
	})
	if r.Status != 400 {
		t.Fatalf("upload with a refused file: %d %s", r.Status, r.Body)
	}
	if n := countFiles(t, root); n != 0 {
		t.Fatalf("%d files left stored", n)
	}
	if files := filesOf(t, s.Must(200, "GET", "/api/upload/files", nil, full)); len(files) != 0 {
		t.Fatalf("files recorded: %v", files)
	}
	r = upload(t, s, "/api/upload", full, []part{
		{"a.png", "", pngImage(t, 2, 2)}, {"b.png", "", pngImage(t, 3, 3)}})
	if r.Status != 201 || len(filesOf(t, r)) != 2 || countFiles(t, root) != 2 {
		t.Fatalf("two good files: %d %s", r.Status, r.Body)
	}
}

func TestUploadsAnswerByteRanges(t *testing.T) {
	s, _, _, full, _ := mediaSetup(t, webtest.Options{})
	// Plain text compresses, so the test also shows that a range is never
	// compressed.
	text := []byte(strings.Repeat("0123456789", 100))
	r := upload(t, s, "/api/upload", full, []part{{"digits.txt", "text/plain", text}})
	if r.Status != 201 {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	url := filesOf(t, r)[0]["url"].(string)
	get := func(rng string, more ...string) *webtest.Response {
		h := http.Header{"Accept-Encoding": {"gzip, br"}}
		if rng != "" {
			h.Set("Range", rng)
		}
		for i := 0; i+1 < len(more); i += 2 {
			h.Set(more[i], more[i+1])
		}
		return s.Send("GET", url, nil, h)
	}

	whole := get("")
	if whole.Status != 200 || whole.Header.Get("Accept-Ranges") != "bytes" {
		t.Fatalf("whole file: %d, Accept-Ranges %q", whole.Status, whole.Header.Get("Accept-Ranges"))
	}
	for _, c := range []struct {
		rng, contentRange string
		body              []byte
	}{
		{"bytes=10-19", "bytes 10-19/1000", text[10:20]},
		{"bytes=995-", "bytes 995-999/1000", text[995:]},
		{"bytes=-3", "bytes 997-999/1000", text[997:]},
		{"bytes=990-5000", "bytes 990-999/1000", text[990:]},
		{"bytes=0-599", "bytes 0-599/1000", text[:600]},
	} {
		got := get(c.rng)
		if got.Status != 206 || got.Header.Get("Content-Range") != c.contentRange ||
			got.Header.Get("Content-Encoding") != "" || !bytes.Equal(got.Body, c.body) ||
			got.Header.Get("Content-Length") != fmt.Sprint(len(c.body)) {
			t.Errorf("%s: %d, Content-Range %q, Content-Encoding %q, Content-Length %q, body %q",
				c.rng, got.Status, got.Header.Get("Content-Range"),
				got.Header.Get("Content-Encoding"), got.Header.Get("Content-Length"), got.Body)
		}
		if got.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: a part lost the safety headers: %v", c.rng, got.Header)
		}
	}

	past := get("bytes=1000-")
	if past.Status != 416 || past.Header.Get("Content-Range") != "bytes */1000" {
		t.Errorf("past the end: %d, Content-Range %q", past.Status, past.Header.Get("Content-Range"))
	}
	// Several ranges, or an If-Range Herald cannot check, get the whole
	// file, as HTTP allows.
	for _, got := range []*webtest.Response{
		get("bytes=0-1,5-6"),
		get("bytes=0-1", "If-Range", `"x"`),
		get("bytes=oops"),
	} {
		if got.Status != 200 || got.Header.Get("Content-Range") != "" {
			t.Errorf("want the whole file, got %d %q", got.Status, got.Header.Get("Content-Range"))
		}
	}
}
