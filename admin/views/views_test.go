package views

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/a-h/templ"

	"github.com/herald-cms/herald/content/schema"
	"github.com/herald-cms/herald/webhooks"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var when = time.Date(2025, 1, 31, 12, 30, 0, 0, time.UTC)

func page(title, section string) Page {
	return Page{
		Title: title, Section: section, User: "ada@example.com", CSRF: "csrf-token",
		Assets: Assets{CSS: "/admin/assets/panel.css?v=test", JS: "/admin/assets/panel.js?v=test"},
		Nav: Nav{
			Types: []TypeRef{
				{UID: "api::article.article", Name: "Article", DraftAndPublish: true},
				{UID: "api::homepage.homepage", Name: "Homepage", Single: true},
			},
			Builder: true, Webhooks: true, Users: true, Roles: true, Tokens: true, Public: true,
		},
	}
}

func anonymous(title string) Page {
	return Page{Title: title, CSRF: "csrf-token",
		Assets: Assets{CSS: "/admin/assets/panel.css?v=test", JS: "/admin/assets/panel.js?v=test"}}
}

func num(s string) *json.Number {
	n := json.Number(s)
	return &n
}

func intp(n int) *int { return &n }

var article = TypeRef{UID: "api::article.article", Name: "Article", DraftAndPublish: true}

var articleAttrs = schema.Attributes{
	{Name: "title", Type: schema.TypeString, Required: true, MaxLength: intp(80)},
	{Name: "slug", Type: schema.TypeUID, TargetField: "title"},
	{Name: "body", Type: schema.TypeRichText},
	{Name: "views", Type: schema.TypeInteger, Min: num("0")},
	{Name: "featured", Type: schema.TypeBoolean},
	{Name: "day", Type: schema.TypeDate},
	{Name: "at", Type: schema.TypeTime},
	{Name: "when", Type: schema.TypeDateTime},
	{Name: "category", Type: schema.TypeEnumeration, Enum: []string{"news", "tech"}},
	{Name: "meta", Type: schema.TypeJSON},
}

func hook() *webhooks.Webhook {
	return &webhooks.Webhook{
		ID: 7, Name: "Rebuild site", URL: "https://hooks.example.com/build",
		Headers: map[string]string{"Authorization": "Bearer x"},
		Events:  []string{"entry.publish"}, State: webhooks.StateAutoDisabled,
		DisabledReason: "Every attempt failed for 5 days", Secret: "whsec_c2VjcmV0",
		CreatedAt: when, UpdatedAt: when,
	}
}

func status(n int) *int { return &n }

func delivery() webhooks.Delivery {
	next := when.Add(5 * time.Minute)
	return webhooks.Delivery{
		ID: 42, WebhookID: 7, EventID: "msg_abc", Event: "entry.publish",
		UID: "api::article.article", DocumentID: "abcdefghijklmnopqrstuvwx",
		Status: webhooks.StatusPending, AttemptCount: 1, LastResponseStatus: status(500),
		NextAttemptAt: &next, CreatedAt: when, UpdatedAt: when,
	}
}

