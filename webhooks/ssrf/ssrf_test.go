package ssrf_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-cms/herald/webhooks/ssrf"
)

func TestRefusedAddresses(t *testing.T) {
	tests := []struct {
		addr    string
		refused bool
	}{
		// 0.0.0.0/8
		{"0.0.0.0", true}, {"0.255.255.255", true}, {"1.0.0.1", false},
		// 10.0.0.0/8
		{"9.255.255.255", false}, {"10.0.0.0", true}, {"10.255.255.255", true},
		{"11.0.0.0", false},
		// 100.64.0.0/10
		{"100.63.255.255", false}, {"100.64.0.0", true}, {"100.127.255.255", true},
		{"100.128.0.0", false},
		// 127.0.0.0/8
		{"126.255.255.255", false}, {"127.0.0.1", true}, {"127.255.255.255", true},
		{"128.0.0.0", false},
		// 169.254.0.0/16
		{"169.253.255.255", false}, {"169.254.0.0", true}, {"169.254.169.254", true},
		{"169.255.0.0", false},
		// 172.16.0.0/12
		{"172.15.255.255", false}, {"172.16.0.0", true}, {"172.31.255.255", true},
		{"172.32.0.0", false},
		// 192.168.0.0/16
		{"192.167.255.255", false}, {"192.168.0.0", true}, {"192.168.255.255", true},
		{"192.169.0.0", false},
		// 198.18.0.0/15
		{"198.17.255.255", false}, {"198.18.0.0", true}, {"198.19.255.255", true},
		{"198.20.0.0", false},
		// 224.0.0.0/4 and everything above
		{"223.255.255.255", false}, {"224.0.0.0", true}, {"239.255.255.255", true},
		{"240.0.0.1", true}, {"255.255.255.255", true},
		// IPv4 extras: IETF protocol assignments, documentation
		{"192.0.0.170", true}, {"192.0.1.1", false}, {"192.0.2.1", true},
		{"198.51.100.7", true}, {"203.0.113.9", true}, {"203.0.114.0", false},
		// public IPv4
		{"8.8.8.8", false}, {"1.1.1.1", false}, {"93.184.216.34", false},

		// IPv6
		{"::", true}, {"::1", true}, {"::2", true}, {"::8.8.8.8", true},
		{"fc00::1", true}, {"fdff:ffff:ffff:ffff::1", true}, {"fbff:ffff::1", false},
		{"fe80::1", true}, {"fe80::1%eth0", true}, {"febf:ffff::1", true},
		{"fec0::1", true}, {"ff02::1", true}, {"ff0e::101", true},
		{"2001:db8::1", true}, {"2001:db9::1", false},
		{"100::1", true}, {"100:0:0:1::1", false},
		{"2001::1", true}, {"2001:2::1", true},
		{"2606:4700:4700::1111", false}, {"2001:4860:4860::8888", false},
		// IPv4-mapped and IPv4-translated forms
		{"::ffff:127.0.0.1", true}, {"::ffff:10.0.0.1", true},
		{"::ffff:169.254.169.254", true}, {"::ffff:0.0.0.0", true},
		{"::ffff:255.255.255.255", true}, {"::ffff:8.8.8.8", false},
		{"::ffff:0:10.0.0.1", true}, {"::ffff:0:8.8.8.8", false},
		// NAT64
		{"64:ff9b::127.0.0.1", true}, {"64:ff9b::a00:1", true},
		{"64:ff9b::8.8.8.8", false}, {"64:ff9b:1::8.8.8.8", true},
		// 6to4
		{"2002:7f00:1::", true}, {"2002:c0a8:101::1", true}, {"2002:808:808::1", false},
	}
	var g ssrf.Guard
	for _, tt := range tests {
		addr := netip.MustParseAddr(tt.addr)
		if got := g.Refused(addr); got != tt.refused {
			t.Errorf("Refused(%s) = %v, want %v", tt.addr, got, tt.refused)
		}
	}
	if !g.Refused(netip.Addr{}) {
		t.Error("the zero Addr is not refused")
	}
}

