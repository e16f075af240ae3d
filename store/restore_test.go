package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/store"
	"github.com/punchbox/punchbox/store/storetest"
)

// bkCurrent makes a closed store of n punches in a data directory of its
// own and returns its path.
func bkCurrent(t *testing.T, pin string, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), store.FileName)
	db, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ps := make([]punchbox.Punch, n)
	for i := range ps {
		ps[i] = storetest.Punch(pin, i)
	}
	if err := db.Put(context.Background(), ps); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// bkDirState is what a refused restore must leave as it was: the names in
// the database's directory and the database's bytes.
type bkDirState struct {
	names []string
	db    []byte
}

func bkState(t *testing.T, dbPath string) bkDirState {
	t.Helper()
	entries, err := os.ReadDir(filepath.Dir(dbPath))
	if err != nil {
		t.Fatal(err)
	}
	var s bkDirState
	for _, e := range entries {
		s.names = append(s.names, e.Name())
	}
	if s.db, err = os.ReadFile(dbPath); err != nil {
		t.Fatal(err)
	}
	return s
}

func bkSHA(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func bkFlip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0xff
	return c
}

// bkWithVersion returns the database with its schema version set to v.
func bkWithVersion(t *testing.T, db []byte, v int) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "db")
	if err := os.WriteFile(path, db, 0o600); err != nil {
		t.Fatal(err)
	}
	conn, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec("PRAGMA user_version = " + strconv.Itoa(v)); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRestoreRefusesBadBackups(t *testing.T) {
	src := storetest.Open(t)
	bkFill(t, src, 30)
	good, m := bkBackup(t, src)
	_, db := bkExtract(t, good)
	manifest := func(edit func(*store.Manifest)) bkEntry {
		mm := m
		if edit != nil {
			edit(&mm)
		}
		return bkEntry{name: "manifest.json", body: bkManifest(t, mm)}
	}
	dbEntry := func(b []byte) bkEntry { return bkEntry{name: store.FileName, body: b} }
	agreeing := func(b []byte) []byte { // an archive whose manifest matches b
		return bkArchive(t, manifest(func(mm *store.Manifest) { mm.Size, mm.SHA256 = int64(len(b)), bkSHA(b) }), dbEntry(b))
	}
	// A database damaged inside, with a manifest that agrees: page 2's
	// header overwritten.
	damaged := bytes.Clone(db)
	copy(damaged[4096:4108], bytes.Repeat([]byte{0xff}, 12))
	newer := store.SchemaVersion() + 1
	newerDB := bkWithVersion(t, db, newer)
	otherSHA := strings.Repeat("ab", 32)

	tests := []struct {
		name   string
		backup []byte
		want   error
		msg    string // in the error
	}{
		{"empty file", nil, store.ErrBadBackup, "empty"},
		{"text", []byte("punchbox backup, honest"), store.ErrBadBackup, "not gzip-compressed"},
		{"the bare database", db, store.ErrBadBackup, "not gzip-compressed"},
		{"gzip stream byte flipped", bkFlip(good, len(good)/2), store.ErrBadBackup, ""},
		{"gzip checksum flipped", bkFlip(good, len(good)-6), store.ErrBadBackup, "checksum"},
		{"truncated in half", good[:len(good)/2], store.ErrBadBackup, "truncated"},
		{"truncated by one byte", good[:len(good)-1], store.ErrBadBackup, "truncated"},
		{"garbage after the gzip stream", append(bytes.Clone(good), "#!/bin/sh\nrm -rf /\n"...), store.ErrBadBackup, "data after the end"},
		{"another tar.gz", bkArchive(t, bkEntry{name: "etc/passwd", body: []byte("root:x:0:0")}), store.ErrBadBackup, `first entry is "etc/passwd"`},
		{"manifest second", bkArchive(t, dbEntry(db), manifest(nil)), store.ErrBadBackup, "first entry is"},
		{"manifest missing its database", bkArchive(t, manifest(nil)), store.ErrBadBackup, "no punchbox.db"},
		{"manifest byte flipped", bkArchive(t, bkEntry{name: "manifest.json", body: bkFlip(bkManifest(t, m), 0)}, dbEntry(db)), store.ErrBadBackup, "manifest.json"},
		{"manifest too large", bkArchive(t, bkEntry{name: "manifest.json", body: make([]byte, 100<<10)}, dbEntry(db)), store.ErrBadBackup, "more than"},
		{"unknown format", bkArchive(t, manifest(func(mm *store.Manifest) { mm.Format = 2 }), dbEntry(db)), store.ErrBadBackup, "unknown format 2"},
		{"manifest lies about the sha256", bkArchive(t, manifest(func(mm *store.Manifest) { mm.SHA256 = otherSHA }), dbEntry(db)), store.ErrBadBackup, "sha256"},
		{"manifest sha256 malformed", bkArchive(t, manifest(func(mm *store.Manifest) { mm.SHA256 = "abc" }), dbEntry(db)), store.ErrBadBackup, "sha256"},
		{"manifest lies about the count", bkArchive(t, manifest(func(mm *store.Manifest) { mm.Punches++ }), dbEntry(db)), store.ErrBadBackup, "holds 30 punches, the manifest says 31"},
		{"manifest lies about the size", bkArchive(t, manifest(func(mm *store.Manifest) { mm.Size++ }), dbEntry(db)), store.ErrBadBackup, "the manifest says"},
		{"manifest lies about the schema", agreeing(bkWithVersion(t, db, 0)), store.ErrBadBackup, "schema version 0"},
		{"database byte flipped", bkArchive(t, manifest(nil), dbEntry(bkFlip(db, len(db)/2))), store.ErrBadBackup, "sha256"},
		{"database damaged, manifest agrees", agreeing(damaged), store.ErrBadBackup, ""},
		{"not SQLite, manifest agrees", agreeing(bytes.Repeat([]byte("punch"), 1000)), store.ErrBadBackup, "SQLite"},
		{"database as a symlink", bkArchive(t, manifest(nil), bkEntry{name: store.FileName, typ: '2'}), store.ErrBadBackup, "second entry"},
		{"extra entry", bkArchive(t, manifest(nil), dbEntry(db), bkEntry{name: "run.sh", body: []byte("#!/bin/sh")}), store.ErrBadBackup, `unexpected entry "run.sh"`},
		{"oversized database", bkArchive(t, manifest(func(mm *store.Manifest) { mm.Size = 9 << 30 }), bkEntry{name: store.FileName, body: db[:512], size: 9 << 30}), store.ErrBadBackup, "more than"},
		{"newer schema", agreeing(newerDB), store.ErrNewerSchema, "newer punchbox"},
		{"newer schema, in the manifest too", bkArchive(t, manifest(func(mm *store.Manifest) {
			mm.SchemaVersion, mm.Size, mm.SHA256 = newer, int64(len(newerDB)), bkSHA(newerDB)
		}), dbEntry(newerDB)), store.ErrNewerSchema, "install a newer punchbox"},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dbPath := bkCurrent(t, "keep", 7)
			before := bkState(t, dbPath)
			file := filepath.Join(t.TempDir(), "backup.tar.gz")
			if err := os.WriteFile(file, tt.backup, 0o600); err != nil {
				t.Fatal(err)
			}
			_, kept, err := store.Restore(ctx, file, dbPath, nil)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) || kept != "" {
				t.Fatalf("Restore = %v, kept %q; want %v containing %q", err, kept, tt.want, tt.msg)
			}
			if tt.want == store.ErrNewerSchema && errors.Is(err, store.ErrBadBackup) {
				t.Errorf("a newer schema is reported as a bad backup: %v", err)
			}
			t.Log(err)
			if after := bkState(t, dbPath); !slices.Equal(after.names, before.names) || !bytes.Equal(after.db, before.db) {
				t.Fatalf("the refused restore changed the data directory: %v, now %v (database equal: %v)",
					before.names, after.names, bytes.Equal(after.db, before.db))
			}
			cur := storetest.OpenAt(t, dbPath)
			if n, err := cur.CountPunches(ctx); err != nil || n != 7 {
				t.Errorf("current store counts %d, %v; want 7", n, err)
			}
		})
	}
}

