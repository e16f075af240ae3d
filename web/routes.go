package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// access says who may use a route.
type access int

const (
	public access = iota // anyone: login, setup, health, static assets
	viewer               // any signed-in user or token; changes need admin
	self                 // any signed-in user, changes included: their own password, logout
	admin                // admins only
)

func (a access) String() string {
	return [...]string{"public", "viewer", "self", "admin"}[a]
}

// kind says how a route answers.
type kind int

const (
	api  kind = iota // JSON under /api/v1; errors in the API's error shape
	page             // HTML; without a session, a redirect to the login page
	raw              // anything else: health, metrics, assets
)

// Body size limits. Uploads name their own.
const (
	defaultBodyLimit = 1 << 20
	csvBodyLimit     = 16 << 20
)

// route is one entry of the route table: the single place that says what
// is served, to whom, and (for the API) what it takes and returns, which is
// where the OpenAPI document comes from.
type route struct {
	method  string
	path    string // gin syntax: /api/v1/terminals/:id
	access  access
	kind    kind
	summary string // one line, for the OpenAPI document
	tag     string // groups API routes in the OpenAPI document
	limit   int64  // body limit in bytes; 0 = defaultBodyLimit
	query   []param
	in      any    // request body: a value of the Go type decoded; nil = none
	out     any    // response body (200/201): a value of the Go type; nil = none
	status  int    // success status; 0 = 200
	mime    string // request content type when not JSON, e.g. text/csv
	outMime string // response content type when not JSON, e.g. text/csv
	h       gin.HandlerFunc
}

// param is a documented query parameter.
type param struct {
	name, typ, doc string // typ: string, integer, boolean
}

// table is the whole route table. Each area keeps its routes beside its
// handlers.
func (p *Panel) table() []route {
	var rs []route
	for _, part := range [][]route{
		p.healthRoutes(),
		p.authRoutes(),
		p.userRoutes(),
		p.tokenRoutes(),
		p.jobRoutes(),
		p.liveRoutes(),
		p.terminalRoutes(),
		p.rejectedRoutes(),
		p.punchRoutes(),
		p.employeeRoutes(),
		p.attendanceRoutes(),
		p.systemRoutes(),
		p.syncRoutes(),
		p.backupRoutes(),
		p.auditRoutes(),
		p.settingRoutes(),
		p.metricsRoutes(),
		p.openAPIRoutes(),
		p.pageRoutes(),
		p.assetRoutes(),
	} {
		rs = append(rs, part...)
	}
	return rs
}

// build makes the gin engine for the route table.
func (p *Panel) build(rs []route) *gin.Engine {
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.RedirectTrailingSlash = false
	e.RedirectFixedPath = false
	e.ContextWithFallback = true
	// Clients connect directly: no proxy's headers are believed.
	_ = e.SetTrustedProxies(nil)
	e.Use(p.recovery, p.measure, p.checkHost, p.headers, p.cors, p.crossOrigin)
	for _, r := range rs {
		chain := []gin.HandlerFunc{p.limitBody(r), p.authorize(r)}
		e.Handle(r.method, r.path, append(chain, r.h)...)
	}
	if p.d.Push != nil {
		push := gin.WrapH(p.d.Push)
		e.Any("/iclock/*path", push)
	}
	e.NoRoute(func(c *gin.Context) { p.notFound(c, ErrNotFound) })
	e.NoMethod(func(c *gin.Context) {
		p.notFound(c, &statusError{http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed"})
	})
	return e
}

// notFound answers an unrouted request: JSON under /api/, a page elsewhere.
func (p *Panel) notFound(c *gin.Context, err error) {
	if isAPI(c.Request.URL.Path) {
		p.fail(c, err)
		return
	}
	status, _ := statusOf(err)
	p.errorPage(c, status, err)
}

func isAPI(path string) bool { return strings.HasPrefix(path, "/api/") }

// statusError is an error with its own status and code.
type statusError struct {
	status  int
	code    string
	message string
}

func (e *statusError) Error() string { return e.message }

// healthRoutes serve /healthz: no auth, no details but a fixed reason.
func (p *Panel) healthRoutes() []route {
	return []route{{method: "GET", path: "/healthz", access: public, kind: raw, h: p.healthz}}
}

func (p *Panel) healthz(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	if err := p.healthy(c.Request.Context()); err != nil {
		c.String(http.StatusServiceUnavailable, "unhealthy"+healthReason(err)+"\n")
		return
	}
	c.String(http.StatusOK, "ok\n")
}

func (p *Panel) healthy(ctx context.Context) error {
	if p.d.Healthy == nil {
		return nil
	}
	return p.d.Healthy(ctx)
}
