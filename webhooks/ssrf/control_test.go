package ssrf

import (
	"errors"
	"net/netip"
	"testing"
)

// The socket-level check is a second line behind resolve; it is exercised
// directly because resolve never lets a refused address reach it.
func TestControlRefusesTheSocketAddress(t *testing.T) {
	open := Guard{Allowed: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	var closed Guard
	tests := []struct {
		g       *Guard
		address string
		want    error
	}{
		{&closed, "8.8.8.8:443", nil},
		{&closed, "[2606:4700:4700::1111]:443", nil},
		{&closed, "127.0.0.1:80", ErrRefused},
		{&closed, "[::ffff:10.0.0.1]:80", ErrRefused},
		{&closed, "[fe80::1%eth0]:80", ErrRefused},
		{&open, "127.0.0.1:80", nil},
		{&open, "10.0.0.1:80", ErrRefused},
	}
	for _, tt := range tests {
		err := tt.g.control("tcp", tt.address, nil)
		if !errors.Is(err, tt.want) {
			t.Errorf("control(%s) = %v, want %v", tt.address, err, tt.want)
		}
	}
	if err := closed.control("tcp", "not an address", nil); err == nil {
		t.Error("control accepted a malformed address")
	}
}
