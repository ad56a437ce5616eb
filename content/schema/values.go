package schema

import (
	"encoding/json"
	"math"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

var (
	// numberPattern matches a JSON number; numeric strings must match it too.
	numberPattern = regexp.MustCompile(`^-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$`)
	// digitsPattern matches the strings accepted for integers.
	digitsPattern = regexp.MustCompile(`^-?[0-9]+$`)
	// uidPattern matches a uid: URL-safe characters only.
	uidPattern = regexp.MustCompile(`^[A-Za-z0-9\-_.~]*$`)
)

// NormalizeValue converts v, a value decoded from JSON (numbers as
// json.Number or float64, objects as map[string]any, arrays as []any), to the
// form Herald stores for a's type, and checks the type's own format:
//
//   - string, text, richtext: the string; email: a bare address (net/mail),
//     or "" for no address; uid: letters, digits and - _ . ~ only;
//     enumeration: one of a.Enum. All of them are Go strings without NUL.
//   - integer: int64 within the 32-bit signed range, from an integral JSON
//     number (1, 1.0, 1e3) or a string of digits ("42", "-7").
//   - biginteger: a string of decimal digits with an optional '-', within
//     the int64 range, from an integral JSON number or a string of digits.
//   - float, decimal: a finite float64, from a JSON number or a numeric
//     string ("1.5").
//   - boolean: bool, from true/false or the strings "true"/"false"; 1 and 0
//     are refused, so a client sending them learns of its mistake.
//   - date: "YYYY-MM-DD"; an RFC 3339 datetime is accepted and keeps the
//     date as written, before the 'T'.
//   - time: "HH:MM", "HH:MM:SS" or "HH:MM:SS.fff..." become "HH:MM:SS.mmm".
//   - datetime: see ParseDateTime; stored as FormatDateTime writes it.
//   - json: any JSON value, kept as it is.
//
// A nil v (JSON null) returns nil without error. Length, pattern and bound
// options are not checked here: ValidValue checks them. Any problem is a
// *ValueError naming a.
func NormalizeValue(a *Attribute, v any) (any, error) {
	return wrapValue(a, v, normalize)
}

// CoerceValue converts v to the Go type Herald stores for a's type, like
// NormalizeValue, but does not check the formats of text types (email, uid,
// enumeration membership): any string without NUL is accepted for them. The
// query compiler uses it for filter values, where "$contains" takes a
// fragment and "$eq" a value that merely matches nothing.
func CoerceValue(a *Attribute, v any) (any, error) {
	return wrapValue(a, v, coerce)
}

// ValidValue reports whether v is a valid value of a as publishing requires
// it: NormalizeValue's rules, then minLength, maxLength, regex, min and max.
// The empty string counts as no value for text types, so it passes length,
// pattern and email checks. A nil v is valid: requiredness is checked by
// Prepare. The error is a *ValueError naming a.
func (a *Attribute) ValidValue(v any) error {
	n, err := NormalizeValue(a, v)
	if err != nil || n == nil {
		return err
	}
	if err := a.checkConstraints(n, false); err != nil {
		return &ValueError{Attribute: a.Name, Problem: err.Error()}
	}
	return nil
}

// wrapValue runs a conversion, turning its problem into a *ValueError.
func wrapValue(a *Attribute, v any, conv func(*Attribute, any) (any, error)) (any, error) {
	if v == nil {
		return nil, nil
	}
	out, err := conv(a, v)
	if err != nil {
		return nil, &ValueError{Attribute: a.Name, Problem: err.Error()}
	}
	return out, nil
}

// normalize converts v for a's type and checks the type's format.
func normalize(a *Attribute, v any) (any, error) {
	switch a.Type {
	case TypeEmail:
		return toEmail(v)
	case TypeUID:
		return toUID(v)
	case TypeEnumeration:
		return toEnum(v, a.Enum)
	}
	return coerce(a, v)
}

// coerce converts v for a's type; text types only need to be strings.
func coerce(a *Attribute, v any) (any, error) {
	switch a.Type {
	case TypeString, TypeText, TypeRichText, TypeEmail, TypeUID, TypeEnumeration:
		return toText(v)
	case TypeInteger:
		return toInteger(v, math.MinInt32, math.MaxInt32)
	case TypeBigInteger:
		n, err := toInteger(v, math.MinInt64, math.MaxInt64)
		return strconv.FormatInt(n, 10), err
	case TypeFloat, TypeDecimal:
		return toFloat(v)
	case TypeBoolean:
		return toBool(v)
	case TypeDate:
		return toDate(v)
	case TypeTime:
		return toTimeOfDay(v)
	case TypeDateTime:
		return toDateTime(v)
	case TypeJSON:
		return v, checkJSON(v)
	}
	return nil, problemf("has the unsupported type %q", a.Type)
}

// toText accepts a string that PostgreSQL's jsonb can store: valid UTF-8
// without the NUL character.
func toText(v any) (string, error) {
	s, ok := v.(string)
	switch {
	case !ok:
		return "", problem("must be a string")
	case !utf8.ValidString(s):
		return "", problem("must be valid UTF-8 text")
	case strings.ContainsRune(s, 0):
		return "", problem("must not contain the NUL character")
	}
	return s, nil
}

// toEmail accepts a bare address ("ada@example.com", not "Ada
// <ada@example.com>") or the empty string.
func toEmail(v any) (string, error) {
	s, err := toText(v)
	if err != nil || s == "" {
		return s, err
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		return "", problem("must be a valid email address")
	}
	return s, nil
}

// toUID accepts a string of URL-safe characters.
func toUID(v any) (string, error) {
	s, err := toText(v)
	if err != nil {
		return "", err
	}
	if !uidPattern.MatchString(s) {
		return "", problem("must contain only letters, digits and the characters - _ . ~")
	}
	return s, nil
}

// toEnum accepts one of the listed values.
func toEnum(v any, enum []string) (string, error) {
	s, err := toText(v)
	if err != nil {
		return "", err
	}
	if !slices.Contains(enum, s) {
		return "", problemf("must be one of: %s", strings.Join(enum, ", "))
	}
	return s, nil
}

// toInteger accepts an integral number, or a string of digits, within
// [lo, hi].
func toInteger(v any, lo, hi int64) (int64, error) {
	text, ok := numberString(v)
	if s, isString := v.(string); isString && digitsPattern.MatchString(s) {
		text, ok = s, true
	}
	if !ok {
		return 0, problem("must be an integer")
	}
	n, err := exactInteger(text)
	if err == errTooLarge || (err == nil && (n < lo || n > hi)) {
		return 0, problemf("must be an integer between %d and %d", lo, hi)
	}
	return n, err
}

// toFloat accepts a finite number or a numeric string.
func toFloat(v any) (float64, error) {
	text, ok := numberString(v)
	if s, isString := v.(string); isString && numberPattern.MatchString(s) {
		text, ok = s, true
	}
	if !ok {
		return 0, problem("must be a number")
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, problem("must be a number within the range of a 64-bit float")
	}
	return f, nil
}

// toBool accepts true, false, "true" and "false".
func toBool(v any) (bool, error) {
	switch b := v.(type) {
	case bool:
		return b, nil
	case string:
		if b == "true" || b == "false" {
			return b == "true", nil
		}
	}
	return false, problem("must be a boolean (true or false)")
}

// checkJSON accepts what encoding/json produces (and Go numbers), with no
// NUL character in any string or key, since jsonb cannot store one.
func checkJSON(v any) error {
	switch x := v.(type) {
	case nil, bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return nil
	case json.Number:
		if !numberPattern.MatchString(string(x)) {
			return problemf("contains an invalid number %q", string(x))
		}
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return problem("must not contain an infinite number")
		}
	case float32:
		return checkJSON(float64(x))
	case string:
		_, err := toText(x)
		return err
	case []any:
		for _, e := range x {
			if err := checkJSON(e); err != nil {
				return err
			}
		}
	case map[string]any:
		for k, e := range x {
			if _, err := toText(k); err != nil {
				return err
			}
			if err := checkJSON(e); err != nil {
				return err
			}
		}
	default:
		return problem("must be a JSON value")
	}
	return nil
}

