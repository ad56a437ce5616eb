// Command bench is Herald's load generator. It starts the herald binary on
// fresh data directories, seeds articles, and measures reads, writes,
// webhook delivery, memory and start-up with its own HTTP/1.1 client (keep-
// alive connections sending requests back to back, like wrk). Reads are
// compared with a bare Fiber handler serving the same bytes, measured in
// the same run: the ceiling of this machine. Every figure is the median of
// several runs. Nothing outside Go and the herald binary is needed.
//
//	go run ./cmd/bench -herald bin/herald [-duration 5s] [-runs 3]
//
// See the README's Performance section for the scenarios.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// config is the bench's settings.
type config struct {
	herald   string
	duration time.Duration
	warmup   time.Duration
	runs     int
	conns    int
	growth   []int
	work     string
	keep     bool
	verbose  bool
	// skip names the scenario groups left out (reads, writes).
	skip map[string]bool
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if handled, err := subcommand(ctx, os.Args[1:]); handled {
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench %s: %v\n", os.Args[1], err)
			os.Exit(1)
		}
		return
	}
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// subcommand runs `bench ceiling` (the bare Fiber server the suite starts)
// and `bench load` (one scenario by hand), and reports whether args named
// one.
func subcommand(ctx context.Context, args []string) (bool, error) {
	if len(args) == 0 {
		return false, nil
	}
	switch args[0] {
	case "ceiling":
		return true, ceiling(ctx, args[1:])
	case "load":
		return true, loadCommand(ctx, args[1:])
	}
	return false, nil
}

func parseFlags(args []string) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.StringVar(&cfg.herald, "herald", "bin/herald", "the herald binary to start")
	fs.DurationVar(&cfg.duration, "duration", 5*time.Second, "how long each load scenario runs")
	fs.DurationVar(&cfg.warmup, "warmup", 500*time.Millisecond,
		"unmeasured load before each scenario")
	fs.IntVar(&cfg.runs, "runs", 3, "runs; the table shows medians")
	fs.IntVar(&cfg.conns, "conns", 32, "connections for load scenarios")
	growth := fs.String("growth", "10000,100000", "entry counts for the growth scenarios "+
		"(comma-separated; empty to skip)")
	fs.StringVar(&cfg.work, "work", "", "working directory (a temporary one when empty)")
	fs.BoolVar(&cfg.keep, "keep", false, "keep the working directory")
	fs.BoolVar(&cfg.verbose, "v", false, "print each measurement as it is taken")
	skip := fs.String("skip", "", "scenario groups to leave out: reads, writes (comma-separated; "+
		"-growth \"\" leaves out growth)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	cfg.skip = map[string]bool{}
	for _, g := range strings.Split(*skip, ",") {
		switch g = strings.TrimSpace(g); g {
		case "":
		case "reads", "writes":
			cfg.skip[g] = true
		default:
			return cfg, fmt.Errorf("-skip: unknown group %q (want reads or writes)", g)
		}
	}
	for _, f := range strings.Split(*growth, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1000 {
			return cfg, fmt.Errorf("-growth: %q is not a count of at least 1000", f)
		}
		cfg.growth = append(cfg.growth, n)
	}
	if cfg.runs < 1 || cfg.conns < 1 || cfg.duration <= 0 {
		return cfg, fmt.Errorf("-runs, -conns and -duration must be positive")
	}
	bin, err := filepath.Abs(cfg.herald)
	if err != nil {
		return cfg, err
	}
	if _, err := os.Stat(bin); err != nil {
		return cfg, fmt.Errorf("-herald: %w (run make build first)", err)
	}
	cfg.herald = bin
	return cfg, nil
}

func run(ctx context.Context, cfg config) error {
	began := time.Now()
	if cfg.work == "" {
		dir, err := os.MkdirTemp("", "herald-bench-")
		if err != nil {
			return err
		}
		cfg.work = dir
	}
	if !cfg.keep {
		defer os.RemoveAll(cfg.work)
	}
	b := &bench{cfg: cfg, began: began}
	growthDirs := map[int]string{}
	for _, n := range cfg.growth {
		dir := filepath.Join(cfg.work, fmt.Sprintf("growth-%d", n))
		b.logf("seeding %d articles directly into %s", n, dir)
		t0 := time.Now()
		if err := seedDatabase(ctx, dir, n); err != nil {
			return fmt.Errorf("seed %d: %w", n, err)
		}
		b.logf("seeded %d articles in %s", n, time.Since(t0).Round(time.Millisecond))
		growthDirs[n] = dir
	}
	var all []metrics
	for i := range cfg.runs {
		b.logf("run %d of %d", i+1, cfg.runs)
		m, err := b.runOnce(ctx, i, growthDirs)
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		all = append(all, m)
	}
	printTable(os.Stdout, cfg, all, time.Since(began))
	return nil
}
