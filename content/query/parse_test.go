package query_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/herald-cms/herald/content/query"
)

// render writes a filters tree compactly: $and($eq(title "x"), ...).
func render(f *query.Filter) string {
	if f == nil {
		return ""
	}
	var parts []string
	if f.Field != "" && (f.Children == nil || f.Op == query.OpRelated) {
		parts = append(parts, f.Field)
	}
	for _, v := range f.Values {
		parts = append(parts, fmt.Sprintf("%q", v))
	}
	for _, c := range f.Children {
		parts = append(parts, render(c))
	}
	return f.Op + "(" + strings.Join(parts, " ") + ")"
}

func TestParseReadsFilters(t *testing.T) {
	cases := []struct {
		q, want string
	}{
		{"filters[title]=x", `$eq(title "x")`},
		{"filters[title][$eq]=a+b%20c", `$eq(title "a b c")`},
		{"filters%5Btitle%5D%5B%24eq%5D=x", `$eq(title "x")`},
		{"filters[title][$in][0]=a&filters[title][$in][1]=b", `$in(title "a" "b")`},
		{"filters[title][$in][1]=b&filters[title][$in][0]=a", `$in(title "a" "b")`},
		{"filters[title][$in][]=a&filters[title][$in][]=b", `$in(title "a" "b")`},
		{"filters[title][$in][5]=a&filters[title][$in][9]=b", `$in(title "a" "b")`},
		{"filters[title][$in]=a", `$in(title "a")`},
		{"filters[title]=a&filters[title]=b", `$in(title "a" "b")`},
		{"filters[title][$between][0]=a&filters[title][$between][1]=b", `$between(title "a" "b")`},
		{"filters[title]=x&filters[views][$gt]=1",
			`$and($eq(title "x") $gt(views "1"))`},
		{"filters[views][$gt]=1&filters[views][$lt]=5",
			`$and($gt(views "1") $lt(views "5"))`},
		{"filters[$or][0][title]=x&filters[$or][1][views]=1",
			`$or($eq(title "x") $eq(views "1"))`},
		{"filters[$not][title]=x", `$not($eq(title "x"))`},
		{"filters[title][$not][$contains]=x", `$not($contains(title "x"))`},
		{"filters[title][$not]=x", `$not($eq(title "x"))`},
		{"filters[title][$or][0]=x&filters[title][$or][1][$startsWith]=y",
			`$or($eq(title "x") $startsWith(title "y"))`},
		{"filters[$and][0][$or][0][a]=1&filters[$and][0][$or][1][b]=2" +
			"&filters[$and][1][c][$null]=true",
			`$and($or($eq(a "1") $eq(b "2")) $null(c "true"))`},
		{"filters[title][$eq]=%", `$eq(title "%")`},
		{"filters[title][$eq]=%zz", `$eq(title "%zz")`},
		{"filters[title][$eq]=%25%26%3D", `$eq(title "%&=")`},
		{"filters[title][$eq]=a=b", `$eq(title "a=b")`},
		{"filters[title][$eq]", `$eq(title "")`},
		{"filters[title][$eq]=%C3%A9", `$eq(title "é")`},
		{"&&filters[title]=x&", `$eq(title "x")`},
	}
	for _, tc := range cases {
		p, err := query.Parse(tc.q)
		if err != nil {
			t.Errorf("%s: %v", tc.q, err)
			continue
		}
		if got := render(p.Filters); got != tc.want {
			t.Errorf("%s:\n got  %s\n want %s", tc.q, got, tc.want)
		}
	}
}

