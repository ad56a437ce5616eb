package signature_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"github.com/herald-cms/herald/webhooks/signature"
)

// A receiver reads the raw body, verifies it, and only then decodes it.
func ExampleVerify() {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

	receiver := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		if err := signature.Verify(secret, r.Header, body); err != nil {
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		// Decode body and act on r.Header.Get(signature.HeaderID) at most once.
		w.WriteHeader(http.StatusNoContent)
	})

	// What Herald sends.
	body := `{"event":"entry.publish","model":"article"}`
	now := time.Now()
	sig, err := signature.Sign(secret, "msg_1", now, []byte(body))
	if err != nil {
		fmt.Println(err)
		return
	}
	req := httptest.NewRequest(http.MethodPost, "/hooks", strings.NewReader(body))
	req.Header.Set(signature.HeaderID, "msg_1")
	req.Header.Set(signature.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(signature.HeaderSignature, sig)

	rec := httptest.NewRecorder()
	receiver.ServeHTTP(rec, req)
	fmt.Println(rec.Code)
	// Output: 204
}

// While Herald rotates a secret, it signs with both; a Verifier can also
// list several secrets, and its errors tell why a request was refused.
func ExampleVerifier() {
	oldSecret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	newSecret, _ := signature.NewSecret()
	signedAt := time.Unix(1614265330, 0)

	sig, _ := signature.SignAll([]string{newSecret, oldSecret}, "msg_2", signedAt, []byte("{}"))
	h := http.Header{}
	h.Set(signature.HeaderID, "msg_2")
	h.Set(signature.HeaderTimestamp, strconv.FormatInt(signedAt.Unix(), 10))
	h.Set(signature.HeaderSignature, sig)

	v := signature.Verifier{
		Secrets: []string{oldSecret},
		Now:     func() time.Time { return signedAt.Add(time.Minute) },
	}
	fmt.Println(v.Verify(h, []byte("{}")))

	v.Now = func() time.Time { return signedAt.Add(time.Hour) }
	fmt.Println(errors.Is(v.Verify(h, []byte("{}")), signature.ErrTimestamp))
	// Output:
	// <nil>
	// true
}
