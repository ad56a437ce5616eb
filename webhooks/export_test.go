package webhooks

import "context"

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
