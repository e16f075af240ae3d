package store_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/store"
	"github.com/punchbox/punchbox/store/storetest"
)

// numbering is what a store says about its numbers.
type numbering struct {
	epoch          string
	lastBatch, seq int64
	session        int64
	pending        int
}

func numbersOf(t *testing.T, db *store.DB) numbering {
	t.Helper()
	ctx := context.Background()
	u, err := db.Uplink(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := db.Backlog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := db.PendingBatches(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return numbering{epoch: u.Epoch, lastBatch: u.LastBatch, seq: b.LastSeq, session: u.Session, pending: len(pb)}
}

// publishAll records the store's punches after seq `after` as batches of
// size n, as the uplink does before publishing, and returns the last seq.
func publishAll(t *testing.T, db *store.DB, after int64, n int) int64 {
	t.Helper()
	ctx := context.Background()
	for {
		ps, err := db.Outbox(ctx, after, n)
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) == 0 {
			return after
		}
		u, _ := db.Uplink(ctx)
		r := store.Range{From: ps[0].Seq, To: ps[len(ps)-1].Seq}
		if err := db.RecordBatch(ctx, store.SentBatch{Batch: u.LastBatch + 1, Ranges: []store.Range{r}}); err != nil {
			t.Fatal(err)
		}
		after = r.To
	}
}

func reopen(t *testing.T, path string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func put(t *testing.T, db *store.DB, pin string, n int) {
	t.Helper()
	ps := make([]punchbox.Punch, n)
	for i := range ps {
		ps[i] = storetest.Punch(pin, i)
	}
	if err := db.Put(context.Background(), ps); err != nil {
		t.Fatal(err)
	}
}

// Restoring an older backup takes the store's counters back; the numbers
// file beside it does not go back, so numbering resumes above everything
// published, in a new epoch, and the batches in flight are forgotten.
func TestRestoreNeverReusesNumbers(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, store.FileName)
	db := reopen(t, path)
	put(t, db, "1", 100)
	publishAll(t, db, 0, 10)
	db.NextSession(ctx)
	backup := filepath.Join(t.TempDir(), "old.tar.gz")
	if _, err := db.BackupFile(ctx, backup, store.BackupMeta{}); err != nil {
		t.Fatal(err)
	}
	old := numbersOf(t, db)
	put(t, db, "2", 170)
	publishAll(t, db, old.seq, 10)
	for range 3 {
		db.NextSession(ctx)
	}
	seen := numbersOf(t, db)
	db.Close()

	if _, _, err := store.Restore(ctx, backup, path, nil); err != nil {
		t.Fatal(err)
	}
	db = reopen(t, path)
	got := numbersOf(t, db)
	if got.epoch == seen.epoch || got.epoch == old.epoch || len(got.epoch) != 16 {
		t.Errorf("epoch %q after the restore; before %q, in the backup %q", got.epoch, seen.epoch, old.epoch)
	}
	if got.lastBatch < seen.lastBatch || got.seq < seen.seq || got.session < seen.session {
		t.Errorf("after the restore: batch %d, seq %d, session %d; central saw up to %d, %d, %d",
			got.lastBatch, got.seq, got.session, seen.lastBatch, seen.seq, seen.session)
	}
	if got.pending != 0 {
		t.Errorf("%d batches of the old numbering would be sent again", got.pending)
	}
	put(t, db, "3", 1)
	if b, _ := db.Backlog(ctx); b.LastSeq <= seen.seq {
		t.Errorf("a new punch got seq %d, already published up to %d", b.LastSeq, seen.seq)
	}
	if n, _ := db.NextSession(ctx); n <= seen.session {
		t.Errorf("session %d, already used up to %d", n, seen.session)
	}
	// Reopening changes nothing more: one jump.
	again := numbersOf(t, db)
	db.Close()
	db = reopen(t, path)
	if now := numbersOf(t, db); now != again {
		t.Errorf("reopened: %+v, was %+v", now, again)
	}
}

// Restored onto a new card (no numbers file, no store), the numbers are
// the backup's, but in a new epoch that central can tell apart.
func TestRestoreOntoFreshCardNewEpoch(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	put(t, db, "1", 50)
	publishAll(t, db, 0, 10)
	backup := filepath.Join(t.TempDir(), "b.tar.gz")
	if _, err := db.BackupFile(ctx, backup, store.BackupMeta{}); err != nil {
		t.Fatal(err)
	}
	before := numbersOf(t, db)
	path := filepath.Join(t.TempDir(), store.FileName)
	if _, _, err := store.Restore(ctx, backup, path, nil); err != nil {
		t.Fatal(err)
	}
	got := numbersOf(t, reopen(t, path))
	if got.epoch == before.epoch || got.lastBatch != before.lastBatch || got.seq != before.seq {
		t.Errorf("restored on a fresh card: %+v; the source %+v", got, before)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(path), store.NumbersFile)); err != nil {
		t.Errorf("no numbers file written: %v", err)
	}
}

