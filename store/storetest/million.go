package storetest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/store"
)

// Million returns the path of a store holding 1,000,000 punches, for
// benchmarks: 50 terminals, 500 employees, a year of working days ending
// 2026-11-27, nothing delivered. It is built once (about a minute) and kept
// in the temporary directory, rebuilt when the schema changes. Treat it as
// read-only: copy it (CopyMillion) to change it.
func Million(tb testing.TB) string {
	tb.Helper()
	path := filepath.Join(os.TempDir(), "punchbox-bench", fmt.Sprintf("million-%s.db", schemaHash()))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	tb.Logf("building %s (once)", path)
	os.MkdirAll(filepath.Dir(path), 0o700)
	tmp := path + ".building"
	os.Remove(tmp)
	db, err := store.Open(context.Background(), tmp, store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	end := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	recv := end.AddDate(-1, 0, 0)
	const total, perDay = 1_000_000, 2740
	batch := make([]punchbox.Punch, 0, 10000)
	for i := 0; i < total; i++ {
		day := end.AddDate(0, 0, -365+i/perDay)
		at := day.Add(6*time.Hour + time.Duration(r.IntN(14*3600))*time.Second)
		term := fmt.Sprintf("term-%02d", r.IntN(50))
		p := punchbox.NewPunch(term, "SN-"+term, strconv.Itoa(1000+r.IntN(500)), punchbox.LocalTimeOf(at), time.UTC,
			punchbox.PunchState(r.IntN(2)), punchbox.VerifyFingerprint, "", punchbox.SourcePull, recv.Add(time.Duration(i)*30*time.Second))
		batch = append(batch, p)
		if len(batch) == cap(batch) || i == total-1 {
			if err := db.Put(context.Background(), batch); err != nil {
				tb.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := db.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		tb.Fatal(err)
	}
	return path
}

// CopyMillion copies the million-punch store to path.
func CopyMillion(tb testing.TB, path string) {
	tb.Helper()
	b, err := os.ReadFile(Million(tb))
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		tb.Fatal(err)
	}
}

// schemaHash identifies the schema: the store's migrations as embedded in
// this build.
func schemaHash() string {
	h := sha256.New()
	fs.WalkDir(store.Migrations(), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := fs.ReadFile(store.Migrations(), p)
			h.Write(b)
		}
		return nil
	})
	return fmt.Sprintf("%x", h.Sum(nil)[:6])
}
