package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// envOf returns a getenv that reads m.
func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// secret32 is a valid secret: exactly 32 bytes.
const secret32 = "0123456789abcdef0123456789abcdef"

func prefixes(tb testing.TB, ss ...string) []netip.Prefix {
	tb.Helper()
	var ps []netip.Prefix
	for _, s := range ss {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return ps
}

func TestLoadConfigDefaults(t *testing.T) {
	got, err := LoadConfig(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Addr:      ":1337",
		DataDir:   "./data",
		LogLevel:  slog.LevelInfo,
		LogFormat: "text",
		BodyLimit: 1 << 20, UploadLimit: 50 << 20,
		SessionTTL: 8 * time.Hour,
		WebhookRetrySchedule: []time.Duration{5 * time.Second, 5 * time.Minute,
			30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour},
		WebhookTimeout:      15 * time.Second,
		WebhookWorkers:      32,
		WebhookPerEndpoint:  4,
		WebhookDisableAfter: 5 * 24 * time.Hour,
		WebhookRetention:    30 * 24 * time.Hour,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("defaults:\n got %v\nwant %v", got, want)
	}
}

func TestLoadConfigReadsEnvironment(t *testing.T) {
	env := map[string]string{
		"HERALD_ADDR":                     "127.0.0.1:8080",
		"HERALD_DATA_DIR":                 "/var/lib/herald",
		"HERALD_DATABASE_URL":             "postgres://herald:pw@db:5432/herald",
		"HERALD_JWT_SECRET":               secret32 + "j",
		"HERALD_TOKEN_SALT":               secret32 + "t",
		"HERALD_LOG_LEVEL":                "DEBUG",
		"HERALD_LOG_FORMAT":               "json",
		"HERALD_BODY_LIMIT":               "512KiB",
		"HERALD_UPLOAD_LIMIT":             "2GB",
		"HERALD_SESSION_TTL":              "1d12h",
		"HERALD_CORS_ORIGINS":             "https://example.com, http://localhost:3000",
		"HERALD_TRUSTED_PROXIES":          "10.0.0.0/8,192.168.1.5",
		"HERALD_PUBLIC_REGISTRATION":      "true",
		"HERALD_METRICS_TOKEN":            "scrape-me",
		"HERALD_WEBHOOK_ALLOWED_NETWORKS": "172.16.0.0/12",
		"HERALD_WEBHOOK_RETRY_SCHEDULE":   "1s,2m",
		"HERALD_WEBHOOK_TIMEOUT":          "30s",
		"HERALD_WEBHOOK_WORKERS":          "8",
		"HERALD_WEBHOOK_PER_ENDPOINT":     "8",
		"HERALD_WEBHOOK_DISABLE_AFTER":    "2d",
		"HERALD_WEBHOOK_RETENTION":        "720h",
	}
	got, err := LoadConfig(nil, envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Addr:                   "127.0.0.1:8080",
		DataDir:                "/var/lib/herald",
		DatabaseURL:            "postgres://herald:pw@db:5432/herald",
		JWTSecret:              secret32 + "j",
		TokenSalt:              secret32 + "t",
		LogLevel:               slog.LevelDebug,
		LogFormat:              "json",
		BodyLimit:              512 << 10,
		UploadLimit:            2e9,
		SessionTTL:             36 * time.Hour,
		CORSOrigins:            []string{"https://example.com", "http://localhost:3000"},
		TrustedProxies:         prefixes(t, "10.0.0.0/8", "192.168.1.5/32"),
		PublicRegistration:     true,
		MetricsToken:           "scrape-me",
		WebhookAllowedNetworks: prefixes(t, "172.16.0.0/12"),
		WebhookRetrySchedule:   []time.Duration{time.Second, 2 * time.Minute},
		WebhookTimeout:         30 * time.Second,
		WebhookWorkers:         8,
		WebhookPerEndpoint:     8,
		WebhookDisableAfter:    48 * time.Hour,
		WebhookRetention:       720 * time.Hour,
	}
	// Compare secrets apart: Config's printed form redacts them.
	if got.JWTSecret != want.JWTSecret || got.TokenSalt != want.TokenSalt ||
		got.MetricsToken != want.MetricsToken {
		t.Errorf("secrets not read from the environment")
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("from environment:\n got %v\nwant %v", got, want)
	}
}

func TestLoadConfigFlagsOverrideEnvironment(t *testing.T) {
	env := map[string]string{
		"HERALD_ADDR":                "127.0.0.1:8080",
		"HERALD_BODY_LIMIT":          "2MiB",
		"HERALD_PUBLIC_REGISTRATION": "true",
		"HERALD_CORS_ORIGINS":        "https://a.example",
		"HERALD_WEBHOOK_WORKERS":     "64",
	}
	tests := []struct {
		name  string
		args  []string
		check func(c Config) bool
	}{
		{"no flags keeps the environment", nil, func(c Config) bool {
			return c.Addr == "127.0.0.1:8080" && c.BodyLimit == 2<<20 && c.PublicRegistration
		}},
		{"double dash", []string{"--addr", ":9000"}, func(c Config) bool {
			return c.Addr == ":9000"
		}},
		{"single dash and equals", []string{"-body-limit=3MiB"}, func(c Config) bool {
			return c.BodyLimit == 3<<20
		}},
		{"bool flag set false", []string{"--public-registration=false"}, func(c Config) bool {
			return !c.PublicRegistration
		}},
		{"bare bool flag", []string{"--dev"}, func(c Config) bool { return c.Dev }},
		{"empty flag means the default", []string{"--cors-origins="}, func(c Config) bool {
			return c.CORSOrigins == nil
		}},
		{"int flag", []string{"--webhook-workers", "2", "--webhook-per-endpoint", "2"},
			func(c Config) bool { return c.WebhookWorkers == 2 && c.WebhookPerEndpoint == 2 }},
		{"unrelated flag keeps other variables", []string{"--log-format", "json"},
			func(c Config) bool { return c.LogFormat == "json" && c.Addr == "127.0.0.1:8080" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadConfig(tt.args, envOf(env))
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Errorf("unexpected config: %v", c)
			}
		})
	}
}

