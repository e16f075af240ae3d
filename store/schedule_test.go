package store_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/punchbox/punchbox/store"
)

// bkClock is a fake clock: each reading is step after the one before.
type bkClock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func (c *bkClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.t
	c.t = c.t.Add(c.step)
	return t
}

func (c *bkClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// bkRecord is one log record: level, message and the attributes the tests
// look at.
type bkRecord struct {
	level      slog.Level
	msg, file  string
	next, errs string
}

// bkLog is a slog handler that hands every record to the test.
type bkLog struct{ records chan bkRecord }

func newBKLog() *bkLog { return &bkLog{records: make(chan bkRecord, 10000)} }

func (h *bkLog) Enabled(context.Context, slog.Level) bool { return true }
func (h *bkLog) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *bkLog) WithGroup(string) slog.Handler            { return h }
func (h *bkLog) Handle(_ context.Context, r slog.Record) error {
	rec := bkRecord{level: r.Level, msg: r.Message}
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "file":
			rec.file = a.Value.String()
		case "next":
			rec.next = a.Value.String()
		case "err":
			rec.errs = a.Value.String()
		}
		return true
	})
	select {
	case h.records <- rec:
	default: // the test has what it waited for
	}
	return nil
}

// await returns the next record with msg, and the records before it.
func (h *bkLog) await(t *testing.T, msg string) (bkRecord, []bkRecord) {
	t.Helper()
	var before []bkRecord
	deadline := time.After(time.Minute) // only ends a hung test
	for {
		select {
		case r := <-h.records:
			if r.msg == msg {
				return r, before
			}
			before = append(before, r)
		case <-deadline:
			t.Fatalf("no %q logged; saw %+v", msg, before)
		}
	}
}

// drain returns the records logged and not yet read.
func (h *bkLog) drain() []bkRecord {
	var out []bkRecord
	for {
		select {
		case r := <-h.records:
			out = append(out, r)
		default:
			return out
		}
	}
}

// bkRun runs s until the returned stop is called (or the test ends) and
// checks that Run returns nil on cancel.
func bkRun(t *testing.T, s *store.Scheduler) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run returned %v on cancel, want nil", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// bkStore opens a store of 10 punches on clock.
func bkStore(t *testing.T, clock *bkClock) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), store.FileName), store.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	bkFill(t, db, 10)
	return db
}

func TestBackupScheduleRotation(t *testing.T) {
	clock := &bkClock{t: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), step: time.Minute}
	db := bkStore(t, clock)
	dir := filepath.Join(t.TempDir(), "backups")
	h := newBKLog()
	s := &store.Scheduler{DB: db, Dir: dir, Every: time.Millisecond, Keep: 3, Meta: bkMeta, Logger: slog.New(h), Now: clock.Now}
	stop := bkRun(t, s)
	var taken []string
	for range 5 {
		r, _ := h.await(t, "backup taken")
		taken = append(taken, r.file)
	}
	stop()
	for _, r := range h.drain() {
		if r.msg == "backup taken" {
			taken = append(taken, r.file)
		}
		if r.level >= slog.LevelWarn {
			t.Errorf("logged %+v", r)
		}
	}

	list, err := store.ListBackups(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 {
		t.Fatalf("%d backups kept, want 3", len(list))
	}
	for i, b := range list {
		if want := taken[len(taken)-1-i]; b.Path != want {
			t.Errorf("backup %d is %s, want %s (the newest first)", i, b.Path, want)
		}
		if b.Err != nil || b.Manifest.Punches != 10 || b.Manifest.Site != "acme" {
			t.Errorf("backup %d: %+v", i, b)
		}
		if i > 0 && !list[i-1].Manifest.Created.After(b.Manifest.Created) {
			t.Errorf("backup %d is not older than backup %d", i, i-1)
		}
		if fi, err := os.Stat(b.Path); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v", b.Path, err, fi.Mode())
		}
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("backup dir: %v, mode %v", err, fi.Mode())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 3 {
		t.Errorf("backup dir holds %d files, want 3", len(entries))
	}
	if name := filepath.Base(list[0].Path); len(name) != len("punchbox-acme-box-01-20060102T150405Z.tar.gz") || name[:21] != "punchbox-acme-box-01-" {
		t.Errorf("backup named %s", name)
	}
}

func TestBackupScheduleStart(t *testing.T) {
	t0 := time.Now().UTC().Truncate(time.Second)
	tests := []struct {
		name     string
		newest   time.Duration // age of the newest backup; 0: none
		wantNow  bool          // a backup at start
		wantNext time.Time
	}{
		{"no backup yet", 0, true, t0},
		{"newest is stale", 25 * time.Hour, true, t0},
		{"newest is fresh", time.Hour, false, t0.Add(23 * time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &bkClock{t: t0}
			db := bkStore(t, clock)
			dir := t.TempDir()
			var before int
			if tt.newest != 0 {
				clock.Set(t0.Add(-tt.newest))
				if _, err := db.BackupFile(context.Background(), filepath.Join(dir, "punchbox-acme-box-01-old.tar.gz"), bkMeta); err != nil {
					t.Fatal(err)
				}
				clock.Set(t0)
				before = 1
			}
			// What a crash left: an old temporary file goes, a recent one
			// (perhaps being written) stays.
			stale, recent := filepath.Join(dir, ".punchbox-snapshot-1.db"), filepath.Join(dir, ".punchbox-snapshot-2.db")
			for _, f := range []string{stale, recent} {
				if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Chtimes(stale, t0.Add(-2*time.Hour), t0.Add(-2*time.Hour)); err != nil {
				t.Fatal(err)
			}

			h := newBKLog()
			stop := bkRun(t, &store.Scheduler{DB: db, Dir: dir, Meta: bkMeta, Logger: slog.New(h), Now: clock.Now})
			started, _ := h.await(t, "scheduled backups")
			if started.next != tt.wantNext.Format(time.RFC3339) {
				t.Errorf("next backup at %s, want %s", started.next, tt.wantNext.Format(time.RFC3339))
			}
			if tt.wantNow {
				h.await(t, "backup taken")
			}
			stop()
			list, err := store.ListBackups(dir)
			if want := before + map[bool]int{true: 1}[tt.wantNow]; err != nil || len(list) != want {
				t.Errorf("%d backups, %v; want %d", len(list), err, want)
			}
			if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the stale temporary file is still there: %v", err)
			}
			if _, err := os.Stat(recent); err != nil {
				t.Errorf("the recent temporary file was removed: %v", err)
			}
		})
	}
}