// A store file copied in by hand, older than the numbers published, is
// caught at open as a restore is.
func TestOlderStoreCopiedInIsRenumbered(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, store.FileName)
	db := reopen(t, path)
	put(t, db, "1", 20)
	publishAll(t, db, 0, 10)
	db.Close()
	copyFile(t, path, path+".old")
	db = reopen(t, path)
	put(t, db, "2", 20)
	u, _ := db.Uplink(ctx)
	// Far enough on that the file's mark moves.
	if err := db.RecordBatch(ctx, store.SentBatch{Batch: u.LastBatch + 1500, Ranges: []store.Range{{From: 21, To: 40}}}); err != nil {
		t.Fatal(err)
	}
	seen := numbersOf(t, db)
	db.Close()
	os.Rename(path+".old", path)
	got := numbersOf(t, reopen(t, path))
	if got.epoch == seen.epoch || got.lastBatch < seen.lastBatch || got.seq < seen.seq {
		t.Errorf("older store copied in: %+v; published %+v", got, seen)
	}
}

// The store's marks are committed before the file is written: a stop in
// between leaves the file behind, and the next open raises it without
// taking the store for an older one.
func TestNumbersFileBehindIsRaised(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, store.FileName)
	db := reopen(t, path)
	put(t, db, "1", 20)
	publishAll(t, db, 0, 10)
	before := numbersOf(t, db)
	db.Close()
	file := filepath.Join(dir, store.NumbersFile)
	var m map[string]any
	b, _ := os.ReadFile(file)
	json.Unmarshal(b, &m)
	m["batch"], m["seq"] = 0, 0 // as if the last write never happened
	b, _ = json.Marshal(m)
	os.WriteFile(file, b, 0o600)
	got := numbersOf(t, reopen(t, path))
	if got != before {
		t.Errorf("after a lost write of the file: %+v, want %+v unchanged", got, before)
	}
	b, _ = os.ReadFile(file)
	json.Unmarshal(b, &m)
	if m["batch"].(float64) < float64(before.lastBatch) {
		t.Errorf("the file was not raised: %s", b)
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 {
		t.Errorf("numbers file mode %v", fi.Mode().Perm())
	}
	_ = ctx
}

// A numbers file that is not the box's says nothing sure: a new epoch.
func TestNumbersFileGarbage(t *testing.T) {
	for _, body := range []string{"not json", `{"epoch":"","seq":1}`, `{"epoch":"ab","seq":-5}`, string(make([]byte, 10<<10))} {
		dir := t.TempDir()
		path := filepath.Join(dir, store.FileName)
		db := reopen(t, path)
		put(t, db, "1", 5)
		publishAll(t, db, 0, 5)
		before := numbersOf(t, db)
		db.Close()
		os.WriteFile(filepath.Join(dir, store.NumbersFile), []byte(body), 0o600)
		got := numbersOf(t, reopen(t, path))
		if got.epoch == before.epoch || got.lastBatch < before.lastBatch || got.seq < before.seq {
			t.Errorf("file %.20q: %+v, before %+v", body, got, before)
		}
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// Restored over a store the new punchbox never opened (from before
// numbering epochs, so with no numbers file yet), the numbers still
// resume above that store's.
func TestRestoreOverStoreFromBeforeEpochs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, store.FileName)
	db := reopen(t, path)
	put(t, db, "1", 30)
	backup := filepath.Join(t.TempDir(), "b.tar.gz")
	if _, err := db.BackupFile(ctx, backup, store.BackupMeta{}); err != nil {
		t.Fatal(err)
	}
	put(t, db, "2", 70)
	db.Close()
	// Make it a store of schema 3: no epoch, no marks, no numbers file.
	conn, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"UPDATE outbox SET batch_seq = 40, session = 9", "DROP TABLE batches",
		"ALTER TABLE outbox DROP COLUMN epoch", "ALTER TABLE outbox DROP COLUMN last_batch", "ALTER TABLE outbox DROP COLUMN mark_seq",
		"ALTER TABLE outbox DROP COLUMN mark_batch", "ALTER TABLE outbox DROP COLUMN mark_session", "PRAGMA user_version = 3"} {
		if _, err := conn.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	conn.Close()
	os.Remove(filepath.Join(dir, store.NumbersFile))
	if _, _, err := store.Restore(ctx, backup, path, nil); err != nil {
		t.Fatal(err)
	}
	got := numbersOf(t, reopen(t, path))
	if got.seq < 100 || got.lastBatch < 40 || got.session < 9 {
		t.Errorf("after restoring over a store at seq 100, batch 40, session 9: %+v", got)
	}
}

// BenchmarkRecordBatch is what recording a batch before it is published
// costs the uplink: one committed transaction per batch of 500.
func BenchmarkRecordBatch(b *testing.B) {
	db := storetest.Open(b)
	ctx := context.Background()
	var batch int64
	for b.Loop() {
		batch++
		r := store.Range{From: (batch-1)*500 + 1, To: batch * 500}
		if err := db.RecordBatch(ctx, store.SentBatch{Batch: batch, Historical: true, Ranges: []store.Range{r}}); err != nil {
			b.Fatal(err)
		}
	}
}
