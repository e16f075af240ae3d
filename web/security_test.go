package web

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/punchbox/punchbox/store"
)

func TestCSRF(t *testing.T) {
	h := newHarness(t)
	admin := h.admin()
	good := admin.csrf
	for name, tok := range map[string]string{
		"missing":           "",
		"wrong":             "bm90LXRoZS10b2tlbg",
		"another session's": h.user("other", store.RoleAdmin).csrf,
	} {
		admin.csrf = tok
		r := admin.do("POST", "/api/v1/users", NewUser{Name: "mallory", Role: store.RoleAdmin, Password: testPassword})
		if e := r.apiErr(t); r.code != http.StatusForbidden || e.Code != "csrf" {
			t.Errorf("%s CSRF token: %d %+v, want 403 csrf", name, r.code, e)
		}
	}
	if _, err := h.db.UserByName(context.Background(), "mallory"); err == nil {
		t.Fatal("a request without a good CSRF token created a user")
	}
	admin.csrf = good
	admin.do("POST", "/api/v1/users", NewUser{Name: "mallory", Role: store.RoleViewer, Password: testPassword}).want(t, 201)
	// Reads need no token.
	admin.csrf = ""
	admin.do("GET", "/api/v1/users", nil).want(t, 200)
}

// A browser on another site cannot post to the box, even to the login.
func TestCrossOriginRefused(t *testing.T) {
	h := newHarness(t)
	h.admin()
	for name, hdr := range map[string][2]string{
		"fetch metadata": {"Sec-Fetch-Site", "cross-site"},
		"origin":         {"Origin", "https://evil.example"},
	} {
		c := h.anon()
		c.header.Set(hdr[0], hdr[1])
		r := c.do("POST", "/api/v1/login", LoginRequest{Name: "admin", Password: testPassword})
		if e := r.apiErr(t); r.code != http.StatusForbidden || e.Code != "cross_origin" {
			t.Errorf("%s: %d %+v, want 403 cross_origin", name, r.code, e)
		}
		if r.header.Get("Set-Cookie") != "" {
			t.Errorf("%s: a cross-origin login set a cookie", name)
		}
	}
	// The same request from the panel's own origin works.
	c := h.anon()
	c.header.Set("Origin", h.srv.URL)
	c.header.Set("Sec-Fetch-Site", "same-origin")
	c.do("POST", "/api/v1/login", LoginRequest{Name: "admin", Password: testPassword}).want(t, 200)
}

func TestCORS(t *testing.T) {
	h := newHarness(t, func(d *Deps) { d.Origins = []string{"https://hr.example.com"} })
	token := h.tokenClient("hr", store.RoleViewer)
	token.header.Set("Origin", "https://hr.example.com")
	r := token.do("GET", "/api/v1/session", nil).want(t, 200)
	if got := r.header.Get("Access-Control-Allow-Origin"); got != "https://hr.example.com" {
		t.Errorf("allowed origin: Access-Control-Allow-Origin %q", got)
	}
	if r.header.Get("Access-Control-Allow-Credentials") != "" {
		t.Error("CORS allows credentials; only tokens should work cross-origin")
	}
	pre := h.anon()
	pre.header.Set("Origin", "https://hr.example.com")
	pre.header.Set("Access-Control-Request-Method", "POST")
	if r := pre.do("OPTIONS", "/api/v1/employees", nil); r.code != http.StatusNoContent || !strings.Contains(r.header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("preflight from an allowed origin: %d %v", r.code, r.header)
	}
	other := h.tokenClient("other", store.RoleViewer)
	other.header.Set("Origin", "https://evil.example")
	if r := other.do("GET", "/api/v1/session", nil); r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Error("an unlisted origin got CORS headers")
	}
	pre.header.Set("Origin", "https://evil.example")
	if r := pre.do("OPTIONS", "/api/v1/employees", nil); r.code != http.StatusForbidden {
		t.Errorf("preflight from an unlisted origin: %d", r.code)
	}
	// Without configured origins, nothing is allowed cross-origin.
	h2 := newHarness(t)
	c := h2.tokenClient("hr", store.RoleViewer)
	c.header.Set("Origin", "https://hr.example.com")
	if r := c.do("GET", "/api/v1/session", nil); r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Error("CORS headers without configured origins")
	}
}

