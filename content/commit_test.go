package content_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/content/contenttest"
)

// The tests of Transact use a table of their own: what a member writes
// shows whether its work was committed.

func makeNotes(t *testing.T, db *content.DB) {
	t.Helper()
	id := "id INTEGER PRIMARY KEY"
	if db.Dialect == content.Postgres {
		id = "id SERIAL PRIMARY KEY"
	}
	err := db.Write.Exec("CREATE TABLE group_notes (" + id + ", v TEXT NOT NULL UNIQUE)").Error
	if err != nil {
		t.Fatal(err)
	}
}

func note(tx *gorm.DB, v string) error {
	return tx.Exec("INSERT INTO group_notes (v) VALUES (?)", v).Error
}

func notes(t *testing.T, db *content.DB) []string {
	t.Helper()
	var vs []string
	if err := db.Read.Raw("SELECT v FROM group_notes ORDER BY v").Scan(&vs).Error; err != nil {
		t.Fatal(err)
	}
	return vs
}

// waitQueued waits until n callers of Transact are queued behind the one
// running.
func waitQueued(t *testing.T, db *content.DB, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for content.QueuedWrites(db) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d callers queued after 10s, want %d", content.QueuedWrites(db), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// lead starts a Transact that writes "lead" and holds the writer until
// release is closed; it returns, once that transaction runs, the
// Transact's error channel.
func lead(db *content.DB, release <-chan struct{}) <-chan error {
	done := make(chan error, 1)
	running := make(chan struct{})
	go func() {
		done <- db.Transact(context.Background(), func(tx *gorm.DB) error {
			close(running)
			<-release
			return note(tx, "lead")
		})
	}()
	<-running
	return done
}

func TestTransactMembersFailAlone(t *testing.T) {
	db := contenttest.OpenSQLite(t)
	makeNotes(t, db)
	errOwn := errors.New("refused by the caller")
	members := []struct {
		name string
		fn   func(tx *gorm.DB) error
		want func(err error, panicked any) bool
	}{
		{"ok", func(tx *gorm.DB) error { return note(tx, "a") },
			func(err error, p any) bool { return err == nil && p == nil }},
		{"returns an error after writing", func(tx *gorm.DB) error {
			if err := note(tx, "b"); err != nil {
				return err
			}
			return errOwn
		}, func(err error, p any) bool { return errors.Is(err, errOwn) }},
		{"panics after writing", func(tx *gorm.DB) error {
			if err := note(tx, "c"); err != nil {
				return err
			}
			panic("member c")
		}, func(err error, p any) bool { return p == "member c" }},
		{"breaks a constraint after writing", func(tx *gorm.DB) error {
			if err := note(tx, "d"); err != nil {
				return err
			}
			return note(tx, "a")
		}, func(err error, p any) bool { return err != nil && p == nil }},
		{"ok after the failures", func(tx *gorm.DB) error { return note(tx, "e") },
			func(err error, p any) bool { return err == nil && p == nil }},
	}

	release := make(chan struct{})
	leader := lead(db, release)
	type answer struct {
		err      error
		panicked any
	}
	answers := make([]answer, len(members))
	var wg sync.WaitGroup
	for i, m := range members {
		// One at a time, so that they queue in this order.
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { answers[i].panicked = recover() }()
			answers[i].err = db.Transact(context.Background(), m.fn)
		}()
		waitQueued(t, db, i+1)
	}
	close(release)
	wg.Wait()
	if err := <-leader; err != nil {
		t.Fatalf("leader: %v", err)
	}

	if n := content.SharedTransactions(db); n != 1 {
		t.Errorf("shared transactions = %d, want the 5 queued callers in 1", n)
	}
	for i, m := range members {
		if !m.want(answers[i].err, answers[i].panicked) {
			t.Errorf("%s: error %v, panic %v", m.name, answers[i].err, answers[i].panicked)
		}
	}
	if got, want := notes(t, db), []string{"a", "e", "lead"}; !slices.Equal(got, want) {
		t.Errorf("committed %q, want %q: a failed member's writes must be undone, "+
			"the others' kept", got, want)
	}
}

