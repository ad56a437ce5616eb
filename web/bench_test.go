package web_test

import (
	"fmt"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/herald-cms/herald/web/webtest"
)

// benchRead measures the server's own cost of one content API read, from
// the parsed request to the written response, without the network: the
// whole middleware chain (request log, security headers, CORS,
// authentication), the route, and the handler answering from the response
// cache (or, with header "Cache-Control: no-cache", from the database).
// cmd/bench measures the same over real connections.
func benchRead(b *testing.B, path string, headers ...string) {
	s := webtest.Start(b, webtest.Options{})
	adminToken := s.RegisterAdmin()
	s.CreateType(adminToken, articleSchema)
	full := s.CreateToken(adminToken, "full", "full-access")
	s.Must(200, "PUT", "/admin/roles/public/permissions", map[string]any{"permissions": []string{
		"api::article.article.find", "api::article.article.findOne"}}, adminToken)
	var id string
	for i := range 25 {
		r := s.Must(201, "POST", "/api/articles", map[string]any{"data": map[string]any{
			"title": fmt.Sprintf("Article %d", i), "views": i}}, full)
		var out struct {
			Data struct {
				DocumentID string `json:"documentId"`
			} `json:"data"`
		}
		r.JSON(b, &out)
		id = out.Data.DocumentID
	}
	if path == "one" {
		path = "/api/articles/" + id
	}
	handler := s.App.Handler()
	var ctx fasthttp.RequestCtx
	b.ReportAllocs()
	for b.Loop() {
		ctx.Request.Reset()
		ctx.Response.Reset()
		ctx.ResetUserValues()
		ctx.Request.Header.SetMethod("GET")
		ctx.Request.SetRequestURI(path)
		for i := 0; i+1 < len(headers); i += 2 {
			ctx.Request.Header.Set(headers[i], headers[i+1])
		}
		handler(&ctx)
		if ctx.Response.StatusCode() != 200 {
			b.Fatalf("status %d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
		}
	}
}

// BenchmarkServeCachedList is a list of 25 from the response cache.
func BenchmarkServeCachedList(b *testing.B) { benchRead(b, "/api/articles") }

// BenchmarkServeCachedDocument is one document from the response cache.
func BenchmarkServeCachedDocument(b *testing.B) { benchRead(b, "one") }

// BenchmarkServeUncachedList is a list of 25 read from the database.
func BenchmarkServeUncachedList(b *testing.B) {
	benchRead(b, "/api/articles", "Cache-Control", "no-cache")
}
