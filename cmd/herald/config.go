package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"math/big"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/herald-cms/herald/content"
)

// Config holds the settings of `herald serve`. LoadConfig fills it from
// flags, HERALD_* environment variables and defaults, and validates it;
// EnsureSecrets then supplies secrets that were not given.
//
// Config never prints its secrets: String, Format, LogValue and MarshalJSON
// redact JWTSecret, TokenSalt, MetricsToken and any password in DatabaseURL.
type Config struct {
	// Addr is the host:port to listen on.
	Addr string
	// DataDir holds the SQLite database, uploads and generated secrets.
	DataDir string
	// DatabaseURL is a postgres:// or postgresql:// URL, or a SQLite path
	// (also as sqlite://path or file:path). Empty means herald.db in DataDir.
	DatabaseURL string
	// JWTSecret signs admin session tokens; at least 32 bytes.
	JWTSecret string
	// TokenSalt keys the HMAC under which API tokens are stored; at least
	// 32 bytes.
	TokenSalt string
	// LogLevel is the lowest level logged.
	LogLevel slog.Level
	// LogFormat is "text" or "json".
	LogFormat string
	// BodyLimit is the largest JSON request body in bytes.
	BodyLimit int64
	// UploadLimit is the largest upload in bytes.
	UploadLimit int64
	// SessionTTL is how long an admin session lasts.
	SessionTTL time.Duration
	// CORSOrigins are the origins allowed to call the API cross-origin,
	// each a scheme and host (with an optional port) or "*".
	CORSOrigins []string
	// TrustedProxies are the proxies whose forwarding headers are believed
	// when finding a client's address.
	TrustedProxies []netip.Prefix
	// PublicRegistration lets anyone sign up as an end user.
	PublicRegistration bool
	// MetricsToken is the bearer token /metrics needs; empty turns
	// /metrics off.
	MetricsToken string
	// WebhookAllowedNetworks are ranges webhooks may reach even though the
	// SSRF guard refuses them by default.
	WebhookAllowedNetworks []netip.Prefix
	// WebhookRetrySchedule is the delay before each retry of a delivery.
	WebhookRetrySchedule []time.Duration
	// WebhookTimeout limits one delivery attempt.
	WebhookTimeout time.Duration
	// WebhookWorkers is how many deliveries may be in flight at once.
	WebhookWorkers int
	// WebhookPerEndpoint is how many deliveries to one webhook may be in
	// flight at once; at most WebhookWorkers.
	WebhookPerEndpoint int
	// WebhookDisableAfter is how long a webhook may fail every attempt
	// before it is auto-disabled.
	WebhookDisableAfter time.Duration
	// WebhookRetention is how long deliveries and attempts are kept.
	WebhookRetention time.Duration
	// Dev is set by the --dev flag. With it, and with no
	// HERALD_WEBHOOK_ALLOWED_NETWORKS given, webhooks may reach loopback.
	Dev bool
}

// minSecretLen is the shortest JWT secret or token salt accepted, in bytes.
const minSecretLen = 32

// Names of the files in the data directory that keep generated secrets.
const (
	jwtSecretFile = "jwt-secret"
	tokenSaltFile = "token-salt"
)

// devNetworks are opened to webhooks by --dev: the loopback ranges.
var devNetworks = []netip.Prefix{
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("::1/128"),
}

// setting describes one configuration value: its flag, its environment
// variable, its default and how a given value is parsed into a Config.
type setting struct {
	flag   string // flag name without dashes
	env    string // environment variable; empty for flag-only settings
	def    string // default, parsed like a given value
	shown  string // the default as --help shows it; def when empty
	usage  string
	isBool bool
	// parse stores v into c or returns an error that does not name the
	// setting; the caller adds the name the user typed.
	parse func(c *Config, v string) error
}

