package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/punchbox/punchbox/store"
)

// publicRoutes are the only routes open without signing in: health, the
// login and setup flow, static assets, and /metrics (which checks for
// loopback or a token itself). Adding one is a decision this list records.
var publicRoutes = map[string]bool{
	"GET /healthz":           true,
	"GET /api/v1/setup":      true,
	"POST /api/v1/setup":     true,
	"POST /api/v1/login":     true,
	"GET /metrics":           true,
	"GET /login":             true,
	"GET /setup":             true,
	"GET /assets/*file":      true,
	"GET /assets/*filepath":  true,
	"HEAD /assets/*file":     true,
	"HEAD /assets/*filepath": true,
}

// concrete fills a route's parameters with a value.
func concrete(path string) string {
	parts := strings.Split(path, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, ":") || strings.HasPrefix(s, "*") {
			parts[i] = "x"
		}
	}
	return strings.Join(parts, "/")
}

// TestRouteTable checks every route in the table: without a session or
// token, each API route answers 401 in the error shape and each page
// redirects to the login page; a viewer gets 403 on every change and on
// admin-only routes; only the routes in publicRoutes are open.
func TestRouteTable(t *testing.T) {
	h := newHarness(t)
	h.admin() // so that pages lead to /login, not /setup
	viewer := h.viewer()
	token := h.tokenClient("read-only", store.RoleViewer)

	for _, r := range h.p.routes {
		key := r.method + " " + r.path
		t.Run(key, func(t *testing.T) {
			if r.access == public {
				if !publicRoutes[key] {
					t.Fatalf("%s is public but not in publicRoutes", key)
				}
				return
			}
			if publicRoutes[key] {
				t.Fatalf("%s is in publicRoutes but needs %s", key, r.access)
			}
			// Signed out, from another machine on the LAN.
			req := httptest.NewRequest(r.method, concrete(r.path), strings.NewReader("{}"))
			req.Header.Set("Content-Type", "application/json")
			req.RemoteAddr = "192.0.2.10:40000"
			req.Host = "127.0.0.1"
			rec := httptest.NewRecorder()
			h.p.Handler().ServeHTTP(rec, req)
			switch r.kind {
			case page:
				if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/login") {
					t.Errorf("signed out: %d to %q, want 303 to /login", rec.Code, rec.Header().Get("Location"))
				}
			default:
				resp := &response{code: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
				if e := resp.apiErr(t); rec.Code != http.StatusUnauthorized || e.Code != "unauthenticated" {
					t.Errorf("signed out: %d %+v, want 401", rec.Code, e)
				}
			}
			// A viewer may read but not change; admin-only routes are
			// closed to them entirely.
			changes := !safeMethod(r.method) && r.access != self
			if r.access != admin && !changes {
				return
			}
			for name, c := range map[string]*client{"viewer session": viewer, "viewer token": token} {
				resp := c.do(r.method, concrete(r.path), "{}")
				if resp.code != http.StatusForbidden {
					t.Errorf("%s: %d %s, want 403", name, resp.code, resp.body)
				}
			}
		})
	}
}

// TestMetricsAccess: /metrics answers loopback without a token and others
// only with one.
func TestMetricsAccess(t *testing.T) {
	h := newHarness(t)
	get := func(remote, bearer string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/metrics", nil)
		req.RemoteAddr = remote
		req.Host = "127.0.0.1"
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		rec := httptest.NewRecorder()
		h.p.Handler().ServeHTTP(rec, req)
		return rec
	}
	if rec := get("192.0.2.10:1", ""); rec.Code != http.StatusUnauthorized {
		t.Errorf("LAN without token: %d", rec.Code)
	}
	secret, _, err := h.db.CreateToken(context.Background(), "prometheus", store.RoleViewer, h.scriptUser(store.RoleViewer).ID, "")
	if err != nil {
		t.Fatal(err)
	}
	for name, rec := range map[string]*httptest.ResponseRecorder{
		"loopback":       get("127.0.0.1:5000", ""),
		"ipv6 loopback":  get("[::1]:5000", ""),
		"LAN with token": get("192.0.2.10:1", secret),
	} {
		if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain; version=0.0.4") {
			t.Errorf("%s: %d %s", name, rec.Code, rec.Header().Get("Content-Type"))
		}
	}
}

// TestOpenAPIMatchesRoutes checks the OpenAPI document against gin's real
// routes: every API route is documented with its method, and every
// documented operation is served.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	h := newHarness(t)
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	admin := h.admin()
	admin.do("GET", "/api/v1/openapi.json", nil).want(t, 200).decode(t, &doc)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	served := map[string]bool{}
	for _, ri := range h.p.engine.Routes() {
		if !strings.HasPrefix(ri.Path, "/api/v1/") {
			continue
		}
		path, _ := openAPIPath(ri.Path)
		served[ri.Method+" "+path] = true
	}
	for k := range served {
		if !documented[k] {
			t.Errorf("%s is served but not in the OpenAPI document", k)
		}
	}
	for k := range documented {
		if !served[k] {
			t.Errorf("%s is documented but not served", k)
		}
	}
	if len(served) < 10 {
		t.Errorf("only %d API routes served", len(served))
	}
	// Every operation has a summary and an error response in the shape.
	var full map[string]any
	admin.do("GET", "/api/v1/openapi.json", nil).want(t, 200).decode(t, &full)
	for path, ops := range full["paths"].(map[string]any) {
		for method, op := range ops.(map[string]any) {
			o := op.(map[string]any)
			if s, _ := o["summary"].(string); s == "" {
				t.Errorf("%s %s has no summary", method, path)
			}
			if _, ok := o["responses"].(map[string]any)["default"]; !ok {
				t.Errorf("%s %s has no error response", method, path)
			}
		}
	}
	for _, r := range h.p.routes {
		if r.kind == api && (!strings.HasPrefix(r.path, "/api/v1/") || r.tag == "") {
			t.Errorf("API route %s %s: outside /api/v1 or without a tag", r.method, r.path)
		}
	}
	if _, ok := full["components"].(map[string]any)["schemas"].(map[string]any)["APIError"]; !ok {
		t.Error("no APIError schema")
	}
}
