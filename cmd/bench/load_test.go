package main

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestLoadCountsWholeAnswers(t *testing.T) {
	body := strings.Repeat("x", 3000)
	closeEvery := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		closeEvery++
		if closeEvery%7 == 0 {
			w.Header().Set("Connection", "close")
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write([]byte(body))
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")

	r := load(context.Background(), addr, 2, 20*time.Millisecond, 200*time.Millisecond, 200,
		fixed(getRequest(addr, "/")))
	if r.Requests == 0 || r.Errors != 0 {
		t.Fatalf("%d requests, %d errors (%s)", r.Requests, r.Errors, r.FirstError)
	}
	if r.Bytes != int64(r.Requests*len(body)) {
		t.Fatalf("%d bytes for %d answers of %d", r.Bytes, r.Requests, len(body))
	}
	if len(r.Latencies) != r.Requests || r.Percentile(50) <= 0 ||
		r.Percentile(99) < r.Percentile(50) {
		t.Fatalf("latencies: %d for %d requests, p50 %s, p99 %s", len(r.Latencies), r.Requests,
			r.Percentile(50), r.Percentile(99))
	}

	// An unexpected status is an error, not a request.
	r = load(context.Background(), addr, 1, 0, 50*time.Millisecond, 201,
		fixed(getRequest(addr, "/")))
	if r.Requests != 0 || r.Errors == 0 {
		t.Fatalf("want only errors, got %d requests and %d errors", r.Requests, r.Errors)
	}
}

func TestReadResponse(t *testing.T) {
	for _, tc := range []struct {
		raw    string
		status int
		size   int64
		keep   bool
		ok     bool
	}{
		{"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", 200, 3, true, true},
		{"HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n", 304, 0, true, true},
		{"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nConnection: close\r\n\r\n", 200, 0, false, true},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 0, 0, false, false},
		{"nonsense\r\n\r\n", 0, 0, false, false},
	} {
		status, size, keep, err := readResponse(bufio.NewReader(strings.NewReader(tc.raw)))
		if (err == nil) != tc.ok || status != tc.status || size != tc.size || keep != tc.keep {
			t.Errorf("%q: %d %d %v %v", tc.raw, status, size, keep, err)
		}
	}
}

func TestMedian(t *testing.T) {
	runs := []metrics{{"a": 3, "b": 1}, {"a": 1}, {"a": 2, "b": 5}}
	if v, ok := median(runs, "a"); !ok || v != 2 {
		t.Fatalf("median a = %v, %v", v, ok)
	}
	if v, ok := median(runs, "b"); !ok || v != 3 {
		t.Fatalf("median b = %v, %v (two runs: their mean)", v, ok)
	}
	if _, ok := median(runs, "c"); ok {
		t.Fatal("median of a key no run has")
	}
}
