package web

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/store"
	"github.com/punchbox/punchbox/store/storetest"
)

// TestHealthzDamagedStore damages the store under a running panel: once the
// integrity check finds it, /healthz is unhealthy and says why in fixed
// words, and the dashboard and the system status say so in full.
func TestHealthzDamagedStore(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), store.FileName)
	// Filled and closed, so that the punches are in the file itself.
	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Put(ctx, storetest.Punches(3000, 100)); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = storetest.OpenAt(t, path)
	h := newHarness(t, func(d *Deps) { d.Store, d.Healthy = db, db.Healthy })
	h.db = db
	a := h.admin() // signed in before the damage: a session is a write
	if r := h.anon().do("GET", "/healthz", nil); r.code != 200 || string(r.body) != "ok\n" {
		t.Fatalf("/healthz of a sound store = %d %q", r.code, r.body)
	}

	// 64 KiB of noise in the middle of the file, found by the check.
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	noise := make([]byte, 64<<10)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range noise {
		noise[i] = byte(r.Uint32())
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt(noise, fi.Size()/2&^4095)
	f.Close()
	if _, err := db.CheckIntegrity(ctx); !errors.Is(err, store.ErrDamaged) {
		t.Fatalf("integrity check = %v, want damage", err)
	}

	if r := h.anon().do("GET", "/healthz", nil); r.code != 503 || string(r.body) != "unhealthy: store damaged\n" {
		t.Errorf("/healthz of a damaged store = %d %q", r.code, r.body)
	}
	var d Dashboard
	a.do("GET", "/api/v1/dashboard", nil).want(t, 200).decode(t, &d)
	if d.Healthy || !strings.Contains(d.HealthError, "damaged") {
		t.Errorf("dashboard healthy %v %q, want the damage", d.Healthy, d.HealthError)
	}
	for _, page := range []string{"/", "/system"} {
		if r := a.do("GET", page, nil).want(t, 200); !strings.Contains(string(r.body), "damaged") {
			t.Errorf("page %s does not say the store is damaged", page)
		}
	}
	var s SystemStatus
	a.do("GET", "/api/v1/system", nil).want(t, 200).decode(t, &s)
	if s.Healthy || !strings.Contains(s.Problem, "damaged") {
		t.Errorf("system healthy %v %q, want the damage", s.Healthy, s.Problem)
	}
	// A change refused because the store takes no writes says so, not
	// "internal error".
	e := a.do("POST", "/api/v1/employees", map[string]any{"pin": "42", "name": "Ann"}).want(t, 503).apiErr(t)
	if e.Code != "store_damaged" || !strings.Contains(e.Message, "damaged") {
		t.Errorf("a write to a damaged store answered %+v", e)
	}
}

// TestHealthzFullDisk fills the store's disk: /healthz says the store
// cannot write, as docs/panel.md promises.
func TestHealthzFullDisk(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small filesystem here (needs root or CAP_SYS_ADMIN): %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	ctx := context.Background()
	db := storetest.OpenAt(t, filepath.Join(dir, store.FileName))
	h := newHarness(t, func(d *Deps) { d.Store, d.Healthy = db, db.Healthy })
	if r := h.anon().do("GET", "/healthz", nil); r.code != 200 {
		t.Fatalf("/healthz before the disk filled = %d %q", r.code, r.body)
	}
	for i := 0; ; i++ {
		ps := make([]punchbox.Punch, 50)
		for j := range ps {
			ps[j] = storetest.Punch(fmt.Sprint(j), i*50+j)
		}
		if err := db.Put(ctx, ps); errors.Is(err, store.ErrDiskFull) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if i > 10000 {
			t.Fatal("the disk never filled")
		}
	}
	if r := h.anon().do("GET", "/healthz", nil); r.code != 503 || string(r.body) != "unhealthy: store cannot write: disk full\n" {
		t.Errorf("/healthz on a full disk = %d %q", r.code, r.body)
	}
}
