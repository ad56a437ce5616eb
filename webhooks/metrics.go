package webhooks

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The outcomes counted by herald_webhook_deliveries_total: a delivery that
// succeeded, one that failed for good, and a failed attempt with a retry
// scheduled.
const (
	outcomeSucceeded = "succeeded"
	outcomeFailed    = "failed"
	outcomeRetry     = "retry_scheduled"
)

type metrics struct {
	outcomes *prometheus.CounterVec
	duration prometheus.Histogram
	due      prometheus.GaugeFunc
}

func newMetrics(s *Service) *metrics {
	m := &metrics{
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_webhook_deliveries_total",
			Help: "Webhook delivery attempts by outcome: succeeded, failed (for good), " +
				"retry_scheduled.",
		}, []string{"outcome"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "herald_webhook_attempt_duration_seconds",
			Help:    "Duration of webhook delivery attempts, from request to response body.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 15, 30},
		}),
	}
	for _, o := range []string{outcomeSucceeded, outcomeFailed, outcomeRetry} {
		m.outcomes.WithLabelValues(o)
	}
	m.due = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "herald_webhook_deliveries_due",
		Help: "Pending webhook deliveries whose attempt is due and not in flight.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		n, err := s.dueCount(ctx)
		if err != nil {
			s.log.ErrorContext(ctx, "count due webhook deliveries", "error", err)
			return -1
		}
		return float64(n)
	})
	return m
}

// Collectors returns the service's Prometheus collectors: deliveries by
// outcome, the attempt duration histogram and the number of due deliveries
// waiting for a worker. The caller registers them.
func (s *Service) Collectors() []prometheus.Collector {
	return []prometheus.Collector{s.m.outcomes, s.m.duration, s.m.due}
}

// observe counts a recorded attempt and logs it.
func (s *Service) observe(ctx context.Context, r *attemptResult, o outcome) {
	if r.aborted {
		s.log.InfoContext(ctx, "webhook attempt aborted by shutdown",
			"delivery_id", r.job.deliveryID, "webhook_id", r.job.webhookID)
		return
	}
	s.m.duration.Observe(r.duration.Seconds())
	level, msg, outcome := slog.LevelDebug, "webhook delivered", outcomeSucceeded
	switch o.status {
	case StatusFailed:
		level, msg, outcome = slog.LevelWarn, "webhook delivery failed", outcomeFailed
	case StatusPending:
		level, msg, outcome = slog.LevelInfo, "webhook attempt failed; retry scheduled",
			outcomeRetry
	}
	s.m.outcomes.WithLabelValues(outcome).Inc()
	// Most attempts succeed and log at Debug, usually off: skip building
	// their attributes.
	if !s.log.Enabled(ctx, level) {
		return
	}
	attrs := []any{
		"delivery_id", r.job.deliveryID, "webhook_id", r.job.webhookID,
		"event_id", r.job.eventID, "attempt", r.number, "trigger", r.trigger,
		"status", r.status, "duration_ms", r.duration.Milliseconds(),
	}
	if r.err != "" {
		attrs = append(attrs, "error", r.err)
	}
	if o.next != nil {
		attrs = append(attrs, "next_attempt_at", *o.next)
	}
	s.log.Log(ctx, level, msg, attrs...)
}

// dueCount counts the pending deliveries of enabled webhooks that are due
// and not in flight.
func (s *Service) dueCount(ctx context.Context) (int64, error) {
	now := s.now()
	var n int64
	err := s.db.Read.WithContext(ctx).Raw(`SELECT COUNT(*) FROM webhook_deliveries d
		JOIN webhooks w ON w.id = d.webhook_id AND w.state = ?
		WHERE d.status = ? AND d.next_attempt_at <= ?
		AND (d.lease_until IS NULL OR d.lease_until <= ?)`,
		StateEnabled, StatusPending, now, now).Row().Scan(&n)
	return n, err
}
