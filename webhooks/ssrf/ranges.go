package ssrf

import (
	"fmt"
	"net/netip"
)

// refusedRange is one block of addresses a webhook may not reach unless an
// administrator allows it.
type refusedRange struct {
	prefix netip.Prefix
	what   string // completes "host X is ..."
}

// refusedRanges is checked in order, so a narrow block listed before a wider
// one gives the more precise description.
var refusedRanges = mustRanges([]struct{ cidr, what string }{
	// IPv4.
	{"0.0.0.0/8", "a \"this network\" address"},
	{"10.0.0.0/8", "a private address"},
	{"100.64.0.0/10", "a carrier-grade NAT address"},
	{"127.0.0.0/8", "a loopback address"},
	{"169.254.0.0/16", "a link-local address (cloud metadata services live here)"},
	{"172.16.0.0/12", "a private address"},
	{"192.0.0.0/24", "an IETF protocol assignment address"},
	{"192.0.2.0/24", "a documentation address"},
	{"192.168.0.0/16", "a private address"},
	{"198.18.0.0/15", "a benchmarking address"},
	{"198.51.100.0/24", "a documentation address"},
	{"203.0.113.0/24", "a documentation address"},
	{"224.0.0.0/4", "a multicast address"},
	{"240.0.0.0/4", "a reserved or broadcast address"},

	// IPv6.
	{"::/128", "the unspecified address"},
	{"::1/128", "a loopback address"},
	{"::/96", "an IPv4-compatible address"},
	{"64:ff9b:1::/48", "a local-use NAT64 address"},
	{"100::/64", "a discard-only address"},
	{"2001::/32", "a Teredo tunnel address"},
	{"2001:2::/48", "a benchmarking address"},
	{"2001:db8::/32", "a documentation address"},
	{"fc00::/7", "a unique local (private) address"},
	{"fe80::/10", "a link-local address"},
	{"fec0::/10", "a site-local address"},
	{"ff00::/8", "a multicast address"},
})

func mustRanges(list []struct{ cidr, what string }) []refusedRange {
	out := make([]refusedRange, 0, len(list))
	for _, r := range list {
		out = append(out, refusedRange{prefix: netip.MustParsePrefix(r.cidr), what: r.what})
	}
	return out
}

// IPv6 blocks that carry an IPv4 address inside them. The embedded address
// is what the packet finally reaches, so it is checked in their place.
var (
	mapped4     = netip.MustParsePrefix("::ffff:0:0/96")   // IPv4-mapped
	translated4 = netip.MustParsePrefix("::ffff:0:0:0/96") // SIIT, RFC 6145
	nat64       = netip.MustParsePrefix("64:ff9b::/96")    // RFC 6052
	sixToFour   = netip.MustParsePrefix("2002::/16")       // 6to4, RFC 3056
)

// verdict explains why an address is refused.
type verdict struct {
	addr     netip.Addr   // the address as given, without zone
	embedded netip.Addr   // the IPv4 address inside addr, when there is one
	prefix   netip.Prefix // the refused range that matched
	what     string
}

// describe completes a sentence such as "webhook URL host example.com ..."
func (v verdict) describe() string {
	if !v.prefix.IsValid() {
		return "is " + v.what
	}
	if v.embedded.IsValid() {
		return fmt.Sprintf("maps to %s, %s (%s)", v.embedded, v.what, v.prefix)
	}
	return fmt.Sprintf("is %s (%s)", v.what, v.prefix)
}

// embeddedIPv4 returns the IPv4 address an IPv6 address stands for, if any.
func embeddedIPv4(a netip.Addr) (netip.Addr, bool) {
	if !a.Is6() {
		return netip.Addr{}, false
	}
	b := a.As16()
	switch {
	case mapped4.Contains(a), translated4.Contains(a), nat64.Contains(a):
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case sixToFour.Contains(a):
		return netip.AddrFrom4([4]byte(b[2:6])), true
	}
	return netip.Addr{}, false
}

// classify reports whether addr falls in a refused range, ignoring the
// allowed networks.
func classify(addr netip.Addr) (verdict, bool) {
	addr = addr.WithZone("")
	if !addr.IsValid() {
		return verdict{addr: addr, what: "not a valid address"}, true
	}
	v := verdict{addr: addr}
	check := addr
	if e, ok := embeddedIPv4(addr); ok {
		v.embedded, check = e, e
	}
	for _, r := range refusedRanges {
		if r.prefix.Contains(check) {
			v.prefix, v.what = r.prefix, r.what
			return v, true
		}
	}
	return verdict{}, false
}
