package content_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"gorm.io/gorm"

	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/content/contenttest"
	"github.com/herald-cms/herald/content/schema"
)

// sink records events the way an outbox would: kept only when the
// transaction that recorded them commits.
type sink struct {
	mu        sync.Mutex
	pending   []content.Event
	committed []content.Event
}

func (s *sink) Record(ctx context.Context, tx *gorm.DB, events []content.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending = append(s.pending, events...)
	return nil
}

func (s *sink) Committed(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.committed = append(s.committed, s.pending...)
	s.pending = nil
}

// take returns and forgets the committed events' names and documents.
func (s *sink) take() []content.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.committed
	s.committed, s.pending = nil, nil
	return out
}

func names(evs []content.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Name
	}
	return out
}

func sameNames(t *testing.T, got []content.Event, want ...string) {
	t.Helper()
	g := names(got)
	if len(g) != len(want) {
		t.Fatalf("events %v, want %v", g, want)
	}
	for i := range g {
		if g[i] != want[i] {
			t.Fatalf("events %v, want %v", g, want)
		}
	}
}

func entryOf(t *testing.T, e content.Event) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(e.Entry, &m); err != nil {
		t.Fatalf("event entry: %v", err)
	}
	return m
}

func newService(t testing.TB, db *content.DB) (*content.Service, *sink) {
	t.Helper()
	rec := &sink{}
	svc, err := content.NewService(context.Background(), db, content.Config{Events: rec})
	if err != nil {
		t.Fatal(err)
	}
	return svc, rec
}