func TestParseReadsSortFieldsStatusAndSearch(t *testing.T) {
	asc := func(f string) query.SortField { return query.SortField{Field: f} }
	desc := func(f string) query.SortField { return query.SortField{Field: f, Desc: true} }
	cases := []struct {
		q    string
		want query.Params
	}{
		{"sort=title", query.Params{Sort: []query.SortField{asc("title")}}},
		{"sort=title:desc", query.Params{Sort: []query.SortField{desc("title")}}},
		{"sort=a,b:desc", query.Params{Sort: []query.SortField{asc("a"), desc("b")}}},
		{"sort=a%2C%20b%3Adesc", query.Params{Sort: []query.SortField{asc("a"), desc("b")}}},
		{"sort[0]=a&sort[1]=b:asc", query.Params{Sort: []query.SortField{asc("a"), asc("b")}}},
		{"sort[1]=b&sort[0]=a:desc", query.Params{Sort: []query.SortField{desc("a"), asc("b")}}},
		{"sort[a]=desc&sort[b]=asc", query.Params{Sort: []query.SortField{desc("a"), asc("b")}}},
		{"sort[0][a]=desc", query.Params{Sort: []query.SortField{desc("a")}}},
		{"fields[0]=title&fields[1]=slug", query.Params{Fields: []string{"title", "slug"}}},
		{"fields=title,slug,title", query.Params{Fields: []string{"title", "slug"}}},
		{"fields[]=title", query.Params{Fields: []string{"title"}}},
		{"fields=*", query.Params{}},
		{"status=draft", query.Params{Status: "draft"}},
		{"status=published", query.Params{Status: "published"}},
		{"_q=hello+world%21", query.Params{Search: "hello world!"}},
		{"locale=en", query.Params{Locale: "en"}},
	}
	for _, tc := range cases {
		p, err := query.Parse(tc.q)
		if err != nil {
			t.Errorf("%s: %v", tc.q, err)
			continue
		}
		got := query.Params{Sort: p.Sort, Fields: p.Fields, Status: p.Status, Search: p.Search,
			Locale: p.Locale}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got  %+v\n want %+v", tc.q, got, tc.want)
		}
	}
}

func TestParseReadsPagination(t *testing.T) {
	page := func(page, size int) query.Pagination {
		return query.Pagination{Style: "page", Page: page, PageSize: size,
			Start: (page - 1) * size, Limit: size, WithCount: true}
	}
	offset := func(start, limit int) query.Pagination {
		return query.Pagination{Style: "offset", Start: start, Limit: limit, WithCount: true}
	}
	noCount := page(1, 25)
	noCount.WithCount = false
	cases := []struct {
		q    string
		want query.Pagination
	}{
		{"", page(1, 25)},
		{"pagination[page]=3", page(3, 25)},
		{"pagination[page]=2&pagination[pageSize]=10", page(2, 10)},
		{"pagination[pageSize]=1000", page(1, 100)},
		{"pagination[start]=20&pagination[limit]=10", offset(20, 10)},
		{"pagination[start]=5", offset(5, 25)},
		{"pagination[limit]=500", offset(0, 100)},
		{"pagination[limit]=-1", offset(0, 100)},
		{"pagination[withCount]=false", noCount},
	}
	for _, tc := range cases {
		p, err := query.Parse(tc.q)
		if err != nil {
			t.Errorf("%s: %v", tc.q, err)
			continue
		}
		if p.Pagination != tc.want {
			t.Errorf("%s:\n got  %+v\n want %+v", tc.q, p.Pagination, tc.want)
		}
	}
}

