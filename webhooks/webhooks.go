// Package webhooks turns content events into durable, signed, retried and
// logged HTTP deliveries.
//
// The flow: Service.Record writes each event and one delivery per matching
// enabled webhook inside the content change's own transaction (the outbox),
// so an event exists if and only if its change committed. Service.Committed
// wakes the dispatcher, which claims due deliveries with a lease in a short
// transaction, sends them with no transaction open, and writes each
// attempt's result. A delivery is tried at once, then after each delay of
// the retry schedule; it ends succeeded or failed. Webhooks whose attempts
// keep failing, or that answer 410 Gone, are auto-disabled.
//
// The package also serves the webhooks admin API (see API) and exports
// Prometheus collectors.
package webhooks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"

	"github.com/herald-cms/herald/content"
)

// pollInterval is how often the dispatcher looks for due work when nothing
// woke it: retries that became due, and work committed by other instances.
const pollInterval = time.Second

// gatherWait is how long the dispatcher waits for more results before
// recording the ones it has.
const gatherWait = time.Millisecond

// pruneInterval is how often retention pruning runs.
const pruneInterval = time.Hour

// Service records content events, dispatches their deliveries and manages
// webhooks. It implements content.EventRecorder. Its methods are safe for
// concurrent use.
type Service struct {
	db     *content.DB
	cfg    Config
	log    *slog.Logger
	client *http.Client
	hooks  hookCache
	m      *metrics
	// stmts holds the prepared hot statements on SQLite.
	stmts *stmtCache

	// wake holds at most one pending wake-up for the dispatcher.
	wake chan struct{}
	// turn rotates the webhook a claim starts with, for fairness.
	turn atomic.Uint64

	mu  sync.Mutex
	run *running
}

// running is the state of a started dispatcher.
type running struct {
	stopClaiming context.CancelFunc
	abort        context.CancelFunc
	loopDone     chan struct{}
	// jobs carries claimed deliveries to the workers, and results their
	// finished attempts back to the loop, which records them.
	jobs    chan job
	results chan attemptResult
	// inflight counts the attempts started whose result the loop has not
	// received yet.
	inflight atomic.Int64
}

// New returns a Service using db, with cfg's zero fields set to their
// defaults. It loads the enabled webhooks; it does not start dispatching
// (see Start). It fails when a setting is out of range or the database
// cannot be read.
func New(db *content.DB, cfg Config) (*Service, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Service{
		db:     db,
		cfg:    cfg,
		log:    cfg.Logger,
		client: cfg.Guard.Client(cfg.Timeout),
		wake:   make(chan struct{}, 1),
		stmts:  newStmtCache(db),
	}
	s.m = newMetrics(s)
	if t, ok := s.client.Transport.(*http.Transport); ok {
		// Every worker may be sending to the same host (several webhooks
		// on one receiver): keep as many connections to reuse.
		t.MaxIdleConnsPerHost = max(t.MaxIdleConnsPerHost, cfg.Workers)
	}
	if err := s.hooks.reload(context.Background(), db.Read); err != nil {
		return nil, err
	}
	// Every instance on the database wakes when any of them has new work,
	// and reloads its webhooks when any of them changed one.
	db.Bus.Subscribe(content.TopicDeliveries, func(string) { s.wakeUp() })
	db.Bus.Subscribe(content.TopicWebhooks, func(string) { s.reloadSoon() })
	return s, nil
}

// now is the injected clock, in UTC so that stored times compare correctly.
func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// Committed wakes the dispatchers of every instance after a transaction
// that recorded events or made deliveries due has committed: this one at
// once, the others through the database's bus. It never blocks.
func (s *Service) Committed(ctx context.Context) {
	s.db.Bus.Publish(ctx, content.TopicDeliveries, "")
}

