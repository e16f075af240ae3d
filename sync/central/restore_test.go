package central

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/internal/eventually"
	"github.com/punchbox/punchbox/store"
	"github.com/punchbox/punchbox/store/storetest"
	"github.com/punchbox/punchbox/sync/central/brokertest"
)

// numbersUnique checks what central received: a batch number (within an
// epoch) always carries the same punches, and a seq always the same punch.
func numbersUnique(t testing.TB, batches []punchMsg) {
	t.Helper()
	byBatch := map[string][]string{}
	bySeq := map[int64]string{}
	for _, b := range batches {
		if b.Resend != "" {
			continue // resends carry stored punches under their own numbers
		}
		var ids []string
		for _, p := range b.Punches {
			ids = append(ids, p.ID)
			if id, ok := bySeq[p.Seq]; ok && id != p.ID {
				t.Errorf("seq %d published for punch %s and for punch %s", p.Seq, id, p.ID)
			}
			bySeq[p.Seq] = p.ID
		}
		key := fmt.Sprint(b.Batch)
		if prev, ok := byBatch[key]; ok && !slices.Equal(prev, ids) {
			t.Errorf("batch %d published with %d punches and again with %d others", b.Batch, len(prev), len(ids))
		}
		byBatch[key] = ids
	}
}

func livePunches(pin string, from, n int) []punchbox.Punch {
	ps := make([]punchbox.Punch, n)
	for i := range ps {
		ps[i] = storetest.Punch(pin, from+i)
		ps[i].Source = punchbox.SourceLive
	}
	return ps
}

// The box publishes, a backup is taken, it publishes 170 more punches, an
// older backup is restored and the box restarts: the numbers central saw
// are never published again for other punches. Real store, real restore,
// real uplink, real broker.
func TestRestoreNeverRepublishesNumbers(t *testing.T) {
	ctx := context.Background()
	broker := brokertest.Start(t)
	central := brokertest.Subscribe(t, broker.URL(), topicPrefix+"punches")
	path := filepath.Join(t.TempDir(), store.FileName)
	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	opts := testOptions(broker.URL())
	opts.BatchSize = 10
	delivered := func(db *store.DB, want int64) func() bool {
		return func() bool {
			b, err := db.Backlog(ctx)
			return err == nil && b.Pending == 0 && b.LastSeq == want
		}
	}

	b := startBox(t, db, opts)
	if err := db.Put(ctx, livePunches("1", 0, 100)); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, "the first 100 delivered", delivered(db, 100))
	backup := filepath.Join(t.TempDir(), "older.tar.gz")
	if _, err := db.BackupFile(ctx, backup, store.BackupMeta{Site: "acme", Box: "box-01"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Put(ctx, livePunches("2", 0, 170)); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, "170 more delivered", delivered(db, 270))
	b.stop(t)
	db.Close()

	if _, _, err := store.Restore(ctx, backup, path, nil); err != nil {
		t.Fatal(err)
	}
	db, err = store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	startBox(t, db, opts)
	if err := db.Put(ctx, livePunches("3", 0, 170)); err != nil {
		t.Fatal(err)
	}
	// The 170 punches published after the backup come again from their
	// terminal: new seqs, the same ids.
	if err := db.Put(ctx, livePunches("2", 0, 170)); err != nil {
		t.Fatal(err)
	}
	last, _ := db.Backlog(ctx)
	eventually.True(t, "the punches after the restore delivered", delivered(db, last.LastSeq))

	batches := decodeBatches(t, central.Messages("/punches"))
	numbersUnique(t, batches)
	epochs := map[string]bool{}
	for _, m := range central.Messages("/punches") {
		var h struct{ Epoch string }
		if err := json.Unmarshal(m.Payload, &h); err != nil {
			t.Fatal(err)
		}
		epochs[h.Epoch] = true
	}
	if len(epochs) != 2 {
		t.Errorf("epochs %v: want one before and one after the restore", epochs)
	}
	r := summarize(t, batches)
	if len(r.ids) != 100+170+170 {
		t.Errorf("central got %d distinct punches, want 440", len(r.ids))
	}
}