func TestBodyLimit(t *testing.T) {
	h := newHarness(t)
	admin := h.admin()
	big := `{"name": "` + strings.Repeat("a", defaultBodyLimit) + `"}`
	r := admin.do("POST", "/api/v1/users", big)
	if e := r.apiErr(t); r.code != http.StatusRequestEntityTooLarge || e.Code != "too_large" {
		t.Errorf("oversized body: %d %+v", r.code, e)
	}
	// Without a Content-Length the limit applies while reading.
	req, _ := http.NewRequest("POST", h.srv.URL+"/api/v1/users", struct{ *strings.Reader }{strings.NewReader(big)})
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(csrfHeader, admin.csrf)
	resp, err := admin.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || req.ContentLength > 0 {
		t.Errorf("oversized chunked body: %d (content length %d)", resp.StatusCode, req.ContentLength)
	}
	if n, _, _ := h.db.CountUsers(context.Background()); n != 1 {
		t.Errorf("%d users after oversized requests", n)
	}
}

func TestMalformedJSON(t *testing.T) {
	h := newHarness(t)
	admin := h.admin()
	for name, tc := range map[string]struct {
		body, ctype string
		code        int
		field       string
	}{
		"truncated":     {`{"name": "x", "role": `, "application/json", 400, ""},
		"not json":      {`name=x&role=admin`, "application/json", 400, ""},
		"empty":         {``, "application/json", 400, ""},
		"trailing":      {`{"name":"x","role":"viewer","password":"correct horse battery"} {}`, "application/json", 400, ""},
		"array":         {`[1,2]`, "application/json", 400, ""},
		"wrong type":    {`{"name":"x","role":"viewer","password":12}`, "application/json", 400, "password"},
		"unknown field": {`{"name":"x","role":"viewer","password":"correct horse battery","is_admin":true}`, "application/json", 400, "is_admin"},
		"form encoded":  {`name=x&role=admin`, "application/x-www-form-urlencoded", 415, ""},
		"no type":       {`{}`, "", 415, ""},
	} {
		admin.header.Set("Content-Type", tc.ctype)
		r := admin.do("POST", "/api/v1/users", tc.body)
		if e := r.apiErr(t); r.code != tc.code || e.Field != tc.field {
			t.Errorf("%s: %d %+v, want %d naming %q", name, r.code, e, tc.code, tc.field)
		}
	}
	admin.header.Del("Content-Type")
	if n, _, _ := h.db.CountUsers(context.Background()); n != 1 {
		t.Errorf("%d users after malformed requests", n)
	}
}

