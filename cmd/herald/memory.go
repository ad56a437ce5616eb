package main

import (
	"context"
	"log/slog"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"time"

	"github.com/herald-cms/herald/content"
)

// Memory that a busy spell used (request buffers, pooled compressors,
// SQLite page caches, garbage the collector has not yet handed back) stays
// in the process after the spell ends: Go returns free pages to the
// operating system slowly and glibc's allocator hardly at all. Herald
// therefore watches how much the Go heap allocates and, when work is
// followed by a quiet moment, releases memory once, so an idle Herald
// stays near the size it needs at rest. Under steady load it never runs.
const (
	// idleCheckEvery is how often the allocation rate is read.
	idleCheckEvery = 500 * time.Millisecond
	// idleQuietBytes is the most the heap may allocate during one check
	// interval for the process to count as quiet; background work (the
	// webhook dispatcher's polling) stays well below it.
	idleQuietBytes = 256 << 10
	// idleBusyBytes is how much must have been allocated since the last
	// release for another one to be worth its two garbage collections.
	idleBusyBytes = 4 << 20
	// cArenas is how many arenas glibc's allocator may keep (see
	// limitCArenas): one per core of the machines Herald is sized for.
	cArenas = 2
)

// Go's collector runs, by default, each time the heap has grown by as much
// as survived the last collection. Herald's live heap is a few megabytes,
// so under load that meant a collection every few megabytes allocated.
// On the benchmark, fewer collections give 5-10% more creates and
// webhook deliveries per second. Herald lets the heap grow by four
// times what survived (GOGC=400) within a soft limit on the memory Go
// manages, past which it collects as often as that limit needs. Either is
// left as set when its environment variable (GOGC, GOMEMLIMIT) is.
const (
	gcPercent   = 400
	gcSoftLimit = 96 << 20
)

// tuneGC applies gcPercent and gcSoftLimit where the environment does not
// set them.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(gcSoftLimit)
	}
}

// idleTrigger decides when to release memory from the heap's cumulative
// allocation count, observed at regular intervals.
type idleTrigger struct {
	quiet, busy uint64
	// last is the count at the previous observation; released is the count
	// when memory was last released.
	last, released uint64
}

// observe takes the allocation count at the end of an interval and
// reports whether to release memory now: the interval was quiet and
// enough was allocated since the last release.
func (t *idleTrigger) observe(total uint64) bool {
	during := total - t.last
	t.last = total
	if during > t.quiet || total-t.released < t.busy {
		return false
	}
	t.released = total
	return true
}

// releaseWhenIdle runs until ctx ends, releasing memory (see releaseMemory)
// each time a busy spell is followed by a quiet interval. Start-up counts
// as a busy spell.
func releaseWhenIdle(ctx context.Context, db *content.DB, log *slog.Logger) {
	trigger := idleTrigger{quiet: idleQuietBytes, busy: idleBusyBytes}
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	tick := time.NewTicker(idleCheckEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return
		}
		if trigger.observe(sample[0].Value.Uint64()) {
			releaseMemory(ctx, db, log)
		}
	}
}

// releaseMemory closes idle SQLite readers and frees the writer's page
// cache, collects garbage twice (the first collection moves pooled objects
// aside, the second frees them), returns every free page of the Go heap to
// the operating system, and asks the C allocator to do the same.
func releaseMemory(ctx context.Context, db *content.DB, log *slog.Logger) {
	began := time.Now()
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := db.ReleaseMemory(ctx); err != nil && ctx.Err() == nil {
		log.WarnContext(ctx, "release database memory", "error", err)
	}
	runtime.GC()
	debug.FreeOSMemory()
	trimCHeap()
	log.DebugContext(ctx, "released memory while idle",
		"duration_ms", time.Since(began).Milliseconds())
}
