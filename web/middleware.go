package web

import (
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// contentSecurityPolicy allows only the box's own scripts, styles and
// connections: no inline script or style, no framing, forms post only to
// the box. connect-src 'self' covers the live feed's same-origin WebSocket.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

const permissionsPolicy = "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()"

// recovery turns a panic into a 500 with no details; the stack goes to the
// log, once.
func (p *Panel) recovery(c *gin.Context) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if v == http.ErrAbortHandler {
			panic(v)
		}
		p.log.Error("panic serving a request", "method", c.Request.Method, "path", c.Request.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		if !c.Writer.Written() {
			c.AbortWithStatusJSON(http.StatusInternalServerError, APIError{ErrorBody{Code: "internal", Message: "internal error; the box's log has the details"}})
		} else {
			c.Abort()
		}
	}()
	c.Next()
}

// measure records each request's latency by route.
func (p *Panel) measure(c *gin.Context) {
	start := time.Now()
	c.Next()
	path := c.FullPath()
	if path == "" {
		path = "unmatched"
	}
	d := time.Since(start)
	p.metrics.observe(c.Request.Method, path, c.Writer.Status(), d)
	p.log.Debug("request", "method", c.Request.Method, "path", c.Request.URL.Path, "status", c.Writer.Status(), "duration", d, "client", c.ClientIP())
}

// checkHost refuses requests whose Host is not one of the box's names or an
// address: the defence against DNS rebinding, where a hostile page's own
// name is made to resolve to the box. Health checks and push terminals are
// exempt: they carry whatever address they were configured with.
func (p *Panel) checkHost(c *gin.Context) {
	path := c.Request.URL.Path
	if path == "/healthz" || strings.HasPrefix(path, "/iclock/") {
		return
	}
	if !p.hosts.allowed(c.Request.Host) {
		p.log.Debug("unknown host refused", "host", c.Request.Host, "client", c.ClientIP())
		c.Header("Cache-Control", "no-store")
		p.fail(c, &statusError{http.StatusMisdirectedRequest, "unknown_host",
			fmt.Sprintf("this box does not answer to the name %q; an admin can add it to web.hosts", hostOnly(c.Request.Host))})
	}
}

// headers sets the security headers every response carries.
func (p *Panel) headers(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Permissions-Policy", permissionsPolicy)
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Cache-Control", "no-store") // assets override it
	if !p.d.Insecure {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
}

// crossOrigin refuses state-changing requests that a browser says come
// from another site (Sec-Fetch-Site, Origin), unless the origin is in
// web.cors_origins. Scripts that send neither header pass; they need an
// API token anyway.
func (p *Panel) crossOrigin(c *gin.Context) {
	if err := p.cop.Check(c.Request); err != nil {
		p.fail(c, fmt.Errorf("%w: %v", ErrCrossOrigin, err))
	}
}

// cors answers browsers on the configured origins (none by default): API
// reads and writes with an API token, never with the session cookie.
func (p *Panel) cors(c *gin.Context) {
	origin := c.Request.Header.Get("Origin")
	if origin == "" || !isAPI(c.Request.URL.Path) || !slices.Contains(p.d.Origins, origin) {
		if c.Request.Method == http.MethodOptions && c.Request.Header.Get("Access-Control-Request-Method") != "" {
			p.fail(c, fmt.Errorf("%w: origin %q is not in web.cors_origins", ErrCrossOrigin, origin))
		}
		return
	}
	h := c.Writer.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Add("Vary", "Origin")
	if c.Request.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
		h.Set("Access-Control-Max-Age", "600")
		c.AbortWithStatus(http.StatusNoContent)
	}
}

// limitBody refuses bodies over the route's limit: at once when the
// request says its length, and while reading otherwise.
func (p *Panel) limitBody(r route) gin.HandlerFunc {
	limit := r.limit
	if limit == 0 {
		limit = defaultBodyLimit
	}
	return func(c *gin.Context) {
		if c.Request.ContentLength > limit {
			p.fail(c, tooLarge(limit))
			return
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
	}
}

func tooLarge(limit int64) error {
	return fmt.Errorf("%w: the limit is %s", ErrTooLarge, sizeString(limit))
}

// bodyError maps an error reading a request body to ErrTooLarge when the
// body hit its limit.
func bodyError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge(mbe.Limit)
	}
	return err
}

// sizeString formats a byte count for people: 16 MiB, 1 GiB.
func sizeString(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	v := float64(n) / float64(div)
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d %ciB", int64(v), "KMGTPE"[exp])
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGTPE"[exp])
}