// settings lists every setting in the order --help shows them.
var settings = []setting{
	{flag: "addr", env: "HERALD_ADDR", def: ":1337",
		usage: "address to listen on, host:port",
		parse: into(func(c *Config) *string { return &c.Addr }, parseAddr)},
	{flag: "data-dir", env: "HERALD_DATA_DIR", def: "./data",
		usage: "directory for the SQLite database, uploads and generated secrets",
		parse: into(func(c *Config) *string { return &c.DataDir }, parseString)},
	{flag: "database-url", env: "HERALD_DATABASE_URL",
		shown: "SQLite herald.db in the data directory",
		usage: "postgres:// URL, or a SQLite file path",
		parse: into(func(c *Config) *string { return &c.DatabaseURL }, parseDatabaseURL)},
	{flag: "jwt-secret", env: "HERALD_JWT_SECRET",
		shown: "generated into the data directory; required with PostgreSQL",
		usage: "key signing admin sessions, at least 32 bytes",
		parse: into(func(c *Config) *string { return &c.JWTSecret }, parseSecret)},
	{flag: "token-salt", env: "HERALD_TOKEN_SALT",
		shown: "generated into the data directory; required with PostgreSQL",
		usage: "key under which API tokens are stored, at least 32 bytes",
		parse: into(func(c *Config) *string { return &c.TokenSalt }, parseSecret)},
	{flag: "log-level", env: "HERALD_LOG_LEVEL", def: "info",
		usage: "debug, info, warn or error",
		parse: into(func(c *Config) *slog.Level { return &c.LogLevel }, parseLogLevel)},
	{flag: "log-format", env: "HERALD_LOG_FORMAT", def: "text",
		usage: "text or json",
		parse: into(func(c *Config) *string { return &c.LogFormat }, parseLogFormat)},
	{flag: "body-limit", env: "HERALD_BODY_LIMIT", def: "1MiB",
		usage: "largest JSON request body",
		parse: into(func(c *Config) *int64 { return &c.BodyLimit }, ParseSize)},
	{flag: "upload-limit", env: "HERALD_UPLOAD_LIMIT", def: "50MiB",
		usage: "largest upload",
		parse: into(func(c *Config) *int64 { return &c.UploadLimit }, ParseSize)},
	{flag: "session-ttl", env: "HERALD_SESSION_TTL", def: "8h",
		usage: "how long an admin session lasts",
		parse: into(func(c *Config) *time.Duration { return &c.SessionTTL }, ParseDuration)},
	{flag: "cors-origins", env: "HERALD_CORS_ORIGINS", shown: "none",
		usage: "origins allowed to call the API, such as https://example.com, or *",
		parse: into(func(c *Config) *[]string { return &c.CORSOrigins }, parseOrigins)},
	{flag: "trusted-proxies", env: "HERALD_TRUSTED_PROXIES", shown: "none",
		usage: "addresses or CIDRs of proxies whose forwarding headers are believed",
		parse: into(func(c *Config) *[]netip.Prefix { return &c.TrustedProxies }, parsePrefixes)},
	{flag: "public-registration", env: "HERALD_PUBLIC_REGISTRATION", def: "false",
		usage: "let anyone sign up as an end user", isBool: true,
		parse: into(func(c *Config) *bool { return &c.PublicRegistration }, parseBool)},
	{flag: "metrics-token", env: "HERALD_METRICS_TOKEN", shown: "none: /metrics is off",
		usage: "bearer token /metrics requires",
		parse: into(func(c *Config) *string { return &c.MetricsToken }, parseString)},
	{flag: "webhook-allowed-networks", env: "HERALD_WEBHOOK_ALLOWED_NETWORKS",
		shown: "none (loopback with --dev)",
		usage: "CIDRs or addresses webhooks may reach despite the SSRF guard",
		parse: into(func(c *Config) *[]netip.Prefix {
			return &c.WebhookAllowedNetworks
		}, parsePrefixes)},
	{flag: "webhook-retry-schedule", env: "HERALD_WEBHOOK_RETRY_SCHEDULE",
		def:   "5s,5m,30m,2h,5h,10h,10h",
		usage: "delay before each retry of a webhook delivery",
		parse: into(func(c *Config) *[]time.Duration {
			return &c.WebhookRetrySchedule
		}, parseSchedule)},
	{flag: "webhook-timeout", env: "HERALD_WEBHOOK_TIMEOUT", def: "15s",
		usage: "time limit of one delivery attempt",
		parse: into(func(c *Config) *time.Duration { return &c.WebhookTimeout }, ParseDuration)},
	{flag: "webhook-workers", env: "HERALD_WEBHOOK_WORKERS", def: "32",
		usage: "deliveries in flight at once, 1 to 1024",
		parse: into(func(c *Config) *int { return &c.WebhookWorkers }, intIn(1, 1024))},
	{flag: "webhook-per-endpoint", env: "HERALD_WEBHOOK_PER_ENDPOINT", def: "4",
		usage: "deliveries in flight to one webhook, 1 to the number of workers",
		parse: into(func(c *Config) *int {
			return &c.WebhookPerEndpoint
		}, intIn(1, math.MaxInt))},
	{flag: "webhook-disable-after", env: "HERALD_WEBHOOK_DISABLE_AFTER", def: "5d",
		usage: "auto-disable a webhook whose attempts have all failed this long",
		parse: into(func(c *Config) *time.Duration {
			return &c.WebhookDisableAfter
		}, ParseDuration)},
	{flag: "webhook-retention", env: "HERALD_WEBHOOK_RETENTION", def: "30d",
		usage: "how long deliveries and their attempts are kept",
		parse: into(func(c *Config) *time.Duration {
			return &c.WebhookRetention
		}, ParseDuration)},
	{flag: "dev", def: "false", isBool: true,
		usage: "development mode: webhooks may reach loopback unless " +
			"allowed networks are given",
		parse: into(func(c *Config) *bool { return &c.Dev }, parseBool)},
}

