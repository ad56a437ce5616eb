package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/herald-cms/herald/admin"
	"github.com/herald-cms/herald/webhooks/listen"
	"github.com/herald-cms/herald/webhooks/signature"
)

// adminCommand runs `herald admin create --email E --password P`.
func adminCommand(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: herald admin create --email E --password P [--firstname F] [--lastname L]")
	}
	fs := flag.NewFlagSet("herald admin create", flag.ContinueOnError)
	fs.SetOutput(out)
	email := fs.String("email", "", "the administrator's email (required)")
	password := fs.String("password", "", "the password, at least 8 characters (required)")
	first := fs.String("firstname", "", "first name")
	last := fs.String("lastname", "", "last name")
	dataDir := fs.String("data-dir", "", "data directory (HERALD_DATA_DIR)")
	dbURL := fs.String("database-url", "", "database URL (HERALD_DATABASE_URL)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	var cfgArgs []string
	if *dataDir != "" {
		cfgArgs = append(cfgArgs, "--data-dir", *dataDir)
	}
	if *dbURL != "" {
		cfgArgs = append(cfgArgs, "--database-url", *dbURL)
	}
	cfg, err := LoadConfig(cfgArgs, getenv)
	if err != nil {
		return err
	}
	if err := cfg.EnsureSecrets(); err != nil {
		return err
	}
	db, err := openDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	svc, err := admin.New(db, admin.Config{JWTSecret: []byte(cfg.JWTSecret), TokenSalt: []byte(cfg.TokenSalt)})
	if err != nil {
		return err
	}
	if *first == "" {
		// Strapi requires a first name; the email's local part stands in.
		*first, _, _ = strings.Cut(*email, "@")
	}
	u, err := svc.CreateAdmin(ctx, admin.RegisterInput{
		Firstname: *first, Lastname: *last, Email: *email, Password: *password,
	}, admin.RoleSuperAdmin)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "created Super Admin %s (id %d)\n", u.Email, u.ID)
	return nil
}

// webhooksCommand runs `herald webhooks listen --secret whsec_... --addr A`.
func webhooksCommand(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "listen" {
		return errors.New("usage: herald webhooks listen --secret whsec_... [--addr 127.0.0.1:4000]")
	}
	fs := flag.NewFlagSet("herald webhooks listen", flag.ContinueOnError)
	fs.SetOutput(out)
	secret := fs.String("secret", "", "the webhook's signing secret, whsec_... (required)")
	addr := fs.String("addr", "127.0.0.1:4000", "address to listen on")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *secret == "" {
		return errors.New("--secret is required: copy it from the webhook's page")
	}
	if err := signature.CheckSecret(*secret); err != nil {
		return fmt.Errorf("--secret: %w", err)
	}
	srv := &http.Server{
		Addr:              *addr,
		Handler:           listen.Handler(*secret, out, time.Now),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	fmt.Fprintf(out, "listening for webhook deliveries on http://%s\n", *addr)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
