package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// ceiling serves the bodies in -dir (one file per route: list.json is
// served at /list) from a bare Fiber handler, with no middleware: the most
// this machine can do for the same bytes, which Herald's figures are
// compared with.
func ceiling(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("ceiling", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:4100", "address to listen on")
	dir := fs.String("dir", "", "directory of <route>.json bodies")
	if err := fs.Parse(args); err != nil {
		return err
	}
	files, err := filepath.Glob(filepath.Join(*dir, "*.json"))
	if err != nil {
		return err
	}
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/_health", func(c *fiber.Ctx) error { return c.SendStatus(fiber.StatusNoContent) })
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		route := "/" + strings.TrimSuffix(filepath.Base(f), ".json")
		app.Get(route, func(c *fiber.Ctx) error {
			c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
			return c.Send(body)
		})
	}
	go func() {
		<-ctx.Done()
		app.Shutdown()
	}()
	if err := app.Listen(*addr); err != nil {
		return fmt.Errorf("ceiling: %w", err)
	}
	return nil
}
