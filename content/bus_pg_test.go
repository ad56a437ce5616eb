package content_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/content/contenttest"
)

// inbox records the notices a subscriber got.
type inbox struct {
	mu  sync.Mutex
	got []string
	ch  chan string
}

func listen(bus content.Bus, topic string) *inbox {
	in := &inbox{ch: make(chan string, 10000)}
	bus.Subscribe(topic, func(payload string) {
		in.mu.Lock()
		in.got = append(in.got, payload)
		in.mu.Unlock()
		in.ch <- payload
	})
	return in
}

// next waits for the next notice, failing the test after timeout.
func (in *inbox) next(tb testing.TB, timeout time.Duration) string {
	tb.Helper()
	select {
	case p := <-in.ch:
		return p
	case <-time.After(timeout):
		tb.Fatalf("no notice within %s", timeout)
		return ""
	}
}

// quiet fails the test when a notice arrives within d.
func (in *inbox) quiet(tb testing.TB, d time.Duration) {
	tb.Helper()
	select {
	case p := <-in.ch:
		tb.Fatalf("unexpected notice %q", p)
	case <-time.After(d):
	}
}

func TestPostgresBusCarriesNoticesBetweenInstances(t *testing.T) {
	u := contenttest.PostgresSchema(t)
	a, b := contenttest.Open(t, u), contenttest.Open(t, u)
	fromA, fromB := listen(a.Bus, content.TopicWebhooks), listen(b.Bus, content.TopicWebhooks)

	start := time.Now()
	a.Bus.Publish(context.Background(), content.TopicWebhooks, "42")
	if got := fromA.next(t, time.Second); got != "42" {
		t.Fatalf("publisher's own subscriber got %q, want 42", got)
	}
	if got := fromB.next(t, 2*time.Second); got != "42" {
		t.Fatalf("other instance got %q, want 42", got)
	}
	t.Logf("notice reached the other instance in %s", time.Since(start))
	// The publisher hears its own notice once, not again from PostgreSQL.
	fromA.quiet(t, 200*time.Millisecond)
	fromB.quiet(t, 50*time.Millisecond)
}

func TestPostgresBusKeepsSchemasApart(t *testing.T) {
	a := contenttest.OpenPostgres(t)
	b := contenttest.OpenPostgres(t)
	in := listen(b.Bus, content.TopicAccess)
	a.Bus.Publish(context.Background(), content.TopicAccess, "x")
	in.quiet(t, 300*time.Millisecond)
}

func TestPostgresBusDeliversBurstsWhole(t *testing.T) {
	u := contenttest.PostgresSchema(t)
	a, b := contenttest.Open(t, u), contenttest.Open(t, u)
	in := listen(b.Bus, content.TopicEntries)
	const n = 2000
	want := map[string]bool{}
	for i := range n {
		p := fmt.Sprintf("api::type-%d.type-%d", i, i)
		want[p] = true
		a.Bus.Publish(context.Background(), content.TopicEntries, p)
	}
	// A payload too large for a NOTIFY still arrives, emptied.
	a.Bus.Publish(context.Background(), content.TopicEntries, strings.Repeat("x", 9000))
	want[""] = true
	deadline := time.After(10 * time.Second)
	for len(want) > 0 {
		select {
		case p := <-in.ch:
			delete(want, p)
		case <-deadline:
			t.Fatalf("%d notices never arrived", len(want))
		}
	}
}

func TestPostgresBusReconnectsAndAsksForAReload(t *testing.T) {
	u := contenttest.PostgresSchema(t)
	a, b := contenttest.Open(t, u), contenttest.Open(t, u)
	in := listen(b.Bus, content.TopicContentTypes)
	a.Bus.Publish(context.Background(), content.TopicContentTypes, "before")
	if got := in.next(t, 2*time.Second); got != "before" {
		t.Fatalf("got %q, want before", got)
	}

	pid := content.ListenerPID(b.Bus)
	if pid == 0 {
		t.Fatal("the bus reports no listening connection")
	}
	if err := a.Write.Exec("SELECT pg_terminate_backend(?)", pid).Error; err != nil {
		t.Fatal(err)
	}
	// After reconnecting, subscribers hear an empty payload: notices may
	// have been missed while the connection was down.
	if got := in.next(t, 5*time.Second); got != "" {
		t.Fatalf("after reconnecting got %q, want the empty resync notice", got)
	}
	if p := content.ListenerPID(b.Bus); p == 0 || p == pid {
		t.Fatalf("listener pid %d after reconnecting, was %d", p, pid)
	}
	a.Bus.Publish(context.Background(), content.TopicContentTypes, "after")
	if got := in.next(t, 2*time.Second); got != "after" {
		t.Fatalf("got %q, want after", got)
	}
}

func TestPostgresBusCloseSendsWhatIsQueued(t *testing.T) {
	u := contenttest.PostgresSchema(t)
	b := contenttest.Open(t, u)
	in := listen(b.Bus, content.TopicDeliveries)
	a, err := content.OpenDB(context.Background(), u, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a.Bus.Publish(context.Background(), content.TopicDeliveries, "last words")
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if got := in.next(t, 2*time.Second); got != "last words" {
		t.Fatalf("got %q", got)
	}
	// Publishing on a closed bus still reaches local subscribers.
	local := listen(a.Bus, content.TopicDeliveries)
	a.Bus.Publish(context.Background(), content.TopicDeliveries, "late")
	if got := local.next(t, time.Second); got != "late" {
		t.Fatalf("got %q", got)
	}
	in.quiet(t, 200*time.Millisecond)
}

func TestSQLiteBusIsLocal(t *testing.T) {
	db := contenttest.OpenSQLite(t)
	if _, ok := db.Bus.(*content.LocalBus); !ok {
		t.Fatalf("SQLite bus is %T, want *content.LocalBus", db.Bus)
	}
	in := listen(db.Bus, content.TopicAccess)
	db.Bus.Publish(context.Background(), content.TopicAccess, "1")
	if got := in.next(t, time.Second); got != "1" {
		t.Fatalf("got %q", got)
	}
}
