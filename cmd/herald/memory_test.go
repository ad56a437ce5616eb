package main

import (
	"context"
	"io"
	"log/slog"
	"math"
	"runtime/debug"
	"sync"
	"testing"

	"github.com/herald-cms/herald/content/contenttest"
)

func TestIdleTriggerReleasesOnceAfterEachBusySpell(t *testing.T) {
	const kb, mb = 1 << 10, 1 << 20
	tests := []struct {
		name string
		// totals are the cumulative allocation counts, one per interval.
		totals []uint64
		want   []bool
	}{
		{"start-up then quiet", []uint64{6 * mb, 6*mb + 10*kb, 6*mb + 20*kb},
			[]bool{false, true, false}},
		{"steady load never releases", []uint64{5 * mb, 10 * mb, 15 * mb, 20 * mb},
			[]bool{false, false, false, false}},
		{"load, quiet, load, quiet", []uint64{5 * mb, 5 * mb, 12 * mb, 12*mb + kb, 12*mb + 2*kb},
			[]bool{false, true, false, true, false}},
		{"light traffic adds up to one release", []uint64{5 * mb, 5 * mb,
			5*mb + 200*kb, 7 * mb, 7*mb + 200*kb, 9*mb + 100*kb, 9*mb + 300*kb},
			[]bool{false, true, false, false, false, false, true}},
		{"too little since start-up", []uint64{mb, mb + kb}, []bool{false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			trig := idleTrigger{quiet: idleQuietBytes, busy: idleBusyBytes}
			for i, total := range tt.totals {
				if got := trig.observe(total); got != tt.want[i] {
					t.Fatalf("interval %d (total %d): release %v, want %v", i, total, got,
						tt.want[i])
				}
			}
		})
	}
}

func TestReleaseMemoryClosesIdleReadersAndKeepsTheDatabaseUsable(t *testing.T) {
	db := contenttest.OpenSQLite(t)
	ctx := context.Background()
	rdb, err := db.Read.DB()
	if err != nil {
		t.Fatal(err)
	}
	// Hold several readers at once so the pool keeps more than one.
	var ready, done sync.WaitGroup
	release := make(chan struct{})
	for range 4 {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			c, err := rdb.Conn(ctx)
			ready.Done()
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			var n int
			if err := c.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").
				Scan(&n); err != nil {
				t.Error(err)
			}
			<-release
		}()
	}
	ready.Wait()
	close(release)
	done.Wait()
	if idle := rdb.Stats().Idle; idle < 2 {
		t.Fatalf("%d idle readers before the release, want several", idle)
	}

	releaseMemory(ctx, db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if idle := rdb.Stats().Idle; idle != 0 {
		t.Fatalf("%d idle readers after the release, want 0", idle)
	}
	if err := db.Write.Exec("CREATE TABLE after_release (x INTEGER)").Error; err != nil {
		t.Fatalf("write after the release: %v", err)
	}
	var n int64
	if err := db.Read.Raw("SELECT count(*) FROM after_release").Scan(&n).Error; err != nil {
		t.Fatalf("read after the release: %v", err)
	}
}

func TestTuneGCLeavesWhatTheEnvironmentSets(t *testing.T) {
	// Restore the test binary's own settings afterwards.
	percent := debug.SetGCPercent(100)
	limit := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	})
	env := func(vars map[string]string) func(string) string {
		return func(k string) string { return vars[k] }
	}

	tuneGC(env(nil))
	if got := debug.SetGCPercent(100); got != gcPercent {
		t.Errorf("GC percent = %d, want %d", got, gcPercent)
	}
	if got := debug.SetMemoryLimit(math.MaxInt64); got != gcSoftLimit {
		t.Errorf("memory limit = %d, want %d", got, gcSoftLimit)
	}

	// Go applied GOGC and GOMEMLIMIT at start; tuneGC must not undo them.
	tuneGC(env(map[string]string{"GOGC": "100", "GOMEMLIMIT": "1GiB"}))
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC set, GC percent = %d, want 100 left alone", got)
	}
	if got := debug.SetMemoryLimit(math.MaxInt64); got != math.MaxInt64 {
		t.Errorf("with GOMEMLIMIT set, memory limit = %d, want it left alone", got)
	}
}
