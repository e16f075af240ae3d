package store_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/internal/eventually"
	"github.com/punchbox/punchbox/store"
	"github.com/punchbox/punchbox/store/storetest"
)

// damagedStore makes a store of real size (3,000 punches, a roster) at a
// new path and closes it.
func damagedStore(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), store.FileName)
	db, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Put(context.Background(), storetest.Punches(3000, 200)); err != nil {
		t.Fatal(err)
	}
	es := make([]punchbox.Employee, 200)
	for i := range es {
		es[i] = punchbox.Employee{PIN: fmt.Sprint(1000 + i), Name: fmt.Sprint("Employee ", i)}
	}
	if _, err := db.PutEmployees(context.Background(), es, false); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// overwrite puts n random bytes at off into the file at path, as a failing
// SD card or a stray dd would.
func overwrite(t *testing.T, path string, off int64, n int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(uint64(off), uint64(n)))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// overwriteMiddle overwrites 64 KiB in the middle of the file.
func overwriteMiddle(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() < 256<<10 {
		t.Fatalf("store of %d bytes: too small to damage in the middle", fi.Size())
	}
	overwrite(t, path, fi.Size()/2&^4095, 64<<10)
}

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// TestOpenRefusesDamagedStore damages a closed store as the issue did: a
// damaged store is refused at Open with a *Damage naming what found it,
// nothing is written into the file, and it stays refused on the next start.
func TestOpenRefusesDamagedStore(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, path string)
		by     string
		want   string // in the detail
	}{
		{"64 KiB overwritten in the middle", overwriteMiddle, store.FoundByQuick, ""},
		{"header overwritten", func(t *testing.T, path string) { overwrite(t, path, 0, 4096) }, store.FoundByHeader, "SQLite header"},
		{"page size overwritten", func(t *testing.T, path string) { overwrite(t, path, 16, 2) }, store.FoundByHeader, "page size"},
		{"truncated", func(t *testing.T, path string) { os.Truncate(path, 60) }, store.FoundByHeader, "shorter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			path := damagedStore(t)
			tt.damage(t, path)
			before := fileSum(t, path)
			for _, start := range []string{"first", "second"} {
				db, err := store.Open(ctx, path, store.Options{})
				if err == nil {
					db.Close()
					t.Fatalf("%s start: a damaged store opened", start)
				}
				var d *store.Damage
				if !errors.Is(err, store.ErrDamaged) || !errors.As(err, &d) {
					t.Fatalf("%s start: %v; want a *Damage", start, err)
				}
				if start == "first" && (d.By != tt.by || !strings.Contains(d.Detail, tt.want)) {
					t.Errorf("damage = %+v, want found by %s saying %q", d, tt.by, tt.want)
				}
				if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "damaged") {
					t.Errorf("error %q does not name the damaged store", err)
				}
			}
			if fileSum(t, path) != before {
				t.Error("the damaged database file was written to")
			}
			// Read-only, for salvage and `punchbox check`: a store with a
			// readable header opens, marked damaged.
			ro, err := store.Open(ctx, path, store.Options{ReadOnly: true})
			if tt.by == store.FoundByHeader {
				if !errors.Is(err, store.ErrDamaged) {
					t.Fatalf("read-only open of a damaged header: %v, want ErrDamaged", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("read-only open: %v", err)
			}
			defer ro.Close()
			if ro.Damage() == nil || !errors.Is(ro.Healthy(ctx), store.ErrDamaged) {
				t.Errorf("read-only store: damage %v, healthy %v; want damaged", ro.Damage(), ro.Healthy(ctx))
			}
		})
	}
}

