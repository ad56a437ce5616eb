package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// median returns the median of key over the runs that measured it, and
// whether any did.
func median(all []metrics, key string) (float64, bool) {
	var vs []float64
	for _, m := range all {
		if v, ok := m[key]; ok {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return 0, false
	}
	slices.Sort(vs)
	n := len(vs)
	if n%2 == 1 {
		return vs[n/2], true
	}
	return (vs[n/2-1] + vs[n/2]) / 2, true
}

// machine describes the computer: cores, CPU model and memory.
func machine() string {
	model := "unknown CPU"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	mem := ""
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var kb int64
			if n, _ := fmt.Sscanf(sc.Text(), "MemTotal: %d kB", &kb); n == 1 {
				mem = fmt.Sprintf(", %.1f GiB memory", float64(kb)/(1<<20))
				break
			}
		}
		f.Close()
	}
	return fmt.Sprintf("%d cores (nproc), %s%s, %s/%s, %s", runtime.NumCPU(), model, mem,
		runtime.GOOS, runtime.GOARCH, runtime.Version())
}

// tableWriter prints aligned rows.
type tableWriter struct {
	w    io.Writer
	rows [][]string
}

func (t *tableWriter) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *tableWriter) flush() {
	var widths []int
	for _, r := range t.rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	for n, r := range t.rows {
		var b strings.Builder
		b.WriteString("| ")
		for i := range widths {
			c := ""
			if i < len(r) {
				c = r[i]
			}
			pad := strings.Repeat(" ", widths[i]-len([]rune(c)))
			if i == 0 {
				b.WriteString(c + pad)
			} else {
				b.WriteString(pad + c)
			}
			b.WriteString(" | ")
		}
		fmt.Fprintln(t.w, strings.TrimRight(b.String(), " "))
		if n == 0 {
			// A Markdown table: the header row, then the alignment row.
			var sep strings.Builder
			sep.WriteString("|")
			for i, w := range widths {
				if i == 0 {
					sep.WriteString(strings.Repeat("-", w+2) + "|")
				} else {
					sep.WriteString(strings.Repeat("-", w+1) + ":|")
				}
			}
			fmt.Fprintln(t.w, sep.String())
		}
	}
	t.rows = nil
}

// num formats a median with the given precision, or "-" when missing.
func num(all []metrics, key string, prec int) string {
	v, ok := median(all, key)
	if !ok {
		return "-"
	}
	return commas(v, prec)
}

// commas formats v with thousands separators.
func commas(v float64, prec int) string {
	s := fmt.Sprintf("%.*f", prec, v)
	intPart, frac, _ := strings.Cut(s, ".")
	neg := strings.HasPrefix(intPart, "-")
	intPart = strings.TrimPrefix(intPart, "-")
	var b strings.Builder
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	out := b.String()
	if frac != "" {
		out += "." + frac
	}
	if neg {
		out = "-" + out
	}
	return out
}

// verdict says whether a median meets a target: ok(v) decides.
func verdict(all []metrics, key string, ok func(float64) bool) string {
	v, have := median(all, key)
	switch {
	case !have:
		return "not measured"
	case ok(v):
		return "met"
	}
	return "NOT met"
}

