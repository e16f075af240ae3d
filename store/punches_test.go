package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/store"
	"github.com/punchbox/punchbox/store/storetest"
)

func TestPutIdempotent(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	ps := storetest.Punches(100, 7)
	if err := db.Put(ctx, ps); err != nil {
		t.Fatal(err)
	}
	// The same punches again, seen by push with another verify code.
	again := storetest.Punches(100, 7)
	for i := range again {
		again[i].Source, again[i].Verify = punchbox.SourcePush, punchbox.VerifyCard
	}
	if err := db.Put(ctx, append(again, storetest.Punch("99", 1000))); err != nil {
		t.Fatal(err)
	}
	n, err := db.CountPunches(ctx)
	if err != nil || n != 101 {
		t.Fatalf("count = %d, %v; want 101", n, err)
	}
	b, err := db.Backlog(ctx)
	// Duplicates use up no sequence number.
	if err != nil || b.Pending != 101 || b.LastSeq != 101 || b.DeliveredSeq != 0 || b.Oldest.IsZero() {
		t.Fatalf("backlog = %+v, %v", b, err)
	}
	latest, err := db.Latest(ctx, 1)
	if err != nil || len(latest) != 1 || latest[0].PIN != "99" || latest[0].Seq != 101 {
		t.Fatalf("latest = %+v, %v", latest, err)
	}
	// The first stored copy wins: the source is still pull.
	first, err := db.Search(ctx, store.Filter{PIN: "1", Ascending: true, Limit: 1})
	if err != nil || len(first) != 1 || first[0].Source != punchbox.SourcePull || first[0].ID != ps[0].ID {
		t.Fatalf("first = %+v, %v", first, err)
	}
}

func TestPutRoundTrip(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	kolkata, _ := time.LoadLocation("Asia/Kolkata")
	recv := time.Date(2026, 3, 2, 3, 0, 1, 123e6, time.UTC)
	p := punchbox.NewPunch("canteen", "CQUJ203160123", "A-17", punchbox.LocalTime{Year: 2026, Month: 3, Day: 2, Hour: 8, Minute: 29, Second: 59}, kolkata,
		punchbox.StateBreakOut, punchbox.VerifyFace, "42", punchbox.SourceLive, recv)
	if err := db.Put(ctx, []punchbox.Punch{p}); err != nil {
		t.Fatal(err)
	}
	got, err := db.Latest(ctx, 1)
	if err != nil || len(got) != 1 {
		t.Fatal(err)
	}
	g := got[0]
	if g.Punch.ID != p.ID || g.TerminalID != p.TerminalID || g.TerminalSerial != p.TerminalSerial || g.PIN != p.PIN ||
		g.Local != p.Local || g.Zone != "Asia/Kolkata" || !g.Time.Equal(p.Time) || !g.Received.Equal(recv) ||
		g.State != p.State || g.Verify != p.Verify || g.WorkCode != "42" || g.Source != p.Source || g.Delivered {
		t.Fatalf("stored %+v\nput    %+v", g, p)
	}
	if g.Time.Format(time.RFC3339) != "2026-03-02T02:59:59Z" {
		t.Errorf("utc = %v", g.Time)
	}
}

func TestPutInvalidWritesNothing(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	bad := storetest.Punch("1", 1)
	bad.PIN = "has space"
	err := db.Put(ctx, []punchbox.Punch{storetest.Punch("2", 2), bad})
	if !errors.Is(err, store.ErrInvalid) || !errors.Is(err, punchbox.ErrInvalidPunch) {
		t.Fatalf("err = %v", err)
	}
	if n, _ := db.CountPunches(ctx); n != 0 {
		t.Fatalf("%d punches written from a bad batch", n)
	}
}

