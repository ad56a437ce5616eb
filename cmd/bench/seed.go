package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/content/schema"
	"github.com/herald-cms/herald/migrations"
)

// articleSchema is the content type every scenario reads and writes.
const articleSchema = `{
  "kind": "collectionType", "collectionName": "articles",
  "info": {"singularName": "article", "pluralName": "articles", "displayName": "Article"},
  "options": {"draftAndPublish": true},
  "attributes": {
    "title": {"type": "string", "required": true},
    "slug":  {"type": "uid", "targetField": "title"},
    "body":  {"type": "richtext"},
    "views": {"type": "integer", "default": 0}
  }
}`

const articleUID = "api::article.article"

var words = strings.Fields(`herald signal lantern harbour meadow copper violet
	orbit cedar quartz ember willow falcon river summit canyon atlas beacon
	cobalt dune echo fjord glacier horizon island jade kestrel lagoon marble
	nectar onyx prairie quill raven saffron tundra umber valley wander yonder
	zephyr amber birch coral delta fable garnet hazel indigo juniper`)

// article is the i-th article of the data set: a title of random words, a
// body of about 1 KB, and views spread over 0-999 (each value once in
// every thousand articles).
type article struct {
	Title string `json:"title"`
	Body  string `json:"body"`
	Views int    `json:"views"`
}

func makeArticle(i int) article {
	rng := rand.New(rand.NewPCG(uint64(i), 0x5eed))
	var t strings.Builder
	for j := range 3 {
		w := words[rng.IntN(len(words))]
		if j == 0 {
			w = strings.ToUpper(w[:1]) + w[1:]
		}
		t.WriteString(w)
		t.WriteByte(' ')
	}
	t.WriteString(strconv.Itoa(i))
	var b strings.Builder
	for b.Len() < 1000 {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(words[rng.IntN(len(words))])
	}
	b.WriteByte('.')
	views := (i%1000)*7919%1000 + 0
	return article{Title: t.String(), Body: b.String(), Views: views}
}

// seedAPI creates and publishes articles first..first+n-1 through the REST
// API with conc requests at a time.
func seedAPI(ctx context.Context, c *client, token string, first, n, conc int) error {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	work := make(chan int)
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				body := map[string]any{"data": makeArticle(i)}
				if err := c.do(ctx, "POST", "/api/articles", token, body, 201, nil); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := first; i < first+n; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	return firstErr
}

// seedRow is one row of the entries table, as Herald writes it.
type seedRow struct {
	ID          int64 `gorm:"primaryKey"`
	DocumentID  string
	ContentType string
	PublishedAt *time.Time
	Data        string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (seedRow) TableName() string { return "entries" }

// seedDatabase builds a data directory holding n published articles
// without going through HTTP: it migrates a fresh SQLite database with
// Herald's own migrations, writes each article's draft and published rows
// exactly as Herald stores them (data normalised the same way, the slug
// that Herald would generate), in transactions of 5,000 rows, and then
// creates the article type through Herald's content service, which builds
// the type's indexes over the rows. Herald is not running meanwhile.
func seedDatabase(ctx context.Context, dataDir string, n int) error {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return err
	}
	db, err := content.OpenDB(ctx, "", dataDir)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := migrations.Up(ctx, db.SQL(), string(db.Dialect)); err != nil {
		return err
	}
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	const batch = 2500
	rows := make([]seedRow, 0, 2*batch)
	for i := 0; i < n; i++ {
		a := makeArticle(i)
		data, err := json.Marshal(map[string]any{
			"title": a.Title, "slug": schema.Slugify(a.Title), "body": a.Body, "views": a.Views,
		})
		if err != nil {
			return err
		}
		at := base.Add(time.Duration(i) * time.Second)
		pub := at.Add(time.Millisecond)
		id := content.NewDocumentID()
		rows = append(rows,
			seedRow{DocumentID: id, ContentType: articleUID, Data: string(data),
				CreatedAt: at, UpdatedAt: at},
			seedRow{DocumentID: id, ContentType: articleUID, Data: string(data),
				CreatedAt: at, UpdatedAt: at, PublishedAt: &pub})
		if len(rows) == cap(rows) || i == n-1 {
			if err := db.Write.WithContext(ctx).Create(&rows).Error; err != nil {
				return fmt.Errorf("seed entries: %w", err)
			}
			rows = rows[:0]
		}
	}
	svc, err := content.NewService(ctx, db, content.Config{})
	if err != nil {
		return err
	}
	sc, err := schema.Parse([]byte(articleSchema))
	if err != nil {
		return err
	}
	if _, err := svc.CreateType(ctx, sc); err != nil {
		return fmt.Errorf("create article type: %w", err)
	}
	return nil
}