// TestIntegrityCheckFindsDamage damages the file under a running store:
// the background check finds it, and from then on the store takes no
// writes of any kind, says it is unhealthy, takes no backup, leaves the
// file as it is, and stays refused until a backup is restored.
func TestIntegrityCheckFindsDamage(t *testing.T) {
	ctx := context.Background()
	path := damagedStore(t)
	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	good := filepath.Join(t.TempDir(), "good.tar.gz")
	if _, err := db.BackupFile(ctx, good, store.BackupMeta{Site: "s", Box: "b"}); err != nil {
		t.Fatal(err)
	}
	if res, err := db.CheckIntegrity(ctx); err != nil || !res.OK() {
		t.Fatalf("check of a sound store: %+v, %v", res, err)
	}
	if at, _, err := db.LastIntegrity(ctx); err != nil || at.IsZero() {
		t.Errorf("last integrity check = %v, %v; want when it passed", at, err)
	}

	overwriteMiddle(t, path)
	damaged := fileSum(t, path)
	res, err := db.CheckIntegrity(ctx)
	var d *store.Damage
	if !errors.As(err, &d) || d.By != store.FoundByIntegrity || len(res.Problems) == 0 {
		t.Fatalf("check of a damaged store: %+v, %v; want damage", res, err)
	}
	if db.Damage() == nil {
		t.Fatal("Damage() = nil after the check found damage")
	}
	writes := map[string]error{
		"put":      db.Put(ctx, storetest.Punches(1, 1)),
		"employee": db.PutEmployee(ctx, punchbox.Employee{PIN: "9", Name: "Nine"}),
		"setting":  db.SetSetting(ctx, "retention.days", 30),
		"session":  func() error { _, _, err := db.CreateSession(ctx, 1, time.Hour, "", ""); return err }(),
	}
	for what, err := range writes {
		if !errors.Is(err, store.ErrDamaged) {
			t.Errorf("%s on a damaged store: %v, want ErrDamaged", what, err)
		}
	}
	if err := db.Healthy(ctx); !errors.Is(err, store.ErrDamaged) {
		t.Errorf("Healthy = %v, want ErrDamaged", err)
	}
	if ws := db.LastWrite(); !errors.Is(ws.Err, store.ErrDamaged) {
		t.Errorf("write status = %+v, want the damage (central's watcher reads it)", ws)
	}
	if _, err := db.BackupFile(ctx, filepath.Join(t.TempDir(), "b.tar.gz"), store.BackupMeta{}); !errors.Is(err, store.ErrDamaged) {
		t.Errorf("backup of a damaged store: %v, want ErrDamaged", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if fileSum(t, path) != damaged {
		t.Error("the damaged database file was written to")
	}
	if _, err := store.Open(ctx, path, store.Options{QuickCheck: -1}); !errors.Is(err, store.ErrDamaged) {
		t.Fatalf("reopen without a quick check: %v; want the recorded damage", err)
	}

	// Restoring a backup clears it; the record goes with the old database.
	_, kept, err := store.Restore(ctx, good, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(kept + ".damaged"); err != nil {
		t.Errorf("the record of damage was not kept with the old database: %v", err)
	}
	db2, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatalf("open after restore: %v", err)
	}
	defer db2.Close()
	if err := db2.Put(ctx, storetest.Punches(1, 1)); err != nil {
		t.Errorf("put after restore: %v", err)
	}
}

// TestCheckerRuns runs the background check: soon after start on a sound
// store it records a pass; on a damaged one it marks the store damaged.
func TestCheckerRuns(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	path := damagedStore(t)
	db := storetest.OpenAt(t, path)
	done := make(chan error, 1)
	go func() {
		done <- (&store.Checker{DB: db, Delay: time.Millisecond, Every: time.Millisecond}).Run(ctx)
	}()
	eventually.True(t, "the check passes and is recorded", func() bool {
		at, _, err := db.LastIntegrity(ctx)
		return err == nil && !at.IsZero()
	})
	overwriteMiddle(t, path)
	eventually.True(t, "the check finds the damage", func() bool { return db.Damage() != nil })
	cancel()
	if err := eventually.Recv(t, "the checker stops", done); err != nil {
		t.Fatal(err)
	}
}
