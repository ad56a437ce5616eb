package webhooks

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// successRefresh is how stale a webhook's last_success_at may grow while
// its attempts keep succeeding: a batch of results rewrites it only when
// it is older than this (or a failure window is open), so a busy webhook's
// row is not rewritten with every batch.
const successRefresh = time.Second

// writeResults records finished attempts in one transaction: the attempt
// rows, the deliveries' new state with their leases released, and the
// webhooks' failure tracking, which may auto-disable them.
func (s *Service) writeResults(ctx context.Context, results []attemptResult) error {
	var rec recorded
	err := s.db.TransactAhead(ctx, func(tx *gorm.DB) error {
		var err error
		rec, err = s.recordResults(tx.Statement.Context, tx, results, s.now())
		return err
	})
	if err != nil {
		return fmt.Errorf("record webhook attempts: %w", err)
	}
	s.afterRecorded(ctx, rec)
	return nil
}

// recorded is what recording a batch of results did, for the metrics and
// the log once it committed.
type recorded struct {
	results  []attemptResult
	outcomes []outcome
	disabled []disabledHook
}

type disabledHook struct {
	id     int64
	reason string
}

// afterRecorded counts and logs committed results and reloads the
// webhooks when some were auto-disabled.
func (s *Service) afterRecorded(ctx context.Context, rec recorded) {
	for i := range rec.results {
		s.observe(ctx, &rec.results[i], rec.outcomes[i])
	}
	for _, d := range rec.disabled {
		s.log.WarnContext(ctx, "webhook auto-disabled", "webhook_id", d.id, "reason", d.reason)
	}
	if len(rec.disabled) > 0 {
		s.webhooksChanged(ctx)
	}
}

// recordResults writes results in tx with a handful of statements whatever
// their number: one multi-row insert of the attempts, one update of the
// deliveries, one of the webhooks' failure tracking, and one per webhook to
// auto-disable. Aborted attempts only release their lease. A lease lost to
// another instance (the attempt outlived it) leaves the delivery to that
// instance; the attempt stays in the log.
func (s *Service) recordResults(ctx context.Context, tx *gorm.DB, results []attemptResult,
	now time.Time) (recorded, error) {
	// Webhook rows are written in the order of their ids on every
	// instance, so two instances recording results cannot deadlock.
	slices.SortFunc(results, func(a, b attemptResult) int {
		return cmp.Or(cmp.Compare(a.job.webhookID, b.job.webhookID),
			cmp.Compare(a.job.deliveryID, b.job.deliveryID))
	})
	rec := recorded{results: results, outcomes: make([]outcome, len(results))}
	var aborted []int64
	var done []int
	for i := range results {
		if results[i].aborted {
			aborted = append(aborted, results[i].job.deliveryID)
			continue
		}
		rec.outcomes[i] = s.decide(&results[i], now)
		done = append(done, i)
	}

	if len(aborted) > 0 {
		in, ids := inIDs(aborted)
		_, err := s.exec(ctx, tx, `UPDATE webhook_deliveries
			SET lease_owner = NULL, lease_until = NULL
			WHERE lease_owner = ? AND id IN `+in, append([]any{s.cfg.InstanceID}, ids...)...)
		if err != nil {
			return rec, err
		}
	}
	for rest := done; len(rest) > 0; {
		n := insertChunk(len(rest))
		if err := s.insertAttempts(ctx, tx, results, rest[:n]); err != nil {
			return rec, err
		}
		rest = rest[n:]
	}
	err := padChunks(len(done), func(from, to, size int) error {
		return s.updateDeliveries(ctx, tx, results, rec.outcomes, done[from:to], size, now)
	})
	if err != nil {
		return rec, err
	}
	disabled, err := s.trackWebhooks(ctx, tx, results, rec.outcomes, done, now)
	rec.disabled = disabled
	return rec, err
}

