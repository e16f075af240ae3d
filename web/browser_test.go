package web

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/punchbox/punchbox/drivers/zksim"
	"github.com/punchbox/punchbox/internal/eventually"
	"github.com/punchbox/punchbox/store"
)

// TestBrowser drives the panel in headless Chromium the way a site admin
// does: setup, a terminal added through the form, a punch arriving live on
// the dashboard, a CSV export, and signing out. Any script error or CSP
// violation fails it.
func TestBrowser(t *testing.T) {
	b := startChrome(t, chromedp.Flag("lang", "en-GB"))
	h := newHarness(t)
	sim := h.sim(zksim.Config{}, 3, 20)
	downloads := t.TempDir()
	ctx, console := b.ctx, b.console
	base := h.srv.URL
	do, text, location, shot := b.do, b.text, b.location, b.shot
	marker := func() float64 {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`window.punchboxLoadedAt || 0`))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	js := b.js

	// A new box leads to the setup page; the code is in the data directory.
	do("open", chromedp.EmulateViewport(1280, 800), chromedp.Navigate(base+"/"), chromedp.WaitVisible(css("#setup-code")))
	if loc := location(); !strings.HasSuffix(loc, "/setup") {
		t.Fatalf("a new box opens %s, want /setup", loc)
	}
	code, err := os.ReadFile(filepath.Join(h.dir, SetupCodeFile))
	if err != nil {
		t.Fatal(err)
	}
	// A mistyped repetition is caught before anything is sent.
	do("setup mismatch",
		chromedp.SendKeys(css("#setup-code"), strings.TrimSpace(string(code))),
		chromedp.SendKeys(css("#setup-name"), "admin"),
		chromedp.SendKeys(css("#setup-password"), testPassword),
		chromedp.SendKeys(css("#setup-password2"), testPassword+"x"),
		chromedp.Click(css(`form button[type="submit"]`)),
		chromedp.WaitVisible(css(`[data-error-for="password2"]:not(:empty)`)))
	do("setup",
		js(`document.getElementById("setup-password2").value = ""`),
		chromedp.SendKeys(css("#setup-password2"), testPassword),
		chromedp.Click(css(`form button[type="submit"]`)),
		chromedp.WaitVisible(css(`body[data-page="dashboard"]`)))
	if loc := location(); !strings.HasSuffix(loc, "/") {
		t.Fatalf("after setup at %s, want the dashboard", loc)
	}

	// Add the simulator through the form, testing the connection first.
	do("add terminal", chromedp.Navigate(base+"/terminals"), chromedp.WaitVisible(css("#add-terminal")),
		chromedp.Click(css("#add-terminal")), chromedp.WaitVisible(css("#terminal-form")),
		chromedp.SetValue(css("#t-kind"), "zk"),
		chromedp.SendKeys(css("#t-id"), "gate-a"),
		chromedp.SendKeys(css("#t-name"), "Main gate"),
		chromedp.SendKeys(css("#t-address"), sim.Addr()),
		chromedp.Click(css("#test-terminal")),
		chromedp.WaitVisible(css("#probe-result.ok")))
	if probe := text("#probe-result"); !strings.Contains(probe, zksim.DefaultSerial) || !strings.Contains(probe, "20 records") {
		t.Errorf("connection test shows %q, want the serial and 20 records", probe)
	}
	do("save terminal", chromedp.Click(css("#save-terminal")),
		chromedp.WaitVisible(css(`tr[data-terminal="gate-a"] .badge.s-online`)))
	shot("terminals.png")

	// The dashboard shows a new punch without a reload.
	do("dashboard", chromedp.Navigate(base+"/"), chromedp.WaitVisible(css(`#live-state[data-state="live"]`)),
		chromedp.WaitVisible(css(`#terminal-table tr[data-terminal="gate-a"] .badge.s-online`)))
	before := marker()
	a, ok := sim.Punch("1002", 0, 1)
	if !ok {
		t.Fatal("the simulator refused the punch")
	}
	sel := `#feed li[data-pin="1002"] .feed-time`
	do("live punch", chromedp.WaitVisible(css(sel)))
	if got, want := text(sel), strings.Replace(a.Time.String(), "T", " ", 1); got != want {
		t.Errorf("feed shows the punch at %q, want %q", got, want)
	}
	if after := marker(); before == 0 || before != after {
		t.Errorf("the page was reloaded (marker %v, then %v)", before, after)
	}
	shot("dashboard.png")
	do("phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch))
	shot("dashboard-phone.png")
	do("desktop", chromedp.EmulateViewport(1280, 800))

	// The punches page lists it, and the export has it with the rest.
	do("punches", chromedp.Navigate(base+"/punches"), chromedp.WaitVisible(css("#punch-table")))
	if table := text("#punch-table"); !strings.Contains(table, "1002") || !strings.Contains(table, strings.Replace(a.Time.String(), "T", " ", 1)) {
		t.Errorf("the punches page lacks the new punch: %.300q", table)
	}
	shot("punches.png")
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads}); err != nil {
		t.Fatal(err)
	}
	do("export", chromedp.Click(css("#export-csv")))
	var rows [][]string
	eventually.OK(t, func() string {
		files, _ := filepath.Glob(filepath.Join(downloads, "*.csv"))
		if len(files) != 1 {
			return fmt.Sprintf("downloads: %v, want one CSV file", files)
		}
		f, err := os.Open(files[0])
		if err != nil {
			return err.Error()
		}
		defer f.Close()
		rows, err = csv.NewReader(f).ReadAll()
		if err != nil {
			return err.Error()
		}
		return ""
	})
	if len(rows) != 22 || strings.Join(rows[0], ",") != strings.Join(punchCSVHeader, ",") {
		t.Errorf("export: %d rows with header %v, want the header and 21 punches", len(rows), rows[0])
	}
	found := false
	for _, r := range rows[1:] {
		found = found || (r[3] == "1002" && r[5] == a.Time.String())
	}
	if !found {
		t.Error("the export lacks the new punch")
	}

	// Sign out: the panel leads to the login page and the old cookie is dead.
	got, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{})
	if err != nil {
		t.Fatal(err)
	}
	var session *network.Cookie
	for _, c := range got.Cookies {
		if c.Name == h.p.cookieName() {
			session = c
		}
	}
	if session == nil || !session.HTTPOnly || !session.Secure || session.SameSite != network.CookieSameSiteStrict {
		t.Fatalf("session cookie %+v, want HttpOnly, Secure, SameSite=Strict", session)
	}
	do("logout", chromedp.Click(css(`form[data-logout] button`)), chromedp.WaitVisible(css("#login-name")),
		chromedp.Navigate(base+"/"), chromedp.WaitVisible(css("#login-name")))
	if loc := location(); !strings.Contains(loc, "/login") {
		t.Errorf("after signing out / leads to %s, want /login", loc)
	}
	old := h.anon()
	old.header.Set("Cookie", session.Name+"="+session.Value)
	if r := old.do("GET", "/api/v1/session", nil); r.code != http.StatusUnauthorized {
		t.Errorf("the old cookie still works: %d", r.code)
	}

	// Signing in again through the form honours ?next=.
	do("login", chromedp.Navigate(base+"/login?next=%2Fpunches"), chromedp.WaitVisible(css("#login-name")),
		chromedp.SendKeys(css("#login-name"), "admin"),
		chromedp.SendKeys(css("#login-password"), testPassword),
		chromedp.Click(css(`form button[type="submit"]`)),
		chromedp.WaitVisible(css(`body[data-page="punches"]`)))
	if loc := location(); !strings.HasSuffix(loc, "/punches") {
		t.Errorf("login with next=/punches lands on %s", loc)
	}
	// Another user's password is set in a dialog, typed twice.
	if _, err := h.db.CreateUser(context.Background(), "bob", store.RoleViewer, testPassword); err != nil {
		t.Fatal(err)
	}
	do("users", chromedp.Navigate(base+"/users"), chromedp.WaitVisible(css("#user-table")))
	shot("users.png")
	do("password mismatch", chromedp.Click(css(`tr[data-user="bob"] button[data-action="password"]`)),
		chromedp.WaitVisible(css("#pw-new")),
		chromedp.SendKeys(css("#pw-new"), "a new long passphrase"),
		chromedp.SendKeys(css("#pw-new2"), "a new long passfrase"),
		chromedp.Click(css(`#password-form button[type="submit"]`)),
		chromedp.WaitVisible(css(`[data-error-for="password2"]:not(:empty)`)))
	do("password short", js(`document.querySelector("#pw-new").value = document.querySelector("#pw-new2").value = "short"`),
		chromedp.Click(css(`#password-form button[type="submit"]`)),
		chromedp.WaitVisible(css(`#password-form [data-error-for="password"]:not(:empty)`)))
	do("password set", js(`document.querySelector("#pw-new").value = document.querySelector("#pw-new2").value = "a new long passphrase"`),
		chromedp.Click(css(`#password-form button[type="submit"]`)),
		chromedp.WaitNotVisible(css("#password-dialog")))
	if _, err := h.db.Authenticate(context.Background(), "bob", "a new long passphrase"); err != nil {
		t.Errorf("bob's new password does not work: %v", err)
	}
	for _, p := range console.list() {
		t.Errorf("browser: %s", p)
	}
}
