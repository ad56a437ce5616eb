package web_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestPanelPickersInABrowser chooses an article's author and tags through
// the relation pickers' search, and its cover and a gallery file through
// the media pickers, saves, and checks what the content service stored.
func TestPanelPickersInABrowser(t *testing.T) {
	chromiumPath(t) // skip (or fail) at once without a browser
	// The server starts first so that it stops last, after the browser.
	f := relationTypes(t)
	tab := startChromium(t)
	grace := f.create(t, "api::person.person", map[string]any{"name": "Grace Hopper"})
	f.create(t, "api::person.person", map[string]any{"name": "Ada Lovelace"})
	tagGo := f.create(t, "api::tag.tag", map[string]any{"name": "Go"})
	tagRust := f.create(t, "api::tag.tag", map[string]any{"name": "Rust"})
	png := f.upload(t, "cover.png", pngImage(t, 3, 2))
	txt := f.upload(t, "notes.txt", []byte("just words"))

	// choice is the search result button of a picker for an id.
	choice := func(picker, id string) string {
		return fmt.Sprintf(`#%s-picker .picker-results button[data-id="%s"]`, picker, id)
	}
	// chosen lists the labels a picker shows as chosen.
	chosen := func(t *testing.T, ctx context.Context, picker string) []string {
		return eval[[]string](t, ctx, `[...document.querySelectorAll("#`+picker+
			`-picker [data-picks] .pick-label")].map(e => e.textContent)`)
	}
	var entry string

	step(t, tab, "sign in", func(t *testing.T, ctx context.Context) {
		must(t, ctx, chromedp.Navigate(f.s.URL+"/admin/auth/sign-in"),
			fill("#email", "ada@example.com"), fill("#password", "correct horse battery"),
			submit(`button[type=submit]`))
		if h := text(t, ctx, "h1"); h != "Content manager" {
			t.Fatalf("after sign-in the page is %q", h)
		}
	})

	step(t, tab, "choose the author by searching", func(t *testing.T, ctx context.Context) {
		must(t, ctx, chromedp.Navigate(f.s.URL+articlesPage+"/create"),
			fill("#f-title", "Picked in Chromium"))
		if eval[bool](t, ctx, `document.querySelector("[data-nojs]") !== null`) {
			t.Fatalf("the script left the inputs meant for use without it")
		}
		must(t, ctx, chromedp.Click(chromedp.CSS("#f-author-picker .picker-open")),
			chromedp.SendKeys(chromedp.CSS("#f-author-picker input[type=search]"), "grace"),
			// Enter searches; it must not submit the entry form.
			chromedp.KeyEvent("\r"))
		waitFor(t, ctx, `document.querySelectorAll("#f-author-picker .picker-results li")`+
			`.length === 1`, 5*time.Second)
		if !strings.HasSuffix(location(t, ctx), "/create") {
			t.Fatalf("Enter in the search left the form for %s", location(t, ctx))
		}
		must(t, ctx, chromedp.Click(chromedp.CSS(choice("f-author", grace))))
		if got := chosen(t, ctx, "f-author"); !slices.Equal(got, []string{"Grace Hopper"}) {
			t.Fatalf("the author picker shows %q", got)
		}
		if eval[bool](t, ctx, `document.querySelector("#f-author-picker-panel").hidden`) != true {
			t.Errorf("choosing the one author does not close the search")
		}
	})

	step(t, tab, "add two tags and remove one", func(t *testing.T, ctx context.Context) {
		must(t, ctx, chromedp.Click(chromedp.CSS("#f-tags-picker .picker-open")))
		waitFor(t, ctx, `document.querySelectorAll("#f-tags-picker .picker-results li")`+
			`.length === 2`, 5*time.Second)
		must(t, ctx, chromedp.Click(chromedp.CSS(choice("f-tags", tagGo))),
			chromedp.Click(chromedp.CSS(choice("f-tags", tagRust))))
		if got := chosen(t, ctx, "f-tags"); !slices.Equal(got, []string{"Go", "Rust"}) {
			t.Fatalf("the tags picker shows %q", got)
		}
		must(t, ctx, chromedp.Click(chromedp.CSS(`#f-tags-picker button[aria-label="Remove Go"]`)))
		if got := chosen(t, ctx, "f-tags"); !slices.Equal(got, []string{"Rust"}) {
			t.Fatalf("after removing Go the tags picker shows %q", got)
		}
	})

	step(t, tab, "choose a cover and a gallery file", func(t *testing.T, ctx context.Context) {
		must(t, ctx, chromedp.Click(chromedp.CSS("#f-cover-picker .picker-open")))
		waitFor(t, ctx, `document.querySelectorAll("#f-cover-picker .picker-results li")`+
			`.length === 1`, 5*time.Second)
		if eval[bool](t, ctx, `document.querySelector(`+fmt.Sprintf("%q", choice("f-cover", png)+
			" img")+`)?.naturalWidth === 3`) != true {
			t.Errorf("the cover's choice shows no loaded preview")
		}
		must(t, ctx, chromedp.Click(chromedp.CSS(choice("f-cover", png))),
			chromedp.Click(chromedp.CSS("#f-gallery-picker .picker-open")))
		waitFor(t, ctx, `document.querySelectorAll("#f-gallery-picker .picker-results li")`+
			`.length === 2`, 5*time.Second)
		must(t, ctx, chromedp.Click(chromedp.CSS(choice("f-gallery", txt))))
		if got := chosen(t, ctx, "f-cover"); !slices.Equal(got, []string{"cover.png"}) {
			t.Errorf("the cover picker shows %q", got)
		}
		if got := chosen(t, ctx, "f-gallery"); !slices.Equal(got, []string{"notes.txt"}) {
			t.Errorf("the gallery picker shows %q", got)
		}
	})

	step(t, tab, "save and read it back", func(t *testing.T, ctx context.Context) {
		must(t, ctx, submit(`button[value=save]`))
		if msg := text(t, ctx, ".flash"); msg != "Draft saved." {
			t.Fatalf("saving shows %q", msg)
		}
		u := location(t, ctx)
		entry = u[strings.LastIndex(u, "/")+1:]
		doc := f.article(t, entry)
		if a := idsIn(doc["author"], "documentId"); !slices.Equal(a, []string{grace}) {
			t.Errorf("stored author %v, want %s", doc["author"], grace)
		}
		if tags := idsIn(doc["tags"], "documentId"); !slices.Equal(tags, []string{tagRust}) {
			t.Errorf("stored tags %v", tags)
		}
		if c := idsIn(doc["cover"], "id"); !slices.Equal(c, []string{png}) {
			t.Errorf("stored cover %v", doc["cover"])
		}
		if g := idsIn(doc["gallery"], "id"); !slices.Equal(g, []string{txt}) {
			t.Errorf("stored gallery %v", doc["gallery"])
		}
		if got := chosen(t, ctx, "f-author"); !slices.Equal(got, []string{"Grace Hopper"}) {
			t.Errorf("the saved entry's author picker shows %q", got)
		}
	})

	step(t, tab, "readable at 390 px", func(t *testing.T, ctx context.Context) {
		defer must(t, ctx, chromedp.EmulateViewport(1280, 900))
		must(t, ctx, chromedp.EmulateViewport(390, 844),
			chromedp.Click(chromedp.CSS("#f-gallery-picker .picker-open")))
		waitFor(t, ctx, `document.querySelectorAll("#f-gallery-picker .picker-results li")`+
			`.length === 2`, 5*time.Second)
		if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); w > 390 {
			t.Errorf("the entry form with its pickers is %d px wide at 390 px", w)
		}
		must(t, ctx, chromedp.Click(chromedp.CSS("#f-gallery-picker .picker-panel .actions "+
			"button:last-child")))
	})

	step(t, tab, "remove the author and the cover", func(t *testing.T, ctx context.Context) {
		must(t, ctx,
			chromedp.Click(chromedp.CSS(
				`#f-author-picker button[aria-label="Remove Grace Hopper"]`)),
			chromedp.Click(chromedp.CSS(`#f-cover-picker button[aria-label="Remove cover.png"]`)),
			submit(`button[value=save]`))
		doc := f.article(t, entry)
		if doc["author"] != nil || doc["cover"] != nil {
			t.Errorf("after removal: author %v, cover %v", doc["author"], doc["cover"])
		}
		if tags := idsIn(doc["tags"], "documentId"); !slices.Equal(tags, []string{tagRust}) {
			t.Errorf("tags changed with the author: %v", tags)
		}
	})

	step(t, tab, "no script errors or policy violations", func(t *testing.T, ctx context.Context) {
		if p := problems(t, ctx); len(p) > 0 {
			t.Errorf("the pages had problems:\n%s", strings.Join(p, "\n"))
		}
	})
}
