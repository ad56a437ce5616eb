// Package listen is the development receiver behind `herald webhooks
// listen`: an HTTP handler that verifies each delivery's Standard Webhooks
// signature and prints it in a readable form, so a developer can watch what
// Herald sends without writing a receiver.
package listen

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/herald-cms/herald/webhooks/signature"
)

// MaxBody is the largest request body the handler reads; larger bodies are
// answered 413.
const MaxBody = 1 << 20

// HeaderEvent names the event of a delivery, as Strapi's webhooks do.
const HeaderEvent = "X-Strapi-Event"

// Handler returns a handler that accepts POSTed deliveries signed with
// secret. A valid delivery is answered 200 and printed to out as one block:
// the receiving time (from now, nil meaning time.Now), the webhook-id, the
// X-Strapi-Event header and the body as indented JSON. An invalid one is
// answered 401 with a short reason, and a line saying why is printed. Other
// methods are answered 405, bodies over MaxBody 413. Writes to out are
// serialised, so blocks from concurrent deliveries never interleave.
func Handler(secret string, out io.Writer, now func() time.Time) http.Handler {
	if now == nil {
		now = time.Now
	}
	return &handler{
		verifier: signature.Verifier{Secrets: []string{secret}, Now: now},
		out:      out,
		now:      now,
	}
}

type handler struct {
	verifier signature.Verifier
	now      func() time.Time

	mu  sync.Mutex // guards out
	out io.Writer
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed: deliveries are POSTed", http.StatusMethodNotAllowed)
		return
	}

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			why := fmt.Sprintf("body larger than %d bytes", MaxBody)
			h.reject(r, http.StatusRequestEntityTooLarge, why)
			http.Error(w, why, http.StatusRequestEntityTooLarge)
			return
		}
		h.reject(r, http.StatusBadRequest, "could not read body: "+printable(err.Error(), 300))
		http.Error(w, "could not read body", http.StatusBadRequest)
		return
	}

	if err := h.verifier.Verify(r.Header, body); err != nil {
		status := http.StatusUnauthorized
		if errors.Is(err, signature.ErrSecret) {
			status = http.StatusInternalServerError
		}
		h.reject(r, status, reason(err)+" ("+printable(err.Error(), 300)+")")
		http.Error(w, reason(err), status)
		return
	}

	h.print(r, body)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ok")
}

// reason turns a verification error into a short phrase for the sender.
func reason(err error) string {
	switch {
	case errors.Is(err, signature.ErrMissingHeaders):
		return "missing webhook-id, webhook-timestamp or webhook-signature header"
	case errors.Is(err, signature.ErrTimestamp):
		return "timestamp malformed or too far from the receiver's clock"
	case errors.Is(err, signature.ErrSignature):
		return "signature does not match the secret"
	case errors.Is(err, signature.ErrSecret):
		return "the receiver's secret is not valid"
	}
	return "verification failed"
}

// reject prints one line saying why a request was refused; the caller
// answers it.
func (h *handler) reject(r *http.Request, status int, why string) {
	id := printable(r.Header.Get(signature.HeaderID), 100)
	if id == "" {
		id = "(none)"
	}
	h.write(fmt.Sprintf("%s  REJECTED %d  webhook-id=%s from %s: %s\n",
		h.stamp(), status, id, r.RemoteAddr, why))
}

func (h *handler) print(r *http.Request, body []byte) {
	event := printable(r.Header.Get(HeaderEvent), 100)
	if event == "" {
		event = "(no " + HeaderEvent + ")"
	}

	var pretty bytes.Buffer
	note := ""
	if err := json.Indent(&pretty, body, "", "  "); err != nil {
		pretty.Reset()
		pretty.Write(body)
		note = " (body is not JSON)"
	}

	var b bytes.Buffer
	fmt.Fprintf(&b, "%s  %s  webhook-id=%s%s\n",
		h.stamp(), event, printable(r.Header.Get(signature.HeaderID), 100), note)
	b.Write(pretty.Bytes())
	b.WriteString("\n\n")
	h.write(b.String())
}

// printable keeps text from an unverified request from moving the
// terminal's cursor or flooding it: it replaces unprintable characters and
// cuts s to max bytes.
func printable(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return '?'
	}, s)
	if len(s) > max {
		for max > 0 && !utf8.RuneStart(s[max]) {
			max--
		}
		s = s[:max] + "..."
	}
	return s
}

func (h *handler) stamp() string {
	return h.now().UTC().Format(time.RFC3339)
}

// write sends one whole block to out; a failing writer is ignored, since the
// sender's answer does not depend on the console.
func (h *handler) write(s string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, _ = io.WriteString(h.out, s)
}