func TestLoadConfigNamesEveryBadSetting(t *testing.T) {
	tests := []struct {
		env, value string
		want       string
	}{
		{"HERALD_ADDR", "x", `HERALD_ADDR: want host:port such as :1337 or 127.0.0.1:8080, got "x"`},
		{"HERALD_DATA_DIR", "", ""}, // any directory name is accepted
		{"HERALD_DATABASE_URL", "mysql://u:p@h/db", `HERALD_DATABASE_URL: want a postgres://`},
		{"HERALD_JWT_SECRET", "short", "HERALD_JWT_SECRET: want at least 32 bytes, got 5"},
		{"HERALD_TOKEN_SALT", "short", "HERALD_TOKEN_SALT: want at least 32 bytes, got 5"},
		{"HERALD_LOG_LEVEL", "loud",
			`HERALD_LOG_LEVEL: want one of debug, info, warn, error, got "loud"`},
		{"HERALD_LOG_FORMAT", "xml", `HERALD_LOG_FORMAT: want text or json, got "xml"`},
		{"HERALD_BODY_LIMIT", "abc",
			`HERALD_BODY_LIMIT: want a size such as 1MiB or 512KiB, got "abc"`},
		{"HERALD_UPLOAD_LIMIT", "0", `HERALD_UPLOAD_LIMIT: want a size above zero`},
		{"HERALD_SESSION_TTL", "forever", `HERALD_SESSION_TTL: want a duration`},
		{"HERALD_CORS_ORIGINS", "https://example.com/app", `HERALD_CORS_ORIGINS: want origins`},
		{"HERALD_TRUSTED_PROXIES", "10.0.0.0/33", `HERALD_TRUSTED_PROXIES: want addresses`},
		{"HERALD_PUBLIC_REGISTRATION", "maybe",
			`HERALD_PUBLIC_REGISTRATION: want true or false, got "maybe"`},
		{"HERALD_METRICS_TOKEN", "", ""}, // any token is accepted
		{"HERALD_WEBHOOK_ALLOWED_NETWORKS", "localhost",
			`HERALD_WEBHOOK_ALLOWED_NETWORKS: want addresses or CIDR ranges`},
		{"HERALD_WEBHOOK_RETRY_SCHEDULE", "5s,-1m",
			`HERALD_WEBHOOK_RETRY_SCHEDULE: want a duration above zero`},
		{"HERALD_WEBHOOK_TIMEOUT", "0s", `HERALD_WEBHOOK_TIMEOUT: want a duration above zero`},
		{"HERALD_WEBHOOK_WORKERS", "2000",
			`HERALD_WEBHOOK_WORKERS: want a whole number from 1 to 1024, got "2000"`},
		{"HERALD_WEBHOOK_PER_ENDPOINT", "0",
			`HERALD_WEBHOOK_PER_ENDPOINT: want a whole number of at least 1`},
		{"HERALD_WEBHOOK_DISABLE_AFTER", "5", `HERALD_WEBHOOK_DISABLE_AFTER: want a duration`},
		{"HERALD_WEBHOOK_RETENTION", "30days", `HERALD_WEBHOOK_RETENTION: want a duration`},
	}

	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.env] = true
		if tt.want == "" {
			continue
		}
		t.Run(tt.env, func(t *testing.T) {
			_, err := LoadConfig(nil, envOf(map[string]string{tt.env: tt.value}))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
		})

		// The same value given as a flag is named by the flag.
		var s setting
		for _, s = range settings {
			if s.env == tt.env {
				break
			}
		}
		t.Run("--"+s.flag, func(t *testing.T) {
			_, err := LoadConfig([]string{"--" + s.flag + "=" + tt.value}, nil)
			want := strings.Replace(tt.want, tt.env+":", "--"+s.flag+":", 1)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("error = %v, want it to contain %q", err, want)
			}
		})
	}
	for _, s := range settings {
		if s.env != "" && !covered[s.env] {
			t.Errorf("no bad-value case for %s", s.env)
		}
	}

	_, err := LoadConfig([]string{"--dev=maybe"}, nil)
	if err == nil || !strings.Contains(err.Error(), `--dev: want true or false, got "maybe"`) {
		t.Errorf("--dev=maybe: error = %v", err)
	}
}

