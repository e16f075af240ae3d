package store

import (
	"errors"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Sentinel errors.
var (
	ErrNotFound     = errors.New("not found")
	ErrNewerSchema  = errors.New("database is from a newer punchbox")
	ErrClosed       = errors.New("store is closed")
	ErrInvalid      = errors.New("invalid input")
	ErrConflict     = errors.New("already exists")
	ErrReadOnly     = errors.New("store is open read-only")
	ErrBadBackup    = errors.New("not a usable punchbox backup")
	ErrAppendOnly   = errors.New("the audit log is append-only")
	ErrDiskFull     = errors.New("disk full")
	ErrDatabaseBusy = errors.New("database busy")
	ErrDamaged      = errors.New("store is damaged")
	ErrCannotWrite  = errors.New("store cannot write")

	ErrBadCredentials = errors.New("unknown user or wrong password")
	ErrLastAdmin      = errors.New("the last admin cannot be removed or demoted")
	ErrWeakPassword   = errors.New("weak password")
)

// classify maps SQLite result codes that callers act on to sentinels, keeping
// the original error in the chain.
func classify(err error) error {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	switch se.Code() & 0xFF {
	case sqlite3.SQLITE_FULL:
		return errors.Join(ErrDiskFull, err)
	case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
		return errors.Join(ErrDamaged, err)
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return errors.Join(ErrDatabaseBusy, err)
	case sqlite3.SQLITE_CONSTRAINT:
		if se.Code() == sqlite3.SQLITE_CONSTRAINT_TRIGGER {
			return errors.Join(ErrAppendOnly, err) // only the audit triggers raise
		}
		return errors.Join(ErrConflict, err)
	}
	return err
}

// sqliteCode returns the primary SQLite result code in err's chain, or 0.
func sqliteCode(err error) int {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return 0
	}
	return se.Code() & 0xFF
}
