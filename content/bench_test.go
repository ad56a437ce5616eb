package content_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/content/contenttest"
	"github.com/herald-cms/herald/content/schema"
)

// The benchmarks below measure the content API's hot paths without HTTP:
// reads that miss the response cache (compile, query, render), and a
// create that publishes. The webhooks package has the benchmarks of
// recording events (BenchmarkRecordFanOutToTenWebhooks) and claiming
// deliveries (BenchmarkClaim); webhooks/signature has signing. cmd/bench
// measures the whole server. None of them asserts a speed.

const articleSchema = `{"kind":"collectionType","info":{"singularName":"article",
	"pluralName":"articles","displayName":"Article"},"options":{"draftAndPublish":true},
	"attributes":{"title":{"type":"string","required":true},
	"slug":{"type":"uid","targetField":"title"},"body":{"type":"richtext"},
	"views":{"type":"integer","default":0}}}`

// benchArticle is the i-th article: a title, a body of about 1 KB and
// views spread over 0-999.
func benchArticle(i int) map[string]any {
	body := strings.Repeat(fmt.Sprintf("word%02d ", i%97), 150)[:1000]
	return map[string]any{
		"title": fmt.Sprintf("Article %d about %c", i, 'a'+rune(i*7%26)),
		"body":  body,
		"views": json.Number(fmt.Sprint(i * 7919 % 1000)),
	}
}

// articles returns a service on a fresh database holding n published
// articles, written straight into the entries table (as cmd/bench seeds
// large sets) after the type and its indexes were created.
func articles(tb testing.TB, n int) (*content.Service, *content.Type) {
	tb.Helper()
	ctx := context.Background()
	db := contenttest.OpenDB(tb)
	svc, err := content.NewService(ctx, db, content.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	sc, err := schema.Parse([]byte(articleSchema))
	if err != nil {
		tb.Fatal(err)
	}
	t, err := svc.CreateType(ctx, sc)
	if err != nil {
		tb.Fatal(err)
	}
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	err = db.Write.Transaction(func(tx *gorm.DB) error {
		for i := range n {
			a := benchArticle(i)
			a["slug"] = schema.Slugify(a["title"].(string))
			data, err := json.Marshal(a)
			if err != nil {
				return err
			}
			id := content.NewDocumentID()
			for _, pub := range []*time.Time{nil, &at} {
				err := tx.Exec(`INSERT INTO entries (document_id, content_type, published_at, data,
					created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
					id, t.UID, pub, string(data), at, at).Error
				if err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return svc, t
}

var public = content.Actor{Kind: content.ActorPublic, Name: "public", Policy: content.AllowAll}

func benchFind(b *testing.B, n int, rawQuery string) {
	svc, t := articles(b, n)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := svc.Find(ctx, public, t, rawQuery, content.ReadOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFindListOf25 is the default list of 25 among 1,000 articles.
func BenchmarkFindListOf25(b *testing.B) { benchFind(b, 1000, "") }

// BenchmarkFindFilterSort is views > 500, sorted by title, 10 per page.
func BenchmarkFindFilterSort(b *testing.B) {
	benchFind(b, 1000, "filters[views][$gt]=500&sort=title&pagination[pageSize]=10")
}

// BenchmarkFindFilterSort10k is the same among 10,000 articles.
func BenchmarkFindFilterSort10k(b *testing.B) {
	benchFind(b, 10000, "filters[views][$gt]=500&sort=title&pagination[pageSize]=10")
}

// BenchmarkFindOne reads one document by documentId.
func BenchmarkFindOne(b *testing.B) {
	svc, t := articles(b, 1000)
	ctx := context.Background()
	list, err := svc.Find(ctx, public, t, "pagination[pageSize]=1", content.ReadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	var doc struct {
		DocumentID string `json:"documentId"`
	}
	if err := json.Unmarshal(list.Data[0], &doc); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_, err := svc.FindOne(ctx, public, t, doc.DocumentID, "", content.ReadOptions{})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateAndPublish creates and publishes one article among 1,000
// (no webhooks: see the webhooks package for recording's cost).
func BenchmarkCreateAndPublish(b *testing.B) {
	svc, t := articles(b, 1000)
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_, err := svc.Create(ctx, content.SystemActor, t, benchArticle(1_000_000+i),
			content.WriteOptions{Publish: true})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFindFilterSortNoCount10k is the filter without its total
// (pagination[withCount]=false) among 10,000 articles.
func BenchmarkFindFilterSortNoCount10k(b *testing.B) {
	benchFind(b, 10000,
		"filters[views][$gt]=500&sort=title&pagination[pageSize]=10&pagination[withCount]=false")
}
