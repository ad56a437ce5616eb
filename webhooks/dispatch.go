package webhooks

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
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
// HTTP. On PostgreSQL, claims of all instances take turns on an advisory
// lock and skip rows other transactions hold (FOR UPDATE SKIP LOCKED); on
// SQLite the single writer serialises them. A lease that expired (its
// instance died) is claimable again.
func (s *Service) claim(ctx context.Context, limit int) ([]job, error) {
	if limit <= 0 {
		return nil, nil
	}
	now := s.now()
	var jobs []job
	err := s.db.Write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		ids, err := s.pickDue(tx, now, limit)
		if err != nil || len(ids) == 0 {
			return err
		}
		err = tx.Exec(`UPDATE webhook_deliveries SET lease_owner = ?, lease_until = ?
			WHERE id IN ?`, s.cfg.InstanceID, now.Add(s.cfg.LeaseDuration), ids).Error
		if err != nil {
			return err
		}
		jobs, err = loadJobs(tx, ids, now)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim webhook deliveries: %w", err)
	}
	return jobs, nil
}

// pickDue chooses the deliveries to claim: per enabled webhook, starting
// with a different one each time so none starves when workers are scarce,
// the oldest due ones up to the webhook's free slots.
func (s *Service) pickDue(tx *gorm.DB, now time.Time, limit int) ([]int64, error) {
	postgres := s.db.Dialect == content.Postgres
	if postgres {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", claimLockKey).Error; err != nil {
			return nil, err
		}
	}
	var hooks []int64
	err := tx.Raw("SELECT id FROM webhooks WHERE state = ? ORDER BY id", StateEnabled).
		Scan(&hooks).Error
	if err != nil || len(hooks) == 0 {
		return nil, err
	}
	live, err := liveLeases(tx, now)
	if err != nil {
		return nil, err
	}

	due := `SELECT id FROM webhook_deliveries
		WHERE webhook_id = ? AND status = ? AND next_attempt_at <= ?
		AND (lease_until IS NULL OR lease_until <= ?)
		ORDER BY next_attempt_at, id LIMIT ?`
	if postgres {
		due += " FOR UPDATE SKIP LOCKED"
	}
	first := int(s.turn.Add(1) % uint64(len(hooks)))
	var ids []int64
	for i := range hooks {
		hook := hooks[(first+i)%len(hooks)]
		n := min(s.cfg.PerEndpoint-live[hook], limit-len(ids))
		if n <= 0 {
			continue
		}
		var got []int64
		if err := tx.Raw(due, hook, StatusPending, now, now, n).Scan(&got).Error; err != nil {
			return nil, err
		}
		ids = append(ids, got...)
		if len(ids) >= limit {
			break
		}
	}
	return ids, nil
}

// liveLeases counts the deliveries in flight per webhook, on every
// instance.
func liveLeases(tx *gorm.DB, now time.Time) (map[int64]int, error) {
	// Counting here rather than with GROUP BY keeps SQLite on the small
	// index of leased rows instead of scanning every delivery.
	var leased []int64
	err := tx.Raw("SELECT webhook_id FROM webhook_deliveries WHERE lease_until > ?", now).
		Scan(&leased).Error
	if err != nil {
		return nil, err
	}
	live := make(map[int64]int)
	for _, id := range leased {
		live[id]++
	}
	return live, nil
}

// loadJobs reads what sending the given deliveries needs.
func loadJobs(tx *gorm.DB, ids []int64, now time.Time) ([]job, error) {
	var rows []struct {
		ID                  int64
		WebhookID           int64
		EventID             string
		Event               string
		AttemptCount        int
		RetryBase           int
		NextTrigger         string
		Payload             string
		URL                 string
		Headers             string
		Secret              string
		PreviousSecret      string
		PreviousSecretUntil *time.Time
	}
	err := tx.Raw(`SELECT d.id, d.webhook_id, d.event_id, d.event, d.attempt_count,
			d.retry_base, d.next_trigger, e.payload, w.url, w.headers, w.secret,
			w.previous_secret, w.previous_secret_until
		FROM webhook_deliveries d
		JOIN webhook_events e ON e.id = d.event_id
		JOIN webhooks w ON w.id = d.webhook_id
		WHERE d.id IN ? ORDER BY d.id`, ids).Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	jobs := make([]job, 0, len(rows))
	for _, r := range rows {
		w := Webhook{
			Secret: r.Secret, PreviousSecret: r.PreviousSecret,
			PreviousSecretUntil: r.PreviousSecretUntil,
		}
		j := job{
			deliveryID: r.ID, webhookID: r.WebhookID, eventID: r.EventID, event: r.Event,
			attemptCount: r.AttemptCount, retryBase: r.RetryBase, trigger: r.NextTrigger,
			payload: []byte(r.Payload), url: r.URL, secrets: w.signingSecrets(now),
		}
		if err := json.Unmarshal([]byte(r.Headers), &j.headers); err != nil {
			return nil, fmt.Errorf("webhook %d headers: %w", r.WebhookID, err)
		}
		jobs = append(jobs, j)
	}
	return jobs, nil
}