// insertAttempts inserts the attempt rows of results[i] for i in idx.
func (s *Service) insertAttempts(ctx context.Context, tx *gorm.DB, results []attemptResult,
	idx []int) error {
	q := `INSERT INTO webhook_attempts (delivery_id, number, triggered_by, request_headers,
		response_status, response_headers, response_body, duration_ms, error, created_at)
		VALUES ` + repeatRow("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", len(idx))
	args := make([]any, 0, 10*len(idx))
	for _, i := range idx {
		r := &results[i]
		reqHeaders, err := json.Marshal(nonNilMap(r.requestHeaders))
		if err != nil {
			return err
		}
		respHeaders, err := json.Marshal(nonNilMap(r.responseHeaders))
		if err != nil {
			return err
		}
		args = append(args, r.job.deliveryID, r.number, r.trigger, string(reqHeaders),
			responseStatus(r), string(respHeaders), r.responseBody, r.duration.Milliseconds(),
			storedText(r.err, maxStoredBody), r.at)
	}
	_, err := s.exec(ctx, tx, q, args...)
	return err
}

// responseStatus is an attempt's status for the database: NULL when no
// response arrived.
func responseStatus(r *attemptResult) any {
	if r.status == 0 {
		return nil
	}
	return r.status
}

// updateDeliveries applies the outcomes of results[i] for i in idx to
// their deliveries and releases their leases, in one statement of size
// rows.
func (s *Service) updateDeliveries(ctx context.Context, tx *gorm.DB, results []attemptResult,
	outcomes []outcome, idx []int, size int, now time.Time) error {
	var b strings.Builder
	b.WriteString(`UPDATE webhook_deliveries SET status = v.column2, attempt_count = v.column3,
			last_response_status = v.column4, next_attempt_at = v.column5, next_trigger = ?,
			lease_owner = NULL, lease_until = NULL, updated_at = ?
		FROM (VALUES `)
	valueRows(s.db.Dialect, &b, size, "bigint", "text", "integer", "integer", "timestamptz")
	b.WriteString(`) AS v
		WHERE webhook_deliveries.id = v.column1 AND webhook_deliveries.lease_owner = ?`)
	args := make([]any, 0, 5*size+3)
	args = append(args, TriggerScheduled, now)
	for _, i := range idx {
		r, o := &results[i], outcomes[i]
		var next any
		if o.next != nil {
			next = *o.next
		}
		args = append(args, r.job.deliveryID, o.status, r.number, responseStatus(r), next)
	}
	args = append(pad(args, 5*(size-len(idx))), s.cfg.InstanceID)
	_, err := s.exec(ctx, tx, b.String(), args...)
	return err
}

// hookTrack sums up a batch's attempts at one webhook.
type hookTrack struct {
	id int64
	// success is set when an attempt succeeded.
	success bool
	// failedAt is the first failure after the batch's last success, and
	// last the last one, for the disabled reason.
	failedAt *time.Time
	last     *attemptResult
	gone     bool
}

// summarize sums up the attempts results[i], i in idx, all at one
// webhook; test attempts do not count. It reports false when none counts.
func summarize(results []attemptResult, outcomes []outcome, idx []int) (hookTrack, bool) {
	// Attempts finish in any order: they are compared by time, then by
	// delivery.
	later := func(a, b *attemptResult) bool {
		return a.at.After(b.at) || a.at.Equal(b.at) && a.job.deliveryID > b.job.deliveryID
	}
	var t hookTrack
	var lastSuccess *attemptResult
	counted := false
	for _, i := range idx {
		r := &results[i]
		if r.trigger == TriggerTest {
			continue
		}
		t.id, counted = r.job.webhookID, true
		t.gone = t.gone || outcomes[i].gone
		if r.succeeded() && (lastSuccess == nil || later(r, lastSuccess)) {
			t.success, lastSuccess = true, r
		}
	}
	for _, i := range idx {
		r := &results[i]
		if r.trigger == TriggerTest || r.succeeded() ||
			lastSuccess != nil && !later(r, lastSuccess) {
			continue
		}
		if t.failedAt == nil || r.at.Before(*t.failedAt) {
			t.failedAt = &r.at
		}
		if t.last == nil || later(r, t.last) {
			t.last = r
		}
	}
	return t, counted
}

