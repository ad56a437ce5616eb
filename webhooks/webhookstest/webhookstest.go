// Package webhookstest helps tests of webhook deliveries: a clock to move
// by hand, a recording HTTP receiver that verifies signatures, and an SSRF
// guard that lets deliveries reach loopback receivers.
package webhookstest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/herald-cms/herald/webhooks/ssrf"
)

// Clock is a clock that moves only when told. It is safe for concurrent
// use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock showing start.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// LoopbackGuard returns an SSRF guard that refuses every special range
// except 127.0.0.0/8, where httptest servers listen.
func LoopbackGuard() *ssrf.Guard {
	return &ssrf.Guard{Allowed: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
}

// Request is one request a Receiver got.
type Request struct {
	Header http.Header
	Body   []byte
	// Received is the real time it arrived.
	Received time.Time
}

// Responder decides a Receiver's answer to its n-th request (from 1). It
// may block, for example until the request's context ends.
type Responder func(w http.ResponseWriter, r *http.Request, n int)

// Status returns a Responder that answers every request with code.
func Status(code int) Responder {
	return func(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(code) }
}

// Receiver is an httptest server that records every request.
type Receiver struct {
	*httptest.Server

	mu       sync.Mutex
	requests []Request
	active   int
	peak     int
	arrived  chan struct{}
	respond  Responder
}

// NewReceiver starts a receiver answering with respond (200 when nil) and
// closes it when the test ends.
func NewReceiver(tb testing.TB, respond Responder) *Receiver {
	tb.Helper()
	if respond == nil {
		respond = Status(http.StatusOK)
	}
	rc := &Receiver{respond: respond, arrived: make(chan struct{}, 1)}
	rc.Server = httptest.NewServer(http.HandlerFunc(rc.serve))
	tb.Cleanup(rc.Close)
	return rc
}

func (rc *Receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.requests = append(rc.requests, Request{
		Header: r.Header.Clone(), Body: body, Received: time.Now()})
	n := len(rc.requests)
	rc.active++
	rc.peak = max(rc.peak, rc.active)
	rc.mu.Unlock()
	select {
	case rc.arrived <- struct{}{}:
	default:
	}

	rc.respond(w, r, n)

	rc.mu.Lock()
	rc.active--
	rc.mu.Unlock()
}

// Requests returns a copy of the requests received so far, in order of
// arrival.
func (rc *Receiver) Requests() []Request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]Request(nil), rc.requests...)
}

// Count returns how many requests arrived.
func (rc *Receiver) Count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.requests)
}

// Peak returns the largest number of requests the receiver handled at
// once.
func (rc *Receiver) Peak() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.peak
}

// WaitFor waits until done reports true for the requests received, failing
// the test after timeout.
func (rc *Receiver) WaitFor(tb testing.TB, timeout time.Duration, done func([]Request) bool) {
	tb.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		if done(rc.Requests()) {
			return
		}
		select {
		case <-rc.arrived:
		case <-time.After(10 * time.Millisecond):
		case <-deadline.C:
			tb.Fatalf("receiver: condition not met after %s (%d requests)", timeout, rc.Count())
		}
	}
}

// WaitCount waits until at least n requests arrived.
func (rc *Receiver) WaitCount(tb testing.TB, n int, timeout time.Duration) {
	tb.Helper()
	rc.WaitFor(tb, timeout, func(r []Request) bool { return len(r) >= n })
}