// cases are the pages and fragments under golden test, with data that
// exercises their branches.
func cases() []struct {
	name string
	c    templ.Component
} {
	d := delivery()
	detail := d
	detail.Payload = json.RawMessage(`{"event":"entry.publish"}`)
	detail.Attempts = []webhooks.Attempt{{
		Number: 1, Trigger: webhooks.TriggerScheduled,
		RequestHeaders:  map[string]string{"webhook-id": "msg_abc", "Content-Type": "application/json"},
		ResponseStatus:  status(500),
		ResponseHeaders: map[string]string{"Content-Type": "text/plain"},
		ResponseBody:    "<b>oops</b>", Duration: 120 * time.Millisecond, CreatedAt: when,
	}, {
		Number: 2, Trigger: webhooks.TriggerManual, Error: "connection refused",
		Duration: 3 * time.Millisecond, CreatedAt: when.Add(time.Minute),
	}}
	fields := make([]EntryField, len(articleAttrs))
	values := map[string]string{"title": "Hello <world>", "body": "# Hi\n\n**bold**",
		"views": "-1", "featured": "true", "day": "2025-01-31", "at": "09:30:00",
		"when": "2025-01-31T12:30:00", "category": "tech", "meta": "{\n  \"a\": 1\n}"}
	for i, a := range articleAttrs {
		fields[i] = EntryField{Attr: a, Value: values[a.Name]}
	}
	fields[3].Error = "views must be at least 0"

	flash := page("Article", "type:api::article.article")
	flash.Flash = &Flash{Kind: "ok", Message: "Draft saved."}

	return []struct {
		name string
		c    templ.Component
	}{
		{"sign-in", SignIn(SignInForm{Page: anonymous("Sign in"), Email: "ada@example.com",
			Next: "/admin/settings/webhooks", Error: "The email or password is not right."})},
		{"register", Register(RegisterForm{Page: anonymous("Welcome"), Firstname: "Ada",
			Errors: Errors{"email": "email is required"}, Error: "Please correct the fields below."})},
		{"error", ErrorPage(page("Error", ""), 403, "Your role does not allow this.")},
		{"dashboard", DashboardPage(Dashboard{Page: page("Content manager", "content"),
			Types: page("", "").Nav.Types, CanBuild: true})},
		{"entry-list", EntryListPage(EntryList{
			Page: flash, Type: article,
			Columns: []Column{
				{Label: "title", SortURL: "/admin/content-manager/api::article.article?sort=title%3Adesc",
					Sorted: "ascending"},
				{Label: "Last saved",
					SortURL: "/admin/content-manager/api::article.article?sort=updatedAt%3Aasc"},
			},
			Rows: []EntryRow{
				{DocumentID: "abc", URL: "/admin/content-manager/api::article.article/abc",
					Cells: []string{"Hello", "2025-01-31 12:30:00 UTC"}, Status: "modified"},
				{DocumentID: "def", URL: "/admin/content-manager/api::article.article/def",
					Cells: []string{"", "2025-01-30 08:00:00 UTC"}, Status: "draft"},
			},
			Query: "hel", Status: "modified", Sort: "title:asc",
			Pager: Pager{Page: 2, PageCount: 3, Total: 41,
				Prev: "/admin/content-manager/api::article.article?page=1",
				Next: "/admin/content-manager/api::article.article?page=3"},
			CanCreate: true,
		})},
		{"entry-form", EntryFormPage(EntryForm{
			Page: page("Article", "type:api::article.article"), Type: article,
			DocumentID: "abcdefghijklmnopqrstuvwx", Fields: fields, Status: "modified",
			Action:     "/admin/content-manager/api::article.article/abcdefghijklmnopqrstuvwx",
			Base:       "/admin/content-manager/api::article.article/abcdefghijklmnopqrstuvwx",
			CanPublish: true, CanDelete: true, FormError: "Not saved: views must be at least 0",
			CreatedAt: "2025-01-30 08:00:00 UTC", UpdatedAt: "2025-01-31 12:30:00 UTC",
			PublishedAt: "2025-01-31 10:00:00 UTC", PreviewURL: "/admin/content-manager/preview",
		})},
		{"entry-form-author", EntryFormPage(EntryForm{
			Page: page("New Article", "type:api::article.article"), Type: article,
			Fields: fields[:1], Action: "/admin/content-manager/api::article.article",
			PreviewURL: "/admin/content-manager/preview",
		})},
		{"entry-form-links", EntryFormPage(EntryForm{
			Page: page("New Article", "type:api::article.article"), Type: article,
			Fields: linkFields(), Action: "/admin/content-manager/api::article.article",
			PreviewURL: "/admin/content-manager/preview",
		})},
		{"type-list", TypeListPage(TypeList{Page: page("Content-type builder", "builder"),
			Types: []TypeSummary{{TypeRef: article, Attributes: 10}}})},
		{"type-form", TypeFormPage(TypeForm{
			Page: page("Article", "builder"), UID: "api::article.article",
			Kind: schema.KindCollection, SingularName: "article", PluralName: "articles",
			DisplayName: "Article", CollectionName: "articles", DraftAndPublish: true,
			Attributes: []AttributeRow{
				{Name: "title", Type: "string", Required: true, MaxLength: "80"},
				{Name: "category", Type: "enumeration", Enum: "news\ntech"},
				{Name: "author", Type: "relation", Relation: "manyToOne",
					Target: "api::person.person", InversedBy: "articles"},
				{Name: "cover", Type: "media", Multiple: true, AllowedTypes: []string{"images"}},
			},
			Targets: []TypeRef{article, {UID: "api::person.person", Name: "Person"}},
			Errors: Errors{"attributes.category.enum": "enum must list at least one value",
				"attributes.author.target": "target api::gone.gone does not exist"},
			FormError: "Not saved: enum must list at least one value",
		})},
		{"type-new", TypeFormPage(TypeForm{Page: page("New content type", "builder"),
			Kind: schema.KindCollection, DraftAndPublish: true,
			Attributes: []AttributeRow{{Type: "string"}}})},
		{"import", ImportPage(ImportForm{Page: page("Import a schema.json", "builder"),
			Schema: `{"kind": "collectionType"}`,
			Errors: []string{"attribute cover: type media is not supported"}})},
		{"webhook-list", WebhookListPage(WebhookList{Page: page("Webhooks", "webhooks"),
			Rows: []WebhookRow{{Hook: hook(), Latest: &d}}, CanManage: true})},
		{"webhook-form", WebhookFormPage(WebhookForm{
			Page: page("Rebuild site", "webhooks"), Hook: hook(), Name: "Rebuild site",
			URL:          "https://hooks.example.com/build",
			Headers:      []Header{{Key: "Authorization", Value: "Bearer x"}, {}},
			Events:       map[string]bool{"entry.publish": true},
			AllEvents:    []string{"entry.create", "entry.publish", "media.create"},
			ContentTypes: map[string]bool{}, AllTypes: true, Types: []TypeRef{article},
			Errors: Errors{"url": "url must be an http or https URL"}, CanManage: true,
		})},
		{"webhook-readonly", WebhookFormPage(WebhookForm{
			Page: page("Rebuild site", "webhooks"), Hook: hook(), Name: "Rebuild site",
			URL: "https://hooks.example.com/build", Events: map[string]bool{},
			ContentTypes: map[string]bool{"api::article.article": true}, Types: []TypeRef{article},
		})},
		{"delivery-log", DeliveryLogPage(DeliveryLog{
			Page: page("Delivery log", "webhooks"), Hook: hook(), Status: "pending",
			Events: []string{"entry.publish", "trigger-test"}, Rows: []webhooks.Delivery{d},
			Pager: Pager{Page: 1, PageCount: 1, Total: 1}, Pending: true, CanManage: true,
			Since: "2025-01-30T12:30",
		})},
		{"users", UserListPage(UserList{Page: page("Users", "users"), Users: []UserRow{
			{ID: 1, Name: "Ada Admin", Email: "ada@example.com", Role: "Super Admin", Active: true},
			{ID: 2, Email: "ed@example.com", Role: "Editor"},
		}})},
		{"user-form", UserFormPage(UserForm{Page: page("ed@example.com", "users"), ID: 2,
			Firstname: "Ed", Email: "ed@example.com", Role: "2", Active: true,
			Roles:  []Option{{"1", "Super Admin"}, {"2", "Editor"}, {"3", "Author"}},
			Errors: Errors{"password": "password must be at least 8 characters"}})},
		{"roles", RoleListPage(RoleList{Page: page("Roles", "roles"), Roles: []RoleRow{
			{ID: 4, Name: "Reviewer", Description: "Reads everything", Users: 2}}})},
		{"role-form", RoleFormPage(RoleForm{Page: page("Reviewer", "roles"), ID: 4,
			Name: "Reviewer", Grid: PermissionGrid{
				Types:   []TypeRef{article},
				Actions: []string{"content.read", "content.update"},
				Checked: map[string]bool{GridKey("content.read", "*"): true,
					GridKey("content.update", "api::article.article"): true},
				Own:             map[string]bool{"api::article.article": true},
				Settings:        []string{"webhooks.read", "users.manage"},
				SettingsChecked: map[string]bool{"webhooks.read": true},
			}, Errors: Errors{"name": "name already taken"}})},
		{"tokens", TokenListPage(TokenList{Page: page("API tokens", "tokens"), Tokens: []TokenRow{
			{ID: 1, Name: "Site", Description: "Next.js", Type: "custom", Expires: "Never",
				LastUsed: "—"}}})},
		{"token-form", TokenFormPage(TokenForm{Page: page("New API token", "tokens"),
			Type: "custom", Duration: "30", Types: []TypeRef{article},
			Checked: map[string]bool{"api::article.article.find": true}})},
		{"token-key", TokenKeyPage(TokenKey{Page: page("Site", "tokens"), ID: 1, Name: "Site",
			Key: "0123456789abcdef"})},
		{"end-user-roles", EndUserRolesPage(EndUserRoles{Page: page("Public", "public"),
			Types: []TypeRef{article}, Public: map[string]bool{"api::article.article.find": true},
			Authenticated: map[string]bool{}, Errors: Errors{"authenticated": "Not saved: nope"}})},
		{"delivery", DeliveryDetailPage(DeliveryPage{Page: page("entry.publish delivery", "webhooks"),
			Hook: hook(), Delivery: &detail, Payload: "{\n  \"event\": \"entry.publish\"\n}",
			CanManage: true})},
		{"media-list", MediaListPage(MediaList{Page: mediaPage("Media library"), CanUpload: true,
			Limit: "50.0 MiB", Pager: Pager{Page: 1, PageCount: 1, Total: 2}, Files: []MediaItem{
				{ID: 1, Name: "cover.png", URL: "/uploads/f_1.png", Mime: "image/png",
					Size: "1.2 KiB", Width: 3, Height: 2, Alt: "A cover", Image: true},
				{ID: 2, Name: "notes.txt", URL: "/uploads/f_2.txt", Mime: "text/plain",
					Size: "10 bytes"}}})},
		{"media-detail", MediaDetailPage(MediaDetail{Page: mediaPage("cover.png"),
			CanEdit: true, CanDelete: true, Errors: Errors{"name": "file name is empty"},
			File: MediaItem{ID: 1, Name: "cover.png", URL: "/uploads/f_1.png", Mime: "image/png",
				Size: "1.2 KiB", Width: 3, Height: 2, Alt: "A cover", Caption: "Front",
				Image: true, CreatedAt: "2025-01-31T12:30:00.000Z"}})},
	}
}

