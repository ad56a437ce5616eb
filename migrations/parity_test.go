package migrations_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/content/contenttest"
	"github.com/herald-cms/herald/content/schema"
)

// columns lists "table.column" for every table the migrations made,
// leaving out goose's own bookkeeping.
func columns(t *testing.T, db *content.DB) []string {
	t.Helper()
	var out []string
	var rows []struct{ Table, Column string }
	var err error
	if db.Dialect == content.Postgres {
		err = db.Read.Raw(`SELECT table_name AS "table", column_name AS "column"
			FROM information_schema.columns WHERE table_schema = current_schema()`).Scan(&rows).Error
	} else {
		err = db.Read.Raw(`SELECT m.name AS "table", p.name AS "column"
			FROM sqlite_master m JOIN pragma_table_info(m.name) p
			WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'`).Scan(&rows).Error
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if strings.HasPrefix(r.Table, "goose_") {
			continue
		}
		out = append(out, r.Table+"."+r.Column)
	}
	sort.Strings(out)
	return out
}

// indexes lists the names of the indexes the migrations made.
func indexes(t *testing.T, db *content.DB) []string {
	t.Helper()
	var names []string
	var err error
	if db.Dialect == content.Postgres {
		err = db.Read.Raw(`SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()
			AND indexname NOT LIKE '%_pkey' AND indexname NOT LIKE '%_key'
			AND indexname NOT LIKE 'goose_%'`).Scan(&names).Error
	} else {
		err = db.Read.Raw(`SELECT name FROM sqlite_master WHERE type = 'index'
			AND name NOT LIKE 'sqlite_%'`).Scan(&names).Error
	}
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	return names
}

func TestBothDialectsHaveTheSameSchema(t *testing.T) {
	lite := contenttest.OpenSQLite(t)
	pg := contenttest.OpenPostgres(t)
	if a, b := strings.Join(columns(t, lite), "\n"), strings.Join(columns(t, pg), "\n"); a != b {
		t.Errorf("columns differ\nsqlite:\n%s\n\npostgres:\n%s", a, b)
	}
	if a, b := strings.Join(indexes(t, lite), "\n"), strings.Join(indexes(t, pg), "\n"); a != b {
		t.Errorf("indexes differ\nsqlite:\n%s\n\npostgres:\n%s", a, b)
	}
}

// paritySchema has an attribute of every queryable kind.
const paritySchema = `{
  "kind": "collectionType", "collectionName": "items",
  "info": {"singularName": "item", "pluralName": "items", "displayName": "Item"},
  "options": {"draftAndPublish": true},
  "attributes": {
    "title": {"type": "string"}, "body": {"type": "text"}, "views": {"type": "integer"},
    "price": {"type": "decimal"}, "big": {"type": "biginteger"}, "active": {"type": "boolean"},
    "day": {"type": "date"}, "when": {"type": "datetime"}, "email": {"type": "email"},
    "category": {"type": "enumeration", "enum": ["news", "blog", "Blog"]},
    "meta": {"type": "json"}, "secret": {"type": "string", "private": true}
  }}`

// parityDocs are created in this order on both databases; some are left
// as drafts.
var parityDocs = []string{
	`{"title":"Hello World","views":10,"price":1.5,"big":"9007199254740993","active":true,
		"day":"2024-01-15","when":"2024-01-15T09:30:00Z","category":"news","meta":{"k":[1,2]}}`,
	`{"title":"hello world","views":-3,"price":-0.25,"active":false,"day":"2023-12-31",
		"category":"blog","email":"A@example.com"}`,
	`{"title":"HELLO","views":0,"big":"-12","when":"2024-01-15T10:30:00+01:00","category":"Blog"}`,
	`{"title":"50% off_now","body":"percent and underscore","views":100,"price":100}`,
	`{"title":"50 percent off","body":"no wildcard","views":99}`,
	`{"title":"Émile","body":"accents","views":7,"day":"2024-02-29","active":true}`,
	`{"title":"émile","views":7,"price":7.0,"secret":"s3cret"}`,
	`{"title":"Zebra","views":2147483647,"big":"9223372036854775807"}`,
	`{"title":"apple","views":-2147483648,"big":"-9223372036854775808","active":false}`,
	`{"title":" leading space","meta":null}`,
	`{"title":"","views":null,"email":"b@example.com"}`,
	`{}`,
	`{"title":"Ωmega","body":"Greek","when":"1999-12-31T23:59:59.999Z","day":"0001-01-01"}`,
	`{"title":"a_b","body":"underscore"}`,
	`{"title":"a%b","body":"percent"}`,
	`{"title":"draft only","views":5}`,
}