// writeResults records finished attempts in one transaction: the attempt
// rows, the deliveries' new state with their leases released, and the
// webhooks' failure tracking, which may auto-disable them.
func (s *Service) writeResults(ctx context.Context, results []attemptResult) error {
	// Every instance locks webhook rows in the same order (by id), so two
	// instances recording results for the same webhooks cannot deadlock.
	slices.SortFunc(results, func(a, b attemptResult) int {
		return cmp.Or(cmp.Compare(a.job.webhookID, b.job.webhookID),
			cmp.Compare(a.job.deliveryID, b.job.deliveryID))
	})
	now := s.now()
	var disabled []disabledHook
	outcomes := make([]outcome, len(results))
	err := s.db.Write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		disabled = disabled[:0]
		for i := range results {
			r := &results[i]
			if r.aborted {
				if err := releaseLease(tx, r.job.deliveryID, s.cfg.InstanceID); err != nil {
					return err
				}
				continue
			}
			outcomes[i] = s.decide(r, now)
			d, err := s.writeResult(tx, r, outcomes[i], now)
			if err != nil {
				return err
			}
			if d != nil {
				disabled = append(disabled, *d)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record webhook attempts: %w", err)
	}

	for i := range results {
		s.observe(ctx, &results[i], outcomes[i])
	}
	for _, d := range disabled {
		s.log.WarnContext(ctx, "webhook auto-disabled", "webhook_id", d.id, "reason", d.reason)
	}
	if len(disabled) > 0 {
		s.webhooksChanged(ctx)
	}
	return nil
}

type disabledHook struct {
	id     int64
	reason string
}

func releaseLease(tx *gorm.DB, deliveryID int64, owner string) error {
	return tx.Exec(`UPDATE webhook_deliveries SET lease_owner = NULL, lease_until = NULL
		WHERE id = ? AND lease_owner = ?`, deliveryID, owner).Error
}

// writeResult records one attempt and applies its outcome. It returns the
// webhook when the attempt auto-disabled it.
func (s *Service) writeResult(tx *gorm.DB, r *attemptResult, o outcome,
	now time.Time) (*disabledHook, error) {
	reqHeaders, err := json.Marshal(nonNilMap(r.requestHeaders))
	if err != nil {
		return nil, err
	}
	respHeaders, err := json.Marshal(nonNilMap(r.responseHeaders))
	if err != nil {
		return nil, err
	}
	var status *int
	if r.status != 0 {
		status = &r.status
	}
	row := attemptRow{
		DeliveryID: r.job.deliveryID, Number: r.number, TriggeredBy: r.trigger,
		RequestHeaders: string(reqHeaders), ResponseStatus: status,
		ResponseHeaders: string(respHeaders), ResponseBody: r.responseBody,
		DurationMs: r.duration.Milliseconds(), Error: storedText(r.err, maxStoredBody),
		CreatedAt: r.at,
	}
	if err := tx.Create(&row).Error; err != nil {
		return nil, err
	}

	// A lease lost to another instance (this attempt outlived it) leaves
	// the delivery to that instance; the attempt stays in the log.
	err = tx.Exec(`UPDATE webhook_deliveries SET status = ?, attempt_count = ?,
			last_response_status = ?, next_attempt_at = ?, next_trigger = ?,
			lease_owner = NULL, lease_until = NULL, updated_at = ?
		WHERE id = ? AND lease_owner = ?`,
		o.status, r.number, status, o.next, TriggerScheduled, now,
		r.job.deliveryID, s.cfg.InstanceID).Error
	if err != nil {
		return nil, err
	}

	if r.trigger == TriggerTest {
		return nil, nil
	}
	return s.track(tx, r, o, now)
}

// track keeps a webhook's failure window: a success clears it; a failure
// opens it if needed, and auto-disables the webhook once it has stayed open
// for DisableAfter, or at once on 410 Gone.
func (s *Service) track(tx *gorm.DB, r *attemptResult, o outcome,
	now time.Time) (*disabledHook, error) {
	id := r.job.webhookID
	if r.succeeded() {
		err := tx.Exec(`UPDATE webhooks SET last_success_at = ?, first_failure_at = NULL
			WHERE id = ?`, now, id).Error
		return nil, err
	}
	err := tx.Exec(`UPDATE webhooks SET first_failure_at = COALESCE(first_failure_at, ?)
		WHERE id = ?`, r.at, id).Error
	if err != nil {
		return nil, err
	}

	var reason string
	var res *gorm.DB
	if o.gone {
		reason = fmt.Sprintf("The endpoint answered 410 Gone on %s; "+
			"enable the webhook again to resume its deliveries", formatTime(now))
		res = tx.Exec(`UPDATE webhooks SET state = ?, disabled_reason = ?, updated_at = ?
			WHERE id = ? AND state = ?`, StateAutoDisabled, reason, now, id, StateEnabled)
	} else {
		reason = fmt.Sprintf("Every attempt failed for %s (last: %s); "+
			"enable the webhook again to resume its deliveries",
			s.cfg.DisableAfter, attemptSummary(r))
		res = tx.Exec(`UPDATE webhooks SET state = ?, disabled_reason = ?, updated_at = ?
			WHERE id = ? AND state = ? AND first_failure_at <= ?`,
			StateAutoDisabled, reason, now, id, StateEnabled, now.Add(-s.cfg.DisableAfter))
	}
	if res.Error != nil || res.RowsAffected == 0 {
		return nil, res.Error
	}
	return &disabledHook{id: id, reason: reason}, nil
}

// attemptSummary describes a failed attempt in a few words.
func attemptSummary(r *attemptResult) string {
	if r.status != 0 {
		return fmt.Sprintf("HTTP %d %s", r.status, http.StatusText(r.status))
	}
	return storedText(r.err, 200)
}
