package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/punchbox/punchbox/internal/sysinfo"
)

// lowSpace is the free space below which an I/O error at open is taken for
// a full disk: SQLite reports failing to grow the -shm file (32 KiB) as a
// bare "disk I/O error (4874)".
const lowSpace = 1 << 20

// explainFull returns err, saying so when the disk holding the store is
// full: ErrDiskFull, with the directory, its free space and what to do.
func explainFull(path string, err error) error {
	full := errors.Is(classify(err), ErrDiskFull) || errors.Is(err, syscall.ENOSPC)
	if !full && sqliteCode(err) != sqlite3.SQLITE_IOERR {
		return err
	}
	dir := filepath.Dir(path)
	d := sysinfo.ReadDisk(dir)
	var msg string
	switch {
	case d.Known && (full || d.Free < lowSpace):
		msg = fmt.Sprintf("disk full: the disk holding %s has %s free; free space there and start again", dir, byteSize(d.Free))
	case full:
		msg = fmt.Sprintf("disk full: the disk holding %s is full; free space there and start again", dir)
	default:
		return err
	}
	return &fullError{msg: msg + " (" + strings.ReplaceAll(err.Error(), "\n", ": ") + ")", err: err}
}

// fullError is ErrDiskFull with the message explainFull made.
type fullError struct {
	msg string
	err error
}

func (e *fullError) Error() string   { return e.msg }
func (e *fullError) Unwrap() []error { return []error{ErrDiskFull, e.err} }

// byteSize formats n bytes for people: 0 B, 12 KiB, 3.4 MiB.
func byteSize(n uint64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%d KiB", n>>10)
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
}
