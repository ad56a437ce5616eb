package media_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/herald-cms/herald/content"
	"github.com/herald-cms/herald/content/contenttest"
	"github.com/herald-cms/herald/content/media"
)

// recorder keeps the events recorded, or fails when told to.
type recorder struct {
	events    []content.Event
	fail      bool
	committed int
}

func (r *recorder) Record(_ context.Context, tx *gorm.DB, events []content.Event) error {
	if r.fail {
		return errors.New("recorder down")
	}
	r.events = append(r.events, events...)
	return nil
}

func (r *recorder) Committed(context.Context) { r.committed++ }

func newService(t *testing.T, rec content.EventRecorder, limit int64) (*media.Service, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "uploads")
	now := func() time.Time { return time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC) }
	s, err := media.New(contenttest.OpenDB(t), media.Config{Storage: media.Dir{Path: dir},
		Events: rec, Limit: limit, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return s, dir
}

var system = content.WithActor(context.Background(), content.SystemActor)

func TestCheckName(t *testing.T) {
	for name, ok := range map[string]bool{
		"photo.png": true, "été 2025.jpg": true, "a%20b.png": true,
		"": false, "   ": false, "../x": false, "a/b": false, `a\b`: false, "..": false,
		"%2e%2e": false, "%252e%252e": false, "a%2fb": false, "a\x00b": false, "a\nb": false,
		"a\x7fb": false, strings.Repeat("a", 256): false, "\xff.png": false,
	} {
		if got := media.CheckName(name) == ""; got != ok {
			t.Errorf("CheckName(%q) accepts: %v, want %v", name, got, ok)
		}
	}
}

func TestDirRefusesNamesThatAreNotFlat(t *testing.T) {
	root := t.TempDir()
	d := media.Dir{Path: filepath.Join(root, "uploads")}
	ctx := context.Background()
	for _, name := range []string{"../x", "a/b", ".hidden", "", "A.png", "a..b", "x.tar.gz"} {
		if err := d.Put(ctx, name, strings.NewReader("x")); !errors.Is(err, media.ErrBadName) {
			t.Errorf("Put(%q): %v", name, err)
		}
	}
	if err := d.Put(ctx, "f_1.png", strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	if err := d.Put(ctx, "f_1.png", strings.NewReader("y")); err == nil {
		t.Fatal("Put replaced an existing file")
	}
	entries, _ := os.ReadDir(root)
	if len(entries) != 1 || entries[0].Name() != "uploads" {
		t.Fatalf("root holds %v", entries)
	}
}

func TestCreateRecordsAnEventInTheSameTransaction(t *testing.T) {
	rec := &recorder{}
	s, dir := newService(t, rec, 0)
	f, err := s.Create(system, media.Upload{Name: "a.txt", Body: strings.NewReader("hello")})
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.events) != 1 || rec.events[0].Name != content.EventMediaCreate ||
		rec.events[0].UID != "" || rec.committed != 1 || !bytes.Contains(rec.events[0].Media,
		[]byte(`"hash":"`+f.Hash+`"`)) {
		t.Fatalf("events %+v, committed %d", rec.events, rec.committed)
	}
	if f.Mime != "text/plain" || f.Bytes != 5 || f.Size != 0 {
		t.Fatalf("file %+v", f)
	}

	// When the event cannot be recorded, the upload leaves nothing behind.
	rec.fail = true
	_, err = s.Create(system, media.Upload{Name: "b.txt", Body: strings.NewReader("x")})
	if err == nil {
		t.Fatal("upload succeeded without its event")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("stored files: %v", entries)
	}
	files, total, err := s.List(system, media.List{})
	if err != nil || total != 1 || len(files) != 1 {
		t.Fatalf("list: %v %d %v", files, total, err)
	}
}

func TestCreateCountsTheBodyNotTheAnnouncedSize(t *testing.T) {
	s, dir := newService(t, &recorder{}, 10)
	_, err := s.Create(system, media.Upload{Name: "a.bin", Size: 1,
		Body: bytes.NewReader(make([]byte, 11))})
	if !content.IsCode(err, content.ETOOLARGE) {
		t.Fatalf("err %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("stored files: %v", entries)
	}
}

func TestActionsNeedGrants(t *testing.T) {
	s, _ := newService(t, &recorder{}, 0)
	reader := content.WithActor(context.Background(), content.Actor{Kind: content.ActorToken,
		Policy: content.PolicyFunc(func(_ context.Context, a content.Action, uid string) content.Grant {
			return content.Grant{Allowed: uid == media.UID && a == content.ActionFind}
		})})
	f, err := s.Create(system, media.Upload{Name: "a.txt", Body: strings.NewReader("x")})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.List(reader, media.List{}); err != nil {
		t.Fatalf("list: %v", err)
	}
	for name, err := range map[string]error{
		"get": func() error { _, err := s.Get(reader, f.ID); return err }(),
		"create": func() error {
			_, err := s.Create(reader, media.Upload{Name: "b.txt", Body: strings.NewReader("x")})
			return err
		}(),
		"update": func() error { _, err := s.Update(reader, f.ID, media.Info{}); return err }(),
		"delete": func() error { _, err := s.Delete(reader, f.ID); return err }(),
	} {
		if !content.IsCode(err, content.EFORBIDDEN) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestListFilters(t *testing.T) {
	s, _ := newService(t, &recorder{}, 0)
	for _, name := range []string{"a_1.txt", "b%2.txt", "Cover.txt"} {
		if _, err := s.Create(system, media.Upload{Name: name,
			Body: strings.NewReader(strings.Repeat("x", 2048))}); err != nil {
			t.Fatal(err)
		}
	}
	names := func(fs ...media.Filter) []string {
		t.Helper()
		files, total, err := s.List(system, media.List{Filters: fs, Sort: "id", Asc: true})
		if err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, f := range files {
			out = append(out, f.Name)
		}
		if int(total) != len(out) {
			t.Fatalf("total %d for %v", total, out)
		}
		return out
	}
	for _, tt := range []struct {
		f    media.Filter
		want string
	}{
		{media.Filter{Field: "name", Op: "$contains", Value: "%"}, "b%2.txt"},
		{media.Filter{Field: "name", Op: "$contains", Value: "_"}, "a_1.txt"},
		{media.Filter{Field: "name", Op: "$containsi", Value: "cover"}, "Cover.txt"},
		{media.Filter{Field: "name", Op: "$startsWith", Value: "b"}, "b%2.txt"},
		{media.Filter{Field: "name", Op: "$endsWith", Value: "1.txt"}, "a_1.txt"},
		{media.Filter{Field: "name", Op: "$ne", Value: "Cover.txt"}, "a_1.txt,b%2.txt"},
		{media.Filter{Field: "mime", Op: "$eq", Value: "text/plain"}, "a_1.txt,b%2.txt,Cover.txt"},
		{media.Filter{Field: "size", Op: "$gte", Value: "2"}, "a_1.txt,b%2.txt,Cover.txt"},
		{media.Filter{Field: "size", Op: "$gt", Value: "2"}, ""},
		{media.Filter{Field: "caption", Op: "$null", Value: "true"}, "a_1.txt,b%2.txt,Cover.txt"},
	} {
		if got := strings.Join(names(tt.f), ","); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.f, got, tt.want)
		}
	}
	_, _, err := s.List(system, media.List{Filters: []media.Filter{{Field: "size", Op: "$gt",
		Value: "big"}}})
	if content.ErrorCodeOf(err) != content.EINVALID {
		t.Fatalf("a non-numeric size: %v", err)
	}
}
