package schema

import (
	"fmt"
	"regexp"
	"time"
)

// Layouts of the stored date, time and datetime formats.
const (
	DateLayout     = "2006-01-02"
	TimeLayout     = "15:04:05.000"
	DateTimeLayout = "2006-01-02T15:04:05.000Z"
)

// timePattern matches HH:MM, HH:MM:SS and HH:MM:SS.fff (1 to 9 digits).
var timePattern = regexp.MustCompile(
	`^([01][0-9]|2[0-3]):([0-5][0-9])(?::([0-5][0-9])(?:\.([0-9]{1,9}))?)?$`)

// ParseDateTime reads a datetime: RFC 3339 with "Z" or any numeric offset
// and optional fractional seconds ("2024-05-01T12:30:00.5+02:00"), or a
// date alone ("2024-05-01", midnight UTC). The result is in UTC, truncated
// to the millisecond, with a year between 0 and 9999. Anything else, such
// as a datetime without an offset, is an error.
func ParseDateTime(s string) (time.Time, error) {
	layout := time.RFC3339
	if len(s) == len(DateLayout) {
		layout = DateLayout
	}
	t, err := time.Parse(layout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse datetime %q: want RFC 3339 or YYYY-MM-DD", s)
	}
	t = t.UTC().Truncate(time.Millisecond)
	if t.Year() < 0 || t.Year() > 9999 {
		return time.Time{}, fmt.Errorf("parse datetime %q: year out of range", s)
	}
	return t, nil
}

// FormatDateTime writes t in UTC with exactly three fraction digits,
// "2006-01-02T15:04:05.000Z", the form Herald stores and returns.
func FormatDateTime(t time.Time) string {
	return t.UTC().Format(DateTimeLayout)
}

// toDateTime accepts a string ParseDateTime reads, or a time.Time.
func toDateTime(v any) (string, error) {
	switch x := v.(type) {
	case string:
		t, err := ParseDateTime(x)
		if err == nil {
			return FormatDateTime(t), nil
		}
	case time.Time:
		if y := x.UTC().Year(); y >= 0 && y <= 9999 {
			return FormatDateTime(x), nil
		}
	}
	return "", problem("must be a datetime in RFC 3339 form, such as 2024-05-01T12:30:00Z")
}

// toDate accepts "YYYY-MM-DD" (a real calendar date), an RFC 3339 datetime
// (whose date is kept as written, in its own offset), or a time.Time (its
// date in its own location).
func toDate(v any) (string, error) {
	switch x := v.(type) {
	case string:
		if len(x) == len(DateLayout) {
			if _, err := time.Parse(DateLayout, x); err == nil {
				return x, nil
			}
		} else if _, err := time.Parse(time.RFC3339, x); err == nil {
			return x[:len(DateLayout)], nil
		}
	case time.Time:
		if y := x.Year(); y >= 0 && y <= 9999 {
			return x.Format(DateLayout), nil
		}
	}
	return "", problem("must be a date in YYYY-MM-DD form")
}

// toTimeOfDay accepts HH:MM, HH:MM:SS or HH:MM:SS with a fraction, and
// returns HH:MM:SS.mmm with the fraction truncated to milliseconds.
func toTimeOfDay(v any) (string, error) {
	s, _ := v.(string)
	m := timePattern.FindStringSubmatch(s)
	if m == nil {
		return "", problem("must be a time in HH:MM:SS form, such as 09:30:00")
	}
	sec := m[3]
	if sec == "" {
		sec = "00"
	}
	frac := (m[4] + "000")[:3]
	return m[1] + ":" + m[2] + ":" + sec + "." + frac, nil
}
