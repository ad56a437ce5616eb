package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/herald-cms/herald/web/webtest"
	"github.com/herald-cms/herald/webhooks/signature"
	"github.com/herald-cms/herald/webhooks/webhookstest"
)

const (
	writerSchema = `{"kind":"collectionType","info":{"singularName":"writer",
		"pluralName":"writers"},"options":{"draftAndPublish":true},
		"attributes":{"name":{"type":"string"}}}`
	storySchema = `{"kind":"collectionType","info":{"singularName":"story",
		"pluralName":"stories"},"options":{"draftAndPublish":true},
		"attributes":{"title":{"type":"string"},
		"writer":{"type":"relation","relation":"manyToOne","target":"api::writer.writer",
			"inversedBy":"stories"},
		"cover":{"type":"media","allowedTypes":["images"]}}}`
)

// storySetup starts Herald with writers and stories readable by the
// Public role.
func storySetup(t *testing.T) (s *webtest.Server, adminToken, full string) {
	t.Helper()
	s, _, adminToken, full, _ = mediaSetup(t, webtest.Options{})
	s.CreateType(adminToken, writerSchema)
	s.CreateType(adminToken, storySchema)
	s.Must(200, "PUT", "/admin/roles/public/permissions", map[string]any{"permissions": []string{
		"api::writer.writer.find", "api::writer.writer.findOne",
		"api::story.story.find", "api::story.story.findOne"}}, adminToken)
	return s, adminToken, full
}

// TestPopulatedAnswersOverHTTP writes relations and media through the
// REST API and reads them populated, through the response cache, after
// changes to the linked documents and files.
func TestPopulatedAnswersOverHTTP(t *testing.T) {
	s, _, full := storySetup(t)
	up := upload(t, s, "/api/upload", full, []part{{"c.png", "", pngImage(t, 2, 2)}})
	if up.Status != 201 {
		t.Fatalf("upload: %d %s", up.Status, up.Body)
	}
	fileID := filesOf(t, up)[0]["id"]

	w := dataOf(t, s.Must(201, "POST", "/api/writers", map[string]any{"data": map[string]any{
		"name": "Ann"}}, full))["documentId"].(string)
	r := s.Must(201, "POST", "/api/stories", map[string]any{"data": map[string]any{
		"title": "One", "writer": w, "cover": fileID}}, full)
	story := dataOf(t, r)["documentId"].(string)

	const list = "/api/stories?populate=*"
	name := func() any {
		d := listOf(t, get(s, list))
		return d[0].(map[string]any)["writer"].(map[string]any)["name"]
	}
	// Twice: the second answer comes from the cache.
	if name() != "Ann" || name() != "Ann" {
		t.Fatalf("populated writer: %v", name())
	}
	s.Must(200, "PUT", "/api/writers/"+w, map[string]any{"data": map[string]any{
		"name": "Anna"}}, full)
	if got := name(); got != "Anna" {
		t.Fatalf("after the writer changed, the cached story shows %v", got)
	}
	cover := func() any { return listOf(t, get(s, list))[0].(map[string]any)["cover"] }
	if c, _ := cover().(map[string]any); c["name"] != "c.png" {
		t.Fatalf("cover: %v", cover())
	}
	s.Must(200, "DELETE", fmt.Sprintf("/api/upload/files/%v", fileID), nil, full)
	if c := cover(); c != nil {
		t.Fatalf("after the file was deleted, the cached story shows cover %v", c)
	}

	// The other side, and a filter across the relation.
	wr := dataOf(t, s.Must(200, "GET", "/api/writers/"+w+"?populate=stories", nil, ""))
	if st := wr["stories"].([]any); len(st) != 1 || st[0].(map[string]any)["title"] != "One" {
		t.Fatalf("writer's stories: %v", wr["stories"])
	}
	found := listOf(t, s.Must(200, "GET", "/api/stories?filters[writer][name][$eq]=Anna", nil, ""))
	if len(found) != 1 || found[0].(map[string]any)["documentId"] != story {
		t.Fatalf("filter across the relation: %v", found)
	}
	r = s.Must(400, "GET", "/api/stories?populate=nothing", nil, "")
	if errorName(t, r) != "ValidationError" {
		t.Fatalf("unknown populate: %s", r.Body)
	}
	r = s.Must(400, "PUT", "/api/stories/"+story, map[string]any{"data": map[string]any{
		"writer": "nosuchdocument"}}, full)
	if errorName(t, r) != "ValidationError" {
		t.Fatalf("unknown target: %s", r.Body)
	}
}

