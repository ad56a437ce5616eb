package content

import (
	"testing"
	"time"
)

// TestStoredTimesRenderAsParsed checks the shortcut that rewrites SQLite's
// timestamp text against parsing it the driver's way and formatting it.
func TestStoredTimesRenderAsParsed(t *testing.T) {
	for _, in := range []string{
		"2025-01-02 03:04:05+00:00",
		"2025-01-02 03:04:05.1+00:00",
		"2025-01-02 03:04:05.123+00:00",
		"2025-01-02 03:04:05.123456789+00:00",
		"2025-01-02T03:04:05.120Z",
		"2025-01-02 03:04:05",
		"2025-01-02 03:04:05.5-00:00",
		"2025-01-02 03:04:05.999+02:00", // another zone: parsed
		"2025-01-02 03:04",
		"2025-01-02",
		"not a time",
		"",
	} {
		got := string(appendStoredTime(nil, []byte(in)))
		var want time.Time
		for _, layout := range storedTimeLayouts {
			if p, err := time.ParseInLocation(layout, trimZ(in), time.UTC); err == nil {
				want = p
				break
			}
		}
		if w := want.UTC().Format(apiTime); got != w {
			t.Errorf("%q renders as %s, want %s", in, got, w)
		}
	}
}

func trimZ(s string) string {
	if len(s) > 0 && s[len(s)-1] == 'Z' {
		return s[:len(s)-1]
	}
	return s
}
