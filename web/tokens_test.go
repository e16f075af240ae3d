package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/punchbox/punchbox/store"
)

// An API token acts with at most its owner's current role: demoting the
// owner demotes the token at its next request, and deleting the owner
// revokes it, in the audit log.
func TestTokenRightsFollowOwner(t *testing.T) {
	h := newHarness(t)
	root := h.admin()
	bob := h.user("bob", store.RoleAdmin)
	var ct CreatedToken
	bob.do("POST", "/api/v1/tokens", NewToken{Name: "deploy", Role: store.RoleAdmin}).want(t, http.StatusCreated).decode(t, &ct)
	script := h.anon()
	script.bearer = ct.Secret
	script.do("GET", "/api/v1/users", nil).want(t, http.StatusOK)
	// A token made with the token belongs to bob too.
	var child CreatedToken
	script.do("POST", "/api/v1/tokens", NewToken{Name: "child", Role: store.RoleAdmin}).want(t, http.StatusCreated).decode(t, &child)
	childScript := h.anon()
	childScript.bearer = child.Secret

	viewer := store.RoleViewer
	root.do("PATCH", "/api/v1/users/bob", UserChange{Role: &viewer}).want(t, http.StatusOK)
	for name, c := range map[string]*client{"token": script, "token made by the token": childScript} {
		c.do("GET", "/api/v1/users", nil).want(t, http.StatusForbidden)
		c.do("POST", "/api/v1/users", NewUser{Name: "mallory", Role: store.RoleAdmin, Password: testPassword}).want(t, http.StatusForbidden)
		var si SessionInfo
		c.do("GET", "/api/v1/session", nil).want(t, http.StatusOK).decode(t, &si)
		if si.Role != store.RoleViewer {
			t.Errorf("%s of a demoted admin: session %+v, want the viewer role", name, si)
		}
		c.do("GET", "/api/v1/punches", nil).want(t, http.StatusOK) // still a viewer
	}
	if page := root.do("GET", "/users", nil).want(t, http.StatusOK); !strings.Contains(string(page.body), "acts as viewer") {
		t.Error("the users page does not say that the demoted admin's token acts as a viewer")
	}
	admin := store.RoleAdmin
	root.do("PATCH", "/api/v1/users/bob", UserChange{Role: &admin}).want(t, http.StatusOK)
	script.do("GET", "/api/v1/users", nil).want(t, http.StatusOK)

	root.do("DELETE", "/api/v1/users/bob", nil).want(t, http.StatusNoContent)
	script.do("GET", "/api/v1/session", nil).want(t, http.StatusUnauthorized)
	childScript.do("GET", "/api/v1/session", nil).want(t, http.StatusUnauthorized)
	// A new bob does not bring them back.
	h.user("bob", store.RoleAdmin)
	script.do("GET", "/api/v1/session", nil).want(t, http.StatusUnauthorized)

	var ts []TokenView
	root.do("GET", "/api/v1/tokens", nil).want(t, http.StatusOK).decode(t, &ts)
	if len(ts) != 2 || ts[0].Revoked.IsZero() || ts[1].Revoked.IsZero() || ts[0].CreatedBy != "bob" {
		t.Errorf("tokens after bob's deletion: %+v, want both revoked, created by bob", ts)
	}
	entries, err := h.db.AuditLog(context.Background(), store.AuditFilter{Action: "token.revoke"})
	if err != nil || len(entries) != 2 {
		t.Fatalf("revocations in the audit log: %+v, %v; want two", entries, err)
	}
	for _, e := range entries {
		if e.Actor != "admin" || (e.Target != strconv.FormatInt(ct.Token.ID, 10) && e.Target != strconv.FormatInt(child.Token.ID, 10)) {
			t.Errorf("revocation %+v, want by admin of bob's tokens", e)
		}
	}
}