func mustType(t testing.TB, svc *content.Service, raw string) *content.Type {
	t.Helper()
	sc, err := schema.Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	typ, err := svc.CreateType(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	return typ
}

const postSchema = `{"kind":"collectionType","info":{"singularName":"post","pluralName":"posts",
	"displayName":"Post"},"options":{"draftAndPublish":true},
	"attributes":{"title":{"type":"string","required":true},"secret":{"type":"string","private":true}}}`

func TestDraftAndPublishTransitionsEmitTheirEvents(t *testing.T) {
	contenttest.Dialects(t, func(t *testing.T, db *content.DB) {
		ctx := context.Background()
		svc, rec := newService(t, db)
		typ := mustType(t, svc, postSchema)
		actor := content.Actor{Kind: content.ActorAdmin, ID: 1, Policy: content.AllowAll}

		doc, err := svc.Create(ctx, actor, typ, map[string]any{"title": "A", "secret": "x"},
			content.WriteOptions{Publish: true})
		if err != nil {
			t.Fatal(err)
		}
		evs := rec.take()
		sameNames(t, evs, content.EventCreate, content.EventPublish)
		if entryOf(t, evs[0])["publishedAt"] != nil || entryOf(t, evs[1])["publishedAt"] == nil {
			t.Fatalf("create carries the draft, publish the published document: %s / %s",
				evs[0].Entry, evs[1].Entry)
		}
		if _, ok := entryOf(t, evs[1])["secret"]; ok {
			t.Fatalf("event carries a private attribute: %s", evs[1].Entry)
		}
		if evs[0].UID != "api::post.post" || evs[0].Model != "post" || evs[0].ID == "" ||
			evs[0].ID == evs[1].ID {
			t.Fatalf("event metadata: %+v", evs[0])
		}
		var d map[string]any
		json.Unmarshal(doc, &d)
		id := d["documentId"].(string)

		if _, err := svc.Update(ctx, actor, typ, id, map[string]any{"title": "B"},
			content.WriteOptions{Publish: true}); err != nil {
			t.Fatal(err)
		}
		sameNames(t, rec.take(), content.EventUpdate, content.EventPublish)

		if _, err := svc.Update(ctx, actor, typ, id, map[string]any{"title": "C"},
			content.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		sameNames(t, rec.take(), content.EventUpdate)
		if _, err := svc.DiscardDraft(ctx, actor, typ, id, content.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		evs = rec.take()
		sameNames(t, evs, content.EventDraftDiscard)
		if entryOf(t, evs[0])["title"] != "B" {
			t.Fatalf("discarded draft: %s", evs[0].Entry)
		}
		if _, err := svc.Unpublish(ctx, actor, typ, id, content.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		sameNames(t, rec.take(), content.EventUnpublish)
		if _, err := svc.Publish(ctx, actor, typ, id, content.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		sameNames(t, rec.take(), content.EventPublish)
		if err := svc.Delete(ctx, actor, typ, id); err != nil {
			t.Fatal(err)
		}
		evs = rec.take()
		sameNames(t, evs, content.EventDelete)
		if evs[0].DocumentID != id {
			t.Fatalf("delete event document %q, want %q", evs[0].DocumentID, id)
		}

		// A refused write records nothing.
		if _, err := svc.Create(ctx, actor, typ, map[string]any{}, content.WriteOptions{Publish: true}); err == nil {
			t.Fatal("publishing without a required title succeeded")
		}
		sameNames(t, rec.take())
	})
}

func TestTypesWithoutDraftAndPublishEmitOnlyCreate(t *testing.T) {
	db := contenttest.OpenDB(t)
	svc, rec := newService(t, db)
	typ := mustType(t, svc, `{"kind":"collectionType","info":{"singularName":"note",
		"pluralName":"notes","displayName":"Note"},"options":{"draftAndPublish":false},
		"attributes":{"text":{"type":"text"}}}`)
	actor := content.Actor{Kind: content.ActorSystem}
	doc, err := svc.Create(context.Background(), actor, typ, map[string]any{"text": "hi"},
		content.WriteOptions{Publish: true})
	if err != nil {
		t.Fatal(err)
	}
	sameNames(t, rec.take(), content.EventCreate)
	var d map[string]any
	json.Unmarshal(doc, &d)
	if d["publishedAt"] == nil {
		t.Fatalf("document of a type without drafts is not published: %s", doc)
	}
	if _, err := svc.Publish(context.Background(), actor, typ, d["documentId"].(string),
		content.WriteOptions{}); !content.IsCode(err, content.EINVALID) {
		t.Fatalf("publish on a type without drafts: %v", err)
	}
}

func TestOwnEntriesOnlyGrantHidesOthersEntries(t *testing.T) {
	db := contenttest.OpenDB(t)
	svc, _ := newService(t, db)
	typ := mustType(t, svc, postSchema)
	ctx := context.Background()
	author := func(id int64) content.Actor {
		return content.Actor{Kind: content.ActorAdmin, ID: id, Policy: content.PolicyFunc(
			func(_ context.Context, a content.Action, _ string) content.Grant {
				if a == content.ActionPublish {
					return content.Grant{}
				}
				return content.Grant{Allowed: true, OwnOnly: true}
			})}
	}
	mine, err := svc.Create(ctx, author(1), typ, map[string]any{"title": "mine"}, content.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := svc.Create(ctx, author(2), typ, map[string]any{"title": "theirs"}, content.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	list, err := svc.Find(ctx, author(1), typ, "status=draft", content.ReadOptions{Admin: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Data) != 1 {
		t.Fatalf("author sees %d entries, want 1", len(list.Data))
	}
	var m, o map[string]any
	json.Unmarshal(mine, &m)
	json.Unmarshal(theirs, &o)
	if _, err := svc.Update(ctx, author(1), typ, o["documentId"].(string),
		map[string]any{"title": "x"}, content.WriteOptions{}); !content.IsCode(err, content.ENOTFOUND) {
		t.Fatalf("update of another's entry: %v", err)
	}
	if _, err := svc.Publish(ctx, author(1), typ, m["documentId"].(string),
		content.WriteOptions{}); !content.IsCode(err, content.EFORBIDDEN) {
		t.Fatalf("author publish: %v", err)
	}
}
