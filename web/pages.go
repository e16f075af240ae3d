package web

import (
	"html/template"
	"net/http"

	"github.com/gin-gonic/gin"
)

// ui holds the parsed page templates and the static assets.
type ui struct{}

func newUI() *ui { return &ui{} }

func (p *Panel) pageRoutes() []route {
	return []route{{method: "GET", path: "/", access: viewer, kind: page, h: func(c *gin.Context) {
		c.Header("Content-Type", "text/html; charset=utf-8")
		c.String(http.StatusOK, "<!doctype html><title>punchbox</title><p>punchbox")
	}}}
}
func (p *Panel) assetRoutes() []route { return nil }

var errorTmpl = template.Must(template.New("error").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{.Status}}</title></head><body><h1>{{.Status}}</h1><p>{{.Message}}</p></body></html>`))

// errorPage answers a page request with an error page.
func (p *Panel) errorPage(c *gin.Context, status int, err error) {
	c.Status(status)
	c.Header("Content-Type", "text/html; charset=utf-8")
	errorTmpl.Execute(c.Writer, map[string]any{"Status": http.StatusText(status), "Message": err.Error()})
	c.Abort()
}
