package query

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// parseNumber reads a decimal number (JSON's grammar, leading zeros
// allowed). Whole numbers that fit in 64 bits come back exactly as int64,
// others as float64; text is the canonical spelling of the same value.
func parseNumber(s string) (v any, text string, ok bool) {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	start := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i == start {
		return nil, "", false
	}
	whole := i == len(s)
	if i < len(s) && s[i] == '.' {
		i++
		fs := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == fs {
			return nil, "", false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		es := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == es {
			return nil, "", false
		}
	}
	if i != len(s) {
		return nil, "", false
	}
	if whole {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, strconv.FormatInt(n, 10), true
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, "", false
	}
	if f == math.Trunc(f) && math.Abs(f) < 1<<63 {
		n := int64(f)
		return n, strconv.FormatInt(n, 10), true
	}
	return f, strconv.FormatFloat(f, 'g', -1, 64), true
}

// parseBigInt reads a whole number that fits in 64 bits.
func parseBigInt(s string) (int64, bool) {
	d := strings.TrimPrefix(s, "-")
	if d == "" || strings.Trim(d, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// parseBool reads true or false (also 1/0 and t/f, in any case).
func parseBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "true", "t", "1":
		return true, true
	case "false", "f", "0":
		return false, true
	}
	return false, false
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// digits reads exactly n decimal digits at s[i:].
func digits(s string, i, n int) (int, bool) {
	if i+n > len(s) {
		return 0, false
	}
	v := 0
	for _, c := range []byte(s[i : i+n]) {
		if !isDigit(c) {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// parseDate reads YYYY-MM-DD, a real calendar day.
func parseDate(s string) (y, m, d int, ok bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, 0, 0, false
	}
	y, ok1 := digits(s, 0, 4)
	m, ok2 := digits(s, 5, 2)
	d, ok3 := digits(s, 8, 2)
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, 0, 0, false
	}
	return y, m, d, true
}

func daysIn(y, m int) int {
	return time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// parseClock reads HH:MM, HH:MM:SS or HH:MM:SS.fraction at the start of s
// and returns the nanoseconds since midnight and the rest of s.
func parseClock(s string) (ns int64, rest string, ok bool) {
	h, ok1 := digits(s, 0, 2)
	mi, ok2 := digits(s, 3, 2)
	if !ok1 || !ok2 || s[2] != ':' || h > 23 || mi > 59 {
		return 0, "", false
	}
	sec, frac := 0, 0
	i := 5
	if i < len(s) && s[i] == ':' {
		var ok bool
		if sec, ok = digits(s, i+1, 2); !ok || sec > 59 {
			return 0, "", false
		}
		i += 3
		if i < len(s) && s[i] == '.' {
			i++
			start, scale := i, 100_000_000
			for i < len(s) && isDigit(s[i]) {
				frac += int(s[i]-'0') * scale
				scale /= 10
				i++
			}
			if i == start || i-start > 9 {
				return 0, "", false
			}
		}
	}
	ns = int64(h)*int64(time.Hour) + int64(mi)*int64(time.Minute) +
		int64(sec)*int64(time.Second) + int64(frac)
	return ns, s[i:], true
}

// normTime turns a time of day into the stored "HH:MM:SS.mmm".
func normTime(s string) (string, bool) {
	ns, rest, ok := parseClock(s)
	if !ok || rest != "" {
		return "", false
	}
	t := time.Unix(0, ns).UTC()
	return t.Format("15:04:05.000"), true
}

// parseDateTime reads an ISO 8601 date-time: YYYY-MM-DD, optionally followed
// by T (or a space) and a time, optionally followed by Z or an offset
// (±HH:MM, ±HHMM, ±HH). A time without a zone is UTC. A '+' that qs decoded
// into a space before an offset is taken back as '+'.
func parseDateTime(s string) (time.Time, bool) {
	if len(s) < 10 {
		return time.Time{}, false
	}
	y, m, d, ok := parseDate(s[:10])
	if !ok {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if len(s) == 10 {
		return t, true
	}
	if s[10] != 'T' && s[10] != 't' && s[10] != ' ' {
		return time.Time{}, false
	}
	ns, rest, ok := parseClock(s[11:])
	if !ok {
		return time.Time{}, false
	}
	t = t.Add(time.Duration(ns))
	switch {
	case rest == "":
	case rest == "Z" || rest == "z":
	case rest[0] == '+' || rest[0] == '-' || rest[0] == ' ':
		off, ok := parseOffset(rest[1:])
		if !ok {
			return time.Time{}, false
		}
		if rest[0] == '-' {
			off = -off
		}
		t = t.Add(-off)
	default:
		return time.Time{}, false
	}
	if t.Year() < 0 || t.Year() > 9999 {
		return time.Time{}, false
	}
	return t, true
}

func parseOffset(s string) (time.Duration, bool) {
	h, ok := digits(s, 0, 2)
	if !ok || h > 23 {
		return 0, false
	}
	mi := 0
	switch len(s) {
	case 2:
	case 4:
		mi, ok = digits(s, 2, 2)
	case 5:
		if s[2] != ':' {
			return 0, false
		}
		mi, ok = digits(s, 3, 2)
	default:
		return 0, false
	}
	if !ok || mi > 59 {
		return 0, false
	}
	return time.Duration(h)*time.Hour + time.Duration(mi)*time.Minute, true
}

// DateTimeLayout is how datetime attributes are stored: UTC, milliseconds.
const DateTimeLayout = "2006-01-02T15:04:05.000Z"

// asciiLower lowers A-Z only, exactly as SQLite's lower() and the
// translate() used on PostgreSQL do.
func asciiLower(s string) string {
	i := 0
	for i < len(s) && (s[i] < 'A' || s[i] > 'Z') {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if 'A' <= b[i] && b[i] <= 'Z' {
			b[i] += 'a' - 'A'
		}
	}
	return string(b)
}
