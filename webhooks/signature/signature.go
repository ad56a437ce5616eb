// Package signature signs and verifies webhook deliveries in the Standard
// Webhooks format (https://www.standardwebhooks.com). Herald signs every
// delivery with it, and receivers written in Go can import it to check that a
// request really came from Herald and was not replayed.
//
// A delivery carries three headers:
//
//	webhook-id:        the event id; the same on every retry, so receivers
//	                   can de-duplicate
//	webhook-timestamp: Unix seconds when the attempt was signed
//	webhook-signature: "v1,<base64>" entries separated by spaces, where each
//	                   base64 value is HMAC-SHA256 of "<id>.<timestamp>.<body>"
//	                   keyed with one of the endpoint's secrets
//
// A secret is "whsec_" followed by standard base64. The bytes it decodes to
// are the HMAC key; any non-zero length works. While a secret is being
// rotated Herald signs with both the new and the old one, so a receiver
// holding either accepts the delivery.
//
// A receiver verifies the raw request body, before any JSON decoding:
//
//	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
//	if err != nil { ... }
//	if err := signature.Verify(secret, r.Header, body); err != nil {
//		http.Error(w, "bad signature", http.StatusUnauthorized)
//		return
//	}
//
// The HMAC itself is computed by the Standard Webhooks reference library;
// this package adds secret rotation, an injectable clock and sentinel errors.
package signature

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// SecretPrefix starts every secret Herald generates. Functions taking a
// secret accept it with or without the prefix.
const SecretPrefix = "whsec_"

// The request headers of a delivery, lower case as the specification writes
// them (http.Header canonicalises them on lookup).
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// DefaultTolerance is how far a delivery's timestamp may be from the
// receiver's clock, in either direction, when Verifier.Tolerance is zero.
const DefaultTolerance = 5 * time.Minute

// The errors Verify returns, wrapped with details; test them with errors.Is.
var (
	// ErrMissingHeaders means webhook-id, webhook-timestamp or
	// webhook-signature is absent or empty.
	ErrMissingHeaders = errors.New("missing webhook signature headers")
	// ErrTimestamp means webhook-timestamp is not an integer or is further
	// from the current time than the tolerance allows (a stale, replayed or
	// future-dated request).
	ErrTimestamp = errors.New("webhook timestamp invalid or outside tolerance")
	// ErrSignature means no signature in webhook-signature matches any
	// secret.
	ErrSignature = errors.New("no matching webhook signature")
	// ErrSecret means a secret is empty or not valid base64. It points at the
	// receiver's configuration, not at the request.
	ErrSecret = errors.New("invalid webhook secret")
)

const secretBytes = 32

// NewSecret returns a fresh secret: SecretPrefix followed by the standard
// base64 encoding of 32 random bytes. It fails only if the system's random
// source does.
func NewSecret() (string, error) {
	key := make([]byte, secretBytes)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("new webhook secret: %w", err)
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(key), nil
}

// CheckSecret reports whether secret can sign and verify: it must decode,
// after an optional SecretPrefix, to at least one byte of standard base64.
// The error wraps ErrSecret and never contains the secret.
func CheckSecret(secret string) error {
	_, err := newWebhook(secret)
	return err
}

// Sign returns the webhook-signature value ("v1,<base64>") for a delivery
// with the given id, timestamp (whole seconds are used) and raw body. It
// returns an error wrapping ErrSecret when the secret is unusable, or when id
// is empty.
func Sign(secret, id string, ts time.Time, body []byte) (string, error) {
	if id == "" {
		return "", errors.New("sign webhook: empty id")
	}
	wh, err := newWebhook(secret)
	if err != nil {
		return "", fmt.Errorf("sign webhook %s: %w", id, err)
	}
	sig, err := wh.Sign(id, ts, body)
	if err != nil {
		return "", fmt.Errorf("sign webhook %s: %w", id, err)
	}
	return sig, nil
}

// SignAll signs with every secret and joins the signatures with spaces, in
// the order of secrets, which is how a delivery is signed while a secret is
// rotated (new and old). It needs at least one secret; see Sign for errors.
func SignAll(secrets []string, id string, ts time.Time, body []byte) (string, error) {
	if len(secrets) == 0 {
		return "", fmt.Errorf("sign webhook %s: no secret: %w", id, ErrSecret)
	}
	sigs := make([]string, 0, len(secrets))
	for _, secret := range secrets {
		sig, err := Sign(secret, id, ts, body)
		if err != nil {
			return "", err
		}
		sigs = append(sigs, sig)
	}
	return strings.Join(sigs, " "), nil
}

