package schema

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// valueCase is one value fed to an attribute: want is the normalised value,
// or errPart a fragment of the expected error.
type valueCase struct {
	name    string
	attr    Attribute
	in      any
	want    any
	errPart string
}

// num is a JSON number as json.Decoder.UseNumber produces it.
func num(s string) json.Number { return json.Number(s) }

func intp(n int) *int { return &n }

func nump(s string) *json.Number { n := json.Number(s); return &n }

func runValueCases(t *testing.T, cases []valueCase, fn func(*Attribute, any) (any, error)) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := c.attr
			if a.Name == "" {
				a.Name = "field"
			}
			got, err := fn(&a, c.in)
			if c.errPart != "" {
				if err == nil || !strings.Contains(err.Error(), c.errPart) {
					t.Fatalf("got %#v, %v; want error containing %q", got, err, c.errPart)
				}
				var ve *ValueError
				if !errorsAsValueError(err, &ve) || ve.Attribute != a.Name {
					t.Fatalf("error %v is not a *ValueError naming %s", err, a.Name)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %#v (%T), want %#v (%T)", got, got, c.want, c.want)
			}
		})
	}
}

func errorsAsValueError(err error, target **ValueError) bool {
	ve, ok := err.(*ValueError)
	*target = ve
	return ok
}

func TestNormalizeValueText(t *testing.T) {
	str := Attribute{Type: TypeString}
	email := Attribute{Type: TypeEmail}
	uid := Attribute{Type: TypeUID}
	enum := Attribute{Type: TypeEnumeration, Enum: []string{"news", "blog"}}
	runValueCases(t, []valueCase{
		{name: "string", attr: str, in: "hello", want: "hello"},
		{name: "empty string", attr: str, in: "", want: ""},
		{name: "unicode string", attr: str, in: "héllo wörld", want: "héllo wörld"},
		{name: "text", attr: Attribute{Type: TypeText}, in: "a\nb", want: "a\nb"},
		{name: "richtext", attr: Attribute{Type: TypeRichText}, in: "# T", want: "# T"},
		{name: "string refuses number", attr: str, in: num("5"), errPart: "field must be a string"},
		{name: "string refuses bool", attr: str, in: true, errPart: "must be a string"},
		{name: "string refuses object", attr: str, in: map[string]any{},
			errPart: "must be a string"},
		{name: "string refuses NUL", attr: str, in: "a\x00b", errPart: "NUL"},
		{name: "string refuses bad UTF-8", attr: str, in: "a\xffb", errPart: "UTF-8"},
		{name: "email", attr: email, in: "ada@example.com", want: "ada@example.com"},
		{name: "email empty", attr: email, in: "", want: ""},
		{name: "email with name", attr: email, in: "Ada <ada@example.com>",
			errPart: "field must be a valid email address"},
		{name: "email in brackets", attr: email, in: "<ada@example.com>", errPart: "valid email"},
		{name: "email without at", attr: email, in: "ada.example.com", errPart: "valid email"},
		{name: "email with space", attr: email, in: " ada@example.com", errPart: "valid email"},
		{name: "email number", attr: email, in: num("1"), errPart: "must be a string"},
		{name: "uid", attr: uid, in: "my-slug_1.0~x", want: "my-slug_1.0~x"},
		{name: "uid empty", attr: uid, in: "", want: ""},
		{name: "uid with space", attr: uid, in: "my slug", errPart: "only letters, digits"},
		{name: "uid with accent", attr: uid, in: "café", errPart: "only letters, digits"},
		{name: "uid with slash", attr: uid, in: "a/b", errPart: "only letters, digits"},
		{name: "enumeration", attr: enum, in: "blog", want: "blog"},
		{name: "enumeration unknown", attr: enum, in: "other",
			errPart: "field must be one of: news, blog"},
		{name: "enumeration case", attr: enum, in: "News", errPart: "must be one of"},
		{name: "enumeration empty", attr: enum, in: "", errPart: "must be one of"},
		{name: "enumeration number", attr: enum, in: num("1"), errPart: "must be a string"},
	}, NormalizeValue)
}

