package admin

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/herald-cms/herald/content"
)

type tokenJSON struct {
	ID          int64   `json:"id"`
	Name        string  `json:"name"`
	Description string  `json:"description"`
	Type        string  `json:"type"`
	AccessKey   string  `json:"accessKey"`
	Lifespan    *int64  `json:"lifespan"`
	ExpiresAt   *string `json:"expiresAt"`
	LastUsedAt  *string `json:"lastUsedAt"`
	CreatedAt   string  `json:"createdAt"`
	UpdatedAt   string  `json:"updatedAt"`
}

// createToken creates a token over HTTP and returns it with its key.
func (h *harness) createToken(admin string, body map[string]any) tokenJSON {
	h.t.Helper()
	r := h.do("POST", "/admin/api-tokens", admin, body)
	mustStatus(h.t, r, 201)
	var out struct{ Data tokenJSON }
	r.decode(h.t, &out)
	return out.Data
}

func TestCreateTokenShowsTheKeyOnceAndStoresOnlyItsHMAC(t *testing.T) {
	eachDialect(t, testCreateTokenShowsTheKeyOnceAndStoresOnlyItsHMAC)
}

func testCreateTokenShowsTheKeyOnceAndStoresOnlyItsHMAC(t *testing.T, h *harness) {
	admin := h.registerFirst()

	tok := h.createToken(admin, map[string]any{
		"name": "frontend", "description": "Next.js build", "type": "read-only", "lifespan": nil,
	})
	if len(tok.AccessKey) < 64 {
		t.Fatalf("accessKey %q is shorter than 32 random bytes", tok.AccessKey)
	}
	if _, err := hex.DecodeString(tok.AccessKey); err != nil {
		t.Errorf("accessKey is not hex: %v", err)
	}
	if tok.Name != "frontend" || tok.Description != "Next.js build" || tok.Type != "read-only" ||
		tok.Lifespan != nil || tok.ExpiresAt != nil || tok.LastUsedAt != nil ||
		tok.CreatedAt != "2025-03-01T10:00:00.000Z" || tok.UpdatedAt == "" {
		t.Errorf("token = %+v", tok)
	}

	var row tokenRow
	if err := h.db.Read.Take(&row, tok.ID).Error; err != nil {
		t.Fatal(err)
	}
	m := hmac.New(sha256.New, testTokenSalt)
	m.Write([]byte(tok.AccessKey))
	if row.AccessKeyHash == tok.AccessKey || row.AccessKeyHash != hex.EncodeToString(m.Sum(nil)) {
		t.Errorf("stored %q, want the HMAC of the key", row.AccessKeyHash)
	}

	list := h.do("GET", "/admin/api-tokens", admin, nil)
	mustStatus(t, list, 200)
	get := h.do("GET", fmt.Sprintf("/admin/api-tokens/%d", tok.ID), admin, nil)
	mustStatus(t, get, 200)
	for _, r := range []response{list, get} {
		if strings.Contains(r.Body, "accessKey") || strings.Contains(r.Body, tok.AccessKey) ||
			strings.Contains(r.Body, row.AccessKeyHash) {
			t.Errorf("answer shows the key or its hash: %s", r.Body)
		}
	}
	var listed struct{ Data []tokenJSON }
	list.decode(t, &listed)
	if len(listed.Data) != 1 || listed.Data[0].ID != tok.ID || listed.Data[0].Name != "frontend" {
		t.Errorf("list = %s", list.Body)
	}
}

func TestTokenKeyAuthenticatesAsTokenWithItsTypePolicy(t *testing.T) {
	eachDialect(t, testTokenKeyAuthenticatesAsTokenWithItsTypePolicy)
}