// into returns a setting's parse function that stores what parse returns
// in the field ptr picks.
func into[T any](ptr func(*Config) *T, parse func(string) (T, error)) func(*Config, string) error {
	return func(c *Config, v string) error {
		x, err := parse(v)
		if err != nil {
			return err
		}
		*ptr(c) = x
		return nil
	}
}

// LoadConfig reads the settings of `herald serve` from args (the arguments
// after "serve"), then from the environment through getenv (nil means an
// empty environment), then from the defaults: a flag wins over its
// variable, which wins over the default. An empty value counts as not given.
//
// It validates everything in one pass and returns every problem at once,
// joined with errors.Join, each naming the flag or variable the value came
// from. With -h or --help it prints the usage to standard error and returns
// flag.ErrHelp. It neither reads nor generates secrets, nor requires them
// with PostgreSQL (`herald migrate` needs none): see EnsureSecrets.
func LoadConfig(args []string, getenv func(string) string) (Config, error) {
	return loadConfig(args, getenv, os.Stderr)
}

// loadConfig is LoadConfig with the help text written to usage.
func loadConfig(args []string, getenv func(string) string, usage io.Writer) (Config, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}

	fs := flag.NewFlagSet("herald serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	given := make(map[string]*flagValue, len(settings))
	for _, s := range settings {
		v := &flagValue{isBool: s.isBool}
		given[s.flag] = v
		fs.Var(v, s.flag, s.usage)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(usage)
			return Config{}, err
		}
		return Config{}, fmt.Errorf("herald serve: %w (see herald serve --help)", err)
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("herald serve: unexpected argument %q "+
			"(see herald serve --help)", fs.Arg(0))
	}

	var c Config
	var errs []error
	labels := make(map[string]string, len(settings))
	for _, s := range settings {
		raw, label := s.def, ""
		if v := given[s.flag]; v.set {
			raw, label = v.value, "--"+s.flag
		} else if s.env != "" {
			if e := getenv(s.env); e != "" {
				raw, label = e, s.env
			}
		}
		labels[s.flag] = label
		if raw == "" {
			raw = s.def
		}
		if err := s.parse(&c, raw); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", nameOf(s, label), err))
		}
	}
	errs = append(errs, c.crossCheck(labels)...)

	if c.Dev && labels["webhook-allowed-networks"] == "" {
		c.WebhookAllowedNetworks = append([]netip.Prefix(nil), devNetworks...)
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return c, nil
}

// nameOf is how an error names setting s whose value came from label (a
// flag or variable name, or "" for the default).
func nameOf(s setting, label string) string {
	switch {
	case label != "":
		return label
	case s.env != "":
		return s.env
	default:
		return "--" + s.flag
	}
}

// crossCheck validates settings that depend on each other. labels maps
// each flag name to where its value came from, as in LoadConfig.
func (c *Config) crossCheck(labels map[string]string) []error {
	name := func(flagName string) string {
		for _, s := range settings {
			if s.flag == flagName {
				return nameOf(s, labels[flagName])
			}
		}
		return "--" + flagName
	}

	var errs []error
	if c.WebhookWorkers > 0 && c.WebhookPerEndpoint > c.WebhookWorkers {
		errs = append(errs, fmt.Errorf("%s: want 1 to %s (%d), got %d",
			name("webhook-per-endpoint"), name("webhook-workers"),
			c.WebhookWorkers, c.WebhookPerEndpoint))
	}
	return errs
}