// wakeUp wakes this instance's dispatcher. It never blocks.
func (s *Service) wakeUp() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Start starts the dispatcher: it sends due deliveries at once, whenever
// Committed wakes it, and at least every second; and it prunes old
// deliveries every hour. Cancelling ctx stops claiming new work, like Stop
// without waiting. Start returns an error when the service already runs.
func (s *Service) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.run != nil {
		return errors.New("start webhooks: already running")
	}

	loopCtx, stopClaiming := context.WithCancel(ctx)
	attemptCtx, abort := context.WithCancel(context.WithoutCancel(ctx))
	r := &running{
		stopClaiming: stopClaiming,
		abort:        abort,
		loopDone:     make(chan struct{}),
		jobs:         make(chan job, s.cfg.Workers),
		results:      make(chan attemptResult, s.cfg.Workers),
	}
	s.run = r
	// Long-lived workers keep the stacks an attempt grows, instead of
	// growing a new goroutine's stack for every attempt.
	for range s.cfg.Workers {
		go func() {
			for j := range r.jobs {
				r.results <- s.send(attemptCtx, j)
			}
		}()
	}
	go s.dispatchLoop(loopCtx, r)
	s.log.InfoContext(ctx, "webhook dispatcher started", "instance", s.cfg.InstanceID,
		"workers", s.cfg.Workers, "per_endpoint", s.cfg.PerEndpoint)
	return nil
}

// Stop stops claiming deliveries and waits for the attempts in flight to
// finish and be recorded. When ctx ends first, the remaining attempts are
// aborted and their leases released without recording them, so another
// instance (or the next start) sends them again. Stop on a service that is
// not running does nothing.
func (s *Service) Stop(ctx context.Context) error {
	s.mu.Lock()
	r := s.run
	s.run = nil
	s.mu.Unlock()
	if r == nil {
		return nil
	}

	r.stopClaiming()
	select {
	case <-r.loopDone:
	case <-ctx.Done():
		s.log.WarnContext(ctx, "webhook shutdown: aborting attempts in flight",
			"in_flight", r.inflight.Load())
		r.abort()
		<-r.loopDone
	}
	r.abort()
	s.log.InfoContext(ctx, "webhook dispatcher stopped", "instance", s.cfg.InstanceID)
	return nil
}

// loopState is what the dispatch loop knows about the work waiting.
type loopState struct {
	// due means deliveries may be due: the last claim got all it asked
	// for, or something woke the loop.
	due bool
	// capped means the last claim left due deliveries behind because of
	// the per-webhook limit: recording results frees slots for them.
	capped bool
}

// dispatchLoop claims and starts due deliveries and records their results
// until ctx ends, then records the attempts still in flight. Each round is
// one transaction that records every result waiting and claims work for
// the free workers, so the single SQLite writer is taken once per round
// rather than once per attempt.
func (s *Service) dispatchLoop(ctx context.Context, r *running) {
	defer close(r.loopDone)
	defer close(r.jobs)
	poll := time.NewTicker(pollInterval)
	defer poll.Stop()
	prune := time.NewTicker(pruneInterval)
	defer prune.Stop()
	s.pruneAsync(ctx)

	st := loopState{due: true}
	// Each round's results are recorded before the next round starts, so
	// one buffer serves them all.
	buf := make([]attemptResult, 0, s.cfg.Workers)
	for ctx.Err() == nil {
		clear(buf[:cap(buf)])
		batch := buf[:0]
		if !st.due || s.free(r) == 0 {
			select {
			case <-ctx.Done():
				continue
			case <-s.wake:
				st.due = true
			case <-poll.C:
				if err := s.hooks.refresh(ctx, s.db.Read); err != nil && ctx.Err() == nil {
					s.log.ErrorContext(ctx, "reload webhooks", "error", err)
				}
				st.due = true
			case <-prune.C:
				s.pruneAsync(ctx)
				continue
			case res := <-r.results:
				r.inflight.Add(-1)
				batch = append(batch, res)
			}
		}
		batch = s.gather(r, batch, &st)
		s.round(ctx, r, batch, &st)
	}

	// Stopping: record the attempts in flight as they finish (or are
	// aborted by Stop).
	for r.inflight.Load() > 0 {
		res := <-r.results
		r.inflight.Add(-1)
		s.saveResults(r.collect([]attemptResult{res}))
	}
}