func TestNormalizeValueIntegers(t *testing.T) {
	i := Attribute{Type: TypeInteger, Name: "views"}
	big := Attribute{Type: TypeBigInteger, Name: "count"}
	runValueCases(t, []valueCase{
		{name: "integer", attr: i, in: num("42"), want: int64(42)},
		{name: "negative", attr: i, in: num("-7"), want: int64(-7)},
		{name: "zero", attr: i, in: num("0"), want: int64(0)},
		{name: "minus zero", attr: i, in: num("-0"), want: int64(0)},
		{name: "integral fraction", attr: i, in: num("12.000"), want: int64(12)},
		{name: "exponent", attr: i, in: num("1e3"), want: int64(1000)},
		{name: "fraction with exponent", attr: i, in: num("1.25e2"), want: int64(125)},
		{name: "small mantissa", attr: i, in: num("0.004e3"), want: int64(4)},
		{name: "non-integral mantissa", attr: i, in: num("0.0042e3"),
			errPart: "must be an integer"},
		{name: "zero with huge exponent", attr: i, in: num("0e999999999"), want: int64(0)},
		{name: "string of digits", attr: i, in: "42", want: int64(42)},
		{name: "negative string", attr: i, in: "-42", want: int64(-42)},
		{name: "leading zeros string", attr: i, in: "007", want: int64(7)},
		{name: "float64 integral", attr: i, in: float64(3), want: int64(3)},
		{name: "go int", attr: i, in: 5, want: int64(5)},
		{name: "lowest", attr: i, in: num("-2147483648"), want: int64(math.MinInt32)},
		{name: "highest", attr: i, in: num("2147483647"), want: int64(math.MaxInt32)},
		{name: "fraction", attr: i, in: num("1.5"), errPart: "views must be an integer"},
		{name: "tiny fraction", attr: i, in: num("1e-3"), errPart: "must be an integer"},
		{name: "huge negative exponent", attr: i, in: num("1e-999999999"),
			errPart: "must be an integer"},
		{name: "float64 fraction", attr: i, in: 3.5, errPart: "must be an integer"},
		{name: "float64 NaN", attr: i, in: math.NaN(), errPart: "must be an integer"},
		{name: "word", attr: i, in: "abc", errPart: "must be an integer"},
		{name: "decimal string", attr: i, in: "1.5", errPart: "must be an integer"},
		{name: "exponent string", attr: i, in: "1e3", errPart: "must be an integer"},
		{name: "empty string", attr: i, in: "", errPart: "must be an integer"},
		{name: "spaced string", attr: i, in: " 4", errPart: "must be an integer"},
		{name: "bool", attr: i, in: true, errPart: "must be an integer"},
		{name: "array", attr: i, in: []any{num("1")}, errPart: "must be an integer"},
		{name: "above 32 bits", attr: i, in: num("2147483648"),
			errPart: "between -2147483648 and 2147483647"},
		{name: "below 32 bits", attr: i, in: "-2147483649", errPart: "between"},
		{name: "huge exponent", attr: i, in: num("1e999999999"), errPart: "between"},
		{name: "many digits", attr: i, in: num("123456789012345678901234567890"),
			errPart: "between"},
		{name: "biginteger number", attr: big, in: num("9223372036854775807"),
			want: "9223372036854775807"},
		{name: "biginteger string", attr: big, in: "-9223372036854775808",
			want: "-9223372036854775808"},
		{name: "biginteger small", attr: big, in: num("12"), want: "12"},
		{name: "biginteger exponent", attr: big, in: num("1e18"), want: "1000000000000000000"},
		{name: "biginteger leading zeros", attr: big, in: "0042", want: "42"},
		{name: "biginteger too large", attr: big, in: num("9223372036854775808"),
			errPart: "count must be an integer between -9223372036854775808"},
		{name: "biginteger fraction", attr: big, in: num("1.5"), errPart: "must be an integer"},
		{name: "biginteger word", attr: big, in: "12a", errPart: "must be an integer"},
		{name: "biginteger bool", attr: big, in: false, errPart: "must be an integer"},
	}, NormalizeValue)
}

