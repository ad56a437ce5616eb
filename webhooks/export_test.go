package webhooks

import (
	"context"
	"time"
)

// RunDue claims and sends every due delivery and records the results,
// until nothing is due at the service's clock.
func (s *Service) RunDue(ctx context.Context) (int, error) { return s.runDue(ctx) }

// Prune runs retention pruning once.
func (s *Service) Prune(ctx context.Context) (int64, error) { return s.prune(ctx) }

// ClaimCount claims up to limit deliveries and returns how many it got.
func (s *Service) ClaimCount(ctx context.Context, limit int) (int, error) {
	jobs, err := s.claim(ctx, limit)
	return len(jobs), err
}

// DueCount counts due deliveries, as the gauge does.
func (s *Service) DueCount(ctx context.Context) (int64, error) { return s.dueCount(ctx) }

// RefreshWebhooks reloads the enabled webhooks when another instance
// changed them, as the dispatcher's poll does.
func (s *Service) RefreshWebhooks(ctx context.Context) error { return s.hooks.refresh(ctx, s.db.Read) }

// CachedWebhooks returns the ids of the enabled webhooks Record would use
// now.
func (s *Service) CachedWebhooks() []int64 {
	var ids []int64
	for _, h := range s.hooks.get() {
		ids = append(ids, h.id)
	}
	return ids
}

// FakeRounder returns a function running one dispatcher round without
// HTTP: it records a 204 answer for each delivery the previous round
// claimed and claims up to limit more, in one transaction. It returns how
// many results the round recorded.
func (s *Service) FakeRounder(limit int) func() (int, error) {
	var jobs []job
	return func() (int, error) {
		results := fakeResults(jobs, s.now())
		c, err := s.writeAndClaim(results, limit)
		jobs = c.jobs
		return len(results), err
	}
}

// ClaimAndAnswer claims up to limit deliveries and returns a function
// recording a 204 answer for each, as one batch.
func (s *Service) ClaimAndAnswer(ctx context.Context, limit int) (func() error, int, error) {
	jobs, err := s.claim(ctx, limit)
	if err != nil {
		return nil, 0, err
	}
	results := fakeResults(jobs, s.now())
	return func() error { return s.writeResults(ctx, results) }, len(jobs), nil
}

// fakeResults answers every job with a typical 204.
func fakeResults(jobs []job, at time.Time) []attemptResult {
	results := make([]attemptResult, len(jobs))
	for i, j := range jobs {
		results[i] = attemptResult{
			job: j, number: j.attemptCount + 1, trigger: TriggerScheduled, at: at,
			requestHeaders: map[string]string{
				"Content-Type": "application/json", "User-Agent": "Herald/dev",
				"X-Strapi-Event": j.event, "Webhook-Id": j.eventID,
				"Webhook-Timestamp": "1740830400",
				"Webhook-Signature": "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
			},
			status:          204,
			responseHeaders: map[string]string{"Date": "Sat, 01 Mar 2025 12:00:00 GMT"},
			duration:        time.Millisecond,
		}
	}
	return results
}
