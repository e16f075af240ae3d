package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/punchbox/punchbox/cmd/punchbox/internal/config"
	"github.com/punchbox/punchbox/cmd/punchbox/internal/readiness"
	"github.com/punchbox/punchbox/internal/eventually"
	"github.com/punchbox/punchbox/store"
	"github.com/punchbox/punchbox/store/storetest"
)

// damagedData fills the store of the box configured in cfg with 3,000
// punches, takes a backup as the scheduler would, closes it, and damages
// it with damage.
func damagedData(t *testing.T, cfg string, damage func(t *testing.T, path string)) (dbPath, backup string) {
	t.Helper()
	ctx := context.Background()
	dataDir := filepath.Join(filepath.Dir(cfg), "data")
	dbPath = filepath.Join(dataDir, store.FileName)
	db, err := store.Open(ctx, dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Put(ctx, storetest.Punches(3000, 100)); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dataDir, "backups"), 0o700)
	backup = filepath.Join(dataDir, "backups", store.BackupName("test-site", "box-01", time.Now()))
	if _, err := db.BackupFile(ctx, backup, store.BackupMeta{Site: "test-site", Box: "box-01"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	damage(t, dbPath)
	return dbPath, backup
}

// noise overwrites n bytes at off with random ones.
func noise(t *testing.T, path string, off int64, n int) {
	t.Helper()
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(uint64(off), 9))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

var damages = []struct {
	name   string
	damage func(t *testing.T, path string)
}{
	{"64 KiB overwritten in the middle", func(t *testing.T, path string) {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		noise(t, path, fi.Size()/2&^4095, 64<<10)
	}},
	{"header overwritten", func(t *testing.T, path string) { noise(t, path, 0, 4096) }},
}

func sum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// TestServeDamagedStore starts the daemon on a damaged store, as the
// issue did. It must not log "ready" with /healthz 200, nor exit to be
// restarted every 2 s: it stays up, says once what is wrong and the
// command that restores it (with the newest backup), answers /healthz 503
// with the reason, keeps pinging the watchdog, and writes nothing into the
// file.
func TestServeDamagedStore(t *testing.T) {
	for _, tt := range damages {
		t.Run(tt.name, func(t *testing.T) {
			addr := freePort(t)
			cfg := boxConfig(t, addr, "127.0.0.1:1")
			dbPath, backup := damagedData(t, cfg, tt.damage)
			before := sum(t, dbPath)

			d := startDaemon(t, []string{"WATCHDOG_USEC=200000"}, "serve", "--config", cfg)
			ready := d.await(t, "READY=1")
			if !strings.Contains(ready, "STATUS=store damaged") {
				t.Errorf("ready datagram %q does not say the store is damaged", ready)
			}
			// Alive and watched: it pings, and has not exited.
			d.await(t, "WATCHDOG=1")
			d.await(t, "WATCHDOG=1")

			c := &http.Client{Timeout: 10 * time.Second}
			for path, want := range map[string]string{"/healthz": "unhealthy: store damaged\n", "/": "the store is damaged"} {
				resp, err := c.Get("http://" + addr + path)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 503 || !strings.Contains(string(body), want) || strings.Contains(string(body), dbPath) {
					t.Errorf("%s = %d %q, want 503 saying %q and no path", path, resp.StatusCode, body, want)
				}
			}
			if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if code := d.wait(t); code != 0 {
				t.Errorf("exit %d after SIGTERM, want 0", code)
			}
			log := d.stderr.String()
			if n := strings.Count(log, "punchbox restore "+backup); n != 1 {
				t.Errorf("the restore command with the newest backup appears %d times in the log, want once:\n%s", n, log)
			}
			if strings.Contains(log, "msg=ready") {
				t.Errorf("the log says ready:\n%s", log)
			}
			if sum(t, dbPath) != before {
				t.Error("the damaged database file was written to")
			}
		})
	}
}

// TestCheckDamagedStore: `punchbox check` says the store is damaged and
// names the restore command, whether the damage is in the header (the
// store cannot be opened at all) or in the middle (its quick check finds
// it), and reports the other checks as well.
func TestCheckDamagedStore(t *testing.T) {
	for _, tt := range damages {
		t.Run(tt.name, func(t *testing.T) {
			cfg := boxConfig(t, "127.0.0.1:1", "127.0.0.1:1")
			dbPath, backup := damagedData(t, cfg, tt.damage)
			before := sum(t, dbPath)
			code, out, errOut := runCmd(t, "check", "--config", cfg, "--json")
			var checks []readiness.Check
			if err := json.Unmarshal([]byte(out), &checks); err != nil || code != exitFailure {
				t.Fatalf("check: exit %d, %v: %s %s", code, err, out, errOut)
			}
			byName := map[string]readiness.Check{}
			for _, c := range checks {
				byName[c.Name] = c
			}
			s := byName["store"]
			if s.Status != readiness.StatusFail || !strings.Contains(s.Detail, "damaged") || !strings.Contains(s.Detail, "punchbox restore "+backup) {
				t.Errorf("store check = %+v, want a failure naming the restore of %s", s, backup)
			}
			if _, ok := byName["tls"]; !ok {
				t.Error("the other checks are missing")
			}
			if sum(t, dbPath) != before {
				t.Error("check wrote into the damaged database file")
			}
		})
	}
}

// TestRunningBoxFindsDamage damages the store under a running box, as the
// daily check would find it: /healthz turns unhealthy, the health the
// dashboard shows names the restore command with the newest backup, the
// box stays alive for the watchdog, and writes are refused.
func TestRunningBoxFindsDamage(t *testing.T) {
	ctx := context.Background()
	addr := freePort(t)
	cfgPath := boxConfig(t, addr, "127.0.0.1:1")
	dbPath, backup := damagedData(t, cfgPath, func(*testing.T, string) {})
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	apps := make(chan *app, 1)
	var wg sync.WaitGroup
	var runErr error
	wg.Go(func() {
		runErr = serveLoop(runCtx, &env{stdout: io.Discard, stderr: io.Discard, lookup: noEnv}, cfg, slog.New(slog.DiscardHandler), func(a *app) { apps <- a })
	})
	defer func() {
		cancel()
		wg.Wait()
		if runErr != nil {
			t.Errorf("serve: %v", runErr)
		}
	}()
	a := eventually.Recv(t, "the box opens", apps)
	c := &http.Client{Timeout: 10 * time.Second}
	healthz := func() (int, string) {
		t.Helper()
		var code int
		var body []byte
		eventually.OK(t, func() string {
			resp, err := c.Get("http://" + addr + "/healthz")
			if err != nil {
				return err.Error()
			}
			defer resp.Body.Close()
			code = resp.StatusCode
			body, _ = io.ReadAll(resp.Body)
			return ""
		})
		return code, string(body)
	}
	if code, body := healthz(); code != 200 {
		t.Fatalf("/healthz of a sound box = %d %q", code, body)
	}

	damages[0].damage(t, dbPath)
	if _, err := a.db.CheckIntegrity(ctx); !errors.Is(err, store.ErrDamaged) {
		t.Fatalf("integrity check = %v, want damage", err)
	}
	if code, body := healthz(); code != 503 || body != "unhealthy: store damaged\n" {
		t.Errorf("/healthz of a damaged box = %d %q", code, body)
	}
	if err := a.healthy(ctx); !errors.Is(err, store.ErrDamaged) || !strings.Contains(err.Error(), "punchbox restore "+backup) {
		t.Errorf("health = %v, want the damage and the restore of %s", err, backup)
	}
	if err := a.alive(ctx); err != nil {
		t.Errorf("alive = %v: a damaged store is no reason for the watchdog to restart the box", err)
	}
	if err := a.db.Put(ctx, storetest.Punches(1, 1)); !errors.Is(err, store.ErrDamaged) {
		t.Errorf("put = %v, want ErrDamaged", err)
	}
}