func TestTransactFailedCommitFailsEveryMember(t *testing.T) {
	db := contenttest.OpenSQLite(t)
	makeNotes(t, db)
	// A deferred foreign key is checked at commit only.
	err := db.Write.Exec(`CREATE TABLE group_children (id INTEGER PRIMARY KEY,
		parent INTEGER REFERENCES group_notes (id) DEFERRABLE INITIALLY DEFERRED)`).Error
	if err != nil {
		t.Fatal(err)
	}

	release := make(chan struct{})
	leader := lead(db, release)
	errs := make(chan error, 2)
	go func() {
		errs <- db.Transact(context.Background(), func(tx *gorm.DB) error {
			return note(tx, "a")
		})
	}()
	waitQueued(t, db, 1)
	go func() {
		errs <- db.Transact(context.Background(), func(tx *gorm.DB) error {
			return tx.Exec("INSERT INTO group_children (parent) VALUES (999)").Error
		})
	}()
	waitQueued(t, db, 2)
	close(release)

	if err := <-leader; err != nil {
		t.Fatalf("leader: %v", err)
	}
	for range 2 {
		if err := <-errs; err == nil {
			t.Error("a member of a transaction whose commit failed succeeded")
		}
	}
	if got := notes(t, db); !slices.Equal(got, []string{"lead"}) {
		t.Errorf("committed %q, want only the leader's transaction", got)
	}
	// The writer is usable again.
	if err := db.Transact(context.Background(), func(tx *gorm.DB) error {
		return note(tx, "after")
	}); err != nil {
		t.Fatalf("write after a failed commit: %v", err)
	}
}

func TestTransactSkipsACallerThatGaveUp(t *testing.T) {
	db := contenttest.OpenSQLite(t)
	makeNotes(t, db)
	release := make(chan struct{})
	leader := lead(db, release)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- db.Transact(ctx, func(tx *gorm.DB) error { return note(tx, "late") })
	}()
	waitQueued(t, db, 1)
	cancel()
	close(release)

	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
	if err := <-leader; err != nil {
		t.Fatalf("leader: %v", err)
	}
	if got := notes(t, db); !slices.Equal(got, []string{"lead"}) {
		t.Errorf("committed %q, want only the leader's", got)
	}
}

func TestTransactIgnoresCancellationOnceStarted(t *testing.T) {
	db := contenttest.OpenSQLite(t)
	makeNotes(t, db)
	ctx, cancel := context.WithCancel(context.Background())
	err := db.Transact(ctx, func(tx *gorm.DB) error {
		cancel()
		// An interrupted statement would roll back a shared transaction.
		return note(tx, "started")
	})
	if err != nil {
		t.Fatalf("Transact: %v", err)
	}
	if got := notes(t, db); !slices.Equal(got, []string{"started"}) {
		t.Errorf("committed %q, want the started write", got)
	}
}

func TestTransactUnderConcurrentWriters(t *testing.T) {
	db := contenttest.OpenDB(t)
	makeNotes(t, db)
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- db.Transact(context.Background(), func(tx *gorm.DB) error {
				if err := note(tx, fmt.Sprintf("v%03d", i)); err != nil {
					return err
				}
				if i%10 == 0 {
					return errors.New("every tenth caller gives up")
				}
				return nil
			})
		}()
	}
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if err != nil {
			failed++
		}
	}
	if failed != n/10 {
		t.Errorf("%d callers failed, want %d", failed, n/10)
	}
	got := notes(t, db)
	if len(got) != n-n/10 {
		t.Fatalf("%d rows committed, want %d", len(got), n-n/10)
	}
	for _, v := range got {
		var i int
		fmt.Sscanf(v, "v%d", &i)
		if i%10 == 0 {
			t.Errorf("row %s of a caller that gave up was committed", v)
		}
	}
}

func TestTransactAheadGoesFirstInATransactionOfItsOwn(t *testing.T) {
	db := contenttest.OpenSQLite(t)
	makeNotes(t, db)
	release := make(chan struct{})
	leader := lead(db, release)

	var mu sync.Mutex
	var order []string
	write := func(v string) func(tx *gorm.DB) error {
		return func(tx *gorm.DB) error {
			mu.Lock()
			order = append(order, v)
			mu.Unlock()
			return note(tx, v)
		}
	}
	var wg sync.WaitGroup
	queue := []struct {
		v     string
		ahead bool
	}{{"a", false}, {"b", false}, {"x", true}, {"y", true}}
	for i, q := range queue {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if q.ahead {
				err = db.TransactAhead(context.Background(), write(q.v))
			} else {
				err = db.Transact(context.Background(), write(q.v))
			}
			if err != nil {
				t.Errorf("%s: %v", q.v, err)
			}
		}()
		waitQueued(t, db, i+1)
	}
	close(release)
	wg.Wait()
	if err := <-leader; err != nil {
		t.Fatalf("leader: %v", err)
	}

	if want := []string{"x", "y", "a", "b"}; !slices.Equal(order, want) {
		t.Errorf("ran in the order %q, want %q", order, want)
	}
	// x and y share one transaction, a and b another.
	if n := content.SharedTransactions(db); n != 2 {
		t.Errorf("shared transactions = %d, want 2", n)
	}
}
