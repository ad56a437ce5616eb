package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"
)

// headerList collects repeated -H flags.
type headerList []string

func (h *headerList) String() string     { return strings.Join(*h, ", ") }
func (h *headerList) Set(v string) error { *h = append(*h, v); return nil }

// loadCommand is `bench load`: one GET scenario against any server, for
// profiling Herald by hand.
func loadCommand(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	target := fs.String("url", "", "URL to GET, such as http://127.0.0.1:1337/api/articles")
	conns := fs.Int("c", 32, "connections")
	d := fs.Duration("d", 10*time.Second, "duration")
	create := fs.String("create", "", "instead of GET, POST new articles to -url with this "+
		"API token")
	var headers headerList
	fs.Var(&headers, "H", "request header (repeatable), such as 'Cache-Control: no-cache'")
	if err := fs.Parse(args); err != nil {
		return err
	}
	u, err := url.Parse(*target)
	if err != nil || u.Host == "" {
		return fmt.Errorf("-url: want http://host:port/path, got %q", *target)
	}
	next, want := fixed(getRequest(u.Host, u.RequestURI(), headers...)), 200
	if *create != "" {
		base := int(time.Now().UnixNano() % 1_000_000_000)
		next, want = func(w, n int, buf []byte) []byte {
			body, _ := json.Marshal(map[string]any{"data": makeArticle(base + w*1_000_000 + n)})
			return postRequest(buf, u.Host, u.RequestURI(), *create, body)
		}, 201
	}
	r := load(ctx, u.Host, *conns, 0, *d, want, next)
	fmt.Fprintf(os.Stdout, "%.0f req/s, p50 %.2f ms, p99 %.2f ms, %d errors %s\n", r.Rate(),
		ms(r.Percentile(50)), ms(r.Percentile(99)), r.Errors, r.FirstError)
	return nil
}
