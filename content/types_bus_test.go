package content_test

import (
	"context"
	"testing"
	"time"

	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/content/contenttest"
	"github.com/herald-cms/herald/content/schema"
)

func noteSchema(required bool) *schema.Schema {
	return &schema.Schema{
		Kind:           schema.KindCollection,
		CollectionName: "notes",
		Info:           schema.Info{SingularName: "note", PluralName: "notes", DisplayName: "Note"},
		Attributes: schema.Attributes{
			{Name: "title", Type: schema.TypeString, Required: required},
		},
	}
}

// eventually polls cond for up to two seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 2s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestContentTypeChangesReachOtherInstances(t *testing.T) {
	ctx := context.Background()
	u := contenttest.PostgresSchema(t)
	a, err := content.NewService(ctx, contenttest.Open(t, u), content.Config{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := content.NewService(ctx, contenttest.Open(t, u), content.Config{})
	if err != nil {
		t.Fatal(err)
	}
	const uid = "api::note.note"

	start := time.Now()
	if _, err := a.CreateType(ctx, noteSchema(false)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "created type on the other instance", func() bool {
		_, err := b.TypeByRoute("notes")
		return err == nil
	})
	t.Logf("other instance saw the new type after %s", time.Since(start))

	if _, err := a.UpdateType(ctx, uid, noteSchema(true)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "updated type on the other instance", func() bool {
		typ, err := b.TypeByUID(uid)
		return err == nil && typ.Schema.Attributes[0].Required
	})

	if _, err := b.DeleteType(ctx, uid, false); err != nil {
		t.Fatal(err)
	}
	eventually(t, "deleted type on the first instance", func() bool {
		_, err := a.TypeByUID(uid)
		return content.IsCode(err, content.ENOTFOUND)
	})
}
