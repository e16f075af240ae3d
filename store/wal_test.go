package store_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/internal/eventually"
	"github.com/punchbox/punchbox/store"
	"github.com/punchbox/punchbox/store/storetest"
)

func walSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path + "-wal")
	if errors.Is(err, fs.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestWALShrinksAfterLongReader holds a read transaction open, as a stalled
// CSV export does, while punches stream in: the reader keeps every frame
// since it began in the WAL, which grows well past the limit. Once the
// reader is gone the WAL must shrink back, even with no write after it.
func TestWALShrinksAfterLongReader(t *testing.T) {
	const limit = 1 << 20
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), store.FileName)
	db, err := store.Open(ctx, path, store.Options{WALLimit: limit, WALCheck: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Put(ctx, storetest.Punches(100, 10)); err != nil {
		t.Fatal(err)
	}

	// The long reader: Each holds its snapshot while fn waits.
	started, release := make(chan struct{}, 1), make(chan struct{})
	var wg sync.WaitGroup
	var once sync.Once
	wg.Go(func() {
		err := db.Each(ctx, store.Filter{}, func(store.StoredPunch) error {
			once.Do(func() { started <- struct{}{} })
			<-release
			return nil
		})
		if err != nil {
			t.Error(err)
		}
	})
	eventually.Recv(t, "the reader starts", started)

	n := 100
	for walSize(t, path) < 4*limit {
		batch := make([]punchbox.Punch, 0, 500)
		for range 500 {
			batch = append(batch, storetest.Punch("7", n))
			n++
		}
		if err := db.Put(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	grown := walSize(t, path)
	close(release)
	wg.Wait()

	// Writers go on, in parallel, while the keeper checkpoints: none of
	// them waits on it or fails.
	var writers sync.WaitGroup
	for w := range 4 {
		writers.Go(func() {
			for b := range 20 {
				batch := make([]punchbox.Punch, 50)
				for j := range batch {
					batch[j] = storetest.Punch(fmt.Sprint("w", w), b*50+j)
				}
				if err := db.Put(ctx, batch); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	writers.Wait()
	n += 4 * 20 * 50

	eventually.True(t, "the WAL shrinks back under its limit once the reader is gone", func() bool {
		return walSize(t, path) <= limit
	})
	t.Logf("WAL grew to %d bytes behind the reader, shrank to %d", grown, walSize(t, path))
	if got, err := db.CountPunches(ctx); err != nil || got != int64(n) {
		t.Fatalf("%d punches (%v), want %d", got, err, n)
	}
	if res, err := db.CheckIntegrity(ctx); err != nil || !res.OK() {
		t.Fatalf("integrity after the checkpoints: %+v, %v", res, err)
	}
}
