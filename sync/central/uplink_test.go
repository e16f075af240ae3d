package central

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/internal/eventually"
	"github.com/punchbox/punchbox/store/storetest"
	"github.com/punchbox/punchbox/sync/central/brokertest"
)

const topicPrefix = "punchbox/v1/acme/box-01/"

func TestDrainBacklog(t *testing.T) {
	broker := brokertest.Start(t)
	central := brokertest.Subscribe(t, broker.URL(), topicPrefix+"#")
	db := storetest.Open(t)
	if err := db.Put(context.Background(), storetest.Punches(12_345, 50)); err != nil {
		t.Fatal(err)
	}
	opts := testOptions(broker.URL())
	opts.BatchSize = 500
	startBox(t, db, opts)
	central.Wait(t, "every punch", time.Minute, func() bool {
		return len(summarize(t, decodeBatches(t, central.Messages("/punches"))).ids) == 12_345
	})
	batches := decodeBatches(t, central.Messages("/punches"))
	r := summarize(t, batches)
	checkComplete(t, db, r)
	for _, m := range central.Messages("/punches")[:3] {
		conforms(t, "punches", m.Payload)
	}
	for _, m := range central.Messages("/status") {
		conforms(t, "status", m.Payload)
	}
	for _, b := range batches {
		if !b.Historical || b.Site != "acme" || b.Box != "box-01" || b.Session != 1 || len(b.Punches) > 500 {
			t.Fatalf("batch %d: historical=%v site=%s box=%s session=%d size=%d", b.Batch, b.Historical, b.Site, b.Box, b.Session, len(b.Punches))
		}
	}
	// In order: batch numbers and outbox seqs both rise.
	var lastSeq int64
	for i, b := range batches {
		if b.Batch != int64(i+1) {
			t.Fatalf("batch %d arrived as message %d", b.Batch, i+1)
		}
		for _, p := range b.Punches {
			if p.Seq <= lastSeq {
				t.Fatalf("seq %d after %d", p.Seq, lastSeq)
			}
			lastSeq = p.Seq
		}
	}
	waitBacklogEmpty(t, db)
	if st, _ := db.Uplink(context.Background()); st.BatchSeq != int64(len(batches)) {
		t.Errorf("stored batch seq %d, sent %d", st.BatchSeq, len(batches))
	}
}

// Live punches go out at once, even while a rate-limited back-fill runs.
// The back-fill is paced so slowly (20,000 punches at 100/s) that it is
// still running when the test ends, however slow the machine: each live
// punch must reach central on its own, as live, while historical punches
// still wait.
func TestLiveDuringBackfill(t *testing.T) {
	broker := brokertest.Start(t)
	central := brokertest.Subscribe(t, broker.URL(), topicPrefix+"punches")
	db := storetest.Open(t)
	ctx := context.Background()
	const backlog = 20_000
	if err := db.Put(ctx, storetest.Punches(backlog, 40)); err != nil {
		t.Fatal(err)
	}
	opts := testOptions(broker.URL())
	opts.BackfillRate = 100
	b := startBox(t, db, opts)
	central.Wait(t, "the back-fill to start", time.Minute, func() bool { return len(central.Messages("/punches")) > 0 })
	var live []string
	for i := 0; i < 5; i++ {
		p := storetest.Punch("live", 100_000+i)
		p.Source = punchbox.SourceLive
		if err := db.Put(ctx, []punchbox.Punch{p}); err != nil {
			t.Fatal(err)
		}
		live = append(live, p.ID)
		// Each goes out on its own, before the next is stored.
		central.Wait(t, "live punch "+p.ID, time.Minute, func() bool {
			return summarize(t, decodeBatches(t, central.Messages("/punches"))).ids[p.ID] > 0
		})
	}
	historical := 0
	liveAt := map[string]bool{}
	for _, m := range decodeBatches(t, central.Messages("/punches")) {
		for _, p := range m.Punches {
			if m.Historical {
				historical++
			} else {
				liveAt[p.ID] = true
			}
		}
	}
	for _, id := range live {
		if !liveAt[id] {
			t.Errorf("live punch %s not sent as live", id)
		}
	}
	if historical == 0 || historical >= backlog {
		t.Errorf("%d of %d historical punches sent when the live ones had arrived: want the back-fill under way", historical, backlog)
	}
	if b.link.State().Session != 1 {
		t.Errorf("session %d", b.link.State().Session)
	}
}

