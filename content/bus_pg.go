package content

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Timings of the PostgreSQL bus.
const (
	// busHealthInterval is how long the listener waits for a notice before
	// it pings its connection, so a connection that died silently is
	// noticed and replaced.
	busHealthInterval = 30 * time.Second
	// busPingTimeout bounds that ping and each reconnection attempt.
	busPingTimeout = 5 * time.Second
	// busRetryMin and busRetryMax bound the wait between reconnection or
	// send attempts, doubled after each failure.
	busRetryMin = 100 * time.Millisecond
	busRetryMax = 5 * time.Second
	// busFlushTimeout bounds sending the notices still queued at Close.
	busFlushTimeout = 2 * time.Second
	// busMaxMessage keeps a NOTIFY payload under PostgreSQL's limit of
	// 8000 bytes.
	busMaxMessage = 7000
)

// notice is one change notice.
type notice struct {
	Topic   string
	Payload string
}

// busMessage is the NOTIFY payload: the sending bus and its notices, as
// [topic, payload] pairs.
type busMessage struct {
	From    string      `json:"f"`
	Notices [][2]string `json:"n"`
}

// PGBus is a Bus over PostgreSQL LISTEN/NOTIFY, shared by every Herald
// instance on the same database and schema.
//
// Publish calls this instance's subscribers at once and queues the notice;
// a background sender NOTIFYs queued notices through the connection pool,
// several per message and each distinct notice once while it waits, so a
// burst of changes costs few round trips. A dedicated connection LISTENs
// and hands notices from other instances to the subscribers; notices this
// bus sent itself are not delivered twice.
//
// When the listening connection is lost, the bus reconnects with backoff
// and then delivers an empty payload on every subscribed topic, meaning
// "anything may have changed while notices could not arrive", so that
// subscribers reload. Use OpenDB, which starts the bus for a postgres://
// URL and stops it in DB.Close.
type PGBus struct {
	local   *LocalBus
	id      string
	channel string
	config  *pgx.ConnConfig
	pool    *sql.DB
	log     atomic.Pointer[slog.Logger]

	mu     sync.Mutex
	topics map[string]bool
	queue  []notice
	queued map[notice]bool
	closed bool
	kick   chan struct{}

	// pid is the listening connection's backend process id, 0 while
	// disconnected.
	pid atomic.Uint32

	stop context.CancelFunc
	wg   sync.WaitGroup
}

// startPGBus connects the listener of a bus on the database dbURL names,
// with notices sent through pool, and starts its background work. Notices
// travel on a channel named after the schema, so schemas sharing a
// database never hear each other.
func startPGBus(ctx context.Context, dbURL string, pool *sql.DB) (*PGBus, error) {
	config, err := pgx.ParseConfig(dbURL)
	if err != nil {
		return nil, fmt.Errorf("bus: parse database URL: %w", err)
	}
	var schemaName sql.NullString
	if err := pool.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schemaName); err != nil {
		return nil, fmt.Errorf("bus: read the current schema: %w", err)
	}
	b := &PGBus{
		local:   NewLocalBus(),
		id:      newBusID(),
		channel: busChannel(schemaName.String),
		config:  config,
		pool:    pool,
		topics:  map[string]bool{},
		queued:  map[notice]bool{},
		kick:    make(chan struct{}, 1),
	}
	b.log.Store(slog.Default())

	conn, err := b.connect(ctx)
	if err != nil {
		return nil, err
	}
	runCtx, stop := context.WithCancel(context.Background())
	b.stop = stop
	b.wg.Add(2)
	go b.listen(runCtx, conn)
	go b.send(runCtx)
	return b, nil
}

func newBusID() string {
	var r [8]byte
	_, _ = rand.Read(r[:])
	return hex.EncodeToString(r[:])
}

// busChannel names the NOTIFY channel of a schema. PostgreSQL channel
// names are identifiers of at most 63 bytes; a longer schema name is
// hashed.
func busChannel(schemaName string) string {
	ch := "herald:" + schemaName
	if len(ch) > 63 {
		sum := sha256.Sum256([]byte(schemaName))
		ch = "herald:" + hex.EncodeToString(sum[:16])
	}
	return ch
}