func TestAllowedNetworksOpenRefusedRanges(t *testing.T) {
	allowed, err := ssrf.ParseNetworks("127.0.0.0/8, ::1/128,10.1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	g := ssrf.Guard{Allowed: allowed}
	tests := []struct {
		addr    string
		refused bool
	}{
		{"127.0.0.1", false}, {"127.9.9.9", false}, {"::1", false},
		{"::ffff:127.0.0.1", false}, {"64:ff9b::127.0.0.1", false},
		{"10.1.2.3", false}, {"10.1.2.4", true}, {"::ffff:10.1.2.4", true},
		{"192.168.1.1", true}, {"169.254.169.254", true}, {"::", true},
		{"8.8.8.8", false},
	}
	for _, tt := range tests {
		if got := g.Refused(netip.MustParseAddr(tt.addr)); got != tt.refused {
			t.Errorf("Refused(%s) with %v = %v, want %v", tt.addr, allowed, got, tt.refused)
		}
	}
}

func TestParseNetworks(t *testing.T) {
	got, err := ssrf.ParseNetworks(" 127.0.0.0/8,::1/128,10.1.2.3,,fd00::/8 ,192.168.7.9/16,")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"127.0.0.0/8", "::1/128", "10.1.2.3/32", "fd00::/8", "192.168.0.0/16"}
	if len(got) != len(want) {
		t.Fatalf("ParseNetworks = %v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("item %d = %s, want %s", i, got[i], want[i])
		}
	}

	if got, err := ssrf.ParseNetworks(""); err != nil || len(got) != 0 {
		t.Errorf("ParseNetworks(\"\") = %v, %v; want none", got, err)
	}

	bads := []string{"localhost", "10.0.0.0/33", "10.0.0/8", "::1/129", "fe80::1%eth0", "1.2.3.4/x"}
	for _, bad := range bads {
		_, err := ssrf.ParseNetworks("127.0.0.1," + bad)
		if err == nil {
			t.Errorf("ParseNetworks(%q) succeeded", bad)
			continue
		}
		if !strings.Contains(err.Error(), bad) {
			t.Errorf("error %q does not name %q", err, bad)
		}
	}
}

