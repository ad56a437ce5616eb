package media

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestParseRange(t *testing.T) {
	const size = 100
	tests := []struct {
		header string
		want   byteRange
		ok     bool
		err    error
	}{
		{"", byteRange{}, false, nil},
		{"bytes=0-9", byteRange{0, 10}, true, nil},
		{"bytes=90-", byteRange{90, 10}, true, nil},
		{"bytes=95-200", byteRange{95, 5}, true, nil},
		{"bytes=-10", byteRange{90, 10}, true, nil},
		{"bytes=-500", byteRange{0, 100}, true, nil},
		{"bytes=99-99", byteRange{99, 1}, true, nil},
		{"bytes=100-", byteRange{}, true, errUnsatisfiable},
		{"bytes=-0", byteRange{}, true, errUnsatisfiable},
		// Ignored: several ranges, other units, nonsense.
		{"bytes=0-1,5-6", byteRange{}, false, nil},
		{"items=0-1", byteRange{}, false, nil},
		{"bytes=5-1", byteRange{}, false, nil},
		{"bytes=a-b", byteRange{}, false, nil},
		{"bytes=-", byteRange{}, false, nil},
		{"bytes=-1-2", byteRange{}, false, nil},
		{"bytes=7", byteRange{}, false, nil},
	}
	for _, tt := range tests {
		got, ok, err := parseRange(tt.header, size)
		if got != tt.want || ok != tt.ok || !errors.Is(err, tt.err) {
			t.Errorf("parseRange(%q) = %v, %v, %v; want %v, %v, %v",
				tt.header, got, ok, err, tt.want, tt.ok, tt.err)
		}
	}
	if _, ok, err := parseRange("bytes=0-", 0); !ok || !errors.Is(err, errUnsatisfiable) {
		t.Errorf("a range of an empty file: ok %v, err %v; want unsatisfiable", ok, err)
	}
}

// onlyReader hides any Seek method, as a storage that streams would.
type onlyReader struct{ io.Reader }

func TestSkipToSeeksOrReads(t *testing.T) {
	for name, r := range map[string]io.Reader{
		"seeker": strings.NewReader("0123456789"),
		"reader": onlyReader{strings.NewReader("0123456789")},
	} {
		if err := skipTo(r, 4); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rest, _ := io.ReadAll(r)
		if string(rest) != "456789" {
			t.Errorf("%s: after skipping 4, read %q", name, rest)
		}
	}
}
