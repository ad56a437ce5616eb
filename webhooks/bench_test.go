package webhooks_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/webhooks"
)

// BenchmarkRecordFanOutToTenWebhooks measures a content change's cost of
// webhooks: one transaction recording one event for ten webhooks.
func BenchmarkRecordFanOutToTenWebhooks(b *testing.B) {
	e := newEnv(b)
	for i := 0; i < 10; i++ {
		e.hook("http://127.0.0.1:9/hook", []string{content.EventUpdate})
	}
	ev := entry(content.EventUpdate)

	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		ev.ID = "msg_bench" + time.Duration(i).String()
		e.record(e.s, ev)
	}
}

// BenchmarkClaim measures one claim of up to 32 deliveries from a backlog
// of 10,000 spread over ten webhooks.
func BenchmarkClaim(b *testing.B) {
	e := newEnv(b)
	for i := 0; i < 10; i++ {
		e.hook("http://127.0.0.1:9/hook", []string{content.EventUpdate})
	}
	batch := make([]content.Event, 100)
	for i := 0; i < 10; i++ {
		for j := range batch {
			batch[j] = entry(content.EventUpdate)
		}
		e.record(e.s, batch...)
	}

	b.ReportAllocs()
	for b.Loop() {
		n, err := e.s.ClaimCount(e.ctx, 32)
		if err != nil || n == 0 {
			b.Fatalf("claim = %d, %v", n, err)
		}
		// Let the leases expire instead of sending.
		e.clock.Advance(time.Minute)
	}
}

// countingReceivers creates n webhooks for entry.create, each with a
// loopback receiver of its own (as bench's are), and returns the count of
// requests they received.
func countingReceivers(b *testing.B, e *env, n int) *atomic.Int64 {
	var got atomic.Int64
	for range n {
		rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			got.Add(1)
		}))
		b.Cleanup(rc.Close)
		e.hook(rc.URL, []string{content.EventCreate})
	}
	return &got
}

// BenchmarkDispatchFanOut measures the whole path of bench's fan-out
// scenario inside one process: 32 writers record one event per
// transaction for ten webhooks while the dispatcher sends them to a
// loopback receiver per webhook and logs every attempt. One op is one
// event, that is ten deliveries.
func BenchmarkDispatchFanOut(b *testing.B) {
	e := newEnv(b, realClock, func(c *webhooks.Config) {
		c.Logger = slog.New(slog.DiscardHandler)
	})
	const hooks = 10
	got := countingReceivers(b, e, hooks)
	e.start(e.s)

	b.ResetTimer()
	start := time.Now()
	work := make(chan struct{})
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				e.record(e.s, entry(content.EventCreate))
			}
		}()
	}
	for range b.N {
		work <- struct{}{}
	}
	close(work)
	wg.Wait()
	want := int64(b.N * hooks)
	for got.Load() < want {
		time.Sleep(time.Millisecond)
	}
	b.ReportMetric(float64(want)/time.Since(start).Seconds(), "deliveries/s")
	b.StopTimer()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.s.Stop(ctx); err != nil {
		b.Fatal(err)
	}
	if n := e.count("webhook_attempts"); n < want {
		b.Fatalf("%d attempts logged, want %d", n, want)
	}
}

// BenchmarkRecordCreateAndPublish measures what a REST create that
// publishes costs in webhooks: one transaction recording entry.create and
// entry.publish for three webhooks.
func BenchmarkRecordCreateAndPublish(b *testing.B) {
	e := newEnv(b)
	for range 3 {
		e.hook("http://127.0.0.1:9/hook", []string{content.EventCreate, content.EventPublish})
	}
	b.ReportAllocs()
	for b.Loop() {
		e.record(e.s, entry(content.EventCreate), entry(content.EventPublish))
	}
}

// BenchmarkDispatchBacklog measures how fast the dispatcher drains a
// backlog: b.N events for ten webhooks are recorded first, then sent to a
// loopback receiver per webhook, every attempt logged. One op is one
// event, that is ten deliveries.
func BenchmarkDispatchBacklog(b *testing.B) {
	e := newEnv(b, realClock, func(c *webhooks.Config) {
		c.Logger = slog.New(slog.DiscardHandler)
	})
	const hooks = 10
	got := countingReceivers(b, e, hooks)
	batch := make([]content.Event, 0, 100)
	for i := range b.N {
		batch = append(batch, entry(content.EventCreate))
		if len(batch) == cap(batch) || i == b.N-1 {
			e.record(e.s, batch...)
			batch = batch[:0]
		}
	}

	b.ResetTimer()
	start := time.Now()
	e.start(e.s)
	want := int64(b.N * hooks)
	for got.Load() < want {
		time.Sleep(time.Millisecond)
	}
	b.ReportMetric(float64(want)/time.Since(start).Seconds(), "deliveries/s")
}

// backlog creates ten webhooks and records events for them, 100 per
// transaction, until at least n deliveries are due. Benchmarks using it
// size it with b.N, so they loop the classic way rather than with b.Loop.
func backlog(b *testing.B, e *env, n int) {
	for range 10 {
		e.hook("http://127.0.0.1:9/hook", []string{content.EventUpdate})
	}
	batch := make([]content.Event, 100)
	for range (n + 999) / 1000 {
		for j := range batch {
			batch[j] = entry(content.EventUpdate)
		}
		e.record(e.s, batch...)
	}
}

// BenchmarkWriteResults measures recording one batch of 32 answered
// attempts: the attempt rows, the deliveries' outcome and the webhooks'
// failure tracking.
func BenchmarkWriteResults(b *testing.B) {
	e := newEnv(b)
	backlog(b, e, b.N*32)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		write, n, err := e.s.ClaimAndAnswer(e.ctx, 32)
		if err != nil || n != 32 {
			b.Fatalf("claim = %d, %v", n, err)
		}
		b.StartTimer()
		if err := write(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRound measures one dispatcher round without HTTP: recording 32
// answered attempts and claiming 32 more in one transaction.
func BenchmarkRound(b *testing.B) {
	e := newEnv(b)
	backlog(b, e, b.N*32+32)
	round := e.s.FakeRounder(32)
	if _, err := round(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		n, err := round()
		if err != nil || n != 32 {
			b.Fatalf("round = %d, %v", n, err)
		}
	}
}