// flagValue records a flag's raw text so that LoadConfig can parse flags
// and variables the same way and tell a given flag from an absent one.
type flagValue struct {
	value  string
	set    bool
	isBool bool
}

// String implements flag.Value.
func (v *flagValue) String() string { return v.value }

// Set implements flag.Value. It never fails: LoadConfig parses the value
// later, so that every problem is reported together.
func (v *flagValue) Set(s string) error {
	v.value, v.set = s, true
	return nil
}

// IsBoolFlag lets boolean settings be given as a bare --flag.
func (v *flagValue) IsBoolFlag() bool { return v.isBool }

// printUsage writes the help of `herald serve` to w: every flag with its
// variable, default and meaning.
func printUsage(w io.Writer) {
	fmt.Fprint(w, `Usage: herald serve [flags]

Runs Herald. Every flag can also be given as its HERALD_* environment
variable; a flag wins over its variable, which wins over the default.
Durations take Go's syntax (90s, 15m, 720h) and days (30d); sizes take B,
KB, KiB, MB, MiB, GB or GiB (1MiB, 512KiB); lists are comma-separated.

`)
	for _, s := range settings {
		env := s.env
		if env == "" {
			env = "flag only"
		}
		def := s.shown
		if def == "" {
			def = s.def
		}
		fmt.Fprintf(w, "  --%s  (%s)\n        %s (default: %s)\n", s.flag, env, s.usage, def)
	}
}

// The parsers below return errors that start with "want" and do not name
// the setting: LoadConfig prefixes the name the user typed.

func parseString(s string) (string, error) { return s, nil }

func parseAddr(s string) (string, error) {
	bad := fmt.Errorf("want host:port such as :1337 or 127.0.0.1:8080, got %q", s)
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", bad
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return "", bad
	}
	return s, nil
}

func parseDatabaseURL(s string) (string, error) {
	if content.IsPostgresURL(s) {
		if _, err := url.Parse(s); err != nil {
			// url.Parse's error repeats the URL, password included.
			return "", errors.New("want a valid URL such as " +
				"postgres://user:password@host:5432/herald, got one that does not parse " +
				"(percent-encode special characters in the password)")
		}
		return s, nil
	}
	scheme, _, hasScheme := strings.Cut(s, "://")
	if hasScheme && scheme != "sqlite" && scheme != "file" {
		return "", fmt.Errorf("want a postgres:// or postgresql:// URL, or a SQLite "+
			"path such as ./data/herald.db or sqlite://herald.db, got scheme %q", scheme)
	}
	if s != "" && content.SQLitePath(s, "") == "" {
		return "", fmt.Errorf("want a SQLite path such as ./data/herald.db or "+
			"sqlite://herald.db, got %q with no path", s)
	}
	return s, nil
}

func parseSecret(s string) (string, error) {
	if s != "" && len(s) < minSecretLen {
		// The value itself is never repeated: it is a secret.
		return "", fmt.Errorf("want at least %d bytes, got %d "+
			"(make one with: openssl rand -hex 32)", minSecretLen, len(s))
	}
	return s, nil
}

func parseLogLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("want one of debug, info, warn, error, got %q", s)
}

func parseLogFormat(s string) (string, error) {
	f := strings.ToLower(s)
	if f != "text" && f != "json" {
		return "", fmt.Errorf("want text or json, got %q", s)
	}
	return f, nil
}

func parseBool(s string) (bool, error) {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, fmt.Errorf("want true or false, got %q", s)
	}
	return b, nil
}

// intIn returns a parser of whole numbers from lo to hi.
func intIn(lo, hi int) func(string) (int, error) {
	return func(s string) (int, error) {
		n, err := strconv.Atoi(s)
		if err != nil || n < lo || n > hi {
			if hi == math.MaxInt {
				return 0, fmt.Errorf("want a whole number of at least %d, got %q", lo, s)
			}
			return 0, fmt.Errorf("want a whole number from %d to %d, got %q", lo, hi, s)
		}
		return n, nil
	}
}

