package web

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/punchbox/punchbox/store"
)

func TestSetup(t *testing.T) {
	h := newHarness(t)
	path := filepath.Join(h.dir, SetupCodeFile)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("no setup code file: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("setup code file mode %v, want 0600", fi.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	code := strings.TrimSpace(string(b))
	if !strings.Contains(h.log.String(), code) {
		t.Errorf("the setup code %s is not in the log:\n%s", code, h.log)
	}

	c := h.anon()
	var st SetupStatus
	c.do("GET", "/api/v1/setup", nil).want(t, 200).decode(t, &st)
	if !st.Needed {
		t.Fatal("setup not needed on a new box")
	}
	// Pages lead to setup while there is no admin.
	if r := c.do("GET", "/", nil); r.code != http.StatusSeeOther || r.header.Get("Location") != "/setup" {
		t.Errorf("GET / = %d to %q, want 303 to /setup", r.code, r.header.Get("Location"))
	}
	for name, tc := range map[string]struct {
		req   SetupRequest
		field string
	}{
		"wrong code":     {SetupRequest{Code: "AAAA-BBBB-CCCC", Name: "root", Password: testPassword}, "code"},
		"short password": {SetupRequest{Code: code, Name: "root", Password: "short"}, "password"},
		"bad name":       {SetupRequest{Code: code, Name: "<b>root</b>", Password: testPassword}, "name"},
	} {
		r := c.do("POST", "/api/v1/setup", tc.req)
		if e := r.apiErr(t); r.code != 400 || e.Field != tc.field {
			t.Errorf("%s: %d %+v, want 400 naming %s", name, r.code, e, tc.field)
		}
	}
	if n, _, _ := h.db.CountUsers(context.Background()); n != 0 {
		t.Fatalf("bad setups created %d admins", n)
	}
	// Typed loosely: lower case, no dashes.
	loose := strings.ToLower(strings.ReplaceAll(code, "-", ""))
	var si SessionInfo
	c.do("POST", "/api/v1/setup", SetupRequest{Code: loose, Name: "root", Password: testPassword}).want(t, 201).decode(t, &si)
	if si.Name != "root" || si.Role != store.RoleAdmin || si.CSRFToken == "" {
		t.Errorf("setup answered %+v", si)
	}
	c.csrf = si.CSRFToken
	c.do("GET", "/api/v1/session", nil).want(t, 200) // signed in by setup
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("setup code file still there after setup: %v", err)
	}
	// Once only.
	r := h.anon().do("POST", "/api/v1/setup", SetupRequest{Code: code, Name: "evil", Password: testPassword})
	if r.code != http.StatusConflict {
		t.Errorf("second setup = %d %s, want 409", r.code, r.body)
	}
	c.do("GET", "/api/v1/setup", nil).want(t, 200).decode(t, &st)
	if st.Needed {
		t.Error("setup still needed after it was done")
	}
	entries, err := h.db.AuditLog(context.Background(), store.AuditFilter{Action: "setup"})
	if err != nil || len(entries) != 1 || entries[0].Actor != "root" {
		t.Errorf("audit of setup = %+v, %v", entries, err)
	}
}

// A restart before setup keeps the same code, so the log line an admin
// found stays true; with an admin present the file is removed.
func TestSetupCodeAcrossRestarts(t *testing.T) {
	h := newHarness(t)
	b1, _ := os.ReadFile(filepath.Join(h.dir, SetupCodeFile))
	p2 := NewPanel(h.p.d)
	if err := p2.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	b2, _ := os.ReadFile(filepath.Join(h.dir, SetupCodeFile))
	if string(b1) != string(b2) || len(b1) == 0 {
		t.Errorf("setup code changed across restarts: %q then %q", b1, b2)
	}
	if _, err := h.db.CreateUser(context.Background(), "console", store.RoleAdmin, testPassword); err != nil {
		t.Fatal(err)
	}
	if err := p2.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(h.dir, SetupCodeFile)); !os.IsNotExist(err) {
		t.Errorf("setup code file kept with an admin present: %v", err)
	}
}

