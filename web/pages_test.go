package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/punchbox/punchbox"
)

// TestAssets: static files are served only under their content-hashed
// names, cached for good, with their own content type.
func TestAssets(t *testing.T) {
	h := newHarness(t)
	c := h.anon()
	url, err := h.p.ui.assets.url("app.js")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := uiFiles.ReadFile("ui/static/app.js")
	sum := sha256.Sum256(body)
	if want := "/assets/app." + hex.EncodeToString(sum[:])[:assetHashLen] + ".js"; url != want {
		t.Fatalf("app.js at %s, want %s", url, want)
	}
	r := c.do("GET", url, nil).want(t, http.StatusOK)
	if string(r.body) != string(body) || r.header.Get("Cache-Control") != "public, max-age=31536000, immutable" ||
		r.header.Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Errorf("app.js: %d bytes, headers %v", len(r.body), r.header)
	}
	tests := []struct{ name, want string }{
		{"app.css", "text/css; charset=utf-8"},
		{"htmx.min.js", "text/javascript; charset=utf-8"},
		{"uPlot.iife.min.js", "text/javascript; charset=utf-8"},
		{"uPlot.min.css", "text/css; charset=utf-8"},
		{"icon.svg", "image/svg+xml"},
	}
	for _, tt := range tests {
		u, err := h.p.ui.assets.url(tt.name)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.do("GET", u, nil).want(t, 200).header.Get("Content-Type"); got != tt.want {
			t.Errorf("%s: content type %q, want %q", tt.name, got, tt.want)
		}
	}
	for _, path := range []string{"/assets/app.js", "/assets/app.0000000000.js", "/assets/", "/assets/../pages.go", "/assets/templates/layout.html"} {
		c.do("GET", path, nil).want(t, http.StatusNotFound)
	}
}

// TestPages renders every page for an admin and checks that each carries
// the box's name, the hashed assets and no inline script or style.
func TestPages(t *testing.T) {
	h := newHarness(t)
	a := h.admin()
	ctx := context.Background()
	if err := h.db.CreateTerminal(ctx, punchbox.Terminal{ID: "gate-a", Name: "Gate <A>", Kind: "zk", Address: "127.0.0.1:1", Enabled: false}); err != nil {
		t.Fatal(err)
	}
	inline := regexp.MustCompile(`<script>|<script [^>]*>[^<]|\son[a-z]+=|style=|<style`)
	for _, path := range []string{"/", "/terminals", "/punches", "/punches?pin=1&from=2026-01-01", "/users", "/account"} {
		r := a.do("GET", path, nil).want(t, http.StatusOK)
		page := string(r.body)
		if !strings.Contains(page, "<title>") || !strings.Contains(page, "box-01") {
			t.Errorf("%s: no title with the box's name", path)
		}
		if m := inline.FindString(page); m != "" {
			t.Errorf("%s: inline script or style %q", path, m)
		}
		if !strings.Contains(page, `<meta name="csrf-token" content="`) {
			t.Errorf("%s: no CSRF token", path)
		}
		if strings.Contains(page, "Gate <A>") {
			t.Errorf("%s: a terminal's name is not escaped", path)
		}
	}
	// A bad filter is shown on the form, not a 500.
	r := a.do("GET", "/punches?from=yesterday", nil).want(t, http.StatusBadRequest)
	if !strings.Contains(string(r.body), "want a day like") {
		t.Errorf("bad filter: the error is not on the page")
	}
	// A viewer sees no change buttons and no users page.
	v := h.viewer()
	if page := string(v.do("GET", "/terminals", nil).want(t, 200).body); strings.Contains(page, `data-action="delete"`) || strings.Contains(page, "Add terminal") {
		t.Error("a viewer sees change buttons")
	}
	v.do("GET", "/users", nil).want(t, http.StatusForbidden)
}

func TestLoginPageNext(t *testing.T) {
	tests := []struct{ next, want string }{
		{"", "/"},
		{"/terminals", "/terminals"},
		{"/punches?pin=1", "/punches?pin=1"},
		{"//evil.example/x", "/"},
		{"https://evil.example/", "/"},
		{"/\\evil.example", "/"},
		{"javascript:alert(1)", "/"},
	}
	for _, tt := range tests {
		if got := safeNext(tt.next); got != tt.want {
			t.Errorf("safeNext(%q) = %q, want %q", tt.next, got, tt.want)
		}
	}
	h := newHarness(t)
	anon := h.anon()
	if loc := anon.do("GET", "/login", nil).want(t, http.StatusSeeOther).header.Get("Location"); loc != "/setup" {
		t.Errorf("login without an admin leads to %q, want /setup", loc)
	}
	a := h.admin()
	anon.do("GET", "/setup", nil).want(t, http.StatusSeeOther)
	anon.do("GET", "/login?next=/terminals", nil).want(t, 200)
	if loc := a.do("GET", "/login?next=//evil.example", nil).want(t, http.StatusSeeOther).header.Get("Location"); loc != "/" {
		t.Errorf("signed in, login leads to %q", loc)
	}
}

func TestDashboard(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 30, 0, 0, time.UTC)
	h := newHarness(t, func(d *Deps) { d.Now = func() time.Time { return now } })
	ctx := context.Background()
	var ps []punchbox.Punch
	for i, at := range []string{"2026-11-27T08:01:00", "2026-11-27T08:02:00", "2026-11-27T09:00:00", "2026-11-25T12:00:00", "2026-11-19T12:00:00"} {
		lt, err := punchbox.ParseLocalTime(at)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, punchbox.NewPunch("gate-a", "SN1", string(rune('1'+i)), lt, time.UTC, punchbox.StateCheckIn, punchbox.VerifyFingerprint, "", punchbox.SourcePull, now))
	}
	if err := h.db.Put(ctx, ps); err != nil {
		t.Fatal(err)
	}
	var d Dashboard
	h.admin().do("GET", "/api/v1/dashboard", nil).want(t, 200).decode(t, &d)
	if d.Today != "2026-11-27" || d.PunchesToday != 3 || len(d.Hourly) != 24 || d.Hourly[8].Punches != 2 || d.Hourly[9].Punches != 1 {
		t.Errorf("today %s: %d punches, hourly %v", d.Today, d.PunchesToday, d.Hourly)
	}
	if len(d.Daily) != 7 || d.Daily[6].Period != "2026-11-27" || d.Daily[6].Punches != 3 || d.Daily[4].Punches != 1 || d.Daily[0].Period != "2026-11-21" {
		t.Errorf("daily %v", d.Daily)
	}
	if len(d.Latest) != 5 || d.Backlog.Pending != 5 || d.Link != nil || !d.Healthy {
		t.Errorf("latest %d, backlog %+v, link %v, healthy %v", len(d.Latest), d.Backlog, d.Link, d.Healthy)
	}
}