// TestEntryWebhooksCarryRelations checks that a delivered, signed entry
// event shows the linked writer.
func TestEntryWebhooksCarryRelations(t *testing.T) {
	s, adminToken, full := storySetup(t)
	rcv := webhookstest.NewReceiver(t, webhookstest.Status(http.StatusNoContent))
	r := s.Must(201, "POST", "/admin/webhooks", map[string]any{
		"name": "stories", "url": rcv.URL, "events": []string{"entry.publish"},
	}, adminToken)
	secret := dataOf(t, r)["secret"].(string)
	w := dataOf(t, s.Must(201, "POST", "/api/writers", map[string]any{"data": map[string]any{
		"name": "Ann"}}, full))["documentId"].(string)
	s.Must(201, "POST", "/api/stories", map[string]any{"data": map[string]any{
		"title": "One", "writer": w}}, full)

	rcv.WaitCount(t, 2, 10*time.Second)
	var story map[string]any
	for _, d := range rcv.Requests() {
		v := signature.Verifier{Secrets: []string{secret}}
		if err := v.Verify(d.Header, d.Body); err != nil {
			t.Fatalf("signature: %v", err)
		}
		var payload struct {
			Model string         `json:"model"`
			Entry map[string]any `json:"entry"`
		}
		if err := json.Unmarshal(d.Body, &payload); err != nil {
			t.Fatal(err)
		}
		if payload.Model == "story" {
			story = payload.Entry
		}
	}
	wr, _ := story["writer"].(map[string]any)
	if wr["name"] != "Ann" {
		t.Fatalf("story.publish entry: %v", story)
	}
}

// TestUploadPermissionsCanBeGranted grants the upload API to a custom
// token and to the Public role.
func TestUploadPermissionsCanBeGranted(t *testing.T) {
	s, _, adminToken, full, _ := mediaSetup(t, webtest.Options{})
	up := upload(t, s, "/api/upload", full, []part{{"c.png", "", pngImage(t, 2, 2)}})
	if up.Status != 201 {
		t.Fatalf("upload: %d %s", up.Status, up.Body)
	}
	s.Must(403, "GET", "/api/upload/files", nil, "")
	s.Must(200, "PUT", "/admin/roles/public/permissions", map[string]any{"permissions": []string{
		"plugin::upload.file.find"}}, adminToken)
	if files := filesOf(t, s.Must(200, "GET", "/api/upload/files", nil, "")); len(files) != 1 {
		t.Fatalf("public list: %v", files)
	}
	s.Must(400, "PUT", "/admin/roles/public/permissions", map[string]any{"permissions": []string{
		"plugin::upload.file.delete"}}, adminToken)

	r := s.Must(201, "POST", "/admin/api-tokens", map[string]any{"name": "uploader",
		"type": "custom", "permissions": []string{"plugin::upload.file.create"}}, adminToken)
	key := dataOf(t, r)["accessKey"].(string)
	if up := upload(t, s, "/api/upload", key, []part{{"d.png", "", pngImage(t, 1, 1)}}); up.Status != 201 {
		t.Fatalf("custom token upload: %d %s", up.Status, up.Body)
	}
	s.Must(403, "GET", "/api/upload/files/1", nil, key)
}
