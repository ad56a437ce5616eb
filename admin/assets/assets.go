// Package assets holds the admin panel's hand-written stylesheet and script,
// embedded into the binary.
package assets

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"path"
)

//go:embed panel.css panel.js
var files embed.FS

// Asset is one embedded file ready to serve.
type Asset struct {
	Name        string
	ContentType string
	Body        []byte
	// Version is a short hash of Body, put in the file's URL so that a new
	// release is fetched at once while an unchanged file stays cached.
	Version string
}

// URL returns the path the panel serves the asset at, with its version.
func (a Asset) URL() string {
	return "/admin/assets/" + a.Name + "?v=" + a.Version
}

var byName = load()

func load() map[string]Asset {
	types := map[string]string{
		".css": "text/css; charset=utf-8",
		".js":  "text/javascript; charset=utf-8",
	}
	out := map[string]Asset{}
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		panic("assets: read embedded files: " + err.Error())
	}
	for _, e := range entries {
		body, err := files.ReadFile(e.Name())
		if err != nil {
			panic("assets: read " + e.Name() + ": " + err.Error())
		}
		sum := sha256.Sum256(body)
		out[e.Name()] = Asset{
			Name:        e.Name(),
			ContentType: types[path.Ext(e.Name())],
			Body:        body,
			Version:     hex.EncodeToString(sum[:6]),
		}
	}
	return out
}

// Lookup returns the asset called name, or false.
func Lookup(name string) (Asset, bool) {
	a, ok := byName[name]
	return a, ok
}

// Stylesheet is the panel's CSS file.
func Stylesheet() Asset { return byName["panel.css"] }

// Script is the panel's JavaScript file.
func Script() Asset { return byName["panel.js"] }
