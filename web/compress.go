package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/compress"
)

// compression compresses answers with brotli or gzip, as the client's
// Accept-Encoding allows, at the fastest levels: it runs on every answer
// that is not served from the content API's response cache. Cached content
// answers are compressed once and kept, and arrive here with their
// Content-Encoding already set, which the middleware leaves alone (as it
// does bodies under 200 bytes and types that do not compress). Requests
// for a range of bytes (media files) are left alone: a range counts the
// file's own bytes, not compressed ones.
func compression() fiber.Handler {
	return compress.New(compress.Config{
		Level: compress.LevelBestSpeed,
		Next:  func(c *fiber.Ctx) bool { return c.Get(fiber.HeaderRange) != "" },
	})
}
