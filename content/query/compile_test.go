package query_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/herald-cms/herald/content/query"
)

// queryCase is a query string and the rows it must return, in order, or the
// kind of error it must fail with.
type queryCase struct {
	q    string
	want string // row names separated by spaces, in result order
	err  query.ErrorKind
	// private runs the case with AllowPrivate.
	private bool
}

// Row names in the fixture, by type of value (see fixtureRows):
//
//	title: a "Hello World", b "hello world", c "Zebra", d "éclair", e 42,
//	       f null, g missing, h "50% off", i "a_b", j "ÉCLAIR", k "Zebra", l ""
var filterCases = []queryCase{
	// string: case rules
	{q: "filters[title]=Hello%20World", want: "a"},
	{q: "filters[title][$eq]=hello+world", want: "b"},
	{q: "filters[title][$eqi]=HELLO%20world", want: "a b"},
	{q: "filters[title][$ne]=Zebra", want: "a b d h i j l"},
	{q: "filters[title][$nei]=HELLO%20WORLD", want: "c d h i j k l"},
	{q: "filters[title][$eqi]=%C3%A9clair", want: "d"}, // ASCII-only folding
	// string: substrings, with % and _ matching themselves
	{q: "filters[title][$contains]=o%20W", want: "a"},
	{q: "filters[title][$contains]=%25", want: "h"},
	{q: "filters[title][$contains]=_", want: "i"},
	{q: "filters[title][$contains]=a%25", want: ""},
	{q: "filters[title][$containsi]=O%20W", want: "a b"},
	{q: "filters[title][$notContains]=o", want: "c d i j k l"},
	{q: "filters[title][$notContainsi]=E", want: "d h i j l"},
	{q: "filters[title][$containsi]=%C3%A9", want: "d"},
	{q: "filters[title][$startsWith]=Hel", want: "a"},
	{q: "filters[title][$startsWithi]=hEL", want: "a b"},
	{q: "filters[title][$startsWith]=50%25", want: "h"},
	{q: "filters[title][$startsWith]=a_", want: "i"},
	{q: "filters[title][$startsWith]=a%25", want: ""},
	{q: "filters[title][$startsWith]=%C3%A9", want: "d"},
	{q: "filters[title][$endsWith]=ra", want: "c k"},
	{q: "filters[title][$endsWithi]=WORLD", want: "a b"},
	{q: "filters[title][$endsWithi]=clair", want: "d j"},
	{q: "filters[title][$endsWith]=Hello%20World%20and%20more", want: ""},
	// the empty needle matches every string, and $notContains none
	{q: "filters[title][$contains]=", want: "a b c d h i j k l"},
	{q: "filters[title][$startsWith]=", want: "a b c d h i j k l"},
	{q: "filters[title][$endsWithi]=", want: "a b c d h i j k l"},
	{q: "filters[title][$notContains]=", want: ""},
	{q: "filters[title][$eq]=", want: "l"},
	// string: lists, ranges (byte order), nulls
	{q: "filters[title][$in][0]=Zebra&filters[title][$in][1]=a_b", want: "c i k"},
	{q: "filters[title][$in][]=Zebra&filters[title][$in][]=a_b", want: "c i k"},
	{q: "filters[title][$in]=Zebra", want: "c k"},
	{q: "filters[title][0]=Zebra&filters[title][1]=a_b", want: "c i k"},
	{q: "filters[title]=Zebra&filters[title]=a_b", want: "c i k"},
	{q: "filters[title][$notIn][0]=Zebra", want: "a b d h i j l"},
	{q: "filters[title][$lt]=Z", want: "a h l"},
	{q: "filters[title][$gte]=a", want: "b d i j"},
	{q: "filters[title][$between][0]=A&filters[title][$between][1]=Zz", want: "a c k"},
	{q: "filters[title][$null]=true", want: "f g"},
	{q: "filters[title][$null]=false", want: "a b c d e h i j k l"},
	{q: "filters[title][$notNull]=true", want: "a b c d e h i j k l"},
	{q: "filters[title][$notNull]=false", want: "f g"},
	// other text types
	{q: "filters[body][$contains]=_", want: "b h"},
	{q: "filters[body][$contains]=100%25", want: "a"},
	{q: "filters[body][$eq]=a_b", want: "h"},
	{q: "filters[body][$containsi]=UNDER", want: "b d"},
	{q: "filters[body][$startsWith]=under_", want: "b"},
	{q: "filters[email][$eqi]=ann@example.com", want: "a"},
	{q: "filters[email][$eq]=ann@example.com", want: ""},
	{q: "filters[slug]=hello-world", want: "a"},
	{q: "filters[category][$in][0]=news", want: "a j"},
	{q: "filters[category]=nonexistent", want: ""},
	// integer: views a 10, b 2, c 100, d 10, e "12", f null, h -3, i 0, j 3.5, k 100
	{q: "filters[views]=10", want: "a d"},
	{q: "filters[views][$eq]=1e1", want: "a d"},
	{q: "filters[views][$eq]=12", want: ""},
	{q: "filters[views][$gt]=10", want: "c k"},
	{q: "filters[views][$gte]=10", want: "a c d k"},
	{q: "filters[views][$lt]=3", want: "b h i"},
	{q: "filters[views][$lte]=3.5", want: "b h i j"},
	{q: "filters[views][$gt]=-3.5", want: "a b c d h i j k"},
	{q: "filters[views][$ne]=10", want: "b c h i j k"},
	{q: "filters[views][$in][0]=2&filters[views][$in][1]=100", want: "b c k"},
	{q: "filters[views][$notIn][0]=10", want: "b c h i j k"},
	{q: "filters[views][$between][0]=0&filters[views][$between][1]=10", want: "a b d i j"},
	{q: "filters[views][$null]=true", want: "f g l"},
	{q: "filters[views][$gt]=abc", err: query.KindValidation},
	{q: "filters[views][$eq]=", err: query.KindValidation},
	{q: "filters[views][$eq]=0x10", err: query.KindValidation},
	{q: "filters[views][$eq]=NaN", err: query.KindValidation},
	{q: "filters[views][$eq]=1e999", err: query.KindValidation},
	{q: "filters[views][$contains]=1", err: query.KindValidation},
	{q: "filters[views][$eqi]=1", err: query.KindValidation},
	{q: "filters[views][$between]=1", err: query.KindValidation},
	// float and decimal: rating a 4.5, b 3, c -1.5, e "high", h 1e3, i 0.5;
	// price a 9.99, b 10, c 0.1, e "9.99"
	{q: "filters[rating][$gt]=1", want: "a b h"},
	{q: "filters[rating][$lt]=0", want: "c"},
	{q: "filters[rating][$eq]=1000", want: "h"},
	{q: "filters[price][$eq]=9.99", want: "a"},
	{q: "filters[price][$eq]=0.1", want: "c"},
	{q: "filters[price][$lt]=10", want: "a c"},
	// biginteger, compared exactly: a 2^53+1, b -5, c 123, d 20, e 77 (a number),
	// h min int64, i 0, l 20 digits (not a valid value)
	{q: "filters[big][$eq]=9007199254740993", want: "a"},
	{q: "filters[big][$eq]=9007199254740992", want: ""},
	{q: "filters[big][$gt]=20", want: "a c"},
	{q: "filters[big][$lt]=0", want: "b h"},
	{q: "filters[big][$eq]=77", want: ""},
	{q: "filters[big][$gte]=-9223372036854775808", want: "a b c d h i"},
	{q: "filters[big][$in][0]=0&filters[big][$in][1]=-5", want: "b i"},
	{q: "filters[big][$null]=true", want: "f g j k"},
	{q: "filters[big][$eq]=99999999999999999999", err: query.KindValidation},
	{q: "filters[big][$gt]=1.5", err: query.KindValidation},
	// boolean: a true, b false, c true, d false, e "yes", f null, i true
	{q: "filters[active]=true", want: "a c i"},
	{q: "filters[active][$eq]=false", want: "b d"},
	{q: "filters[active][$ne]=true", want: "b d"},
	{q: "filters[active][$in][0]=true&filters[active][$in][1]=false", want: "a b c d i"},
	{q: "filters[active][$notIn][0]=true", want: "b d"},
	{q: "filters[active][$null]=true", want: "f g h j k l"},
	{q: "filters[active]=yes", err: query.KindValidation},
	{q: "filters[active][$gt]=false", err: query.KindValidation},
	// date: a 2024-01-15, b 2023-12-31, c 2024-02-29, e "not-a-date", h 2024-01-01
	{q: "filters[day][$gte]=2024-01-01", want: "a c h"},
	{q: "filters[day][$lt]=2024-01-01", want: "b"},
	{q: "filters[day]=2024-02-29", want: "c"},
	{q: "filters[day][$between][0]=2024-01-01&filters[day][$between][1]=2024-01-31",
		want: "a h"},
	{q: "filters[day][$null]=true", want: "d f g i j k l"},
	{q: "filters[day][$eq]=2024-1-2", err: query.KindValidation},
	{q: "filters[day][$eq]=2023-02-29", err: query.KindValidation},
	{q: "filters[day][$eq]=2024-01-15T00:00:00Z", err: query.KindValidation},
	// time: a 09:30:00.000, b 23:59:59.999, c 00:00:00.000, e 930
	{q: "filters[at]=09:30", want: "a"},
	{q: "filters[at][$eq]=09:30:00.0001", want: "a"},
	{q: "filters[at][$gt]=12:00:00", want: "b"},
	{q: "filters[at][$lte]=09:30:00.000", want: "a c"},
	{q: "filters[at][$eq]=25:00", err: query.KindValidation},
	{q: "filters[at][$eq]=9:30", err: query.KindValidation},
	// datetime: a 2024-01-15T09:30:00.000Z, b 2023-12-31T23:59:59.999Z,
	// c 2024-02-29T12:00:00.000Z, d 2024-01-15T09:30:00.001Z, e "yesterday"
	{q: "filters[when]=2024-01-15T11:30:00%2B02:00", want: "a"},
	{q: "filters[when]=2024-01-15T09:30:00Z", want: "a"},
	{q: "filters[when]=2024-01-15T04:30:00-0500", want: "a"},
	{q: "filters[when][$gt]=2024-01-15T09:30:00Z", want: "c d"},
	{q: "filters[when][$gt]=2024-01-15T09:30:00+00:00", want: "c d"}, // '+' read as space
	{q: "filters[when][$lt]=2024-01-01", want: "b"},
	{q: "filters[when][$gte]=2024-01-15T09:30:00.0009Z", want: "a c d"},
	{q: "filters[when][$in][0]=2023-12-31T23:59:59.999Z&filters[when][$in][1]=2024-02-29T12:00Z",
		want: "b c"},
	{q: "filters[when][$eq]=2024-13-01", err: query.KindValidation},
	{q: "filters[when][$eq]=yesterday", err: query.KindValidation},
	{q: "filters[when][$eq]=2024-01-15T09:30:00%2B24:00", err: query.KindValidation},
	// json: a {"k":1}, b null, c [1,2], e "str", f null
	{q: "filters[meta][$null]=true", want: "b d f g h i j k l"},
	{q: "filters[meta][$notNull]=true", want: "a c e"},
	{q: "filters[meta][$eq]=x", err: query.KindValidation},
	{q: "filters[meta][$null]=maybe", err: query.KindValidation},
	// private attributes
	{q: "filters[secret]=s1", err: query.KindValidation},
	{q: "filters[secret]=s1", want: "a", private: true},
	// columns
	{q: "filters[id][$lte]=2", want: "a b"},
	{q: "filters[id][$in][0]=3&filters[id][$in][1]=11", want: "c k"},
	{q: "filters[id]=x", err: query.KindValidation},
	{q: "filters[documentId]=c00000000000000000000000", want: "c"},
	{q: "filters[documentId][$startsWith]=k", want: "k"},
	{q: "filters[documentId][$gt]=k", want: "k l"},
	{q: "filters[documentId][$containsi]=L0", want: "l"},
	{q: "filters[createdAt]=2024-03-01T10:00:00.000Z", want: "a b"},
	{q: "filters[createdAt][$gt]=2024-03-01T10:00:01Z", want: "c e f g h i j k l"},
	{q: "filters[createdAt][$between][0]=2024-03-01T10:00:00.5Z" +
		"&filters[createdAt][$between][1]=2024-03-01T10:00:01.5Z", want: "c d"},
	{q: "filters[updatedAt][$lt]=2024-03-01T10:00:01Z", want: "a b"},
	{q: "filters[publishedAt][$notNull]=true", want: "a b c d e f g h i j k l"},
	{q: "filters[publishedAt][$null]=true", want: ""},
	{q: "filters[publishedAt][$eq]=2024-03-01T10:00:00Z", want: "a b c d e f g h i j k l"},
	{q: "filters[createdAt][$contains]=2024", err: query.KindValidation},
	// logic
	{q: "filters[title][$not][$eq]=Zebra", want: "a b d h i j l"},
	{q: "filters[title][$not]=Zebra", want: "a b d h i j l"},
	{q: "filters[$not][title][$eq]=Zebra", want: "a b d h i j l"},
	{q: "filters[$not][title][$null]=true", want: "a b c d e h i j k l"},
	{q: "filters[$or][0][title]=Zebra&filters[$or][1][views][$lt]=1", want: "c h i k"},
	{q: "filters[title][$or][0][$eq]=Zebra&filters[title][$or][1][$eq]=a_b", want: "c i k"},
	{q: "filters[title][$or][0]=Zebra&filters[title][$or][1]=a_b", want: "c i k"},
	{q: "filters[title]=Zebra&filters[views]=100", want: "c k"},
	{q: "filters[views][$gte]=2&filters[views][$lte]=10", want: "a b d j"},
	{q: "filters[$and][0][views][$gte]=2&filters[$and][1][views][$lte]=10", want: "a b d j"},
	{q: "filters[$or][0][$and][0][views]=10&filters[$or][0][$and][1][active]=false" +
		"&filters[$or][1][$not][$or][0][title][$ne]=Zebra" +
		"&filters[$or][1][$not][$or][1][views][$ne]=100",
		want: "c d k"},
	{q: "filters[$and][0][title][$null]=true&filters[$and][1][$not][views][$null]=true",
		want: ""},
	{q: "filters[views][$gt]=1&filters[title][$startsWithi]=h&_q=WORLD", want: "a b"},
	// _q: every non-private text attribute, ignoring ASCII case
	{q: "_q=HELLO", want: "a b"},
	{q: "_q=under", want: "b d"},
	{q: "_q=example", want: "a"},
	{q: "_q=news", want: "a j"},
	{q: "_q=s1", want: ""},
	{q: "_q=%25", want: "a h"},
	{q: "_q=_", want: "b h i"},
	{q: "_q=hello&filters[views]=2", want: "b"},
	{q: "_q=", want: "a b c d e f g h i j k l"},
	// unknown things
	{q: "filters[nope]=1", err: query.KindValidation},
	{q: "filters[title][$like]=x", err: query.KindValidation},
	{q: "filters[title][name]=x", err: query.KindValidation},
	{q: "filters[$eq]=x", err: query.KindValidation},
	{q: "filters[$or][title]=x", err: query.KindValidation},
	{q: "filters[$or][0]=x", err: query.KindValidation},
	{q: "filters=x", err: query.KindValidation},
	{q: "filters[title][$eq][0]=a&filters[title][$eq][1]=b", err: query.KindValidation},
	{q: "filters[title][$null]=1&filters[title][$null][x]=1", err: query.KindValidation},
}