func TestLoadConfigReportsAllErrorsAtOnce(t *testing.T) {
	env := map[string]string{
		"HERALD_LOG_LEVEL":  "loud",
		"HERALD_BODY_LIMIT": "abc",
	}
	_, err := LoadConfig([]string{"--addr", "nope"}, envOf(env))
	if err == nil {
		t.Fatal("want an error")
	}
	for _, name := range []string{"HERALD_LOG_LEVEL:", "HERALD_BODY_LIMIT:", "--addr:"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s:\n%v", name, err)
		}
	}
	if got := strings.Count(err.Error(), "\n") + 1; got != 3 {
		t.Errorf("want 3 errors on 3 lines, got %d:\n%v", got, err)
	}
}

func TestLoadConfigCrossChecks(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want []string // substrings; none means no error
	}{
		{"per-endpoint above default workers",
			nil, map[string]string{"HERALD_WEBHOOK_PER_ENDPOINT": "64"},
			[]string{"HERALD_WEBHOOK_PER_ENDPOINT: want 1 to HERALD_WEBHOOK_WORKERS (32), got 64"}},
		{"per-endpoint above flag workers",
			[]string{"--webhook-workers=2"}, map[string]string{"HERALD_WEBHOOK_PER_ENDPOINT": "3"},
			[]string{"HERALD_WEBHOOK_PER_ENDPOINT: want 1 to --webhook-workers (2), got 3"}},
		{"per-endpoint equal to workers", []string{"--webhook-workers=4"}, nil, nil},
		// Secrets are EnsureSecrets' business: herald migrate needs none.
		{"postgres without secrets",
			[]string{"--database-url", "postgresql://db/herald"}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadConfig(tt.args, envOf(tt.env))
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestLoadConfigRefusesUnknownFlagsAndArguments(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--port", "80"}, "flag provided but not defined: -port"},
		{[]string{"--addr"}, "flag needs an argument: -addr"},
		{[]string{"extra"}, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		_, err := LoadConfig(tt.args, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: error = %v, want %q", tt.args, err, tt.want)
		}
	}
}

func TestHelpListsEveryFlag(t *testing.T) {
	for _, arg := range []string{"-h", "--help"} {
		var out bytes.Buffer
		_, err := loadConfig([]string{arg}, nil, &out)
		if !errors.Is(err, flag.ErrHelp) {
			t.Fatalf("%s: error = %v, want flag.ErrHelp", arg, err)
		}
		help := out.String()
		for _, s := range settings {
			want := "--" + s.flag + "  (" + s.env + ")"
			if s.env == "" {
				want = "--" + s.flag + "  (flag only)"
			}
			if !strings.Contains(help, want) {
				t.Errorf("%s: help lacks %q", arg, want)
			}
		}
		for _, want := range []string{"(default: :1337)", "(default: 5s,5m,30m,2h,5h,10h,10h)",
			"(default: 1MiB)", "(default: 30d)"} {
			if !strings.Contains(help, want) {
				t.Errorf("%s: help lacks %q", arg, want)
			}
		}
	}
}

func TestLoadConfigLists(t *testing.T) {
	env := map[string]string{
		"HERALD_CORS_ORIGINS": " https://Example.com/ ,, http://localhost:3000,*," +
			"capacitor://localhost, http://[::1]:8080 ,",
		"HERALD_TRUSTED_PROXIES":          " 10.1.2.3/8 , ,::1, 2001:db8::/32 ",
		"HERALD_WEBHOOK_ALLOWED_NETWORKS": ",127.0.0.1,",
		"HERALD_WEBHOOK_RETRY_SCHEDULE":   " 1s , , 1d ,",
	}
	c, err := LoadConfig(nil, envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	wantOrigins := []string{"https://example.com", "http://localhost:3000", "*",
		"capacitor://localhost", "http://[::1]:8080"}
	if !reflect.DeepEqual(c.CORSOrigins, wantOrigins) {
		t.Errorf("CORSOrigins = %q, want %q", c.CORSOrigins, wantOrigins)
	}
	wantProxies := prefixes(t, "10.0.0.0/8", "::1/128", "2001:db8::/32")
	if !reflect.DeepEqual(c.TrustedProxies, wantProxies) {
		t.Errorf("TrustedProxies = %v, want %v", c.TrustedProxies, wantProxies)
	}
	if want := prefixes(t, "127.0.0.1/32"); !reflect.DeepEqual(c.WebhookAllowedNetworks, want) {
		t.Errorf("WebhookAllowedNetworks = %v, want %v", c.WebhookAllowedNetworks, want)
	}
	wantSchedule := []time.Duration{time.Second, 24 * time.Hour}
	if !reflect.DeepEqual(c.WebhookRetrySchedule, wantSchedule) {
		t.Errorf("WebhookRetrySchedule = %v, want %v", c.WebhookRetrySchedule, wantSchedule)
	}

	bad := []struct{ env, value string }{
		{"HERALD_CORS_ORIGINS", "example.com"},
		{"HERALD_CORS_ORIGINS", "https://example.com?x=1"},
		{"HERALD_CORS_ORIGINS", "https://user@example.com"},
		{"HERALD_CORS_ORIGINS", "localhost:3000"},
		{"HERALD_TRUSTED_PROXIES", "fe80::1%eth0"},
		{"HERALD_WEBHOOK_RETRY_SCHEDULE", ", ,"},
	}
	for _, b := range bad {
		_, err := LoadConfig(nil, envOf(map[string]string{b.env: b.value}))
		if err == nil || !strings.HasPrefix(err.Error(), b.env+": want") {
			t.Errorf("%s=%q: error = %v", b.env, b.value, err)
		}
	}
}

func TestDevAllowsLoopbackUnlessNetworksAreGiven(t *testing.T) {
	loopback := prefixes(t, "127.0.0.0/8", "::1/128")
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want []netip.Prefix
	}{
		{"no dev", nil, nil, nil},
		{"dev", []string{"--dev"}, nil, loopback},
		{"dev with variable", []string{"--dev"},
			map[string]string{"HERALD_WEBHOOK_ALLOWED_NETWORKS": "10.0.0.0/8"},
			prefixes(t, "10.0.0.0/8")},
		{"dev with flag", []string{"--dev", "--webhook-allowed-networks=192.168.0.0/16"}, nil,
			prefixes(t, "192.168.0.0/16")},
		{"dev ignores a HERALD_DEV variable", nil, map[string]string{"HERALD_DEV": "true"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadConfig(tt.args, envOf(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c.WebhookAllowedNetworks, tt.want) {
				t.Errorf("WebhookAllowedNetworks = %v, want %v", c.WebhookAllowedNetworks, tt.want)
			}
		})
	}
}

func TestLoadConfigDatabaseURL(t *testing.T) {
	tests := []struct {
		value string
		ok    bool
	}{
		{"postgres://user:pw@db:5432/herald?sslmode=disable", true},
		{"postgresql://db/herald", true},
		{"postgres:///herald?host=/run/postgresql", true},
		{"/var/lib/herald/herald.db", true},
		{"herald.db", true},
		{"sqlite://herald.db", true},
		{"sqlite:///abs/herald.db", true},
		{"file:herald.db?cache=shared", true},
		{"sqlite://", false},
		{"file:?mode=ro", false},
		{"mysql://db/herald", false},
		{"postgres://user:p%zzw@db/herald", false},
	}
	for _, tt := range tests {
		env := map[string]string{"HERALD_DATABASE_URL": tt.value,
			"HERALD_JWT_SECRET": secret32, "HERALD_TOKEN_SALT": secret32}
		_, err := LoadConfig(nil, envOf(env))
		if (err == nil) != tt.ok {
			t.Errorf("%q: error = %v, want ok=%v", tt.value, err, tt.ok)
		}
		if err != nil && strings.Contains(err.Error(), "p%zzw") {
			t.Errorf("%q: error repeats the password: %v", tt.value, err)
		}
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64 // 0 means an error
	}{
		{"1024", 1024},
		{"1B", 1},
		{"1MiB", 1 << 20},
		{"1mib", 1 << 20},
		{"512KiB", 512 << 10},
		{"512kb", 512000},
		{"50MB", 50e6},
		{"2GiB", 2 << 30},
		{"3gb", 3e9},
		{"1.5MiB", 3 << 19},
		{"1.1KiB", 1126}, // rounded down
		{" 10 MiB ", 10 << 20},
		{"", 0},
		{"abc", 0},
		{"MiB", 0},
		{"0", 0},
		{"0.0001KB", 0},
		{"-1MiB", 0},
		{"1.5", 0},
		{"1.5B", 0},
		{"1.MiB", 0},
		{".5MiB", 0},
		{"1e3", 0},
		{"1TiB", 0},
		{"1 M", 0},
		{"99999999999GiB", 0},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if tt.want == 0 {
			if err == nil || !strings.HasPrefix(err.Error(), "want a size") {
				t.Errorf("ParseSize(%q) = %d, %v; want an error", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		in   string
		want time.Duration // 0 means an error
	}{
		{"90s", 90 * time.Second},
		{"15m", 15 * time.Minute},
		{"720h", 720 * time.Hour},
		{"1h30m", 90 * time.Minute},
		{"250ms", 250 * time.Millisecond},
		{"30d", 30 * day},
		{"1d12h", 36 * time.Hour},
		{"1d30m15s", day + 30*time.Minute + 15*time.Second},
		{"1.5d", 36 * time.Hour},
		{" 5d ", 5 * day},
		{"", 0},
		{"5", 0},
		{"d", 0},
		{"0d", 0},
		{"0s", 0},
		{"-5s", 0},
		{"-1d", 0},
		{"1d-2h", 0},
		{"1d2d", 0},
		{"12h1d", 0},
		{"30days", 0},
		{"1w", 0},
		{"200000d", 0},
		{"106751d24h", 0},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if tt.want == 0 {
			if err == nil || !strings.HasPrefix(err.Error(), "want a duration") {
				t.Errorf("ParseDuration(%q) = %v, %v; want an error", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestEnsureSecretsGeneratesOnceAndReuses(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	c := Config{DataDir: dir}
	if err := c.EnsureSecrets(); err != nil {
		t.Fatal(err)
	}
	if len(c.JWTSecret) < 32 || len(c.TokenSalt) < 32 || c.JWTSecret == c.TokenSalt {
		t.Fatalf("generated secrets of %d and %d bytes (equal: %v)",
			len(c.JWTSecret), len(c.TokenSalt), c.JWTSecret == c.TokenSalt)
	}

	info, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o700 {
		t.Errorf("data directory mode = %o, want 700", perm)
	}
	for _, name := range []string{"jwt-secret", "token-salt"} {
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if perm := info.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s mode = %o, want 600", name, perm)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("data directory holds %d entries, want 2 (no temporary files)", len(entries))
	}

	again := Config{DataDir: dir}
	if err := again.EnsureSecrets(); err != nil {
		t.Fatal(err)
	}
	if again.JWTSecret != c.JWTSecret || again.TokenSalt != c.TokenSalt {
		t.Error("second run did not reuse the generated secrets")
	}
}

func TestEnsureSecretsConcurrentStartsAgree(t *testing.T) {
	dir := t.TempDir()
	configs := make([]Config, 8)
	errs := make([]error, len(configs))
	var wg sync.WaitGroup
	for i := range configs {
		wg.Go(func() {
			configs[i] = Config{DataDir: dir}
			errs[i] = configs[i].EnsureSecrets()
		})
	}
	wg.Wait()
	for i, c := range configs {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if c.JWTSecret != configs[0].JWTSecret || c.TokenSalt != configs[0].TokenSalt {
			t.Fatal("concurrent starts produced different secrets")
		}
	}
}

func TestEnsureSecretsKeepsExistingAndGivenSecrets(t *testing.T) {
	dir := t.TempDir()
	saved := strings.Repeat("s", 40)
	if err := os.WriteFile(filepath.Join(dir, "token-salt"), []byte(saved+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	given := strings.Repeat("g", 32)
	c := Config{DataDir: dir, JWTSecret: given}
	if err := c.EnsureSecrets(); err != nil {
		t.Fatal(err)
	}
	if c.JWTSecret != given {
		t.Error("a given JWT secret was replaced")
	}
	if c.TokenSalt != saved {
		t.Errorf("token salt was not read from its file")
	}
	if _, err := os.Stat(filepath.Join(dir, "jwt-secret")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a jwt-secret file was written although the secret was given: %v", err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "token-salt"))
	if string(b) != saved+"\n" {
		t.Error("an existing secret file was changed")
	}
}

func TestEnsureSecretsRefuses(t *testing.T) {
	tests := []struct {
		name  string
		c     Config
		file  string // content of token-salt written first
		wants []string
	}{
		{"postgres without secrets", Config{DatabaseURL: "postgres://db/herald"}, "",
			[]string{"HERALD_JWT_SECRET (--jwt-secret): required",
				"HERALD_TOKEN_SALT (--token-salt): required", "every Herald instance"}},
		{"postgresql without a salt",
			Config{DatabaseURL: "postgresql://db/herald", JWTSecret: secret32}, "",
			[]string{"HERALD_TOKEN_SALT (--token-salt): required"}},
		{"short given secret", Config{JWTSecret: "tiny", TokenSalt: secret32}, "",
			[]string{"HERALD_JWT_SECRET: want at least 32 bytes, got 4"}},
		{"short secret file", Config{JWTSecret: secret32}, "abc\n",
			[]string{"HERALD_TOKEN_SALT: secret file", "want at least 32 bytes, got 3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.file != "" {
				if err := os.WriteFile(filepath.Join(dir, "token-salt"),
					[]byte(tt.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			c := tt.c
			c.DataDir = dir
			err := c.EnsureSecrets()
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tt.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
			if strings.Contains(err.Error(), "tiny") {
				t.Errorf("error repeats the secret: %v", err)
			}
			if tt.file == "" {
				if entries, _ := os.ReadDir(dir); len(entries) != 0 {
					t.Errorf("refused config still wrote %d files", len(entries))
				}
			}
		})
	}
}

func TestConfigNeverPrintsSecrets(t *testing.T) {
	c, err := LoadConfig(nil, envOf(map[string]string{
		"HERALD_DATABASE_URL":  "postgres://herald:dbpass-1@db/herald?password=dbpass-2",
		"HERALD_JWT_SECRET":    "jwt-secret-value-jwt-secret-value",
		"HERALD_TOKEN_SALT":    "token-salt-value-token-salt-value",
		"HERALD_METRICS_TOKEN": "metrics-token-value",
	}))
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{"dbpass-1", "dbpass-2", "jwt-secret-value", "token-salt-value",
		"metrics-token-value"}

	var text, js bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("start", "config", c)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("start", "config", &c)
	marshalled, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"String":    c.String(),
		"%v":        fmt.Sprintf("%v", c),
		"%+v":       fmt.Sprintf("%+v", c),
		"%#v":       fmt.Sprintf("%#v", c),
		"%v ptr":    fmt.Sprintf("%v", &c),
		"%s":        fmt.Sprintf("%s", c),
		"slog text": text.String(),
		"slog json": js.String(),
		"json":      string(marshalled),
	}
	for name, out := range outputs {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("%s prints %q: %s", name, s, out)
			}
		}
	}
	for _, name := range []string{"String", "slog text", "slog json"} {
		out := outputs[name]
		for _, want := range []string{"jwt_secret", "[redacted]", "db/herald", "addr"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s lacks %q: %s", name, want, out)
			}
		}
	}
}