func testTokenKeyAuthenticatesAsTokenWithItsTypePolicy(t *testing.T, h *harness) {
	admin := h.registerFirst()
	ctx := context.Background()
	uid := "api::article.article"

	cases := []struct {
		typ     string
		allowed []content.Action
		denied  []content.Action
	}{
		{TokenReadOnly,
			[]content.Action{content.ActionFind, content.ActionFindOne, content.ActionReadDrafts},
			[]content.Action{content.ActionCreate, content.ActionUpdate, content.ActionDelete,
				content.ActionPublish, PermTokensManage}},
		{TokenFullAccess,
			[]content.Action{content.ActionFind, content.ActionCreate, content.ActionUpdate,
				content.ActionDelete, content.ActionPublish, content.ActionReadDrafts},
			[]content.Action{PermContentTypesManage, PermWebhooksRead, PermTokensManage}},
	}
	for _, tc := range cases {
		t.Run(tc.typ, func(t *testing.T) {
			tok := h.createToken(admin, map[string]any{"name": tc.typ, "type": tc.typ})
			a, err := h.svc.AuthenticateAPI(ctx, "Bearer "+tok.AccessKey)
			if err != nil {
				t.Fatal(err)
			}
			if a.Kind != content.ActorToken || a.ID != tok.ID || a.Name != tc.typ {
				t.Errorf("actor = %+v", a)
			}
			for _, act := range tc.allowed {
				if g := a.Can(ctx, act, uid); !g.Allowed || g.OwnOnly {
					t.Errorf("%s: %+v, want allowed", act, g)
				}
			}
			for _, act := range tc.denied {
				if a.Can(ctx, act, uid).Allowed {
					t.Errorf("%s allowed, want denied", act)
				}
			}
			r := h.do("GET", "/api/whoami", tok.AccessKey, nil)
			mustStatus(t, r, 200)
			if !strings.Contains(r.Body, `"kind":"api-token"`) {
				t.Errorf("whoami = %s", r.Body)
			}
		})
	}
}

func TestAPIAuthenticationRefusesBadCredentials(t *testing.T) {
	eachDialect(t, testAPIAuthenticationRefusesBadCredentials)
}

func testAPIAuthenticationRefusesBadCredentials(t *testing.T, h *harness) {
	admin := h.registerFirst()
	tok := h.createToken(admin, map[string]any{"name": "t", "type": "full-access"})
	ctx := context.Background()

	a, err := h.svc.AuthenticateAPI(ctx, "")
	if err != nil || a.Kind != content.ActorPublic {
		t.Fatalf("no header: %+v, %v; want public actor", a, err)
	}
	if a.Can(ctx, content.ActionFind, "api::article.article").Allowed {
		t.Error("public actor may find")
	}

	m := hmac.New(sha256.New, testTokenSalt)
	m.Write([]byte(tok.AccessKey))
	storedHash := hex.EncodeToString(m.Sum(nil))
	for name, header := range map[string]string{
		"admin JWT":       "Bearer " + admin,
		"unknown key":     "Bearer " + strings.Repeat("ab", 32),
		"the stored hash": "Bearer " + storedHash,
		"other scheme":    "Token " + tok.AccessKey,
		"bearer only":     "Bearer",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := h.svc.AuthenticateAPI(ctx, header)
			if !content.IsCode(err, content.EUNAUTHORIZED) {
				t.Errorf("err = %v, want unauthorized", err)
			}
		})
	}

	// The reverse: a token key is not an admin credential.
	mustStatus(t, h.do("GET", "/admin/whoami", tok.AccessKey, nil), 401)
}

func TestExpiredTokenIsRefused(t *testing.T) {
	eachDialect(t, testExpiredTokenIsRefused)
}

func testExpiredTokenIsRefused(t *testing.T, h *harness) {
	admin := h.registerFirst()
	week := int64(7 * 24 * time.Hour / time.Millisecond)
	tok := h.createToken(admin, map[string]any{"name": "week", "type": "read-only", "lifespan": week})
	if tok.Lifespan == nil || *tok.Lifespan != week || tok.ExpiresAt == nil ||
		*tok.ExpiresAt != "2025-03-08T10:00:00.000Z" {
		t.Fatalf("token = %+v", tok)
	}

	h.clock.Add(7*24*time.Hour - time.Millisecond)
	mustStatus(t, h.do("GET", "/api/whoami", tok.AccessKey, nil), 200)
	h.clock.Add(time.Millisecond)
	mustStatus(t, h.do("GET", "/api/whoami", tok.AccessKey, nil), 401)
}