func TestBackupScheduleFailure(t *testing.T) {
	clock := &bkClock{t: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), step: time.Second}
	db := bkStore(t, clock)
	parent := filepath.Join(t.TempDir(), "mnt")
	if err := os.WriteFile(parent, nil, 0o600); err != nil { // a file where the directory should be
		t.Fatal(err)
	}
	h := newBKLog()
	stop := bkRun(t, &store.Scheduler{DB: db, Dir: filepath.Join(parent, "backups"), Every: time.Millisecond, Meta: bkMeta, Logger: slog.New(h), Now: clock.Now})

	first, _ := h.await(t, "scheduled backup failed; retrying at the next turn")
	if first.level != slog.LevelWarn || first.errs == "" {
		t.Errorf("first failure logged as %+v", first)
	}
	for range 3 {
		r, _ := h.await(t, "scheduled backup still fails")
		if r.level != slog.LevelDebug {
			t.Errorf("repeated failure logged at %v", r.level)
		}
	}
	if err := os.Remove(parent); err != nil { // the disk is back
		t.Fatal(err)
	}
	_, between := h.await(t, "scheduled backups succeed again")
	for _, r := range between {
		if r.level >= slog.LevelWarn {
			t.Errorf("failure logged at %v again: %+v", r.level, r)
		}
	}
	stop()
	if list, err := store.ListBackups(filepath.Join(parent, "backups")); err != nil || len(list) == 0 {
		t.Errorf("no backup after recovery: %v", err)
	}
}

func TestBackupScheduleInvalid(t *testing.T) {
	err := (&store.Scheduler{Dir: t.TempDir()}).Run(context.Background())
	if !errors.Is(err, store.ErrInvalid) {
		t.Errorf("Run without a DB = %v, want ErrInvalid", err)
	}
}

func TestBackupList(t *testing.T) {
	clock := &bkClock{t: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	db := bkStore(t, clock)
	dir := t.TempDir()
	ctx := context.Background()
	// Named against their age, so that only the manifests give the order.
	for i, name := range []string{"punchbox-a-3.tar.gz", "punchbox-a-1.tar.gz", "punchbox-a-2.tar.gz"} {
		clock.Set(time.Date(2026, 3, 1+i, 0, 0, 0, 0, time.UTC))
		if _, err := db.BackupFile(ctx, filepath.Join(dir, name), bkMeta); err != nil {
			t.Fatal(err)
		}
	}
	corrupt := filepath.Join(dir, "punchbox-a-0.tar.gz")
	if err := os.WriteFile(corrupt, []byte("not a backup"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(corrupt, old, old); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"notes.txt", ".punchbox-a-9.tar.gz.tmp-1", "other.tar.gz"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "punchbox-dir.tar.gz"), 0o700); err != nil {
		t.Fatal(err)
	}

	list, err := store.ListBackups(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range list {
		names = append(names, filepath.Base(b.Path))
	}
	want := []string{"punchbox-a-2.tar.gz", "punchbox-a-1.tar.gz", "punchbox-a-3.tar.gz", "punchbox-a-0.tar.gz"}
	if len(names) != len(want) {
		t.Fatalf("listed %v, want %v", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("listed %v, want %v", names, want)
		}
	}
	if c := list[3]; !errors.Is(c.Err, store.ErrBadBackup) || c.Manifest != (store.Manifest{}) || c.Size != 12 {
		t.Errorf("corrupt backup listed as %+v", c)
	}
	if b := list[0]; b.Err != nil || b.Manifest.Punches != 10 || b.Size == 0 || b.ModTime.IsZero() {
		t.Errorf("newest listed as %+v", b)
	}

	if list, err := store.ListBackups(filepath.Join(dir, "missing")); err != nil || len(list) != 0 {
		t.Errorf("missing dir: %v, %v", list, err)
	}
}

// TestBackupScheduleSettings reads the interval and the count kept from
// the store's settings each round.
func TestBackupScheduleSettings(t *testing.T) {
	clock := &bkClock{t: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), step: time.Minute}
	db := bkStore(t, clock)
	if err := db.SetSetting(context.Background(), "backup.keep", 2); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "backups")
	h := newBKLog()
	s := &store.Scheduler{DB: db, Dir: dir, Every: time.Hour, Keep: 5, Meta: bkMeta, Logger: slog.New(h), Now: clock.Now,
		EveryOf: func(context.Context) time.Duration { return time.Millisecond },
		KeepOf:  func(ctx context.Context) int { return db.IntSetting(ctx, "backup.keep") }}
	stop := bkRun(t, s)
	for range 4 { // Every alone would wait an hour for the second
		h.await(t, "backup taken")
	}
	stop()
	list, err := store.ListBackups(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Fatalf("%d backups kept, want backup.keep's 2", len(list))
	}
}
