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
	if _, err := db.CreateUser(ctx, "bob", store.RoleViewer, "bob's long password"); err != nil {
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
	// lockOut locks the account name for a quarter of an hour, however
	// slow the machine: the address ip fails at it until the daemon
	// refuses, then ten clean addresses (net.10 to net.19) make their one
	// try each, and every try doubles the account's lockout.
	lockOut := func(ip, name string, net int) {
		t.Helper()
		for i := 0; ; i++ {
			code := login(ip, name, fmt.Sprintf("wrong guess %d", i))
			if code == http.StatusTooManyRequests {
				break
			}
			if code != http.StatusUnauthorized || i == 20 {
				t.Fatalf("guess %d from %s: %d", i, ip, code)
			}
		}
		for i := range 10 {
			if code := login(fmt.Sprintf("127.0.%d.%d", net, 10+i), name, "a clean address's one try"); code != http.StatusUnauthorized {
				t.Fatalf("a clean address's one try: %d, want 401", code)
			}
		}
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

	lockOut("127.0.0.2", "admin", 1)
	if code := login("127.0.0.2", "admin", "correct horse battery"); code != http.StatusTooManyRequests {
		t.Fatalf("the right password from a locked-out address: %d, want 429", code)
	}
	if out := console("", "unlock", "ADMIN"); !strings.Contains(out, "lifted the sign-in lockouts of admin") {
		t.Errorf("unlock said %q", out)
	}
	if code := login("127.0.0.2", "admin", "correct horse battery"); code != http.StatusOK {
		t.Fatalf("after punchbox admin unlock admin: %d, want 200", code)
	}

	lockOut("127.0.0.3", "admin", 2)
	console("a brand new password\n", "passwd", "admin")
	if code := login("127.0.0.3", "admin", "a brand new password"); code != http.StatusOK {
		t.Fatalf("after punchbox admin passwd admin: %d, want 200", code)
	}

	// An unlock of one account frees no other; an unlock of all does.
	lockOut("127.0.0.4", "bob", 3)
	console("", "unlock", "admin")
	if code := login("127.0.0.4", "bob", "bob's long password"); code != http.StatusTooManyRequests {
		t.Fatalf("an unlock of admin freed bob's account: %d, want 429", code)
	}
	console("", "unlock")
	if code := login("127.0.0.4", "bob", "bob's long password"); code != http.StatusOK {
		t.Fatalf("after punchbox admin unlock: %d, want 200", code)
	}

	adb := openData(t, cfgPath)
	entries, err := adb.AuditLog(ctx, store.AuditFilter{Action: "user.unlock"})
	if err != nil || len(entries) != 3 || entries[0].Actor != "console" {
		t.Errorf("unlocks in the audit log: %+v, %v; want three by the console", entries, err)
	}
}