func TestCheckURL(t *testing.T) {
	dns := fakeDNS{
		"hooks.example.com": {"93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"},
		"internal.example":  {"10.0.0.5"},
		"mixed.example":     {"8.8.8.8", "127.0.0.1"},
		"metadata.example":  {"::ffff:169.254.169.254"},
		"nat64.example":     {"64:ff9b::a00:5"},
	}
	tests := []struct {
		url     string
		allowed string
		want    error  // nil, ssrf.ErrInvalidURL or ssrf.ErrRefused
		message string // a fragment the error must contain
	}{
		{url: "https://hooks.example.com/strapi?x=1", want: nil},
		{url: "HTTPS://hooks.example.com", want: nil},
		{url: "http://hooks.example.com:8080/", want: nil},
		{url: "https://nxdomain.example/hook", want: nil},
		{url: "https://servfail.example/hook", want: nil},
		{url: "http://8.8.8.8/hook", want: nil},
		{url: "http://[2606:4700:4700::1111]:443/", want: nil},
		{
			url:  "http://10.0.0.5/hook",
			want: ssrf.ErrRefused,
			message: "webhook URL host 10.0.0.5 is a private address (10.0.0.0/8); " +
				"set HERALD_WEBHOOK_ALLOWED_NETWORKS to allow it",
		},
		{url: "http://10.0.0.5/hook", allowed: "10.0.0.0/8", want: nil},
		{url: "http://127.0.0.1:1337/", want: ssrf.ErrRefused, message: "loopback"},
		{url: "http://169.254.169.254/latest/", want: ssrf.ErrRefused, message: "169.254.0.0/16"},
		{url: "http://0.0.0.0/", want: ssrf.ErrRefused},
		{url: "http://[::1]:8080/", want: ssrf.ErrRefused, message: "::1/128"},
		{url: "http://[::]/", want: ssrf.ErrRefused},
		{url: "http://[::ffff:127.0.0.1]/", want: ssrf.ErrRefused, message: "maps to 127.0.0.1"},
		{url: "http://[fe80::1%25eth0]/", want: ssrf.ErrRefused, message: "link-local"},
		{url: "http://[fd12:3456::1]/", want: ssrf.ErrRefused, message: "fc00::/7"},
		{
			url:  "http://internal.example/hook",
			want: ssrf.ErrRefused,
			message: "webhook URL host internal.example resolves to 10.0.0.5, " +
				"which is a private address (10.0.0.0/8); set HERALD_WEBHOOK_ALLOWED_NETWORKS",
		},
		{url: "http://internal.example/hook", allowed: "10.0.0.5", want: nil},
		{url: "https://mixed.example/", want: ssrf.ErrRefused, message: "127.0.0.1"},
		{url: "https://metadata.example/", want: ssrf.ErrRefused, message: "169.254.169.254"},
		{url: "https://nat64.example/", want: ssrf.ErrRefused, message: "maps to 10.0.0.5"},

		{url: "", want: ssrf.ErrInvalidURL, message: "absolute"},
		{url: "hooks.example.com/hook", want: ssrf.ErrInvalidURL, message: "absolute"},
		{url: "/relative/path", want: ssrf.ErrInvalidURL},
		{url: "ftp://hooks.example.com/", want: ssrf.ErrInvalidURL, message: `"ftp"`},
		{url: "file:///etc/passwd", want: ssrf.ErrInvalidURL},
		{url: "javascript:alert(1)", want: ssrf.ErrInvalidURL},
		{url: "http:hooks.example.com", want: ssrf.ErrInvalidURL, message: "no host"},
		{url: "http://", want: ssrf.ErrInvalidURL, message: "no host"},
		{url: "http:///path", want: ssrf.ErrInvalidURL, message: "no host"},
		{url: "http://:8080/", want: ssrf.ErrInvalidURL, message: "no host"},
		{url: "https://user:pass@hooks.example.com/", want: ssrf.ErrInvalidURL, message: "password"},
		{url: "https://user@hooks.example.com/", want: ssrf.ErrInvalidURL},
		{url: "https://hooks.example.com:0/", want: ssrf.ErrInvalidURL, message: "port"},
		{url: "https://hooks.example.com:65536/", want: ssrf.ErrInvalidURL, message: "port"},
		{url: "https://hooks.example.com:http/", want: ssrf.ErrInvalidURL},
		{url: "http://2130706433/", want: ssrf.ErrInvalidURL, message: "non-standard"},
		{url: "http://0x7f000001/", want: ssrf.ErrInvalidURL, message: "non-standard"},
		{url: "http://127.1/", want: ssrf.ErrInvalidURL, message: "non-standard"},
		{url: "http://0177.0.0.1/", want: ssrf.ErrInvalidURL, message: "non-standard"},
		{url: "http://10.0.0.5./", want: ssrf.ErrInvalidURL, message: "non-standard"},
		{url: " http://hooks.example.com", want: ssrf.ErrInvalidURL},
		{url: "http://hooks example.com/", want: ssrf.ErrInvalidURL},
		{url: "http://[::1/", want: ssrf.ErrInvalidURL},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			allowed, err := ssrf.ParseNetworks(tt.allowed)
			if err != nil {
				t.Fatal(err)
			}
			g := ssrf.Guard{Allowed: allowed, Resolver: dns}
			err = g.CheckURL(context.Background(), tt.url)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("CheckURL: %v, want success", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("CheckURL: %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Fatalf("CheckURL: %q does not contain %q", err, tt.message)
			}
		})
	}
}

