package signature_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herald-cms/herald/webhooks/signature"
)

// The Standard Webhooks specification's own test vector. Its secret decodes
// to 24 bytes, not 32.
const (
	specSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	specID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	specTimestamp = 1614265330
	specBody      = `{"test": 2432232314}`
	specSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSignMatchesSpecificationVector(t *testing.T) {
	for _, secret := range []string{specSecret, strings.TrimPrefix(specSecret, "whsec_")} {
		got, err := signature.Sign(secret, specID, time.Unix(specTimestamp, 0),
			[]byte(specBody))
		if err != nil {
			t.Fatalf("Sign(%q): %v", secret, err)
		}
		if got != specSignature {
			t.Errorf("Sign(%q) = %q, want %q", secret, got, specSignature)
		}
	}
}

func TestVerifyAcceptsSpecificationVector(t *testing.T) {
	v := signature.Verifier{
		Secrets: []string{specSecret},
		Now:     func() time.Time { return time.Unix(specTimestamp+60, 0) },
	}
	h := headers(specID, specTimestamp, specSignature)
	if err := v.Verify(h, []byte(specBody)); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}

func TestNewSecretIsPrefixedBase64Of32Bytes(t *testing.T) {
	a, err := signature.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, err := signature.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatalf("two secrets are equal: %q", a)
	}
	if !strings.HasPrefix(a, signature.SecretPrefix) {
		t.Fatalf("secret %q lacks prefix", a)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(a, signature.SecretPrefix))
	if err != nil || len(key) != 32 {
		t.Fatalf("secret decodes to %d bytes, err %v; want 32", len(key), err)
	}
	if err := signature.CheckSecret(a); err != nil {
		t.Fatalf("CheckSecret(new secret): %v", err)
	}
}

func TestRoundTripWithGeneratedSecret(t *testing.T) {
	secret, err := signature.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	body := []byte(`{"event":"entry.publish","entry":{"title":"Hello"}}`)
	sig, err := signature.Sign(secret, "evt_1", ts, body)
	if err != nil {
		t.Fatal(err)
	}
	v := signature.Verifier{Secrets: []string{secret}, Now: fixed(ts)}
	if err := v.Verify(headers("evt_1", ts.Unix(), sig), body); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}

func TestSignAllDuringRotation(t *testing.T) {
	oldSecret, newSecret := mustSecret(t), mustSecret(t)
	ts := time.Unix(1_700_000_000, 0)
	body := []byte(`{"a":1}`)

	sig, err := signature.SignAll([]string{newSecret, oldSecret}, "evt_2", ts, body)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Fields(sig)); n != 2 {
		t.Fatalf("SignAll gave %d signatures in %q, want 2", n, sig)
	}

	// A receiver that still has only the old secret, one that already has
	// only the new one, and one that lists both all accept.
	for name, secrets := range map[string][]string{
		"old only": {oldSecret},
		"new only": {newSecret},
		"both":     {oldSecret, newSecret},
	} {
		v := signature.Verifier{Secrets: secrets, Now: fixed(ts)}
		if err := v.Verify(headers("evt_2", ts.Unix(), sig), body); err != nil {
			t.Errorf("%s: Verify: %v", name, err)
		}
	}

	// A receiver with an unrelated secret refuses it.
	v := signature.Verifier{Secrets: []string{mustSecret(t)}, Now: fixed(ts)}
	err = v.Verify(headers("evt_2", ts.Unix(), sig), body)
	if !errors.Is(err, signature.ErrSignature) {
		t.Fatalf("unrelated secret: err = %v, want ErrSignature", err)
	}
}

func TestVerifierWithTwoSecretsAcceptsEither(t *testing.T) {
	a, b := mustSecret(t), mustSecret(t)
	ts := time.Unix(1_700_000_000, 0)
	body := []byte(`{}`)
	v := signature.Verifier{Secrets: []string{a, b}, Now: fixed(ts)}
	for _, secret := range []string{a, b} {
		sig, err := signature.Sign(secret, "evt_3", ts, body)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.Verify(headers("evt_3", ts.Unix(), sig), body); err != nil {
			t.Errorf("Verify with second-listed secret: %v", err)
		}
	}
}