func TestGroupCommitConcurrent(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if err := db.Put(ctx, []punchbox.Punch{storetest.Punch(fmt.Sprintf("w%d", w), i)}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n, _ := db.CountPunches(ctx); n != 3200 {
		t.Fatalf("count = %d, want 3200", n)
	}
	// Each punch again: received twice, stored once.
	if err := db.Put(ctx, []punchbox.Punch{storetest.Punch("w0", 0), storetest.Punch("w0", 1)}); err != nil {
		t.Fatal(err)
	}
	if got, want := db.Counters(), (store.Counters{Received: 3202, Stored: 3200}); got != want {
		t.Fatalf("counters = %+v, want %+v", got, want)
	}
}

func TestOutboxAndDelivery(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	if err := db.Put(ctx, storetest.Punches(10, 3)); err != nil {
		t.Fatal(err)
	}
	page, err := db.Outbox(ctx, 0, 4)
	if err != nil || len(page) != 4 || page[0].Seq != 1 || page[3].Seq != 4 {
		t.Fatalf("outbox page = %v, %v", len(page), err)
	}
	if err := db.MarkDelivered(ctx, page[3].Seq); err != nil {
		t.Fatal(err)
	}
	if err := db.MarkDelivered(ctx, 2); err != nil { // backwards: ignored
		t.Fatal(err)
	}
	b, _ := db.Backlog(ctx)
	if b.DeliveredSeq != 4 || b.Pending != 6 || b.DeliveredAt.IsZero() {
		t.Fatalf("backlog = %+v", b)
	}
	rest, _ := db.Outbox(ctx, b.DeliveredSeq, 100)
	if len(rest) != 6 || rest[0].Seq != 5 || rest[0].Delivered {
		t.Fatalf("rest = %d, first %+v", len(rest), rest[0])
	}
	ok, err := db.Delivered(ctx, []string{page[0].ID, page[3].ID})
	if err != nil || !ok {
		t.Fatalf("Delivered(first four) = %v, %v", ok, err)
	}
	if ok, _ := db.Delivered(ctx, []string{page[0].ID, rest[0].ID}); ok {
		t.Fatal("undelivered punch reported delivered")
	}
	if ok, _ := db.Delivered(ctx, []string{"0123456789abcdef0123456789abcdef"}); ok {
		t.Fatal("unknown punch reported delivered")
	}
}

func TestChangedWakesReaders(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	ch := db.Changed()
	select {
	case <-ch:
		t.Fatal("signalled before any commit")
	default:
	}
	if err := db.Put(ctx, storetest.Punches(1, 1)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("not woken by a commit")
	}
	// A Put of nothing new wakes nobody. Readers are woken before Put
	// returns, so this would see it.
	ch = db.Changed()
	if err := db.Put(ctx, storetest.Punches(1, 1)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
		t.Fatal("woken by a duplicate")
	default:
	}
}

// Live punches delivered ahead of a back-fill: the outbox tracks the ranges
// and the back-fill skips them.
func TestAcknowledgeRanges(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	if err := db.Put(ctx, storetest.Punches(100, 9)); err != nil {
		t.Fatal(err)
	}
	if err := db.Acknowledge(ctx, []store.Range{{From: 91, To: 100}, {From: 51, To: 60}}, 7); err != nil {
		t.Fatal(err)
	}
	b, _ := db.Backlog(ctx)
	if b.Pending != 80 || b.DeliveredSeq != 0 {
		t.Fatalf("backlog = %+v", b)
	}
	got, err := db.Undelivered(ctx, 0, 0, 1000)
	if err != nil || len(got) != 80 || got[49].Seq != 50 || got[50].Seq != 61 || got[79].Seq != 90 {
		t.Fatalf("undelivered: %d, %v", len(got), err)
	}
	// Bounded, and in pages.
	page, _ := db.Undelivered(ctx, 45, 70, 7)
	if len(page) != 7 || page[0].Seq != 46 || page[4].Seq != 50 || page[5].Seq != 61 {
		t.Fatalf("page = %v", seqs(page))
	}
	if latest, _ := db.Latest(ctx, 50); !latest[0].Delivered || latest[10].Delivered || !latest[45].Delivered {
		t.Errorf("delivered flags of seqs %d %d %d wrong", latest[0].Seq, latest[10].Seq, latest[45].Seq)
	}
	ids := []string{got[0].ID}
	if ok, _ := db.Delivered(ctx, ids); ok {
		t.Error("undelivered punch reported delivered")
	}
	if err := db.Acknowledge(ctx, []store.Range{{From: 1, To: 50}, {From: 61, To: 90}}, 5); err != nil {
		t.Fatal(err)
	}
	b, _ = db.Backlog(ctx)
	u, _ := db.Uplink(ctx)
	if b.Pending != 0 || b.DeliveredSeq != 100 || u.BatchSeq != 7 {
		t.Fatalf("after the back-fill: backlog %+v, uplink %+v", b, u)
	}
	for want := int64(1); want <= 3; want++ {
		if n, err := db.NextSession(ctx); err != nil || n != want {
			t.Fatalf("NextSession = %d, %v", n, err)
		}
	}
}

func seqs(ps []store.StoredPunch) []int64 {
	out := make([]int64, len(ps))
	for i, p := range ps {
		out[i] = p.Seq
	}
	return out
}

func TestUndeliveredUnbounded(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	if err := db.Put(ctx, storetest.Punches(10, 3)); err != nil {
		t.Fatal(err)
	}
	db.Acknowledge(ctx, []store.Range{{From: 4, To: 5}}, 0)
	for _, tt := range []struct {
		after, upTo int64
		want        string
	}{
		{0, 0, "[1 2 3 6 7 8 9 10]"},
		{3, 0, "[6 7 8 9 10]"},
		{5, 7, "[6 7]"},
		{0, 4, "[1 2 3]"},
		{10, 0, "[]"},
	} {
		got, err := db.Undelivered(ctx, tt.after, tt.upTo, 100)
		if err != nil || fmt.Sprint(seqs(got)) != tt.want {
			t.Errorf("Undelivered(%d, %d) = %v, %v; want %s", tt.after, tt.upTo, seqs(got), err, tt.want)
		}
	}
}
