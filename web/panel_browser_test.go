package web_test

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/herald-cms/herald/admin"
	"github.com/herald-cms/herald/web/webtest"
	"github.com/herald-cms/herald/webhooks"
)

// chromiumPath finds Chromium. Without it the browser tests skip, unless
// HERALD_TEST_BROWSER=required (CI), which makes them fail.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("HERALD_TEST_BROWSER") == "required" {
		t.Fatal("Chromium is not installed, and HERALD_TEST_BROWSER=required")
	}
	t.Skip("Chromium is not installed: skipping the browser tests " +
		"(set HERALD_TEST_BROWSER=required to fail instead)")
	return ""
}

// startChromium starts one headless Chromium for a test and returns the
// context of its first tab. The browser stops when the test ends.
func startChromium(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath(t)
	dir, err := os.MkdirTemp("", "herald-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Chromium's helpers can still write for a moment after it stops.
		for range 50 {
			if os.RemoveAll(dir) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(dir),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	_, err = chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument,
		page.AddScriptToEvaluateOnNewDocumentParams{Source: problemRecorder})
	if err != nil {
		t.Fatalf("install the problem recorder: %v", err)
	}
	return ctx
}

// problemRecorder runs before every page's own scripts and keeps, across
// pages of the tab, each script error and content security policy
// violation, for problems() to read.
const problemRecorder = `(() => {
	const keep = (what) => {
		const all = JSON.parse(sessionStorage.getItem("heraldProblems") || "[]");
		all.push(location.pathname + ": " + what);
		sessionStorage.setItem("heraldProblems", JSON.stringify(all));
	};
	addEventListener("error", (e) => keep("script error: " + e.message));
	addEventListener("securitypolicyviolation",
		(e) => keep("CSP violation: " + e.violatedDirective + " " + e.blockedURI));
})()`

// problems returns what the problem recorder kept.
func problems(t *testing.T, ctx context.Context) []string {
	t.Helper()
	return eval[[]string](t, ctx, `JSON.parse(sessionStorage.getItem("heraldProblems") || "[]")`)
}

// screenshotOnFailure saves what the tab shows when the test failed: into
// the test's artifact directory with -artifacts, otherwise into
// $TMPDIR/herald-browser-tests, and logs the path.
func screenshotOnFailure(t *testing.T, ctx context.Context) {
	t.Helper()
	if !t.Failed() {
		return
	}
	dir := filepath.Join(os.TempDir(), "herald-browser-tests")
	if f := flag.Lookup("test.artifacts"); f != nil && f.Value.String() == "true" {
		dir = t.ArtifactDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Logf("screenshot: %v", err)
		return
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot: %v", err)
		return
	}
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()) + ".png"
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Logf("screenshot: %v", err)
		return
	}
	url, _ := chromedp.Run(sctx, chromedp.Location())
	t.Logf("screenshot of %s saved to %s", url, path)
}

// step runs one part of the browser scenario with its own time limit and
// a screenshot when it fails.
func step(t *testing.T, tab context.Context, name string, fn func(t *testing.T, ctx context.Context)) {
	t.Helper()
	ok := t.Run(name, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(tab, 30*time.Second)
		defer cancel()
		defer screenshotOnFailure(t, tab)
		fn(t, ctx)
	})
	if !ok {
		t.FailNow() // each step builds on the ones before
	}
}

// must runs actions and fails the test on error.
func must(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

// submit clicks a button or link that loads another page, and waits until
// the new document has loaded.
func submit(sel string) chromedp.Action[chromedp.Void] {
	return loads(chromedp.Click(chromedp.CSS(sel)))
}

// pressEnter submits a form from the keyboard: Enter in one of its fields.
func pressEnter(sel string) chromedp.Action[chromedp.Void] {
	return loads(chromedp.Steps(chromedp.Focus(chromedp.CSS(sel)), chromedp.KeyEvent("\r")))
}

// loads runs an action that loads another page and waits until the new
// document has loaded: the old one is marked first, so a late event of an
// earlier load cannot be mistaken for this one.
func loads(action chromedp.Action[chromedp.Void]) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`window.heraldOldPage = true`),
			action)
		if err != nil {
			return err
		}
		return poll(ctx, `window.heraldOldPage === undefined && document.readyState === "complete"`)
	})
}

