package admin

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSecretsNeverReachTheLog(t *testing.T) {
	eachDialect(t, testSecretsNeverReachTheLog)
}

func testSecretsNeverReachTheLog(t *testing.T, h *harness) {
	ctx := context.Background()

	admin := h.registerFirst()
	secrets := []string{firstPassword, admin}

	logins := []struct{ email, password string }{
		{"ada@example.com", firstPassword},
		{"ada@example.com", "wrong-password-1"},
		{"nobody@example.com", "unknown-user-password"},
	}
	for _, l := range logins {
		h.do("POST", "/admin/login", "", map[string]string{"email": l.email, "password": l.password})
		secrets = append(secrets, l.password)
	}
	u, token := h.createAdmin("second@example.com", RoleEditor)
	secrets = append(secrets, "password-second@example.com", token)
	h.db.Write.Model(&userRow{}).Where("id = ?", u.ID).Update("is_active", false)
	h.do("POST", "/admin/login", "", map[string]string{
		"email": "second@example.com", "password": "password-second@example.com",
	})
	h.do("POST", "/admin/register-admin", "", map[string]string{
		"firstname": "Late", "email": "late@example.com", "password": "late-password",
	})
	secrets = append(secrets, "late-password")

	tok := h.createToken(admin, map[string]any{"name": "t", "type": "read-only"})
	secrets = append(secrets, tok.AccessKey, h.svc.hashKey(tok.AccessKey))
	h.do("GET", "/api/whoami", tok.AccessKey, nil)

	// Code that logs an input by mistake still shows no password.
	in := RegisterInput{Firstname: "X", Email: "x@example.com", Password: "logged-by-mistake"}
	slog.New(slog.NewTextHandler(h.logs, nil)).InfoContext(ctx, "input", "in", in)
	fmt.Fprintf(h.logs, "%v %+v %s %#v\n", in, in, in, in)
	secrets = append(secrets, in.Password)

	logs := h.logs.String()
	if !strings.Contains(logs, "sign-in refused") || !strings.Contains(logs, "x@example.com") {
		t.Fatalf("the log lacks the expected lines, so this test proves nothing:\n%s", logs)
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("log contains the secret %q:\n%s", s, logs)
		}
	}
}
