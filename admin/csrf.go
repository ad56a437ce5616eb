package admin

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"

	"github.com/herald-cms/herald/content"
)

// derivedKey derives a key for one purpose from a secret, so that a value
// made for one purpose is useless for another.
func derivedKey(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

// CSRFToken returns the CSRF token of an administrator's panel session:
// sessionToken is the session's JWT, as the panel keeps it in its cookie.
// The token is an HMAC of the session token under a key derived from the
// JWT secret, so it is bound to that one session, needs no storage, and
// changes at every sign-in. The panel puts it in a hidden form field (or an
// X-CSRF-Token header) of every form that changes something; CheckCSRF
// verifies it.
func (s *Service) CSRFToken(sessionToken string) string {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte(strings.TrimSpace(sessionToken)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CheckCSRF verifies a form's CSRF token against the session token of the
// request's cookie, in constant time. A missing session or a missing or
// wrong token is EFORBIDDEN.
func (s *Service) CheckCSRF(sessionToken, csrfToken string) error {
	if strings.TrimSpace(sessionToken) == "" || csrfToken == "" {
		return errCSRF()
	}
	want := s.CSRFToken(sessionToken)
	if !hmac.Equal([]byte(want), []byte(csrfToken)) {
		return errCSRF()
	}
	return nil
}

func errCSRF() *content.Error {
	return content.Errorf(content.EFORBIDDEN, "Invalid or missing CSRF token: reload the page")
}
