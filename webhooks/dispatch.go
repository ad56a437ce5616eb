package webhooks

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/herald-cms/herald/content"
)

// claimLockKey names the PostgreSQL advisory lock that serialises claims
// across instances, so the per-webhook count of leases is exact.
const claimLockKey = 0x68657261 // "hera"

// claim leases up to limit due deliveries of enabled webhooks to this
// instance, at most PerEndpoint in flight per webhook over every instance,
// and returns them ready to send. It runs one short transaction and no
// HTTP.
func (s *Service) claim(ctx context.Context, limit int) ([]job, error) {
	var c claimed
	err := s.db.TransactAhead(ctx, func(tx *gorm.DB) error {
		var err error
		c, err = s.claimIn(tx.Statement.Context, tx, s.now(), limit)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim webhook deliveries: %w", err)
	}
	return c.jobs, nil
}

// claimed is what a claim got.
type claimed struct {
	jobs []job
	// capped means a webhook had at least as many due deliveries as free
	// slots: one of its attempts finishing may make more claimable.
	capped bool
}

// claimIn claims in tx with four statements whatever the number of
// webhooks: count the leases in flight, pick the due deliveries, lease
// them, and load what sending them needs. On PostgreSQL, claims of all
// instances take turns on an advisory lock and skip rows other
// transactions hold (FOR UPDATE SKIP LOCKED); on SQLite the single writer
// serialises them. A lease that expired (its instance died) is claimable
// again.
func (s *Service) claimIn(ctx context.Context, tx *gorm.DB, now time.Time,
	limit int) (claimed, error) {
	if limit <= 0 {
		return claimed{}, nil
	}
	ids, capped, err := s.pickDue(ctx, tx, now, limit)
	if err != nil || len(ids) == 0 {
		return claimed{capped: capped}, err
	}
	in, idArgs := inIDs(ids)
	args := append([]any{s.cfg.InstanceID, now.Add(s.cfg.LeaseDuration)}, idArgs...)
	_, err = s.exec(ctx, tx, `UPDATE webhook_deliveries SET lease_owner = ?, lease_until = ?
		WHERE id IN `+in, args...)
	if err != nil {
		return claimed{}, err
	}
	jobs, err := s.loadJobs(ctx, tx, ids, now)
	return claimed{jobs: jobs, capped: capped}, err
}

// The due deliveries of every enabled webhook, at most ? of each, oldest
// first, in one statement. PostgreSQL locks them and skips rows other
// transactions hold; SQLite has a single writer. On SQLite, CROSS JOIN
// keeps webhooks as the outer loop: the planner would otherwise scan every
// delivery and run the subquery for each.
const (
	dueSQLite = `SELECT d.webhook_id, d.id FROM webhooks w
		CROSS JOIN webhook_deliveries d ON d.id IN (
			SELECT x.id FROM webhook_deliveries x
			WHERE x.webhook_id = w.id AND x.status = ? AND x.next_attempt_at <= ?
			AND (x.lease_until IS NULL OR x.lease_until <= ?)
			ORDER BY x.next_attempt_at, x.id LIMIT ?)
		WHERE w.state = ?
		ORDER BY d.webhook_id, d.next_attempt_at, d.id`
	duePostgres = `SELECT d.webhook_id, d.id FROM webhooks w
		CROSS JOIN LATERAL (
			SELECT x.id, x.webhook_id, x.next_attempt_at FROM webhook_deliveries x
			WHERE x.webhook_id = w.id AND x.status = ? AND x.next_attempt_at <= ?
			AND (x.lease_until IS NULL OR x.lease_until <= ?)
			ORDER BY x.next_attempt_at, x.id LIMIT ?
			FOR UPDATE SKIP LOCKED) d
		WHERE w.state = ?
		ORDER BY d.webhook_id, d.next_attempt_at, d.id`
)

// pickDue chooses the deliveries to claim: per enabled webhook, starting
// with a different one each time so none starves when workers are scarce,
// the oldest due ones up to the webhook's free slots. It reports whether a
// webhook had at least as many due deliveries as free slots.
func (s *Service) pickDue(ctx context.Context, tx *gorm.DB, now time.Time,
	limit int) ([]int64, bool, error) {
	due := dueSQLite
	if s.db.Dialect == content.Postgres {
		due = duePostgres
		if _, err := s.exec(ctx, tx, "SELECT pg_advisory_xact_lock(?)", claimLockKey); err != nil {
			return nil, false, err
		}
	}
	live, err := s.liveLeases(ctx, tx, now)
	if err != nil {
		return nil, false, err
	}
	rows, err := s.query(ctx, tx, due, StatusPending, now, now,
		min(s.cfg.PerEndpoint, limit), StateEnabled)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	var hooks []int64
	found := map[int64][]int64{}
	for rows.Next() {
		var hook, id int64
		if err := rows.Scan(&hook, &id); err != nil {
			return nil, false, err
		}
		if len(found[hook]) == 0 {
			hooks = append(hooks, hook)
		}
		found[hook] = append(found[hook], id)
	}
	if err := rows.Err(); err != nil || len(hooks) == 0 {
		return nil, false, err
	}

	first := int(s.turn.Add(1) % uint64(len(hooks)))
	var ids []int64
	capped := false
	for i := range hooks {
		hook := hooks[(first+i)%len(hooks)]
		free := max(s.cfg.PerEndpoint-live[hook], 0)
		got := found[hook]
		capped = capped || len(got) >= free
		ids = append(ids, got[:min(free, limit-len(ids), len(got))]...)
	}
	return ids, capped, nil
}

// liveLeases counts the deliveries in flight per webhook, on every
// instance.
func (s *Service) liveLeases(ctx context.Context, tx *gorm.DB,
	now time.Time) (map[int64]int, error) {
	// Counting here rather than with GROUP BY keeps SQLite on the small
	// index of leased rows instead of scanning every delivery.
	rows, err := s.query(ctx, tx,
		"SELECT webhook_id FROM webhook_deliveries WHERE lease_until > ?", now)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	live := make(map[int64]int)
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		live[id]++
	}
	return live, rows.Err()
}

// loadJobs reads what sending the given deliveries needs.
func (s *Service) loadJobs(ctx context.Context, tx *gorm.DB, ids []int64,
	now time.Time) ([]job, error) {
	in, args := inIDs(ids)
	rows, err := s.query(ctx, tx, `SELECT d.id, d.webhook_id, d.event_id, d.event,
			d.attempt_count, d.retry_base, d.next_trigger, e.payload, w.url, w.headers,
			w.secret, w.previous_secret, w.previous_secret_until
		FROM webhook_deliveries d
		JOIN webhook_events e ON e.id = d.event_id
		JOIN webhooks w ON w.id = d.webhook_id
		WHERE d.id IN `+in+` ORDER BY d.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	jobs := make([]job, 0, len(ids))
	for rows.Next() {
		var j job
		var headers []byte
		var w Webhook
		var until sql.NullTime
		err := rows.Scan(&j.deliveryID, &j.webhookID, &j.eventID, &j.event, &j.attemptCount,
			&j.retryBase, &j.trigger, &j.payload, &j.url, &headers, &w.Secret,
			&w.PreviousSecret, &until)
		if err != nil {
			return nil, err
		}
		if until.Valid {
			w.PreviousSecretUntil = &until.Time
		}
		j.secrets = w.signingSecrets(now)
		if err := json.Unmarshal(headers, &j.headers); err != nil {
			return nil, fmt.Errorf("webhook %d headers: %w", j.webhookID, err)
		}
		jobs = append(jobs, j)
	}
	return jobs, rows.Err()
}