func TestRestoreSwap(t *testing.T) {
	ctx := context.Background()
	src := storetest.Open(t)
	bkFill(t, src, 30)
	file := filepath.Join(t.TempDir(), "backup.tar.gz")
	m, err := src.BackupFile(ctx, file, bkMeta)
	if err != nil {
		t.Fatal(err)
	}
	want := bkIDs(t, src.Path())

	// The current database as a power cut leaves it: its last punches only
	// in the WAL.
	live := storetest.Open(t)
	curPunches := []punchbox.Punch{storetest.Punch("cur", 1), storetest.Punch("cur", 2), storetest.Punch("cur", 3)}
	if err := live.Put(ctx, curPunches); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(t.TempDir(), store.FileName)
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(live.Path() + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if suffix == "-wal" && len(b) == 0 {
			t.Fatal("the live store's WAL is empty; the test needs punches in it")
		}
		if err := os.WriteFile(dbPath+suffix, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	oldFile, err := os.Stat(dbPath)
	if err != nil {
		t.Fatal(err)
	}

	got, kept, err := store.Restore(ctx, file, dbPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got != m {
		t.Errorf("manifest %+v, want %+v", got, m)
	}
	if dir, name := filepath.Split(kept); dir != filepath.Dir(dbPath)+"/" || !strings.HasPrefix(name, store.FileName+".pre-restore-") || len(name) != len(store.FileName+".pre-restore-20060102T150405Z") {
		t.Errorf("kept as %q", kept)
	}
	// The old file itself is kept, by a hard link, and holds every punch
	// that was in its WAL.
	if fi, err := os.Stat(kept); err != nil || !os.SameFile(fi, oldFile) {
		t.Errorf("kept %s is not the old database file: %v", kept, err)
	}
	for _, name := range []string{store.FileName + "-wal", store.FileName + "-shm", store.FileName + "-journal"} {
		if _, err := os.Stat(filepath.Join(filepath.Dir(dbPath), name)); err == nil {
			t.Errorf("%s is left next to the restored database", name)
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(dbPath))
	if len(entries) != 3 {
		t.Errorf("the data directory holds %v, want the database, the kept one and the numbers file", entries)
	}
	keptIDs := bkIDs(t, kept)
	if len(keptIDs) != len(curPunches) {
		t.Errorf("the kept database holds %d punches, want %d", len(keptIDs), len(curPunches))
	}
	if ids := bkIDs(t, dbPath); !maps.Equal(ids, want) {
		t.Errorf("the restored database holds %d punches, want the backup's %d", len(ids), len(want))
	}
	if fi, err := os.Stat(dbPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("restored database: %v, mode %v", err, fi.Mode())
	}

	// Restoring again within the same second keeps both old databases.
	_, kept2, err := store.Restore(ctx, file, dbPath, nil)
	if err != nil || kept2 == kept || kept2 == "" {
		t.Fatalf("second restore: %v, kept %q (first %q)", err, kept2, kept)
	}

	// The restored store opens and holds the backup's punches.
	db := storetest.OpenAt(t, dbPath)
	if n, err := db.CountPunches(ctx); err != nil || n != m.Punches {
		t.Errorf("restored store counts %d, %v; want %d", n, err, m.Punches)
	}
}

func TestRestoreOverDamagedDatabase(t *testing.T) {
	ctx := context.Background()
	src := storetest.Open(t)
	bkFill(t, src, 5)
	file := filepath.Join(t.TempDir(), "backup.tar.gz")
	if _, err := src.BackupFile(ctx, file, bkMeta); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(t.TempDir(), store.FileName)
	garbage := bytes.Repeat([]byte("not a database "), 1000)
	if err := os.WriteFile(dbPath, garbage, 0o600); err != nil {
		t.Fatal(err)
	}
	_, kept, err := store.Restore(ctx, file, dbPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(kept); err != nil || !bytes.Equal(b, garbage) {
		t.Errorf("the damaged database was not kept as it was: %v", err)
	}
	if n := len(bkIDs(t, dbPath)); n != 5 {
		t.Errorf("restored %d punches, want 5", n)
	}
}

// FuzzVerifyBackup feeds VerifyBackup arbitrary bytes: it must not panic,
// must leave nothing behind when it refuses, and can accept nothing but the
// real backup it was seeded with.
func FuzzVerifyBackup(f *testing.F) {
	// The same backup, byte for byte, in every fuzzing process: a fixed
	// clock and fixed punches.
	fixed := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	db, err := store.Open(context.Background(), filepath.Join(f.TempDir(), store.FileName), store.Options{Now: func() time.Time { return fixed }})
	if err != nil {
		f.Fatal(err)
	}
	defer db.Close()
	ps := storetest.Punches(3, 2)
	for i := range ps {
		ps[i].Received = fixed
	}
	if err := db.Put(context.Background(), ps); err != nil {
		f.Fatal(err)
	}
	good, m := bkBackup(f, db)
	f.Add(good)
	for _, n := range []int{0, 1, 10, 100, 512, 1024, len(good) / 2, len(good) - 8, len(good) - 1} {
		f.Add(good[:n])
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		got, path, err := store.VerifyBackup(ctx, bytes.NewReader(data), dir)
		if err != nil {
			if !errors.Is(err, store.ErrBadBackup) && !errors.Is(err, store.ErrNewerSchema) {
				t.Fatalf("error %v is neither ErrBadBackup nor ErrNewerSchema", err)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Fatalf("refused, but left %v", entries)
			}
			return
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if got.SHA256 != m.SHA256 || got.Punches != m.Punches || bkSHA(b) != m.SHA256 {
			t.Fatalf("accepted a backup that is not the seed's: %+v", got)
		}
	})
}