// splitList splits a comma-separated list, trimming spaces around items
// and dropping empty ones.
func splitList(s string) []string {
	var items []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			items = append(items, item)
		}
	}
	return items
}

// parseOrigins accepts origins as browsers send them in the Origin header:
// scheme and host, with an optional port, or "*" for any. Any scheme is
// allowed because mobile shells use their own (capacitor://localhost).
func parseOrigins(s string) ([]string, error) {
	var origins []string
	for _, item := range splitList(s) {
		if item == "*" {
			origins = append(origins, item)
			continue
		}
		u, err := url.Parse(strings.TrimSuffix(item, "/"))
		if err != nil || u.Scheme == "" || u.Host == "" || u.User != nil ||
			u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" ||
			strings.HasSuffix(u.Host, ":") {
			return nil, fmt.Errorf("want origins such as https://example.com or "+
				"http://localhost:3000 (scheme and host, no path), or *, got %q", item)
		}
		origins = append(origins, strings.ToLower(u.Scheme)+"://"+strings.ToLower(u.Host))
	}
	return origins, nil
}

// parsePrefixes accepts CIDR ranges and bare addresses; an address becomes
// a range holding only itself. Host bits of a range are cleared.
func parsePrefixes(s string) ([]netip.Prefix, error) {
	var prefixes []netip.Prefix
	for _, item := range splitList(s) {
		p, err := parsePrefix(item)
		if err != nil {
			return nil, fmt.Errorf("want addresses or CIDR ranges such as "+
				"10.0.0.0/8, 192.168.1.5 or fd00::/8, got %q", item)
		}
		prefixes = append(prefixes, p)
	}
	return prefixes, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if a.Zone() != "" {
		return netip.Prefix{}, errors.New("addresses with a zone are not ranges")
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func parseSchedule(s string) ([]time.Duration, error) {
	items := splitList(s)
	if len(items) == 0 {
		return nil, fmt.Errorf("want at least one delay, such as 5s,5m,30m, got %q", s)
	}
	schedule := make([]time.Duration, 0, len(items))
	for _, item := range items {
		d, err := ParseDuration(item)
		if err != nil {
			return nil, err
		}
		schedule = append(schedule, d)
	}
	return schedule, nil
}

// sizeUnits maps each size unit, in lower case, to its number of bytes.
var sizeUnits = map[string]int64{
	"": 1, "b": 1,
	"kb": 1e3, "kib": 1 << 10,
	"mb": 1e6, "mib": 1 << 20,
	"gb": 1e9, "gib": 1 << 30,
}

// ParseSize parses a size in bytes: a number with an optional unit, B, KB,
// KiB, MB, MiB, GB or GiB, in any case ("1MiB", "512kib", "50MB", "1024").
// KB, MB and GB are powers of 1000; KiB, MiB and GiB powers of 1024. With a
// unit the number may have a fraction ("1.5MiB") and the result is rounded
// down to whole bytes; a bare byte count must be whole. The result must be
// above zero. Errors start with "want" and quote s.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	num, unit := t, ""
	if i := strings.IndexFunc(t, func(r rune) bool {
		return (r < '0' || r > '9') && r != '.'
	}); i >= 0 {
		num, unit = t[:i], strings.TrimSpace(t[i:])
	}
	mult, ok := sizeUnits[strings.ToLower(unit)]
	if !ok || !isDecimal(num) || (mult == 1 && strings.Contains(num, ".")) {
		return 0, fmt.Errorf("want a size such as 1MiB or 512KiB, got %q", s)
	}
	n, ok := scaleDecimal(num, mult)
	if !ok {
		return 0, fmt.Errorf("want a size below 8EiB, got %q", s)
	}
	if n <= 0 {
		return 0, fmt.Errorf("want a size above zero, such as 1MiB, got %q", s)
	}
	return n, nil
}

// ParseDuration parses a duration in Go's syntax ("90s", "15m", "720h",
// "1h30m") that may start with a number of days ("30d", "1d12h", "1.5d"),
// a day being 24 hours. The result must be above zero. Errors start with
// "want" and quote s.
func ParseDuration(s string) (time.Duration, error) {
	bad := fmt.Errorf("want a duration such as 90s, 15m, 720h or 30d, got %q", s)
	t := strings.TrimSpace(s)
	var d time.Duration
	days, rest, hasDays := strings.Cut(t, "d")
	if hasDays {
		if !isDecimal(days) || strings.ContainsAny(rest, "d+-") {
			return 0, bad
		}
		n, ok := scaleDecimal(days, int64(24*time.Hour))
		if !ok {
			return 0, fmt.Errorf("want a duration below 290 years, got %q", s)
		}
		d, t = time.Duration(n), rest
	}
	if t != "" || !hasDays {
		g, err := time.ParseDuration(t)
		if err != nil {
			return 0, bad
		}
		if g > math.MaxInt64-d {
			return 0, fmt.Errorf("want a duration below 290 years, got %q", s)
		}
		d += g
	}
	if d <= 0 {
		return 0, fmt.Errorf("want a duration above zero, such as 90s or 30d, got %q", s)
	}
	return d, nil
}

// isDecimal reports whether s is digits with at most one decimal point
// between digits: "12", "1.5", not "1.", ".5", "1e3" or "-1".
func isDecimal(s string) bool {
	whole, frac, hasFrac := strings.Cut(s, ".")
	digits := func(p string) bool {
		return p != "" && strings.Trim(p, "0123456789") == ""
	}
	return digits(whole) && (!hasFrac || digits(frac))
}

// scaleDecimal multiplies the decimal number num by unit exactly and rounds
// down; ok is false when the result does not fit in an int64.
func scaleDecimal(num string, unit int64) (n int64, ok bool) {
	r, ok := new(big.Rat).SetString(num)
	if !ok {
		return 0, false
	}
	r.Mul(r, new(big.Rat).SetInt64(unit))
	q := new(big.Int).Quo(r.Num(), r.Denom())
	if !q.IsInt64() {
		return 0, false
	}
	return q.Int64(), true
}

// EnsureSecrets fills in JWTSecret and TokenSalt when they are empty.
//
// With SQLite each missing secret is read from its file in DataDir
// (jwt-secret, token-salt), and on first run generated there: 32 random
// bytes, hex-encoded, in a new file of mode 0600, written to a temporary
// file first and then linked into place so that a crash never leaves half a
// secret and an existing file is never overwritten. DataDir is created with
// mode 0700 when missing.
//
// With PostgreSQL both secrets are required and nothing is generated, since
// every instance sharing the database must use the same values. A secret
// shorter than 32 bytes, given or read from a file, is an error naming it.
func (c *Config) EnsureSecrets() error {
	var errs []error
	for _, s := range c.secrets() {
		if _, err := parseSecret(*s.value); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.env, err))
		}
		if *s.value == "" && content.IsPostgresURL(c.DatabaseURL) {
			errs = append(errs, fmt.Errorf("%s (--%s): required when "+
				"HERALD_DATABASE_URL is a PostgreSQL URL, because every Herald instance "+
				"sharing the database must use the same value "+
				"(make one with: openssl rand -hex 32)", s.env, s.flag))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}

	for _, s := range c.secrets() {
		if *s.value != "" {
			continue
		}
		if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
			return fmt.Errorf("create data directory for %s: %w", s.env, err)
		}
		v, err := secretFromFile(filepath.Join(c.DataDir, s.file))
		if err != nil {
			return fmt.Errorf("%s: %w", s.env, err)
		}
		*s.value = v
	}
	return nil
}

