package web

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/chromedp"

	"github.com/punchbox/punchbox/store"
)

// TestBrowserManagePages visits the management pages as an admin in
// headless Chromium, checks a roster file, changes a setting and takes a
// backup through the forms, and screenshots them. Any script error or CSP
// violation fails it.
func TestBrowserManagePages(t *testing.T) {
	exe := findChromium()
	if exe == "" {
		t.Skip("no chromium: install Debian's chromium to run the browser test")
	}
	if testing.Short() {
		t.Skip("the browser test is slow")
	}
	h, _, _ := manageHarness(t)
	shots := artifactDir(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe),
		chromedp.Flag("ignore-certificate-errors", true), chromedp.WindowSize(1280, 800))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	console := &consoleLog{}
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithListener(console.listen))
	defer cancelBrowser()
	if _, err := chromedp.Call(bctx, log.Enable, cdp.Empty{}); err != nil {
		t.Fatalf("start %s: %v", exe, err)
	}
	ctx, cancel := context.WithTimeout(bctx, 3*time.Minute)
	defer cancel()
	base := h.srv.URL
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
			t.Fatalf("%s: %v\npage: %.1500s\nconsole: %q", step, err, body, console.list())
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(css(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

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
	acceptConfirm := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](`(window.confirm = () => true, true)`)(ctx, t)
		return err
	})
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
