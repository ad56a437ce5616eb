package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herald-cms/herald/content"
)

// metrics is one run's figures by key (see table.go for the keys).
type metrics map[string]float64

// bench runs the scenarios.
type bench struct {
	cfg config
	// fanOutHooks are the current run's fan-out webhooks, whose logged
	// attempts checkLog counts.
	fanOutHooks []int64
	began       time.Time
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench [%5.1fs]: "+format+"\n",
		append([]any{time.Since(b.began).Seconds()}, args...)...)
}

func (b *bench) vlogf(format string, args ...any) {
	if b.cfg.verbose {
		b.logf(format, args...)
	}
}

// The read scenarios, by key: the path each requests.
var reads = []struct {
	key, name, path string
}{
	{"list", "list of 25", "/api/articles?pagination%5BpageSize%5D=25"},
	{"one", "one document by documentId", ""}, // filled in with a real documentId
	{"filter", "filter views>500, sort title, 10 per page",
		"/api/articles?filters%5Bviews%5D%5B%24gt%5D=500&sort=title&pagination%5BpageSize%5D=10"},
}

// noCache asks Herald to bypass its response cache: the uncached rows.
const noCache = "Cache-Control: no-cache"

// measure runs one load scenario and stores its rate and latencies under
// key.
func (b *bench) measure(ctx context.Context, m metrics, key, addr string, want int,
	next requestFunc) loadResult {
	r := load(ctx, addr, b.cfg.conns, b.cfg.warmup, b.cfg.duration, want, next)
	m[key+".rate"] = r.Rate()
	m[key+".p50"] = ms(r.Percentile(50))
	m[key+".p99"] = ms(r.Percentile(99))
	m[key+".errors"] = float64(r.Errors)
	if r.Requests > 0 {
		m[key+".bytes"] = float64(r.Bytes / int64(r.Requests))
	}
	b.vlogf("%-22s %9.0f req/s  p50 %6.2f ms  p99 %6.2f ms  errors %d %s", key, r.Rate(),
		m[key+".p50"], m[key+".p99"], r.Errors, r.FirstError)
	return r
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// runOnce runs every scenario once on a fresh data directory.
func (b *bench) runOnce(ctx context.Context, run int, growthDirs map[int]string) (metrics, error) {
	m := metrics{}
	dir := filepath.Join(b.cfg.work, fmt.Sprintf("run-%d", run+1))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	p, err := startHerald(b.cfg.herald, filepath.Join(dir, "data"),
		filepath.Join(dir, "herald.log"))
	if err != nil {
		return nil, err
	}
	stopped := false
	defer func() {
		if !stopped {
			p.Stop()
		}
	}()
	m["startup.empty"] = ms(p.Startup)
	if rss, _, err := p.Memory(); err == nil {
		m["rss.start"] = float64(rss) / (1 << 20)
	}
	c := newClient(p.addr)
	adminToken, apiToken, err := setUp(ctx, c, true)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	if err := seedAPI(ctx, c, apiToken, 0, 1000, 8); err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	b.vlogf("seeded 1,000 articles through the API in %s", time.Since(t0).Round(time.Millisecond))
	m["seed.rate"] = 1000 / time.Since(t0).Seconds()

	time.Sleep(2 * time.Second)
	rss, _, err := p.Memory()
	if err != nil {
		return nil, err
	}
	m["rss.idle"] = float64(rss) / (1 << 20)
	if anon, file, err := p.MemoryParts(); err == nil {
		m["rss.idle.anon"] = float64(anon) / (1 << 20)
		m["rss.idle.file"] = float64(file) / (1 << 20)
	}

	if !b.cfg.skip["reads"] {
		if err := b.readScenarios(ctx, m, p, c, dir, ""); err != nil {
			return nil, err
		}
	}
	if !b.cfg.skip["writes"] {
		if err := b.writeScenarios(ctx, m, p, c, adminToken, apiToken); err != nil {
			return nil, err
		}
	}
	_, hwm, err := p.Memory()
	if err != nil {
		return nil, err
	}
	m["rss.peak"] = float64(hwm) / (1 << 20)
	stopped = true
	c.http.CloseIdleConnections()
	if err := p.Stop(); err != nil {
		b.logf("herald did not stop cleanly: %v", err)
	}
	if !b.cfg.skip["writes"] {
		if err := b.checkLog(ctx, m, filepath.Join(dir, "data")); err != nil {
			return nil, err
		}
	}

	for _, n := range b.cfg.growth {
		if err := b.growthScenarios(ctx, m, n, growthDirs[n], dir); err != nil {
			return nil, fmt.Errorf("growth %d: %w", n, err)
		}
	}
	return m, nil
}

// setUp registers the administrator (or signs in), creates the article
// type when asked, lets the Public role read articles, and creates a
// full-access API token.
func setUp(ctx context.Context, c *client, createType bool) (adminToken, apiToken string,
	err error) {
	var auth struct {
		Data struct {
			Token string `json:"token"`
		} `json:"data"`
	}
	creds := map[string]any{"firstname": "Bench", "lastname": "Mark",
		"email": "bench@example.com", "password": "a long bench password"}
	if err := c.do(ctx, "POST", "/admin/register-admin", "", creds, 201, &auth); err != nil {
		login := map[string]any{"email": creds["email"], "password": creds["password"]}
		if err := c.do(ctx, "POST", "/admin/login", "", login, 200, &auth); err != nil {
			return "", "", err
		}
	}
	adminToken = auth.Data.Token
	if createType {
		err := c.do(ctx, "POST", "/admin/content-types", adminToken,
			json.RawMessage(articleSchema), 201, nil)
		if err != nil {
			return "", "", err
		}
	}
	perms := map[string]any{"permissions": []string{articleUID + ".find", articleUID + ".findOne"}}
	err = c.do(ctx, "PUT", "/admin/roles/public/permissions", adminToken, perms, 200, nil)
	if err != nil {
		return "", "", err
	}
	var tok struct {
		Data struct {
			AccessKey string `json:"accessKey"`
		} `json:"data"`
	}
	name := fmt.Sprintf("bench-%d", time.Now().UnixNano())
	err = c.do(ctx, "POST", "/admin/api-tokens", adminToken,
		map[string]any{"name": name, "type": "full-access", "lifespan": nil}, 201, &tok)
	if err != nil {
		return "", "", err
	}
	return adminToken, tok.Data.AccessKey, nil
}

// readPaths returns the read scenarios' paths, with a real documentId.
func readPaths(ctx context.Context, c *client) (map[string]string, error) {
	var list struct {
		Data []struct {
			DocumentID string `json:"documentId"`
		} `json:"data"`
	}
	if err := c.do(ctx, "GET", "/api/articles?pagination%5BpageSize%5D=1", "", nil, 200,
		&list); err != nil {
		return nil, err
	}
	if len(list.Data) == 0 {
		return nil, errors.New("no article to read")
	}
	paths := map[string]string{}
	for _, r := range reads {
		paths[r.key] = r.path
	}
	paths["one"] = "/api/articles/" + list.Data[0].DocumentID
	return paths, nil
}

// readScenarios measures the three reads as the Public role, cached and
// uncached, and the bare Fiber ceiling for the same bytes. suffix tells
// the growth runs' keys apart ("" for the 1,000-article set).
func (b *bench) readScenarios(ctx context.Context, m metrics, p *process, c *client,
	dir, suffix string) error {
	paths, err := readPaths(ctx, c)
	if err != nil {
		return err
	}
	bodies := filepath.Join(dir, "bodies"+suffix)
	if err := os.MkdirAll(bodies, 0o700); err != nil {
		return err
	}
	keys := []string{"list", "one", "filter"}
	if suffix != "" {
		keys = []string{"list", "filter"}
	}
	for _, k := range keys {
		body, err := c.raw(ctx, paths[k])
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(bodies, k+".json"), body, 0o600); err != nil {
			return err
		}
	}
	samp := sampleRSS(p)
	for _, k := range keys {
		b.measure(ctx, m, k+suffix, p.addr, 200, fixed(getRequest(p.addr, paths[k])))
		b.measure(ctx, m, k+suffix+".nc", p.addr, 200,
			fixed(getRequest(p.addr, paths[k], noCache)))
		if k != "one" {
			// The exact total is the part of a list that grows with the
			// matches; withCount=false leaves it out.
			b.measure(ctx, m, k+suffix+".ncwc", p.addr, 200,
				fixed(getRequest(p.addr, paths[k]+"&pagination%5BwithCount%5D=false", noCache)))
		}
	}
	if suffix == "" {
		b.measure(ctx, m, "list.gzip", p.addr, 200,
			fixed(getRequest(p.addr, paths["list"], "Accept-Encoding: gzip")))
	}
	m["rss.reads"+suffix] = float64(samp.Peak()) / (1 << 20)
	if suffix != "" {
		// The growth rows compare with the 1,000-article figures.
		return nil
	}

	ceil, err := startCeiling(bodies, filepath.Join(dir, "ceiling.log"))
	if err != nil {
		return err
	}
	defer ceil.Stop()
	for _, k := range keys {
		r := b.measure(ctx, m, k+suffix+".ceil", ceil.addr, 200,
			fixed(getRequest(ceil.addr, "/"+k)))
		if rate := r.Rate(); rate > 0 {
			m[k+suffix+".ratio"] = m[k+suffix+".rate"] / rate
			m[k+suffix+".nc.ratio"] = m[k+suffix+".nc.rate"] / rate
		}
	}
	return nil
}