func TestUnknownHost(t *testing.T) {
	hostname, _ := os.Hostname()
	h := newHarness(t, func(d *Deps) { d.Hosts = []string{"punchbox.plant.example.com"} })
	for host, ok := range map[string]bool{
		"127.0.0.1:8443":                  true,
		"[::1]:8443":                      true,
		"192.168.1.50":                    true,
		"localhost:8443":                  true,
		strings.ToLower(hostname):         true,
		hostname + ".local:8443":          true,
		"punchbox.plant.example.com":      true,
		"PUNCHBOX.plant.example.com:8443": true,
		"evil.example":                    false,
		"punchbox.plant.example.com.evil": false,
		"":                                false,
	} {
		for _, path := range []string{"/api/v1/session", "/", "/login"} {
			req := httptest.NewRequest("GET", path, nil)
			req.Host = host
			rec := httptest.NewRecorder()
			h.p.Handler().ServeHTTP(rec, req)
			if refused := rec.Code == http.StatusMisdirectedRequest; refused == ok {
				t.Errorf("Host %q %s: %d", host, path, rec.Code)
			}
		}
	}
	// Health checks answer whatever name they use.
	req := httptest.NewRequest("GET", "/healthz", nil)
	req.Host = "monitor.example"
	rec := httptest.NewRecorder()
	h.p.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Errorf("/healthz with another Host: %d", rec.Code)
	}
	// The plain-HTTP side redirects only the box's own names.
	for host, want := range map[string]int{"127.0.0.1:8443": http.StatusTemporaryRedirect, "evil.example": http.StatusMisdirectedRequest} {
		req := httptest.NewRequest("GET", "/login", nil)
		req.Host = host
		rec := httptest.NewRecorder()
		h.p.PlainHandler().ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("plain HTTP with Host %q: %d, want %d", host, rec.Code, want)
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	h := newHarness(t)
	admin := h.admin()
	for _, path := range []string{"/api/v1/session", "/", "/api/v1/nothing", "/nothing"} {
		r := admin.do("GET", path, nil)
		for hdr, want := range map[string]string{
			"Content-Security-Policy":   "script-src 'self'",
			"X-Content-Type-Options":    "nosniff",
			"X-Frame-Options":           "DENY",
			"Referrer-Policy":           "no-referrer",
			"Permissions-Policy":        "camera=()",
			"Strict-Transport-Security": "max-age=",
		} {
			if got := r.header.Get(hdr); !strings.Contains(got, want) {
				t.Errorf("%s: %s = %q, want it to contain %q", path, hdr, got, want)
			}
		}
		if csp := r.header.Get("Content-Security-Policy"); strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
	}
	// No HSTS over plain HTTP.
	hi := newHarness(t, func(d *Deps) { d.Insecure = true })
	if r := hi.anon().do("GET", "/api/v1/setup", nil); r.header.Get("Strict-Transport-Security") != "" {
		t.Error("HSTS over plain HTTP")
	}
}

// A panic answers 500 with no details; the stack goes to the log once.
func TestRecoveryHidesInternals(t *testing.T) {
	h := newHarness(t)
	e := gin.New()
	e.Use(h.p.recovery)
	e.GET("/boom", func(*gin.Context) { panic("secret internal state /var/lib/punchbox") })
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest("GET", "/boom", nil))
	if rec.Code != 500 || bytes.Contains(rec.Body.Bytes(), []byte("secret")) || bytes.Contains(rec.Body.Bytes(), []byte("goroutine")) {
		t.Errorf("panic answered %d %s", rec.Code, rec.Body)
	}
	if !strings.Contains(h.log.String(), "secret internal state") {
		t.Error("the panic is not in the log")
	}
}

// Hostile text is stored verbatim and comes back inert: escaped in JSON,
// never interpreted as SQL.
func TestInjectionStoredInert(t *testing.T) {
	h := newHarness(t)
	admin := h.admin()
	evil := `<script>alert(1)</script>' OR 1=1; DROP TABLE users; --`
	var ct CreatedToken
	admin.do("POST", "/api/v1/tokens", NewToken{Name: evil, Role: store.RoleViewer}).want(t, 201).decode(t, &ct)
	r := admin.do("GET", "/api/v1/tokens", nil).want(t, 200)
	if bytes.Contains(r.body, []byte("<script>")) {
		t.Errorf("JSON carries raw markup: %s", r.body)
	}
	var list []TokenView
	r.decode(t, &list)
	if len(list) != 1 || list[0].Name != evil {
		t.Errorf("token name came back as %+v", list)
	}
	if n, _, err := h.db.CountUsers(context.Background()); err != nil || n != 1 {
		t.Errorf("users after injection: %d %v", n, err)
	}
	entries, _ := h.db.AuditLog(context.Background(), store.AuditFilter{Action: "token.create"})
	if len(entries) != 1 || entries[0].Target != evil {
		t.Errorf("audit of the hostile name: %+v", entries)
	}
}