func TestNormalizeValueFloatsAndBooleans(t *testing.T) {
	f := Attribute{Type: TypeFloat, Name: "price"}
	d := Attribute{Type: TypeDecimal, Name: "rate"}
	b := Attribute{Type: TypeBoolean, Name: "featured"}
	runValueCases(t, []valueCase{
		{name: "float", attr: f, in: num("1.5"), want: 1.5},
		{name: "float integer", attr: f, in: num("3"), want: 3.0},
		{name: "float exponent", attr: f, in: num("-2.5e-3"), want: -0.0025},
		{name: "float string", attr: f, in: "2.25", want: 2.25},
		{name: "float go int", attr: f, in: int64(7), want: 7.0},
		{name: "float64 kept", attr: f, in: 0.1, want: 0.1},
		{name: "float overflow", attr: f, in: num("1e400"), errPart: "price must be a number"},
		{name: "float word", attr: f, in: "abc", errPart: "price must be a number"},
		{name: "float NaN string", attr: f, in: "NaN", errPart: "must be a number"},
		{name: "float Inf string", attr: f, in: "Inf", errPart: "must be a number"},
		{name: "float hex string", attr: f, in: "0x10", errPart: "must be a number"},
		{name: "float empty", attr: f, in: "", errPart: "must be a number"},
		{name: "float bool", attr: f, in: true, errPart: "must be a number"},
		{name: "float infinite go", attr: f, in: math.Inf(1), errPart: "must be a number"},
		{name: "decimal", attr: d, in: num("19.99"), want: 19.99},
		{name: "decimal string", attr: d, in: "-0.5", want: -0.5},
		{name: "decimal object", attr: d, in: map[string]any{}, errPart: "rate must be a number"},
		{name: "true", attr: b, in: true, want: true},
		{name: "false", attr: b, in: false, want: false},
		{name: "string true", attr: b, in: "true", want: true},
		{name: "string false", attr: b, in: "false", want: false},
		{name: "one refused", attr: b, in: num("1"), errPart: "featured must be a boolean"},
		{name: "zero string refused", attr: b, in: "0", errPart: "must be a boolean"},
		{name: "capitals refused", attr: b, in: "TRUE", errPart: "must be a boolean"},
		{name: "yes refused", attr: b, in: "yes", errPart: "must be a boolean"},
	}, NormalizeValue)
}