// poll evaluates a JavaScript predicate every 50 ms until it is true or
// ctx ends. Errors while a page is being replaced are expected and
// retried.
func poll(ctx context.Context, expr string) error {
	var last error
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return nil
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (last error: %v)", expr, ctx.Err(), last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// fill replaces the value of an input with text, typed.
func fill(sel, text string) chromedp.Action[chromedp.Void] {
	clear := fmt.Sprintf(`document.querySelector(%q).value = ""`, sel)
	return chromedp.Steps(chromedp.Evaluate[chromedp.Void](clear),
		chromedp.SendKeys(chromedp.CSS(sel), text))
}

// text returns the text of the first element matching sel.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// eval evaluates a JavaScript expression and returns its value.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitFor polls a JavaScript predicate in the page, without reloading it.
func waitFor(t *testing.T, ctx context.Context, expr string, timeout time.Duration) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := poll(wctx, expr); err != nil {
		t.Fatal(err)
	}
}

func location(t *testing.T, ctx context.Context) string {
	t.Helper()
	u, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestPanelInABrowser drives the admin panel in Chromium through an
// editor's and an administrator's day: first-run registration, sign-in, a
// content type, an entry published, a webhook whose delivery succeeds and
// is redelivered, an Author who cannot publish, and a failing receiver
// whose retries show in a log that refreshes itself.
func TestPanelInABrowser(t *testing.T) {
	chromiumPath(t) // skip (or fail) at once without a browser
	// The server starts first so that it stops last, after the browser.
	s := webtest.Start(t, webtest.Options{Webhooks: webhooks.Config{
		RetrySchedule: []time.Duration{time.Second, time.Second},
		Jitter:        func() float64 { return 0 },
	}})
	tab := startChromium(t)
	good := newHookReceiver(t, http.StatusOK)
	bad := newHookReceiver(t, http.StatusServiceUnavailable)
	const password = "correct horse battery"

	step(t, tab, "first-run registration", func(t *testing.T, ctx context.Context) {
		must(t, ctx, chromedp.Navigate(s.URL+"/admin"))
		if u := location(t, ctx); !strings.HasSuffix(u, "/admin/auth/register") {
			t.Fatalf("a fresh Herald opens %s, want the registration page", u)
		}
		// Keyboard first: Tab reaches the first field, and focus shows.
		must(t, ctx, chromedp.KeyEvent("\t"))
		if !eval[bool](t, ctx, `getComputedStyle(document.activeElement).outlineStyle !== "none"`) {
			t.Errorf("the focused element has no visible outline")
		}
		must(t, ctx,
			fill("#firstname", "Ada"), fill("#lastname", "Admin"),
			fill("#email", "ada@example.com"), fill("#password", password),
			submit(`button[type=submit]`))
		if h := text(t, ctx, "h1"); h != "New content type" {
			t.Fatalf("after registration the page is %q", h)
		}
	})

	step(t, tab, "sign out and in", func(t *testing.T, ctx context.Context) {
		must(t, ctx, submit(`.topbar button`))
		if !strings.Contains(location(t, ctx), "/admin/auth/sign-in") {
			t.Fatalf("sign-out leads to %s", location(t, ctx))
		}
		must(t, ctx, fill("#email", "ada@example.com"), fill("#password", "wrong password"),
			submit(`button[type=submit]`))
		if msg := text(t, ctx, ".alert"); !strings.Contains(msg, "not right") {
			t.Fatalf("a wrong password shows %q", msg)
		}
		must(t, ctx, fill("#password", password), submit(`button[type=submit]`))
		if h := text(t, ctx, "h1"); h != "Content manager" {
			t.Fatalf("after sign-in the page is %q", h)
		}
	})

	step(t, tab, "create a content type", func(t *testing.T, ctx context.Context) {
		must(t, ctx, chromedp.Navigate(s.URL+"/admin/content-type-builder/new"),
			fill("#displayName", "Article"), fill("#singularName", "article"),
			fill("#pluralName", "articles"), fill("#a0-name", "title"),
			chromedp.Click(chromedp.CSS("#a0-required")),
			submit(`button[value=add]`),
			fill("#a1-name", "body"))
		// The script shows only the options of the chosen type.
		must(t, ctx, chromedp.Evaluate[chromedp.Void](`(() => {
			const s = document.querySelector("#a1-type");
			s.value = "richtext";
			s.dispatchEvent(new Event("change"));
		})()`))
		must(t, ctx, chromedp.Evaluate[chromedp.Void](
			`document.querySelector("#a1-min").closest("details").open = true`))
		shown := func(sel string) bool {
			return eval[bool](t, ctx, `document.querySelector("`+sel+`").checkVisibility()`)
		}
		if shown("#a1-min") || shown("#a1-targetField") {
			t.Errorf("numeric or uid options show for a richtext attribute")
		}
		if !shown("#a1-maxLength") {
			t.Errorf("length options are hidden for a richtext attribute")
		}
		must(t, ctx, submit(`button[value=save]`))
		if msg := text(t, ctx, ".flash"); !strings.Contains(msg, "Its API is /api/articles") {
			t.Fatalf("saving the type shows %q", msg)
		}
	})

	step(t, tab, "create a webhook for chosen events", func(t *testing.T, ctx context.Context) {
		must(t, ctx, chromedp.Navigate(s.URL+"/admin/settings/webhooks/new"),
			fill("#name", "Rebuild"), fill("#url", good.URL))
		for _, ev := range []string{"entry.create", "entry.update", "entry.delete",
			"entry.unpublish", "entry.draft-discard"} {
			must(t, ctx, chromedp.Click(chromedp.CSS(`[id="event-`+ev+`"]`)))
		}
		// Enter in a field saves the webhook (rather than adding a header).
		must(t, ctx, chromedp.Click(chromedp.CSS("#scope-chosen")),
			chromedp.Click(chromedp.CSS(`[id="type-api::article.article"]`)),
			pressEnter("#name"))
		if msg := text(t, ctx, ".flash"); msg != "Webhook Rebuild saved." {
			t.Fatalf("saving the webhook shows %q", msg)
		}
		got := eval[[]string](t, ctx,
			`[...document.querySelectorAll("input[name=events]:checked")].map(e => e.value)`)
		if len(got) != 1 || got[0] != "entry.publish" {
			t.Errorf("the webhook's events are %q, want entry.publish", got)
		}
	})

	step(t, tab, "create and publish an entry", func(t *testing.T, ctx context.Context) {
		must(t, ctx, chromedp.Navigate(s.URL+articlesPage),
			submit(`a.button[href$="/create"]`),
			fill("#f-title", "Hello from Chromium"),
			fill("#f-body", "Some **bold** words"),
			chromedp.Click(chromedp.CSS(".preview-box summary")))
		waitFor(t, ctx, `document.querySelector(".preview strong")?.textContent === "bold"`,
			5*time.Second)
		must(t, ctx, submit(`button[value=publish]`))
		if msg := text(t, ctx, ".flash"); msg != "Published." {
			t.Fatalf("publishing shows %q", msg)
		}
		if b := text(t, ctx, ".page-head .badge"); b != "Published" {
			t.Fatalf("the entry's state is %q", b)
		}
	})

	var deliveryURL string
	step(t, tab, "see the delivery succeed in the log", func(t *testing.T, ctx context.Context) {
		must(t, ctx, chromedp.Navigate(s.URL+"/admin/settings/webhooks"),
			submit(`td a[href^="/admin/settings/webhooks/"]`),
			submit(`a.button[href$="/deliveries"]`))
		waitFor(t, ctx, `document.querySelector("#deliveries").textContent.includes("Succeeded")`,
			10*time.Second)
		must(t, ctx, submit(`#deliveries td a`))
		deliveryURL = location(t, ctx)
		if got := text(t, ctx, "h1"); got != "entry.publish delivery" {
			t.Fatalf("delivery page %q", got)
		}
		if body := text(t, ctx, "pre"); !strings.Contains(body, `"event": "entry.publish"`) {
			t.Errorf("payload is not shown pretty-printed: %s", body)
		}
	})

	step(t, tab, "redeliver it", func(t *testing.T, ctx context.Context) {
		must(t, ctx, chromedp.Navigate(deliveryURL), submit(`.page-head form button`))
		waitFor(t, ctx, `document.querySelector("#attempt-2") !== null`, 10*time.Second)
		ids := good.received("entry.publish")
		if len(ids) != 2 || ids[0] != ids[1] {
			t.Errorf("the receiver got webhook-ids %q, want the same id twice", ids)
		}
	})

	step(t, tab, "readable at 390 px", func(t *testing.T, ctx context.Context) {
		defer must(t, ctx, chromedp.EmulateViewport(1280, 900))
		must(t, ctx, chromedp.EmulateViewport(390, 844))
		for _, path := range []string{articlesPage, "/admin/settings/webhooks",
			strings.TrimPrefix(deliveryURL, s.URL)} {
			must(t, ctx, chromedp.Navigate(s.URL+path))
			if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); w > 390 {
				wide := eval[[]string](t, ctx, `[...document.querySelectorAll("body *")]
					.filter(e => e.getBoundingClientRect().right > 391 &&
						!e.parentElement.closest(".table-wrap"))
					.slice(0, 5).map(e => e.tagName + "." + e.className)`)
				t.Errorf("%s is %d px wide at 390 px; too wide: %q", path, w, wide)
			}
		}
	})

	step(t, tab, "an author cannot publish", func(t *testing.T, ctx context.Context) {
		_, err := s.Admin.CreateAdmin(context.Background(), admin.RegisterInput{
			Firstname: "Aude", Email: "author@example.com", Password: "an author password",
		}, admin.RoleAuthor)
		if err != nil {
			t.Fatal(err)
		}
		must(t, ctx, chromedp.Navigate(s.URL+"/admin/content-manager"),
			submit(`.topbar button`),
			fill("#email", "author@example.com"), fill("#password", "an author password"),
			submit(`button[type=submit]`),
			chromedp.Navigate(s.URL+articlesPage+"/create"))
		if eval[bool](t, ctx, `document.querySelector("button[value=publish]") !== null`) {
			t.Fatalf("an author is offered Publish")
		}
		must(t, ctx, fill("#f-title", "Draft by an author"), submit(`button[value=save]`))
		if b := text(t, ctx, ".page-head .badge"); b != "Draft" {
			t.Fatalf("the author's entry is %q", b)
		}
		// Posting the form with action=publish anyway is refused.
		got, err := chromedp.Run(ctx, chromedp.Evaluate[int](`(async () => {
			const f = document.querySelector("main form[method=post]");
			const body = new URLSearchParams(new FormData(f));
			body.set("action", "publish");
			return (await fetch(f.action, {method: "POST", body})).status;
		})()`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		if got != http.StatusForbidden {
			t.Errorf("an author's publish answered %d, want 403", got)
		}
	})

	step(t, tab, "a failing receiver shows retries in the log", func(t *testing.T, ctx context.Context) {
		must(t, ctx, submit(`.topbar button`),
			fill("#email", "ada@example.com"), fill("#password", password),
			submit(`button[type=submit]`),
			chromedp.Navigate(s.URL+"/admin/settings/webhooks/new"),
			fill("#name", "Search index"), fill("#url", bad.URL),
			submit(`.actions button[value=save]`),
			submit(`a.button[href$="/deliveries"]`))
		log := location(t, ctx)
		must(t, ctx, chromedp.Navigate(s.URL+articlesPage+"/create"),
			fill("#f-title", "Indexed"), submit(`button[value=save]`),
			chromedp.Navigate(log))
		if eval[string](t, ctx, `document.querySelector("#deliveries").dataset.pending`) != "true" {
			t.Fatalf("the log does not show the delivery pending: %s", text(t, ctx, "#deliveries"))
		}
		// The table refreshes itself: no reload from here on.
		waitFor(t, ctx, `document.querySelector("#deliveries").dataset.pending === "false"`,
			20*time.Second)
		row := text(t, ctx, "#deliveries tbody tr")
		for _, want := range []string{"entry.create", "Failed", "3", "503"} {
			if !strings.Contains(row, want) {
				t.Errorf("the failed delivery's row %q lacks %q", row, want)
			}
		}
		if n := len(bad.received("entry.create")); n != 3 {
			t.Errorf("the failing receiver got %d attempts, want 3", n)
		}
	})

	step(t, tab, "no script errors or policy violations", func(t *testing.T, ctx context.Context) {
		if p := problems(t, ctx); len(p) > 0 {
			t.Errorf("the pages had problems:\n%s", strings.Join(p, "\n"))
		}
	})
}