// Verifier checks deliveries against one or more secrets. The zero value of
// each optional field selects its default. A Verifier is safe for concurrent
// use as long as its fields are not changed.
type Verifier struct {
	// Secrets are the accepted secrets; a request signed with any of them
	// passes. List two while a sender rotates its secret.
	Secrets []string
	// Tolerance is how far webhook-timestamp may be from Now, either way.
	// Zero or negative means DefaultTolerance.
	Tolerance time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Verify checks the Standard Webhooks headers in h against the raw body. It
// accepts the request when any signature listed in webhook-signature matches
// any of v.Secrets and the timestamp is within the tolerance of v.Now.
//
// The returned error wraps ErrMissingHeaders, ErrTimestamp or ErrSignature
// for a bad request, and ErrSecret when v has no usable secret. Malformed
// header values are errors, never panics.
func (v *Verifier) Verify(h http.Header, body []byte) error {
	id := truncate(h.Get(HeaderID))
	stamp := h.Get(HeaderTimestamp)
	if id == "" || stamp == "" || h.Get(HeaderSignature) == "" {
		return fmt.Errorf("verify webhook: %w", ErrMissingHeaders)
	}

	// The reference library checks the timestamp against time.Now, so the
	// tolerance is enforced here, with the injected clock, and the library
	// is asked only to compare signatures.
	if err := v.checkTimestamp(stamp); err != nil {
		return fmt.Errorf("verify webhook %s: %w", id, err)
	}

	if len(v.Secrets) == 0 {
		return fmt.Errorf("verify webhook %s: no secret configured: %w", id, ErrSecret)
	}
	for _, secret := range v.Secrets {
		wh, err := newWebhook(secret)
		if err != nil {
			return fmt.Errorf("verify webhook %s: %w", id, err)
		}
		err = wh.VerifyIgnoringTimestamp(body, h)
		if err == nil {
			return nil
		}
		if !errors.Is(err, standardwebhooks.ErrNoMatchingSignature) {
			return fmt.Errorf("verify webhook %s: %w: %w", id, ErrSignature, err)
		}
	}
	return fmt.Errorf("verify webhook %s: %w", id, ErrSignature)
}

// Verify checks a delivery against a single secret with the default
// tolerance and the system clock. See Verifier.Verify for the errors.
func Verify(secret string, h http.Header, body []byte) error {
	v := Verifier{Secrets: []string{secret}}
	return v.Verify(h, body)
}

func (v *Verifier) checkTimestamp(stamp string) error {
	secs, err := strconv.ParseInt(stamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %q is not Unix seconds", ErrTimestamp, truncate(stamp))
	}

	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	tolerance := v.Tolerance
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}

	// Sub saturates instead of overflowing, so absurd values are simply
	// far away.
	skew := now().Sub(time.Unix(secs, 0))
	switch {
	case skew > tolerance:
		return fmt.Errorf("%w: signed %s ago, more than %s", ErrTimestamp,
			skew.Round(time.Second), tolerance)
	case skew < -tolerance:
		return fmt.Errorf("%w: signed %s in the future, more than %s", ErrTimestamp,
			(-skew).Round(time.Second), tolerance)
	}
	return nil
}

// newWebhook wraps the reference library's constructor so that its errors
// wrap ErrSecret and the secret never appears in a message.
func newWebhook(secret string) (*standardwebhooks.Webhook, error) {
	if strings.TrimPrefix(secret, SecretPrefix) == "" {
		return nil, fmt.Errorf("%w: empty", ErrSecret)
	}
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return nil, fmt.Errorf("%w: not standard base64 after the optional %s prefix",
			ErrSecret, SecretPrefix)
	}
	return wh, nil
}

// truncate keeps error messages short when a header holds garbage.
func truncate(s string) string {
	max := 32
	if len(s) <= max {
		return s
	}
	for max > 0 && !utf8.RuneStart(s[max]) {
		max--
	}
	return s[:max] + "..."
}
