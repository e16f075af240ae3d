package store_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/store"
	"github.com/punchbox/punchbox/store/storetest"
)

var bkMeta = store.BackupMeta{Version: "test", Site: "acme", Box: "box-01"}

// bkFill stores n punches in batches.
func bkFill(tb testing.TB, db *store.DB, n int) []punchbox.Punch {
	tb.Helper()
	ps := storetest.Punches(n, 50)
	for i := 0; i < n; i += 1000 {
		if err := db.Put(context.Background(), ps[i:min(i+1000, n)]); err != nil {
			tb.Fatal(err)
		}
	}
	return ps
}

// bkBackup returns a backup of db.
func bkBackup(tb testing.TB, db *store.DB) ([]byte, store.Manifest) {
	tb.Helper()
	var buf bytes.Buffer
	m, err := db.Backup(context.Background(), &buf, bkMeta)
	if err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes(), m
}

// bkEntry is a tar entry for hand-made archives.
type bkEntry struct {
	name string
	body []byte
	typ  byte  // tar.TypeReg unless set
	size int64 // the header's size, when it is to lie about the body
}

// bkArchive builds a gzip-compressed tar of entries.
func bkArchive(tb testing.TB, entries ...bkEntry) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	complete := true
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Size: int64(len(e.body)), Mode: 0o600}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag != tar.TypeReg {
			h.Size, h.Linkname = 0, "/etc/passwd"
		}
		if e.size != 0 {
			h.Size, complete = e.size, false
		}
		if err := tw.WriteHeader(h); err != nil {
			tb.Fatal(err)
		}
		if _, err := tw.Write(e.body); err != nil {
			tb.Fatal(err)
		}
	}
	if complete {
		if err := tw.Close(); err != nil {
			tb.Fatal(err)
		}
	} else {
		tw.Flush() // the entry stays short: only the header matters
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// bkManifest encodes m.
func bkManifest(tb testing.TB, m store.Manifest) []byte {
	tb.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// bkExtract verifies a backup and returns its manifest and database bytes.
func bkExtract(tb testing.TB, backup []byte) (store.Manifest, []byte) {
	tb.Helper()
	m, path, err := store.VerifyBackup(context.Background(), bytes.NewReader(backup), tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return m, b
}

// bkIDs returns the ids of the punches in the store at path, checking on
// the way that the database passes integrity_check.
func bkIDs(tb testing.TB, path string) map[string]bool {
	tb.Helper()
	conn, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	var check string
	if err := conn.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		tb.Fatalf("integrity_check of %s: %q, %v", path, check, err)
	}
	rows, err := conn.Query("SELECT id FROM punches")
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	ids := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			tb.Fatal(err)
		}
		ids[id] = true
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return ids
}

func TestBackupDuringWrites(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	bkFill(t, db, 5000) // enough that the snapshot takes a while

	var mu sync.Mutex
	committed := map[string]bool{}
	stop := make(chan struct{})
	errc := make(chan error, 4)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				batch := make([]punchbox.Punch, 10)
				for j := range batch {
					batch[j] = storetest.Punch(fmt.Sprintf("w%d", w), 100000+10*i+j)
				}
				if err := db.Put(ctx, batch); err != nil {
					errc <- err
					return
				}
				mu.Lock()
				for _, p := range batch {
					committed[p.ID] = true
				}
				mu.Unlock()
			}
		}()
	}
	// Let the writers commit a few batches first.
	for {
		changed := db.Changed()
		mu.Lock()
		n := len(committed)
		mu.Unlock()
		if n >= 100 {
			break
		}
		select {
		case <-changed:
		case err := <-errc:
			t.Fatal(err)
		}
	}

	mu.Lock()
	before := maps.Clone(committed)
	mu.Unlock()
	path := filepath.Join(t.TempDir(), "backup.tar.gz")
	m, err := db.BackupFile(ctx, path, bkMeta)
	mu.Lock()
	during := len(committed) - len(before)
	mu.Unlock()
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		t.Fatal(err)
	default:
	}
	t.Logf("%d punches committed while the backup ran; the backup holds %d", during, m.Punches)

	restored := filepath.Join(t.TempDir(), store.FileName)
	rm, kept, err := store.Restore(ctx, path, restored, nil)
	if err != nil || kept != "" || rm != m {
		t.Fatalf("restore: %v, kept %q, manifest %+v, want %+v", err, kept, rm, m)
	}
	ids := bkIDs(t, restored)
	if int64(len(ids)) != m.Punches {
		t.Errorf("the restored store holds %d punches, its manifest says %d", len(ids), m.Punches)
	}
	var missing int
	for id := range before {
		if !ids[id] {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of the %d punches committed before the backup began are missing", missing, len(before))
	}
	if m.Punches < 5000+int64(len(before)) {
		t.Errorf("backup holds %d punches, fewer than the %d committed before it", m.Punches, 5000+len(before))
	}
	// The restored store opens and counts the same.
	rdb := storetest.OpenAt(t, restored)
	if n, err := rdb.CountPunches(ctx); err != nil || n != m.Punches {
		t.Errorf("restored store counts %d, %v; want %d", n, err, m.Punches)
	}
}

