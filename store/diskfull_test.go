package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/store"
	"github.com/punchbox/punchbox/store/storetest"
)

// smallDisk mounts a tmpfs of size bytes for the test, or skips the test
// where mounting is not permitted.
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small filesystem here (needs root or CAP_SYS_ADMIN): %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// TestDiskFull fills a small filesystem: Put fails cleanly with
// ErrDiskFull (so drivers do not acknowledge), the write status says why,
// and once space is freed the same punches go in with nothing lost.
func TestDiskFull(t *testing.T) {
	dir := smallDisk(t, "4m")
	ctx := context.Background()
	// Ballast that the test deletes to free space, as an admin would.
	ballast := filepath.Join(dir, "ballast")
	if err := os.WriteFile(ballast, make([]byte, 2<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, store.FileName)
	// A clock that moves a minute at each look, so that the health check
	// may probe whenever it is asked.
	var tick atomic.Int64
	now := func() time.Time {
		return time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC).Add(time.Duration(tick.Add(1)) * time.Minute)
	}
	db, err := store.Open(ctx, path, store.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Healthy(ctx); err != nil {
		t.Fatalf("Healthy before the disk filled: %v", err)
	}

	stored := map[string]bool{}
	var failed []punchbox.Punch
	for i := 0; i < 10000 && failed == nil; i++ {
		batch := make([]punchbox.Punch, 50)
		for j := range batch {
			batch[j] = storetest.Punch(fmt.Sprint(1+j%30), i*50+j)
		}
		err := db.Put(ctx, batch)
		switch {
		case err == nil:
			for _, p := range batch {
				stored[p.ID] = true
			}
		case errors.Is(err, store.ErrDiskFull):
			failed = batch
		default:
			t.Fatalf("batch %d: %v, want ErrDiskFull", i, err)
		}
	}
	if failed == nil {
		t.Fatal("the filesystem never filled up")
	}
	if ws := db.LastWrite(); !errors.Is(ws.Err, store.ErrDiskFull) || ws.At.IsZero() {
		t.Fatalf("last write = %+v, want disk full", ws)
	}
	// The store cannot write, and its health says so (reads still work).
	if err := db.Healthy(ctx); !errors.Is(err, store.ErrDiskFull) {
		t.Errorf("Healthy on a full disk = %v, want ErrDiskFull", err)
	}
	if _, err := db.Backlog(ctx); err != nil {
		t.Errorf("reads fail on a full disk: %v", err)
	}
	// Everything acknowledged is there; nothing of the failed batch is.
	for _, p := range failed {
		if stored[p.ID] {
			t.Fatal("a failed batch overlaps a stored one")
		}
	}
	checkStored(t, db, stored, failed, false)

	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	// Healthy again as soon as the store can write, before any punch.
	if err := db.Healthy(ctx); err != nil {
		t.Errorf("Healthy after space was freed = %v, want nil", err)
	}
	if err := db.Put(ctx, failed); err != nil {
		t.Fatalf("Put after space was freed: %v", err)
	}
	if ws := db.LastWrite(); ws.Err != nil {
		t.Errorf("last write after recovery = %v", ws.Err)
	}
	checkStored(t, db, stored, failed, true)
	var ok string
	raw, _ := sql.Open("sqlite", path+"?_query_only=1")
	defer raw.Close()
	if err := raw.QueryRow("PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check = %q, %v", ok, err)
	}
}

func checkStored(t *testing.T, db *store.DB, stored map[string]bool, failed []punchbox.Punch, failedIn bool) {
	t.Helper()
	present := map[string]bool{}
	err := db.Each(context.Background(), store.Filter{}, func(p store.StoredPunch) error {
		present[p.ID] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for id := range stored {
		if !present[id] {
			t.Fatalf("acknowledged punch %s lost", id)
		}
	}
	for _, p := range failed {
		if present[p.ID] != failedIn {
			t.Fatalf("punch of the failed batch present=%v, want %v", present[p.ID], failedIn)
		}
	}
	want := len(stored)
	if failedIn {
		want += len(failed)
	}
	if len(present) != want {
		t.Fatalf("%d punches stored, want %d", len(present), want)
	}
}