// The broker goes away in the middle of a drain and comes back. With
// central's own acknowledgements (end-to-end), every punch reaches central:
// what the broker lost is sent again.
func TestBrokerRestartMidDrain(t *testing.T) {
	broker := brokertest.Start(t)
	central := brokertest.Subscribe(t, broker.URL(), topicPrefix+"punches")
	db := storetest.Open(t)
	if err := db.Put(context.Background(), storetest.Punches(15_000, 60)); err != nil {
		t.Fatal(err)
	}
	opts := testOptions(broker.URL())
	opts.CentralAck, opts.CentralAckWait, opts.BackfillRate = true, 2*time.Second, 6_000
	b := startBox(t, db, opts)
	// Central acknowledges, after each batch it stores, the highest batch
	// up to which it has stored every one: a gap holds it back, and the
	// box sends the missing batches again.
	handled, contiguous := 0, int64(0)
	have := map[int64]bool{}
	ackLoop := func() {
		msgs := decodeBatches(t, central.Messages("/punches"))
		for _, m := range msgs[handled:] {
			have[m.Batch] = true
			for have[contiguous+1] {
				contiguous++
			}
			if contiguous > 0 {
				central.Publish(t, topicPrefix+"ack", false, []byte(fmt.Sprintf(`{"schema":"punchbox.ack/1","batch":%d}`, contiguous)))
			}
		}
		handled = len(msgs)
	}
	central.Wait(t, "the drain to be under way", time.Minute, func() bool { ackLoop(); return len(central.Messages("/punches")) > 8 })
	broker.Stop()
	eventually.True(t, "the box to notice the broker gone", func() bool { return !b.link.State().Connected })
	broker.Restart()
	central.Wait(t, "every punch", 2*time.Minute, func() bool {
		ackLoop()
		return len(summarize(t, decodeBatches(t, central.Messages("/punches"))).ids) == 15_000
	})
	eventually.True(t, "every punch acknowledged by central", func() bool {
		ackLoop()
		b, _ := db.Backlog(context.Background())
		return b.Pending == 0
	})
	checkComplete(t, db, summarize(t, decodeBatches(t, central.Messages("/punches"))))
	numbersUnique(t, decodeBatches(t, central.Messages("/punches")))
}

// The connection is cut while the box is in the middle of sending a batch.
func TestConnectionCutDuringPublish(t *testing.T) {
	broker := brokertest.Start(t)
	proxy := brokertest.NewProxy(t, broker.Addr())
	central := brokertest.Subscribe(t, broker.URL(), topicPrefix+"punches")
	db := storetest.Open(t)
	if err := db.Put(context.Background(), storetest.Punches(10_000, 20)); err != nil {
		t.Fatal(err)
	}
	// About 350 bytes a punch: the cut falls inside the third batch.
	proxy.CutAfter(2*500*350 + 40_000)
	opts := testOptions(proxy.URL())
	b := startBox(t, db, opts)
	central.Wait(t, "every punch", time.Minute, func() bool {
		return len(summarize(t, decodeBatches(t, central.Messages("/punches"))).ids) == 10_000
	})
	if proxy.Cuts.Load() == 0 {
		t.Fatal("the connection was never cut: the test proves nothing")
	}
	waitBacklogEmpty(t, db)
	checkComplete(t, db, summarize(t, decodeBatches(t, central.Messages("/punches"))))
	numbersUnique(t, decodeBatches(t, central.Messages("/punches")))
	if s := b.link.State().Session; s < 2 {
		t.Errorf("session %d after a cut, want a reconnect", s)
	}
}

// A live punch from commit to central's receipt.
func TestLivePunchReachesCentral(t *testing.T) {
	broker := brokertest.Start(t)
	central := brokertest.Subscribe(t, broker.URL(), topicPrefix+"punches")
	db := storetest.Open(t)
	b := startBox(t, db, testOptions(broker.URL()))
	eventually.True(t, "the box online", func() bool { return b.link.State().Connected })
	p := storetest.Punch("4242", 1)
	if err := db.Put(context.Background(), []punchbox.Punch{p}); err != nil {
		t.Fatal(err)
	}
	central.Wait(t, "the live punch", 30*time.Second, func() bool { return len(central.Messages("/punches")) == 1 })
	var m punchMsg
	json.Unmarshal(central.Messages("/punches")[0].Payload, &m)
	if m.Historical || len(m.Punches) != 1 || m.Punches[0].ID != p.ID || m.Punches[0].PIN != "4242" || m.Punches[0].State.Name != "check-in" {
		t.Fatalf("message = %+v", m)
	}
}