func printTable(w io.Writer, cfg config, all []metrics, took time.Duration) {
	fmt.Fprintf(w, "\nHerald benchmark: medians of %d runs; %d connections, %s per scenario "+
		"after %s of warm-up; took %s\n", len(all), cfg.conns, cfg.duration, cfg.warmup,
		took.Round(time.Second))
	fmt.Fprintf(w, "machine: %s\n\n", machine())

	t := &tableWriter{w: w}
	t.add("read (Public role, 1,000 articles)", "req/s", "p50 ms", "p99 ms", "bare Fiber req/s",
		"ratio", "body bytes", "target: ratio >= 0.5, p99 < 20 ms")
	for _, r := range reads {
		ok := func(k string) string {
			ratio, _ := median(all, k+".ratio")
			p99, have := median(all, k+".p99")
			if !have {
				return "not measured"
			}
			if ratio >= 0.5 && p99 < 20 {
				return "met"
			}
			return "NOT met"
		}
		t.add(r.name, num(all, r.key+".rate", 0), num(all, r.key+".p50", 2),
			num(all, r.key+".p99", 2), num(all, r.key+".ceil.rate", 0), num(all, r.key+".ratio", 2),
			num(all, r.key+".bytes", 0), ok(r.key))
		t.add("  same, uncached (Cache-Control: no-cache)", num(all, r.key+".nc.rate", 0),
			num(all, r.key+".nc.p50", 2), num(all, r.key+".nc.p99", 2), "",
			num(all, r.key+".nc.ratio", 2), "", "")
		if r.key == "list" {
			t.add("  same, Accept-Encoding: gzip", num(all, "list.gzip.rate", 0),
				num(all, "list.gzip.p50", 2), num(all, "list.gzip.p99", 2), "", "",
				num(all, "list.gzip.bytes", 0), "")
		}
	}
	t.flush()
	fmt.Fprintln(w)

	t.add("write, webhooks, memory, start-up", "median", "target", "")
	t.add("create-and-publish with 3 webhooks, req/s", num(all, "create.rate", 0), ">= 1,000/s",
		verdict(all, "create.rate", func(v float64) bool { return v >= 1000 }))
	t.add("  its p50 / p99 latency, ms", num(all, "create.p50", 2)+" / "+num(all, "create.p99", 2),
		"", "")
	t.add("  time to deliver its backlog afterwards, s", num(all, "create.drain", 2), "", "")
	t.add("publish-to-receiver latency p50, ms", num(all, "publish.p50", 2), "< 5 ms",
		verdict(all, "publish.p50", func(v float64) bool { return v < 5 }))
	t.add("publish-to-receiver latency p99, ms", num(all, "publish.p99", 2), "< 50 ms",
		verdict(all, "publish.p99", func(v float64) bool { return v < 50 }))
	t.add("fan-out 1,000 events x 10 webhooks, deliveries/s", num(all, "fanout.rate", 0),
		">= 5,000/s", verdict(all, "fanout.rate", func(v float64) bool { return v >= 5000 }))
	t.add("  attempts logged / requests received / succeeded",
		num(all, "fanout.logged", 0)+" / "+num(all, "fanout.received", 0)+" / "+
			num(all, "fanout.succeeded", 0), "all 10,000 logged",
		verdict(all, "fanout.logged", func(v float64) bool {
			got, _ := median(all, "fanout.received")
			return v >= 10000 && v == got
		}))
	t.add("RSS at start-up (empty database), MB", num(all, "rss.start", 1), "", "")
	t.add("RSS idle (1,000 articles seeded, 2 s quiet), MB", num(all, "rss.idle", 1), "< 30 MB",
		verdict(all, "rss.idle", func(v float64) bool { return v < 30 }))
	t.add("  of which anonymous / file-backed (the binary's pages), MB",
		num(all, "rss.idle.anon", 1)+" / "+num(all, "rss.idle.file", 1), "", "")
	t.add("RSS peak under load (VmHWM), MB", num(all, "rss.peak", 1), "< 100 MB",
		verdict(all, "rss.peak", func(v float64) bool { return v < 100 }))
	t.add("start-up to /_health, empty database, ms", num(all, "startup.empty", 1), "", "")
	for _, n := range cfg.growth {
		k := fmt.Sprintf("startup@%d", n)
		target, v := "", ""
		if n == 100000 {
			target = "< 100 ms"
			v = verdict(all, k, func(v float64) bool { return v < 100 })
		}
		t.add(fmt.Sprintf("start-up to /_health, %s entries, ms", commas(float64(n), 0)),
			num(all, k, 1), target, v)
	}
	t.flush()

	if len(cfg.growth) == 0 {
		return
	}
	fmt.Fprintln(w)
	t.add("growth (Public role)", "entries", "req/s", "p99 ms", "vs 1,000", "uncached req/s",
		"p99 ms", "vs 1,000", "uncached, withCount=false", "p99 ms", "vs 1,000")
	for _, k := range []string{"list", "filter"} {
		name := "list of 25"
		if k == "filter" {
			name = "filter views>500, sort title, 10"
		}
		sizes := append([]int{1000}, cfg.growth...)
		for i, n := range sizes {
			key := k
			if n != 1000 {
				key = fmt.Sprintf("%s@%d", k, n)
			}
			// rel is how many times slower than the 1,000-article figure.
			rel := func(variant string) string {
				base, ok1 := median(all, k+variant+".rate")
				v, ok2 := median(all, key+variant+".rate")
				if !ok1 || !ok2 || v == 0 {
					return "-"
				}
				return fmt.Sprintf("%.2fx", base/v)
			}
			label := ""
			if i == 0 {
				label = name
			}
			t.add(label, commas(float64(n), 0),
				num(all, key+".rate", 0), num(all, key+".p99", 2), rel(""),
				num(all, key+".nc.rate", 0), num(all, key+".nc.p99", 2), rel(".nc"),
				num(all, key+".ncwc.rate", 0), num(all, key+".ncwc.p99", 2), rel(".ncwc"))
		}
	}
	t.flush()
	fmt.Fprintln(w, "\n\"vs 1,000\" is how many times slower than with 1,000 articles "+
		"(target at 100,000: at most 2x); uncached reads send Cache-Control: no-cache.")
}