// namedSecret ties a secret field to its variable and its file.
type namedSecret struct {
	value *string
	env   string
	flag  string
	file  string
}

func (c *Config) secrets() []namedSecret {
	return []namedSecret{
		{&c.JWTSecret, "HERALD_JWT_SECRET", "jwt-secret", jwtSecretFile},
		{&c.TokenSalt, "HERALD_TOKEN_SALT", "token-salt", tokenSaltFile},
	}
}

// secretFromFile returns the secret kept in path, generating the file when
// it does not exist.
func secretFromFile(path string) (string, error) {
	secret, err := readSecret(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return secret, err
	}

	b := make([]byte, minSecretLen)
	rand.Read(b) // never fails: crypto/rand crashes the program instead
	secret = hex.EncodeToString(b)
	err = createFile(path, []byte(secret+"\n"), 0o600)
	if errors.Is(err, fs.ErrExist) {
		// Another process starting on the same data directory won the race.
		return readSecret(path)
	}
	if err != nil {
		return "", fmt.Errorf("generate secret: %w", err)
	}
	return secret, nil
}

// readSecret reads a secret file, ignoring surrounding white space. Errors
// from reading wrap the os error, so fs.ErrNotExist can be tested.
func readSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read secret: %w", err)
	}
	secret := strings.TrimSpace(string(b))
	if len(secret) < minSecretLen {
		return "", fmt.Errorf("secret file %s: want at least %d bytes, got %d",
			path, minSecretLen, len(secret))
	}
	return secret, nil
}