func TestDeletedTokenIsRefusedAtOnce(t *testing.T) {
	eachDialect(t, testDeletedTokenIsRefusedAtOnce)
}

func testDeletedTokenIsRefusedAtOnce(t *testing.T, h *harness) {
	admin := h.registerFirst()
	tok := h.createToken(admin, map[string]any{"name": "doomed", "type": "read-only"})
	mustStatus(t, h.do("GET", "/api/whoami", tok.AccessKey, nil), 200)

	path := fmt.Sprintf("/admin/api-tokens/%d", tok.ID)
	r := h.do("DELETE", path, admin, nil)
	mustStatus(t, r, 200)
	var out struct{ Data tokenJSON }
	r.decode(t, &out)
	if out.Data.ID != tok.ID || out.Data.Name != "doomed" || out.Data.AccessKey != "" {
		t.Errorf("deleted = %s", r.Body)
	}

	mustStatus(t, h.do("GET", "/api/whoami", tok.AccessKey, nil), 401)
	mustStatus(t, h.do("GET", path, admin, nil), 404)
	mustStatus(t, h.do("DELETE", path, admin, nil), 404)
	mustStatus(t, h.do("GET", "/admin/api-tokens/abc", admin, nil), 404)
}

func TestTokenUseUpdatesLastUsedAtAtMostOnceAMinute(t *testing.T) {
	eachDialect(t, testTokenUseUpdatesLastUsedAtAtMostOnceAMinute)
}

func testTokenUseUpdatesLastUsedAtAtMostOnceAMinute(t *testing.T, h *harness) {
	admin := h.registerFirst()
	tok := h.createToken(admin, map[string]any{"name": "t", "type": "read-only"})
	lastUsed := func() string {
		t.Helper()
		r := h.do("GET", fmt.Sprintf("/admin/api-tokens/%d", tok.ID), admin, nil)
		var out struct{ Data tokenJSON }
		r.decode(t, &out)
		if out.Data.LastUsedAt == nil {
			return ""
		}
		return *out.Data.LastUsedAt
	}

	mustStatus(t, h.do("GET", "/api/whoami", tok.AccessKey, nil), 200)
	if got := lastUsed(); got != "2025-03-01T10:00:00.000Z" {
		t.Fatalf("lastUsedAt %q after first use", got)
	}
	h.clock.Add(59 * time.Second)
	mustStatus(t, h.do("GET", "/api/whoami", tok.AccessKey, nil), 200)
	if got := lastUsed(); got != "2025-03-01T10:00:00.000Z" {
		t.Errorf("lastUsedAt %q moved within a minute", got)
	}
	h.clock.Add(time.Second)
	mustStatus(t, h.do("GET", "/api/whoami", tok.AccessKey, nil), 200)
	if got := lastUsed(); got != "2025-03-01T10:01:00.000Z" {
		t.Errorf("lastUsedAt %q after a minute", got)
	}
}

func TestCreateTokenValidationNamesTheField(t *testing.T) {
	eachDialect(t, testCreateTokenValidationNamesTheField)
}