func TestParseRefusesBadQueries(t *testing.T) {
	long := "_q=" + strings.Repeat("x", query.MaxQueryLength)
	deep := "filters" + strings.Repeat("[$not]", query.MaxDepth+1) + "[title]=x"
	many := "filters[title][$in][]=x" + strings.Repeat("&filters[title][$in][]=x", query.MaxValues)
	var conds strings.Builder
	for i := 0; i <= query.MaxConditions; i++ {
		fmt.Fprintf(&conds, "&filters[$and][%d][title]=x", i)
	}
	cases := []struct {
		q       string
		kind    query.ErrorKind
		message string
		path    []string
	}{
		{"foo=1", query.KindValidation, "Invalid key foo", []string{"foo"}},
		{"filters[title][$like]=x", query.KindValidation, "Invalid operator $like",
			[]string{"filters", "title", "$like"}},
		{"filters[$eq]=x", query.KindValidation, "must follow an attribute", nil},
		{"filters[title][$in][0][x]=1", query.KindValidation, "expected plain values", nil},
		{"filters[title][$between]=1", query.KindValidation, "expected two values", nil},
		{"filters[title][$eq][0]=1&filters[title][$eq][1]=2", query.KindValidation,
			"expected one value", nil},
		{"filters[title][x][$foo]=1", query.KindValidation, "Invalid operator $foo",
			[]string{"filters", "title", "x", "$foo"}},
		{"filters[$and][a][title]=1", query.KindValidation, "expected a list", nil},
		{"filters[$not]=1", query.KindValidation, "expected conditions", nil},
		{"filters[title]=1&filters[title][$eq]=2", query.KindValidation,
			"both a value and nested keys", nil},
		{"filters[title=1", query.KindValidation, "unclosed bracket", nil},
		{"filters[title]x=1", query.KindValidation, "text after a closing bracket", nil},
		{"[title]=1", query.KindValidation, "must start with a name", nil},
		{"filters" + strings.Repeat("[a]", 40) + "=1", query.KindValidation,
			"nested more than", nil},
		{"_q=%FF", query.KindValidation, "not valid UTF-8", nil},
		{"_q=%00", query.KindValidation, "NUL", nil},
		{"_q=a&_q=b", query.KindValidation, "single value", nil},
		{long, query.KindValidation, "too long", nil},
		{deep, query.KindValidation, "nested more than", nil},
		{many, query.KindValidation, "more than 100 values", nil},
		{conds.String()[1:], query.KindValidation, "more than 100 conditions", nil},
		{strings.Repeat("a=1&", 1001), query.KindValidation, "Too many", nil},
		{"status=archived", query.KindValidation, "Invalid status", []string{"status"}},
		{"status=", query.KindValidation, "Invalid status", nil},
		{"sort=title:sideways", query.KindValidation, "direction", nil},
		{"sort=,", query.KindValidation, "empty sort key", nil},
		{"sort[title][x]=desc", query.KindValidation, "expected asc or desc", nil},
		{"fields=", query.KindValidation, "empty field name", nil},
		{"fields[a]=b", query.KindValidation, "list of field names", nil},
		{"pagination=1", query.KindValidation, "pagination[page]", nil},
		{"pagination[page]=0", query.KindPagination, "at least 1",
			[]string{"pagination", "page"}},
		{"pagination[page]=-2", query.KindPagination, "at least 1", nil},
		{"pagination[page]=two", query.KindPagination, "whole number", nil},
		{"pagination[page]=1.5", query.KindPagination, "whole number", nil},
		{"pagination[page]=99999999999", query.KindPagination, "whole number", nil},
		{"pagination[page]=2000000000", query.KindPagination, "at most", nil},
		{"pagination[pageSize]=0", query.KindPagination, "at least 1", nil},
		{"pagination[start]=-1", query.KindPagination, "at least 0", nil},
		{"pagination[limit]=0", query.KindPagination, "at least 1", nil},
		{"pagination[withCount]=maybe", query.KindPagination, "true or false", nil},
		{"pagination[page]=1&pagination[start]=0", query.KindPagination, "cannot be mixed", nil},
		{"pagination[pageSize]=5&pagination[limit]=5", query.KindPagination,
			"cannot be mixed", nil},
		{"pagination[cursor]=x", query.KindValidation, "Invalid key pagination[cursor]", nil},
		{"pagination[page][x]=1", query.KindPagination, "single value", nil},
	}
	for _, tc := range cases {
		name := tc.q
		if len(name) > 60 {
			name = name[:60] + "..."
		}
		_, err := query.Parse(tc.q)
		var qe *query.Error
		if !errors.As(err, &qe) {
			t.Errorf("%s: got %v, want a *query.Error", name, err)
			continue
		}
		if qe.Kind != tc.kind || !strings.Contains(qe.Message, tc.message) {
			t.Errorf("%s: got %v %q, want %v containing %q", name, qe.Kind, qe.Message,
				tc.kind, tc.message)
		}
		if tc.path != nil && !reflect.DeepEqual(qe.Path, tc.path) {
			t.Errorf("%s: path %q, want %q", name, qe.Path, tc.path)
		}
	}
}
