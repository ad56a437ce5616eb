package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// process is a server the bench started: Herald or the bare Fiber ceiling.
type process struct {
	cmd  *exec.Cmd
	addr string
	log  *os.File
	// Startup is the time from exec to the first answer of the health
	// check.
	Startup time.Duration
	done    chan error
}

// freeAddr returns a loopback address with a port nobody listens on.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startHerald runs `herald serve` on dataDir with its log in logPath and
// waits until /_health answers. The binary is first dropped from the page
// cache, so that Herald starts as a deployed server does, from a file read
// back from disk: the kernel maps the pages the linker just wrote in large
// blocks, which adds about 5 MB of file-backed RSS that a server never
// sees.
func startHerald(bin, dataDir, logPath string) (*process, error) {
	if err := dropCached(bin); err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(),
		"HERALD_ADDR="+addr,
		"HERALD_DATA_DIR="+dataDir,
		"HERALD_DATABASE_URL=",
		"HERALD_WEBHOOK_ALLOWED_NETWORKS=127.0.0.0/8",
	)
	return startProcess(cmd, addr, "/_health", logPath)
}

// startCeiling runs this program's bare Fiber server on the bodies in dir.
func startCeiling(dir, logPath string) (*process, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "ceiling", "-addr", addr, "-dir", dir)
	return startProcess(cmd, addr, "/_health", logPath)
}

func startProcess(cmd *exec.Cmd, addr, health, logPath string) (*process, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	p := &process{cmd: cmd, addr: addr, log: logf, done: make(chan error, 1)}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	go func() { p.done <- cmd.Wait() }()
	req := getRequest(addr, health)
	deadline := start.Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if ok := probe(addr, req); ok {
			p.Startup = time.Since(start)
			return p, nil
		}
		select {
		case err := <-p.done:
			logf.Close()
			return nil, fmt.Errorf("%s exited before answering (see %s): %v", cmd.Path, logPath,
				err)
		case <-time.After(time.Millisecond):
		}
	}
	p.Stop()
	return nil, fmt.Errorf("%s did not answer %s within 60s (see %s)", cmd.Path, health, logPath)
}

// probe sends one health request and reports a 2xx answer.
func probe(addr string, req []byte) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write(req); err != nil {
		return false
	}
	status, _, _, err := readResponse(bufio.NewReader(c))
	return err == nil && status >= 200 && status < 300
}

// Stop sends SIGTERM and waits for the process, killing it after 30s.
func (p *process) Stop() error {
	defer p.log.Close()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		return err
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		return errors.New("did not stop within 30s; killed")
	}
}

// dropCached writes the file at path to disk and drops its pages from the
// page cache.
func dropCached(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		return fmt.Errorf("drop %s from the page cache: %w", path, err)
	}
	return nil
}

// Memory reads VmRSS and VmHWM (peak RSS) from /proc, in bytes.
func (p *process) Memory() (rss, hwm int64, err error) {
	st, err := p.status("VmRSS", "VmHWM")
	return st["VmRSS"], st["VmHWM"], err
}

// MemoryParts reads the anonymous and file-backed parts of VmRSS, in
// bytes.
func (p *process) MemoryParts() (anon, file int64, err error) {
	st, err := p.status("RssAnon", "RssFile")
	return st["RssAnon"], st["RssFile"], err
}

// status reads the given sizes from /proc/<pid>/status, in bytes.
func (p *process) status(keys ...string) (map[string]int64, error) {
	out := make(map[string]int64, len(keys))
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(p.cmd.Process.Pid), "status"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || !slices.Contains(keys, k) {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", k, err)
		}
		out[k] = kb << 10
	}
	return out, sc.Err()
}

// sampler records the largest VmRSS seen while it runs.
type sampler struct {
	p    *process
	mu   sync.Mutex
	peak int64
	stop chan struct{}
	done chan struct{}
}

func sampleRSS(p *process) *sampler {
	s := &sampler{p: p, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if rss, _, err := p.Memory(); err == nil {
				s.mu.Lock()
				s.peak = max(s.peak, rss)
				s.mu.Unlock()
			}
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// Peak stops sampling and returns the largest RSS seen.
func (s *sampler) Peak() int64 {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}

// client talks to Herald's admin and content APIs for set-up and checks.
type client struct {
	base string
	http *http.Client
}

func newClient(addr string) *client {
	return &client{base: "http://" + addr, http: &http.Client{
		Timeout:   60 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64},
	}}
}

// do sends a request and decodes a JSON answer into out (when not nil).
// An unexpected status is an error carrying the body.
func (c *client) do(ctx context.Context, method, path, token string, body any, want int,
	out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: status %d, want %d: %.300s", method, path, resp.StatusCode, want,
			data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: decode: %w", method, path, err)
		}
	}
	return nil
}

// raw fetches path and returns the exact body bytes (for the ceiling).
func (c *client) raw(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d: %.300s", path, resp.StatusCode, data)
	}
	return data, nil
}
