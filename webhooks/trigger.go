package webhooks

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"gorm.io/gorm"

	"github.com/herald-cms/herald/content"
)

// TestResult is the answer of the trigger action, in Strapi's shape.
type TestResult struct {
	// StatusCode is the receiver's status, or 500 when no response arrived
	// (as Strapi answers).
	StatusCode int `json:"statusCode"`
	// Message is the start of the response body, or why no response
	// arrived.
	Message string `json:"message"`
}

// TriggerTest sends a trigger-test event to a webhook now, whatever its
// state, waits for the answer and logs it as a delivery with one attempt
// whose trigger is "test". A test delivery is never retried and does not
// count towards auto-disabling. It returns ENOTFOUND for an unknown id.
func (s *Service) TriggerTest(ctx context.Context, id int64) (TestResult, error) {
	w, err := s.Webhook(ctx, id)
	if err != nil {
		return TestResult{}, err
	}
	j, err := s.createTestDelivery(ctx, w)
	if err != nil {
		return TestResult{}, err
	}

	r := s.send(ctx, j)
	if err := s.writeResults(context.WithoutCancel(ctx), []attemptResult{r}); err != nil {
		return TestResult{}, err
	}
	s.log.InfoContext(ctx, "webhook test sent", "webhook_id", id, "delivery_id", j.deliveryID,
		"status", r.status, "actor", content.ActorFrom(ctx).Name)
	if r.status == 0 {
		return TestResult{StatusCode: http.StatusInternalServerError, Message: r.err}, nil
	}
	return TestResult{StatusCode: r.status, Message: r.responseBody}, nil
}

// createTestDelivery stores a trigger-test event and its delivery, already
// leased to this instance so the dispatcher leaves it alone.
func (s *Service) createTestDelivery(ctx context.Context, w *Webhook) (job, error) {
	now := s.now()
	body, err := json.Marshal(struct {
		Event     string `json:"event"`
		CreatedAt string `json:"createdAt"`
	}{EventTriggerTest, formatTime(now)})
	if err != nil {
		return job{}, err
	}
	ev := eventRow{ID: content.NewEventID(), Name: EventTriggerTest, Payload: string(body), CreatedAt: now}
	owner := s.cfg.InstanceID
	lease := now.Add(s.cfg.LeaseDuration)
	d := deliveryRow{
		WebhookID: w.ID, EventID: ev.ID, Event: EventTriggerTest, Status: StatusPending,
		NextTrigger: TriggerTest, NextAttemptAt: &now, LeaseOwner: &owner, LeaseUntil: &lease,
		CreatedAt: now, UpdatedAt: now,
	}
	err = s.db.Write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&ev).Error; err != nil {
			return err
		}
		return tx.Create(&d).Error
	})
	if err != nil {
		return job{}, fmt.Errorf("create test delivery for webhook %d: %w", w.ID, err)
	}
	return job{
		deliveryID: d.ID, webhookID: w.ID, eventID: ev.ID, event: EventTriggerTest,
		trigger: TriggerTest, payload: body, url: w.URL, headers: w.Headers,
		secrets: w.signingSecrets(now),
	}, nil
}
