package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/punchbox/punchbox/cmd/punchbox/internal/config"
	"github.com/punchbox/punchbox/internal/eventually"
	"github.com/punchbox/punchbox/store"
)

// TestAdminUnlockRunningDaemon locks the panel of a running box and lifts
// the lockouts from the console, as another process on the same store:
// punchbox admin unlock NAME, punchbox admin passwd NAME and punchbox admin
// unlock, each applied by the daemon at the next sign-in.
func TestAdminUnlockRunningDaemon(t *testing.T) {
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
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(dataDir, store.FileName), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateUser(ctx, "admin", store.RoleAdmin, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := serveLoop(runCtx, &env{stdout: io.Discard, stderr: io.Discard, lookup: noEnv}, cfg, slog.New(slog.DiscardHandler), nil); err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	defer func() { cancel(); wg.Wait() }()

	// login signs in from the loopback address ip and returns the status.
	login := func(ip, name, password string) int {
		t.Helper()
		tr := &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}).DialContext}
		defer tr.CloseIdleConnections()
		hc := &http.Client{Transport: tr, Timeout: time.Minute}
		b, _ := json.Marshal(map[string]string{"name": name, "password": password})
		resp, err := hc.Post("http://"+addr+"/api/v1/login", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatalf("login from %s: %v", ip, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	eventually.True(t, "the panel answers", func() bool {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == http.StatusOK
	})
	// lockOut fails at name from ip until the daemon refuses.
	lockOut := func(ip, name string) {
		t.Helper()
		for i := range 20 {
			switch code := login(ip, name, fmt.Sprintf("wrong guess %d", i)); code {
			case http.StatusTooManyRequests:
				return
			case http.StatusUnauthorized:
			default:
				t.Fatalf("guess from %s: %d", ip, code)
			}
		}
		t.Fatalf("20 wrong passwords from %s and no lockout", ip)
	}
	console := func(stdin string, args ...string) string {
		t.Helper()
		if stdin != "" {
			pipeStdin(t, stdin)
		}
		code, out, errOut := runCmd(t, append(append([]string{"admin"}, args...), "--config", cfgPath)...)
		if code != exitOK {
			t.Fatalf("punchbox admin %s: %d %q %q", strings.Join(args, " "), code, out, errOut)
		}
		return out
	}

	lockOut("127.0.0.2", "admin")
	if code := login("127.0.0.2", "admin", "correct horse battery"); code != http.StatusTooManyRequests {
		t.Fatalf("the right password from a locked-out address: %d, want 429", code)
	}
	if out := console("", "unlock", "ADMIN"); !strings.Contains(out, "lifted the sign-in lockouts of admin") {
		t.Errorf("unlock said %q", out)
	}
	if code := login("127.0.0.2", "admin", "correct horse battery"); code != http.StatusOK {
		t.Fatalf("after punchbox admin unlock admin: %d, want 200", code)
	}

	lockOut("127.0.0.3", "admin")
	console("a brand new password\n", "passwd", "admin")
	if code := login("127.0.0.3", "admin", "a brand new password"); code != http.StatusOK {
		t.Fatalf("after punchbox admin passwd admin: %d, want 200", code)
	}

	// An address that guessed at many names is freed by an unlock of all.
	for i := range 20 {
		if login("127.0.0.4", fmt.Sprintf("nobody%d", i), "wrong") == http.StatusTooManyRequests {
			break
		}
	}
	if code := login("127.0.0.4", "admin", "a brand new password"); code != http.StatusTooManyRequests {
		t.Fatalf("locked-out guesser: %d, want 429", code)
	}
	console("", "unlock", "admin")
	if code := login("127.0.0.4", "admin", "a brand new password"); code != http.StatusTooManyRequests {
		t.Fatalf("unlock of admin freed an address that never tried admin: %d, want 429", code)
	}
	console("", "unlock")
	if code := login("127.0.0.4", "admin", "a brand new password"); code != http.StatusOK {
		t.Fatalf("after punchbox admin unlock: %d, want 200", code)
	}

	adb := openData(t, cfgPath)
	entries, err := adb.AuditLog(ctx, store.AuditFilter{Action: "user.unlock"})
	if err != nil || len(entries) != 3 || entries[0].Actor != "console" {
		t.Errorf("unlocks in the audit log: %+v, %v; want three by the console", entries, err)
	}
}
