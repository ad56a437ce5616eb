// Package views renders the admin panel's pages with templ. Components take
// plain data prepared by the panel's handlers and never call a service, so
// every page can be rendered, and golden-tested, from values alone.
package views

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// Page is what the frame of every page needs.
type Page struct {
	Title string
	// Section marks the navigation entry of the page: "type:<uid>",
	// "content", "media", "builder", "webhooks", "users", "roles", "tokens" or
	// "public".
	Section string
	// User is the signed-in administrator's email; empty on the sign-in
	// and registration pages.
	User string
	// CSRF is the token every form of the page posts back.
	CSRF   string
	Nav    Nav
	Flash  *Flash
	Assets Assets
}

// Assets are the URLs of the panel's stylesheet and script.
type Assets struct {
	CSS string
	JS  string
}

// Nav says which navigation entries the signed-in administrator may use.
type Nav struct {
	Types    []TypeRef
	Media    bool
	Builder  bool
	Webhooks bool
	Users    bool
	Roles    bool
	Tokens   bool
	Public   bool
}

// HasSettings reports whether any settings entry is shown.
func (n Nav) HasSettings() bool {
	return n.Webhooks || n.Users || n.Roles || n.Tokens || n.Public
}

// Flash is a one-time message shown at the top of the next page.
type Flash struct {
	// Kind is "ok", "error" or "info".
	Kind    string
	Message string
}

// TypeRef names a content type.
type TypeRef struct {
	UID             string
	Name            string
	Single          bool
	DraftAndPublish bool
}

// ManagerURL is the content manager's page of the type.
func (t TypeRef) ManagerURL() string {
	return "/admin/content-manager/" + t.UID
}

// Errors maps a field's path, its parts joined with dots, to its message.
type Errors map[string]string

// Of returns the message of the field at key, or "".
func (e Errors) Of(key string) string {
	return e[key]
}

// Under returns the messages of key and of every field below it, joined.
func (e Errors) Under(key string) string {
	var msgs []string
	if m := e[key]; m != "" {
		msgs = append(msgs, m)
	}
	for k, m := range e {
		if strings.HasPrefix(k, key+".") {
			msgs = append(msgs, m)
		}
	}
	slices.Sort(msgs)
	return strings.Join(msgs, " ")
}

// Pager is the pagination of a list.
type Pager struct {
	Page      int
	PageCount int
	Total     int64
	// Prev and Next are the URLs of the neighbouring pages; empty when
	// there is none.
	Prev string
	Next string
}

// When formats a time for people: UTC, to the second.
func When(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// WhenPtr formats an optional time; nil is "—".
func WhenPtr(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return When(*t)
}

// short formats a time for a table cell whose header says UTC.
func short(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05")
}

// shortPtr is short for an optional time; nil is "—".
func shortPtr(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return short(*t)
}

func itoa(n int) string { return strconv.Itoa(n) }

func i64toa(n int64) string { return strconv.FormatInt(n, 10) }

// describedBy joins the ids of a field's hint and error for
// aria-describedby.
func describedBy(id string, hint, err bool) string {
	var ids []string
	if hint {
		ids = append(ids, id+"-hint")
	}
	if err {
		ids = append(ids, id+"-error")
	}
	return strings.Join(ids, " ")
}

// count says how many of something there are: "1 entry", "3 entries".
func count(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return i64toa(n) + " " + many
}
