// Package ssrf keeps webhook deliveries away from addresses that are not on
// the public internet: loopback, private networks, link-local (where cloud
// metadata services answer), multicast and other special ranges.
//
// The check runs twice. CheckURL runs when a webhook is saved and refuses
// literal addresses and host names that already resolve to a refused
// address. DialContext runs on every connection: it resolves the name once,
// checks every address it got, and connects to the checked address itself, so
// a name whose DNS answer changes after the save (DNS rebinding) is still
// refused. Administrators open chosen ranges with Guard.Allowed, which Herald
// fills from HERALD_WEBHOOK_ALLOWED_NETWORKS.
//
// Refused ranges: 0.0.0.0/8, 10.0.0.0/8, 100.64.0.0/10, 127.0.0.0/8,
// 169.254.0.0/16, 172.16.0.0/12, 192.0.0.0/24, 192.0.2.0/24, 192.168.0.0/16,
// 198.18.0.0/15, 198.51.100.0/24, 203.0.113.0/24, 224.0.0.0/4, 240.0.0.0/4;
// ::/128, ::1/128, ::/96, 64:ff9b:1::/48, 100::/64, 2001::/32, 2001:2::/48,
// 2001:db8::/32, fc00::/7, fe80::/10, fec0::/10, ff00::/8. IPv6 addresses
// that carry an IPv4 address (IPv4-mapped ::ffff:0:0/96, IPv4-translated
// ::ffff:0:0:0/96, NAT64 64:ff9b::/96 and 6to4 2002::/16) are judged by the
// IPv4 address inside them.
package ssrf

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// AllowSetting is the setting that fills Guard.Allowed; refusals name it.
const AllowSetting = "HERALD_WEBHOOK_ALLOWED_NETWORKS"

// DefaultDialTimeout bounds name resolution and each connection attempt when
// Guard.DialTimeout is zero.
const DefaultDialTimeout = 5 * time.Second

var (
	// ErrRefused is wrapped by every error that refuses a destination
	// because of its address.
	ErrRefused = errors.New("webhook destination refused")
	// ErrInvalidURL is wrapped by CheckURL's errors about the URL's form.
	ErrInvalidURL = errors.New("invalid webhook URL")
)

// Resolver looks up a host's addresses. *net.Resolver satisfies it; tests
// supply fakes.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Guard decides which addresses webhooks may reach and dials only those. The
// zero value refuses every special range and uses the system resolver. A
// Guard must not be changed once in use; it is then safe for concurrent use.
type Guard struct {
	// Allowed lists networks reachable even though they lie in a refused
	// range (for local development and tests).
	Allowed []netip.Prefix
	// Resolver resolves host names; nil means net.DefaultResolver.
	Resolver Resolver
	// DialTimeout bounds name resolution and each connection attempt;
	// zero means DefaultDialTimeout.
	DialTimeout time.Duration
}

// ParseNetworks parses a comma-separated list of CIDR prefixes and bare
// addresses ("127.0.0.0/8,::1/128,10.1.2.3"); a bare address stands for
// itself alone (/32 or /128). Blank items are skipped. The error names the
// first item that is neither.
func ParseNetworks(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		p, err := parseNetwork(item)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func parseNetwork(item string) (netip.Prefix, error) {
	if strings.Contains(item, "/") {
		p, err := netip.ParsePrefix(item)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("network %q is not a CIDR prefix such as 10.0.0.0/8",
				item)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(item)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("network %q is neither an IP address nor a CIDR prefix",
			item)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Refused reports whether addr lies in a refused range that no Allowed
// prefix opens. An IPv6 address carrying an IPv4 one is judged by the IPv4
// address, and an Allowed prefix matching either form opens it. The invalid
// zero Addr is refused.
func (g *Guard) Refused(addr netip.Addr) bool {
	_, refused := g.check(addr)
	return refused
}

func (g *Guard) check(addr netip.Addr) (verdict, bool) {
	v, refused := classify(addr)
	if !refused || !v.addr.IsValid() {
		return v, refused
	}
	for _, p := range g.Allowed {
		if p.Contains(v.addr) || (v.embedded.IsValid() && p.Contains(v.embedded)) {
			return v, false
		}
	}
	return v, true
}

// CheckURL checks a webhook URL when it is saved. The URL must be absolute,
// use http or https, name a host and carry no user name or password; the
// error then wraps ErrInvalidURL. A literal address, or any address a host
// name resolves to, must not be refused; the error then wraps ErrRefused and
// says how to allow it. A name that does not resolve is accepted, since it
// is checked again on every connection.
func (g *Guard) CheckURL(ctx context.Context, raw string) error {
	host, err := parseURL(raw)
	if err != nil {
		return err
	}

	if addr, err := netip.ParseAddr(host); err == nil {
		if v, refused := g.check(addr); refused {
			return refusal("webhook URL host", host, v, true)
		}
		return nil
	}

	lookupCtx, cancel := context.WithTimeout(ctx, g.dialTimeout())
	defer cancel()
	addrs, err := g.resolver().LookupNetIP(lookupCtx, "ip", host)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("check webhook URL host %s: %w", host, ctx.Err())
		}
		// Not resolvable from here (no such name, or no DNS at all):
		// DialContext checks it at send time.
		return nil
	}
	for _, addr := range addrs {
		if v, refused := g.check(addr); refused {
			return refusal("webhook URL host", host, v, false)
		}
	}
	return nil
}

// parseURL checks the form of a webhook URL and returns its host name or
// address, without brackets.
func parseURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return "", fmt.Errorf("%w: %v", ErrInvalidURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		if u.Scheme == "" {
			return "", fmt.Errorf("%w: it must be absolute, starting with https:// or http://",
				ErrInvalidURL)
		}
		return "", fmt.Errorf("%w: scheme %q is not http or https", ErrInvalidURL, u.Scheme)
	}
	if u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return "", fmt.Errorf("%w: it has no host", ErrInvalidURL)
	}
	if u.User != nil {
		return "", fmt.Errorf("%w: it must not contain a user name or password; "+
			"send credentials in a custom header", ErrInvalidURL)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("%w: port %q is not between 1 and 65535", ErrInvalidURL, p)
		}
	}

	host := u.Hostname()
	if _, err := netip.ParseAddr(host); err != nil && numericHost(host) {
		// Browsers and some resolvers read "2130706433" or "0x7f.1" as an
		// IPv4 address; refuse the ambiguity instead of guessing.
		return "", fmt.Errorf("%w: host %q looks like an IPv4 address in a non-standard form; "+
			"write it as four decimal numbers", ErrInvalidURL, host)
	}
	return host, nil
}