func testCreateTokenValidationNamesTheField(t *testing.T, h *harness) {
	admin := h.registerFirst()
	h.createToken(admin, map[string]any{"name": "taken", "type": "read-only"})

	cases := []struct {
		name    string
		body    any
		field   string
		message string
	}{
		{"missing name", map[string]any{"type": "read-only"}, "name", "name is required"},
		{"taken name", map[string]any{"name": " taken ", "type": "full-access"}, "name",
			"name already taken"},
		{"custom permission", map[string]any{"name": "c", "type": "custom",
			"permissions": []string{"api::article.article.publish"}}, "permissions", "not a permission"},
		{"unknown type", map[string]any{"name": "u", "type": "admin"}, "type", "read-only"},
		{"missing type", map[string]any{"name": "u"}, "type", "read-only"},
		{"zero lifespan", map[string]any{"name": "l", "type": "read-only", "lifespan": 0},
			"lifespan", "positive integer"},
		{"negative lifespan", map[string]any{"name": "l", "type": "read-only", "lifespan": -5},
			"lifespan", "positive integer"},
		{"fractional lifespan", map[string]any{"name": "l", "type": "read-only", "lifespan": 1.5},
			"lifespan", "positive integer"},
		{"string lifespan", map[string]any{"name": "l", "type": "read-only", "lifespan": "1000"},
			"lifespan", "positive integer"},
		{"huge lifespan", `{"name":"l","type":"read-only","lifespan":99999999999999999999}`,
			"lifespan", "positive integer"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do("POST", "/admin/api-tokens", admin, tc.body)
			mustStatus(t, r, 400)
			var env struct {
				Error struct {
					Message string
					Details struct {
						Errors []struct {
							Path    []string
							Message string
						} `json:"errors"`
					} `json:"details"`
				} `json:"error"`
			}
			r.decode(t, &env)
			errs := env.Error.Details.Errors
			if len(errs) != 1 || errs[0].Path[0] != tc.field ||
				!strings.Contains(errs[0].Message, tc.message) {
				t.Errorf("answer %s, want one error on %q saying %q", r.Body, tc.field, tc.message)
			}
		})
	}

	var n int64
	h.db.Read.Model(&tokenRow{}).Count(&n)
	if n != 1 {
		t.Errorf("%d tokens exist after refused creations, want 1", n)
	}
}

func TestCustomTokenHasExactlyItsPermissions(t *testing.T) {
	eachDialect(t, testCustomTokenHasExactlyItsPermissions)
}

func testCustomTokenHasExactlyItsPermissions(t *testing.T, h *harness) {
	ctx := context.Background()
	admin := h.registerFirst()
	r := h.do("POST", "/admin/api-tokens", admin, map[string]any{"name": "custom",
		"type": "custom", "permissions": []string{"api::article.article.find",
			"api::page.page.create", "api::article.article.find"}})
	mustStatus(t, r, 201)
	var out struct {
		Data struct {
			tokenJSON
			Permissions []string `json:"permissions"`
		}
	}
	r.decode(t, &out)
	if got := out.Data.Permissions; len(got) != 2 || got[0] != "api::article.article.find" ||
		got[1] != "api::page.page.create" {
		t.Errorf("permissions = %v", got)
	}

	a, err := h.svc.AuthenticateAPI(ctx, "Bearer "+out.Data.AccessKey)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		action content.Action
		uid    string
		want   bool
	}{
		{content.ActionFind, "api::article.article", true},
		{content.ActionReadDrafts, "api::article.article", true},
		{content.ActionFindOne, "api::article.article", false},
		{content.ActionCreate, "api::article.article", false},
		{content.ActionCreate, "api::page.page", true},
		{content.ActionPublish, "api::page.page", true},
		{content.ActionFind, "api::page.page", false},
		{PermTokensManage, "", false},
	}
	for _, c := range checks {
		if got := a.Can(ctx, c.action, c.uid).Allowed; got != c.want {
			t.Errorf("%s on %s: %v, want %v", c.action, c.uid, got, c.want)
		}
	}
}

func TestUpdateTokenChangesGrantsAtOnceButNotItsLifespan(t *testing.T) {
	eachDialect(t, testUpdateTokenChangesGrantsAtOnceButNotItsLifespan)
}

