package content

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"gorm.io/gorm"
)

// SQLite has a single writer, so the write transactions of concurrent
// requests queue for it, and each pays for its own commit: writing every
// page it touched to the WAL, though the next transaction touches most of
// the same pages (the tables' last leaves, the outbox's indexes). Transact
// lets them share one: while a transaction runs, the ones that arrive
// queue, and the first of them then runs all of the queue in a single
// transaction, each in a savepoint of its own. This is group commit.

// maxGroup bounds how many callers share one transaction, so that a
// long queue does not make one transaction hold the writer for long.
const maxGroup = 64

// savepoint names the savepoint each member of a shared transaction runs
// in. Members run one after the other, so one name serves them all.
const savepoint = "herald_member"

// Transact runs fn in a write transaction and returns its error, or the
// commit's. On SQLite, callers arriving together share one transaction:
// an error of fn (or its panic, which Transact raises again in the
// caller) undoes only fn's own writes, through a savepoint; a failed
// commit fails every caller, and nothing of theirs is written.
//
// fn's statements run under tx's context, which on SQLite keeps ctx's
// values but not its cancellation: interrupting a statement would roll
// back the shared transaction. Anything fn runs itself on tx should use
// tx.Statement.Context. A caller whose ctx ends before its turn gets
// ctx's error and nothing runs. On PostgreSQL, Transact is a plain
// transaction on ctx.
func (db *DB) Transact(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return db.transact(ctx, fn, false)
}

// TransactAhead is Transact for short transactions that others wait on,
// such as the webhook dispatcher's claims: on SQLite it goes ahead of the
// callers of Transact waiting, in a transaction shared only with other
// callers of TransactAhead, so it waits at most for the transaction
// running.
func (db *DB) TransactAhead(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return db.transact(ctx, fn, true)
}

func (db *DB) transact(ctx context.Context, fn func(tx *gorm.DB) error, ahead bool) error {
	if db.Dialect != SQLite {
		return db.Write.WithContext(ctx).Transaction(fn)
	}
	m := &groupMember{ctx: ctx, fn: fn, ahead: ahead, done: make(chan memberOutcome, 1)}
	return db.group.run(db.Write, m)
}

// group queues the callers of Transact while a shared transaction runs.
// It has no goroutine of its own: the caller at the head of the queue runs
// the next transaction (it leads), then hands the lead to the next caller
// waiting, if any.
type group struct {
	mu      sync.Mutex
	running bool
	queue   []*groupMember
	// shared counts transactions with more than one member, for tests.
	shared int
}

// groupMember is one caller of Transact or TransactAhead (ahead).
type groupMember struct {
	ctx   context.Context
	fn    func(tx *gorm.DB) error
	ahead bool
	done  chan memberOutcome
}

// memberOutcome is what a member learns: its result, or that it leads.
type memberOutcome struct {
	err      error
	panicked any
	lead     bool
}

// result returns the member's error, raising its panic again.
func (o memberOutcome) result() error {
	if o.panicked != nil {
		panic(o.panicked)
	}
	return o.err
}

func (g *group) run(w *gorm.DB, m *groupMember) error {
	g.mu.Lock()
	if g.running {
		g.enqueue(m)
		g.mu.Unlock()
		if o := <-m.done; !o.lead {
			return o.result()
		}
		g.mu.Lock()
	}
	g.running = true
	// The members queued behind m of its kind join it: those going ahead
	// are all at the front.
	n := 0
	for n < len(g.queue) && n < maxGroup-1 && g.queue[n].ahead == m.ahead {
		n++
	}
	members := append([]*groupMember{m}, g.queue[:n]...)
	g.queue = append([]*groupMember(nil), g.queue[n:]...)
	if len(members) > 1 {
		g.shared++
	}
	g.mu.Unlock()

	outcomes := commitGroup(w, members)
	for i, o := range outcomes[1:] {
		members[i+1].done <- o
	}
	g.handOver()
	return outcomes[0].result()
}