func TestNormalizeValueDatesAndTimes(t *testing.T) {
	date := Attribute{Type: TypeDate, Name: "published"}
	tm := Attribute{Type: TypeTime, Name: "opens"}
	dt := Attribute{Type: TypeDateTime, Name: "at"}
	zone := time.FixedZone("x", -5*3600)
	runValueCases(t, []valueCase{
		{name: "date", attr: date, in: "2024-05-01", want: "2024-05-01"},
		{name: "leap day", attr: date, in: "2024-02-29", want: "2024-02-29"},
		{name: "date from datetime keeps written date", attr: date,
			in: "2024-05-01T23:30:00-05:00", want: "2024-05-01"},
		{name: "date from time.Time", attr: date,
			in: time.Date(2024, 5, 1, 23, 0, 0, 0, zone), want: "2024-05-01"},
		{name: "not a leap year", attr: date, in: "2023-02-29",
			errPart: "published must be a date in YYYY-MM-DD form"},
		{name: "month 13", attr: date, in: "2024-13-01", errPart: "must be a date"},
		{name: "short parts", attr: date, in: "2024-5-1", errPart: "must be a date"},
		{name: "slashes", attr: date, in: "2024/05/01", errPart: "must be a date"},
		{name: "bad datetime", attr: date, in: "2024-05-01T25:00:00Z", errPart: "must be a date"},
		{name: "date number", attr: date, in: num("20240501"), errPart: "must be a date"},
		{name: "date empty", attr: date, in: "", errPart: "must be a date"},
		{name: "time HH:MM", attr: tm, in: "09:30", want: "09:30:00.000"},
		{name: "time HH:MM:SS", attr: tm, in: "09:30:15", want: "09:30:15.000"},
		{name: "time one fraction digit", attr: tm, in: "09:30:15.5", want: "09:30:15.500"},
		{name: "time truncated", attr: tm, in: "23:59:59.999999", want: "23:59:59.999"},
		{name: "time midnight", attr: tm, in: "00:00", want: "00:00:00.000"},
		{name: "time hour 24", attr: tm, in: "24:00", errPart: "opens must be a time"},
		{name: "time one digit hour", attr: tm, in: "9:30", errPart: "must be a time"},
		{name: "time minute 60", attr: tm, in: "09:60", errPart: "must be a time"},
		{name: "time second 60", attr: tm, in: "09:30:60", errPart: "must be a time"},
		{name: "time with zone", attr: tm, in: "09:30:00Z", errPart: "must be a time"},
		{name: "time number", attr: tm, in: num("930"), errPart: "must be a time"},
		{name: "datetime Z", attr: dt, in: "2024-05-01T12:30:00Z",
			want: "2024-05-01T12:30:00.000Z"},
		{name: "datetime offset and fraction", attr: dt, in: "2024-05-01T12:30:00.123456+02:00",
			want: "2024-05-01T10:30:00.123Z"},
		{name: "datetime crosses day", attr: dt, in: "2024-05-01T22:00:00-05:00",
			want: "2024-05-02T03:00:00.000Z"},
		{name: "datetime truncates", attr: dt, in: "2024-05-01T12:30:00.9999Z",
			want: "2024-05-01T12:30:00.999Z"},
		{name: "datetime from date", attr: dt, in: "2024-05-01", want: "2024-05-01T00:00:00.000Z"},
		{name: "datetime from time.Time", attr: dt,
			in: time.Date(2024, 5, 1, 23, 0, 0, 1e6+5, zone), want: "2024-05-02T04:00:00.001Z"},
		{name: "datetime without offset", attr: dt, in: "2024-05-01T12:30:00",
			errPart: "at must be a datetime"},
		{name: "datetime with space", attr: dt, in: "2024-05-01 12:30:00Z",
			errPart: "must be a datetime"},
		{name: "datetime bad day", attr: dt, in: "2024-02-30T00:00:00Z",
			errPart: "must be a datetime"},
		{name: "datetime year below 0", attr: dt, in: "0000-01-01T00:30:00+01:00",
			errPart: "must be a datetime"},
		{name: "datetime number", attr: dt, in: num("1714566600000"),
			errPart: "must be a datetime"},
	}, NormalizeValue)
}

func TestNormalizeValueJSONAndNull(t *testing.T) {
	j := Attribute{Type: TypeJSON, Name: "meta"}
	obj := map[string]any{"a": num("1.50"), "b": []any{"x", nil, true}}
	runValueCases(t, []valueCase{
		{name: "object kept as is", attr: j, in: obj, want: obj},
		{name: "array", attr: j, in: []any{num("1")}, want: []any{num("1")}},
		{name: "string", attr: j, in: "x", want: "x"},
		{name: "number", attr: j, in: num("1e400"), want: num("1e400")},
		{name: "bool", attr: j, in: false, want: false},
		{name: "NUL in nested string", attr: j, in: map[string]any{"a": []any{"x\x00"}},
			errPart: "meta must not contain the NUL character"},
		{name: "NUL in key", attr: j, in: map[string]any{"a\x00": "x"}, errPart: "NUL"},
		{name: "go value that is not JSON", attr: j, in: struct{}{}, errPart: "JSON value"},
		{name: "null json", attr: j, in: nil, want: nil},
		{name: "null integer", attr: Attribute{Type: TypeInteger}, in: nil, want: nil},
		{name: "null string", attr: Attribute{Type: TypeString}, in: nil, want: nil},
		{name: "unsupported type", attr: Attribute{Type: "blocks"}, in: "x",
			errPart: "unsupported type"},
	}, NormalizeValue)
}

