package datadir

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// LockFile is the name of the lock file inside the data directory.
const LockFile = "punchbox.lock"

// ErrLocked is returned when another process holds the data directory.
var ErrLocked = errors.New("data directory is in use")

// Dir is an open, locked data directory.
type Dir struct {
	path string
	lock *os.File
	// Tightened is true when Open removed group or other access.
	Tightened bool
}

// Open creates the directory if needed (0700), removes group and other access
// from an existing one, and takes the exclusive lock. It fails with an error
// wrapping ErrLocked, naming the holder's pid, when another process has it.
func Open(path string) (*Dir, error) {
	if err := os.MkdirAll(path, 0o700); err != nil {
		return nil, fmt.Errorf("data dir %s: %w", path, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("data dir %s: %w", path, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("data dir %s: not a directory", path)
	}
	d := &Dir{path: path}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(path, fi.Mode().Perm()&0o700); err != nil {
			return nil, fmt.Errorf("data dir %s: make private: %w", path, err)
		}
		d.Tightened = true
	}
	f, err := os.OpenFile(filepath.Join(path, LockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("data dir %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, lockedError(path)
		}
		return nil, fmt.Errorf("data dir %s: lock: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	d.lock = f
	return d, nil
}

// Check reports whether another process holds the lock on the data
// directory at path, without taking it. It returns an error wrapping
// ErrLocked when one does and nil when none does or the directory does not
// exist yet.
func Check(path string) error {
	f, err := os.OpenFile(filepath.Join(path, LockFile), os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("data dir %s: %w", path, err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return lockedError(path)
		}
		return fmt.Errorf("data dir %s: lock: %w", path, err)
	}
	return syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
}

func lockedError(path string) error {
	holder := "another process"
	if b, err := os.ReadFile(filepath.Join(path, LockFile)); err == nil {
		if pid := strings.TrimSpace(string(b)); pid != "" {
			holder = "process " + pid
		}
	}
	return fmt.Errorf("data dir %s: %w by %s (is punchbox already running?)", path, ErrLocked, holder)
}

// Path returns the directory's path.
func (d *Dir) Path() string { return d.path }

// Join returns a path inside the directory.
func (d *Dir) Join(elem ...string) string {
	return filepath.Join(append([]string{d.path}, elem...)...)
}

// Healthy reports whether the directory is still there and still ours.
func (d *Dir) Healthy(context.Context) error {
	if _, err := os.Stat(filepath.Join(d.path, LockFile)); err != nil {
		return fmt.Errorf("data dir %s: %w", d.path, err)
	}
	return nil
}

// Close releases the lock. The lock file stays; its lock is what counts.
func (d *Dir) Close() error {
	if d.lock == nil {
		return nil
	}
	err := d.lock.Close()
	d.lock = nil
	return err
}