func TestLoginSessionLogout(t *testing.T) {
	h := newHarness(t)
	c := h.admin()
	resp := c.do("GET", "/api/v1/session", nil).want(t, 200)
	var si SessionInfo
	resp.decode(t, &si)
	if si.Name != "admin" || si.Kind != "session" || si.CSRFToken != c.csrf {
		t.Errorf("session = %+v", si)
	}

	// The cookie is HttpOnly, Secure, SameSite=Strict, host-only.
	r := h.anon().do("POST", "/api/v1/login", LoginRequest{Name: "admin", Password: testPassword}).want(t, 200)
	ck := r.header.Get("Set-Cookie")
	for _, want := range []string{"__Host-punchbox_session=", "HttpOnly", "Secure", "SameSite=Strict", "Path=/"} {
		if !strings.Contains(ck, want) {
			t.Errorf("Set-Cookie %q lacks %s", ck, want)
		}
	}
	if strings.Contains(strings.ToLower(ck), "domain=") {
		t.Errorf("Set-Cookie %q has a Domain", ck)
	}

	// Logout ends the session on the server: the old cookie is dead even
	// if a client kept it.
	jar := c.hc.Jar
	u, _ := http.NewRequest("GET", h.srv.URL, nil)
	kept := jar.Cookies(u.URL)
	c.do("POST", "/api/v1/logout", nil).want(t, http.StatusNoContent)
	c.do("GET", "/api/v1/session", nil).want(t, http.StatusUnauthorized)
	replay := h.anon()
	replay.hc.Jar.SetCookies(u.URL, kept)
	if r := replay.do("GET", "/api/v1/session", nil); r.code != http.StatusUnauthorized {
		t.Errorf("a logged-out cookie still works: %d", r.code)
	}
}

func TestLoginWrongPassword(t *testing.T) {
	h := newHarness(t)
	h.admin()
	for _, req := range []LoginRequest{{"admin", "wrong password!"}, {"nobody", testPassword}, {"", ""}} {
		r := h.anon().do("POST", "/api/v1/login", req)
		if e := r.apiErr(t); r.code != 401 || e.Code != "unauthenticated" {
			t.Errorf("login %q: %d %+v", req.Name, r.code, e)
		}
		if r.header.Get("Set-Cookie") != "" {
			t.Errorf("login %q set a cookie", req.Name)
		}
	}
}

func TestAPIToken(t *testing.T) {
	h := newHarness(t)
	admin := h.admin()
	var ct CreatedToken
	admin.do("POST", "/api/v1/tokens", NewToken{Name: "payroll export", Role: store.RoleViewer}).want(t, 201).decode(t, &ct)
	if !strings.HasPrefix(ct.Secret, store.TokenPrefix) || ct.Token.Name != "payroll export" {
		t.Fatalf("created %+v", ct)
	}
	script := h.anon()
	script.bearer = ct.Secret
	var si SessionInfo
	script.do("GET", "/api/v1/session", nil).want(t, 200).decode(t, &si)
	if si.Kind != "token" || si.Role != store.RoleViewer || si.CSRFToken != "" {
		t.Errorf("token session = %+v", si)
	}
	// A viewer token may not change anything; no CSRF token is needed.
	script.do("POST", "/api/v1/users", NewUser{Name: "x", Role: store.RoleAdmin, Password: testPassword}).want(t, 403)
	// The secret is not listed.
	list := admin.do("GET", "/api/v1/tokens", nil).want(t, 200)
	if strings.Contains(string(list.body), ct.Secret) {
		t.Error("token list shows the secret")
	}
	admin.do("DELETE", "/api/v1/tokens/"+strconv.FormatInt(ct.Token.ID, 10), nil).want(t, 204)
	script.do("GET", "/api/v1/session", nil).want(t, 401)
	script.bearer = "pbx_not-a-token"
	script.do("GET", "/api/v1/session", nil).want(t, 401)
	script.bearer = ""
	script.header.Set("Authorization", "Basic YWRtaW46YWRtaW4=")
	if e := script.do("GET", "/api/v1/session", nil).want(t, 401).apiErr(t); !strings.Contains(e.Message, "Bearer") {
		t.Errorf("Basic auth error %q", e.Message)
	}
}

