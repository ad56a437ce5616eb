package media

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Browsers ask for parts of audio and video with Range (to seek, and
// Safari to play at all), and download managers to resume. /uploads
// answers one range of bytes per request; a request for several ranges,
// or a Range header it cannot read, gets the whole file, which HTTP allows.

// byteRange is the part of a file a Range header asks for.
type byteRange struct {
	start, length int64
}

// parseRange reads a Range header for a file of size bytes. It reports
// ok=false when the header should be ignored (absent, not bytes, several
// ranges, malformed) and err when the one range asked for lies beyond the
// file (416).
func parseRange(header string, size int64) (r byteRange, ok bool, err error) {
	spec, found := strings.CutPrefix(header, "bytes=")
	spec = strings.TrimSpace(spec)
	if !found || spec == "" || strings.Contains(spec, ",") {
		return byteRange{}, false, nil
	}
	first, last, found := strings.Cut(spec, "-")
	if !found {
		return byteRange{}, false, nil
	}
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	if first == "" {
		// bytes=-n: the last n bytes.
		n, perr := strconv.ParseInt(last, 10, 64)
		if perr != nil || n < 0 {
			return byteRange{}, false, nil
		}
		if n == 0 || size == 0 {
			return byteRange{}, true, errUnsatisfiable
		}
		n = min(n, size)
		return byteRange{start: size - n, length: n}, true, nil
	}
	start, perr := strconv.ParseInt(first, 10, 64)
	if perr != nil || start < 0 {
		return byteRange{}, false, nil
	}
	end := size - 1
	if last != "" {
		e, perr := strconv.ParseInt(last, 10, 64)
		if perr != nil || e < start {
			return byteRange{}, false, nil
		}
		end = min(e, size-1)
	}
	if start >= size {
		return byteRange{}, true, errUnsatisfiable
	}
	return byteRange{start: start, length: end - start + 1}, true, nil
}

// errUnsatisfiable is a range that starts past the end of the file.
var errUnsatisfiable = errors.New("range not satisfiable")

// contentRange is the Content-Range value of r in a file of size bytes.
func (r byteRange) contentRange(size int64) string {
	return fmt.Sprintf("bytes %d-%d/%d", r.start, r.start+r.length-1, size)
}

// skipTo positions rc at offset: by seeking when it can, otherwise by
// reading the bytes before it.
func skipTo(rc io.Reader, offset int64) error {
	if offset == 0 {
		return nil
	}
	if s, ok := rc.(io.Seeker); ok {
		_, err := s.Seek(offset, io.SeekStart)
		return err
	}
	_, err := io.CopyN(io.Discard, rc, offset)
	return err
}
