package web

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/drivers"
	"github.com/punchbox/punchbox/store"
)

// TestBrowserManagePages visits the management pages as an admin in
// headless Chromium, checks a roster file, changes a setting and takes a
// backup through the forms, and screenshots them. Any script error or CSP
// violation fails it.
func TestBrowserManagePages(t *testing.T) {
	b := startChrome(t)
	h, _, _ := manageHarness(t)
	console := b.console
	base := h.srv.URL
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	do, text, shot := b.do, b.text, b.fullShot

	do("login", chromedp.EmulateViewport(1280, 800), chromedp.Navigate(base+"/login"), chromedp.WaitVisible(css("#login-name")),
		chromedp.SendKeys(css("#login-name"), "admin"),
		chromedp.SendKeys(css("#login-password"), testPassword),
		chromedp.Click(css(`form button[type="submit"]`)),
		chromedp.WaitVisible(css(`body[data-page="dashboard"]`)))

	pages := []struct{ path, page, shot string }{
		{"/employees", "employees", "employees.png"},
		{"/attendance?from=2026-03-02&to=2026-03-03", "attendance", "attendance.png"},
		{"/sync", "sync", "sync.png"},
		{"/backups", "backups", "backups.png"},
		{"/audit", "audit", "audit.png"},
		{"/settings", "settings", "settings.png"},
		{"/system", "system", "system.png"},
	}
	for _, p := range pages {
		do("visit "+p.path, chromedp.Navigate(base+p.path), chromedp.WaitVisible(css(`body[data-page="`+p.page+`"]`)))
		if p.shot != "" {
			shot(p.shot)
		}
	}
	do("phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch),
		chromedp.Navigate(base+"/employees"), chromedp.WaitVisible(css("#employee-table")))
	shot("employees-phone.png")
	do("phone system", chromedp.Navigate(base+"/system"), chromedp.WaitVisible(css("#readiness")))
	shot("system-phone.png")
	do("desktop", chromedp.EmulateViewport(1280, 800))

	// A roster file with a bad line: the check lists it, nothing is written.
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	good := filepath.Join(dir, "good.csv")
	if err := os.WriteFile(bad, []byte("pin,name,card\n20,Cleo\n21,Dan,12x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(good, []byte("pin,name,card\n20,Cleo,\n21,Dan,12\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	do("import check", chromedp.Navigate(base+"/employees"), chromedp.WaitVisible(css("#import-form")),
		chromedp.SetUploadFiles(css("#import-file"), []string{bad}),
		chromedp.Click(css("#import-check")),
		chromedp.WaitVisible(css("#import-lines-wrap")))
	if lines := text("#import-lines tbody"); !strings.Contains(lines, "card") || !strings.Contains(lines, "3") {
		t.Errorf("the bad lines show %q", lines)
	}
	do("import good", chromedp.SetUploadFiles(css("#import-file"), []string{good}),
		chromedp.Click(css("#import-check")),
		chromedp.WaitVisible(css("#import-result.ok")),
		chromedp.Click(css("#import-run")),
		chromedp.WaitVisible(css(`#employee-table tr[data-pin="21"]`)))
	if got := text("#flash"); !strings.Contains(got, "2 added") {
		t.Errorf("after the import the flash says %q", got)
	}

	// A setting changed through the form; a bad value is shown by its field.
	do("setting bad", chromedp.Navigate(base+"/settings"), chromedp.WaitVisible(css("#settings-form")),
		chromedp.SetValue(css("#s-0"), "0"),
		chromedp.Click(css("#save-settings")),
		chromedp.WaitVisible(css(`[data-error-for="settings.retention.days"]:not(:empty)`)))
	do("setting good", chromedp.SetValue(css("#s-0"), "90"),
		chromedp.Click(css("#save-settings")),
		chromedp.WaitVisible(css(`#s-0[data-initial="90"]`)))

	// Records a terminal sent that could not be punches: counted on the
	// terminals page, listed raw in a dialog, forgotten by an admin.
	ctx := context.Background()
	if err := h.db.CreateTerminal(ctx, punchbox.Terminal{ID: "gate-x", Name: "Gate X", Kind: punchbox.KindZK, Address: "192.0.2.9:4370"}); err != nil {
		t.Fatal(err)
	}
	if err := h.db.Reject(ctx, []drivers.Rejected{
		{TerminalID: "gate-x", Serial: "SN-X", Source: punchbox.SourcePull, Reason: "time 0xffffffff is not a date", Raw: []byte{0xff, 0xff, 0xff, 0xff}},
		{TerminalID: "gate-x", Serial: "SN-X", Source: punchbox.SourceLive, Reason: "pin with control characters", Raw: []byte("<b>1\x1b")},
	}); err != nil {
		t.Fatal(err)
	}
	do("set aside", chromedp.Navigate(base+"/terminals"), chromedp.WaitVisible(css(`tr[data-terminal="gate-x"] button[data-action="rejected"]`)))
	if got := text(`tr[data-terminal="gate-x"] button[data-action="rejected"]`); got != "2 set aside" {
		t.Errorf("the terminals page says %q", got)
	}
	do("set aside dialog", chromedp.Click(css(`tr[data-terminal="gate-x"] button[data-action="rejected"]`)),
		chromedp.WaitVisible(css(`#rejected-table tbody tr:nth-child(2)`)))
	if got := text("#rejected-table tbody"); !strings.Contains(got, "time 0xffffffff is not a date") || !strings.Contains(got, "ffffffff") || !strings.Contains(got, "3c623e311b") {
		t.Errorf("the dialog lists %q", got)
	}
	shot("terminals-set-aside.png")
	do("set aside forget", chromedp.Click(css("#rejected-clear")),
		chromedp.WaitVisible(css(`#flash:not(:empty)`)),
		chromedp.WaitVisible(css(`tr[data-terminal="gate-x"]`)))
	if n, _ := h.db.RejectedCounts(ctx); n["gate-x"] != 0 {
		t.Errorf("after forgetting, %d records kept", n["gate-x"])
	}

	// A backup through the button: the list grows without a manual reload.
	do("backup", chromedp.Navigate(base+"/backups"), chromedp.WaitVisible(css("#backup-now")),
		chromedp.Click(css("#backup-now")),
		chromedp.WaitVisible(css(`#backup-table tbody tr:nth-child(2)`)))

	// Restore: a file that is no backup is refused with the reason; a real
	// backup is uploaded, verified, staged, and the box asked to restart.
	junk := filepath.Join(t.TempDir(), "junk.tar.gz")
	os.WriteFile(junk, []byte("not a backup at all"), 0o600)
	backup := filepath.Join(t.TempDir(), "good.tar.gz")
	if _, err := h.db.BackupFile(context.Background(), backup, store.BackupMeta{Version: "test", Site: "test-site", Box: "box-01"}); err != nil {
		t.Fatal(err)
	}
	acceptConfirm := b.js(`window.confirm = () => true`)
	do("restore junk", acceptConfirm,
		chromedp.SetUploadFiles(css("#restore-file"), []string{junk}),
		chromedp.Click(css("#restore-run")),
		chromedp.WaitVisible(css(`#restore-error:not(:empty)`)))
	if msg := text("#restore-error"); !strings.Contains(msg, "not restored") && !strings.Contains(msg, "backup") {
		t.Errorf("restore of junk says %q", msg)
	}
	if _, err := os.Stat(filepath.Join(h.dir, PendingRestoreFile)); !os.IsNotExist(err) || h.restarts.Load() != 0 {
		t.Fatalf("junk upload: staged file %v, %d restarts; want neither", err, h.restarts.Load())
	}
	do("restore good", chromedp.SetUploadFiles(css("#restore-file"), []string{backup}),
		chromedp.Click(css("#restore-run")),
		chromedp.WaitVisible(css(`#restore-result:not([hidden])`)))
	if _, err := os.Stat(filepath.Join(h.dir, PendingRestoreFile)); err != nil || h.restarts.Load() != 1 {
		t.Errorf("good upload: staged file %v, %d restarts; want it staged and one restart", err, h.restarts.Load())
	}
	shot("restore.png")
	for _, p := range console.list() {
		t.Errorf("browser: %s", p)
	}
}