func TestChangeOwnPassword(t *testing.T) {
	h := newHarness(t)
	v := h.viewer()
	other := h.anon()
	other.login("viewer", testPassword)
	r := v.do("PUT", "/api/v1/me/password", PasswordChange{Current: "wrong password!", New: "a brand new password"})
	if e := r.apiErr(t); r.code != 400 || e.Field != "current" {
		t.Errorf("wrong current: %d %+v", r.code, e)
	}
	r = v.do("PUT", "/api/v1/me/password", PasswordChange{Current: testPassword, New: "short"})
	if e := r.apiErr(t); r.code != 400 || e.Field != "new" {
		t.Errorf("short new: %d %+v", r.code, e)
	}
	v.do("PUT", "/api/v1/me/password", PasswordChange{Current: testPassword, New: "a brand new password"}).want(t, 204)
	v.do("GET", "/api/v1/session", nil).want(t, 200)     // this session goes on
	other.do("GET", "/api/v1/session", nil).want(t, 401) // the other ended
	h.anon().login("viewer", "a brand new password")
}

func TestUsersAPI(t *testing.T) {
	h := newHarness(t)
	admin := h.admin()
	admin.do("POST", "/api/v1/users", NewUser{Name: "clerk", Role: store.RoleViewer, Password: testPassword}).want(t, 201)
	for name, tc := range map[string]struct {
		body  any
		field string
		code  int
	}{
		"taken":        {NewUser{Name: "CLERK", Role: store.RoleViewer, Password: testPassword}, "name", 400},
		"bad role":     {NewUser{Name: "x", Role: "root", Password: testPassword}, "role", 400},
		"weak":         {NewUser{Name: "x", Role: store.RoleViewer, Password: "12345"}, "password", 400},
		"name as pass": {NewUser{Name: "longusername1", Role: store.RoleViewer, Password: "LongUserName1"}, "password", 400},
		"unknown key":  {map[string]any{"name": "x", "role": "viewer", "password": testPassword, "admin": true}, "admin", 400},
		"wrong type":   {map[string]any{"name": 7, "role": "viewer", "password": testPassword}, "name", 400},
	} {
		r := admin.do("POST", "/api/v1/users", tc.body)
		if e := r.apiErr(t); r.code != tc.code || e.Field != tc.field {
			t.Errorf("%s: %d %+v, want %d naming %q", name, r.code, e, tc.code, tc.field)
		}
	}
	role := store.RoleAdmin
	var uv UserView
	admin.do("PATCH", "/api/v1/users/clerk", UserChange{Role: &role}).want(t, 200).decode(t, &uv)
	if uv.Role != store.RoleAdmin {
		t.Errorf("after PATCH role = %s", uv.Role)
	}
	admin.do("DELETE", "/api/v1/users/clerk", nil).want(t, 204)
	admin.do("DELETE", "/api/v1/users/clerk", nil).want(t, 404)
	r := admin.do("DELETE", "/api/v1/users/admin", nil)
	if e := r.apiErr(t); r.code != 409 || e.Code != "last_admin" {
		t.Errorf("delete last admin: %d %+v", r.code, e)
	}
	entries, _ := h.db.AuditLog(context.Background(), store.AuditFilter{Actor: "admin"})
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
	}
	for _, want := range []string{"user.create", "user.role", "user.delete", "login"} {
		if !strings.Contains(strings.Join(actions, " "), want) {
			t.Errorf("audit %v lacks %s", actions, want)
		}
	}
	if entries[0].Remote != "127.0.0.1" {
		t.Errorf("audit remote %q", entries[0].Remote)
	}
}
