package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"
)

// requestFunc writes the n-th request of worker w into buf and returns it.
// Reads return the same bytes every time; writes build a new body.
type requestFunc func(w, n int, buf []byte) []byte

// fixed returns a requestFunc that always sends req.
func fixed(req []byte) requestFunc {
	return func(int, int, []byte) []byte { return req }
}

// getRequest builds a keep-alive GET request for path.
func getRequest(host, path string, headers ...string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: herald-bench\r\n", path, host)
	for _, h := range headers {
		b.WriteString(h)
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

// postRequest appends a keep-alive POST request with a JSON body to buf.
func postRequest(buf []byte, host, path, token string, body []byte) []byte {
	buf = append(buf, "POST "...)
	buf = append(buf, path...)
	buf = append(buf, " HTTP/1.1\r\nHost: "...)
	buf = append(buf, host...)
	buf = append(buf, "\r\nUser-Agent: herald-bench\r\nContent-Type: application/json\r\n"...)
	if token != "" {
		buf = append(buf, "Authorization: Bearer "...)
		buf = append(buf, token...)
		buf = append(buf, "\r\n"...)
	}
	buf = append(buf, "Content-Length: "...)
	buf = strconv.AppendInt(buf, int64(len(body)), 10)
	buf = append(buf, "\r\n\r\n"...)
	return append(buf, body...)
}

// loadResult is what one load run measured.
type loadResult struct {
	Requests int
	// Errors counts connection failures and unexpected statuses.
	Errors  int
	Elapsed time.Duration
	// Latencies holds every request's latency, sorted.
	Latencies []time.Duration
	Bytes     int64
	// FirstError describes the first error seen, for the report.
	FirstError string
}

// Rate is requests per second.
func (r loadResult) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// Percentile returns the p-th percentile latency (0 < p <= 100).
func (r loadResult) Percentile(p float64) time.Duration {
	return percentile(r.Latencies, p)
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.5) - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i]
}

// load runs conns workers, each on its own keep-alive connection to addr,
// sending requests back to back for warmup and then for d, and measures
// the second part. want is the status every answer must have.
func load(ctx context.Context, addr string, conns int, warmup, d time.Duration,
	want int, next requestFunc) loadResult {
	start := time.Now()
	measureFrom := start.Add(warmup)
	stop := measureFrom.Add(d)
	var (
		mu  sync.Mutex
		out loadResult
		wg  sync.WaitGroup
	)
	for w := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := worker(ctx, addr, w, measureFrom, stop, want, next)
			mu.Lock()
			defer mu.Unlock()
			out.Requests += r.Requests
			out.Errors += r.Errors
			out.Bytes += r.Bytes
			out.Latencies = append(out.Latencies, r.Latencies...)
			if out.FirstError == "" {
				out.FirstError = r.FirstError
			}
		}()
	}
	wg.Wait()
	out.Elapsed = time.Since(measureFrom)
	if out.Elapsed > d {
		// Requests still in flight at the deadline finish after it; they
		// are counted, so count their time too, but never less than d.
		out.Elapsed = max(d, min(out.Elapsed, d+time.Second))
	}
	slices.Sort(out.Latencies)
	return out
}

func worker(ctx context.Context, addr string, w int, measureFrom, stop time.Time, want int,
	next requestFunc) loadResult {
	var (
		r    loadResult
		conn net.Conn
		br   *bufio.Reader
		buf  = make([]byte, 0, 4096)
	)
	r.Latencies = make([]time.Duration, 0, 4096)
	fail := func(err error) {
		if r.FirstError == "" {
			r.FirstError = err.Error()
		}
		r.Errors++
		if conn != nil {
			conn.Close()
			conn = nil
		}
	}
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	for n := 0; ctx.Err() == nil; n++ {
		now := time.Now()
		if !now.Before(stop) {
			break
		}
		if conn == nil {
			c, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				fail(err)
				time.Sleep(10 * time.Millisecond)
				continue
			}
			conn, br = c, bufio.NewReaderSize(c, 64<<10)
		}
		req := next(w, n, buf[:0])
		t0 := time.Now()
		if _, err := conn.Write(req); err != nil {
			fail(err)
			continue
		}
		status, size, keep, err := readResponse(br)
		lat := time.Since(t0)
		if err != nil {
			fail(err)
			continue
		}
		if !keep {
			conn.Close()
			conn = nil
		}
		if t0.Before(measureFrom) {
			continue
		}
		if status != want {
			fail(fmt.Errorf("status %d, want %d", status, want))
			continue
		}
		r.Requests++
		r.Bytes += size
		r.Latencies = append(r.Latencies, lat)
	}
	return r
}

// errChunked is returned for answers without a Content-Length; Herald and
// Fiber always send one.
var errChunked = errors.New("response without Content-Length")

// readResponse reads one HTTP/1.1 response, discarding its body, and
// returns its status, body size and whether the connection stays open.
func readResponse(br *bufio.Reader) (status int, size int64, keepAlive bool, err error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, 0, false, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, 0, false, fmt.Errorf("bad status line %q", line)
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, 0, false, fmt.Errorf("bad status line %q", line)
	}
	keepAlive = true
	length := int64(-1)
	for {
		line, err = br.ReadSlice('\n')
		if err != nil {
			return 0, 0, false, err
		}
		h := bytes.TrimRight(line, "\r\n")
		if len(h) == 0 {
			break
		}
		name, value, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			continue
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			length, err = strconv.ParseInt(string(value), 10, 64)
			if err != nil {
				return 0, 0, false, fmt.Errorf("bad Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Connection")):
			keepAlive = !bytes.EqualFold(value, []byte("close"))
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			return 0, 0, false, errChunked
		}
	}
	if length < 0 {
		if status == 204 || status == 304 {
			return status, 0, keepAlive, nil
		}
		return 0, 0, false, errChunked
	}
	if _, err := br.Discard(int(length)); err != nil {
		return 0, 0, false, err
	}
	return status, length, keepAlive, nil
}
