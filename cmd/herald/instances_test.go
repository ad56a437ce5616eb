package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/content/contenttest"
	"github.com/herald-cms/herald/webhooks/signature"
)

// These tests run real herald processes on one PostgreSQL schema, as a
// team running several instances behind a load balancer would.

// skipProcesses skips a test of real processes in -short mode, and in the
// suite's PostgreSQL pass (HERALD_TEST_DB=postgres): these tests always use
// PostgreSQL, and the first pass of `make test` ran them already.
func skipProcesses(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts three herald processes")
	}
	if contenttest.OnPostgres() {
		t.Skip("always on PostgreSQL: ran in the first pass of make test")
	}
}

// buildHerald compiles the herald binary into a directory the test
// removes; the build cache makes this quick after the first time.
func buildHerald(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "herald")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// instance is one running `herald serve`.
type instance struct {
	cmd  *exec.Cmd
	url  string
	log  *bytes.Buffer
	dead atomic.Bool
}

func (in *instance) pid() int { return in.cmd.Process.Pid }

// startInstances starts n herald processes on dbURL sharing their secrets,
// waits until each answers /_health, and stops them when the test ends.
func startInstances(t *testing.T, n int, dbURL string, env ...string) []*instance {
	t.Helper()
	bin := buildHerald(t)
	var out []*instance
	for i := range n {
		addr := freeAddr(t)
		in := &instance{url: "http://" + addr, log: &bytes.Buffer{}}
		in.cmd = exec.Command(bin, "serve")
		in.cmd.Env = append(os.Environ(),
			"HERALD_ADDR="+addr,
			"HERALD_DATA_DIR="+t.TempDir(),
			"HERALD_DATABASE_URL="+dbURL,
			"HERALD_JWT_SECRET=shared-jwt-secret-0123456789abcdef0123456789",
			"HERALD_TOKEN_SALT=shared-token-salt-0123456789abcdef0123456789",
			"HERALD_WEBHOOK_ALLOWED_NETWORKS=127.0.0.0/8",
			// The lease is the timeout plus 30 s: a killed instance's
			// deliveries are taken over 32 s after it claimed them.
			"HERALD_WEBHOOK_TIMEOUT=2s",
			"HERALD_LOG_LEVEL=warn",
		)
		in.cmd.Env = append(in.cmd.Env, env...)
		in.cmd.Stdout, in.cmd.Stderr = in.log, in.log
		if err := in.cmd.Start(); err != nil {
			t.Fatalf("start instance %d: %v", i, err)
		}
		t.Cleanup(func() {
			if !in.dead.Load() {
				in.cmd.Process.Signal(syscall.SIGTERM)
				done := make(chan struct{})
				go func() { in.cmd.Wait(); close(done) }()
				select {
				case <-done:
				case <-time.After(15 * time.Second):
					in.cmd.Process.Kill()
					<-done
				}
			}
			if t.Failed() {
				t.Logf("instance %d log:\n%s", i, in.log.String())
			}
		})
		out = append(out, in)
	}
	for i, in := range out {
		deadline := time.Now().Add(30 * time.Second)
		for {
			resp, err := http.Get(in.url + "/_health")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusNoContent {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("instance %d never became healthy: %v\n%s", i, err, in.log.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return out
}

// call sends a JSON request and decodes the answer into out, failing the
// test unless the status is want.
func call(t *testing.T, method, url, token string, body, out any, want int) {
	t.Helper()
	data, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, url, bytes.NewReader(data))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, url, resp.StatusCode, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, url, err, raw)
		}
	}
}

// receiver is a webhook endpoint that counts each webhook-id and notes
// which herald process sent each request.
type receiver struct {
	srv       *httptest.Server
	secret    string
	webhookID int64
	delay     atomic.Int64 // nanoseconds to wait before answering

	mu       sync.Mutex
	seen     map[string]int
	active   int
	peak     int
	bad      int
	arrivals []arrival
	senders  map[string]int // remote address -> sending pid
	pids     []int
}

// arrival is the first request of one event at one receiver.
type arrival struct {
	documentID string
	at         time.Time
	senderPID  int
}

