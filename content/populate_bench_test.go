package content_test

import (
	"fmt"
	"testing"

	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/content/contenttest"
)

// BenchmarkFindPopulated lists 25 articles with their author (and the
// author's company) and three tags each, among 100 articles.
func BenchmarkFindPopulated(b *testing.B) {
	t := b
	blog := newBlog(t, contenttest.OpenSQLite(b))
	acme := blog.create(t, blog.company, map[string]any{"name": "Acme"}, false)
	var authors, tags []any
	for i := 0; i < 10; i++ {
		authors = append(authors, blog.create(t, blog.author, map[string]any{
			"name": fmt.Sprint("author ", i), "company": acme}, true))
		tags = append(tags, blog.create(t, blog.tag, map[string]any{"slug": fmt.Sprint("t", i)}, true))
	}
	for i := 0; i < 100; i++ {
		blog.create(t, blog.article, map[string]any{"title": fmt.Sprint("article ", i),
			"author": authors[i%10], "tags": tags[i%8 : i%8+3]}, true)
	}
	const q = "populate[author][populate]=company&populate[tags]=true"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := blog.svc.Find(blog.ctx, public, blog.article, q, content.ReadOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFindAcrossRelation filters 1,000 articles by their author's
// name (100 authors), 25 per page.
func BenchmarkFindAcrossRelation(b *testing.B) {
	blog := newBlog(b, contenttest.OpenSQLite(b))
	var authors []any
	for i := 0; i < 100; i++ {
		authors = append(authors, blog.create(b, blog.author, map[string]any{
			"name": fmt.Sprint("author ", i)}, true))
	}
	for i := 0; i < 1000; i++ {
		blog.create(b, blog.article, map[string]any{"title": fmt.Sprint("article ", i),
			"author": authors[i%100]}, true)
	}
	const q = "filters[author][name][$eq]=author%207"
	l, err := blog.svc.Find(blog.ctx, public, blog.article, q, content.ReadOptions{})
	if err != nil || len(l.Data) != 10 {
		b.Fatalf("found %v, %v; want 10", l, err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := blog.svc.Find(blog.ctx, public, blog.article, q, content.ReadOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