// SetLogger sets where the bus reports lost connections and failed sends;
// slog.Default() until then.
func (b *PGBus) SetLogger(l *slog.Logger) {
	if l != nil {
		b.log.Store(l)
	}
}

// Publish calls this instance's subscribers of topic, then queues the
// notice for the other instances. It does not wait for the database, and
// never fails: a notice that cannot be sent is retried until Close.
func (b *PGBus) Publish(_ context.Context, topic, payload string) {
	b.local.Deliver(topic, payload)
	n := notice{Topic: topic, Payload: payload}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed || b.queued[n] {
		return
	}
	b.queued[n] = true
	b.queue = append(b.queue, n)
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// Subscribe calls fn for every notice on topic, from this instance or
// another one, and with an empty payload after the bus reconnected.
func (b *PGBus) Subscribe(topic string, fn func(payload string)) {
	b.mu.Lock()
	b.topics[topic] = true
	b.mu.Unlock()
	b.local.Subscribe(topic, fn)
}

// Close stops listening, sends the notices still queued (waiting at most
// two seconds), and returns when the bus's goroutines have ended. It does
// not close the pool. Publish after Close still reaches this instance's
// subscribers.
func (b *PGBus) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	b.mu.Unlock()
	b.stop()
	b.wg.Wait()
	return nil
}

func (b *PGBus) logger() *slog.Logger { return b.log.Load() }

// connect opens a listening connection.
func (b *PGBus) connect(ctx context.Context) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, busPingTimeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, b.config)
	if err != nil {
		return nil, fmt.Errorf("bus: connect: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{b.channel}.Sanitize()); err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("bus: listen on %s: %w", b.channel, err)
	}
	b.pid.Store(conn.PgConn().PID())
	return conn, nil
}

