package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/webhooks/signature"
	"github.com/herald-cms/herald/webhooks/ssrf"
)

// The states of a webhook. Only enabled webhooks receive new deliveries and
// have their pending deliveries sent.
const (
	StateEnabled      = "enabled"
	StateDisabled     = "disabled"
	StateAutoDisabled = "auto-disabled"
)

// EventTriggerTest is the event POST /admin/webhooks/:id/trigger sends. No
// webhook can subscribe to it.
const EventTriggerTest = "trigger-test"

// rotationOverlap is how long the previous secret keeps signing after a
// rotation.
const rotationOverlap = 24 * time.Hour

// Webhook is an endpoint that receives content events.
type Webhook struct {
	ID      int64
	Name    string
	URL     string
	Headers map[string]string
	Events  []string
	// ContentTypes limits entry events to these content types; empty means
	// every type.
	ContentTypes []string
	State        string
	// DisabledReason says why the webhook is disabled or auto-disabled.
	DisabledReason string
	// Secret signs every delivery. PreviousSecret signs beside it until
	// PreviousSecretUntil, after a rotation.
	Secret              string
	PreviousSecret      string
	PreviousSecretUntil *time.Time
	// FirstFailureAt is the first failed attempt since LastSuccessAt.
	FirstFailureAt *time.Time
	LastSuccessAt  *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// IsEnabled reports whether the webhook receives deliveries.
func (w Webhook) IsEnabled() bool { return w.State == StateEnabled }

// signingSecrets returns the secrets that sign a delivery at now: the
// current one and, for a day after a rotation, the previous one.
func (w Webhook) signingSecrets(now time.Time) []string {
	secrets := []string{w.Secret}
	until := w.PreviousSecretUntil
	if w.PreviousSecret != "" && until != nil && now.Before(*until) {
		secrets = append(secrets, w.PreviousSecret)
	}
	return secrets
}

// MarshalJSON writes the webhook as the admin API shows it.
func (w Webhook) MarshalJSON() ([]byte, error) {
	var reason *string
	if w.DisabledReason != "" {
		reason = &w.DisabledReason
	}
	return json.Marshal(struct {
		ID             int64             `json:"id"`
		Name           string            `json:"name"`
		URL            string            `json:"url"`
		Headers        map[string]string `json:"headers"`
		Events         []string          `json:"events"`
		ContentTypes   []string          `json:"contentTypes"`
		IsEnabled      bool              `json:"isEnabled"`
		State          string            `json:"state"`
		DisabledReason *string           `json:"disabledReason"`
		Secret         string            `json:"secret"`
		CreatedAt      string            `json:"createdAt"`
		UpdatedAt      string            `json:"updatedAt"`
	}{
		w.ID, w.Name, w.URL, nonNilMap(w.Headers), nonNil(w.Events), nonNil(w.ContentTypes),
		w.IsEnabled(), w.State, reason, w.Secret, formatTime(w.CreatedAt), formatTime(w.UpdatedAt),
	})
}

// WebhookInput is the body of POST and PUT /admin/webhooks. A nil field is
// absent: on create it takes its default, on update it keeps its value.
type WebhookInput struct {
	Name         *string            `json:"name"`
	URL          *string            `json:"url"`
	Headers      *map[string]string `json:"headers"`
	Events       *[]string          `json:"events"`
	ContentTypes *[]string          `json:"contentTypes"`
	IsEnabled    *bool              `json:"isEnabled"`
}

// webhookRow is the webhooks table.
type webhookRow struct {
	ID                  int64      `gorm:"column:id;primaryKey"`
	Name                string     `gorm:"column:name"`
	URL                 string     `gorm:"column:url"`
	Headers             string     `gorm:"column:headers"`
	Events              string     `gorm:"column:events"`
	ContentTypes        string     `gorm:"column:content_types"`
	State               string     `gorm:"column:state"`
	DisabledReason      string     `gorm:"column:disabled_reason"`
	Secret              string     `gorm:"column:secret"`
	PreviousSecret      string     `gorm:"column:previous_secret"`
	PreviousSecretUntil *time.Time `gorm:"column:previous_secret_until"`
	FirstFailureAt      *time.Time `gorm:"column:first_failure_at"`
	LastSuccessAt       *time.Time `gorm:"column:last_success_at"`
	CreatedAt           time.Time  `gorm:"column:created_at;autoCreateTime:false"`
	UpdatedAt           time.Time  `gorm:"column:updated_at;autoUpdateTime:false"`
}

func (webhookRow) TableName() string { return "webhooks" }

func (r *webhookRow) webhook() (*Webhook, error) {
	w := &Webhook{
		ID:                  r.ID,
		Name:                r.Name,
		URL:                 r.URL,
		State:               r.State,
		DisabledReason:      r.DisabledReason,
		Secret:              r.Secret,
		PreviousSecret:      r.PreviousSecret,
		PreviousSecretUntil: utcPtr(r.PreviousSecretUntil),
		FirstFailureAt:      utcPtr(r.FirstFailureAt),
		LastSuccessAt:       utcPtr(r.LastSuccessAt),
		CreatedAt:           r.CreatedAt.UTC(),
		UpdatedAt:           r.UpdatedAt.UTC(),
	}
	if err := json.Unmarshal([]byte(r.Headers), &w.Headers); err != nil {
		return nil, fmt.Errorf("webhook %d headers: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(r.Events), &w.Events); err != nil {
		return nil, fmt.Errorf("webhook %d events: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(r.ContentTypes), &w.ContentTypes); err != nil {
		return nil, fmt.Errorf("webhook %d content types: %w", r.ID, err)
	}
	return w, nil
}

// Webhooks returns every webhook, oldest first.
func (s *Service) Webhooks(ctx context.Context) ([]*Webhook, error) {
	var rows []webhookRow
	if err := s.db.Read.WithContext(ctx).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	out := make([]*Webhook, 0, len(rows))
	for i := range rows {
		w, err := rows[i].webhook()
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, nil
}

// Webhook returns the webhook with the given id, or an ENOTFOUND error.
func (s *Service) Webhook(ctx context.Context, id int64) (*Webhook, error) {
	return findWebhook(s.db.Read.WithContext(ctx), id)
}

func findWebhook(db *gorm.DB, id int64) (*Webhook, error) {
	var rows []webhookRow
	if err := db.Where("id = ?", id).Limit(1).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("find webhook %d: %w", id, err)
	}
	if len(rows) == 0 {
		return nil, webhookNotFound(id)
	}
	return rows[0].webhook()
}

func webhookNotFound(id any) error {
	return content.Errorf(content.ENOTFOUND, "Webhook %v not found", id)
}

// CreateWebhook validates in, gives the webhook a fresh secret and stores
// it. It returns an EINVALID error naming each invalid field.
func (s *Service) CreateWebhook(ctx context.Context, in WebhookInput) (*Webhook, error) {
	w := &Webhook{State: StateEnabled}
	if in.IsEnabled != nil && !*in.IsEnabled {
		w.State, w.DisabledReason = StateDisabled, disabledBy(ctx)
	}
	if err := s.apply(ctx, w, in, true); err != nil {
		return nil, err
	}
	secret, err := signature.NewSecret()
	if err != nil {
		return nil, err
	}
	now := s.now()
	row, err := newWebhookRow(w)
	if err != nil {
		return nil, err
	}
	row.Secret, row.CreatedAt, row.UpdatedAt = secret, now, now
	if err := s.db.Write.WithContext(ctx).Create(&row).Error; err != nil {
		return nil, fmt.Errorf("create webhook: %w", err)
	}

	s.webhooksChanged(ctx)
	s.log.InfoContext(ctx, "webhook created", "webhook_id", row.ID,
		"actor", content.ActorFrom(ctx).Name)
	return row.webhook()
}

// UpdateWebhook changes the fields in holds. IsEnabled true enables a
// disabled or auto-disabled webhook, which resumes its pending deliveries
// and restarts its failure count; false disables an enabled webhook (an
// auto-disabled one keeps its state and reason). It returns ENOTFOUND or an
// EINVALID error naming each invalid field.
func (s *Service) UpdateWebhook(ctx context.Context, id int64, in WebhookInput) (*Webhook, error) {
	w, err := s.Webhook(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.apply(ctx, w, in, false); err != nil {
		return nil, err
	}
	row, err := newWebhookRow(w)
	if err != nil {
		return nil, err
	}

	// The state changes are computed by the database from the row's
	// current state, so an auto-disable that lands between the read above
	// and this write is not undone by accident.
	set := map[string]any{
		"name": row.Name, "url": row.URL, "headers": row.Headers, "events": row.Events,
		"content_types": row.ContentTypes, "updated_at": s.now(),
	}
	if in.IsEnabled != nil && *in.IsEnabled {
		set["state"] = StateEnabled
		set["disabled_reason"] = ""
		set["first_failure_at"] = gorm.Expr("CASE WHEN state = ? THEN first_failure_at END",
			StateEnabled)
	}
	if in.IsEnabled != nil && !*in.IsEnabled {
		reason := disabledBy(ctx)
		set["state"] = gorm.Expr("CASE WHEN state = ? THEN ? ELSE state END",
			StateEnabled, StateDisabled)
		set["disabled_reason"] = gorm.Expr("CASE WHEN state = ? THEN ? ELSE disabled_reason END",
			StateEnabled, reason)
	}
	res := s.db.Write.WithContext(ctx).Model(&webhookRow{}).Where("id = ?", id).Updates(set)
	if res.Error != nil {
		return nil, fmt.Errorf("update webhook %d: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, webhookNotFound(id)
	}

	s.webhooksChanged(ctx)
	s.Committed(ctx)
	s.log.InfoContext(ctx, "webhook updated", "webhook_id", id,
		"actor", content.ActorFrom(ctx).Name)
	return s.Webhook(ctx, id)
}

func disabledBy(ctx context.Context) string {
	return "Disabled by " + content.ActorFrom(ctx).Name
}

// DeleteWebhook deletes a webhook with its deliveries and their attempts,
// and returns what was deleted. It returns ENOTFOUND for an unknown id.
func (s *Service) DeleteWebhook(ctx context.Context, id int64) (*Webhook, error) {
	var w *Webhook
	err := s.db.Write.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if w, err = findWebhook(tx, id); err != nil {
			return err
		}
		err = tx.Exec("DELETE FROM webhook_deliveries WHERE webhook_id = ?", id).Error
		if err != nil {
			return err
		}
		return tx.Exec("DELETE FROM webhooks WHERE id = ?", id).Error
	})
	if err != nil {
		if content.IsCode(err, content.ENOTFOUND) {
			return nil, err
		}
		return nil, fmt.Errorf("delete webhook %d: %w", id, err)
	}

	s.webhooksChanged(ctx)
	s.log.InfoContext(ctx, "webhook deleted", "webhook_id", id,
		"actor", content.ActorFrom(ctx).Name)
	return w, nil
}

// RotateSecret gives the webhook a new secret. The previous secret keeps
// signing beside the new one for 24 hours, so receivers can switch without
// losing a delivery; rotating again within that time drops the oldest. It
// returns ENOTFOUND for an unknown id.
func (s *Service) RotateSecret(ctx context.Context, id int64) (*Webhook, error) {
	secret, err := signature.NewSecret()
	if err != nil {
		return nil, err
	}
	now := s.now()
	set := map[string]any{
		"previous_secret":       gorm.Expr("secret"),
		"previous_secret_until": now.Add(rotationOverlap),
		"secret":                secret,
		"updated_at":            now,
	}
	res := s.db.Write.WithContext(ctx).Model(&webhookRow{}).Where("id = ?", id).Updates(set)
	if res.Error != nil {
		return nil, fmt.Errorf("rotate webhook %d secret: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, webhookNotFound(id)
	}
	s.log.InfoContext(ctx, "webhook secret rotated", "webhook_id", id,
		"actor", content.ActorFrom(ctx).Name)
	return s.Webhook(ctx, id)
}

func newWebhookRow(w *Webhook) (webhookRow, error) {
	headers, err := json.Marshal(nonNilMap(w.Headers))
	if err != nil {
		return webhookRow{}, err
	}
	events, err := json.Marshal(nonNil(w.Events))
	if err != nil {
		return webhookRow{}, err
	}
	types, err := json.Marshal(nonNil(w.ContentTypes))
	if err != nil {
		return webhookRow{}, err
	}
	return webhookRow{
		ID: w.ID, Name: w.Name, URL: w.URL, Headers: string(headers), Events: string(events),
		ContentTypes: string(types), State: w.State, DisabledReason: w.DisabledReason,
		Secret: w.Secret, PreviousSecret: w.PreviousSecret,
	}, nil
}

// apply copies the fields in holds onto w and validates the result. With
// create, missing required fields are errors.
func (s *Service) apply(ctx context.Context, w *Webhook, in WebhookInput, create bool) error {
	var errs []content.FieldError
	add := func(field, msg string) {
		errs = append(errs, content.FieldError{
			Path: []string{field}, Message: msg, Name: "ValidationError"})
	}

	if in.Name != nil {
		w.Name = strings.TrimSpace(*in.Name)
	}
	switch {
	case w.Name == "" && (create || in.Name != nil):
		add("name", "name is required")
	case len(w.Name) > 255:
		add("name", "name must be at most 255 characters")
	}

	if in.URL != nil {
		w.URL = strings.TrimSpace(*in.URL)
		if msg, err := s.checkURL(ctx, w.URL); err != nil {
			return err
		} else if msg != "" {
			add("url", msg)
		}
	} else if create {
		add("url", "url is required")
	}

	if in.Headers != nil {
		w.Headers = *in.Headers
		for _, fe := range checkHeaders(w.Headers) {
			errs = append(errs, fe)
		}
	}

	if in.Events != nil {
		w.Events = dedupe(*in.Events)
		for i, ev := range w.Events {
			msg := ""
			switch {
			case ev == EventTriggerTest:
				msg = "trigger-test is sent by the trigger action and cannot be subscribed to"
			case !slices.Contains(subscribable(), ev):
				msg = fmt.Sprintf("unknown event %q; events are %s", ev, allEvents())
			}
			if msg != "" {
				errs = append(errs, content.FieldError{
					Path: []string{"events", fmt.Sprint(i)}, Message: msg, Name: "ValidationError"})
			}
		}
	}
	if len(w.Events) == 0 && (create || in.Events != nil) {
		add("events", "events must list at least one of "+allEvents())
	}

	if in.ContentTypes != nil {
		w.ContentTypes = dedupe(*in.ContentTypes)
		for i, uid := range w.ContentTypes {
			if !uidPattern.MatchString(uid) {
				errs = append(errs, content.FieldError{
					Path: []string{"contentTypes", fmt.Sprint(i)},
					Message: fmt.Sprintf(
						"%q is not a content type uid such as api::article.article", uid),
					Name: "ValidationError"})
			}
		}
	}

	switch len(errs) {
	case 0:
		return nil
	case 1:
		return content.Invalid(errs[0].Message, errs...)
	}
	return content.Invalid(fmt.Sprintf("%d errors occurred", len(errs)), errs...)
}

// checkURL returns why a webhook URL is refused, or "" when it is accepted.
// Its error is for failures of the check itself.
func (s *Service) checkURL(ctx context.Context, u string) (string, error) {
	if u == "" {
		return "url is required", nil
	}
	err := s.cfg.Guard.CheckURL(ctx, u)
	switch {
	case err == nil:
		return "", nil
	case errors.Is(err, ssrf.ErrRefused), errors.Is(err, ssrf.ErrInvalidURL):
		return err.Error(), nil
	}
	return "", fmt.Errorf("check webhook url: %w", err)
}

// uidPattern matches content type uids such as api::article.article and
// plugin::users-permissions.user.
var uidPattern = regexp.MustCompile(`^[a-z][a-z0-9-]*::[a-z0-9][a-z0-9-]*\.[a-z0-9][a-z0-9-]*$`)

// reservedHeaders are set by Herald on every delivery; a webhook's custom
// headers may not replace them. Names starting with "webhook-" are reserved
// too.
var reservedHeaders = []string{
	"content-type", "user-agent", "x-strapi-event", "host", "content-length",
	"transfer-encoding", "connection",
}

func checkHeaders(h map[string]string) []content.FieldError {
	var errs []content.FieldError
	add := func(name, msg string) {
		errs = append(errs, content.FieldError{
			Path: []string{"headers", name}, Message: msg, Name: "ValidationError"})
	}
	seen := make(map[string]string, len(h))
	for _, name := range sortedKeys(h) {
		lower := strings.ToLower(name)
		switch {
		case !isToken(name):
			add(name, fmt.Sprintf("header name %q is not a valid HTTP header name", name))
		case strings.HasPrefix(lower, "webhook-") || slices.Contains(reservedHeaders, lower):
			add(name, fmt.Sprintf("header %s is set by Herald and cannot be overridden", name))
		case seen[lower] != "":
			add(name, fmt.Sprintf("header %s repeats %s", name, seen[lower]))
		case !validHeaderValue(h[name]):
			add(name, fmt.Sprintf("the value of header %s contains control characters", name))
		}
		seen[lower] = name
	}
	return errs
}

// isToken reports whether s is an HTTP token (RFC 9110), the syntax of a
// header name.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}

// validHeaderValue refuses control characters other than horizontal tab,
// which could split or smuggle headers.
func validHeaderValue(v string) bool {
	for _, r := range v {
		if (r < 0x20 && r != '\t') || r == 0x7f {
			return false
		}
	}
	return true
}

// subscribable lists the events a webhook may list.
func subscribable() []string {
	return append(slices.Clone(content.EntryEvents), content.MediaEvents...)
}

func allEvents() string { return strings.Join(subscribable(), ", ") }

func dedupe(list []string) []string {
	out := make([]string, 0, len(list))
	for _, v := range list {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// formatTime writes a timestamp as the API shows it: UTC, milliseconds.
func formatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}