// linkFields are relation and media fields, chosen and empty, single and
// many.
func linkFields() []EntryField {
	tags := &schema.Attribute{Name: "tags", Type: schema.TypeRelation,
		Relation: schema.ManyToMany, Target: "api::tag.tag", InversedBy: "articles"}
	return []EntryField{
		{Attr: &schema.Attribute{Name: "author", Type: schema.TypeRelation, Required: true,
			Relation: schema.ManyToOne, Target: "api::person.person"},
			Value: "p00000000000000000000001",
			Picks: []Pick{{ID: "p00000000000000000000001", Label: "Ada <Lovelace>",
				Hint: "p00000000000000000000001"}},
			Picker: Picker{Search: "/admin/content-manager/api::person.person?picker=1",
				Browse: "/admin/content-manager/api::person.person", Target: "Person"}},
		{Attr: tags, Error: "tags: t9 does not exist",
			Picks: []Pick{{ID: "t1", Label: "Go", Hint: "t1"}, {ID: "t9", Label: "t9",
				Hint: "Not found"}},
			Picker: Picker{Search: "/admin/content-manager/api::tag.tag?picker=1",
				Browse: "/admin/content-manager/api::tag.tag", Target: "Tag"}},
		{Attr: &schema.Attribute{Name: "cover", Type: schema.TypeMedia,
			AllowedTypes: []string{"images"}},
			Picker: Picker{Search: "/admin/media?picker=1&types=images", Browse: "/admin/media",
				Target: "file"}},
		{Attr: &schema.Attribute{Name: "gallery", Type: schema.TypeMedia, Multiple: true},
			Picks: []Pick{{ID: "12", Label: "a.png", Hint: "image/png · 3 × 2",
				Thumb: "/uploads/a.png", Alt: "A dot"}},
			Picker: Picker{Target: "file"}},
	}
}