// listen receives notices until ctx ends, replacing the connection when it
// fails.
func (b *PGBus) listen(ctx context.Context, conn *pgx.Conn) {
	defer b.wg.Done()
	for {
		err := b.receive(ctx, conn)
		b.pid.Store(0)
		closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn.Close(closeCtx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		b.logger().WarnContext(ctx, "change notices: lost the PostgreSQL listener; reconnecting",
			"error", err)
		if conn = b.reconnect(ctx); conn == nil {
			return
		}
		b.logger().InfoContext(ctx, "change notices: listening again")
		b.resync()
	}
}

// receive hands each notice on conn to the subscribers until the
// connection fails or ctx ends. A connection idle for busHealthInterval is
// pinged.
func (b *PGBus) receive(ctx context.Context, conn *pgx.Conn) error {
	for {
		waitCtx, cancel := context.WithTimeout(ctx, busHealthInterval)
		n, err := conn.WaitForNotification(waitCtx)
		cancel()
		switch {
		case err == nil:
			b.deliver(n.Payload)
		case ctx.Err() != nil:
			return ctx.Err()
		case pgconn.Timeout(err) && !conn.IsClosed():
			pingCtx, cancel := context.WithTimeout(ctx, busPingTimeout)
			err = conn.Ping(pingCtx)
			cancel()
			if err != nil {
				return fmt.Errorf("ping: %w", err)
			}
		default:
			return err
		}
	}
}

// reconnect tries to listen again, waiting longer after each failure, until
// it succeeds or ctx ends (then it returns nil).
func (b *PGBus) reconnect(ctx context.Context) *pgx.Conn {
	wait := busRetryMin
	for {
		if !sleep(ctx, wait) {
			return nil
		}
		conn, err := b.connect(ctx)
		if err == nil {
			return conn
		}
		if ctx.Err() != nil {
			return nil
		}
		b.logger().WarnContext(ctx, "change notices: reconnect failed", "error", err,
			"retry_in_ms", (2 * wait).Milliseconds())
		wait = min(2*wait, busRetryMax)
	}
}

// deliver hands the notices of one NOTIFY payload to the subscribers,
// unless this bus sent them.
func (b *PGBus) deliver(payload string) {
	var m busMessage
	if err := json.Unmarshal([]byte(payload), &m); err != nil {
		b.logger().Warn("change notices: ignoring a malformed notice", "error", err)
		return
	}
	if m.From == b.id {
		return
	}
	for _, n := range m.Notices {
		b.local.Deliver(n[0], n[1])
	}
}

// resync tells every subscriber that anything may have changed.
func (b *PGBus) resync() {
	b.mu.Lock()
	topics := make([]string, 0, len(b.topics))
	for t := range b.topics {
		topics = append(topics, t)
	}
	b.mu.Unlock()
	for _, t := range topics {
		b.local.Deliver(t, "")
	}
}

// send NOTIFYs queued notices until ctx ends, then flushes what is left.
func (b *PGBus) send(ctx context.Context) {
	defer b.wg.Done()
	wait := busRetryMin
	for {
		select {
		case <-ctx.Done():
			b.flush()
			return
		case <-b.kick:
		}
		for {
			msg, batch := b.take()
			if batch == nil {
				break
			}
			if err := b.notify(ctx, msg); err != nil {
				b.putBack(batch)
				if ctx.Err() != nil {
					break
				}
				b.logger().WarnContext(ctx, "change notices: send failed", "error", err,
					"retry_in_ms", wait.Milliseconds())
				sleep(ctx, wait)
				wait = min(2*wait, busRetryMax)
				continue
			}
			wait = busRetryMin
		}
	}
}

// flush sends what is still queued, once, within busFlushTimeout.
func (b *PGBus) flush() {
	ctx, cancel := context.WithTimeout(context.Background(), busFlushTimeout)
	defer cancel()
	for {
		msg, batch := b.take()
		if batch == nil {
			return
		}
		if err := b.notify(ctx, msg); err != nil {
			b.logger().Warn("change notices: dropped at close", "error", err, "count", len(batch))
			return
		}
	}
}

// take removes from the queue as many notices as fit in one message and
// returns the message, or a nil batch when the queue is empty. A notice too
// large for a message on its own goes out with an empty payload, which
// subscribers read as "anything may have changed".
func (b *PGBus) take() (string, []notice) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.queue) == 0 {
		return "", nil
	}
	m := busMessage{From: b.id}
	size := len(b.id) + 16
	n := 0
	for _, q := range b.queue {
		cost := len(q.Topic) + len(q.Payload) + 8
		if cost > busMaxMessage/2 {
			q.Payload = ""
			cost = len(q.Topic) + 8
		}
		if n > 0 && size+cost > busMaxMessage {
			break
		}
		m.Notices = append(m.Notices, [2]string{q.Topic, q.Payload})
		size += cost
		n++
	}
	batch := b.queue[:n:n]
	b.queue = b.queue[n:]
	for _, q := range batch {
		delete(b.queued, q)
	}
	data, err := json.Marshal(m)
	if err != nil || len(data) >= 8000 {
		// Escaping made the message too long: send the topics alone.
		for i := range m.Notices {
			m.Notices[i][1] = ""
		}
		data, _ = json.Marshal(m)
	}
	return string(data), batch
}

// putBack queues a batch that could not be sent again, ahead of newer
// notices.
func (b *PGBus) putBack(batch []notice) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var keep []notice
	for _, n := range batch {
		if !b.queued[n] {
			b.queued[n] = true
			keep = append(keep, n)
		}
	}
	b.queue = append(keep, b.queue...)
}

// notify sends one message to every listening instance.
func (b *PGBus) notify(ctx context.Context, msg string) error {
	_, err := b.pool.ExecContext(ctx, "SELECT pg_notify($1, $2)", b.channel, msg)
	if err != nil {
		return fmt.Errorf("notify %s: %w", b.channel, err)
	}
	return nil
}

// sleep waits for d or until ctx ends, and reports whether it waited the
// whole time.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