// enqueue queues m behind the members of its kind: those going ahead
// before the others.
func (g *group) enqueue(m *groupMember) {
	if !m.ahead {
		g.queue = append(g.queue, m)
		return
	}
	i := 0
	for i < len(g.queue) && g.queue[i].ahead {
		i++
	}
	g.queue = slices.Insert(g.queue, i, m)
}

// handOver gives the lead to the first caller waiting, or ends the run.
func (g *group) handOver() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.queue) == 0 {
		g.running = false
		return
	}
	next := g.queue[0]
	g.queue = g.queue[1:]
	next.done <- memberOutcome{lead: true}
}

// errRolledBack is the error of members whose work was undone with the
// rest of a shared transaction.
var errRolledBack = errors.New("the shared write transaction was rolled back")

// errPanicked rolls back the transaction of a lone member that panicked.
var errPanicked = errors.New("panic in a write transaction")

// commitGroup runs members in one transaction and returns their outcomes.
// A lone member runs as it would alone: its error rolls the transaction
// back.
func commitGroup(w *gorm.DB, members []*groupMember) (outcomes []memberOutcome) {
	outcomes = make([]memberOutcome, len(members))
	defer func() {
		// Whatever happens, every member gets an answer.
		if p := recover(); p != nil {
			fail(outcomes, fmt.Errorf("write transaction: panic: %v", p))
		}
	}()
	var err error
	if len(members) == 1 {
		err = w.Transaction(func(tx *gorm.DB) error {
			return runAlone(tx, members[0], &outcomes[0])
		})
	} else {
		err = w.Transaction(func(tx *gorm.DB) error {
			return runShared(tx, members, outcomes)
		})
	}
	if err != nil {
		fail(outcomes, err)
	}
	return outcomes
}

// fail gives err to the members that had succeeded: their work was not
// committed.
func fail(outcomes []memberOutcome, err error) {
	for i, o := range outcomes {
		if o.err == nil && o.panicked == nil {
			outcomes[i].err = fmt.Errorf("%w: %w", errRolledBack, err)
		}
	}
}

// runAlone runs a lone member in tx; its failure rolls tx back.
func runAlone(tx *gorm.DB, m *groupMember, o *memberOutcome) error {
	if err := m.ctx.Err(); err != nil {
		*o = memberOutcome{err: err}
		return err
	}
	*o = call(tx.WithContext(context.WithoutCancel(m.ctx)), m.fn)
	if o.panicked != nil {
		return errPanicked
	}
	return o.err
}

// runShared runs members in tx one after the other, each in a savepoint
// that its failure rolls back. It fails when tx can no longer commit.
func runShared(tx *gorm.DB, members []*groupMember, outcomes []memberOutcome) error {
	for i, m := range members {
		if err := m.ctx.Err(); err != nil {
			outcomes[i].err = err
			continue
		}
		if err := tx.Exec("SAVEPOINT " + savepoint).Error; err != nil {
			return err
		}
		outcomes[i] = call(tx.WithContext(context.WithoutCancel(m.ctx)), m.fn)
		if outcomes[i].err != nil || outcomes[i].panicked != nil {
			// A statement error that ended the whole transaction (a full
			// disk, say) took the savepoint with it: then every member
			// fails.
			if err := tx.Exec("ROLLBACK TO " + savepoint).Error; err != nil {
				return fmt.Errorf("undo a failed write: %w", err)
			}
		}
		if err := tx.Exec("RELEASE " + savepoint).Error; err != nil {
			return err
		}
	}
	return nil
}

// call runs fn, turning its panic into an memberOutcome.
func call(tx *gorm.DB, fn func(tx *gorm.DB) error) (o memberOutcome) {
	defer func() {
		if p := recover(); p != nil {
			o = memberOutcome{panicked: p}
		}
	}()
	return memberOutcome{err: fn(tx)}
}