// createFile atomically creates path holding data with the given mode. It
// fails with an error matching fs.ErrExist when path already exists, and
// never overwrites it.
func createFile(path string, data []byte, mode fs.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())

	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}

	// A hard link, unlike a rename, refuses to replace an existing file.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		// Some file systems have no hard links; fall back to a rename,
		// which can only lose a race no other process should be running.
		if _, statErr := os.Lstat(path); statErr == nil {
			return &fs.PathError{Op: "create", Path: path, Err: fs.ErrExist}
		}
		if err := os.Rename(tmp.Name(), path); err != nil {
			return err
		}
	}

	// Make the new directory entry durable. Some systems cannot sync a
	// directory; the file itself is already synced, so that is no failure.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// redacted stands in for a secret that is set.
const redacted = "[redacted]"

// LogValue implements slog.LogValuer: the settings as a group, with the
// secrets, the metrics token and any database password redacted.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("addr", c.Addr),
		slog.String("data_dir", c.DataDir),
		slog.String("database_url", redactURL(c.DatabaseURL)),
		slog.String("jwt_secret", redact(c.JWTSecret)),
		slog.String("token_salt", redact(c.TokenSalt)),
		slog.String("log_level", c.LogLevel.String()),
		slog.String("log_format", c.LogFormat),
		slog.Int64("body_limit", c.BodyLimit),
		slog.Int64("upload_limit", c.UploadLimit),
		slog.Duration("session_ttl", c.SessionTTL),
		slog.String("cors_origins", strings.Join(c.CORSOrigins, ",")),
		slog.String("trusted_proxies", joinPrefixes(c.TrustedProxies)),
		slog.Bool("public_registration", c.PublicRegistration),
		slog.String("metrics_token", redact(c.MetricsToken)),
		slog.String("webhook_allowed_networks", joinPrefixes(c.WebhookAllowedNetworks)),
		slog.String("webhook_retry_schedule", joinDurations(c.WebhookRetrySchedule)),
		slog.Duration("webhook_timeout", c.WebhookTimeout),
		slog.Int("webhook_workers", c.WebhookWorkers),
		slog.Int("webhook_per_endpoint", c.WebhookPerEndpoint),
		slog.Duration("webhook_disable_after", c.WebhookDisableAfter),
		slog.Duration("webhook_retention", c.WebhookRetention),
		slog.Bool("dev", c.Dev),
	)
}

// String returns the settings as space-separated key=value pairs, secrets
// redacted.
func (c Config) String() string {
	var b strings.Builder
	for i, a := range c.LogValue().Group() {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%s", a.Key, strconv.Quote(a.Value.String()))
	}
	return b.String()
}

// Format implements fmt.Formatter so that every verb, %#v included, prints
// String's redacted form instead of the fields.
func (c Config) Format(f fmt.State, verb rune) {
	io.WriteString(f, c.String())
}

// MarshalJSON writes the settings as LogValue shows them, secrets redacted.
func (c Config) MarshalJSON() ([]byte, error) {
	m := make(map[string]any)
	for _, a := range c.LogValue().Group() {
		m[a.Key] = a.Value.Any()
	}
	return json.Marshal(m)
}

func redact(secret string) string {
	if secret == "" {
		return ""
	}
	return redacted
}

// redactURL hides the password of a PostgreSQL URL, whether in the user
// information or in a password query parameter.
func redactURL(s string) string {
	if !content.IsPostgresURL(s) {
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		return redacted
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

func joinPrefixes(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

func joinDurations(ds []time.Duration) string {
	s := make([]string, len(ds))
	for i, d := range ds {
		s[i] = d.String()
	}
	return strings.Join(s, ",")
}