func TestCoerceValueSkipsTextFormats(t *testing.T) {
	runValueCases(t, []valueCase{
		{name: "email fragment", attr: Attribute{Type: TypeEmail}, in: "example.c",
			want: "example.c"},
		{name: "uid fragment", attr: Attribute{Type: TypeUID}, in: "a b", want: "a b"},
		{name: "enum fragment", attr: Attribute{Type: TypeEnumeration, Enum: []string{"news"}},
			in: "ne", want: "ne"},
		{name: "integer still typed", attr: Attribute{Type: TypeInteger}, in: "10",
			want: int64(10)},
		{name: "integer word", attr: Attribute{Type: TypeInteger}, in: "abc",
			errPart: "must be an integer"},
		{name: "date still checked", attr: Attribute{Type: TypeDate}, in: "2024-02-30",
			errPart: "must be a date"},
		{name: "NUL still refused", attr: Attribute{Type: TypeString}, in: "\x00",
			errPart: "NUL"},
	}, CoerceValue)
}

func TestValidValueChecksOptions(t *testing.T) {
	title := Attribute{Type: TypeString, Name: "title", MinLength: intp(3), MaxLength: intp(5)}
	code := Attribute{Type: TypeString, Name: "code", Regex: "^[a-z]+$"}
	views := Attribute{Type: TypeInteger, Name: "views", Min: nump("0"), Max: nump("10")}
	price := Attribute{Type: TypeFloat, Name: "price", Min: nump("0.5"), Max: nump("1e2")}
	big := Attribute{Type: TypeBigInteger, Name: "n", Min: nump("-5"),
		Max: nump("9223372036854775807")}
	mail := Attribute{Type: TypeEmail, Name: "mail", MinLength: intp(5)}
	valid := func(a *Attribute, v any) (any, error) { return v, a.ValidValue(v) }
	runValueCases(t, []valueCase{
		{name: "length in range", attr: title, in: "abcd", want: "abcd"},
		{name: "length counts characters", attr: title, in: "héllo", want: "héllo"},
		{name: "too short", attr: title, in: "ab", errPart: "title must be at least 3 characters"},
		{name: "too long", attr: title, in: "abcdef",
			errPart: "title must be at most 5 characters"},
		{name: "empty string is no value", attr: title, in: "", want: ""},
		{name: "null is valid", attr: title, in: nil, want: nil},
		{name: "type checked first", attr: title, in: num("5"), errPart: "must be a string"},
		{name: "regex matches", attr: code, in: "abc", want: "abc"},
		{name: "regex fails", attr: code, in: "ABC",
			errPart: "code must match the pattern ^[a-z]+$"},
		{name: "regex skips empty", attr: code, in: "", want: ""},
		{name: "min bound", attr: views, in: num("0"), want: num("0")},
		{name: "max bound", attr: views, in: "10", want: "10"},
		{name: "below min", attr: views, in: num("-1"), errPart: "views must be at least 0"},
		{name: "above max", attr: views, in: num("11"), errPart: "views must be at most 10"},
		{name: "float below", attr: price, in: num("0.4"), errPart: "price must be at least 0.5"},
		{name: "float above", attr: price, in: num("100.5"), errPart: "price must be at most 1e2"},
		{name: "float inside", attr: price, in: num("100"), want: num("100")},
		{name: "biginteger at int64 max", attr: big, in: "9223372036854775807",
			want: "9223372036854775807"},
		{name: "biginteger below", attr: big, in: num("-6"), errPart: "n must be at least -5"},
		{name: "email empty skips length", attr: mail, in: "", want: ""},
		{name: "email short", attr: mail, in: "a@b", errPart: "at least 5"},
	}, valid)
}

