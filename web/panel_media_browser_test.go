package web_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/herald-cms/herald/web/webtest"
)

// noisePNG encodes a side×side image of random pixels: PNG cannot compress
// it, so the file is about 4·side² bytes, large enough for an upload to
// report progress as it goes.
func noisePNG(t *testing.T, side int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, side, side))
	r := rand.New(rand.NewChaCha8([32]byte{'h', 'e', 'r', 'a', 'l', 'd'}))
	for i := range img.Pix {
		img.Pix[i] = byte(r.Uint32())
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// consoleErrors collects, until the test ends, every error and uncaught
// exception that the tab's pages write to the console, among them failed
// loads and refused scripts or styles. The browser's own request for
// /favicon.ico, which no page asks for, is left out.
func consoleErrors(t *testing.T, tab context.Context) func() []string {
	t.Helper()
	ctx, cancel := context.WithCancel(tab)
	messages := chromedp.Console(ctx)
	var (
		mu   sync.Mutex
		seen []string
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			if strings.HasSuffix(m.URL, "/favicon.ico") {
				continue
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				mu.Lock()
				seen = append(seen, m.String()+" ("+m.URL+")")
				mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(seen)
	}
}

// throttleUploads limits how fast the tab sends request bodies, in bytes
// per second; -1 lifts the limit. Newer Chromium takes the limit as a rule
// (Network.emulateNetworkConditionsByRule); older releases, such as the
// one Debian may ship, only through Network.emulateNetworkConditions,
// which the generated protocol package no longer lists.
func throttleUploads(t *testing.T, ctx context.Context, bytesPerSecond float64) {
	t.Helper()
	_, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule,
		network.EmulateNetworkConditionsByRuleParams{
			MatchedNetworkConditions: []*network.Conditions{{
				DownloadThroughput: -1, UploadThroughput: bytesPerSecond}}})
	if err == nil {
		return
	}
	_, older := chromedp.Call(ctx, emulateNetworkConditions, networkConditions{
		DownloadThroughput: -1, UploadThroughput: bytesPerSecond})
	if older != nil {
		t.Fatalf("throttle uploads: %v; with the older command: %v", err, older)
	}
}

// networkConditions are the parameters of Chromium's older, deprecated
// Network.emulateNetworkConditions command.
type networkConditions struct {
	Offline            bool    `json:"offline"`
	Latency            float64 `json:"latency"`
	DownloadThroughput float64 `json:"downloadThroughput"`
	UploadThroughput   float64 `json:"uploadThroughput"`
}

var emulateNetworkConditions = cdp.Command[networkConditions, cdp.Empty]{
	Method: "Network.emulateNetworkConditions"}

// flashText returns the page's flash message, or "" when it has none.
func flashText(t *testing.T, ctx context.Context) string {
	t.Helper()
	return eval[string](t, ctx, `document.querySelector(".flash")?.textContent.trim() ?? ""`)
}

// progressRecorder watches the upload form's progress bar and status line
// and keeps, in sessionStorage so that it survives the reload that ends an
// upload, each state they pass through: "hidden" or the bar's value, and
// the status text.
const progressRecorder = `(() => {
	const bar = document.querySelector("[data-upload-progress]");
	const status = document.querySelector("[data-upload-status]");
	sessionStorage.setItem("heraldProgress", "[]");
	const keep = () => {
		const all = JSON.parse(sessionStorage.getItem("heraldProgress"));
		all.push({hidden: bar.hidden, value: bar.value, max: bar.max,
			status: status.textContent});
		sessionStorage.setItem("heraldProgress", JSON.stringify(all));
	};
	const watch = new MutationObserver(keep);
	watch.observe(bar, {attributes: true, attributeFilter: ["value", "hidden"]});
	watch.observe(status, {childList: true, characterData: true, subtree: true});
})()`

// progressState is one state of the upload's progress bar.
type progressState struct {
	Hidden bool    `json:"hidden"`
	Value  float64 `json:"value"`
	Max    float64 `json:"max"`
	Status string  `json:"status"`
}

// TestPanelMediaLibraryInABrowser uploads an image and a text file through
// the media library page, following the progress bar, finds both in the
// grid, changes the image's texts on its page, deletes the text file after
// confirming, and checks each change through the admin upload API.
func TestPanelMediaLibraryInABrowser(t *testing.T) {
	chromiumPath(t) // skip (or fail) at once without a browser
	// The server starts first so that it stops last, after the browser.
	s := webtest.Start(t, webtest.Options{UploadLimit: 4 << 20})
	token := s.RegisterAdmin()
	tab := startChromium(t)
	logged := consoleErrors(t, tab)

	// The image (about 3.1 MiB) fits the limit of 4 MiB; the big one (about
	// 5.5 MiB) does not.
	const side = 900
	dir := t.TempDir()
	pngPath, txtPath := filepath.Join(dir, "noise.png"), filepath.Join(dir, "notes.txt")
	bigPath := filepath.Join(dir, "big.png")
	for path, body := range map[string][]byte{
		pngPath: noisePNG(t, side), txtPath: []byte("Plain words, no markup.\n"),
		bigPath: noisePNG(t, 1200),
	} {
		if err := os.WriteFile(path, body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// ids maps the uploaded files' names to their ids.
	ids := map[string]string{}
	// tiles lists the names the grid shows.
	tiles := func(t *testing.T, ctx context.Context) []string {
		names := eval[[]string](t, ctx, `[...document.querySelectorAll(
			".media-grid .media-tile .media-name")].map(e => e.textContent)`)
		slices.Sort(names)
		return names
	}

	step(t, tab, "sign in", func(t *testing.T, ctx context.Context) {
		must(t, ctx, chromedp.Navigate(s.URL+"/admin/auth/sign-in"),
			fill("#email", "ada@example.com"), fill("#password", "correct horse battery"),
			submit(`button[type=submit]`))
		if h := text(t, ctx, "h1"); h != "Content manager" {
			t.Fatalf("after sign-in the page is %q", h)
		}
	})

	step(t, tab, "upload two files with progress", func(t *testing.T, ctx context.Context) {
		must(t, ctx, chromedp.Navigate(s.URL+"/admin/media"))
		if eval[bool](t, ctx, `document.querySelector("[data-upload-progress]").hidden`) != true {
			t.Errorf("the progress bar shows before any upload")
		}
		// At 8 MiB/s the image takes about 0.4 s to send: long enough for
		// the browser, which reports upload progress every 50 ms, to show
		// steps between empty and full.
		throttleUploads(t, ctx, 8<<20)
		defer throttleUploads(t, ctx, -1)
		must(t, ctx, chromedp.Evaluate[chromedp.Void](progressRecorder),
			chromedp.SetUploadFiles(chromedp.CSS("#media-files"), []string{pngPath, txtPath}),
			loads(chromedp.Click(chromedp.CSS("form[data-upload] button[type=submit]"))))
		if u := location(t, ctx); u != s.URL+"/admin/media" {
			t.Fatalf("after the upload the page is %s", u)
		}
		states := eval[[]progressState](t, ctx,
			`JSON.parse(sessionStorage.getItem("heraldProgress") || "[]")`)
		t.Logf("progress states: %+v", states)
		if len(states) == 0 {
			t.Fatalf("the progress bar and status never changed")
		}
		if states[0].Hidden {
			t.Errorf("the upload did not show the progress bar: %+v", states[0])
		}
		var last float64
		for _, st := range states {
			if st.Hidden {
				t.Errorf("the progress bar hid again during the upload: %+v", states)
				break
			}
			if st.Value < last {
				t.Errorf("the progress went back from %v to %v", last, st.Value)
			}
			last = st.Value
		}
		if end := states[len(states)-1]; end.Value != end.Max || end.Max != 100 {
			t.Errorf("the progress ended at %v of %v, want complete", end.Value, end.Max)
		}
		if !slices.ContainsFunc(states, func(st progressState) bool {
			return st.Value > 0 && st.Value < st.Max
		}) {
			t.Errorf("the progress bar jumped from empty to full: %+v", states)
		}
		if !slices.ContainsFunc(states, func(st progressState) bool {
			return st.Status == "Uploading…"
		}) {
			t.Errorf("the status never said the upload was running: %+v", states)
		}
		if msg := flashText(t, ctx); msg != "2 files uploaded." {
			t.Errorf("after the upload the page says %q", msg)
		}
	})

	step(t, tab, "the grid shows both files", func(t *testing.T, ctx context.Context) {
		if got := tiles(t, ctx); !slices.Equal(got, []string{"noise.png", "notes.txt"}) {
			t.Fatalf("the grid shows %q", got)
		}
		for _, f := range filesOf(t, s.Must(200, "GET", "/admin/upload/files", nil, token)) {
			ids[f["name"].(string)] = fmt.Sprint(f["id"])
		}
		img := fmt.Sprintf(`document.querySelector('.media-tile a[href="/admin/media/%s"] img')`,
			ids["noise.png"])
		waitFor(t, ctx, img+`?.complete === true`, 5*time.Second)
		if w := eval[int](t, ctx, img+`.naturalWidth`); w != side {
			t.Errorf("the image's preview is %d px wide, want %d", w, side)
		}
		kind := fmt.Sprintf(`document.querySelector('.media-tile a[href="/admin/media/%s"]')`,
			ids["notes.txt"])
		if eval[bool](t, ctx, kind+`.querySelector("img") !== null`) {
			t.Errorf("the text file has an image preview")
		}
		got := eval[string](t, ctx, kind+`.querySelector(".media-type").textContent`)
		if !strings.HasPrefix(got, "text/plain") {
			t.Errorf("the text file's tile shows the type %q", got)
		}
	})

	step(t, tab, "change the image's texts", func(t *testing.T, ctx context.Context) {
		page := "/admin/media/" + ids["noise.png"]
		must(t, ctx, submit(`.media-tile a[href="`+page+`"]`))
		if h := text(t, ctx, "h1"); h != "noise.png" {
			t.Fatalf("the file's page is %q", h)
		}
		if dims := text(t, ctx, ".facts"); !strings.Contains(dims, "900 × 900") {
			t.Errorf("the facts lack the dimensions: %q", dims)
		}
		must(t, ctx, fill("#media-alt", "Grey static, as on an old television"),
			fill("#media-caption", "Noise, 900 pixels square"),
			submit(`form[action="`+page+`"] button[type=submit]`))
		if msg := flashText(t, ctx); msg != "Saved noise.png." {
			t.Errorf("saving shows %q", msg)
		}
		if alt := eval[string](t, ctx, `document.querySelector(".media-preview").alt`); alt !=
			"Grey static, as on an old television" {
			t.Errorf("the preview's alternative text is %q", alt)
		}
		got := s.Must(200, "GET", "/admin/upload/files/"+ids["noise.png"], nil, token).Map(t)
		if got["alternativeText"] != "Grey static, as on an old television" ||
			got["caption"] != "Noise, 900 pixels square" || got["name"] != "noise.png" {
			t.Errorf("the API reads %v", got)
		}
	})

	step(t, tab, "delete the text file after confirming", func(t *testing.T, ctx context.Context) {
		page := "/admin/media/" + ids["notes.txt"]
		must(t, ctx, chromedp.Navigate(s.URL+"/admin/media"),
			submit(`.media-tile a[href="`+page+`"]`))
		const yes = `document.querySelector("details.confirm button.danger")`
		if eval[bool](t, ctx, yes+`.checkVisibility()`) {
			t.Fatalf("the delete button shows before the confirmation is opened")
		}
		must(t, ctx, chromedp.Click(chromedp.CSS("details.confirm summary")))
		if !eval[bool](t, ctx, yes+`.checkVisibility()`) {
			t.Fatalf("opening the confirmation does not show the delete button")
		}
		must(t, ctx, submit("details.confirm button.danger"))
		if u := location(t, ctx); u != s.URL+"/admin/media" {
			t.Errorf("after deleting the page is %s", u)
		}
		if msg := flashText(t, ctx); msg != "Deleted notes.txt." {
			t.Errorf("deleting shows %q", msg)
		}
		if got := tiles(t, ctx); !slices.Equal(got, []string{"noise.png"}) {
			t.Errorf("after deleting the grid shows %q", got)
		}
		s.Must(404, "GET", "/admin/upload/files/"+ids["notes.txt"], nil, token)
		left := filesOf(t, s.Must(200, "GET", "/admin/upload/files", nil, token))
		if len(left) != 1 || fmt.Sprint(left[0]["id"]) != ids["noise.png"] {
			t.Errorf("after deleting the API lists %v", left)
		}
	})

	step(t, tab, "a file over the limit is refused with the reason", func(t *testing.T,
		ctx context.Context) {
		if hint := text(t, ctx, "#media-files-hint"); !strings.Contains(hint, "4.0 MiB") {
			t.Errorf("the upload form's hint does not give the limit: %q", hint)
		}
		must(t, ctx, chromedp.Evaluate[chromedp.Void](`window.heraldSamePage = true`),
			chromedp.SetUploadFiles(chromedp.CSS("#media-files"), []string{bigPath}),
			chromedp.Click(chromedp.CSS("form[data-upload] button[type=submit]")))
		const status = `document.querySelector("[data-upload-status]").textContent`
		waitFor(t, ctx, status+`.startsWith("Upload failed")`, 10*time.Second)
		if got := eval[string](t, ctx, status); !strings.Contains(got, "larger than the limit") {
			t.Errorf("the refused upload says %q", got)
		}
		if !eval[bool](t, ctx, `window.heraldSamePage === true`) {
			t.Errorf("the refused upload left the page")
		}
		if eval[bool](t, ctx, `document.querySelector("[data-upload-progress]").hidden`) != true {
			t.Errorf("the progress bar still shows after the upload failed")
		}
		if eval[bool](t, ctx, `document.querySelector("form[data-upload] button").disabled`) {
			t.Errorf("the upload button stays disabled after the upload failed")
		}
		if n := len(filesOf(t, s.Must(200, "GET", "/admin/upload/files", nil, token))); n != 1 {
			t.Errorf("after the refused upload the API lists %d files, want 1", n)
		}
	})

	step(t, tab, "readable at 390 px", func(t *testing.T, ctx context.Context) {
		defer must(t, ctx, chromedp.EmulateViewport(1280, 900))
		must(t, ctx, chromedp.EmulateViewport(390, 844))
		for _, path := range []string{"/admin/media", "/admin/media/" + ids["noise.png"]} {
			must(t, ctx, chromedp.Navigate(s.URL+path))
			if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); w > 390 {
				wide := eval[[]string](t, ctx, `[...document.querySelectorAll("body *")]
					.filter(e => e.getBoundingClientRect().right > 391)
					.slice(0, 5).map(e => e.tagName + "." + e.className)`)
				t.Errorf("%s is %d px wide at 390 px; too wide: %q", path, w, wide)
			}
		}
	})

	step(t, tab, "no script errors or policy violations", func(t *testing.T, ctx context.Context) {
		if p := problems(t, ctx); len(p) > 0 {
			t.Errorf("the pages had problems:\n%s", strings.Join(p, "\n"))
		}
		// The refused upload's 413 is expected; nothing else is.
		e := slices.DeleteFunc(logged(), func(m string) bool {
			return strings.Contains(m, "status of 413") &&
				strings.HasSuffix(m, "("+s.URL+"/admin/media)")
		})
		if len(e) > 0 {
			t.Errorf("the console shows errors:\n%s", strings.Join(e, "\n"))
		}
	})
}
