package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func TestServeRefusesBadSettingsNamingThem(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"serve"},
		envOf(map[string]string{"HERALD_BODY_LIMIT": "lots", "HERALD_DATA_DIR": t.TempDir()}),
		&out, &out)
	if err == nil || !strings.Contains(err.Error(), "HERALD_BODY_LIMIT") {
		t.Fatalf("bad body limit: %v", err)
	}
	err = run(context.Background(), []string{"serve", "--log-level", "loud"},
		envOf(map[string]string{"HERALD_DATA_DIR": t.TempDir()}), &out, &out)
	if err == nil || !strings.Contains(err.Error(), "log-level") {
		t.Fatalf("bad log level: %v", err)
	}
	if err := run(context.Background(), []string{"frobnicate"}, envOf(nil), &out, &out); err == nil {
		t.Fatal("unknown command accepted")
	}
}

func TestServeStartsMigratesAndStopsGracefully(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", addr, "--data-dir", dir},
			envOf(nil), io.Discard, io.Discard)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/_health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != 204 {
				t.Fatalf("health status %d", resp.StatusCode)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("herald did not become healthy: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, f := range []string{"herald.db", "jwt-secret", "token-salt"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("%s not created in the data directory: %v", f, err)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop on cancel")
	}
}

func TestAdminCreateFromTheShell(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	env := envOf(map[string]string{"HERALD_DATA_DIR": dir})
	err := run(context.Background(), []string{"admin", "create", "--email", "root@example.com",
		"--password", "a strong password"}, env, &out, &out)
	if err != nil {
		t.Fatalf("admin create: %v (%s)", err, out.String())
	}
	if strings.Contains(out.String(), "a strong password") {
		t.Fatal("password printed")
	}
	err = run(context.Background(), []string{"admin", "create", "--email", "x@example.com",
		"--password", "short"}, env, &out, &out)
	if err == nil {
		t.Fatal("short password accepted")
	}
	out.Reset()
	if err := run(context.Background(), []string{"migrate"}, env, &out, &out); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if !strings.Contains(out.String(), "migration version") {
		t.Fatalf("migrate output: %q", out.String())
	}
}