func TestParseAndFormatDateTime(t *testing.T) {
	got, err := ParseDateTime("2024-05-01T12:30:00.123789+02:00")
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2024, 5, 1, 10, 30, 0, 123e6, time.UTC)
	if !got.Equal(want) || got.Location() != time.UTC {
		t.Fatalf("ParseDateTime = %v, want %v in UTC", got, want)
	}
	if s := FormatDateTime(got); s != "2024-05-01T10:30:00.123Z" {
		t.Fatalf("FormatDateTime = %q", s)
	}
	zone := time.FixedZone("x", 3600)
	s := FormatDateTime(time.Date(2024, 1, 1, 0, 0, 0, 0, zone))
	if s != "2023-12-31T23:00:00.000Z" {
		t.Fatalf("FormatDateTime in a zone = %q", s)
	}
	for _, bad := range []string{"", "yesterday", "2024-05-01T12:30Z", "2024-05-01T12:30:00",
		"10000-01-01T00:00:00Z", "2024-05-01T12:30:00+0200"} {
		if _, err := ParseDateTime(bad); err == nil {
			t.Errorf("ParseDateTime(%q) succeeded", bad)
		}
	}
}

func TestExactInteger(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		err  error
	}{
		{"0", 0, nil}, {"-0.0", 0, nil}, {"100", 100, nil}, {"1.0e2", 100, nil},
		{"12300e-2", 123, nil}, {"0.000e5", 0, nil}, {"9223372036854775807", math.MaxInt64, nil},
		{"-9223372036854775808", math.MinInt64, nil},
		{"9.223372036854775807e18", math.MaxInt64, nil},
		{"9223372036854775808", 0, errTooLarge}, {"1e19", 0, errTooLarge},
		{"1e1000000000000", 0, errTooLarge}, {"1.5", 0, errNotInteger},
		{"123e-2", 0, errNotInteger}, {"5e-1000000000000", 0, errNotInteger},
		{"abc", 0, errNotInteger}, {"", 0, errNotInteger}, {"1/2", 0, errNotInteger},
	} {
		got, err := exactInteger(c.in)
		if got != c.want || err != c.err {
			t.Errorf("exactInteger(%q) = %d, %v; want %d, %v", c.in, got, err, c.want, c.err)
		}
	}
}

func TestSlugify(t *testing.T) {
	for in, want := range map[string]string{
		"Hello World":              "hello-world",
		"  Hello,   World!  ":      "hello-world",
		"Crème brûlée à la carte":  "creme-brulee-a-la-carte",
		"Straße & Œuvre":           "strasse-and-oeuvre",
		"Don't stop":               "dont-stop",
		"Łódź, Kraków":             "lodz-krakow",
		"e\u0301t\u00e9":           "ete",
		"İstanbul":                 "istanbul",
		"Top 10 tips -- 2024 ed.":  "top-10-tips-2024-ed",
		"already-a-slug":           "already-a-slug",
		"---":                      "",
		"":                         "",
		"日本語":                      "",
		"Привет мир 2":             "2",
		"ALL_CAPS_with_underscore": "all-caps-with-underscore",
	} {
		if got := Slugify(in); got != want {
			t.Errorf("Slugify(%q) = %q, want %q", in, got, want)
		}
		if got := Slugify(in); !uidPattern.MatchString(got) {
			t.Errorf("Slugify(%q) = %q is not a valid uid", in, got)
		}
	}
}
