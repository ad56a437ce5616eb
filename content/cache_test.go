package content

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/herald-cms/herald/content/schema"
)

func cacheType(uid string) *Type {
	return &Type{UID: uid, Schema: &schema.Schema{}}
}

func TestCacheKeepsAnswersUntilTheirTypeChanges(t *testing.T) {
	c := newResponseCache(1 << 20)
	art, other := cacheType("api::article.article"), cacheType("api::other.other")
	key := []byte("l?")
	c.put(c.stamp(art.UID), art, key, NewResponse([]byte(`{"data":[]}`)))
	c.put(c.stamp(other.UID), other, key, NewResponse([]byte(`{"data":[1]}`)))
	if c.get(art, key) == nil || c.get(other, key) == nil {
		t.Fatal("answers not kept")
	}

	c.invalidate(art.UID)
	if c.get(art, key) != nil {
		t.Fatal("an answer survived a commit to its type")
	}
	if c.get(other, key) == nil {
		t.Fatal("a commit to one type dropped another type's answers")
	}

	// A reloaded type is a new *Type: answers rendered with the old one
	// are not used.
	c.put(c.stamp(art.UID), art, key, NewResponse([]byte(`{"data":[2]}`)))
	if c.get(cacheType(art.UID), key) != nil {
		t.Fatal("an answer rendered with a replaced type was used")
	}

	c.purge()
	if c.len() != 0 || c.get(other, key) != nil {
		t.Fatalf("purge left %d answers", c.len())
	}
}

// TestCacheRefusesAnswersReadBeforeACommit is the race the stamp closes: a
// reader reads the database, a commit lands and invalidates, and only then
// does the reader try to keep its (now stale) answer.
func TestCacheRefusesAnswersReadBeforeACommit(t *testing.T) {
	art := cacheType("api::article.article")
	key := []byte("o123?")
	for _, change := range []struct {
		name string
		do   func(c *responseCache)
	}{
		{"commit to the type", func(c *responseCache) { c.invalidate(art.UID) }},
		{"notice that anything changed", func(c *responseCache) { c.invalidate("") }},
		{"content types changed", func(c *responseCache) { c.purge() }},
	} {
		for _, warm := range []bool{false, true} {
			c := newResponseCache(1 << 20)
			if warm {
				c.put(c.stamp(art.UID), art, []byte("l?"), NewResponse([]byte("{}")))
			}
			st := c.stamp(art.UID)
			change.do(c)
			c.put(st, art, key, NewResponse([]byte(`{"stale":true}`)))
			if c.get(art, key) != nil {
				t.Errorf("%s (cache warm %v): an answer read before it was kept", change.name, warm)
			}
		}
	}
}

func TestCacheStaysWithinItsLimit(t *testing.T) {
	c := newResponseCache(64 << 10)
	art := cacheType("api::article.article")
	body := make([]byte, 1000)
	for i := range 1000 {
		c.put(c.stamp(art.UID), art, fmt.Appendf(nil, "l?page=%d", i), NewResponse(body))
		if c.size > c.limit {
			t.Fatalf("after %d answers the cache holds %d bytes, limit %d", i+1, c.size, c.limit)
		}
	}
	if n := c.len(); n == 0 || n > 64 {
		t.Fatalf("%d answers kept", n)
	}
}

func TestMatchesETag(t *testing.T) {
	r := NewResponse([]byte(`{"data":1}`))
	other := NewResponse([]byte(`{"data":2}`))
	if r.ETag == other.ETag {
		t.Fatal("two bodies, one tag")
	}
	for _, tc := range []struct {
		header string
		want   bool
	}{
		{r.ETag, true},
		{"W/" + r.ETag, true},
		{`"x", ` + r.ETag, true},
		{"*", true},
		{"", false},
		{other.ETag, false},
		{r.ETag[:len(r.ETag)-1], false},
	} {
		if got := r.MatchesETag([]byte(tc.header)); got != tc.want {
			t.Errorf("If-None-Match %q: %v, want %v", tc.header, got, tc.want)
		}
	}
}

func TestAcceptedEncoding(t *testing.T) {
	for h, want := range map[string]string{
		"":                     "",
		"identity":             "",
		"gzip":                 "gzip",
		"gzip, deflate, br":    "br",
		"br;q=0, gzip;q=0.5":   "gzip",
		"BR":                   "br",
		"gzip;q=0.000, br;q=0": "",
		"deflate":              "",
	} {
		if got := acceptedEncoding([]byte(h)); got != want {
			t.Errorf("Accept-Encoding %q: %q, want %q", h, got, want)
		}
	}
}

func TestSplitObjectAgreesWithEncodingJSON(t *testing.T) {
	for _, doc := range []string{
		`{}`,
		` { } `,
		`{"a":1}`,
		`{"title":"Hello, \"world\"","n":-1.5e3,"ok":true,"none":null}`,
		`{"nested":{"x":[1,{"y":"}"}],"z":"]"},"after":"\\"}`,
		`{"body": "with spaces", "list": [1, 2, 3]}`,
		`{"esc\u0061ped":"key","plain":"v"}`,
		"{\n\t\"tabbed\" :\t\"yes\"\n}",
		`{"dup":1,"dup":2}`,
	} {
		ms, ok := splitObject([]byte(doc), nil)
		if !ok {
			t.Errorf("%s: not split", doc)
			continue
		}
		var want map[string]json.RawMessage
		if err := json.Unmarshal([]byte(doc), &want); err != nil {
			t.Fatal(err)
		}
		for name, v := range want {
			got := lookupMember(ms, name)
			if string(got) != string(v) {
				t.Errorf("%s: member %s = %s, want %s", doc, name, got, v)
			}
		}
	}
	for _, bad := range []string{``, `[]`, `{"a":1`, `{"a" 1}`, `{"a":"x}`, `{"a":1}x`, `{a:1}`,
		`{"a":}`} {
		if _, ok := splitObject([]byte(bad), nil); ok {
			t.Errorf("%q: split, want refused", bad)
		}
	}
}

func TestRebind(t *testing.T) {
	for in, want := range map[string]string{
		"a = ?":                           "a = $1",
		"a = ? AND b IN (?, ?)":           "a = $1 AND b IN ($2, $3)",
		"x = '?' AND y = ?":               "x = '?' AND y = $1",
		`"we?ird" = ? AND z = 'it''s ?'`:  `"we?ird" = $1 AND z = 'it''s ?'`,
		"no placeholders":                 "no placeholders",
		"data->>'title' = ? OR ? IS NULL": "data->>'title' = $1 OR $2 IS NULL",
	} {
		if got := rebind(in); got != want {
			t.Errorf("rebind(%q) = %q, want %q", in, got, want)
		}
	}
}
