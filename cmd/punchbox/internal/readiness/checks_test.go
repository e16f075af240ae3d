package readiness

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/cmd/punchbox/internal/config"
	"github.com/punchbox/punchbox/drivers"
	"github.com/punchbox/punchbox/store"
	"github.com/punchbox/punchbox/store/storetest"
)

// good returns an input that passes every check, with its data directory
// and configuration file in the test's space.
func good(t *testing.T) Input {
	t.Helper()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(filepath.Join(data, "backups"), 0o700); err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(dir, "punchbox.yaml")
	os.WriteFile(cfgFile, []byte("site: s\nbox: b\ndata_dir: "+data+"\nmqtt:\n  url: tls://broker:8883\n  username: box\n"), 0o600)
	cfg, err := config.Load(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	db := storetest.OpenAt(t, filepath.Join(data, store.FileName))
	ctx := context.Background()
	if _, err := db.CreateUser(ctx, "admin", store.RoleAdmin, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateTerminal(ctx, punchbox.Terminal{ID: "gate-a", Kind: "zk", Address: "10.0.0.9", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.BackupFile(ctx, filepath.Join(data, "backups", store.BackupName("s", "b", time.Now())), store.BackupMeta{Site: "s", Box: "b"}); err != nil {
		t.Fatal(err)
	}
	// The box runs as an ordinary user who owns the data directory, also
	// when the tests run as root.
	uid := os.Getuid()
	if uid == 0 {
		uid = 4242
		if err := os.Chown(data, uid, uid); err != nil {
			t.Fatal(err)
		}
	}
	return Input{Config: cfg, Store: db, Version: "1.2.0", Supervised: true, Generated: false,
		Runner:  Runner{Known: true, UID: uid, How: "the test"},
		Healths: []drivers.Health{{ID: "gate-a", State: drivers.StateOnline, Info: drivers.Info{ClockRead: time.Now(), ClockOffset: 2 * time.Second}}},
		Link:    &Link{Connected: true, Since: time.Now()}, Clock: Clock{Known: true, Synced: true}}
}

func TestChecks(t *testing.T) {
	tests := []struct {
		check string
		spoil func(t *testing.T, in *Input)
		want  string // in the detail when not OK
	}{
		{"tls", func(t *testing.T, in *Input) { in.Config.Web.InsecureHTTP = true }, "insecure_http"},
		{"tls", func(t *testing.T, in *Input) { in.CertFile = "/nonexistent/cert.pem" }, "web.cert_file"},
		{"admin", func(t *testing.T, in *Input) { in.Store = storetest.Open(t) }, "no admin"},
		{"log-level", func(t *testing.T, in *Input) { in.Config.Log.Level = "debug" }, "set info"},
		{"version", func(t *testing.T, in *Input) { in.Version = "dev" }, "release"},
		{"systemd", func(t *testing.T, in *Input) { in.Supervised = false }, "WATCHDOG_USEC"},
		{"central", func(t *testing.T, in *Input) { in.Config.MQTT.URL = "" }, "mqtt.url"},
		{"central-tls", func(t *testing.T, in *Input) { in.Config.MQTT.URL = "tcp://broker:1883" }, "tls://"},
		{"central-link", func(t *testing.T, in *Input) { in.Link = &Link{LastError: "not authorized"} }, "not authorized"},
		{"config-secrets", func(t *testing.T, in *Input) {
			f, _ := os.OpenFile(in.Config.File(), os.O_APPEND|os.O_WRONLY, 0)
			f.WriteString("  password: hunter2\n")
			f.Close()
		}, "PUNCHBOX_MQTT_PASSWORD"},
		{"clock", func(t *testing.T, in *Input) { in.Clock.Synced = false }, "NTP"},
		{"clock", func(t *testing.T, in *Input) { in.Clock.Known = false }, "NTP"},
		{"terminals", func(t *testing.T, in *Input) { in.Healths[0].State = drivers.StateOffline }, "gate-a"},
		{"terminals", func(t *testing.T, in *Input) { in.Store.DeleteTerminal(context.Background(), "gate-a") }, "no enabled terminal"},
		{"terminal-clocks", func(t *testing.T, in *Input) { in.Healths[0].Info.ClockOffset = -90 * time.Second }, "gate-a"},
		{"backups", func(t *testing.T, in *Input) { in.Now = time.Now().Add(72 * time.Hour) }, "old"},
		{"backups", func(t *testing.T, in *Input) { os.RemoveAll(filepath.Join(in.Config.DataDir, "backups")) }, "no backup"},
		{"data-dir", func(t *testing.T, in *Input) { os.Chmod(in.Config.DataDir, 0o755) }, "chmod 700"},
		{"user", func(t *testing.T, in *Input) { in.Runner = Runner{Known: true, UID: 0, How: "the running box"} }, "runs as root"},
		{"store", func(t *testing.T, in *Input) { damageStore(t, in) }, "punchbox restore"},
		{"store", func(t *testing.T, in *Input) { damageStore(t, in) }, "is damaged"},
		{"store", func(t *testing.T, in *Input) {
			in.Store, in.StoreErr = nil, &store.Damage{Path: "/x/punchbox.db", By: store.FoundByHeader, Detail: "not SQLite"}
		}, "punchbox restore"},
	}
	// Unspoiled, every check passes (the disk check depends on the
	// machine, so it is left to its own test).
	for _, c := range Run(context.Background(), good(t)) {
		if !c.OK && c.Name != "disk" {
			t.Errorf("%s not OK on a good box: %s", c.Name, c.Detail)
		}
		if c.OK != (c.Status == StatusOK) {
			t.Errorf("%s: ok %v, status %q", c.Name, c.OK, c.Status)
		}
		if c.Title == "" || c.Detail == "" {
			t.Errorf("%s: want a title and a detail: %+v", c.Name, c)
		}
	}
	for _, tt := range tests {
		t.Run(tt.check+" "+tt.want, func(t *testing.T) {
			in := good(t)
			tt.spoil(t, &in)
			for _, c := range Run(context.Background(), in) {
				if c.Name != tt.check {
					continue
				}
				if c.OK || c.Status != StatusFail || !strings.Contains(c.Detail, tt.want) {
					t.Errorf("%s = %s %q, want a failure saying %q", c.Name, c.Status, c.Detail, tt.want)
				}
				return
			}
			t.Fatalf("no check %s", tt.check)
		})
	}
}

func TestCheckDisk(t *testing.T) {
	in := good(t)
	c := checkDisk(context.Background(), in)
	if !strings.Contains(c.Detail, "used") {
		t.Errorf("disk = %+v, want the share used", c)
	}
	in.Config.DataDir = filepath.Join(t.TempDir(), "missing")
	if c := checkDisk(context.Background(), in); c.OK {
		t.Errorf("disk of a missing directory = %+v, want not OK", c)
	}
}

// TestChecksNotRunning: the checks that need the running box are "not
// checked" on a stopped one, never passes; the others still run, and the
// store gets its quick check.
func TestChecksNotRunning(t *testing.T) {
	in := good(t)
	in.Healths, in.Link = nil, nil
	cs := Run(context.Background(), in)
	for _, c := range cs {
		switch c.Name {
		case "central-link", "terminal-clocks", "terminals":
			if c.OK || c.Status != StatusNotChecked || !strings.HasPrefix(c.Detail, "not checked: ") || !strings.Contains(c.Detail, "not running") {
				t.Errorf("%s on a stopped box = %+v, want not checked, saying why", c.Name, c)
			}
		case "store":
			if !c.OK || !strings.Contains(c.Detail, "quick check passed") {
				t.Errorf("store on a stopped box = %+v, want the quick check", c)
			}
		}
	}
	passed, failed, notChecked := Count(cs)
	if notChecked != 3 || passed+failed+notChecked != len(cs) {
		t.Errorf("count = %d passed, %d failed, %d not checked of %d; want 3 not checked", passed, failed, notChecked, len(cs))
	}
	in.Runner = Runner{}
	for _, c := range Run(context.Background(), in) {
		if c.Name == "user" && c.Status != StatusNotChecked {
			t.Errorf("user of an unknown runner = %+v, want not checked", c)
		}
	}
}

// damageStore overwrites the middle of in's store and lets the integrity
// check find it, as the running box would.
func damageStore(t *testing.T, in *Input) {
	t.Helper()
	ctx := context.Background()
	if err := in.Store.Put(ctx, storetest.Punches(3000, 50)); err != nil {
		t.Fatal(err)
	}
	path := in.Store.Path()
	if err := in.Store.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt(bytes.Repeat([]byte{0x5a}, 64<<10), fi.Size()/2&^4095)
	f.Close()
	if _, err := db.CheckIntegrity(ctx); !errors.Is(err, store.ErrDamaged) {
		t.Fatalf("integrity check of the damaged store: %v", err)
	}
	in.Store = db
}
