// Package storetest opens real stores for tests: SQLite in a temporary
// directory, closed when the test ends.
package storetest

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/store"
)

// Open opens a new store in tb's temporary directory.
func Open(tb testing.TB) *store.DB {
	tb.Helper()
	return OpenAt(tb, filepath.Join(tb.TempDir(), store.FileName))
}

// OpenAt opens the store at path and closes it when the test ends.
func OpenAt(tb testing.TB, path string) *store.DB {
	tb.Helper()
	db, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("close store: %v", err)
		}
	})
	return db
}

// Punch returns a valid punch: terminal gate-a (serial SN-TEST), the given
// PIN, n seconds after 2026-03-02 08:00:00 UTC, check-in.
func Punch(pin string, n int) punchbox.Punch {
	local := punchbox.LocalTimeOf(time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Second))
	return punchbox.NewPunch("gate-a", "SN-TEST", pin, local, time.UTC, punchbox.StateCheckIn, punchbox.VerifyFingerprint, "", punchbox.SourcePull, time.Now())
}

// Punches returns n distinct punches for PINs 1..pins.
func Punches(n, pins int) []punchbox.Punch {
	out := make([]punchbox.Punch, n)
	for i := range out {
		out[i] = Punch(fmt.Sprint(1+i%pins), i)
	}
	return out
}