// parityQueries cover every operator, sorting by every kind of attribute
// with nulls, pagination, fields, status and search. Thousands of random
// filters are compared at the SQL level by content/query's
// TestRandomQueriesAgreeAcrossDialects; these go through the content
// service and compare the documents it answers.
var parityQueries = []string{
	"",
	"sort=title",
	"sort=title:desc",
	"sort[0]=views:desc&sort[1]=title",
	"sort=price", "sort=price:desc", "sort=big", "sort=big:desc", "sort=active",
	"sort=day", "sort=when:desc", "sort=email", "sort=category", "sort=createdAt:desc",
	"filters[title][$eq]=hello world",
	"filters[title][$eqi]=hello world&sort=id",
	"filters[title][$ne]=HELLO&sort=title",
	"filters[title][$nei]=hello&sort=title",
	"filters[title][$contains]=%&sort=title",
	"filters[title][$contains]=_&sort=title",
	"filters[title][$containsi]=É&sort=title",
	"filters[title][$notContainsi]=hello&sort=title",
	"filters[title][$startsWith]=a&sort=title",
	"filters[title][$startsWithi]=H&sort=title",
	"filters[title][$endsWith]=b&sort=title",
	"filters[title][$endsWithi]=LE&sort=title",
	"filters[views][$gt]=7&sort=views",
	"filters[views][$lte]=0&sort=views:desc",
	"filters[views][$between][0]=0&filters[views][$between][1]=99&sort=views",
	"filters[views][$in][0]=7&filters[views][$in][1]=10&sort=id",
	"filters[views][$notIn][0]=7&sort=id",
	"filters[views][$null]=true&sort=id",
	"filters[views][$notNull]=true&sort=id",
	"filters[price][$gte]=1.5&sort=price",
	"filters[big][$gt]=9007199254740992&sort=id",
	"filters[big][$lt]=0&sort=big",
	"filters[active][$eq]=true&sort=id",
	"filters[active][$eq]=false&sort=id",
	"filters[day][$lt]=2024-01-01&sort=day",
	"filters[when][$gte]=2024-01-15T09:00:00Z&sort=when",
	"filters[category][$eq]=blog&sort=id",
	"filters[category][$eqi]=blog&sort=id",
	"filters[email][$containsi]=EXAMPLE&sort=email",
	"filters[$or][0][views][$lt]=0&filters[$or][1][title][$startsWith]=Z&sort=title",
	"filters[$and][0][views][$gt]=0&filters[$and][1][views][$lt]=100&sort=views:desc",
	"filters[$not][title][$containsi]=hello&sort=title",
	"filters[createdAt][$gt]=2025-01-01T00:00:05Z&sort=id",
	"_q=HELLO&sort=id",
	"_q=%&sort=id",
	"pagination[page]=2&pagination[pageSize]=4&sort=title",
	"pagination[start]=3&pagination[limit]=5&sort=views:desc",
	"pagination[withCount]=false&sort=id",
	"fields[0]=title&fields[1]=views&sort=title",
	"status=draft&sort=id",
	"status=draft&filters[title][$eq]=draft only",
	"filters[views][$gt]=abc",
	"filters[nope][$eq]=1",
	"sort=secret",
}

// parityService is a content service on db whose clock advances one
// second per reading, from the same start on both databases.
func parityService(t *testing.T, db *content.DB) (*content.Service, *content.Type) {
	t.Helper()
	ctx := context.Background()
	tick := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	now := func() time.Time {
		tick = tick.Add(time.Second)
		return tick
	}
	svc, err := content.NewService(ctx, db, content.Config{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	sc := &schema.Schema{}
	if err := json.Unmarshal([]byte(paritySchema), sc); err != nil {
		t.Fatal(err)
	}
	typ, err := svc.CreateType(ctx, sc)
	if err != nil {
		t.Fatal(err)
	}
	return svc, typ
}

// parityAnswers creates parityDocs on db and returns the answer to every
// parity query, with documentIds (random) replaced by their creation
// order.
func parityAnswers(t *testing.T, db *content.DB) []string {
	t.Helper()
	svc, typ := parityService(t, db)
	actor := content.Actor{Kind: content.ActorAdmin, ID: 1, Name: "admin", Policy: content.AllowAll}
	ctx := content.WithActor(context.Background(), actor)
	var names []string
	for i, doc := range parityDocs {
		var input map[string]any
		if err := json.Unmarshal([]byte(doc), &input); err != nil {
			t.Fatalf("doc %d: %v", i, err)
		}
		publish := i != len(parityDocs)-1
		out, err := svc.Create(ctx, actor, typ, input, content.WriteOptions{Publish: publish})
		if err != nil {
			t.Fatalf("create doc %d: %v", i, err)
		}
		var created struct {
			DocumentID string `json:"documentId"`
		}
		json.Unmarshal(out, &created)
		names = append(names, created.DocumentID, fmt.Sprintf("doc-%02d", i))
	}
	rename := strings.NewReplacer(names...)

	answers := make([]string, len(parityQueries))
	for i, q := range parityQueries {
		list, err := svc.Find(ctx, actor, typ, q, content.ReadOptions{})
		if err != nil {
			answers[i] = "error: " + err.Error()
			continue
		}
		body, err := json.Marshal(map[string]any{"data": list.Data, "meta": list.Pagination})
		if err != nil {
			t.Fatal(err)
		}
		answers[i] = rename.Replace(string(body))
	}
	return answers
}

func TestQueryLanguageAnswersTheSameDocumentsOnBoth(t *testing.T) {
	pg := contenttest.OpenPostgres(t)
	lite := contenttest.OpenSQLite(t)
	a, b := parityAnswers(t, lite), parityAnswers(t, pg)
	empty := 0
	for i, q := range parityQueries {
		if a[i] != b[i] {
			t.Errorf("%q answers differ\nsqlite:   %s\npostgres: %s", q, a[i], b[i])
		}
		if strings.HasPrefix(a[i], `{"data":[]`) {
			empty++
		}
	}
	if empty > len(parityQueries)/4 {
		t.Errorf("%d of %d queries found nothing: the fixture no longer exercises them",
			empty, len(parityQueries))
	}
}