// createWebhooks subscribes one webhook per receiver URL to events.
func createWebhooks(ctx context.Context, c *client, adminToken string, urls []string,
	events []string) ([]int64, error) {
	var ids []int64
	for i, u := range urls {
		var out struct {
			Data struct {
				ID int64 `json:"id"`
			} `json:"data"`
		}
		in := map[string]any{"name": fmt.Sprintf("bench %d", i), "url": u, "events": events,
			"contentTypes": []string{articleUID}}
		if err := c.do(ctx, "POST", "/admin/webhooks", adminToken, in, 201, &out); err != nil {
			return nil, err
		}
		ids = append(ids, out.Data.ID)
	}
	return ids, nil
}

var entryEvents = []string{"entry.create", "entry.update", "entry.delete", "entry.publish",
	"entry.unpublish", "entry.draft-discard"}

// writeScenarios measures create-and-publish with three webhooks, the
// publish-to-receiver latency, and the fan-out of 1,000 events to ten
// webhooks.
func (b *bench) writeScenarios(ctx context.Context, m metrics, p *process, c *client,
	adminToken, apiToken string) error {
	recv, err := startReceivers(3)
	if err != nil {
		return err
	}
	defer recv.Close()
	hooks, err := createWebhooks(ctx, c, adminToken, recv.URLs, entryEvents)
	if err != nil {
		return err
	}

	// Create and publish: every request a new article, with a title (and
	// so a slug) of its own.
	var created atomic.Int64
	next := func(w, n int, buf []byte) []byte {
		created.Add(1)
		body, _ := json.Marshal(map[string]any{"data": makeArticle(2_000_000 + w*100_000 + n)})
		return postRequest(buf, p.addr, "/api/articles", apiToken, body)
	}
	r := b.measure(ctx, m, "create", p.addr, 201, next)
	// Two events (entry.create, entry.publish) for each of three webhooks.
	want := int(created.Load()-int64(r.Errors)) * 2 * 3
	t0 := time.Now()
	if _, ok := recv.WaitUnique(want, 3*time.Minute); !ok {
		return fmt.Errorf("create: %d of %d deliveries arrived in 3 minutes", recv.Unique(), want)
	}
	m["create.drain"] = time.Since(t0).Seconds()

	// Publish to receiver, one publish at a time.
	var lat []time.Duration
	for i := range 200 {
		var out struct {
			Data struct {
				DocumentID string `json:"documentId"`
			} `json:"data"`
		}
		start := time.Now()
		err := c.do(ctx, "POST", "/api/articles", apiToken,
			map[string]any{"data": makeArticle(3_000_000 + i)}, 201, &out)
		if err != nil {
			return err
		}
		arrivals := recv.WaitPublish(out.Data.DocumentID, 3, 10*time.Second)
		if len(arrivals) < 3 {
			return fmt.Errorf("publish latency: %s reached %d of 3 receivers",
				out.Data.DocumentID, len(arrivals))
		}
		for _, at := range arrivals {
			lat = append(lat, at.Sub(start))
		}
	}
	slices.Sort(lat)
	m["publish.p50"], m["publish.p99"] = ms(percentile(lat, 50)), ms(percentile(lat, 99))
	b.vlogf("publish->receiver p50 %.2f ms p99 %.2f ms", m["publish.p50"], m["publish.p99"])
	for _, id := range hooks {
		if err := c.do(ctx, "DELETE", fmt.Sprintf("/admin/webhooks/%d", id), adminToken, nil, 200,
			nil); err != nil {
			return err
		}
	}
	return b.fanOut(ctx, m, c, adminToken, apiToken)
}