func TestVerifyRefusesBadRequests(t *testing.T) {
	secret := mustSecret(t)
	ts := time.Unix(1_700_000_000, 0)
	body := []byte(`{"title":"original"}`)
	sig, err := signature.Sign(secret, "evt_4", ts, body)
	if err != nil {
		t.Fatal(err)
	}
	signed := func(id string, at int64) func() http.Header {
		return func() http.Header { return headers(id, at, sig) }
	}
	valid := signed("evt_4", ts.Unix())
	stamp := func(v string) func() http.Header { return with(valid, signature.HeaderTimestamp, v) }
	sigs := func(v string) func() http.Header { return with(valid, signature.HeaderSignature, v) }
	errSig, errTime, errMissing := signature.ErrSignature, signature.ErrTimestamp,
		signature.ErrMissingHeaders

	tests := []struct {
		name   string
		header func() http.Header
		body   string
		now    time.Time
		secret string
		want   error
	}{
		{name: "valid", header: valid, want: nil},
		{name: "valid 4m59s later", header: valid, now: ts.Add(299 * time.Second)},
		{name: "valid 5m earlier", header: valid, now: ts.Add(-5 * time.Minute)},
		{name: "tampered body", header: valid, body: `{"title":"changed"}`, want: errSig},
		{name: "empty body", header: valid, body: "-", want: errSig},
		{name: "tampered id", header: signed("evt_5", ts.Unix()), want: errSig},
		{name: "tampered timestamp", header: signed("evt_4", ts.Unix()+1), want: errSig},
		{name: "wrong secret", header: valid, secret: mustSecret(t), want: errSig},
		{name: "stale", header: valid, now: ts.Add(5*time.Minute + time.Second), want: errTime},
		{name: "far stale", header: valid, now: ts.Add(48 * time.Hour), want: errTime},
		{name: "future", header: valid, now: ts.Add(-5*time.Minute - time.Second), want: errTime},
		{name: "missing id", header: without(valid, signature.HeaderID), want: errMissing},
		{name: "no timestamp", header: without(valid, signature.HeaderTimestamp), want: errMissing},
		{name: "no signature", header: without(valid, signature.HeaderSignature), want: errMissing},
		{name: "no headers", header: func() http.Header { return http.Header{} }, want: errMissing},
		{name: "nil header", header: func() http.Header { return nil }, want: errMissing},
		{name: "timestamp not a number", header: stamp("yesterday"), want: errTime},
		{name: "timestamp float", header: stamp("1700000000.5"), want: errTime},
		{name: "timestamp overflow", header: stamp("99999999999999999999999"), want: errTime},
		{name: "timestamp far future", header: stamp("9223372036854775807"), want: errTime},
		{name: "timestamp far past", header: stamp("-9223372036854775808"), want: errTime},
		{name: "signature garbage", header: sigs("v1,!!!"), want: errSig},
		{name: "signature only commas", header: sigs(",,, ,"), want: errSig},
		{name: "signature no version", header: sigs(strings.TrimPrefix(sig, "v1,")), want: errSig},
		{name: "signature other version", header: sigs("v2" + sig[2:]), want: errSig},
		{name: "signature with trailing data", header: sigs(sig + ",x"), want: errSig},
		{name: "valid among garbage", header: sigs("v1,abc  v0 " + sig + " ,"), want: nil},
		{name: "bad secret", header: valid, secret: "whsec_not base64!", want: signature.ErrSecret},
		{name: "empty secret", header: valid, secret: "whsec_", want: signature.ErrSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := ts
			if !tt.now.IsZero() {
				now = tt.now
			}
			key := secret
			if tt.secret != "" {
				key = tt.secret
			}
			b := body
			switch tt.body {
			case "":
			case "-":
				b = nil
			default:
				b = []byte(tt.body)
			}
			v := signature.Verifier{Secrets: []string{key}, Now: fixed(now)}
			err := v.Verify(tt.header(), b)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v, want success", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify: %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifierToleranceIsConfigurable(t *testing.T) {
	secret := mustSecret(t)
	ts := time.Unix(1_700_000_000, 0)
	sig, err := signature.Sign(secret, "evt_6", ts, nil)
	if err != nil {
		t.Fatal(err)
	}
	v := signature.Verifier{
		Secrets:   []string{secret},
		Tolerance: 10 * time.Second,
		Now:       fixed(ts.Add(11 * time.Second)),
	}
	err = v.Verify(headers("evt_6", ts.Unix(), sig), nil)
	if !errors.Is(err, signature.ErrTimestamp) {
		t.Fatalf("11s late with 10s tolerance: %v, want ErrTimestamp", err)
	}
	v.Tolerance = time.Hour
	if err := v.Verify(headers("evt_6", ts.Unix(), sig), nil); err != nil {
		t.Fatalf("11s late with 1h tolerance: %v", err)
	}
}

func TestVerifyUsesSystemClock(t *testing.T) {
	secret := mustSecret(t)
	now := time.Now()
	sig, err := signature.Sign(secret, "evt_7", now, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	if err := signature.Verify(secret, headers("evt_7", now.Unix(), sig), []byte("x")); err != nil {
		t.Fatalf("Verify now: %v", err)
	}
	old := now.Add(-time.Hour)
	sig, err = signature.Sign(secret, "evt_7", old, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	err = signature.Verify(secret, headers("evt_7", old.Unix(), sig), []byte("x"))
	if !errors.Is(err, signature.ErrTimestamp) {
		t.Fatalf("Verify an hour old: %v, want ErrTimestamp", err)
	}
}

func TestVerifierWithoutSecretsFails(t *testing.T) {
	v := signature.Verifier{Now: fixed(time.Unix(specTimestamp, 0))}
	err := v.Verify(headers(specID, specTimestamp, specSignature), []byte(specBody))
	if !errors.Is(err, signature.ErrSecret) {
		t.Fatalf("Verify without secrets: %v, want ErrSecret", err)
	}
}

func TestSignRefusesBadInput(t *testing.T) {
	ts := time.Unix(specTimestamp, 0)
	for _, secret := range []string{"", "whsec_", "whsec_%%%", "not base64"} {
		_, err := signature.Sign(secret, specID, ts, nil)
		if !errors.Is(err, signature.ErrSecret) {
			t.Errorf("Sign(%q): %v, want ErrSecret", secret, err)
		}
		if err != nil && secret != "" && strings.Contains(err.Error(), secret) {
			t.Errorf("error %q repeats the secret", err)
		}
		if err := signature.CheckSecret(secret); !errors.Is(err, signature.ErrSecret) {
			t.Errorf("CheckSecret(%q): %v, want ErrSecret", secret, err)
		}
	}
	if _, err := signature.Sign(specSecret, "", ts, nil); err == nil {
		t.Error("Sign with empty id succeeded")
	}
	if _, err := signature.SignAll(nil, specID, ts, nil); !errors.Is(err, signature.ErrSecret) {
		t.Errorf("SignAll(nil): %v, want ErrSecret", err)
	}
	_, err := signature.SignAll([]string{specSecret, "bad!"}, specID, ts, nil)
	if !errors.Is(err, signature.ErrSecret) {
		t.Errorf("SignAll with one bad secret: %v, want ErrSecret", err)
	}
}

func headers(id string, ts int64, sig string) http.Header {
	h := http.Header{}
	h.Set(signature.HeaderID, id)
	h.Set(signature.HeaderTimestamp, strconv.FormatInt(ts, 10))
	h.Set(signature.HeaderSignature, sig)
	return h
}

func without(base func() http.Header, name string) func() http.Header {
	return func() http.Header {
		h := base()
		h.Del(name)
		return h
	}
}

func with(base func() http.Header, name, value string) func() http.Header {
	return func() http.Header {
		h := base()
		h.Set(name, value)
		return h
	}
}

func fixed(t time.Time) func() time.Time {
	return func() time.Time { return t }
}

func mustSecret(tb testing.TB) string {
	tb.Helper()
	s, err := signature.NewSecret()
	if err != nil {
		tb.Fatal(err)
	}
	return s
}
