package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

// receivers are webhook endpoints inside the bench process, on loopback.
// Each answers 204 at once and records what arrived.
type receivers struct {
	servers []*http.Server
	URLs    []string

	mu sync.Mutex
	// seen holds every (receiver, webhook-id) pair that arrived, so a
	// retried delivery is counted once.
	seen map[seenKey]struct{}
	// arrivals holds when each distinct delivery arrived, in order.
	arrivals []time.Time
	// total counts requests, retries included.
	total int
	// want is the count of distinct deliveries WaitUnique waits for.
	want int
	// publishes records when each receiver got entry.publish of a
	// document.
	publishes map[string][]time.Time
	changed   *sync.Cond
}

type seenKey struct {
	receiver int
	id       string
}

func startReceivers(n int) (*receivers, error) {
	r := &receivers{seen: map[seenKey]struct{}{}, publishes: map[string][]time.Time{}}
	r.changed = sync.NewCond(&r.mu)
	for i := range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			r.Close()
			return nil, err
		}
		srv := &http.Server{Handler: r.handler(i), ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(l)
		r.servers = append(r.servers, srv)
		r.URLs = append(r.URLs, "http://"+l.Addr().String()+"/hook")
	}
	return r, nil
}

func (r *receivers) handler(i int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		at := time.Now()
		body, err := io.ReadAll(req.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		// Only entry.publish bodies are decoded (for the publish latency):
		// the receivers share the machine with Herald and should cost it
		// as little as they can.
		event := req.Header.Get("X-Strapi-Event")
		var ev struct {
			Entry struct {
				DocumentID string `json:"documentId"`
			} `json:"entry"`
		}
		if event == "entry.publish" {
			if err := json.Unmarshal(body, &ev); err != nil {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
		}
		r.mu.Lock()
		r.total++
		key := seenKey{i, req.Header.Get("webhook-id")}
		if _, ok := r.seen[key]; !ok {
			r.seen[key] = struct{}{}
			r.arrivals = append(r.arrivals, at)
		}
		wake := len(r.seen) >= r.want
		if event == "entry.publish" {
			r.publishes[ev.Entry.DocumentID] = append(r.publishes[ev.Entry.DocumentID], at)
			wake = true
		}
		r.mu.Unlock()
		if wake {
			r.changed.Broadcast()
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// Unique returns how many distinct deliveries arrived.
func (r *receivers) Unique() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.seen)
}

// ArrivedBefore returns how many distinct deliveries arrived before t.
func (r *receivers) ArrivedBefore(t time.Time) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, _ := slices.BinarySearchFunc(r.arrivals, t, time.Time.Compare)
	return n
}

// WaitUnique waits until n distinct deliveries arrived or the timeout
// passes, and returns when the n-th arrived (zero on timeout).
func (r *receivers) WaitUnique(n int, timeout time.Duration) (time.Time, bool) {
	deadline := time.Now().Add(timeout)
	timer := time.AfterFunc(timeout, r.changed.Broadcast)
	defer timer.Stop()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.want = n
	for len(r.seen) < n {
		if time.Now().After(deadline) {
			return time.Time{}, false
		}
		r.changed.Wait()
	}
	return time.Now(), true
}

// WaitPublish waits until n receivers got entry.publish of documentID and
// returns their arrival times.
func (r *receivers) WaitPublish(documentID string, n int, timeout time.Duration) []time.Time {
	deadline := time.Now().Add(timeout)
	timer := time.AfterFunc(timeout, r.changed.Broadcast)
	defer timer.Stop()
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.publishes[documentID]) < n && time.Now().Before(deadline) {
		r.changed.Wait()
	}
	return append([]time.Time(nil), r.publishes[documentID]...)
}

// Reset forgets everything that arrived.
func (r *receivers) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = map[seenKey]struct{}{}
	r.arrivals = nil
	r.publishes = map[string][]time.Time{}
	r.total = 0
}

func (r *receivers) Close() {
	for _, s := range r.servers {
		s.Close()
	}
}
