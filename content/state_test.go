package content_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/content/contenttest"
)

// tickingClock advances a second on every reading, so that each write of
// a test has its own updatedAt.
func tickingClock() func() time.Time {
	var mu sync.Mutex
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Second)
		return now
	}
}

func TestFindFiltersByPublicationState(t *testing.T) {
	contenttest.Dialects(t, func(t *testing.T, db *content.DB) {
		ctx := context.Background()
		svc, err := content.NewService(ctx, db, content.Config{Now: tickingClock()})
		if err != nil {
			t.Fatal(err)
		}
		typ := mustType(t, svc, postSchema)
		actor := content.Actor{Kind: content.ActorAdmin, ID: 1, Policy: content.AllowAll}
		pub := content.WriteOptions{Publish: true}

		create := func(title string, opts content.WriteOptions) string {
			t.Helper()
			doc, err := svc.Create(ctx, actor, typ, map[string]any{"title": title}, opts)
			if err != nil {
				t.Fatal(err)
			}
			var d map[string]any
			if err := json.Unmarshal(doc, &d); err != nil {
				t.Fatal(err)
			}
			return d["documentId"].(string)
		}
		update := func(id, title string, opts content.WriteOptions) {
			t.Helper()
			_, err := svc.Update(ctx, actor, typ, id, map[string]any{"title": title}, opts)
			if err != nil {
				t.Fatal(err)
			}
		}

		create("never published", content.WriteOptions{})
		create("published", pub)
		update(create("changed", pub), "changed since", content.WriteOptions{})
		unpub := create("unpublished", pub)
		if _, err := svc.Unpublish(ctx, actor, typ, unpub, content.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		update(create("republished", pub), "republished again", pub)

		tests := []struct {
			state, query string
			want         []string
		}{
			{"", "", []string{"never published", "published", "changed since", "unpublished",
				"republished again"}},
			{content.StateDraft, "", []string{"never published", "unpublished"}},
			{content.StatePublished, "", []string{"published", "republished again"}},
			{content.StateModified, "", []string{"changed since"}},
			{content.StateDraft, "filters[title][$startsWith]=un", []string{"unpublished"}},
			{content.StatePublished, "status=draft&sort=title:desc",
				[]string{"republished again", "published"}},
			// A published read has no drafts to filter: the state is ignored.
			{content.StateDraft, "status=published",
				[]string{"published", "changed", "republished again"}},
		}
		for _, tt := range tests {
			name := fmt.Sprintf("%s?%s", tt.state, tt.query)
			q := tt.query
			if !strings.Contains(q, "sort=") {
				q += "&sort=id"
			}
			list, err := svc.Find(ctx, actor, typ, q,
				content.ReadOptions{Admin: true, State: tt.state})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			var got []string
			for _, raw := range list.Data {
				var d map[string]any
				if err := json.Unmarshal(raw, &d); err != nil {
					t.Fatal(err)
				}
				got = append(got, d["title"].(string))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("%s: got %q, want %q", name, got, tt.want)
			}
			if total := fmt.Sprint(list.Pagination["total"]); total != fmt.Sprint(len(tt.want)) {
				t.Errorf("%s: total %s, want %d", name, total, len(tt.want))
			}
		}

		// The count pages the filtered list, not the type.
		list, err := svc.Find(ctx, actor, typ, "sort=id&pagination[pageSize]=1&pagination[page]=2",
			content.ReadOptions{Admin: true, State: content.StateDraft})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Data) != 1 || fmt.Sprint(list.Pagination["pageCount"]) != "2" {
			t.Errorf("second page of drafts: %d documents, meta %v", len(list.Data),
				list.Pagination)
		}

		_, err = svc.Find(ctx, actor, typ, "",
			content.ReadOptions{Admin: true, State: "archived"})
		if !content.IsCode(err, content.EINVALID) {
			t.Errorf("unknown state: got %v, want EINVALID", err)
		}
	})
}