// numberString returns the decimal text of a JSON or Go number, or false
// when v is not one (strings included).
func numberString(v any) (string, bool) {
	switch n := v.(type) {
	case json.Number:
		return string(n), numberPattern.MatchString(string(n))
	case float64:
		finite := !math.IsInf(n, 0) && !math.IsNaN(n)
		return strconv.FormatFloat(n, 'g', -1, 64), finite
	case float32:
		return numberString(float64(n))
	case int:
		return strconv.FormatInt(int64(n), 10), true
	case int8:
		return strconv.FormatInt(int64(n), 10), true
	case int16:
		return strconv.FormatInt(int64(n), 10), true
	case int32:
		return strconv.FormatInt(int64(n), 10), true
	case int64:
		return strconv.FormatInt(n, 10), true
	case uint:
		return strconv.FormatUint(uint64(n), 10), true
	case uint8:
		return strconv.FormatUint(uint64(n), 10), true
	case uint16:
		return strconv.FormatUint(uint64(n), 10), true
	case uint32:
		return strconv.FormatUint(uint64(n), 10), true
	case uint64:
		return strconv.FormatUint(n, 10), true
	}
	return "", false
}

// Reasons exactInteger refuses a number.
var (
	errNotInteger = problem("must be an integer")
	errTooLarge   = problem("is too large")
)

// exactInteger returns the integer a decimal number (numberPattern) denotes,
// exactly, without floating point: "1.0" and "1e3" are integers, "1.5" and
// "1e-3" are not (errNotInteger), and anything outside the int64 range is
// errTooLarge. It works on the digits, so a huge exponent costs nothing.
func exactInteger(text string) (int64, error) {
	sign, digits, point, ok := splitNumber(text)
	if !ok {
		return 0, errNotInteger
	}
	if digits == "" {
		return 0, nil
	}
	if point < len(digits) {
		// Digits after the decimal point must all be zeros. After
		// splitNumber, digits starts with a non-zero digit, so a point at or
		// before 0 leaves a non-zero fraction.
		if point <= 0 || strings.Trim(digits[point:], "0") != "" {
			return 0, errNotInteger
		}
		digits = digits[:point]
	}
	if point > 19 {
		return 0, errTooLarge
	}
	digits += strings.Repeat("0", point-len(digits))
	n, err := strconv.ParseInt(sign+digits, 10, 64)
	if err != nil {
		return 0, errTooLarge
	}
	return n, nil
}