// trackWebhooks keeps the webhooks' failure windows for the attempts of
// results[i], i in done: a success closes the window, a failure after the
// batch's last success opens it if needed. A webhook is auto-disabled once
// its window has stayed open for DisableAfter, or at once on 410 Gone. It
// returns the webhooks it disabled.
func (s *Service) trackWebhooks(ctx context.Context, tx *gorm.DB, results []attemptResult,
	outcomes []outcome, done []int, now time.Time) ([]disabledHook, error) {
	var tracks []hookTrack
	for start := 0; start < len(done); {
		hook := results[done[start]].job.webhookID
		end := start + 1
		for end < len(done) && results[done[end]].job.webhookID == hook {
			end++
		}
		if t, ok := summarize(results, outcomes, done[start:end]); ok {
			tracks = append(tracks, t)
		}
		start = end
	}
	if len(tracks) == 0 {
		return nil, nil
	}

	err := padChunks(len(tracks), func(from, to, size int) error {
		return s.updateTracking(ctx, tx, tracks[from:to], size, now)
	})
	if err != nil {
		return nil, err
	}

	var disabled []disabledHook
	for _, t := range tracks {
		if !t.gone && t.failedAt == nil {
			continue
		}
		d, err := s.autoDisable(ctx, tx, t, now)
		if err != nil {
			return nil, err
		}
		if d != nil {
			disabled = append(disabled, *d)
		}
	}
	return disabled, nil
}

// updateTracking writes the failure windows of tracks with one statement of
// size rows. A webhook row is written only when its window changes, or to
// refresh a last success older than successRefresh.
func (s *Service) updateTracking(ctx context.Context, tx *gorm.DB, tracks []hookTrack,
	size int, now time.Time) error {
	var b strings.Builder
	b.WriteString(`UPDATE webhooks SET last_success_at = COALESCE(v.column2, last_success_at),
			first_failure_at = CASE WHEN v.column2 IS NOT NULL THEN v.column3
				ELSE COALESCE(first_failure_at, v.column3) END
		FROM (VALUES `)
	valueRows(s.db.Dialect, &b, size, "bigint", "timestamptz", "timestamptz")
	b.WriteString(`) AS v
		WHERE webhooks.id = v.column1 AND (
			(v.column3 IS NOT NULL AND
				(v.column2 IS NOT NULL OR webhooks.first_failure_at IS NULL))
			OR (v.column2 IS NOT NULL AND (webhooks.first_failure_at IS NOT NULL
				OR webhooks.last_success_at IS NULL OR webhooks.last_success_at < ?)))`)
	args := make([]any, 0, 3*size+1)
	for _, t := range tracks {
		var success, failed any
		if t.success {
			success = now
		}
		if t.failedAt != nil {
			failed = *t.failedAt
		}
		args = append(args, t.id, success, failed)
	}
	args = append(pad(args, 3*(size-len(tracks))), now.Add(-successRefresh))
	_, err := s.exec(ctx, tx, b.String(), args...)
	return err
}

// autoDisable disables a webhook that answered 410 Gone, or whose failure
// window has been open for DisableAfter. It returns the webhook when it
// disabled it.
func (s *Service) autoDisable(ctx context.Context, tx *gorm.DB, t hookTrack,
	now time.Time) (*disabledHook, error) {
	q := `UPDATE webhooks SET state = ?, disabled_reason = ?, updated_at = ?
		WHERE id = ? AND state = ?`
	var reason string
	args := []any{StateAutoDisabled, "", now, t.id, StateEnabled}
	if t.gone {
		reason = fmt.Sprintf("The endpoint answered 410 Gone on %s; "+
			"enable the webhook again to resume its deliveries", formatTime(now))
	} else {
		reason = fmt.Sprintf("Every attempt failed for %s (last: %s); "+
			"enable the webhook again to resume its deliveries",
			s.cfg.DisableAfter, attemptSummary(t.last))
		q += " AND first_failure_at <= ?"
		args = append(args, now.Add(-s.cfg.DisableAfter))
	}
	args[1] = reason
	res, err := s.exec(ctx, tx, q, args...)
	if err != nil {
		return nil, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return nil, err
	}
	return &disabledHook{id: t.id, reason: reason}, nil
}

// attemptSummary describes a failed attempt in a few words.
func attemptSummary(r *attemptResult) string {
	if r.status != 0 {
		return fmt.Sprintf("HTTP %d %s", r.status, http.StatusText(r.status))
	}
	return storedText(r.err, 200)
}
