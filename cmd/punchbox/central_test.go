package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/punchbox/punchbox/store"
	"github.com/punchbox/punchbox/store/storetest"
	"github.com/punchbox/punchbox/sync/central/brokertest"
)

// mqttConfig writes a configuration that forwards to broker, with no
// terminals, and returns it with its data directory.
func mqttConfig(t *testing.T, broker string, extra string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	body := fmt.Sprintf(`site: acme
box: box-01
data_dir: %s
web: {listen: %q, insecure_http: true}
mqtt:
  url: %q
%s`, data, freePort(t), broker, extra)
	path := filepath.Join(dir, "punchbox.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, data
}

// TestBoxKilledMidDrain kills the daemon with SIGKILL in the middle of
// sending a back-fill and starts it again: every punch reaches central,
// repeats are only of the same punch, and the batch numbers have no gap.
func TestBoxKilledMidDrain(t *testing.T) {
	broker := brokertest.Start(t)
	central := brokertest.Subscribe(t, broker.URL(), "punchbox/v1/acme/box-01/punches")
	cfg, data := mqttConfig(t, broker.URL(), "  backfill_rate: 8000\n")
	// A store with a backlog, as after a week without a link.
	db := storetest.OpenAt(t, filepath.Join(data, store.FileName))
	if err := db.Put(context.Background(), storetest.Punches(20_000, 80)); err != nil {
		t.Fatal(err)
	}
	db.Close()

	d := startDaemon(t, nil, "serve", "--config", cfg)
	d.await(t, "READY=1")
	central.Wait(t, "the drain to be under way", time.Minute, func() bool { return len(central.Messages("/punches")) >= 5 })
	d.cmd.Process.Signal(syscall.SIGKILL)
	d.wait(t)
	got := len(central.Messages("/punches"))

	d2 := startDaemon(t, nil, "serve", "--config", cfg)
	d2.await(t, "READY=1")
	ids := map[string]int{}
	batches := map[int64]bool{}
	central.Wait(t, "every punch", 2*time.Minute, func() bool {
		ids, batches = map[string]int{}, map[int64]bool{}
		for _, m := range central.Messages("/punches") {
			var b struct {
				Batch   int64 `json:"batch"`
				Punches []struct {
					ID string `json:"id"`
				} `json:"punches"`
			}
			if err := json.Unmarshal(m.Payload, &b); err != nil {
				t.Fatal(err)
			}
			batches[b.Batch] = true
			for _, p := range b.Punches {
				ids[p.ID]++
			}
		}
		return len(ids) == 20_000
	})
	for n := int64(1); n <= int64(len(batches)); n++ {
		if !batches[n] {
			t.Fatalf("batch %d missing of %d", n, len(batches))
		}
	}
	if len(central.Messages("/punches")) <= got {
		t.Fatal("nothing was sent after the restart")
	}
	d2.cmd.Process.Signal(syscall.SIGTERM)
	if code := d2.wait(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, d2.stderr)
	}
	// Everything is marked delivered.
	db2 := storetest.OpenAt(t, filepath.Join(data, store.FileName))
	if b, _ := db2.Backlog(context.Background()); b.Pending != 0 {
		t.Errorf("backlog after the drain: %+v", b)
	}
}
