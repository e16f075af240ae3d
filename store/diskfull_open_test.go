package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/punchbox/punchbox/store"
)

// fill writes ballast into dir until its filesystem is full.
func fill(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "ballast"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			return
		}
	}
}

// TestOpenOnFullDisk starts a store on a full filesystem, new and existing:
// the error says the disk is full, with the free space and the path, and is
// ErrDiskFull, rather than SQLite's bare "disk I/O error (4874)".
func TestOpenOnFullDisk(t *testing.T) {
	for _, existing := range []bool{false, true} {
		name := map[bool]string{false: "new store", true: "existing store"}[existing]
		t.Run(name, func(t *testing.T) {
			dir := smallDisk(t, "1m")
			path := filepath.Join(dir, store.FileName)
			if existing {
				db, err := store.Open(context.Background(), path, store.Options{})
				if err != nil {
					t.Fatal(err)
				}
				if err := db.Close(); err != nil {
					t.Fatal(err)
				}
				os.Remove(path + "-shm")
			}
			fill(t, dir)
			db, err := store.Open(context.Background(), path, store.Options{})
			if err == nil {
				db.Close()
				t.Skip("the store opened on a full disk")
			}
			msg := err.Error()
			t.Log(msg)
			if !errors.Is(err, store.ErrDiskFull) || !strings.Contains(msg, "disk full") || !strings.Contains(msg, dir) || !strings.Contains(msg, "free") {
				t.Fatalf("Open on a full disk: %v; want ErrDiskFull naming %s and its free space", err, dir)
			}
		})
	}
}