// fanOut creates 1,000 drafts (one entry.create each) for ten webhooks as
// fast as 32 clients can, and measures deliveries per second from the first
// request until all 10,000 deliveries have arrived.
func (b *bench) fanOut(ctx context.Context, m metrics, c *client, adminToken,
	apiToken string) error {
	recv, err := startReceivers(10)
	if err != nil {
		return err
	}
	defer recv.Close()
	hooks, err := createWebhooks(ctx, c, adminToken, recv.URLs, []string{"entry.create"})
	if err != nil {
		return err
	}
	b.fanOutHooks = hooks
	const events = 1000
	work := make(chan int)
	var wg sync.WaitGroup
	var failed atomic.Int64
	t0 := time.Now()
	for range b.cfg.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				body := map[string]any{"data": makeArticle(4_000_000 + i)}
				if err := c.do(ctx, "POST", "/api/articles?status=draft", apiToken, body, 201,
					nil); err != nil {
					failed.Add(1)
				}
			}
		}()
	}
	for i := range events {
		work <- i
	}
	close(work)
	wg.Wait()
	if n := failed.Load(); n > 0 {
		return fmt.Errorf("fan-out: %d of %d creates failed", n, events)
	}
	written := time.Now()
	m["fanout.events"] = written.Sub(t0).Seconds()
	want := events * len(hooks)
	at, ok := recv.WaitUnique(want, 3*time.Minute)
	if !ok {
		return fmt.Errorf("fan-out: %d of %d deliveries arrived in 3 minutes", recv.Unique(), want)
	}
	m["fanout.rate"] = float64(want) / at.Sub(t0).Seconds()
	recv.mu.Lock()
	m["fanout.received"] = float64(recv.total)
	recv.mu.Unlock()
	during := recv.ArrivedBefore(written)
	b.vlogf("fan-out %.0f deliveries/s (%d deliveries, events written in %.2fs, %d of them "+
		"delivered by then, the rest in %.2fs)", m["fanout.rate"], want, m["fanout.events"],
		during, at.Sub(written).Seconds())
	return nil
}

