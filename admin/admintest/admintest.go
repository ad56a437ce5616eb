// Package admintest builds admin services, signed-in administrators and API
// tokens for tests.
package admintest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/herald-cms/herald/admin"
	"github.com/herald-cms/herald/content"
)

// Fixed secrets for tests; never use them outside tests.
var (
	JWTSecret = []byte("admintest-jwt-secret-0123456789abcdef")
	TokenSalt = []byte("admintest-token-salt-0123456789")
)

// NewService returns an admin.Service on db with the test secrets and the
// cheapest bcrypt cost. A nil now means time.Now.
func NewService(tb testing.TB, db *content.DB, now func() time.Time) *admin.Service {
	tb.Helper()
	svc, err := admin.New(db, admin.Config{
		JWTSecret:  JWTSecret,
		TokenSalt:  TokenSalt,
		BcryptCost: bcrypt.MinCost,
		Now:        now,
	})
	if err != nil {
		tb.Fatalf("admintest: new service: %v", err)
	}
	return svc
}

var seq atomic.Int64

// SignIn creates an active administrator with the given role code (an email
// is made up) and signs it in. It returns the user and its bearer token.
func SignIn(tb testing.TB, svc *admin.Service, roleCode string) (admin.User, string) {
	tb.Helper()
	ctx := context.Background()
	email := fmt.Sprintf("admin%d@example.com", seq.Add(1))
	password := "password-" + email
	u, err := svc.CreateAdmin(ctx, admin.RegisterInput{
		Firstname: "Test", Lastname: roleCode, Email: email, Password: password,
	}, roleCode)
	if err != nil {
		tb.Fatalf("admintest: create %s: %v", roleCode, err)
	}
	sess, err := svc.SignIn(ctx, email, password)
	if err != nil {
		tb.Fatalf("admintest: sign in %s: %v", email, err)
	}
	return u, sess.Token
}

// CreateToken creates an API token of the given type (admin.TokenReadOnly
// or admin.TokenFullAccess) that never expires, and returns it with its
// access key.
func CreateToken(tb testing.TB, svc *admin.Service, tokenType string) admin.Token {
	tb.Helper()
	t, err := svc.CreateAPIToken(context.Background(), admin.TokenInput{
		Name: fmt.Sprintf("token%d", seq.Add(1)),
		Type: tokenType,
	})
	if err != nil {
		tb.Fatalf("admintest: create %s token: %v", tokenType, err)
	}
	return t
}