// numericHost reports whether a host name's last label is a number, which
// no DNS top-level domain is and which URL parsers read as IPv4.
func numericHost(host string) bool {
	host = strings.TrimSuffix(host, ".")
	last := host[strings.LastIndex(host, ".")+1:]
	if l := strings.ToLower(last); strings.HasPrefix(l, "0x") {
		last = l[2:]
		return strings.Trim(last, "0123456789abcdef") == ""
	}
	return last != "" && strings.Trim(last, "0123456789") == ""
}

// refusedError carries a full sentence for the administrator and unwraps to
// ErrRefused.
type refusedError struct{ msg string }

func (e *refusedError) Error() string { return e.msg }
func (e *refusedError) Unwrap() error { return ErrRefused }

func refusal(subject, host string, v verdict, literal bool) error {
	var msg string
	if literal {
		msg = fmt.Sprintf("%s %s %s", subject, host, v.describe())
	} else {
		msg = fmt.Sprintf("%s %s resolves to %s, which %s", subject, host, v.addr, v.describe())
	}
	return &refusedError{msg: msg + "; set " + AllowSetting + " to allow it"}
}

// DialContext connects to addr ("host:port") the way net.Dialer does, but
// resolves a host name once, refuses the connection if any resolved address
// is refused, and then dials the checked addresses directly, in order, until
// one answers. Only tcp, tcp4 and tcp6 are supported. Refusals wrap
// ErrRefused.
func (g *Guard) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	family, err := lookupFamily(network)
	if err != nil {
		return nil, err
	}
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("dial webhook %s: %w", addr, err)
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("dial webhook %s: invalid port %q", addr, portText)
	}

	ips, err := g.resolve(ctx, family, host)
	if err != nil {
		return nil, err
	}

	d := net.Dialer{Timeout: g.dialTimeout(), Control: g.control}
	var errs []error
	for _, ip := range ips {
		target := netip.AddrPortFrom(ip, uint16(port)).String()
		conn, err := d.DialContext(ctx, network, target)
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("dial webhook %s: %w", addr, errors.Join(errs...))
}

// resolve returns the addresses to dial for host, all of them checked.
func (g *Guard) resolve(ctx context.Context, family, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		if v, refused := g.check(ip); refused {
			return nil, refusal("webhook host", host, v, true)
		}
		return []netip.Addr{ip}, nil
	}

	lookupCtx, cancel := context.WithTimeout(ctx, g.dialTimeout())
	defer cancel()
	found, err := g.resolver().LookupNetIP(lookupCtx, family, host)
	if err != nil {
		return nil, fmt.Errorf("resolve webhook host %s: %w", host, err)
	}

	ips := make([]netip.Addr, 0, len(found))
	for _, ip := range found {
		// Every answer is checked, even ones of a family we will not
		// dial: a mixed public and private answer is a rebinding attempt.
		if v, refused := g.check(ip); refused {
			return nil, refusal("webhook host", host, v, false)
		}
		ip = ip.Unmap()
		if family == "ip" || (family == "ip4") == ip.Is4() {
			ips = append(ips, ip)
		}
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("resolve webhook host %s: no %s address", host, family)
	}
	return ips, nil
}

// control re-checks the exact address the socket is about to connect to.
// resolve has already checked it; this keeps the rule true even if the dial
// path changes.
func (g *Guard) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("dial webhook: unexpected address %q", address)
	}
	if v, refused := g.check(ap.Addr()); refused {
		return refusal("webhook address", ap.Addr().String(), v, true)
	}
	return nil
}

func lookupFamily(network string) (string, error) {
	switch network {
	case "tcp":
		return "ip", nil
	case "tcp4":
		return "ip4", nil
	case "tcp6":
		return "ip6", nil
	}
	return "", fmt.Errorf("dial webhook: network %q is not supported", network)
}

// Transport returns an HTTP transport that connects only through
// DialContext and never through a proxy (a proxy would make the connection,
// and the address check, somewhere else). Each call returns a new transport
// with its own connection pool.
func (g *Guard) Transport() *http.Transport {
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           g.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   8,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
	}
}

// Client returns an HTTP client using a new Transport, with timeout bounding
// each whole request, that never follows redirects: a 3xx response is
// returned to the caller as it is. Create one client and reuse it.
func (g *Guard) Client(timeout time.Duration) *http.Client {
	return &http.Client{
		Transport: g.Transport(),
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

func (g *Guard) resolver() Resolver {
	if g.Resolver != nil {
		return g.Resolver
	}
	return net.DefaultResolver
}

func (g *Guard) dialTimeout() time.Duration {
	if g.DialTimeout > 0 {
		return g.DialTimeout
	}
	return DefaultDialTimeout
}
