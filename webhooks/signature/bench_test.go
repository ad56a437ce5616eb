package signature_test

import (
	"bytes"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/herald-cms/herald/webhooks/signature"
)

// BenchmarkSign signs a delivery of about 1.5 KB, as every attempt does.
func BenchmarkSign(b *testing.B) {
	secret, err := signature.NewSecret()
	if err != nil {
		b.Fatal(err)
	}
	body := bytes.Repeat([]byte(`{"event":"entry.publish","entry":{"title":"x"}}`), 32)
	ts := time.Unix(1_700_000_000, 0)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := signature.Sign(secret, "msg_2b5ItHoAWcqDOqJTSPfGEqtBDYR", ts,
			body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify checks the same delivery as a receiver does.
func BenchmarkVerify(b *testing.B) {
	secret, err := signature.NewSecret()
	if err != nil {
		b.Fatal(err)
	}
	body := bytes.Repeat([]byte(`{"event":"entry.publish","entry":{"title":"x"}}`), 32)
	now := time.Now()
	sig, err := signature.Sign(secret, "msg_1", now, body)
	if err != nil {
		b.Fatal(err)
	}
	h := http.Header{}
	h.Set(signature.HeaderID, "msg_1")
	h.Set(signature.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	h.Set(signature.HeaderSignature, sig)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := signature.Verify(secret, h, body); err != nil {
			b.Fatal(err)
		}
	}
}
