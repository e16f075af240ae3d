package store_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/punchbox/punchbox/store"
	"github.com/punchbox/punchbox/store/storetest"
)

// TestFileModes checks that the database and the files SQLite makes beside
// it (-wal, -shm) are private, under a umask that would make them readable by
// everyone, for a new store and for one whose side files were left 0644.
func TestFileModes(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), store.FileName)
	check := func(when string) {
		t.Helper()
		for _, f := range []string{path, path + "-wal", path + "-shm"} {
			fi, err := os.Stat(f)
			if err != nil {
				t.Fatalf("%s: %v", when, err)
			}
			if perm := fi.Mode().Perm(); perm != 0o600 {
				t.Errorf("%s: %s has mode %#o, want 0600", when, filepath.Base(f), perm)
			}
		}
	}
	db := storetest.OpenAt(t, path)
	if err := db.Put(ctx, storetest.Punches(3, 2)); err != nil {
		t.Fatal(err)
	}
	check("new store")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// A store left by an older punchbox: the side files are 0644.
	for _, f := range []string{path + "-wal", path + "-shm"} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chmod(f, 0o644)
	}
	db = storetest.OpenAt(t, path)
	if err := db.Put(ctx, storetest.Punches(5, 2)); err != nil {
		t.Fatal(err)
	}
	check("reopened store")
}
