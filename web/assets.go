package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/gin-gonic/gin"
)

// uiFiles are the panel's templates, its own static files and the vendored
// libraries (web/ui/vendor/VERSIONS says which).
//
//go:embed ui/templates/*.html ui/static/* ui/vendor/*.js ui/vendor/*.css
var uiFiles embed.FS

// assetDirs hold the files served under /assets, by base name.
var assetDirs = []string{"ui/static", "ui/vendor"}

// assetHashLen is how many hex digits of the SHA-256 name an asset's URL.
const assetHashLen = 10

// asset is a static file as served.
type asset struct {
	body  []byte
	ctype string
	etag  string
}

// assets serves the static files under content-hashed names, so that a
// browser may keep each one for good: a changed file has a new URL.
type assets struct {
	byURL  map[string]*asset // "/assets/app.0123456789.js"
	byName map[string]string // "app.js" -> its URL
}

// loadAssets hashes every static file of fsys.
func loadAssets(fsys fs.FS) (*assets, error) {
	a := &assets{byURL: map[string]*asset{}, byName: map[string]string{}}
	for _, dir := range assetDirs {
		entries, err := fs.ReadDir(fsys, dir)
		if err != nil {
			return nil, fmt.Errorf("assets: %w", err)
		}
		for _, e := range entries {
			if e.IsDir() {
				continue
			}
			name := e.Name()
			if _, dup := a.byName[name]; dup {
				return nil, fmt.Errorf("assets: two files named %s", name)
			}
			body, err := fs.ReadFile(fsys, path.Join(dir, name))
			if err != nil {
				return nil, fmt.Errorf("assets: %w", err)
			}
			sum := sha256.Sum256(body)
			hash := hex.EncodeToString(sum[:])[:assetHashLen]
			url := "/assets/" + hashedName(name, hash)
			a.byName[name] = url
			a.byURL[url] = &asset{body: body, ctype: contentType(name), etag: `"` + hash + `"`}
		}
	}
	return a, nil
}

// hashedName puts hash before the extension: app.js -> app.<hash>.js,
// htmx.min.js -> htmx.min.<hash>.js.
func hashedName(name, hash string) string {
	ext := path.Ext(name)
	return strings.TrimSuffix(name, ext) + "." + hash + ext
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// url returns the hashed URL of the static file name; a template naming a
// file that does not exist fails to render, which the page tests catch.
func (a *assets) url(name string) (string, error) {
	u, ok := a.byName[name]
	if !ok {
		return "", fmt.Errorf("no asset %q", name)
	}
	return u, nil
}

func (p *Panel) assetRoutes() []route {
	return []route{
		{method: "GET", path: "/assets/*file", access: public, kind: raw, h: p.serveAsset},
		{method: "HEAD", path: "/assets/*file", access: public, kind: raw, h: p.serveAsset},
	}
}

// serveAsset answers a hashed asset URL; any other name under /assets is
// not found, even a file's plain name.
func (p *Panel) serveAsset(c *gin.Context) {
	a, ok := p.ui.assets.byURL[c.Request.URL.Path]
	if !ok {
		c.Header("Content-Type", "text/plain; charset=utf-8")
		c.String(http.StatusNotFound, "not found\n")
		return
	}
	h := c.Writer.Header()
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", a.etag)
	if c.GetHeader("If-None-Match") == a.etag {
		c.Status(http.StatusNotModified)
		return
	}
	c.Data(http.StatusOK, a.ctype, a.body)
}
