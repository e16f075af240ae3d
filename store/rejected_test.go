package store_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/drivers"
	"github.com/punchbox/punchbox/store"
	"github.com/punchbox/punchbox/store/storetest"
)

func rejected(terminal string, raw []byte, at time.Time) drivers.Rejected {
	return drivers.Rejected{TerminalID: terminal, Serial: "SN-TEST", Source: punchbox.SourcePull,
		Reason: "time 0xffffffff is not a date", Raw: raw, Received: at}
}

func TestReject(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	for _, id := range []string{"gate-a", "gate-b"} {
		if err := db.CreateTerminal(ctx, gate(id)); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	bad := bytes.Repeat([]byte{0xFF}, 40)

	t.Run("KeptOnceAndLastSeenMoves", func(t *testing.T) {
		if err := db.Reject(ctx, []drivers.Rejected{rejected("gate-a", bad, t0), rejected("gate-a", bad, t0)}); err != nil {
			t.Fatal(err)
		}
		if err := db.Reject(ctx, []drivers.Rejected{rejected("gate-a", bad, t0.Add(time.Hour))}); err != nil {
			t.Fatal(err)
		}
		recs, total, err := db.RejectedRecords(ctx, "gate-a", 10)
		if err != nil || total != 1 || len(recs) != 1 {
			t.Fatalf("records %+v, total %d, %v: want one", recs, total, err)
		}
		r := recs[0]
		if !bytes.Equal(r.Raw, bad) || !r.FirstSeen.Equal(t0) || !r.LastSeen.Equal(t0.Add(time.Hour)) || r.Source != punchbox.SourcePull || r.Serial != "SN-TEST" {
			t.Errorf("record %+v", r)
		}
	})
	t.Run("BoundedAndSanitised", func(t *testing.T) {
		huge := bytes.Repeat([]byte{0x1b, 0x07}, 10_000)
		r := rejected("gate-b", huge, t0)
		r.Reason = "pin \x1b[31m" + strings.Repeat("x", 10_000)
		r.Serial = "SN\x07" + strings.Repeat("y", 500)
		if err := db.Reject(ctx, []drivers.Rejected{r}); err != nil {
			t.Fatal(err)
		}
		recs, _, err := db.RejectedRecords(ctx, "gate-b", 1)
		if err != nil || len(recs) != 1 {
			t.Fatal(recs, err)
		}
		got := recs[0]
		if len(got.Raw) != drivers.MaxRejectedRaw || len(got.Reason) > 200 || strings.ContainsAny(got.Reason+got.Serial, "\x1b\x07") || len(got.Serial) > punchbox.MaxIdentLen {
			t.Errorf("kept raw %d bytes, reason %q, serial %q", len(got.Raw), got.Reason, got.Serial)
		}
	})
	t.Run("AtMostPerTerminal", func(t *testing.T) {
		for batch := 0; batch < 3; batch++ {
			recs := make([]drivers.Rejected, 700)
			for i := range recs {
				recs[i] = rejected("gate-a", fmt.Appendf(nil, "record %d-%d", batch, i), t0.Add(24*time.Hour+time.Duration(batch*1000+i)*time.Second))
			}
			if err := db.Reject(ctx, recs); err != nil {
				t.Fatal(err)
			}
		}
		recs, total, err := db.RejectedRecords(ctx, "gate-a", 5)
		if err != nil || total != store.MaxRejectedPerTerminal {
			t.Fatalf("total %d, %v: want %d", total, err, store.MaxRejectedPerTerminal)
		}
		if string(recs[0].Raw) != "record 2-699" {
			t.Errorf("newest first: got %q", recs[0].Raw)
		}
		counts, err := db.RejectedCounts(ctx)
		if err != nil || counts["gate-a"] != store.MaxRejectedPerTerminal || counts["gate-b"] != 1 {
			t.Errorf("counts %v, %v", counts, err)
		}
	})
	t.Run("UnknownTerminalDropped", func(t *testing.T) {
		if err := db.Reject(ctx, []drivers.Rejected{rejected("ghost", bad, t0)}); err != nil {
			t.Fatal(err)
		}
		if _, total, _ := db.RejectedRecords(ctx, "ghost", 1); total != 0 {
			t.Errorf("kept %d records of an unknown terminal", total)
		}
	})
	t.Run("GoWithTheTerminalAndOnClear", func(t *testing.T) {
		if n, err := db.ClearRejected(ctx, "gate-b"); err != nil || n != 1 {
			t.Errorf("clear: %d, %v", n, err)
		}
		if err := db.DeleteTerminal(ctx, "gate-a"); err != nil {
			t.Fatal(err)
		}
		if counts, _ := db.RejectedCounts(ctx); len(counts) != 0 {
			t.Errorf("left after the terminal went: %v", counts)
		}
	})
}

func FuzzReject(f *testing.F) {
	f.Add([]byte{0xff, 0xff}, "time 0 is not a date", "SN1")
	f.Add([]byte("\x00\x1b[2J"), "\xff\xfe", "\x07")
	ctx := context.Background()
	db := storetest.Open(f)
	if err := db.CreateTerminal(ctx, gate("gate-a")); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte, reason, serial string) {
		r := drivers.Rejected{TerminalID: "gate-a", Serial: serial, Source: punchbox.SourceLive, Reason: reason, Raw: raw}
		if err := db.Reject(ctx, []drivers.Rejected{r}); err != nil {
			t.Fatal(err)
		}
		recs, _, err := db.RejectedRecords(ctx, "gate-a", 1)
		if err != nil || len(recs) != 1 {
			t.Fatal(recs, err)
		}
		got := recs[0]
		if len(got.Raw) > drivers.MaxRejectedRaw || len(got.Reason) > 200 || strings.ContainsFunc(got.Reason+got.Serial, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			t.Fatalf("kept %+v", got)
		}
	})
}
