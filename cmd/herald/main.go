// Command herald runs the Herald headless CMS and its tools.
//
//	herald [serve] [flags]       run the server (the default)
//	herald migrate [flags]       apply database migrations and exit
//	herald admin create ...      create a Super Admin from the shell
//	herald webhooks listen ...   a local receiver that verifies deliveries
//	herald export [flags]        write the database's data to a file
//	herald import --input FILE   load such a file into a new database
//	herald version               print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/migrations"
	"github.com/herald-cms/herald/web"
	"github.com/herald-cms/herald/webhooks"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "herald:", err)
		os.Exit(1)
	}
}

// run dispatches to a sub-command.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, getenv, stderr)
	case "migrate":
		return migrate(ctx, args, getenv, stdout)
	case "admin":
		return adminCommand(ctx, args, getenv, stdout)
	case "webhooks":
		return webhooksCommand(ctx, args, stdout)
	case "export":
		return exportCommand(ctx, args, getenv, stdout, stderr)
	case "import":
		return importCommand(ctx, args, getenv, stdout)
	case "version":
		fmt.Fprintln(stdout, "herald", version)
		return nil
	}
	return fmt.Errorf("unknown command %q: want serve, migrate, admin create, webhooks listen, "+
		"export, import or version", cmd)
}

// newLogger builds the process logger from the configuration.
func newLogger(cfg Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// openDatabase opens and migrates the configured database.
func openDatabase(ctx context.Context, cfg Config) (*content.DB, error) {
	if !content.IsPostgresURL(cfg.DatabaseURL) {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
	}
	db, err := content.OpenDB(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if err := migrations.Up(ctx, db.SQL(), string(db.Dialect)); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func serve(ctx context.Context, args []string, getenv func(string) string, logOut io.Writer) error {
	cfg, err := LoadConfig(args, getenv)
	if err != nil {
		return err
	}
	if err := cfg.EnsureSecrets(); err != nil {
		return err
	}
	log := newLogger(cfg, logOut)
	started := time.Now()
	limitCArenas(cArenas)
	tuneGC(getenv)
	db, err := openDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetLogger(log)

	allowed := cfg.WebhookAllowedNetworks
	if len(allowed) > 0 {
		log.WarnContext(ctx, "webhooks may reach these non-public networks (--dev or HERALD_WEBHOOK_ALLOWED_NETWORKS)",
			"allowed_networks", fmt.Sprint(allowed))
	}
	h, err := web.Assemble(ctx, db, web.Options{
		Logger: log, Version: version,
		JWTSecret: []byte(cfg.JWTSecret), TokenSalt: []byte(cfg.TokenSalt),
		SessionTTL: cfg.SessionTTL, BodyLimit: cfg.BodyLimit, UploadLimit: cfg.UploadLimit,
		UploadDir:    filepath.Join(cfg.DataDir, "uploads"),
		MetricsToken: cfg.MetricsToken, TrustedProxies: cfg.TrustedProxies,
		CORSOrigins: cfg.CORSOrigins, PublicRegistration: cfg.PublicRegistration,
		AllowedNetworks: allowed,
		Webhooks: webhooks.Config{
			RetrySchedule: cfg.WebhookRetrySchedule,
			Timeout:       cfg.WebhookTimeout,
			Workers:       cfg.WebhookWorkers,
			PerEndpoint:   cfg.WebhookPerEndpoint,
			DisableAfter:  cfg.WebhookDisableAfter,
			Retention:     cfg.WebhookRetention,
		},
	})
	if err != nil {
		return err
	}
	if err := h.Start(ctx); err != nil {
		return err
	}
	idleCtx, stopIdle := context.WithCancel(ctx)
	idleDone := make(chan struct{})
	go func() {
		defer close(idleDone)
		releaseWhenIdle(idleCtx, db, log)
	}()
	// Stopped before the database closes (deferred earlier, so run later).
	defer func() {
		stopIdle()
		<-idleDone
	}()

	errc := make(chan error, 1)
	go func() { errc <- h.App.Listen(cfg.Addr) }()
	log.InfoContext(ctx, "herald started", "addr", cfg.Addr, "database", string(db.Dialect),
		"data_dir", cfg.DataDir, "version", version,
		"startup_ms", time.Since(started).Milliseconds())

	var listenErr error
	select {
	case err := <-errc:
		listenErr = fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	case <-ctx.Done():
		log.Info("shutting down")
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return errors.Join(listenErr, h.Shutdown(shutdownCtx))
}

func migrate(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	cfg, err := LoadConfig(args, getenv)
	if err != nil {
		return err
	}
	db, err := openDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	v, err := migrations.Version(ctx, db.SQL(), string(db.Dialect))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "database is at migration version %d\n", v)
	return nil
}
