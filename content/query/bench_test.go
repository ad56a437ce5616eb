package query_test

import (
	"testing"

	"github.com/herald-cms/herald/content/query"
	"github.com/herald-cms/herald/content/schema"
)

// benchSchema is the article type the benchmarks query.
const benchSchema = `{"kind":"collectionType","info":{"singularName":"article",
	"pluralName":"articles","displayName":"Article"},"options":{"draftAndPublish":true},
	"attributes":{"title":{"type":"string","required":true},
	"slug":{"type":"uid","targetField":"title"},"body":{"type":"richtext"},
	"views":{"type":"integer","default":0}}}`

func benchCompile(b *testing.B, raw string) {
	s, err := schema.Parse([]byte(benchSchema))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		p, err := query.Parse(raw)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := query.Compile(p, s, query.Options{Dialect: query.SQLite}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompileFilterSort parses and compiles the filter the load
// generator uses: views > 500, sorted by title, 10 per page.
func BenchmarkCompileFilterSort(b *testing.B) {
	benchCompile(b, "filters[views][$gt]=500&sort=title&pagination[pageSize]=10")
}

// BenchmarkCompileNested parses and compiles a larger query: $or of two
// conditions, $in, a text match, two sort keys and fields.
func BenchmarkCompileNested(b *testing.B) {
	benchCompile(b, "filters[$or][0][title][$containsi]=herald&filters[$or][1][views][$in][0]=1"+
		"&filters[$or][1][views][$in][1]=2&filters[slug][$startsWith]=a"+
		"&sort[0]=views:desc&sort[1]=title&fields[0]=title&fields[1]=views&pagination[page]=2")
}

// BenchmarkCompileEmpty is a plain list: the cost every read pays.
func BenchmarkCompileEmpty(b *testing.B) { benchCompile(b, "") }
