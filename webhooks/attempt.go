package webhooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/herald-cms/herald/webhooks/signature"
)

// maxResponseRead is how much of a response body an attempt reads.
const maxResponseRead = 64 << 10

// maxStoredBody is how much of a response body the delivery log keeps.
const maxStoredBody = 8 << 10

// redacted replaces the value of a secret-bearing header in the log.
const redacted = "[redacted]"

// job is a claimed delivery with everything needed to send it.
type job struct {
	deliveryID   int64
	webhookID    int64
	eventID      string
	event        string
	attemptCount int
	retryBase    int
	trigger      string
	payload      []byte
	url          string
	headers      map[string]string
	secrets      []string
}

// attemptResult is what one attempt did, ready to be recorded.
type attemptResult struct {
	job     job
	number  int
	trigger string
	at      time.Time
	// requestHeaders are the headers sent, redacted.
	requestHeaders map[string]string
	// status is 0 when no response arrived.
	status          int
	responseHeaders map[string]string
	responseBody    string
	retryAfter      time.Duration
	duration        time.Duration
	err             string
	// aborted means the service stopped mid-attempt: the lease is released
	// and nothing is recorded.
	aborted bool
}

func (r *attemptResult) succeeded() bool { return r.status >= 200 && r.status < 300 }

// send makes one attempt at a job. It never returns an error: every
// failure is part of the result.
func (s *Service) send(ctx context.Context, j job) attemptResult {
	r := attemptResult{job: j, number: j.attemptCount + 1, trigger: j.trigger, at: s.now()}
	if r.trigger == "" {
		r.trigger = TriggerScheduled
	}

	req, err := s.newRequest(ctx, j, r.at)
	if err != nil {
		r.err = err.Error()
		return r
	}
	r.requestHeaders = logHeaders(req.Header, j.headers)

	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	// The duration is measured, not scheduled, so it uses the real clock.
	start := time.Now()
	resp, err := s.client.Do(req.WithContext(ctx))
	if err != nil {
		r.duration = time.Since(start)
		r.aborted = ctx.Err() != nil && errors.Is(context.Cause(ctx), context.Canceled)
		r.err = describeSendError(ctx, err, s.cfg.Timeout)
		return r
	}
	defer resp.Body.Close()
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, maxResponseRead))
	r.duration = time.Since(start)

	r.status = resp.StatusCode
	r.responseHeaders = responseHeaders(resp.Header)
	r.responseBody = storedBody(body)
	if readErr != nil {
		r.err = "reading the response body: " + describeSendError(ctx, readErr, s.cfg.Timeout)
	}
	if resp.StatusCode == http.StatusTooManyRequests ||
		resp.StatusCode == http.StatusServiceUnavailable {
		r.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), s.now())
	}
	return r
}

// newRequest builds the POST of a delivery, signed at ts.
func (s *Service) newRequest(ctx context.Context, j job, ts time.Time) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.url, bytes.NewReader(j.payload))
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	for name, value := range j.headers {
		req.Header.Set(name, value)
	}
	sig, err := signature.SignAll(j.secrets, j.eventID, ts, j.payload)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Herald/"+s.cfg.Version)
	req.Header.Set("X-Strapi-Event", j.event)
	req.Header.Set(signature.HeaderID, j.eventID)
	req.Header.Set(signature.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(signature.HeaderSignature, sig)
	return req, nil
}

// describeSendError turns a client error into a line for the delivery log,
// without repeating the URL.
func describeSendError(ctx context.Context, err error, timeout time.Duration) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Sprintf("timed out after %s", timeout)
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		if uerr.Timeout() {
			return fmt.Sprintf("timed out after %s", timeout)
		}
		err = uerr.Err
	}
	return err.Error()
}

// secretHeaderWords mark custom header names whose values are credentials.
// webhook-signature is Herald's own and stays visible: it is an HMAC, not a
// secret, and helps receivers debug verification.
var secretHeaderWords = []string{
	"authorization", "cookie", "token", "secret", "key", "password", "passwd",
	"credential", "session", "auth", "signature", "api-key", "apikey",
}

func secretHeader(name string) bool {
	lower := strings.ToLower(name)
	for _, w := range secretHeaderWords {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// logHeaders returns the request headers for the log, with the values of
// secret-bearing custom headers redacted.
func logHeaders(h http.Header, custom map[string]string) map[string]string {
	out := make(map[string]string, len(h))
	for name, values := range h {
		out[name] = strings.Join(values, ", ")
	}
	for name := range custom {
		if secretHeader(name) {
			out[http.CanonicalHeaderKey(name)] = redacted
		}
	}
	return out
}

// responseHeaders returns a response's headers for the log; cookies the
// receiver sets are redacted.
func responseHeaders(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for name, values := range h {
		if strings.EqualFold(name, "Set-Cookie") {
			out[name] = redacted
			continue
		}
		out[name] = storedText(strings.Join(values, ", "), maxStoredBody)
	}
	return out
}

// storedBody keeps the start of a response body as valid UTF-8 text.
func storedBody(b []byte) string {
	return storedText(string(b), maxStoredBody)
}

// storedText truncates s to about n bytes and makes it valid UTF-8 without
// NUL bytes, which PostgreSQL text columns refuse.
func storedText(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.ReplaceAll(s, "\x00", "\uFFFD")
}

// parseRetryAfter reads a Retry-After header: a number of seconds or an
// HTTP date. It returns 0 when the header is absent, malformed or in the
// past.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		// Anything beyond a day is capped later; avoid overflowing here.
		secs = min(secs, int64(2*MaxRetryAfter/time.Second))
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), 2*MaxRetryAfter)
	}
	return 0
}

// outcome is what an attempt means for its delivery.
type outcome struct {
	status string
	next   *time.Time
	// gone means the receiver answered 410: the webhook is auto-disabled.
	gone bool
}

// decide applies the retry policy to a finished attempt at now. A 2xx
// succeeds. A 410 fails the delivery. Test attempts are never retried.
// Otherwise the n-th failed attempt of the current schedule waits
// RetrySchedule[n-1], ±20% jitter, before the next one; Retry-After on 429
// and 503 can only push that later, up to MaxRetryAfter. With no delay left
// the delivery fails.
func (s *Service) decide(r *attemptResult, now time.Time) outcome {
	switch {
	case r.succeeded():
		return outcome{status: StatusSucceeded}
	case r.status == http.StatusGone:
		return outcome{status: StatusFailed, gone: r.trigger != TriggerTest}
	case r.trigger == TriggerTest:
		return outcome{status: StatusFailed}
	}
	n := r.number - r.job.retryBase
	if n < 1 || n > len(s.cfg.RetrySchedule) {
		return outcome{status: StatusFailed}
	}
	delay := s.jittered(s.cfg.RetrySchedule[n-1])
	if r.retryAfter > delay {
		delay = max(min(r.retryAfter, MaxRetryAfter), delay)
	}
	next := now.Add(delay)
	return outcome{status: StatusPending, next: &next}
}

// jittered varies d by up to ±20%.
func (s *Service) jittered(d time.Duration) time.Duration {
	j := s.cfg.Jitter()
	j = max(-1, min(j, 1))
	return time.Duration(float64(d) * (1 + jitterFraction*j))
}