func testUpdateTokenChangesGrantsAtOnceButNotItsLifespan(t *testing.T, h *harness) {
	ctx := context.Background()
	admin := h.registerFirst()
	tok := h.createToken(admin, map[string]any{"name": "t", "type": "read-only", "lifespan": 60000})
	h.createToken(admin, map[string]any{"name": "taken", "type": "read-only"})
	path := fmt.Sprintf("/admin/api-tokens/%d", tok.ID)
	can := func(action content.Action) bool {
		a, err := h.svc.AuthenticateAPI(ctx, "Bearer "+tok.AccessKey)
		if err != nil {
			t.Fatal(err)
		}
		return a.Can(ctx, action, "api::article.article").Allowed
	}

	h.clock.Add(time.Second)
	r := h.do("PUT", path, admin, map[string]any{"type": "custom", "description": "now custom",
		"permissions": []string{"api::article.article.delete"}, "lifespan": 60000})
	mustStatus(t, r, 200)
	if strings.Contains(r.Body, "accessKey") {
		t.Errorf("update shows the key: %s", r.Body)
	}
	var out struct{ Data tokenJSON }
	r.decode(t, &out)
	if out.Data.Name != "t" || out.Data.Description != "now custom" ||
		out.Data.UpdatedAt != "2025-03-01T10:00:01.000Z" || *out.Data.ExpiresAt != *tok.ExpiresAt {
		t.Errorf("updated = %s", r.Body)
	}
	if !can(content.ActionDelete) || can(content.ActionFind) {
		t.Error("new grants not applied at once")
	}
	// Back to read-only: the custom permissions go.
	mustStatus(t, h.do("PUT", path, admin, map[string]any{"type": "read-only"}), 200)
	if can(content.ActionDelete) || !can(content.ActionFind) {
		t.Error("read-only grants not applied")
	}
	var row tokenRow
	h.db.Read.Take(&row, tok.ID)
	if row.Permissions != "[]" {
		t.Errorf("stored permissions %s after leaving custom", row.Permissions)
	}

	for name, body := range map[string]map[string]any{
		"lifespan":            {"lifespan": 1000},
		"lifespan to null":    {"lifespan": nil},
		"name":                {"name": "taken"},
		"permissions on type": {"permissions": []string{"api::article.article.find"}},
		"type":                {"type": "root"},
	} {
		if r := h.do("PUT", path, admin, body); r.Status != 400 {
			t.Errorf("%s: %d %s, want 400", name, r.Status, r.Body)
		}
	}
	mustStatus(t, h.do("PUT", "/admin/api-tokens/999", admin, map[string]any{"name": "x"}), 404)
}

func TestRegenerateGivesANewKeyWithTheSameGrants(t *testing.T) {
	eachDialect(t, testRegenerateGivesANewKeyWithTheSameGrants)
}

func testRegenerateGivesANewKeyWithTheSameGrants(t *testing.T, h *harness) {
	ctx := context.Background()
	admin := h.registerFirst()
	r := h.do("POST", "/admin/api-tokens", admin, map[string]any{"name": "c", "type": "custom",
		"permissions": []string{"api::article.article.findOne"}, "lifespan": 3600000})
	mustStatus(t, r, 201)
	var created struct{ Data tokenJSON }
	r.decode(t, &created)

	r = h.do("POST", fmt.Sprintf("/admin/api-tokens/%d/regenerate", created.Data.ID), admin, nil)
	mustStatus(t, r, 200)
	var regen struct {
		Data struct {
			tokenJSON
			Permissions []string `json:"permissions"`
		}
	}
	r.decode(t, &regen)
	key := regen.Data.AccessKey
	if key == "" || key == created.Data.AccessKey || *regen.Data.ExpiresAt != *created.Data.ExpiresAt ||
		len(regen.Data.Permissions) != 1 {
		t.Fatalf("regenerated = %s", r.Body)
	}
	_, err := h.svc.AuthenticateAPI(ctx, "Bearer "+created.Data.AccessKey)
	if !content.IsCode(err, content.EUNAUTHORIZED) {
		t.Errorf("old key: %v", err)
	}
	a, err := h.svc.AuthenticateAPI(ctx, "Bearer "+key)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Can(ctx, content.ActionFindOne, "api::article.article").Allowed ||
		a.Can(ctx, content.ActionFind, "api::article.article").Allowed {
		t.Error("the new key lost or gained grants")
	}
	mustStatus(t, h.do("POST", "/admin/api-tokens/999/regenerate", admin, nil), 404)
}