func TestBackupManifest(t *testing.T) {
	ctx := context.Background()
	created := time.Date(2026, 3, 2, 17, 4, 5, 0, time.UTC)
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), store.FileName), store.Options{Now: func() time.Time { return created }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	bkFill(t, db, 123)
	backup, m := bkBackup(t, db)
	want := store.Manifest{Format: 1, Punchbox: "test", Created: created, Site: "acme", Box: "box-01",
		SchemaVersion: store.SchemaVersion(), Punches: 123, Size: m.Size, SHA256: m.SHA256}
	if m != want || m.Size == 0 || len(m.SHA256) != 64 {
		t.Fatalf("manifest %+v, want %+v", m, want)
	}

	// The archive: manifest.json, then punchbox.db, both 0600, nothing else.
	zr, err := gzip.NewReader(bytes.NewReader(backup))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Mode != 0o600 || h.Typeflag != tar.TypeReg {
			t.Errorf("%s: mode %o, type %c", h.Name, h.Mode, h.Typeflag)
		}
		names = append(names, h.Name)
		if h.Name == "manifest.json" {
			var got store.Manifest
			if err := json.NewDecoder(tr).Decode(&got); err != nil || got != m {
				t.Errorf("manifest.json = %+v, %v", got, err)
			}
		}
	}
	if fmt.Sprint(names) != "[manifest.json punchbox.db]" {
		t.Errorf("entries %v", names)
	}
	vm, dbBytes := bkExtract(t, backup)
	if vm != m || int64(len(dbBytes)) != m.Size {
		t.Errorf("verified manifest %+v, database %d bytes", vm, len(dbBytes))
	}

	// The snapshot was made next to the database and is gone.
	entries, _ := os.ReadDir(filepath.Dir(db.Path()))
	for _, e := range entries {
		if e.Name() != store.FileName && e.Name() != store.FileName+"-wal" && e.Name() != store.FileName+"-shm" && e.Name() != store.NumbersFile {
			t.Errorf("left in the data directory: %s", e.Name())
		}
	}
}

func TestBackupFile(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	bkFill(t, db, 10)
	dir := t.TempDir()
	path := filepath.Join(dir, "out.tar.gz")
	if err := os.WriteFile(path, []byte("an older file"), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := db.BackupFile(ctx, path, bkMeta)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v, mode %v", err, fi.Mode())
	}
	if rm, err := store.ReadManifest(path); err != nil || rm != m {
		t.Errorf("ReadManifest = %+v, %v", rm, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d files, want the backup alone", len(entries))
	}

	// A backup that cannot be written leaves nothing behind.
	if _, err := db.BackupFile(ctx, filepath.Join(dir, "missing", "out.tar.gz"), bkMeta); err == nil {
		t.Error("backup into a missing directory succeeded")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := db.BackupFile(cctx, filepath.Join(dir, "cancelled.tar.gz"), bkMeta); err == nil {
		t.Error("backup with a cancelled context succeeded")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("failed backups left files: %v", entries)
	}
}

func TestBackupReadOnly(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), store.FileName)
	db := storetest.OpenAt(t, path) // the daemon's handle, writing
	bkFill(t, db, 50)

	ro, err := store.Open(ctx, path, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if err := db.Put(ctx, []punchbox.Punch{storetest.Punch("late", 1)}); err != nil {
		t.Fatal(err)
	}
	backup, m := bkBackup(t, ro)
	if m.Punches != 51 {
		t.Errorf("read-only backup holds %d punches, want 51", m.Punches)
	}
	bkExtract(t, backup)

	if err := ro.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := ro.Backup(ctx, io.Discard, bkMeta); err == nil {
		t.Error("backup of a closed store succeeded")
	}
}

// BenchmarkBackup backs up a store of 100,000 punches.
func BenchmarkBackup(b *testing.B) {
	db := storetest.Open(b)
	bkFill(b, db, 100000)
	ctx := context.Background()
	var m store.Manifest
	var out int64
	start := time.Now()
	for b.Loop() {
		var cw bkCountingWriter
		var err error
		if m, err = db.Backup(ctx, &cw, bkMeta); err != nil {
			b.Fatal(err)
		}
		out = int64(cw)
	}
	b.SetBytes(m.Size)
	b.ReportMetric(time.Since(start).Seconds()/float64(b.N), "s/backup")
	b.ReportMetric(float64(m.Size)/(1<<20), "db-MiB")
	b.ReportMetric(float64(out)/(1<<20), "backup-MiB")
}

type bkCountingWriter int64

func (c *bkCountingWriter) Write(p []byte) (int, error) {
	*c += bkCountingWriter(len(p))
	return len(p), nil
}