// checkLog opens the stopped Herald's database and counts the attempts
// logged for the fan-out webhooks, and their succeeded deliveries.
func (b *bench) checkLog(ctx context.Context, m metrics, dataDir string) error {
	db, err := content.OpenDB(ctx, "", dataDir)
	if err != nil {
		return err
	}
	defer db.Close()
	var attempts, succeeded int64
	err = db.Read.WithContext(ctx).Raw(`SELECT count(*) FROM webhook_attempts WHERE delivery_id IN
		(SELECT id FROM webhook_deliveries WHERE webhook_id IN ?)`, b.fanOutHooks).
		Scan(&attempts).Error
	if err != nil {
		return fmt.Errorf("count attempts: %w", err)
	}
	err = db.Read.WithContext(ctx).Raw(`SELECT count(*) FROM webhook_deliveries
		WHERE webhook_id IN ? AND status = 'succeeded'`, b.fanOutHooks).Scan(&succeeded).Error
	if err != nil {
		return fmt.Errorf("count deliveries: %w", err)
	}
	m["fanout.logged"] = float64(attempts)
	m["fanout.succeeded"] = float64(succeeded)
	return nil
}

// growthScenarios starts Herald on a data set of n articles seeded directly
// into its database, times its start-up, and measures list and filter.
func (b *bench) growthScenarios(ctx context.Context, m metrics, n int, dataDir,
	runDir string) error {
	suffix := fmt.Sprintf("@%d", n)
	p, err := startHerald(b.cfg.herald, dataDir, filepath.Join(runDir, "herald"+suffix+".log"))
	if err != nil {
		return err
	}
	defer p.Stop()
	m["startup"+suffix] = ms(p.Startup)
	b.vlogf("start-up with %d articles: %.1f ms", n, m["startup"+suffix])
	c := newClient(p.addr)
	defer c.http.CloseIdleConnections()
	if _, _, err := setUp(ctx, c, false); err != nil {
		return err
	}
	return b.readScenarios(ctx, m, p, c, runDir, suffix)
}
