package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/punchbox/punchbox/cmd/punchbox/internal/config"
	"github.com/punchbox/punchbox/internal/eventually"
	"github.com/punchbox/punchbox/store"
	"github.com/punchbox/punchbox/web"
)

// TestPanelRestoreAppliedOnRestart uploads a backup through the panel of a
// running box: the box verifies it, restarts in-process, and comes back
// with the backup's punches in place of its own.
func TestPanelRestoreAppliedOnRestart(t *testing.T) {
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	addr := freePort(t)
	cfgPath := filepath.Join(dir, "punchbox.yaml")
	body := fmt.Sprintf("site: test-site\nbox: box-01\ndata_dir: %s\nweb: {listen: %q, insecure_http: true}\n", dataDir, addr)
	if err := os.WriteFile(cfgPath, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	// The box's own store: 5 punches and an admin.
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(dataDir, store.FileName), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Put(ctx, bkPunches("current", 5)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateUser(ctx, "admin", store.RoleAdmin, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	backup, err := os.ReadFile(bkBackupFile(t, 12, "test-site", "box-01"))
	if err != nil {
		t.Fatal(err)
	}

	runCtx, cancel := context.WithCancel(ctx)
	var opens atomic.Int32
	counts := make(chan int64, 4)
	var wg sync.WaitGroup
	var runErr error
	wg.Go(func() {
		runErr = serveLoop(runCtx, &env{stdout: io.Discard, stderr: io.Discard, lookup: noEnv}, cfg, slog.New(slog.DiscardHandler), func(a *app) {
			opens.Add(1)
			n, err := a.db.CountPunches(ctx)
			if err != nil {
				t.Error(err)
			}
			counts <- n
		})
	})
	defer func() { cancel(); wg.Wait() }()
	if n := <-counts; n != 5 {
		t.Fatalf("before the restore: %d punches, want 5", n)
	}

	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	base := "http://" + addr
	var resp *http.Response
	eventually.OK(t, func() string {
		resp, err = hc.Post(base+"/api/v1/login", "application/json", bytes.NewReader([]byte(`{"name":"admin","password":"correct horse battery"}`)))
		if err != nil {
			return "sign in: " + err.Error()
		}
		return ""
	})
	var s web.SessionInfo
	json.NewDecoder(resp.Body).Decode(&s)
	resp.Body.Close()
	if resp.StatusCode != 200 || s.CSRFToken == "" {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	// The readiness report is wired: this test box serves plain HTTP.
	resp, err = hc.Get(base + "/api/v1/readiness")
	if err != nil {
		t.Fatal(err)
	}
	var checks []web.Check
	json.NewDecoder(resp.Body).Decode(&checks)
	resp.Body.Close()
	byName := map[string]web.Check{}
	for _, c := range checks {
		byName[c.Name] = c
	}
	if tls, store := byName["tls"], byName["store"]; len(checks) < 10 || tls.OK || tls.Title == "" || !store.OK {
		t.Errorf("readiness = %+v, want the report with tls not OK and the store sound", checks)
	}

	req, _ := http.NewRequest("POST", base+"/api/v1/backups/restore", bytes.NewReader(backup))
	req.Header.Set("Content-Type", "application/gzip")
	req.Header.Set("X-CSRF-Token", s.CSRFToken)
	resp, err = hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("restore upload: %d %s", resp.StatusCode, b)
	}

	if n := eventually.Recv(t, "the box restarts after the restore was staged", counts); n != 12 {
		t.Errorf("after the restart: %d punches, want the backup's 12", n)
	}
	if _, err := os.Stat(filepath.Join(dataDir, web.PendingRestoreFile)); err == nil {
		t.Error("the staged restore is still there after it was applied")
	}
	if m, _ := filepath.Glob(filepath.Join(dataDir, store.FileName+".pre-restore-*")); len(m) != 1 {
		t.Errorf("previous database kept as %v, want one file", m)
	}
	cancel()
	wg.Wait()
	if runErr != nil {
		t.Errorf("serve: %v", runErr)
	}
	if opens.Load() != 2 {
		t.Errorf("opened %d times, want 2", opens.Load())
	}
}