// free is how many more attempts this instance may start.
func (s *Service) free(r *running) int {
	return max(s.cfg.Workers-int(r.inflight.Load()), 0)
}

// collect adds every result already waiting to batch.
func (r *running) collect(batch []attemptResult) []attemptResult {
	for {
		select {
		case res := <-r.results:
			r.inflight.Add(-1)
			batch = append(batch, res)
		default:
			return batch
		}
	}
}

// gather adds to a batch that has results the ones already waiting and,
// while attempts are in flight, those arriving within gatherWait: a round
// costs about as much for one result as for dozens. A wake-up (new work)
// ends the wait.
func (s *Service) gather(r *running, batch []attemptResult, st *loopState) []attemptResult {
	batch = r.collect(batch)
	if len(batch) == 0 {
		return batch
	}
	timer := time.NewTimer(gatherWait)
	defer timer.Stop()
	for r.inflight.Load() > 0 {
		select {
		case res := <-r.results:
			r.inflight.Add(-1)
			batch = append(batch, res)
		case <-s.wake:
			st.due = true
			return r.collect(batch)
		case <-timer.C:
			return r.collect(batch)
		}
	}
	return batch
}

// round records batch and, when workers are free and deliveries may be
// due, claims more in the same transaction and starts them.
func (s *Service) round(ctx context.Context, r *running, batch []attemptResult,
	st *loopState) {
	limit := 0
	free := s.free(r)
	if ctx.Err() == nil && free > 0 && (st.due || len(batch) > 0 && st.capped) {
		limit = free
	}
	if limit == 0 && len(batch) == 0 {
		return
	}
	c, err := s.writeAndClaim(batch, limit)
	if err != nil {
		if ctx.Err() == nil {
			s.log.ErrorContext(ctx, "claim webhook deliveries", "error", err)
		}
		// The next wake-up or poll tries again.
		st.due = false
		return
	}
	if limit > 0 {
		st.due, st.capped = len(c.jobs) == limit, c.capped
	}
	for _, j := range c.jobs {
		r.inflight.Add(1)
		r.jobs <- j
	}
}

// writeAndClaim records results and claims up to limit deliveries, on
// SQLite in one transaction. It runs with a context of its own: results must be recorded
// even while the service stops, and PostgreSQL may commit a claim whose
// answer a cancellation would throw away, leaving leases no attempt uses
// until they expire; every job it returns is started, and Stop waits for
// it. A transaction the database refused for a passing reason (a
// deadlock, a serialization failure, a busy SQLite file) is tried again.
// When it keeps failing, the results are recorded on their own.
func (s *Service) writeAndClaim(results []attemptResult, limit int) (claimed, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if s.db.Dialect == content.Postgres && len(results) > 0 {
		// Several instances may share a webhook's slots. Recording in a
		// transaction of its own, then telling the other instances, lets
		// them claim the slots it frees: in one transaction, an instance
		// with a backlog would keep its slots for as long as the backlog
		// lasts. SQLite has one instance and one writer, which a single
		// transaction spares.
		s.saveResults(results)
		s.Committed(ctx)
		results = nil
		if limit == 0 {
			return claimed{}, nil
		}
	}
	const tries = 5
	for i := 1; ; i++ {
		var rec recorded
		var c claimed
		err := s.db.TransactAhead(ctx, func(tx *gorm.DB) error {
			ctx := tx.Statement.Context
			var err error
			now := s.now()
			if len(results) > 0 {
				if rec, err = s.recordResults(ctx, tx, results, now); err != nil {
					return fmt.Errorf("record webhook attempts: %w", err)
				}
			}
			if c, err = s.claimIn(ctx, tx, now, limit); err != nil {
				return fmt.Errorf("claim webhook deliveries: %w", err)
			}
			return nil
		})
		if err == nil {
			s.afterRecorded(ctx, rec)
			return c, nil
		}
		if i < tries && transient(err) && sleepCtx(ctx, time.Duration(i)*20*time.Millisecond) {
			s.log.WarnContext(ctx, "webhook dispatch: trying again", "error", err,
				"count", len(results))
			continue
		}
		if limit > 0 && len(results) > 0 {
			s.saveResults(results)
		} else if len(results) > 0 {
			// The leases expire and the deliveries are sent again.
			s.log.ErrorContext(ctx, "record webhook attempts", "error", err,
				"count", len(results))
			return claimed{}, nil
		}
		return claimed{}, err
	}
}

