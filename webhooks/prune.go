package webhooks

import (
	"context"
	"fmt"
)

// pruneBatch bounds each delete, so pruning never holds the write lock for
// long.
const pruneBatch = 500

// prune deletes what is older than the retention: finished deliveries last
// changed before it, with their attempts; deliveries whose webhook no longer
// exists; and events older than it that no delivery still needs. Pending
// deliveries are kept however old. It returns how many deliveries were
// deleted.
func (s *Service) prune(ctx context.Context) (int64, error) {
	cutoff := s.now().Add(-s.cfg.Retention)
	finished, err := s.deleteBatches(ctx, "finished deliveries", `DELETE FROM webhook_deliveries
		WHERE id IN (SELECT id FROM webhook_deliveries
			WHERE status <> ? AND updated_at < ? LIMIT ?)`, StatusPending, cutoff)
	if err != nil {
		return finished, err
	}
	orphans, err := s.deleteBatches(ctx, "orphaned deliveries", `DELETE FROM webhook_deliveries
		WHERE id IN (SELECT d.id FROM webhook_deliveries d
			WHERE NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.id = d.webhook_id) LIMIT ?)`)
	if err != nil {
		return finished + orphans, err
	}
	_, err = s.deleteBatches(ctx, "events", `DELETE FROM webhook_events
		WHERE id IN (SELECT e.id FROM webhook_events e
			WHERE e.created_at < ?
			AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id) LIMIT ?)`,
		cutoff)
	return finished + orphans, err
}

// deleteBatches runs a DELETE whose last parameter is the batch size until
// it deletes nothing.
func (s *Service) deleteBatches(ctx context.Context, what, query string,
	args ...any) (int64, error) {
	args = append(args, pruneBatch)
	var total int64
	for {
		res := s.db.Write.WithContext(ctx).Exec(query, args...)
		if res.Error != nil {
			return total, fmt.Errorf("prune webhook %s: %w", what, res.Error)
		}
		total += res.RowsAffected
		if res.RowsAffected < pruneBatch {
			return total, nil
		}
	}
}