func TestCheckURLStopsWhenContextEnds(t *testing.T) {
	g := ssrf.Guard{Resolver: blockingDNS{}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := g.CheckURL(ctx, "https://slow.example/"); !errors.Is(err, context.Canceled) {
		t.Fatalf("CheckURL with cancelled context: %v, want context.Canceled", err)
	}
}

func TestDialContextRefusesRebindingName(t *testing.T) {
	ln, port := listen(t)
	defer ln.Close()

	// The name looked public when the webhook was saved; at send time it
	// answers with loopback.
	dns := &switchingDNS{answers: [][]string{{"93.184.216.34"}, {"127.0.0.1"}}}
	g := ssrf.Guard{Resolver: dns}
	if err := g.CheckURL(context.Background(), "http://rebind.example/"); err != nil {
		t.Fatalf("CheckURL at save time: %v", err)
	}
	conn, err := g.DialContext(context.Background(), "tcp", "rebind.example:"+port)
	if err == nil {
		conn.Close()
		t.Fatal("DialContext reached loopback through a rebinding name")
	}
	if !errors.Is(err, ssrf.ErrRefused) {
		t.Fatalf("DialContext: %v, want ErrRefused", err)
	}
	if !strings.Contains(err.Error(), "resolves to 127.0.0.1") {
		t.Errorf("DialContext error %q does not name the address", err)
	}
}

func TestDialContextConnectsToCheckedAddress(t *testing.T) {
	ln, port := listen(t)
	defer ln.Close()
	accepted := make(chan struct{}, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- struct{}{}
			c.Close()
		}
	}()

	// Every later lookup would answer with a refused address: the dial must
	// use the first answer, not resolve again.
	dns := &switchingDNS{answers: [][]string{{"127.0.0.1"}, {"10.9.9.9"}}}
	g := ssrf.Guard{Allowed: mustNetworks(t, "127.0.0.0/8"), Resolver: dns}
	conn, err := g.DialContext(context.Background(), "tcp", "rebind.example:"+port)
	if err != nil {
		t.Fatalf("DialContext with loopback allowed: %v", err)
	}
	conn.Close()
	select {
	case <-accepted:
	case <-time.After(5 * time.Second):
		t.Fatal("listener never saw the connection")
	}
	if n := dns.calls(); n != 1 {
		t.Errorf("resolver called %d times, want 1", n)
	}
}

func TestDialContextChecksEveryAddress(t *testing.T) {
	ln, port := listen(t)
	defer ln.Close()
	tests := []struct {
		name    string
		network string
		addr    string
		answer  []string
		allowed string
		want    error
	}{
		{name: "all allowed", network: "tcp", addr: "a.example:" + port,
			answer: []string{"127.0.0.1", "::1"}, allowed: "127.0.0.0/8,::1/128"},
		{name: "one refused among allowed", network: "tcp", addr: "a.example:" + port,
			answer: []string{"127.0.0.1", "10.0.0.1"}, allowed: "127.0.0.0/8", want: ssrf.ErrRefused},
		{name: "refused v6 answer on tcp4", network: "tcp4", addr: "a.example:" + port,
			answer: []string{"127.0.0.1", "::1"}, allowed: "127.0.0.0/8", want: ssrf.ErrRefused},
		{name: "mapped loopback", network: "tcp", addr: "a.example:" + port,
			answer: []string{"::ffff:127.0.0.1"}, want: ssrf.ErrRefused},
		{name: "mapped loopback allowed", network: "tcp", addr: "a.example:" + port,
			answer: []string{"::ffff:127.0.0.1"}, allowed: "127.0.0.0/8"},
		{name: "literal loopback", network: "tcp", addr: "127.0.0.1:" + port, want: ssrf.ErrRefused},
		{name: "literal loopback allowed", network: "tcp", addr: "127.0.0.1:" + port,
			allowed: "127.0.0.1"},
		{name: "literal metadata", network: "tcp", addr: "169.254.169.254:80", want: ssrf.ErrRefused},
		{name: "literal v6 loopback", network: "tcp", addr: "[::1]:" + port, want: ssrf.ErrRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := ssrf.Guard{
				Allowed:     mustNetworks(t, tt.allowed),
				Resolver:    fakeDNS{"a.example": tt.answer},
				DialTimeout: 2 * time.Second,
			}
			conn, err := g.DialContext(context.Background(), tt.network, tt.addr)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("DialContext: %v", err)
				}
				conn.Close()
				return
			}
			if err == nil {
				conn.Close()
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("DialContext: %v, want %v", err, tt.want)
			}
		})
	}
}

func TestDialContextRejectsOddInput(t *testing.T) {
	g := ssrf.Guard{Resolver: fakeDNS{}}
	for _, c := range []struct{ network, addr string }{
		{"udp", "8.8.8.8:53"},
		{"unix", "/tmp/socket"},
		{"tcp", "no-port.example"},
		{"tcp", "a.example:99999"},
		{"tcp", "nxdomain.example:80"},
	} {
		conn, err := g.DialContext(context.Background(), c.network, c.addr)
		if err == nil {
			conn.Close()
			t.Errorf("DialContext(%s, %s) succeeded", c.network, c.addr)
		}
	}
}

