package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Storage keeps the bytes of uploaded files under flat names that the
// service makes (a random hash and an extension). Implementations must
// refuse any other name rather than interpret it as a path.
type Storage interface {
	// Put stores r under name, replacing nothing: an existing name is an
	// error.
	Put(ctx context.Context, name string, r io.Reader) error
	// Open returns the stored file and its size; a missing file is an error
	// wrapping fs.ErrNotExist.
	Open(ctx context.Context, name string) (io.ReadCloser, int64, error)
	// Delete removes the file; a missing file is not an error.
	Delete(ctx context.Context, name string) error
}

// ErrBadName is returned by a Storage for a name that is not a flat file
// name made of lowercase letters, digits, '_', '-' and one '.'.
var ErrBadName = errors.New("media: invalid storage name")

// Dir is the local Storage: one file per upload in a directory (by default
// <data>/uploads). Several Herald instances must share that directory (a
// shared volume), since any of them may serve a file another stored.
type Dir struct {
	Path string
}

// validStorageName reports whether name is flat and made of safe bytes only.
func validStorageName(name string) bool {
	if name == "" || len(name) > 128 || strings.Count(name, ".") > 1 || name[0] == '.' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
		if !ok {
			return false
		}
	}
	return true
}

func (d Dir) path(name string) (string, error) {
	if !validStorageName(name) {
		return "", fmt.Errorf("%w: %q", ErrBadName, name)
	}
	return filepath.Join(d.Path, name), nil
}

// Put writes r to a temporary file in the directory and renames it into
// place once complete, so a reader never sees half a file.
func (d Dir) Put(_ context.Context, name string, r io.Reader) error {
	p, err := d.path(name)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(d.Path, 0o750); err != nil {
		return fmt.Errorf("create upload directory: %w", err)
	}
	if _, err := os.Lstat(p); err == nil {
		return fmt.Errorf("store %s: file exists", name)
	}
	tmp, err := os.CreateTemp(d.Path, ".upload-*")
	if err != nil {
		return fmt.Errorf("store %s: %w", name, err)
	}
	_, err = io.Copy(tmp, r)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), p)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("store %s: %w", name, err)
	}
	return nil
}

// Open opens the named file for reading.
func (d Dir) Open(_ context.Context, name string) (io.ReadCloser, int64, error) {
	p, err := d.path(name)
	if err != nil {
		return nil, 0, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, 0, fmt.Errorf("open %s: %w", name, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("stat %s: %w", name, err)
	}
	return f, st.Size(), nil
}

// Delete removes the named file.
func (d Dir) Delete(_ context.Context, name string) error {
	p, err := d.path(name)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", name, err)
	}
	return nil
}