func TestFiltersReturnTheExpectedRows(t *testing.T) {
	runCases(t, filterCases)
}

// Row order under each sort: nulls first ascending and last descending,
// text in byte order, ties broken by id.
var sortCases = []queryCase{
	{q: "", want: "a b c d e f g h i j k l"},
	{q: "sort=title", want: "e f g l h a c k i b j d"},
	{q: "sort=title:asc", want: "e f g l h a c k i b j d"},
	{q: "sort=title:desc", want: "d j b i c k a h l e f g"},
	{q: "sort=title:DESC", want: "d j b i c k a h l e f g"},
	{q: "sort[title]=desc", want: "d j b i c k a h l e f g"},
	{q: "sort[0][title]=desc", want: "d j b i c k a h l e f g"},
	{q: "sort=views:desc,title", want: "c k a d j b i h e f g l"},
	{q: "sort[0]=views:desc&sort[1]=title", want: "c k a d j b i h e f g l"},
	{q: "sort[]=views:desc&sort[]=title:asc", want: "c k a d j b i h e f g l"},
	{q: "sort=views:desc&sort=title", want: "c k a d j b i h e f g l"},
	{q: "sort[0]=active:desc&sort[1]=id:desc", want: "i c a d b l k j h g f e"},
	{q: "sort=active", want: "e f g h j k l b d a c i"},
	{q: "sort=big", want: "e f g j k l h b i d c a"},
	{q: "sort=big:desc", want: "a c d i b h e f g j k l"},
	{q: "sort=rating", want: "d e f g j k l c i b a h"},
	{q: "sort=price:desc", want: "b a c d e f g h i j k l"},
	{q: "sort=day", want: "d e f g i j k l b h a c"},
	{q: "sort=at:desc", want: "b a c d e f g h i j k l"},
	{q: "sort=when", want: "e f g h i j k l b a d c"},
	{q: "sort=when:desc", want: "c d a b e f g h i j k l"},
	{q: "sort=createdAt", want: "a b d c e f g h i j k l"},
	{q: "sort=createdAt:desc", want: "l k j i h g f e c d a b"},
	{q: "sort=updatedAt:desc", want: "l k j i h g f e c d a b"},
	{q: "sort=publishedAt:desc", want: "a b c d e f g h i j k l"},
	{q: "sort=documentId:desc", want: "l k j i h g f e d c b a"},
	{q: "sort=id:desc", want: "l k j i h g f e d c b a"},
	{q: "sort=email,slug", want: "c d e f g h i j k l b a"},
	{q: "sort=secret", err: query.KindValidation},
	{q: "sort=secret:desc", want: "b a c d e f g h i j k l", private: true},
	{q: "sort=meta", err: query.KindValidation},
	{q: "sort=nope", err: query.KindValidation},
	{q: "sort=title:up", err: query.KindValidation},
	{q: "sort=", err: query.KindValidation},
	{q: "sort=title,", err: query.KindValidation},
	// pagination
	{q: "pagination[page]=2&pagination[pageSize]=5", want: "f g h i j"},
	{q: "pagination[page]=3&pagination[pageSize]=5", want: "k l"},
	{q: "pagination[page]=4&pagination[pageSize]=5", want: ""},
	{q: "pagination[start]=10&pagination[limit]=5", want: "k l"},
	{q: "pagination[start]=1&pagination[limit]=2&sort=title:desc", want: "j b"},
	{q: "pagination[limit]=-1", want: "a b c d e f g h i j k l"},
	{q: "pagination[page]=0", err: query.KindPagination},
	{q: "pagination[start]=-1", err: query.KindPagination},
	{q: "pagination[page]=1&pagination[limit]=5", err: query.KindPagination},
	// fields, status and populate do not change the rows
	{q: "fields[0]=title&fields[1]=slug&status=published&populate=*",
		want: "a b c d e f g h i j k l"},
}

func TestSortAndPaginationOrderTheRows(t *testing.T) {
	runCases(t, sortCases)
}

func runCases(t *testing.T, cases []queryCase) {
	s := articleSchema()
	dbs := openDBs(t)
	defer skipPostgres(t, dbs)
	for _, tdb := range dbs {
		t.Run(tdb.name, func(t *testing.T) {
			for _, tc := range cases {
				got, err := run(t, tdb.db, s, tc.q, query.Options{AllowPrivate: tc.private})
				if tc.err != 0 {
					var qe *query.Error
					if !errors.As(err, &qe) || qe.Kind != tc.err {
						t.Errorf("%s: got %v, %v; want a %v error", tc.q, got, err, tc.err)
					}
					continue
				}
				if err != nil {
					t.Errorf("%s: %v", tc.q, err)
					continue
				}
				if g := strings.Join(got, " "); g != tc.want {
					t.Errorf("%s:\n got  %q\n want %q", tc.q, g, tc.want)
				}
			}
		})
	}
}