func newReceiver(t *testing.T, pids []int) *receiver {
	rc := &receiver{seen: map[string]int{}, senders: map[string]int{}, pids: pids}
	rc.srv = httptest.NewUnstartedServer(http.HandlerFunc(rc.serve))
	rc.srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateNew {
			pid := connOwner(c, rc.pids)
			rc.mu.Lock()
			rc.senders[c.RemoteAddr().String()] = pid
			rc.mu.Unlock()
		}
	}
	rc.srv.Start()
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	body, _ := io.ReadAll(r.Body)
	var payload struct {
		Entry struct {
			DocumentID string `json:"documentId"`
		} `json:"entry"`
	}
	json.Unmarshal(body, &payload)
	id := r.Header.Get(signature.HeaderID)

	rc.mu.Lock()
	if signature.Verify(rc.secret, r.Header, body) != nil {
		rc.bad++
	}
	rc.seen[id]++
	if rc.seen[id] == 1 {
		rc.arrivals = append(rc.arrivals, arrival{
			documentID: payload.Entry.DocumentID, at: at, senderPID: rc.senders[r.RemoteAddr]})
	}
	rc.active++
	rc.peak = max(rc.peak, rc.active)
	rc.mu.Unlock()

	time.Sleep(time.Duration(rc.delay.Load()))
	w.WriteHeader(http.StatusNoContent)

	rc.mu.Lock()
	rc.active--
	rc.mu.Unlock()
}

// count returns how many times webhook-id id arrived.
func (rc *receiver) count(id string) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.seen[id]
}

// distinct returns how many different webhook-ids arrived.
func (rc *receiver) distinct() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.seen)
}

// duplicates returns the webhook-ids that arrived more than once.
func (rc *receiver) duplicates() map[string]int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	d := map[string]int{}
	for id, n := range rc.seen {
		if n > 1 {
			d[id] = n
		}
	}
	return d
}

// connOwner finds which of pids holds the client end of an accepted
// loopback connection, through /proc; 0 when it cannot tell.
func connOwner(c net.Conn, pids []int) int {
	remote, ok := c.RemoteAddr().(*net.TCPAddr)
	local, ok2 := c.LocalAddr().(*net.TCPAddr)
	if !ok || !ok2 {
		return 0
	}
	inode := socketInode(remote.Port, local.Port)
	if inode == "" {
		return 0
	}
	want := "socket:[" + inode + "]"
	for _, pid := range pids {
		fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
		for _, fd := range fds {
			link, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
			if link == want {
				return pid
			}
		}
	}
	return 0
}

// socketInode returns the inode of the IPv4 TCP socket bound to localPort
// and connected to remotePort, from /proc/net/tcp.
func socketInode(localPort, remotePort int) string {
	data, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 10 {
			continue
		}
		if portOf(f[1]) == localPort && portOf(f[2]) == remotePort {
			return f[9]
		}
	}
	return ""
}

func portOf(hexAddr string) int {
	_, p, ok := strings.Cut(hexAddr, ":")
	if !ok {
		return -1
	}
	n, err := strconv.ParseInt(p, 16, 32)
	if err != nil {
		return -1
	}
	return int(n)
}

// created is when and where one event's document was created.
type created struct {
	instance int
	sent     time.Time
}

// cluster is a test's herald instances, receivers and credentials.
type cluster struct {
	t         *testing.T
	instances []*instance
	receivers []*receiver
	key       string

	mu      sync.Mutex
	created map[string]created
}

// produce creates n documents, spread round-robin over the live
// instances by concurrent clients, moving to the next instance when one
// does not answer. halfway, when set, runs once after n/2 documents.
func (c *cluster) produce(n int, halfway func()) {
	c.t.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16},
		Timeout: 10 * time.Second}
	jobs := make(chan int)
	var done atomic.Int64
	var once sync.Once
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if err := c.create(client, i); err != nil {
					errs <- err
					continue
				}
				if done.Add(1) == int64(n/2) && halfway != nil {
					once.Do(halfway)
				}
			}
		}()
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	close(errs)
	for err := range errs {
		c.t.Fatal(err)
	}
}

// create posts one document, trying each instance from i's in turn.
func (c *cluster) create(client *http.Client, i int) error {
	body := fmt.Sprintf(`{"data":{"title":"note %d"}}`, i)
	var last error
	for k := range len(c.instances) {
		n := (i + k) % len(c.instances)
		in := c.instances[n]
		if in.dead.Load() {
			continue
		}
		req, _ := http.NewRequest("POST", in.url+"/api/notes", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+c.key)
		sent := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			last = err
			continue
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("create note on instance %d: %d %s", n, resp.StatusCode, raw)
		}
		var out struct {
			Data struct {
				DocumentID string `json:"documentId"`
			} `json:"data"`
		}
		json.Unmarshal(raw, &out)
		c.mu.Lock()
		c.created[out.Data.DocumentID] = created{instance: n, sent: sent}
		c.mu.Unlock()
		return nil
	}
	return fmt.Errorf("create note %d: no instance answered: %v", i, last)
}