// splitNumber splits a decimal number into its sign ("" or "-"), its
// significant digits without leading zeros, and the position of the decimal
// point within those digits (which may lie outside them). Exponents beyond
// a million are clamped: they only decide between zero, a fraction and too
// large.
func splitNumber(text string) (sign, digits string, point int, ok bool) {
	if !numberPattern.MatchString(text) {
		return "", "", 0, false
	}
	if strings.HasPrefix(text, "-") {
		sign, text = "-", text[1:]
	}
	mantissa, exponent, _ := strings.Cut(strings.ToLower(text), "e")
	intPart, frac, _ := strings.Cut(mantissa, ".")
	exp := 0
	if exponent != "" {
		e, err := strconv.Atoi(exponent)
		if err != nil || e > 1e6 || e < -1e6 {
			e = 1e6
			if strings.HasPrefix(exponent, "-") {
				e = -1e6
			}
		}
		exp = e
	}
	digits = intPart + frac
	point = len(intPart) + exp
	for digits != "" && digits[0] == '0' {
		digits = digits[1:]
		point--
	}
	return sign, digits, point, true
}

// isLengthType reports whether minLength, maxLength and regex apply.
func isLengthType(typ string) bool {
	switch typ {
	case TypeString, TypeText, TypeRichText, TypeEmail, TypeUID:
		return true
	}
	return false
}

// checkConstraints checks a normalised value against a's length, pattern
// and bound options. The empty string is no value and passes. Drafts may be
// incomplete, so minLength is not enforced on them.
func (a *Attribute) checkConstraints(v any, draft bool) error {
	switch {
	case a.IsNumeric():
		return a.checkBounds(v)
	case isLengthType(a.Type):
		s, _ := v.(string)
		if s == "" {
			return nil
		}
		return a.checkText(s, draft)
	}
	return nil
}

// checkText checks minLength and maxLength (in characters) and regex.
func (a *Attribute) checkText(s string, draft bool) error {
	n := utf8.RuneCountInString(s)
	if a.MinLength != nil && !draft && n < *a.MinLength {
		return problemf("must be at least %d characters", *a.MinLength)
	}
	if a.MaxLength != nil && n > *a.MaxLength {
		return problemf("must be at most %d characters", *a.MaxLength)
	}
	if a.Regex != "" {
		re, err := compileRegex(a.Regex)
		if err == nil && !re.MatchString(s) {
			return problemf("must match the pattern %s", a.Regex)
		}
	}
	return nil
}

// checkBounds checks min and max. A bound that is not a valid value of the
// type (which Validate refuses) is ignored.
func (a *Attribute) checkBounds(v any) error {
	if a.Min != nil && a.compare(v, *a.Min) < 0 {
		return problemf("must be at least %s", a.Min.String())
	}
	if a.Max != nil && a.compare(v, *a.Max) > 0 {
		return problemf("must be at most %s", a.Max.String())
	}
	return nil
}

// compare returns -1, 0 or +1 as the normalised numeric value v is below,
// at or above bound, and 0 when either cannot be read.
func (a *Attribute) compare(v any, bound json.Number) int {
	switch x := v.(type) {
	case int64:
		return compareInt(x, bound)
	case string: // biginteger
		n, err := strconv.ParseInt(x, 10, 64)
		if err != nil {
			return 0
		}
		return compareInt(n, bound)
	case float64:
		b, err := strconv.ParseFloat(string(bound), 64)
		if err != nil {
			return 0
		}
		return cmpOrdered(x, b)
	}
	return 0
}

// compareInt compares an integer with an integral bound.
func compareInt(n int64, bound json.Number) int {
	b, err := exactInteger(string(bound))
	if err != nil {
		return 0
	}
	return cmpOrdered(n, b)
}

// cmpOrdered returns -1, 0 or +1.
func cmpOrdered[T int64 | float64](x, y T) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// regexCache keeps compiled attribute patterns: values are checked on
// every write and a content type's patterns rarely change.
var regexCache = struct {
	sync.Mutex
	m map[string]*regexp.Regexp
}{m: map[string]*regexp.Regexp{}}

// regexCacheSize bounds the cache; beyond it patterns are compiled anew.
const regexCacheSize = 1024

// compileRegex compiles a pattern with Go's regexp (RE2 syntax: no
// look-around or back-references), through the cache.
func compileRegex(pattern string) (*regexp.Regexp, error) {
	regexCache.Lock()
	defer regexCache.Unlock()
	if re, ok := regexCache.m[pattern]; ok {
		return re, nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, err
	}
	if len(regexCache.m) < regexCacheSize {
		regexCache.m[pattern] = re
	}
	return re, nil
}