// mediaPage is the frame of a media library page, its navigation entry shown.
func mediaPage(title string) Page {
	p := page(title, "media")
	p.Nav.Media = true
	return p
}

// readable puts each tag on its own line, so golden diffs point at the
// change.
func readable(html []byte) []byte {
	return bytes.ReplaceAll(html, []byte("><"), []byte(">\n<"))
}

func render(t *testing.T, c templ.Component) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestPagesMatchTheirGoldenFiles renders each page and compares it with
// testdata/<name>.golden. Run go test ./admin/views -update after an
// intended change, and review the diff.
func TestPagesMatchTheirGoldenFiles(t *testing.T) {
	for _, tc := range cases() {
		t.Run(tc.name, func(t *testing.T) {
			got := readable(render(t, tc.c))
			path := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./admin/views -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
				for i := range min(len(gl), len(wl)) {
					if gl[i] != wl[i] {
						t.Fatalf("%s differs at line %d:\n got: %s\nwant: %s\n(run go test "+
							"./admin/views -update if the change is intended)", path, i+1, gl[i], wl[i])
					}
				}
				t.Fatalf("%s differs in length: got %d lines, want %d", path, len(gl), len(wl))
			}
		})
	}
}

var (
	fieldTag = regexp.MustCompile(`<(input|select|textarea)\b[^>]*>`)
	idAttr   = regexp.MustCompile(`\bid="([^"]+)"`)
	typeAttr = regexp.MustCompile(`\btype="([^"]+)"`)
)