func TestClientReachesServerOnlyWhenAllowed(t *testing.T) {
	var finalHits sync.Map
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/redirect":
			http.Redirect(w, r, "/final", http.StatusFound)
		case "/metadata":
			http.Redirect(w, r, "http://169.254.169.254/latest/", http.StatusTemporaryRedirect)
		case "/final":
			finalHits.Store(r.URL.Path, true)
			fmt.Fprint(w, "final")
		default:
			fmt.Fprint(w, "hello")
		}
	}))
	defer srv.Close()
	// A proxy in the environment must not be used: it would dial for us.
	t.Setenv("HTTP_PROXY", "http://192.0.2.1:3128")
	t.Setenv("http_proxy", "http://192.0.2.1:3128")

	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	byName := "http://receiver.example:" + u.Port()
	dns := fakeDNS{"receiver.example": {"127.0.0.1"}}

	open := ssrf.Guard{Allowed: mustNetworks(t, "127.0.0.0/8"), Resolver: dns}
	client := open.Client(5 * time.Second)
	for _, target := range []string{srv.URL, byName} {
		body, status := get(t, client, target+"/")
		if status != http.StatusOK || body != "hello" {
			t.Errorf("GET %s = %d %q, want 200 hello", target, status, body)
		}
	}

	for _, path := range []string{"/redirect", "/metadata"} {
		_, status := get(t, client, srv.URL+path)
		if status != http.StatusFound && status != http.StatusTemporaryRedirect {
			t.Errorf("GET %s = %d, want the redirect itself", path, status)
		}
	}
	if _, hit := finalHits.Load("/final"); hit {
		t.Error("the client followed a redirect")
	}

	closed := ssrf.Guard{Resolver: dns}
	client = closed.Client(5 * time.Second)
	for _, target := range []string{srv.URL, byName} {
		resp, err := client.Get(target + "/")
		if err == nil {
			resp.Body.Close()
			t.Fatalf("GET %s succeeded with loopback refused", target)
		}
		if !errors.Is(err, ssrf.ErrRefused) {
			t.Errorf("GET %s: %v, want ErrRefused", target, err)
		}
	}
}

func TestTransportUsesNoProxy(t *testing.T) {
	var g ssrf.Guard
	tr := g.Transport()
	if tr.Proxy != nil {
		t.Error("Transport has a proxy function")
	}
	if tr.DialContext == nil {
		t.Error("Transport has no DialContext")
	}
	c := g.Client(3 * time.Second)
	if c.Timeout != 3*time.Second || c.CheckRedirect == nil {
		t.Errorf("Client: timeout %s, CheckRedirect set %v", c.Timeout, c.CheckRedirect != nil)
	}
}

// fakeDNS answers from a map; other names do not exist, except
// "servfail.example", which fails in another way.
type fakeDNS map[string][]string

func (f fakeDNS) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if host == "servfail.example" {
		return nil, &net.DNSError{Err: "server misbehaving", Name: host, IsTemporary: true}
	}
	answer, ok := f[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	addrs := make([]netip.Addr, 0, len(answer))
	for _, a := range answer {
		addrs = append(addrs, netip.MustParseAddr(a))
	}
	return addrs, nil
}

// switchingDNS answers each lookup with the next answer, repeating the last.
type switchingDNS struct {
	mu      sync.Mutex
	n       int
	answers [][]string
}

func (s *switchingDNS) LookupNetIP(
	ctx context.Context, network, host string,
) ([]netip.Addr, error) {
	s.mu.Lock()
	answer := s.answers[min(s.n, len(s.answers)-1)]
	s.n++
	s.mu.Unlock()
	return fakeDNS{host: answer}.LookupNetIP(ctx, network, host)
}

func (s *switchingDNS) calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// blockingDNS waits for the context to end.
type blockingDNS struct{}

func (blockingDNS) LookupNetIP(ctx context.Context, _, _ string) ([]netip.Addr, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func listen(tb testing.TB) (net.Listener, string) {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return ln, port
}

func mustNetworks(tb testing.TB, list string) []netip.Prefix {
	tb.Helper()
	p, err := ssrf.ParseNetworks(list)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func get(tb testing.TB, c *http.Client, target string) (string, int) {
	tb.Helper()
	resp, err := c.Get(target)
	if err != nil {
		tb.Fatalf("GET %s: %v", target, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return string(body), resp.StatusCode
}
