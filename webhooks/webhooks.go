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
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herald-cms/herald/content"
)

// pollInterval is how often the dispatcher looks for due work when nothing
// woke it: retries that became due, and work committed by other instances.
const pollInterval = time.Second

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
	writerDone   chan struct{}
	results      chan attemptResult
	attempts     sync.WaitGroup
	inflight     atomic.Int64
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
	}
	s.m = newMetrics(s)
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
		writerDone:   make(chan struct{}),
		results:      make(chan attemptResult, s.cfg.Workers),
	}
	s.run = r
	go s.writeLoop(r)
	go s.dispatchLoop(loopCtx, attemptCtx, r)
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
	<-r.loopDone

	done := make(chan struct{})
	go func() {
		r.attempts.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		s.log.WarnContext(ctx, "webhook shutdown: aborting attempts in flight",
			"in_flight", r.inflight.Load())
		r.abort()
		<-done
	}
	close(r.results)
	<-r.writerDone
	r.abort()
	s.log.InfoContext(ctx, "webhook dispatcher stopped", "instance", s.cfg.InstanceID)
	return nil
}

// dispatchLoop claims and starts due deliveries until ctx ends.
func (s *Service) dispatchLoop(ctx, attemptCtx context.Context, r *running) {
	defer close(r.loopDone)
	poll := time.NewTicker(pollInterval)
	defer poll.Stop()
	prune := time.NewTicker(pruneInterval)
	defer prune.Stop()
	s.pruneAsync(ctx)

	for {
		s.dispatch(ctx, attemptCtx, r)
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-poll.C:
			if err := s.hooks.refresh(ctx, s.db.Read); err != nil && ctx.Err() == nil {
				s.log.ErrorContext(ctx, "reload webhooks", "error", err)
			}
		case <-prune.C:
			s.pruneAsync(ctx)
		}
	}
}

// dispatch claims as many due deliveries as there are free workers and
// starts an attempt for each.
func (s *Service) dispatch(ctx, attemptCtx context.Context, r *running) {
	for ctx.Err() == nil {
		free := s.cfg.Workers - int(r.inflight.Load())
		if free <= 0 {
			return
		}
		jobs, err := s.claimDetached(ctx, free)
		if err != nil {
			if ctx.Err() == nil {
				s.log.ErrorContext(ctx, "claim webhook deliveries", "error", err)
			}
			return
		}
		for _, j := range jobs {
			r.inflight.Add(1)
			r.attempts.Add(1)
			go func() {
				defer r.attempts.Done()
				res := s.send(attemptCtx, j)
				r.results <- res
				r.inflight.Add(-1)
				// A free worker may take more work; other instances have
				// their own.
				s.wakeUp()
			}()
		}
		if len(jobs) < free {
			return
		}
	}
}

// claimDetached claims like claim, but is not interrupted when ctx ends
// mid-transaction: PostgreSQL may have committed a claim whose answer the
// cancellation threw away, which would leave leases no attempt uses until
// they expire. Every job it returns is started, and Stop waits for it.
func (s *Service) claimDetached(ctx context.Context, limit int) ([]job, error) {
	claimCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	return s.claim(claimCtx, limit)
}

// writeLoop records finished attempts, as many as are waiting in one
// transaction, until results is closed.
func (s *Service) writeLoop(r *running) {
	defer close(r.writerDone)
	const maxBatch = 64
	for res := range r.results {
		batch := []attemptResult{res}
	drain:
		for len(batch) < maxBatch {
			select {
			case more, ok := <-r.results:
				if !ok {
					break drain
				}
				batch = append(batch, more)
			default:
				break drain
			}
		}
		s.saveResults(batch)
		// Finished deliveries free per-webhook slots, here and for the
		// other instances, which may be waiting on the same webhooks.
		s.Committed(context.Background())
	}
}

// saveResults writes results with a context of its own: results must be
// recorded even while the service stops. A write the database refused for
// a passing reason (a deadlock, a serialization failure, a busy SQLite
// file) is tried again, since a result that is never recorded means its
// delivery is sent again once the lease expires.
func (s *Service) saveResults(results []attemptResult) {
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