// waitDistinct waits until every receiver has seen want different events.
func (c *cluster) waitDistinct(want int, timeout time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok := true
		for _, rc := range c.receivers {
			if rc.distinct() < want {
				ok = false
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			var got []int
			for _, rc := range c.receivers {
				got = append(got, rc.distinct())
			}
			c.t.Fatalf("after %s the receivers saw %v distinct events, want %d each",
				timeout, got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// latencies returns, for the first arrival of each event created since
// since, the time from its POST to that arrival: all of them, and those
// sent by another process than the one that created the event.
func (c *cluster) latencies(since time.Time) (all, cross []time.Duration, known int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rc := range c.receivers {
		rc.mu.Lock()
		for _, a := range rc.arrivals {
			cr, ok := c.created[a.documentID]
			if !ok || cr.sent.Before(since) {
				continue
			}
			d := max(a.at.Sub(cr.sent), 0)
			all = append(all, d)
			if a.senderPID != 0 {
				known++
				if a.senderPID != c.instances[cr.instance].pid() {
					cross = append(cross, d)
				}
			}
		}
		rc.mu.Unlock()
	}
	return all, cross, known
}

func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[(len(s)-1)*p/100]
}

// newCluster starts three instances on a fresh schema, with env added to
// their environment, and gives them a notes type, a full-access API token
// and three webhooks to three receivers.
func newCluster(t *testing.T, env ...string) (*cluster, string) {
	t.Helper()
	dbURL := contenttest.PostgresSchema(t)
	c := &cluster{t: t, instances: startInstances(t, 3, dbURL, env...),
		created: map[string]created{}}
	var pids []int
	for _, in := range c.instances {
		pids = append(pids, in.pid())
	}

	a := c.instances[0].url
	var reg struct {
		Data struct {
			Token string `json:"token"`
		} `json:"data"`
	}
	call(t, "POST", a+"/admin/register-admin", "", map[string]any{
		"firstname": "Ada", "email": "ada@example.com", "password": "correct horse battery",
	}, &reg, 201)
	admin := reg.Data.Token
	call(t, "POST", a+"/admin/content-types", admin, map[string]any{
		"kind": "collectionType", "collectionName": "notes",
		"info": map[string]any{
			"singularName": "note", "pluralName": "notes", "displayName": "Note"},
		"options":    map[string]any{"draftAndPublish": false},
		"attributes": map[string]any{"title": map[string]any{"type": "string"}},
	}, nil, 201)
	var tok struct {
		Data struct {
			AccessKey string `json:"accessKey"`
		} `json:"data"`
	}
	call(t, "POST", a+"/admin/api-tokens", admin, map[string]any{
		"name": "load", "type": "full-access", "lifespan": nil}, &tok, 201)
	c.key = tok.Data.AccessKey

	for i := range 3 {
		rc := newReceiver(t, pids)
		var hook struct {
			Data struct {
				ID     int64  `json:"id"`
				Secret string `json:"secret"`
			} `json:"data"`
		}
		// Webhooks are created on different instances.
		call(t, "POST", c.instances[i].url+"/admin/webhooks", admin, map[string]any{
			"name": fmt.Sprintf("receiver %d", i), "url": rc.srv.URL,
			"events": []string{"entry.create"},
		}, &hook, 201)
		rc.secret, rc.webhookID = hook.Data.Secret, hook.Data.ID
		c.receivers = append(c.receivers, rc)
	}
	// Every instance hears of the new type and webhooks through the bus
	// within milliseconds; a moment's margin keeps the test honest about
	// what it measures.
	time.Sleep(100 * time.Millisecond)
	return c, dbURL
}

func TestThreeInstancesDeliverEveryEventOnce(t *testing.T) {
	skipProcesses(t)
	c, dbURL := newCluster(t)
	const n = 1000
	start := time.Now()
	c.produce(n, nil)
	c.waitDistinct(n, 60*time.Second)
	t.Logf("%d events to %d receivers in %s", n, len(c.receivers), time.Since(start))

	for i, rc := range c.receivers {
		if d := rc.duplicates(); len(d) > 0 {
			t.Errorf("receiver %d saw %d webhook-ids more than once", i, len(d))
		}
		if rc.bad > 0 {
			t.Errorf("receiver %d got %d requests with a bad signature", i, rc.bad)
		}
		if rc.peak > 4 {
			t.Errorf("receiver %d had %d requests at once; the per-webhook limit is 4", i, rc.peak)
		}
	}
	// Under this burst deliveries queue behind the per-webhook limit, so
	// these figures are throughput, not wake-up (see the next test).
	all, _, _ := c.latencies(start)
	t.Logf("burst: POST to first arrival p50 %s, p99 %s over %d deliveries",
		pct(all, 50), pct(all, 99), len(all))

	waitFinished(t, contenttest.Open(t, dbURL), 10*time.Second)
}

// waitFinished waits until every delivery has succeeded.
func waitFinished(t *testing.T, db *content.DB, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var unfinished int64
		err := db.Read.Table("webhook_deliveries").Where("status <> 'succeeded'").
			Count(&unfinished).Error
		if err != nil {
			t.Fatal(err)
		}
		if unfinished == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d deliveries still unfinished after %s", unfinished, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestKilledInstanceLosesNoEvent(t *testing.T) {
	skipProcesses(t)
	c, dbURL := newCluster(t)
	db := contenttest.Open(t, dbURL)
	for _, rc := range c.receivers {
		// Slow answers keep attempts in flight when the instance dies.
		rc.delay.Store(int64(20 * time.Millisecond))
	}
	victim := c.instances[2]
	inFlight := map[string]bool{}
	const n = 1000
	start := time.Now()
	var killedAt time.Time
	c.produce(n, func() {
		leases := func() []string {
			var keys []string
			err := db.Read.Raw(`SELECT webhook_id || '/' || event_id FROM webhook_deliveries
				WHERE lease_owner LIKE ?`, fmt.Sprintf("%%-%d-%%", victim.pid())).Scan(&keys).Error
			if err != nil {
				t.Errorf("read the victim's leases: %v", err)
			}
			return keys
		}
		// Kill while the victim holds leases, so the test has attempts in
		// flight to lose.
		for deadline := time.Now().Add(5 * time.Second); len(leases()) == 0; {
			if time.Now().After(deadline) {
				t.Error("the victim never held a lease")
				break
			}
			time.Sleep(time.Millisecond)
		}
		victim.dead.Store(true)
		victim.cmd.Process.Kill()
		victim.cmd.Wait()
		killedAt = time.Now()
		// The victim's leases are the attempts it had in flight: sent or
		// being sent, their outcome not recorded.
		for _, k := range leases() {
			inFlight[k] = true
		}
		t.Logf("killed instance 2 (pid %d) with %d attempts in flight", victim.pid(),
			len(inFlight))
	})

	var events []string
	db.Read.Raw("SELECT id FROM webhook_events").Scan(&events)
	if len(events) < n {
		t.Fatalf("%d events committed, want at least %d", len(events), n)
	}
	c.waitDistinct(len(events), 60*time.Second)
	// The victim's leases expire after 32 s; then the others send its
	// deliveries again, and every one ends succeeded.
	waitFinished(t, db, 60*time.Second)
	t.Logf("%d events to %d receivers in %s, %s after the kill", len(events),
		len(c.receivers), time.Since(start), time.Since(killedAt))

	dupes := 0
	for i, rc := range c.receivers {
		for _, id := range events {
			if rc.count(id) == 0 {
				t.Errorf("receiver %d never got event %s", i, id)
			}
		}
		for id, count := range rc.duplicates() {
			dupes += count - 1
			if !inFlight[fmt.Sprintf("%d/%s", rc.webhookID, id)] {
				t.Errorf("receiver %d got %s %d times, but it was not in flight at the kill",
					i, id, count)
			}
		}
	}
	t.Logf("%d duplicate requests; %d attempts were in flight at the kill", dupes, len(inFlight))
}

// TestWakeUpAcrossInstances creates events one at a time, each on the
// next instance. With one worker per instance, the creating instance sends
// one of an event's three deliveries and the other two must be started by
// other instances, woken through PostgreSQL; with only the one-second
// poll, their median wait would be about half a second.
func TestWakeUpAcrossInstances(t *testing.T) {
	skipProcesses(t)
	c, _ := newCluster(t, "HERALD_WEBHOOK_WORKERS=1", "HERALD_WEBHOOK_PER_ENDPOINT=1")
	const n = 150
	start := time.Now()
	client := &http.Client{Timeout: 10 * time.Second}
	for i := range n {
		if err := c.create(client, i); err != nil {
			t.Fatal(err)
		}
		c.waitDistinct(i+1, 10*time.Second)
	}
	all, cross, known := c.latencies(start)
	if known < len(all)*9/10 {
		t.Skipf("could tell the sending process of only %d of %d deliveries (/proc)",
			known, len(all))
	}
	p50, p99 := pct(cross, 50), pct(cross, 99)
	t.Logf("created on one instance, started on another: %d deliveries, p50 %s, p99 %s "+
		"(all %d: p50 %s, p99 %s)", len(cross), p50, p99, len(all), pct(all, 50), pct(all, 99))
	if len(cross) < n/2 {
		t.Fatalf("only %d of %d deliveries crossed instances", len(cross), len(all))
	}
	if p50 > 100*time.Millisecond {
		t.Errorf("cross-instance wake-up p50 %s, want under 100ms", p50)
	}
}