// saveResults writes results with a context of its own, trying again
// after a passing failure, since a result that is never recorded means
// its delivery is sent again once the lease expires.
func (s *Service) saveResults(results []attemptResult) {
	if len(results) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const tries = 5
	for i := 1; ; i++ {
		err := s.writeResults(ctx, results)
		if err == nil {
			return
		}
		if i < tries && transient(err) && sleepCtx(ctx, time.Duration(i)*20*time.Millisecond) {
			s.log.WarnContext(ctx, "record webhook attempts: trying again", "error", err,
				"count", len(results))
			continue
		}
		// The leases expire and the deliveries are sent again.
		s.log.ErrorContext(ctx, "record webhook attempts", "error", err, "count", len(results))
		return
	}
}

// transient reports whether err is a failure that the same transaction may
// not meet when tried again.
func transient(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "SQLSTATE 40P01") || // deadlock detected
		strings.Contains(msg, "SQLSTATE 40001") || // serialization failure
		strings.Contains(msg, "database is locked")
}

// sleepCtx waits for d unless ctx ends first, and reports whether it
// waited the whole time.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// runDue claims and sends due deliveries, waiting for each batch to be
// recorded, until nothing is due. Tests call it with an advanced clock
// instead of starting the dispatcher.
func (s *Service) runDue(ctx context.Context) (int, error) {
	total := 0
	for {
		jobs, err := s.claim(ctx, s.cfg.Workers)
		if err != nil {
			return total, err
		}
		if len(jobs) == 0 {
			return total, nil
		}
		results := make([]attemptResult, len(jobs))
		var wg sync.WaitGroup
		for i, j := range jobs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = s.send(ctx, j)
			}()
		}
		wg.Wait()
		if err := s.writeResults(ctx, results); err != nil {
			return total, err
		}
		total += len(jobs)
	}
}

// pruneAsync prunes in the background so the dispatcher keeps running.
func (s *Service) pruneAsync(ctx context.Context) {
	go func() {
		n, err := s.prune(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.ErrorContext(ctx, "prune webhook deliveries", "error", err)
		case n > 0:
			s.log.InfoContext(ctx, "pruned webhook deliveries", "count", n)
		}
	}()
}

// webhooksChanged reloads the enabled webhooks after a change made here,
// so the next event sees it, and tells the other instances to reload.
func (s *Service) webhooksChanged(ctx context.Context) {
	if err := s.hooks.reload(ctx, s.db.Read); err != nil {
		s.log.ErrorContext(ctx, "reload webhooks", "error", err)
	}
	s.db.Bus.Publish(ctx, content.TopicWebhooks, "")
}

// reloadSoon reloads the enabled webhooks in the background after a change
// notice; notices arriving before that reload starts share it.
func (s *Service) reloadSoon() {
	if !s.hooks.pending.CompareAndSwap(false, true) {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.hooks.reload(ctx, s.db.Read); err != nil {
			s.log.ErrorContext(ctx, "reload webhooks after a change notice", "error", err)
		}
	}()
}