// TestEveryFieldHasALabel checks every rendered input, select and textarea
// for a <label for> naming it (or an aria-label), and every page for the
// size budget.
func TestEveryFieldHasALabel(t *testing.T) {
	for _, tc := range cases() {
		html := string(render(t, tc.c))
		if len(html) > 100<<10 {
			t.Errorf("%s is %d bytes, over 100 KB", tc.name, len(html))
		}
		for _, tag := range fieldTag.FindAllString(html, -1) {
			if m := typeAttr.FindStringSubmatch(tag); m != nil &&
				(m[1] == "hidden" || m[1] == "submit" || m[1] == "button") {
				continue
			}
			if strings.Contains(tag, "aria-label=") {
				continue
			}
			id := idAttr.FindStringSubmatch(tag)
			if id == nil {
				t.Errorf("%s: %s has no id to label", tc.name, tag)
				continue
			}
			if !strings.Contains(html, `for="`+id[1]+`"`) {
				t.Errorf("%s: %s has no label", tc.name, tag)
			}
		}
	}
}

func TestDeliveryTableRefreshesOnlyWhilePending(t *testing.T) {
	l := DeliveryLog{Hook: hook(), Rows: []webhooks.Delivery{delivery()}, Pending: true}
	if html := string(render(t, DeliveryTable(l))); !strings.Contains(html, `data-pending="true"`) {
		t.Errorf("a pending log does not refresh: %s", html)
	}
	l.Pending = false
	if html := string(render(t, DeliveryTable(l))); !strings.Contains(html, `data-pending="false"`) {
		t.Errorf("a finished log refreshes: %s", html)
	}
}

func TestMarkdown(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"heading", "## Title ##", "<h2>Title</h2>\n"},
		{"paragraph joins lines", "one\ntwo", "<p>one\ntwo</p>\n"},
		{"emphasis", "**b** and *i* and _j_ and `c<d>`",
			"<p><strong>b</strong> and <em>i</em> and <em>j</em> and <code>c&lt;d&gt;</code></p>\n"},
		{"snake_case stays", "a_b_c", "<p>a_b_c</p>\n"},
		{"escaped markup", `<script>alert("x")</script>`,
			"<p>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</p>\n"},
		{"link", "[site](https://example.com/a?b=1&c=2)",
			`<p><a href="https://example.com/a?b=1&amp;c=2" rel="nofollow">site</a></p>` + "\n"},
		{"javascript link", "[x](javascript:alert(1))",
			`<p><a href="#" rel="nofollow">x</a>)</p>` + "\n"},
		{"relative link", "[x](/docs:1)", `<p><a href="/docs:1" rel="nofollow">x</a></p>` + "\n"},
		{"attribute breakout", `[x](" onmouseover="alert(1))`,
			`<p><a href="#" rel="nofollow">x</a>)</p>` + "\n"},
		{"lists", "- a\n- b\n\n1. c\n2. d",
			"<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n<ol>\n<li>c</li>\n<li>d</li>\n</ol>\n"},
		{"quote", "> *q*", "<blockquote>\n<p><em>q</em></p>\n</blockquote>\n"},
		{"fence", "```\n<b>\n```", "<pre><code>&lt;b&gt;</code></pre>\n"},
		{"rule", "a\n\n---", "<p>a</p>\n<hr>\n"},
		{"backslash escape", `\*not\*`, "<p>*not*</p>\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RenderMarkdown(tt.in); got != tt.want {
				t.Errorf("RenderMarkdown(%q) =\n%q\nwant\n%q", tt.in, got, tt.want)
			}
		})
	}
}

func TestErrorsUnderCollectsNestedFields(t *testing.T) {
	e := Errors{"headers": "bad headers", "headers.X-A": "bad name", "headersX": "other"}
	if got := e.Under("headers"); got != "bad headers bad name" {
		t.Errorf("Under = %q", got)
	}
}
