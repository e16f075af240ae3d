package datadir

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestOpenCreatesPrivateDir(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b")
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("mode = %v, %v; want 0700", fi.Mode().Perm(), err)
	}
	if d.Join("store.db") != filepath.Join(path, "store.db") {
		t.Errorf("Join = %s", d.Join("store.db"))
	}
}

func TestOpenTightensExistingDir(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o755); err != nil { // umask-proof
		t.Fatal(err)
	}
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o700 || !d.Tightened {
		t.Fatalf("mode = %v tightened=%v; want 0700, true", fi.Mode().Perm(), d.Tightened)
	}
}

func TestLock(t *testing.T) {
	path := t.TempDir()
	if err := Check(path); err != nil {
		t.Fatalf("Check before anyone holds it = %v", err)
	}
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	pid := strconv.Itoa(os.Getpid())
	// flock locks belong to the open file description, so a second Open in
	// the same process conflicts just as another process would.
	_, err = Open(path)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "process "+pid) {
		t.Fatalf("second Open = %v, want ErrLocked naming pid %s", err, pid)
	}
	if err := Check(path); !errors.Is(err, ErrLocked) {
		t.Fatalf("Check while held = %v, want ErrLocked", err)
	}
	if err := d.Healthy(context.Background()); err != nil {
		t.Fatalf("Healthy = %v", err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := Check(path); err != nil {
		t.Fatalf("Check after Close = %v", err)
	}
	d2, err := Open(path)
	if err != nil {
		t.Fatalf("Open after Close = %v", err)
	}
	d2.Close()
}

func TestOpenNotADir(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o600)
	if _, err := Open(f); err == nil {
		t.Fatal("Open of a file succeeded")
	}
}
